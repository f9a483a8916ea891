/*
 * test_frontend.c - the lexer's tokens, the parser's tree, the checker's
 * shapes and instantiations, the train defaults, and the limits that keep
 * hostile input from crashing the front end.  Diagnostics' exact text is
 * in the golden files (test_golden.c).
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

static Program *
parse_text(const char *text, Source **src, Arena **a)
{
	*src = src_from_string("t.dl", text, strlen(text));
	(*src)->quiet = 1;
	*a = arena_new();
	Program *p = parse_program(*src, *a);
	check_program(p);
	return p;
}

static void
free_text(Source *src, Arena *a)
{
	arena_free(a);
	src_free(src);
}

static const Decl *
find(const Program *p, const char *name)
{
	for (const Decl *d = p->decls; d; d = d->next)
		if (d->name && strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

/* The new tokens: a range is not a number, two-character operators. */
static void
test_tokens_tensor(void **state)
{
	(void)state;
	Tokens t = lex("sum(k[i] for i in 0..5) <= a @ b != not c\n"
		"target t : class(3) fn { }");
	int want[] = { NAME, '(', NAME, '[', NAME, ']', FOR, NAME, IN,
		NUMBER, DOTDOT, NUMBER, ')', LE, NAME, '@', NAME, NE, NOT,
		NAME, NEWLINE, TARGET, NAME, ':', CLASS, '(', NUMBER, ')', FN,
		'{', '}', NEWLINE, END };
	size_t n = sizeof want / sizeof want[0];

	assert_int_equal(t.n, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(t.kind[i], want[i]);
	assert_string_equal(t.text[9], "0");
	assert_int_equal(t.loc[10].col, 20);
}

static void
test_broadcast(void **state)
{
	(void)state;
	Shape out, a = { 2, { 3, 4 } }, b = { 1, { 4 } }, c = { 1, { 3 } };
	Shape s = { 0, { 0 } }, d = { 3, { 2, 1, 4 } };
	char buf[48];

	assert_true(shape_broadcast(a, b, &out));
	assert_true(shape_equal(out, a));
	assert_false(shape_broadcast(a, c, &out));
	assert_true(shape_broadcast(s, d, &out));
	assert_true(shape_equal(out, d));
	assert_true(shape_broadcast(d, (Shape){ 2, { 3, 1 } }, &out));
	assert_string_equal(shape_str(out, buf), "[2, 3, 4]");
	assert_string_equal(shape_str(s, buf), "scalar");
	assert_int_equal(shape_size(d), 8);
}

static void
test_iris_tree(void **state)
{
	(void)state;
	Source *src = src_load(DLC_ROOT "/examples/iris.dl");
	Arena *a = arena_new();
	Program *p = parse_program(src, a);

	assert_int_equal(check_program(p), 0);
	const Decl *w1 = find(p, "W1"), *t = find(p, "species");
	assert_int_equal(w1->init_kind, INIT_GLOROT);
	assert_int_equal(w1->shape.rank, 2);
	assert_int_equal(w1->shape.dim[0], 16);
	assert_int_equal(w1->shape.dim[1], 4);
	assert_int_equal(t->nclasses, 3);
	assert_int_equal(t->type, T_LABEL);
	assert_int_equal(t->shape.rank, 0);
	assert_int_equal(p->nparams, 4);
	assert_int_equal(find(p, "b2")->index, 3);

	/* each call of dense has its own arguments, bound to its own shapes */
	const Expr *h = find(p, "h")->expr, *l = find(p, "logits")->expr;
	const FnCall *c1 = h->args[0]->call, *c2 = l->call;
	assert_non_null(c1);
	assert_non_null(c2);
	assert_ptr_not_equal(c1->param[0], c2->param[0]);
	assert_int_equal(c1->nparams, 3);
	assert_int_equal(c1->param[0]->kind, D_ARG);
	assert_int_equal(c1->param[0]->shape.dim[0], 16);
	assert_int_equal(c2->param[0]->shape.dim[0], 3);
	assert_int_equal(c2->result->shape.dim[0], 3);
	/* the W in the body names this call's argument */
	assert_ptr_equal(c2->result->lhs->lhs->decl, c2->param[0]);
	assert_int_equal(h->builtin, B_tanh);
	assert_int_equal(p->train->opt, OPT_ADAM);
	assert_true(p->train->lr == 0.01 && p->train->beta2 == 0.999);
	assert_true(p->train->seed == 7);
	free_text(src, a);
}

static void
test_comprehension_tree(void **state)
{
	(void)state;
	Source *src;
	Arena *a;
	Program *p = parse_text("input x\nparam k[6] = 0\n"
		"loss sum(k[i] * x^i for i in 0..5)\n", &src, &a);

	assert_int_equal(src->nerrors, 0);
	const Expr *e = p->loss->expr;
	assert_int_equal(e->kind, E_COMPR);
	assert_int_equal(e->builtin, B_sum);
	assert_int_equal(e->lo, 0);
	assert_int_equal(e->hi, 5);
	assert_int_equal(e->var->kind, D_INDEX);
	/* the body is kept once, not unrolled; i refers to the index */
	assert_int_equal(e->lhs->kind, E_BINARY);
	assert_ptr_equal(e->lhs->lhs->args[0]->decl, e->var);
	free_text(src, a);
}

static void
test_shapes_and_consts(void **state)
{
	(void)state;
	Source *src;
	Arena *a;
	Program *p = parse_text("const K = 3\nconst D = K - 1\ninput x[D]\n"
		"param m[K, D] = 0\nz = x - m\ns = sum(z, axis = -1)\n"
		"u = m @ x\nv = x @ transpose(m)\no = outer(x, u)\n"
		"c = where(x > 0 and not (x > 1), x, 0)\n"
		"w = [x, x, x]\nloss logsumexp(s) + m[K - 1, 0]\n", &src, &a);

	assert_int_equal(src->nerrors, 0);
	assert_true(find(p, "D")->init_a == 2);
	assert_int_equal(find(p, "z")->shape.rank, 2);
	assert_int_equal(find(p, "s")->shape.rank, 1);
	assert_int_equal(find(p, "s")->expr->axis, 1);
	assert_int_equal(find(p, "u")->shape.dim[0], 3);
	assert_int_equal(find(p, "v")->shape.dim[0], 3);
	assert_int_equal(find(p, "o")->shape.dim[1], 3);
	assert_int_equal(find(p, "c")->shape.dim[0], 2);
	assert_int_equal(find(p, "c")->expr->args[0]->type, T_BOOL);
	assert_int_equal(find(p, "w")->shape.dim[0], 3);
	assert_int_equal(find(p, "w")->shape.dim[1], 2);
	assert_int_equal(p->loss->expr->shape.rank, 0);
	free_text(src, a);
}

static void
test_train_defaults(void **state)
{
	(void)state;
	Source *src;
	Arena *a;
	Program *p = parse_text("param k = 0\nloss k\n", &src, &a);

	assert_int_equal(p->train->opt, OPT_SGD);
	assert_true(p->train->lr == 0.01 && p->train->momentum == 0);
	assert_true(p->train->epochs == 100 && p->train->batch == 32);
	free_text(src, a);
	p = parse_text("param k = 0\nloss k\ntrain adamw(0.5, 0.8) epochs 3 "
		"batch 2\n", &src, &a);
	assert_int_equal(src->nerrors, 0);
	assert_int_equal(p->train->opt, OPT_ADAMW);
	assert_true(p->train->lr == 0.5 && p->train->beta1 == 0.8);
	assert_true(p->train->beta2 == 0.999 && p->train->eps == 1e-8);
	assert_true(p->train->weight_decay == 0.01);
	free_text(src, a);
	p = parse_text("param k = 0\nloss k\ntrain adam() epochs 3 batch 2\n",
		&src, &a);
	assert_true(p->train->lr == 0.001 && p->train->weight_decay == 0);
	free_text(src, a);
}

/* Text made of n copies of `unit` between a prefix and a suffix. */
static char *
repeat(const char *prefix, const char *unit, int n, const char *mid,
	const char *suffix)
{
	size_t len = strlen(prefix) + strlen(unit) * (size_t)n + strlen(mid)
		+ strlen(suffix) * (size_t)n + 2;
	char *s = malloc(len), *q = s;

	q += sprintf(q, "%s", prefix);
	for (int i = 0; i < n; i++)
		q += sprintf(q, "%s", unit);
	q += sprintf(q, "%s", mid);
	for (int i = 0; i < n; i++)
		q += sprintf(q, "%s", suffix);
	sprintf(q, "\n");
	return s;
}

static void
expect_error(const char *text, const char *needle)
{
	char *err = NULL;
	int status = run_dlc_on_text(text, "--check", &err);

	if (!strstr(err, needle))
		fail_msg("expected '%s' in:\n%.1000s", needle, err);
	assert_int_equal(status, 1);
	free(err);
}

/* However deep the nesting, a clear error and no crash. */
static void
test_deep_nesting(void **state)
{
	(void)state;
	char *s = repeat("param k = 0\nloss ", "(", 10000, "k", ")");
	expect_error(s, "brackets nest too deeply; the limit is 256");
	free(s);
	s = repeat("param k = 0\nloss ", "-", 100000, "k", "");
	expect_error(s, "nests too deeply");
	free(s);
	s = repeat("param k = 0\nloss k", "^k", 100000, "", "");
	expect_error(s, "nests too deeply");
	free(s);
	s = repeat("param k = 0\nloss k", "+k", 5000, "", "");
	expect_error(s, "this expression nests too deeply");
	free(s);
}

/* Each function calls the previous one twice: inlining doubles at every
 * level, and the checker stops at its budget instead of running away. */
static void
test_inline_budget(void **state)
{
	(void)state;
	char text[8192];
	size_t n = 0;

	n += (size_t)snprintf(text, sizeof text, "fn f0(a) = a + 1\n");
	for (int i = 1; i < 40; i++)
		n += (size_t)snprintf(text + n, sizeof text - n,
			"fn f%d(a) = f%d(a) * f%d(a)\n", i, i - 1, i - 1);
	snprintf(text + n, sizeof text - n, "param k = 0\nloss f39(k)\n");
	expect_error(text, "more than 2097152 expression nodes");
}

TestList
frontend_tests(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_parse_polyfit),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_tokens_tensor),
		cmocka_unit_test(test_broadcast),
		cmocka_unit_test(test_iris_tree),
		cmocka_unit_test(test_comprehension_tree),
		cmocka_unit_test(test_shapes_and_consts),
		cmocka_unit_test(test_train_defaults),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_inline_budget),
	};
	return (TestList){ tests, sizeof tests / sizeof tests[0] };
}
