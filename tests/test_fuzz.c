/*
 * test_fuzz.c - a mutation fuzzer of the front end, run in process.
 *
 * Each iteration takes an example program, applies a few random edits
 * (byte flips, deletions, duplicated or spliced spans, inserted tokens of
 * the language) and runs the scanner, parser, checker and --emit=ast
 * printer over the result with diagnostics counted but not printed.  The
 * test passes if nothing crashes; under -fsanitize=address,undefined it
 * also finds memory errors.  DLC_FUZZ_ITERS and DLC_FUZZ_SEED override the
 * bounded default for long runs by hand.
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
#include "tests.h"

static const char *const examples[] = {
	"polyfit", "polyfit_vec", "iris", "cancer", "robust", "mixture",
};

/* Pieces of the language, so that edits reach past the scanner. */
static const char *const tokens[] = {
	"(", ")", "[", "]", "{", "}", ",", "=", "~", ":", "..", "@", "^",
	"-", "*", "\n", "#", "0", "1e999", "2.5", "fn ", "return ", "for ",
	" in ", "not ", " and ", " or ", "<", ">=", "==", "sum(", "max(",
	"axis = 1", "where(", "softmax(", "cross_entropy(", "dot(",
	"transpose(", "class(3)", "glorot", "normal(0, 1)", "[1, 2, 3]",
	"x", "i", "W1", "const N = 3\n", "fn f(a) = f(a)\n",
	"fn g(a, b) {\n c = a\n return c + b\n}\n", "input z[N]\n",
	"target t : class(N)\n", "loss ", "output ", "param p[2, 2] ~ he\n",
	"train adamw(0.1, 0.9) epochs 1 batch 1 seed 2\n", "\xff", "\0",
	"sum(x for i in 0..1000000000)", "k[i]",
};

typedef struct Buf {
	char *p;
	size_t n, cap;
} Buf;

static uint64_t rng_state;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static size_t
below(size_t n)
{
	return n ? (size_t)(rng() % n) : 0;
}

static void
insert(Buf *b, size_t at, const char *s, size_t len)
{
	if (b->n + len > 1 << 16)
		return;
	if (b->n + len > b->cap) {
		b->cap = 2 * (b->n + len);
		b->p = realloc(b->p, b->cap);
	}
	memmove(b->p + at + len, b->p + at, b->n - at);
	memcpy(b->p + at, s, len);
	b->n += len;
}

static void
mutate(Buf *b, const Buf *other)
{
	size_t at = below(b->n + 1), len = 1 + below(24);
	const char *t;

	switch (below(5)) {
	case 0:
		if (b->n)
			b->p[below(b->n)] = (char)rng();
		break;
	case 1:
		len = at + len > b->n ? b->n - at : len;
		memmove(b->p + at, b->p + at + len, b->n - at - len);
		b->n -= len;
		break;
	case 2: {
		size_t from = below(other->n);
		len = from + len > other->n ? other->n - from : len;
		char *copy = malloc(len + 1);
		memcpy(copy, other->p + from, len);
		insert(b, at, copy, len);
		free(copy);
		break;
	}
	default:
		t = tokens[below(sizeof tokens / sizeof tokens[0])];
		insert(b, at, t, t[0] ? strlen(t) : 1);
		break;
	}
}

static void
run_front_end(const Buf *b, FILE *sink)
{
	Source *src = src_from_string("fuzz.dl", b->p, b->n);
	Arena *a = arena_new();

	src->quiet = 1;
	Program *p = parse_program(src, a);
	if (check_program(p) == 0)
		parse_fprint_ast(sink, p);
	arena_free(a);
	src_free(src);
}

static Buf
load(const char *name)
{
	char path[512];
	Source *src;
	Buf b = { 0 };

	snprintf(path, sizeof path, "%s/examples/%s.dl", DLC_ROOT, name);
	src = src_load(path);
	assert_non_null(src);
	b.n = b.cap = src->len;
	b.p = malloc(b.cap + 1);
	memcpy(b.p, src->text, src->len);
	src_free(src);
	return b;
}

static long
env_long(const char *name, long fallback)
{
	const char *v = getenv(name);

	return v && *v ? strtol(v, NULL, 10) : fallback;
}

static void
test_fuzz_front_end(void **state)
{
	enum { N = sizeof examples / sizeof examples[0] };
	long iters = env_long("DLC_FUZZ_ITERS", 3000);
	Buf seeds[N];
	FILE *sink = fopen("/dev/null", "w");

	(void)state;
	assert_non_null(sink);
	rng_state = (uint64_t)env_long("DLC_FUZZ_SEED", 1) * 2654435761u + 1;
	for (int i = 0; i < N; i++)
		seeds[i] = load(examples[i]);
	for (long it = 0; it < iters; it++) {
		const Buf *seed = &seeds[below(N)];
		Buf b = { malloc(seed->n + 1), seed->n, seed->n + 1 };
		memcpy(b.p, seed->p, seed->n);
		for (size_t m = 1 + below(8); m > 0; m--)
			mutate(&b, &seeds[below(N)]);
		run_front_end(&b, sink);
		free(b.p);
	}
	for (int i = 0; i < N; i++)
		free(seeds[i].p);
	fclose(sink);
}

TestList
fuzz_tests(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fuzz_front_end),
	};
	return (TestList){ tests, sizeof tests / sizeof tests[0] };
}
