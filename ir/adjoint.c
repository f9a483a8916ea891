/*
 * adjoint.c - the reverse-mode rule of every op, named by ops.def.
 *
 * Each rule is headed by its formula: z is the op's result, dz its
 * adjoint, and `dx += ...` a contribution passed to grad_accum(), which
 * undoes broadcasting and reconciles the batch axis.  Products of an
 * adjoint and a partial go through back_mul() so that strong zeros hold.
 * Rules copy the value (grad_value) because emitting may move the array,
 * and name each emitted value before passing it on: C leaves the order of
 * a call's arguments open, and the IR must not depend on the compiler.
 *
 * Conventions at kinks, stated once: relu'(0) = 0, abs'(0) = 0, and where
 * max or min ties (element-wise or in a reduction), the adjoint is split
 * evenly among the tied elements.
 */
#include "ir.h"

#define DZ grad_adjoint(g, id)
#define X(k) (z.arg[k])

static int
emit1(GradCtx *g, IrOp op, int a)
{
	return back_emit(g, op, a, -1, -1, NULL);
}

static int
emit2(GradCtx *g, IrOp op, int a, int b)
{
	return back_emit(g, op, a, b, -1, NULL);
}

/* Operations whose result does not depend smoothly on their operands, or
 * that have none, pass nothing back. */
#define NO_GRADIENT(name) \
static void grad_##name(GradCtx *g, int id) { (void)g, (void)id; }

NO_GRADIENT(const)
NO_GRADIENT(param)
NO_GRADIENT(input)
NO_GRADIENT(target)
NO_GRADIENT(nbatch)
NO_GRADIENT(iota)
NO_GRADIENT(onehot)
NO_GRADIENT(sign)
NO_GRADIENT(step)
NO_GRADIENT(not)
NO_GRADIENT(lt)
NO_GRADIENT(le)
NO_GRADIENT(gt)
NO_GRADIENT(ge)
NO_GRADIENT(eq)
NO_GRADIENT(ne)
NO_GRADIENT(and)
NO_GRADIENT(or)

/* dx += dz * partial */
static void
chain(GradCtx *g, int id, int x, int partial)
{
	grad_accum(g, x, back_mul(g, DZ, partial));
}

/* z = -x: dx += -dz */
static void
grad_neg(GradCtx *g, int id)
{
	IrValue z = grad_value(g, id);

	grad_accum(g, X(0), emit1(g, IR_neg, DZ));
}

/* z = e^x: dx += dz * z */
static void
grad_exp(GradCtx *g, int id)
{
	chain(g, id, grad_value(g, id).arg[0], id);
}

/* z = log x: dx += dz * (1 / x) */
static void
grad_log(GradCtx *g, int id)
{
	IrValue z = grad_value(g, id);

	chain(g, id, X(0), emit2(g, IR_div, back_const(g, 1), X(0)));
}

/* z = sqrt x: dx += dz * (0.5 / z) */
static void
grad_sqrt(GradCtx *g, int id)
{
	IrValue z = grad_value(g, id);

	chain(g, id, X(0), emit2(g, IR_div, back_const(g, 0.5), id));
}

/* z = |x|: dx += dz * sign(x) */
static void
grad_abs(GradCtx *g, int id)
{
	IrValue z = grad_value(g, id);

	chain(g, id, X(0), emit1(g, IR_sign, X(0)));
}

/* z = sin x: dx += dz * cos x */
static void
grad_sin(GradCtx *g, int id)
{
	IrValue z = grad_value(g, id);

	chain(g, id, X(0), emit1(g, IR_cos, X(0)));
}

/* z = cos x: dx += dz * -sin x */
static void
grad_cos(GradCtx *g, int id)
{
	IrValue z = grad_value(g, id);

	chain(g, id, X(0), emit1(g, IR_neg, emit1(g, IR_sin, X(0))));
}

/* z = tanh x: dx += dz * (1 - z^2) */
static void
grad_tanh(GradCtx *g, int id)
{
	IrValue z = grad_value(g, id);
	int zz = emit2(g, IR_mul, id, id);

	chain(g, id, X(0), emit2(g, IR_sub, back_const(g, 1), zz));
}

/* z = sigmoid x: dx += dz * z (1 - z) */
static void
grad_sigmoid(GradCtx *g, int id)
{
	IrValue z = grad_value(g, id);
	int one_minus = emit2(g, IR_sub, back_const(g, 1), id);

	chain(g, id, X(0), emit2(g, IR_mul, id, one_minus));
}

/* z = relu x: dx += dz * step(x), with step(0) = 0 */
static void
grad_relu(GradCtx *g, int id)
{
	IrValue z = grad_value(g, id);

	chain(g, id, X(0), emit1(g, IR_step, X(0)));
}

/* z = softplus x: dx += dz * sigmoid(x) */
static void
grad_softplus(GradCtx *g, int id)
{
	IrValue z = grad_value(g, id);

	chain(g, id, X(0), emit1(g, IR_sigmoid, X(0)));
}

/* z = log(1 + x): dx += dz * (1 / (1 + x)) */
static void
grad_log1p(GradCtx *g, int id)
{
	IrValue z = grad_value(g, id);
	int one = back_const(g, 1);

	chain(g, id, X(0), emit2(g, IR_div, one, emit2(g, IR_add, one, X(0))));
}

/* z = x^n: dx += dz * n x^(n-1), no logarithm: exact at x <= 0 */
static void
grad_powi(GradCtx *g, int id)
{
	IrValue z = grad_value(g, id);
	int lower = X(0);

	if (z.num == 0)
		return;
	if (z.num == 1) {
		grad_accum(g, X(0), DZ);
		return;
	}
	if (z.num != 2)
		lower = back_attr(g, emit1(g, IR_powi, X(0)), z.num - 1, -1, 0);
	chain(g, id, X(0), emit2(g, IR_mul, back_const(g, z.num), lower));
}

/* z = x + y: dx += dz, dy += dz */
static void
grad_add(GradCtx *g, int id)
{
	IrValue z = grad_value(g, id);

	grad_accum(g, X(0), DZ);
	grad_accum(g, X(1), DZ);
}

/* z = x - y: dx += dz, dy += -dz */
static void
grad_sub(GradCtx *g, int id)
{
	IrValue z = grad_value(g, id);

	grad_accum(g, X(0), DZ);
	grad_accum(g, X(1), emit1(g, IR_neg, DZ));
}

/* z = x y: dx += dz y, dy += dz x */
static void
grad_mul(GradCtx *g, int id)
{
	IrValue z = grad_value(g, id);

	chain(g, id, X(0), X(1));
	chain(g, id, X(1), X(0));
}

/* z = x y with strong zeros: the same rule */
static void
grad_smul(GradCtx *g, int id)
{
	grad_mul(g, id);
}

/* z = x / y: dx += dz (1 / y), dy += dz (-z / y) */
static void
grad_div(GradCtx *g, int id)
{
	IrValue z = grad_value(g, id);

	chain(g, id, X(0), emit2(g, IR_div, back_const(g, 1), X(1)));
	chain(g, id, X(1), emit1(g, IR_neg, emit2(g, IR_div, id, X(1))));
}

/* z = x^y: dx += dz (y x^(y-1)), dy += (dz z) log x; strong products
 * make dx exactly 0 where y is 0 and dy exactly 0 where z is 0, as at
 * x = 0 with y > 0 */
static void
grad_pow(GradCtx *g, int id)
{
	IrValue z = grad_value(g, id);
	int ym1 = emit2(g, IR_sub, X(1), back_const(g, 1));
	int dpow = back_mul(g, X(1), emit2(g, IR_pow, X(0), ym1));

	chain(g, id, X(0), dpow);
	int dzz = back_mul(g, DZ, id);
	int log_x = emit1(g, IR_log, X(0));
	grad_accum(g, X(1), back_mul(g, dzz, log_x));
}

/* The share of x in max(x, y) or min(x, y): 1, 0, or 1/2 at a tie. */
static int
tie_share(GradCtx *g, IrOp wins, int x, int y)
{
	int half_c = back_const(g, 0.5);
	int half = emit2(g, IR_mul, half_c, emit2(g, IR_eq, x, y));

	return emit2(g, IR_add, emit2(g, wins, x, y), half);
}

/* z = max(x, y): dx += dz [x > y], dy += dz [y > x], halves at a tie */
static void
grad_max2(GradCtx *g, int id)
{
	IrValue z = grad_value(g, id);

	chain(g, id, X(0), tie_share(g, IR_gt, X(0), X(1)));
	chain(g, id, X(1), tie_share(g, IR_gt, X(1), X(0)));
}

/* z = min(x, y): as max with the comparison reversed */
static void
grad_min2(GradCtx *g, int id)
{
	IrValue z = grad_value(g, id);

	chain(g, id, X(0), tie_share(g, IR_lt, X(0), X(1)));
	chain(g, id, X(1), tie_share(g, IR_lt, X(1), X(0)));
}

/* z = c ? x : y: dx += c ? dz : 0, dy += c ? 0 : dz.  The branch not
 * taken gets an exact zero, which strong zeros keep clean downstream. */
static void
grad_where(GradCtx *g, int id)
{
	IrValue z = grad_value(g, id);
	int zero = back_const(g, 0);

	grad_accum(g, X(1), back_emit(g, IR_where, X(0), DZ, zero, NULL));
	grad_accum(g, X(2), back_emit(g, IR_where, X(0), zero, DZ, NULL));
}

/* z = sumto(x): dx += broadcast of dz to x's type */
static void
grad_sumto(GradCtx *g, int id)
{
	IrValue z = grad_value(g, id);
	IrType t = grad_value(g, X(0)).type;

	grad_accum(g, X(0), back_emit(g, IR_bcastto, DZ, -1, -1, &t));
}

/* z = broadcast(x): dx += dz, which grad_accum sums back to x's shape */
static void
grad_bcastto(GradCtx *g, int id)
{
	IrValue z = grad_value(g, id);

	grad_accum(g, X(0), DZ);
}

/* Sums dz along `axis` (all axes when -1) into a value of type t. */
static int
sum_along(GradCtx *g, int dz, int axis, IrType t)
{
	t.batched = grad_value(g, dz).type.batched;
	return back_attr(g, back_emit(g, IR_rsum, dz, -1, -1, &t), 0, axis, 0);
}

/* Copies a reduced value back along `axis` (everywhere when -1) to t. */
static int
spread_along(GradCtx *g, int x, int axis, IrType t)
{
	t.batched = t.batched || grad_value(g, x).type.batched;
	if (axis < 0)
		return back_emit(g, IR_bcastto, x, -1, -1, &t);
	return back_attr(g, back_emit(g, IR_expand, x, -1, -1, &t), 0, axis,
		t.dim[axis]);
}

/* z = expand(x) along axis: dx += sum of dz along axis */
static void
grad_expand(GradCtx *g, int id)
{
	IrValue z = grad_value(g, id);

	grad_accum(g, X(0), sum_along(g, DZ, z.axis, grad_value(g, X(0)).type));
}

/* z = x^T: dx += dz^T */
static void
grad_transpose(GradCtx *g, int id)
{
	IrValue z = grad_value(g, id);
	IrType t = grad_value(g, X(0)).type;

	t.batched = z.type.batched;
	grad_accum(g, X(0), back_emit(g, IR_transpose, DZ, -1, -1, &t));
}

/* z = x[idx]: dx[idx] += dz, adding where an index repeats */
static void
grad_gather(GradCtx *g, int id)
{
	IrValue z = grad_value(g, id);
	IrType t = grad_value(g, X(0)).type;

	t.batched = z.type.batched;
	grad_accum(g, X(0), back_attr(g, back_emit(g, IR_scatter, DZ, X(1),
		-1, &t), 0, -1, t.dim[0]));
}

/* z = scatter(x, idx): dx += dz[idx] */
static void
grad_scatter(GradCtx *g, int id)
{
	IrValue z = grad_value(g, id);
	IrType t = grad_value(g, X(0)).type;

	t.batched = z.type.batched;
	grad_accum(g, X(0), back_emit(g, IR_gather, DZ, X(1), -1, &t));
}

/* z = sum_b x[b]: dx[b] += dz */
static void
grad_bsum(GradCtx *g, int id)
{
	IrValue z = grad_value(g, id);
	IrType t = grad_value(g, X(0)).type;

	grad_accum(g, X(0), back_emit(g, IR_bcast, DZ, -1, -1, &t));
}

/* z[b] = x: dx += sum_b dz[b] */
static void
grad_bcast(GradCtx *g, int id)
{
	IrValue z = grad_value(g, id);
	IrType t = grad_value(g, X(0)).type;

	grad_accum(g, X(0), back_emit(g, IR_bsum, DZ, -1, -1, &t));
}

/* z = sum x along axis: dx += dz copied along axis */
static void
grad_rsum(GradCtx *g, int id)
{
	IrValue z = grad_value(g, id);

	grad_accum(g, X(0), spread_along(g, DZ, z.axis, grad_value(g, X(0)).type));
}

/* z = max or min of x along axis: dx += dz [x == z] / (count of ties) */
static void
reduce_extreme(GradCtx *g, int id)
{
	IrValue z = grad_value(g, id);
	IrType t = grad_value(g, X(0)).type;
	int hit = emit2(g, IR_eq, X(0), spread_along(g, id, z.axis, t));
	int ties = sum_along(g, hit, z.axis, z.type);
	int share = emit2(g, IR_div, hit, spread_along(g, ties, z.axis, t));

	grad_accum(g, X(0), back_mul(g, spread_along(g, DZ, z.axis, t), share));
}

static void
grad_rmax(GradCtx *g, int id)
{
	reduce_extreme(g, id);
}

static void
grad_rmin(GradCtx *g, int id)
{
	reduce_extreme(g, id);
}

/* z = logsumexp x along axis: dx += dz e^(x - z), the softmax */
static void
grad_rlse(GradCtx *g, int id)
{
	IrValue z = grad_value(g, id);
	IrType t = grad_value(g, X(0)).type;
	int shifted = emit2(g, IR_sub, X(0), spread_along(g, id, z.axis, t));

	int dz = spread_along(g, DZ, z.axis, t);
	int share = emit1(g, IR_exp, shifted);
	grad_accum(g, X(0), back_mul(g, dz, share));
}

/* z = softmax x: dx += z (dz - sum(dz z)) along axis */
static void
grad_softmax(GradCtx *g, int id)
{
	IrValue z = grad_value(g, id);
	IrType r = z.type;
	int dot;

	r.dim[z.axis] = 1;
	dot = sum_along(g, back_mul(g, DZ, id), z.axis, r);
	grad_accum(g, X(0), emit2(g, IR_mul, id, emit2(g, IR_sub, DZ, dot)));
}

/* z = log_softmax x: dx += dz - e^z sum(dz) along axis */
static void
grad_logsoftmax(GradCtx *g, int id)
{
	IrValue z = grad_value(g, id);
	IrType r = z.type;
	int total;

	r.dim[z.axis] = 1;
	total = sum_along(g, DZ, z.axis, r);
	grad_accum(g, X(0), emit2(g, IR_sub, DZ,
		emit2(g, IR_mul, emit1(g, IR_exp, id), total)));
}

/* A product whose result sums over the batch when `into` does not carry
 * it: the batched weight gradient as one matrix-matrix product. */
static int
product(GradCtx *g, IrOp op, int a, int b, int into, IrType t)
{
	t.batched = grad_value(g, into).type.batched &&
		(grad_value(g, a).type.batched || grad_value(g, b).type.batched);
	return back_emit(g, op, a, b, -1, &t);
}

static int
transposed(GradCtx *g, int x)
{
	IrType t = grad_value(g, x).type;
	int d = t.dim[0];

	t.dim[0] = t.dim[1];
	t.dim[1] = d;
	return back_emit(g, IR_transpose, x, -1, -1, &t);
}

/*
 * z = A B per example, vectors standing for a row or a column:
 *   [m,k] [k,n]: dA += dz B^T,       dB += A^T dz
 *   [m,k] [k]:   dA += outer(dz, x), dx += dz A
 *   [k] [k,n]:   dx += B dz,         dB += outer(x, dz)
 *   [k] [k]:     da += dz b,         db += dz a
 */
static void
grad_matmul(GradCtx *g, int id)
{
	IrValue z = grad_value(g, id);
	int a = X(0), b = X(1), dz = DZ;
	IrType ta = grad_value(g, a).type, tb = grad_value(g, b).type;

	if (ta.rank == 2 && tb.rank == 2) {
		grad_accum(g, a, product(g, IR_matmul, dz, transposed(g, b), a, ta));
		grad_accum(g, b, product(g, IR_matmul, transposed(g, a), dz, b, tb));
	} else if (ta.rank == 2) {
		grad_accum(g, a, product(g, IR_outer, dz, b, a, ta));
		grad_accum(g, b, product(g, IR_matmul, dz, a, b, tb));
	} else if (tb.rank == 2) {
		grad_accum(g, a, product(g, IR_matmul, b, dz, a, ta));
		grad_accum(g, b, product(g, IR_outer, a, dz, b, tb));
	} else {
		chain(g, id, a, b);
		chain(g, id, b, a);
	}
}

/* z = outer(a, b): da += dz b, db += a dz */
static void
grad_outer(GradCtx *g, int id)
{
	IrValue z = grad_value(g, id);
	int a = X(0), b = X(1), dz = DZ;

	grad_accum(g, a, product(g, IR_matmul, dz, b, a, grad_value(g, a).type));
	grad_accum(g, b, product(g, IR_matmul, a, dz, b, grad_value(g, b).type));
}

const IrGradFn ir_grad_fns[IR_NOPS] = {
#define OP(name, arity, rule) [IR_##name] = grad_##name,
#include "ops.def"
#undef OP
};
