/*
 * verify.c - the IR verifier, and the pipeline of stages it runs between.
 *
 * ir_check() states the invariants every stage keeps (docs/ir.md):
 *   - SSA: a value's operands are earlier values; unused operand slots
 *     are -1; the roots name values that exist;
 *   - types are well formed: rank 0 to IR_MAX_RANK, positive dimensions,
 *     zeros past the rank (CSE compares types byte for byte);
 *   - each op's operands and result agree with its rule (verify_NAME
 *     below, one per op of ops.def), including the batch axis;
 *   - attributes an op does not use stay at their defaults, so the
 *     textual form, which omits defaults, loses nothing;
 *   - the module's tables are consistent: parameter offsets and data
 *     columns are running sums, the loss is one unbatched scalar, and each
 *     gradient is typed like its parameter.
 * A broken invariant is a compiler bug, except in a .dlir file a person
 * edited; read.c reports it there as a user error at the value's line.
 */
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "ir.h"

typedef struct Check {
	const IrModule *m;
	const IrValue *v;
	int id;
	IrProblem *p;
} Check;

static int
bad(Check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records why the value is wrong; returns 1 so a rule can `return bad()`. */
static int
bad(Check *c, const char *fmt, ...)
{
	va_list ap;

	c->p->id = c->id;
	va_start(ap, fmt);
	vsnprintf(c->p->why, sizeof c->p->why, fmt, ap);
	va_end(ap);
	return 1;
}

static const IrType *
arg_type(const Check *c, int k)
{
	return &c->m->fn.v[c->v->arg[k]].type;
}

static void
type_str(const IrType *t, char *buf, size_t n)
{
	ir_type_str(t, buf, n);
}

/* Types equal in shape and batch axis. */
static int
same_type(const IrType *a, const IrType *b)
{
	return a->batched == b->batched && ir_same_shape(a, b);
}

static int
expect_type(Check *c, const IrType *want, const char *what)
{
	char w[64], s[64];

	if (same_type(&c->v->type, want))
		return 0;
	type_str(want, w, sizeof w);
	type_str(&c->v->type, s, sizeof s);
	return bad(c, "%s: expected type %s, saw %s", what, w, s);
}

/* The batch rule of most ops: the result carries the batch axis exactly
 * when an operand does. */
static int
batch_follows(Check *c)
{
	int any = 0;

	for (int k = 0; k < ir_arity(c->v->op); k++)
		any |= arg_type(c, k)->batched;
	if (c->v->type.batched == any)
		return 0;
	return bad(c, any ? "an operand is batched but the result is not" :
		"the result is batched but no operand is");
}

/* Attributes, as a mask of the ones an op reads. */
enum { A_NUM = 1, A_AXIS = 2, A_N = 4, A_SLOT = 8 };

static int
only(Check *c, int used)
{
	static const double zero = 0;
	const IrValue *v = c->v;

	if (!(used & A_NUM) && memcmp(&v->num, &zero, sizeof zero) != 0)
		return bad(c, "num=%g is not used by %s and must be 0", v->num,
			ir_ops[v->op].name);
	if (!(used & A_AXIS) && v->axis != -1)
		return bad(c, "axis=%d is not used by %s and must be -1",
			v->axis, ir_ops[v->op].name);
	if (!(used & A_N) && v->n != 0)
		return bad(c, "n=%d is not used by %s and must be 0", v->n,
			ir_ops[v->op].name);
	if (!(used & A_SLOT) && v->slot != 0)
		return bad(c, "slot=%d is not used by %s and must be 0",
			v->slot, ir_ops[v->op].name);
	return 0;
}

/* ---- leaves ---- */

static int
verify_const(Check *c)
{
	return only(c, A_NUM);
}

/* param: slot is the parameter's number; typed like it, never batched */
static int
verify_param(Check *c)
{
	const IrValue *v = c->v;

	if (only(c, A_SLOT))
		return 1;
	if (v->slot < 0 || v->slot >= c->m->nparams)
		return bad(c, "parameter %d does not exist (the module has %d)",
			v->slot, c->m->nparams);
	return expect_type(c, &c->m->params[v->slot].type, "param");
}

/* input, target: slot is the first column of a declared one; batched */
static int
verify_data(Check *c, const IrData *d, int count, const char *kind)
{
	const IrValue *v = c->v;

	if (only(c, A_SLOT))
		return 1;
	for (int i = 0; i < count; i++) {
		if (d[i].column != v->slot)
			continue;
		IrType t = d[i].type;
		t.batched = 1;
		return expect_type(c, &t, kind);
	}
	return bad(c, "no %s starts at column %d", kind, v->slot);
}

static int
verify_input(Check *c)
{
	return verify_data(c, c->m->inputs, c->m->ninputs, "input");
}

static int
verify_target(Check *c)
{
	return verify_data(c, c->m->targets, c->m->ntargets, "target");
}

static int
verify_nbatch(Check *c)
{
	IrType t = ir_scalar(0);

	return only(c, 0) || expect_type(c, &t, "nbatch");
}

/* iota: [n] of num, num + 1, ...; never batched */
static int
verify_iota(Check *c)
{
	const IrValue *v = c->v;
	IrType t = ir_shape(0, 1, &v->n);

	if (only(c, A_NUM | A_N))
		return 1;
	if (v->n < 1)
		return bad(c, "iota needs n >= 1, saw n=%d", v->n);
	return expect_type(c, &t, "iota");
}

/* onehot: a scalar label to [n] */
static int
verify_onehot(Check *c)
{
	const IrValue *v = c->v;
	IrType t = ir_shape(arg_type(c, 0)->batched, 1, &v->n);

	if (only(c, A_N))
		return 1;
	if (arg_type(c, 0)->rank != 0)
		return bad(c, "onehot takes a scalar label, saw rank %d",
			arg_type(c, 0)->rank);
	if (v->n < 1)
		return bad(c, "onehot needs n >= 1, saw n=%d", v->n);
	return expect_type(c, &t, "onehot");
}

/* ---- element-wise ---- */

/* One operand: the result is typed exactly like it. */
static int
map_rule(Check *c, int used)
{
	return only(c, used) || expect_type(c, arg_type(c, 0), "element-wise");
}

#define MAP_RULE(name) \
static int verify_##name(Check *c) { return map_rule(c, 0); }
MAP_RULE(neg)
MAP_RULE(exp)
MAP_RULE(log)
MAP_RULE(sqrt)
MAP_RULE(abs)
MAP_RULE(sign)
MAP_RULE(sin)
MAP_RULE(cos)
MAP_RULE(tanh)
MAP_RULE(sigmoid)
MAP_RULE(relu)
MAP_RULE(step)
MAP_RULE(softplus)
MAP_RULE(log1p)
MAP_RULE(not)

/* powi: num is a whole exponent */
static int
verify_powi(Check *c)
{
	if (map_rule(c, A_NUM))
		return 1;
	if (c->v->num != floor(c->v->num))
		return bad(c, "powi needs a whole exponent, saw num=%g",
			c->v->num);
	return 0;
}

/* Two or three operands: NumPy broadcasting, batched when any is. */
static int
broadcast_rule(Check *c)
{
	IrType t = *arg_type(c, 0), next;
	char a[64], b[64];

	if (only(c, 0))
		return 1;
	for (int k = 1; k < ir_arity(c->v->op); k++) {
		if (!ir_broadcast(&t, arg_type(c, k), &next)) {
			type_str(&t, a, sizeof a);
			type_str(arg_type(c, k), b, sizeof b);
			return bad(c, "operands %s and %s do not broadcast", a,
				b);
		}
		t = next;
	}
	return expect_type(c, &t, "broadcast");
}

#define BROADCAST_RULE(name) \
static int verify_##name(Check *c) { return broadcast_rule(c); }
BROADCAST_RULE(add)
BROADCAST_RULE(sub)
BROADCAST_RULE(mul)
BROADCAST_RULE(smul)
BROADCAST_RULE(div)
BROADCAST_RULE(pow)
BROADCAST_RULE(max2)
BROADCAST_RULE(min2)
BROADCAST_RULE(lt)
BROADCAST_RULE(le)
BROADCAST_RULE(gt)
BROADCAST_RULE(ge)
BROADCAST_RULE(eq)
BROADCAST_RULE(ne)
BROADCAST_RULE(and)
BROADCAST_RULE(or)
BROADCAST_RULE(where)

/* ---- shape changes ---- */

/* `from` broadcasts to exactly `to` (per-example shapes). */
static int
broadcasts_to(const IrType *from, const IrType *to)
{
	IrType out;

	return ir_broadcast(from, to, &out) && ir_same_shape(&out, to);
}

static int
shape_mismatch(Check *c, const char *fmt, const IrType *x, const IrType *z)
{
	char a[64], b[64];

	type_str(x, a, sizeof a);
	type_str(z, b, sizeof b);
	return bad(c, fmt, a, b);
}

/* sumto: the result's shape broadcasts to the operand's; it may drop the
 * batch axis (summing over it) but not add one */
static int
verify_sumto(Check *c)
{
	const IrType *x = arg_type(c, 0), *z = &c->v->type;

	if (only(c, 0))
		return 1;
	if (!broadcasts_to(z, x))
		return shape_mismatch(c, "sumto from %s to %s: the result "
			"does not broadcast to the operand", x, z);
	if (z->batched && !x->batched)
		return bad(c, "sumto cannot add the batch axis");
	return 0;
}

/* bcastto: the operand broadcasts to the result, which may add the batch
 * axis but not drop it */
static int
verify_bcastto(Check *c)
{
	const IrType *x = arg_type(c, 0), *z = &c->v->type;

	if (only(c, 0))
		return 1;
	if (!broadcasts_to(x, z))
		return shape_mismatch(c, "bcastto from %s to %s: the operand "
			"does not broadcast to the result", x, z);
	if (x->batched && !z->batched)
		return bad(c, "bcastto cannot drop the batch axis");
	return 0;
}

/* expand: the operand with axis `axis` of size n inserted */
static int
verify_expand(Check *c)
{
	const IrValue *v = c->v;
	const IrType *x = arg_type(c, 0);
	IrType want = { .batched = x->batched, .rank = x->rank + 1 };

	if (only(c, A_AXIS | A_N))
		return 1;
	if (want.rank > IR_MAX_RANK || v->axis < 0 || v->axis >= want.rank)
		return bad(c, "expand axis=%d is outside 0..%d", v->axis,
			x->rank);
	if (v->n < 1)
		return bad(c, "expand needs n >= 1, saw n=%d", v->n);
	for (int d = 0, k = 0; d < want.rank; d++)
		want.dim[d] = d == v->axis ? v->n : x->dim[k++];
	return expect_type(c, &want, "expand");
}

/* transpose: the last two axes swapped */
static int
verify_transpose(Check *c)
{
	const IrType *x = arg_type(c, 0);
	IrType want = *x;
	int r = x->rank;

	if (only(c, 0))
		return 1;
	if (r < 2)
		return bad(c, "transpose needs rank 2 or more, saw rank %d", r);
	want.dim[r - 2] = x->dim[r - 1];
	want.dim[r - 1] = x->dim[r - 2];
	return expect_type(c, &want, "transpose");
}

/* An index known when compiling (const or iota) must lie in 0..size-1. */
static int
index_in_range(Check *c, int idx, int size)
{
	const IrValue *x = &c->m->fn.v[idx];
	double lo = x->num, hi = x->num;

	if (x->op == IR_iota)
		hi = x->num + x->n - 1;
	else if (x->op != IR_const)
		return 0;
	if (lo != floor(lo) || lo < 0 || hi >= size)
		return bad(c, "index %%%d reaches %g..%g, outside 0..%d", idx,
			lo, hi, size - 1);
	return 0;
}

/* Whole dims: idx's shape followed by rest[from..], as a type. */
static int
indexed_shape(Check *c, const IrType *idx, const IrType *rest, int from,
	IrType *out)
{
	out->rank = idx->rank + rest->rank - from;
	if (out->rank > IR_MAX_RANK)
		return bad(c, "the result would have rank %d, more than %d",
			out->rank, IR_MAX_RANK);
	memcpy(out->dim, idx->dim, (size_t)idx->rank * sizeof *out->dim);
	for (int d = from; d < rest->rank; d++)
		out->dim[idx->rank + d - from] = rest->dim[d];
	return 0;
}

/* gather: x [N, R...] at idx of shape S gives [S, R...] */
static int
verify_gather(Check *c)
{
	const IrType *x = arg_type(c, 0), *idx = arg_type(c, 1);
	IrType want = { .batched = x->batched || idx->batched };

	if (only(c, 0))
		return 1;
	if (x->rank < 1)
		return bad(c, "gather from a scalar");
	if (indexed_shape(c, idx, x, 1, &want))
		return 1;
	return expect_type(c, &want, "gather") ||
		index_in_range(c, c->v->arg[1], x->dim[0]);
}

/* scatter: x [S, R...] at idx of shape S into zeros [n, R...] */
static int
verify_scatter(Check *c)
{
	const IrType *x = arg_type(c, 0), *idx = arg_type(c, 1);
	const IrType *z = &c->v->type;
	IrType want = { .batched = x->batched || idx->batched };

	if (only(c, A_N))
		return 1;
	if (z->rank < 1 || z->dim[0] != c->v->n)
		return bad(c, "scatter n=%d must be the result's first "
			"dimension", c->v->n);
	if (indexed_shape(c, idx, z, 1, &want))
		return 1;
	want.batched = x->batched;
	if (!ir_same_shape(&want, x))
		return shape_mismatch(c, "scatter of %s into %s: the operand "
			"must be the index's shape then the result's rows", x,
			z);
	if (z->batched != (x->batched || idx->batched))
		return batch_follows(c);
	return index_in_range(c, c->v->arg[1], c->v->n);
}

/* bsum: batched to unbatched, same shape */
static int
verify_bsum(Check *c)
{
	IrType want = *arg_type(c, 0);

	if (only(c, 0))
		return 1;
	if (!want.batched)
		return bad(c, "bsum of a value without the batch axis");
	want.batched = 0;
	return expect_type(c, &want, "bsum");
}

/* bcast: unbatched to batched, same shape */
static int
verify_bcast(Check *c)
{
	IrType want = *arg_type(c, 0);

	if (only(c, 0))
		return 1;
	if (want.batched)
		return bad(c, "bcast of a value that has the batch axis");
	want.batched = 1;
	return expect_type(c, &want, "bcast");
}

/* ---- reductions ---- */

/* Along `axis`, dropping it or keeping it with size 1; all axes to a
 * scalar when axis is -1. */
static int
reduction_rule(Check *c)
{
	const IrValue *v = c->v;
	const IrType *x = arg_type(c, 0);
	IrType dropped = { .batched = x->batched }, kept = *x;

	if (only(c, A_AXIS))
		return 1;
	if (v->axis == -1)
		return expect_type(c, &dropped, "a reduction of all axes");
	if (v->axis < 0 || v->axis >= x->rank)
		return bad(c, "axis=%d is outside the operand's 0..%d",
			v->axis, x->rank - 1);
	for (int d = 0; d < x->rank; d++)
		if (d != v->axis)
			dropped.dim[dropped.rank++] = x->dim[d];
	kept.dim[v->axis] = 1;
	if (same_type(&v->type, &kept))
		return 0;
	return expect_type(c, &dropped, "reduction");
}

#define REDUCTION_RULE(name) \
static int verify_##name(Check *c) { return reduction_rule(c); }
REDUCTION_RULE(rsum)
REDUCTION_RULE(rmax)
REDUCTION_RULE(rmin)
REDUCTION_RULE(rlse)

/* softmax, logsoftmax: typed like the operand, along an existing axis */
static int
normalise_rule(Check *c)
{
	int r = arg_type(c, 0)->rank;

	if (map_rule(c, A_AXIS))
		return 1;
	if (c->v->axis < 0 || c->v->axis >= r)
		return bad(c, "axis=%d is outside the operand's 0..%d",
			c->v->axis, r - 1);
	return 0;
}

static int verify_softmax(Check *c) { return normalise_rule(c); }
static int verify_logsoftmax(Check *c) { return normalise_rule(c); }

/* ---- products ---- */

/* A product may leave out the batch axis its operands have (it then sums
 * over the batch) but cannot invent one. */
static int
product_batch(Check *c)
{
	if (c->v->type.batched && !arg_type(c, 0)->batched &&
	    !arg_type(c, 1)->batched)
		return bad(c, "the result is batched but no operand is");
	return 0;
}

/* matmul per example: [m,k][k,n] -> [m,n], [m,k][k] -> [m],
 * [k][k,n] -> [n], [k][k] -> [] */
static int
verify_matmul(Check *c)
{
	const IrType *a = arg_type(c, 0), *b = arg_type(c, 1);
	IrType want = { .batched = c->v->type.batched };

	if (only(c, 0) || product_batch(c))
		return 1;
	if (a->rank < 1 || a->rank > 2 || b->rank < 1 || b->rank > 2)
		return bad(c, "matmul takes vectors and matrices, saw ranks "
			"%d and %d", a->rank, b->rank);
	if (a->dim[a->rank - 1] != b->dim[0])
		return shape_mismatch(c, "matmul of %s and %s: inner "
			"dimensions differ", a, b);
	if (a->rank == 2)
		want.dim[want.rank++] = a->dim[0];
	if (b->rank == 2)
		want.dim[want.rank++] = b->dim[1];
	return expect_type(c, &want, "matmul");
}

/* outer: [m] [n] -> [m, n] */
static int
verify_outer(Check *c)
{
	const IrType *a = arg_type(c, 0), *b = arg_type(c, 1);
	IrType want = { .batched = c->v->type.batched, .rank = 2 };

	if (only(c, 0) || product_batch(c))
		return 1;
	if (a->rank != 1 || b->rank != 1)
		return bad(c, "outer takes two vectors, saw ranks %d and %d",
			a->rank, b->rank);
	want.dim[0] = a->dim[0];
	want.dim[1] = b->dim[0];
	return expect_type(c, &want, "outer");
}

typedef int (*VerifyFn)(Check *c);

static const VerifyFn verify_fns[IR_NOPS] = {
#define OP(name, arity, rule) [IR_##name] = verify_##name,
#include "ops.def"
#undef OP
};

/* ---- what every value and the module need ---- */

static int
well_formed(Check *c, const IrType *t, const char *what)
{
	long numel = 1;

	if (t->batched != 0 && t->batched != 1)
		return bad(c, "%s: batched must be 0 or 1, saw %d", what,
			t->batched);
	if (t->rank < 0 || t->rank > IR_MAX_RANK)
		return bad(c, "%s: rank %d is outside 0..%d", what, t->rank,
			IR_MAX_RANK);
	for (int d = 0; d < IR_MAX_RANK; d++) {
		if (d >= t->rank && t->dim[d] != 0)
			return bad(c, "%s: dimension %d is past the rank %d but "
				"not 0", what, d, t->rank);
		if (d < t->rank && (t->dim[d] < 1 || t->dim[d] > 1 << 30))
			return bad(c, "%s: dimension %d is %d", what, d,
				t->dim[d]);
		if (d < t->rank)
			numel *= t->dim[d];
		if (numel > 1L << 32)
			return bad(c, "%s: more than 2^32 elements", what);
	}
	return 0;
}

/* The op exists; operands are earlier values; unused slots are -1. */
static int
ssa_form(Check *c)
{
	const IrValue *v = c->v;

	if ((int)v->op < 0 || v->op >= IR_NOPS)
		return bad(c, "op %d does not exist", (int)v->op);
	for (int k = 0; k < 3; k++) {
		int arg = v->arg[k];
		if (k >= ir_arity(v->op) && arg != -1)
			return bad(c, "%s takes %d operands but slot %d holds "
				"%d", ir_ops[v->op].name, ir_arity(v->op), k,
				arg);
		if (k < ir_arity(v->op) && (arg < 0 || arg >= c->id))
			return bad(c, "operand %d is %%%d, which does not "
				"precede %%%d", k, arg, c->id);
	}
	return well_formed(c, &v->type, "result");
}

static int
check_value(Check *c, int id)
{
	c->id = id;
	c->v = &c->m->fn.v[id];
	if (ssa_form(c))
		return 1;
	if (c->v->adjoint && !c->m->has_grad)
		return bad(c, "a back value in a module that is not "
			"differentiated");
	return verify_fns[c->v->op](c);
}

static int
check_params(Check *c)
{
	const IrModule *m = c->m;
	long offset = 0;

	if (m->fn.nparams != m->nparams)
		return bad(c, "the function counts %d parameters, the module "
			"%d", m->fn.nparams, m->nparams);
	for (int i = 0; i < m->nparams; i++) {
		const IrParam *p = &m->params[i];
		if (well_formed(c, &p->type, p->name))
			return 1;
		if (p->type.batched)
			return bad(c, "parameter %s has the batch axis", p->name);
		if (p->offset != offset)
			return bad(c, "parameter %s starts at %ld, expected %ld",
				p->name, p->offset, offset);
		offset += ir_numel(&p->type);
	}
	if (m->param_size != offset)
		return bad(c, "param_size is %ld, the parameters hold %ld",
			m->param_size, offset);
	return 0;
}

static int
check_data(Check *c, const IrData *d, int count, long size,
	const char *kind)
{
	long column = 0;

	for (int i = 0; i < count; i++) {
		if (well_formed(c, &d[i].type, d[i].name))
			return 1;
		if (d[i].type.batched)
			return bad(c, "%s %s: the table holds per-example types",
				kind, d[i].name);
		if (d[i].column != column)
			return bad(c, "%s %s starts at column %ld, expected %ld",
				kind, d[i].name, d[i].column, column);
		if (d[i].nclasses < 0)
			return bad(c, "%s %s has %d classes", kind, d[i].name,
				d[i].nclasses);
		column += ir_numel(&d[i].type);
	}
	if (size != column)
		return bad(c, "the %ss take %ld columns, the module says %ld",
			kind, column, size);
	return 0;
}

static int
root_in_range(Check *c, int root, const char *what)
{
	if (root >= 0 && root < c->m->fn.n)
		return 0;
	return bad(c, "the %s is %%%d, which does not exist", what, root);
}

/* The loss is one number for the batch; gradients look like params. */
static int
check_roots(Check *c)
{
	const IrModule *m = c->m;
	const IrFunc *f = &m->fn;
	IrType scalar = ir_scalar(0);

	c->id = -1;
	if (root_in_range(c, f->loss, "loss"))
		return 1;
	if (!same_type(&f->v[f->loss].type, &scalar))
		return c->id = f->loss, bad(c, "the loss must be an unbatched "
			"scalar");
	if (f->output != -1 && root_in_range(c, f->output, "output"))
		return 1;
	if (m->has_grad && !f->grad)
		return bad(c, "the module is differentiated but has no "
			"gradients");
	for (int i = 0; m->has_grad && i < m->nparams; i++) {
		int g = f->grad[i];
		if (g == -1)
			continue;
		if (root_in_range(c, g, "gradient"))
			return 1;
		if (!same_type(&f->v[g].type, &m->params[i].type))
			return c->id = g, bad(c, "the gradient of %s must be "
				"typed like it", m->params[i].name);
	}
	return 0;
}

/* Settings the trainer relies on. */
static int
check_train(Check *c)
{
	const IrTrain *t = &c->m->train;

	if (!ir_opt_name((int)t->opt))
		return bad(c, "optimiser %d does not exist", (int)t->opt);
	if (t->epochs < 1 || t->batch < 1)
		return bad(c, "epochs and batch must be at least 1, saw %ld "
			"and %ld", t->epochs, t->batch);
	return 0;
}

int
ir_check(const IrModule *m, IrProblem *p)
{
	Check c = { .m = m, .id = -1, .p = p };

	p->id = -1;
	p->why[0] = '\0';
	if (check_train(&c) || check_params(&c) ||
	    check_data(&c, m->inputs, m->ninputs, m->input_size, "input") ||
	    check_data(&c, m->targets, m->ntargets, m->target_size, "target"))
		return 1;
	for (int id = 0; id < m->fn.n; id++)
		if (check_value(&c, id))
			return 1;
	return check_roots(&c);
}

int
ir_verify(const IrModule *m, const char *after_pass)
{
	IrProblem p;
	char line[512];

	if (ir_check(m, &p) == 0)
		return 0;
	fprintf(stderr, "dlc: invalid IR after %s: ", after_pass);
	if (p.id >= 0) {
		ir_value_str(m, p.id, line, sizeof line);
		fprintf(stderr, "%s\n  %s\n", p.why, line);
	} else {
		fprintf(stderr, "%s\n", p.why);
	}
	return 1;
}
