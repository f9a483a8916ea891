# tests.mk - the test binary: every cmocka test of tests/ in one runner,
# linked with the compiler library and the f64 runtime.

TEST_SRC := tests/main.c tests/test_frontend.c tests/test_golden.c \
            tests/test_fuzz.c tests/test_grad.c tests/test_trainer.c \
            tests/test_ops.c tests/ir_build.c tests/test_runtime.c \
            tests/hand_models.c tests/test_torch.c tests/test_random.c \
            tests/test_edges.c tests/test_embed.c tests/test_irtools.c \
            tests/test_passes.c tests/test_llvm.c tests/test_idx.c \
            tests/test_examples.c tests/test_harden.c \
            tests/test_kernels.c tests/test_threads.c
TEST_CFLAGS := $(ALL_CFLAGS) -Iruntime -DDLRT_F64 -DDLC_VERIFY \
            -DDLC_ROOT='"$(CURDIR)"' -DDLC_BUILD='"$(abspath $(BUILD))"' \
            $(if $(LLVM_CONFIG),-DDLC_HAVE_LLVM)

$(BUILD)/test-dlc: $(TEST_SRC) tests/tests.h tests/ir_build.h \
                   tests/hand_models.h $(BUILD)/libdlc.a \
                   $(BUILD)/libdlrt-f64.a $(HEADERS)
	$(CC) $(TEST_CFLAGS) $(TEST_SRC) $(BUILD)/libdlc.a \
		$(BUILD)/libdlrt-f64.a -lcmocka -ldl -lm -pthread $(LLVM_LIBS) -o $@

# The compiler and runtime must also build warning-free under clang.
warnings-clang:
	$(MAKE) --no-print-directory BUILD=build-clang CC=clang all >/dev/null

test: all $(BUILD)/test-dlc warnings-clang
	$(BUILD)/test-dlc
