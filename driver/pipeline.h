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

#endif
