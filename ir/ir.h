/*
 * ir.h - the SSA tensor IR: types, values, functions and modules, and the
 * stages that build, differentiate, optimise, print and interpret them.
 *
 * A function is an array of values in definition order; a value's operands
 * are earlier indices, so the array order is a valid schedule.  Every value
 * has a static per-example shape; `batched` values also carry a leading
 * batch axis whose size is known only when the function runs.  Lowering
 * adds that axis to whatever depends on data.
 */
#ifndef DLC_IR_H
#define DLC_IR_H

#include "ast.h"

typedef enum IrOp {
#define OP(name, arity, rule) IR_##name,
#include "ops.def"
#undef OP
	IR_NOPS
} IrOp;

/* Four per-example axes: the language's three, plus one for a
 * comprehension's index. */
enum { IR_MAX_RANK = 4 };

typedef struct IrType {
	int batched;
	int rank;
	int dim[IR_MAX_RANK];
} IrType;

typedef struct IrValue {
	IrOp op;
	int arg[3];
	IrType type;
	double num;             /* const: value; powi: exponent; iota: start */
	int axis;               /* reductions, softmax, expand: -1 for all */
	int n;                  /* expand, iota, onehot, scatter: a size */
	int slot;               /* param, input, target: which */
	int adjoint;            /* made by differentiation */
	Loc loc;                /* the source expression it comes from */
} IrValue;

typedef struct IrFunc {
	IrValue *v;
	int n, cap;
	int loss;               /* mean loss over the batch */
	int output;             /* per-example output, -1 when none */
	int *grad;              /* d loss / d param i, -1 when identically 0 */
	int *input_grad;        /* d loss / d input i when asked for, or NULL */
	int nparams, ninputs;
} IrFunc;

typedef struct IrParam {
	const char *name;
	IrType type;            /* never batched */
	InitKind init;
	double a, b;            /* the initialiser's numbers */
	long offset;            /* first element in the flat parameter array */
	Loc loc;
} IrParam;

/* An input or target: its flattened columns in a data row. */
typedef struct IrData {
	const char *name;
	IrType type;            /* per example */
	int nclasses;           /* targets: class(K), else 0 */
	long column;            /* first column among the inputs or targets */
} IrData;

typedef struct IrTrain {
	OptKind opt;
	double lr, momentum, beta1, beta2, eps, weight_decay;
	long epochs, batch;
	unsigned long long seed;
} IrTrain;

typedef struct IrModule {
	const char *name;       /* C identifier prefix */
	const char *path;       /* the source file */
	int nparams, ninputs, ntargets;
	IrParam *params;
	IrData *inputs, *targets;
	long param_size;        /* elements in all parameters */
	long input_size, target_size;   /* columns per example */
	IrTrain train;
	IrFunc fn;
	int has_grad;
	int wrt_inputs;         /* differentiate with respect to inputs too */
} IrModule;

typedef struct IrOpInfo {
	const char *name;
	int arity;
} IrOpInfo;

extern const IrOpInfo ir_ops[IR_NOPS];

/* type.c: shapes */
long ir_numel(const IrType *t);
int ir_same_shape(const IrType *a, const IrType *b);
IrType ir_scalar(int batched);
IrType ir_shape(int batched, int rank, const int *dim);
int ir_broadcast(const IrType *a, const IrType *b, IrType *out);
void ir_type_str(const IrType *t, char *buf, size_t n);

/* ir.c: building values.  ir_emit() gives the result its type by the op's
 * rule; ops whose type is an attribute take it from `type`. */
int ir_emit(IrFunc *f, IrOp op, int a, int b, int c, const IrType *type,
	Loc loc);
int ir_const(IrFunc *f, double v, Loc loc);
void ir_func_free(IrFunc *f);
int ir_arity(IrOp op);
int ir_elementwise(IrOp op);

/* lower.c: a checked program to a module holding the forward function;
 * returns NULL after reporting what it cannot lower. */
IrModule *ir_lower(Program *p, const char *name);
void ir_module_free(IrModule *m);

/* grad.c: append the adjoint computation; fills fn.grad, and
 * fn.input_grad when m->wrt_inputs is set. */
void ir_grad(IrModule *m);

/* opt.c, simplify.c: passes on the fused function. */
void ir_cse(IrFunc *f);
void ir_dce(IrFunc *f);
void ir_schedule(IrFunc *f);
void ir_fold(IrFunc *f);
void ir_simplify(IrFunc *f);

/* passes.c: the stages in order (forward, grad, each pass, opt) as
 * --emit=ir=STAGE names them: stage i's name, NULL past the last; a name's
 * index, -1 when unknown; and the pipeline for -O0 to -O3. */
typedef int (*IrPassHook)(const IrModule *m, const char *pass, void *ctx);
int ir_optimise(IrModule *m, int level, int from, IrPassHook after,
	void *ctx);
int ir_no_hook(const IrModule *m, const char *pass, void *ctx);
int ir_pass_exists(const char *name);
const char *ir_stage_name(int i);
int ir_stage_index(const char *name);

/* nanwarn.c: warns at each op on a path from a parameter whose partial
 * can be infinite at an argument the sign analysis cannot rule out;
 * returns how many warnings it gave. */
int ir_warn_nan(const IrModule *m, Source *src);

/* stats.c: op counts, floating-point operations, workspace bytes. */
typedef struct IrStats {
	int ops;                /* live ops, leaves excluded */
	double flops_example;   /* per example */
	double flops_batch;     /* once per batch, whatever its size */
} IrStats;

IrStats ir_stats(const IrFunc *f, const int *roots, int nroots);
int ir_live(const IrFunc *f, const int *roots, int nroots, char *live);

/* print.c */
void ir_print(const IrModule *m, const char *stage);

/* interp.c: f64 reference semantics. */
typedef struct IrBatch {
	const double *params;   /* param_size elements */
	const double *inputs;   /* n rows of input_size */
	const double *targets;  /* n rows of target_size */
	int n;
} IrBatch;

double ir_interp(const IrModule *m, const IrBatch *b, double *grad,
	double *output);
void ir_interp_input_grad(const IrModule *m, const IrBatch *b,
	double *dinputs);

/* eval.c: the reference semantics of each op, named by ops.def. */
typedef struct IrEval {
	const IrModule *m;
	const IrBatch *b;
	double *const *vals;    /* vals[id]: the elements of value id */
} IrEval;
typedef void (*IrEvalFn)(const IrEval *e, const IrValue *v, double *out);
extern const IrEvalFn ir_eval_fns[IR_NOPS];

/* adjoint.c: the reverse-mode rules, named by ops.def. */
typedef struct GradCtx GradCtx;
typedef void (*IrGradFn)(GradCtx *g, int id);
extern const IrGradFn ir_grad_fns[IR_NOPS];

/* grad.c, for the rules: the adjoint of value `id`, a copy of a value,
 * new backward values, and the one way to add a contribution to an
 * operand's adjoint (it reconciles broadcasting and the batch axis). */
int grad_adjoint(GradCtx *g, int id);
IrValue grad_value(GradCtx *g, int id);
int back_emit(GradCtx *g, IrOp op, int a, int b, int c, const IrType *t);
int back_const(GradCtx *g, double num);
int back_mul(GradCtx *g, int a, int b);
int back_attr(GradCtx *g, int id, double num, int axis, int n);
void grad_accum(GradCtx *g, int operand, int contribution);

/*
 * The IR tooling: the textual form and its reader, the stages in order,
 * the verifier that runs between them, and the Graphviz picture.
 */
#include <stdio.h>

/* print.c: the textual form (docs/ir.md) to any stream; a number in its
 * shortest exact spelling; one value's line without its location. */
void ir_print_to(const IrModule *m, const char *stage, FILE *out);
void ir_num_str(double v, char *buf, size_t n);
void ir_value_str(const IrModule *m, int id, char *buf, size_t n);
const char *ir_opt_name(int k);         /* NULL for an unknown OptKind */

/* read.c: parses the textual form.  Names live in `arena`; *stage gets
 * the stage the text was printed after.  Reports every problem through
 * diag_error() and returns NULL when there was one. */
IrModule *ir_read(Source *src, Arena *arena, const char **stage);

/* verify.c */
/* A broken invariant: the value at fault (-1 for the module) and why. */
typedef struct IrProblem {
	int id;
	char why[256];
} IrProblem;

/* Checks SSA form, operand and result types per op, attributes and the
 * roots; returns 0, or 1 with the first problem in *p. */
int ir_check(const IrModule *m, IrProblem *p);

/* ir_check() for use between passes: on a problem, prints it naming the
 * pass that ran last, and returns nonzero. */
int ir_verify(const IrModule *m, const char *after_pass);

/* passes.c: runs the stages after `from` up to and including `to` at -O2,
 * verifying after each when `verify` is set; returns nonzero when
 * verification failed. */
int ir_run_stages(IrModule *m, int from, int to, int verify);

/* Whether this build verifies after every pass without being asked:
 * callers pass `verify || IR_VERIFY_ALWAYS` to ir_run_stages(). */
#ifdef DLC_VERIFY
#define IR_VERIFY_ALWAYS 1
#else
#define IR_VERIFY_ALWAYS 0
#endif

/* codegen/dot.c: the computation graph as Graphviz DOT; src, when given,
 * is quoted in the cluster of each source line.  (Declared here while
 * codegen/cg.h is being changed elsewhere; it belongs there.) */
void cg_emit_dot(const IrModule *m, const Source *src, FILE *out);

#endif
