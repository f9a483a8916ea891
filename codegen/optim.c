/*
 * optim.c - the optimisers in NAME.c: NAME_optim_default (the train
 * clause's settings), NAME_optim_state_init and NAME_step.
 *
 * The rules are PyTorch's (torch.optim.SGD with dampening 0, Adam and
 * AdamW without amsgrad), and so is the order of the arithmetic: scalar
 * factors such as the bias corrections are formed in double, as PyTorch
 * forms them in Python, and rounded once to NAME_real; element-wise work
 * is in NAME_real, as PyTorch's is in the tensor's type.  One loop per
 * parameter tensor, over plain arrays, so the compiler can vectorise it.
 */
#include <string.h>

#include "cg.h"

static const char sgd_source[] =
"\n/*\n"
" * SGD over n elements, PyTorch's rule with dampening 0:\n"
" *   g += wd * p;  m = g on the first step, else m = momentum * m + g;\n"
" *   g = nesterov ? g + momentum * m : m;  p -= lr * g\n"
" * Plain SGD and momentum without weight decay or Nesterov, the common\n"
" * settings, get loops free of branches, which the compiler vectorises;\n"
" * each computes what the general loop would.\n"
" */\n"
"static void\n@_sgd(@_real *restrict p, const @_real *restrict grad,\n"
"\t@_real *restrict m, size_t n, const @_optim *o, int first)\n{\n"
"\tconst @_real lr = (@_real)o->lr, mu = (@_real)o->momentum;\n"
"\tconst @_real wd = (@_real)o->weight_decay;\n"
"\tconst int nesterov = o->nesterov;\n\n"
"\tif (wd == 0 && mu == 0) {\n"
"\t\tfor (size_t i = 0; i < n; i++)\n"
"\t\t\tp[i] = p[i] - lr * grad[i];\n"
"\t} else if (wd == 0 && !nesterov && first) {\n"
"\t\tfor (size_t i = 0; i < n; i++) {\n"
"\t\t\tm[i] = grad[i];\n"
"\t\t\tp[i] = p[i] - lr * m[i];\n"
"\t\t}\n"
"\t} else if (wd == 0 && !nesterov) {\n"
"\t\tfor (size_t i = 0; i < n; i++) {\n"
"\t\t\tm[i] = mu * m[i] + grad[i];\n"
"\t\t\tp[i] = p[i] - lr * m[i];\n"
"\t\t}\n"
"\t} else {\n"
"\t\tfor (size_t i = 0; i < n; i++) {\n"
"\t\t\t@_real g = grad[i];\n"
"\t\t\tif (wd != 0)\n\t\t\t\tg = g + wd * p[i];\n"
"\t\t\tif (mu != 0) {\n"
"\t\t\t\tm[i] = first ? g : mu * m[i] + g;\n"
"\t\t\t\tg = nesterov ? g + mu * m[i] : m[i];\n"
"\t\t\t}\n"
"\t\t\tp[i] = p[i] - lr * g;\n"
"\t\t}\n"
"\t}\n}\n";

static const char adam_source[] =
"\n/* Adam's per-step factors, rounded once from double. */\n"
"typedef struct @_adam_k {\n"
"\t@_real decay;           /* adamw: 1 - lr * wd, else 1 */\n"
"\t@_real wd;              /* adam: the L2 term, else 0 */\n"
"\t@_real w1;              /* 1 - beta1, the weight of lerp */\n"
"\t@_real beta2, w2;       /* beta2 and 1 - beta2 */\n"
"\t@_real step_size;       /* lr / (1 - beta1^t) */\n"
"\t@_real bc2_sqrt;        /* sqrt(1 - beta2^t) */\n"
"\t@_real eps;\n"
"} @_adam_k;\n"
"\n"
"/*\n"
" * Adam or AdamW over n elements, PyTorch's rule:\n"
" *   adamw: p *= 1 - lr * wd;  adam: g += wd * p\n"
" *   m = lerp(m, g, 1 - beta1);  v = v * beta2 + (1 - beta2) * g * g\n"
" *   p -= step_size * (m / (sqrt(v) / bc2_sqrt + eps))\n"
" * lerp(a, b, w) is a + w * (b - a) for w < 0.5, else\n"
" * b - (b - a) * (1 - w), as PyTorch computes it.  Plain Adam with its\n"
" * usual beta1 gets a loop free of branches, computing the same.\n"
" */\n"
"static void\n@_adam(@_real *restrict p, const @_real *restrict grad,\n"
"\t@_real *restrict m, @_real *restrict v, size_t n,\n"
"\tconst @_adam_k *k)\n{\n"
"\tif (k->decay == 1 && k->wd == 0 && k->w1 < (@_real)0.5) {\n"
"\t\tfor (size_t i = 0; i < n; i++) {\n"
"\t\t\tm[i] = m[i] + k->w1 * (grad[i] - m[i]);\n"
"\t\t\tv[i] = v[i] * k->beta2 + k->w2 * grad[i] * grad[i];\n"
"\t\t\tp[i] = p[i] - k->step_size * (m[i] / (sqrt$(v[i]) /\n"
"\t\t\t\tk->bc2_sqrt + k->eps));\n"
"\t\t}\n"
"\t\treturn;\n"
"\t}\n"
"\tfor (size_t i = 0; i < n; i++) {\n"
"\t\t@_real g = grad[i];\n"
"\t\tif (k->decay != 1)\n\t\t\tp[i] = p[i] * k->decay;\n"
"\t\tif (k->wd != 0)\n\t\t\tg = g + k->wd * p[i];\n"
"\t\tm[i] = k->w1 < (@_real)0.5 ? m[i] + k->w1 * (g - m[i]) :\n"
"\t\t\tg - (g - m[i]) * (1 - k->w1);\n"
"\t\tv[i] = v[i] * k->beta2 + k->w2 * g * g;\n"
"\t\tp[i] = p[i] - k->step_size * (m[i] / (sqrt$(v[i]) /\n"
"\t\t\tk->bc2_sqrt + k->eps));\n"
"\t}\n}\n"
"\n"
"static @_adam_k\n@_adam_factors(const @_optim *o, uint64_t step)\n{\n"
"\tconst double t = (double)step + 1;\n"
"\tconst int decoupled = o->kind == @_ADAMW;\n"
"\t@_adam_k k;\n\n"
"\tk.decay = (@_real)(decoupled ? 1 - o->lr * o->weight_decay : 1);\n"
"\tk.wd = (@_real)(decoupled ? 0 : o->weight_decay);\n"
"\tk.w1 = (@_real)(1 - o->beta1);\n"
"\tk.beta2 = (@_real)o->beta2;\n"
"\tk.w2 = (@_real)(1 - o->beta2);\n"
"\tk.step_size = (@_real)(o->lr / (1 - pow(o->beta1, t)));\n"
"\tk.bc2_sqrt = (@_real)sqrt(1 - pow(o->beta2, t));\n"
"\tk.eps = (@_real)o->eps;\n"
"\treturn k;\n}\n";

/* The arguments that hand parameter i's arrays to an update. */
static void
arrays(const IrModule *m, int i, const char *const *owners, int n,
	FILE *f)
{
	char field[160];
	int scalar = m->params[i].type.rank == 0;

	cg_param_field(m, i, field, sizeof field);
	for (int k = 0; k < n; k++)
		fprintf(f, "%s%s%s%s", k ? ", " : "", scalar ? "&" : "",
			owners[k], field);
	fprintf(f, ", %ld", ir_numel(&m->params[i].type));
}

static void
emit_step(const IrModule *m, FILE *f)
{
	static const char *const sgd_args[] = { "p->", "grad->", "s->m." };
	static const char *const adam_args[] = {
		"p->", "grad->", "s->m.", "s->v." };
	const char *n = m->name;

	fprintf(f, "\nvoid\n%s_step(%s_params *p, const %s_params *grad, "
		"%s_optim_state *s,\n\tconst %s_optim *o)\n{\n", n, n, n, n, n);
	fprintf(f, "\tif (o->kind == %s_SGD) {\n", n);
	fprintf(f, "\t\tconst int first = s->step == 0;\n\n\t\t(void)first;\n");
	for (int i = 0; i < m->nparams; i++) {
		fprintf(f, "\t\t%s_sgd(", n);
		arrays(m, i, sgd_args, 3, f);
		fprintf(f, ", o, first);\n");
	}
	fprintf(f, "\t} else {\n");
	fprintf(f, "\t\tconst %s_adam_k k = %s_adam_factors(o, s->step);\n\n"
		"\t\t(void)k;\n", n, n);
	for (int i = 0; i < m->nparams; i++) {
		fprintf(f, "\t\t%s_adam(", n);
		arrays(m, i, adam_args, 4, f);
		fprintf(f, ", &k);\n");
	}
	fprintf(f, "\t}\n\t(void)p, (void)grad;\n\ts->step++;\n}\n");
}

/* The train clause's values; Adam's numbers under sgd, and momentum under
 * adam, are PyTorch's defaults, ready if the caller changes the kind. */
static void
emit_default(const IrModule *m, FILE *f)
{
	static const char *const kinds[] = {
		[OPT_SGD] = "SGD", [OPT_ADAM] = "ADAM", [OPT_ADAMW] = "ADAMW" };
	const IrTrain *t = &m->train;
	int adam = t->opt != OPT_SGD;
	const char *n = m->name;

	fprintf(f, "\nvoid\n%s_optim_default(%s_optim *o)\n{\n", n, n);
	fprintf(f, "\to->kind = %s_%s;\n", n, kinds[t->opt]);
	fprintf(f, "\to->lr = %.17g;\n", t->lr);
	fprintf(f, "\to->momentum = %.17g;\n", adam ? 0 : t->momentum);
	fprintf(f, "\to->nesterov = 0;\n");
	fprintf(f, "\to->beta1 = %.17g;\n", adam ? t->beta1 : 0.9);
	fprintf(f, "\to->beta2 = %.17g;\n", adam ? t->beta2 : 0.999);
	fprintf(f, "\to->eps = %.17g;\n", adam ? t->eps : 1e-8);
	fprintf(f, "\to->weight_decay = %.17g;\n}\n", t->weight_decay);
}

static void
emit_state_init(const IrModule *m, FILE *f)
{
	const char *n = m->name;
	char field[160];

	fprintf(f, "\nvoid\n%s_optim_state_init(%s_optim_state *s)\n{\n", n,
		n);
	for (int i = 0; i < m->nparams; i++) {
		cg_param_field(m, i, field, sizeof field);
		if (m->params[i].type.rank == 0)
			fprintf(f, "\ts->m.%s = s->v.%s = 0;\n", field, field);
		else
			fprintf(f, "\tfor (size_t i = 0; i < %ld; i++)\n"
				"\t\ts->m.%s[i] = s->v.%s[i] = 0;\n",
				ir_numel(&m->params[i].type), field, field);
	}
	if (m->nparams == 0)
		fprintf(f, "\ts->m.unused = s->v.unused = 0;\n");
	fprintf(f, "\ts->step = 0;\n}\n");
}

/* Text with '@' replaced by the module name and '$' by libm's suffix
 * for the precision ("f" for float). */
static void
fill(FILE *f, const char *text, const IrModule *m, const CgOptions *o)
{
	for (; *text; text++)
		if (*text == '@')
			fputs(m->name, f);
		else if (*text == '$')
			fputs(o->precision == CG_F32 ? "f" : "", f);
		else
			fputc(*text, f);
}

void
cg_emit_optim(const IrModule *m, const CgOptions *o, FILE *f)
{
	emit_default(m, f);
	emit_state_init(m, f);
	fill(f, sgd_source, m, o);
	fill(f, adam_source, m, o);
	emit_step(m, f);
}
