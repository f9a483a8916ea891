/*
 * plan.c - memory planning for one generated function.
 *
 * Needs: the function's live values and its roots.  Guarantees: every live
 * stored value gets a buffer in the workspace; a buffer is handed to a new
 * value as soon as the last reader of its previous value has run, and an
 * element-wise op may write over its own operand (in place), since it reads
 * element i before writing element i.  Other ops never share a buffer with
 * their operands.  Buffers are reused only at exactly the same size, so the
 * workspace is a fixed list of buffers: size_c elements shared by the batch,
 * then size_b elements per example.  Roots stay alive to the end.  A
 * product that packs a matrix (cg_pack_size) uses one shared scratch area
 * after the buffers, as large as the largest such matrix.
 */
#include <limits.h>
#include <stdlib.h>

#include "cg.h"

int
cg_stored(const IrValue *v)
{
	switch (v->op) {
	case IR_const: case IR_param: case IR_input: case IR_target:
	case IR_nbatch: case IR_iota: case IR_bcast:
		return 0;
	default:
		return 1;
	}
}

int
cg_addressable(const IrFunc *f, int id)
{
	while (f->v[id].op == IR_bcast)
		id = f->v[id].arg[0];
	switch (f->v[id].op) {
	case IR_const: case IR_nbatch: case IR_iota:
		return 0;
	default:
		return 1;
	}
}

/*
 * W @ x over a batch: a shared matrix times a per-example vector.  The
 * product runs as X W^T, batch rows by the matrix's rows, so that its
 * inner loop walks contiguous memory; that needs W^T, packed once per call.
 */
long
cg_pack_size(const IrFunc *f, int id)
{
	const IrValue *v = &f->v[id];
	const IrType *a, *b;

	if (v->op != IR_matmul || !v->type.batched)
		return 0;
	a = &f->v[v->arg[0]].type;
	b = &f->v[v->arg[1]].type;
	if (a->batched || !b->batched || a->rank != 2 ||
	    !(b->rank == 1 || (b->rank == 2 && b->dim[1] == 1)))
		return 0;
	if (!cg_addressable(f, v->arg[0]) || !cg_addressable(f, v->arg[1]))
		return 0;
	return ir_numel(a);
}

/* A value read in place (bcast) extends the life of what it reads. */
static int
storage_of(const IrFunc *f, int id)
{
	while (f->v[id].op == IR_bcast)
		id = f->v[id].arg[0];
	return id;
}

static int *
last_uses(const IrFunc *f, const char *live, const int *roots, int nroots)
{
	int *last = malloc(((size_t)f->n + 1) * sizeof *last);

	for (int id = 0; id < f->n; id++)
		last[id] = -1;
	for (int id = 0; id < f->n; id++) {
		if (!live[id])
			continue;
		for (int k = 0; k < ir_arity(f->v[id].op); k++) {
			int s = storage_of(f, f->v[id].arg[k]);
			if (last[s] < id)
				last[s] = id;
		}
	}
	for (int r = 0; r < nroots; r++)
		last[storage_of(f, roots[r])] = INT_MAX;
	return last;
}

typedef struct Planner {
	CgPlan *p;
	int *free_list;         /* buffers not in use */
	int nfree;
	int *batched;           /* per buffer */
	long *numel;
} Planner;

static int
take_buffer(Planner *pl, int batched, long numel)
{
	CgPlan *p = pl->p;

	for (int i = 0; i < pl->nfree; i++) {
		int b = pl->free_list[i];
		if (pl->batched[b] == batched && pl->numel[b] == numel) {
			pl->free_list[i] = pl->free_list[--pl->nfree];
			return b;
		}
	}
	int b = p->nbuf++;
	pl->batched[b] = batched;
	pl->numel[b] = numel;
	p->off_b[b] = batched ? p->size_b : 0;
	p->off_c[b] = batched ? 0 : p->size_c;
	if (batched)
		p->size_b += numel;
	else
		p->size_c += numel;
	return b;
}

/* Buffers of operands whose last reader is `id` become free. */
static void
release_operands(Planner *pl, const IrFunc *f, int id, const int *last)
{
	for (int k = 0; k < ir_arity(f->v[id].op); k++) {
		int s = storage_of(f, f->v[id].arg[k]);
		int b = pl->p->buf[s];
		int seen = 0;
		if (b < 0 || last[s] != id)
			continue;
		for (int j = 0; j < pl->nfree; j++)
			seen |= pl->free_list[j] == b;
		if (!seen)
			pl->free_list[pl->nfree++] = b;
	}
}

void
cg_plan(const IrFunc *f, const char *live, const int *roots, int nroots,
	CgPlan *p)
{
	int *last = last_uses(f, live, roots, nroots);
	size_t n = (size_t)f->n + 1;
	Planner pl = { p, malloc(n * sizeof(int)), 0, malloc(n * sizeof(int)),
		malloc(n * sizeof(long)) };

	*p = (CgPlan){ .buf = malloc(n * sizeof(int)),
		.off_b = malloc(n * sizeof(long)),
		.off_c = malloc(n * sizeof(long)) };
	for (int id = 0; id < f->n; id++) {
		const IrValue *v = &f->v[id];
		p->buf[id] = -1;
		if (!live[id] || !cg_stored(v))
			continue;
		if (ir_elementwise(v->op))
			release_operands(&pl, f, id, last);
		p->buf[id] = take_buffer(&pl, v->type.batched,
			ir_numel(&v->type));
		if (!ir_elementwise(v->op))
			release_operands(&pl, f, id, last);
		if (last[id] < 0)
			pl.free_list[pl.nfree++] = p->buf[id];
	}
	p->pack_off = p->size_c;
	for (int id = 0; id < f->n; id++) {
		long need = live[id] ? cg_pack_size(f, id) : 0;
		if (p->pack_off + need > p->size_c)
			p->size_c = p->pack_off + need;
	}
	/* per-example buffers go after the shared ones */
	for (int b = 0; b < p->nbuf; b++)
		if (pl.batched[b])
			p->off_c[b] = p->size_c;
	free(last);
	free(pl.free_list);
	free(pl.batched);
	free(pl.numel);
}

void
cg_plan_free(CgPlan *p)
{
	free(p->buf);
	free(p->off_b);
	free(p->off_c);
}
