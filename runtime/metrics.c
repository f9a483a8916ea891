/*
 * metrics.c - how good the parameters are on a table of examples: the
 * mean loss always; accuracy and the confusion matrix for a class target;
 * mean squared and mean absolute error for real targets.
 *
 * A class(K) target is scored from the model's output: with K outputs the
 * predicted class is the largest; with one output and K = 2 the output is
 * read as the probability of class 1.  Real targets are scored when the
 * output has one value per target column.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dlrt.h"

enum { LOSS_ONLY, REAL, CLASS };

static int
metric_kind(const RtModel *m)
{
	int k = rt_class_target(m);

	if (k && (m->noutputs == k || (k == 2 && m->noutputs == 1)))
		return CLASS;
	for (int t = 0; t < m->ntargets; t++)
		if (m->targets[t].classes)
			return LOSS_ONLY;
	if (m->noutputs > 0 && m->noutputs == rt_target_cols(m))
		return REAL;
	return LOSS_ONLY;
}

int
rt_eval_init(RtEval *e, const RtModel *m, size_t chunk)
{
	memset(e, 0, sizeof *e);
	e->m = m;
	e->chunk = chunk;
	e->r.kind = metric_kind(m);
	e->ws = malloc(m->workspace_size(chunk) + 1);
	e->out = malloc(chunk * (size_t)m->noutputs * sizeof *e->out + 1);
	if (e->r.kind == CLASS) {
		e->r.classes = rt_class_target(m);
		e->r.confusion = calloc((size_t)(e->r.classes * e->r.classes),
			sizeof *e->r.confusion);
	}
	if (!e->ws || !e->out || (e->r.kind == CLASS && !e->r.confusion)) {
		rt_eval_free(e);
		return -1;
	}
	return 0;
}

void
rt_eval_free(RtEval *e)
{
	free(e->ws);
	free(e->out);
	free(e->r.confusion);
	memset(e, 0, sizeof *e);
}

static int
predicted_class(const rt_real *out, int noutputs)
{
	int best = 0;

	if (noutputs == 1)
		return out[0] >= (rt_real)0.5;
	for (int k = 1; k < noutputs; k++)
		if (out[k] > out[best])
			best = k;
	return best;
}

static void
score(RtEval *e, const rt_real *tg, size_t len, double *sq, double *ab,
	size_t *right)
{
	int no = e->m->noutputs;

	for (size_t b = 0; b < len; b++) {
		const rt_real *o = e->out + b * (size_t)no;
		if (e->r.kind == CLASS) {
			int truth = (int)tg[b], guess = predicted_class(o, no);
			e->r.confusion[truth * e->r.classes + guess]++;
			*right += truth == guess;
			continue;
		}
		for (int c = 0; c < no; c++) {
			double d = (double)o[c] -
				(double)tg[b * (size_t)no + c];
			*sq += d * d;
			*ab += fabs(d);
		}
	}
}

void
rt_evaluate(RtEval *e, const rt_real *params, const RtData *d)
{
	const RtModel *m = e->m;
	size_t ni = (size_t)d->ninputs, nt = (size_t)d->ntargets, right = 0;
	double loss = 0, sq = 0, ab = 0;

	if (e->r.confusion)
		memset(e->r.confusion, 0, (size_t)(e->r.classes *
			e->r.classes) * sizeof *e->r.confusion);
	for (size_t first = 0; first < d->n; first += e->chunk) {
		size_t len = d->n - first < e->chunk ? d->n - first : e->chunk;
		const rt_real *in = d->inputs + first * ni;
		const rt_real *tg = d->targets + first * nt;
		loss += (double)m->loss(params, in, tg, len, e->ws) *
			(double)len;
		if (e->r.kind == LOSS_ONLY)
			continue;
		m->predict(params, in, len, e->out, e->ws);
		score(e, tg, len, &sq, &ab, &right);
	}
	e->r.loss = loss / (double)d->n;
	e->r.accuracy = (double)right / (double)d->n;
	double values = (double)d->n * (double)(m->noutputs ? m->noutputs : 1);
	e->r.mse = sq / values;
	e->r.mae = ab / values;
}

double
rt_metric(const RtMetrics *r, const char **name)
{
	if (r->kind == CLASS) {
		*name = "acc";
		return r->accuracy;
	}
	if (r->kind == REAL) {
		*name = "mae";
		return r->mae;
	}
	*name = NULL;
	return NAN;
}

void
rt_metrics_print(const RtMetrics *r, FILE *f)
{
	fprintf(f, "loss      %.6g\n", r->loss);
	if (r->kind == REAL)
		fprintf(f, "mse       %.6g\nmae       %.6g\n", r->mse, r->mae);
	if (r->kind != CLASS)
		return;
	fprintf(f, "accuracy  %.4f\n", r->accuracy);
	fprintf(f, "confusion (rows: true class, columns: predicted)\n");
	fprintf(f, "%6s", "");
	for (int k = 0; k < r->classes; k++)
		fprintf(f, " %7d", k);
	fputc('\n', f);
	for (int t = 0; t < r->classes; t++) {
		fprintf(f, "%6d", t);
		for (int k = 0; k < r->classes; k++)
			fprintf(f, " %7zu", r->confusion[t * r->classes + k]);
		fputc('\n', f);
	}
}
