/*
 * test_runtime.c - the trainer runtime on its own: hand-written models
 * (hand_models.c) with tensor parameters, class targets and several
 * outputs, in process through the library's API and as trainer binaries
 * through the command line.
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
#include <sys/wait.h>
#include <unistd.h>

#include "hand_models.h"
#include "tests.h"

/* ---- helpers ---- */

static void
write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void
write_bytes(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static double
uniform(RtRng *r)
{
	return 2 * ((double)(rt_rng_next(r) >> 11) / 0x1p53) - 1;
}

/* Softmax data: the label is the largest of three fixed linear scores of
 * the four inputs, so a linear model can learn it. */
static void
softmax_csv(const char *path, int rows, uint64_t seed)
{
	static const double a[3][4] = { { 1, -1, 0.5, 0 }, { -1, 0.3, 1, 0.2 },
	                                { 0.2, 1, -1, 0.7 } };
	FILE *f = fopen(path, "w");
	RtRng r;

	assert_non_null(f);
	rt_rng_seed(&r, seed);
	fprintf(f, "x0,x1,x2,x3,label\n");
	for (int n = 0; n < rows; n++) {
		double x[4], best = -1e9;
		int label = 0;
		for (int i = 0; i < 4; i++)
			x[i] = uniform(&r);
		for (int k = 0; k < 3; k++) {
			double s = 0;
			for (int i = 0; i < 4; i++)
				s += a[k][i] * x[i];
			if (s > best)
				best = s, label = k;
		}
		fprintf(f, "%.6f,%.6f,%.6f,%.6f,%d\n", x[0], x[1], x[2], x[3],
			label);
	}
	fclose(f);
}

/* Linear data: y = M x + c plus a little noise, three columns. */
static void
linear_csv(const char *path, int rows, uint64_t seed)
{
	FILE *f = fopen(path, "w");
	RtRng r;

	assert_non_null(f);
	rt_rng_seed(&r, seed);
	for (int n = 0; n < rows; n++) {
		double x[3] = { uniform(&r), uniform(&r), uniform(&r) };
		fprintf(f, "%.6f,%.6f,%.6f,%.6f,%.6f,%.6f\n", x[0], x[1], x[2],
			x[0] + 2 * x[1] + 0.5 + 0.01 * uniform(&r),
			-x[2] + 0.01 * uniform(&r), 3 * x[0] - x[1] + x[2]);
	}
	fclose(f);
}

static RtData
load(const RtModel *m, const char *path)
{
	RtData d;
	char err[512];

	if (rt_read_model_csv(m, path, 1, &d, err, sizeof err))
		fail_msg("%s", err);
	return d;
}

/* A trainer binary of a hand-written model, built once per model. */
static const char *
hand_bin(const char *model)
{
	static char paths[2][1200];
	char (*p)[1200] = strcmp(model, "hand_softmax") == 0 ? &paths[0] :
		&paths[1];
	char cmd[6000], *out;

	if ((*p)[0])
		return *p;
	snprintf(*p, sizeof *p, "%s/test-scratch/%s", DLC_BUILD, model);
	snprintf(cmd, sizeof cmd, "mkdir -p '%s/test-scratch' && cc -std=c11 "
		"-D_POSIX_C_SOURCE=200809L -O1 -DDLRT_F64 -DHAND_MAIN=%s "
		"-I'%s/runtime' -I'%s/tests' '%s/tests/hand_models.c' "
		"'%s/libdlrt-f64.a' -lm -pthread -o '%s' 2>&1", DLC_BUILD, model,
		DLC_ROOT, DLC_ROOT, DLC_ROOT, DLC_BUILD, *p);
	if (run_cmd(cmd, &out) != 0)
		fail_msg("%s\n%s", cmd, out);
	free(out);
	return *p;
}

static RtConfig
config(const RtModel *m)
{
	RtConfig c = { .optim = m->optim, .epochs = m->epochs,
	               .batch = m->batch, .seed = m->seed, .every = 1,
	               .quiet = 1, .gamma = 0.1, .step_size = 10 };
	return c;
}

static void
fresh_state(const RtModel *m, RtState *s, uint64_t seed)
{
	assert_int_equal(rt_state_init(s, m), 0);
	m->init(s->params, seed);
	s->epoch_rng = seed;
}

/* ---- the hand-written gradients are right ---- */

static void
check_fd(const RtModel *m, const RtData *d)
{
	rt_real *p = calloc(m->nparams, sizeof *p);
	rt_real *g = calloc(m->nparams, sizeof *g);
	void *ws = malloc(m->workspace_size(d->n) + 1);

	m->init(p, 11);
	m->loss_grad(p, g, d->inputs, d->targets, d->n, ws);
	for (size_t i = 0; i < m->nparams; i++) {
		const double h = 1e-6;
		rt_real keep = p[i];
		p[i] = keep + h;
		double up = m->loss(p, d->inputs, d->targets, d->n, ws);
		p[i] = keep - h;
		double down = m->loss(p, d->inputs, d->targets, d->n, ws);
		p[i] = keep;
		double fd = (up - down) / (2 * h);
		if (fabs(fd - g[i]) > 1e-6 * (1 + fabs(fd)))
			fail_msg("%s: parameter %zu: gradient %.9g, finite "
				"difference %.9g", m->name, i, g[i], fd);
	}
	free(p);
	free(g);
	free(ws);
}

static void
test_hand_gradients(void **state)
{
	(void)state;
	const char *dir = scratch_dir("rt-fd");
	char a[1200], b[1200];

	snprintf(a, sizeof a, "%s/s.csv", dir);
	snprintf(b, sizeof b, "%s/l.csv", dir);
	softmax_csv(a, 40, 1);
	linear_csv(b, 40, 2);
	RtData ds = load(&hand_softmax, a), dl = load(&hand_linear, b);
	assert_int_equal(ds.ninputs, 4);
	assert_int_equal(ds.ntargets, 1);
	assert_int_equal(dl.ntargets, 3);
	check_fd(&hand_softmax, &ds);
	check_fd(&hand_linear, &dl);
	rt_data_free(&ds);
	rt_data_free(&dl);
}

/* ---- data ---- */

typedef struct BadFile {
	const char *text;
	const char *message;    /* after "FILE" */
} BadFile;

static const BadFile bad_softmax[] = {
	{ "1,2,3,4,1\n1,2,3,4\n", ":2: expected 5 columns, got 4" },
	{ "1,2,3,4,1\n1,2,3,4,5,6\n", ":2: expected 5 columns, got 6" },
	{ "a,b,c\n1,2,3,4,1\n", ":1: header: expected 5 columns, got 3" },
	{ "1,2,3,4,3\n", ":1: column 5: class label 3 is outside 0..2" },
	{ "1,2,3,4,-1\n", ":1: column 5: class label -1 is outside 0..2" },
	{ "1,2,3,4,1.5\n", ":1: column 5: class label 1.5 is not a whole "
	  "number" },
	{ "1,2,x3,4,1\n", ":1: column 3: 'x3' is not a number" },
	{ "1,2,3,4,1\n1,2,,4,1\n", ":2: column 3: '' is not a number" },
	{ "a,b,c,d,e\n1,2,3,4,1\n1 2,2,3,4,1\n",
	  ":3: column 1: '1 2' is not a number" },
	{ "1,2,3,4,1\n1,inf,3,4,1\n", ":2: column 2: 'inf' is not a finite "
	  "number" },
	{ "x0,x1,x2,x3,y\n", ": no data rows" },
	{ "", ": empty file" },
};

static void
test_bad_csv(void **state)
{
	(void)state;
	const char *dir = scratch_dir("rt-bad-csv");

	for (size_t i = 0; i < sizeof bad_softmax / sizeof *bad_softmax; i++) {
		char path[1200], want[1400], err[512];
		RtData d;
		snprintf(path, sizeof path, "%s/bad%zu.csv", dir, i);
		write_text(path, bad_softmax[i].text);
		assert_int_equal(rt_read_model_csv(&hand_softmax, path, 1, &d,
			err, sizeof err), -1);
		snprintf(want, sizeof want, "%s%s", path,
			bad_softmax[i].message);
		assert_string_equal(err, want);
	}
}

/* The example: 64 inputs and a target make 65 columns. */
static void
test_wide_csv(void **state)
{
	(void)state;
	const char *dir = scratch_dir("rt-wide");
	char path[1200], err[512], want[1300];
	RtData d;
	FILE *f;

	snprintf(path, sizeof path, "%s/wide.csv", dir);
	f = fopen(path, "w");
	for (int row = 0; row < 3; row++)
		for (int c = 0; c < (row == 2 ? 64 : 65); c++)
			fprintf(f, "%d%c", c, c == (row == 2 ? 63 : 64) ? '\n' :
				',');
	fclose(f);
	assert_int_equal(rt_read_csv(path, 64, 1, &d, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s:3: expected 65 columns, got 64", path);
	assert_string_equal(err, want);
}

/* A .npy file: header padded so the data starts at a multiple of 16. */
static size_t
npy(unsigned char *buf, const char *descr, const char *shape,
	const void *data, size_t n, int fortran)
{
	char hdr[256];
	int len = snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': "
		"%s, 'shape': %s, }", descr, fortran ? "True" : "False", shape);

	while ((10 + len + 1) % 16)
		hdr[len++] = ' ';
	hdr[len++] = '\n';
	memcpy(buf, "\x93NUMPY\x01\x00", 8);
	buf[8] = (unsigned char)(len & 0xff);
	buf[9] = (unsigned char)(len >> 8);
	memcpy(buf + 10, hdr, (size_t)len);
	memcpy(buf + 10 + len, data, n);
	return 10 + (size_t)len + n;
}

static void
test_npy(void **state)
{
	(void)state;
	const char *dir = scratch_dir("rt-npy");
	char x[1200], y[1200], err[512];
	unsigned char buf[4096];
	float xs[3][2][2];
	int64_t labels[3] = { 2, 0, 1 };
	RtData d;

	for (int i = 0; i < 12; i++)
		xs[i / 4][i / 2 % 2][i % 2] = (float)i / 4;
	snprintf(x, sizeof x, "%s/x.npy", dir);
	snprintf(y, sizeof y, "%s/y.npy", dir);
	write_bytes(x, buf, npy(buf, "<f4", "(3, 2, 2)", xs, sizeof xs, 0));
	write_bytes(y, buf, npy(buf, "<i8", "(3,)", labels, sizeof labels, 0));
	assert_int_equal(rt_read_data(&hand_softmax, x, y, 1, &d, err,
		sizeof err), 0);
	assert_int_equal(d.n, 3);
	assert_true(d.inputs[7] == 1.75);
	assert_true(d.targets[0] == 2 && d.targets[2] == 1);
	rt_data_free(&d);

	/* float64 targets with a label out of range */
	double bad[3] = { 0, 3, 1 };
	write_bytes(y, buf, npy(buf, "<f8", "(3,)", bad, sizeof bad, 0));
	assert_int_equal(rt_read_npy(&hand_softmax, x, y, &d, err,
		sizeof err), -1);
	assert_non_null(strstr(err, "row 2, column 1: class label 3 is "
		"outside 0..2"));
	/* a truncated file, Fortran order, the wrong width, missing rows */
	write_bytes(x, buf, npy(buf, "<f4", "(3, 2, 2)", xs, sizeof xs, 0) - 5);
	assert_int_equal(rt_read_npy(&hand_softmax, x, NULL, &d, err,
		sizeof err), -1);
	assert_non_null(strstr(err, "truncated: 43 bytes of data, expected 48"));
	write_bytes(x, buf, npy(buf, "<f4", "(3, 2, 2)", xs, sizeof xs, 1));
	assert_int_equal(rt_read_npy(&hand_softmax, x, NULL, &d, err,
		sizeof err), -1);
	assert_non_null(strstr(err, "Fortran-order"));
	write_bytes(x, buf, npy(buf, "<f4", "(4, 3)", xs, sizeof xs, 0));
	assert_int_equal(rt_read_npy(&hand_softmax, x, NULL, &d, err,
		sizeof err), -1);
	assert_non_null(strstr(err, "expected 4 input columns per example, "
		"got 3"));
	write_bytes(x, buf, npy(buf, "<f4", "(3, 4)", xs, sizeof xs, 0));
	write_bytes(y, buf, npy(buf, "<i8", "(2,)", labels, 16, 0));
	assert_int_equal(rt_read_npy(&hand_softmax, x, y, &d, err,
		sizeof err), -1);
	assert_non_null(strstr(err, "has 2 examples but the inputs have 3"));
	write_bytes(x, buf, npy(buf, "<f8", "(4611686018427387904, 4)", xs,
		sizeof xs, 0));
	assert_int_equal(rt_read_npy(&hand_softmax, x, NULL, &d, err,
		sizeof err), -1);
	assert_non_null(strstr(err, "shape too large for its data"));
	write_text(x, "not numpy at all\n");
	assert_int_equal(rt_read_npy(&hand_softmax, x, NULL, &d, err,
		sizeof err), -1);
	assert_non_null(strstr(err, "not a .npy file"));
}

static void
test_split_and_scale(void **state)
{
	(void)state;
	const char *dir = scratch_dir("rt-split");
	char path[1200];
	RtData d, t1, v1, t2, v2, t3, v3;
	RtScaler s = { 0 };

	snprintf(path, sizeof path, "%s/s.csv", dir);
	softmax_csv(path, 100, 4);
	d = load(&hand_softmax, path);
	assert_int_equal(rt_data_split(&d, 0.2, 1, &t1, &v1), 0);
	assert_int_equal(rt_data_split(&d, 0.2, 1, &t2, &v2), 0);
	assert_int_equal(rt_data_split(&d, 0.2, 2, &t3, &v3), 0);
	assert_int_equal(v1.n, 20);
	assert_int_equal(t1.n, 80);
	assert_memory_equal(v1.inputs, v2.inputs, 20 * 4 * sizeof(rt_real));
	assert_true(memcmp(v1.inputs, v3.inputs, 20 * 4 * sizeof(rt_real)));

	rt_scaler_fit(&s, &t1);
	rt_scaler_apply(&s, &t1);
	for (int c = 0; c < 4; c++) {
		double sum = 0, sq = 0;
		for (size_t r = 0; r < t1.n; r++) {
			sum += t1.inputs[r * 4 + (size_t)c];
			sq += t1.inputs[r * 4 + (size_t)c] *
				t1.inputs[r * 4 + (size_t)c];
		}
		assert_true(fabs(sum / 80) < 1e-12);
		assert_true(fabs(sq / 80 - 1) < 1e-12);
	}
	rt_scaler_free(&s);
	RtData *all[] = { &d, &t1, &v1, &t2, &v2, &t3, &v3 };
	for (int i = 0; i < 7; i++)
		rt_data_free(all[i]);
}

/* ---- optimisers, schedules, clipping ---- */

/* Two steps on one parameter with a constant gradient g, by hand. */
static void
test_optimizers(void **state)
{
	(void)state;
	RtState s = { .nparams = 1 };
	rt_real p = 1, b1 = 0, b2 = 0, g = 0.5;
	RtOptim o = { .kind = RT_SGD, .momentum = 0.9 };
	const double lr = 0.1;

	s.params = &p, s.buf1 = &b1, s.buf2 = &b2;
	/* momentum: b = g, then 1.9 g */
	rt_optim_step(&o, lr, &s, &g);
	rt_optim_step(&o, lr, &s, &g);
	assert_true(fabs(p - (1 - lr * g - lr * 1.9 * g)) < 1e-15);
	/* Nesterov: g + mu b: 1.9 g, then g + 0.9 * 1.9 g */
	p = 1, s.step = 0, o.nesterov = 1;
	rt_optim_step(&o, lr, &s, &g);
	rt_optim_step(&o, lr, &s, &g);
	assert_true(fabs(p - (1 - lr * 1.9 * g - lr * 2.71 * g)) < 1e-15);
	/* Adam: with a constant gradient every step is lr * g/(|g| + eps') */
	o = (RtOptim){ .kind = RT_ADAM, .beta1 = 0.9, .beta2 = 0.999,
	               .eps = 1e-8 };
	p = 1, b1 = b2 = 0, s.step = 0;
	rt_optim_step(&o, lr, &s, &g);
	assert_true(fabs(p - (1 - lr * g / (g + 1e-8))) < 1e-15);
	rt_optim_step(&o, lr, &s, &g);
	assert_true(fabs(p - (1 - 2 * lr * g / (g + 1e-8))) < 1e-12);
	assert_int_equal(s.step, 2);
	/* AdamW decays the parameter itself; Adam's L2 goes through the
	 * moments, so with no gradient the two differ */
	rt_real zero = 0;
	o.kind = RT_ADAMW, o.weight_decay = 0.01;
	p = 2, b1 = b2 = 0, s.step = 0;
	rt_optim_step(&o, lr, &s, &zero);
	assert_true(fabs(p - 2 * (1 - lr * 0.01)) < 1e-15);
	o.kind = RT_ADAM;
	p = 2, b1 = b2 = 0, s.step = 0;
	rt_optim_step(&o, lr, &s, &zero);
	assert_true(fabs(p - (2 - lr * 0.02 / (0.02 + 1e-8))) < 1e-12);
}

static void
test_schedule_and_clip(void **state)
{
	(void)state;
	rt_real g[2] = { 3, 4 };

	assert_true(rt_schedule_lr(RT_CONSTANT, 0.1, 7, 10, 3, 0.5) == 0.1);
	assert_true(rt_schedule_lr(RT_STEP, 0.1, 3, 10, 3, 0.5) == 0.1);
	assert_true(rt_schedule_lr(RT_STEP, 0.1, 4, 10, 3, 0.5) == 0.05);
	assert_true(rt_schedule_lr(RT_STEP, 0.1, 7, 10, 3, 0.5) == 0.025);
	assert_true(rt_schedule_lr(RT_COSINE, 0.1, 1, 10, 0, 0) == 0.1);
	assert_true(fabs(rt_schedule_lr(RT_COSINE, 0.1, 6, 10, 0, 0) - 0.05)
		< 1e-15);
	assert_true(rt_schedule_lr(RT_COSINE, 0.1, 10, 10, 0, 0) > 0);
	assert_true(rt_clip(g, 2, 10) == 5 && g[0] == 3);
	assert_true(rt_clip(g, 2, 1) == 5);
	assert_true(fabs(sqrt(g[0] * g[0] + g[1] * g[1]) - 1) < 1e-6);
	assert_true(fabs(g[0] / g[1] - 0.75) < 1e-12);
}

/* ---- checkpoints ---- */

static void
ckpt_path(char *buf, size_t n, const char *dir)
{
	snprintf(buf, n, "%s/state.ckpt", dir);
}

/* A state with something in every field. */
static void
busy_state(RtState *s)
{
	fresh_state(&hand_softmax, s, 5);
	for (size_t i = 0; i < s->nparams; i++) {
		s->buf1[i] = (rt_real)i / 7;
		s->buf2[i] = (rt_real)i / 9;
		s->best[i] = (rt_real)i / 11;
	}
	s->step = 42, s->epoch = 3, s->pos = 16, s->epoch_rng = 99;
	s->epoch_loss = 1.25, s->best_val = 0.5, s->best_epoch = 2;
	s->scaler.ncols = 4;
	s->scaler.mean = calloc(4, sizeof(double));
	s->scaler.std = calloc(4, sizeof(double));
	for (int c = 0; c < 4; c++)
		s->scaler.mean[c] = c, s->scaler.std[c] = c + 1;
}

static void
assert_same_state(const RtState *a, const RtState *b)
{
	size_t n = a->nparams * sizeof(rt_real);

	assert_memory_equal(a->params, b->params, n);
	assert_memory_equal(a->buf1, b->buf1, n);
	assert_memory_equal(a->buf2, b->buf2, n);
	assert_memory_equal(a->best, b->best, n);
	assert_true(a->step == b->step && a->epoch == b->epoch &&
		a->pos == b->pos && a->epoch_rng == b->epoch_rng &&
		a->epoch_loss == b->epoch_loss && a->best_val == b->best_val &&
		a->best_epoch == b->best_epoch && a->opt == b->opt);
	assert_int_equal(a->scaler.ncols, b->scaler.ncols);
	assert_memory_equal(a->scaler.std, b->scaler.std,
		(size_t)a->scaler.ncols * sizeof(double));
}

static void
test_ckpt_roundtrip(void **state)
{
	(void)state;
	char path[1200], err[512];
	RtState a, b;

	ckpt_path(path, sizeof path, scratch_dir("rt-ckpt"));
	busy_state(&a);
	assert_int_equal(rt_ckpt_save(path, &hand_softmax, &a, err,
		sizeof err), 0);
	assert_int_equal(rt_state_init(&b, &hand_softmax), 0);
	if (rt_ckpt_load(path, &hand_softmax, &b, err, sizeof err))
		fail_msg("%s", err);
	assert_same_state(&a, &b);
	rt_state_free(&a);
	rt_state_free(&b);
}

static size_t
file_size(const char *path)
{
	size_t len;
	char *b = rt_slurp(path, &len);

	assert_non_null(b);
	free(b);
	return len;
}

/* Every kind of damage has its own message, and none crashes. */
static void
test_ckpt_refused(void **state)
{
	(void)state;
	const char *dir = scratch_dir("rt-ckpt-bad");
	char good[1200], bad[1300], err[512], cmd[6000];
	RtState a, b;

	ckpt_path(good, sizeof good, dir);
	snprintf(bad, sizeof bad, "%s.bad", good);
	busy_state(&a);
	assert_int_equal(rt_ckpt_save(good, &hand_softmax, &a, err,
		sizeof err), 0);
	assert_int_equal(rt_state_init(&b, &hand_linear), 0);
	assert_int_equal(rt_ckpt_load(good, &hand_linear, &b, err, sizeof err),
		-1);
	assert_non_null(strstr(err, "checkpoint of another model ('softmax'"));
	rt_state_free(&b);
	assert_int_equal(rt_state_init(&b, &hand_softmax), 0);

	size_t len = file_size(good);
	/* every truncation point is refused as truncated */
	for (size_t cut = 9; cut < len; cut += 37) {
		snprintf(cmd, sizeof cmd, "head -c %zu '%s' > '%s'", cut, good,
			bad);
		assert_int_equal(run_cmd(cmd, NULL), 0);
		assert_int_equal(rt_ckpt_load(bad, &hand_softmax, &b, err,
			sizeof err), -1);
		assert_non_null(strstr(err, "truncated checkpoint"));
	}
	/* a flipped byte anywhere after the header is corruption */
	for (size_t at = 40; at < len; at += 53) {
		snprintf(cmd, sizeof cmd, "cp '%s' '%s' && printf '\\377' | dd "
			"of='%s' bs=1 seek=%zu conv=notrunc 2>/dev/null", good,
			bad, bad, at);
		assert_int_equal(run_cmd(cmd, NULL), 0);
		assert_int_equal(rt_ckpt_load(bad, &hand_softmax, &b, err,
			sizeof err), -1);
		assert_non_null(strstr(err, "corrupted checkpoint (checksum "
			"mismatch)"));
	}
	write_text(bad, "epoch,loss\n1,2\n");
	assert_int_equal(rt_ckpt_load(bad, &hand_softmax, &b, err, sizeof err),
		-1);
	assert_non_null(strstr(err, "not a dlc checkpoint"));
	rt_state_free(&a);
	rt_state_free(&b);
}

/* A save killed halfway leaves the previous checkpoint whole. */
static void
test_ckpt_killed_while_saving(void **state)
{
	(void)state;
	char path[1200], err[512];
	RtState a, b;
	int status;

	ckpt_path(path, sizeof path, scratch_dir("rt-ckpt-kill"));
	busy_state(&a);
	assert_int_equal(rt_ckpt_save(path, &hand_softmax, &a, err,
		sizeof err), 0);
	size_t len = file_size(path);
	for (size_t at = 1; at < len; at += len / 5) {
		pid_t pid = fork();
		if (pid == 0) {
			a.epoch = 1000;
			rt_ckpt_crash_after = at;
			rt_ckpt_save(path, &hand_softmax, &a, err, sizeof err);
			_exit(0);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		assert_int_equal(rt_state_init(&b, &hand_softmax), 0);
		if (rt_ckpt_load(path, &hand_softmax, &b, err, sizeof err))
			fail_msg("after a kill at byte %zu: %s", at, err);
		assert_same_state(&a, &b);
		rt_state_free(&b);
	}
	rt_state_free(&a);
}

/* ---- JSON ---- */

static void
test_json(void **state)
{
	(void)state;
	const char *dir = scratch_dir("rt-json");
	char path[1200], path2[1200], err[512];
	rt_real p[15], q[15];
	char *a, *b;
	size_t la, lb;

	snprintf(path, sizeof path, "%s/p.json", dir);
	snprintf(path2, sizeof path2, "%s/q.json", dir);
	hand_softmax.init(p, 9);
	p[3] = 1.0 / 3, p[14] = -1e-300;
	assert_int_equal(rt_json_write(path, &hand_softmax, p, err,
		sizeof err), 0);
	assert_int_equal(rt_json_read(path, &hand_softmax, q, err,
		sizeof err), 0);
	assert_memory_equal(p, q, sizeof p);
	assert_int_equal(rt_json_write(path2, &hand_softmax, q, err,
		sizeof err), 0);
	a = rt_slurp(path, &la);
	b = rt_slurp(path2, &lb);
	assert_string_equal(a, b);
	assert_non_null(strstr(a, "\"W\": [["));
	free(a);
	free(b);

	static const BadFile bad[] = {
		{ "{\"W\": [[1,2,3,4],[1,2,3,4],[1,2,3,4]]}",
		  ": parameter 'b' is missing" },
		{ "{\"W\": [[1,2,3,4],[1,2,3,4],[1,2,3]], \"b\": [1,2,3]}",
		  ":1:34: 'W' needs 4 elements along axis 2" },
		{ "{\"b\": [1,2,3], \"c\": 1}",
		  ":1:16: the model has no parameter 'c'" },
		{ "{\"b\": [1,2,3],\n \"b\": [1,2,3]}",
		  ":2:2: parameter 'b' given twice" },
		{ "{\"b\": 5}", ":1:7: 'b' needs an array of 3 along axis 1" },
		{ "{\"b\": [1,2,nan]}", ":1:12: expected a number" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		char want[1400];
		write_text(path, bad[i].text);
		memcpy(q, p, sizeof q);
		assert_int_equal(rt_json_read(path, &hand_softmax, q, err,
			sizeof err), -1);
		snprintf(want, sizeof want, "%s%s", path, bad[i].message);
		assert_string_equal(err, want);
		assert_memory_equal(p, q, sizeof p);
	}
}

/* ---- training ---- */

static RtStop
train_for(const RtModel *m, RtConfig *c, const RtData *d, const RtData *v,
	RtState *s, long epochs)
{
	c->epochs = epochs;
	return rt_train(m, c, d, v, s, NULL, NULL);
}

/* Stopping anywhere (an epoch's end, or mid-epoch on SIGINT), saving and
 * loading, then finishing gives the bits of a run that never stopped. */
static void
test_resume_exact(void **state)
{
	(void)state;
	const char *dir = scratch_dir("rt-resume");
	char data[1200], ck[1200], err[512];
	RtState whole, part, back;

	snprintf(data, sizeof data, "%s/s.csv", dir);
	ckpt_path(ck, sizeof ck, dir);
	softmax_csv(data, 60, 6);
	RtData d = load(&hand_softmax, data);
	RtConfig c = config(&hand_softmax);

	for (int kind = 0; kind < 3; kind++) {
		c.optim.kind = (RtOptKind)kind;
		c.optim.weight_decay = kind == RT_ADAMW ? 0.01 : 0;
		fresh_state(&hand_softmax, &whole, 3);
		assert_int_equal(train_for(&hand_softmax, &c, &d, NULL, &whole,
			6), RT_DONE);

		fresh_state(&hand_softmax, &part, 3);
		assert_int_equal(train_for(&hand_softmax, &c, &d, NULL, &part,
			2), RT_DONE);
		hand_calls = 0;
		hand_interrupt_at = 12;         /* epoch 3, batch 4 of 8 */
		assert_int_equal(train_for(&hand_softmax, &c, &d, NULL, &part,
			6), RT_INTERRUPTED);
		hand_interrupt_at = 0;
		rt_interrupted = 0;
		assert_int_equal(part.epoch, 3);
		assert_int_equal(part.pos, 32);
		assert_int_equal(rt_ckpt_save(ck, &hand_softmax, &part, err,
			sizeof err), 0);
		assert_int_equal(rt_state_init(&back, &hand_softmax), 0);
		assert_int_equal(rt_ckpt_load(ck, &hand_softmax, &back, err,
			sizeof err), 0);
		assert_int_equal(train_for(&hand_softmax, &c, &d, NULL, &back,
			6), RT_DONE);
		assert_same_state(&whole, &back);
		rt_state_free(&whole);
		rt_state_free(&part);
		rt_state_free(&back);
	}
	rt_data_free(&d);
}

/* The data say y = 2x, the validation set y = -2x: validation gets worse
 * from the first epoch, so training stops after patience epochs and
 * keeps epoch 1's parameters. */
static void
test_early_stopping(void **state)
{
	(void)state;
	const char *dir = scratch_dir("rt-early");
	char tr[1200], va[1200];
	FILE *f, *g;
	RtState s;

	snprintf(tr, sizeof tr, "%s/t.csv", dir);
	snprintf(va, sizeof va, "%s/v.csv", dir);
	f = fopen(tr, "w");
	g = fopen(va, "w");
	for (int i = 0; i < 32; i++) {
		double x = i / 16.0 - 1;
		fprintf(f, "%g,%g,%g,%g,%g,%g\n", x, x, x, 2 * x, 2 * x, 2 * x);
		fprintf(g, "%g,%g,%g,%g,%g,%g\n", x, x, x, -2 * x, -2 * x,
			-2 * x);
	}
	fclose(f);
	fclose(g);
	RtData d = load(&hand_linear, tr), v = load(&hand_linear, va);
	RtConfig c = config(&hand_linear);
	c.patience = 3;
	c.optim.lr = 0.01;
	fresh_state(&hand_linear, &s, 1);
	assert_int_equal(train_for(&hand_linear, &c, &d, &v, &s, 50), RT_EARLY);
	assert_int_equal(s.epoch, 4);
	assert_int_equal(s.best_epoch, 1);
	assert_memory_equal(s.params, s.best, s.nparams * sizeof(rt_real));

	/* without patience it runs on */
	c.patience = 0;
	rt_state_free(&s);
	fresh_state(&hand_linear, &s, 1);
	assert_int_equal(train_for(&hand_linear, &c, &d, &v, &s, 8), RT_DONE);
	assert_int_equal(s.epoch, 8);
	rt_state_free(&s);
	rt_data_free(&d);
	rt_data_free(&v);
}

/* Accuracy and the confusion matrix, recounted here by argmax. */
static void
test_metrics(void **state)
{
	(void)state;
	const char *dir = scratch_dir("rt-metrics");
	char path[1200];
	rt_real p[15], out[3];
	RtEval e;
	size_t conf[9] = { 0 }, right = 0;

	snprintf(path, sizeof path, "%s/s.csv", dir);
	softmax_csv(path, 50, 8);
	RtData d = load(&hand_softmax, path);
	hand_softmax.init(p, 4);
	p[0] = 2, p[5] = -1, p[12] = 0.3;
	assert_int_equal(rt_eval_init(&e, &hand_softmax, 7), 0);
	rt_evaluate(&e, p, &d);
	for (size_t r = 0; r < d.n; r++) {
		hand_softmax.predict(p, d.inputs + r * 4, 1, out, NULL);
		int guess = out[1] > out[0] ? 1 : 0;
		guess = out[2] > out[guess] ? 2 : guess;
		int truth = (int)d.targets[r];
		conf[truth * 3 + guess]++;
		right += truth == guess;
	}
	assert_memory_equal(conf, e.r.confusion, sizeof conf);
	assert_true(e.r.accuracy == (double)right / 50);
	rt_eval_free(&e);

	/* real targets: mse over all 3 columns of a known model */
	RtData l = { .n = 1, .ninputs = 3, .ntargets = 3 };
	rt_real x[3] = { 1, 0, 0 }, y[3] = { 1, 2, 3 }, lp[12] = { 0 };
	l.inputs = x, l.targets = y;
	assert_int_equal(rt_eval_init(&e, &hand_linear, 4), 0);
	rt_evaluate(&e, lp, &l);
	assert_true(e.r.kind == 1 && e.r.mse == 14.0 / 3 && e.r.mae == 2);
	assert_true(e.r.loss == 14);
	rt_eval_free(&e);
	rt_data_free(&d);
}

static void
test_plot(void **state)
{
	(void)state;
	char path[1200], err[512], *svg;
	double train[5] = { 10, 1, 0.1, 0.05, 0.01 }, val[5] = { 11, 2, NAN,
	                                                          0.1, 0.2 };
	size_t len;

	snprintf(path, sizeof path, "%s/p.svg", scratch_dir("rt-plot"));
	assert_int_equal(rt_plot_svg(path, "a<b", train, val, 5, 1, err,
		sizeof err), 0);
	svg = rt_slurp(path, &len);
	assert_non_null(strstr(svg, "<svg xmlns='http://www.w3.org/2000/svg'"));
	assert_non_null(strstr(svg, "a&lt;b"));
	assert_non_null(strstr(svg, "(log scale)"));
	assert_non_null(strstr(svg, ">validation</text>"));
	assert_non_null(strstr(svg, ">epoch</text>"));
	/* train: one line; val: broken at the NaN into two */
	int lines = 0;
	for (char *q = svg; (q = strstr(q, "<polyline")); q++)
		lines++;
	assert_int_equal(lines, 3);
	assert_non_null(strstr(svg, "</svg>\n"));
	free(svg);
}

/* ---- the command line of a hand-written model ---- */

static void
test_cli_class_model(void **state)
{
	(void)state;
	const char *bin = hand_bin("hand_softmax"), *dir = scratch_dir("rt-cli");
	char cmd[6000], data[1200], *out;

	snprintf(data, sizeof data, "%s/s.csv", dir);
	softmax_csv(data, 200, 10);
	snprintf(cmd, sizeof cmd, "cd '%s' && '%s' --data s.csv --val-split 0.25 "
		"--standardize --optimizer adam --lr 0.05 --epochs 30 --save m.ckpt "
		"--params-out p.json --plot p.svg --log l.csv 2>err.txt && "
		"'%s' --load m.ckpt --eval s.csv && '%s' --params-in p.json "
		"--load m.ckpt --predict s.csv --out pred.csv && wc -l < pred.csv "
		"&& tail -1 l.csv && grep -c epoch err.txt && '%s' --load m.ckpt "
		"--predict s.csv | cmp - pred.csv && '%s' --params-in p.json "
		"--predict s.csv --out raw.csv && ! cmp -s raw.csv pred.csv && "
		"echo scaled", dir, bin, bin, bin, bin, bin);
	if (run_cmd(cmd, &out) != 0)
		fail_msg("%s\n%s", cmd, out);
	/* after 30 epochs the separable data are nearly all right */
	double acc = 0;
	char *a = strstr(out, "accuracy  ");
	assert_non_null(a);
	sscanf(a + 10, "%lf", &acc);
	if (acc < 0.9)
		fail_msg("accuracy %g\n%s", acc, out);
	assert_non_null(strstr(out, "confusion (rows: true class, columns: "
		"predicted)\n             0       1       2\n"));
	assert_non_null(strstr(out, "\n200\n30,"));
	assert_non_null(strstr(out, "\n30\nscaled\n"));
	free(out);
}

/* SIGINT mid-run saves; resuming gives the uninterrupted run's result. */
static void
test_cli_sigint(void **state)
{
	(void)state;
	const char *bin = hand_bin("hand_linear"), *dir = scratch_dir("rt-int");
	char cmd[6000], *whole, *out;

	snprintf(cmd, sizeof cmd, "%s/l.csv", dir);
	linear_csv(cmd, 64, 3);
	snprintf(cmd, sizeof cmd, "cd '%s' && HAND_SLOW_US=2000 '%s' --data "
		"l.csv --epochs 40 --quiet", dir, bin);
	assert_int_equal(run_cmd(cmd, &whole), 0);
	snprintf(cmd, sizeof cmd, "cd '%s' && (HAND_SLOW_US=2000 '%s' --data "
		"l.csv --epochs 40 --save m.ckpt 2>err.txt & pid=$!; "
		"while [ ! -e m.ckpt ]; do sleep 0.01; done; kill -INT $pid; "
		"wait $pid; echo status $?; cat err.txt)", dir, bin);
	assert_int_equal(run_cmd(cmd, &out), 0);
	if (!strstr(out, "status 130") || !strstr(out, "saved m.ckpt"))
		fail_msg("%s", out);
	free(out);
	snprintf(cmd, sizeof cmd, "cd '%s' && '%s' --data l.csv --epochs 40 "
		"--load m.ckpt --quiet", dir, bin);
	assert_int_equal(run_cmd(cmd, &out), 0);
	assert_string_equal(out, whole);
	free(out);
	free(whole);
}

/* A blow-up names the epoch, batch and parameter, and keeps the last good
 * checkpoint. */
static void
test_cli_nonfinite(void **state)
{
	(void)state;
	const char *bin = hand_bin("hand_linear"), *dir = scratch_dir("rt-nan");
	char cmd[6000], *out;

	FILE *f;

	snprintf(cmd, sizeof cmd, "%s/l.csv", dir);
	linear_csv(cmd, 64, 3);
	/* inputs of 1e150 overflow the parameters in one step */
	snprintf(cmd, sizeof cmd, "%s/huge.csv", dir);
	f = fopen(cmd, "w");
	for (int i = 0; i < 20; i++)
		fprintf(f, "1e150,1e150,1e150,1,1,1\n");
	fclose(f);
	snprintf(cmd, sizeof cmd, "cd '%s' && '%s' --data l.csv --epochs 2 "
		"--save m.ckpt --quiet && cp m.ckpt good.ckpt && '%s' --data "
		"huge.csv --load m.ckpt --epochs 9 --optimizer sgd --lr 0.5 "
		"--batch 4 --save m.ckpt 2>&1; echo status $?; "
		"cmp m.ckpt good.ckpt && echo same", dir, bin, bin);
	assert_int_equal(run_cmd(cmd, &out), 0);
	if (!strstr(out, "error: training stopped at epoch 3, batch 2: the "
	    "gradient of W[0][0] is not finite (loss inf)") || !strstr(out,
	    "the last good checkpoint, m.ckpt, holds epoch 2") ||
	    !strstr(out, "status 1\nsame\n"))
		fail_msg("%s", out);
	free(out);
}

/* The bar appears on a terminal and not in a pipe. */
static void
test_cli_progress_pty(void **state)
{
	(void)state;
	const char *bin = hand_bin("hand_softmax"), *dir = scratch_dir("rt-pty");
	char cmd[6000], *out;

	snprintf(cmd, sizeof cmd, "%s/s.csv", dir);
	softmax_csv(cmd, 100, 3);
	snprintf(cmd, sizeof cmd, "cd '%s' && script -qfec \"'%s' --data s.csv "
		"--epochs 3 --val-split 0.2\" /dev/null", dir, bin);
	assert_int_equal(run_cmd(cmd, &out), 0);
	if (!strstr(out, "\repoch 1/3 [") || !strstr(out, " ex/s  left ") ||
	    !strstr(out, "\r\033[Kepoch 3/3  train ") ||
	    !strstr(out, "val_acc "))
		fail_msg("%s", out);
	free(out);
	snprintf(cmd, sizeof cmd, "cd '%s' && '%s' --data s.csv --epochs 3 "
		"2>&1 >/dev/null", dir, bin);
	assert_int_equal(run_cmd(cmd, &out), 0);
	assert_null(strstr(out, "ex/s"));
	assert_null(strchr(out, '\r'));
	assert_non_null(strstr(out, "epoch 2/3  train "));
	free(out);
	snprintf(cmd, sizeof cmd, "cd '%s' && script -qfec \"'%s' --data s.csv "
		"--epochs 3 --quiet\" /dev/null", dir, bin);
	assert_int_equal(run_cmd(cmd, &out), 0);
	assert_null(strstr(out, "epoch"));
	free(out);
}

/* Every flag in --help is documented in docs/cli.md. */
static void
test_cli_help_documented(void **state)
{
	(void)state;
	const char *bin = hand_bin("hand_softmax");
	char cmd[3000], *help, *doc, *p;
	size_t len;

	snprintf(cmd, sizeof cmd, "'%s' --help", bin);
	assert_int_equal(run_cmd(cmd, &help), 0);
	snprintf(cmd, sizeof cmd, "%s/docs/cli.md", DLC_ROOT);
	doc = rt_slurp(cmd, &len);
	assert_non_null(doc);
	assert_non_null(strstr(help, "--lr X"));
	assert_non_null(strstr(help, "learning rate (default 0.5)"));
	for (p = help; (p = strstr(p, "\n  --")); p += 3) {
		char flag[64], want[80];
		sscanf(p + 3, "%63s", flag);
		snprintf(want, sizeof want, "`%s", flag);
		if (!strstr(doc, want))
			fail_msg("%s is not in docs/cli.md", flag);
	}
	free(help);
	free(doc);
}

TestList
runtime_tests(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hand_gradients),
		cmocka_unit_test(test_bad_csv),
		cmocka_unit_test(test_wide_csv),
		cmocka_unit_test(test_npy),
		cmocka_unit_test(test_split_and_scale),
		cmocka_unit_test(test_optimizers),
		cmocka_unit_test(test_schedule_and_clip),
		cmocka_unit_test(test_ckpt_roundtrip),
		cmocka_unit_test(test_ckpt_refused),
		cmocka_unit_test(test_ckpt_killed_while_saving),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_resume_exact),
		cmocka_unit_test(test_early_stopping),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_plot),
		cmocka_unit_test(test_cli_class_model),
		cmocka_unit_test(test_cli_sigint),
		cmocka_unit_test(test_cli_nonfinite),
		cmocka_unit_test(test_cli_progress_pty),
		cmocka_unit_test(test_cli_help_documented),
	};
	return (TestList){ tests, sizeof tests / sizeof tests[0] };
}
