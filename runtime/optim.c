/*
 * optim.c - the optimisers, as PyTorch defines them, so that a model
 * moved between the two trains the same way; learning-rate schedules; and
 * gradient clipping by global norm.
 *
 * Arithmetic follows PyTorch's order of operations (in rt_real), so a
 * step matches theirs to the last bit when the inputs do.
 */
#include <math.h>

#include "dlrt.h"

/*
 * SGD, with weight decay wd, momentum mu and dampening 0:
 *   g = grad + wd * p
 *   b = g on the first step, else b = mu * b + g
 *   g = g + mu * b with Nesterov, else g = b
 *   p = p - lr * g
 */
static void
sgd(const RtOptim *o, rt_real lr, RtState *s, const rt_real *grad)
{
	rt_real wd = (rt_real)o->weight_decay, mu = (rt_real)o->momentum;

	for (size_t i = 0; i < s->nparams; i++) {
		rt_real g = grad[i], *b = &s->buf1[i];
		if (wd != 0)
			g = g + wd * s->params[i];
		if (mu != 0) {
			*b = s->step == 0 ? g : mu * *b + g;
			g = o->nesterov ? g + mu * *b : *b;
		}
		s->params[i] -= lr * g;
	}
}

/*
 * Adam (AdamW when decoupled), step t counted from 1:
 *   AdamW: p = p * (1 - lr * wd);  Adam: g = grad + wd * p
 *   m = m + (g - m) * (1 - beta1)
 *   v = v * beta2 + (1 - beta2) * g * g
 *   p = p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 */
static void
adam(const RtOptim *o, rt_real lr, RtState *s, const rt_real *grad,
	int decoupled)
{
	rt_real b1 = (rt_real)o->beta1, b2 = (rt_real)o->beta2;
	rt_real eps = (rt_real)o->eps, wd = (rt_real)o->weight_decay;
	double t = (double)(s->step + 1);
	rt_real bc1 = (rt_real)(1 - pow(o->beta1, t));
	rt_real bc2_sqrt = (rt_real)sqrt(1 - pow(o->beta2, t));
	rt_real step_size = lr / bc1;

	for (size_t i = 0; i < s->nparams; i++) {
		rt_real g = grad[i], *m = &s->buf1[i], *v = &s->buf2[i];
		rt_real *p = &s->params[i];
		if (decoupled)
			*p = *p * (1 - lr * wd);
		else if (wd != 0)
			g = g + wd * *p;
		*m = *m + (g - *m) * (1 - b1);
		*v = *v * b2 + (1 - b2) * g * g;
		rt_real denom = (rt_real)sqrt(*v) / bc2_sqrt + eps;
		*p = *p - step_size * (*m / denom);
	}
}

void
rt_optim_step(const RtOptim *o, double lr, RtState *s, const rt_real *grad)
{
	if (o->kind == RT_SGD)
		sgd(o, (rt_real)lr, s, grad);
	else
		adam(o, (rt_real)lr, s, grad, o->kind == RT_ADAMW);
	s->step++;
}

/*
 * constant: lr
 * step:     lr * gamma^floor((e - 1) / step_size)
 * cosine:   lr * (1 + cos(pi * (e - 1) / epochs)) / 2, reaching 0 after
 *           the last epoch (PyTorch's CosineAnnealingLR, eta_min 0)
 */
double
rt_schedule_lr(RtSchedule sched, double lr, long e, long epochs,
	long step_size, double gamma)
{
	const double pi = 3.14159265358979323846;

	if (sched == RT_STEP)
		return lr * pow(gamma, (double)((e - 1) / step_size));
	if (sched == RT_COSINE)
		return lr * (1 + cos(pi * (double)(e - 1) / (double)epochs))
			/ 2;
	return lr;
}

/* PyTorch's clip_grad_norm_: scale by max / (norm + 1e-6) when above. */
double
rt_clip(rt_real *grad, size_t n, double max_norm)
{
	double sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += (double)grad[i] * (double)grad[i];
	double norm = sqrt(sum), coef = max_norm / (norm + 1e-6);
	if (max_norm > 0 && coef < 1)
		for (size_t i = 0; i < n; i++)
			grad[i] = (rt_real)(grad[i] * (rt_real)coef);
	return norm;
}
