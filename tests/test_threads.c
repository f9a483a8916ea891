/*
 * test_threads.c - the trainer's --threads: a batch split across threads
 * gives the one-thread gradient to rounding, the same bits on every run
 * with the same N, and bad values are refused with the documented error.
 *
 * The model is a wide digits classifier: 9,610 parameters, enough that
 * two threads share the sum of the parts' gradients, and 1,438 training
 * rows, so --batch 7 makes parts of unequal length and a last batch of
 * three rows, fewer than some of the thread counts below.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests.h"

#define DATA DLC_ROOT "/examples/data/digits_train.csv"

enum { NPARAMS = 128 * 64 + 128 + 10 * 128 + 10 };

static const char wide[] =
	"input  pixels[64]\n"
	"target digit : class(10)\n"
	"param  W1[128, 64] ~ he\n"
	"param  b1[128]     = 0\n"
	"param  W2[10, 128] ~ glorot\n"
	"param  b2[10]      = 0\n"
	"h      = relu(W1 @ (pixels / 16) + b1)\n"
	"loss   cross_entropy(W2 @ h + b2, digit)\n"
	"train  adam(lr = 0.003) epochs 1 batch 32 seed 1\n";

static char dir[1100];

/* The model's trainer of one backend and precision, built once each. */
static const char *
trainer(const char *backend, const char *precision)
{
	static char built[4][1200];
	int k = (strcmp(backend, "c") != 0) * 2 +
		(strcmp(precision, "f64") == 0);
	char cmd[4000], *out;

	if (built[k][0])
		return built[k];
	if (!dir[0]) {
		snprintf(dir, sizeof dir, "%s", scratch_dir("threads"));
		snprintf(cmd, sizeof cmd, "%s/wide.dl", dir);
		FILE *f = fopen(cmd, "w");
		assert_non_null(f);
		fputs(wide, f);
		fclose(f);
	}
	snprintf(built[k], sizeof built[k], "%s/wide-%s-%s", dir, backend,
		precision);
	snprintf(cmd, sizeof cmd, "'%s/dlc' --backend=%s --precision=%s "
		"'%s/wide.dl' -o '%s' 2>&1", DLC_BUILD, backend, precision, dir,
		built[k]);
	if (run_cmd(cmd, &out) != 0)
		fail_msg("%s\n%s", cmd, out);
	free(out);
	return built[k];
}

/* --grad-out of bin over the data with `flags`, into g[NPARAMS]. */
static void
grad(const char *bin, const char *flags, double *g)
{
	char cmd[4000], json[1300], *out;

	snprintf(json, sizeof json, "%s.grad.json", bin);
	snprintf(cmd, sizeof cmd, "'%s' --data '%s' %s --grad-out '%s' 2>&1",
		bin, DATA, flags, json);
	if (run_cmd(cmd, &out) != 0)
		fail_msg("%s\n%s", cmd, out);
	free(out);
	assert_int_equal(json_numbers(json, g, NPARAMS + 1), NPARAMS);
}

/* Element by element within tol relative, or tol absolute near zero. */
static void
assert_close(const double *want, const double *got, long n, double tol,
	const char *what)
{
	for (long i = 0; i < n; i++)
		if (!(fabs(got[i] - want[i]) <= tol * fmax(fabs(want[i]), 1e-3)))
			fail_msg("%s: element %ld: %.17g, one thread %.17g",
				what, i, got[i], want[i]);
}

/* 2 and 3 threads against 1, and the same N twice, bit for bit. */
static void
check_grads(const char *bin, double tol)
{
	static double one[NPARAMS], g[NPARAMS], again[NPARAMS];

	grad(bin, "--batch 7 --threads 1", one);
	grad(bin, "--batch 7 --threads 2", g);
	assert_close(one, g, NPARAMS, tol, "--threads 2");
	grad(bin, "--batch 7 --threads 2", again);
	assert_memory_equal(g, again, sizeof g);
	grad(bin, "--batch 7 --threads 3", g);
	assert_close(one, g, NPARAMS, tol, "--threads 3");
	grad(bin, "--batch 1438 --threads 2", g);
	assert_close(one, g, NPARAMS, tol, "--batch 1438 --threads 2");
}

/* A gradient element summed over 1,438 examples in f32 carries rounding
 * of order 1438 eps ~ 1e-4 of its terms, more where they cancel; a
 * wrongly weighted or missing part is off by tens of percent. */
static void
test_threads_grad_f32(void **state)
{
	(void)state;
	check_grads(trainer("c", "f32"), 1e-4);
}

/* The LLVM backend's code runs on the pool's threads too. */
static void
test_threads_grad_f64(void **state)
{
	(void)state;
#ifdef DLC_HAVE_LLVM
	check_grads(trainer("llvm", "f64"), 1e-12);
#else
	check_grads(trainer("c", "f64"), 1e-12);
#endif
}

/* Threads beyond the rows of a batch have nothing to do and change
 * nothing: one row per batch is the one-thread path exactly. */
static void
test_threads_beyond_rows(void **state)
{
	(void)state;
	const char *bin = trainer("c", "f64");
	static double one[NPARAMS], g[NPARAMS];

	grad(bin, "--batch 1", one);
	grad(bin, "--batch 1 --threads 4", g);
	assert_memory_equal(one, g, sizeof g);
	grad(bin, "--batch 2 --threads 2", one);
	grad(bin, "--batch 2 --threads 5", g);
	assert_memory_equal(one, g, sizeof g);
}

/* A training run's parameters and losses, log seconds left out. */
static char *
train(const char *bin, const char *flags)
{
	char cmd[4000], *out;

	snprintf(cmd, sizeof cmd, "cd '%s' && '%s' --data '%s' --epochs 3 "
		"--batch 7 --quiet --params-out p.json --log l.csv %s && cat "
		"p.json && cut -d, -f1-2 l.csv", dir, bin, DATA, flags);
	if (run_cmd(cmd, &out) != 0)
		fail_msg("%s\n%s", cmd, out);
	return out;
}

/* The last epoch's loss: the last line of train()'s output. */
static double
last_loss(const char *out)
{
	const char *p = out + strlen(out) - 1;

	while (p > out && p[-1] != '\n')
		p--;
	return atof(strchr(p, ',') + 1);
}

/* --threads 1 is today's run; two runs with 2 threads agree bit for bit,
 * and with the one-thread run to rounding. */
static void
test_threads_train(void **state)
{
	(void)state;
	const char *bin = trainer("c", "f32");
	char *plain = train(bin, ""), *one = train(bin, "--threads 1");
	char *two = train(bin, "--threads 2"), *again = train(bin,
		"--threads 2");

	assert_string_equal(plain, one);
	assert_string_equal(two, again);
	double a = last_loss(one), b = last_loss(two);
	if (!(a > 0 && fabs(a - b) <= 1e-4 * a))
		fail_msg("epoch 3's loss: %.9g with one thread, %.9g with "
			"two", a, b);
	free(plain);
	free(one);
	free(two);
	free(again);
}

/* 0 and all mean every core this process may use: nproc's count. */
static void
test_threads_all(void **state)
{
	(void)state;
	const char *bin = trainer("c", "f64");
	static double want[NPARAMS], g[NPARAMS];
	char *n;

	assert_int_equal(run_cmd("nproc", &n), 0);
	char flags[64];
	snprintf(flags, sizeof flags, "--batch 7 --threads %ld",
		strtol(n, NULL, 10));
	free(n);
	grad(bin, flags, want);
	grad(bin, "--batch 7 --threads all", g);
	assert_memory_equal(want, g, sizeof g);
	grad(bin, "--batch 7 --threads 0", g);
	assert_memory_equal(want, g, sizeof g);
}

static void
test_threads_bad(void **state)
{
	(void)state;
	const char *bin = trainer("c", "f32");
	const char *bad[] = { "-1", "1.5", "two", "1025", "''", "2x" };
	char cmd[4000], *out;

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		snprintf(cmd, sizeof cmd, "'%s' --data '%s' --threads %s 2>&1",
			bin, DATA, bad[i]);
		assert_int_equal(run_cmd(cmd, &out), 2);
		assert_string_equal(out, "error: --threads needs a whole number "
			"from 1 to 1024, or 0 or all for every core\n");
		free(out);
	}
	snprintf(cmd, sizeof cmd, "'%s' --data '%s' --threads 2>&1", bin,
		DATA);
	assert_int_equal(run_cmd(cmd, &out), 2);
	assert_string_equal(out, "error: --threads needs a value (N)\n");
	free(out);
	snprintf(cmd, sizeof cmd, "'%s' --help", bin);
	assert_int_equal(run_cmd(cmd, &out), 0);
	assert_non_null(strstr(out, "--threads N          threads per batch; "
		"0 or all: every core (default 1)\n"));
	free(out);
}

TestList
threads_tests(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threads_grad_f32),
		cmocka_unit_test(test_threads_grad_f64),
		cmocka_unit_test(test_threads_beyond_rows),
		cmocka_unit_test(test_threads_train),
		cmocka_unit_test(test_threads_all),
		cmocka_unit_test(test_threads_bad),
	};
	return (TestList){ tests, sizeof tests / sizeof tests[0] };
}
