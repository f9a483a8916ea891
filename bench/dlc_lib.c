/*
 * dlc_lib.c - the benchmark's side of a model compiled by dlc: a small
 * library, built once per model together with the generated MODEL.c, that
 * bench.py loads and times.  Build with -DMODEL=name and the generated
 * directory on the include path.
 *
 * A training step is what the trainer does per batch: the batch's loss
 * and gradient, then MODEL_step.  The gradient comes from the trainer's
 * own thread pool (runtime/pool.c, compiled into this library), so with
 * threads > 1 the benchmark times exactly the trainer's split of a batch:
 * equal parts, one per thread, each with its own workspace and gradient,
 * weighted by their share of the batch.
 */
#include <stdlib.h>
#include <string.h>

#include "dlrt.h"

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define STR_(a) #a
#define STR(a) STR_(a)
#define F(name) CAT(MODEL, name)

#include STR(MODEL.h)

typedef F(_real) real;
typedef F(_params) params;

_Static_assert(sizeof(real) == sizeof(rt_real),
	"build with -DDLRT_F64 for an f64 model");

static struct {
	params p, grad;
	F(_optim) opt;
	F(_optim_state) state;
	const real *x, *y;
	long rows, batch;
	RtPool *pool;
	void *ws;               /* bench_grad and bench_loss: one thread */
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

static rt_real
loss_grad(const rt_real *p, rt_real *g, const rt_real *in,
	const rt_real *tg, size_t n, void *ws)
{
	return F(_loss_grad)((const params *)(const void *)p,
		(params *)(void *)g, in, tg, n, ws);
}

/* What the pool needs of the model; the trainer's descriptor has more. */
static const RtModel model = {
	.name = STR(MODEL),
	.nparams = F(_NPARAMS),
	.ninputs = F(_NINPUTS),
	.workspace_size = F(_workspace_size),
	.loss_grad = loss_grad,
};

/* Data stay the caller's; parameters and optimiser state start afresh. */
int
bench_setup(const real *p, const real *x, const real *y, long rows,
	long batch, long threads)
{
	char err[256];

	if (threads < 1 || threads > RT_MAX_THREADS || rows % batch)
		return -1;
	memcpy(&B.p, p, sizeof B.p);
	F(_optim_default)(&B.opt);
	F(_optim_state_init)(&B.state);
	B.x = x, B.y = y, B.rows = rows, B.batch = batch;
	B.pos = 0;
	rt_pool_free(B.pool);
	free(B.ws);
	B.pool = rt_pool_new(&model, F(_NTARGETS), (int)threads,
		(size_t)batch, err, sizeof err);
	B.ws = malloc(F(_workspace_size)((size_t)batch));
	return B.pool && B.ws ? 0 : -1;
}

/* The next window of `batch` rows, cycling through the data. */
static long
next_window(void)
{
	long first = B.pos;

	B.pos = (B.pos + B.batch) % B.rows;
	return first;
}

double
bench_train(long steps)
{
	real loss = 0;

	for (long s = 0; s < steps; s++) {
		long first = next_window();
		loss = rt_pool_loss_grad(B.pool, (const rt_real *)&B.p,
			(rt_real *)&B.grad, B.x + first * F(_NINPUTS),
			B.y + first * F(_NTARGETS), (size_t)B.batch);
		F(_step)(&B.p, &B.grad, &B.state, &B.opt);
	}
	return (double)loss;
}

double
bench_grad(long steps)
{
	real loss = 0;

	for (long s = 0; s < steps; s++) {
		long first = next_window();
		loss = F(_loss_grad)(&B.p, &B.grad,
			B.x + first * F(_NINPUTS), B.y + first * F(_NTARGETS),
			(size_t)B.batch, B.ws);
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
			B.y + first * F(_NTARGETS), (size_t)B.batch, B.ws);
	}
	return (double)loss;
}
