/*
 * test_embed.c - the embedding API of `dlc --emit=c` (issue 7), checked
 * from outside as a user meets it: generated pairs compile with no
 * warning under gcc and clang in both precisions; linked against a tiny
 * driver (embed_driver.c) they agree with the reference interpreter;
 * NAME_step agrees with an independent implementation of each optimiser;
 * hostile names and paths cannot break the C; and examples/embed builds
 * and trains.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cg.h"
#include "ir_build.h"
#include "tests.h"

#define STRICT "-std=c99 -pedantic -Wall -Wextra -Werror"

enum { BATCH = 7, MAX_OUT = 1 << 20 }; /* fashion.dl has 100k params */

/* ---- helpers ---- */

/* A small generator of our own, so the test needs no runtime library. */
static uint64_t
next_u64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static double
uniform(uint64_t *s, double lo, double hi)
{
	return lo + (hi - lo) * (double)(next_u64(s) >> 11) / 0x1p53;
}

static int
sh(const char *cmd, char **out)
{
	return run_cmd(cmd, out);
}

/* Runs cmd; a failure fails the test with the command and its output. */
static void
must(const char *cmd)
{
	char *out;

	if (sh(cmd, &out) != 0)
		fail_msg("command failed: %s\n%s", cmd, out);
	free(out);
}

/* Compiles one file, -c only, with each compiler in strict C99; Clang at
 * -O1, where its vectoriser runs but gives up on more loops than at -O2,
 * so a loop hint it cannot honour would show as a warning. */
static void
compile_strict(const char *file, const char *extra)
{
	static const char *const ccs[] = { "gcc", "clang -O1" };
	char cmd[4096];

	for (size_t i = 0; i < 2; i++) {
		snprintf(cmd, sizeof cmd, "%s " STRICT " %s -c '%s' -o /dev/null "
			"2>&1", ccs[i], extra, file);
		must(cmd);
	}
}

/* The numbers of a command's output, one per line; words are skipped. */
static double *
numbers_of(const char *cmd, size_t *n)
{
	char *out, *save = NULL;
	double *v = malloc(MAX_OUT * sizeof *v);

	if (sh(cmd, &out) != 0)
		fail_msg("command failed: %s\n%s", cmd, out);
	*n = 0;
	for (char *t = strtok_r(out, "\n", &save); t && *n < MAX_OUT;
	    t = strtok_r(NULL, "\n", &save)) {
		char *end;
		double d = strtod(t, &end);
		if (end != t && *end == '\0')
			v[(*n)++] = d;
	}
	free(out);
	return v;
}

static int
close_rel(double a, double b, double tol)
{
	double scale = fmax(fabs(a), fabs(b));

	return fabs(a - b) <= tol * scale || scale < 1e-12;
}

static void
write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int
write_with(const char *path, void (*fn)(const IrModule *, const CgOptions *,
	FILE *), const IrModule *m, const CgOptions *o)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fn(m, o, f);
	return fclose(f);
}

/* Writes a hand-built module's pair into dir. */
static void
emit_pair(const IrModule *m, CgPrecision prec, const char *dir)
{
	CgOptions o = { .precision = prec };
	char h[1200], c[1200];

	snprintf(h, sizeof h, "%s/%s.h", dir, m->name);
	snprintf(c, sizeof c, "%s/%s.c", dir, m->name);
	assert_int_equal(write_with(h, cg_emit_header, m, &o), 0);
	assert_int_equal(write_with(c, cg_emit_source, m, &o), 0);
}

/* Links dir/name.c with the tiny driver into dir/driver. */
static void
build_driver(const char *dir, const char *name)
{
	char cmd[4096];

	snprintf(cmd, sizeof cmd, "cc " STRICT " -O1 -DMODEL=%s -include "
		"'%s/%s.h' -I'%s' '%s/%s.c' '%s/tests/embed_driver.c' -lm "
		"-o '%s/driver' 2>&1", name, dir, name, dir, dir, name,
		DLC_ROOT, dir);
	must(cmd);
}

/* ---- every example program ---- */

/* The model name for an example file: its stem, made an identifier. */
static void
stem_name(const char *file, char *buf, size_t n)
{
	size_t j = 0;

	if (isdigit((unsigned char)file[0]))
		j = (size_t)snprintf(buf, n, "m_");
	for (size_t i = 0; file[i] && file[i] != '.' && j + 1 < n; i++)
		buf[j++] = isalnum((unsigned char)file[i]) ? file[i] : '_';
	buf[j] = '\0';
}

typedef void (*ExampleFn)(const char *path, const char *name,
	const char *dir);

/* Calls fn for each .dl file of examples/ that dlc accepts, with the pair
 * already written in f64 to dir; prints the ones it skips. */
static int
each_example(const char *test, ExampleFn fn)
{
	char ex[1200], path[2400], name[128], cmd[8192], dir[1500];
	DIR *d;
	struct dirent *e;
	int done = 0;

	snprintf(ex, sizeof ex, "%s/examples", DLC_ROOT);
	d = opendir(ex);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		if (len < 4 || strcmp(e->d_name + len - 3, ".dl") != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", ex, e->d_name);
		stem_name(e->d_name, name, sizeof name);
		snprintf(dir, sizeof dir, "%s/%s", scratch_dir(test), name);
		snprintf(cmd, sizeof cmd, "'%s/dlc' --emit=c --precision=f64 "
			"--name=%s '%s' -o '%s/' 2>&1", DLC_BUILD, name, path,
			dir);
		if (sh(cmd, NULL) != 0) {
			printf("  %s: skipping %s: dlc rejects it today\n",
				test, e->d_name);
			continue;
		}
		fn(path, name, dir);
		done++;
	}
	closedir(d);
	return done;
}

static void
compile_example(const char *path, const char *name, const char *dir)
{
	char cmd[8192], file[1400];

	snprintf(file, sizeof file, "%s/%s.c", dir, name);
	compile_strict(file, "");
	snprintf(cmd, sizeof cmd, "'%s/dlc' --emit=c --precision=f32 "
		"--name=%s '%s' -o '%s/' 2>&1", DLC_BUILD, name, path, dir);
	must(cmd);
	compile_strict(file, "");
}

static void
test_examples_compile(void **state)
{
	(void)state;
	assert_true(each_example("embed-examples", compile_example) > 0);
}

typedef struct Loaded {
	Arena *arena;
	Source *src;
	IrModule *m;
} Loaded;

/* The example's module, through the same stages as dlc's. */
static Loaded
load(const char *path, const char *name)
{
	Loaded l = { .arena = arena_new() };
	Program *p;

	l.src = src_load(path);
	assert_non_null(l.src);
	p = parse_program(l.src, l.arena);
	assert_int_equal(check_program(p), 0);
	l.m = ir_lower(p, name);
	assert_non_null(l.m);
	ir_grad(l.m);
	ir_cse(&l.m->fn);
	ir_dce(&l.m->fn);
	return l;
}

static void
unload(Loaded *l)
{
	ir_module_free(l->m);
	src_free(l->src);
	arena_free(l->arena);
}

/* Inputs in [-1, 1]; a class target a whole label below its count. */
static void
random_batch(const IrModule *m, uint64_t *s, double *in, double *tg)
{
	for (long i = 0; i < BATCH * m->input_size; i++)
		in[i] = uniform(s, -1, 1);
	for (int b = 0; b < BATCH; b++)
		for (int t = 0; t < m->ntargets; t++) {
			const IrData *d = &m->targets[t];
			for (long c = 0; c < ir_numel(&d->type); c++)
				tg[b * m->target_size + d->column + c] =
					d->nclasses > 0 ? floor(uniform(s, 0,
					d->nclasses)) : uniform(s, -1, 1);
		}
}

static void
put_all(FILE *f, const double *v, long n)
{
	for (long i = 0; i < n; i++)
		fprintf(f, "%.17g\n", v[i]);
}

/* The initial parameters, nudged so no gradient is special. */
static double *
start_params(const IrModule *m, const char *dir, uint64_t *s)
{
	char cmd[2048];
	size_t n;
	double *p;

	snprintf(cmd, sizeof cmd, "'%s/driver' init 7", dir);
	p = numbers_of(cmd, &n);
	assert_int_equal(n, m->param_size);
	for (size_t i = 0; i < n; i++)
		p[i] += uniform(s, -0.1, 0.1);
	return p;
}

static void
check_against_interp(const char *path, const char *name, const char *dir)
{
	Loaded l = load(path, name);
	const IrModule *m = l.m;
	long nout = m->fn.output < 0 ? 0 :
		ir_numel(&m->fn.v[m->fn.output].type);
	uint64_t seed = 11;
	double *in = calloc((size_t)(BATCH * m->input_size + 1), sizeof *in);
	double *tg = calloc((size_t)(BATCH * m->target_size + 1), sizeof *tg);
	double *grad = calloc((size_t)m->param_size + 1, sizeof *grad);
	double *out = calloc((size_t)(BATCH * nout + 1), sizeof *out);
	char file[1400], cmd[4096];
	size_t n;

	build_driver(dir, name);
	double *p = start_params(m, dir, &seed);
	random_batch(m, &seed, in, tg);
	snprintf(file, sizeof file, "%s/batch.txt", dir);
	FILE *f = fopen(file, "w");
	put_all(f, p, m->param_size);
	put_all(f, in, BATCH * m->input_size);
	put_all(f, tg, BATCH * m->target_size);
	fclose(f);

	IrBatch b = { p, in, tg, BATCH };
	double loss = ir_interp(m, &b, grad, out);
	snprintf(cmd, sizeof cmd, "'%s/driver' grad %d < '%s'", dir, BATCH,
		file);
	double *got = numbers_of(cmd, &n);
	assert_int_equal(n, 2 + m->param_size + 2 * BATCH * nout);
	if (!close_rel(loss, got[0], 1e-5) ||
	    !close_rel(loss, got[1 + m->param_size], 1e-5))
		fail_msg("%s: loss: interpreter %.17g, loss_grad %.17g, "
			"loss %.17g", name, loss, got[0], got[1 + m->param_size]);
	for (long i = 0; i < m->param_size; i++)
		if (!close_rel(grad[i], got[1 + i], 1e-5))
			fail_msg("%s: gradient %ld: interpreter %.17g, "
				"generated %.17g", name, i, grad[i], got[1 + i]);
	const double *pred = got + 2 + m->param_size;
	for (long i = 0; i < BATCH * nout; i++)
		if (!close_rel(out[i], pred[i], 1e-5) ||
		    pred[i] != pred[BATCH * nout + i])
			fail_msg("%s: output %ld: interpreter %.17g, predict "
				"%.17g, predict_one %.17g", name, i, out[i],
				pred[i], pred[BATCH * nout + i]);
	free(got), free(p), free(in), free(tg), free(grad), free(out);
	unload(&l);
}

static void
test_examples_match_interp(void **state)
{
	(void)state;
	assert_true(each_example("embed-interp", check_against_interp) > 0);
}

/* ---- hand-built modules: every op ---- */

/* Every op's module in one translation unit: the statics of each carry
 * its own prefix, so they cannot clash. */
static void
test_every_op_compiles(void **state)
{
	const char *dir = scratch_dir("embed-ops");
	char all[1200], line[200];
	(void)state;

	snprintf(all, sizeof all, "%s/all.c", dir);
	for (int prec = 0; prec < 2; prec++) {
		FILE *f = fopen(all, "w");
		assert_non_null(f);
		fprintf(f, "/* every op's generated code */\n");
		for (size_t k = 0; k < ops_case_count(); k++) {
			snprintf(line, sizeof line, "op_%s", ops_case_name(k));
			IrModule *m = tb_module(line);
			ops_case_build(k, m);
			emit_pair(m, prec ? CG_F64 : CG_F32, dir);
			fprintf(f, "#include \"%s.c\"\n", line);
			ir_module_free(m);
		}
		fclose(f);
		compile_strict(all, "");
	}
}

/* ---- the optimisers ---- */

typedef struct Optim {
	int kind;               /* 0 sgd, 1 adam, 2 adamw */
	double lr, momentum;
	int nesterov;
	double beta1, beta2, eps, wd;
} Optim;

/*
 * The reference: each rule as the PyTorch documentation writes it, in
 * double, with Adam's bias corrections applied to the moments (m_hat,
 * v_hat) rather than folded into the step size.
 */
static void
reference_step(const Optim *o, int t, double *p, const double *g,
	double *m, double *v, long n)
{
	for (long i = 0; i < n; i++) {
		double gi = g[i];
		if (o->kind == 0) {
			gi += o->wd * p[i];
			if (o->momentum != 0) {
				m[i] = t == 1 ? gi : o->momentum * m[i] + gi;
				gi = o->nesterov ? gi + o->momentum * m[i] : m[i];
			}
			p[i] -= o->lr * gi;
			continue;
		}
		if (o->kind == 2)
			p[i] -= o->lr * o->wd * p[i];
		else
			gi += o->wd * p[i];
		m[i] = o->beta1 * m[i] + (1 - o->beta1) * gi;
		v[i] = o->beta2 * v[i] + (1 - o->beta2) * gi * gi;
		double mhat = m[i] / (1 - pow(o->beta1, t));
		double vhat = v[i] / (1 - pow(o->beta2, t));
		p[i] -= o->lr * mhat / (sqrt(vhat) + o->eps);
	}
}

/* A module with a matrix, a vector and a scalar parameter. */
static IrModule *
tensor_module(const char *name)
{
	IrModule *m = tb_module(name);
	IrType t = tb_type(0, 1, 2, 0);
	int w = tb_param(m, 2, 2, 3), v = tb_param(m, 1, 3, 0);
	int c = tb_param(m, 0, 0, 0);
	int wv = tb_op(m, IR_matmul, w, v, -1, &t);

	tb_finish(m, tb_op(m, IR_mul, wv, c, -1, NULL));
	return m;
}

enum { STEPS = 6 };

static void
check_optim(const Optim *o, const IrModule *m, const char *dir, uint64_t *s)
{
	long n = m->param_size;
	double *p = malloc((size_t)n * sizeof *p), *g = malloc((size_t)(n *
		STEPS) * sizeof *g);
	double *mm = calloc((size_t)n, sizeof *mm), *vv = calloc((size_t)n,
		sizeof *vv);
	char file[1400], cmd[4096];
	size_t got_n;

	for (long i = 0; i < n; i++)
		p[i] = uniform(s, -1, 1);
	for (long i = 0; i < n * STEPS; i++)
		g[i] = uniform(s, -1, 1);
	snprintf(file, sizeof file, "%s/steps.txt", dir);
	FILE *f = fopen(file, "w");
	fprintf(f, "%d %.17g %.17g %d %.17g %.17g %.17g %.17g\n", o->kind,
		o->lr, o->momentum, o->nesterov, o->beta1, o->beta2, o->eps,
		o->wd);
	put_all(f, p, n);
	put_all(f, g, n * STEPS);
	fclose(f);
	snprintf(cmd, sizeof cmd, "'%s/driver' step %d < '%s'", dir, STEPS,
		file);
	double *got = numbers_of(cmd, &got_n);
	assert_int_equal(got_n, (size_t)(n * STEPS));
	for (int t = 1; t <= STEPS; t++) {
		reference_step(o, t, p, g + (t - 1) * n, mm, vv, n);
		for (long i = 0; i < n; i++)
			if (!close_rel(p[i], got[(t - 1) * n + i], 1e-12))
				fail_msg("optimiser %d (momentum %g, nesterov "
					"%d, wd %g): step %d, element %ld: "
					"reference %.17g, NAME_step %.17g",
					o->kind, o->momentum, o->nesterov, o->wd,
					t, i, p[i], got[(t - 1) * n + i]);
	}
	free(got), free(p), free(g), free(mm), free(vv);
}

static void
test_step_matches_reference(void **state)
{
	static const Optim optims[] = {
		{ 0, 0.1, 0, 0, 0.9, 0.999, 1e-8, 0 },
		{ 0, 0.05, 0.9, 0, 0.9, 0.999, 1e-8, 0 },
		{ 0, 0.05, 0.8, 1, 0.9, 0.999, 1e-8, 0.01 },
		{ 1, 0.01, 0, 0, 0.9, 0.999, 1e-8, 0 },
		{ 1, 0.02, 0, 0, 0.8, 0.99, 1e-6, 0.1 },
		{ 2, 0.01, 0, 0, 0.9, 0.999, 1e-8, 0.01 },
		{ 2, 0.03, 0, 0, 0.7, 0.95, 1e-3, 0.2 },
	};
	const char *dir = scratch_dir("embed-step");
	IrModule *m = tensor_module("opt");
	uint64_t s = 5;
	(void)state;

	emit_pair(m, CG_F64, dir);
	build_driver(dir, "opt");
	for (size_t k = 0; k < sizeof optims / sizeof *optims; k++)
		check_optim(&optims[k], m, dir, &s);
	ir_module_free(m);
}

/* The defaults are the train clause's, read back through the API. */
static void
test_optim_defaults(void **state)
{
	const char *dir = scratch_dir("embed-defaults");
	char path[1200], cmd[4096];
	size_t n;
	(void)state;

	snprintf(path, sizeof path, "%s/examples/polyfit.dl", DLC_ROOT);
	Loaded l = load(path, "polyfit");
	snprintf(cmd, sizeof cmd, "'%s/dlc' --emit=c --precision=f64 '%s' -o "
		"'%s/' 2>&1", DLC_BUILD, path, dir);
	must(cmd);
	build_driver(dir, "polyfit");
	snprintf(cmd, sizeof cmd, "'%s/driver' defaults", dir);
	double *d = numbers_of(cmd, &n);
	assert_int_equal(n, 8);
	assert_int_equal((int)d[0], (int)l.m->train.opt);
	assert_true(d[1] == l.m->train.lr);
	assert_true(d[2] == l.m->train.momentum);
	assert_true(d[7] == l.m->train.weight_decay);
	free(d);
	unload(&l);
}

/* ---- the parameter table ---- */

static void
test_param_table(void **state)
{
	const char *dir = scratch_dir("embed-table");
	IrModule *m = tensor_module("tab");
	char cmd[2048], *out, *save = NULL, want[256];
	(void)state;

	emit_pair(m, CG_F32, dir);
	build_driver(dir, "tab");
	snprintf(cmd, sizeof cmd, "'%s/driver' table", dir);
	assert_int_equal(sh(cmd, &out), 0);
	char *line = strtok_r(out, "\n", &save);
	for (int i = 0; i < m->nparams; i++, line = strtok_r(NULL, "\n",
	    &save)) {
		const IrParam *p = &m->params[i];
		snprintf(want, sizeof want, "%s %s %ld %ld %d %d %d %d %d",
			p->name, p->name, p->offset, ir_numel(&p->type),
			p->type.rank, p->type.rank > 0 ? p->type.dim[0] : 1,
			p->type.rank > 1 ? p->type.dim[1] : 1, 1, 1);
		assert_non_null(line);
		assert_string_equal(line, want);
	}
	assert_string_equal(line, "sizeof 1");
	free(out);
	ir_module_free(m);
}

/* ---- names and paths ---- */

/* Every kind of name that a keyword, a library macro or one of our own
 * names could capture, and pairs that a careless renaming would merge. */
static const char *const hostile[] = {
	"int", "u_int", "u_u_int", "restrict", "class", "new", "and", "bool",
	"NULL", "EOF", "errno", "stdin", "assert", "offsetof", "INFINITY",
	"NAN", "I", "EDOM", "E2BIG", "INT_MAX", "SIZE_MAX", "FLT_EPSILON",
	"M_PI", "SIGINT", "linux", "unix", "_x", "__y", "_Bool", "HUGE_VAL",
	"evil_NPARAMS", "evil_params", "evil_real", "evil_H", "EVIL_H",
	"evil_step", "evil_SGD", "complex", "static_assert", "math_errhandling",
};

static const char all_headers[] =
"#include <assert.h>\n#include <complex.h>\n#include <ctype.h>\n"
"#include <errno.h>\n#include <fenv.h>\n#include <float.h>\n"
"#include <inttypes.h>\n#include <iso646.h>\n#include <limits.h>\n"
"#include <locale.h>\n#include <math.h>\n#include <setjmp.h>\n"
"#include <signal.h>\n#include <stdarg.h>\n#include <stdbool.h>\n"
"#include <stddef.h>\n#include <stdint.h>\n#include <stdio.h>\n"
"#include <stdlib.h>\n#include <string.h>\n#include <time.h>\n"
"#include <wchar.h>\n#include <wctype.h>\n";

/* A module with one scalar parameter per hostile name. */
static IrModule *
hostile_module(const char *name, const char *const *names, size_t n)
{
	IrModule *m = tb_module(name);
	int sum = -1;

	m->params = realloc(m->params, n * sizeof *m->params);
	for (size_t i = 0; i < n; i++) {
		IrType t = ir_scalar(0);
		int id = tb_op(m, IR_param, -1, -1, -1, &t);
		m->params[i] = (IrParam){ names[i], t, INIT_CONST, 1, 0,
			m->param_size, { 1, 1, 1, 1 } };
		m->fn.v[id].slot = (int)i;
		m->param_size++;
		sum = sum < 0 ? id : tb_op(m, IR_add, sum, id, -1, NULL);
	}
	m->nparams = m->fn.nparams = (int)n;
	tb_finish(m, sum);
	return m;
}

/*
 * The whole generated pair (header, tables, optimisers and the compute
 * functions) of a module whose parameters bear every hostile name, after
 * every standard header, in strict C99 and in GNU C (where linux and unix
 * are macros); and the field names are distinct identifiers.
 */
static void
test_hostile_names(void **state)
{
	const char *dir = scratch_dir("embed-hostile");
	size_t n = sizeof hostile / sizeof *hostile;
	IrModule *m = hostile_module("evil", hostile, n);
	CgOptions o = { .precision = CG_F32 };
	char path[1200], fi[160], fj[160];
	(void)state;

	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			assert_string_not_equal(cg_param_field(m, (int)i, fi,
				sizeof fi), cg_param_field(m, (int)j, fj,
				sizeof fj));
	snprintf(path, sizeof path, "%s/evil.h", dir);
	assert_int_equal(write_with(path, cg_emit_header, m, &o), 0);
	snprintf(path, sizeof path, "%s/parts.c", dir);
	FILE *f = fopen(path, "w");
	fprintf(f, "%s", all_headers);
	cg_emit_source(m, &o, f);
	fclose(f);
	compile_strict(path, "");
	compile_strict(path, "-std=gnu99 -Wno-pedantic");
	ir_module_free(m);
}

/* Hostile directory names around a model whose names c.c renames too;
 * the pair must compile, and no directory name may reach it. */
static const char hostile_model[] =
"# a comment that ends one */ and has ?\?/ in it\n"
"input x\ntarget y\n"
"param int = 1, _x = 0.5, restrict = 0.25, inline = 2, __y = 0\n"
"yhat = int * x + _x + restrict * x * x + inline + __y  # */ \"\\\n"
"output yhat\nloss (yhat - y)^2\n";

static void
test_hostile_paths(void **state)
{
	static const char *const dirs[] = {
		"a*", "a*/*b", "q\"uo\\te", "tri?\?", "new\nline", "tab\there",
	};
	const char *base = scratch_dir("embed-paths");
	char dir[1500], cmd[8192], *out;
	(void)state;

	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
		snprintf(dir, sizeof dir, "%s/%s", base, dirs[i]);
		assert_int_equal(mkdir(dir, 0777), 0);
		snprintf(cmd, sizeof cmd, "%s/m*odel.dl", dir);
		write_text(cmd, hostile_model);
		snprintf(cmd, sizeof cmd, "cd '%s' && "
			"'%s/dlc' --emit=c --name=evil 'm*odel.dl' -o out/ 2>&1 "
			"&& gcc " STRICT " -c out/evil.c -o /dev/null 2>&1 && "
			"clang " STRICT " -c out/evil.c -o /dev/null 2>&1 && "
			"! grep -l '%s' out/evil.c out/evil.h", dir, DLC_BUILD,
			base);
		if (sh(cmd, &out) != 0)
			fail_msg("directory '%s': %s", dirs[i], out);
		free(out);
	}
}

/* -o DIR/NAME.c names the pair; --name may only agree with it. */
static void
test_output_forms(void **state)
{
	const char *dir = scratch_dir("embed-out");
	char cmd[4096], *out;
	(void)state;

	snprintf(cmd, sizeof cmd, "cd '%s' && '%s/dlc' --emit=c '%s/examples/"
		"polyfit.dl' -o sub/fit.c && test -f sub/fit.c && test -f "
		"sub/fit.h && grep -q 'fit_loss_grad' sub/fit.h && "
		"'%s/dlc' --emit=c --name=fit '%s/examples/polyfit.dl' -o "
		"fit.c && grep -q '#include \"fit.h\"' fit.c", dir, DLC_BUILD,
		DLC_ROOT, DLC_BUILD, DLC_ROOT);
	must(cmd);
	snprintf(cmd, sizeof cmd, "cd '%s' && '%s/dlc' --emit=c --name=other "
		"'%s/examples/polyfit.dl' -o fit.c 2>&1", dir, DLC_BUILD,
		DLC_ROOT);
	assert_int_not_equal(sh(cmd, &out), 0);
	assert_non_null(strstr(out, "--name"));
	free(out);
	snprintf(cmd, sizeof cmd, "cd '%s' && '%s/dlc' --emit=c '%s/examples/"
		"polyfit.dl' -o 2x.c 2>&1", dir, DLC_BUILD, DLC_ROOT);
	assert_int_not_equal(sh(cmd, &out), 0);
	assert_non_null(strstr(out, "C identifier"));
	free(out);
}

/* The input-gradient entry is declared only when requested. */
static void
test_input_grad_slot(void **state)
{
	const char *dir = scratch_dir("embed-wrt");
	IrModule *m = tensor_module("wrt");
	CgOptions plain = { .precision = CG_F64 };
	CgOptions wrt = { .precision = CG_F64, .input_grad = 1 };
	char path[1200], cmd[4096];
	(void)state;

	snprintf(path, sizeof path, "%s/wrt.h", dir);
	assert_int_equal(write_with(path, cg_emit_header, m, &plain), 0);
	snprintf(cmd, sizeof cmd, "! grep -q loss_grad_inputs '%s'", path);
	must(cmd);
	assert_int_equal(write_with(path, cg_emit_header, m, &wrt), 0);
	snprintf(cmd, sizeof cmd, "grep -q 'wrt_loss_grad_inputs(' '%s' && "
		"grep -q 'define wrt_HAS_LOSS_GRAD_INPUTS 1' '%s'", path, path);
	must(cmd);
	compile_strict(path, "-x c");
	ir_module_free(m);
}

/* ---- examples/embed ---- */

/* Builds the example with its own Makefile, runs it, and reads the loss
 * it reports before and after training. */
static void
test_embed_example(void **state)
{
	const char *dir = scratch_dir("embed-example");
	char cmd[4096], *out;
	double first = 0, last = 0;
	(void)state;

	snprintf(cmd, sizeof cmd, "make -s -C '%s/examples/embed' DLC='%s/dlc' CFLAGS='-std=c99 "
		"-O2 -Wall -Wextra -pedantic -Werror' "
		"OUT='%s' 2>&1 && '%s/fit' '%s/examples/data/polyfit.csv' 2>&1",
		DLC_ROOT, DLC_BUILD, dir, dir, DLC_ROOT);
	if (sh(cmd, &out) != 0)
		fail_msg("examples/embed: %s", out);
	char *a = strstr(out, "loss before ");
	char *b = strstr(out, "loss after ");
	if (!a || !b || sscanf(a, "loss before %lf", &first) != 1 ||
	    sscanf(b, "loss after %lf", &last) != 1)
		fail_msg("examples/embed printed no losses:\n%s", out);
	if (!(last < first / 10))
		fail_msg("examples/embed: loss %g before, %g after", first,
			last);
	if (!strstr(out, "predict"))
		fail_msg("examples/embed made no prediction:\n%s", out);
	free(out);
}

TestList
embed_tests(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples_compile),
		cmocka_unit_test(test_examples_match_interp),
		cmocka_unit_test(test_every_op_compiles),
		cmocka_unit_test(test_step_matches_reference),
		cmocka_unit_test(test_optim_defaults),
		cmocka_unit_test(test_param_table),
		cmocka_unit_test(test_hostile_names),
		cmocka_unit_test(test_hostile_paths),
		cmocka_unit_test(test_output_forms),
		cmocka_unit_test(test_input_grad_slot),
		cmocka_unit_test(test_embed_example),
	};
	return (TestList){ tests, sizeof tests / sizeof tests[0] };
}
