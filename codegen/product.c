/*
 * product.c - how a matrix product becomes calls of the generated gemm.
 *
 * Decided here once for both backends, so that they make the same calls
 * and every element of C is summed in the same order.  The batch folds
 * into the product where it can:
 *   W @ x over the batch:      X (batch x k) times W^T, read from W
 *   x^T W, or A_b W row-major: (batch m) x k times W
 *   sum over b of d_b h_b^T:   D^T H, the sum over the batch is the k axis
 * and otherwise each example (or, when C has no batch axis but an operand
 * has, each example's contribution) is one call.
 */
#include "cg.h"

static void
as_matrix(const IrType *t, int left, long *rows, long *cols)
{
	if (t->rank == 2) {
		*rows = t->dim[0];
		*cols = t->dim[1];
	} else if (left) {
		*rows = 1;
		*cols = t->dim[0];
	} else {
		*rows = t->dim[0];
		*cols = 1;
	}
}

void
cg_product_shape(const IrFunc *f, int id, long *m, long *k, long *n)
{
	const IrValue *v = &f->v[id];
	long k2;

	if (v->op == IR_outer) {
		*m = v->type.dim[0];
		*k = 1;
		*n = v->type.dim[1];
		return;
	}
	as_matrix(&f->v[v->arg[0]].type, 1, m, k);
	as_matrix(&f->v[v->arg[1]].type, 0, &k2, n);
}

long
cg_example_stride(const IrModule *m, int id)
{
	const IrValue *v = &m->fn.v[id];

	switch (v->op) {
	case IR_bcast: case IR_param:
		return 0;
	case IR_input:
		return m->input_size;
	case IR_target:
		return m->target_size;
	default:
		return v->type.batched ? ir_numel(&v->type) : 0;
	}
}

/* A shared matrix times a per-example vector. */
static int
weights_times_batch(const IrFunc *f, int id)
{
	const IrValue *v = &f->v[id];
	const IrType *a = &f->v[v->arg[0]].type, *b = &f->v[v->arg[1]].type;

	return v->op == IR_matmul && v->type.batched && !a->batched &&
		b->batched && a->rank == 2 &&
		(b->rank == 1 || (b->rank == 2 && b->dim[1] == 1));
}

int
cg_gemm_call(const IrModule *mod, int id, CgGemm *g)
{
	const IrFunc *f = &mod->fn;
	const IrValue *v = &f->v[id];
	long m, k, n;

	if ((v->op != IR_matmul && v->op != IR_outer) ||
	    !cg_addressable(f, v->arg[0]) || !cg_addressable(f, v->arg[1]))
		return 0;
	cg_product_shape(f, id, &m, &k, &n);
	int ab = f->v[v->arg[0]].type.batched, bb = f->v[v->arg[1]].type.batched;
	long as = cg_example_stride(mod, v->arg[0]);
	long bs = cg_example_stride(mod, v->arg[1]);

	*g = (CgGemm){ .rows = m, .n = n, .k = k, .ars = k, .acs = 1,
		.brs = n, .bcs = 1, .ldc = n };
	if (weights_times_batch(f, id)) {
		*g = (CgGemm){ .swap = 1, .rows_batch = 1, .rows = 1, .n = m,
			.k = k, .ars = bs, .acs = 1, .brs = 1, .bcs = k,
			.ldc = m };
	} else if (v->type.batched && ab && !bb && (m == 1 || as == m * k)) {
		g->rows_batch = 1;
		g->ars = m == 1 ? as : k;
	} else if (!v->type.batched && ab && bb && k == 1) {
		g->terms_batch = 1;
		g->ars = 1, g->acs = as, g->brs = bs;
	} else {
		g->each = 1;
		g->over_batch = ab || bb;
		g->sum = !v->type.batched && g->over_batch;
		g->a_step = as, g->b_step = bs;
		g->c_step = v->type.batched ? m * n : 0;
	}
	return 1;
}
