/*
 * llvm_int.h - what the LLVM backend's files share, and only they: the
 * builder state over LLVM-C types.  cg.h keeps the backend's public face
 * free of LLVM types, so that a build without LLVM compiles the rest of
 * dlc unchanged; this header is included only where LLVM is present.
 *
 *   llvm.c      the compute functions (loss, loss_grad, predict, ...)
 *   llvm_gemm.c the matrix product they call
 *   llvm_api.c  the rest of the C API (tables, init, the optimisers)
 *   llvm_out.c  target machines, pass pipelines, files, the JIT
 */
#ifndef DLC_LLVM_INT_H
#define DLC_LLVM_INT_H

#include <llvm-c/Core.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>

#include "cg.h"

/* An open counted loop: `index` runs from 0 while below the count. */
typedef struct LvLoop {
	LLVMBasicBlockRef head, exit;
	LLVMValueRef index;
} LvLoop;

typedef struct Lv {
	const IrModule *m;
	const CgOptions *o;
	LLVMContextRef ctx;
	LLVMModuleRef mod;
	LLVMBuilderRef bld;
	LLVMTypeRef real;       /* float or double */
	LLVMTypeRef f64, i32, i64, size, ptr, voidt;
	const char *cpu, *features;     /* function attributes, may be NULL */

	/* the function being built */
	LLVMValueRef fn;
	LLVMValueRef p, grad, dinputs, inputs, targets, batch, out;
	LLVMValueRef *wbuf;     /* wbuf[k]: where buffer k starts */
	CgPlan plan;
	IrType loop;            /* the element-wise loop nest now open */
	int in_loop;
	LvLoop outer, inner;
	LLVMValueRef b, i;      /* that nest's indices */
} Lv;

/* llvm.c: helpers the other files use too. */
LLVMValueRef lv_size(Lv *l, long n);
LLVMValueRef lv_real(Lv *l, double v);
LLVMValueRef lv_elem(Lv *l, LLVMTypeRef t, LLVMValueRef base,
	LLVMValueRef index);
LvLoop lv_loop_open(Lv *l, LLVMValueRef count, const char *name);
void lv_loop_close(Lv *l, LvLoop *lp);
LLVMValueRef lv_function(Lv *l, const char *name, LLVMTypeRef ret,
	LLVMTypeRef *params, int nparams, int exported);
LLVMValueRef lv_intrinsic(Lv *l, const char *name, LLVMTypeRef t,
	LLVMValueRef *args, int nargs);
LLVMValueRef lv_libm(Lv *l, const char *name, LLVMTypeRef t,
	LLVMValueRef x);
void lv_compute(Lv *l);

/* llvm_gemm.c: NAME_gemm, built the first time it is asked for. */
LLVMValueRef lv_gemm(Lv *l);

/* llvm_api.c */
void lv_api(Lv *l);

#endif
