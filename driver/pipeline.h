/*
 * pipeline.h - running the passes from the command line.
 */
#ifndef DLC_PIPELINE_H
#define DLC_PIPELINE_H

#include "cg.h"

typedef struct Pipeline {
	int level;                  /* -O0 .. -O3 */
	const char *stop;           /* --emit=ir=PASS: print and stop */
	const char *print_after;    /* --print-after=PASS, or "all" */
	int stats;                  /* --stats: print and stop */
	int wrt_inputs;
} Pipeline;

/* Nonzero when the run is over (something was printed instead). */
int run_pipeline(IrModule *m, const Pipeline *p, const CgOptions *co);

#endif
