/*
 * test_torch.c - the example programs' gradients against PyTorch.
 *
 * For each example: dlc builds an f64 trainer; one epoch of training from
 * its declared initialisers gives a parameter point (--params-out); the
 * trainer writes the gradient of the mean loss over random data rows
 * (--grad-out); tests/torch/check_grads.py recomputes that gradient with
 * the model written by hand in PyTorch (tests/torch/models.py) and fails
 * on a relative error of 1e-5 or more.  Debian's python3-torch is seen by
 * /usr/bin/python3; `make deps` installs it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dlrt.h"
#include "tests.h"

typedef struct Example {
	const char *name;
	int ninputs;            /* input columns */
	int nclasses;           /* the target is class(K), 0: real, -1: none */
} Example;

static const Example examples[] = {
	{ "polyfit", 1, 0 }, { "polyfit_vec", 1, 0 }, { "iris", 4, 3 },
	{ "cancer", 30, 0 }, { "robust", 8, 0 }, { "mixture", 2, -1 },
};

enum { ROWS = 40 };

static void
write_data(const Example *ex, const char *path, uint64_t seed)
{
	FILE *f = fopen(path, "w");
	RtRng r;

	assert_non_null(f);
	rt_rng_seed(&r, seed);
	for (int row = 0; row < ROWS; row++) {
		for (int c = 0; c < ex->ninputs; c++)
			fprintf(f, "%s%.17g", c ? "," : "", 2.0 *
				(double)(rt_rng_next(&r) >> 11) / 0x1p53 - 1);
		if (ex->nclasses < 0)
			fprintf(f, "\n");
		else if (ex->nclasses)
			fprintf(f, ",%d\n", (int)rt_rng_below(&r,
				(size_t)ex->nclasses));
		else
			fprintf(f, ",%.17g\n", (double)(rt_rng_next(&r) >> 11)
				/ 0x1p53);
	}
	fclose(f);
}

static void
check_example(const Example *ex)
{
	const char *dir = scratch_dir("torch");
	char cmd[8192], *out;

	snprintf(cmd, sizeof cmd,
		"cd '%s' && '%s/dlc' --precision=f64 '%s/examples/%s.dl' -o m "
		"2>&1", dir, DLC_BUILD, DLC_ROOT, ex->name);
	if (run_cmd(cmd, &out) != 0)
		fail_msg("%s: %s", ex->name, out);
	free(out);
	char data[1200];
	snprintf(data, sizeof data, "%s/data.csv", dir);
	write_data(ex, data, 99);
	snprintf(cmd, sizeof cmd,
		"cd '%s' && ./m --data data.csv --epochs 1 --quiet "
		"--params-out p.json >/dev/null 2>&1 && "
		"./m --data data.csv --params-in p.json --grad-out g.json 2>&1 "
		"&& cd '%s/tests/torch' && /usr/bin/python3 check_grads.py %s "
		"'%s/p.json' '%s/g.json' '%s/data.csv' %d 2>&1", dir, DLC_ROOT,
		ex->name, dir, dir, dir, ex->ninputs);
	int status = run_cmd(cmd, &out);
	if (status != 0)
		fail_msg("%s against PyTorch:\n%s", ex->name, out);
	free(out);
}

static void
test_examples_against_torch(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof examples / sizeof examples[0]; i++)
		check_example(&examples[i]);
}

TestList
torch_tests(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples_against_torch),
	};
	return (TestList){ tests, sizeof tests / sizeof tests[0] };
}
