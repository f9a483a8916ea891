/*
 * gradcheck.c - dlc --gradcheck: the compiled gradient against central
 * finite differences, both through the f64 reference interpreter, so that
 * a wrong adjoint rule or a pass that breaks the backward values shows up
 * on the user's own model.
 *
 * Parameters are drawn uniformly from [-1, 1] by a generator seeded with
 * the model's train seed, so runs repeat.  Rows are the first ones of the
 * data file (CSV: the inputs then the targets, header optional), at most
 * one training batch, or random rows: reals from [-1, 1], class labels
 * from 0..K-1.  An element's error is |g - fd| / max(1, |g|, |fd|): a
 * relative error that does not blow up where the gradient is near zero.
 */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"

enum { MAX_ROWS = 256 };

static const double tolerance = 1e-6;

/* splitmix64: small, seedable, and the same everywhere. */
static uint64_t
next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static double
uniform(uint64_t *state, double lo, double hi)
{
	return lo + (hi - lo) * (double)(next(state) >> 11) / 0x1p53;
}

/* The batch as the interpreter takes it: inputs and targets apart. */
typedef struct Rows {
	double *inputs, *targets;
	int n;
} Rows;

/* Splits one CSV line into numbers; returns how many, -1 on a field
 * that is not a number. */
static int
fields(char *line, double *out, int max)
{
	int n = 0;

	for (char *f = strtok(line, ",\r\n"); f; f = strtok(NULL, ",\r\n")) {
		char *end;
		while (isspace((unsigned char)*f))
			f++;
		double v = strtod(f, &end);
		while (isspace((unsigned char)*end))
			end++;
		if (end == f || *end != '\0')
			return -1;
		if (n < max)
			out[n] = v;
		n++;
	}
	return n;
}

static void
put_row(const IrModule *m, Rows *r, const double *v)
{
	memcpy(r->inputs + r->n * m->input_size, v,
		(size_t)m->input_size * sizeof *v);
	memcpy(r->targets + r->n * m->target_size, v + m->input_size,
		(size_t)m->target_size * sizeof *v);
	r->n++;
}

/* The first `want` rows of a CSV file; exits 1 with the line at fault. */
static void
read_rows(const IrModule *m, const char *path, Rows *r, int want)
{
	FILE *f = fopen(path, "r");
	int width = (int)(m->input_size + m->target_size), lineno = 0;
	double *v = malloc(((size_t)width + 1) * sizeof *v);
	char line[65536];

	if (!f) {
		fprintf(stderr, "dlc: error: cannot read %s\n", path);
		exit(1);
	}
	while (r->n < want && fgets(line, sizeof line, f)) {
		lineno++;
		if (strspn(line, " \t\r\n") == strlen(line))
			continue;
		int got = fields(line, v, width);
		if (got < 0 && lineno == 1)
			continue;   /* a header */
		if (got < 0) {
			fprintf(stderr, "dlc: error: %s:%d: a field is not a "
				"number\n", path, lineno);
			exit(1);
		}
		if (got != width) {
			fprintf(stderr, "dlc: error: %s:%d: expected %d columns "
				"(the inputs then the targets), got %d\n", path,
				lineno, width, got);
			exit(1);
		}
		put_row(m, r, v);
	}
	fclose(f);
	free(v);
	if (r->n == 0) {
		fprintf(stderr, "dlc: error: %s holds no data rows\n", path);
		exit(1);
	}
}

/* Random rows: class labels are whole numbers below their class count. */
static void
random_rows(const IrModule *m, Rows *r, int want, uint64_t *state)
{
	for (; r->n < want; r->n++) {
		for (long i = 0; i < m->input_size; i++)
			r->inputs[r->n * m->input_size + i] =
				uniform(state, -1, 1);
		for (int t = 0; t < m->ntargets; t++) {
			const IrData *d = &m->targets[t];
			for (long i = 0; i < ir_numel(&d->type); i++)
				r->targets[r->n * m->target_size + d->column +
					i] = d->nclasses ? floor(uniform(state,
					0, d->nclasses)) : uniform(state, -1, 1);
		}
	}
}

static double
loss_at(const IrModule *m, const Rows *r, const double *p)
{
	IrBatch b = { p, r->inputs, r->targets, r->n };

	return ir_interp(m, &b, NULL, NULL);
}

static double
central_difference(const IrModule *m, const Rows *r, double *p, long i)
{
	double keep = p[i], h = 1e-5 * fmax(1, fabs(keep));

	p[i] = keep + h;
	double up = loss_at(m, r, p);
	p[i] = keep - h;
	double down = loss_at(m, r, p);
	p[i] = keep;
	return (up - down) / (2 * h);
}

enum { MAX_CHECKED = 64 };

/* The worst error over one parameter's elements; prints it.  A large
 * parameter is checked at MAX_CHECKED elements spread evenly over it, so
 * the cost stays bounded (each element costs two runs of the model). */
static double
check_param(const IrModule *m, const Rows *r, double *p, const double *g,
	const IrParam *param)
{
	double worst = 0, worst_g = 0, worst_fd = 0;
	long worst_at = 0, n = ir_numel(&param->type);
	long count = n < MAX_CHECKED ? n : MAX_CHECKED;

	for (long j = 0; j < count; j++) {
		long k = j * n / count;
		long i = param->offset + k;
		double fd = central_difference(m, r, p, i);
		double err = fabs(g[i] - fd) / fmax(1, fmax(fabs(g[i]),
			fabs(fd)));
		if (!(err <= worst)) {
			worst = err;
			worst_at = k;
			worst_g = g[i];
			worst_fd = fd;
		}
	}
	printf("  %-16s %9.3g   (element %ld: gradient %.10g, finite "
		"difference %.10g)%s\n", param->name, worst, worst_at,
		worst_g, worst_fd, worst <= tolerance ? "" : "  FAILED");
	if (count < n)
		printf("  %-16s %ld of %ld elements checked, evenly spread\n",
			"", count, n);
	return worst;
}

static int
report(const IrModule *m, const Rows *r, double *p, const char *data,
	unsigned long long seed)
{
	double *g = calloc((size_t)m->param_size + 1, sizeof *g);
	IrBatch b = { p, r->inputs, r->targets, r->n };
	int failed = 0;
	double loss = ir_interp(m, &b, g, NULL);

	printf("gradcheck %s: %d %s rows%s%s, parameters from [-1, 1] with "
		"seed %llu, loss %.10g\n", m->name, r->n, data ? "data" :
		"random", data ? " of " : "", data ? data : "", seed, loss);
	if (!isfinite(loss)) {
		printf("the loss is not finite at these parameters\n");
		free(g);
		return 1;
	}
	printf("  %-16s %9s\n", "parameter", "worst relative error");
	for (int i = 0; i < m->nparams; i++)
		failed |= !(check_param(m, r, p, g, &m->params[i]) <=
			tolerance);
	printf("%s: tolerance %g\n", failed ? "FAILED" : "ok", tolerance);
	free(g);
	return failed;
}

int
dlc_gradcheck(const IrModule *m, const char *data)
{
	int want = m->train.batch > 0 && m->train.batch < MAX_ROWS ?
		(int)m->train.batch : MAX_ROWS;
	uint64_t state = m->train.seed;
	Rows r = { .n = 0 };
	double *p = malloc(((size_t)m->param_size + 1) * sizeof *p);
	int status;

	if (!m->has_grad) {
		fprintf(stderr, "dlc: error: --gradcheck needs a "
			"differentiated module\n");
		exit(1);
	}
	r.inputs = calloc((size_t)(want * m->input_size) + 1, sizeof(double));
	r.targets = calloc((size_t)(want * m->target_size) + 1,
		sizeof(double));
	for (long i = 0; i < m->param_size; i++)
		p[i] = uniform(&state, -1, 1);
	if (data)
		read_rows(m, data, &r, want);
	else
		random_rows(m, &r, want, &state);
	status = report(m, &r, p, data, m->train.seed);
	free(p);
	free(r.inputs);
	free(r.targets);
	return status;
}
