/*
 * lower.c - from the checked syntax tree to the forward IR function.
 *
 * Needs: a program that check_program() accepted.  Guarantees: a module
 * whose function computes, for a batch, the mean of the per-example loss
 * and the per-example output.  Values that depend on an input or target are
 * batched; the rest are computed once per batch.
 *
 *   loss (yhat - y)^2     becomes    %9 = powi %8, 2      [batched]
 *                                    %10 = bsum %9
 *                                    %11 = nbatch
 *                                    %12 = div %10, %11
 */
#include <math.h>
#include <stdlib.h>

#include "ir.h"

typedef struct Lower {
	IrFunc *f;
	const Decl **decl;      /* decl[i] is bound to value[i] */
	int *value;
	int n;
} Lower;

static int lower_expr(Lower *l, const Expr *e);

static int
bound_value(const Lower *l, const Decl *d)
{
	for (int i = l->n - 1; i >= 0; i--)
		if (l->decl[i] == d)
			return l->value[i];
	abort();    /* check_program() resolved every name to a bound decl */
}

static void
bind(Lower *l, const Decl *d, int value)
{
	l->decl = realloc(l->decl, (size_t)(l->n + 1) * sizeof *l->decl);
	l->value = realloc(l->value, (size_t)(l->n + 1) * sizeof *l->value);
	l->decl[l->n] = d;
	l->value[l->n] = value;
	l->n++;
}

/* A literal integer exponent, possibly negated, or 0 when there is none. */
static int
int_exponent(const Expr *e, double *n)
{
	double sign = 1;

	if (e->kind == E_UNARY && e->op == '-') {
		sign = -1;
		e = e->lhs;
	}
	if (e->kind != E_NUM || e->num != floor(e->num) || fabs(e->num) > 64)
		return 0;
	*n = sign * e->num;
	return 1;
}

static int
lower_binary(Lower *l, const Expr *e)
{
	static const struct { int op; IrOp ir; } ops[] = {
		{ '+', IR_add }, { '-', IR_sub }, { '*', IR_mul },
		{ '/', IR_div }, { '^', IR_pow },
	};
	double n;
	int x = lower_expr(l, e->lhs);

	if (e->op == '^' && int_exponent(e->rhs, &n))
		return ir_powi(l->f, x, n, e->loc);
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
		if (ops[i].op == e->op)
			return ir_emit(l->f, ops[i].ir, x,
				lower_expr(l, e->rhs), e->loc);
	abort();    /* the grammar has no other binary operator */
}

static int
lower_expr(Lower *l, const Expr *e)
{
	switch (e->kind) {
	case E_NUM:
		return ir_const(l->f, e->num, e->loc);
	case E_NAME:
		return bound_value(l, e->decl);
	case E_UNARY:
		return ir_emit(l->f, IR_neg, lower_expr(l, e->lhs), -1, e->loc);
	case E_BINARY:
		return lower_binary(l, e);
	default:
		break;
	}
	abort();
}

/* The trainer minimises the mean over the batch of the per-example loss. */
static int
batch_mean(IrFunc *f, int x, Loc loc)
{
	if (!f->v[x].batched)
		return x;
	int sum = ir_emit(f, IR_bsum, x, -1, loc);
	int n = ir_leaf(f, IR_nbatch, 0, loc);
	return ir_emit(f, IR_div, sum, n, loc);
}

static void
lower_decl(Lower *l, IrModule *m, const Decl *d)
{
	IrFunc *f = l->f;

	switch (d->kind) {
	case D_INPUT:
		m->inputs[d->index] = d->name;
		bind(l, d, ir_leaf(f, IR_input, d->index, d->loc));
		break;
	case D_TARGET:
		m->targets[d->index] = d->name;
		bind(l, d, ir_leaf(f, IR_target, d->index, d->loc));
		break;
	case D_PARAM:
		m->params[d->index] = (IrParam){ d->name, d->init, d->loc };
		bind(l, d, ir_leaf(f, IR_param, d->index, d->loc));
		break;
	case D_LET:
		bind(l, d, lower_expr(l, d->expr));
		break;
	case D_OUTPUT:
		f->output = lower_expr(l, d->expr);
		break;
	case D_LOSS:
		f->loss = batch_mean(f, lower_expr(l, d->expr), d->loc);
		break;
	default:
		break;
	}
}

static void
lower_train(IrModule *m, const Train *t)
{
	m->train.opt = check_opt_name(t->opt);
	m->train.lr = t->lr;
	m->train.momentum = t->momentum;
	m->train.epochs = (long)t->epochs;
	m->train.batch = (long)t->batch;
	m->train.seed = (unsigned long long)t->seed;
}

IrModule *
ir_lower(Program *p, const char *name)
{
	IrModule *m = calloc(1, sizeof *m);
	Lower l = { .f = &m->fn };

	m->name = name;
	m->path = p->src->path;
	m->nparams = p->nparams;
	m->ninputs = p->ninputs;
	m->ntargets = p->ntargets;
	m->params = calloc((size_t)p->nparams + 1, sizeof *m->params);
	m->inputs = calloc((size_t)p->ninputs + 1, sizeof *m->inputs);
	m->targets = calloc((size_t)p->ntargets + 1, sizeof *m->targets);
	m->fn.output = -1;
	m->fn.nparams = p->nparams;
	for (const Decl *d = p->decls; d; d = d->next)
		lower_decl(&l, m, d);
	lower_train(m, p->train);
	free(l.decl);
	free(l.value);
	return m;
}

void
ir_module_free(IrModule *m)
{
	if (!m)
		return;
	ir_func_free(&m->fn);
	free(m->params);
	free(m->inputs);
	free(m->targets);
	free(m);
}
