/*
 * hand_polyfit.c - the polyfit training step written by hand in plain C,
 * the yardstick dlc's generated code is held to.  Same model as
 * examples/polyfit.dl (a fifth-degree polynomial, mean squared error),
 * same optimiser (SGD with momentum 0.9 and lr 0.1, PyTorch's rule), same
 * parameter order (k0 .. k5), same interface as dlc_lib.c.
 *
 * One pass over the batch computes the residual and adds its share to the
 * loss and to each of the six partial derivatives:
 *   r = yhat - y,  dL/dk_j = (2 / n) sum r x^j
 */
#include <stdlib.h>
#include <string.h>

enum { NK = 6 };

static struct {
	float k[NK], mom[NK];
	const float *x, *y;
	long rows, batch, pos, steps;
} H;

long bench_nparams(void);
int bench_setup(const float *p, const float *x, const float *y, long rows,
	long batch, long threads);
double bench_train(long steps);

long
bench_nparams(void)
{
	return NK;
}

int
bench_setup(const float *p, const float *x, const float *y, long rows,
	long batch, long threads)
{
	if (threads != 1 || rows % batch)
		return -1;
	memcpy(H.k, p, sizeof H.k);
	memset(H.mom, 0, sizeof H.mom);
	H.x = x, H.y = y, H.rows = rows, H.batch = batch;
	H.pos = H.steps = 0;
	return 0;
}

/* The mean loss over n points and its gradient in g. */
static float
loss_grad(const float *x, const float *y, long n, float *g)
{
	float loss = 0, s[NK] = { 0 };

	for (long i = 0; i < n; i++) {
		float x1 = x[i], x2 = x1 * x1, x3 = x2 * x1, x4 = x2 * x2;
		float x5 = x4 * x1;
		float r = H.k[0] + H.k[1] * x1 + H.k[2] * x2 + H.k[3] * x3 +
			H.k[4] * x4 + H.k[5] * x5 - y[i];
		loss += r * r;
		s[0] += r;
		s[1] += r * x1;
		s[2] += r * x2;
		s[3] += r * x3;
		s[4] += r * x4;
		s[5] += r * x5;
	}
	for (int j = 0; j < NK; j++)
		g[j] = 2 * s[j] / (float)n;
	return loss / (float)n;
}

/* SGD with momentum, PyTorch's rule: m = g at first, then 0.9 m + g. */
static void
sgd(const float *g)
{
	for (int j = 0; j < NK; j++) {
		H.mom[j] = H.steps == 0 ? g[j] : 0.9f * H.mom[j] + g[j];
		H.k[j] -= 0.1f * H.mom[j];
	}
	H.steps++;
}

double
bench_train(long steps)
{
	float loss = 0, g[NK];

	for (long s = 0; s < steps; s++) {
		loss = loss_grad(H.x + H.pos, H.y + H.pos, H.batch, g);
		sgd(g);
		H.pos = (H.pos + H.batch) % H.rows;
	}
	return loss;
}
