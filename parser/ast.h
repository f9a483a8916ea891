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

#include <stdio.h>

#include "lex.h"

/*
 * The shape of one example's value: rank 0 (a scalar) to 3, outermost
 * dimension first.  The batch axis is not part of it; lowering adds it.
 */
enum { MAX_RANK = 3 };

/* The most elements one value may have, per example: the checker holds
 * every declared and computed value to it, lowering a comprehension's
 * body (which holds all its indices at once). */
enum { MAX_SIZE = 1 << 26 };

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
	                   after checking either builtin, or decl = the
	                   D_FN with the instantiation in call (see
	                   FnCall).  softmax and log_softmax always get
	                   their resolved axis (default: the last) */
	E_INDEX,        /* lhs[args[0], ...]: each index an expression of
	                   integer value (a literal, const or comprehension
	                   index, or + - * of those), proved in range; k
	                   indices drop the first k dimensions */
	E_VECTOR,       /* [args[0], ...] */
	E_COMPR,        /* reducer(lhs for var in lo..hi), reducer one of
	                   B_sum B_mean B_max B_min B_logsumexp (name is
	                   its spelling); the body is not unrolled */
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
	Decl *decl;             /* E_NAME: what it names; E_CALL: the D_FN */
	int depth;              /* 1 + the deepest operand's depth */
	const char *kw_name;    /* E_CALL: a named argument kw_name = kw_value */
	Loc kw_loc;             /* (only axis is known), else NULL */
	struct Expr *kw_value;
	struct Expr *lo_expr;   /* E_COMPR: the range as written */
	struct Expr *hi_expr;

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
	D_INDEX,        /* a comprehension's index variable: scalar real,
	                   taking the whole numbers lo..hi */
} DeclKind;

struct Decl {
	DeclKind kind;
	Loc loc;
	const char *name;
	Shape shape;
	ValueType type;         /* after checking: the type its name has */
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

	Loc *fn_param_locs;     /* D_FN: where each parameter is named */
	const char *init_name;  /* D_PARAM ~ INIT: the initializer as written */
	Loc init_loc;
	Expr **init_args;       /* and the numbers it was given */
	int init_nargs;
	Expr *class_expr;       /* D_TARGET ... : class(K): K as written */
	long lo, hi;            /* D_INDEX: the inclusive range */
	int scope_n;            /* D_FN: how many globals its body sees */
	int bad;                /* D_FN: its body has errors of its own */
};

/* One `name = value` argument of the optimiser in the train clause; a
 * positional argument has no name. */
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

	LexState *lex;          /* parsing: the scanner's bracket state */
	Decl *open_fn;          /* parsing: the block function being read */
	Decl **open_tail;       /* where its next local goes */
} Program;

/*
 * An expression may nest this deep (unary chains, long sums); the bound keeps
 * every recursive walk of the tree within a small stack.
 */
enum { AST_MAX_DEPTH = 1000 };

/* A list under construction in the grammar: expressions or names. */
typedef struct ExprList {
	Expr **items;
	int n, cap;
	const char *kw_name;    /* a trailing named argument, if any */
	Loc kw_loc;
	Expr *kw_value;
} ExprList;

typedef struct NameList {
	const char **names;
	Loc *locs;
	int n, cap;
} NameList;

/* parse.c: tree constructors, called from the grammar's actions. */
Expr *ast_num(Program *p, Loc loc, double v);
Expr *ast_name(Program *p, Loc loc, const char *name);
Expr *ast_unary(Program *p, Loc loc, int op, Expr *e);
Expr *ast_binary(Program *p, Loc loc, int op, Expr *l, Expr *r);
Expr *ast_call(Program *p, Loc loc, const char *name, ExprList *args);
Expr *ast_index(Program *p, Loc loc, Expr *base, ExprList *args);
Expr *ast_vector(Program *p, Loc loc, ExprList *args);
Expr *ast_compr(Program *p, Loc loc, const char *reducer, Expr *body,
	const char *var, Loc var_loc, Expr *lo, Expr *hi);
ExprList *ast_list(Program *p, ExprList *l, Expr *e);
ExprList *ast_list_kw(Program *p, ExprList *l, const char *name, Loc loc,
	Expr *e);
NameList *ast_names(Program *p, NameList *l, const char *name, Loc loc);
void ast_decl(Program *p, Loc loc, DeclKind kind, const char *name,
	double init, Expr *e);
void ast_const(Program *p, Loc loc, const char *name, Expr *e);
void ast_input(Program *p, Loc loc, DeclKind kind, const char *name,
	ExprList *dims);
void ast_class_target(Program *p, Loc loc, const char *name, Expr *k);
void ast_param(Program *p, Loc loc, const char *name, ExprList *dims,
	double value);
void ast_param_init(Program *p, Loc loc, const char *name, ExprList *dims,
	const char *init, Loc init_loc, ExprList *args);
void ast_fn(Program *p, Loc loc, const char *name, NameList *params,
	Expr *result);
void ast_fn_open(Program *p, Loc loc, const char *name, NameList *params);
void ast_fn_return(Program *p, Loc loc, Expr *result);
void ast_fn_close(Program *p, Loc loc);
void ast_end(Program *p);
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

/* print.c: the checked tree with shapes, for --emit=ast. */
void parse_print_ast(const Program *p);
void parse_fprint_ast(FILE *f, const Program *p);

/* check.c */
int check_program(Program *p);
const char *check_opt_name(OptKind k);

/* shape.c: the shape algebra the checker and lowering share. */
int shape_equal(Shape a, Shape b);
long shape_size(Shape s);
/* NumPy broadcasting: trailing dimensions align, 1 stretches; 0 if not. */
int shape_broadcast(Shape a, Shape b, Shape *out);
/* "[3, 4]", or "scalar" for rank 0. */
const char *shape_str(Shape s, char buf[static 48]);

#endif
