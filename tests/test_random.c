/*
 * test_random.c - random well-formed programs, hundreds per run from a
 * fixed seed, each compiled in process through every stage (parse, check,
 * lower, differentiate, -O2) and its gradient checked against central
 * finite differences through the reference interpreter; every tenth is
 * also built as C in f64 and compared with the interpreter.
 *
 * Every eighth program is also written in PyTorch by the same generator,
 * construct by construct, and its gradient compared with PyTorch's
 * (relative error below 1e-5), all in one Python run.
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

enum { PROGRAMS = 300, ROWS = 5, MAX_TEXT = 1 << 14, TORCH_TEXT = 1 << 20 };

typedef enum Kind { SCALAR, VEC4, VEC3 } Kind;

typedef struct Text {
	char *text;
	size_t len, cap;
} Text;

/* The generator writes each program twice, in dl and as the same
 * computation for one example in PyTorch, construct by construct. */
typedef struct Gen {
	RtRng rng;
	Text dl, py;
} Gen;

static int
pick(Gen *g, int n)
{
	return (int)rt_rng_below(&g->rng, (size_t)n);
}

static void
put(Text *t, const char *s)
{
	size_t n = strlen(s);

	if (t->len + n < t->cap) {
		memcpy(t->text + t->len, s, n + 1);
		t->len += n;
	}
}

/* The same piece of the program in both languages. */
static void
both(Gen *g, const char *dl, const char *py)
{
	put(&g->dl, dl);
	put(&g->py, py);
}

static void expr(Gen *g, Kind k, int depth);

/* A smooth function of one argument, finite everywhere. */
static void
smooth(Gen *g, Kind k, int depth)
{
	static const char *const wrap[][4] = {
		{ "tanh(", ")", "torch.tanh(", ")" },
		{ "sigmoid(", ")", "torch.sigmoid(", ")" },
		{ "softplus(", ")", "F.softplus(", ")" },
		{ "sin(", ")", "torch.sin(", ")" },
		{ "cos(", ")", "torch.cos(", ")" },
		{ "exp(tanh(", "))", "torch.exp(torch.tanh(", "))" },
		{ "log(1 + (", ")^2)", "torch.log(1 + (", ")**2)" },
		{ "sqrt(1 + (", ")^2)", "torch.sqrt(1 + (", ")**2)" },
		{ "(", ")^2", "(", ")**2" },
		{ "(", ")^3", "(", ")**3" },
		{ "-(", ")", "-(", ")" },
		{ "log1p(exp(", "))", "torch.log1p(torch.exp(", "))" },
	};
	int w = pick(g, sizeof wrap / sizeof wrap[0]);

	both(g, wrap[w][0], wrap[w][2]);
	expr(g, k, depth - 1);
	both(g, wrap[w][1], wrap[w][3]);
}

static void
binary(Gen *g, Kind k, int depth)
{
	static const char *const ops[] = { " + ", " - ", " * " };
	int op = pick(g, 4);
	Kind right = pick(g, 3) == 0 ? SCALAR : k;

	both(g, "(", "(");
	expr(g, k, depth - 1);
	if (op == 3) {
		both(g, " / (1 + (", " / (1 + (");
		expr(g, right, depth - 1);
		both(g, ")^2))", ")**2))");
		return;
	}
	both(g, ops[op], ops[op]);
	expr(g, right, depth - 1);
	both(g, ")", ")");
}

static void
leaf(Gen *g, Kind k)
{
	static const char *const scalars[][2] = { { "a", "a" }, { "c", "c" },
		{ "y", "y" }, { "x[1]", "x[1]" }, { "v[3]", "v[3]" },
		{ "W[2, 1]", "W[2, 1]" }, { "0.5", "half" } };
	static const char *const vec4[] = { "x", "v", "W[0]" };
	int i;

	if (k == SCALAR) {
		i = pick(g, 7);
		both(g, scalars[i][0], scalars[i][1]);
	} else if (k == VEC4) {
		i = pick(g, 3);
		both(g, vec4[i], vec4[i]);
	} else {
		both(g, "b", "b");
	}
}

/* Something of kind k built from something of another kind. */
static void
convert(Gen *g, Kind k, int depth)
{
	static const char *const reducers[][2] = { { "sum(", "torch.sum(" },
		{ "mean(", "torch.mean(" }, { "logsumexp(", "lse(" },
		{ "dot(v, ", "torch.dot(v, " } };

	if (k == VEC3) {
		both(g, "(W @ (", "(W @ (");
		expr(g, VEC4, depth - 1);
		both(g, "))", "))");
	} else if (k == VEC4 && pick(g, 2)) {
		both(g, "softmax(", "torch.softmax(");
		expr(g, VEC4, depth - 1);
		both(g, ")", ", 0)");
	} else if (k == VEC4) {
		both(g, "((", "((");
		expr(g, VEC3, depth - 1);
		both(g, ") @ W)", ") @ W)");
	} else {
		int r = pick(g, 4);
		Kind from = r == 3 || pick(g, 2) ? VEC4 : VEC3;
		both(g, reducers[r][0], reducers[r][1]);
		expr(g, from, depth - 1);
		both(g, ")", ")");
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
program(Gen *g, int number)
{
	char def[128];

	g->dl.len = g->py.len = 0;
	g->dl.text[0] = g->py.text[0] = '\0';
	put(&g->dl, "input x[4]\ntarget y\n"
		"param a = 0.3, c = -0.7\n"
		"param v[4] ~ normal(0, 1)\nparam b[3] ~ normal(0, 1)\n"
		"param W[3, 4] ~ normal(0, 0.5)\n");
	snprintf(def, sizeof def, "def loss%d(a, c, v, b, W, x, y):\n", number);
	put(&g->py, def);
	both(g, "h = ", "    h = ");
	expr(g, VEC3, 3);
	both(g, "\nloss sum(h) * 0.1 + (", "\n    return torch.sum(h) * 0.1 + (");
	expr(g, SCALAR, 4);
	both(g, " - y)^2\n", " - y)**2\n\n");
}

static double
uniform(RtRng *r)
{
	return (double)(rt_rng_next(r) >> 11) / 0x1p53;
}

/* Parameters and data rows at random: p in [-1, 1], x in [-1, 1], t in
 * [0, 1). */
static void
draw_point(RtRng *data, const IrModule *m, double *p, double *x, double *t)
{
	assert_true(m->param_size <= 64);
	for (long i = 0; i < m->param_size; i++)
		p[i] = 2 * uniform(data) - 1;
	for (int i = 0; i < ROWS * 4; i++)
		x[i] = 2 * uniform(data) - 1;
	for (int i = 0; i < ROWS; i++)
		t[i] = uniform(data);
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

/* Every eighth program goes to PyTorch too: its function, and a case with
 * the parameters, data rows and the interpreter's gradient. */
typedef struct TorchBatch {
	Text code, cases;
	int n;
} TorchBatch;

static void
put_numbers(Text *t, const double *x, long n)
{
	char num[40];

	put(t, "[");
	for (long i = 0; i < n; i++) {
		snprintf(num, sizeof num, "%s%.17g", i ? ", " : "", x[i]);
		put(t, num);
	}
	put(t, "]");
}

static void
add_torch_case(TorchBatch *tb, const Gen *g, int k, const IrModule *m,
	double *p, const double *x, const double *t)
{
	double grad[64];
	IrBatch b = { p, x, t, ROWS };
	char head[64];

	ir_interp(m, &b, grad, NULL);
	put(&tb->code, g->py.text);
	snprintf(head, sizeof head, "%s{\"id\": %d, \"params\": ",
		tb->n++ ? ",\n" : "[", k);
	put(&tb->cases, head);
	put_numbers(&tb->cases, p, m->param_size);
	put(&tb->cases, ", \"x\": ");
	put_numbers(&tb->cases, x, ROWS * 4);
	put(&tb->cases, ", \"y\": ");
	put_numbers(&tb->cases, t, ROWS);
	put(&tb->cases, ", \"grad\": ");
	put_numbers(&tb->cases, grad, m->param_size);
	put(&tb->cases, "}");
}

static void
write_file(const char *dir, const char *name, const char *a, const char *b)
{
	char path[1200];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(a, f);
	fputs(b, f);
	fclose(f);
}

static const char torch_prelude[] =
"# generated by tests/test_random.c: random programs, in PyTorch\n"
"import json, sys\nimport torch\nimport torch.nn.functional as F\n"
"D = torch.float64\nhalf = torch.tensor(0.5, dtype=D)\n\n"
"def lse(t):\n    return torch.logsumexp(t, 0)\n\n";

static const char torch_check[] =
"worst = 0.0\n"
"for case in json.load(open(sys.argv[1])):\n"
"    p = torch.tensor(case['params'], dtype=D)\n"
"    parts = [p[0], p[1], p[2:6], p[6:9], p[9:21].reshape(3, 4)]\n"
"    ps = [q.clone().requires_grad_(True) for q in parts]\n"
"    X = torch.tensor(case['x'], dtype=D).reshape(-1, 4)\n"
"    Y = torch.tensor(case['y'], dtype=D)\n"
"    f = globals()['loss%d' % case['id']]\n"
"    L = sum(f(*ps, X[r], Y[r]) for r in range(len(X))) / len(X)\n"
"    L.backward()\n"
"    g = torch.cat([(q.grad if q.grad is not None else\n"
"        torch.zeros_like(q)).reshape(-1) for q in ps])\n"
"    ours = torch.tensor(case['grad'], dtype=D)\n"
"    err = ((g - ours).abs() / torch.clamp(torch.maximum(g.abs(),\n"
"        ours.abs()), min=1e-6)).max().item()\n"
"    worst = max(worst, err)\n"
"    if err >= 1e-5:\n"
"        print('program %d: relative error %.3g' % (case['id'], err))\n"
"print('%d programs, worst relative error %.3g' % (\n"
"    len(json.load(open(sys.argv[1]))), worst))\n"
"sys.exit(0 if worst < 1e-5 else 1)\n";

static void
check_torch(TorchBatch *tb)
{
	const char *dir = scratch_dir("random-torch");
	char cmd[2400], *out;

	put(&tb->cases, "]\n");
	write_file(dir, "programs.py", torch_prelude, tb->code.text);
	write_file(dir, "check.py", torch_check, "");
	write_file(dir, "cases.json", tb->cases.text, "");
	snprintf(cmd, sizeof cmd, "cd '%s' && cat programs.py check.py > "
		"run.py && /usr/bin/python3 run.py cases.json 2>&1", dir);
	if (run_cmd(cmd, &out) != 0)
		fail_msg("random programs against PyTorch:\n%s", out);
	free(out);
}

static void
test_random_programs(void **state)
{
	(void)state;
	Gen g = { .dl = { malloc(MAX_TEXT), 0, MAX_TEXT },
		.py = { malloc(MAX_TEXT), 0, MAX_TEXT } };
	TorchBatch tb = { .code = { malloc(TORCH_TEXT), 0, TORCH_TEXT },
		.cases = { malloc(TORCH_TEXT), 0, TORCH_TEXT } };
	RtRng data;
	char why[4096];

	rt_rng_seed(&g.rng, 2026);
	rt_rng_seed(&data, 12);
	for (int k = 0; k < PROGRAMS; k++) {
		Arena *arena = arena_new();
		Source *src;
		program(&g, k);
		IrModule *m = tb_compile_source(g.dl.text, arena, &src);
		if (!m)
			fail_msg("program %d does not compile:\n%s", k, g.dl.text);
		double p[64], x[ROWS * 4], t[ROWS];
		draw_point(&data, m, p, x, t);
		if (check_gradient(m, p, x, t, why, sizeof why) ||
		    (k % 10 == 0 && check_generated(m, p, x, t, why,
		    sizeof why)))
			fail_msg("program %d: %s\n%s", k, why, g.dl.text);
		if (k % 8 == 0)
			add_torch_case(&tb, &g, k, m, p, x, t);
		ir_module_free(m);
		src_free(src);
		arena_free(arena);
	}
	check_torch(&tb);
	free(g.dl.text);
	free(g.py.text);
	free(tb.code.text);
	free(tb.cases.text);
}

/* Programs that once broke code generation, checked as the random ones
 * are, the generated C included. */
static const char *const fixed_programs[] = {
	/* a loop over one number per example opened by a broadcast: the
	 * emitter's look-ahead for loop scalars never moved past it */
	"input x[4]\ntarget y[1]\nparam W[1, 4] ~ glorot\n"
	"loss sum((W @ x - y) ^ 2)\ntrain sgd(lr = 0.1) epochs 1 batch 4\n",
};

static void
test_fixed_programs(void **state)
{
	(void)state;
	RtRng data;
	char why[4096];

	rt_rng_seed(&data, 7);
	for (size_t k = 0; k < sizeof fixed_programs / sizeof *fixed_programs;
	    k++) {
		Arena *arena = arena_new();
		Source *src;
		IrModule *m = tb_compile_source(fixed_programs[k], arena, &src);
		double p[64], x[ROWS * 4], t[ROWS];

		if (!m)
			fail_msg("fixed program %zu does not compile", k);
		draw_point(&data, m, p, x, t);
		if (check_gradient(m, p, x, t, why, sizeof why) ||
		    check_generated(m, p, x, t, why, sizeof why))
			fail_msg("fixed program %zu: %s\n%s", k, why,
				fixed_programs[k]);
		ir_module_free(m);
		src_free(src);
		arena_free(arena);
	}
}

TestList
random_tests(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_programs),
		cmocka_unit_test(test_fixed_programs),
	};
	return (TestList){ tests, sizeof tests / sizeof tests[0] };
}
