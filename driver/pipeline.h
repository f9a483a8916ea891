/*
 * pipeline.h - running the passes from the command line.
 */
#ifndef DLC_PIPELINE_H
#define DLC_PIPELINE_H

#include "cg.h"

typedef struct Pipeline {
	int level;                  /* -O0 .. -O3 */
	const char *print_after;    /* --print-after=PASS, or "all" */
	int stats;                  /* --stats: print and stop */
	int wrt_inputs;
	int verify;                 /* check the IR after every stage */
} Pipeline;

/* Runs the stages after `from` through `to` (stage indices).  Returns
 * nonzero when the run is over: --stats printed instead. */
int run_pipeline(IrModule *m, const Pipeline *p, int from, int to,
	const CgOptions *co);

/*
 * run.c, built once per precision: `dlc run` trains the JIT-compiled
 * module with the runtime linked into dlc, through an RtModel filled
 * here as the generated glue fills it for a trainer.  argv[0] is the
 * name messages use; the rest are the trainer's flags.
 */
int run_jit_f32(const IrModule *m, CgJit *j, int argc, char **argv);
int run_jit_f64(const IrModule *m, CgJit *j, int argc, char **argv);

#endif
