/*
 * parse.c - syntax tree constructors for the grammar's actions, and the
 * entry points that run the scanner and parser over a source file.
 *
 * Constructors only build; the one judgement made here is structural:
 * which statements may stand inside a function block, and how deep an
 * expression nests (so that no later walk of the tree can exhaust the
 * stack).
 */
#include <stdio.h>
#include <string.h>

#include "ast.h"
#include "parser.h"
#include "lexer.h"

static Expr *
new_expr(Program *p, ExprKind kind, Loc loc)
{
	Expr *e = arena_alloc(p->arena, sizeof *e);

	e->kind = kind;
	e->loc = loc;
	e->axis = -1;
	e->depth = 1;
	return e;
}

/*
 * An operand makes its parent one level deeper.  The error fires once, at
 * the node that first crosses the bound; deeper nodes stay silent.
 */
static void
deepen(Program *p, Expr *e, const Expr *operand)
{
	if (!operand || operand->depth < e->depth)
		return;
	e->depth = operand->depth + 1;
	if (e->depth == AST_MAX_DEPTH + 1)
		diag_error(p->src, e->loc, "this expression nests too deeply; "
			"the limit is %d levels", AST_MAX_DEPTH);
}

static void
deepen_list(Program *p, Expr *e, const ExprList *l)
{
	for (int i = 0; l && i < l->n; i++)
		deepen(p, e, l->items[i]);
	if (l)
		deepen(p, e, l->kw_value);
}

Expr *
ast_num(Program *p, Loc loc, double v)
{
	Expr *e = new_expr(p, E_NUM, loc);

	e->num = v;
	return e;
}

Expr *
ast_name(Program *p, Loc loc, const char *name)
{
	Expr *e = new_expr(p, E_NAME, loc);

	e->name = name;
	return e;
}

Expr *
ast_unary(Program *p, Loc loc, int op, Expr *x)
{
	Expr *e = new_expr(p, E_UNARY, loc);

	e->op = op;
	e->lhs = x;
	deepen(p, e, x);
	return e;
}

Expr *
ast_binary(Program *p, Loc loc, int op, Expr *l, Expr *r)
{
	Expr *e = new_expr(p, E_BINARY, loc);

	e->op = op;
	e->lhs = l;
	e->rhs = r;
	deepen(p, e, l);
	deepen(p, e, r);
	return e;
}

/* Moves a grammar list's items into an expression. */
static void
take_args(Program *p, Expr *e, ExprList *l)
{
	if (!l)
		return;
	e->args = l->items;
	e->nargs = l->n;
	e->kw_name = l->kw_name;
	e->kw_loc = l->kw_loc;
	e->kw_value = l->kw_value;
	deepen_list(p, e, l);
}

Expr *
ast_call(Program *p, Loc loc, const char *name, ExprList *args)
{
	Expr *e = new_expr(p, E_CALL, loc);

	e->name = name;
	take_args(p, e, args);
	return e;
}

Expr *
ast_index(Program *p, Loc loc, Expr *base, ExprList *args)
{
	Expr *e = new_expr(p, E_INDEX, loc);

	e->lhs = base;
	deepen(p, e, base);
	take_args(p, e, args);
	return e;
}

Expr *
ast_vector(Program *p, Loc loc, ExprList *args)
{
	Expr *e = new_expr(p, E_VECTOR, loc);

	take_args(p, e, args);
	return e;
}

/* reducer(body for var in lo..hi): the index variable is born here. */
Expr *
ast_compr(Program *p, Loc loc, const char *reducer, Expr *body,
	const char *var, Loc var_loc, Expr *lo, Expr *hi)
{
	Expr *e = new_expr(p, E_COMPR, loc);
	Decl *d = arena_alloc(p->arena, sizeof *d);

	d->kind = D_INDEX;
	d->loc = var_loc;
	d->name = var;
	e->name = reducer;
	e->lhs = body;
	e->var = d;
	e->lo_expr = lo;
	e->hi_expr = hi;
	deepen(p, e, body);
	deepen(p, e, lo);
	deepen(p, e, hi);
	return e;
}

/* Appends to a growing array in the arena: old copies are simply left. */
static void *
grow(Program *p, void *items, int n, int *cap, size_t size)
{
	if (n < *cap)
		return items;
	*cap = *cap ? 2 * *cap : 4;
	void *bigger = arena_alloc(p->arena, (size_t)*cap * size);
	if (n)
		memcpy(bigger, items, (size_t)n * size);
	return bigger;
}

ExprList *
ast_list(Program *p, ExprList *l, Expr *e)
{
	if (!l)
		l = arena_alloc(p->arena, sizeof *l);
	l->items = grow(p, l->items, l->n, &l->cap, sizeof *l->items);
	l->items[l->n++] = e;
	return l;
}

ExprList *
ast_list_kw(Program *p, ExprList *l, const char *name, Loc loc, Expr *e)
{
	if (!l)
		l = arena_alloc(p->arena, sizeof *l);
	l->kw_name = name;
	l->kw_loc = loc;
	l->kw_value = e;
	return l;
}

NameList *
ast_names(Program *p, NameList *l, const char *name, Loc loc)
{
	int cap = 0;

	if (!l)
		l = arena_alloc(p->arena, sizeof *l);
	cap = l->cap;
	l->names = grow(p, l->names, l->n, &cap, sizeof *l->names);
	l->locs = grow(p, l->locs, l->n, &l->cap, sizeof *l->locs);
	l->names[l->n] = name;
	l->locs[l->n++] = loc;
	return l;
}

static Decl *
new_decl(Program *p, Loc loc, DeclKind kind, const char *name)
{
	Decl *d = arena_alloc(p->arena, sizeof *d);

	d->kind = kind;
	d->loc = loc;
	d->name = name;
	return d;
}

static void
append(Program *p, Decl *d)
{
	*p->tail = d;
	p->tail = &d->next;
}

static const char *const stmt_word[] = {
	[D_INPUT] = "'input'", [D_TARGET] = "'target'", [D_PARAM] = "'param'",
	[D_LET] = "a binding", [D_OUTPUT] = "'output'", [D_LOSS] = "'loss'",
	[D_CONST] = "'const'", [D_FN] = "'fn'", [D_ARG] = "an argument",
	[D_INDEX] = "an index",
};

/*
 * A statement that cannot stand in a function block ends the block: the
 * likeliest mistake is a missing '}', and closing it here keeps the rest
 * of the program from drowning in errors.
 */
static void
leave_fn(Program *p, Loc loc, const char *what)
{
	if (!p->open_fn)
		return;
	diag_error(p->src, loc, "%s cannot appear inside function '%s'; "
		"is a '}' missing?", what, p->open_fn->name);
	p->open_fn = NULL;
	/* the scanner forgets the '{' too, or it would report it again */
	if (p->lex && p->lex->depth > 0 && p->lex->depth <= LEX_MAX_NESTING &&
	    p->lex->open_kind[p->lex->depth - 1] == '{')
		p->lex->depth--;
}

void
ast_decl(Program *p, Loc loc, DeclKind kind, const char *name, double init,
	Expr *e)
{
	Decl *d = new_decl(p, loc, kind, name);

	d->init = d->init_a = init;
	d->expr = e;
	if (kind == D_LET && p->open_fn) {
		if (p->open_fn->expr)
			diag_error(p->src, loc, "nothing may follow 'return' "
				"in function '%s'", p->open_fn->name);
		*p->open_tail = d;
		p->open_tail = &d->next;
		return;
	}
	leave_fn(p, loc, stmt_word[kind]);
	append(p, d);
}

void
ast_const(Program *p, Loc loc, const char *name, Expr *e)
{
	ast_decl(p, loc, D_CONST, name, 0, e);
}

static void
set_dims(Decl *d, ExprList *dims)
{
	if (!dims)
		return;
	d->dims = dims->items;
	d->ndims = dims->n;
}

void
ast_input(Program *p, Loc loc, DeclKind kind, const char *name,
	ExprList *dims)
{
	Decl *d = new_decl(p, loc, kind, name);

	set_dims(d, dims);
	leave_fn(p, loc, stmt_word[kind]);
	append(p, d);
}

void
ast_class_target(Program *p, Loc loc, const char *name, Expr *k)
{
	Decl *d = new_decl(p, loc, D_TARGET, name);

	d->class_expr = k;
	leave_fn(p, loc, stmt_word[D_TARGET]);
	append(p, d);
}

void
ast_param(Program *p, Loc loc, const char *name, ExprList *dims,
	double value)
{
	Decl *d = new_decl(p, loc, D_PARAM, name);

	set_dims(d, dims);
	d->init_kind = INIT_CONST;
	d->init = d->init_a = value;
	leave_fn(p, loc, stmt_word[D_PARAM]);
	append(p, d);
}

void
ast_param_init(Program *p, Loc loc, const char *name, ExprList *dims,
	const char *init, Loc init_loc, ExprList *args)
{
	Decl *d = new_decl(p, loc, D_PARAM, name);

	set_dims(d, dims);
	d->init_name = init;
	d->init_loc = init_loc;
	if (args) {
		d->init_args = args->items;
		d->init_nargs = args->n;
	}
	leave_fn(p, loc, stmt_word[D_PARAM]);
	append(p, d);
}

static Decl *
fn_decl(Program *p, Loc loc, const char *name, NameList *params)
{
	Decl *d = new_decl(p, loc, D_FN, name);

	if (params) {
		d->fn_params = params->names;
		d->fn_param_locs = params->locs;
		d->fn_nparams = params->n;
	}
	leave_fn(p, loc, stmt_word[D_FN]);
	append(p, d);
	return d;
}

void
ast_fn(Program *p, Loc loc, const char *name, NameList *params,
	Expr *result)
{
	fn_decl(p, loc, name, params)->expr = result;
}

void
ast_fn_open(Program *p, Loc loc, const char *name, NameList *params)
{
	Decl *d = fn_decl(p, loc, name, params);

	p->open_fn = d;
	p->open_tail = &d->body;
}

void
ast_fn_return(Program *p, Loc loc, Expr *result)
{
	Decl *fn = p->open_fn;

	if (!fn) {
		diag_error(p->src, loc, "'return' outside a function");
		return;
	}
	if (fn->expr) {
		diag_error(p->src, loc, "function '%s' returns once",
			fn->name);
		diag_note(p->src, fn->expr->loc, "it returned here");
		return;
	}
	fn->expr = result;
}

void
ast_fn_close(Program *p, Loc loc)
{
	Decl *fn = p->open_fn;

	if (!fn) {
		diag_error(p->src, loc, "'}' closes no function");
		return;
	}
	if (!fn->expr)
		diag_error(p->src, loc, "function '%s' ends without a "
			"'return'", fn->name);
	p->open_fn = NULL;
}

/* The end of the program closes nothing: the scanner names the '{'. */
void
ast_end(Program *p)
{
	p->open_fn = NULL;
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

	leave_fn(p, loc, "'train'");
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
	p->lex = &ls;
	yyparse(scanner, p);
	p->lex = NULL;
	ast_end(p);
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
