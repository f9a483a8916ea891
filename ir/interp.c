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

/* Runs the function; vals[id] holds every value afterwards. */
static double **
run(const IrModule *m, const IrBatch *b)
{
	const IrFunc *f = &m->fn;
	double **vals = calloc((size_t)f->n + 1, sizeof *vals);
	IrEval e = { m, b, vals };

	for (int id = 0; id < f->n; id++) {
		const IrValue *v = &f->v[id];

		vals[id] = calloc((size_t)elements(v, b->n) + 1, sizeof **vals);
		ir_eval_fns[v->op](&e, v, vals[id]);
	}
	return vals;
}

static void
release(const IrFunc *f, double **vals)
{
	for (int id = 0; id < f->n; id++)
		free(vals[id]);
	free(vals);
}

/* The gradient of the mean loss with respect to each example's inputs,
 * batch rows of input_size, for a module differentiated wrt inputs. */
void
ir_interp_input_grad(const IrModule *m, const IrBatch *b, double *dinputs)
{
	const IrFunc *f = &m->fn;
	double **vals = run(m, b);

	memset(dinputs, 0, (size_t)(b->n * m->input_size) * sizeof *dinputs);
	for (int i = 0; f->input_grad && i < m->ninputs; i++) {
		const IrData *d = &m->inputs[i];
		long n = ir_numel(&d->type);
		int g = f->input_grad[i];
		for (long r = 0; g >= 0 && r < b->n; r++)
			for (long k = 0; k < n; k++)
				dinputs[r * m->input_size + d->column + k] =
					vals[g][(f->v[g].type.batched ? r * n : 0)
					+ k];
	}
	release(f, vals);
}

/* Returns the mean loss; fills grad (param_size elements) when the module
 * is differentiated and grad is given, and output (batch rows of the
 * output's size) when given. */
double
ir_interp(const IrModule *m, const IrBatch *b, double *grad, double *output)
{
	const IrFunc *f = &m->fn;
	double **vals = run(m, b);
	double loss;

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

	release(f, vals);
	return loss;
}
