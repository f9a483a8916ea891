/*
 * test_examples.c - `make examples-quick` end to end: every example but
 * Fashion-MNIST is compiled, trained on the data in examples/data, scored
 * on its held-out rows, and must meet its target; the table must list
 * them all.  About ten seconds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests.h"

static void
test_examples_quick(void **state)
{
	(void)state;
	static const char *const names[] = { "polyfit", "polyfit_vec",
		"diabetes", "cancer", "iris", "wine", "digits", "mixture",
		"robust" };
	char cmd[3000], *out;

	snprintf(cmd, sizeof cmd, "make -s --no-print-directory -C '%s' "
		"BUILD='%s' examples-quick 2>&1", DLC_ROOT, DLC_BUILD);
	if (run_cmd(cmd, &out) != 0)
		fail_msg("%s\n%s", cmd, out);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char row[64];
		snprintf(row, sizeof row, "\n%s ", names[i]);
		if (!strstr(out, row))
			fail_msg("no row for %s in\n%s", names[i], out);
	}
	if (strstr(out, "MISSED") || !strstr(out, "9 of 9 examples met "
	    "their targets"))
		fail_msg("%s", out);
	free(out);
}

TestList
examples_tests(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples_quick),
	};
	return (TestList){ tests, sizeof tests / sizeof tests[0] };
}
