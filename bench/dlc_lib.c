/*
 * dlc_lib.c - the benchmark's side of a model compiled by dlc: a small
 * library, built once per model together with the generated MODEL.c, that
 * bench.py loads and times.  Build with -DMODEL=name and the generated
 * directory on the include path.
 *
 * A training step is what the trainer does per batch: MODEL_loss_grad on a
 * window of rows, then MODEL_step.  With threads > 1 the batch is split
 * into equal parts, one per thread, each with its own workspace and
 * gradient; the mean loss is linear, so the batch gradient is the parts'
 * gradients weighted by their share of the batch.  That is how a caller of
 * the generated API uses several cores without the generated code itself
 * needing threads.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define STR_(a) #a
#define STR(a) STR_(a)
#define F(name) CAT(MODEL, name)

#include STR(MODEL.h)

typedef F(_real) real;
typedef F(_params) params;

enum { MAX_THREADS = 64 };

typedef struct Part {
	pthread_t thread;
	params *grad;
	void *ws;
	const real *x, *y;
	size_t len;
	real loss;
} Part;

static struct {
	params p;
	F(_optim) opt;
	F(_optim_state) state;
	const real *x, *y;
	long rows, batch, threads;
	Part part[MAX_THREADS];
	long pos;
} B;

/* The model's shapes, for bench.py's random data. */
const long bench_ninputs = F(_NINPUTS);
const long bench_ntargets = F(_NTARGETS);
const long bench_batch = F(_BATCH);

long bench_nparams(void);
void bench_init_params(real *out, unsigned long long seed);
int bench_setup(const real *p, const real *x, const real *y, long rows,
	long batch, long threads);
double bench_train(long steps);
double bench_grad(long steps);
double bench_loss(long steps);
double bench_workspace_bytes(long batch);

long
bench_nparams(void)
{
	return F(_NPARAMS);
}

void
bench_init_params(real *out, unsigned long long seed)
{
	params p;

	F(_init)(&p, seed);
	memcpy(out, &p, sizeof p);
}

double
bench_workspace_bytes(long batch)
{
	return (double)F(_workspace_size)((size_t)batch);
}

/* Data stay the caller's; parameters and optimiser state start afresh. */
int
bench_setup(const real *p, const real *x, const real *y, long rows,
	long batch, long threads)
{
	if (threads < 1 || threads > MAX_THREADS || rows % batch)
		return -1;
	memcpy(&B.p, p, sizeof B.p);
	F(_optim_default)(&B.opt);
	F(_optim_state_init)(&B.state);
	B.x = x, B.y = y, B.rows = rows, B.batch = batch;
	B.pos = 0;
	for (long t = 0; t < B.threads; t++) {
		free(B.part[t].grad);
		free(B.part[t].ws);
	}
	B.threads = threads;
	for (long t = 0; t < threads; t++) {
		size_t len = (size_t)(batch / threads + 1);
		B.part[t].grad = malloc(sizeof(params));
		B.part[t].ws = malloc(F(_workspace_size)(len));
		if (!B.part[t].grad || !B.part[t].ws)
			return -1;
	}
	return 0;
}

/* The next window of `batch` rows, cycling through the data. */
static long
next_window(void)
{
	long first = B.pos;

	B.pos = (B.pos + B.batch) % B.rows;
	return first;
}

static void *
run_part(void *arg)
{
	Part *pt = arg;

	pt->loss = F(_loss_grad)(&B.p, pt->grad, pt->x, pt->y, pt->len,
		pt->ws);
	return NULL;
}

/* The gradient of one batch into part 0's buffer; returns the loss. */
static real
batch_grad(void)
{
	long first = next_window(), done = 0, n = B.threads;
	real loss = 0;

	for (long t = 0; t < n; t++) {
		Part *pt = &B.part[t];
		pt->len = (size_t)(B.batch / n + (t < B.batch % n));
		pt->x = B.x + (first + done) * F(_NINPUTS);
		pt->y = B.y + (first + done) * F(_NTARGETS);
		done += (long)pt->len;
		if (t > 0)
			pthread_create(&pt->thread, NULL, run_part, pt);
	}
	run_part(&B.part[0]);
	if (n == 1)
		return B.part[0].loss;
	real *g0 = (real *)B.part[0].grad;
	real w0 = (real)B.part[0].len / (real)B.batch;
	for (long i = 0; i < F(_NPARAMS); i++)
		g0[i] *= w0;
	loss = B.part[0].loss * w0;
	for (long t = 1; t < n; t++) {
		Part *pt = &B.part[t];
		const real *g = (const real *)pt->grad;
		real w = (real)pt->len / (real)B.batch;
		pthread_join(pt->thread, NULL);
		for (long i = 0; i < F(_NPARAMS); i++)
			g0[i] += w * g[i];
		loss += w * pt->loss;
	}
	return loss;
}

double
bench_train(long steps)
{
	real loss = 0;

	for (long s = 0; s < steps; s++) {
		loss = batch_grad();
		F(_step)(&B.p, B.part[0].grad, &B.state, &B.opt);
	}
	return (double)loss;
}

double
bench_grad(long steps)
{
	real loss = 0;

	for (long s = 0; s < steps; s++) {
		long first = next_window();
		loss = F(_loss_grad)(&B.p, B.part[0].grad,
			B.x + first * F(_NINPUTS), B.y + first * F(_NTARGETS),
			(size_t)B.batch, B.part[0].ws);
	}
	return (double)loss;
}

double
bench_loss(long steps)
{
	real loss = 0;

	for (long s = 0; s < steps; s++) {
		long first = next_window();
		loss = F(_loss)(&B.p, B.x + first * F(_NINPUTS),
			B.y + first * F(_NTARGETS), (size_t)B.batch,
			B.part[0].ws);
	}
	return (double)loss;
}
