/*
 * test_passes.c - the optimisation pipeline on every example program:
 * each -O level verifies after every stage and computes the same loss and
 * gradient as -O0 (within f32 rounding), and the fused loss-and-gradient
 * function costs at most three times the loss alone in floating-point
 * operations (the cheap-gradient bound), at the program's batch size.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dlrt.h"
#include "ir_build.h"
#include "tests.h"

enum { ROWS = 6 };

typedef struct Run {
	double loss;
	double *grad;
	IrStats with_grad, loss_only;
	long batch;
} Run;

static int
verify_each(const IrModule *m, const char *pass, void *ctx)
{
	(void)ctx;
	return ir_verify(m, pass) ? 2 : 0;
}

static IrModule *
lower_file(const char *path, Arena *arena, Source **src)
{
	*src = src_load(path);
	assert_non_null(*src);
	Program *p = parse_program(*src, arena);
	if (check_program(p) != 0)
		return NULL;
	return ir_lower(p, "ex");
}

/* Rows of random data that fit the module: labels within their classes. */
static void
fill_data(const IrModule *m, double *x, double *t, RtRng *r)
{
	for (long i = 0; i < ROWS * m->input_size; i++)
		x[i] = 2 * (double)(rt_rng_next(r) >> 11) / 0x1p53 - 1;
	for (int row = 0; row < ROWS; row++)
		for (int k = 0; k < m->ntargets; k++) {
			const IrData *d = &m->targets[k];
			for (long j = 0; j < ir_numel(&d->type); j++)
				t[row * m->target_size + d->column + j] =
					d->nclasses ? (double)rt_rng_below(r,
					(size_t)d->nclasses) :
					(double)(rt_rng_next(r) >> 11) / 0x1p53;
		}
}

static IrStats
stats(const IrModule *m, int with_grad)
{
	int root[256], n = 0;

	root[n++] = m->fn.loss;
	for (int i = 0; with_grad && i < m->nparams; i++)
		if (m->fn.grad[i] >= 0)
			root[n++] = m->fn.grad[i];
	return ir_stats(&m->fn, root, n);
}

static Run
run_at(const char *path, int level, const double *p, const double *x,
	const double *t)
{
	Arena *arena = arena_new();
	Source *src;
	IrModule *m = lower_file(path, arena, &src);
	Run r;

	assert_non_null(m);
	assert_int_equal(ir_verify(m, "forward"), 0);
	if (ir_optimise(m, level, 0, verify_each, NULL) == 2)
		fail_msg("%s at -O%d: the verifier failed", path, level);
	r.grad = calloc((size_t)m->param_size + 1, sizeof *r.grad);
	IrBatch b = { p, x, t, ROWS };
	r.loss = ir_interp(m, &b, r.grad, NULL);
	r.with_grad = stats(m, 1);
	r.loss_only = stats(m, 0);
	r.batch = m->train.batch;
	ir_module_free(m);
	src_free(src);
	arena_free(arena);
	return r;
}

static int
close32(double a, double b)
{
	return fabs(a - b) <= 1e-6 * fmax(1, fmax(fabs(a), fabs(b)));
}

static double
flops(IrStats s, long batch)
{
	return s.flops_example * (double)batch + s.flops_batch;
}

static void
check_example(const char *path)
{
	Arena *arena = arena_new();
	Source *src;
	IrModule *m = lower_file(path, arena, &src);
	RtRng r;

	if (!m)
		fail_msg("%s does not lower", path);
	double *p = calloc((size_t)m->param_size + 1, sizeof *p);
	double *x = calloc((size_t)(ROWS * m->input_size) + 1, sizeof *x);
	double *t = calloc((size_t)(ROWS * m->target_size) + 1, sizeof *t);
	rt_rng_seed(&r, 5);
	for (long i = 0; i < m->param_size; i++)
		p[i] = 0.5 * (2 * (double)(rt_rng_next(&r) >> 11) / 0x1p53 - 1);
	fill_data(m, x, t, &r);
	long np = m->param_size;
	ir_module_free(m);
	src_free(src);
	arena_free(arena);

	Run base = run_at(path, 0, p, x, t);
	for (int level = 1; level <= 3; level++) {
		Run o = run_at(path, level, p, x, t);
		if (!close32(base.loss, o.loss))
			fail_msg("%s: loss %.9g at -O0, %.9g at -O%d", path,
				base.loss, o.loss, level);
		for (long i = 0; i < np; i++)
			if (!close32(base.grad[i], o.grad[i]))
				fail_msg("%s: gradient element %ld: %.9g at -O0, "
					"%.9g at -O%d", path, i, base.grad[i],
					o.grad[i], level);
		double ratio = flops(o.with_grad, o.batch) /
			flops(o.loss_only, o.batch);
		if (level == 2 && !(ratio <= 3))
			fail_msg("%s: the gradient costs %.2f times the loss "
				"alone at -O2", path, ratio);
		free(o.grad);
	}
	free(base.grad);
	free(p);
	free(x);
	free(t);
}

static void
test_examples_at_every_level(void **state)
{
	(void)state;
	DIR *d = opendir(DLC_ROOT "/examples");
	struct dirent *e;
	int checked = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		char path[1200];
		if (len < 4 || strcmp(e->d_name + len - 3, ".dl") != 0)
			continue;
		snprintf(path, sizeof path, "%s/examples/%s", DLC_ROOT,
			e->d_name);
		check_example(path);
		checked++;
	}
	closedir(d);
	assert_true(checked >= 6);
}

TestList
passes_tests(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples_at_every_level),
	};
	return (TestList){ tests, sizeof tests / sizeof tests[0] };
}
