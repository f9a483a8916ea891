/*
 * test_frontend.c - the lexer's tokens and the parser's tree for the
 * skeleton language, and diagnostics for a few malformed programs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "parser.h"
#include "tests.h"

typedef struct Tokens {
	int kind[64];
	char text[64][16];
	Loc loc[64];
	int n;
} Tokens;

static void
collect(int tok, const char *text, Loc loc, void *ctx)
{
	Tokens *t = ctx;

	if (t->n == 64)
		return;
	t->kind[t->n] = tok;
	snprintf(t->text[t->n], sizeof t->text[0], "%s", text);
	t->loc[t->n] = loc;
	t->n++;
}

static Tokens
lex(const char *text)
{
	Source *src = src_from_string("t.dl", text, strlen(text));
	Arena *a = arena_new();
	Tokens t = { .n = 0 };

	parse_dump_tokens(src, a, collect, &t);
	arena_free(a);
	src_free(src);
	return t;
}

static void
test_tokens(void **state)
{
	(void)state;
	Tokens t = lex("param k = -1e-3  # comment\nloss (k*x\n + 2)^2");
	int want[] = { PARAM, NAME, '=', '-', NUMBER, NEWLINE, LOSS, '(',
		NAME, '*', NAME, '+', NUMBER, ')', '^', NUMBER, NEWLINE, END };
	size_t n = sizeof want / sizeof want[0];

	assert_int_equal(t.n, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(t.kind[i], want[i]);
	assert_string_equal(t.text[4], "1e-3");
	assert_int_equal(t.loc[4].line, 1);
	assert_int_equal(t.loc[4].col, 12);
	assert_int_equal(t.loc[4].end_col, 15);
	/* the newline inside the parentheses is not a statement end */
	assert_int_equal(t.loc[11].line, 3);
	assert_int_equal(t.loc[11].col, 2);
}

static void
test_numbers(void **state)
{
	(void)state;
	Tokens t = lex("1 0.5 1e-3 .25 3.");

	assert_int_equal(t.n, 7);
	for (int i = 0; i < 5; i++)
		assert_int_equal(t.kind[i], NUMBER);
}

static void
test_parse_polyfit(void **state)
{
	(void)state;
	Source *src = src_load(DLC_ROOT "/examples/polyfit.dl");
	Arena *a = arena_new();

	assert_non_null(src);
	Program *p = parse_program(src, a);
	assert_int_equal(check_program(p), 0);
	assert_int_equal(p->nparams, 6);
	assert_int_equal(p->ninputs, 1);
	assert_int_equal(p->ntargets, 1);
	assert_non_null(p->loss);
	assert_non_null(p->output);
	assert_int_equal(p->train->opt, OPT_SGD);
	assert_true(p->train->lr > 0);
	assert_int_equal((int)p->train->epochs, 2000);
	assert_int_equal((int)p->train->batch, 64);

	/* k0 + k1*x + ... parses left-associatively: the root is the last + */
	const Decl *yhat = NULL;
	for (const Decl *d = p->decls; d; d = d->next)
		if (d->kind == D_LET)
			yhat = d;
	assert_non_null(yhat);
	assert_int_equal(yhat->expr->kind, E_BINARY);
	assert_int_equal(yhat->expr->op, '+');
	assert_int_equal(yhat->expr->rhs->op, '*');
	arena_free(a);
	src_free(src);
}

/* -x^2 is -(x^2), and ^ is right-associative. */
static void
test_precedence(void **state)
{
	(void)state;
	const char *text = "param x = 1\nloss -x^2^3\n";
	Source *src = src_from_string("t.dl", text, strlen(text));
	Arena *a = arena_new();
	Program *p = parse_program(src, a);

	assert_int_equal(check_program(p), 0);
	const Expr *e = p->loss->expr;
	assert_int_equal(e->kind, E_UNARY);
	assert_int_equal(e->lhs->op, '^');
	assert_int_equal(e->lhs->lhs->kind, E_NAME);
	assert_int_equal(e->lhs->rhs->op, '^');
	arena_free(a);
	src_free(src);
}

typedef struct Case {
	const char *source;
	const char *expected;   /* stderr of dlc --check, exactly */
} Case;

static const Case diagnostics[] = {
	{ "input x\nparam k = 0\nloss (k*xx - 1)^2\n",
	  "t.dl:3:9: error: unknown name 'xx'; did you mean 'x'?\n"
	  "  loss (k*xx - 1)^2\n"
	  "          ^~\n" },
	{ "param k = 0\nloss (k - 1\n",
	  "t.dl:2:6: error: this bracket is never closed\n"
	  "  loss (k - 1\n"
	  "       ^\n" },
	{ "param k = 0\nparam k = 1\nloss k\n",
	  "t.dl:2:7: error: 'k' is already defined\n"
	  "  param k = 1\n"
	  "        ^\n"
	  "t.dl:1:7: note: 'k' was defined here\n"
	  "  param k = 0\n"
	  "        ^\n" },
	{ "param k = 0\nloss k $ 2\n",
	  "t.dl:2:8: error: unexpected character '$'\n"
	  "  loss k $ 2\n"
	  "         ^\n"
	  "t.dl:2:10: error: expected end of line, saw number\n"
	  "  loss k $ 2\n"
	  "           ^\n" },
	{ "param k = 0\n",
	  "t.dl:1:1: error: the program has no 'loss' statement\n"
	  "  param k = 0\n"
	  "  ^\n" },
	{ "param k = 0\nloss k\ntrain adam(lr = 0.1) epochs 10 batch 4\n",
	  "t.dl:3:7: error: unknown optimizer 'adam'; expected sgd\n"
	  "  train adam(lr = 0.1) epochs 10 batch 4\n"
	  "        ^~~~\n" },
	{ "param k = 0\nloss k\ntrain sgd(rate = 0.1) epochs 10 batch 4\n",
	  "t.dl:3:11: error: sgd has no argument 'rate'; expected lr or "
	  "momentum\n"
	  "  train sgd(rate = 0.1) epochs 10 batch 4\n"
	  "            ^~~~\n" },
	{ "param k = 1e999\nloss k\n",
	  "t.dl:1:11: error: number '1e999' is out of range\n"
	  "  param k = 1e999\n"
	  "            ^~~~~\n" },
};

/* Runs dlc --check on each case and compares stderr byte for byte. */
static void
test_diagnostics(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof diagnostics / sizeof *diagnostics; i++) {
		char *err = NULL;
		int status = run_dlc_on_text(diagnostics[i].source, "--check",
			&err);
		if (strcmp(err, diagnostics[i].expected) != 0)
			fail_msg("case %zu:\n--- expected\n%s--- got\n%s", i,
				diagnostics[i].expected, err);
		assert_int_equal(status, 1);
		free(err);
	}
}

TestList
frontend_tests(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_parse_polyfit),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_diagnostics),
	};
	return (TestList){ tests, sizeof tests / sizeof tests[0] };
}
