/*
 * ast.h - the syntax tree of a .dl program, and the parse and check entry
 * points.
 *
 * The parser builds the tree in the compilation's arena; check_program()
 * resolves names, numbers the parameters, inputs and targets, and fills in
 * the training settings.  Only a tree that checked without errors reaches
 * lowering.
 */
#ifndef DLC_AST_H
#define DLC_AST_H

#include "lex.h"

/*
 * The shape of one example's value: rank 0 (a scalar) to 3, outermost
 * dimension first.  The batch axis is not part of it; lowering adds it.
 */
enum { MAX_RANK = 3 };

typedef struct Shape {
	int rank;
	int dim[MAX_RANK];
} Shape;

/* What an expression's elements are. */
typedef enum ValueType {
	T_REAL,         /* floating point: the default */
	T_BOOL,         /* a comparison, and/or/not: only where() takes one */
	T_LABEL,        /* a class target: an integer 0..K-1 */
} ValueType;

typedef enum Builtin {
#define BUILTIN(id, spelling, min, max, kind) B_##id,
#include "builtins.def"
#undef BUILTIN
	B_COUNT
} Builtin;

/* Binary and unary operators that are not one character. */
enum {
	OP_LE = 256, OP_GE, OP_EQ, OP_NE, OP_AND, OP_OR, OP_NOT,
};

typedef enum ExprKind {
	E_NUM,          /* num */
	E_NAME,         /* name; decl after checking */
	E_UNARY,        /* op: '-' or OP_NOT; lhs */
	E_BINARY,       /* op: + - * / ^ @ < > OP_LE OP_GE OP_EQ OP_NE
	                   OP_AND OP_OR; lhs, rhs */
	E_CALL,         /* name, args[nargs], axis (-1 when not given);
	                   after checking either builtin, or fn with the
	                   instantiation in call (see FnCall) */
	E_INDEX,        /* lhs[args[0], ...]: each index an expression of
	                   integer value (a literal, const or comprehension
	                   index, or + - * of those) */
	E_VECTOR,       /* [args[0], ...] */
	E_COMPR,        /* reducer(lhs for var in lo..hi), reducer one of
	                   B_sum B_mean B_max B_min B_logsumexp */
} ExprKind;

typedef struct Decl Decl;
typedef struct FnCall FnCall;

typedef struct Expr {
	ExprKind kind;
	Loc loc;
	double num;
	const char *name;
	int op;
	struct Expr *lhs, *rhs;
	struct Expr **args;
	int nargs;
	int axis;
	Decl *decl;

	/* filled by check_program() */
	Shape shape;
	ValueType type;
	int is_const;           /* value known at compile time: const_value */
	double const_value;
	Builtin builtin;        /* E_CALL of a builtin; E_COMPR's reducer */
	FnCall *call;           /* E_CALL of a user function */
	Decl *var;              /* E_COMPR: the index variable (D_INDEX) */
	long lo, hi;            /* E_COMPR: the inclusive range */
} Expr;

/*
 * A call of a user function, instantiated for its argument shapes: the
 * checker clones the body per call, so every Decl here is this call's own.
 * Lowering binds each param[i] (D_ARG, expr = the argument), then each
 * local in order (D_LET), then lowers result.
 */
struct FnCall {
	Decl **param;
	int nparams;
	Decl *locals;
	Expr *result;
};

typedef enum InitKind {
	INIT_CONST,     /* every element init_a */
	INIT_NORMAL,    /* mean init_a, standard deviation init_b */
	INIT_UNIFORM,   /* from init_a to init_b */
	INIT_GLOROT,    /* uniform, limit sqrt(6 / (fan_in + fan_out)) */
	INIT_HE,        /* normal, std sqrt(2 / fan_in) */
} InitKind;

typedef enum DeclKind {
	D_INPUT,        /* name, shape; index: its place among the inputs */
	D_TARGET,       /* name, shape, nclasses (0 for a real target);
	                   index: its place among the targets */
	D_PARAM,        /* name, shape, init_kind and init_a, init_b (and
	                   init, the same as init_a); index: its place */
	D_CONST,        /* name = number: init_a */
	D_LET,          /* name = expr */
	D_OUTPUT,       /* output expr */
	D_LOSS,         /* loss expr */
	D_FN,           /* fn name(fn_params) = expr, or a block: body holds
	                   the local D_LETs, expr the returned value */
	D_ARG,          /* a function parameter inside one FnCall */
	D_INDEX,        /* a comprehension's index variable */
} DeclKind;

struct Decl {
	DeclKind kind;
	Loc loc;
	const char *name;
	Shape shape;
	int nclasses;
	InitKind init_kind;
	double init_a, init_b;
	double init;            /* D_PARAM with INIT_CONST: the value */
	Expr *expr;
	Expr **dims;            /* the declared dimensions, before checking */
	int ndims;
	const char **fn_params;
	int fn_nparams;
	Decl *body;
	int index;
	Decl *next;
};

/* One `name = value` argument of the optimiser in the train clause. */
typedef struct TrainArg {
	const char *name;
	Loc loc;
	double value;
	struct TrainArg *next;
} TrainArg;

typedef enum OptKind { OPT_SGD, OPT_ADAM, OPT_ADAMW } OptKind;

/* The train clause; check_program() fills the resolved fields. */
typedef struct Train {
	Loc loc;
	const char *opt_name;
	Loc opt_loc;
	TrainArg *args;
	double epochs, batch, seed;
	Loc epochs_loc, batch_loc, seed_loc;
	int has_seed;

	OptKind opt;
	double lr, momentum;
	double beta1, beta2, eps, weight_decay;
} Train;

typedef struct Program {
	Source *src;
	Arena *arena;
	Decl *decls;
	Decl **tail;
	Train *train;

	int nparams, ninputs, ntargets;
	Decl *loss, *output;
} Program;

/* parse.c: tree constructors, called from the grammar's actions. */
Expr *ast_num(Program *p, Loc loc, double v);
Expr *ast_name(Program *p, Loc loc, const char *name);
Expr *ast_unary(Program *p, Loc loc, int op, Expr *e);
Expr *ast_binary(Program *p, Loc loc, int op, Expr *l, Expr *r);
void ast_decl(Program *p, Loc loc, DeclKind kind, const char *name,
	double init, Expr *e);
TrainArg *ast_train_arg(Program *p, Loc loc, const char *name, double v,
	TrainArg *rest);
void ast_train(Program *p, Loc loc, const char *opt, Loc opt_loc,
	TrainArg *args, double epochs, Loc epochs_loc, double batch,
	Loc batch_loc);
void ast_train_seed(Program *p, double seed, Loc loc);

/* parse.c: whole-program entry points. */
Program *parse_program(Source *src, Arena *arena);
void parse_dump_tokens(Source *src, Arena *arena, void (*fn)(int tok,
	const char *text, Loc loc, void *ctx), void *ctx);
void parse_print_ast(const Program *p);

/* check.c */
int check_program(Program *p);
const char *check_opt_name(OptKind k);

#endif
