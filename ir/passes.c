/*
 * passes.c - the optimisation pipeline: which passes run at each -O level,
 * in what order, with a hook after each so the driver can print or verify.
 */
#include <string.h>

#include "ir.h"

typedef struct Pass {
	const char *name;
	void (*run)(IrFunc *f);
	int level;              /* the lowest -O level that runs it */
} Pass;

/* Folding first exposes identities; CSE then merges what simplification
 * made equal; DCE drops the rest.  -O3 runs the sequence twice. */
static const Pass pipeline[] = {
	{ "fold", ir_fold, 2 },
	{ "simplify", ir_simplify, 2 },
	{ "cse", ir_cse, 1 },
	{ "dce", ir_dce, 1 },
};

int
ir_no_hook(const IrModule *m, const char *pass, void *ctx)
{
	(void)m, (void)pass, (void)ctx;
	return 0;
}

int
ir_pass_exists(const char *name)
{
	if (strcmp(name, "forward") == 0 || strcmp(name, "grad") == 0 ||
	    strcmp(name, "opt") == 0)
		return 1;
	for (size_t i = 0; i < sizeof pipeline / sizeof pipeline[0]; i++)
		if (strcmp(pipeline[i].name, name) == 0)
			return 1;
	return 0;
}

/*
 * Differentiates and optimises m at `level`, calling after(m, name) after
 * the forward function is complete ("forward"), after differentiation
 * ("grad"), after each pass, and at the end ("opt").  A nonzero return
 * from `after` stops the pipeline there.
 */
int
ir_optimise(IrModule *m, int level, IrPassHook after, void *ctx)
{
	if (after(m, "forward", ctx))
		return 1;
	ir_grad(m);
	if (after(m, "grad", ctx))
		return 1;
	for (int round = 0; round < (level >= 3 ? 2 : 1); round++)
		for (size_t i = 0; i < sizeof pipeline / sizeof pipeline[0]; i++) {
			if (level < pipeline[i].level)
				continue;
			pipeline[i].run(&m->fn);
			if (after(m, pipeline[i].name, ctx))
				return 1;
		}
	return after(m, "opt", ctx);
}
