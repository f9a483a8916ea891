/*
 * gen_mixture.c - writes the 2-D Gaussian mixture that mixture.dl fits:
 * mixture.csv, 3000 points from three components with diagonal
 * covariances and unequal weights, and mixture_means.csv, the true means
 * that the fitted ones are checked against.  Deterministic (rng.h).
 */
#include <stdio.h>

#include "rng.h"

enum { N = 3000, K = 3 };

static const double weight[K] = { 0.5, 0.3, 0.2 };
static const double mean[K][2] = { { -1.5, -0.5 }, { 1.5, -1.0 },
                                   { 0.0, 1.5 } };
static const double sd[K][2] = { { 0.5, 0.4 }, { 0.3, 0.6 },
                                 { 0.6, 0.3 } };

/* A component drawn by its weight. */
static int
component(void)
{
	double u = uniform(), acc = 0;

	for (int k = 0; k < K - 1; k++)
		if (u < (acc += weight[k]))
			return k;
	return K - 1;
}

int
main(int argc, char **argv)
{
	FILE *f = argc == 3 ? fopen(argv[1], "w") : NULL;
	FILE *g = argc == 3 ? fopen(argv[2], "w") : NULL;

	if (!f || !g) {
		fprintf(stderr, "usage: gen_mixture POINTS.csv MEANS.csv\n");
		return 1;
	}
	rng_state = 20261205;
	fprintf(f, "x0,x1\n");
	for (int i = 0; i < N; i++) {
		int k = component();
		fprintf(f, "%.6f,%.6f\n", mean[k][0] + sd[k][0] * normal(),
			mean[k][1] + sd[k][1] * normal());
	}
	fprintf(g, "mu0,mu1\n");
	for (int k = 0; k < K; k++)
		fprintf(g, "%g,%g\n", mean[k][0], mean[k][1]);
	return fclose(f) != 0 || fclose(g) != 0;
}
