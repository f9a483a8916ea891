/*
 * test_edges.c - the gradient at the points where automatic
 * differentiation tools are known to give NaN or wrong values, each with
 * its exact expected value, through the interpreter and the generated C;
 * and functions that must stay finite for arguments of magnitude 1000 in
 * f32.  docs/language.md states each convention tested here.
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

#include "cg.h"
#include "ir_build.h"
#include "tests.h"

typedef struct Edge {
	const char *what;
	const char *source;     /* parameters take their declared values */
	double grad[4];         /* expected gradient, element by element */
	int n;
} Edge;

static const Edge edges[] = {
	{ "x^3 at -2", "param x = -2\nloss x^3\n", { 12 }, 1 },
	{ "x^2 at 0", "param x = 0\nloss x^2\n", { 0 }, 1 },
	{ "x^4 at -1", "param x = -1\nloss x^4\n", { -4 }, 1 },
	{ "x^y at x = 0, y = 2", "param x = 0, y = 2\nloss x^y\n",
	  { 0, 0 }, 2 },
	{ "x^y at x = 0, y = 0.5: dy", "param x = 1, y = 0.5\n"
	  "loss (x - 1)^y\n", { INFINITY, 0 }, 2 },
	{ "relu at 0", "param x = 0\nloss relu(x)\n", { 0 }, 1 },
	{ "abs at 0", "param x = 0\nloss abs(x)\n", { 0 }, 1 },
	{ "max tie", "param x = 1, y = 1\nloss max(x, y)\n", { 0.5, 0.5 }, 2 },
	{ "min tie", "param x = 1, y = 1\nloss min(x, y)\n", { 0.5, 0.5 }, 2 },
	{ "clamp at lo", "param x = 0\nloss clamp(x, 0, 1)\n", { 0.5 }, 1 },
	{ "clamp inside", "param x = 0.5\nloss clamp(x, 0, 1)\n", { 1 }, 1 },
	{ "clamp above", "param x = 2\nloss clamp(x, 0, 1)\n", { 0 }, 1 },
	{ "max reduction, three-way tie", "param v[3] = 2\nloss max(v)\n",
	  { 1.0 / 3, 1.0 / 3, 1.0 / 3 }, 3 },
	{ "where(x > 0, sqrt(x), 0) at -1",
	  "param x = -1\nloss where(x > 0, sqrt(x), 0)\n", { 0 }, 1 },
	{ "where(x != 0, sin(x)/x, 1) at 0",
	  "param x = 0\nloss where(x != 0, sin(x) / x, 1)\n", { 0 }, 1 },
	{ "sqrt(sum(v^2))^2 at 0", "param v[3] = 0\nloss sqrt(sum(v^2))^2\n",
	  { 0, 0, 0 }, 3 },
	{ "norm at 0", "param v[2] = 0\nloss norm(v)\n", { 0, 0 }, 2 },
	{ "log at 0 behind where",
	  "param x = 0\nloss where(x > 0, log(x), 0)\n", { 0 }, 1 },
};

static int
same(double want, double got)
{
	return want == got || (isinf(want) && isinf(got) &&
		(want > 0) == (got > 0));
}

/* The compiled C's gradient at the declared parameter values. */
static void
generated_gradient(const IrModule *m, const double *p, double *grad)
{
	Compiled so;

	if (tb_compile(m, scratch_dir("edges"), &so) != 0)
		fail_msg("generated C does not build:\n%s", so.error);
	void *ws = malloc(so.workspace_size(1) + 1);
	so.loss_grad(p, grad, NULL, NULL, 1, ws);
	free(ws);
	tb_unload(&so);
}

static void
test_edges(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof edges / sizeof edges[0]; k++) {
		const Edge *e = &edges[k];
		Arena *arena = arena_new();
		Source *src;
		IrModule *m = tb_compile_source(e->source, arena, &src);
		double p[8], grad[8], gen[8];

		assert_non_null(m);
		assert_int_equal(m->param_size, e->n);
		for (int i = 0; i < m->nparams; i++)
			for (long j = 0; j < ir_numel(&m->params[i].type); j++)
				p[m->params[i].offset + j] = m->params[i].a;
		IrBatch b = { p, NULL, NULL, 1 };
		ir_interp(m, &b, grad, NULL);
		generated_gradient(m, p, gen);
		for (int i = 0; i < e->n; i++)
			if (!same(e->grad[i], grad[i]) || !same(e->grad[i], gen[i]))
				fail_msg("%s: element %d: expected %.17g, "
					"interpreter %.17g, generated C %.17g",
					e->what, i, e->grad[i], grad[i], gen[i]);
		ir_module_free(m);
		src_free(src);
		arena_free(arena);
	}
}

/* Programs whose loss and gradient must be finite in f32 for inputs of
 * magnitude 1000; each reads x = [1000, 0, -1000] scaled by s = 1. */
static const char *const large[] = {
	"loss sum(softmax(s * x) * x)\n",
	"l = log_softmax(s * x)\nloss -l[0] - l[2]\n",
	"loss logsumexp(s * x) + logsumexp(-s * x)\n",
	"loss cross_entropy(s * x, t)\n",
	"loss sum(softplus(s * x)) + sum(softplus(-s * x))\n",
	"loss sum(sigmoid(s * x))\n",
	"loss -sum(log(sigmoid(s * x)))\n",
};

static const char driver[] =
"#include <stdio.h>\n#include \"t.h\"\n"
"int main(void)\n{\n"
"\tstatic char ws[1 << 16];\n"
"\tt_params p, g;\n"
"\tfloat x[3] = { 1000, 0, -1000 }, tg[1] = { 2 };\n"
"\tt_init(&p, 1);\n"
"\tfloat l = t_loss_grad(&p, &g, x, tg, 1, ws);\n"
"\tprintf(\"%a %a\\n\", l, g.s);\n"
"\treturn 0;\n}\n";

static void
test_large_f32(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof large / sizeof large[0]; k++) {
		const char *dir = scratch_dir("edges-f32");
		char text[1024], path[1200], cmd[4096], *out;
		snprintf(text, sizeof text, "input x[3]\ntarget t : class(3)\n"
			"param s = 1\n%s", large[k]);
		snprintf(path, sizeof path, "%s/t.dl", dir);
		FILE *f = fopen(path, "w");
		fputs(text, f);
		fclose(f);
		snprintf(path, sizeof path, "%s/main.c", dir);
		f = fopen(path, "w");
		fputs(driver, f);
		fclose(f);
		snprintf(cmd, sizeof cmd, "cd '%s' && '%s/dlc' --emit=c -o ./ t.dl "
			"&& cc -std=c99 -Wall -Wextra -Werror -O2 t.c main.c -lm "
			"-o t && ./t", dir, DLC_BUILD);
		if (run_cmd(cmd, &out) != 0)
			fail_msg("%s%s", text, out);
		double loss, grad;
		if (sscanf(out, "%la %la", &loss, &grad) != 2 ||
		    !isfinite(loss) || !isfinite(grad))
			fail_msg("not finite in f32:\n%s=> %s", text, out);
		free(out);
	}
}

typedef struct Warning {
	const char *source;
	const char *expected;   /* stderr of dlc --warn-nan, exactly */
} Warning;

static const Warning warnings[] = {
	{ "param a = 1\ninput x\nloss sqrt(a * x)\n",
	  "t.dl:3:6: warning: the gradient of sqrt is infinite where its "
	  "argument is 0\n  loss sqrt(a * x)\n       ^~~~\n" },
	{ "param a = 1\ninput x\nloss log(a * x) + a / x\n",
	  "t.dl:3:6: warning: the gradient of log is infinite where its "
	  "argument is 0\n  loss log(a * x) + a / x\n       ^~~\n"
	  "t.dl:3:21: warning: this gradient is infinite where the divisor "
	  "is 0\n  loss log(a * x) + a / x\n                      ^\n" },
	{ "param a = 1\ninput x\n"
	  "loss sqrt(a^2 + 1) + log(exp(a) + x^2) + a / (1 + x^2)\n", "" },
	{ "param a = 1\ninput x\nloss log(softplus(a * x)) + sqrt(x^2)\n",
	  "" },
};

/* --check also lowers, so what lowering refuses is an error there too,
 * given once. */
static void
test_check_lowers(void **state)
{
	(void)state;
	char *err;
	int status = run_dlc_on_text("param k[6] = 0\ninput x\ntarget y\n"
		"loss sum(sum(k[i] * x for j in 0..2) for i in 0..5) - y\n",
		"--check", &err);

	assert_string_equal(err, "t.dl:4:10: error: a comprehension inside "
		"a comprehension is not supported yet\n"
		"  loss sum(sum(k[i] * x for j in 0..2) for i in 0..5) - y\n"
		"           ^~~\n");
	assert_int_equal(status, 1);
	free(err);
}

/* --warn-nan warns exactly where a partial can be infinite and the sign
 * analysis cannot rule it out, and nowhere else. */
static void
test_warn_nan(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof warnings / sizeof *warnings; i++) {
		char *err;
		int status = run_dlc_on_text(warnings[i].source,
			"--warn-nan --emit=ir=forward", &err);
		if (strcmp(err, warnings[i].expected) != 0)
			fail_msg("case %zu:\n--- expected\n%s--- got\n%s", i,
				warnings[i].expected, err);
		assert_int_equal(status, 0);
		free(err);
	}
}

TestList
edge_tests(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_large_f32),
		cmocka_unit_test(test_warn_nan),
		cmocka_unit_test(test_check_lowers),
	};
	return (TestList){ tests, sizeof tests / sizeof tests[0] };
}
