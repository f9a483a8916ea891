/*
 * interp.c - the reference interpreter: runs a module's function in double
 * precision, one op at a time, with no code generation involved.  Tests use
 * it as the oracle for the compiled code.
 */
#include <stdlib.h>

#include "ir.h"

double
ir_interp(const IrModule *m, const IrBatch *b, double *grad, double *output)
{
	const IrFunc *f = &m->fn;
	double **vals = calloc((size_t)f->n + 1, sizeof *vals);
	IrEval e = { m, b, vals };
	double loss;

	for (int id = 0; id < f->n; id++) {
		const IrValue *v = &f->v[id];
		int n = v->batched ? b->n : 1;

		vals[id] = malloc((size_t)n * sizeof **vals);
		ir_interp_fns[v->op](&e, v, vals[id], n);
	}

	loss = vals[f->loss][0];
	for (int i = 0; grad && i < m->nparams; i++)
		grad[i] = f->grad[i] < 0 ? 0 : vals[f->grad[i]][0];
	for (int i = 0; output && f->output >= 0 && i < b->n; i++)
		output[i] = vals[f->output][f->v[f->output].batched ? i : 0];

	for (int id = 0; id < f->n; id++)
		free(vals[id]);
	free(vals);
	return loss;
}
