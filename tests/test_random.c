/*
 * test_random.c - random well-formed programs, hundreds per run from a
 * fixed seed, each compiled in process through every stage (parse, check,
 * lower, differentiate, -O2) and its gradient checked against central
 * finite differences through the reference interpreter; every tenth is
 * also built as C in f64 and compared with the interpreter.
 *
 * The generator tracks shapes, so every program is valid: scalars,
 * vectors of 4 and 3, and a 3 x 4 matrix, combined with the language's
 * arithmetic, broadcasting, products, reductions and smooth builtins.
 * Builtins with kinks are left out, since finite differences straddling a
 * kink disagree with any one-sided convention.
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

#include "dlrt.h"
#include "ir_build.h"
#include "tests.h"

enum { PROGRAMS = 300, ROWS = 5, MAX_TEXT = 1 << 14 };

typedef enum Kind { SCALAR, VEC4, VEC3 } Kind;

typedef struct Gen {
	RtRng rng;
	char *text;
	size_t len;
} Gen;

static int
pick(Gen *g, int n)
{
	return (int)rt_rng_below(&g->rng, (size_t)n);
}

static void
emit(Gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
emit(Gen *g, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(g->text + g->len, MAX_TEXT - g->len, fmt, ap);
	va_end(ap);
	if (n > 0 && g->len + (size_t)n < MAX_TEXT)
		g->len += (size_t)n;
}

static void expr(Gen *g, Kind k, int depth);

/* A smooth function of one argument, finite everywhere. */
static void
smooth(Gen *g, Kind k, int depth)
{
	static const char *const wrap[][2] = {
		{ "tanh(", ")" }, { "sigmoid(", ")" }, { "softplus(", ")" },
		{ "sin(", ")" }, { "cos(", ")" }, { "exp(tanh(", "))" },
		{ "log(1 + (", ")^2)" }, { "sqrt(1 + (", ")^2)" },
		{ "(", ")^2" }, { "(", ")^3" }, { "-(", ")" },
		{ "log1p(exp(", "))" },
	};
	int w = pick(g, sizeof wrap / sizeof wrap[0]);

	emit(g, "%s", wrap[w][0]);
	expr(g, k, depth - 1);
	emit(g, "%s", wrap[w][1]);
}

static void
binary(Gen *g, Kind k, int depth)
{
	int op = pick(g, 4);
	Kind right = pick(g, 3) == 0 ? SCALAR : k;

	emit(g, "(");
	expr(g, k, depth - 1);
	if (op == 3) {
		emit(g, " / (1 + (");
		expr(g, right, depth - 1);
		emit(g, ")^2))");
		return;
	}
	emit(g, " %c ", "+-*"[op]);
	expr(g, right, depth - 1);
	emit(g, ")");
}

static void
leaf(Gen *g, Kind k)
{
	static const char *const scalars[] = { "a", "c", "y", "x[1]", "v[3]",
		"W[2, 1]", "0.5" };
	static const char *const vec4[] = { "x", "v", "W[0]" };
	static const char *const vec3[] = { "b" };

	if (k == SCALAR)
		emit(g, "%s", scalars[pick(g, 7)]);
	else if (k == VEC4)
		emit(g, "%s", vec4[pick(g, 3)]);
	else
		emit(g, "%s", vec3[0]);
}

/* Something of kind k built from something of another kind. */
static void
convert(Gen *g, Kind k, int depth)
{
	if (k == VEC3) {
		emit(g, "(W @ (");
		expr(g, VEC4, depth - 1);
		emit(g, "))");
	} else if (k == VEC4) {
		if (pick(g, 2)) {
			emit(g, "softmax(");
			expr(g, VEC4, depth - 1);
			emit(g, ")");
		} else {
			emit(g, "((");
			expr(g, VEC3, depth - 1);
			emit(g, ") @ W)");
		}
	} else {
		static const char *const reducers[] = { "sum(", "mean(",
			"logsumexp(", "dot(v, " };
		Kind from = pick(g, 2) ? VEC4 : VEC3;
		int r = pick(g, 4);
		if (r == 3)
			from = VEC4;
		emit(g, "%s", reducers[r]);
		expr(g, from, depth - 1);
		emit(g, ")");
	}
}

static void
expr(Gen *g, Kind k, int depth)
{
	int choice = depth <= 0 ? 0 : pick(g, 6);

	switch (choice) {
	case 0:
		leaf(g, k);
		break;
	case 1: case 2:
		binary(g, k, depth);
		break;
	case 3: case 4:
		smooth(g, k, depth);
		break;
	default:
		convert(g, k, depth);
		break;
	}
}

static void
program(Gen *g)
{
	g->len = 0;
	emit(g, "input x[4]\ntarget y\n");
	emit(g, "param a = 0.3, c = -0.7\n");
	emit(g, "param v[4] ~ normal(0, 1)\nparam b[3] ~ normal(0, 1)\n");
	emit(g, "param W[3, 4] ~ normal(0, 0.5)\n");
	emit(g, "h = ");
	expr(g, VEC3, 3);
	emit(g, "\nloss sum(h) * 0.1 + (");
	expr(g, SCALAR, 4);
	emit(g, " - y)^2\n");
}

static double
uniform(RtRng *r)
{
	return (double)(rt_rng_next(r) >> 11) / 0x1p53;
}

static int
check_gradient(const IrModule *m, double *p, const double *x,
	const double *t, char *why, size_t n)
{
	double *grad = calloc((size_t)m->param_size + 1, sizeof *grad);
	IrBatch b = { p, x, t, ROWS };
	int bad = 0;

	ir_interp(m, &b, grad, NULL);
	for (long i = 0; i < m->param_size && !bad; i++) {
		double keep = p[i], h = 1e-6 * fmax(1, fabs(keep));
		p[i] = keep + h;
		double up = ir_interp(m, &b, NULL, NULL);
		p[i] = keep - h;
		double down = ir_interp(m, &b, NULL, NULL);
		p[i] = keep;
		double fd = (up - down) / (2 * h);
		if (fabs(fd - grad[i]) > 1e-6 * fmax(1, fmax(fabs(fd),
		    fabs(grad[i])))) {
			snprintf(why, n, "parameter element %ld: adjoint %.12g, "
				"finite difference %.12g", i, grad[i], fd);
			bad = 1;
		}
	}
	free(grad);
	return bad;
}

static int
check_generated(const IrModule *m, const double *p, const double *x,
	const double *t, char *why, size_t n)
{
	double *want = calloc((size_t)m->param_size + 1, sizeof *want);
	double *got = calloc((size_t)m->param_size + 1, sizeof *got);
	IrBatch b = { p, x, t, ROWS };
	Compiled so;
	int bad = 0;

	if (tb_compile(m, scratch_dir("random"), &so) != 0) {
		snprintf(why, n, "generated C does not build:\n%.3000s",
			so.error);
		bad = 1;
	} else {
		void *ws = malloc(so.workspace_size(ROWS) + 1);
		double l = ir_interp(m, &b, want, NULL);
		double cl = so.loss_grad(p, got, x, t, ROWS, ws);
		bad = fabs(l - cl) > 1e-10 * fmax(1, fabs(l));
		for (long i = 0; i < m->param_size && !bad; i++)
			bad = fabs(want[i] - got[i]) > 1e-9 * fmax(1,
				fabs(want[i]));
		if (bad)
			snprintf(why, n, "generated C disagrees with the "
				"interpreter");
		free(ws);
		tb_unload(&so);
	}
	free(want);
	free(got);
	return bad;
}

static void
test_random_programs(void **state)
{
	(void)state;
	Gen g = { .text = malloc(MAX_TEXT) };
	RtRng data;
	char why[4096];

	rt_rng_seed(&g.rng, 2026);
	rt_rng_seed(&data, 12);
	for (int k = 0; k < PROGRAMS; k++) {
		Arena *arena = arena_new();
		Source *src;
		program(&g);
		IrModule *m = tb_compile_source(g.text, arena, &src);
		if (!m)
			fail_msg("program %d does not compile:\n%s", k, g.text);
		double p[64], x[ROWS * 4], t[ROWS];
		assert_true(m->param_size <= 64);
		for (long i = 0; i < m->param_size; i++)
			p[i] = 2 * uniform(&data) - 1;
		for (int i = 0; i < ROWS * 4; i++)
			x[i] = 2 * uniform(&data) - 1;
		for (int i = 0; i < ROWS; i++)
			t[i] = uniform(&data);
		if (check_gradient(m, p, x, t, why, sizeof why) ||
		    (k % 10 == 0 && check_generated(m, p, x, t, why,
		    sizeof why)))
			fail_msg("program %d: %s\n%s", k, why, g.text);
		ir_module_free(m);
		src_free(src);
		arena_free(arena);
	}
	free(g.text);
}

TestList
random_tests(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_programs),
	};
	return (TestList){ tests, sizeof tests / sizeof tests[0] };
}
