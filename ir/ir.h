/*
 * ir.h - the SSA IR: values, functions and modules, and the stages that
 * build, differentiate, optimise, print and interpret them.
 *
 * A function is an array of values in definition order; a value's operands
 * are earlier indices, so the array order is a valid schedule.  Each value
 * is a scalar per example when `batched`, else one scalar for the whole
 * batch: lowering adds the batch axis to whatever depends on data.
 */
#ifndef DLC_IR_H
#define DLC_IR_H

#include "ast.h"

typedef enum IrOp {
#define OP(name, arity, shape) IR_##name,
#include "ops.def"
#undef OP
	IR_NOPS
} IrOp;

typedef struct IrValue {
	IrOp op;
	int arg[2];
	double num;             /* const: the literal; powi: the exponent */
	int slot;               /* param, input, target: which one */
	int batched;
	int adjoint;            /* made by differentiation */
	Loc loc;                /* source of the forward expression */
} IrValue;

typedef struct IrFunc {
	IrValue *v;
	int n, cap;
	int loss;               /* mean loss over the batch */
	int output;             /* per-example output, -1 when none */
	int *grad;              /* d loss / d param i, -1 when identically 0 */
	int nparams;
} IrFunc;

typedef struct IrParam {
	const char *name;
	double init;
	Loc loc;
} IrParam;

typedef struct IrTrain {
	const char *opt;
	double lr, momentum;
	long epochs, batch;
	unsigned long long seed;
} IrTrain;

typedef struct IrModule {
	const char *name;       /* C identifier prefix */
	const char *path;       /* the source file */
	int nparams, ninputs, ntargets;
	IrParam *params;
	const char **inputs, **targets;
	IrTrain train;
	IrFunc fn;
	int has_grad;
} IrModule;

typedef struct IrOpInfo {
	const char *name;
	int arity;
} IrOpInfo;

extern const IrOpInfo ir_ops[IR_NOPS];

/* ir.c: building values; ir_emit() decides the batch axis by shape rule. */
int ir_emit(IrFunc *f, IrOp op, int a, int b, Loc loc);
int ir_const(IrFunc *f, double v, Loc loc);
int ir_leaf(IrFunc *f, IrOp op, int slot, Loc loc);
int ir_powi(IrFunc *f, int x, double n, Loc loc);
void ir_func_free(IrFunc *f);

/* lower.c: a checked program to a module holding the forward function. */
IrModule *ir_lower(Program *p, const char *name);
void ir_module_free(IrModule *m);

/* grad.c: append the adjoint computation; fills fn.grad. */
void ir_grad(IrModule *m);

/* opt.c: passes on the fused function. */
void ir_cse(IrFunc *f);
void ir_dce(IrFunc *f);
int ir_live(const IrFunc *f, const int *roots, int nroots, char *live);

/* print.c */
void ir_print(const IrModule *m, const char *stage);

/* interp.c: f64 reference semantics. */
typedef struct IrBatch {
	const double *params;   /* nparams */
	const double *inputs;   /* n rows of ninputs */
	const double *targets;  /* n rows of ntargets */
	int n;
} IrBatch;

double ir_interp(const IrModule *m, const IrBatch *b, double *grad,
	double *output);

/* ops.c: the per-op rules named by ops.def. */
typedef struct GradCtx GradCtx;
typedef struct IrEval {
	const IrModule *m;
	const IrBatch *b;
	double *const *vals;    /* vals[id]: the elements of value id */
} IrEval;
typedef void (*IrInterpFn)(const IrEval *e, const IrValue *v, double *out,
	int n);
typedef void (*IrGradFn)(GradCtx *g, int id);
extern const IrInterpFn ir_interp_fns[IR_NOPS];
extern const IrGradFn ir_grad_fns[IR_NOPS];

/* grad.c, for the rules in ops.c: the adjoint of value `id`, the function
 * being built, new backward values, and the one way to add a contribution
 * to an operand's adjoint. */
int grad_adjoint(GradCtx *g, int id);
const IrValue *grad_value(GradCtx *g, int id);
int back_emit(GradCtx *g, IrOp op, int a, int b);
int back_const(GradCtx *g, double num);
int back_powi(GradCtx *g, int x, double n);
void grad_accum(GradCtx *g, int operand, int contribution);

#endif
