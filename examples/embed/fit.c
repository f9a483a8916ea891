/*
 * fit.c - trains the polyfit model (../polyfit.dl) through the C API that
 * `dlc --emit=c` generates, then uses it to predict: the whole of what a
 * program embedding a dlc model has to do.  It reads its data itself, a
 * CSV file of x,y rows, and links nothing of dlc's but polyfit.c.
 *
 *   usage: fit [DATA.csv]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "polyfit.h"

/* Every row holds the inputs, then the targets, of one example. */
enum { COLS = polyfit_NINPUTS + polyfit_NTARGETS };

typedef struct Data {
	size_t n;
	polyfit_real *inputs;   /* n rows of polyfit_NINPUTS */
	polyfit_real *targets;  /* n rows of polyfit_NTARGETS */
} Data;

/* Reads one row of COLS numbers; 0 at the end of the file, -1 on a row
 * that is not numbers (the header, say). */
static int
read_row(FILE *f, double *row)
{
	char line[1024], *p = line, *end;

	if (!fgets(line, sizeof line, f))
		return 0;
	for (int c = 0; c < COLS; c++) {
		row[c] = strtod(p, &end);
		if (end == p)
			return -1;
		p = end + (*end == ',');
	}
	return 1;
}

static int
load(const char *path, Data *d)
{
	FILE *f = fopen(path, "r");
	double row[COLS];
	size_t cap = 256;
	int got;

	if (!f)
		return -1;
	d->n = 0;
	d->inputs = malloc(cap * polyfit_NINPUTS * sizeof *d->inputs);
	d->targets = malloc(cap * polyfit_NTARGETS * sizeof *d->targets);
	while ((got = read_row(f, row)) != 0) {
		if (got < 0)
			continue;
		if (d->n == cap) {
			cap *= 2;
			d->inputs = realloc(d->inputs, cap * polyfit_NINPUTS *
				sizeof *d->inputs);
			d->targets = realloc(d->targets, cap * polyfit_NTARGETS *
				sizeof *d->targets);
		}
		for (int c = 0; c < polyfit_NINPUTS; c++)
			d->inputs[d->n * polyfit_NINPUTS + c] =
				(polyfit_real)row[c];
		for (int c = 0; c < polyfit_NTARGETS; c++)
			d->targets[d->n * polyfit_NTARGETS + c] =
				(polyfit_real)row[polyfit_NINPUTS + c];
		d->n++;
	}
	fclose(f);
	return d->n > 0 ? 0 : -1;
}

/* A small generator for the shuffle (xorshift64). */
static uint64_t
next_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
shuffle(size_t *order, size_t n, uint64_t *s)
{
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = (size_t)(next_random(s) % (i + 1)), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
}

/* Copies the examples order[0..n) into one contiguous batch. */
static void
gather(const Data *d, const size_t *order, size_t n, polyfit_real *in,
	polyfit_real *tg)
{
	for (size_t b = 0; b < n; b++) {
		memcpy(in + b * polyfit_NINPUTS, d->inputs + order[b] *
			polyfit_NINPUTS, polyfit_NINPUTS * sizeof *in);
		memcpy(tg + b * polyfit_NTARGETS, d->targets + order[b] *
			polyfit_NTARGETS, polyfit_NTARGETS * sizeof *tg);
	}
}

/* One epoch of minibatch steps; returns the mean of the batch losses. */
static double
epoch(const Data *d, polyfit_params *p, polyfit_optim_state *s,
	const polyfit_optim *o, size_t *order, uint64_t *rng, void *ws)
{
	polyfit_real in[polyfit_BATCH * polyfit_NINPUTS];
	polyfit_real tg[polyfit_BATCH * polyfit_NTARGETS];
	polyfit_params grad;
	double sum = 0;
	size_t batches = 0;

	shuffle(order, d->n, rng);
	for (size_t at = 0; at < d->n; at += polyfit_BATCH, batches++) {
		size_t n = d->n - at < polyfit_BATCH ? d->n - at :
			polyfit_BATCH;
		gather(d, order + at, n, in, tg);
		sum += polyfit_loss_grad(p, &grad, in, tg, n, ws);
		polyfit_step(p, &grad, s, o);
	}
	return sum / (double)batches;
}

static void
print_params(const polyfit_params *p)
{
	const polyfit_real *flat = (const polyfit_real *)(const void *)p;

	for (int k = 0; k < polyfit_NTENSORS; k++) {
		const polyfit_param_info *t = &polyfit_param_table[k];
		for (size_t i = 0; i < t->count; i++)
			printf("%s = %.6g\n", t->name,
				(double)flat[t->offset + i]);
	}
}

int
main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "../data/polyfit.csv";
	Data d;
	polyfit_params p;
	polyfit_optim o;
	polyfit_optim_state s;
	uint64_t rng = 88172645463325252u;

	if (load(path, &d) != 0) {
		fprintf(stderr, "fit: cannot read data from %s\n", path);
		return 1;
	}
	/* One workspace, big enough for the whole data set at once. */
	void *ws = malloc(polyfit_workspace_size(d.n));
	size_t *order = malloc(d.n * sizeof *order);
	for (size_t i = 0; i < d.n; i++)
		order[i] = i;

	polyfit_init(&p, polyfit_SEED);
	polyfit_optim_default(&o);
	polyfit_optim_state_init(&s);
	printf("loss before %g\n", (double)polyfit_loss(&p, d.inputs,
		d.targets, d.n, ws));
	for (int e = 1; e <= polyfit_EPOCHS; e++) {
		double mean = epoch(&d, &p, &s, &o, order, &rng, ws);
		if (e % 500 == 0)
			printf("epoch %d: mean batch loss %g\n", e, mean);
	}
	printf("loss after %g\n", (double)polyfit_loss(&p, d.inputs,
		d.targets, d.n, ws));
	print_params(&p);

	for (int k = -2; k <= 2; k++) {
		polyfit_real x = (polyfit_real)k / 2, y;
		polyfit_predict_one(&p, &x, &y, ws);
		printf("predict x = %4.1f: %.4f\n", (double)x, (double)y);
	}
	free(ws), free(order), free(d.inputs), free(d.targets);
	return 0;
}
