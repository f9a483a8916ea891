# fuzz.mk - libFuzzer targets (tests/fuzz/) and the sanitizer build of the
# whole suite.  Included from the Makefile.
#
#   make fuzz [FUZZ_SECONDS=N] [FUZZ_TARGETS="csv npy"]
#       replays tests/fuzz/regress/, then runs each target for N seconds
#       (default 10) from its seed corpus; any finding fails the run and
#       is left in build-fuzz/ as crash-*, leak-* or timeout-*
#   make check-asan
#       builds compiler, runtime, tests and the trainers dlc makes with
#       AddressSanitizer and UndefinedBehaviorSanitizer, and runs the suite;
#       a leak, an overflow or undefined behaviour fails it

FUZZ_BUILD   := build-fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS  := -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN) \
                -fsanitize=fuzzer-no-link
FUZZ_TARGETS ?= compile dlir csv npy json ckpt
FUZZ_SECONDS ?= 10
# -timeout: an input that takes this long is a hang; the memory limit is
# the budget a tiny input may not exceed.
FUZZ_FLAGS   ?= -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
                -print_final_stats=1

.PHONY: fuzz fuzz-build check-asan

$(FUZZ_BUILD)/.libs: $(COMPILER_SRC) $(RUNTIME_SRC) $(HEADERS) \
                     lexer/lexer.l parser/parser.y runtime/dlrt.h
	$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang \
		CFLAGS='$(FUZZ_CFLAGS)' $(FUZZ_BUILD)/libdlc.a \
		$(FUZZ_BUILD)/libdlrt-f64.a
	touch $@

$(FUZZ_BUILD)/fuzz-%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_file.c \
                      tests/fuzz/fuzz.h tests/hand_models.c \
                      $(FUZZ_BUILD)/.libs
	clang $(filter-out -O2,$(ALL_CFLAGS)) -I$(FUZZ_BUILD)/gen -Iruntime \
		-DDLRT_F64 -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer $< \
		tests/fuzz/fuzz_file.c tests/hand_models.c \
		$(FUZZ_BUILD)/libdlc.a $(FUZZ_BUILD)/libdlrt-f64.a \
		-lm -pthread -o $@

fuzz-build: $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz-%)

# Seeds: the examples and every test program for the compiler; the
# checked-in seeds of tests/fuzz/seeds/ for the loaders.
fuzz: fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
		corpus=$(FUZZ_BUILD)/corpus-$$t; mkdir -p $$corpus; \
		seeds=tests/fuzz/seeds/$$t; \
		if [ $$t = compile ]; then seeds=$(FUZZ_BUILD)/seeds-compile; \
			mkdir -p $$seeds; cp examples/*.dl tests/diag/*.dl \
			tests/bad/*.dl $$seeds/ 2>/dev/null || true; fi; \
		if [ $$t = dlir ]; then seeds=$(FUZZ_BUILD)/seeds-dlir; \
			mkdir -p $$seeds; cp tests/ir/*.ir $$seeds/; fi; \
		regress=tests/fuzz/regress/$$t; \
		if [ -d $$regress ] && ls $$regress/* >/dev/null 2>&1; then \
			echo "== fuzz-$$t: replaying $$regress"; \
			$(FUZZ_BUILD)/fuzz-$$t $(FUZZ_FLAGS) $$regress/* \
				2>$(FUZZ_BUILD)/regress-$$t.log || \
				{ tail -40 $(FUZZ_BUILD)/regress-$$t.log; exit 1; }; \
		fi; \
		echo "== fuzz-$$t: $(FUZZ_SECONDS) s"; \
		(cd $(FUZZ_BUILD) && ./fuzz-$$t $(FUZZ_FLAGS) \
			-max_total_time=$(FUZZ_SECONDS) corpus-$$t \
			$(CURDIR)/$$seeds) >$(FUZZ_BUILD)/fuzz-$$t.log 2>&1 || \
			{ tail -60 $(FUZZ_BUILD)/fuzz-$$t.log; exit 1; }; \
		grep -E '^stat::number_of_executed_units|^Done' \
			$(FUZZ_BUILD)/fuzz-$$t.log || true; \
	done

# check-asan: everything built by clang with the sanitizers, in build-asan/.
# Tests and dlc call cc, gcc and clang for generated code (trainers, the
# embed API, shared objects); wrappers first in PATH add the sanitizers to
# each, and CC gives them to dlc's trainers, so generated code is checked
# too.  LeakSanitizer makes a leaking process exit 23, which fails the test
# that ran it.
ASAN_BUILD := build-asan
ASAN_SAN   := -fsanitize=address,undefined -fno-sanitize-recover=all
ASAN_ENV   := PATH='$(CURDIR)/$(ASAN_BUILD)/bin':"$$PATH" \
              CC='clang $(ASAN_SAN)' \
              ASAN_OPTIONS=detect_leaks=1:detect_stack_use_after_return=0 \
              UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

check-asan:
	$(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) CC=clang \
		CFLAGS='-O1 -g -fno-omit-frame-pointer $(ASAN_SAN)' \
		all $(ASAN_BUILD)/test-dlc
	@mkdir -p $(ASAN_BUILD)/bin
	@for c in cc:clang gcc:gcc clang:clang; do \
		printf '#!/bin/sh\nexec /usr/bin/%s $(ASAN_SAN) "$$@"\n' \
			$${c#*:} > $(ASAN_BUILD)/bin/$${c%%:*}; \
		chmod +x $(ASAN_BUILD)/bin/$${c%%:*}; done
	$(ASAN_ENV) $(ASAN_BUILD)/test-dlc
