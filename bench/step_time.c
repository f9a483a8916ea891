/*
 * step_time.c - the time of one training step of a model through its C
 * API: NAME_loss_grad on a batch, then NAME_step.  bench/backends.sh
 * builds it once over the C backend's NAME.c and once over the LLVM
 * backend's NAME.o, with -DMODEL=NAME -include NAME.h, so both run the
 * same program.  Inputs are fixed numbers in [-1, 1]; targets are 0,
 * a valid label for a class target.  The parameters go back to their
 * initial values before every step, so each step does the same work.
 *
 *   usage: step_time [BATCH]    prints microseconds per step
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GLUE_(a, b) a##_##b
#define GLUE(a, b) GLUE_(a, b)
#define API(x) GLUE(MODEL, x)

typedef API(real) real;

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

typedef struct Run {
	API(params) p, p0, g;
	API(optim) o;
	API(optim_state) s;
	real *in, *tg;
	void *ws;
	size_t batch;
} Run;

static void
step(Run *r)
{
	memcpy(&r->p, &r->p0, sizeof r->p);
	API(loss_grad)(&r->p, &r->g, r->in, r->tg, r->batch, r->ws);
	API(step)(&r->p, &r->g, &r->s, &r->o);
}

/* Microseconds per step over one round of at least 0.2 s. */
static double
round_us(Run *r)
{
	long n = 0;
	double start = now(), t;

	do {
		for (int k = 0; k < 64; k++)
			step(r);
		n += 64;
		t = now() - start;
	} while (t < 0.2);
	return t / (double)n * 1e6;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	static Run r;
	double best[5];

	r.batch = argc > 1 ? (size_t)atol(argv[1]) : (size_t)API(BATCH);
	r.in = calloc(r.batch * API(NINPUTS) + 1, sizeof(real));
	r.tg = calloc(r.batch * API(NTARGETS) + 1, sizeof(real));
	r.ws = malloc(API(workspace_size)(r.batch) + 64);
	for (size_t i = 0; i < r.batch * API(NINPUTS); i++)
		r.in[i] = (real)((double)(i * 7919 % 2001) / 1000.0 - 1.0);
	API(init)(&r.p0, 1);
	API(optim_default)(&r.o);
	API(optim_state_init)(&r.s);
	for (int k = 0; k < 100; k++)
		step(&r);
	for (int k = 0; k < 5; k++)
		best[k] = round_us(&r);
	qsort(best, 5, sizeof *best, cmp);
	printf("%.3f\n", best[2]);
	return 0;
}
