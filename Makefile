# dlc - build the compiler, its runtime, the tests and the examples.
#
#   make            build/dlc and the runtime libraries beside it
#   make deps       install the Debian packages the build and tests need
#   make polyfit    the main job: compile examples/polyfit.dl and train it
#   make test       build and run the test suite
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

DEBIAN_PACKAGES := build-essential flex bison libcmocka-dev clang python3-torch \
           libclang-rt-14-dev

COMPILER_SRC := lexer/source.c lexer/arena.c parser/parse.c parser/check.c \
           parser/typing.c parser/fn.c parser/shape.c parser/print.c \
           ir/ir.c ir/type.c ir/eval.c ir/adjoint.c ir/lower.c ir/grad.c \
           ir/opt.c ir/simplify.c ir/passes.c ir/stats.c ir/print.c \
           ir/interp.c codegen/c.c codegen/plan.c codegen/tables.c \
           codegen/header.c codegen/glue.c codegen/names.c codegen/optim.c
COMPILER_OBJ := $(COMPILER_SRC:%.c=$(BUILD)/obj/%.o) \
           $(BUILD)/obj/gen/lexer.o $(BUILD)/obj/gen/parser.o
RUNTIME_SRC := runtime/data.c runtime/npy.c runtime/table.c \
           runtime/model.c runtime/rng.c runtime/optim.c runtime/ckpt.c \
           runtime/json.c runtime/metrics.c runtime/progress.c \
           runtime/plot.c runtime/train.c runtime/main.c
HEADERS := $(wildcard lexer/*.h parser/*.h ir/*.h ir/*.def codegen/*.h \
           driver/*.h) \
           $(BUILD)/gen/parser.h $(BUILD)/gen/lexer.h

.PHONY: all deps polyfit test warnings-clang clean
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

$(BUILD)/dlc: $(BUILD)/obj/driver/main.o $(BUILD)/obj/driver/pipeline.o \
              $(BUILD)/libdlc.a
	$(CC) $(ALL_CFLAGS) $^ -lm -pthread -o $@

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
examples/data/polyfit.csv: examples/data/gen_polyfit.c
	@mkdir -p $(BUILD)
	$(CC) $(ALL_CFLAGS) $< -lm -o $(BUILD)/gen_polyfit
	$(BUILD)/gen_polyfit > $@

polyfit: all
	$(BUILD)/dlc examples/polyfit.dl -o $(BUILD)/polyfit
	$(BUILD)/polyfit --data examples/data/polyfit.csv \
		--log $(BUILD)/polyfit-loss.csv

include tests/tests.mk
include tests/fuzz/fuzz.mk

clean:
	rm -rf $(BUILD) build-clang build-fuzz build-asan
