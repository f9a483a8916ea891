/*
 * test_kernels.c - the C kernels NAME.c includes (codegen/kernels.c),
 * checked as compiled code: the matrix product, built as a trainer builds
 * it under gcc and clang in both precisions, must give every element of
 * C the plain in-order sum, whatever the shape, so that a row's result
 * never depends on the rows around it or on the batch size.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cg.h"
#include "tests.h"

/* Writes dir/gemm.c: the product's template for a module named g, its
 * floating type left to -DREAL. */
static void
write_gemm(const char *dir)
{
	char path[1100];
	FILE *f;

	snprintf(path, sizeof path, "%s/gemm.c", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("#include <stddef.h>\ntypedef REAL g_real;\n", f);
	cg_template(f, cg_gemm_source, "g");
	assert_int_equal(fclose(f), 0);
}

/* tests/gemm_driver.c over it with each compiler and floating type, at
 * the trainer's optimisation flags and with warnings as errors. */
static void
test_gemm_sums_in_order(void **state)
{
	static const char *const ccs[] = {
		"gcc -fvect-cost-model=dynamic", "clang",
	};
	static const char *const reals[] = { "float", "double" };
	const char *dir = scratch_dir("gemm");
	char cmd[4400], *out;

	(void)state;
	write_gemm(dir);
	for (size_t i = 0; i < 4; i++) {
		snprintf(cmd, sizeof cmd, "cd '%s' && %s -std=c11 -pedantic "
			"-Wall -Wextra -Werror -O2 -march=native -DREAL=%s "
			"-include gemm.c '%s/tests/gemm_driver.c' -o gemm 2>&1 "
			"&& ./gemm", dir, ccs[i / 2], reals[i % 2], DLC_ROOT);
		if (run_cmd(cmd, &out) != 0 || strncmp(out, "ok ", 3) != 0)
			fail_msg("%s\n%s", cmd, out);
		free(out);
	}
}

TestList
kernels_tests(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gemm_sums_in_order),
	};
	return (TestList){ tests, sizeof tests / sizeof tests[0] };
}
