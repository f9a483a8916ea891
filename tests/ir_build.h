/*
 * ir_build.h - helpers for tests that build IR modules by hand and run
 * them through the interpreter and the generated C.
 */
#ifndef DLC_IR_BUILD_H
#define DLC_IR_BUILD_H

#include "ir.h"

/* A module under construction: params and inputs added in order. */
IrModule *tb_module(const char *name);
int tb_param(IrModule *m, int rank, int d0, int d1);
int tb_input(IrModule *m, int rank, int d0, int d1);
int tb_op(IrModule *m, IrOp op, int a, int b, int c, const IrType *t);
int tb_attr(IrModule *m, int id, double num, int axis, int n);
IrType tb_type(int batched, int rank, int d0, int d1);

/* Makes `result` the model: the loss is the batch mean of sum(result * w)
 * for a fresh batched input w of result's shape; then differentiates. */
void tb_finish(IrModule *m, int result);

/* Compiles .dl source text in process through -O2; NULL when it does not
 * check or lower.  *src and arena must outlive the module. */
IrModule *tb_compile_source(const char *text, Arena *arena, Source **src);

/* The generated C of a module, compiled in f64 and loaded. */
typedef struct Compiled {
	void *so;
	double (*loss)(const double *, const double *, const double *, size_t,
		void *);
	double (*loss_grad)(const double *, double *, const double *,
		const double *, size_t, void *);
	size_t (*workspace_size)(size_t);
	char error[4096];
} Compiled;

int tb_compile(const IrModule *m, const char *dir, Compiled *c);
void tb_unload(Compiled *c);

/* test_ops.c: its cases, one module per op, built and finished. */
size_t ops_case_count(void);
const char *ops_case_name(size_t k);
void ops_case_build(size_t k, IrModule *m);

#endif
