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

#include <stdint.h>
#include <stdio.h>

#include "ir.h"

typedef enum CgPrecision { CG_F32, CG_F64 } CgPrecision;

typedef struct CgOptions {
	CgPrecision precision;
	const Source *src;      /* quoted in comments; may be NULL */
	int input_grad;         /* declare NAME_loss_grad_inputs (--wrt=inputs) */
} CgOptions;

void cg_emit_header(const IrModule *m, const CgOptions *o, FILE *out);
void cg_emit_source(const IrModule *m, const CgOptions *o, FILE *out);

/* The workspace NAME_workspace_size() asks for, in elements: size_b per
 * example plus size_c, the most any generated function needs. */
void cg_workspace(const IrModule *m, long *size_b, long *size_c);
void cg_emit_glue(const IrModule *m, const CgOptions *o, FILE *out);

/* glue.c: the fingerprint of the model's interface that checkpoints
 * carry (RtModel.hash), for `dlc run`'s in-process descriptor too. */
uint64_t cg_model_hash(const IrModule *m);

/* plan.c: the public functions every backend emits, and the IR roots each
 * computes (fills root, returns how many). */
typedef enum CgEntry {
	CG_LOSS, CG_LOSS_GRAD, CG_LOSS_GRAD_INPUTS, CG_PREDICT, CG_NENTRIES
} CgEntry;

int cg_entry_roots(const IrModule *m, CgEntry which, int *root);

/* kernels.c: the generated GEMM and transpose routines, as templates. */
extern const char cg_gemm_source[];
extern const char cg_independent_source[];

/* plan.c: where each value of one generated function lives.  buf[id] is
 * the value's buffer (-1 when it is read in place or not live); buffer k
 * starts at off_b[k] * batch + off_c[k] elements into the workspace.
 * Values marked in `scalar` (may be NULL) live in registers: no buffer. */
typedef struct CgPlan {
	int *buf;
	int nbuf;
	long *off_b, *off_c;
	long size_b, size_c;
} CgPlan;

int cg_stored(const IrValue *v);

/* plan.c: whether value id has storage a product can point at (not a
 * constant or iota). */
int cg_addressable(const IrFunc *f, int id);
void cg_plan(const IrFunc *f, const char *live, const int *roots, int nroots,
	const char *scalar, CgPlan *p);

/* plan.c: per value, its last live reader (a read through a batch
 * broadcast counts as a read of what it reads), INT_MAX for roots, -1 for
 * none; the caller frees it. */
int *cg_last_uses(const IrFunc *f, const char *live, const int *roots,
	int nroots);
void cg_plan_free(CgPlan *p);

/* tables.c: the parameter table, workspace size and initialiser; the
 * workspace holds size_b elements per example plus size_c. */
void cg_emit_tables(const IrModule *m, const CgOptions *o, FILE *f,
	long size_b, long size_c);

/* names.c: the C field of parameter i (a .dl name renamed when a keyword,
 * a library macro or a name of ours could capture it; one-to-one), the
 * header's include guard, and text made safe inside a comment or a
 * string literal. */
const char *cg_param_field(const IrModule *m, int i, char *buf, size_t n);
void cg_guard(const IrModule *m, char *buf, size_t n);
void cg_comment_safe(FILE *out, const char *s, size_t len);
void cg_string_safe(FILE *out, const char *s);

/* names.c: text with every '@' replaced by the module name. */
void cg_template(FILE *f, const char *text, const char *name);

/* optim.c: optimiser state, defaults from the train clause, NAME_step. */
void cg_emit_optim(const IrModule *m, const CgOptions *o, FILE *f);

/*
 * llvm_out.c (or llvm_none.c in a build without LLVM): the LLVM backend.
 * It builds the same C API as c.c writes, as an LLVM module, and writes
 * it as textual IR, bitcode or an object file, or runs it in process.
 */
typedef struct CgLlvmOptions {
	int level;              /* -O0 .. -O3: LLVM's default<On> pipeline */
	const char *triple;     /* --target; NULL for the host */
	const char *cpu;        /* --cpu; NULL or "native" for the host's */
	int fast_math;          /* --fast-math: every fast-math flag */
} CgLlvmOptions;

typedef enum CgLlvmKind { CG_LLVM_IR, CG_LLVM_BC, CG_LLVM_OBJ } CgLlvmKind;

int cg_llvm_available(void);
void cg_llvm_version(char *buf, size_t n);     /* "LLVM 19.1.7", or "" */

/* Writes the module as kind to path; 0, or 1 after a message. */
int cg_llvm_write(const IrModule *m, const CgOptions *o,
	const CgLlvmOptions *lo, CgLlvmKind kind, const char *path);

/* The module compiled in process for the host; NULL after a message.
 * Symbols are the C API's names; they live until cg_jit_free(). */
typedef struct CgJit CgJit;
CgJit *cg_llvm_jit(const IrModule *m, const CgOptions *o,
	const CgLlvmOptions *lo);
void *cg_jit_symbol(CgJit *j, const char *name);
void cg_jit_free(CgJit *j);

/*
 * product.c: product id (matmul or outer) as calls of NAME_gemm(rows, n,
 * k, a, ars, acs, b, brs, bcs, c, ldc, acc), the same for both backends.
 * A is the product's left operand and B its right, or the other way round
 * when `swap`; rows is batch * rows when `rows_batch`, k is the batch
 * when `terms_batch`.  With `each`, there is one call per example (over
 * the batch when `over_batch`, else one call), at a + b * a_step and so
 * on, C zeroed first and every call adding into it when `sum`.  0 when
 * an operand has no storage (a constant or iota) and it takes plain loops.
 */
typedef struct CgGemm {
	int swap, rows_batch, terms_batch;
	int each, over_batch, sum;
	long rows, n, k, ars, acs, brs, bcs, ldc;
	long a_step, b_step, c_step;
} CgGemm;

int cg_gemm_call(const IrModule *m, int id, CgGemm *g);

/* product.c: product id's shape per example, m x k by k x n; and the
 * distance between examples of value id in its storage, 0 when every
 * example reads the same elements. */
void cg_product_shape(const IrFunc *f, int id, long *m, long *k, long *n);
long cg_example_stride(const IrModule *m, int id);

#endif
