/*
 * llvm_gemm.c - NAME_gemm, the matrix product the LLVM backend's batched
 * matmuls and outer products call: C = A B, or C += A B when `acc`, for
 * an m x k by k x n product, A's element (i, t) at a[i * ars + t * acs],
 * B's (t, j) at b[t * brs + j * bcs], rows of C ldc apart.
 *
 * It is kernels.c's cg_gemm_source built as IR, step for step, so that
 * both backends give each element of C the same sum: t = 0, 1, ..., k - 1
 * in turn onto 0 or C's old value, one multiply then one add per term
 * (contracted only under --fast-math, which flags every instruction of
 * the module), whatever the element's place in its tile.  C goes in tiles
 * of MR rows by one 64-byte vector, their sums held as MR vector phis
 * through a block of KC terms; each block's columns of B are first copied,
 * zero-padded, into a KC x NR buffer on the stack; edge tiles run over
 * the padding (repeating A's last row) and store only what is real.
 */
#include <stdio.h>
#include <string.h>

#include "llvm_int.h"

enum { MR = 8, KC = 256 };

/* The gemm's arguments and what its pieces share. */
typedef struct Gemm {
	LLVMValueRef m, n, k, a, ars, acs, b, brs, bcs, c, ldc, acc;
	LLVMTypeRef vec;        /* one 64-byte vector of reals */
	long nr;                /* NR: its length */
	LLVMValueRef bp;        /* B's block, KC rows of NR */
	LLVMValueRef s;         /* a tile's sums where memory needs them */
} Gemm;

#define B (l->bld)

static LLVMValueRef
at(Lv *l, LLVMValueRef base, LLVMValueRef index)
{
	return lv_elem(l, l->real, base, index);
}

static LLVMValueRef
mul(Lv *l, LLVMValueRef x, LLVMValueRef y)
{
	return LLVMBuildMul(B, x, y, "");
}

static LLVMValueRef
add(Lv *l, LLVMValueRef x, LLVMValueRef y)
{
	return LLVMBuildAdd(B, x, y, "");
}

static LLVMValueRef
ult(Lv *l, LLVMValueRef x, LLVMValueRef y)
{
	return LLVMBuildICmp(B, LLVMIntULT, x, y, "");
}

static LLVMValueRef
umin(Lv *l, LLVMValueRef x, LLVMValueRef y)
{
	return LLVMBuildSelect(B, ult(l, x, y), x, y, "");
}

/* x - 1, for clamping an index to the last real row or column. */
static LLVMValueRef
last(Lv *l, LLVMValueRef x)
{
	return LLVMBuildSub(B, x, lv_size(l, 1), "");
}

/* A loop over the blocks of `step` that cover count: the block's first
 * index goes to *first, its length (step, or less at the end) to *len. */
static LvLoop
open_blocks(Lv *l, LLVMValueRef count, long step, LLVMValueRef *first,
	LLVMValueRef *len, const char *name)
{
	LvLoop lp = lv_loop_open(l, LLVMBuildUDiv(B, add(l, count,
		lv_size(l, step - 1)), lv_size(l, step), ""), name);

	*first = mul(l, lp.index, lv_size(l, step));
	*len = umin(l, LLVMBuildSub(B, count, *first, ""), lv_size(l, step));
	return lp;
}

static LLVMValueRef
load_vec(Lv *l, const Gemm *g, LLVMValueRef ptr, unsigned align)
{
	LLVMValueRef v = LLVMBuildLoad2(B, g->vec, ptr, "");

	LLVMSetAlignment(v, align);
	return v;
}

static void
store_vec(Lv *l, LLVMValueRef v, LLVMValueRef ptr, unsigned align)
{
	LLVMSetAlignment(LLVMBuildStore(B, v, ptr), align);
}

static unsigned
real_bytes(const Lv *l)
{
	return LLVMGetTypeKind(l->real) == LLVMFloatTypeKind ? 4 : 8;
}

static LLVMBasicBlockRef
block(Lv *l, const char *name)
{
	return LLVMAppendBasicBlockInContext(l->ctx, l->fn, name);
}

/* Continues in bb, moved after the current block so that the .ll reads
 * in the order it was built. */
static void
enter(Lv *l, LLVMBasicBlockRef bb)
{
	LLVMMoveBasicBlockAfter(bb, LLVMGetInsertBlock(B));
	LLVMPositionBuilderAtEnd(B, bb);
}

/* Ends the current block with a jump to `to` and continues there. */
static void
go(Lv *l, LLVMBasicBlockRef to)
{
	LLVMBuildBr(B, to);
	enter(l, to);
}

/* bp[t][j] = b[t * brs + j * bcs] for j < nr, else 0, over t < kc and
 * j < NR.  The read is clamped to column nr - 1, so the padding reads
 * nothing past B. */
static void
pack_one(Lv *l, const Gemm *g, LLVMValueRef b, LLVMValueRef nr,
	LLVMValueRef t, LLVMValueRef j)
{
	LLVMValueRef jj = umin(l, j, last(l, nr));
	LLVMValueRef x = LLVMBuildLoad2(B, l->real, at(l, b, add(l,
		mul(l, t, g->brs), mul(l, jj, g->bcs))), "");

	LLVMBuildStore(B, LLVMBuildSelect(B, ult(l, j, nr), x,
		lv_real(l, 0), ""), at(l, g->bp, add(l, mul(l, t,
		lv_size(l, g->nr)), j)));
}

/* The block's copy, read along whichever of B's axes is contiguous. */
static void
pack(Lv *l, const Gemm *g, LLVMValueRef kc, LLVMValueRef nr, LLVMValueRef b)
{
	LLVMBasicBlockRef rows = block(l, "pack_rows");
	LLVMBasicBlockRef cols = block(l, "pack_cols");
	LLVMBasicBlockRef done = block(l, "packed");
	LvLoop lt, lj;

	LLVMBuildCondBr(B, LLVMBuildICmp(B, LLVMIntEQ, g->bcs, lv_size(l, 1),
		""), rows, cols);
	enter(l, rows);
	lt = lv_loop_open(l, kc, "t");
	lj = lv_loop_open(l, lv_size(l, g->nr), "j");
	pack_one(l, g, b, nr, lt.index, lj.index);
	lv_loop_close(l, &lj);
	lv_loop_close(l, &lt);
	LLVMBuildBr(B, done);
	enter(l, cols);
	lj = lv_loop_open(l, lv_size(l, g->nr), "j");
	lt = lv_loop_open(l, kc, "t");
	pack_one(l, g, b, nr, lt.index, lj.index);
	lv_loop_close(l, &lt);
	lv_loop_close(l, &lj);
	go(l, done);
}

/* x in every lane of a vector. */
static LLVMValueRef
splat(Lv *l, const Gemm *g, LLVMValueRef x)
{
	LLVMValueRef v = LLVMBuildInsertElement(B, LLVMGetPoison(g->vec), x,
		LLVMConstInt(l->i32, 0, 0), "");

	return LLVMBuildShuffleVector(B, v, LLVMGetPoison(g->vec),
		LLVMConstNull(LLVMVectorType(l->i32, (unsigned)g->nr)), "");
}

/*
 * s_r += x_r(t) bp[t] for t = 0, 1, ..., kc - 1, x_r(t) being
 * ar[r][t * acs]: the sums start from and end in g->s, and are MR vector
 * phis in between, so that they stay in registers.
 */
static void
kernel(Lv *l, const Gemm *g, LLVMValueRef kc, LLVMValueRef ar[MR])
{
	LLVMBasicBlockRef pre = LLVMGetInsertBlock(B);
	LLVMBasicBlockRef head = block(l, "kernel");
	LLVMBasicBlockRef body = block(l, "terms");
	LLVMBasicBlockRef done = block(l, "summed");
	LLVMValueRef s0[MR], s[MR], next[MR], zero = lv_size(l, 0);

	for (int r = 0; r < MR; r++)
		s0[r] = load_vec(l, g, at(l, g->s, lv_size(l, r * g->nr)), 64);
	go(l, head);
	LLVMValueRef t = LLVMBuildPhi(B, l->size, "t");
	for (int r = 0; r < MR; r++) {
		s[r] = LLVMBuildPhi(B, g->vec, "s");
		LLVMAddIncoming(s[r], &s0[r], &pre, 1);
	}
	LLVMAddIncoming(t, &zero, &pre, 1);
	LLVMBuildCondBr(B, ult(l, t, kc), body, done);

	enter(l, body);
	LLVMValueRef bt = load_vec(l, g, at(l, g->bp, mul(l, t,
		lv_size(l, g->nr))), 64);
	LLVMValueRef off = mul(l, t, g->acs);
	for (int r = 0; r < MR; r++) {
		LLVMValueRef x = LLVMBuildLoad2(B, l->real, at(l, ar[r], off),
			"");
		next[r] = LLVMBuildFAdd(B, s[r], LLVMBuildFMul(B,
			splat(l, g, x), bt, ""), "");
	}
	LLVMValueRef t1 = LLVMBuildNUWAdd(B, t, lv_size(l, 1), "");
	LLVMAddIncoming(t, &t1, &body, 1);
	for (int r = 0; r < MR; r++)
		LLVMAddIncoming(s[r], &next[r], &body, 1);
	LLVMBuildBr(B, head);

	enter(l, done);
	for (int r = 0; r < MR; r++)
		store_vec(l, s[r], at(l, g->s, lv_size(l, r * g->nr)), 64);
}

/* The tile's element (r, j) of C: clamped into the real rows and
 * columns, for reads whose value the edges then drop. */
static LLVMValueRef
c_elem(Lv *l, const Gemm *g, LLVMValueRef c, LLVMValueRef r,
	LLVMValueRef j)
{
	return at(l, c, add(l, mul(l, r, g->ldc), j));
}

/* The sums start as C's tile when `add`, else 0; at an edge, 0 outside
 * the mr x nr that is real. */
static void
tile_start(Lv *l, const Gemm *g, LLVMValueRef mr, LLVMValueRef nr,
	LLVMValueRef c, LLVMValueRef whole, LLVMValueRef add_c)
{
	LLVMBasicBlockRef fast = block(l, "load_tile");
	LLVMBasicBlockRef edge = block(l, "start_edge");
	LLVMBasicBlockRef done = block(l, "started");
	unsigned rb = real_bytes(l);
	LvLoop lr, lj;

	LLVMBuildCondBr(B, LLVMBuildAnd(B, whole, add_c, ""), fast, edge);
	enter(l, fast);
	for (int r = 0; r < MR; r++)
		store_vec(l, load_vec(l, g, c_elem(l, g, c, lv_size(l, r),
			lv_size(l, 0)), rb), at(l, g->s,
			lv_size(l, r * g->nr)), 64);
	LLVMBuildBr(B, done);
	enter(l, edge);
	lr = lv_loop_open(l, lv_size(l, MR), "r");
	lj = lv_loop_open(l, lv_size(l, g->nr), "j");
	LLVMValueRef real = LLVMBuildAnd(B, add_c, LLVMBuildAnd(B,
		ult(l, lr.index, mr), ult(l, lj.index, nr), ""), "");
	LLVMValueRef x = LLVMBuildLoad2(B, l->real, c_elem(l, g, c,
		umin(l, lr.index, last(l, mr)), umin(l, lj.index, last(l, nr))),
		"");
	LLVMBuildStore(B, LLVMBuildSelect(B, real, x, lv_real(l, 0), ""),
		at(l, g->s, add(l, mul(l, lr.index, lv_size(l, g->nr)),
		lj.index)));
	lv_loop_close(l, &lj);
	lv_loop_close(l, &lr);
	go(l, done);
}

/* The sums back into C: whole vectors, or at an edge only mr x nr. */
static void
tile_store(Lv *l, const Gemm *g, LLVMValueRef mr, LLVMValueRef nr,
	LLVMValueRef c, LLVMValueRef whole)
{
	LLVMBasicBlockRef fast = block(l, "store_tile");
	LLVMBasicBlockRef edge = block(l, "store_edge");
	LLVMBasicBlockRef done = block(l, "stored");
	LvLoop lr, lj;

	LLVMBuildCondBr(B, whole, fast, edge);
	enter(l, fast);
	for (int r = 0; r < MR; r++)
		store_vec(l, load_vec(l, g, at(l, g->s, lv_size(l, r * g->nr)),
			64), c_elem(l, g, c, lv_size(l, r), lv_size(l, 0)),
			real_bytes(l));
	LLVMBuildBr(B, done);
	enter(l, edge);
	lr = lv_loop_open(l, mr, "r");
	lj = lv_loop_open(l, nr, "j");
	LLVMBuildStore(B, LLVMBuildLoad2(B, l->real, at(l, g->s, add(l,
		mul(l, lr.index, lv_size(l, g->nr)), lj.index)), ""),
		c_elem(l, g, c, lr.index, lj.index));
	lv_loop_close(l, &lj);
	lv_loop_close(l, &lr);
	go(l, done);
}

/* mr <= MR rows and nr <= NR columns of C over kc terms; rows past mr
 * read A's last row. */
static void
tile(Lv *l, const Gemm *g, LLVMValueRef mr, LLVMValueRef nr, LLVMValueRef kc,
	LLVMValueRef a, LLVMValueRef c, LLVMValueRef add_c)
{
	LLVMValueRef whole = LLVMBuildAnd(B, LLVMBuildICmp(B, LLVMIntEQ, mr,
		lv_size(l, MR), ""), LLVMBuildICmp(B, LLVMIntEQ, nr,
		lv_size(l, g->nr), ""), "whole");
	LLVMValueRef ar[MR];

	for (int r = 0; r < MR; r++)
		ar[r] = at(l, a, mul(l, umin(l, lv_size(l, r), last(l, mr)),
			g->ars));
	tile_start(l, g, mr, nr, c, whole, add_c);
	kernel(l, g, kc, ar);
	tile_store(l, g, mr, nr, c, whole);
}

/* C = 0 when there are no terms and nothing to add to. */
static void
zero_when_empty(Lv *l, const Gemm *g)
{
	LLVMValueRef none = LLVMBuildAnd(B, LLVMBuildICmp(B, LLVMIntEQ, g->k,
		lv_size(l, 0), ""), LLVMBuildICmp(B, LLVMIntEQ, g->acc,
		LLVMConstInt(l->i32, 0, 0), ""), "");
	LvLoop lr = lv_loop_open(l, LLVMBuildSelect(B, none, g->m,
		lv_size(l, 0), ""), "r");
	LvLoop lj = lv_loop_open(l, g->n, "j");

	LLVMBuildStore(B, lv_real(l, 0), c_elem(l, g, g->c, lr.index,
		lj.index));
	lv_loop_close(l, &lj);
	lv_loop_close(l, &lr);
}

/* Blocks of KC terms, then of NR columns (packed once), then tiles. */
static void
gemm_body(Lv *l, Gemm *g)
{
	LLVMValueRef t0, kc, j0, nr, i0, mr;

	zero_when_empty(l, g);
	LvLoop lt = open_blocks(l, g->k, KC, &t0, &kc, "t0");
	LvLoop lj = open_blocks(l, g->n, g->nr, &j0, &nr, "j0");
	pack(l, g, kc, nr, at(l, g->b, add(l, mul(l, t0, g->brs),
		mul(l, j0, g->bcs))));
	LvLoop li = open_blocks(l, g->m, MR, &i0, &mr, "i0");
	LLVMValueRef add_c = LLVMBuildOr(B, LLVMBuildICmp(B, LLVMIntNE,
		g->acc, LLVMConstInt(l->i32, 0, 0), ""), LLVMBuildICmp(B,
		LLVMIntNE, t0, lv_size(l, 0), ""), "add");
	tile(l, g, mr, nr, kc, at(l, g->a, add(l, mul(l, i0, g->ars),
		mul(l, t0, g->acs))), at(l, g->c, add(l, mul(l, i0, g->ldc),
		j0)), add_c);
	lv_loop_close(l, &li);
	lv_loop_close(l, &lj);
	lv_loop_close(l, &lt);
	LLVMBuildRetVoid(B);
}

/* An array of n reals on the stack, 64-byte aligned. */
static LLVMValueRef
stack_array(Lv *l, long n, const char *name)
{
	LLVMValueRef a = LLVMBuildAlloca(B, LLVMArrayType2(l->real,
		(unsigned long long)n), name);

	LLVMSetAlignment(a, 64);
	return a;
}

static void
build_gemm(Lv *l, const char *name)
{
	LLVMTypeRef S = l->size, P = l->ptr;
	LLVMTypeRef t[12] = { S, S, S, P, S, S, P, S, S, P, S, l->i32 };
	static const char *const names[12] = { "m", "n", "k", "a", "ars",
		"acs", "b", "brs", "bcs", "c", "ldc", "acc" };
	LLVMValueRef fn = lv_function(l, name, l->voidt, t, 12, 0);
	LLVMValueRef *arg[12];
	Gemm g;

	arg[0] = &g.m, arg[1] = &g.n, arg[2] = &g.k, arg[3] = &g.a;
	arg[4] = &g.ars, arg[5] = &g.acs, arg[6] = &g.b, arg[7] = &g.brs;
	arg[8] = &g.bcs, arg[9] = &g.c, arg[10] = &g.ldc, arg[11] = &g.acc;
	for (unsigned k = 0; k < 12; k++) {
		*arg[k] = LLVMGetParam(fn, k);
		LLVMSetValueName2(*arg[k], names[k], strlen(names[k]));
	}
	g.nr = 64 / real_bytes(l);
	g.vec = LLVMVectorType(l->real, (unsigned)g.nr);
	g.bp = stack_array(l, KC * g.nr, "bp");
	g.s = stack_array(l, MR * g.nr, "s");
	gemm_body(l, &g);
}

/*
 * NAME_gemm, built the first time a product asks for it; the builder and
 * the function being built are left as they were.
 */
LLVMValueRef
lv_gemm(Lv *l)
{
	char name[128];
	LLVMValueRef fn, caller = l->fn;
	LLVMBasicBlockRef at_block = LLVMGetInsertBlock(B);

	snprintf(name, sizeof name, "%s_gemm", l->m->name);
	fn = LLVMGetNamedFunction(l->mod, name);
	if (fn)
		return fn;
	build_gemm(l, name);
	fn = l->fn;
	l->fn = caller;
	LLVMPositionBuilderAtEnd(B, at_block);
	return fn;
}
