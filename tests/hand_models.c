/*
 * hand_models.c - two models written by hand against the runtime's
 * descriptor (see hand_models.h), with gradients derived by hand; the
 * tests check them against finite differences before trusting them.
 * Built with -DHAND_MAIN=model it is also a trainer binary.
 */
#include <math.h>
#include <string.h>
#include <time.h>

#include "hand_models.h"

long hand_slow_us, hand_interrupt_at, hand_calls;

enum { SD = 4, SK = 3, LD = 3, LO = 3 };

static void
hooks(void)
{
	if (hand_slow_us > 0) {
		struct timespec ts = { 0, hand_slow_us * 1000 };
		nanosleep(&ts, NULL);
	}
	if (++hand_calls == hand_interrupt_at)
		rt_interrupted = 1;
}

/* Small values in [-0.1, 0.1) from the seed, for every parameter. */
static void
init_small(rt_real *p, size_t n, uint64_t seed)
{
	RtRng r;

	rt_rng_seed(&r, seed + 1);
	for (size_t i = 0; i < n; i++)
		p[i] = (rt_real)(0.2 * ((double)(rt_rng_next(&r) >> 11) /
			0x1p53 - 0.5));
}

/* ---- softmax regression ---- */

static size_t
softmax_ws(size_t n)
{
	return n * SK * sizeof(rt_real);
}

static void
softmax_init(rt_real *p, uint64_t seed)
{
	init_small(p, SK * SD + SK, seed);
}

/* z_k = b_k + sum_i W[k][i] x_i;  p = softmax(z), into prob. */
static void
softmax_probs(const rt_real *p, const rt_real *x, rt_real *prob)
{
	double z[SK], top = -INFINITY, sum = 0;

	for (int k = 0; k < SK; k++) {
		z[k] = p[SK * SD + k];
		for (int i = 0; i < SD; i++)
			z[k] += p[k * SD + i] * x[i];
		top = z[k] > top ? z[k] : top;
	}
	for (int k = 0; k < SK; k++)
		sum += exp(z[k] - top);
	for (int k = 0; k < SK; k++)
		prob[k] = (rt_real)(exp(z[k] - top) / sum);
}

/* loss = mean(-log p_y) */
static rt_real
softmax_loss(const rt_real *p, const rt_real *in, const rt_real *tg,
	size_t n, void *ws)
{
	rt_real *prob = ws;
	double loss = 0;

	for (size_t b = 0; b < n; b++) {
		softmax_probs(p, in + b * SD, prob + b * SK);
		loss -= log(prob[b * SK + (int)tg[b]]);
	}
	return (rt_real)(loss / (double)n);
}

/* dz_k = (p_k - [k = y]) / n;  dW[k][i] += dz_k x_i;  db_k += dz_k */
static rt_real
softmax_loss_grad(const rt_real *p, rt_real *g, const rt_real *in,
	const rt_real *tg, size_t n, void *ws)
{
	rt_real *prob = ws;
	rt_real loss = softmax_loss(p, in, tg, n, ws);

	hooks();
	memset(g, 0, (SK * SD + SK) * sizeof *g);
	for (size_t b = 0; b < n; b++)
		for (int k = 0; k < SK; k++) {
			double dz = (prob[b * SK + k] - (k == (int)tg[b])) /
				(double)n;
			for (int i = 0; i < SD; i++)
				g[k * SD + i] += (rt_real)(dz * in[b * SD + i]);
			g[SK * SD + k] += (rt_real)dz;
		}
	return loss;
}

static void
softmax_predict(const rt_real *p, const rt_real *in, size_t n, rt_real *out,
	void *ws)
{
	(void)ws;
	for (size_t b = 0; b < n; b++)
		softmax_probs(p, in + b * SD, out + b * SK);
}

static const RtParam softmax_params[] = {
	{ "W", 2, { SK, SD }, 0, SK * SD },
	{ "b", 1, { SK }, SK * SD, SK },
};

static const RtTarget softmax_targets[] = { { "label", 1, SK } };

const RtModel hand_softmax = {
	.name = "softmax", .hash = 0x50f7a11c0ffee001ull,
	.nparams = SK * SD + SK,
	.nparam_table = 2, .param_table = softmax_params,
	.ninputs = SD, .ntargets = 1, .targets = softmax_targets,
	.noutputs = SK,
	.optim = { .kind = RT_SGD, .lr = 0.5, .momentum = 0.9, .beta1 = 0.9,
	           .beta2 = 0.999, .eps = 1e-8 },
	.epochs = 20, .batch = 8, .seed = 3,
	.workspace_size = softmax_ws, .init = softmax_init,
	.loss = softmax_loss, .loss_grad = softmax_loss_grad,
	.predict = softmax_predict,
};

/* ---- linear regression, several outputs ---- */

static size_t
linear_ws(size_t n)
{
	(void)n;
	return 0;
}

static void
linear_init(rt_real *p, uint64_t seed)
{
	init_small(p, LO * LD + LO, seed);
}

/* o_j = b_j + sum_i W[j][i] x_i */
static void
linear_out(const rt_real *p, const rt_real *x, rt_real *o)
{
	for (int j = 0; j < LO; j++) {
		double v = p[LO * LD + j];
		for (int i = 0; i < LD; i++)
			v += p[j * LD + i] * x[i];
		o[j] = (rt_real)v;
	}
}

/* loss = mean(sum_j (o_j - y_j)^2) */
static rt_real
linear_loss(const rt_real *p, const rt_real *in, const rt_real *tg, size_t n,
	void *ws)
{
	rt_real o[LO];
	double loss = 0;

	(void)ws;
	for (size_t b = 0; b < n; b++) {
		linear_out(p, in + b * LD, o);
		for (int j = 0; j < LO; j++)
			loss += (o[j] - tg[b * LO + j]) *
				(o[j] - tg[b * LO + j]);
	}
	return (rt_real)(loss / (double)n);
}

/* do_j = 2 (o_j - y_j) / n;  dW[j][i] += do_j x_i;  db_j += do_j */
static rt_real
linear_loss_grad(const rt_real *p, rt_real *g, const rt_real *in,
	const rt_real *tg, size_t n, void *ws)
{
	rt_real o[LO];

	hooks();
	memset(g, 0, (LO * LD + LO) * sizeof *g);
	for (size_t b = 0; b < n; b++) {
		linear_out(p, in + b * LD, o);
		for (int j = 0; j < LO; j++) {
			double d = 2 * (o[j] - tg[b * LO + j]) / (double)n;
			for (int i = 0; i < LD; i++)
				g[j * LD + i] += (rt_real)(d * in[b * LD + i]);
			g[LO * LD + j] += (rt_real)d;
		}
	}
	return linear_loss(p, in, tg, n, ws);
}

static void
linear_predict(const rt_real *p, const rt_real *in, size_t n, rt_real *out,
	void *ws)
{
	(void)ws;
	for (size_t b = 0; b < n; b++)
		linear_out(p, in + b * LD, out + b * LO);
}

static const RtParam linear_params[] = {
	{ "W", 2, { LO, LD }, 0, LO * LD },
	{ "b", 1, { LO }, LO * LD, LO },
};

static const RtTarget linear_targets[] = {
	{ "pos", 2, 0 }, { "h", 1, 0 },
};

const RtModel hand_linear = {
	.name = "linear", .hash = 0x11ea4c0ffee00002ull,
	.nparams = LO * LD + LO,
	.nparam_table = 2, .param_table = linear_params,
	.ninputs = LD, .ntargets = 2, .targets = linear_targets,
	.noutputs = LO,
	.optim = { .kind = RT_ADAM, .lr = 0.05, .beta1 = 0.9, .beta2 = 0.999,
	           .eps = 1e-8 },
	.epochs = 30, .batch = 16, .seed = 7,
	.workspace_size = linear_ws, .init = linear_init,
	.loss = linear_loss, .loss_grad = linear_loss_grad,
	.predict = linear_predict,
};

#ifdef HAND_MAIN
#include <stdlib.h>

int
main(int argc, char **argv)
{
	const char *slow = getenv("HAND_SLOW_US");

	hand_slow_us = slow ? atol(slow) : 0;
	return rt_main(&HAND_MAIN, argc, argv);
}
#endif
