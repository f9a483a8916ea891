/*
 * llvm_api.c - the parts of the C API around the compute functions, as
 * LLVM IR: NAME_param_table, NAME_workspace_size, NAME_init (with the
 * same splitmix64 generator as tables.c, so a seed gives the same
 * parameters from either backend), NAME_predict_one, and the optimisers
 * of optim.c (NAME_optim_default, NAME_optim_state_init, NAME_step).
 * With llvm.c this makes an object file that links in place of NAME.c
 * under the header that --emit=c writes.
 *
 * The structs are built as LLVM struct types; the module's data layout
 * gives them the C ABI's padding, so they match the header's.
 */
#include <math.h>
#include <string.h>

#include "llvm_int.h"

#define B (l->bld)

static LLVMValueRef
c64(Lv *l, unsigned long long v)
{
	return LLVMConstInt(l->i64, v, 0);
}

static LLVMValueRef
cf64(Lv *l, double v)
{
	return LLVMConstReal(l->f64, v);
}

static LLVMValueRef
call(Lv *l, LLVMValueRef fn, LLVMValueRef *args, int n)
{
	return LLVMBuildCall2(B, LLVMGlobalGetValueType(fn), fn, args,
		(unsigned)n, "");
}

/* Field k of a struct of type t at ptr. */
static LLVMValueRef
field(Lv *l, LLVMTypeRef t, LLVMValueRef ptr, unsigned k)
{
	return LLVMBuildStructGEP2(B, t, ptr, k, "");
}

static LLVMValueRef
load_as(Lv *l, LLVMTypeRef t, LLVMValueRef ptr)
{
	return LLVMBuildLoad2(B, t, ptr, "");
}

/* ---- NAME_param_table ---- */

/* A private constant string, for the table's names. */
static LLVMValueRef
cstring(Lv *l, const char *s)
{
	LLVMValueRef init = LLVMConstStringInContext2(l->ctx, s, strlen(s), 0);
	LLVMValueRef g = LLVMAddGlobal(l->mod, LLVMTypeOf(init), ".str");

	LLVMSetInitializer(g, init);
	LLVMSetGlobalConstant(g, 1);
	LLVMSetLinkage(g, LLVMPrivateLinkage);
	LLVMSetUnnamedAddress(g, LLVMGlobalUnnamedAddr);
	return g;
}

/* One row: name, field, offset, count, rank, shape (1 past the rank). */
static LLVMValueRef
info_row(Lv *l, LLVMTypeRef t, int i)
{
	const IrParam *p = &l->m->params[i];
	LLVMValueRef shape[4], f[6];
	char name[160];

	for (int d = 0; d < 4; d++)
		shape[d] = lv_size(l, d < p->type.rank ? p->type.dim[d] : 1);
	f[0] = cstring(l, p->name);
	f[1] = cstring(l, cg_param_field(l->m, i, name, sizeof name));
	f[2] = lv_size(l, p->offset);
	f[3] = lv_size(l, ir_numel(&p->type));
	f[4] = LLVMConstInt(l->i32, (unsigned)p->type.rank, 0);
	f[5] = LLVMConstArray2(l->size, shape, 4);
	return LLVMConstNamedStruct(t, f, 6);
}

/* A model without parameters has one empty row, as tables.c writes. */
static LLVMValueRef
empty_row(Lv *l, LLVMTypeRef t)
{
	LLVMValueRef one = lv_size(l, 1), zero = lv_size(l, 0);
	LLVMValueRef shape[4] = { one, one, one, one };
	LLVMValueRef f[6] = { cstring(l, ""), cstring(l, ""), zero, zero,
		LLVMConstInt(l->i32, 0, 0), LLVMConstArray2(l->size, shape, 4) };

	return LLVMConstNamedStruct(t, f, 6);
}

static void
param_table(Lv *l)
{
	LLVMTypeRef t = LLVMStructCreateNamed(l->ctx, "param_info");
	int n = l->m->nparams > 0 ? l->m->nparams : 1;
	LLVMValueRef rows[n];
	char name[128];

	LLVMStructSetBody(t, (LLVMTypeRef[]){ l->ptr, l->ptr, l->size,
		l->size, l->i32, LLVMArrayType2(l->size, 4) }, 6, 0);
	for (int i = 0; i < n; i++)
		rows[i] = l->m->nparams ? info_row(l, t, i) : empty_row(l, t);
	LLVMValueRef init = LLVMConstArray2(t, rows, (uint64_t)n);
	snprintf(name, sizeof name, "%s_param_table", l->m->name);
	LLVMValueRef g = LLVMAddGlobal(l->mod, LLVMTypeOf(init), name);
	LLVMSetInitializer(g, init);
	LLVMSetGlobalConstant(g, 1);
}

/* ---- NAME_workspace_size ---- */

static void
workspace_size(Lv *l)
{
	long size_b, size_c;
	char name[128];

	cg_workspace(l->m, &size_b, &size_c);
	snprintf(name, sizeof name, "%s_workspace_size", l->m->name);
	LLVMValueRef fn = lv_function(l, name, l->size, &l->size, 1, 1);
	LLVMValueRef n = LLVMBuildAdd(B, LLVMBuildMul(B, lv_size(l, size_b),
		LLVMGetParam(fn, 0), ""), lv_size(l, size_c), "");
	LLVMBuildRet(B, LLVMBuildMul(B, n, LLVMSizeOf(l->real), ""));
}

/* ---- NAME_init: splitmix64, uniforms and normals from it ---- */

typedef struct Rng {
	LLVMValueRef next, uniform, normal;
} Rng;

static LLVMValueRef
xorshift_mul(Lv *l, LLVMValueRef z, unsigned shift, unsigned long long k)
{
	LLVMValueRef x = LLVMBuildXor(B, z, LLVMBuildLShr(B, z, c64(l, shift),
		""), "");

	return k ? LLVMBuildMul(B, x, c64(l, k), "") : x;
}

/* next(s): z = (*s += golden); two xor-shift-multiplies; a last xor. */
static LLVMValueRef
rng_next(Lv *l)
{
	char name[128];

	snprintf(name, sizeof name, "%s_next", l->m->name);
	LLVMValueRef fn = lv_function(l, name, l->i64, &l->ptr, 1, 0);
	LLVMValueRef s = LLVMGetParam(fn, 0);
	LLVMValueRef z = LLVMBuildAdd(B, load_as(l, l->i64, s),
		c64(l, 0x9e3779b97f4a7c15ull), "");
	LLVMBuildStore(B, z, s);
	z = xorshift_mul(l, z, 30, 0xbf58476d1ce4e5b9ull);
	z = xorshift_mul(l, z, 27, 0x94d049bb133111ebull);
	LLVMBuildRet(B, xorshift_mul(l, z, 31, 0));
	return fn;
}

/* ((next >> 11) + 0.5) / 2^53: never 0, never 1. */
static LLVMValueRef
rng_uniform(Lv *l, LLVMValueRef next)
{
	char name[128];

	snprintf(name, sizeof name, "%s_uniform", l->m->name);
	LLVMValueRef fn = lv_function(l, name, l->f64, &l->ptr, 1, 0);
	LLVMValueRef s = LLVMGetParam(fn, 0);
	LLVMValueRef bits = LLVMBuildLShr(B, call(l, next, &s, 1), c64(l, 11),
		"");
	LLVMValueRef u = LLVMBuildFAdd(B, LLVMBuildUIToFP(B, bits, l->f64, ""),
		cf64(l, 0.5), "");
	LLVMBuildRet(B, LLVMBuildFDiv(B, u, cf64(l, 9007199254740992.0), ""));
	return fn;
}

/* Box-Muller: sqrt(-2 log u) cos(2 pi v). */
static LLVMValueRef
rng_normal(Lv *l, LLVMValueRef uniform)
{
	char name[128];

	snprintf(name, sizeof name, "%s_normal", l->m->name);
	LLVMValueRef fn = lv_function(l, name, l->f64, &l->ptr, 1, 0);
	LLVMValueRef s = LLVMGetParam(fn, 0);
	LLVMValueRef u = call(l, uniform, &s, 1);
	LLVMValueRef v = call(l, uniform, &s, 1);
	LLVMValueRef r = lv_intrinsic(l, "llvm.sqrt", l->f64, (LLVMValueRef[]){
		LLVMBuildFMul(B, cf64(l, -2), lv_libm(l, "log", l->f64, u),
		"") }, 1);
	LLVMValueRef c = lv_libm(l, "cos", l->f64, LLVMBuildFMul(B,
		cf64(l, 6.283185307179586), v, ""));
	LLVMBuildRet(B, LLVMBuildFMul(B, r, c, ""));
	return fn;
}

/* One element of parameter p, in double, as tables.c's draw() writes. */
static LLVMValueRef
draw(Lv *l, const Rng *rng, const IrParam *p, LLVMValueRef s)
{
	double in = p->type.rank ? p->type.dim[p->type.rank - 1] : 1;
	double out = p->type.rank ? p->type.dim[0] : 1;

	switch (p->init) {
	case INIT_NORMAL:
		return LLVMBuildFAdd(B, cf64(l, p->a), LLVMBuildFMul(B,
			cf64(l, p->b), call(l, rng->normal, &s, 1), ""), "");
	case INIT_UNIFORM:
		return LLVMBuildFAdd(B, cf64(l, p->a), LLVMBuildFMul(B,
			cf64(l, p->b - p->a), call(l, rng->uniform, &s, 1), ""),
			"");
	case INIT_GLOROT:
		return LLVMBuildFMul(B, cf64(l, sqrt(6 / (in + out))),
			LLVMBuildFSub(B, LLVMBuildFMul(B, cf64(l, 2),
			call(l, rng->uniform, &s, 1), ""), cf64(l, 1), ""), "");
	case INIT_HE:
		return LLVMBuildFMul(B, cf64(l, sqrt(2 / in)),
			call(l, rng->normal, &s, 1), "");
	default:
		return cf64(l, p->a);
	}
}

static void
init(Lv *l)
{
	Rng rng;
	char name[128];

	rng.next = rng_next(l);
	rng.uniform = rng_uniform(l, rng.next);
	rng.normal = rng_normal(l, rng.uniform);
	snprintf(name, sizeof name, "%s_init", l->m->name);
	LLVMValueRef fn = lv_function(l, name, l->voidt, (LLVMTypeRef[]){
		l->ptr, l->i64 }, 2, 1);
	LLVMValueRef s = LLVMBuildAlloca(B, l->i64, "s");
	LLVMBuildStore(B, LLVMGetParam(fn, 1), s);
	for (int i = 0; i < l->m->nparams; i++) {
		const IrParam *p = &l->m->params[i];
		LvLoop li = lv_loop_open(l, lv_size(l, ir_numel(&p->type)), "i");
		LLVMValueRef v = LLVMBuildFPTrunc(B, draw(l, &rng, p, s),
			l->real, "");
		LLVMBuildStore(B, v, lv_elem(l, l->real, LLVMGetParam(fn, 0),
			LLVMBuildAdd(B, lv_size(l, p->offset), li.index, "")));
		lv_loop_close(l, &li);
	}
	LLVMBuildRetVoid(B);
}

/* ---- NAME_predict_one ---- */

static void
predict_one(Lv *l)
{
	char name[128];
	LLVMValueRef predict;

	snprintf(name, sizeof name, "%s_predict", l->m->name);
	predict = LLVMGetNamedFunction(l->mod, name);
	snprintf(name, sizeof name, "%s_predict_one", l->m->name);
	LLVMValueRef fn = lv_function(l, name, l->voidt, (LLVMTypeRef[]){
		l->ptr, l->ptr, l->ptr, l->ptr }, 4, 1);
	call(l, predict, (LLVMValueRef[]){ LLVMGetParam(fn, 0),
		LLVMGetParam(fn, 1), lv_size(l, 1), LLVMGetParam(fn, 2),
		LLVMGetParam(fn, 3) }, 5);
	LLVMBuildRetVoid(B);
}

/* ---- the optimisers ---- */

/* NAME_optim: kind, lr, momentum, nesterov, beta1, beta2, eps, wd. */
enum { O_KIND, O_LR, O_MOMENTUM, O_NESTEROV, O_BETA1, O_BETA2, O_EPS, O_WD };

static LLVMTypeRef
optim_type(Lv *l)
{
	LLVMTypeRef d = l->f64, f[] = { l->i32, d, d, l->i32, d, d, d, d };

	return LLVMStructTypeInContext(l->ctx, f, 8, 0);
}

/* NAME_optim_state: m and v, each a params struct, then the step. */
static LLVMTypeRef
state_type(Lv *l)
{
	long n = l->m->param_size > 0 ? l->m->param_size : 1;
	LLVMTypeRef arr = LLVMArrayType2(l->real, (uint64_t)n);
	LLVMTypeRef f[] = { arr, arr, l->i64 };

	return LLVMStructTypeInContext(l->ctx, f, 3, 0);
}

static double
opt_field(const IrTrain *t, int k)
{
	int adam = t->opt != OPT_SGD;

	switch (k) {
	case O_LR: return t->lr;
	case O_MOMENTUM: return adam ? 0 : t->momentum;
	case O_BETA1: return adam ? t->beta1 : 0.9;
	case O_BETA2: return adam ? t->beta2 : 0.999;
	case O_EPS: return adam ? t->eps : 1e-8;
	default: return t->weight_decay;
	}
}

/* The train clause's values, PyTorch's defaults for the rest (optim.c). */
static void
optim_default(Lv *l)
{
	static const int kinds[] = { [OPT_SGD] = 0, [OPT_ADAM] = 1,
		[OPT_ADAMW] = 2 };
	static const int reals[] = { O_LR, O_MOMENTUM, O_BETA1, O_BETA2, O_EPS,
		O_WD };
	LLVMTypeRef t = optim_type(l);
	char name[128];

	snprintf(name, sizeof name, "%s_optim_default", l->m->name);
	LLVMValueRef o = LLVMGetParam(lv_function(l, name, l->voidt, &l->ptr,
		1, 1), 0);
	LLVMBuildStore(B, LLVMConstInt(l->i32, (unsigned)kinds[l->m->train.opt],
		0), field(l, t, o, O_KIND));
	LLVMBuildStore(B, LLVMConstInt(l->i32, 0, 0), field(l, t, o,
		O_NESTEROV));
	for (size_t k = 0; k < sizeof reals / sizeof *reals; k++)
		LLVMBuildStore(B, cf64(l, opt_field(&l->m->train, reals[k])),
			field(l, t, o, (unsigned)reals[k]));
	LLVMBuildRetVoid(B);
}

static void
optim_state_init(Lv *l)
{
	LLVMTypeRef t = state_type(l);
	char name[128];

	snprintf(name, sizeof name, "%s_optim_state_init", l->m->name);
	LLVMValueRef s = LLVMGetParam(lv_function(l, name, l->voidt, &l->ptr,
		1, 1), 0);
	LLVMBuildStore(B, LLVMConstNull(LLVMStructGetTypeAtIndex(t, 0)),
		field(l, t, s, 0));
	LLVMBuildStore(B, LLVMConstNull(LLVMStructGetTypeAtIndex(t, 1)),
		field(l, t, s, 1));
	LLVMBuildStore(B, c64(l, 0), field(l, t, s, 2));
	LLVMBuildRetVoid(B);
}

static LLVMValueRef
to_real(Lv *l, LLVMValueRef d)
{
	return l->real == l->f64 ? d : LLVMBuildFPTrunc(B, d, l->real, "");
}

static LLVMValueRef
fne0(Lv *l, LLVMValueRef x)
{
	return LLVMBuildFCmp(B, LLVMRealUNE, x, lv_real(l, 0), "");
}

static LLVMValueRef
fmul(Lv *l, LLVMValueRef a, LLVMValueRef b)
{
	return LLVMBuildFMul(B, a, b, "");
}

static LLVMValueRef
fadd(Lv *l, LLVMValueRef a, LLVMValueRef b)
{
	return LLVMBuildFAdd(B, a, b, "");
}

static LLVMValueRef
fsub(Lv *l, LLVMValueRef a, LLVMValueRef b)
{
	return LLVMBuildFSub(B, a, b, "");
}

static LLVMValueRef
sel(Lv *l, LLVMValueRef c, LLVMValueRef a, LLVMValueRef b)
{
	return LLVMBuildSelect(B, c, a, b, "");
}

/*
 * sgd(p, grad, m, n, o, first), PyTorch's rule with dampening 0:
 *   g += wd * p;  m = g on the first step, else m = momentum * m + g;
 *   g = nesterov ? g + momentum * m : m;  p -= lr * g
 * The ifs of optim.c become selects; with mu == 0, m is stored back
 * unchanged, which is what leaving it alone means.
 */
static LLVMValueRef
sgd(Lv *l, LLVMTypeRef ot)
{
	char name[128];
	LLVMTypeRef P = l->ptr;

	snprintf(name, sizeof name, "%s_sgd", l->m->name);
	LLVMValueRef fn = lv_function(l, name, l->voidt, (LLVMTypeRef[]){ P, P,
		P, l->size, P, l->i32 }, 6, 0);
	LLVMValueRef p = LLVMGetParam(fn, 0), gr = LLVMGetParam(fn, 1);
	LLVMValueRef m = LLVMGetParam(fn, 2), o = LLVMGetParam(fn, 4);
	LLVMValueRef first = LLVMBuildICmp(B, LLVMIntNE, LLVMGetParam(fn, 5),
		LLVMConstInt(l->i32, 0, 0), "first");
	LLVMValueRef lr = to_real(l, load_as(l, l->f64, field(l, ot, o, O_LR)));
	LLVMValueRef mu = to_real(l, load_as(l, l->f64, field(l, ot, o,
		O_MOMENTUM)));
	LLVMValueRef wd = to_real(l, load_as(l, l->f64, field(l, ot, o, O_WD)));
	LLVMValueRef nest = LLVMBuildICmp(B, LLVMIntNE, load_as(l, l->i32,
		field(l, ot, o, O_NESTEROV)), LLVMConstInt(l->i32, 0, 0), "");
	LvLoop li = lv_loop_open(l, LLVMGetParam(fn, 3), "i");
	LLVMValueRef pp = lv_elem(l, l->real, p, li.index);
	LLVMValueRef mp = lv_elem(l, l->real, m, li.index);
	LLVMValueRef pv = load_as(l, l->real, pp), mv = load_as(l, l->real, mp);
	LLVMValueRef g = load_as(l, l->real, lv_elem(l, l->real, gr, li.index));
	g = sel(l, fne0(l, wd), fadd(l, g, fmul(l, wd, pv)), g);
	LLVMValueRef m2 = sel(l, first, g, fadd(l, fmul(l, mu, mv), g));
	m2 = sel(l, fne0(l, mu), m2, mv);
	LLVMBuildStore(B, m2, mp);
	LLVMValueRef g2 = sel(l, nest, fadd(l, g, fmul(l, mu, m2)), m2);
	g = sel(l, fne0(l, mu), g2, g);
	LLVMBuildStore(B, fsub(l, pv, fmul(l, lr, g)), pp);
	lv_loop_close(l, &li);
	LLVMBuildRetVoid(B);
	return fn;
}

/* Adam's per-step factors, rounded once from double (optim.c). */
enum { K_DECAY, K_WD, K_W1, K_BETA2, K_W2, K_STEP, K_BC2, K_EPS, K_N };

static void
adam_factors(Lv *l, LLVMTypeRef ot, LLVMValueRef o, LLVMValueRef step,
	LLVMValueRef *k)
{
	LLVMValueRef t = fadd(l, LLVMBuildUIToFP(B, step, l->f64, ""),
		cf64(l, 1));
	LLVMValueRef adamw = LLVMBuildICmp(B, LLVMIntEQ, load_as(l, l->i32,
		field(l, ot, o, O_KIND)), LLVMConstInt(l->i32, 2, 0), "");
	LLVMValueRef lr = load_as(l, l->f64, field(l, ot, o, O_LR));
	LLVMValueRef wd = load_as(l, l->f64, field(l, ot, o, O_WD));
	LLVMValueRef b1 = load_as(l, l->f64, field(l, ot, o, O_BETA1));
	LLVMValueRef b2 = load_as(l, l->f64, field(l, ot, o, O_BETA2));
	LLVMValueRef one = cf64(l, 1);

	k[K_DECAY] = to_real(l, sel(l, adamw, fsub(l, one, fmul(l, lr, wd)),
		one));
	k[K_WD] = to_real(l, sel(l, adamw, cf64(l, 0), wd));
	k[K_W1] = to_real(l, fsub(l, one, b1));
	k[K_BETA2] = to_real(l, b2);
	k[K_W2] = to_real(l, fsub(l, one, b2));
	k[K_STEP] = to_real(l, LLVMBuildFDiv(B, lr, fsub(l, one,
		lv_intrinsic(l, "llvm.pow", l->f64, (LLVMValueRef[]){ b1, t },
		2)), ""));
	k[K_BC2] = to_real(l, lv_intrinsic(l, "llvm.sqrt", l->f64,
		(LLVMValueRef[]){ fsub(l, one, lv_intrinsic(l, "llvm.pow",
		l->f64, (LLVMValueRef[]){ b2, t }, 2)) }, 1));
	k[K_EPS] = to_real(l, load_as(l, l->f64, field(l, ot, o, O_EPS)));
}

/*
 * adam(p, grad, m, v, n, factors...), PyTorch's rule:
 *   adamw: p *= 1 - lr * wd;  adam: g += wd * p
 *   m = lerp(m, g, 1 - beta1);  v = v * beta2 + (1 - beta2) * g * g
 *   p -= step_size * (m / (sqrt(v) / bc2_sqrt + eps))
 */
static LLVMValueRef
adam(Lv *l)
{
	LLVMTypeRef t[5 + K_N];
	char name[128];

	for (int i = 0; i < 4; i++)
		t[i] = l->ptr;
	t[4] = l->size;
	for (int i = 0; i < K_N; i++)
		t[5 + i] = l->real;
	snprintf(name, sizeof name, "%s_adam", l->m->name);
	LLVMValueRef fn = lv_function(l, name, l->voidt, t, 5 + K_N, 0);
	LLVMValueRef k[K_N];
	for (int i = 0; i < K_N; i++)
		k[i] = LLVMGetParam(fn, 5 + (unsigned)i);
	LvLoop li = lv_loop_open(l, LLVMGetParam(fn, 4), "i");
	LLVMValueRef at[4];
	for (int i = 0; i < 4; i++)
		at[i] = lv_elem(l, l->real, LLVMGetParam(fn, (unsigned)i),
			li.index);
	LLVMValueRef p = load_as(l, l->real, at[0]);
	LLVMValueRef g = load_as(l, l->real, at[1]);
	LLVMValueRef m = load_as(l, l->real, at[2]);
	LLVMValueRef v = load_as(l, l->real, at[3]);
	LLVMValueRef decays = LLVMBuildFCmp(B, LLVMRealUNE, k[K_DECAY],
		lv_real(l, 1), "");
	p = sel(l, decays, fmul(l, p, k[K_DECAY]), p);
	g = sel(l, fne0(l, k[K_WD]), fadd(l, g, fmul(l, k[K_WD], p)), g);
	LLVMValueRef small = LLVMBuildFCmp(B, LLVMRealOLT, k[K_W1],
		lv_real(l, 0.5), "");
	LLVMValueRef gm = fsub(l, g, m);
	m = sel(l, small, fadd(l, m, fmul(l, k[K_W1], gm)), fsub(l, g,
		fmul(l, gm, fsub(l, lv_real(l, 1), k[K_W1]))));
	v = fadd(l, fmul(l, v, k[K_BETA2]), fmul(l, fmul(l, k[K_W2], g), g));
	LLVMValueRef den = fadd(l, LLVMBuildFDiv(B, lv_intrinsic(l,
		"llvm.sqrt", l->real, &v, 1), k[K_BC2], ""), k[K_EPS]);
	p = fsub(l, p, fmul(l, k[K_STEP], LLVMBuildFDiv(B, m, den, "")));
	LLVMBuildStore(B, m, at[2]);
	LLVMBuildStore(B, v, at[3]);
	LLVMBuildStore(B, p, at[0]);
	lv_loop_close(l, &li);
	LLVMBuildRetVoid(B);
	return fn;
}

/* Parameter i's arrays in p, grad and the state's m and v. */
static void
param_arrays(Lv *l, LLVMTypeRef st, int i, LLVMValueRef p, LLVMValueRef g,
	LLVMValueRef s, LLVMValueRef *at)
{
	LLVMValueRef off = lv_size(l, l->m->params[i].offset);

	at[0] = lv_elem(l, l->real, p, off);
	at[1] = lv_elem(l, l->real, g, off);
	at[2] = lv_elem(l, l->real, field(l, st, s, 0), off);
	at[3] = lv_elem(l, l->real, field(l, st, s, 1), off);
}

/* NAME_step: sgd or adam over each parameter tensor, then step++. */
static void
step(Lv *l)
{
	LLVMTypeRef ot = optim_type(l), st = state_type(l);
	LLVMValueRef fsgd = sgd(l, ot), fadam = adam(l);
	char name[128];

	snprintf(name, sizeof name, "%s_step", l->m->name);
	LLVMValueRef fn = lv_function(l, name, l->voidt, (LLVMTypeRef[]){
		l->ptr, l->ptr, l->ptr, l->ptr }, 4, 1);
	LLVMValueRef p = LLVMGetParam(fn, 0), g = LLVMGetParam(fn, 1);
	LLVMValueRef s = LLVMGetParam(fn, 2), o = LLVMGetParam(fn, 3);
	LLVMValueRef stepp = field(l, st, s, 2);
	LLVMValueRef nstep = load_as(l, l->i64, stepp);
	LLVMBasicBlockRef bsgd = LLVMAppendBasicBlockInContext(l->ctx, fn, "sgd");
	LLVMBasicBlockRef badam = LLVMAppendBasicBlockInContext(l->ctx, fn,
		"adam");
	LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(l->ctx, fn, "done");
	LLVMBuildCondBr(B, LLVMBuildICmp(B, LLVMIntEQ, load_as(l, l->i32,
		field(l, ot, o, O_KIND)), LLVMConstInt(l->i32, 0, 0), ""), bsgd,
		badam);

	LLVMPositionBuilderAtEnd(B, bsgd);
	LLVMValueRef first = LLVMBuildZExt(B, LLVMBuildICmp(B, LLVMIntEQ,
		nstep, c64(l, 0), ""), l->i32, "");
	for (int i = 0; i < l->m->nparams; i++) {
		LLVMValueRef at[4];
		param_arrays(l, st, i, p, g, s, at);
		call(l, fsgd, (LLVMValueRef[]){ at[0], at[1], at[2],
			lv_size(l, ir_numel(&l->m->params[i].type)), o, first },
			6);
	}
	LLVMBuildBr(B, done);

	LLVMPositionBuilderAtEnd(B, badam);
	LLVMValueRef args[5 + K_N];
	adam_factors(l, ot, o, nstep, args + 5);
	for (int i = 0; i < l->m->nparams; i++) {
		param_arrays(l, st, i, p, g, s, args);
		args[4] = lv_size(l, ir_numel(&l->m->params[i].type));
		call(l, fadam, args, 5 + K_N);
	}
	LLVMBuildBr(B, done);

	LLVMPositionBuilderAtEnd(B, done);
	LLVMBuildStore(B, LLVMBuildAdd(B, nstep, c64(l, 1), ""), stepp);
	LLVMBuildRetVoid(B);
}

/* Everything of the C API that is not a compute function. */
void
lv_api(Lv *l)
{
	param_table(l);
	workspace_size(l);
	init(l);
	predict_one(l);
	optim_default(l);
	optim_state_init(l);
	step(l);
}
