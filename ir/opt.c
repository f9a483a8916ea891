/*
 * opt.c - passes over the fused function: common-subexpression elimination,
 * dead-code elimination, and scheduling for loops over the batch.
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

/* What the scheduler does with a value. */
enum { PER_EXAMPLE, INVARIANT, SUMMARY };

/* INVARIANT: the same for every example, as everything it reads is (no
 * data, no batch sum); SUMMARY: one number for the batch that is not
 * invariant, such as the loss or a scalar's gradient; else PER_EXAMPLE,
 * which includes sums over the batch of more than one number, kept where
 * they are so that what they read need not live longer.  Reads precede
 * their readers, so one pass in order settles it. */
static void
classify(const IrFunc *f, char *kind)
{
	for (int id = 0; id < f->n; id++) {
		const IrValue *v = &f->v[id];
		int inv = !v->type.batched && v->op != IR_bsum &&
			v->op != IR_input && v->op != IR_target;
		for (int k = 0; k < ir_arity(v->op) && inv; k++)
			inv = kind[v->arg[k]] == INVARIANT;
		kind[id] = inv ? INVARIANT : !v->type.batched &&
			ir_numel(&v->type) == 1 ? SUMMARY : PER_EXAMPLE;
	}
}

typedef struct Order {
	const IrFunc *f;
	const char *kind;
	char *placed;
	int *newid;
	int next;
} Order;

/* Places id after the summaries it reads that are still waiting. */
static void
place(Order *o, int id)
{
	const IrValue *v = &o->f->v[id];

	if (o->placed[id])
		return;
	o->placed[id] = 1;
	for (int k = 0; k < ir_arity(v->op); k++)
		if (o->kind[v->arg[k]] == SUMMARY)
			place(o, v->arg[k]);
	o->newid[id] = o->next++;
}

/*
 * Orders the function for code that loops over the examples.  Values the
 * same for every example (functions of parameters and constants, such as
 * exp(log_s) or the backward pass's seed 1 / batch) go first; summaries of
 * the batch wait until something reads them, or the end, where the sums
 * come before what is made of them (the loss).  Then nothing stands
 * between the forward pass's per-example values and the backward pass's,
 * and code generation runs both, and the sums of both, in one loop.  Each
 * group keeps its order, and every value still follows what it reads.
 */
void
ir_schedule(IrFunc *f)
{
	size_t n = (size_t)f->n + 1;
	char *kind = malloc(n);
	IrValue *v = malloc(n * sizeof *v);
	Order o = { f, kind, calloc(n, 1), malloc(n * sizeof(int)), 0 };

	classify(f, kind);
	for (int id = 0; id < f->n; id++)
		if (kind[id] == INVARIANT)
			place(&o, id);
	for (int id = 0; id < f->n; id++)
		if (kind[id] == PER_EXAMPLE)
			place(&o, id);
	for (int id = 0; id < f->n; id++)
		if (f->v[id].op == IR_bsum)
			place(&o, id);
	for (int id = 0; id < f->n; id++)
		place(&o, id);
	for (int id = 0; id < f->n; id++) {
		IrValue x = f->v[id];
		for (int k = 0; k < ir_arity(x.op); k++)
			x.arg[k] = o.newid[x.arg[k]];
		v[o.newid[id]] = x;
	}
	memcpy(f->v, v, (size_t)f->n * sizeof *v);
	remap_roots(f, o.newid, f->nparams);
	free(kind);
	free(v);
	free(o.placed);
	free(o.newid);
}
