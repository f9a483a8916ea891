/*
 * dlrt.h - the trainer runtime: data loading, the training loop and the
 * command line of a trainer binary.
 *
 * The runtime knows a model only through an RtModel descriptor, which
 * dlc generates beside the model's C code.  The library is built once per
 * precision: define DLRT_F64 for double.
 */
#ifndef DLRT_H
#define DLRT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef DLRT_F64
typedef double rt_real;
#else
typedef float rt_real;
#endif

/* What the runtime can call; parameters are a flat array of rt_real. */
typedef struct RtModel {
	const char *name;
	int nparams, ninputs, ntargets, noutputs;
	const char *const *param_names;

	const char *optimizer;
	double lr, momentum;
	long epochs, batch;
	unsigned long long seed;

	size_t (*workspace_size)(size_t batch);
	void (*init)(rt_real *params, uint64_t seed);
	rt_real (*loss)(const rt_real *params, const rt_real *inputs,
		const rt_real *targets, size_t n, void *workspace);
	rt_real (*loss_grad)(const rt_real *params, rt_real *grad,
		const rt_real *inputs, const rt_real *targets, size_t n,
		void *workspace);
	void (*predict)(const rt_real *params, const rt_real *inputs,
		size_t n, rt_real *out, void *workspace);
} RtModel;

/* data.c: a table of examples, inputs and targets split apart. */
typedef struct RtData {
	size_t n;               /* examples */
	int ninputs, ntargets;
	rt_real *inputs;        /* n rows of ninputs */
	rt_real *targets;       /* n rows of ntargets */
} RtData;

int rt_read_csv(const char *path, int ninputs, int ntargets, RtData *d,
	char *err, size_t errlen);
void rt_data_free(RtData *d);

/* rng.c: the one seeded generator, so runs repeat exactly. */
typedef struct RtRng {
	uint64_t state;
} RtRng;

void rt_rng_seed(RtRng *r, uint64_t seed);
uint64_t rt_rng_next(RtRng *r);
size_t rt_rng_below(RtRng *r, size_t n);

/* train.c */
typedef struct RtConfig {
	const char *data_path;
	const char *log_path;
	long epochs, batch;
	double lr, momentum;
	uint64_t seed;
	int quiet;
} RtConfig;

int rt_train(const RtModel *m, const RtConfig *c, const RtData *d,
	rt_real *params, FILE *log);

/* main.c: the whole trainer; the generated glue's main() calls it. */
int rt_main(const RtModel *m, int argc, char **argv);

#endif
