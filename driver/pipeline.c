/*
 * pipeline.c - the driver's view of the optimisation pipeline: -O levels,
 * printing the IR after a pass (--emit=ir=PASS, --print-after=PASS), and
 * --stats.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cg.h"
#include "pipeline.h"

typedef struct Hook {
	const Pipeline *p;
	const char *last;           /* the stage to stop after */
	IrStats forward, grad;
} Hook;

static IrStats
stats_of(const IrModule *m, int with_grad)
{
	const IrFunc *f = &m->fn;
	int root[1024], n = 0;

	root[n++] = f->loss;
	for (int i = 0; with_grad && i < m->nparams && n < 1024; i++)
		if (f->grad[i] >= 0)
			root[n++] = f->grad[i];
	return ir_stats(f, root, n);
}

static int
after_pass(const IrModule *m, const char *pass, void *ctx)
{
	Hook *h = ctx;
	const Pipeline *p = h->p;

	if (p->print_after && (strcmp(p->print_after, pass) == 0 ||
	    strcmp(p->print_after, "all") == 0)) {
		fflush(stdout);
		ir_print(m, pass);
		fflush(stdout);
	}
	if (strcmp(pass, "forward") == 0)
		h->forward = stats_of(m, 0);
	if (strcmp(pass, "grad") == 0)
		h->grad = stats_of(m, 1);
	if (p->verify && ir_verify(m, pass))
		abort();    /* a pass broke an invariant: a compiler bug */
	return strcmp(pass, h->last) == 0;
}

static double
at_batch(IrStats s, long batch)
{
	return s.flops_example * (double)batch + s.flops_batch;
}

static void
print_stats(const IrModule *m, const Hook *h, const CgOptions *co)
{
	IrStats opt = stats_of(m, 1), loss = stats_of(m, 0);
	long batch = m->train.batch, size_b, size_c;
	size_t real = co->precision == CG_F32 ? 4 : 8;

	printf("%-22s %6s %16s %14s\n", "stage", "ops", "flops/example",
		"flops/batch");
	printf("%-22s %6d %16.0f %14.0f\n", "forward (loss)", h->forward.ops,
		h->forward.flops_example, h->forward.flops_batch);
	printf("%-22s %6d %16.0f %14.0f\n", "grad (loss+gradient)",
		h->grad.ops, h->grad.flops_example, h->grad.flops_batch);
	printf("%-22s %6d %16.0f %14.0f\n", "opt (loss alone)", loss.ops,
		loss.flops_example, loss.flops_batch);
	printf("%-22s %6d %16.0f %14.0f\n", "opt (loss+gradient)", opt.ops,
		opt.flops_example, opt.flops_batch);
	printf("gradient cost at batch %ld: %.2f times the loss alone\n", batch,
		at_batch(opt, batch) / at_batch(loss, batch));
	cg_workspace(m, &size_b, &size_c);
	printf("peak intermediates: %ld bytes per example + %ld bytes, "
		"%ld bytes at batch %ld\n", size_b * (long)real,
		size_c * (long)real, (size_b * batch + size_c) * (long)real,
		batch);
}

int
run_pipeline(IrModule *m, const Pipeline *p, int from, int to,
	const CgOptions *co)
{
	Hook h = { .p = p, .last = ir_stage_name(to) };

	if (to > from) {
		m->wrt_inputs = p->wrt_inputs;
		ir_optimise(m, p->level, from, after_pass, &h);
	}
	if (p->stats) {
		print_stats(m, &h, co);
		return 1;
	}
	return 0;
}
