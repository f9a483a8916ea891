/*
 * stats.c - what a function costs: live ops and floating-point operations,
 * for --stats and for the cheap-gradient test.
 *
 * The model: an element-wise op costs one operation per result element
 * (an integer power one per multiplication), a reduction one per operand
 * element (log-sum-exp and softmax three and four), a product 2mkn, and
 * moving data (broadcasts, gathers, transposes) nothing.  Per-example
 * values cost per example; the rest once per batch.
 */
#include <math.h>
#include <stdlib.h>

#include "ir.h"

static double
product_cost(const IrFunc *f, const IrValue *v)
{
	const IrType *a = &f->v[v->arg[0]].type, *b = &f->v[v->arg[1]].type;

	/* [m] x [n]; summed over the batch, each product is also added */
	if (v->op == IR_outer) {
		double mn = (double)a->dim[0] * b->dim[0];
		return v->type.batched ? mn : 2 * mn;
	}
	double m = a->rank == 2 ? a->dim[0] : 1;
	double k = a->rank ? a->dim[a->rank - 1] : 1;
	double n = b->rank == 2 ? b->dim[1] : 1;
	return 2 * m * k * n;
}

static double
cost(const IrFunc *f, const IrValue *v)
{
	double n = (double)ir_numel(&v->type);
	double in = v->arg[0] >= 0 ? (double)ir_numel(&f->v[v->arg[0]].type) : 0;

	switch (v->op) {
	case IR_powi:
		return n * fmax(1, fabs(v->num) - 1);
	case IR_matmul: case IR_outer:
		return product_cost(f, v);
	case IR_rsum: case IR_rmax: case IR_rmin: case IR_sumto:
	case IR_bsum:
		return in;
	case IR_rlse:
		return 3 * in;
	case IR_softmax: case IR_logsoftmax:
		return 4 * in;
	default:
		return ir_elementwise(v->op) ? n : 0;
	}
}

/* An op runs per example when it or an operand carries the batch axis. */
static int
per_example(const IrFunc *f, const IrValue *v)
{
	int any = v->type.batched;

	for (int k = 0; k < ir_arity(v->op); k++)
		any |= f->v[v->arg[k]].type.batched;
	return any;
}

IrStats
ir_stats(const IrFunc *f, const int *roots, int nroots)
{
	char *live = malloc((size_t)f->n + 1);
	IrStats s = { 0 };

	ir_live(f, roots, nroots, live);
	for (int id = 0; id < f->n; id++) {
		const IrValue *v = &f->v[id];
		if (!live[id] || ir_arity(v->op) == 0)
			continue;
		s.ops++;
		if (per_example(f, v))
			s.flops_example += cost(f, v);
		else
			s.flops_batch += cost(f, v);
	}
	free(live);
	return s;
}
