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
 * array; its op's rule (in ops.c) then adds one contribution per operand
 * through grad_accum(), which sums the contributions of several uses.
 */
#include <stdlib.h>

#include "ir.h"

struct GradCtx {
	IrModule *m;
	IrFunc *f;
	int *adj;       /* adjoint of each forward value, -1 while zero */
	char *active;   /* the value depends on a parameter */
	Loc loc;        /* source of the value being differentiated */
};

const IrValue *
grad_value(GradCtx *g, int id)
{
	return &g->f->v[id];
}

int
grad_adjoint(GradCtx *g, int id)
{
	return g->adj[id];
}

int
back_emit(GradCtx *g, IrOp op, int a, int b)
{
	int id = ir_emit(g->f, op, a, b, g->loc);

	g->f->v[id].adjoint = 1;
	return id;
}

int
back_const(GradCtx *g, double num)
{
	int id = ir_const(g->f, num, g->loc);

	g->f->v[id].adjoint = 1;
	return id;
}

int
back_powi(GradCtx *g, int x, double n)
{
	int id = ir_powi(g->f, x, n, g->loc);

	g->f->v[id].adjoint = 1;
	return id;
}

/*
 * adj[x] += c.  A contribution computed per example to a value that is
 * shared by the batch is summed over the batch; one shared across the batch
 * into a per-example value is copied to each example.
 */
void
grad_accum(GradCtx *g, int x, int c)
{
	int want = g->f->v[x].batched;

	if (!g->active[x])
		return;
	if (g->f->v[c].batched && !want)
		c = back_emit(g, IR_bsum, c, -1);
	else if (!g->f->v[c].batched && want)
		c = back_emit(g, IR_bcast, c, -1);
	g->adj[x] = g->adj[x] < 0 ? c : back_emit(g, IR_add, g->adj[x], c);
}

static void
mark_active(GradCtx *g, int nfwd)
{
	for (int i = 0; i < nfwd; i++) {
		const IrValue *v = &g->f->v[i];
		int arity = ir_ops[v->op].arity;

		g->active[i] = v->op == IR_param;
		for (int k = 0; k < arity; k++)
			g->active[i] |= g->active[v->arg[k]];
	}
}

void
ir_grad(IrModule *m)
{
	IrFunc *f = &m->fn;
	int nfwd = f->n;
	GradCtx g = { .m = m, .f = f };

	g.adj = malloc((size_t)nfwd * sizeof *g.adj);
	g.active = calloc((size_t)nfwd, 1);
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
	m->has_grad = 1;
	free(g.adj);
	free(g.active);
}
