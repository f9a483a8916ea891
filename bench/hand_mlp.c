/*
 * hand_mlp.c - the medium MLP's training step (784-256-256-10, ReLU,
 * softmax cross-entropy, SGD with momentum 0.9 and lr 0.01) written by hand
 * in plain C, the yardstick for dlc's generated code.  Parameters are laid
 * out as dlc lays out bench/models/mlp.dl's (W1, b1, W2, b2, W3, b3; a
 * weight is [out, in], row-major); same interface as dlc_lib.c.
 *
 * Written as a careful programmer would without tuning tricks: every
 * product is a loop nest whose innermost loop runs along contiguous memory
 * with no reduction in it, so the compiler can vectorise it; the forward
 * pass reads each weight matrix through a transposed copy made once per
 * step for that reason.  Buffers are allocated once, at setup.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { NIN = 784, NH = 256, NOUT = 10 };

typedef struct Layer {
	long in, out;
	float *w, *b;           /* into the parameter array */
	float *gw, *gb;         /* into the gradient array */
	float *wt;              /* w transposed, [in, out] */
	float *y, *dy;          /* batch x out: activation, its gradient */
} Layer;

static struct {
	float *p, *g, *mom;
	long np, steps;
	Layer l[3];
	float *dx;              /* batch x NH: gradient of a hidden input */
	const float *x, *t;
	long rows, batch, pos;
} H;

long bench_nparams(void);
int bench_setup(const float *p, const float *x, const float *y, long rows,
	long batch, long threads);
double bench_train(long steps);

long
bench_nparams(void)
{
	return (long)NH * NIN + NH + (long)NH * NH + NH + (long)NOUT * NH +
		NOUT;
}

static void
layer_init(Layer *l, long in, long out, long *off, long batch)
{
	l->in = in, l->out = out;
	l->w = H.p + *off, l->gw = H.g + *off;
	*off += in * out;
	l->b = H.p + *off, l->gb = H.g + *off;
	*off += out;
	free(l->wt), free(l->y), free(l->dy);
	l->wt = malloc((size_t)(in * out) * sizeof(float));
	l->y = malloc((size_t)(batch * out) * sizeof(float));
	l->dy = malloc((size_t)(batch * out) * sizeof(float));
}

int
bench_setup(const float *p, const float *x, const float *y, long rows,
	long batch, long threads)
{
	long off = 0;

	if (threads != 1 || rows % batch)
		return -1;
	H.np = bench_nparams();
	free(H.p), free(H.g), free(H.mom), free(H.dx);
	H.p = malloc((size_t)H.np * sizeof(float));
	H.g = malloc((size_t)H.np * sizeof(float));
	H.mom = calloc((size_t)H.np, sizeof(float));
	H.dx = malloc((size_t)(batch * NH) * sizeof(float));
	memcpy(H.p, p, (size_t)H.np * sizeof(float));
	layer_init(&H.l[0], NIN, NH, &off, batch);
	layer_init(&H.l[1], NH, NH, &off, batch);
	layer_init(&H.l[2], NH, NOUT, &off, batch);
	H.x = x, H.t = y, H.rows = rows, H.batch = batch;
	H.pos = H.steps = 0;
	return 0;
}

/* y = x W^T + b for n rows of x, through W^T so the inner loop is over
 * contiguous outputs; ReLU after when `relu`. */
static void
forward(Layer *l, const float *x, long n, int relu)
{
	for (long o = 0; o < l->out; o++)
		for (long i = 0; i < l->in; i++)
			l->wt[i * l->out + o] = l->w[o * l->in + i];
	for (long r = 0; r < n; r++) {
		float *y = l->y + r * l->out;
		memcpy(y, l->b, (size_t)l->out * sizeof(float));
		for (long i = 0; i < l->in; i++) {
			const float xi = x[r * l->in + i];
			const float *wt = l->wt + i * l->out;
			for (long o = 0; o < l->out; o++)
				y[o] += xi * wt[o];
		}
		for (long o = 0; relu && o < l->out; o++)
			y[o] = y[o] > 0 ? y[o] : 0;
	}
}

/* Softmax cross-entropy, mean over n rows: the loss, and in dy the
 * gradient wrt the logits, (softmax - onehot) / n. */
static float
softmax_xent(Layer *l, const float *t, long n)
{
	float loss = 0;

	for (long r = 0; r < n; r++) {
		const float *z = l->y + r * NOUT;
		float *d = l->dy + r * NOUT, m = z[0], s = 0;
		long label = (long)t[r];
		for (int k = 1; k < NOUT; k++)
			m = z[k] > m ? z[k] : m;
		for (int k = 0; k < NOUT; k++)
			s += expf(z[k] - m);
		loss += m + logf(s) - z[label];
		for (int k = 0; k < NOUT; k++)
			d[k] = (expf(z[k] - m) / s - (k == label)) / (float)n;
	}
	return loss / (float)n;
}

/* From dy (n x out) and the layer's input x: gw = dy^T x, gb = column
 * sums of dy, and, when dx is not NULL, dx = dy W.  A row of gw is
 * finished before the next is begun, so it stays in L1 while the rows of
 * x stream past. */
static void
backward(Layer *l, const float *x, long n, float *dx)
{
	for (long o = 0; o < l->out; o++) {
		float *gw = l->gw + o * l->in;

		memset(gw, 0, (size_t)l->in * sizeof(float));
		l->gb[o] = 0;
		for (long r = 0; r < n; r++) {
			const float dyo = l->dy[r * l->out + o];
			const float *xr = x + r * l->in;
			l->gb[o] += dyo;
			for (long i = 0; i < l->in; i++)
				gw[i] += dyo * xr[i];
		}
	}
	for (long r = 0; dx && r < n; r++) {
		float *dxr = dx + r * l->in;
		memset(dxr, 0, (size_t)l->in * sizeof(float));
		for (long o = 0; o < l->out; o++) {
			const float dyo = l->dy[r * l->out + o];
			const float *w = l->w + o * l->in;
			for (long i = 0; i < l->in; i++)
				dxr[i] += dyo * w[i];
		}
	}
}

/* dy of the layer below: dx where its ReLU output was positive. */
static void
relu_back(const float *dx, Layer *below, long n)
{
	for (long k = 0; k < n * below->out; k++)
		below->dy[k] = below->y[k] > 0 ? dx[k] : 0;
}

/* SGD with momentum, PyTorch's rule: m = g at first, then 0.9 m + g. */
static void
sgd(void)
{
	if (H.steps == 0)
		memcpy(H.mom, H.g, (size_t)H.np * sizeof(float));
	else
		for (long k = 0; k < H.np; k++)
			H.mom[k] = 0.9f * H.mom[k] + H.g[k];
	for (long k = 0; k < H.np; k++)
		H.p[k] -= 0.01f * H.mom[k];
	H.steps++;
}

static float
step(const float *x, const float *t, long n)
{
	forward(&H.l[0], x, n, 1);
	forward(&H.l[1], H.l[0].y, n, 1);
	forward(&H.l[2], H.l[1].y, n, 0);
	float loss = softmax_xent(&H.l[2], t, n);
	backward(&H.l[2], H.l[1].y, n, H.dx);
	relu_back(H.dx, &H.l[1], n);
	backward(&H.l[1], H.l[0].y, n, H.dx);
	relu_back(H.dx, &H.l[0], n);
	backward(&H.l[0], x, n, NULL);
	sgd();
	return loss;
}

double
bench_train(long steps)
{
	float loss = 0;

	for (long s = 0; s < steps; s++) {
		loss = step(H.x + H.pos * NIN, H.t + H.pos, H.batch);
		H.pos = (H.pos + H.batch) % H.rows;
	}
	return loss;
}
