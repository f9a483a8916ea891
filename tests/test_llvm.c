/*
 * test_llvm.c - the LLVM backend.  In process, through the JIT in f64:
 * every op's module and every example against the reference interpreter
 * (loss, parameter and input gradients, outputs).  Through files: each
 * example's object file (--emit=obj) linked under the header --emit=c
 * writes, run by the embedding driver beside the C backend's code (the
 * same symbols; the same table, defaults, initial values and optimiser
 * steps; the same loss and gradients within f32 rounding); trainers from
 * both backends and `dlc run` giving the same loss curve; and the flags.
 * In a build without LLVM only the last part runs: it checks that dlc
 * says it has no LLVM.
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

#include "cg.h"
#include "ir_build.h"
#include "tests.h"

enum { BATCH = 7, ROWS = 48 };

static char *
must_out(const char *cmd)
{
	char *out = NULL;
	int status = run_cmd(cmd, &out);

	if (status != 0)
		fail_msg("command failed: %s\n%s", cmd, out);
	return out;
}

#ifdef DLC_HAVE_LLVM

/* ---- helpers ---- */

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

/* |a - b| within tol of the larger magnitude, or of `floor` when both
 * are smaller than that. */
static int
near(double a, double b, double tol, double floor)
{
	return fabs(a - b) <= tol * fmax(floor, fmax(fabs(a), fabs(b)));
}

static void
must(const char *cmd)
{
	free(must_out(cmd));
}

/* The numbers of text, one per line; other lines are skipped. */
static double *
numbers(char *text, size_t *n)
{
	double *v = malloc((strlen(text) / 2 + 1) * sizeof *v);
	char *save = NULL;

	*n = 0;
	for (char *t = strtok_r(text, "\n", &save); t;
	    t = strtok_r(NULL, "\n", &save)) {
		char *end;
		double d = strtod(t, &end);
		if (end != t && *end == '\0')
			v[(*n)++] = d;
	}
	return v;
}

typedef void (*ExampleFn)(const char *path, const char *name);

/* fn for every .dl file of examples/, with its stem as the model name. */
static int
each_example(ExampleFn fn)
{
	char dir[1200], path[2400], name[128];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(dir, sizeof dir, "%s/examples", DLC_ROOT);
	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name), j = 0;
		if (len < 4 || strcmp(e->d_name + len - 3, ".dl") != 0)
			continue;
		for (; j < len - 3 && j + 1 < sizeof name; j++)
			name[j] = isalnum((unsigned char)e->d_name[j]) ?
				e->d_name[j] : '_';
		name[j] = '\0';
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		fn(path, name);
		n++;
	}
	closedir(d);
	return n;
}

/* ---- in process: the JIT against the interpreter, f64 ---- */

typedef struct Jitted {
	CgJit *jit;
	size_t (*workspace_size)(size_t);
	void (*init)(double *, uint64_t);
	double (*loss)(const double *, const double *, const double *,
		size_t, void *);
	double (*loss_grad)(const double *, double *, const double *,
		const double *, size_t, void *);
	double (*loss_grad_inputs)(const double *, double *, double *,
		const double *, const double *, size_t, void *);
	void (*predict)(const double *, const double *, size_t, double *,
		void *);
} Jitted;

static void
bind(Jitted *j, const IrModule *m, const char *what, void *fnptr)
{
	char name[128];
	void *addr;

	snprintf(name, sizeof name, "%s_%s", m->name, what);
	addr = cg_jit_symbol(j->jit, name);
	if (!addr)
		fail_msg("the JIT has no %s", name);
	memcpy(fnptr, &addr, sizeof addr);
}

static Jitted
jit(const IrModule *m)
{
	CgOptions o = { .precision = CG_F64,
		.input_grad = m->fn.input_grad != NULL };
	CgLlvmOptions lo = { .level = 2 };
	Jitted j = { .jit = cg_llvm_jit(m, &o, &lo) };

	assert_non_null(j.jit);
	bind(&j, m, "workspace_size", &j.workspace_size);
	bind(&j, m, "init", &j.init);
	bind(&j, m, "loss", &j.loss);
	bind(&j, m, "loss_grad", &j.loss_grad);
	bind(&j, m, "predict", &j.predict);
	if (m->fn.input_grad)
		bind(&j, m, "loss_grad_inputs", &j.loss_grad_inputs);
	return j;
}

/* A batch for m: inputs in [-1, 1]; class targets whole labels. */
typedef struct Batch {
	double *p, *in, *tg;
} Batch;

static Batch
random_batch(const IrModule *m, uint64_t *s)
{
	Batch b = { calloc((size_t)m->param_size + 1, sizeof(double)),
		calloc((size_t)(BATCH * m->input_size) + 1, sizeof(double)),
		calloc((size_t)(BATCH * m->target_size) + 1, sizeof(double)) };

	for (long i = 0; i < BATCH * m->input_size; i++)
		b.in[i] = uniform(s, -1, 1);
	for (int r = 0; r < BATCH; r++)
		for (int t = 0; t < m->ntargets; t++) {
			const IrData *d = &m->targets[t];
			for (long c = 0; c < ir_numel(&d->type); c++)
				b.tg[r * m->target_size + d->column + c] =
					d->nclasses ? floor(uniform(s, 0,
					d->nclasses)) : uniform(s, -1, 1);
		}
	return b;
}

static void
batch_free(Batch *b)
{
	free(b->p), free(b->in), free(b->tg);
}

/* Loss, gradients and (when there are some) outputs and input gradients
 * from the JIT, against the interpreter's. */
static void
against_interp(const char *what, const IrModule *m, Jitted *j, Batch *b)
{
	long np = m->param_size, nin = BATCH * m->input_size;
	long nout = m->fn.output < 0 ? 0 :
		BATCH * ir_numel(&m->fn.v[m->fn.output].type);
	double *want = calloc((size_t)np + 1, sizeof *want);
	double *got = calloc((size_t)np + 1, sizeof *got);
	double *out_w = calloc((size_t)nout + 1, sizeof *out_w);
	double *out_g = calloc((size_t)nout + 1, sizeof *out_g);
	void *ws = malloc(j->workspace_size(BATCH) + 8);
	IrBatch ib = { b->p, b->in, b->tg, BATCH };
	double loss = ir_interp(m, &ib, want, out_w);
	double lg = j->loss_grad(b->p, got, b->in, b->tg, BATCH, ws);
	double lf = j->loss(b->p, b->in, b->tg, BATCH, ws);

	if (!near(loss, lg, 1e-12, 1) || !near(loss, lf, 1e-12, 1))
		fail_msg("%s: loss: interpreter %.17g, LLVM %.17g and %.17g",
			what, loss, lg, lf);
	for (long i = 0; i < np; i++)
		if (!near(want[i], got[i], 1e-10, 1))
			fail_msg("%s: gradient %ld: interpreter %.17g, LLVM "
				"%.17g", what, i, want[i], got[i]);
	j->predict(b->p, b->in, BATCH, out_g, ws);
	for (long i = 0; i < nout; i++)
		if (!near(out_w[i], out_g[i], 1e-12, 1))
			fail_msg("%s: output %ld: interpreter %.17g, LLVM %.17g",
				what, i, out_w[i], out_g[i]);
	if (m->fn.input_grad) {
		double *dw = calloc((size_t)nin + 1, sizeof *dw);
		double *dg = calloc((size_t)nin + 1, sizeof *dg);
		ir_interp_input_grad(m, &ib, dw);
		j->loss_grad_inputs(b->p, got, dg, b->in, b->tg, BATCH, ws);
		for (long i = 0; i < nin; i++)
			if (!near(dw[i], dg[i], 1e-10, 1))
				fail_msg("%s: input gradient %ld: interpreter "
					"%.17g, LLVM %.17g", what, i, dw[i],
					dg[i]);
		free(dw), free(dg);
	}
	free(want), free(got), free(out_w), free(out_g), free(ws);
}

/* Every op's module of test_ops.c, parameters in [0.5, 2] where every
 * op is smooth and defined. */
static void
test_llvm_every_op(void **state)
{
	uint64_t s = 3;
	(void)state;

	for (size_t k = 0; k < ops_case_count(); k++) {
		char name[64];
		snprintf(name, sizeof name, "op_%s", ops_case_name(k));
		IrModule *m = tb_module(name);
		ops_case_build(k, m);
		Jitted j = jit(m);
		Batch b = random_batch(m, &s);
		for (long i = 0; i < m->param_size; i++)
			b.p[i] = uniform(&s, 0.5, 2);
		against_interp(name, m, &j, &b);
		batch_free(&b);
		cg_jit_free(j.jit);
		ir_module_free(m);
	}
}

/* An example as dlc compiles it at -O2, with input gradients too. */
typedef struct Loaded {
	Arena *arena;
	Source *src;
	IrModule *m;
} Loaded;

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
	l.m->wrt_inputs = 1;
	if (ir_run_stages(l.m, 0, ir_stage_index("opt"), 1))
		abort();    /* the verifier printed what broke */
	return l;
}

/* Parameters from the JIT's NAME_init, nudged so none is special. */
static void
example_vs_interp(const char *path, const char *name)
{
	Loaded l = load(path, name);
	Jitted j = jit(l.m);
	uint64_t s = 11;
	Batch b = random_batch(l.m, &s);

	j.init(b.p, 7);
	for (long i = 0; i < l.m->param_size; i++)
		b.p[i] += uniform(&s, -0.1, 0.1);
	against_interp(name, l.m, &j, &b);
	batch_free(&b);
	cg_jit_free(j.jit);
	ir_module_free(l.m);
	src_free(l.src);
	arena_free(l.arena);
}

static void
test_llvm_examples_interp(void **state)
{
	(void)state;
	assert_true(each_example(example_vs_interp) >= 6);
}

/* ---- products: NAME_gemm against the sums it must equal ---- */

/* The forms of product that NAME_gemm is called for differently: W @ x
 * over the batch, x @ W, A_b @ W and A_b @ B_b. */
enum { WX, XW, AW, AB, NFORMS };

typedef struct Prod {
	int form;
	long m, k, n, batch;
	int f32;
} Prod;

/* One operand: a parameter (the same for every example) or an input, at
 * `offset` into p or into each example's row of inputs. */
typedef struct Side {
	int batched;
	long offset;
} Side;

/* The model whose output is the product of form p->form, m x k by k x n
 * (m is 1 for x @ W, n for W @ x); *a and *b say where the operands
 * are. */
static IrModule *
product_model(const Prod *p, Side *a, Side *b)
{
	IrModule *m = tb_module("prod");
	int x, y;

	*a = (Side){ p->form != WX, 0 };
	*b = (Side){ p->form == WX || p->form == AB,
		p->form == AB ? p->m * p->k : 0 };
	if (p->form == WX) {
		x = tb_param(m, 2, (int)p->m, (int)p->k);
		y = tb_input(m, 1, (int)p->k, 0);
	} else {
		x = tb_input(m, p->form == XW ? 1 : 2, p->form == XW ?
			(int)p->k : (int)p->m, (int)p->k);
		y = p->form == AB ? tb_input(m, 2, (int)p->k, (int)p->n) :
			tb_param(m, 2, (int)p->k, (int)p->n);
	}
	IrType t = p->form == WX ? tb_type(1, 1, (int)p->m, 0) :
		p->form == XW ? tb_type(1, 1, (int)p->n, 0) :
		tb_type(1, 2, (int)p->m, (int)p->n);
	tb_finish(m, tb_op(m, IR_matmul, x, y, -1, &t));
	return m;
}

/* Operand element e of example r: from p, or from the inputs. */
static double
side_elem(const IrModule *m, const Side *s, const double *p,
	const double *in, long r, long e)
{
	return s->batched ? in[r * m->input_size + s->offset + e] :
		p[s->offset + e];
}

/* Output element (i, j) of example r as the definition has it: the sum
 * over t in increasing order, in the precision of the code. */
static double
plain_product(const Prod *p, const IrModule *m, const Side *a,
	const Side *b, const double *par, const double *in, long r, long i,
	long j)
{
	double sum = 0;
	float sumf = 0;

	for (long t = 0; t < p->k; t++) {
		double x = side_elem(m, a, par, in, r, i * p->k + t);
		double y = side_elem(m, b, par, in, r, t * p->n + j);
		if (p->f32)
			sumf += (float)x * (float)y;
		else
			sum += x * y;
	}
	return p->f32 ? sumf : sum;
}

/* The JIT's NAME_predict over parameters and inputs held as doubles
 * (whole floats when p->f32), its outputs back as doubles. */
static void
jit_predict(const Prod *p, const IrModule *m, const double *par,
	const double *in, double *out)
{
	CgOptions o = { .precision = p->f32 ? CG_F32 : CG_F64 };
	CgLlvmOptions lo = { .level = 2 };
	CgJit *j = cg_llvm_jit(m, &o, &lo);
	size_t sz = p->f32 ? sizeof(float) : sizeof(double);
	long np = m->param_size, ni = p->batch * m->input_size;
	long no = p->batch * ir_numel(&m->fn.v[m->fn.output].type);
	char *pp = malloc((size_t)np * sz), *ii = malloc((size_t)ni * sz + 1);
	char *oo = malloc((size_t)no * sz);
	size_t (*ws_size)(size_t);
	void (*predict)(const void *, const void *, size_t, void *, void *);
	void *fp;

	assert_non_null(j);
	fp = cg_jit_symbol(j, "prod_workspace_size");
	memcpy(&ws_size, &fp, sizeof fp);
	fp = cg_jit_symbol(j, "prod_predict");
	memcpy(&predict, &fp, sizeof fp);
	assert_non_null(ws_size);
	assert_non_null(predict);
	for (long e = 0; e < np + ni; e++) {
		double v = e < np ? par[e] : in[e - np];
		float f = (float)v;
		memcpy((e < np ? pp + e * sz : ii + (e - np) * sz),
			p->f32 ? (void *)&f : (void *)&v, sz);
	}
	void *ws = malloc(ws_size((size_t)p->batch) + 8);
	predict(pp, ii, (size_t)p->batch, oo, ws);
	for (long e = 0; e < no; e++) {
		float f;
		if (p->f32)
			memcpy(&f, oo + e * sz, sz), out[e] = f;
		else
			memcpy(&out[e], oo + e * sz, sz);
	}
	free(pp), free(ii), free(oo), free(ws);
	cg_jit_free(j);
}

/* Every output of one product bit for bit the plain sum. */
static void
check_product(const Prod *p, uint64_t *seed)
{
	Side a, b;
	IrModule *m = product_model(p, &a, &b);
	long ni = p->batch * m->input_size, rows = p->m, cols = p->n;
	double *par = malloc(((size_t)m->param_size + 1) * sizeof *par);
	double *in = malloc(((size_t)ni + 1) * sizeof *in);
	double *out = malloc((size_t)(p->batch * rows * cols) * sizeof *out);

	for (long e = 0; e < m->param_size + ni; e++)
		*(e < m->param_size ? &par[e] : &in[e - m->param_size]) =
			(float)uniform(seed, -1, 1);
	jit_predict(p, m, par, in, out);
	for (long r = 0; r < p->batch; r++)
		for (long i = 0; i < rows; i++)
			for (long j = 0; j < cols; j++) {
				double want = plain_product(p, m, &a, &b, par, in,
					r, i, j), got = out[(r * rows + i) * cols + j];
				if (memcmp(&want, &got, sizeof want) != 0)
					fail_msg("form %d, %ld x %ld x %ld, batch "
						"%ld, f%d: example %ld (%ld, %ld) is "
						"%.17g, not %.17g", p->form, p->m,
						p->k, p->n, p->batch, p->f32 ? 32 : 64,
						r, i, j, got, want);
			}
	free(par), free(in), free(out);
	ir_module_free(m);
}

/* Shapes on both sides of the tile edges (8 rows; 8 or 16 columns) and of
 * the blocks of 256 terms, each form in both precisions: NAME_gemm's
 * result is each element's in-order sum, wherever it falls in a tile. */
static void
test_llvm_products_sum_in_order(void **state)
{
	static const long dims[] = { 1, 7, 8, 9, 16, 17, 33 };
	static const long terms[] = { 1, 255, 256, 257 };
	uint64_t seed = 5;
	(void)state;

	for (int x = 0; x < 7 * 4; x++) {
		Prod p = { .form = (x + x / 4) % NFORMS, .f32 = x / 2 % 2,
			.k = terms[x % 4] };
		long d = x / 4;
		p.m = p.form == XW ? 1 : dims[d];
		p.n = p.form == WX ? 1 : dims[(d + 3) % 7];
		p.batch = dims[(d + 5) % 7];
		/* one output per example hangs c.c's planner (mark_loop
		 * on a batched scalar bcastto), which the JIT asks for the
		 * workspace size */
		if (p.m * p.n == 1)
			*(p.form == WX ? &p.m : &p.n) = 2;
		check_product(&p, &seed);
	}
}

/* ---- files: the object file beside the C backend's code ---- */

/* dir/c holds NAME.h and NAME.c, dir/llvm NAME.o; a driver over each. */
static void
build_drivers(const char *path, const char *name, const char *dir)
{
	char cmd[8192];

	snprintf(cmd, sizeof cmd, "cd '%s' && mkdir -p c llvm && "
		"'%s/dlc' --emit=c --name=%s '%s' -o c/ && "
		"'%s/dlc' --emit=obj --backend=llvm --name=%s '%s' -o llvm/%s.o"
		" 2>&1", dir, DLC_BUILD, name, path, DLC_BUILD, name, path,
		name);
	must(cmd);
	snprintf(cmd, sizeof cmd, "cd '%s' && for k in c llvm; do "
		"src=c/%s.c; [ $k = llvm ] && src=llvm/%s.o; "
		"cc -std=c99 -O1 -DMODEL=%s -include c/%s.h -Ic $src "
		"'%s/tests/embed_driver.c' -lm -o $k/driver || exit 1; done 2>&1",
		dir, name, name, name, name, DLC_ROOT);
	must(cmd);
}

/* The object defines exactly the symbols the C backend's code does. */
static void
same_symbols(const char *name, const char *dir)
{
	char cmd[4096], *c, *l;

	snprintf(cmd, sizeof cmd, "cd '%s' && cc -std=c99 -O1 -c c/%s.c -o "
		"c/%s.o && nm -g --defined-only c/%s.o | awk '{print $3}' | "
		"sort", dir, name, name, name);
	c = must_out(cmd);
	snprintf(cmd, sizeof cmd, "cd '%s' && nm -g --defined-only llvm/%s.o"
		" | awk '{print $3}' | sort", dir, name);
	l = must_out(cmd);
	if (!strstr(c, "_loss_grad\n") || strcmp(c, l) != 0)
		fail_msg("%s: symbols differ\nC:\n%s\nLLVM:\n%s", name, c, l);
	free(c), free(l);
}

/* Both drivers' output for one command and input, as numbers. */
static void
both(const char *dir, const char *args, const char *input, char **c,
	char **l)
{
	char cmd[4096];

	snprintf(cmd, sizeof cmd, "'%s/c/driver' %s < '%s'", dir, args, input);
	*c = must_out(cmd);
	snprintf(cmd, sizeof cmd, "'%s/llvm/driver' %s < '%s'", dir, args,
		input);
	*l = must_out(cmd);
}

/* Exactly the same text: tables, defaults, initial values. */
static void
same_text(const char *name, const char *dir, const char *args)
{
	char *c, *l;

	both(dir, args, "/dev/null", &c, &l);
	if (strcmp(c, l) != 0)
		fail_msg("%s: driver %s differs\nC:\n%s\nLLVM:\n%s", name,
			args, c, l);
	free(c), free(l);
}

/* The same numbers within f32 rounding: relative to each number, or for
 * one that cancels down to little, to the largest of the output (the two
 * backends may group a sum's terms differently). */
static void
same_numbers(const char *name, const char *dir, const char *args,
	const char *input, double tol)
{
	char *c, *l;
	size_t nc, nl;

	both(dir, args, input, &c, &l);
	double *vc = numbers(c, &nc), *vl = numbers(l, &nl);
	assert_int_equal(nc, nl);
	assert_true(nc > 0);
	double scale = 1e-3;
	for (size_t i = 0; i < nc; i++)
		scale = fmax(scale, 0.05 * fabs(vc[i]));
	for (size_t i = 0; i < nc; i++)
		if (!near(vc[i], vl[i], tol, scale))
			fail_msg("%s: driver %s, number %zu: C %.9g, LLVM %.9g",
				name, args, i, vc[i], vl[i]);
	free(c), free(l), free(vc), free(vl);
}

static void
put(FILE *f, const double *v, long n)
{
	for (long i = 0; i < n; i++)
		fprintf(f, "%.9g\n", v[i]);
}

/* Input for `grad`: params, inputs, targets; for `step`: an optimiser,
 * params and three gradients. */
static void
write_inputs(const IrModule *m, const char *dir, int kind)
{
	char path[1200];
	uint64_t s = 5 + (uint64_t)kind;
	Batch b = random_batch(m, &s);
	long np = m->param_size;
	FILE *f;

	for (long i = 0; i < np; i++)
		b.p[i] = uniform(&s, -0.5, 0.5);
	snprintf(path, sizeof path, "%s/grad.txt", dir);
	f = fopen(path, "w");
	put(f, b.p, np), put(f, b.in, BATCH * m->input_size);
	put(f, b.tg, BATCH * m->target_size);
	fclose(f);
	snprintf(path, sizeof path, "%s/step%d.txt", dir, kind);
	f = fopen(path, "w");
	fprintf(f, "%d 0.01 0.9 %d 0.9 0.999 1e-8 0.01\n", kind, kind == 0);
	put(f, b.p, np);
	for (int t = 0; t < 3; t++)
		for (long i = 0; i < np; i++)
			fprintf(f, "%.9g\n", uniform(&s, -1, 1));
	fclose(f);
	batch_free(&b);
}

static void
object_vs_c(const char *path, const char *name)
{
	char dir[1200], args[64], input[1300];
	Loaded l = load(path, name);

	snprintf(dir, sizeof dir, "%s", scratch_dir("llvm-obj"));
	build_drivers(path, name, dir);
	same_symbols(name, dir);
	same_text(name, dir, "table");
	same_text(name, dir, "defaults");
	same_text(name, dir, "init 7");
	write_inputs(l.m, dir, 0);
	snprintf(input, sizeof input, "%s/grad.txt", dir);
	snprintf(args, sizeof args, "grad %d", BATCH);
	/* f32 rounding grows with the length of the sums: the backends group
	 * a dot product's terms differently, and Fashion-MNIST's are 784 long
	 * and summed over the batch again */
	same_numbers(name, dir, args, input, l.m->param_size > 10000 ? 1e-4 :
		1e-5);
	for (int kind = 0; kind < 3; kind++) {
		write_inputs(l.m, dir, kind);
		snprintf(input, sizeof input, "%s/step%d.txt", dir, kind);
		same_numbers(name, dir, "step 3", input, 1e-6);
	}
	ir_module_free(l.m);
	src_free(l.src);
	arena_free(l.arena);
}

static void
test_llvm_object_matches_c(void **state)
{
	(void)state;
	assert_true(each_example(object_vs_c) >= 6);
}

/* ---- trainers: C, LLVM and dlc run give one loss curve ---- */

/* ROWS rows of made-up data fitting the model's columns. */
static void
write_data(const IrModule *m, const char *file)
{
	FILE *f = fopen(file, "w");
	uint64_t s = 17;

	assert_non_null(f);
	for (int r = 0; r < ROWS; r++) {
		for (long c = 0; c < m->input_size; c++)
			fprintf(f, "%s%.6f", c ? "," : "", uniform(&s, -1, 1));
		for (int t = 0; t < m->ntargets; t++) {
			const IrData *d = &m->targets[t];
			for (long c = 0; c < ir_numel(&d->type); c++)
				fprintf(f, ",%.6f", d->nclasses ? floor(uniform(&s,
					0, d->nclasses)) : uniform(&s, -1, 1));
		}
		fputc('\n', f);
	}
	fclose(f);
}

/* The train_loss column of a --log file. */
static double *
losses(const char *file, size_t *n)
{
	FILE *f = fopen(file, "r");
	double *v = malloc(64 * sizeof *v);
	char line[256];

	assert_non_null(f);
	*n = 0;
	assert_non_null(fgets(line, sizeof line, f));
	while (fgets(line, sizeof line, f) && *n < 64) {
		long epoch;
		assert_int_equal(sscanf(line, "%ld,%lf", &epoch, &v[*n]), 2);
		(*n)++;
	}
	fclose(f);
	return v;
}

static void
curves(const char *path, const char *name)
{
	static const char *const ways[] = { "c", "llvm", "run" };
	char dir[1200], cmd[8192], log[1400];
	const char *flags = "--data data.csv --epochs 6 --batch 8 --quiet";
	Loaded l = load(path, name);
	double *ref = NULL;
	size_t nref = 0;
	char *printed[3];

	snprintf(dir, sizeof dir, "%s", scratch_dir("llvm-curves"));
	snprintf(log, sizeof log, "%s/data.csv", dir);
	write_data(l.m, log);
	for (int w = 0; w < 3; w++) {
		if (w < 2)
			snprintf(cmd, sizeof cmd, "cd '%s' && '%s/dlc' "
				"--backend=%s '%s' -o t_%s && ./t_%s %s --log "
				"%s.csv 2>&1", dir, DLC_BUILD, ways[w], path,
				ways[w], ways[w], flags, ways[w]);
		else
			snprintf(cmd, sizeof cmd, "cd '%s' && '%s/dlc' run '%s'"
				" %s --log run.csv 2>&1", dir, DLC_BUILD, path,
				flags);
		printed[w] = must_out(cmd);
		snprintf(log, sizeof log, "%s/%s.csv", dir, ways[w]);
		size_t n;
		double *v = losses(log, &n);
		assert_int_equal(n, 6);
		for (size_t i = 0; ref && i < n; i++)
			if (!near(ref[i], v[i], 1e-4, 1e-6))
				fail_msg("%s: epoch %zu: C backend's loss %.9g, "
					"%s's %.9g", name, i + 1, ref[i], ways[w],
					v[i]);
		if (ref)
			free(v);
		else
			ref = v, nref = n;
	}
	assert_int_equal(nref, 6);
	/* dlc run is the LLVM trainer in process: the same text, exactly */
	if (strcmp(printed[1], printed[2]) != 0)
		fail_msg("%s: a built trainer printed\n%s\ndlc run printed\n%s",
			name, printed[1], printed[2]);
	for (int w = 0; w < 3; w++)
		free(printed[w]);
	free(ref);
	ir_module_free(l.m);
	src_free(l.src);
	arena_free(l.arena);
}

static void
test_llvm_curves(void **state)
{
	(void)state;
	assert_true(each_example(curves) >= 6);
}

/* ---- the flags ---- */

static int
file_has(const char *path, const char *text)
{
	char cmd[2048];

	snprintf(cmd, sizeof cmd, "grep -q -F -e '%s' '%s'", text, path);
	return run_cmd(cmd, NULL) == 0;
}

/* -O0 leaves the accumulators in allocas; -O2's pipeline removes them
 * and vectorises; --fast-math marks the arithmetic. */
static void
test_llvm_emit_forms(void **state)
{
	const char *dir = scratch_dir("llvm-forms");
	char cmd[4096], path[1200];
	(void)state;

	snprintf(cmd, sizeof cmd, "cd '%s' && D='%s/dlc' && M='%s/examples/"
		"iris.dl' && $D $M --emit=llvm -O0 -o o0.ll && $D $M --emit=llvm"
		" -o o2.ll && $D $M --emit=llvm --fast-math -o fast.ll && $D $M "
		"--emit=bc && $D $M --emit=obj --target=aarch64-linux-gnu "
		"--cpu=generic -o arm.o 2>&1", dir, DLC_BUILD, DLC_ROOT);
	must(cmd);
	snprintf(path, sizeof path, "%s/o0.ll", dir);
	assert_true(file_has(path, "define float @iris_loss_grad(ptr noalias"));
	assert_true(file_has(path, "alloca float"));
	assert_false(file_has(path, " fast "));
	snprintf(path, sizeof path, "%s/o2.ll", dir);
	assert_false(file_has(path, "alloca float"));
	assert_true(file_has(path, "@iris_step("));
	snprintf(path, sizeof path, "%s/fast.ll", dir);
	assert_true(file_has(path, "fmul fast float"));
	snprintf(cmd, sizeof cmd, "cd '%s' && head -c 4 iris.bc | od -An -tx1 "
		"&& od -An -tu2 -j18 -N2 arm.o", dir);
	char *out = must_out(cmd);
	assert_non_null(strstr(out, "42 43 c0 de"));     /* "BC" 0xC0DE */
	assert_non_null(strstr(out, "183"));             /* EM_AARCH64 */
	free(out);
}

static void
test_llvm_flag_errors(void **state)
{
	static const char *const bad[][2] = {
		{ "--emit=llvm --backend=c", "needs the LLVM backend" },
		{ "--backend=fortran", "unknown backend 'fortran'" },
		{ "--emit=obj --target=no-such-thing", "unknown target" },
		{ "--emit=obj --cpu=nosuchcpu", "LLVM cannot generate this code" },
	};
	char cmd[4096], *out;
	(void)state;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(cmd, sizeof cmd, "'%s/dlc' %s '%s/examples/iris.dl' "
			"-o /dev/null 2>&1", DLC_BUILD, bad[i][0], DLC_ROOT);
		assert_int_not_equal(run_cmd(cmd, &out), 0);
		if (!strstr(out, bad[i][1]))
			fail_msg("%s: expected '%s', saw:\n%s", bad[i][0],
				bad[i][1], out);
		free(out);
	}
	snprintf(cmd, sizeof cmd, "'%s/dlc' run --target=aarch64-linux-gnu "
		"'%s/examples/iris.dl' 2>&1", DLC_BUILD, DLC_ROOT);
	assert_int_equal(run_cmd(cmd, &out), 2);
	assert_non_null(strstr(out, "dlc run compiles for this machine"));
	free(out);
}

#endif

/* --version names the backends; without LLVM, asking for it is a clear
 * error rather than a missing symbol. */
static void
test_llvm_version(void **state)
{
	char cmd[4096], *out;
	(void)state;

	snprintf(cmd, sizeof cmd, "'%s/dlc' --version", DLC_BUILD);
	out = must_out(cmd);
	if (cg_llvm_available()) {
		assert_non_null(strstr(out, "backends: llvm, c; default llvm"));
		assert_non_null(strstr(out, "LLVM 19."));
	} else {
		assert_non_null(strstr(out, "backends: c; built without LLVM"));
		free(out);
		snprintf(cmd, sizeof cmd, "'%s/dlc' --backend=llvm "
			"'%s/examples/iris.dl' 2>&1", DLC_BUILD, DLC_ROOT);
		assert_int_equal(run_cmd(cmd, &out), 2);
		assert_non_null(strstr(out, "this dlc was built without it"));
	}
	free(out);
}

TestList
llvm_tests(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_llvm_version),
#ifdef DLC_HAVE_LLVM
		cmocka_unit_test(test_llvm_every_op),
		cmocka_unit_test(test_llvm_examples_interp),
		cmocka_unit_test(test_llvm_products_sum_in_order),
		cmocka_unit_test(test_llvm_object_matches_c),
		cmocka_unit_test(test_llvm_curves),
		cmocka_unit_test(test_llvm_emit_forms),
		cmocka_unit_test(test_llvm_flag_errors),
#endif
	};

	return (TestList){ tests, sizeof tests / sizeof tests[0] };
}
