/*
 * nanwarn.c - --warn-nan: where a gradient can still become infinite or
 * NaN despite strong zeros.
 *
 * Strong zeros make an exactly-zero adjoint or partial win over Inf and
 * NaN, but a partial that is itself infinite where it matters (sqrt and
 * log at 0, a division by 0, a power of a base at or below 0) still
 * reaches the gradient.  A small sign analysis proves many arguments
 * positive (exp, sigmoid, softplus, x^2 + 1, a positive constant...); the
 * rest, on a path from a parameter, get a warning at their source.
 */
#include <stdlib.h>

#include "ir.h"

typedef enum Sign { UNKNOWN, NONNEG, POSITIVE } Sign;

static Sign
weaker(Sign a, Sign b)
{
	return a < b ? a : b;
}

static Sign
const_sign(double v)
{
	return v > 0 ? POSITIVE : v == 0 ? NONNEG : UNKNOWN;
}

/* What the op guarantees about its result's sign, from its operands'. */
static Sign
sign_of(const IrFunc *f, const IrValue *v, const Sign *s)
{
	Sign x = v->arg[0] >= 0 ? s[v->arg[0]] : UNKNOWN;
	Sign y = v->arg[1] >= 0 ? s[v->arg[1]] : UNKNOWN;

	(void)f;
	switch (v->op) {
	case IR_const:
		return const_sign(v->num);
	case IR_iota:
		return const_sign(v->num);
	case IR_nbatch: case IR_exp: case IR_sigmoid: case IR_softplus:
	case IR_softmax:
		return POSITIVE;
	case IR_abs: case IR_relu: case IR_step: case IR_onehot:
	case IR_lt: case IR_le: case IR_gt: case IR_ge: case IR_eq:
	case IR_ne: case IR_and: case IR_or: case IR_not:
		return NONNEG;
	case IR_powi:
		return (long)v->num % 2 == 0 ? (x == POSITIVE ? POSITIVE : NONNEG)
			: x;
	case IR_sqrt: case IR_bcast: case IR_bcastto: case IR_expand:
	case IR_transpose: case IR_gather: case IR_rmax: case IR_rmin:
		return x;
	case IR_rsum: case IR_bsum: case IR_sumto:
		return x;
	case IR_add: case IR_max2:
		return x == POSITIVE || y == POSITIVE ?
			(weaker(x, y) >= NONNEG || v->op == IR_max2 ? POSITIVE :
			UNKNOWN) : weaker(x, y);
	case IR_mul: case IR_smul: case IR_div: case IR_min2:
		return weaker(x, y);
	case IR_where:
		return weaker(y, s[v->arg[2]]);
	default:
		return UNKNOWN;
	}
}

/* The operand an op's partial blows up at, and how; NULL when none. */
static const char *
hazard(const IrValue *v, const Sign *s, int *operand)
{
	switch (v->op) {
	case IR_sqrt:
		*operand = v->arg[0];
		return s[*operand] == POSITIVE ? NULL :
			"the gradient of sqrt is infinite where its argument is 0";
	case IR_log:
		*operand = v->arg[0];
		return s[*operand] == POSITIVE ? NULL :
			"the gradient of log is infinite where its argument is 0";
	case IR_log1p:
		*operand = v->arg[0];
		return s[*operand] >= NONNEG ? NULL :
			"the gradient of log1p is infinite where its argument is -1";
	case IR_div:
		*operand = v->arg[1];
		return s[*operand] == POSITIVE ? NULL :
			"this gradient is infinite where the divisor is 0";
	case IR_pow:
		*operand = v->arg[0];
		return s[*operand] == POSITIVE ? NULL :
			"this gradient is infinite or NaN where the base is 0 or "
			"negative";
	default:
		return NULL;
	}
}

int
ir_warn_nan(const IrModule *m, Source *src)
{
	const IrFunc *f = &m->fn;
	Sign *s = calloc((size_t)f->n + 1, sizeof *s);
	char *active = calloc((size_t)f->n + 1, 1);
	int warned = 0, last_line = -1, last_col = -1;

	for (int id = 0; id < f->n; id++) {
		const IrValue *v = &f->v[id];
		int operand;

		s[id] = sign_of(f, v, s);
		active[id] = v->op == IR_param;
		for (int k = 0; k < ir_arity(v->op); k++)
			active[id] |= active[v->arg[k]];
		if (v->adjoint || !active[id])
			continue;
		const char *why = hazard(v, s, &operand);
		if (!why || (v->loc.line == last_line && v->loc.col == last_col))
			continue;
		diag_warning(src, v->loc, "%s", why);
		last_line = v->loc.line;
		last_col = v->loc.col;
		warned++;
	}
	free(s);
	free(active);
	return warned;
}
