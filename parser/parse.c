/*
 * parse.c - syntax tree constructors for the grammar's actions, and the
 * entry points that run the scanner and parser over a source file.
 */
#include <stdio.h>

#include "ast.h"
#include "parser.h"
#include "lexer.h"

Expr *
ast_num(Program *p, Loc loc, double v)
{
	Expr *e = arena_alloc(p->arena, sizeof *e);

	e->kind = E_NUM;
	e->loc = loc;
	e->num = v;
	return e;
}

Expr *
ast_name(Program *p, Loc loc, const char *name)
{
	Expr *e = arena_alloc(p->arena, sizeof *e);

	e->kind = E_NAME;
	e->loc = loc;
	e->name = name;
	return e;
}

Expr *
ast_unary(Program *p, Loc loc, int op, Expr *x)
{
	Expr *e = arena_alloc(p->arena, sizeof *e);

	e->kind = E_UNARY;
	e->loc = loc;
	e->op = op;
	e->lhs = x;
	return e;
}

Expr *
ast_binary(Program *p, Loc loc, int op, Expr *l, Expr *r)
{
	Expr *e = arena_alloc(p->arena, sizeof *e);

	e->kind = E_BINARY;
	e->loc = loc;
	e->op = op;
	e->lhs = l;
	e->rhs = r;
	return e;
}

void
ast_decl(Program *p, Loc loc, DeclKind kind, const char *name, double init,
	Expr *e)
{
	Decl *d = arena_alloc(p->arena, sizeof *d);

	d->kind = kind;
	d->loc = loc;
	d->name = name;
	d->init = init;
	d->expr = e;
	*p->tail = d;
	p->tail = &d->next;
}

TrainArg *
ast_train_arg(Program *p, Loc loc, const char *name, double v, TrainArg *rest)
{
	TrainArg *a = arena_alloc(p->arena, sizeof *a);

	a->loc = loc;
	a->name = name;
	a->value = v;
	a->next = rest;
	return a;
}

void
ast_train(Program *p, Loc loc, const char *opt, Loc opt_loc, TrainArg *args,
	double epochs, Loc epochs_loc, double batch, Loc batch_loc)
{
	Train *t = arena_alloc(p->arena, sizeof *t);

	if (p->train) {
		diag_error(p->src, loc, "a program has one train clause");
		diag_note(p->src, p->train->loc, "the first one is here");
		return;
	}
	t->loc = loc;
	t->opt_name = opt;
	t->opt_loc = opt_loc;
	t->args = args;
	t->epochs = epochs;
	t->epochs_loc = epochs_loc;
	t->batch = batch;
	t->batch_loc = batch_loc;
	p->train = t;
}

void
ast_train_seed(Program *p, double seed, Loc loc)
{
	if (!p->train)
		return;
	p->train->seed = seed;
	p->train->seed_loc = loc;
	p->train->has_seed = 1;
}

static yyscan_t
open_scanner(Source *src, Arena *arena, LexState *ls)
{
	yyscan_t scanner;

	*ls = (LexState){ .src = src, .arena = arena, .line = 1, .col = 1,
	                  .last_was_newline = 1 };
	yylex_init_extra(ls, &scanner);
	yy_scan_bytes(src->text, (int)src->len, scanner);
	return scanner;
}

Program *
parse_program(Source *src, Arena *arena)
{
	Program *p = arena_alloc(arena, sizeof *p);
	LexState ls;
	yyscan_t scanner = open_scanner(src, arena, &ls);

	p->src = src;
	p->arena = arena;
	p->tail = &p->decls;
	yyparse(scanner, p);
	yylex_destroy(scanner);
	return p;
}

void
parse_dump_tokens(Source *src, Arena *arena,
	void (*fn)(int tok, const char *text, Loc loc, void *ctx), void *ctx)
{
	LexState ls;
	yyscan_t scanner = open_scanner(src, arena, &ls);
	YYSTYPE val;
	Loc loc;
	int tok;

	do {
		tok = yylex(&val, &loc, scanner);
		fn(tok, yyget_text(scanner), loc, ctx);
	} while (tok != END);
	yylex_destroy(scanner);
}

static void
print_expr(const Expr *e)
{
	switch (e->kind) {
	case E_NUM:
		printf("%.17g", e->num);
		break;
	case E_NAME:
		printf("%s", e->name);
		break;
	case E_UNARY:
		printf("(%c ", e->op);
		print_expr(e->lhs);
		printf(")");
		break;
	case E_BINARY:
		printf("(%c ", e->op);
		print_expr(e->lhs);
		printf(" ");
		print_expr(e->rhs);
		printf(")");
		break;
	case E_CALL:
	case E_INDEX:
	case E_VECTOR:
	case E_COMPR:
		printf("(%s)", e->name ? e->name : "?");
		break;
	}
}

static const char *const decl_word[] = {
	[D_INPUT] = "input", [D_TARGET] = "target", [D_PARAM] = "param",
	[D_LET] = "let", [D_OUTPUT] = "output", [D_LOSS] = "loss",
	[D_CONST] = "const", [D_FN] = "fn", [D_ARG] = "arg",
	[D_INDEX] = "index",
};

/* The tree as s-expressions, one statement a line, for --emit=ast. */
void
parse_print_ast(const Program *p)
{
	for (const Decl *d = p->decls; d; d = d->next) {
		printf("%d: %s", d->loc.line, decl_word[d->kind]);
		if (d->name)
			printf(" %s", d->name);
		if (d->kind == D_PARAM)
			printf(" = %.17g", d->init);
		if (d->expr) {
			printf(" ");
			print_expr(d->expr);
		}
		printf("\n");
	}
	if (p->train)
		printf("%d: train %s lr=%.17g momentum=%.17g epochs %.17g "
		       "batch %.17g seed %.17g\n", p->train->loc.line,
		       check_opt_name(p->train->opt), p->train->lr,
		       p->train->momentum, p->train->epochs, p->train->batch,
		       p->train->seed);
}
