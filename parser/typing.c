/*
 * typing.c - the shape and type of every expression.
 *
 * Needs: names resolvable through check_lookup().  Guarantees for each
 * expression it accepts: shape and type set, is_const and const_value for
 * compile-time scalars, builtin and axis for builtin calls, var, lo and hi
 * for comprehensions, and every index proved in range.  A rejected
 * expression gets shape rank -1 ("already reported"); operations on it
 * stay silent so that one mistake gives one message.
 */
#include <math.h>
#include <string.h>

#include "check.h"

enum { BK_MAP, BK_MAP2, BK_REDUCE, BK_OTHER };

static const struct {
	const char *name;
	int min, max, kind;
} builtins[] = {
#define BUILTIN(id, spelling, lo, hi, kind) { spelling, lo, hi, kind },
#include "builtins.def"
#undef BUILTIN
};

static int
poisoned(const Expr *e)
{
	return e->shape.rank < 0;
}

static const char *
type_word(ValueType t)
{
	return t == T_BOOL ? "a condition" : t == T_LABEL ? "a class label" :
		"a real value";
}

int
check_real(Checker *c, const Expr *e)
{
	if (poisoned(e))
		return 0;
	if (e->type == T_REAL)
		return 1;
	check_error(c, e->loc, "expected a real value, saw %s",
		type_word(e->type));
	return 0;
}

static int
check_bool(Checker *c, const Expr *e)
{
	if (poisoned(e))
		return 0;
	if (e->type == T_BOOL)
		return 1;
	check_error(c, e->loc, "expected a condition, saw %s",
		type_word(e->type));
	return 0;
}

static int
check_name(Checker *c, Expr *e)
{
	Decl *d = check_lookup(c, e->name);

	if (!d) {
		check_unknown(c, e->loc, e->name);
		return 0;
	}
	e->decl = d;
	if (d->kind == D_FN) {
		check_error(c, e->loc, "'%s' is a function; call it with "
			"arguments", e->name);
		return 0;
	}
	if (d->shape.rank < 0)
		return 0;
	e->shape = d->shape;
	e->type = d->type;
	if (d->kind == D_CONST) {
		e->is_const = 1;
		e->const_value = d->init_a;
	} else if ((d->kind == D_LET || d->kind == D_ARG) && d->expr &&
	    d->expr->is_const) {
		e->is_const = 1;
		e->const_value = d->expr->const_value;
	}
	return 1;
}

static int
check_unary(Checker *c, Expr *e)
{
	Expr *x = e->lhs;

	if (!check_expr(c, x))
		return 0;
	e->shape = x->shape;
	if (e->op == OP_NOT) {
		e->type = T_BOOL;
		return check_bool(c, x);
	}
	e->is_const = x->is_const;
	e->const_value = -x->const_value;
	return check_real(c, x);
}

static double
fold(int op, double a, double b)
{
	switch (op) {
	case '+': return a + b;
	case '-': return a - b;
	case '*': return a * b;
	case '/': return a / b;
	default: return pow(a, b);
	}
}

/* The message for two shapes that do not broadcast under `op`. */
static void
mismatch(Checker *c, const Expr *e, Shape a, Shape b)
{
	char sa[48], sb[48];
	const char *x = shape_str(a, sa), *y = shape_str(b, sb);

	switch (e->op) {
	case '+':
		check_error(c, e->loc, "cannot add %s and %s", x, y);
		break;
	case '-':
		check_error(c, e->loc, "cannot subtract %s from %s", y, x);
		break;
	case '*':
		check_error(c, e->loc, "cannot multiply %s by %s", x, y);
		break;
	case '/':
		check_error(c, e->loc, "cannot divide %s by %s", x, y);
		break;
	case '^':
		check_error(c, e->loc, "cannot raise %s to the power %s", x,
			y);
		break;
	case OP_AND:
	case OP_OR:
		check_error(c, e->loc, "cannot combine %s and %s with '%s'",
			x, y, e->op == OP_AND ? "and" : "or");
		break;
	default:
		check_error(c, e->loc, "cannot compare %s with %s", x, y);
		break;
	}
}

/* a @ b: matrix-matrix, matrix-vector or vector-matrix. */
static int
check_matmul(Checker *c, Expr *e, Shape a, Shape b)
{
	char sa[48], sb[48];
	int inner_a = a.rank == 2 ? a.dim[1] : a.dim[0];
	int ranks_ok = a.rank >= 1 && a.rank <= 2 && b.rank >= 1 &&
		b.rank <= 2 && a.rank + b.rank > 2;

	if (ranks_ok && inner_a == b.dim[0]) {
		e->shape.rank = 0;
		if (a.rank == 2)
			e->shape.dim[e->shape.rank++] = a.dim[0];
		if (b.rank == 2)
			e->shape.dim[e->shape.rank++] = b.dim[1];
		return 1;
	}
	if (ranks_ok)
		check_error(c, e->loc, "cannot multiply %s by %s: inner "
			"dimensions %d and %d differ", shape_str(a, sa),
			shape_str(b, sb), inner_a, b.dim[0]);
	else if (a.rank == 1 && b.rank == 1)
		check_error(c, e->loc, "cannot multiply %s by %s with '@'; "
			"for two vectors use dot(a, b)", shape_str(a, sa),
			shape_str(b, sb));
	else
		check_error(c, e->loc, "cannot multiply %s by %s with '@'; "
			"expected matrices or vectors", shape_str(a, sa),
			shape_str(b, sb));
	return 0;
}

static int
is_logic(int op)
{
	return op == OP_AND || op == OP_OR;
}

static int
is_comparison(int op)
{
	return op == '<' || op == '>' || op == OP_LE || op == OP_GE ||
		op == OP_EQ || op == OP_NE;
}

static int
check_binary(Checker *c, Expr *e)
{
	Expr *l = e->lhs, *r = e->rhs;
	int ok = check_expr(c, l);

	ok &= check_expr(c, r);
	if (!ok)
		return 0;
	if (is_logic(e->op)) {
		ok = check_bool(c, l);
		ok &= check_bool(c, r);
	} else {
		ok = check_real(c, l);
		ok &= check_real(c, r);
	}
	if (!ok)
		return 0;
	if (e->op == '@')
		return check_matmul(c, e, l->shape, r->shape);
	if (!shape_broadcast(l->shape, r->shape, &e->shape)) {
		mismatch(c, e, l->shape, r->shape);
		return 0;
	}
	if (is_logic(e->op) || is_comparison(e->op)) {
		e->type = T_BOOL;
	} else if (l->is_const && r->is_const) {
		e->is_const = 1;
		e->const_value = fold(e->op, l->const_value, r->const_value);
	}
	return 1;
}

/*
 * The values an index can take, when known at compile time: constants,
 * comprehension indices over their ranges, and + - * of those, by
 * interval arithmetic.  *fuel bounds the walk through bindings.
 */
static int
index_range(const Expr *e, double *lo, double *hi, int *fuel)
{
	double a, b, x, y;

	if (!e || --*fuel <= 0)
		return 0;
	if (e->is_const) {
		*lo = *hi = e->const_value;
		return e->const_value == floor(e->const_value);
	}
	if (e->kind == E_NAME && e->decl && e->decl->kind == D_INDEX) {
		*lo = (double)e->decl->lo;
		*hi = (double)e->decl->hi;
		return 1;
	}
	if (e->kind == E_NAME && e->decl && (e->decl->kind == D_LET ||
	    e->decl->kind == D_ARG))
		return index_range(e->decl->expr, lo, hi, fuel);
	if (e->kind == E_UNARY && e->op == '-' &&
	    index_range(e->lhs, &a, &b, fuel)) {
		*lo = -b;
		*hi = -a;
		return 1;
	}
	if (e->kind != E_BINARY || !strchr("+-*", e->op) ||
	    !index_range(e->lhs, &a, &b, fuel) ||
	    !index_range(e->rhs, &x, &y, fuel))
		return 0;
	if (e->op == '+') {
		*lo = a + x;
		*hi = b + y;
	} else if (e->op == '-') {
		*lo = a - y;
		*hi = b - x;
	} else {
		double p[4] = { a * x, a * y, b * x, b * y };
		*lo = *hi = p[0];
		for (int i = 1; i < 4; i++) {
			*lo = p[i] < *lo ? p[i] : *lo;
			*hi = p[i] > *hi ? p[i] : *hi;
		}
	}
	return 1;
}

/* One index of axis `axis` of shape s: provably within 0..dim-1. */
static int
check_one_index(Checker *c, const Expr *i, int axis, Shape s)
{
	char buf[48];
	double lo, hi;
	int fuel = 10000;

	if (!check_real(c, i))
		return 0;
	if (!index_range(i, &lo, &hi, &fuel)) {
		check_error(c, i->loc, "an index must be a whole number known "
			"at compile time: a number, a const or a comprehension "
			"index");
		return 0;
	}
	if (lo >= 0 && hi < s.dim[axis])
		return 1;
	if (lo == hi)
		check_error(c, i->loc, "index %g is out of range for axis %d "
			"of %s", lo, axis, shape_str(s, buf));
	else
		check_error(c, i->loc, "index ranges over %g..%g, beyond axis "
			"%d of %s", lo, hi, axis, shape_str(s, buf));
	return 0;
}

static int
check_index(Checker *c, Expr *e)
{
	char buf[48];
	int ok = check_expr(c, e->lhs);
	Shape s = e->lhs->shape;

	for (int i = 0; i < e->nargs; i++)
		ok &= check_expr(c, e->args[i]);
	if (!ok)
		return 0;
	if (e->nargs > s.rank) {
		if (s.rank == 0)
			check_error(c, e->loc, "cannot index a scalar");
		else
			check_error(c, e->loc, "too many indices for %s: "
				"expected at most %d, saw %d",
				shape_str(s, buf), s.rank, e->nargs);
		return 0;
	}
	for (int i = 0; i < e->nargs; i++)
		ok &= check_one_index(c, e->args[i], i, s);
	e->type = e->lhs->type;
	e->shape.rank = s.rank - e->nargs;
	for (int i = 0; i < e->shape.rank; i++)
		e->shape.dim[i] = s.dim[e->nargs + i];
	return ok;
}

/* [a, b, c]: elements of one shape stack along a new first axis. */
static int
check_vector(Checker *c, Expr *e)
{
	char sa[48], sb[48];
	int ok = 1;

	for (int i = 0; i < e->nargs; i++)
		ok &= check_expr(c, e->args[i]) && check_real(c, e->args[i]);
	if (!ok)
		return 0;
	Shape s = e->args[0]->shape;
	for (int i = 1; i < e->nargs; i++)
		if (!shape_equal(e->args[i]->shape, s)) {
			check_error(c, e->args[i]->loc, "the elements of a "
				"vector literal must have one shape, saw %s "
				"and %s", shape_str(s, sa),
				shape_str(e->args[i]->shape, sb));
			return 0;
		}
	if (s.rank == MAX_RANK) {
		check_error(c, e->loc, "a vector literal of %s elements would "
			"have more than %d dimensions", shape_str(s, sa),
			MAX_RANK);
		return 0;
	}
	e->shape.rank = s.rank + 1;
	e->shape.dim[0] = e->nargs;
	for (int i = 0; i < s.rank; i++)
		e->shape.dim[i + 1] = s.dim[i];
	return 1;
}

static int
range_bound(Checker *c, Expr *b, long *out)
{
	if (!check_expr(c, b) || !check_real(c, b))
		return 0;
	if (!b->is_const) {
		check_error(c, b->loc, "a range bound must be known at compile "
			"time: a number or a const");
		return 0;
	}
	if (!check_count(b, -CHECK_MAX_RANGE, CHECK_MAX_RANGE)) {
		check_error(c, b->loc, "a range bound must be a whole number "
			"from -%d to %d, saw %g", CHECK_MAX_RANGE,
			CHECK_MAX_RANGE, b->const_value);
		return 0;
	}
	*out = (long)b->const_value;
	return 1;
}

static int
find_reducer(const char *name)
{
	static const Builtin reducers[] = { B_sum, B_mean, B_max, B_min,
		B_logsumexp };

	for (size_t i = 0; i < sizeof reducers / sizeof reducers[0]; i++)
		if (strcmp(builtins[reducers[i]].name, name) == 0)
			return (int)reducers[i];
	return -1;
}

/* reducer(body for i in lo..hi): the body, once, with i in scope. */
static int
check_compr(Checker *c, Expr *e)
{
	int saved = c->nlocals, ok, b = find_reducer(e->name);
	Decl *var = e->var;

	if (b < 0) {
		check_error(c, e->loc, "'%s' cannot reduce a comprehension; "
			"expected sum, mean, max, min or logsumexp", e->name);
		return 0;
	}
	e->builtin = (Builtin)b;
	ok = range_bound(c, e->lo_expr, &e->lo);
	ok &= range_bound(c, e->hi_expr, &e->hi);
	if (ok && e->hi < e->lo) {
		check_error(c, e->lo_expr->loc, "the range %ld..%ld is empty",
			e->lo, e->hi);
		ok = 0;
	}
	var->shape.rank = 0;
	var->type = T_REAL;
	var->lo = ok ? e->lo : 0;
	var->hi = ok ? e->hi : 0;
	check_define_local(c, var);
	ok &= check_expr(c, e->lhs) && check_real(c, e->lhs);
	c->nlocals = saved;
	e->shape = e->lhs->shape;
	return ok;
}

int
check_builtin_named(const char *name)
{
	for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
		if (strcmp(builtins[i].name, name) == 0)
			return 1;
	return 0;
}

/* The builtin that takes nargs arguments under this name; -1 for none,
 * -2 for a builtin of this name that takes another count. */
static int
find_builtin(const char *name, int nargs, int *lo, int *hi)
{
	int found = -1;

	*lo = 99;
	*hi = 0;
	for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
		if (strcmp(builtins[i].name, name) != 0)
			continue;
		if (nargs >= builtins[i].min && nargs <= builtins[i].max)
			return (int)i;
		found = -2;
		*lo = builtins[i].min < *lo ? builtins[i].min : *lo;
		*hi = builtins[i].max > *hi ? builtins[i].max : *hi;
	}
	return found;
}

static int
takes_axis(Builtin b)
{
	return builtins[b].kind == BK_REDUCE || b == B_softmax ||
		b == B_log_softmax;
}

/* axis = k: a whole constant, negative counting from the end. */
static int
resolve_axis(Checker *c, Expr *e, Shape s)
{
	char buf[48];
	Expr *k = e->kw_value;

	if (!check_expr(c, k))
		return 0;
	if (!check_count(k, -1e9, 1e9)) {
		check_error(c, k->loc, "an axis must be a whole number known "
			"at compile time");
		return 0;
	}
	if (s.rank < 0)
		return 0;
	int a = (int)k->const_value;
	if (a < -s.rank || a >= s.rank) {
		check_error(c, k->loc, "axis %d is out of range for %s", a,
			shape_str(s, buf));
		return 0;
	}
	e->axis = a < 0 ? a + s.rank : a;
	return 1;
}

static int
check_kw(Checker *c, Expr *e, Builtin b)
{
	if (!e->kw_name)
		return 1;
	if (takes_axis(b) && strcmp(e->kw_name, "axis") == 0)
		return 1;
	if (takes_axis(b))
		check_error(c, e->kw_loc, "'%s' has no argument '%s'; expected "
			"axis", e->name, e->kw_name);
	else
		check_error(c, e->kw_loc, "'%s' has no argument '%s'",
			e->name, e->kw_name);
	return 0;
}

/* Broadcasts the arguments of an element-wise builtin together. */
static int
broadcast_args(Checker *c, Expr *e)
{
	char sa[48], sb[48];
	Shape s = e->args[0]->shape;

	for (int i = 1; i < e->nargs; i++)
		if (!shape_broadcast(s, e->args[i]->shape, &s)) {
			check_error(c, e->loc, "cannot broadcast %s with %s in "
				"'%s'", shape_str(s, sa),
				shape_str(e->args[i]->shape, sb), e->name);
			return 0;
		}
	e->shape = s;
	return 1;
}

static int
all_real(Checker *c, Expr *e, int from)
{
	int ok = 1;

	for (int i = from; i < e->nargs; i++)
		ok &= check_real(c, e->args[i]);
	return ok;
}

static int
check_reduce(Checker *c, Expr *e)
{
	Shape s = e->args[0]->shape;

	if (!e->kw_name) {
		e->shape.rank = 0;
		return 1;
	}
	if (!resolve_axis(c, e, s))
		return 0;
	e->shape.rank = 0;
	for (int i = 0; i < s.rank; i++)
		if (i != e->axis)
			e->shape.dim[e->shape.rank++] = s.dim[i];
	return 1;
}

/* The class count of a label: through bindings and arguments to the
 * target it names. */
static int
label_classes(const Expr *e)
{
	for (int fuel = 0; e && fuel < 10000; fuel++) {
		const Decl *d = e->kind == E_NAME ? e->decl : NULL;
		if (!d)
			return 0;
		if (d->kind == D_TARGET)
			return d->nclasses;
		e = d->expr;
	}
	return 0;
}

static int
check_cross_entropy(Checker *c, Expr *e)
{
	char buf[48];
	Expr *z = e->args[0], *t = e->args[1];

	if (!check_real(c, z))
		return 0;
	if (z->shape.rank != 1) {
		check_error(c, z->loc, "cross_entropy needs a vector of "
			"logits, saw %s", shape_str(z->shape, buf));
		return 0;
	}
	if (t->type != T_LABEL) {
		check_error(c, t->loc, "expected a class target as the second "
			"argument of cross_entropy, saw %s",
			type_word(t->type));
		return 0;
	}
	int k = label_classes(t);
	if (k != z->shape.dim[0]) {
		check_error(c, e->loc, "cross_entropy of logits %s and a target "
			"of %d classes", shape_str(z->shape, buf), k);
		return 0;
	}
	e->shape.rank = 0;
	return 1;
}

static int
check_vectors(Checker *c, Expr *e)
{
	char sa[48], sb[48];
	Shape a = e->args[0]->shape, b = e->args[1]->shape;

	if (a.rank == 1 && b.rank == 1 &&
	    (e->builtin == B_outer || a.dim[0] == b.dim[0])) {
		e->shape.rank = e->builtin == B_outer ? 2 : 0;
		e->shape.dim[0] = a.dim[0];
		e->shape.dim[1] = b.dim[0];
		return 1;
	}
	check_error(c, e->loc, "'%s' needs two vectors%s, saw %s and %s",
		e->name, e->builtin == B_dot ? " of one length" : "",
		shape_str(a, sa), shape_str(b, sb));
	return 0;
}

/* The builtins with a shape rule of their own. */
static int
check_other(Checker *c, Expr *e)
{
	char buf[48];
	Shape a = e->args[0]->shape;

	switch (e->builtin) {
	case B_where:
		return check_bool(c, e->args[0]) && all_real(c, e, 1) &&
			broadcast_args(c, e);
	case B_clamp:
		return all_real(c, e, 0) && broadcast_args(c, e);
	case B_cross_entropy:
		return check_cross_entropy(c, e);
	default:
		break;
	}
	if (!all_real(c, e, 0))
		return 0;
	switch (e->builtin) {
	case B_norm:
		e->shape.rank = 0;
		return 1;
	case B_dot:
	case B_outer:
		return check_vectors(c, e);
	case B_transpose:
		if (a.rank != 2)
			break;
		e->shape = (Shape){ 2, { a.dim[1], a.dim[0] } };
		return 1;
	default:        /* softmax, log_softmax: along one axis, the last */
		if (a.rank < 1)
			break;
		e->shape = a;
		e->axis = a.rank - 1;
		return !e->kw_name || resolve_axis(c, e, a);
	}
	check_error(c, e->loc, "'%s' needs a %s, saw %s", e->name,
		e->builtin == B_transpose ? "matrix" : "vector",
		shape_str(a, buf));
	return 0;
}

static int
check_builtin(Checker *c, Expr *e, Builtin b, int args_ok)
{
	e->builtin = b;
	if (!check_kw(c, e, b) || !args_ok)
		return 0;
	switch (builtins[b].kind) {
	case BK_MAP:
		e->shape = e->args[0]->shape;
		return check_real(c, e->args[0]);
	case BK_MAP2:
		return all_real(c, e, 0) && broadcast_args(c, e);
	case BK_REDUCE:
		return check_real(c, e->args[0]) && check_reduce(c, e);
	default:
		return check_other(c, e);
	}
}

static void
unknown_function(Checker *c, Expr *e, const Decl *d)
{
	Hint h;

	if (d) {
		check_error(c, e->loc, "'%s' is %s, not a function", e->name,
			check_kind_word(d->kind));
		return;
	}
	for (const Decl *f = c->p->decls; f; f = f->next)
		if (f->kind == D_FN && strcmp(f->name, e->name) == 0) {
			check_error(c, e->loc, "'%s' is defined later; a "
				"function must be defined before it is called",
				e->name);
			return;
		}
	check_hint_init(&h, e->name);
	for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
		check_hint(&h, builtins[i].name);
	check_hint_visible(c, &h, 1);
	if (h.best)
		check_error(c, e->loc, "unknown function '%s'; did you mean "
			"'%s'?", e->name, h.best);
	else
		check_error(c, e->loc, "unknown function '%s'", e->name);
}

/* A user function if one of that name is visible, else a builtin. */
static int
check_call(Checker *c, Expr *e)
{
	int ok = 1, lo, hi, b;
	Decl *d = check_lookup(c, e->name);

	for (int i = 0; i < e->nargs; i++)
		ok &= check_expr(c, e->args[i]);
	if (d && d->kind == D_FN)
		return check_fn_call(c, e, d, ok);
	b = find_builtin(e->name, e->nargs, &lo, &hi);
	if (b >= 0)
		return check_builtin(c, e, (Builtin)b, ok);
	if (b == -2 && lo == hi)
		check_error(c, e->loc, "'%s' takes %d argument%s, saw %d",
			e->name, lo, lo == 1 ? "" : "s", e->nargs);
	else if (b == -2)
		check_error(c, e->loc, "'%s' takes %d or %d arguments, saw %d",
			e->name, lo, hi, e->nargs);
	else
		unknown_function(c, e, d);
	return 0;
}

static int
dispatch(Checker *c, Expr *e)
{
	switch (e->kind) {
	case E_NUM:
		e->is_const = 1;
		e->const_value = e->num;
		return 1;
	case E_NAME:
		return check_name(c, e);
	case E_UNARY:
		return check_unary(c, e);
	case E_BINARY:
		return check_binary(c, e);
	case E_CALL:
		return check_call(c, e);
	case E_INDEX:
		return check_index(c, e);
	case E_VECTOR:
		return check_vector(c, e);
	case E_COMPR:
		return check_compr(c, e);
	}
	return 0;
}

/*
 * The parser has already refused expressions deeper than AST_MAX_DEPTH;
 * the counter here bounds the depth that inlining adds on top.
 */
int
check_expr(Checker *c, Expr *e)
{
	int ok;

	e->shape.rank = 0;
	e->type = T_REAL;
	e->is_const = 0;
	if (e->depth > AST_MAX_DEPTH || c->too_deep) {
		e->shape.rank = -1;
		return 0;
	}
	if (c->depth >= CHECK_MAX_NEST) {
		check_error(c, e->loc, "function calls nest too deeply here; "
			"the limit is %d levels of expression", CHECK_MAX_NEST);
		c->too_deep = 1;
		e->shape.rank = -1;
		return 0;
	}
	c->depth++;
	ok = dispatch(c, e);
	c->depth--;
	if (ok && shape_size(e->shape) > CHECK_MAX_SIZE) {
		/* broadcasting and outer products can outgrow every operand */
		char buf[48];
		check_error(c, e->loc, "this value would be %s, %ld elements; "
			"the limit is %d", shape_str(e->shape, buf),
			shape_size(e->shape), CHECK_MAX_SIZE);
		ok = 0;
	}
	if (!ok)
		e->shape.rank = -1;
	return ok;
}
