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

typedef enum ExprKind {
	E_NUM,          /* num */
	E_NAME,         /* name; decl after checking */
	E_UNARY,        /* op ('-'), lhs */
	E_BINARY,       /* op ('+' '-' '*' '/' '^'), lhs, rhs */
} ExprKind;

typedef struct Decl Decl;

typedef struct Expr {
	ExprKind kind;
	Loc loc;
	double num;
	const char *name;
	int op;
	struct Expr *lhs, *rhs;
	Decl *decl;
} Expr;

typedef enum DeclKind {
	D_INPUT,        /* name; index is its column among the inputs */
	D_TARGET,       /* name; index is its column among the targets */
	D_PARAM,        /* name, init; index is its slot among the params */
	D_LET,          /* name = expr */
	D_OUTPUT,       /* output expr */
	D_LOSS,         /* loss expr */
} DeclKind;

struct Decl {
	DeclKind kind;
	Loc loc;
	const char *name;
	double init;
	Expr *expr;
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

typedef enum OptKind { OPT_SGD } OptKind;

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
