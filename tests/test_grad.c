/*
 * test_grad.c - gradients checked against central finite differences in
 * double precision: the IR's adjoint through the reference interpreter, and
 * the generated C (built with --precision=f64 and loaded with dlopen), at
 * several random parameter points on real data rows.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dlrt.h"
#include "ir.h"
#include "tests.h"

enum { ROWS = 400, POINTS = 5 };

typedef double (*LossFn)(const double *p, const double *in,
	const double *tg, size_t n, void *ws);
typedef double (*LossGradFn)(const double *p, double *g, const double *in,
	const double *tg, size_t n, void *ws);
typedef size_t (*WsFn)(size_t n);

typedef struct Model {
	Arena *arena;
	Source *src;
	IrModule *ir;
	RtData data;
} Model;

static Model
load(const char *dl, const char *csv)
{
	Model m = { .arena = arena_new() };
	char err[256];

	m.src = src_load(dl);
	assert_non_null(m.src);
	Program *p = parse_program(m.src, m.arena);
	assert_int_equal(check_program(p), 0);
	m.ir = ir_lower(p, "polyfit");
	ir_grad(m.ir);
	ir_cse(&m.ir->fn);
	ir_dce(&m.ir->fn);
	if (rt_read_csv(csv, m.ir->ninputs, m.ir->ntargets, &m.data, err,
	    sizeof err) != 0)
		fail_msg("%s", err);
	assert_true(m.data.n >= ROWS);
	return m;
}

static void
unload(Model *m)
{
	rt_data_free(&m->data);
	ir_module_free(m->ir);
	src_free(m->src);
	arena_free(m->arena);
}

/* Parameters in [-2, 2], from a fixed seed per point. */
static void
random_params(double *p, int n, uint64_t seed)
{
	RtRng r;

	rt_rng_seed(&r, seed);
	for (int i = 0; i < n; i++)
		p[i] = -2 + 4 * (double)(rt_rng_next(&r) >> 11) / 0x1p53;
}

static double
rel_error(double a, double b)
{
	double scale = fmax(fmax(fabs(a), fabs(b)), 1e-6);

	return fabs(a - b) / scale;
}

static double
interp_loss(const Model *m, const double *p)
{
	IrBatch b = { p, m->data.inputs, m->data.targets, ROWS };

	return ir_interp(m->ir, &b, NULL, NULL);
}

/* d loss / d p[i] by central differences with a step scaled to p[i]. */
static double
finite_difference(double (*loss)(const void *ctx, const double *p),
	const void *ctx, double *p, int i)
{
	double h = 1e-6 * fmax(1, fabs(p[i])), keep = p[i];
	double up, down;

	p[i] = keep + h;
	up = loss(ctx, p);
	p[i] = keep - h;
	down = loss(ctx, p);
	p[i] = keep;
	return (up - down) / (2 * h);
}

static double
interp_loss_cb(const void *ctx, const double *p)
{
	return interp_loss(ctx, p);
}

static void
test_interp_gradient(void **state)
{
	(void)state;
	Model m = load(DLC_ROOT "/examples/polyfit.dl",
		DLC_ROOT "/examples/data/polyfit.csv");
	int np = m.ir->nparams;
	double p[16], grad[16];

	for (int point = 0; point < POINTS; point++) {
		random_params(p, np, 100 + (uint64_t)point);
		IrBatch b = { p, m.data.inputs, m.data.targets, ROWS };
		ir_interp(m.ir, &b, grad, NULL);
		for (int i = 0; i < np; i++) {
			double fd = finite_difference(interp_loss_cb, &m, p, i);
			double err = rel_error(grad[i], fd);
			if (err > 1e-6)
				fail_msg("point %d, %s: adjoint %.12g, finite "
					"difference %.12g, relative error %.3g",
					point, m.ir->params[i].name, grad[i], fd,
					err);
		}
	}
	unload(&m);
}

typedef struct Compiled {
	void *so;
	LossFn loss;
	LossGradFn loss_grad;
	WsFn ws_size;
	const Model *m;
	void *ws;
} Compiled;

static Compiled
compile_f64(const Model *m)
{
	const char *dir = scratch_dir("grad-f64");
	char cmd[4096], so[1100];
	char *out;
	Compiled c = { .m = m };

	snprintf(cmd, sizeof cmd,
		"'%s/dlc' --emit=c --precision=f64 -o '%s/' "
		"'%s/examples/polyfit.dl' && cc -std=c99 -pedantic -Wall "
		"-Wextra -Werror -O2 -shared -fPIC '%s/polyfit.c' "
		"-o '%s/polyfit.so' -lm", DLC_BUILD, dir, DLC_ROOT, dir, dir);
	if (run_cmd(cmd, &out) != 0)
		fail_msg("%s\n%s", cmd, out);
	free(out);
	snprintf(so, sizeof so, "%s/polyfit.so", dir);
	c.so = dlopen(so, RTLD_NOW | RTLD_LOCAL);
	assert_non_null(c.so);
	*(void **)&c.loss = dlsym(c.so, "polyfit_loss");
	*(void **)&c.loss_grad = dlsym(c.so, "polyfit_loss_grad");
	*(void **)&c.ws_size = dlsym(c.so, "polyfit_workspace_size");
	assert_non_null(c.loss);
	assert_non_null(c.loss_grad);
	assert_non_null(c.ws_size);
	c.ws = malloc(c.ws_size(ROWS) + 1);
	return c;
}

static double
compiled_loss_cb(const void *ctx, const double *p)
{
	const Compiled *c = ctx;

	return c->loss(p, c->m->data.inputs, c->m->data.targets, ROWS, c->ws);
}

static void
test_generated_gradient(void **state)
{
	(void)state;
	Model m = load(DLC_ROOT "/examples/polyfit.dl",
		DLC_ROOT "/examples/data/polyfit.csv");
	Compiled c = compile_f64(&m);
	int np = m.ir->nparams;
	double p[16], grad[16], ref[16];

	for (int point = 0; point < POINTS; point++) {
		random_params(p, np, 200 + (uint64_t)point);
		double loss = c.loss_grad(p, grad, m.data.inputs,
			m.data.targets, ROWS, c.ws);
		IrBatch b = { p, m.data.inputs, m.data.targets, ROWS };
		double ref_loss = ir_interp(m.ir, &b, ref, NULL);
		assert_true(rel_error(loss, ref_loss) < 1e-12);
		for (int i = 0; i < np; i++) {
			double fd = finite_difference(compiled_loss_cb, &c, p, i);
			double err = rel_error(grad[i], fd);
			if (err > 1e-6)
				fail_msg("point %d, %s: generated %.12g, finite "
					"difference %.12g, relative error %.3g",
					point, m.ir->params[i].name, grad[i], fd,
					err);
			assert_true(rel_error(grad[i], ref[i]) < 1e-10);
		}
	}
	free(c.ws);
	dlclose(c.so);
	unload(&m);
}

/* A value used twice sums its adjoints: d/dk (k*k + k) = 2k + 1. */
static void
test_fan_out(void **state)
{
	(void)state;
	const char *text = "param k = 0\nloss k*k + k\n";
	Source *src = src_from_string("t.dl", text, strlen(text));
	Arena *a = arena_new();
	Program *p = parse_program(src, a);
	double k = 1.75, g;

	assert_int_equal(check_program(p), 0);
	IrModule *ir = ir_lower(p, "t");
	ir_grad(ir);
	IrBatch b = { &k, NULL, NULL, 1 };
	double loss = ir_interp(ir, &b, &g, NULL);
	assert_true(loss == k * k + k);
	assert_true(g == 2 * k + 1);
	ir_module_free(ir);
	arena_free(a);
	src_free(src);
}

TestList
grad_tests(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fan_out),
		cmocka_unit_test(test_interp_gradient),
		cmocka_unit_test(test_generated_gradient),
	};
	return (TestList){ tests, sizeof tests / sizeof tests[0] };
}
