/*
 * eval.c - the reference semantics of every op, in double precision, for
 * the interpreter.  Clarity over speed: each op reads its operands through
 * at(), which applies broadcasting and the batch axis, so no op has to.
 *
 * A value of type T holds (T.batched ? batch : 1) * numel(T) elements, one
 * example's elements after another, each example row-major.
 */
#include <math.h>
#include <string.h>

#include "ir.h"

static long
batch_of(const IrEval *e, const IrType *t)
{
	return t->batched ? e->b->n : 1;
}

/*
 * The element of `in` that broadcasting sends to element i of an example
 * of type `out`: trailing axes align, axes of size 1 repeat.
 */
static long
source_index(const IrType *out, const IrType *in, long i)
{
	long src = 0, stride = 1;

	for (int d = out->rank - 1, k = in->rank - 1; d >= 0; d--, k--) {
		long idx = i % out->dim[d];
		i /= out->dim[d];
		if (k < 0)
			continue;
		if (in->dim[k] != 1)
			src += idx * stride;
		stride *= in->dim[k];
	}
	return src;
}

/* Operand k of v for element i of example b of v. */
static double
at(const IrEval *e, const IrValue *v, int k, long b, long i)
{
	const IrValue *x = &e->m->fn.v[v->arg[k]];
	long base = x->type.batched ? b * ir_numel(&x->type) : 0;

	return e->vals[v->arg[k]][base + source_index(&v->type, &x->type, i)];
}

typedef double (*Map)(double x, double y, double z, double num);

static void
elementwise(const IrEval *e, const IrValue *v, double *out, Map fn)
{
	long n = ir_numel(&v->type), nb = batch_of(e, &v->type);
	int arity = ir_arity(v->op);

	for (long b = 0; b < nb; b++)
		for (long i = 0; i < n; i++)
			out[b * n + i] = fn(at(e, v, 0, b, i),
				arity > 1 ? at(e, v, 1, b, i) : 0,
				arity > 2 ? at(e, v, 2, b, i) : 0, v->num);
}

static double
stable_sigmoid(double x)
{
	return x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x));
}

static double
stable_softplus(double x)
{
	return fmax(x, 0) + log1p(exp(-fabs(x)));
}

#define MAP(name, expr)                                                 \
static double                                                           \
map_##name(double x, double y, double z, double num)                    \
{                                                                       \
	(void)x, (void)y, (void)z, (void)num;                           \
	return (expr);                                                  \
}                                                                       \
static void                                                             \
eval_##name(const IrEval *e, const IrValue *v, double *out)             \
{                                                                       \
	elementwise(e, v, out, map_##name);                             \
}

MAP(neg, -x)
MAP(exp, exp(x))
MAP(log, log(x))
MAP(sqrt, sqrt(x))
MAP(abs, fabs(x))
MAP(sign, (x > 0) - (x < 0))
MAP(sin, sin(x))
MAP(cos, cos(x))
MAP(tanh, tanh(x))
MAP(sigmoid, stable_sigmoid(x))
MAP(relu, x > 0 ? x : 0)
MAP(step, x > 0)
MAP(softplus, stable_softplus(x))
MAP(log1p, log1p(x))
MAP(powi, pow(x, num))
MAP(not, x == 0)
MAP(add, x + y)
MAP(sub, x - y)
MAP(mul, x * y)
MAP(smul, x == 0 || y == 0 ? 0 : x * y)
MAP(div, x / y)
MAP(pow, pow(x, y))
MAP(max2, x > y ? x : y)
MAP(min2, x < y ? x : y)
MAP(lt, x < y)
MAP(le, x <= y)
MAP(gt, x > y)
MAP(ge, x >= y)
MAP(eq, x == y)
MAP(ne, x != y)
MAP(and, x != 0 && y != 0)
MAP(or, x != 0 || y != 0)
MAP(where, x != 0 ? y : z)

static void
eval_const(const IrEval *e, const IrValue *v, double *out)
{
	long n = batch_of(e, &v->type) * ir_numel(&v->type);

	for (long i = 0; i < n; i++)
		out[i] = v->num;
}

static void
eval_param(const IrEval *e, const IrValue *v, double *out)
{
	const IrParam *p = &e->m->params[v->slot];

	memcpy(out, e->b->params + p->offset,
		(size_t)ir_numel(&v->type) * sizeof *out);
}

/* Columns slot.. of each row of a table `width` wide. */
static void
columns(const IrEval *e, const IrValue *v, const double *rows, long width,
	double *out)
{
	long n = ir_numel(&v->type);

	for (long b = 0; b < e->b->n; b++)
		for (long i = 0; i < n; i++)
			out[b * n + i] = rows[b * width + v->slot + i];
}

static void
eval_input(const IrEval *e, const IrValue *v, double *out)
{
	columns(e, v, e->b->inputs, e->m->input_size, out);
}

static void
eval_target(const IrEval *e, const IrValue *v, double *out)
{
	columns(e, v, e->b->targets, e->m->target_size, out);
}

static void
eval_nbatch(const IrEval *e, const IrValue *v, double *out)
{
	(void)v;
	out[0] = e->b->n;
}

static void
eval_iota(const IrEval *e, const IrValue *v, double *out)
{
	(void)e;
	for (long i = 0; i < v->n; i++)
		out[i] = v->num + (double)i;
}

static void
eval_onehot(const IrEval *e, const IrValue *v, double *out)
{
	long nb = batch_of(e, &v->type);

	for (long b = 0; b < nb; b++)
		for (long k = 0; k < v->n; k++)
			out[b * v->n + k] = at(e, v, 0, b, 0) == (double)k;
}

/* Adds each element of operand 0 into the element of `out` that
 * broadcasting would have sent there, over the batch too. */
static void
eval_sumto(const IrEval *e, const IrValue *v, double *out)
{
	const IrValue *x = &e->m->fn.v[v->arg[0]];
	long n = ir_numel(&x->type), nout = ir_numel(&v->type);
	long nb = batch_of(e, &x->type);

	memset(out, 0, (size_t)(batch_of(e, &v->type) * nout) * sizeof *out);
	for (long b = 0; b < nb; b++)
		for (long i = 0; i < n; i++)
			out[(v->type.batched ? b * nout : 0) +
				source_index(&x->type, &v->type, i)] +=
				e->vals[v->arg[0]][b * n + i];
}

static void
eval_bcastto(const IrEval *e, const IrValue *v, double *out)
{
	long n = ir_numel(&v->type), nb = batch_of(e, &v->type);

	for (long b = 0; b < nb; b++)
		for (long i = 0; i < n; i++)
			out[b * n + i] = at(e, v, 0, b, i);
}

/* The operand's index of element i of v, with axis `axis` removed. */
static long
drop_axis(const IrType *t, int axis, long i)
{
	long inner = 1;

	for (int d = axis + 1; d < t->rank; d++)
		inner *= t->dim[d];
	return i / (inner * t->dim[axis]) * inner + i % inner;
}

static void
eval_expand(const IrEval *e, const IrValue *v, double *out)
{
	const IrValue *x = &e->m->fn.v[v->arg[0]];
	long n = ir_numel(&v->type), nx = ir_numel(&x->type);
	long nb = batch_of(e, &v->type);

	for (long b = 0; b < nb; b++)
		for (long i = 0; i < n; i++)
			out[b * n + i] = e->vals[v->arg[0]][(x->type.batched ?
				b * nx : 0) + drop_axis(&v->type, v->axis, i)];
}

static void
eval_transpose(const IrEval *e, const IrValue *v, double *out)
{
	const IrValue *x = &e->m->fn.v[v->arg[0]];
	int r = v->type.rank;
	long rows = v->type.dim[r - 2], cols = v->type.dim[r - 1];
	long n = ir_numel(&v->type), nb = batch_of(e, &v->type);

	for (long b = 0; b < nb; b++)
		for (long i = 0; i < n; i++) {
			long mat = i / (rows * cols), rc = i % (rows * cols);
			long src = mat * rows * cols + rc % cols * rows + rc / cols;
			out[b * n + i] = e->vals[v->arg[0]][(x->type.batched ?
				b * n : 0) + src];
		}
}

/* x[idx] along axis 0: idx has shape S, x [N, R...], the result [S, R...]. */
static void
eval_gather(const IrEval *e, const IrValue *v, double *out)
{
	const IrValue *x = &e->m->fn.v[v->arg[0]];
	const IrValue *idx = &e->m->fn.v[v->arg[1]];
	long nidx = ir_numel(&idx->type), nx = ir_numel(&x->type);
	long inner = nx / x->type.dim[0], n = ir_numel(&v->type);
	long nb = batch_of(e, &v->type);

	for (long b = 0; b < nb; b++)
		for (long s = 0; s < nidx; s++) {
			long row = (long)e->vals[v->arg[1]][(idx->type.batched ?
				b * nidx : 0) + s];
			for (long r = 0; r < inner; r++)
				out[b * n + s * inner + r] =
					e->vals[v->arg[0]][(x->type.batched ?
					b * nx : 0) + row * inner + r];
		}
}

static void
eval_scatter(const IrEval *e, const IrValue *v, double *out)
{
	const IrValue *dz = &e->m->fn.v[v->arg[0]];
	const IrValue *idx = &e->m->fn.v[v->arg[1]];
	long nidx = ir_numel(&idx->type), ndz = ir_numel(&dz->type);
	long n = ir_numel(&v->type), inner = n / v->type.dim[0];
	long nb = batch_of(e, &v->type);

	memset(out, 0, (size_t)(nb * n) * sizeof *out);
	for (long b = 0; b < nb; b++)
		for (long s = 0; s < nidx; s++) {
			long row = (long)e->vals[v->arg[1]][(idx->type.batched ?
				b * nidx : 0) + s];
			for (long r = 0; r < inner; r++)
				out[b * n + row * inner + r] +=
					e->vals[v->arg[0]][(dz->type.batched ?
					b * ndz : 0) + s * inner + r];
		}
}

static void
eval_bsum(const IrEval *e, const IrValue *v, double *out)
{
	long n = ir_numel(&v->type);

	memset(out, 0, (size_t)n * sizeof *out);
	for (long b = 0; b < e->b->n; b++)
		for (long i = 0; i < n; i++)
			out[i] += e->vals[v->arg[0]][b * n + i];
}

static void
eval_bcast(const IrEval *e, const IrValue *v, double *out)
{
	long n = ir_numel(&v->type);

	for (long b = 0; b < e->b->n; b++)
		memcpy(out + b * n, e->vals[v->arg[0]], (size_t)n * sizeof *out);
}

/*
 * A reduction visits, for each output element, `len` operand elements
 * `stride` apart starting at `first`.  Axis -1 reduces everything.
 */
typedef struct Lanes {
	long outer, len, inner;
} Lanes;

static Lanes
lanes(const IrType *t, int axis)
{
	Lanes l = { 1, ir_numel(t), 1 };

	if (axis < 0)
		return l;
	l.len = t->dim[axis];
	for (int d = 0; d < axis; d++)
		l.outer *= t->dim[d];
	for (int d = axis + 1; d < t->rank; d++)
		l.inner *= t->dim[d];
	return l;
}

typedef double (*Fold)(const double *x, long len, long stride);

static double
fold_sum(const double *x, long len, long stride)
{
	double s = 0;

	for (long k = 0; k < len; k++)
		s += x[k * stride];
	return s;
}

static double
fold_max(const double *x, long len, long stride)
{
	double m = x[0];

	for (long k = 1; k < len; k++)
		m = x[k * stride] > m ? x[k * stride] : m;
	return m;
}

static double
fold_min(const double *x, long len, long stride)
{
	double m = x[0];

	for (long k = 1; k < len; k++)
		m = x[k * stride] < m ? x[k * stride] : m;
	return m;
}

/* Shifted by the maximum, so large arguments do not overflow. */
static double
fold_lse(const double *x, long len, long stride)
{
	double m = fold_max(x, len, stride), s = 0;

	if (isinf(m))
		return m;
	for (long k = 0; k < len; k++)
		s += exp(x[k * stride] - m);
	return m + log(s);
}

static void
reduce(const IrEval *e, const IrValue *v, double *out, Fold fold)
{
	const IrValue *x = &e->m->fn.v[v->arg[0]];
	Lanes l = lanes(&x->type, v->axis);
	long nx = ir_numel(&x->type), n = ir_numel(&v->type);
	long nb = batch_of(e, &v->type);

	for (long b = 0; b < nb; b++) {
		const double *src = e->vals[v->arg[0]] + b * nx;
		for (long o = 0; o < l.outer; o++)
			for (long in = 0; in < l.inner; in++)
				out[b * n + o * l.inner + in] = fold(src +
					o * l.len * l.inner + in, l.len, l.inner);
	}
}

static void
eval_rsum(const IrEval *e, const IrValue *v, double *out)
{
	reduce(e, v, out, fold_sum);
}

static void
eval_rmax(const IrEval *e, const IrValue *v, double *out)
{
	reduce(e, v, out, fold_max);
}

static void
eval_rmin(const IrEval *e, const IrValue *v, double *out)
{
	reduce(e, v, out, fold_min);
}

static void
eval_rlse(const IrEval *e, const IrValue *v, double *out)
{
	reduce(e, v, out, fold_lse);
}

/* softmax and log-softmax along v->axis, each lane shifted by its max. */
static void
normalise(const IrEval *e, const IrValue *v, double *out, int logs)
{
	Lanes l = lanes(&v->type, v->axis);
	long n = ir_numel(&v->type), nb = batch_of(e, &v->type);

	for (long b = 0; b < nb; b++)
		for (long o = 0; o < l.outer; o++)
			for (long in = 0; in < l.inner; in++) {
				long first = b * n + o * l.len * l.inner + in;
				const double *x = e->vals[v->arg[0]] + first;
				double lse = fold_lse(x, l.len, l.inner);
				for (long k = 0; k < l.len; k++) {
					double y = x[k * l.inner] - lse;
					out[first + k * l.inner] = logs ? y : exp(y);
				}
			}
}

static void
eval_softmax(const IrEval *e, const IrValue *v, double *out)
{
	normalise(e, v, out, 0);
}

static void
eval_logsoftmax(const IrEval *e, const IrValue *v, double *out)
{
	normalise(e, v, out, 1);
}

/* A rank-1 or rank-2 operand as an M x K (left) or K x N (right) matrix. */
static void
as_matrix(const IrType *t, int left, long *rows, long *cols)
{
	if (t->rank == 2) {
		*rows = t->dim[0];
		*cols = t->dim[1];
	} else if (left) {
		*rows = 1;
		*cols = t->dim[0];
	} else {
		*rows = t->dim[0];
		*cols = 1;
	}
}

/* C = A B per example, or summed over the batch when C is not batched. */
static void
product(const IrEval *e, const IrValue *v, double *out, long m, long k,
	long n)
{
	const IrValue *a = &e->m->fn.v[v->arg[0]], *bv = &e->m->fn.v[v->arg[1]];
	long nb = a->type.batched || bv->type.batched ? e->b->n : 1;
	long na = ir_numel(&a->type), nbv = ir_numel(&bv->type);

	memset(out, 0, (size_t)(batch_of(e, &v->type) * m * n) * sizeof *out);
	for (long b = 0; b < nb; b++) {
		const double *A = e->vals[v->arg[0]] + (a->type.batched ? b * na : 0);
		const double *B = e->vals[v->arg[1]] + (bv->type.batched ? b * nbv : 0);
		double *C = out + (v->type.batched ? b * m * n : 0);
		for (long i = 0; i < m; i++)
			for (long j = 0; j < n; j++)
				for (long p = 0; p < k; p++)
					C[i * n + j] += A[i * k + p] * B[p * n + j];
	}
}

static void
eval_matmul(const IrEval *e, const IrValue *v, double *out)
{
	long m, k, k2, n;

	as_matrix(&e->m->fn.v[v->arg[0]].type, 1, &m, &k);
	as_matrix(&e->m->fn.v[v->arg[1]].type, 0, &k2, &n);
	product(e, v, out, m, k, n);
}

static void
eval_outer(const IrEval *e, const IrValue *v, double *out)
{
	product(e, v, out, v->type.dim[0], 1, v->type.dim[1]);
}

const IrEvalFn ir_eval_fns[IR_NOPS] = {
#define OP(name, arity, rule) [IR_##name] = eval_##name,
#include "ops.def"
#undef OP
};
