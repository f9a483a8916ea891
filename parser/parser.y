/*
 * parser.y - the bison grammar of .dl programs.
 *
 * A program is a list of statements, one per line.  Actions only call the
 * constructors in parse.c; all checking happens afterwards in check.c.  A
 * syntax error skips to the end of its line so that later lines are still
 * checked.
 */
%code requires {
#include "ast.h"
typedef void *yyscan_t;
}

%code provides {
int yylex(YYSTYPE *lval, YYLTYPE *lloc, yyscan_t scanner);
}

%code {
#include <stdio.h>

LexState *yyget_extra(yyscan_t scanner);
#include <string.h>

#define YYLLOC_DEFAULT(cur, rhs, n)                                    \
	do {                                                           \
		if (n) {                                               \
			(cur).line = YYRHSLOC(rhs, 1).line;            \
			(cur).col = YYRHSLOC(rhs, 1).col;              \
			(cur).end_line = YYRHSLOC(rhs, n).end_line;    \
			(cur).end_col = YYRHSLOC(rhs, n).end_col;      \
		} else {                                               \
			(cur).line = (cur).end_line =                  \
				YYRHSLOC(rhs, 0).end_line;             \
			(cur).col = (cur).end_col =                    \
				YYRHSLOC(rhs, 0).end_col;              \
		}                                                      \
	} while (0)

static void yyerror(YYLTYPE *loc, yyscan_t scanner, Program *p,
	const char *msg);
}

%define api.pure full
%define api.location.type {Loc}
%define parse.error custom
%locations
%param {yyscan_t scanner}
%parse-param {Program *prog}

%union {
	double num;
	const char *name;
	Expr *expr;
	TrainArg *targ;
}

%token END 0 "end of file"
%token NEWLINE "end of line"
%token <num> NUMBER "number"
%token <name> NAME "name"
%token INPUT "'input'" TARGET "'target'" PARAM "'param'"
%token OUTPUT "'output'" LOSS "'loss'" TRAIN "'train'"
%token EPOCHS "'epochs'" BATCH "'batch'" SEED "'seed'"

%type <expr> expr
%type <num> signed_number
%type <targ> train_args train_arg_list

%left '+' '-'
%left '*' '/'
%precedence UMINUS
%right '^'

%%

program:
	  %empty
	| program line
	;

line:
	  NEWLINE
	| stmt NEWLINE
	| error NEWLINE                 { yyerrok; }
	;

stmt:
	  INPUT NAME                    { ast_decl(prog, @2, D_INPUT, $2, 0, NULL); }
	| TARGET NAME                   { ast_decl(prog, @2, D_TARGET, $2, 0, NULL); }
	| PARAM param_list
	| NAME '=' expr                 { ast_decl(prog, @1, D_LET, $1, 0, $3); }
	| OUTPUT expr                   { ast_decl(prog, @1, D_OUTPUT, NULL, 0, $2); }
	| LOSS expr                     { ast_decl(prog, @1, D_LOSS, NULL, 0, $2); }
	| train
	;

param_list:
	  param_one
	| param_list ',' param_one
	;

param_one:
	  NAME '=' signed_number        { ast_decl(prog, @1, D_PARAM, $1, $3, NULL); }
	;

signed_number:
	  NUMBER                        { $$ = $1; }
	| '-' NUMBER                    { $$ = -$2; }
	;

train:
	  TRAIN NAME '(' train_args ')' EPOCHS NUMBER BATCH NUMBER
		{ ast_train(prog, @1, $2, @2, $4, $7, @7, $9, @9); }
	| train SEED NUMBER             { ast_train_seed(prog, $3, @3); }
	;

train_args:
	  %empty                        { $$ = NULL; }
	| train_arg_list                { $$ = $1; }
	;

train_arg_list:
	  NAME '=' signed_number        { $$ = ast_train_arg(prog, @1, $1, $3, NULL); }
	| NAME '=' signed_number ',' train_arg_list
		{ $$ = ast_train_arg(prog, @1, $1, $3, $5); }
	;

expr:
	  NUMBER                        { $$ = ast_num(prog, @1, $1); }
	| NAME                          { $$ = ast_name(prog, @1, $1); }
	| '(' expr ')'                  { $$ = $2; }
	| '-' expr %prec UMINUS         { $$ = ast_unary(prog, @1, '-', $2); }
	| expr '+' expr                 { $$ = ast_binary(prog, @2, '+', $1, $3); }
	| expr '-' expr                 { $$ = ast_binary(prog, @2, '-', $1, $3); }
	| expr '*' expr                 { $$ = ast_binary(prog, @2, '*', $1, $3); }
	| expr '/' expr                 { $$ = ast_binary(prog, @2, '/', $1, $3); }
	| expr '^' expr                 { $$ = ast_binary(prog, @2, '^', $1, $3); }
	;

%%

/* Bison's names for tokens carry their quotes; diagnostics want them bare. */
static void
bare_name(char *buf, size_t n, yysymbol_kind_t sym)
{
	const char *s = yysymbol_name(sym);
	size_t len = strlen(s);

	if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
		s++;
		len -= 2;
	}
	snprintf(buf, n, "%.*s", (int)len, s);
}

/* Says what the parser wanted in words: "expected X, saw Y". */
static int
yyreport_syntax_error(const yypcontext_t *ctx, yyscan_t scanner, Program *p)
{
	yysymbol_kind_t want[8];
	int n = yypcontext_expected_tokens(ctx, want, 8);
	int is_expr = 0;
	char msg[512], name[64];
	size_t len = 0;

	/* the scanner already named the unclosed bracket */
	if (yyget_extra(scanner)->unclosed)
		return 0;
	for (int i = 0; i < n; i++)
		if (want[i] == YYSYMBOL_NUMBER)
			is_expr = 1;
	len += (size_t)snprintf(msg, sizeof msg, "expected ");
	if (is_expr) {
		len += (size_t)snprintf(msg + len, sizeof msg - len,
			"an expression");
	} else if (n <= 0 || n > 4) {
		len += (size_t)snprintf(msg + len, sizeof msg - len,
			"a statement");
	} else {
		for (int i = 0; i < n; i++) {
			bare_name(name, sizeof name, want[i]);
			len += (size_t)snprintf(msg + len, sizeof msg - len,
				"%s%s", i == 0 ? "" : i == n - 1 ? " or " : ", ",
				name);
		}
	}
	bare_name(name, sizeof name, yypcontext_token(ctx));
	snprintf(msg + len, sizeof msg - len, ", saw %s", name);
	diag_error(p->src, *yypcontext_location(ctx), "%s", msg);
	return 0;
}

static void
yyerror(YYLTYPE *loc, yyscan_t scanner, Program *p, const char *msg)
{
	(void)scanner;
	diag_error(p->src, *loc, "%s", msg);
}
