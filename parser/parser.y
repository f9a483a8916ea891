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
char *yyget_text(yyscan_t scanner);
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
	ExprList *list;
	NameList *names;
	TrainArg *targ;
}

%token END 0 "end of file"
%token NEWLINE "end of line"
%token <num> NUMBER "number"
%token <name> NAME "name"
%token CONST "'const'" INPUT "'input'" TARGET "'target'" PARAM "'param'"
%token OUTPUT "'output'" LOSS "'loss'" TRAIN "'train'"
%token EPOCHS "'epochs'" BATCH "'batch'" SEED "'seed'"
%token FN "'fn'" RETURN "'return'" FOR "'for'" IN "'in'" CLASS "'class'"
%token AND "'and'" OR "'or'" NOT "'not'"
%token LE "'<='" GE "'>='" EQ "'=='" NE "'!='" DOTDOT "'..'"

%type <expr> expr
%type <num> signed_number
%type <list> dims expr_list call_args
%type <names> fn_params name_list
%type <targ> train_args train_arg_list train_arg

%left OR
%left AND
%precedence NOT
%nonassoc '<' '>' LE GE EQ NE
%left '+' '-'
%left '*' '/' '@'
%precedence UMINUS
%right '^'
%precedence '['

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
	  CONST NAME '=' expr           { ast_const(prog, @2, $2, $4); }
	| INPUT NAME dims               { ast_input(prog, @2, D_INPUT, $2, $3); }
	| TARGET NAME dims              { ast_input(prog, @2, D_TARGET, $2, $3); }
	| TARGET NAME ':' CLASS '(' expr ')'
		{ ast_class_target(prog, @2, $2, $6); }
	| PARAM param_list
	| NAME '=' expr                 { ast_decl(prog, @1, D_LET, $1, 0, $3); }
	| OUTPUT expr                   { ast_decl(prog, @1, D_OUTPUT, NULL, 0, $2); }
	| LOSS expr                     { ast_decl(prog, @1, D_LOSS, NULL, 0, $2); }
	| FN NAME '(' fn_params ')' '=' expr
		{ ast_fn(prog, @2, $2, $4, $7); }
	| FN NAME '(' fn_params ')' '{' { ast_fn_open(prog, @2, $2, $4); }
	| FN NAME '(' fn_params ')' '{' RETURN expr '}'
		{ ast_fn(prog, @2, $2, $4, $8); }
	| RETURN expr                   { ast_fn_return(prog, @1, $2); }
	| RETURN expr '}'               { ast_fn_return(prog, @1, $2); ast_fn_close(prog, @3); }
	| '}'                           { ast_fn_close(prog, @1); }
	| train
	;

dims:
	  %empty                        { $$ = NULL; }
	| '[' expr_list ']'             { $$ = $2; }
	;

param_list:
	  param_one
	| param_list ',' param_one
	;

param_one:
	  NAME dims '=' signed_number   { ast_param(prog, @1, $1, $2, $4); }
	| NAME dims '~' NAME            { ast_param_init(prog, @1, $1, $2, $4, @4, NULL); }
	| NAME dims '~' NAME '(' expr_list ')'
		{ ast_param_init(prog, @1, $1, $2, $4, @4, $6); }
	;

signed_number:
	  NUMBER                        { $$ = $1; }
	| '-' NUMBER                    { $$ = -$2; }
	;

fn_params:
	  %empty                        { $$ = NULL; }
	| name_list                     { $$ = $1; }
	;

name_list:
	  NAME                          { $$ = ast_names(prog, NULL, $1, @1); }
	| name_list ',' NAME            { $$ = ast_names(prog, $1, $3, @3); }
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
	  train_arg                     { $$ = $1; }
	| train_arg ',' train_arg_list  { $1->next = $3; $$ = $1; }
	;

train_arg:
	  NAME '=' signed_number        { $$ = ast_train_arg(prog, @1, $1, $3, NULL); }
	| signed_number                 { $$ = ast_train_arg(prog, @1, NULL, $1, NULL); }
	;

expr_list:
	  expr                          { $$ = ast_list(prog, NULL, $1); }
	| expr_list ',' expr            { $$ = ast_list(prog, $1, $3); }
	;

call_args:
	  %empty                        { $$ = NULL; }
	| expr_list                     { $$ = $1; }
	| expr_list ',' NAME '=' expr   { $$ = ast_list_kw(prog, $1, $3, @3, $5); }
	| NAME '=' expr                 { $$ = ast_list_kw(prog, NULL, $1, @1, $3); }
	;

expr:
	  NUMBER                        { $$ = ast_num(prog, @1, $1); }
	| NAME                          { $$ = ast_name(prog, @1, $1); }
	| '(' expr ')'                  { $$ = $2; }
	| '[' expr_list ']'             { $$ = ast_vector(prog, @$, $2); }
	| NAME '(' call_args ')'        { $$ = ast_call(prog, @1, $1, $3); }
	| NAME '(' expr FOR NAME IN expr DOTDOT expr ')'
		{ $$ = ast_compr(prog, @1, $1, $3, $5, @5, $7, $9); }
	| expr '[' expr_list ']'        { $$ = ast_index(prog, @2, $1, $3); }
	| '-' expr %prec UMINUS         { $$ = ast_unary(prog, @1, '-', $2); }
	| NOT expr                      { $$ = ast_unary(prog, @1, OP_NOT, $2); }
	| expr '+' expr                 { $$ = ast_binary(prog, @2, '+', $1, $3); }
	| expr '-' expr                 { $$ = ast_binary(prog, @2, '-', $1, $3); }
	| expr '*' expr                 { $$ = ast_binary(prog, @2, '*', $1, $3); }
	| expr '/' expr                 { $$ = ast_binary(prog, @2, '/', $1, $3); }
	| expr '^' expr                 { $$ = ast_binary(prog, @2, '^', $1, $3); }
	| expr '@' expr                 { $$ = ast_binary(prog, @2, '@', $1, $3); }
	| expr '<' expr                 { $$ = ast_binary(prog, @2, '<', $1, $3); }
	| expr '>' expr                 { $$ = ast_binary(prog, @2, '>', $1, $3); }
	| expr LE expr                  { $$ = ast_binary(prog, @2, OP_LE, $1, $3); }
	| expr GE expr                  { $$ = ast_binary(prog, @2, OP_GE, $1, $3); }
	| expr EQ expr                  { $$ = ast_binary(prog, @2, OP_EQ, $1, $3); }
	| expr NE expr                  { $$ = ast_binary(prog, @2, OP_NE, $1, $3); }
	| expr AND expr                 { $$ = ast_binary(prog, @2, OP_AND, $1, $3); }
	| expr OR expr                  { $$ = ast_binary(prog, @2, OP_OR, $1, $3); }
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

/* Operators may follow almost any expression; naming them is noise. */
static int
is_operator(yysymbol_kind_t sym)
{
	static const char *const ops[] = { "'+'", "'-'", "'*'", "'/'", "'^'",
		"'@'", "'<'", "'>'", "'<='", "'>='", "'=='", "'!='", "'and'",
		"'or'", "'['" };

	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
		if (strcmp(yysymbol_name(sym), ops[i]) == 0)
			return 1;
	return 0;
}

/* What the parser wanted, in words: an expression, a statement, or a short
 * list of tokens. */
static void
expected_words(const yypcontext_t *ctx, char *msg, size_t size)
{
	yysymbol_kind_t want[YYNTOKENS];
	int n = yypcontext_expected_tokens(ctx, want, YYNTOKENS);
	int keep = 0;
	size_t len = 0;
	char name[64];

	if (n == 1 && want[0] == YYSYMBOL_NUMBER) {
		snprintf(msg, size, "a number");
		return;
	}
	for (int i = 0; i < n; i++) {
		if (want[i] == YYSYMBOL_NUMBER) {
			snprintf(msg, size, "an expression");
			return;
		}
		if (want[i] == YYSYMBOL_INPUT) {
			snprintf(msg, size, "a statement");
			return;
		}
		if (!is_operator(want[i]))
			want[keep++] = want[i];
	}
	if (keep == 0 || keep > 4) {
		snprintf(msg, size, keep ? "something else" : "an operator");
		return;
	}
	msg[0] = '\0';
	for (int i = 0; i < keep && len < size; i++) {
		bare_name(name, sizeof name, want[i]);
		len += (size_t)snprintf(msg + len, size - len, "%s%s",
			i == 0 ? "" : i == keep - 1 ? " or " : ", ", name);
	}
}

/* The token the parser choked on; names and numbers show their text. */
static void
saw_words(const yypcontext_t *ctx, yyscan_t scanner, char *buf, size_t n)
{
	yysymbol_kind_t sym = yypcontext_token(ctx);
	char name[64];

	bare_name(name, sizeof name, sym);
	if (sym == YYSYMBOL_NAME || sym == YYSYMBOL_NUMBER)
		snprintf(buf, n, "%s '%.40s'", name, yyget_text(scanner));
	else
		snprintf(buf, n, "%s", name);
}

/* For a closing bracket token, its opener; else 0. */
static char
opener_of(yysymbol_kind_t sym)
{
	const char *s = yysymbol_name(sym);

	if (strcmp(s, "')'") == 0)
		return '(';
	if (strcmp(s, "']'") == 0)
		return '[';
	return strcmp(s, "'}'") == 0 ? '{' : 0;
}

/*
 * Reports "expected X, saw Y".  A closer that closes nothing says so; one
 * that closes the wrong bracket also names where that bracket opened.
 */
static int
yyreport_syntax_error(const yypcontext_t *ctx, yyscan_t scanner, Program *p)
{
	LexState *ls = yyget_extra(scanner);
	const Loc *loc = yypcontext_location(ctx);
	char closer = opener_of(yypcontext_token(ctx));
	char want[256], saw[128];

	/* the scanner already named the unclosed or too deep bracket */
	if (ls->unclosed || ls->too_deep)
		return 0;
	saw_words(ctx, scanner, saw, sizeof saw);
	if (closer && ls->closed_kind == 0) {
		diag_error(p->src, *loc, "%s closes no bracket", saw);
		return 0;
	}
	expected_words(ctx, want, sizeof want);
	diag_error(p->src, *loc, "expected %s, saw %s", want, saw);
	if (closer && closer != ls->closed_kind)
		diag_note(p->src, ls->closed_loc, "the '%c' opened here",
			ls->closed_kind);
	return 0;
}

/* Only bison's own failures come here: its stack overflowing. */
static void
yyerror(YYLTYPE *loc, yyscan_t scanner, Program *p, const char *msg)
{
	if (yyget_extra(scanner)->too_deep)
		return;
	if (strcmp(msg, "memory exhausted") == 0)
		msg = "the program nests too deeply";
	diag_error(p->src, *loc, "%s", msg);
}
