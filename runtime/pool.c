/*
 * pool.c - one batch's loss and gradient computed by several threads.
 *
 * The mean loss is linear in the examples, so a batch of n rows splits
 * into parts: part t takes n / N rows, one more for t < n % N, computes
 * its own mean loss and gradient with its own workspace and gradient
 * buffer, and the batch's are the parts' weighted by len_t / n.  Each
 * element's sum runs over t = 0..N-1 in order, in double, so a given N
 * gives the same bits every time; a different N rounds differently.
 *
 * A batch is two jobs: the parts, then the sum, which the threads share
 * by slices of the parameters, since it reads N gradients and alone would
 * take as long as a part once N is large.  The threads start once.
 * Between jobs they first watch for the next one for a while (the gap
 * between steps is the optimiser's update, short), and only then sleep
 * on a condition variable: waking a sleeping thread costs tens to
 * hundreds of microseconds, twice a step, on a virtual machine.  The caller is thread 0
 * and does part 0 itself, into the caller's gradient, so a pool of one
 * thread starts none and is exactly a call of the model's loss_grad.
 *
 * Only bench/dlc_lib.c and train.c use this file, and it calls nothing
 * else of the runtime, so the benchmark can compile it alone.
 */
#define _GNU_SOURCE     /* sched_getaffinity */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dlrt.h"

/* A slice of the sum is worth waking a thread for from this size on;
 * a waiting thread checks this many times, some hundreds of microseconds,
 * before it sleeps. */
enum { MIN_SLICE = 4096, SPINS = 200000 };

typedef enum Job { PARTS, SUM } Job;

typedef struct Part {
	RtPool *pool;
	pthread_t thread;
	int index;
	size_t first, len;      /* this batch's rows first..first+len-1 */
	rt_real *grad;          /* part 0: the caller's */
	void *ws;
	rt_real loss;
} Part;

struct RtPool {
	const RtModel *m;
	size_t tcols;           /* target columns per row */
	int nparts, started;    /* parts, and threads running (not 0's) */
	int nslices;            /* threads that share the sum */
	Part *part;

	pthread_mutex_t mu;
	pthread_cond_t go, done;
	/* changed under mu, and read without it while spinning */
	atomic_ulong jobs;      /* bumped to hand the workers a job */
	atomic_int busy;        /* workers still on this job */
	atomic_int quit;

	/* the job; set before `jobs` is bumped, read only after */
	Job job;
	const rt_real *params, *inputs, *targets;
	size_t n;               /* rows in the batch */
};

static void
run_part(RtPool *p, Part *pt)
{
	if (pt->len == 0)
		return;
	pt->loss = p->m->loss_grad(p->params, pt->grad,
		p->inputs + pt->first * (size_t)p->m->ninputs,
		p->targets + pt->first * p->tcols, pt->len, pt->ws);
}

/* grad_0 = sum over parts of len_t / n * grad_t, in part order, over
 * slice s of the elements.  They go CHUNK at a time through sums in
 * double, one part after another, so that each inner loop runs along
 * contiguous memory and vectorises. */
static void
sum_slice(RtPool *p, int s)
{
	enum { CHUNK = 512 };
	size_t np = p->m->nparams, ns = (size_t)p->nslices;
	size_t lo = np * (size_t)s / ns, hi = np * (size_t)(s + 1) / ns;
	double sum[CHUNK];

	for (size_t i0 = lo; i0 < hi; i0 += CHUNK) {
		size_t len = hi - i0 < CHUNK ? hi - i0 : CHUNK;

		for (size_t j = 0; j < len; j++)
			sum[j] = 0;
		for (int t = 0; t < p->nparts && p->part[t].len; t++) {
			const double w = (double)p->part[t].len / (double)p->n;
			const rt_real *g = p->part[t].grad + i0;
			for (size_t j = 0; j < len; j++)
				sum[j] += w * (double)g[j];
		}
		for (size_t j = 0; j < len; j++)
			p->part[0].grad[i0 + j] = (rt_real)sum[j];
	}
}

static void
do_job(RtPool *p, Part *pt)
{
	if (p->job == PARTS)
		run_part(p, pt);
	else if (pt->index < p->nslices)
		sum_slice(p, pt->index);
}

/* A worker: waits for a job it has not done, does its share, reports. */
static void *
worker(void *arg)
{
	Part *pt = arg;
	RtPool *p = pt->pool;
	unsigned long seen = 0;

	for (;;) {
		for (long i = 0; i < SPINS && atomic_load(&p->jobs) == seen &&
		    !atomic_load(&p->quit); i++)
			;
		pthread_mutex_lock(&p->mu);
		while (p->jobs == seen && !p->quit)
			pthread_cond_wait(&p->go, &p->mu);
		if (p->quit)
			break;
		seen = p->jobs;
		pthread_mutex_unlock(&p->mu);
		do_job(p, pt);
		pthread_mutex_lock(&p->mu);
		if (--p->busy == 0)
			pthread_cond_signal(&p->done);
		pthread_mutex_unlock(&p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Starts threads for parts 1..nparts-1 with every signal blocked, so
 * SIGINT reaches the main thread and its handler's flag. */
static int
start_workers(RtPool *p, char *err, size_t errlen)
{
	sigset_t all, old;
	int status = 0;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (int t = 1; t < p->nparts && !status; t++) {
		status = pthread_create(&p->part[t].thread, NULL, worker,
			&p->part[t]);
		if (!status)
			p->started++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (status)
		snprintf(err, errlen, "cannot start %d threads: %s",
			p->nparts, strerror(status));
	return status ? -1 : 0;
}

static int
alloc_parts(RtPool *p, size_t max_batch, char *err, size_t errlen)
{
	size_t rows = (max_batch + (size_t)p->nparts - 1) / (size_t)p->nparts;

	p->part = calloc((size_t)p->nparts, sizeof *p->part);
	for (int t = 0; p->part && t < p->nparts; t++) {
		Part *pt = &p->part[t];
		pt->pool = p;
		pt->index = t;
		pt->ws = malloc(p->m->workspace_size(rows) + 1);
		if (t > 0)
			pt->grad = malloc(p->m->nparams * sizeof *pt->grad + 1);
		if (!pt->ws || (t > 0 && !pt->grad)) {
			snprintf(err, errlen, "out of memory for %d threads' "
				"workspaces", p->nparts);
			return -1;
		}
	}
	if (!p->part)
		snprintf(err, errlen, "out of memory for %d threads",
			p->nparts);
	return p->part ? 0 : -1;
}

RtPool *
rt_pool_new(const RtModel *m, int tcols, int threads, size_t max_batch,
	char *err, size_t errlen)
{
	RtPool *p = calloc(1, sizeof *p);

	if (!p) {
		snprintf(err, errlen, "out of memory for a thread pool");
		return NULL;
	}
	p->m = m;
	p->tcols = (size_t)tcols;
	/* more threads than rows would have nothing to do */
	p->nparts = threads < 1 ? 1 : (size_t)threads > max_batch ?
		(int)max_batch : threads;
	p->nslices = m->nparams / MIN_SLICE < (size_t)p->nparts ?
		(int)(m->nparams / MIN_SLICE) : p->nparts;
	if (p->nslices < 1)
		p->nslices = 1;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->go, NULL);
	pthread_cond_init(&p->done, NULL);
	if (alloc_parts(p, max_batch, err, errlen) ||
	    start_workers(p, err, errlen)) {
		rt_pool_free(p);
		return NULL;
	}
	return p;
}

void
rt_pool_free(RtPool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->quit = 1;
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	for (int t = 1; t <= p->started; t++)
		pthread_join(p->part[t].thread, NULL);
	for (int t = 0; p->part && t < p->nparts; t++) {
		free(p->part[t].ws);
		if (t > 0)
			free(p->part[t].grad);
	}
	free(p->part);
	pthread_cond_destroy(&p->done);
	pthread_cond_destroy(&p->go);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

/* Rows of each part: n / N, the remainder one each to the first parts. */
static void
split(RtPool *p, size_t n)
{
	size_t first = 0, N = (size_t)p->nparts;

	for (size_t t = 0; t < N; t++) {
		p->part[t].first = first;
		p->part[t].len = n / N + (t < n % N);
		first += p->part[t].len;
	}
}

/* Hands the workers a job, does thread 0's share, waits for theirs. */
static void
run_job(RtPool *p, Job job)
{
	pthread_mutex_lock(&p->mu);
	p->job = job;
	p->jobs++;
	p->busy = p->nparts - 1;
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);

	do_job(p, &p->part[0]);

	for (long i = 0; i < SPINS && atomic_load(&p->busy) > 0; i++)
		;
	pthread_mutex_lock(&p->mu);
	while (p->busy > 0)
		pthread_cond_wait(&p->done, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

rt_real
rt_pool_loss_grad(RtPool *p, const rt_real *params, rt_real *grad,
	const rt_real *inputs, const rt_real *targets, size_t n)
{
	double loss = 0;

	if (p->nparts == 1)
		return p->m->loss_grad(params, grad, inputs, targets, n,
			p->part[0].ws);
	p->params = params, p->inputs = inputs, p->targets = targets;
	p->n = n;
	p->part[0].grad = grad;
	split(p, n);
	run_job(p, PARTS);
	if (p->nslices > 1)
		run_job(p, SUM);
	else
		sum_slice(p, 0);
	for (int t = 0; t < p->nparts && p->part[t].len; t++)
		loss += (double)p->part[t].len / (double)n *
			(double)p->part[t].loss;
	return (rt_real)loss;
}

/* Counts the affinity mask rather than the machine's cores, so taskset
 * and container CPU sets are respected. */
int
rt_cores(void)
{
	cpu_set_t set;
	int n = 1;

	if (sched_getaffinity(0, sizeof set, &set) == 0)
		n = CPU_COUNT(&set);
	return n < 1 ? 1 : n > RT_MAX_THREADS ? RT_MAX_THREADS : n;
}
