/*
 * gen_polyfit.c - writes examples/data/polyfit.csv: 400 samples of the
 * smooth curve y = sin(pi x) + x^2 / 2 on [-1, 1], x evenly spaced,
 * plus Gaussian noise of standard deviation 0.03.  Deterministic: a fixed
 * seed and our own generator, so the file is the same on every machine.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>

static uint64_t state = 20261204;

static double
uniform(void)
{
	uint64_t z = (state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}

/* Box-Muller: one standard normal from two uniforms. */
static double
normal(void)
{
	double u = uniform(), v = uniform();

	return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

int
main(void)
{
	const int n = 400;

	printf("x,y\n");
	for (int i = 0; i < n; i++) {
		double x = -1 + 2.0 * i / (n - 1);
		double y = sin(3.141592653589793 * x) + 0.5 * x * x + 0.03 * normal();
		printf("%.6f,%.6f\n", x, y);
	}
	return 0;
}
