/*
 * gemm_driver.c - the generated matrix product against a plain loop, for
 * test_kernels.c.  It is compiled with -DREAL=float or double and
 * -include of a file holding cg_gemm_source for a module named g, under
 * the flags a trainer is built with.  Over shapes on both sides of every
 * tile edge and term block, with A and B each row-major and transposed,
 * set and accumulated, each element of C must be bit for bit the sum over t in
 * increasing order, and C's padding must be left alone.  Prints "ok" and
 * the number of products, or the first difference and exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef REAL real;

/* A product's shape and the strides of its operands. */
typedef struct Shape {
	size_t m, n, k, ars, acs, brs, bcs, ldc;
	int acc;
} Shape;

static unsigned long long seed = 1;

/* Multiples of 1/997 in [-1, 1]: not exact in binary, so the order of
 * the terms shows in the rounding. */
static real
draw(void)
{
	seed = seed * 6364136223846793005ull + 1442695040888963407ull;
	return (real)((long)(seed >> 33) % 2001 - 1000) / (real)997;
}

static real *
drawn(size_t n)
{
	real *v = malloc((n ? n : 1) * sizeof *v);

	if (!v)
		abort();
	for (size_t i = 0; i < n; i++)
		v[i] = draw();
	return v;
}

/* C's element (i, j) as the definition has it. */
static real
plain(const Shape *s, const real *a, const real *b, real c, size_t i,
	size_t j)
{
	real sum = s->acc ? c : 0;

	for (size_t t = 0; t < s->k; t++)
		sum += a[i * s->ars + t * s->acs] * b[t * s->brs + j * s->bcs];
	return sum;
}

/* Runs one product; 0 when every element of C is as it must be.  A and B
 * end at their last elements, so that a sanitizer sees any read past. */
static int
check(const Shape *s)
{
	size_t t1 = s->k ? s->k - 1 : 0, nc = s->m * s->ldc;
	real *a = drawn((s->m - 1) * s->ars + t1 * s->acs + 1);
	real *b = drawn(t1 * s->brs + (s->n - 1) * s->bcs + 1);
	real *c = drawn(nc);
	real *old = drawn(nc);
	int bad = 0;

	memcpy(old, c, nc * sizeof *c);
	g_gemm(s->m, s->n, s->k, a, s->ars, s->acs, b, s->brs, s->bcs, c,
		s->ldc, s->acc);
	for (size_t x = 0; x < nc && !bad; x++) {
		size_t i = x / s->ldc, j = x % s->ldc;
		real want = j < s->n ? plain(s, a, b, old[x], i, j) : old[x];

		if (memcmp(&want, &c[x], sizeof want) != 0) {
			printf("%zu x %zu x %zu, ars %zu acs %zu bcs %zu acc "
				"%d: C[%zu][%zu] is %.17g, not %.17g\n", s->m, s->n,
				s->k, s->ars, s->acs, s->bcs, s->acc, i, j,
				(double)c[x], (double)want);
			bad = 1;
		}
	}
	free(a);
	free(b);
	free(c);
	free(old);
	return bad;
}

int
main(void)
{
	static const size_t rows[] = { 1, 2, 7, 8, 9, 15, 16, 17, 33 };
	static const size_t terms[] = { 0, 1, 3, 16, 255, 256, 257, 600 };
	const size_t nr = sizeof rows / sizeof rows[0];
	const size_t nt = sizeof terms / sizeof terms[0];
	long runs = 0;

	for (size_t x = 0; x < nr * nr * nt * 8; x++) {
		Shape s = { .m = rows[x % nr], .n = rows[x / nr % nr],
			.k = terms[x / nr / nr % nt] };
		int a_transposed = x / nr / nr / nt % 2;
		int b_transposed = x / nr / nr / nt / 2 % 2;

		s.acc = x / nr / nr / nt / 4;
		s.ars = a_transposed ? 1 : s.k + 3;
		s.acs = a_transposed ? s.m + 2 : 1;
		s.brs = b_transposed ? 1 : s.n + 1;
		s.bcs = b_transposed ? s.k + 2 : 1;
		s.ldc = s.n + 5;
		if (check(&s))
			return 1;
		runs++;
	}
	printf("ok %ld\n", runs);
	return 0;
}
