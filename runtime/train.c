/*
 * train.c - minibatch training.  Each epoch shuffles the examples with the
 * seeded generator, gathers each batch into contiguous rows, calls the
 * model's fused loss-and-gradient function, checks the result, clips it,
 * and takes an optimiser step.  After the epoch come validation, the log,
 * the checkpoint and early stopping.
 *
 * With --threads N the loss and gradient of a batch come from a pool of
 * N threads (pool.c); validation stays on this thread, since it runs
 * once an epoch.
 *
 * Everything a step depends on lives in RtState, including where in an
 * epoch we are and the generator's state at its start, so training that
 * stops anywhere (SIGINT, a checkpoint) resumes to the same bits.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dlrt.h"

volatile sig_atomic_t rt_interrupted;

typedef struct Trainer {
	const RtModel *m;
	const RtConfig *c;
	const RtData *d, *val;
	RtState *s;
	FILE *log;
	RtHistory *h;
	size_t *order;
	rt_real *in, *tg;       /* the gathered batch */
	rt_real *grad;
	RtPool *pool;
	RtEval eval;
	RtProgress prog;
} Trainer;

static int
trainer_init(Trainer *t, char *err, size_t errlen)
{
	size_t b = (size_t)t->c->batch, n = t->d->n;
	const RtModel *m = t->m;

	snprintf(err, errlen, "out of memory for training buffers");
	t->order = malloc((n + 1) * sizeof *t->order);
	t->in = malloc(b * (size_t)m->ninputs * sizeof *t->in + 1);
	t->tg = malloc(b * (size_t)rt_target_cols(m) * sizeof *t->tg + 1);
	t->grad = calloc(m->nparams + 1, sizeof *t->grad);
	if (t->val && rt_eval_init(&t->eval, m, b))
		return -1;
	if (!t->order || !t->in || !t->tg || !t->grad)
		return -1;
	t->pool = rt_pool_new(m, rt_target_cols(m), (int)t->c->threads, b,
		err, errlen);
	return t->pool ? 0 : -1;
}

static void
trainer_free(Trainer *t)
{
	free(t->order);
	free(t->in);
	free(t->tg);
	free(t->grad);
	rt_pool_free(t->pool);
	if (t->val)
		rt_eval_free(&t->eval);
}

/* The epoch's order: a seeded Fisher-Yates shuffle of 0..n-1. */
static void
shuffle(size_t *order, size_t n, RtRng *rng)
{
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	for (size_t i = n; i > 1; i--) {
		size_t j = rt_rng_below(rng, i);
		size_t tmp = order[i - 1];
		order[i - 1] = order[j];
		order[j] = tmp;
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

/* Index of the first non-finite element, or n. */
static size_t
first_nonfinite(const rt_real *v, size_t n)
{
	size_t i = 0;

	while (i < n && isfinite(v[i]))
		i++;
	return i;
}

/* Names what went wrong and where; 0 when the step is sound. */
static int
check_step(Trainer *t, long e, size_t batch, rt_real loss)
{
	size_t bad = first_nonfinite(t->grad, t->m->nparams);
	char name[256];

	if (isfinite(loss) && bad == t->m->nparams)
		return 0;
	rt_progress_clear(&t->prog);
	if (bad < t->m->nparams) {
		rt_element_name(t->m, bad, name, sizeof name);
		fprintf(stderr, "error: training stopped at epoch %ld, batch "
			"%zu: the gradient of %s is not finite (loss %g)\n", e,
			batch, name, (double)loss);
	} else {
		fprintf(stderr, "error: training stopped at epoch %ld, batch "
			"%zu: the loss is not finite\n", e, batch);
	}
	return -1;
}

/* The batches of epoch e from s->pos on; RT_DONE when it completed. */
static RtStop
batches(Trainer *t, long e, double lr)
{
	RtState *s = t->s;
	size_t n = t->d->n, b = (size_t)t->c->batch;

	for (size_t first = s->pos; first < n; first += b) {
		size_t len = n - first < b ? n - first : b;
		gather(t, first, len);
		rt_real loss = rt_pool_loss_grad(t->pool, s->params, t->grad,
			t->in, t->tg, len);
		if (check_step(t, e, first / b + 1, loss))
			return RT_NONFINITE;
		if (t->c->clip > 0)
			rt_clip(t->grad, t->m->nparams, t->c->clip);
		rt_optim_step(&t->c->optim, lr, s, t->grad);
		s->epoch_loss += (double)loss * (double)len;
		s->pos = first + len;
		rt_progress_batch(&t->prog, e, t->c->epochs, s->pos, n, len);
		if (rt_interrupted && s->pos < n)
			return RT_INTERRUPTED;
	}
	return RT_DONE;
}

static int
history_add(RtHistory *h, long e, double train, double val)
{
	if (h->n == h->cap) {
		long cap = h->cap ? 2 * h->cap : 64;
		double *a = realloc(h->train, (size_t)cap * sizeof *a);
		if (a)
			h->train = a;
		double *b = realloc(h->val, (size_t)cap * sizeof *b);
		if (b)
			h->val = b;
		if (!a || !b)
			return -1;
		h->cap = cap;
	}
	if (h->n == 0)
		h->first = e;
	h->train[h->n] = train;
	h->val[h->n++] = val;
	return 0;
}

void
rt_history_free(RtHistory *h)
{
	free(h->train);
	free(h->val);
	memset(h, 0, sizeof *h);
}

static void
log_row(FILE *log, long e, double train, double val, double metric,
	double secs)
{
	fprintf(log, "%ld,%.9g,", e, train);
	if (!isnan(val))
		fprintf(log, "%.9g", val);
	fputc(',', log);
	if (!isnan(metric))
		fprintf(log, "%.9g", metric);
	fprintf(log, ",%.3f\n", secs);
	fflush(log);
}

/* Validation, early-stopping bookkeeping, log, summary and checkpoint of
 * a finished epoch; RT_EARLY when patience has run out. */
static RtStop
end_epoch(Trainer *t, long e, double train, double secs)
{
	RtState *s = t->s;
	double val = NAN, metric = NAN;
	const char *mname = NULL;
	char err[512];

	if (first_nonfinite(s->params, s->nparams) < s->nparams) {
		rt_progress_clear(&t->prog);
		fprintf(stderr, "error: training stopped after epoch %ld: the "
			"parameters are not finite\n", e);
		return RT_NONFINITE;
	}
	if (t->val) {
		rt_evaluate(&t->eval, s->params, t->val);
		val = t->eval.r.loss;
		metric = rt_metric(&t->eval.r, &mname);
		if (s->best_epoch == 0 || val < s->best_val) {
			s->best_val = val;
			s->best_epoch = e;
			memcpy(s->best, s->params, s->nparams * sizeof *s->best);
		}
	}
	if (t->log)
		log_row(t->log, e, train, val, metric, secs);
	if (t->h && history_add(t->h, e, train, val))
		fprintf(stderr, "warning: out of memory for the plot\n");
	rt_progress_epoch(&t->prog, e, t->c->epochs, train, val, mname,
		metric, secs);
	if (t->c->save_path && rt_ckpt_save(t->c->save_path, t->m, s, err,
	    sizeof err)) {
		fprintf(stderr, "error: %s\n", err);
		return RT_FAILED;
	}
	if (t->val && t->c->patience > 0 &&
	    e - s->best_epoch >= t->c->patience)
		return RT_EARLY;
	return RT_DONE;
}

static RtStop
epoch(Trainer *t, long e)
{
	RtState *s = t->s;
	RtRng rng = { s->epoch_rng };
	double t0 = rt_now();
	double lr = rt_schedule_lr(t->c->schedule, t->c->optim.lr, e,
		t->c->epochs, t->c->step_size, t->c->gamma);

	shuffle(t->order, t->d->n, &rng);
	RtStop stop = batches(t, e, lr);
	if (stop != RT_DONE)
		return stop;
	double train = s->epoch_loss / (double)t->d->n;
	s->epoch = e;
	s->pos = 0;
	s->epoch_rng = rng.state;
	s->epoch_loss = 0;
	return end_epoch(t, e, train, rt_now() - t0);
}

static void
early_stop(Trainer *t)
{
	RtState *s = t->s;

	memcpy(s->params, s->best, s->nparams * sizeof *s->params);
	if (!t->c->quiet)
		fprintf(stderr, "early stop after epoch %ld: the validation "
			"loss has not improved for %ld epochs; keeping epoch "
			"%ld (val %.6g)\n", s->epoch, t->c->patience,
			s->best_epoch, s->best_val);
}

RtStop
rt_train(const RtModel *m, const RtConfig *c, const RtData *train,
	const RtData *val, RtState *s, FILE *log, RtHistory *h)
{
	Trainer t = { .m = m, .c = c, .d = train, .val = val, .s = s,
	              .log = log, .h = h };
	RtStop stop = RT_DONE;
	size_t total = 0;
	char err[256];

	if (trainer_init(&t, err, sizeof err)) {
		trainer_free(&t);
		fprintf(stderr, "error: %s\n", err);
		return RT_FAILED;
	}
	if (c->epochs > s->epoch)
		total = (size_t)(c->epochs - s->epoch) * train->n - s->pos;
	else if (!c->quiet)
		fprintf(stderr, "note: the loaded state is at epoch %ld and "
			"--epochs is %ld: nothing left to train\n", s->epoch,
			c->epochs);
	rt_progress_init(&t.prog, stderr, c->quiet, c->every, total);
	for (long e = s->epoch + 1; e <= c->epochs && stop == RT_DONE; e++) {
		stop = epoch(&t, e);
		if (stop == RT_DONE && rt_interrupted)
			stop = RT_INTERRUPTED;
	}
	if (stop == RT_EARLY)
		early_stop(&t);
	rt_progress_clear(&t.prog);
	trainer_free(&t);
	return stop;
}

int
rt_full_grad(const RtModel *m, const RtData *d, size_t chunk, int threads,
	const rt_real *params, rt_real *grad, char *err, size_t errlen)
{
	rt_real *g = calloc(m->nparams + 1, sizeof *g);
	double *sum = calloc(m->nparams + 1, sizeof *sum);
	RtPool *pool = NULL;
	size_t ni = (size_t)d->ninputs, nt = (size_t)d->ntargets;
	int status = -1;

	if (!g || !sum)
		snprintf(err, errlen, "out of memory");
	else if ((pool = rt_pool_new(m, d->ntargets, threads, chunk, err,
	    errlen)))
		status = 0;
	for (size_t first = 0; !status && first < d->n; first += chunk) {
		size_t len = d->n - first < chunk ? d->n - first : chunk;
		rt_pool_loss_grad(pool, params, g, d->inputs + first * ni,
			d->targets + first * nt, len);
		for (size_t i = 0; i < m->nparams; i++)
			sum[i] += (double)g[i] * (double)len;
	}
	for (size_t i = 0; !status && i < m->nparams; i++)
		grad[i] = (rt_real)(sum[i] / (double)d->n);
	rt_pool_free(pool);
	free(g);
	free(sum);
	return status;
}
