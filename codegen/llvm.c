/*
 * llvm.c - the LLVM emitter: NAME_loss, NAME_loss_grad,
 * NAME_loss_grad_inputs and NAME_predict as LLVM IR, built through the
 * LLVM-C API from the IR module.
 *
 * Needs: a module after ir_grad and the optimiser, as c.c does.  It
 * follows c.c value for value: the same memory plan (plan.c), the same
 * loop nests in the same order, the same arithmetic in the same order,
 * and the same libm calls, so both backends compute the same numbers and
 * can be compared to the last bit on one machine.  Element-wise values of
 * one type share an open loop nest, as in c.c, so chains of them fuse.
 * Accumulators live in allocas of the entry block; the pass pipeline
 * turns them into registers.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "llvm_int.h"

/* ---- small builders ---- */

LLVMValueRef
lv_size(Lv *l, long n)
{
	return LLVMConstInt(l->size, (unsigned long long)n, 0);
}

LLVMValueRef
lv_real(Lv *l, double v)
{
	return LLVMConstReal(l->real, v);
}

/* Element `index` of an array of t at base. */
LLVMValueRef
lv_elem(Lv *l, LLVMTypeRef t, LLVMValueRef base, LLVMValueRef index)
{
	return LLVMBuildInBoundsGEP2(l->bld, t, base, &index, 1, "");
}

static int
is_zero(LLVMValueRef v)
{
	return LLVMIsAConstantInt(v) && LLVMConstIntGetZExtValue(v) == 0;
}

/* Index arithmetic; adding 0 and multiplying by 0 or 1 are left out, so
 * the -O0 .ll reads like the C. */
static LLVMValueRef
add(Lv *l, LLVMValueRef a, LLVMValueRef b)
{
	if (is_zero(b))
		return a;
	if (is_zero(a))
		return b;
	return LLVMBuildAdd(l->bld, a, b, "");
}

static LLVMValueRef
mul(Lv *l, LLVMValueRef a, long n)
{
	if (n == 0)
		return lv_size(l, 0);
	return n == 1 ? a : LLVMBuildMul(l->bld, a, lv_size(l, n), "");
}

static LLVMValueRef
udiv(Lv *l, LLVMValueRef a, long n)
{
	return n == 1 ? a : LLVMBuildUDiv(l->bld, a, lv_size(l, n), "");
}

static LLVMValueRef
urem(Lv *l, LLVMValueRef a, long n)
{
	return LLVMBuildURem(l->bld, a, lv_size(l, n), "");
}

static LLVMValueRef
load(Lv *l, LLVMValueRef ptr)
{
	return LLVMBuildLoad2(l->bld, l->real, ptr, "");
}

static void
store(Lv *l, LLVMValueRef v, LLVMValueRef ptr)
{
	LLVMBuildStore(l->bld, v, ptr);
}

/*
 * A loop `for (index = 0; index < count; index++)`: the head tests before
 * the body, as C's for does, so a batch of 0 runs nothing.  The builder is
 * left in the body; lv_loop_close() adds the step and leaves it after.
 */
LvLoop
lv_loop_open(Lv *l, LLVMValueRef count, const char *name)
{
	LLVMBasicBlockRef pre = LLVMGetInsertBlock(l->bld);
	LLVMValueRef zero = lv_size(l, 0);
	LvLoop lp;

	lp.head = LLVMAppendBasicBlockInContext(l->ctx, l->fn, name);
	LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(l->ctx, l->fn,
		"body");
	lp.exit = LLVMAppendBasicBlockInContext(l->ctx, l->fn, "done");
	LLVMBuildBr(l->bld, lp.head);
	LLVMPositionBuilderAtEnd(l->bld, lp.head);
	lp.index = LLVMBuildPhi(l->bld, l->size, name);
	LLVMAddIncoming(lp.index, &zero, &pre, 1);
	LLVMBuildCondBr(l->bld, LLVMBuildICmp(l->bld, LLVMIntULT, lp.index,
		count, ""), body, lp.exit);
	LLVMPositionBuilderAtEnd(l->bld, body);
	return lp;
}

void
lv_loop_close(Lv *l, LvLoop *lp)
{
	LLVMBasicBlockRef latch = LLVMGetInsertBlock(l->bld);
	LLVMValueRef next = LLVMBuildNUWAdd(l->bld, lp->index, lv_size(l, 1),
		"");

	LLVMAddIncoming(lp->index, &next, &latch, 1);
	LLVMBuildBr(l->bld, lp->head);
	/* blocks in source order make the .ll read like the C */
	LLVMMoveBasicBlockAfter(lp->exit, latch);
	LLVMPositionBuilderAtEnd(l->bld, lp->exit);
}

/* A counted loop over a bound known now; a bound of 1 needs none. */
static LLVMValueRef
open_fixed(Lv *l, LvLoop *lp, long n, const char *name)
{
	if (n == 1) {
		lp->head = NULL;
		return lv_size(l, 0);
	}
	*lp = lv_loop_open(l, lv_size(l, n), name);
	return lp->index;
}

/* Over the batch when the type carries it, else once. */
static LLVMValueRef
open_batch(Lv *l, LvLoop *lp, const IrType *t)
{
	if (!t->batched)
		return open_fixed(l, lp, 1, "b");
	*lp = lv_loop_open(l, l->batch, "b");
	return lp->index;
}

static void
close_any(Lv *l, LvLoop *lp)
{
	if (lp->head)
		lv_loop_close(l, lp);
}

static void
set_string_attr(Lv *l, LLVMValueRef fn, const char *key, const char *value)
{
	LLVMAttributeRef a = LLVMCreateStringAttribute(l->ctx, key,
		(unsigned)strlen(key), value, (unsigned)strlen(value));

	LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, a);
}

static void
set_enum_attr(Lv *l, LLVMValueRef fn, unsigned index, const char *name)
{
	unsigned kind = LLVMGetEnumAttributeKindForName(name, strlen(name));

	LLVMAddAttributeAtIndex(fn, index, LLVMCreateEnumAttribute(l->ctx,
		kind, 0));
}

/*
 * A function of the module.  Exported ones are the C API; the rest are
 * internal.  Every pointer parameter is noalias, as the C API's restrict
 * promises, and the target CPU and features go on each function so the
 * .ll and .bc carry them to whatever compiles them later.
 */
LLVMValueRef
lv_function(Lv *l, const char *name, LLVMTypeRef ret, LLVMTypeRef *params,
	int nparams, int exported)
{
	LLVMTypeRef ty = LLVMFunctionType(ret, params, (unsigned)nparams, 0);
	LLVMValueRef fn = LLVMAddFunction(l->mod, name, ty);

	LLVMSetLinkage(fn, exported ? LLVMExternalLinkage :
		LLVMInternalLinkage);
	set_enum_attr(l, fn, LLVMAttributeFunctionIndex, "nounwind");
	for (int k = 0; k < nparams; k++)
		if (LLVMGetTypeKind(params[k]) == LLVMPointerTypeKind)
			set_enum_attr(l, fn, (unsigned)k + 1, "noalias");
	if (l->cpu && *l->cpu)
		set_string_attr(l, fn, "target-cpu", l->cpu);
	if (l->features && *l->features)
		set_string_attr(l, fn, "target-features", l->features);
	LLVMPositionBuilderAtEnd(l->bld, LLVMAppendBasicBlockInContext(l->ctx,
		fn, "entry"));
	l->fn = fn;
	return fn;
}

/* A call of an overloaded intrinsic such as llvm.exp at type t. */
LLVMValueRef
lv_intrinsic(Lv *l, const char *name, LLVMTypeRef t, LLVMValueRef *args,
	int nargs)
{
	unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
	LLVMValueRef fn = LLVMGetIntrinsicDeclaration(l->mod, id, &t, 1);
	LLVMTypeRef ty = LLVMIntrinsicGetType(l->ctx, id, &t, 1);

	return LLVMBuildCall2(l->bld, ty, fn, args, (unsigned)nargs, "");
}

/* A call of libm's NAME (or NAMEf when t is float), one argument. */
LLVMValueRef
lv_libm(Lv *l, const char *name, LLVMTypeRef t, LLVMValueRef x)
{
	char full[32];
	LLVMTypeRef ty = LLVMFunctionType(t, &t, 1, 0);
	LLVMValueRef fn;

	snprintf(full, sizeof full, "%s%s", name,
		LLVMGetTypeKind(t) == LLVMFloatTypeKind ? "f" : "");
	fn = LLVMGetNamedFunction(l->mod, full);
	if (!fn) {
		fn = LLVMAddFunction(l->mod, full, ty);
		set_enum_attr(l, fn, LLVMAttributeFunctionIndex, "nounwind");
	}
	return LLVMBuildCall2(l->bld, ty, fn, &x, 1, "");
}

static LLVMValueRef
intr1(Lv *l, const char *name, LLVMValueRef x)
{
	return lv_intrinsic(l, name, l->real, &x, 1);
}

/* An accumulator: a stack slot in the entry block, so mem2reg finds it. */
static LLVMValueRef
slot(Lv *l, const char *name)
{
	LLVMBuilderRef b = LLVMCreateBuilderInContext(l->ctx);
	LLVMBasicBlockRef entry = LLVMGetEntryBasicBlock(l->fn);
	LLVMValueRef first = LLVMGetFirstInstruction(entry);
	LLVMValueRef a;

	if (first)
		LLVMPositionBuilderBefore(b, first);
	else
		LLVMPositionBuilderAtEnd(b, entry);
	a = LLVMBuildAlloca(b, l->real, name);
	LLVMDisposeBuilder(b);
	return a;
}

/* ---- values and where they live ---- */

static const IrValue *
val(const Lv *l, int id)
{
	return &l->m->fn.v[id];
}

/* Where element i of example b of a stored value is. */
static LLVMValueRef
addr(Lv *l, int id, LLVMValueRef b, LLVMValueRef i)
{
	const IrValue *v = val(l, id);
	LLVMValueRef idx = v->type.batched ?
		add(l, mul(l, b, ir_numel(&v->type)), i) : i;

	return lv_elem(l, l->real, l->wbuf[l->plan.buf[id]], idx);
}

/* Column `first` + i of row b of a table `width` wide. */
static LLVMValueRef
column(Lv *l, LLVMValueRef table, long width, long first, LLVMValueRef b,
	LLVMValueRef i)
{
	LLVMValueRef idx = add(l, add(l, mul(l, b, width), lv_size(l, first)),
		i);

	return load(l, lv_elem(l, l->real, table, idx));
}

/* Element i of example b of value id, as c.c's ref() reads it: leaves
 * and batch broadcasts in place, everything else from its buffer. */
static LLVMValueRef
ref(Lv *l, int id, LLVMValueRef b, LLVMValueRef i)
{
	const IrValue *v = val(l, id);

	switch (v->op) {
	case IR_const:
		return lv_real(l, v->num);
	case IR_param:
		return load(l, lv_elem(l, l->real, l->p, add(l,
			lv_size(l, l->m->params[v->slot].offset), i)));
	case IR_input:
		return column(l, l->inputs, l->m->input_size, v->slot, b, i);
	case IR_target:
		return column(l, l->targets, l->m->target_size, v->slot, b, i);
	case IR_nbatch:
		return LLVMBuildUIToFP(l->bld, l->batch, l->real, "");
	case IR_iota:
		return LLVMBuildSIToFP(l->bld, add(l, lv_size(l, (long)v->num),
			i), l->real, "");
	case IR_bcast:
		return ref(l, v->arg[0], lv_size(l, 0), i);
	default:
		return load(l, addr(l, id, b, i));
	}
}

/*
 * The index into operand type `in` that broadcasting reads for flat index
 * i of type `out`: i itself when the shapes agree, 0 for a scalar, else
 * a sum over the axes the operand really has (c.c's broadcast_index).
 */
static LLVMValueRef
broadcast_index(Lv *l, const IrType *out, const IrType *in, LLVMValueRef i)
{
	long outer = 1, stride = 1;
	LLVMValueRef sum = NULL;

	if (ir_same_shape(out, in) || ir_numel(out) == ir_numel(in))
		return i;
	if (ir_numel(in) == 1)
		return lv_size(l, 0);
	for (int d = out->rank - 1, k = in->rank - 1; d >= 0; d--, k--) {
		if (k >= 0 && in->dim[k] != 1) {
			LLVMValueRef t = mul(l, urem(l, udiv(l, i, outer),
				out->dim[d]), stride);
			sum = sum ? add(l, sum, t) : t;
		}
		if (k >= 0)
			stride *= in->dim[k];
		outer *= out->dim[d];
	}
	return sum ? sum : lv_size(l, 0);
}

/* ---- element-wise values: one shared loop nest per type ---- */

static void
close_loop(Lv *l)
{
	if (!l->in_loop)
		return;
	close_any(l, &l->inner);
	close_any(l, &l->outer);
	l->in_loop = 0;
}

/* Opens (or stays in) the loop nest over every element of value id. */
static void
open_loop(Lv *l, int id)
{
	const IrType *t = &val(l, id)->type;

	if (l->in_loop && (l->loop.batched != t->batched ||
	    !ir_same_shape(&l->loop, t)))
		close_loop(l);
	if (l->in_loop)
		return;
	l->b = open_batch(l, &l->outer, t);
	l->i = open_fixed(l, &l->inner, ir_numel(t), "i");
	l->loop = *t;
	l->in_loop = 1;
}

/* Operand k of value id at the element the open nest is on. */
static LLVMValueRef
operand(Lv *l, int id, int k)
{
	const IrValue *v = val(l, id);

	return ref(l, v->arg[k], l->b, broadcast_index(l, &v->type,
		&val(l, v->arg[k])->type, l->i));
}

typedef LLVMValueRef (*Map)(Lv *l, const IrValue *v, LLVMValueRef x,
	LLVMValueRef y, LLVMValueRef z);

static void
elementwise(Lv *l, int id, Map fn)
{
	LLVMValueRef x[3] = { NULL, NULL, NULL };
	int arity = ir_arity(val(l, id)->op);

	open_loop(l, id);
	for (int k = 0; k < arity; k++)
		x[k] = operand(l, id, k);
	store(l, fn(l, val(l, id), x[0], x[1], x[2]), addr(l, id, l->b, l->i));
}

static LLVMValueRef
fcmp(Lv *l, LLVMRealPredicate p, LLVMValueRef x, LLVMValueRef y)
{
	return LLVMBuildFCmp(l->bld, p, x, y, "");
}

/* C's (real)(condition): 1 or 0. */
static LLVMValueRef
truth(Lv *l, LLVMValueRef c)
{
	return LLVMBuildUIToFP(l->bld, c, l->real, "");
}

static LLVMValueRef
pick(Lv *l, LLVMValueRef c, LLVMValueRef x, LLVMValueRef y)
{
	return LLVMBuildSelect(l->bld, c, x, y, "");
}

static LLVMValueRef
zero_r(Lv *l)
{
	return lv_real(l, 0);
}

static LLVMValueRef
one_r(Lv *l)
{
	return lv_real(l, 1);
}

#define B (l->bld)
#define MAP(name, expr)                                                 \
static LLVMValueRef                                                     \
map_##name(Lv *l, const IrValue *v, LLVMValueRef x, LLVMValueRef y,     \
	LLVMValueRef z)                                                 \
{                                                                       \
	(void)l, (void)v, (void)x, (void)y, (void)z;                    \
	return (expr);                                                  \
}                                                                       \
static void                                                             \
emit_##name(Lv *l, int id)                                              \
{                                                                       \
	elementwise(l, id, map_##name);                                 \
}

/* The formulas are c.c's, operation for operation. */
MAP(neg, LLVMBuildFNeg(B, x, ""))
MAP(exp, intr1(l, "llvm.exp", x))
MAP(log, intr1(l, "llvm.log", x))
MAP(sqrt, intr1(l, "llvm.sqrt", x))
MAP(abs, intr1(l, "llvm.fabs", x))
MAP(sign, LLVMBuildSIToFP(B, LLVMBuildSub(B,
	LLVMBuildZExt(B, fcmp(l, LLVMRealOGT, x, zero_r(l)), l->i32, ""),
	LLVMBuildZExt(B, fcmp(l, LLVMRealOLT, x, zero_r(l)), l->i32, ""), ""),
	l->real, ""))
MAP(sin, intr1(l, "llvm.sin", x))
MAP(cos, intr1(l, "llvm.cos", x))
MAP(tanh, lv_libm(l, "tanh", l->real, x))
MAP(sigmoid, pick(l, fcmp(l, LLVMRealOGE, x, zero_r(l)),
	LLVMBuildFDiv(B, one_r(l), LLVMBuildFAdd(B, one_r(l),
		intr1(l, "llvm.exp", LLVMBuildFNeg(B, x, "")), ""), ""),
	LLVMBuildFDiv(B, intr1(l, "llvm.exp", x), LLVMBuildFAdd(B, one_r(l),
		intr1(l, "llvm.exp", x), ""), "")))
MAP(relu, pick(l, fcmp(l, LLVMRealOGT, x, zero_r(l)), x, zero_r(l)))
MAP(step, truth(l, fcmp(l, LLVMRealOGT, x, zero_r(l))))
MAP(softplus, LLVMBuildFAdd(B, lv_intrinsic(l, "llvm.maxnum", l->real,
	(LLVMValueRef[]){ x, zero_r(l) }, 2), lv_libm(l, "log1p", l->real,
	intr1(l, "llvm.exp", LLVMBuildFNeg(B, intr1(l, "llvm.fabs", x), ""))),
	""))
MAP(log1p, lv_libm(l, "log1p", l->real, x))
MAP(not, truth(l, fcmp(l, LLVMRealOEQ, x, zero_r(l))))
MAP(add, LLVMBuildFAdd(B, x, y, ""))
MAP(sub, LLVMBuildFSub(B, x, y, ""))
MAP(mul, LLVMBuildFMul(B, x, y, ""))
MAP(smul, pick(l, LLVMBuildOr(B, fcmp(l, LLVMRealOEQ, x, zero_r(l)),
	fcmp(l, LLVMRealOEQ, y, zero_r(l)), ""), zero_r(l),
	LLVMBuildFMul(B, x, y, "")))
MAP(div, LLVMBuildFDiv(B, x, y, ""))
MAP(pow, lv_intrinsic(l, "llvm.pow", l->real, (LLVMValueRef[]){ x, y }, 2))
MAP(max2, pick(l, fcmp(l, LLVMRealOGT, x, y), x, y))
MAP(min2, pick(l, fcmp(l, LLVMRealOLT, x, y), x, y))
MAP(lt, truth(l, fcmp(l, LLVMRealOLT, x, y)))
MAP(le, truth(l, fcmp(l, LLVMRealOLE, x, y)))
MAP(gt, truth(l, fcmp(l, LLVMRealOGT, x, y)))
MAP(ge, truth(l, fcmp(l, LLVMRealOGE, x, y)))
MAP(eq, truth(l, fcmp(l, LLVMRealOEQ, x, y)))
MAP(ne, truth(l, fcmp(l, LLVMRealUNE, x, y)))
MAP(and, truth(l, LLVMBuildAnd(B, fcmp(l, LLVMRealUNE, x, zero_r(l)),
	fcmp(l, LLVMRealUNE, y, zero_r(l)), "")))
MAP(or, truth(l, LLVMBuildOr(B, fcmp(l, LLVMRealUNE, x, zero_r(l)),
	fcmp(l, LLVMRealUNE, y, zero_r(l)), "")))
MAP(where, pick(l, fcmp(l, LLVMRealUNE, x, zero_r(l)), y, z))
MAP(bcastto, x)

/* Small integer powers become products, exact for negative x; the
 * product associates left, as C's x * x * x does. */
static LLVMValueRef
map_powi(Lv *l, const IrValue *v, LLVMValueRef x, LLVMValueRef y,
	LLVMValueRef z)
{
	double n = v->num;
	LLVMValueRef prod = x;

	(void)y, (void)z;
	if (fabs(n) > 4 || n == 0)
		return lv_intrinsic(l, "llvm.pow", l->real,
			(LLVMValueRef[]){ x, lv_real(l, n) }, 2);
	for (int k = 1; k < fabs(n); k++)
		prod = LLVMBuildFMul(B, prod, x, "");
	return n > 0 ? prod : LLVMBuildFDiv(B, one_r(l), prod, "");
}

static void
emit_powi(Lv *l, int id)
{
	elementwise(l, id, map_powi);
}

/* Leaves and batch broadcasts are read where they are used. */
#define IN_PLACE(name) \
static void emit_##name(Lv *l, int id) { (void)l, (void)id; }

IN_PLACE(const)
IN_PLACE(param)
IN_PLACE(input)
IN_PLACE(target)
IN_PLACE(nbatch)
IN_PLACE(iota)
IN_PLACE(bcast)

/* ---- ops with loop nests of their own ---- */

/* Zeros over all of value id, for ops that accumulate. */
static void
zero(Lv *l, int id)
{
	const IrType *t = &val(l, id)->type;
	LLVMValueRef base = l->wbuf[l->plan.buf[id]];
	LLVMValueRef n = t->batched ? LLVMBuildMul(B, l->batch,
		lv_size(l, ir_numel(t)), "") : lv_size(l, ir_numel(t));
	LvLoop k = lv_loop_open(l, n, "k");

	store(l, zero_r(l), lv_elem(l, l->real, base, k.index));
	lv_loop_close(l, &k);
}

static void
emit_onehot(Lv *l, int id)
{
	const IrValue *v = val(l, id);
	LvLoop lb, li;

	close_loop(l);
	LLVMValueRef b = open_batch(l, &lb, &v->type);
	LLVMValueRef i = open_fixed(l, &li, v->n, "i");
	LLVMValueRef label = ref(l, v->arg[0], b, lv_size(l, 0));
	LLVMValueRef fi = LLVMBuildUIToFP(B, i, l->real, "");
	store(l, truth(l, fcmp(l, LLVMRealOEQ, fi, label)), addr(l, id, b, i));
	close_any(l, &li);
	close_any(l, &lb);
}

/* Each operand element added into the element broadcasting read it from. */
static void
emit_sumto(Lv *l, int id)
{
	const IrValue *v = val(l, id);
	const IrType *xt = &val(l, v->arg[0])->type;
	LvLoop lb, li;

	close_loop(l);
	zero(l, id);
	LLVMValueRef b = open_batch(l, &lb, xt);
	LLVMValueRef i = open_fixed(l, &li, ir_numel(xt), "i");
	LLVMValueRef dst = addr(l, id, v->type.batched ? b : lv_size(l, 0),
		broadcast_index(l, xt, &v->type, i));
	store(l, LLVMBuildFAdd(B, load(l, dst), ref(l, v->arg[0], b, i), ""),
		dst);
	close_any(l, &li);
	close_any(l, &lb);
}

typedef LLVMValueRef (*IndexFn)(Lv *l, const IrType *t, int axis,
	LLVMValueRef i);

/* Shape changes that copy: the operand's index as a function of i. */
static void
copy_with_index(Lv *l, int id, IndexFn index)
{
	const IrValue *v = val(l, id);
	LvLoop lb, li;

	close_loop(l);
	LLVMValueRef b = open_batch(l, &lb, &v->type);
	LLVMValueRef i = open_fixed(l, &li, ir_numel(&v->type), "i");
	store(l, ref(l, v->arg[0], b, index(l, &v->type, v->axis, i)),
		addr(l, id, b, i));
	close_any(l, &li);
	close_any(l, &lb);
}

/* i / (inner * dim) * inner + i % inner: axis `axis` dropped. */
static LLVMValueRef
expand_index(Lv *l, const IrType *t, int axis, LLVMValueRef i)
{
	long inner = 1;

	for (int d = axis + 1; d < t->rank; d++)
		inner *= t->dim[d];
	return add(l, mul(l, udiv(l, i, inner * t->dim[axis]), inner),
		urem(l, i, inner));
}

/* The last two axes swapped: i / rc * rc + i % rc % cols * rows
 * + i % rc / cols, with rc = rows * cols. */
static LLVMValueRef
transpose_index(Lv *l, const IrType *t, int axis, LLVMValueRef i)
{
	long rows = t->dim[t->rank - 2], cols = t->dim[t->rank - 1];
	long rc = rows * cols;
	LLVMValueRef in = urem(l, i, rc);

	(void)axis;
	return add(l, add(l, mul(l, udiv(l, i, rc), rc),
		mul(l, urem(l, in, cols), rows)), udiv(l, in, cols));
}

static void
emit_expand(Lv *l, int id)
{
	copy_with_index(l, id, expand_index);
}

static void
emit_transpose(Lv *l, int id)
{
	copy_with_index(l, id, transpose_index);
}

/* Rows of operand 0 picked by index operand 1; `scatter` adds back. */
static void
index_rows(Lv *l, int id, int scatter)
{
	const IrValue *v = val(l, id);
	const IrType *idx_t = &val(l, v->arg[1])->type;
	const IrType *wide = scatter ? &v->type : &val(l, v->arg[0])->type;
	long nidx = ir_numel(idx_t), inner = ir_numel(wide) / wide->dim[0];
	LvLoop lb, ls, lr;

	close_loop(l);
	if (scatter)
		zero(l, id);
	LLVMValueRef b = open_batch(l, &lb, &v->type);
	LLVMValueRef s = open_fixed(l, &ls, nidx, "s");
	LLVMValueRef k = LLVMBuildFPToUI(B, ref(l, v->arg[1], b, s), l->size,
		"row");
	LLVMValueRef r = open_fixed(l, &lr, inner, "r");
	LLVMValueRef pos_s = add(l, mul(l, s, inner), r);
	LLVMValueRef pos_r = add(l, mul(l, k, inner), r);
	LLVMValueRef a = ref(l, v->arg[0], b, scatter ? pos_s : pos_r);
	LLVMValueRef dst = addr(l, id, b, scatter ? pos_r : pos_s);
	store(l, scatter ? LLVMBuildFAdd(B, load(l, dst), a, "") : a, dst);
	close_any(l, &lr);
	close_any(l, &ls);
	close_any(l, &lb);
}

static void
emit_gather(Lv *l, int id)
{
	index_rows(l, id, 0);
}

static void
emit_scatter(Lv *l, int id)
{
	index_rows(l, id, 1);
}

/* Summed in example order, as c.c does. */
static void
emit_bsum(Lv *l, int id)
{
	const IrValue *v = val(l, id);
	LLVMValueRef acc = slot(l, "s");
	LvLoop li, lb;

	close_loop(l);
	LLVMValueRef i = open_fixed(l, &li, ir_numel(&v->type), "i");
	store(l, zero_r(l), acc);
	lb = lv_loop_open(l, l->batch, "b");
	store(l, LLVMBuildFAdd(B, load(l, acc), ref(l, v->arg[0], lb.index, i),
		""), acc);
	lv_loop_close(l, &lb);
	store(l, load(l, acc), addr(l, id, lv_size(l, 0), i));
	close_any(l, &li);
}

/* ---- reductions and softmax over lanes ---- */

/* outer x len x inner lanes of type t along axis (all when axis < 0). */
static void
lanes(const IrType *t, int axis, long *outer, long *len, long *inner)
{
	*outer = 1;
	*len = ir_numel(t);
	*inner = 1;
	if (axis < 0)
		return;
	*len = t->dim[axis];
	for (int d = 0; d < axis; d++)
		*outer *= t->dim[d];
	for (int d = axis + 1; d < t->rank; d++)
		*inner *= t->dim[d];
}

/* One lane being reduced: its loops, its output index and its first
 * operand element. */
typedef struct Lane {
	LvLoop lb, lo, li;
	LLVMValueRef b, i, first;
	long len, inner;
} Lane;

static Lane
open_lanes(Lv *l, const IrType *xt, int axis)
{
	Lane ln;
	long outer;

	close_loop(l);
	lanes(xt, axis, &outer, &ln.len, &ln.inner);
	ln.b = open_batch(l, &ln.lb, xt);
	LLVMValueRef o = open_fixed(l, &ln.lo, outer, "o");
	LLVMValueRef in = open_fixed(l, &ln.li, ln.inner, "in");
	ln.i = add(l, mul(l, o, ln.inner), in);
	ln.first = add(l, mul(l, o, ln.len * ln.inner), in);
	return ln;
}

static void
close_lanes(Lv *l, Lane *ln)
{
	close_any(l, &ln->li);
	close_any(l, &ln->lo);
	close_any(l, &ln->lb);
}

/* Element k of the lane, of value id's operand. */
static LLVMValueRef
lane_elem(Lv *l, int id, const Lane *ln, LLVMValueRef k)
{
	return ref(l, val(l, id)->arg[0], ln->b, add(l, ln->first,
		mul(l, k, ln->inner)));
}

typedef LLVMValueRef (*Step)(Lv *l, LLVMValueRef acc, LLVMValueRef x);

/* acc = init (0, or the lane's first element), then acc = step(acc, x)
 * over the lane. */
static void
fold(Lv *l, int id, int from_first, Step step)
{
	const IrValue *v = val(l, id);
	Lane ln = open_lanes(l, &val(l, v->arg[0])->type, v->axis);
	LLVMValueRef acc = slot(l, "acc");

	store(l, from_first ? lane_elem(l, id, &ln, lv_size(l, 0)) :
		zero_r(l), acc);
	LvLoop lk = lv_loop_open(l, lv_size(l, ln.len), "k");
	store(l, step(l, load(l, acc), lane_elem(l, id, &ln, lk.index)), acc);
	lv_loop_close(l, &lk);
	store(l, load(l, acc), addr(l, id, ln.b, ln.i));
	close_lanes(l, &ln);
}

static LLVMValueRef
step_sum(Lv *l, LLVMValueRef acc, LLVMValueRef x)
{
	return LLVMBuildFAdd(B, acc, x, "");
}

static LLVMValueRef
step_max(Lv *l, LLVMValueRef acc, LLVMValueRef x)
{
	return pick(l, fcmp(l, LLVMRealOGT, x, acc), x, acc);
}

static LLVMValueRef
step_min(Lv *l, LLVMValueRef acc, LLVMValueRef x)
{
	return pick(l, fcmp(l, LLVMRealOLT, x, acc), x, acc);
}

static void
emit_rsum(Lv *l, int id)
{
	fold(l, id, 0, step_sum);
}

static void
emit_rmax(Lv *l, int id)
{
	fold(l, id, 1, step_max);
}

static void
emit_rmin(Lv *l, int id)
{
	fold(l, id, 1, step_min);
}

/* The lane's maximum m (from element 1 on, as c.c) and the sum of
 * exp(x - m) over it. */
static void
max_and_sum(Lv *l, int id, const Lane *ln, LLVMValueRef m, LLVMValueRef s)
{
	LvLoop lk;

	store(l, lane_elem(l, id, ln, lv_size(l, 0)), m);
	store(l, zero_r(l), s);
	lk = lv_loop_open(l, lv_size(l, ln->len - 1), "k");
	LLVMValueRef x = lane_elem(l, id, ln, add(l, lk.index, lv_size(l, 1)));
	store(l, step_max(l, load(l, m), x), m);
	lv_loop_close(l, &lk);
	lk = lv_loop_open(l, lv_size(l, ln->len), "k");
	x = lane_elem(l, id, ln, lk.index);
	store(l, LLVMBuildFAdd(B, load(l, s), intr1(l, "llvm.exp",
		LLVMBuildFSub(B, x, load(l, m), "")), ""), s);
	lv_loop_close(l, &lk);
}

/* Two passes: the maximum, then the sum of exponentials shifted by it;
 * an infinite maximum is the answer itself. */
static void
emit_rlse(Lv *l, int id)
{
	const IrValue *v = val(l, id);
	Lane ln = open_lanes(l, &val(l, v->arg[0])->type, v->axis);
	LLVMValueRef m = slot(l, "m"), s = slot(l, "s");

	max_and_sum(l, id, &ln, m, s);
	LLVMValueRef mv = load(l, m);
	LLVMValueRef inf = fcmp(l, LLVMRealOEQ, intr1(l, "llvm.fabs", mv),
		lv_real(l, INFINITY));
	store(l, pick(l, inf, mv, LLVMBuildFAdd(B, mv, intr1(l, "llvm.log",
		load(l, s)), "")), addr(l, id, ln.b, ln.i));
	close_lanes(l, &ln);
}

static void
normalise(Lv *l, int id, int logs)
{
	const IrValue *v = val(l, id);
	Lane ln = open_lanes(l, &v->type, v->axis);
	LLVMValueRef m = slot(l, "m"), s = slot(l, "s");

	max_and_sum(l, id, &ln, m, s);
	LLVMValueRef lse = LLVMBuildFAdd(B, load(l, m), intr1(l, "llvm.log",
		load(l, s)), "lse");
	LvLoop lk = lv_loop_open(l, lv_size(l, ln.len), "k");
	LLVMValueRef at = add(l, ln.first, mul(l, lk.index, ln.inner));
	LLVMValueRef y = LLVMBuildFSub(B, lane_elem(l, id, &ln, lk.index), lse,
		"");
	store(l, logs ? y : intr1(l, "llvm.exp", y), addr(l, id, ln.b, at));
	lv_loop_close(l, &lk);
	close_lanes(l, &ln);
}

static void
emit_softmax(Lv *l, int id)
{
	normalise(l, id, 0);
}

static void
emit_logsoftmax(Lv *l, int id)
{
	normalise(l, id, 1);
}

/* ---- products ---- */

/* A pointer to the first element of product operand id, which
 * cg_addressable() says has storage (c.c's address()). */
static LLVMValueRef
address(Lv *l, int id)
{
	const IrValue *v = val(l, id);

	switch (v->op) {
	case IR_bcast:
		return address(l, v->arg[0]);
	case IR_param:
		return lv_elem(l, l->real, l->p,
			lv_size(l, l->m->params[v->slot].offset));
	case IR_input:
		return lv_elem(l, l->real, l->inputs, lv_size(l, v->slot));
	case IR_target:
		return lv_elem(l, l->real, l->targets, lv_size(l, v->slot));
	default:
		return l->wbuf[l->plan.buf[id]];
	}
}

/* Example b's part of an operand whose examples are `step` apart. */
static LLVMValueRef
example(Lv *l, LLVMValueRef base, long step, LLVMValueRef b)
{
	return lv_elem(l, l->real, base, mul(l, b, step));
}

/* NAME_gemm(m, n, k, a, ars, acs, b, brs, bcs, c, ldc, acc). */
static void
call_gemm(Lv *l, LLVMValueRef m, long n, LLVMValueRef k, LLVMValueRef a,
	long ars, long acs, LLVMValueRef b, long brs, long bcs, LLVMValueRef c,
	long ldc, int acc)
{
	LLVMValueRef fn = lv_gemm(l);
	LLVMValueRef args[12] = { m, lv_size(l, n), k, a, lv_size(l, ars),
		lv_size(l, acs), b, lv_size(l, brs), lv_size(l, bcs), c,
		lv_size(l, ldc), LLVMConstInt(l->i32, (unsigned)acc, 0) };

	LLVMBuildCall2(B, LLVMGlobalGetValueType(fn), fn, args, 12, "");
}

/* C = A B through NAME_gemm, as cg_gemm_call() lays it out (and c.c's
 * product_gemm() emits it), so both backends sum in the same order. */
static int
product_gemm(Lv *l, int id)
{
	const IrValue *v = val(l, id);
	LvLoop lb = { NULL, NULL, NULL };
	CgGemm g;

	if (!cg_gemm_call(l->m, id, &g))
		return 0;
	close_loop(l);
	LLVMValueRef a = address(l, v->arg[g.swap]);
	LLVMValueRef bo = address(l, v->arg[!g.swap]);
	LLVMValueRef c = address(l, id);
	LLVMValueRef rows = lv_size(l, g.rows);
	if (g.rows_batch)
		rows = mul(l, l->batch, g.rows);
	if (g.sum)
		zero(l, id);
	if (g.each && g.over_batch)
		lb = lv_loop_open(l, l->batch, "b");
	LLVMValueRef b = lb.index ? lb.index : lv_size(l, 0);
	call_gemm(l, rows, g.n, g.terms_batch ? l->batch : lv_size(l, g.k),
		example(l, a, g.a_step, b), g.ars, g.acs,
		example(l, bo, g.b_step, b), g.brs, g.bcs,
		example(l, c, g.c_step, b), g.ldc, g.sum);
	close_any(l, &lb);
	return 1;
}

/*
 * The plain loop nest for products of values with no storage (constants,
 * iota): C = A B per example, summed over the batch when C has no batch
 * axis but an operand has (the weight gradient).
 */
static void
product(Lv *l, int id)
{
	const IrValue *v = val(l, id);
	int over_batch = val(l, v->arg[0])->type.batched ||
		val(l, v->arg[1])->type.batched;
	int sums = !v->type.batched && over_batch;
	LLVMValueRef acc;
	LvLoop lb = { NULL, NULL, NULL }, lr, lc;
	long m, k, n;

	if (product_gemm(l, id))
		return;
	cg_product_shape(&l->m->fn, id, &m, &k, &n);
	acc = slot(l, "acc");
	close_loop(l);
	if (sums)
		zero(l, id);
	if (over_batch)
		lb = lv_loop_open(l, l->batch, "b");
	LLVMValueRef b = over_batch ? lb.index : lv_size(l, 0);
	LLVMValueRef r = open_fixed(l, &lr, m, "r");
	LLVMValueRef c = open_fixed(l, &lc, n, "c");
	store(l, zero_r(l), acc);
	LvLoop lq = lv_loop_open(l, lv_size(l, k), "q");
	LLVMValueRef q = lq.index;
	LLVMValueRef a = ref(l, v->arg[0], b, add(l, mul(l, r, k), q));
	LLVMValueRef bb = ref(l, v->arg[1], b, add(l, mul(l, q, n), c));
	store(l, LLVMBuildFAdd(B, load(l, acc), LLVMBuildFMul(B, a, bb, ""),
		""), acc);
	lv_loop_close(l, &lq);
	LLVMValueRef dst = addr(l, id, v->type.batched ? b : lv_size(l, 0),
		add(l, mul(l, r, n), c));
	store(l, sums ? LLVMBuildFAdd(B, load(l, dst), load(l, acc), "") :
		load(l, acc), dst);
	close_any(l, &lc);
	close_any(l, &lr);
	close_any(l, &lb);
}

static void
emit_matmul(Lv *l, int id)
{
	product(l, id);
}

static void
emit_outer(Lv *l, int id)
{
	product(l, id);
}

#undef B

typedef void (*EmitFn)(Lv *l, int id);

static const EmitFn emit_fns[IR_NOPS] = {
#define OP(name, arity, rule) [IR_##name] = emit_##name,
#include "ops.def"
#undef OP
};

/* ---- the public functions ---- */



/* The buffers of the plan, each a pointer into the workspace. */
static void
declare_buffers(Lv *l, LLVMValueRef ws)
{
	l->wbuf = malloc(((size_t)l->plan.nbuf + 1) * sizeof *l->wbuf);
	for (int k = 0; k < l->plan.nbuf; k++) {
		LLVMValueRef off = add(l, mul(l, l->batch, l->plan.off_b[k]),
			lv_size(l, l->plan.off_c[k]));
		char name[16];
		snprintf(name, sizeof name, "w%d", k);
		l->wbuf[k] = LLVMBuildInBoundsGEP2(l->bld, l->real, ws, &off, 1,
			name);
	}
}

/* Plans the buffers for `which`, then emits its live values in order. */
static void
emit_body(Lv *l, CgEntry which, LLVMValueRef ws)
{
	const IrFunc *f = &l->m->fn;
	int *root = malloc(((size_t)l->m->nparams + l->m->ninputs + 2) *
		sizeof *root);
	int nroots = cg_entry_roots(l->m, which, root);
	char *live = malloc((size_t)f->n + 1);

	ir_live(f, root, nroots, live);
	cg_plan(f, live, root, nroots, NULL, &l->plan);
	declare_buffers(l, ws);
	l->in_loop = 0;
	for (int id = 0; id < f->n; id++)
		if (live[id])
			emit_fns[f->v[id].op](l, id);
	close_loop(l);
	free(live);
	free(root);
}

/* grad's parameter i from its gradient value, or zeros. */
static void
write_grad(Lv *l, int i)
{
	const IrParam *p = &l->m->params[i];
	int g = l->m->fn.grad[i];
	LvLoop li;
	LLVMValueRef k = open_fixed(l, &li, ir_numel(&p->type), "i");
	LLVMValueRef v = g >= 0 ? ref(l, g, lv_size(l, 0), k) : zero_r(l);

	store(l, v, lv_elem(l, l->real, l->grad, add(l, lv_size(l, p->offset),
		k)));
	close_any(l, &li);
}

static void
write_input_grad(Lv *l, int i)
{
	const IrData *d = &l->m->inputs[i];
	int g = l->m->fn.input_grad[i];
	LvLoop lb = lv_loop_open(l, l->batch, "b"), lk;
	LLVMValueRef k = open_fixed(l, &lk, ir_numel(&d->type), "k");
	LLVMValueRef v = g >= 0 ? ref(l, g, lb.index, k) : zero_r(l);
	LLVMValueRef at = add(l, add(l, mul(l, lb.index, l->m->input_size),
		lv_size(l, d->column)), k);

	store(l, v, lv_elem(l, l->real, l->dinputs, at));
	close_any(l, &lk);
	lv_loop_close(l, &lb);
}

static void
write_outputs(Lv *l)
{
	long size = ir_numel(&l->m->fn.v[l->m->fn.output].type);
	LvLoop lb = lv_loop_open(l, l->batch, "b"), li;
	LLVMValueRef i = open_fixed(l, &li, size, "i");
	LLVMValueRef at = add(l, mul(l, lb.index, size), i);

	store(l, ref(l, l->m->fn.output, lb.index, i), lv_elem(l, l->real,
		l->out, at));
	close_any(l, &li);
	lv_loop_close(l, &lb);
}

/* The C API's parameter names, so the .ll reads like the header. */
static void
name_params(LLVMValueRef fn, CgEntry which)
{
	static const char *const names[CG_NENTRIES][8] = {
		[CG_LOSS] = { "p", "inputs", "targets", "batch", "workspace" },
		[CG_LOSS_GRAD] = { "p", "grad", "inputs", "targets", "batch",
			"workspace" },
		[CG_LOSS_GRAD_INPUTS] = { "p", "grad", "dinputs", "inputs",
			"targets", "batch", "workspace" },
		[CG_PREDICT] = { "p", "inputs", "batch", "out", "workspace" },
	};

	for (unsigned k = 0; names[which][k]; k++)
		LLVMSetValueName2(LLVMGetParam(fn, k), names[which][k],
			strlen(names[which][k]));
}

/* The signature of `which`, its arguments bound to l's fields. */
static void
declare_entry(Lv *l, CgEntry which, LLVMValueRef *ws)
{
	static const char *const names[] = { "loss", "loss_grad",
		"loss_grad_inputs", "predict" };
	LLVMTypeRef P = l->ptr, S = l->size, t[7];
	int n = 0;
	char name[128];

	t[n++] = P;                     /* p */
	if (which == CG_LOSS_GRAD || which == CG_LOSS_GRAD_INPUTS)
		t[n++] = P;             /* grad */
	if (which == CG_LOSS_GRAD_INPUTS)
		t[n++] = P;             /* dinputs */
	t[n++] = P;                     /* inputs */
	if (which != CG_PREDICT)
		t[n++] = P;             /* targets */
	t[n++] = S;                     /* batch */
	if (which == CG_PREDICT)
		t[n++] = P;             /* out */
	t[n++] = P;                     /* workspace */
	snprintf(name, sizeof name, "%s_%s", l->m->name, names[which]);
	LLVMValueRef fn = lv_function(l, name, which == CG_PREDICT ? l->voidt :
		l->real, t, n, 1);
	int k = 0;
	name_params(fn, which);
	l->p = LLVMGetParam(fn, (unsigned)k++);
	l->grad = which == CG_LOSS_GRAD || which == CG_LOSS_GRAD_INPUTS ?
		LLVMGetParam(fn, (unsigned)k++) : NULL;
	l->dinputs = which == CG_LOSS_GRAD_INPUTS ? LLVMGetParam(fn,
		(unsigned)k++) : NULL;
	l->inputs = LLVMGetParam(fn, (unsigned)k++);
	l->targets = which != CG_PREDICT ? LLVMGetParam(fn, (unsigned)k++) : NULL;
	l->batch = LLVMGetParam(fn, (unsigned)k++);
	l->out = which == CG_PREDICT ? LLVMGetParam(fn, (unsigned)k++) : NULL;
	*ws = LLVMGetParam(fn, (unsigned)k);
}

static void
emit_entry(Lv *l, CgEntry which)
{
	const IrModule *m = l->m;
	LLVMValueRef ws;

	declare_entry(l, which, &ws);
	if (which == CG_PREDICT && m->fn.output < 0) {
		LLVMBuildRetVoid(l->bld);
		return;
	}
	emit_body(l, which, ws);
	for (int i = 0; (which == CG_LOSS_GRAD || which == CG_LOSS_GRAD_INPUTS) &&
	    i < m->nparams; i++)
		write_grad(l, i);
	for (int i = 0; which == CG_LOSS_GRAD_INPUTS && i < m->ninputs; i++)
		write_input_grad(l, i);
	if (which == CG_PREDICT) {
		write_outputs(l);
		LLVMBuildRetVoid(l->bld);
	} else {
		LLVMBuildRet(l->bld, ref(l, m->fn.loss, lv_size(l, 0),
			lv_size(l, 0)));
	}
	cg_plan_free(&l->plan);
	free(l->wbuf);
	l->wbuf = NULL;
}

/* Every compute function the C backend writes, in its order. */
void
lv_compute(Lv *l)
{
	for (CgEntry w = 0; w < CG_NENTRIES; w++)
		if (w != CG_LOSS_GRAD_INPUTS || l->m->fn.input_grad != NULL)
			emit_entry(l, w);
}
