/*
 * plan.c - memory planning for one generated function.
 *
 * Needs: the function's live values and its roots.  Guarantees: every live
 * stored value the emitter does not keep in a scalar gets a buffer in the
 * workspace; a buffer is handed to a new
 * value as soon as the last reader of its previous value has run, and an
 * element-wise op may write over its own operand (in place), since it reads
 * element i before writing element i.  Other ops never share a buffer with
 * their operands.  Buffers are reused only at exactly the same size, so the
 * workspace is a fixed list of buffers: size_c elements shared by the batch,
 * then size_b elements per example.  Roots stay alive to the end.
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

/* A value read in place (bcast) extends the life of what it reads. */
static int
storage_of(const IrFunc *f, int id)
{
	while (f->v[id].op == IR_bcast)
		id = f->v[id].arg[0];
	return id;
}

int *
cg_last_uses(const IrFunc *f, const char *live, const int *roots, int nroots)
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

/* Free buffers are kept per size, so finding one to reuse is quick. */
typedef struct SizeClass {
	int batched;
	long numel;
	int free_head;          /* a free buffer of this size, or -1 */
} SizeClass;

typedef struct Planner {
	CgPlan *p;
	SizeClass *classes;
	int nclasses;
	int *cls;               /* per buffer: its size class */
	int *next_free;         /* per buffer: the next free one of its size */
	char *is_free;
} Planner;

static int
size_class(Planner *pl, int batched, long numel)
{
	for (int c = 0; c < pl->nclasses; c++)
		if (pl->classes[c].batched == batched &&
		    pl->classes[c].numel == numel)
			return c;
	pl->classes = realloc(pl->classes, (size_t)(pl->nclasses + 1) *
		sizeof *pl->classes);
	pl->classes[pl->nclasses] = (SizeClass){ batched, numel, -1 };
	return pl->nclasses++;
}

static int
take_buffer(Planner *pl, int batched, long numel)
{
	CgPlan *p = pl->p;
	int c = size_class(pl, batched, numel);
	int b = pl->classes[c].free_head;

	if (b >= 0) {
		pl->classes[c].free_head = pl->next_free[b];
		pl->is_free[b] = 0;
		return b;
	}
	b = p->nbuf++;
	pl->cls[b] = c;
	p->off_b[b] = batched ? p->size_b : 0;
	p->off_c[b] = batched ? 0 : p->size_c;
	if (batched)
		p->size_b += numel;
	else
		p->size_c += numel;
	return b;
}

static void
give_back(Planner *pl, int b)
{
	SizeClass *c = &pl->classes[pl->cls[b]];

	if (pl->is_free[b])
		return;
	pl->is_free[b] = 1;
	pl->next_free[b] = c->free_head;
	c->free_head = b;
}

/* Buffers of operands whose last reader is `id` become free. */
static void
release_operands(Planner *pl, const IrFunc *f, int id, const int *last)
{
	for (int k = 0; k < ir_arity(f->v[id].op); k++) {
		int s = storage_of(f, f->v[id].arg[k]);
		int b = pl->p->buf[s];
		if (b >= 0 && last[s] == id)
			give_back(pl, b);
	}
}

void
cg_plan(const IrFunc *f, const char *live, const int *roots, int nroots,
	const char *scalar, CgPlan *p)
{
	int *last = cg_last_uses(f, live, roots, nroots);
	size_t n = (size_t)f->n + 1;
	Planner pl = { .p = p, .cls = malloc(n * sizeof(int)),
		.next_free = malloc(n * sizeof(int)), .is_free = calloc(n, 1) };

	*p = (CgPlan){ .buf = malloc(n * sizeof(int)),
		.off_b = malloc(n * sizeof(long)),
		.off_c = malloc(n * sizeof(long)) };
	for (int id = 0; id < f->n; id++) {
		const IrValue *v = &f->v[id];
		p->buf[id] = -1;
		if (!live[id] || !cg_stored(v))
			continue;
		if (scalar && scalar[id]) {
			release_operands(&pl, f, id, last);
			continue;
		}
		if (ir_elementwise(v->op))
			release_operands(&pl, f, id, last);
		p->buf[id] = take_buffer(&pl, v->type.batched,
			ir_numel(&v->type));
		if (!ir_elementwise(v->op))
			release_operands(&pl, f, id, last);
		if (last[id] < 0)
			give_back(&pl, p->buf[id]);
	}
	/* per-example buffers go after the shared ones */
	for (int b = 0; b < p->nbuf; b++)
		if (pl.classes[pl.cls[b]].batched)
			p->off_c[b] = p->size_c;
	free(last);
	free(pl.classes);
	free(pl.cls);
	free(pl.next_free);
	free(pl.is_free);
}

void
cg_plan_free(CgPlan *p)
{
	free(p->buf);
	free(p->off_b);
	free(p->off_c);
}

int
cg_entry_roots(const IrModule *m, CgEntry which, int *root)
{
	const IrFunc *f = &m->fn;
	int n = 0;

	if (which == CG_PREDICT) {
		root[n++] = f->output;
		return n;
	}
	root[n++] = f->loss;
	for (int i = 0; which != CG_LOSS && i < m->nparams; i++)
		if (f->grad[i] >= 0)
			root[n++] = f->grad[i];
	for (int i = 0; which == CG_LOSS_GRAD_INPUTS && i < m->ninputs; i++)
		if (f->input_grad[i] >= 0)
			root[n++] = f->input_grad[i];
	return n;
}
