/*
 * tests.h - what the test groups share: where the tree is, and helpers
 * that run dlc and compile generated code.
 */
#ifndef DLC_TESTS_H
#define DLC_TESTS_H

#include <stddef.h>

/* DLC_ROOT (the repository) and DLC_BUILD (its build directory) come from
 * the Makefile as absolute paths. */

/* Each file's tests, appended to one cmocka group so that the run ends with
 * a single summary. */
struct CMUnitTest;
typedef struct TestList {
	const struct CMUnitTest *tests;
	size_t n;
} TestList;

TestList frontend_tests(void);
TestList grad_tests(void);
TestList trainer_tests(void);
TestList ops_tests(void);
TestList torch_tests(void);
TestList random_tests(void);
TestList edge_tests(void);
TestList passes_tests(void);
TestList runtime_tests(void);
TestList golden_tests(void);
TestList fuzz_tests(void);
TestList embed_tests(void);
TestList irtools_tests(void);

/* test_ops.c: its hand-built cases, one module builder each. */
struct IrModule;
const char *ops_case(size_t k, int (**build)(struct IrModule *m));
TestList llvm_tests(void);
TestList idx_tests(void);
TestList examples_tests(void);
TestList harden_tests(void);
TestList kernels_tests(void);
TestList threads_tests(void);

/* Runs a shell command; returns its exit status, and its combined output
 * in *out (malloc'd) when out is not NULL. */
int run_cmd(const char *cmd, char **out);

/* Writes `source` to t.dl in a fresh directory, runs `dlc FLAGS t.dl`
 * there, and returns the exit status with stderr in *err. */
int run_dlc_on_text(const char *source, const char *flags, char **err);

/* A fresh directory under the build tree for one test's files. */
const char *scratch_dir(const char *name);

/* test_trainer.c: every number of a JSON file, at most max, in order (a
 * parameter file's elements); returns how many. */
long json_numbers(const char *path, double *out, long max);

#endif
