/*
 * ops.c - the per-op rules that ops.def names: reference semantics in f64
 * and the adjoint rule.
 *
 * Interpretation fills `out`, which has n elements: the batch size for a
 * batched value, else 1.  An operand that is not batched is read at [0] and
 * so broadcasts.  Adjoint rules are headed by their formula; z is the op's
 * result, dz its adjoint.  Rules copy what they need from the value before
 * emitting, since emitting may move the value array.
 */
#include <math.h>

#include "ir.h"

typedef double (*Scalar2)(double, double);

/* Operand k of v at element i; an unbatched operand broadcasts. */
static double
arg(const IrEval *e, const IrValue *v, int k, int i)
{
	int id = v->arg[k];

	return e->vals[id][e->m->fn.v[id].batched ? i : 0];
}

static void
elementwise(const IrEval *e, const IrValue *v, double *out, int n,
	Scalar2 fn)
{
	for (int i = 0; i < n; i++)
		out[i] = fn(arg(e, v, 0, i), v->arg[1] >= 0 ?
			arg(e, v, 1, i) : v->num);
}

static double s_neg(double x, double u) { (void)u; return -x; }
static double s_exp(double x, double u) { (void)u; return exp(x); }
static double s_log(double x, double u) { (void)u; return log(x); }
static double s_add(double x, double y) { return x + y; }
static double s_sub(double x, double y) { return x - y; }
static double s_mul(double x, double y) { return x * y; }
static double s_div(double x, double y) { return x / y; }
static double s_pow(double x, double y) { return pow(x, y); }

#define INTERP_ELEMENTWISE(name, fn)                                    \
static void                                                             \
interp_##name(const IrEval *e, const IrValue *v, double *out, int n)    \
{                                                                       \
	elementwise(e, v, out, n, fn);                                  \
}

INTERP_ELEMENTWISE(neg, s_neg)
INTERP_ELEMENTWISE(exp, s_exp)
INTERP_ELEMENTWISE(log, s_log)
INTERP_ELEMENTWISE(powi, s_pow)
INTERP_ELEMENTWISE(add, s_add)
INTERP_ELEMENTWISE(sub, s_sub)
INTERP_ELEMENTWISE(mul, s_mul)
INTERP_ELEMENTWISE(div, s_div)
INTERP_ELEMENTWISE(pow, s_pow)

static void
interp_const(const IrEval *e, const IrValue *v, double *out, int n)
{
	(void)e, (void)n;
	out[0] = v->num;
}

static void
interp_param(const IrEval *e, const IrValue *v, double *out, int n)
{
	(void)n;
	out[0] = e->b->params[v->slot];
}

static void
interp_nbatch(const IrEval *e, const IrValue *v, double *out, int n)
{
	(void)v, (void)n;
	out[0] = e->b->n;
}

static void
interp_input(const IrEval *e, const IrValue *v, double *out, int n)
{
	for (int i = 0; i < n; i++)
		out[i] = e->b->inputs[(long)i * e->m->ninputs + v->slot];
}

static void
interp_target(const IrEval *e, const IrValue *v, double *out, int n)
{
	for (int i = 0; i < n; i++)
		out[i] = e->b->targets[(long)i * e->m->ntargets + v->slot];
}

static void
interp_bsum(const IrEval *e, const IrValue *v, double *out, int n)
{
	const double *x = e->vals[v->arg[0]];
	double s = 0;

	(void)n;
	for (int i = 0; i < e->b->n; i++)
		s += x[i];
	out[0] = s;
}

static void
interp_bcast(const IrEval *e, const IrValue *v, double *out, int n)
{
	for (int i = 0; i < n; i++)
		out[i] = e->vals[v->arg[0]][0];
}

const IrInterpFn ir_interp_fns[IR_NOPS] = {
#define OP(name, arity, shape) [IR_##name] = interp_##name,
#include "ops.def"
#undef OP
};

/* Leaves have no operands, so nothing flows back from them. */
static void grad_const(GradCtx *g, int id) { (void)g, (void)id; }
static void grad_param(GradCtx *g, int id) { (void)g, (void)id; }
static void grad_input(GradCtx *g, int id) { (void)g, (void)id; }
static void grad_target(GradCtx *g, int id) { (void)g, (void)id; }
static void grad_nbatch(GradCtx *g, int id) { (void)g, (void)id; }

/* z = -x: dx += -dz */
static void
grad_neg(GradCtx *g, int id)
{
	int x = grad_value(g, id)->arg[0];

	grad_accum(g, x, back_emit(g, IR_neg, grad_adjoint(g, id), -1));
}

/* z = e^x: dx += dz * z */
static void
grad_exp(GradCtx *g, int id)
{
	int x = grad_value(g, id)->arg[0];

	grad_accum(g, x, back_emit(g, IR_mul, grad_adjoint(g, id), id));
}

/* z = log x: dx += dz / x */
static void
grad_log(GradCtx *g, int id)
{
	int x = grad_value(g, id)->arg[0];

	grad_accum(g, x, back_emit(g, IR_div, grad_adjoint(g, id), x));
}

/* z = x^n: dx += dz * n * x^(n-1), with no logarithm, so exact at x <= 0 */
static void
grad_powi(GradCtx *g, int id)
{
	int x = grad_value(g, id)->arg[0];
	double n = grad_value(g, id)->num;
	int dz = grad_adjoint(g, id);

	if (n == 0)
		return;
	if (n == 1) {
		grad_accum(g, x, dz);
		return;
	}
	int xn1 = n == 2 ? x : back_powi(g, x, n - 1);
	int scaled = back_emit(g, IR_mul, back_const(g, n), xn1);
	grad_accum(g, x, back_emit(g, IR_mul, dz, scaled));
}

/* z = x + y: dx += dz, dy += dz */
static void
grad_add(GradCtx *g, int id)
{
	int x = grad_value(g, id)->arg[0], y = grad_value(g, id)->arg[1];

	grad_accum(g, x, grad_adjoint(g, id));
	grad_accum(g, y, grad_adjoint(g, id));
}

/* z = x - y: dx += dz, dy += -dz */
static void
grad_sub(GradCtx *g, int id)
{
	int x = grad_value(g, id)->arg[0], y = grad_value(g, id)->arg[1];
	int dz = grad_adjoint(g, id);

	grad_accum(g, x, dz);
	grad_accum(g, y, back_emit(g, IR_neg, dz, -1));
}

/* z = x * y: dx += dz * y, dy += dz * x */
static void
grad_mul(GradCtx *g, int id)
{
	int x = grad_value(g, id)->arg[0], y = grad_value(g, id)->arg[1];
	int dz = grad_adjoint(g, id);

	grad_accum(g, x, back_emit(g, IR_mul, dz, y));
	grad_accum(g, y, back_emit(g, IR_mul, dz, x));
}

/* z = x / y: dx += dz / y, dy += -(dz * z) / y */
static void
grad_div(GradCtx *g, int id)
{
	int x = grad_value(g, id)->arg[0], y = grad_value(g, id)->arg[1];
	int dz = grad_adjoint(g, id);

	grad_accum(g, x, back_emit(g, IR_div, dz, y));
	int dzz = back_emit(g, IR_mul, dz, id);
	int q = back_emit(g, IR_div, dzz, y);
	grad_accum(g, y, back_emit(g, IR_neg, q, -1));
}

/* z = x^y: dx += dz * y * x^(y-1), dy += dz * z * log x */
static void
grad_pow(GradCtx *g, int id)
{
	int x = grad_value(g, id)->arg[0], y = grad_value(g, id)->arg[1];
	int dz = grad_adjoint(g, id);

	int y1 = back_emit(g, IR_sub, y, back_const(g, 1));
	int dpow = back_emit(g, IR_mul, y, back_emit(g, IR_pow, x, y1));
	grad_accum(g, x, back_emit(g, IR_mul, dz, dpow));
	int dzz = back_emit(g, IR_mul, dz, id);
	grad_accum(g, y, back_emit(g, IR_mul, dzz, back_emit(g, IR_log, x, -1)));
}

/* z = sum_b x[b]: dx[b] += dz */
static void
grad_bsum(GradCtx *g, int id)
{
	int x = grad_value(g, id)->arg[0];

	grad_accum(g, x, back_emit(g, IR_bcast, grad_adjoint(g, id), -1));
}

/* z[b] = x: dx += sum_b dz[b] */
static void
grad_bcast(GradCtx *g, int id)
{
	int x = grad_value(g, id)->arg[0];

	grad_accum(g, x, back_emit(g, IR_bsum, grad_adjoint(g, id), -1));
}

const IrGradFn ir_grad_fns[IR_NOPS] = {
#define OP(name, arity, shape) [IR_##name] = grad_##name,
#include "ops.def"
#undef OP
};
