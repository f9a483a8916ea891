/*
 * passes.c - the stages a module goes through and the optimisation
 * pipeline: which passes run at each -O level, in what order, with a hook
 * after each so the driver can print, verify or stop.
 *
 * Stages, in order: forward (what lowering gives), grad (after reverse
 * mode), then each optimisation pass, and opt (the finished function).
 */
#include <string.h>

#include "ir.h"

typedef struct Pass {
	const char *name;
	void (*run)(IrFunc *f);
	int level;              /* the lowest -O level that runs it */
} Pass;

/* Folding first exposes identities; CSE then merges what simplification
 * made equal; DCE drops the rest; scheduling puts what is the same for every
 * example first.  -O3 runs the sequence twice. */
static const Pass pipeline[] = {
	{ "fold", ir_fold, 2 },
	{ "simplify", ir_simplify, 2 },
	{ "cse", ir_cse, 1 },
	{ "dce", ir_dce, 1 },
	{ "schedule", ir_schedule, 1 },
};

enum {
	NPASSES = sizeof pipeline / sizeof pipeline[0],
	STAGE_GRAD = 1,
	STAGE_OPT = NPASSES + 2,
};

const char *
ir_stage_name(int i)
{
	if (i == 0)
		return "forward";
	if (i == STAGE_GRAD)
		return "grad";
	if (i == STAGE_OPT)
		return "opt";
	return i > STAGE_GRAD && i < STAGE_OPT ? pipeline[i - 2].name : NULL;
}

int
ir_stage_index(const char *name)
{
	for (int i = 0; i <= STAGE_OPT; i++)
		if (strcmp(ir_stage_name(i), name) == 0)
			return i;
	return -1;
}

int
ir_pass_exists(const char *name)
{
	return ir_stage_index(name) >= 0;
}

int
ir_no_hook(const IrModule *m, const char *pass, void *ctx)
{
	(void)m, (void)pass, (void)ctx;
	return 0;
}

/*
 * Runs the stages after `from` (a stage index: 0 when m comes straight
 * from lowering) at -O`level`, calling after(m, name, ctx) after each
 * stage that runs, "forward" included when from is 0.  A nonzero return
 * from `after` stops there and is returned.
 */
int
ir_optimise(IrModule *m, int level, int from, IrPassHook after, void *ctx)
{
	int stop;

	if (from == 0 && (stop = after(m, "forward", ctx)))
		return stop;
	if (from < STAGE_GRAD) {
		ir_grad(m);
		if ((stop = after(m, "grad", ctx)))
			return stop;
	}
	for (int round = 0; round < (level >= 3 ? 2 : 1); round++)
		for (int i = 0; i < NPASSES; i++) {
			if (level < pipeline[i].level ||
			    (round == 0 && i + 2 <= from))
				continue;
			pipeline[i].run(&m->fn);
			if ((stop = after(m, pipeline[i].name, ctx)))
				return stop;
		}
	return after(m, "opt", ctx);
}

typedef struct Until {
	const char *last;
	int verify;
} Until;

static int
verify_until(const IrModule *m, const char *pass, void *ctx)
{
	const Until *u = ctx;

	if (u->verify && ir_verify(m, pass))
		return 2;
	return strcmp(pass, u->last) == 0;
}

int
ir_run_stages(IrModule *m, int from, int to, int verify)
{
	Until u = { ir_stage_name(to), verify };

	if (to <= from)
		return 0;
	return ir_optimise(m, 2, from, verify_until, &u) == 2;
}
