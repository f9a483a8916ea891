/*
 * simplify.c - constant folding, algebraic simplification and strength
 * reduction on the fused function.
 *
 * Needs: a function in definition order.  Guarantees: the same results,
 * bit for bit, for all inputs, finite or not: only identities that hold for
 * Inf, NaN and signed zeros are used (x * 1 = x, x - 0 = x, x / 1 = x,
 * -(-x) = x, x^1 = x, x^0 = 1 (also for NaN, as C's pow has it), x^2 =
 * x * x, where(c, x, x) = x, and broadcasts to the same type).  x + 0 = x
 * is not used: it turns -0 into +0.  Values made redundant are left for
 * dead-code elimination.
 */
#include <stdlib.h>
#include <string.h>

#include "ir.h"

static int
is_const(const IrFunc *f, int id, double num)
{
	return id >= 0 && f->v[id].op == IR_const && f->v[id].num == num;
}

static int
same_type(const IrFunc *f, int a, int b)
{
	return memcmp(&f->v[a].type, &f->v[b].type, sizeof(IrType)) == 0;
}

/* The folded value of an element-wise op whose operands are constants:
 * the op alone, in a function of its own, through the interpreter. */
static double
fold_value(const IrFunc *f, const IrValue *v)
{
	IrValue tiny[4];
	IrModule m = { .fn = { .v = tiny, .n = 0 } };
	double one[3], out, *vals[4];
	IrBatch batch = { .n = 1 };
	IrEval e = { &m, &batch, vals };
	int k, arity = ir_arity(v->op);

	for (k = 0; k < arity; k++) {
		tiny[k] = f->v[v->arg[k]];
		one[k] = tiny[k].num;
		vals[k] = &one[k];
	}
	tiny[k] = *v;
	tiny[k].type.rank = 0;
	tiny[k].type.batched = 0;
	for (int j = 0; j < arity; j++)
		tiny[k].arg[j] = j;
	m.fn.n = k + 1;
	ir_eval_fns[v->op](&e, &tiny[k], &out);
	return out;
}

static int
all_const(const IrFunc *f, const IrValue *v)
{
	for (int k = 0; k < ir_arity(v->op); k++)
		if (f->v[v->arg[k]].op != IR_const ||
		    f->v[v->arg[k]].type.rank != 0)
			return 0;
	return ir_arity(v->op) > 0;
}

static void
make_const(IrValue *v, double num)
{
	v->op = IR_const;
	v->arg[0] = v->arg[1] = v->arg[2] = -1;
	v->num = num;
	v->axis = -1;
	v->n = 0;
	v->type.batched = 0;
}

/* The value an op reduces to, or -1 when it stays. */
static int
identity(IrFunc *f, int id)
{
	IrValue *v = &f->v[id];
	int x = v->arg[0], y = v->arg[1];

	switch (v->op) {
	case IR_mul: case IR_smul:
		if (is_const(f, y, 1) && same_type(f, x, id))
			return x;
		if (is_const(f, x, 1) && same_type(f, y, id))
			return y;
		return -1;
	case IR_div:
		return is_const(f, y, 1) && same_type(f, x, id) ? x : -1;
	case IR_sub:
		return is_const(f, y, 0) && same_type(f, x, id) ? x : -1;
	case IR_neg:
		return f->v[x].op == IR_neg ? f->v[x].arg[0] : -1;
	case IR_powi:
		return v->num == 1 ? x : -1;
	case IR_where:
		return y == v->arg[2] && same_type(f, y, id) ? y : -1;
	case IR_bcastto: case IR_sumto:
		return same_type(f, x, id) ? x : -1;
	default:
		return -1;
	}
}

/* Rewrites in place that need no new values. */
static void
reduce_strength(IrValue *v)
{
	if (v->op == IR_powi && v->num == 2) {
		v->op = IR_mul;
		v->arg[1] = v->arg[0];
		v->num = 0;
	} else if (v->op == IR_powi && v->num == 0) {
		make_const(v, 1);
	}
}

static void
remap_roots(IrFunc *f, const int *rep)
{
	f->loss = rep[f->loss];
	if (f->output >= 0)
		f->output = rep[f->output];
	for (int i = 0; f->grad && i < f->nparams; i++)
		if (f->grad[i] >= 0)
			f->grad[i] = rep[f->grad[i]];
	for (int i = 0; f->input_grad && i < f->ninputs; i++)
		if (f->input_grad[i] >= 0)
			f->input_grad[i] = rep[f->input_grad[i]];
}

/* Constant folding: element-wise ops of scalar constants. */
void
ir_fold(IrFunc *f)
{
	for (int id = 0; id < f->n; id++) {
		IrValue *v = &f->v[id];
		if (ir_elementwise(v->op) && all_const(f, v))
			make_const(v, fold_value(f, v));
	}
}

void
ir_simplify(IrFunc *f)
{
	int *rep = malloc(((size_t)f->n + 1) * sizeof *rep);

	for (int id = 0; id < f->n; id++) {
		IrValue *v = &f->v[id];
		for (int k = 0; k < ir_arity(v->op); k++)
			v->arg[k] = rep[v->arg[k]];
		reduce_strength(v);
		int same = identity(f, id);
		rep[id] = same >= 0 ? same : id;
	}
	remap_roots(f, rep);
	free(rep);
}
