/*
 * test_ops.c - every differentiable op, alone and with broadcasting and
 * the batch axis, checked two ways at random points: the adjoint (through
 * the reference interpreter) against central finite differences in double
 * precision, and the generated C (f64) against the interpreter.
 *
 * Each case builds a small module by hand; tb_finish() makes its loss the
 * batch mean of sum(result * w) for a random batched input w, so every
 * element of the result gets a different adjoint.
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
#include "ir_build.h"
#include "tests.h"

/* Two whole blocks of eight examples and a tail of three, so generated
 * loops that run over the batch in blocks take both their paths. */
enum { BATCH = 19 };

typedef int (*Build)(IrModule *m);

typedef struct OpCase {
	const char *name;
	Build build;
	double lo, hi;          /* parameters are drawn from [lo, hi] */
} OpCase;

static int
map(IrModule *m, IrOp op)
{
	return tb_op(m, op, tb_param(m, 2, 2, 3), -1, -1, NULL);
}

static int
pair(IrModule *m, IrOp op, int ra, int a0, int a1, int rb, int b0, int b1)
{
	int a = tb_param(m, ra, a0, a1), b = tb_param(m, rb, b0, b1);

	return tb_op(m, op, a, b, -1, NULL);
}

#define MAP_CASE(op) static int b_##op(IrModule *m) { return map(m, IR_##op); }
MAP_CASE(neg)
MAP_CASE(exp)
MAP_CASE(log)
MAP_CASE(sqrt)
MAP_CASE(abs)
MAP_CASE(sin)
MAP_CASE(cos)
MAP_CASE(tanh)
MAP_CASE(sigmoid)
MAP_CASE(relu)
MAP_CASE(softplus)
MAP_CASE(log1p)

static int b_powi3(IrModule *m) { return tb_attr(m, map(m, IR_powi), 3, -1, 0); }
static int b_powim2(IrModule *m) { return tb_attr(m, map(m, IR_powi), -2, -1, 0); }
static int b_add(IrModule *m) { return pair(m, IR_add, 2, 2, 3, 1, 3, 0); }
static int b_sub(IrModule *m) { return pair(m, IR_sub, 2, 2, 1, 1, 3, 0); }
static int b_mul(IrModule *m) { return pair(m, IR_mul, 2, 2, 3, 0, 0, 0); }
static int b_smul(IrModule *m) { return pair(m, IR_smul, 1, 3, 0, 2, 2, 3); }
static int b_div(IrModule *m) { return pair(m, IR_div, 2, 2, 3, 2, 2, 3); }
static int b_pow(IrModule *m) { return pair(m, IR_pow, 2, 2, 3, 1, 3, 0); }
static int b_max2(IrModule *m) { return pair(m, IR_max2, 2, 2, 3, 1, 3, 0); }
static int b_min2(IrModule *m) { return pair(m, IR_min2, 2, 2, 3, 2, 2, 3); }

/* where(a > b, a * b, a - b), so both branches carry gradient */
static int
b_where(IrModule *m)
{
	int a = tb_param(m, 1, 4, 0), b = tb_param(m, 1, 4, 0);
	int c = tb_op(m, IR_gt, a, b, -1, NULL);

	return tb_op(m, IR_where, c, tb_op(m, IR_mul, a, b, -1, NULL),
		tb_op(m, IR_sub, a, b, -1, NULL), NULL);
}

static int
reduction(IrModule *m, IrOp op, int axis)
{
	int a = tb_param(m, 2, 3, 4);
	IrType t = axis < 0 ? ir_scalar(0) : tb_type(0, 1, axis ? 3 : 4, 0);

	return tb_attr(m, tb_op(m, op, a, -1, -1, &t), 0, axis, 0);
}

static int b_rsum0(IrModule *m) { return reduction(m, IR_rsum, 0); }
static int b_rsum1(IrModule *m) { return reduction(m, IR_rsum, 1); }
static int b_rsum_all(IrModule *m) { return reduction(m, IR_rsum, -1); }
static int b_rmax1(IrModule *m) { return reduction(m, IR_rmax, 1); }
static int b_rmin0(IrModule *m) { return reduction(m, IR_rmin, 0); }
static int b_rmax_all(IrModule *m) { return reduction(m, IR_rmax, -1); }
static int b_rlse1(IrModule *m) { return reduction(m, IR_rlse, 1); }
static int b_rlse_all(IrModule *m) { return reduction(m, IR_rlse, -1); }

static int
normalised(IrModule *m, IrOp op, int axis)
{
	IrType t = tb_type(0, 2, 2, 4);

	return tb_attr(m, tb_op(m, op, tb_param(m, 2, 2, 4), -1, -1, &t), 0,
		axis, 0);
}

static int b_softmax1(IrModule *m) { return normalised(m, IR_softmax, 1); }
static int b_softmax0(IrModule *m) { return normalised(m, IR_softmax, 0); }
static int b_logsoftmax1(IrModule *m) { return normalised(m, IR_logsoftmax, 1); }

static int
product(IrModule *m, IrOp op, int ra, int a0, int a1, int rb, int b0, int b1,
	int rr, int r0, int r1)
{
	int a = tb_param(m, ra, a0, a1), b = tb_param(m, rb, b0, b1);
	IrType t = tb_type(0, rr, r0, r1);

	return tb_op(m, op, a, b, -1, &t);
}

static int b_matmat(IrModule *m) { return product(m, IR_matmul, 2, 2, 3, 2, 3, 4, 2, 2, 4); }
static int b_matvec(IrModule *m) { return product(m, IR_matmul, 2, 2, 3, 1, 3, 0, 1, 2, 0); }
static int b_vecmat(IrModule *m) { return product(m, IR_matmul, 1, 3, 0, 2, 3, 4, 1, 4, 0); }
static int b_dot(IrModule *m) { return product(m, IR_matmul, 1, 3, 0, 1, 3, 0, 0, 0, 0); }
static int b_outer(IrModule *m) { return product(m, IR_outer, 1, 2, 0, 1, 3, 0, 2, 2, 3); }

/* W @ (x * v): a batched right operand, so dW sums over the batch */
static int
b_batched_matvec(IrModule *m)
{
	int w = tb_param(m, 2, 2, 3), v = tb_param(m, 1, 3, 0);
	int x = tb_input(m, 1, 3, 0);
	IrType t = tb_type(1, 1, 2, 0);

	return tb_op(m, IR_matmul, w, tb_op(m, IR_mul, x, v, -1, NULL), -1, &t);
}

/* (x * v) @ W, and outer(x * v, u): batched left operands */
static int
b_batched_vecmat(IrModule *m)
{
	int w = tb_param(m, 2, 3, 2), v = tb_param(m, 1, 3, 0);
	int x = tb_input(m, 1, 3, 0);
	IrType t = tb_type(1, 1, 2, 0);

	return tb_op(m, IR_matmul, tb_op(m, IR_mul, x, v, -1, NULL), w, -1, &t);
}

static int
b_batched_outer(IrModule *m)
{
	int u = tb_param(m, 1, 2, 0), v = tb_param(m, 1, 3, 0);
	int x = tb_input(m, 1, 3, 0);
	IrType t = tb_type(1, 2, 2, 3);

	return tb_op(m, IR_outer, u, tb_op(m, IR_mul, x, v, -1, NULL), -1, &t);
}

static int
b_transpose(IrModule *m)
{
	IrType t = tb_type(0, 2, 3, 2);

	return tb_op(m, IR_transpose, tb_param(m, 2, 2, 3), -1, -1, &t);
}

/* a[iota(1, 2)]: rows 1 and 2 of a 4 x 3 matrix */
static int
b_gather(IrModule *m)
{
	int a = tb_param(m, 2, 4, 3);
	IrType it = tb_type(0, 1, 2, 0), t = tb_type(0, 2, 2, 3);
	int idx = tb_attr(m, tb_op(m, IR_iota, -1, -1, -1, &it), 1, -1, 2);

	return tb_op(m, IR_gather, a, idx, -1, &t);
}

/* a scattered into row 2 of a [4, 3] zero matrix */
static int
b_scatter(IrModule *m)
{
	int a = tb_param(m, 1, 3, 0);
	int at = ir_const(&m->fn, 2, (Loc){ 1, 1, 1, 1 });
	IrType t = tb_type(0, 2, 4, 3);

	return tb_attr(m, tb_op(m, IR_scatter, a, at, -1, &t), 0, -1, 4);
}

static int
b_expand(IrModule *m)
{
	IrType t = tb_type(0, 2, 2, 3);

	return tb_attr(m, tb_op(m, IR_expand, tb_param(m, 1, 2, 0), -1, -1,
		&t), 0, 1, 3);
}

static int
b_sumto(IrModule *m)
{
	IrType t = tb_type(0, 1, 3, 0);

	return tb_op(m, IR_sumto, tb_param(m, 2, 2, 3), -1, -1, &t);
}

static int
b_bcastto(IrModule *m)
{
	IrType t = tb_type(0, 2, 2, 3);

	return tb_op(m, IR_bcastto, tb_param(m, 1, 3, 0), -1, -1, &t);
}

/* A value used three ways sums three adjoints. */
static int
b_fan_out(IrModule *m)
{
	int a = tb_param(m, 1, 3, 0);
	int sq = tb_op(m, IR_mul, a, a, -1, NULL);

	return tb_op(m, IR_add, sq, tb_op(m, IR_exp, a, -1, -1, NULL), -1, NULL);
}

static const OpCase cases[] = {
	{ "neg", b_neg, -2, 2 }, { "exp", b_exp, -2, 2 },
	{ "log", b_log, 0.2, 3 }, { "sqrt", b_sqrt, 0.2, 3 },
	{ "abs", b_abs, 0.1, 2 }, { "sin", b_sin, -2, 2 },
	{ "cos", b_cos, -2, 2 }, { "tanh", b_tanh, -2, 2 },
	{ "sigmoid", b_sigmoid, -3, 3 }, { "relu", b_relu, 0.1, 2 },
	{ "softplus", b_softplus, -3, 3 }, { "log1p", b_log1p, -0.5, 2 },
	{ "powi3", b_powi3, -2, 2 }, { "powim2", b_powim2, 0.5, 2 },
	{ "add", b_add, -2, 2 }, { "sub", b_sub, -2, 2 },
	{ "mul", b_mul, -2, 2 }, { "smul", b_smul, -2, 2 },
	{ "div", b_div, 0.5, 2 }, { "pow", b_pow, 0.5, 2 },
	{ "max2", b_max2, -2, 2 }, { "min2", b_min2, -2, 2 },
	{ "where", b_where, -2, 2 },
	{ "rsum0", b_rsum0, -2, 2 }, { "rsum1", b_rsum1, -2, 2 },
	{ "rsum_all", b_rsum_all, -2, 2 }, { "rmax1", b_rmax1, -2, 2 },
	{ "rmin0", b_rmin0, -2, 2 }, { "rmax_all", b_rmax_all, -2, 2 },
	{ "rlse1", b_rlse1, -2, 2 }, { "rlse_all", b_rlse_all, -2, 2 },
	{ "softmax1", b_softmax1, -2, 2 }, { "softmax0", b_softmax0, -2, 2 },
	{ "logsoftmax1", b_logsoftmax1, -2, 2 },
	{ "matmat", b_matmat, -2, 2 }, { "matvec", b_matvec, -2, 2 },
	{ "vecmat", b_vecmat, -2, 2 }, { "dot", b_dot, -2, 2 },
	{ "outer", b_outer, -2, 2 },
	{ "batched_matvec", b_batched_matvec, -2, 2 },
	{ "batched_vecmat", b_batched_vecmat, -2, 2 },
	{ "batched_outer", b_batched_outer, -2, 2 },
	{ "transpose", b_transpose, -2, 2 }, { "gather", b_gather, -2, 2 },
	{ "scatter", b_scatter, -2, 2 }, { "expand", b_expand, -2, 2 },
	{ "sumto", b_sumto, -2, 2 }, { "bcastto", b_bcastto, -2, 2 },
	{ "fan_out", b_fan_out, -2, 2 },
};

/* Case k's name and builder, for tests that use these modules for other
 * things (test_irtools.c); NULL past the last case. */
const char *
ops_case(size_t k, int (**build)(IrModule *m))
{
	if (k >= sizeof cases / sizeof cases[0])
		return NULL;
	*build = cases[k].build;
	return cases[k].name;
}

static double
uniform(RtRng *r)
{
	return (double)(rt_rng_next(r) >> 11) / 0x1p53;
}

static double
loss_at(const IrModule *m, const double *p, const double *x)
{
	IrBatch b = { p, x, NULL, BATCH };

	return ir_interp(m, &b, NULL, NULL);
}

static double
close_enough(double a, double b, double tol)
{
	return fabs(a - b) <= tol * fmax(1, fmax(fabs(a), fabs(b)));
}

/* Central differences of the interpreter's loss, parameter by parameter. */
static void
check_adjoint(const OpCase *c, const IrModule *m, double *p, const double *x)
{
	double *grad = calloc((size_t)m->param_size, sizeof *grad);
	IrBatch b = { p, x, NULL, BATCH };

	ir_interp(m, &b, grad, NULL);
	for (long i = 0; i < m->param_size; i++) {
		double keep = p[i], h = 1e-6 * fmax(1, fabs(keep));
		p[i] = keep + h;
		double up = loss_at(m, p, x);
		p[i] = keep - h;
		double down = loss_at(m, p, x);
		p[i] = keep;
		double fd = (up - down) / (2 * h);
		if (!close_enough(grad[i], fd, 1e-6))
			fail_msg("%s: element %ld of the parameters: adjoint "
				"%.12g, finite difference %.12g", c->name, i,
				grad[i], fd);
	}
	free(grad);
}

/* The generated C computes what the interpreter computes. */
static void
check_generated(const OpCase *c, const IrModule *m, const double *p,
	const double *x)
{
	double *want = calloc((size_t)m->param_size, sizeof *want);
	double *got = calloc((size_t)m->param_size, sizeof *got);
	IrBatch b = { p, x, NULL, BATCH };
	Compiled so;

	if (tb_compile(m, scratch_dir("ops"), &so) != 0)
		fail_msg("%s: generated C does not build:\n%s", c->name,
			so.error);
	void *ws = malloc(so.workspace_size(BATCH) + 1);
	double loss = ir_interp(m, &b, want, NULL);
	double cl = so.loss_grad(p, got, x, NULL, BATCH, ws);
	double fwd = so.loss(p, x, NULL, BATCH, ws);

	if (!close_enough(loss, cl, 1e-12) || !close_enough(loss, fwd, 1e-12))
		fail_msg("%s: loss %.17g, generated %.17g and %.17g", c->name,
			loss, cl, fwd);
	for (long i = 0; i < m->param_size; i++)
		if (!close_enough(want[i], got[i], 1e-10))
			fail_msg("%s: gradient element %ld: interpreter %.17g, "
				"generated %.17g", c->name, i, want[i], got[i]);
	free(ws);
	tb_unload(&so);
	free(want);
	free(got);
}

static void
test_every_op(void **state)
{
	(void)state;
	RtRng rng;

	rt_rng_seed(&rng, 42);
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		const OpCase *c = &cases[k];
		char name[64];
		snprintf(name, sizeof name, "op_%s", c->name);
		IrModule *m = tb_module(name);
		tb_finish(m, c->build(m));

		double *p = malloc((size_t)m->param_size * sizeof *p);
		double *x = malloc((size_t)(BATCH * m->input_size) * sizeof *x);
		for (long i = 0; i < m->param_size; i++) {
			double u = uniform(&rng);
			p[i] = c->lo + (c->hi - c->lo) * u;
		}
		for (long i = 0; i < BATCH * m->input_size; i++)
			x[i] = 2 * uniform(&rng) - 1;
		check_adjoint(c, m, p, x);
		check_generated(c, m, p, x);
		free(p);
		free(x);
		ir_module_free(m);
	}
}

typedef double (*LossGradInputs)(const double *p, double *g, double *dx,
	const double *x, const double *t, size_t n, void *ws);

/* d loss / d inputs (--wrt=inputs): against finite differences over the
 * inputs, and the generated NAME_loss_grad_inputs against the interpreter. */
static void
test_input_gradient(void **state)
{
	(void)state;
	IrModule *m = tb_module("wrt_inputs");
	int a = tb_param(m, 1, 3, 0), x = tb_input(m, 1, 3, 0);
	double p[3] = { 0.5, -1.25, 2 }, dx[BATCH * 6], got[BATCH * 6], g[3];
	double xs[BATCH * 6];
	RtRng rng;

	m->wrt_inputs = 1;
	tb_finish(m, tb_op(m, IR_tanh, tb_op(m, IR_mul, x, a, -1, NULL), -1,
		-1, NULL));
	assert_int_equal(m->input_size, 6);
	rt_rng_seed(&rng, 7);
	for (int i = 0; i < BATCH * 6; i++)
		xs[i] = 2 * uniform(&rng) - 1;
	IrBatch b = { p, xs, NULL, BATCH };
	ir_interp_input_grad(m, &b, dx);
	for (int i = 0; i < BATCH * 6; i++) {
		double keep = xs[i], h = 1e-6;
		xs[i] = keep + h;
		double up = loss_at(m, p, xs);
		xs[i] = keep - h;
		double down = loss_at(m, p, xs);
		xs[i] = keep;
		if (!close_enough(dx[i], (up - down) / (2 * h), 1e-6))
			fail_msg("input element %d: adjoint %.12g, finite "
				"difference %.12g", i, dx[i], (up - down) / (2 * h));
	}

	Compiled so;
	if (tb_compile(m, scratch_dir("wrt-inputs"), &so) != 0)
		fail_msg("generated C does not build:\n%s", so.error);
	LossGradInputs fn;
	*(void **)&fn = dlsym(so.so, "wrt_inputs_loss_grad_inputs");
	assert_non_null(fn);
	void *ws = malloc(so.workspace_size(BATCH) + 1);
	fn(p, g, got, xs, NULL, BATCH, ws);
	for (int i = 0; i < BATCH * 6; i++)
		assert_true(close_enough(dx[i], got[i], 1e-10));
	free(ws);
	tb_unload(&so);
	ir_module_free(m);
}

TestList
ops_tests(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_op),
		cmocka_unit_test(test_input_gradient),
	};
	return (TestList){ tests, sizeof tests / sizeof tests[0] };
}

/* The case list, for tests that need one module per op (test_embed.c). */
size_t
ops_case_count(void)
{
	return sizeof cases / sizeof cases[0];
}

const char *
ops_case_name(size_t k)
{
	return cases[k].name;
}

void
ops_case_build(size_t k, IrModule *m)
{
	tb_finish(m, cases[k].build(m));
}
