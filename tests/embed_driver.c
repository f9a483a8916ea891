/*
 * embed_driver.c - a tiny program over one model's generated API, for
 * test_embed.c: it is compiled with -DMODEL=name and -include name.h, so
 * it sees only what an embedding program sees.  It reads numbers from
 * stdin and prints results with 17 digits, one per line:
 *
 *   table              the parameter table, then sizeof checks
 *   defaults           NAME_optim_default's fields
 *   init SEED          the parameters NAME_init gives
 *   grad B             reads params, B rows of inputs and of targets;
 *                      prints loss_grad's loss and gradient, loss,
 *                      predict's outputs, then predict_one's
 *   step K N           reads the optimiser (kind lr momentum nesterov
 *                      beta1 beta2 eps weight_decay), params, then N
 *                      gradients; prints the params after each step
 *
 * Parameters travel as one flat array in table order, and are moved in
 * and out of the struct through the table's offsets, as a program that
 * does not know the model would.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GLUE_(a, b) a##_##b
#define GLUE(a, b) GLUE_(a, b)
#define API(x) GLUE(MODEL, x)

typedef API(real) real;
typedef API(params) params;

static double
next(void)
{
	double v;

	if (scanf("%lf", &v) != 1) {
		fprintf(stderr, "embed_driver: input ended early\n");
		exit(2);
	}
	return v;
}

static void
read_params(params *p)
{
	real flat[API(NPARAMS) + 1];

	for (size_t i = 0; i < (size_t)API(NPARAMS); i++)
		flat[i] = (real)next();
	for (int k = 0; k < API(NTENSORS); k++) {
		const API(param_info) *t = &API(param_table)[k];
		memcpy((char *)p + t->offset * sizeof(real), flat + t->offset,
			t->count * sizeof(real));
	}
}

static void
print_params(const params *p)
{
	for (int k = 0; k < API(NTENSORS); k++) {
		const API(param_info) *t = &API(param_table)[k];
		for (size_t i = 0; i < t->count; i++) {
			real v;
			memcpy(&v, (const char *)p + (t->offset + i) *
				sizeof(real), sizeof v);
			printf("%.17g\n", (double)v);
		}
	}
}

static void
table(void)
{
	for (int k = 0; k < API(NTENSORS); k++) {
		const API(param_info) *t = &API(param_table)[k];
		printf("%s %s %zu %zu %d %zu %zu %zu %zu\n", t->name, t->field,
			t->offset, t->count, t->rank, t->shape[0], t->shape[1],
			t->shape[2], t->shape[3]);
	}
	printf("sizeof %d\n", sizeof(params) == (API(NPARAMS) > 0 ?
		API(NPARAMS) : 1) * sizeof(real));
}

static void
defaults(void)
{
	API(optim) o;

	API(optim_default)(&o);
	printf("%d\n%.17g\n%.17g\n%d\n%.17g\n%.17g\n%.17g\n%.17g\n",
		(int)o.kind, o.lr, o.momentum, o.nesterov, o.beta1, o.beta2,
		o.eps, o.weight_decay);
}

static void
init(unsigned long long seed)
{
	params p;

	API(init)(&p, seed);
	print_params(&p);
}

static real *
read_rows(size_t n)
{
	real *r = malloc((n + 1) * sizeof *r);

	for (size_t i = 0; i < n; i++)
		r[i] = (real)next();
	return r;
}

static void
grad(size_t batch)
{
	params p, g;
	real *in, *tg, *out, one[API(NOUTPUTS) + 1];
	void *ws = malloc(API(workspace_size)(batch));
	size_t nout = (size_t)API(NOUTPUTS);

	read_params(&p);
	in = read_rows(batch * API(NINPUTS));
	tg = read_rows(batch * API(NTARGETS));
	out = malloc((batch * nout + 1) * sizeof *out);
	printf("%.17g\n", (double)API(loss_grad)(&p, &g, in, tg, batch, ws));
	print_params(&g);
	printf("%.17g\n", (double)API(loss)(&p, in, tg, batch, ws));
	API(predict)(&p, in, batch, out, ws);
	for (size_t i = 0; i < batch * nout; i++)
		printf("%.17g\n", (double)out[i]);
	for (size_t b = 0; b < batch; b++) {
		API(predict_one)(&p, in + b * API(NINPUTS), one, ws);
		for (size_t i = 0; i < nout; i++)
			printf("%.17g\n", (double)one[i]);
	}
	free(ws), free(in), free(tg), free(out);
}

static void
step(int nsteps)
{
	API(optim) o;
	API(optim_state) s;
	params p, g;

	o.kind = (API(optimizer))(int)next();
	o.lr = next(), o.momentum = next(), o.nesterov = (int)next();
	o.beta1 = next(), o.beta2 = next(), o.eps = next();
	o.weight_decay = next();
	read_params(&p);
	API(optim_state_init)(&s);
	for (int t = 0; t < nsteps; t++) {
		read_params(&g);
		API(step)(&p, &g, &s, &o);
		print_params(&p);
	}
	printf("steps %llu\n", (unsigned long long)s.step);
}

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "table") == 0)
		table();
	else if (argc > 1 && strcmp(argv[1], "defaults") == 0)
		defaults();
	else if (argc > 2 && strcmp(argv[1], "init") == 0)
		init(strtoull(argv[2], NULL, 10));
	else if (argc > 2 && strcmp(argv[1], "grad") == 0)
		grad((size_t)atol(argv[2]));
	else if (argc > 2 && strcmp(argv[1], "step") == 0)
		step(atoi(argv[2]));
	else
		return 2;
	return 0;
}
