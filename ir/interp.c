/*
 * interp.c - the reference interpreter: runs a module's function in double
 * precision, one op at a time, with no code generation involved.  Tests use
 * it as the oracle for the compiled code.
 */
#include <stdlib.h>
#include <string.h>

#include "ir.h"

static long
elements(const IrValue *v, int batch)
{
	return (v->type.batched ? batch : 1) * ir_numel(&v->type);
}

/* Returns the mean loss; fills grad (param_size elements) when the module
 * is differentiated and grad is given, and output (batch rows of the
 * output's size) when given. */
double
ir_interp(const IrModule *m, const IrBatch *b, double *grad, double *output)
{
	const IrFunc *f = &m->fn;
	double **vals = calloc((size_t)f->n + 1, sizeof *vals);
	IrEval e = { m, b, vals };
	double loss;

	for (int id = 0; id < f->n; id++) {
		const IrValue *v = &f->v[id];

		vals[id] = calloc((size_t)elements(v, b->n) + 1, sizeof **vals);
		ir_eval_fns[v->op](&e, v, vals[id]);
	}

	loss = vals[f->loss][0];
	for (int i = 0; grad && m->has_grad && i < m->nparams; i++) {
		const IrParam *p = &m->params[i];
		size_t n = (size_t)ir_numel(&p->type);
		if (f->grad[i] < 0)
			memset(grad + p->offset, 0, n * sizeof *grad);
		else
			memcpy(grad + p->offset, vals[f->grad[i]],
				n * sizeof *grad);
	}
	if (output && f->output >= 0) {
		const IrValue *o = &f->v[f->output];
		long n = ir_numel(&o->type);
		for (long r = 0; r < b->n; r++)
			memcpy(output + r * n, vals[f->output] +
				(o->type.batched ? r * n : 0),
				(size_t)n * sizeof *output);
	}

	for (int id = 0; id < f->n; id++)
		free(vals[id]);
	free(vals);
	return loss;
}
