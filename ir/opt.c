/*
 * opt.c - passes over the fused function: common-subexpression elimination
 * and dead-code elimination.
 *
 * Both need a function whose operands precede their uses and keep that
 * order.  The roots are the loss, the output and the gradients; everything
 * else survives only if a root needs it.
 */
#include <stdlib.h>
#include <string.h>

#include "ir.h"

static int
roots(const IrFunc *f, int *out, int nparams)
{
	int n = 0;

	out[n++] = f->loss;
	if (f->output >= 0)
		out[n++] = f->output;
	for (int i = 0; f->grad && i < nparams; i++)
		if (f->grad[i] >= 0)
			out[n++] = f->grad[i];
	for (int i = 0; f->input_grad && i < f->ninputs; i++)
		if (f->input_grad[i] >= 0)
			out[n++] = f->input_grad[i];
	return n;
}

/* Marks in `live` every value that one of the roots reads; returns how many. */
int
ir_live(const IrFunc *f, const int *root, int nroots, char *live)
{
	int count = 0;

	memset(live, 0, (size_t)f->n);
	for (int i = 0; i < nroots; i++)
		live[root[i]] = 1;
	for (int id = f->n - 1; id >= 0; id--) {
		if (!live[id])
			continue;
		count++;
		for (int k = 0; k < ir_ops[f->v[id].op].arity; k++)
			live[f->v[id].arg[k]] = 1;
	}
	return count;
}

static void
remap_roots(IrFunc *f, const int *newid, int nparams)
{
	f->loss = newid[f->loss];
	if (f->output >= 0)
		f->output = newid[f->output];
	for (int i = 0; f->grad && i < nparams; i++)
		if (f->grad[i] >= 0)
			f->grad[i] = newid[f->grad[i]];
	for (int i = 0; f->input_grad && i < f->ninputs; i++)
		if (f->input_grad[i] >= 0)
			f->input_grad[i] = newid[f->input_grad[i]];
}

/* Keeps the values for which keep[id] is set, renumbering the rest. */
static void
compact(IrFunc *f, const char *keep, int *newid, int nparams)
{
	int n = 0;

	for (int id = 0; id < f->n; id++) {
		if (!keep[id]) {
			newid[id] = -1;
			continue;
		}
		IrValue v = f->v[id];
		for (int k = 0; k < ir_arity(v.op); k++)
			v.arg[k] = newid[v.arg[k]];
		newid[id] = n;
		f->v[n++] = v;
	}
	f->n = n;
	remap_roots(f, newid, nparams);
}

void
ir_dce(IrFunc *f)
{
	int np = f->nparams;
	int *root = malloc(((size_t)np + f->ninputs + 2) * sizeof *root);
	char *live = malloc((size_t)f->n + 1);
	int *newid = malloc(((size_t)f->n + 1) * sizeof *newid);

	ir_live(f, root, roots(f, root, np), live);
	compact(f, live, newid, np);
	free(root);
	free(live);
	free(newid);
}

static int
same(const IrValue *a, const IrValue *b)
{
	int arity = ir_ops[a->op].arity;

	if (a->op != b->op || a->slot != b->slot || a->axis != b->axis ||
	    a->n != b->n || memcmp(&a->type, &b->type, sizeof a->type) != 0)
		return 0;
	if (memcmp(&a->num, &b->num, sizeof a->num) != 0)
		return 0;
	for (int k = 0; k < arity; k++)
		if (a->arg[k] != b->arg[k])
			return 0;
	return 1;
}

static unsigned
hash(const IrValue *v)
{
	unsigned h = (unsigned)v->op * 2654435761u;
	unsigned char bytes[sizeof v->num];

	memcpy(bytes, &v->num, sizeof bytes);
	for (size_t i = 0; i < sizeof bytes; i++)
		h = (h ^ bytes[i]) * 16777619u;
	for (int k = 0; k < ir_ops[v->op].arity; k++)
		h = (h ^ (unsigned)v->arg[k]) * 16777619u;
	return h ^ (unsigned)v->slot * 40503u;
}

/*
 * Values with the same op, operands and attributes are computed once, so
 * the backward pass reuses what the forward pass already has.  Operands are
 * rewritten to their representative as the walk goes, which is why one
 * pass in definition order finds every duplicate.
 */
void
ir_cse(IrFunc *f)
{
	int np = f->nparams;
	size_t cap = 1;
	int *table, *rep = malloc(((size_t)f->n + 1) * sizeof *rep);
	char *keep = malloc((size_t)f->n + 1);

	while (cap < 2 * (size_t)f->n)
		cap *= 2;
	table = malloc(cap * sizeof *table);
	memset(table, -1, cap * sizeof *table);
	for (int id = 0; id < f->n; id++) {
		IrValue *v = &f->v[id];
		for (int k = 0; k < ir_ops[v->op].arity; k++)
			v->arg[k] = rep[v->arg[k]];
		size_t h = hash(v) & (cap - 1);
		while (table[h] >= 0 && !same(&f->v[table[h]], v))
			h = (h + 1) & (cap - 1);
		if (table[h] < 0)
			table[h] = id;
		rep[id] = table[h];
		keep[id] = rep[id] == id;
	}
	remap_roots(f, rep, np);
	compact(f, keep, rep, np);
	free(table);
	free(rep);
	free(keep);
}
