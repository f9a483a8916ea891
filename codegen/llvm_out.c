/*
 * llvm_out.c - the LLVM backend's public face (cg.h): target machines for
 * the host or a named target, LLVM's optimisation pipelines, .ll, .bc
 * and object files, and the in-process JIT that `dlc run` trains through.
 *
 * Every module is verified after it is built and again after the
 * pipeline has run, before anything is written or executed; a module
 * that fails is a bug of ours, so dlc says where and aborts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/ErrorHandling.h>
#include <llvm-c/Analysis.h>
#include <llvm-c/BitWriter.h>
#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include "llvm_int.h"

int
cg_llvm_available(void)
{
	return 1;
}

void
cg_llvm_version(char *buf, size_t n)
{
	unsigned major, minor, patch;

	LLVMGetVersion(&major, &minor, &patch);
	snprintf(buf, n, "LLVM %u.%u.%u", major, minor, patch);
}

static void
init_targets(void)
{
	static int done;

	if (done)
		return;
	LLVMInitializeAllTargetInfos();
	LLVMInitializeAllTargets();
	LLVMInitializeAllTargetMCs();
	LLVMInitializeAllAsmPrinters();
	done = 1;
}

/* A target machine and the CPU and features it was made for. */
typedef struct Target {
	LLVMTargetMachineRef tm;
	char *triple, *cpu, *features;
} Target;

static void
target_free(Target *t)
{
	if (t->tm)
		LLVMDisposeTargetMachine(t->tm);
	LLVMDisposeMessage(t->triple);
	LLVMDisposeMessage(t->cpu);
	LLVMDisposeMessage(t->features);
}

static char *
copy_message(const char *s)
{
	return LLVMCreateMessage(s);
}

/*
 * The host by default: its triple, its CPU and every feature it has, so
 * loops vectorise with what the machine offers.  --cpu names a CPU
 * (features are then that CPU's own; "native" is the host); --target
 * names another triple, for which the CPU is "generic" unless given.
 */
/* LLVM stops the process on errors it cannot recover from, such as a
 * CPU it does not know; say so as dlc does, not as an abort. */
static void
llvm_fatal(const char *reason)
{
	fprintf(stderr, "dlc: error: LLVM cannot generate this code: %s "
		"(check --cpu and --target)\n", reason);
	exit(2);
}

static int
make_target(const CgLlvmOptions *lo, Target *t)
{
	static const LLVMCodeGenOptLevel levels[] = { LLVMCodeGenLevelNone,
		LLVMCodeGenLevelLess, LLVMCodeGenLevelDefault,
		LLVMCodeGenLevelAggressive };
	int host = !lo->triple || !*lo->triple;
	int native = !lo->cpu || strcmp(lo->cpu, "native") == 0;
	LLVMTargetRef target;
	char *err = NULL;

	init_targets();
	*t = (Target){ 0 };
	t->triple = host ? LLVMGetDefaultTargetTriple() :
		LLVMNormalizeTargetTriple(lo->triple);
	if (LLVMGetTargetFromTriple(t->triple, &target, &err)) {
		fprintf(stderr, "dlc: error: unknown target '%s': %s\n",
			lo->triple, err);
		LLVMDisposeMessage(err);
		target_free(t);
		return 1;
	}
	if (native && host) {
		t->cpu = LLVMGetHostCPUName();
		t->features = LLVMGetHostCPUFeatures();
	} else {
		t->cpu = copy_message(native ? "generic" : lo->cpu);
		t->features = copy_message("");
	}
	LLVMInstallFatalErrorHandler(llvm_fatal);
	t->tm = LLVMCreateTargetMachine(target, t->triple, t->cpu,
		t->features, levels[lo->level & 3], LLVMRelocPIC,
		LLVMCodeModelDefault);
	return 0;
}

/* Every instruction that can carry fast-math flags gets all of them. */
static void
fast_math(LLVMModuleRef mod)
{
	for (LLVMValueRef f = LLVMGetFirstFunction(mod); f;
	    f = LLVMGetNextFunction(f))
		for (LLVMBasicBlockRef b = LLVMGetFirstBasicBlock(f); b;
		    b = LLVMGetNextBasicBlock(b))
			for (LLVMValueRef i = LLVMGetFirstInstruction(b); i;
			    i = LLVMGetNextInstruction(i))
				if (LLVMCanValueUseFastMathFlags(i))
					LLVMSetFastMathFlags(i,
						LLVMFastMathAll);
}

/* A module that does not verify is our bug: say so and stop. */
static void
verify(LLVMModuleRef mod, const char *when)
{
	char *msg = NULL;

	if (LLVMVerifyModule(mod, LLVMReturnStatusAction, &msg)) {
		fprintf(stderr, "%s:%d: internal error: the LLVM module does not "
			"verify %s:\n%s\n", __FILE__, __LINE__, when, msg);
		abort();
	}
	LLVMDisposeMessage(msg);
}

/* LLVM's own pipeline for the level: default<O0> .. default<O3>. */
static int
optimise(LLVMModuleRef mod, const Target *t, int level)
{
	LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
	char pipeline[32];
	LLVMErrorRef err;

	snprintf(pipeline, sizeof pipeline, "default<O%d>", level & 3);
	err = LLVMRunPasses(mod, pipeline, t->tm, po);
	LLVMDisposePassBuilderOptions(po);
	if (err) {
		char *msg = LLVMGetErrorMessage(err);
		fprintf(stderr, "dlc: error: LLVM's %s pipeline failed: %s\n",
			pipeline, msg);
		LLVMDisposeErrorMessage(msg);
		return 1;
	}
	verify(mod, "after optimisation");
	return 0;
}

/* The whole C API of m as a module in ctx, verified and optimised. */
static LLVMModuleRef
build(const IrModule *m, const CgOptions *o, const CgLlvmOptions *lo,
	const Target *t, LLVMContextRef ctx)
{
	LLVMModuleRef mod = LLVMModuleCreateWithNameInContext(m->name, ctx);
	LLVMTargetDataRef td = LLVMCreateTargetDataLayout(t->tm);
	Lv l = { .m = m, .o = o, .ctx = ctx, .mod = mod };

	LLVMSetTarget(mod, t->triple);
	LLVMSetModuleDataLayout(mod, td);
	if (m->path)
		LLVMSetSourceFileName(mod, m->path, strlen(m->path));
	l.bld = LLVMCreateBuilderInContext(ctx);
	l.f64 = LLVMDoubleTypeInContext(ctx);
	l.real = o->precision == CG_F32 ? LLVMFloatTypeInContext(ctx) : l.f64;
	l.i32 = LLVMInt32TypeInContext(ctx);
	l.i64 = LLVMInt64TypeInContext(ctx);
	l.size = LLVMIntPtrTypeInContext(ctx, td);
	l.ptr = LLVMPointerTypeInContext(ctx, 0);
	l.voidt = LLVMVoidTypeInContext(ctx);
	l.cpu = t->cpu;
	l.features = t->features;
	lv_compute(&l);
	lv_api(&l);
	LLVMDisposeBuilder(l.bld);
	LLVMDisposeTargetData(td);
	if (lo->fast_math)
		fast_math(mod);
	verify(mod, "as built");
	if (optimise(mod, t, lo->level)) {
		LLVMDisposeModule(mod);
		return NULL;
	}
	return mod;
}

static int
write_module(LLVMModuleRef mod, const Target *t, CgLlvmKind kind,
	const char *path)
{
	char *err = NULL;

	switch (kind) {
	case CG_LLVM_IR:
		if (!LLVMPrintModuleToFile(mod, path, &err))
			return 0;
		break;
	case CG_LLVM_BC:
		if (LLVMWriteBitcodeToFile(mod, path) == 0)
			return 0;
		fprintf(stderr, "dlc: error: cannot write %s\n", path);
		return 1;
	case CG_LLVM_OBJ:
		if (!LLVMTargetMachineEmitToFile(t->tm, mod, path,
		    LLVMObjectFile, &err))
			return 0;
		break;
	}
	fprintf(stderr, "dlc: error: cannot write %s: %s\n", path, err);
	LLVMDisposeMessage(err);
	return 1;
}

int
cg_llvm_write(const IrModule *m, const CgOptions *o, const CgLlvmOptions *lo,
	CgLlvmKind kind, const char *path)
{
	LLVMContextRef ctx = LLVMContextCreate();
	LLVMModuleRef mod;
	Target t;
	int status = 1;

	if (make_target(lo, &t) == 0) {
		mod = build(m, o, lo, &t, ctx);
		if (mod) {
			status = write_module(mod, &t, kind, path);
			LLVMDisposeModule(mod);
		}
		target_free(&t);
	}
	LLVMContextDispose(ctx);
	return status;
}

/* ---- the JIT ---- */

struct CgJit {
	LLVMOrcLLJITRef jit;
};

static int
jit_error(LLVMErrorRef err, const char *what)
{
	char *msg;

	if (!err)
		return 0;
	msg = LLVMGetErrorMessage(err);
	fprintf(stderr, "dlc: error: the JIT could not %s: %s\n", what, msg);
	LLVMDisposeErrorMessage(msg);
	return 1;
}

/* An LLJIT for the target machine (which it takes), with the process's
 * own symbols (libm) visible to the code it runs. */
static LLVMOrcLLJITRef
make_jit(Target *t)
{
	LLVMOrcLLJITBuilderRef b = LLVMOrcCreateLLJITBuilder();
	LLVMOrcLLJITRef jit = NULL;
	LLVMOrcDefinitionGeneratorRef gen;

	LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(b,
		LLVMOrcJITTargetMachineBuilderCreateFromTargetMachine(t->tm));
	t->tm = NULL;
	if (jit_error(LLVMOrcCreateLLJIT(&jit, b), "start"))
		return NULL;
	if (jit_error(LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(&gen,
	    LLVMOrcLLJITGetGlobalPrefix(jit), NULL, NULL), "see libm")) {
		LLVMOrcDisposeLLJIT(jit);
		return NULL;
	}
	LLVMOrcJITDylibAddGenerator(LLVMOrcLLJITGetMainJITDylib(jit), gen);
	return jit;
}

CgJit *
cg_llvm_jit(const IrModule *m, const CgOptions *o, const CgLlvmOptions *lo)
{
	LLVMOrcThreadSafeContextRef tsc;
	LLVMModuleRef mod;
	CgJit *j;
	Target t;

	if (make_target(lo, &t))
		return NULL;
	tsc = LLVMOrcCreateNewThreadSafeContext();
	mod = build(m, o, lo, &t, LLVMOrcThreadSafeContextGetContext(tsc));
	j = calloc(1, sizeof *j);
	j->jit = mod ? make_jit(&t) : NULL;
	target_free(&t);
	if (!j->jit || jit_error(LLVMOrcLLJITAddLLVMIRModule(j->jit,
	    LLVMOrcLLJITGetMainJITDylib(j->jit),
	    LLVMOrcCreateNewThreadSafeModule(mod, tsc)), "take the module")) {
		if (!j->jit && mod)
			LLVMDisposeModule(mod);
		LLVMOrcDisposeThreadSafeContext(tsc);
		cg_jit_free(j);
		return NULL;
	}
	LLVMOrcDisposeThreadSafeContext(tsc);
	return j;
}

void *
cg_jit_symbol(CgJit *j, const char *name)
{
	LLVMOrcExecutorAddress addr = 0;
	LLVMErrorRef err = LLVMOrcLLJITLookup(j->jit, &addr, name);

	if (err) {
		LLVMConsumeError(err);
		return NULL;
	}
	return (void *)(uintptr_t)addr;
}

void
cg_jit_free(CgJit *j)
{
	if (!j)
		return;
	if (j->jit)
		LLVMOrcDisposeLLJIT(j->jit);
	free(j);
}
