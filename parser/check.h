/*
 * check.h - the checker's private state, shared by its three files:
 * check.c (declarations, scopes, the train clause), typing.c (the shape and
 * type of every expression) and fn.c (functions: recursion, instantiation).
 * Nothing outside parser/ includes it.
 */
#ifndef DLC_CHECK_H
#define DLC_CHECK_H

#include <stdarg.h>

#include "ast.h"

/*
 * Limits that keep any input, however hostile, small and quick to check.
 * CHECK_MAX_NEST bounds the checker's recursion through expressions and
 * inlined bodies together; CHECK_MAX_NODES bounds the tree that inlining
 * builds, since each call copies its function's body.  CHECK_MAX_SIZE
 * bounds every value, declared or computed, and CHECK_MAX_TOTAL all the
 * params (or inputs, or targets) together, so that no size computed from
 * them overflows and a trainer's buffers stay within memory.
 */
enum {
	CHECK_MAX_DIM = 1 << 20,
	CHECK_MAX_SIZE = MAX_SIZE,
	CHECK_MAX_NEST = 4000,
	CHECK_MAX_NODES = 1 << 21,
	CHECK_MAX_RANGE = 1000000000,
	CHECK_MAX_TOTAL = 1 << 28,
};

/* A call being instantiated; site is NULL while checking a definition. */
typedef struct CallSite {
	const Decl *fn;
	const Expr *site;
} CallSite;

typedef struct Checker {
	Program *p;
	Decl **globals;         /* the program's names, in order */
	int nglobals, gcap;
	int *gtable;            /* open hash of globals by name: their index */
	size_t gtable_cap;      /* a power of two, kept under half full */
	Decl **locals;          /* arguments, locals, comprehension indices */
	int nlocals, lcap;
	int frame;              /* the current body's first local */
	int in_fn;              /* inside a body: only scope_n globals */
	int scope_n;
	CallSite *calls;        /* the instantiations under way */
	int ncalls, ccap;
	int depth;              /* check_expr's recursion */
	int too_deep, too_big;  /* each reported once */
	long nodes;             /* expression nodes copied by inlining */
	long total[3];          /* elements of the inputs, targets, params */
} Checker;

/* For "did you mean": the closest candidate within a small distance. */
typedef struct Hint {
	const char *name;
	const char *best;
	int dist;
} Hint;

/* check.c */
void check_error(Checker *c, Loc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void check_hint_init(Hint *h, const char *name);
void check_hint(Hint *h, const char *candidate);
void check_hint_visible(const Checker *c, Hint *h, int fns_only);
Decl *check_lookup(const Checker *c, const char *name);
void check_unknown(Checker *c, Loc loc, const char *name);
void check_define_local(Checker *c, Decl *d);
const char *check_kind_word(DeclKind k);
int check_count(const Expr *e, double lo, double hi);

/* typing.c: each returns 1 when e is well formed, else 0 (and e's shape
 * has rank -1: an error already reported, which later checks skip). */
int check_expr(Checker *c, Expr *e);
int check_real(Checker *c, const Expr *e);
int check_builtin_named(const char *name);

/* fn.c */
void check_recursion(Checker *c);
void check_fn_decl(Checker *c, Decl *d);
int check_fn_call(Checker *c, Expr *e, Decl *fn, int args_ok);

#endif
