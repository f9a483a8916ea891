/*
 * model.c - small questions the rest of the runtime asks about a model
 * descriptor, and the training state sized by it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dlrt.h"

int
rt_target_cols(const RtModel *m)
{
	int n = 0;

	for (int i = 0; i < m->ntargets; i++)
		n += m->targets[i].cols;
	return n;
}

/* Per target column: K for a class(K) column, else 0; calloc'd. */
int *
rt_target_classes(const RtModel *m)
{
	int cols = rt_target_cols(m), *classes = calloc((size_t)cols + 1,
		sizeof *classes);

	for (int t = 0, c = 0; classes && t < m->ntargets;
	    c += m->targets[t++].cols)
		classes[c] = m->targets[t].classes;
	return classes;
}

/* Class metrics need one class target and nothing else to score. */
int
rt_class_target(const RtModel *m)
{
	if (m->ntargets != 1 || m->targets[0].classes < 2)
		return 0;
	return m->targets[0].classes;
}

static const char *const opt_names[] = { "sgd", "adam", "adamw" };

const char *
rt_optim_name(RtOptKind k)
{
	return opt_names[k];
}

int
rt_optim_parse(const char *name, RtOptKind *k)
{
	for (int i = 0; i < 3; i++)
		if (strcmp(name, opt_names[i]) == 0) {
			*k = (RtOptKind)i;
			return 0;
		}
	return -1;
}

void
rt_element_name(const RtModel *m, size_t i, char *buf, size_t n)
{
	for (int p = 0; p < m->nparam_table; p++) {
		const RtParam *t = &m->param_table[p];
		if (i < t->offset || i >= t->offset + t->size)
			continue;
		size_t rest = i - t->offset, len;
		len = (size_t)snprintf(buf, n, "%s", t->name);
		/* row-major: the last index varies fastest */
		size_t stride = t->size;
		for (int d = 0; d < t->rank && len < n; d++) {
			stride /= (size_t)t->shape[d];
			len += (size_t)snprintf(buf + len, n - len, "[%zu]",
				rest / stride);
			rest %= stride;
		}
		return;
	}
	snprintf(buf, n, "element %zu", i);
}

int
rt_state_init(RtState *s, const RtModel *m)
{
	size_t n = m->nparams + 1;

	memset(s, 0, sizeof *s);
	s->nparams = m->nparams;
	s->params = calloc(n, sizeof *s->params);
	s->buf1 = calloc(n, sizeof *s->buf1);
	s->buf2 = calloc(n, sizeof *s->buf2);
	s->best = calloc(n, sizeof *s->best);
	s->opt = m->optim.kind;
	if (!s->params || !s->buf1 || !s->buf2 || !s->best) {
		rt_state_free(s);
		return -1;
	}
	return 0;
}

void
rt_state_free(RtState *s)
{
	free(s->params);
	free(s->buf1);
	free(s->buf2);
	free(s->best);
	rt_scaler_free(&s->scaler);
	memset(s, 0, sizeof *s);
}

int
rt_file_error(char *err, size_t errlen, const char *path, const char *fmt,
	...)
{
	va_list ap;
	int n = snprintf(err, errlen, "%s: ", path);

	if (n < 0 || (size_t)n >= errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

int
rt_load_targets(const RtModel *m, const char *path, size_t rows,
	size_t cols, RtCopyOut copy, const void *table, RtData *d, char *err,
	size_t errlen)
{
	int want = rt_target_cols(m), *classes, status;

	if (cols != (size_t)want)
		return rt_file_error(err, errlen, path, "expected %d target "
			"columns per example, got %zu", want, cols);
	if (rows != d->n)
		return rt_file_error(err, errlen, path, "has %zu examples but "
			"the inputs have %zu", rows, d->n);
	classes = rt_target_classes(m);
	d->targets = malloc(d->n * (size_t)want * sizeof *d->targets + 1);
	if (!classes || !d->targets) {
		free(classes);
		return rt_file_error(err, errlen, path, "out of memory");
	}
	d->ntargets = want;
	status = copy(table, d->targets, classes, err, errlen);
	free(classes);
	return status;
}
