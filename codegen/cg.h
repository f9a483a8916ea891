/*
 * cg.h - code generators: IR module to C source.
 *
 * cg_emit_c() writes NAME.h and NAME.c: a self-contained C99 API over the
 * model (parameters struct, init, loss, fused loss-and-gradient, predict)
 * that needs only libm.  cg_emit_glue() writes the small file that adapts
 * that API to the trainer runtime's model descriptor.
 */
#ifndef DLC_CG_H
#define DLC_CG_H

#include <stdio.h>

#include "ir.h"

typedef enum CgPrecision { CG_F32, CG_F64 } CgPrecision;

typedef struct CgOptions {
	CgPrecision precision;
	const Source *src;      /* quoted in comments; may be NULL */
} CgOptions;

void cg_emit_header(const IrModule *m, const CgOptions *o, FILE *out);
void cg_emit_source(const IrModule *m, const CgOptions *o, FILE *out);
void cg_emit_glue(const IrModule *m, const CgOptions *o, FILE *out);

/* A .dl name as a C identifier that cannot clash with C or with ours. */
const char *cg_ident(const char *name, char *buf, size_t n);

#endif
