/*
 * gen_robust.c - writes the regression data of robust.dl: y = w . x plus
 * noise of standard deviation 0.3, with 8 standard normal inputs.  In
 * robust_train.csv (400 rows) a fifth of the targets are gross errors,
 * the sign of w . x flipped as a careless transcription would; in
 * robust_test.csv (400 rows) every target is clean, so the test error
 * shows how well each loss recovered w.  Deterministic (rng.h).
 */
#include <stdio.h>

#include "rng.h"

enum { N = 400, D = 8 };

static const double w[D] = { 1.5, -2.0, 0.5, 0.0, 1.0, -1.0, 0.25, 2.0 };

static int
write_rows(const char *path, double outliers)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return 1;
	for (int j = 0; j < D; j++)
		fprintf(f, "x%d,", j);
	fprintf(f, "y\n");
	for (int i = 0; i < N; i++) {
		double x[D], y = 0;
		for (int j = 0; j < D; j++)
			y += w[j] * (x[j] = normal());
		if (uniform() < outliers)
			y = -y;
		y += 0.3 * normal();
		for (int j = 0; j < D; j++)
			fprintf(f, "%.6f,", x[j]);
		fprintf(f, "%.6f\n", y);
	}
	return fclose(f) != 0;
}

int
main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: gen_robust TRAIN.csv TEST.csv\n");
		return 1;
	}
	rng_state = 20261206;
	return write_rows(argv[1], 0.2) || write_rows(argv[2], 0);
}
