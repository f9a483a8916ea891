/*
 * grad.c - reverse-mode differentiation as an IR-to-IR transformation.
 *
 * Needs: a forward function with its loss.  Guarantees: the function is
 * extended, after the forward values, with the adjoint computation, and
 * fn.grad[i] names the value of d loss / d param i (-1 where the loss does
 * not depend on it).  The forward values are untouched, so the result is one
 * fused loss-and-gradient function.
 *
 * The walk visits forward values from the loss down.  A value's adjoint is
 * complete when it is visited, because every use of it comes later in the
 * array; its op's rule (in adjoint.c) then adds one contribution per operand
 * through grad_accum(), which sums the contributions of several uses.
 *
 * Strong zeros: a contribution whose adjoint or partial is exactly zero must
 * be exactly zero, even when the other factor is Inf or NaN (the branch a
 * where() did not take, sqrt at 0).  back_mul() multiplies with `smul`,
 * which guarantees that, but only when a factor may be non-finite: a value
 * is suspect when its op can turn finite operands into Inf or NaN, or when
 * an operand is suspect.  Ordinary code keeps the plain multiply.
 */
#include <stdlib.h>

#include "ir.h"

struct GradCtx {
	IrModule *m;
	IrFunc *f;
	int *adj;               /* adjoint of each forward value, -1 while 0 */
	char *active;           /* the value depends on a parameter */
	char *suspect;          /* the value may be non-finite */
	int suspect_cap;
	Loc loc;                /* source of the value being differentiated */
};

/* A divisor that cannot be zero: the batch size, a nonzero constant. */
static int
nonzero(const IrFunc *f, int id)
{
	const IrValue *d = &f->v[id];

	return d->op == IR_nbatch || (d->op == IR_const && d->num != 0);
}

/* Ops that can make Inf or NaN out of finite operands. */
static int
makes_nonfinite(const IrFunc *f, const IrValue *v)
{
	switch (v->op) {
	case IR_div:
		return !nonzero(f, v->arg[1]);
	case IR_log: case IR_sqrt: case IR_pow: case IR_exp: case IR_log1p:
		return 1;
	case IR_powi:
		return v->num < 0;
	default:
		return 0;
	}
}

static void
mark_suspect(GradCtx *g, int id)
{
	const IrValue *v = &g->f->v[id];
	int s = makes_nonfinite(g->f, v);

	if (id >= g->suspect_cap) {
		int cap = g->suspect_cap * 2 > id + 1 ? g->suspect_cap * 2 : id + 1;
		g->suspect = realloc(g->suspect, (size_t)cap);
		g->suspect_cap = cap;
	}
	for (int k = 0; k < ir_arity(v->op); k++)
		s |= g->suspect[v->arg[k]];
	g->suspect[id] = (char)s;
}

IrValue
grad_value(GradCtx *g, int id)
{
	return g->f->v[id];
}

int
grad_adjoint(GradCtx *g, int id)
{
	return g->adj[id];
}

int
back_emit(GradCtx *g, IrOp op, int a, int b, int c, const IrType *t)
{
	int id = ir_emit(g->f, op, a, b, c, t, g->loc);

	g->f->v[id].adjoint = 1;
	mark_suspect(g, id);
	return id;
}

int
back_const(GradCtx *g, double num)
{
	int id = ir_const(g->f, num, g->loc);

	g->f->v[id].adjoint = 1;
	mark_suspect(g, id);
	return id;
}

/* Sets a new value's attributes; returns it. */
int
back_attr(GradCtx *g, int id, double num, int axis, int n)
{
	g->f->v[id].num = num;
	g->f->v[id].axis = axis;
	g->f->v[id].n = n;
	mark_suspect(g, id);
	return id;
}

int
back_mul(GradCtx *g, int a, int b)
{
	int strong = g->suspect[a] || g->suspect[b];

	return back_emit(g, strong ? IR_smul : IR_mul, a, b, -1, NULL);
}

/*
 * adj[x] += c, first bringing c to x's type: a contribution that
 * broadcasting widened is summed back (sumto), one computed per example
 * for a value shared by the batch is summed over the batch, and one shared
 * by the batch for a per-example value is copied to each example.
 */
void
grad_accum(GradCtx *g, int x, int c)
{
	IrType want = g->f->v[x].type, have = g->f->v[c].type;

	if (!g->active[x])
		return;
	if (!ir_same_shape(&want, &have))
		c = back_emit(g, IR_sumto, c, -1, -1, &want);
	else if (have.batched && !want.batched)
		c = back_emit(g, IR_bsum, c, -1, -1, &want);
	else if (!have.batched && want.batched)
		c = back_emit(g, IR_bcast, c, -1, -1, &want);
	g->adj[x] = g->adj[x] < 0 ? c :
		back_emit(g, IR_add, g->adj[x], c, -1, NULL);
}

static void
mark_active(GradCtx *g, int nfwd)
{
	for (int i = 0; i < nfwd; i++) {
		const IrValue *v = &g->f->v[i];

		g->active[i] = v->op == IR_param ||
			(v->op == IR_input && g->m->wrt_inputs);
		for (int k = 0; k < ir_arity(v->op); k++)
			g->active[i] |= g->active[v->arg[k]];
		mark_suspect(g, i);
	}
}

/* Inputs are numbered by column; find each declared input's leaf. */
static void
collect_input_grads(IrModule *m, const int *adj, int nfwd)
{
	IrFunc *f = &m->fn;

	f->ninputs = m->ninputs;
	f->input_grad = malloc(((size_t)m->ninputs + 1) * sizeof *f->input_grad);
	for (int i = 0; i < m->ninputs; i++) {
		f->input_grad[i] = -1;
		for (int id = 0; id < nfwd; id++)
			if (f->v[id].op == IR_input &&
			    f->v[id].slot == m->inputs[i].column)
				f->input_grad[i] = adj[id];
	}
}

void
ir_grad(IrModule *m)
{
	IrFunc *f = &m->fn;
	int nfwd = f->n;
	GradCtx g = { .m = m, .f = f };

	g.adj = malloc(((size_t)nfwd + 1) * sizeof *g.adj);
	g.active = calloc((size_t)nfwd + 1, 1);
	for (int i = 0; i < nfwd; i++)
		g.adj[i] = -1;
	mark_active(&g, nfwd);

	g.loc = f->v[f->loss].loc;
	if (g.active[f->loss])
		g.adj[f->loss] = back_const(&g, 1);
	for (int id = f->loss; id >= 0; id--) {
		if (g.adj[id] < 0)
			continue;
		g.loc = f->v[id].loc;
		ir_grad_fns[f->v[id].op](&g, id);
	}

	f->grad = malloc(((size_t)m->nparams + 1) * sizeof *f->grad);
	for (int i = 0; i < m->nparams; i++)
		f->grad[i] = -1;
	for (int id = 0; id < nfwd; id++)
		if (f->v[id].op == IR_param)
			f->grad[f->v[id].slot] = g.adj[id];
	if (m->wrt_inputs)
		collect_input_grads(m, g.adj, nfwd);
	m->has_grad = 1;
	free(g.adj);
	free(g.active);
	free(g.suspect);
}
