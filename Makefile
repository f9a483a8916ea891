# dlc - build the compiler, its runtime, the tests and the examples.
#
#   make            build/dlc and the runtime libraries beside it
#   make deps       install the Debian packages the build and tests need
#   make polyfit    the main job: compile examples/polyfit.dl and train it
#   make examples   train every example, score it on held-out data, print
#                   a table; fails if any misses its target
#   make NAME       one example (iris, digits, fashion, ... see EXAMPLES)
#   make test       build and run the test suite
#   make update-golden   re-pin the golden IR of tests/ir (see below)
#   make bench      benchmarks: docs/performance.md and docs/performance.svg
#   make check-asan the suite with AddressSanitizer, UBSan and LeakSanitizer
#   make fuzz       the libFuzzer targets, FUZZ_SECONDS each (tests/fuzz/)
#   make clean

CC      ?= cc
BUILD   := build
WARN    := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes \
           -Wstrict-prototypes
CFLAGS  ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L $(WARN) $(CFLAGS) \
           -Ilexer -Iparser -Iir -Icodegen -Idriver -I$(BUILD)/gen
# flex and bison output is not ours to fix; it still gets -Wall -Wextra.
GEN_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror \
           -Wno-unused-function -Wno-sign-compare $(CFLAGS) \
           -Ilexer -Iparser -Iir -I$(BUILD)/gen

DEBIAN_PACKAGES := build-essential flex bison libcmocka-dev clang graphviz \
           python3 python3-torch libopenblas-dev llvm-19-dev libclang-rt-14-dev

# The LLVM backend and `dlc run` need LLVM 19's C API, found through
# llvm-config-19.  Without it dlc builds with the C backend alone, and
# llvm_none.c makes --backend=llvm say so.
LLVM_CONFIG ?= $(shell command -v llvm-config-19 2>/dev/null)
ifneq ($(LLVM_CONFIG),)
LLVM_SRC  := codegen/llvm.c codegen/llvm_gemm.c codegen/llvm_api.c \
           codegen/llvm_out.c
LLVM_INC  := -isystem $(shell $(LLVM_CONFIG) --includedir)
LLVM_LIBS := $(shell $(LLVM_CONFIG) --ldflags) \
           $(shell $(LLVM_CONFIG) --libs) \
           $(shell $(LLVM_CONFIG) --system-libs)
else
LLVM_SRC  := codegen/llvm_none.c
endif

COMPILER_SRC := lexer/source.c lexer/arena.c parser/parse.c parser/check.c \
           parser/typing.c parser/fn.c parser/shape.c parser/print.c \
           ir/ir.c ir/type.c ir/eval.c ir/adjoint.c ir/lower.c ir/grad.c \
           ir/opt.c ir/simplify.c ir/passes.c ir/stats.c ir/nanwarn.c \
           ir/print.c ir/interp.c codegen/c.c codegen/kernels.c \
           codegen/plan.c codegen/product.c codegen/tables.c codegen/header.c codegen/glue.c \
           codegen/names.c codegen/optim.c \
           ir/read.c ir/verify.c codegen/dot.c $(LLVM_SRC)
COMPILER_OBJ := $(COMPILER_SRC:%.c=$(BUILD)/obj/%.o) \
           $(BUILD)/obj/gen/lexer.o $(BUILD)/obj/gen/parser.o
RUNTIME_SRC := runtime/data.c runtime/npy.c runtime/idx.c \
           runtime/inflate.c runtime/table.c \
           runtime/model.c runtime/rng.c runtime/optim.c runtime/ckpt.c \
           runtime/json.c runtime/metrics.c runtime/progress.c \
           runtime/plot.c runtime/pool.c runtime/train.c runtime/main.c
HEADERS := $(wildcard lexer/*.h parser/*.h ir/*.h ir/*.def codegen/*.h \
           driver/*.h) \
           $(BUILD)/gen/parser.h $(BUILD)/gen/lexer.h

.PHONY: all deps polyfit test bench warnings-clang update-golden clean \
        examples examples-quick fashion-data example-data
all: $(BUILD)/dlc $(BUILD)/libdlrt-f32.a $(BUILD)/libdlrt-f64.a \
     $(BUILD)/include/dlrt.h

deps:
	@if [ "$$(id -u)" = 0 ]; then \
		apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			$(DEBIAN_PACKAGES); \
	else \
		echo "make deps needs root; run:"; \
		echo "  sudo apt-get update && sudo apt-get install -y" \
			"$(DEBIAN_PACKAGES)"; \
		exit 1; \
	fi

$(BUILD)/gen/parser.c $(BUILD)/gen/parser.h: parser/parser.y
	@mkdir -p $(@D)
	bison -Wall -Werror --defines=$(BUILD)/gen/parser.h \
		-o $(BUILD)/gen/parser.c $<

$(BUILD)/gen/lexer.c $(BUILD)/gen/lexer.h: lexer/lexer.l
	@mkdir -p $(@D)
	flex --header-file=$(BUILD)/gen/lexer.h -o $(BUILD)/gen/lexer.c $<

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(GEN_CFLAGS) -c $< -o $@

$(BUILD)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libdlc.a: $(COMPILER_OBJ)
	rm -f $@
	ar rcs $@ $^

$(LLVM_SRC:%.c=$(BUILD)/obj/%.o): ALL_CFLAGS += $(LLVM_INC)

# `dlc run` trains in process, so dlc carries the runtime in both
# precisions: each copy one relocatable object whose only global symbol
# is its rt_main, renamed rt_main_f32 or rt_main_f64, so they cannot clash.
$(BUILD)/obj/dlrt-run-%.o: $(BUILD)/libdlrt-%.a
	ld -r --whole-archive $< -o $@.all
	objcopy --keep-global-symbol=rt_main $@.all $@.one
	objcopy --redefine-sym rt_main=rt_main_$* $@.one $@
	rm -f $@.all $@.one

$(BUILD)/obj/driver/run-%.o: driver/run.c runtime/dlrt.h $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Iruntime -DDLRT_$(subst f,F,$*) -c $< -o $@

DLC_RUN_OBJ := $(BUILD)/obj/driver/run-f32.o $(BUILD)/obj/driver/run-f64.o \
           $(BUILD)/obj/dlrt-run-f32.o $(BUILD)/obj/dlrt-run-f64.o

$(BUILD)/dlc: $(BUILD)/obj/driver/main.o $(BUILD)/obj/driver/pipeline.o \
              $(BUILD)/obj/driver/gradcheck.o $(DLC_RUN_OBJ) $(BUILD)/libdlc.a
	$(CC) $(ALL_CFLAGS) $^ -lm -pthread $(LLVM_LIBS) -o $@

$(BUILD)/libdlrt-f32.a: $(RUNTIME_SRC) runtime/dlrt.h
	@mkdir -p $(BUILD)/obj/rt-f32
	cd $(BUILD)/obj/rt-f32 && for f in $(RUNTIME_SRC); do \
		$(CC) $(ALL_CFLAGS) -I$(CURDIR)/runtime -DDLRT_F32 \
			-c $(CURDIR)/$$f || exit 1; done
	rm -f $@ && ar rcs $@ $(BUILD)/obj/rt-f32/*.o

$(BUILD)/libdlrt-f64.a: $(RUNTIME_SRC) runtime/dlrt.h
	@mkdir -p $(BUILD)/obj/rt-f64
	cd $(BUILD)/obj/rt-f64 && for f in $(RUNTIME_SRC); do \
		$(CC) $(ALL_CFLAGS) -I$(CURDIR)/runtime -DDLRT_F64 \
			-c $(CURDIR)/$$f || exit 1; done
	rm -f $@ && ar rcs $@ $(BUILD)/obj/rt-f64/*.o

$(BUILD)/include/dlrt.h: runtime/dlrt.h
	@mkdir -p $(@D)
	cp $< $@

# The polyfit data come from a fixed generator, so they can be remade.
examples/data/polyfit.csv: examples/data/gen_polyfit.c examples/data/rng.h
	@mkdir -p $(BUILD)
	$(CC) $(ALL_CFLAGS) $< -lm -o $(BUILD)/gen_polyfit
	$(BUILD)/gen_polyfit > $@

polyfit: all
	$(BUILD)/dlc examples/polyfit.dl -o $(BUILD)/polyfit
	$(BUILD)/polyfit --data examples/data/polyfit.csv \
		--log $(BUILD)/polyfit-loss.csv

# Golden IR: tests/ir/NAME.STAGE.ir pins `dlc --emit=ir=STAGE
# examples/NAME.dl` byte for byte (the test lists tests/ir/).  After a
# deliberate change to lowering or a pass, `make update-golden` rewrites
# every stage of each example already pinned; `make update-golden
# GOLDEN=NAME` pins examples/NAME.dl as well.  Review the diff.
IR_STAGES := forward grad fold simplify cse dce schedule opt
GOLDEN ?=
GOLDEN_NAMES = $(sort $(GOLDEN) \
	$(basename $(basename $(notdir $(wildcard tests/ir/*.ir)))))

update-golden: $(BUILD)/dlc
	@mkdir -p tests/ir
	@for n in $(GOLDEN_NAMES); do \
		for s in $(IR_STAGES); do \
			$(BUILD)/dlc --verify --emit=ir=$$s examples/$$n.dl \
				> tests/ir/$$n.$$s.ir || exit 1; \
		done; \
		echo "pinned examples/$$n.dl at $(IR_STAGES)"; \
	done

# The computation graph of an example, as checked in for polyfit:
#   make docs/polyfit.svg
docs/%.svg: examples/%.dl $(BUILD)/dlc
	$(BUILD)/dlc --emit=dot $< | dot -Tsvg -o $@

# dlc against PyTorch (with OpenBLAS: make deps) and hand-written C, on
# examples/data and Fashion-MNIST.
bench: all fashion-data
	/usr/bin/python3 bench/bench.py

# ---- the examples: examples/run_examples.py holds each one's flags,
# test data and target; the table it prints is the result ----

EXAMPLES := polyfit_vec diabetes cancer iris wine digits mixture robust \
           fashion
FASHION_DIR ?= /usr/share/datasets/fashion-mnist
RUN_EXAMPLES := FASHION_DIR=$(FASHION_DIR) python3 examples/run_examples.py \
           --build $(BUILD)
.PHONY: $(EXAMPLES)

examples: all fashion-data
	$(RUN_EXAMPLES)

# Every example but Fashion-MNIST, which needs a package and minutes.
examples-quick: all
	$(RUN_EXAMPLES) --skip fashion

$(filter-out fashion,$(EXAMPLES)): all
	$(RUN_EXAMPLES) $@

fashion: all fashion-data
	$(RUN_EXAMPLES) fashion

# Fashion-MNIST comes from Debian (dataset-fashion-mnist, 30 MB) rather
# than from this repository; installed like `make deps` does.
fashion-data:
	@if [ ! -r $(FASHION_DIR)/train-images-idx3-ubyte.gz ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -q && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
				dataset-fashion-mnist; \
		else \
			echo "Fashion-MNIST needs root; run:"; \
			echo "  sudo apt-get install -y dataset-fashion-mnist"; \
			exit 1; \
		fi; \
	fi

# The synthetic data sets, like polyfit's, come from fixed generators.
example-data: examples/data/polyfit.csv examples/data/mixture.csv \
              examples/data/robust_train.csv

examples/data/mixture.csv: examples/data/gen_mixture.c examples/data/rng.h
	@mkdir -p $(BUILD)
	$(CC) $(ALL_CFLAGS) $< -lm -o $(BUILD)/gen_mixture
	$(BUILD)/gen_mixture $@ examples/data/mixture_means.csv

examples/data/robust_train.csv: examples/data/gen_robust.c \
                                examples/data/rng.h
	@mkdir -p $(BUILD)
	$(CC) $(ALL_CFLAGS) $< -lm -o $(BUILD)/gen_robust
	$(BUILD)/gen_robust $@ examples/data/robust_test.csv

include tests/tests.mk
include tests/fuzz/fuzz.mk

clean:
	rm -rf $(BUILD) build-clang build-fuzz build-asan
