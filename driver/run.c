/*
 * run.c - `dlc run`: hands the JIT-compiled model to the trainer runtime
 * inside dlc.  It fills the runtime's RtModel from the IR module as
 * glue.c's generated NAME_model.c does for a built trainer (same tables,
 * same hash, same train-clause defaults), with function pointers from the
 * JIT, then calls rt_main with the trainer's flags, so the flags and the
 * output are a built trainer's.
 *
 * The file is compiled once per precision, with DLRT_F32 or DLRT_F64;
 * the Makefile links each runtime copy with only its rt_main visible,
 * renamed rt_main_f32 or rt_main_f64, so both live in one dlc.
 */
#include <stdlib.h>
#include <string.h>

#include "dlrt.h"
#include "pipeline.h"

#ifdef DLRT_F64
#define RUN_JIT run_jit_f64
#define RT_MAIN rt_main_f64
#else
#define RUN_JIT run_jit_f32
#define RT_MAIN rt_main_f32
#endif

int RT_MAIN(const RtModel *m, int argc, char **argv);

static const RtOptKind opt_kinds[] = { [OPT_SGD] = RT_SGD,
	[OPT_ADAM] = RT_ADAM, [OPT_ADAMW] = RT_ADAMW };

/* The address of NAME_what in the JIT, stored into a function pointer;
 * a missing one is our bug, since the module always defines them. */
static void
bind(CgJit *j, const IrModule *m, const char *what, void *fnptr)
{
	char name[128];
	void *addr;

	snprintf(name, sizeof name, "%s_%s", m->name, what);
	addr = cg_jit_symbol(j, name);
	if (!addr) {
		fprintf(stderr, "%s:%d: internal error: the JIT has no %s\n",
			__FILE__, __LINE__, name);
		abort();
	}
	memcpy(fnptr, &addr, sizeof addr);
}

static RtParam *
param_table(const IrModule *m)
{
	RtParam *t = calloc((size_t)m->nparams + 1, sizeof *t);

	for (int i = 0; i < m->nparams; i++) {
		const IrParam *p = &m->params[i];
		t[i].name = p->name;
		t[i].rank = p->type.rank;
		for (int d = 0; d < p->type.rank; d++)
			t[i].shape[d] = p->type.dim[d];
		t[i].offset = (size_t)p->offset;
		t[i].size = (size_t)ir_numel(&p->type);
	}
	return t;
}

static RtTarget *
target_table(const IrModule *m)
{
	RtTarget *t = calloc((size_t)m->ntargets + 1, sizeof *t);

	for (int i = 0; i < m->ntargets; i++) {
		t[i].name = m->targets[i].name;
		t[i].cols = (int)ir_numel(&m->targets[i].type);
		t[i].classes = m->targets[i].nclasses;
	}
	return t;
}

static void
fill_train(RtModel *d, const IrTrain *t)
{
	d->optim = (RtOptim){ .kind = opt_kinds[t->opt], .lr = t->lr,
		.momentum = t->momentum, .beta1 = t->beta1,
		.beta2 = t->beta2, .eps = t->eps,
		.weight_decay = t->weight_decay };
	d->epochs = t->epochs;
	d->batch = t->batch;
	d->seed = t->seed;
}

int
RUN_JIT(const IrModule *m, CgJit *j, int argc, char **argv)
{
	RtModel d = { .name = m->name, .hash = cg_model_hash(m),
		.nparams = (size_t)m->param_size, .nparam_table = m->nparams,
		.ninputs = (int)m->input_size, .ntargets = m->ntargets };
	RtParam *params = param_table(m);
	RtTarget *targets = target_table(m);
	int status;

	d.param_table = params;
	d.targets = targets;
	d.noutputs = m->fn.output < 0 ? 0 :
		(int)ir_numel(&m->fn.v[m->fn.output].type);
	fill_train(&d, &m->train);
	bind(j, m, "workspace_size", &d.workspace_size);
	bind(j, m, "init", &d.init);
	bind(j, m, "loss", &d.loss);
	bind(j, m, "loss_grad", &d.loss_grad);
	bind(j, m, "predict", &d.predict);
	status = RT_MAIN(&d, argc, argv);
	free(params);
	free(targets);
	return status;
}
