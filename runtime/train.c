/*
 * train.c - minibatch training: each epoch reshuffles the examples with the
 * seeded generator, gathers each batch into contiguous rows, calls the
 * model's fused loss-and-gradient function, and takes an SGD step.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dlrt.h"

typedef struct Trainer {
	const RtModel *m;
	const RtConfig *c;
	const RtData *d;
	size_t *order;
	rt_real *in, *tg;       /* the gathered batch */
	rt_real *grad, *velocity;
	void *ws;
} Trainer;

static void
shuffle(size_t *order, size_t n, RtRng *rng)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = rt_rng_below(rng, i);
		size_t t = order[i - 1];
		order[i - 1] = order[j];
		order[j] = t;
	}
}

static void
gather(Trainer *t, size_t first, size_t n)
{
	size_t ni = (size_t)t->d->ninputs, nt = (size_t)t->d->ntargets;

	for (size_t k = 0; k < n; k++) {
		size_t row = t->order[first + k];
		memcpy(t->in + k * ni, t->d->inputs + row * ni,
			ni * sizeof *t->in);
		memcpy(t->tg + k * nt, t->d->targets + row * nt,
			nt * sizeof *t->tg);
	}
}

/* v = momentum * v + g;  p -= lr * v  (plain SGD when momentum is 0) */
static void
sgd_step(Trainer *t, rt_real *params)
{
	rt_real lr = (rt_real)t->c->lr, mu = (rt_real)t->c->momentum;

	for (int i = 0; i < t->m->nparams; i++) {
		t->velocity[i] = mu * t->velocity[i] + t->grad[i];
		params[i] -= lr * t->velocity[i];
	}
}

/* The mean loss of one epoch, weighting each batch by its size. */
static double
epoch(Trainer *t, rt_real *params, RtRng *rng)
{
	size_t n = t->d->n, b = (size_t)t->c->batch;
	double total = 0;

	shuffle(t->order, n, rng);
	for (size_t first = 0; first < n; first += b) {
		size_t len = n - first < b ? n - first : b;
		gather(t, first, len);
		rt_real loss = t->m->loss_grad(params, t->grad, t->in, t->tg,
			len, t->ws);
		total += (double)loss * (double)len;
		sgd_step(t, params);
	}
	return total / (double)n;
}

static int
report_now(long e, long epochs)
{
	long every = epochs >= 20 ? epochs / 20 : 1;

	return e == 1 || e == epochs || e % every == 0;
}

int
rt_train(const RtModel *m, const RtConfig *c, const RtData *d,
	rt_real *params, FILE *log)
{
	size_t b = (size_t)c->batch;
	Trainer t = { .m = m, .c = c, .d = d };
	RtRng rng;
	int status = 0;

	t.order = malloc(d->n * sizeof *t.order);
	t.in = malloc(b * (size_t)d->ninputs * sizeof *t.in + 1);
	t.tg = malloc(b * (size_t)d->ntargets * sizeof *t.tg + 1);
	t.grad = calloc((size_t)m->nparams + 1, sizeof *t.grad);
	t.velocity = calloc((size_t)m->nparams + 1, sizeof *t.velocity);
	t.ws = malloc(m->workspace_size(b) + 1);
	for (size_t i = 0; i < d->n; i++)
		t.order[i] = i;
	rt_rng_seed(&rng, c->seed);
	if (log)
		fprintf(log, "epoch,loss\n");

	for (long e = 1; e <= c->epochs; e++) {
		double loss = epoch(&t, params, &rng);
		if (log)
			fprintf(log, "%ld,%.9g\n", e, loss);
		if (!c->quiet && report_now(e, c->epochs))
			printf("epoch %*ld/%ld  loss %.6g\n",
				(int)snprintf(NULL, 0, "%ld", c->epochs), e,
				c->epochs, loss);
		if (!isfinite(loss)) {
			fprintf(stderr, "training stopped: the loss is not "
				"finite at epoch %ld\n", e);
			status = 1;
			break;
		}
	}
	free(t.order);
	free(t.in);
	free(t.tg);
	free(t.grad);
	free(t.velocity);
	free(t.ws);
	return status;
}
