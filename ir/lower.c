/*
 * lower.c - from the checked syntax tree to the forward IR function.
 *
 * Needs: a program that check_program() accepted.  Guarantees: a module
 * whose function computes, for a batch, the mean of the per-example loss
 * and the per-example output.  Values that depend on an input or target are
 * batched; the rest are computed once per batch.  User functions are
 * inlined (the checker instantiated each call).
 *
 *   loss (yhat - y)^2     becomes    %9 = powi %8, 2 : [B]
 *                                    %10 = bsum %9 : []
 *                                    %11 = nbatch : []
 *                                    %12 = div %10, %11 : []
 *
 * A comprehension is not unrolled: its index becomes `iota` over the range,
 * a vector, and the body is computed for all indices at once with the
 * range as a leading axis, which the reducer then folds.  A value inside
 * the body that depends on the index ("varies") has type [n, S...] where S
 * is its per-index shape; those that do not keep their own type, and
 * broadcasting lines them up.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "ir.h"

/* A lowered expression: its value, and whether it varies with the index
 * of the comprehension being lowered. */
typedef struct LV {
	int id;
	int varies;
} LV;

typedef struct Lower {
	Program *p;
	IrModule *m;
	IrFunc *f;
	const Decl **decl;      /* decl[i] is bound to value[i] */
	LV *value;
	int nbound, cap;
	int *table;             /* open hash: decl -> latest binding */
	size_t table_cap;
	long range;             /* the comprehension's length, 0 outside */
	int failed;
	Loc failed_at;
	int too_big;            /* a comprehension outgrew the limit */
} Lower;

static LV lower_expr(Lower *l, const Expr *e);

static size_t
slot_of(const Lower *l, const Decl *d)
{
	size_t mask = l->table_cap - 1;
	size_t i = ((size_t)(uintptr_t)d >> 4) * 2654435761u & mask;

	while (l->table[i] >= 0 && l->decl[l->table[i]] != d)
		i = (i + 1) & mask;
	return i;
}

/* A binding table that stays linear in the program's size. */
static void
grow_table(Lower *l)
{
	size_t cap = l->table_cap ? 2 * l->table_cap : 256;

	free(l->table);
	l->table = malloc(cap * sizeof *l->table);
	l->table_cap = cap;
	for (size_t i = 0; i < cap; i++)
		l->table[i] = -1;
	for (int k = 0; k < l->nbound; k++)
		l->table[slot_of(l, l->decl[k])] = k;
}

static void
bind(Lower *l, const Decl *d, LV v)
{
	if (l->nbound == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->decl = realloc(l->decl, (size_t)l->cap * sizeof *l->decl);
		l->value = realloc(l->value, (size_t)l->cap * sizeof *l->value);
	}
	l->decl[l->nbound] = d;
	l->value[l->nbound] = v;
	l->nbound++;
	if ((size_t)l->nbound * 2 >= l->table_cap)
		grow_table(l);
	else
		l->table[slot_of(l, d)] = l->nbound - 1;
}

static LV
bound(Lower *l, const Decl *d)
{
	int i = l->table_cap ? l->table[slot_of(l, d)] : -1;

	if (i < 0)
		abort();    /* check_program() resolved every name to a decl */
	return l->value[i];
}

static LV
fail(Lower *l, Loc loc, const char *what)
{
	/* an inlined function lowers once per call: say it once */
	if (!l->failed || loc.line != l->failed_at.line ||
	    loc.col != l->failed_at.col)
		diag_error(l->p->src, loc, "%s is not supported yet", what);
	l->failed = 1;
	l->failed_at = loc;
	return (LV){ ir_const(l->f, 0, loc), 0 };
}

static int
batched(const Lower *l, int id)
{
	return l->f->v[id].type.batched;
}

/* The IR type of an expression: its shape, the range axis when it varies,
 * and the batch axis when an operand has it. */
static IrType
type_of(const Lower *l, const Shape *s, int varies, int batch)
{
	IrType t = { .batched = batch };

	if (varies)
		t.dim[t.rank++] = (int)l->range;
	for (int i = 0; i < s->rank; i++)
		t.dim[t.rank++] = s->dim[i];
	return t;
}

/*
 * The checker bounds every value of the program; only a comprehension's
 * body, which holds all its indices at once (the range times the body's
 * shape), can grow past that here.  The index itself (iota) is exempt, as
 * a body that does not use it is folded in closed form.
 */
static int
emit(Lower *l, IrOp op, int a, int b, int c, const IrType *t, Loc loc)
{
	int id = ir_emit(l->f, op, a, b, c, t, loc);
	long n = ir_numel(&l->f->v[id].type);

	if (op != IR_iota && n > MAX_SIZE && !l->too_big) {
		diag_error(l->p->src, loc, "this comprehension's body would "
			"hold %ld elements at once (%ld indices); the limit is "
			"%d", n, l->range, MAX_SIZE);
		l->too_big = l->failed = 1;
	}
	return id;
}

static int
with_attr(Lower *l, int id, double num, int axis, int n)
{
	l->f->v[id].num = num;
	l->f->v[id].axis = axis;
	l->f->v[id].n = n;
	return id;
}

/*
 * Inside a comprehension, a varying operand of per-index rank r that meets
 * a result of per-index rank `rank` gets size-1 axes after its range axis,
 * so that NumPy alignment pairs its axes with the right ones.
 */
static int
align(Lower *l, LV x, int xrank, int rank, Loc loc)
{
	int id = x.id;

	if (!x.varies)
		return id;
	for (int r = xrank; r < rank; r++) {
		IrType t = l->f->v[id].type;
		for (int d = t.rank; d > 1; d--)
			t.dim[d] = t.dim[d - 1];
		t.dim[1] = 1;
		t.rank++;
		id = with_attr(l, emit(l, IR_expand, id, -1, -1, &t, loc), 0, 1,
			1);
	}
	return id;
}

/* An element-wise op over operands that broadcast. */
static LV
elementwise(Lower *l, IrOp op, const Expr *e, const Expr *const *args,
	int nargs)
{
	LV v[3] = { { -1, 0 }, { -1, 0 }, { -1, 0 } };
	int id[3] = { -1, -1, -1 }, varies = 0;

	for (int k = 0; k < nargs; k++) {
		v[k] = lower_expr(l, args[k]);
		varies |= v[k].varies;
	}
	for (int k = 0; varies && k < nargs; k++)
		id[k] = align(l, v[k], args[k]->shape.rank, e->shape.rank,
			e->loc);
	for (int k = 0; !varies && k < nargs; k++)
		id[k] = v[k].id;
	return (LV){ emit(l, op, id[0], id[1], id[2], NULL, e->loc), varies };
}

static LV
unary(Lower *l, IrOp op, const Expr *e, const Expr *x)
{
	return elementwise(l, op, e, &x, 1);
}

static LV
binary(Lower *l, IrOp op, const Expr *e, const Expr *x, const Expr *y)
{
	const Expr *args[2] = { x, y };

	return elementwise(l, op, e, args, 2);
}

/* A literal integer exponent: x^n is then a product, exact at x <= 0. */
static int
int_exponent(const Expr *e, double *n)
{
	double v = e->kind == E_NUM ? e->num : e->const_value;

	if (e->kind == E_UNARY && e->op == '-' && e->lhs->kind == E_NUM)
		v = -e->lhs->num;
	else if (e->kind != E_NUM && !e->is_const)
		return 0;
	if (v != floor(v) || fabs(v) > 64)
		return 0;
	*n = v;
	return 1;
}

static LV
lower_power(Lower *l, const Expr *e)
{
	double n;

	if (int_exponent(e->rhs, &n)) {
		LV x = lower_expr(l, e->lhs);
		int id = emit(l, IR_powi, x.id, -1, -1, NULL, e->loc);
		return (LV){ with_attr(l, id, n, -1, 0), x.varies };
	}
	return binary(l, IR_pow, e, e->lhs, e->rhs);
}

/* x @ y, dot(x, y) and outer(x, y): per-example products. */
static LV
lower_product(Lower *l, const Expr *e, const Expr *x, const Expr *y, IrOp op)
{
	LV a = lower_expr(l, x), b = lower_expr(l, y);

	if (a.varies || b.varies)
		return fail(l, e->loc, "a matrix product inside a comprehension");
	IrType t = type_of(l, &e->shape, 0, batched(l, a.id) ||
		batched(l, b.id));
	return (LV){ emit(l, op, a.id, b.id, -1, &t, e->loc), 0 };
}

static LV
lower_binary(Lower *l, const Expr *e)
{
	static const struct { int op; IrOp ir; } ops[] = {
		{ '+', IR_add }, { '-', IR_sub }, { '*', IR_mul },
		{ '/', IR_div }, { '<', IR_lt }, { '>', IR_gt },
		{ OP_LE, IR_le }, { OP_GE, IR_ge }, { OP_EQ, IR_eq },
		{ OP_NE, IR_ne }, { OP_AND, IR_and }, { OP_OR, IR_or },
	};

	if (e->op == '^')
		return lower_power(l, e);
	if (e->op == '@')
		return lower_product(l, e, e->lhs, e->rhs, IR_matmul);
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
		if (ops[i].op == e->op)
			return binary(l, ops[i].ir, e, e->lhs, e->rhs);
	abort();    /* the grammar has no other binary operator */
}

/* A reduction along an axis of the expression (all of it when -1). */
static LV
reduce(Lower *l, IrOp op, const Expr *e, LV x, int axis)
{
	IrType t = type_of(l, &e->shape, x.varies, batched(l, x.id));
	int id = emit(l, op, x.id, -1, -1, &t, e->loc);

	if (x.varies && axis < 0)
		return fail(l, e->loc, "a whole-tensor reduction inside a "
			"comprehension");
	return (LV){ with_attr(l, id, 0, axis < 0 ? -1 : axis + x.varies, 0),
		x.varies };
}

static LV
scale(Lower *l, LV x, double k, Loc loc)
{
	int c = ir_const(l->f, k, loc);

	return (LV){ emit(l, IR_mul, x.id, c, -1, NULL, loc), x.varies };
}

static long
count_along(const Shape *s, int axis)
{
	long n = 1;

	if (axis >= 0)
		return s->dim[axis];
	for (int i = 0; i < s->rank; i++)
		n *= s->dim[i];
	return n;
}

static LV
lower_reduction(Lower *l, const Expr *e)
{
	const Expr *x = e->args[0];
	LV v = lower_expr(l, x);

	switch (e->builtin) {
	case B_sum:
		return reduce(l, IR_rsum, e, v, e->axis);
	case B_mean:
		return scale(l, reduce(l, IR_rsum, e, v, e->axis),
			1.0 / (double)count_along(&x->shape, e->axis), e->loc);
	case B_max:
		return reduce(l, IR_rmax, e, v, e->axis);
	case B_min:
		return reduce(l, IR_rmin, e, v, e->axis);
	default:
		return reduce(l, IR_rlse, e, v, e->axis);
	}
}

/* Along the axis the checker resolved: the last unless given. */
static LV
lower_softmax(Lower *l, const Expr *e, IrOp op)
{
	LV x = lower_expr(l, e->args[0]);
	IrType t = l->f->v[x.id].type;
	int id = emit(l, op, x.id, -1, -1, &t, e->loc);

	return (LV){ with_attr(l, id, 0, e->axis + x.varies, 0), x.varies };
}

/* cross_entropy(z, label) = logsumexp(z) - z[label], as a sum against a
 * one-hot vector so that its gradient is softmax(z) - onehot. */
static LV
lower_cross_entropy(Lower *l, const Expr *e)
{
	const Expr *logits = e->args[0];
	LV z = lower_expr(l, logits), label = lower_expr(l, e->args[1]);
	int k = logits->shape.dim[logits->shape.rank - 1];
	IrType hot_t = ir_shape(batched(l, label.id), 1, &k);
	IrType scalar = ir_scalar(batched(l, z.id));

	if (z.varies || label.varies || logits->shape.rank != 1)
		return fail(l, e->loc, "this use of cross_entropy");
	int hot = with_attr(l, emit(l, IR_onehot, label.id, -1, -1, &hot_t,
		e->loc), 0, -1, k);
	int lse = with_attr(l, emit(l, IR_rlse, z.id, -1, -1, &scalar, e->loc),
		0, -1, 0);
	int picked = emit(l, IR_mul, z.id, hot, -1, NULL, e->loc);
	IrType pt = ir_scalar(batched(l, picked));
	int chosen = with_attr(l, emit(l, IR_rsum, picked, -1, -1, &pt, e->loc),
		0, -1, 0);
	return (LV){ emit(l, IR_sub, lse, chosen, -1, NULL, e->loc), 0 };
}

/* norm(v) = sqrt(sum(v^2)); strong zeros make its gradient 0 at 0. */
static LV
lower_norm(Lower *l, const Expr *e)
{
	LV x = lower_expr(l, e->args[0]);
	int sq = with_attr(l, emit(l, IR_powi, x.id, -1, -1, NULL, e->loc), 2,
		-1, 0);
	LV s = reduce(l, IR_rsum, e, (LV){ sq, x.varies }, -1);

	return (LV){ emit(l, IR_sqrt, s.id, -1, -1, NULL, e->loc), s.varies };
}

static LV
lower_transpose(Lower *l, const Expr *e)
{
	LV x = lower_expr(l, e->args[0]);
	IrType t = type_of(l, &e->shape, x.varies, batched(l, x.id));

	return (LV){ emit(l, IR_transpose, x.id, -1, -1, &t, e->loc), x.varies };
}

static int
is_builtin(const Expr *e, Builtin b)
{
	return e->kind == E_CALL && !e->call && e->builtin == b;
}

/*
 * log(sigmoid(z)) is -softplus(-z), and log(softmax(v)) is log_softmax(v):
 * the same values, but finite where the composition underflows to log(0),
 * as it does for |z| near 100 in f32.
 */
static int
stable_log(Lower *l, const Expr *e, LV *out)
{
	const Expr *x = e->args[0];

	if (is_builtin(x, B_sigmoid)) {
		LV z = lower_expr(l, x->args[0]);
		int neg = emit(l, IR_neg, z.id, -1, -1, NULL, e->loc);
		int sp = emit(l, IR_softplus, neg, -1, -1, NULL, e->loc);
		*out = (LV){ emit(l, IR_neg, sp, -1, -1, NULL, e->loc), z.varies };
		return 1;
	}
	if (is_builtin(x, B_softmax)) {
		*out = lower_softmax(l, x, IR_logsoftmax);
		return 1;
	}
	return 0;
}

static LV
lower_builtin(Lower *l, const Expr *e)
{
	LV v;

	static const IrOp maps[B_COUNT] = {
		[B_exp] = IR_exp, [B_log] = IR_log, [B_sqrt] = IR_sqrt,
		[B_abs] = IR_abs, [B_sin] = IR_sin, [B_cos] = IR_cos,
		[B_tanh] = IR_tanh, [B_sigmoid] = IR_sigmoid,
		[B_relu] = IR_relu, [B_softplus] = IR_softplus,
		[B_log1p] = IR_log1p, [B_max2] = IR_max2, [B_min2] = IR_min2,
		[B_where] = IR_where,
	};
	const Expr *const *a = (const Expr *const *)e->args;

	switch (e->builtin) {
	case B_sum: case B_mean: case B_max: case B_min: case B_logsumexp:
		return lower_reduction(l, e);
	case B_clamp: {
		LV lo = binary(l, IR_max2, e, a[0], a[1]);
		int hi = lower_expr(l, a[2]).id;
		return (LV){ emit(l, IR_min2, lo.id, hi, -1, NULL, e->loc),
			lo.varies };
	}
	case B_norm:
		return lower_norm(l, e);
	case B_dot:
		return lower_product(l, e, a[0], a[1], IR_matmul);
	case B_outer:
		return lower_product(l, e, a[0], a[1], IR_outer);
	case B_transpose:
		return lower_transpose(l, e);
	case B_softmax:
		return lower_softmax(l, e, IR_softmax);
	case B_log_softmax:
		return lower_softmax(l, e, IR_logsoftmax);
	case B_cross_entropy:
		return lower_cross_entropy(l, e);
	case B_log:
		if (stable_log(l, e, &v))
			return v;
		return elementwise(l, IR_log, e, a, 1);
	default:
		return elementwise(l, maps[e->builtin], e, a, e->nargs);
	}
}

/* The checker instantiated the body for this call: bind and lower it. */
static LV
lower_call(Lower *l, const Expr *e)
{
	const FnCall *c = e->call;

	if (!c)
		return lower_builtin(l, e);
	for (int i = 0; i < c->nparams; i++)
		bind(l, c->param[i], lower_expr(l, c->param[i]->expr));
	for (const Decl *d = c->locals; d; d = d->next)
		bind(l, d, lower_expr(l, d->expr));
	return lower_expr(l, c->result);
}

/*
 * x[i, j, ...] takes one index at a time along axis 0.  A constant index
 * drops the axis; an index that varies (a comprehension's) becomes the
 * range axis, so it must come last.
 */
static LV
lower_index(Lower *l, const Expr *e)
{
	LV x = lower_expr(l, e->lhs);
	Shape s = e->lhs->shape;

	if (x.varies)
		return fail(l, e->loc, "indexing a value that varies in a "
			"comprehension");
	for (int k = 0; k < e->nargs; k++) {
		LV idx = lower_expr(l, e->args[k]);
		if (idx.varies && k != e->nargs - 1)
			return fail(l, e->args[k]->loc, "a comprehension index "
				"before another index");
		for (int d = 0; d + 1 < s.rank; d++)
			s.dim[d] = s.dim[d + 1];
		s.rank--;
		IrType t = type_of(l, &s, idx.varies, batched(l, x.id) ||
			batched(l, idx.id));
		x.id = emit(l, IR_gather, x.id, idx.id, -1, &t, e->loc);
		x.varies = idx.varies;
	}
	return x;
}

/* [a, b, c]: each element scattered into its row, the rows added. */
static LV
lower_vector(Lower *l, const Expr *e)
{
	int sum = -1, varies = 0;

	for (int k = 0; k < e->nargs; k++) {
		LV x = lower_expr(l, e->args[k]);
		if (x.varies)
			return fail(l, e->loc, "a vector literal that varies in a "
				"comprehension");
		int at = ir_const(l->f, k, e->loc);
		IrType t = type_of(l, &e->shape, 0, batched(l, x.id));
		int row = with_attr(l, emit(l, IR_scatter, x.id, at, -1, &t,
			e->loc), 0, -1, e->nargs);
		sum = sum < 0 ? row : emit(l, IR_add, sum, row, -1, NULL, e->loc);
	}
	return (LV){ sum, varies };
}

/*
 * reducer(body for i in lo..hi): i is iota(lo, n); the body varies along
 * the range axis, which the reducer folds.  A body that does not use i is
 * the same for every index, so the fold is closed-form.
 */
static LV
lower_comprehension(Lower *l, const Expr *e)
{
	long n = e->hi - e->lo + 1;
	IrType it = ir_shape(0, 1, (int[]){ (int)n });

	if (l->range)
		return fail(l, e->loc, "a comprehension inside a comprehension");
	l->range = n;
	bind(l, e->var, (LV){ with_attr(l, emit(l, IR_iota, -1, -1, -1, &it,
		e->loc), (double)e->lo, -1, (int)n), 1 });
	LV body = lower_expr(l, e->lhs);
	l->range = 0;

	if (!body.varies) {
		if (e->builtin == B_sum)
			return scale(l, body, (double)n, e->loc);
		if (e->builtin == B_logsumexp) {
			int c = ir_const(l->f, log((double)n), e->loc);
			return (LV){ emit(l, IR_add, body.id, c, -1, NULL,
				e->loc), 0 };
		}
		return body;
	}
	static const IrOp fold[B_COUNT] = {
		[B_sum] = IR_rsum, [B_mean] = IR_rsum, [B_max] = IR_rmax,
		[B_min] = IR_rmin, [B_logsumexp] = IR_rlse,
	};
	IrType t = type_of(l, &e->shape, 0, batched(l, body.id));
	int id = with_attr(l, emit(l, fold[e->builtin], body.id, -1, -1, &t,
		e->loc), 0, 0, 0);
	if (e->builtin == B_mean)
		return scale(l, (LV){ id, 0 }, 1.0 / (double)n, e->loc);
	return (LV){ id, 0 };
}

static LV
lower_expr(Lower *l, const Expr *e)
{
	switch (e->kind) {
	case E_NUM:
		return (LV){ ir_const(l->f, e->num, e->loc), 0 };
	case E_NAME:
		if (e->decl->kind == D_CONST)
			return (LV){ ir_const(l->f, e->decl->init_a, e->loc), 0 };
		return bound(l, e->decl);
	case E_UNARY:
		return unary(l, e->op == '-' ? IR_neg : IR_not, e, e->lhs);
	case E_BINARY:
		return lower_binary(l, e);
	case E_CALL:
		return lower_call(l, e);
	case E_INDEX:
		return lower_index(l, e);
	case E_VECTOR:
		return lower_vector(l, e);
	case E_COMPR:
		return lower_comprehension(l, e);
	}
	abort();
}

/* The trainer minimises the mean over the batch of the per-example loss. */
static int
batch_mean(IrFunc *f, int x, Loc loc)
{
	IrType t = ir_scalar(0);

	if (!f->v[x].type.batched)
		return x;
	int sum = ir_emit(f, IR_bsum, x, -1, -1, &t, loc);
	int n = ir_emit(f, IR_nbatch, -1, -1, -1, &t, loc);
	return ir_emit(f, IR_div, sum, n, -1, NULL, loc);
}

static IrType
decl_type(const Decl *d, int batch)
{
	return ir_shape(batch, d->shape.rank, d->shape.dim);
}

static void
lower_data(Lower *l, const Decl *d, IrData *slot, long *column, IrOp op)
{
	IrType t = decl_type(d, 1);
	int id = emit(l, op, -1, -1, -1, &t, d->loc);

	*slot = (IrData){ d->name, decl_type(d, 0), d->nclasses, *column };
	l->f->v[id].slot = (int)*column;
	*column += ir_numel(&slot->type);
	bind(l, d, (LV){ id, 0 });
}

static void
lower_param(Lower *l, const Decl *d)
{
	IrParam *p = &l->m->params[d->index];
	IrType t = decl_type(d, 0);
	int id = emit(l, IR_param, -1, -1, -1, &t, d->loc);

	*p = (IrParam){ d->name, t, d->init_kind, d->init_a, d->init_b,
		l->m->param_size, d->loc };
	l->f->v[id].slot = d->index;
	l->m->param_size += ir_numel(&t);
	bind(l, d, (LV){ id, 0 });
}

static void
lower_decl(Lower *l, const Decl *d)
{
	IrModule *m = l->m;

	switch (d->kind) {
	case D_INPUT:
		lower_data(l, d, &m->inputs[d->index], &m->input_size,
			IR_input);
		break;
	case D_TARGET:
		lower_data(l, d, &m->targets[d->index], &m->target_size,
			IR_target);
		break;
	case D_PARAM:
		lower_param(l, d);
		break;
	case D_LET:
		bind(l, d, lower_expr(l, d->expr));
		break;
	case D_OUTPUT:
		l->f->output = lower_expr(l, d->expr).id;
		break;
	case D_LOSS:
		l->f->loss = batch_mean(l->f, lower_expr(l, d->expr).id,
			d->loc);
		break;
	case D_CONST: case D_FN: case D_ARG: case D_INDEX:
		break;
	}
}

static void
lower_train(IrModule *m, const Train *t)
{
	m->train = (IrTrain){ t->opt, t->lr, t->momentum, t->beta1, t->beta2,
		t->eps, t->weight_decay, (long)t->epochs, (long)t->batch,
		(unsigned long long)t->seed };
}

IrModule *
ir_lower(Program *p, const char *name)
{
	IrModule *m = calloc(1, sizeof *m);
	Lower l = { .p = p, .m = m, .f = &m->fn };

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
		lower_decl(&l, d);
	lower_train(m, p->train);
	free(l.decl);
	free(l.value);
	free(l.table);
	if (l.failed) {
		ir_module_free(m);
		return NULL;
	}
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
