/*
 * gen_polyfit.c - writes examples/data/polyfit.csv: 400 samples of the
 * smooth curve y = sin(pi x) + x^2 / 2 on [-1, 1], x evenly spaced,
 * plus Gaussian noise of standard deviation 0.03.  Deterministic: a fixed
 * seed and our own generator, so the file is the same on every machine.
 */
#include <math.h>
#include <stdio.h>

#include "rng.h"

int
main(void)
{
	rng_state = 20261204;
	const int n = 400;

	printf("x,y\n");
	for (int i = 0; i < n; i++) {
		double x = -1 + 2.0 * i / (n - 1);
		double y = sin(3.141592653589793 * x) + 0.5 * x * x + 0.03 * normal();
		printf("%.6f,%.6f\n", x, y);
	}
	return 0;
}
