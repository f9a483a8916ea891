/*
 * llvm_none.c - the LLVM backend's face in a build without LLVM: every
 * entry point says plainly that this dlc has no LLVM, so --backend=llvm
 * and `dlc run` fail with a message instead of a missing symbol.
 */
#include "cg.h"

static void
no_llvm(void)
{
	fprintf(stderr, "dlc: error: this dlc was built without LLVM, so it "
		"has only the C backend; install llvm-19-dev (make deps) and "
		"rebuild, or use --backend=c\n");
}

int
cg_llvm_available(void)
{
	return 0;
}

void
cg_llvm_version(char *buf, size_t n)
{
	if (n)
		buf[0] = '\0';
}

int
cg_llvm_write(const IrModule *m, const CgOptions *o, const CgLlvmOptions *lo,
	CgLlvmKind kind, const char *path)
{
	(void)m, (void)o, (void)lo, (void)kind, (void)path;
	no_llvm();
	return 1;
}

CgJit *
cg_llvm_jit(const IrModule *m, const CgOptions *o, const CgLlvmOptions *lo)
{
	(void)m, (void)o, (void)lo;
	no_llvm();
	return NULL;
}

void *
cg_jit_symbol(CgJit *j, const char *name)
{
	(void)j, (void)name;
	return NULL;
}

void
cg_jit_free(CgJit *j)
{
	(void)j;
}
