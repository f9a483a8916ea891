/*
 * c.c - the C emitter: NAME.c from the IR.
 *
 * Needs: a module whose function holds the loss, output and (after ir_grad)
 * gradients.  Each public function is emitted from the values live for its
 * roots, in array order.  Leaves (constants, parameters, data columns, the
 * batch size, iota) and batch broadcasts are read in place.  Element-wise
 * values of one type share a loop nest, so chains of them fuse, and one
 * read only inside its loop is a scalar there.  Every other value is an
 * array in the caller's workspace: per example `numel` elements, one
 * example after another when it is batched.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cg.h"

enum { REF_MAX = 400 };

typedef struct Emitter {
	const IrModule *m;
	const CgOptions *o;
	FILE *out;              /* where text goes now: the file, or stash */
	FILE *file;             /* the generated file */
	FILE *stash;            /* a blocked loop's body, written twice */
	char *stash_text;
	size_t stash_len;
	char real[80];          /* the generated floating type's name */
	const char *fs;         /* "f" on libm names in f32 */
	CgPlan plan;            /* the buffers of the function being emitted */
	IrType loop;            /* the element-wise loop nest now open */
	int in_loop;
	int blocked;            /* it runs over the batch in blocks of 8 */
	int run_end;            /* the first value it cannot take */
	char *local;            /* per value: a scalar of one loop iteration */
	int *home;              /* per value: 1 + the parameter whose gradient
				 * it is computed into, in the caller's grad */
	char *unbuffered;       /* per value: local or home, so no buffer */
	int *fused;             /* batch sums accumulated inside it */
	int nfused;
	const char *live;       /* of the function being emitted */
	int last_line;
	const char **line_start;        /* of the source, for comments */
	int nlines;
} Emitter;

static void
out(Emitter *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
out(Emitter *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(e->out, fmt, ap);
	va_end(ap);
}

static void
literal(const Emitter *e, double v, char *buf, size_t n)
{
	char num[40];
	int f32 = e->o->precision == CG_F32;

	if (isinf(v) || isnan(v)) {
		snprintf(buf, n, "(%s)(%s)", e->real, isnan(v) ? "NAN" :
			v < 0 ? "-HUGE_VAL" : "HUGE_VAL");
		return;
	}
	snprintf(num, sizeof num, f32 ? "%.9g" : "%.17g", v);
	if (!strpbrk(num, ".en"))
		strcat(num, ".0");
	snprintf(buf, n, v < 0 ? "(%s%s)" : "%s%s", num, f32 ? "f" : "");
}

static const IrValue *
val(const Emitter *e, int id)
{
	return &e->m->fn.v[id];
}

/* A pointer to the first element of stored value id: its workspace
 * buffer, or the gradient in the caller's grad it is computed into. */
static void
storage(const Emitter *e, int id, char *buf, size_t size)
{
	char name[160];

	if (!e->home[id]) {
		snprintf(buf, size, "w%d", e->plan.buf[id]);
		return;
	}
	cg_param_field(e->m, e->home[id] - 1, name, sizeof name);
	snprintf(buf, size, "%sgrad->%s",
		ir_numel(&val(e, id)->type) == 1 ? "&" : "", name);
}

/*
 * The C expression for element `i` (a C expression for the per-example
 * flat index) of example `b` of value id.
 */
static void
ref(const Emitter *e, int id, const char *b, const char *i, char *buf)
{
	const IrValue *v = val(e, id);
	long n = ir_numel(&v->type);
	char name[160];

	switch (v->op) {
	case IR_const:
		literal(e, v->num, buf, REF_MAX);
		return;
	case IR_param:
		cg_param_field(e->m, v->slot, name, sizeof name);
		if (e->m->params[v->slot].type.rank == 0)
			snprintf(buf, REF_MAX, "p->%s", name);
		else
			snprintf(buf, REF_MAX, "p->%s[%s]", name, i);
		return;
	case IR_input:
		snprintf(buf, REF_MAX, "inputs[%s * %ld + %d + %s]", b,
			e->m->input_size, v->slot, i);
		return;
	case IR_target:
		snprintf(buf, REF_MAX, "targets[%s * %ld + %d + %s]", b,
			e->m->target_size, v->slot, i);
		return;
	case IR_nbatch:
		snprintf(buf, REF_MAX, "(%s)batch", e->real);
		return;
	case IR_iota:
		snprintf(buf, REF_MAX, "(%s)(%ld + (long)%s)", e->real,
			(long)v->num, i);
		return;
	case IR_bcast:
		ref(e, v->arg[0], "0", i, buf);
		return;
	default:
		break;
	}
	if (e->local[id]) {
		snprintf(buf, REF_MAX, "t%d", id);
		return;
	}
	if (e->home[id] && n == 1) {
		cg_param_field(e->m, e->home[id] - 1, name, sizeof name);
		snprintf(buf, REF_MAX, "grad->%s", name);
		return;
	}
	char base[200];
	storage(e, id, base, sizeof base);
	if (v->type.batched && n == 1)
		snprintf(buf, REF_MAX, "%s[%s]", base, b);
	else if (v->type.batched)
		snprintf(buf, REF_MAX, "%s[%s * %ld + %s]", base, b, n, i);
	else
		snprintf(buf, REF_MAX, "%s[%s]", base, i);
}

/*
 * The index into operand type `in` that broadcasting reads for flat index
 * "i" of type `out`, as C: "i" when the shapes agree, "0" for a scalar,
 * else a sum over the axes the operand really has.
 */
static void
broadcast_index(const IrType *out, const IrType *in, char *buf, size_t n)
{
	long outer = 1, stride = 1;
	size_t len = 0;

	if (ir_same_shape(out, in) || ir_numel(out) == ir_numel(in)) {
		snprintf(buf, n, "i");
		return;
	}
	if (ir_numel(in) == 1) {
		snprintf(buf, n, "0");
		return;
	}
	buf[0] = '\0';
	for (int d = out->rank - 1, k = in->rank - 1; d >= 0; d--, k--) {
		if (k >= 0 && in->dim[k] != 1)
			len += (size_t)snprintf(buf + len, n - len,
				"%si / %ld %% %d * %ld", len ? " + " : "", outer,
				out->dim[d], stride);
		if (k >= 0)
			stride *= in->dim[k];
		outer *= out->dim[d];
	}
}

/* Operand k of value id, at the element the open loop is on. */
static void
operand(const Emitter *e, int id, int k, char *buf)
{
	const IrValue *v = val(e, id);
	char idx[REF_MAX];

	broadcast_index(&v->type, &val(e, v->arg[k])->type, idx, sizeof idx);
	ref(e, v->arg[k], "b", idx, buf);
}

/* The eight lanes of a batch sum, added in a fixed tree order: the same
 * order emit_bsum uses, so fused and separate sums agree to the bit. */
static void
finish_sum(Emitter *e, int id)
{
	char dst[REF_MAX];

	ref(e, id, "0", "0", dst);
	out(e, "\t%s = ((s%d[0] + s%d[1]) + (s%d[2] + s%d[3])) + "
		"((s%d[4] + s%d[5]) + (s%d[6] + s%d[7]));\n", dst,
		id, id, id, id, id, id, id, id);
}

/*
 * A blocked loop's body goes into the whole blocks of eight, where the
 * lane loop has a constant trip count the compiler vectorises, and again,
 * one tab shallower, into the loop over the last batch % 8 examples.
 */
static void
close_blocked(Emitter *e)
{
	fclose(e->stash);
	e->out = e->file;

	const char *line = e->stash_text;
	out(e, "\t\t\tconst size_t b = b0 + l, i = 0;\n\t\t\t(void)i;\n");
	out(e, "%s\t\t}\n\t}\n", e->stash_text);
	out(e, "\tfor (size_t b0 = batch - batch %% 8, l = 0; b0 + l < batch; "
		"l++) {\n");
	out(e, "\t\tconst size_t b = b0 + l, i = 0;\n\t\t(void)i;\n");
	while (*line) {
		size_t len = strcspn(line, "\n") + (strchr(line, '\n') != NULL);
		size_t tab = *line == '\t';
		out(e, "%.*s", (int)(len - tab), line + tab);
		line += len;
	}
	out(e, "\t}\n");
	free(e->stash_text);
}

static void
close_loop(Emitter *e)
{
	if (!e->in_loop)
		return;
	if (e->blocked)
		close_blocked(e);
	else if (ir_numel(&e->loop) > 1)
		out(e, "\t\t}\n\t}\n");
	else
		out(e, "\t}\n");
	for (int k = 0; k < e->nfused; k++)
		finish_sum(e, e->fused[k]);
	e->nfused = 0;
	e->in_loop = 0;
	e->blocked = 0;
}

static int
is_fused(const Emitter *e, int id)
{
	for (int k = 0; k < e->nfused; k++)
		if (e->fused[k] == id)
			return 1;
	return 0;
}

/*
 * A loop over one scalar per example can also take the batch sums of the
 * values it computes (the loss, the parameter gradients), saving a pass
 * over memory for each.  Looks ahead from `id` for the values the loop
 * will hold: element-wise ones of its type, and sums of those, until one
 * of another kind, or one that reads a sum still being accumulated.
 */
static void
plan_run(Emitter *e, int id)
{
	const IrFunc *f = &e->m->fn;
	const IrType *t = &f->v[id].type;

	e->run_end = f->n;
	for (int j = id; j < f->n; j++) {
		const IrValue *v = &f->v[j];
		if (!e->live[j] || !cg_stored(v))
			continue;
		if (v->op == IR_bsum && ir_numel(&v->type) == 1 &&
		    ir_same_shape(&f->v[v->arg[0]].type, t) &&
		    f->v[v->arg[0]].type.batched && j > id) {
			e->fused = realloc(e->fused, (size_t)(e->nfused + 1) *
				sizeof *e->fused);
			e->fused[e->nfused++] = j;
			continue;
		}
		int reads_sum = 0;
		for (int k = 0; k < ir_arity(v->op); k++)
			reads_sum |= is_fused(e, v->arg[k]);
		if (!ir_elementwise(v->op) || reads_sum ||
		    v->type.batched != t->batched || !ir_same_shape(&v->type, t)) {
			e->run_end = j;
			return;
		}
	}
}

/* A comment quoting the source line, once per run of values from it. */
static void
source_comment(Emitter *e, int id)
{
	const Source *src = e->o->src;
	int line = val(e, id)->loc.line;
	const char *p, *end;

	if (!src || line == e->last_line || line <= 0 || line > e->nlines)
		return;
	e->last_line = line;
	p = e->line_start[line - 1];
	end = src->text + src->len;
	const char *eol = memchr(p, '\n', (size_t)(end - p));
	size_t len = (size_t)((eol ? eol : end) - p);
	out(e, "\t/* line %d: ", line);
	cg_comment_safe(e->out, p, len > 70 ? 70 : len);
	out(e, " */\n");
}

/* The ops define() emits: element-wise ones and broadcasts. */
static int
joins_loop(IrOp op)
{
	return ir_elementwise(op) || op == IR_bcastto;
}

/*
 * Values that no one reads after their loop ends live in a scalar of one
 * iteration, never in memory.  A loop holds the element-wise values of one
 * type and the batch sums it accumulates, up to the first value of
 * another kind: the rule open_loop follows.  Returns where it ends.
 */
static int
mark_loop(Emitter *e, int id, const int *last)
{
	const IrFunc *f = &e->m->fn;
	const IrType *t = &f->v[id].type;
	int end = id + 1;       /* the value that opens a loop is always in it */

	e->run_end = f->n;
	if (t->batched && ir_numel(t) == 1)
		plan_run(e, id);
	for (; end < f->n; end++) {
		const IrValue *v = &f->v[end];
		if (!e->live[end] || !cg_stored(v) || is_fused(e, end))
			continue;
		if (!joins_loop(v->op) || end >= e->run_end ||
		    v->type.batched != t->batched || !ir_same_shape(&v->type, t))
			break;
	}
	for (int k = id; k < end; k++)
		e->local[k] = e->live[k] && cg_stored(&f->v[k]) &&
			!is_fused(e, k) && last[k] < end;
	e->nfused = 0;
	return end;
}

static void
find_locals(Emitter *e, const int *roots, int nroots)
{
	const IrFunc *f = &e->m->fn;
	int *last = cg_last_uses(f, e->live, roots, nroots);

	for (int id = 0; id < f->n; id++)
		if (e->live[id] && cg_stored(&f->v[id]) &&
		    joins_loop(f->v[id].op))
			id = mark_loop(e, id, last) - 1;
	free(last);
}

/* A parameter's gradient is computed straight into the caller's grad,
 * rather than into the workspace and then copied, when it is a value of
 * its own (not a leaf, not the gradient of an earlier parameter too). */
static void
find_homes(Emitter *e)
{
	const IrFunc *f = &e->m->fn;

	for (int i = 0; i < e->m->nparams; i++) {
		int g = f->grad[i];
		if (g >= 0 && cg_stored(&f->v[g]) && !f->v[g].type.batched &&
		    !e->home[g] && g != f->loss)
			e->home[g] = i + 1;
	}
}

/* Marks what needs no workspace buffer in entry `which`. */
static void
find_unbuffered(Emitter *e, CgEntry which, const int *roots, int nroots)
{
	const IrFunc *f = &e->m->fn;
	size_t n = (size_t)f->n + 1;

	e->local = calloc(n, 1);
	e->home = calloc(n, sizeof *e->home);
	e->unbuffered = malloc(n);
	find_locals(e, roots, nroots);
	if (which == CG_LOSS_GRAD || which == CG_LOSS_GRAD_INPUTS)
		find_homes(e);
	for (int id = 0; id < f->n; id++)
		e->unbuffered[id] = e->local[id] || e->home[id];
}

static void
free_unbuffered(Emitter *e)
{
	free(e->local);
	free(e->home);
	free(e->unbuffered);
}

/* Opens (or stays in) the loop nest over every element of type t. */
static const char *
open_loop(Emitter *e, int id)
{
	const IrType *t = &val(e, id)->type;
	long n = ir_numel(t);

	if (e->in_loop && (e->loop.batched != t->batched ||
	    !ir_same_shape(&e->loop, t) || id >= e->run_end))
		close_loop(e);
	if (e->in_loop)
		return n > 1 || e->blocked ? "\t\t\t" : "\t\t";
	source_comment(e, id);
	e->loop = *t;
	e->in_loop = 1;
	e->run_end = e->m->fn.n;
	if (t->batched && n == 1)
		plan_run(e, id);
	if (e->nfused) {
		for (int k = 0; k < e->nfused; k++)
			out(e, "\t%s s%d[8] = { 0 };\n", e->real, e->fused[k]);
		out(e, "\tfor (size_t b0 = 0; b0 < batch - batch %% 8; "
			"b0 += 8) {\n");
		out(e, "\t\t%s_INDEPENDENT\n", e->m->name);
		out(e, "\t\tfor (size_t l = 0; l < 8; l++) {\n");
		e->stash = open_memstream(&e->stash_text, &e->stash_len);
		e->out = e->stash;
		e->blocked = 1;
		return "\t\t\t";
	}
	if (n == 1)
		out(e, "\t%s_INDEPENDENT\n", e->m->name);
	out(e, "\tfor (size_t b = 0; b < %s; b++) {\n",
		t->batched ? "batch" : "1");
	if (n > 1)
		out(e, "\t\t%s_INDEPENDENT\n\t\tfor (size_t i = 0; i < %ld; "
			"i++) {\n", e->m->name, n);
	else
		out(e, "\t\tconst size_t i = 0;\n\t\t(void)i;\n");
	return n > 1 ? "\t\t\t" : "\t\t";
}

/* Defines element-wise value id as `rhs`, a format over its operands. */
static void
define(Emitter *e, int id, const char *fmt, ...)
{
	char rhs[4 * REF_MAX], lhs[REF_MAX];
	va_list ap;
	const char *indent = open_loop(e, id);

	va_start(ap, fmt);
	vsnprintf(rhs, sizeof rhs, fmt, ap);
	va_end(ap);
	ref(e, id, "b", "i", lhs);
	out(e, "%s%s%s%s%s = %s;\n", indent, e->local[id] ? "const " : "",
		e->local[id] ? e->real : "", e->local[id] ? " " : "", lhs, rhs);
}

#define OPERANDS(id)                                                    \
	char x[REF_MAX] = "", y[REF_MAX] = "", z[REF_MAX] = "";         \
	int arity_ = ir_arity(val(e, id)->op);                          \
	if (arity_ > 0) operand(e, id, 0, x);                           \
	if (arity_ > 1) operand(e, id, 1, y);                           \
	if (arity_ > 2) operand(e, id, 2, z);                           \
	(void)y, (void)z

#define EMIT_MAP(name, fmt, ...)                                        \
static void                                                             \
emit_##name(Emitter *e, int id)                                         \
{                                                                       \
	OPERANDS(id);                                                   \
	define(e, id, fmt, __VA_ARGS__);                                \
}

EMIT_MAP(neg, "-%s", x)
EMIT_MAP(exp, "exp%s(%s)", e->fs, x)
EMIT_MAP(log, "log%s(%s)", e->fs, x)
EMIT_MAP(sqrt, "sqrt%s(%s)", e->fs, x)
EMIT_MAP(abs, "fabs%s(%s)", e->fs, x)
EMIT_MAP(sign, "(%s)((%s > 0) - (%s < 0))", e->real, x, x)
EMIT_MAP(sin, "sin%s(%s)", e->fs, x)
EMIT_MAP(cos, "cos%s(%s)", e->fs, x)
EMIT_MAP(tanh, "tanh%s(%s)", e->fs, x)
EMIT_MAP(sigmoid, "(%s >= 0 ? 1 / (1 + exp%s(-%s)) : exp%s(%s) / "
	"(1 + exp%s(%s)))", x, e->fs, x, e->fs, x, e->fs, x)
EMIT_MAP(relu, "(%s > 0 ? %s : 0)", x, x)
EMIT_MAP(step, "(%s)(%s > 0)", e->real, x)
EMIT_MAP(softplus, "(fmax%s(%s, 0) + log1p%s(exp%s(-fabs%s(%s))))", e->fs,
	x, e->fs, e->fs, e->fs, x)
EMIT_MAP(log1p, "log1p%s(%s)", e->fs, x)
EMIT_MAP(not, "(%s)(%s == 0)", e->real, x)
EMIT_MAP(add, "%s + %s", x, y)
EMIT_MAP(sub, "%s - %s", x, y)
EMIT_MAP(mul, "%s * %s", x, y)
EMIT_MAP(smul, "(%s == 0 || %s == 0 ? 0 : %s * %s)", x, y, x, y)
EMIT_MAP(div, "%s / %s", x, y)
EMIT_MAP(pow, "pow%s(%s, %s)", e->fs, x, y)
EMIT_MAP(max2, "(%s > %s ? %s : %s)", x, y, x, y)
EMIT_MAP(min2, "(%s < %s ? %s : %s)", x, y, x, y)
EMIT_MAP(lt, "(%s)(%s < %s)", e->real, x, y)
EMIT_MAP(le, "(%s)(%s <= %s)", e->real, x, y)
EMIT_MAP(gt, "(%s)(%s > %s)", e->real, x, y)
EMIT_MAP(ge, "(%s)(%s >= %s)", e->real, x, y)
EMIT_MAP(eq, "(%s)(%s == %s)", e->real, x, y)
EMIT_MAP(ne, "(%s)(%s != %s)", e->real, x, y)
EMIT_MAP(and, "(%s)(%s != 0 && %s != 0)", e->real, x, y)
EMIT_MAP(or, "(%s)(%s != 0 || %s != 0)", e->real, x, y)
EMIT_MAP(where, "(%s != 0 ? %s : %s)", x, y, z)
EMIT_MAP(bcastto, "%s", x)

/* Small integer powers become products, exact for negative x and far
 * cheaper than a call to pow. */
static void
emit_powi(Emitter *e, int id)
{
	double n = val(e, id)->num;
	char prod[4 * REF_MAX] = "", lit[48];

	OPERANDS(id);
	if (fabs(n) > 8 || n == 0) {
		literal(e, n, lit, sizeof lit);
		define(e, id, "pow%s(%s, %s)", e->fs, x, lit);
		return;
	}
	for (int k = 0; k < fabs(n); k++) {
		strcat(prod, k ? " * " : "");
		strcat(prod, x);
	}
	define(e, id, n > 0 ? "%s" : "1 / (%s)", prod);
}

/* Leaves and batch broadcasts are read where they are used. */
#define IN_PLACE(name) \
static void emit_##name(Emitter *e, int id) { (void)e, (void)id; }

IN_PLACE(const)
IN_PLACE(param)
IN_PLACE(input)
IN_PLACE(target)
IN_PLACE(nbatch)
IN_PLACE(iota)
IN_PLACE(bcast)

/* A loop nest of its own: the open element-wise one ends first. */
static void
own_loops(Emitter *e, int id)
{
	close_loop(e);
	source_comment(e, id);
}

static const char *
batch_bound(const IrType *t)
{
	return t->batched ? "batch" : "1";
}

/* Writes zeros over all of value id, for ops that accumulate. */
static void
zero(Emitter *e, int id)
{
	const IrType *t = &val(e, id)->type;
	char base[REF_MAX];

	storage(e, id, base, sizeof base);
	out(e, "\tfor (size_t k = 0; k < %s * %ld; k++)\n", batch_bound(t),
		ir_numel(t));
	out(e, "\t\t(%s)[k] = 0;\n", base);
}

static void
emit_onehot(Emitter *e, int id)
{
	char label[REF_MAX], lhs[REF_MAX];

	own_loops(e, id);
	ref(e, val(e, id)->arg[0], "b", "0", label);
	ref(e, id, "b", "i", lhs);
	out(e, "\tfor (size_t b = 0; b < %s; b++)\n",
		batch_bound(&val(e, id)->type));
	out(e, "\t\tfor (size_t i = 0; i < %d; i++)\n", val(e, id)->n);
	out(e, "\t\t\t%s = (%s)((%s)i == %s);\n", lhs, e->real, e->real,
		label);
}

/* Each operand element added into the element broadcasting read it from. */
static void
emit_sumto(Emitter *e, int id)
{
	const IrValue *v = val(e, id);
	const IrType *xt = &val(e, v->arg[0])->type;
	char idx[REF_MAX], src[REF_MAX], dst[REF_MAX];

	own_loops(e, id);
	zero(e, id);
	broadcast_index(xt, &v->type, idx, sizeof idx);
	ref(e, v->arg[0], "b", "i", src);
	ref(e, id, v->type.batched ? "b" : "0", idx, dst);
	out(e, "\tfor (size_t b = 0; b < %s; b++)\n", batch_bound(xt));
	out(e, "\t\tfor (size_t i = 0; i < %ld; i++)\n", ir_numel(xt));
	out(e, "\t\t\t%s += %s;\n", dst, src);
}

/* Shape changes that copy: the operand index as a function of i. */
static void
copy_with_index(Emitter *e, int id, const char *idx)
{
	const IrType *t = &val(e, id)->type;
	char src[REF_MAX], dst[REF_MAX];

	own_loops(e, id);
	ref(e, val(e, id)->arg[0], "b", idx, src);
	ref(e, id, "b", "i", dst);
	out(e, "\tfor (size_t b = 0; b < %s; b++)\n", batch_bound(t));
	out(e, "\t\tfor (size_t i = 0; i < %ld; i++)\n", ir_numel(t));
	out(e, "\t\t\t%s = %s;\n", dst, src);
}

static void
emit_expand(Emitter *e, int id)
{
	const IrValue *v = val(e, id);
	long inner = 1;
	char idx[REF_MAX];

	for (int d = v->axis + 1; d < v->type.rank; d++)
		inner *= v->type.dim[d];
	snprintf(idx, sizeof idx, "(i / %ld * %ld + i %% %ld)",
		inner * v->type.dim[v->axis], inner, inner);
	copy_with_index(e, id, idx);
}

static void
emit_transpose(Emitter *e, int id)
{
	const IrType *t = &val(e, id)->type;
	long rows = t->dim[t->rank - 2], cols = t->dim[t->rank - 1];
	char idx[REF_MAX];

	snprintf(idx, sizeof idx, "(i / %ld * %ld + i %% %ld %% %ld * %ld + "
		"i %% %ld / %ld)", rows * cols, rows * cols, rows * cols, cols,
		rows, rows * cols, cols);
	copy_with_index(e, id, idx);
}

/* Rows of operand 0 picked by index operand 1; `scatter` adds back. */
static void
index_rows(Emitter *e, int id, int scatter)
{
	const IrValue *v = val(e, id);
	const IrType *idx_t = &val(e, v->arg[1])->type;
	const IrType *wide = scatter ? &v->type : &val(e, v->arg[0])->type;
	long nidx = ir_numel(idx_t), inner = ir_numel(wide) / wide->dim[0];
	char row[REF_MAX], pos_s[64], pos_r[64], a[REF_MAX], z[REF_MAX];

	own_loops(e, id);
	if (scatter)
		zero(e, id);
	ref(e, v->arg[1], "b", "s", row);
	snprintf(pos_s, sizeof pos_s, "(s * %ld + r)", inner);
	snprintf(pos_r, sizeof pos_r, "(k * %ld + r)", inner);
	ref(e, v->arg[0], "b", scatter ? pos_s : pos_r, a);
	ref(e, id, "b", scatter ? pos_r : pos_s, z);
	out(e, "\tfor (size_t b = 0; b < %s; b++)\n", batch_bound(&v->type));
	out(e, "\t\tfor (size_t s = 0; s < %ld; s++) {\n", nidx);
	out(e, "\t\t\tsize_t k = (size_t)%s;\n", row);
	out(e, "\t\t\tfor (size_t r = 0; r < %ld; r++)\n", inner);
	out(e, "\t\t\t\t%s %s= %s;\n", z, scatter ? "+" : "", a);
	out(e, "\t\t}\n");
}

static void
emit_gather(Emitter *e, int id)
{
	index_rows(e, id, 0);
}

static void
emit_scatter(Emitter *e, int id)
{
	index_rows(e, id, 1);
}

/*
 * Summed in a fixed order that depends only on the batch size, so results
 * do not depend on the schedule.  A vector's elements are summed with the
 * examples in the outer loop, so the inner one is contiguous; a scalar's
 * examples go round eight partial sums, which the compiler can keep in one
 * vector register, rather than one long chain of dependent additions.
 */
static void
emit_bsum(Emitter *e, int id)
{
	const IrValue *v = val(e, id);
	long n = ir_numel(&v->type);
	char src[REF_MAX], w[REF_MAX], dst[REF_MAX];

	if (e->in_loop && e->blocked && is_fused(e, id)) {
		ref(e, v->arg[0], "b", "0", src);
		out(e, "\t\t\ts%d[l] += %s;\n", id, src);
		return;
	}
	own_loops(e, id);
	if (n == 1) {
		ref(e, v->arg[0], "(b + l)", "0", src);
		out(e, "\t{\n\t\t%s s[8] = { 0 };\n", e->real);
		out(e, "\t\tsize_t b = 0;\n\n");
		out(e, "\t\tfor (; b + 8 <= batch; b += 8)\n");
		out(e, "\t\t\tfor (size_t l = 0; l < 8; l++)\n");
		out(e, "\t\t\t\ts[l] += %s;\n", src);
		out(e, "\t\tfor (size_t l = 0; b + l < batch; l++)\n");
		out(e, "\t\t\ts[l] += %s;\n", src);
		ref(e, id, "0", "0", dst);
		out(e, "\t\t%s = ((s[0] + s[1]) + (s[2] + s[3])) + "
			"((s[4] + s[5]) + (s[6] + s[7]));\n\t}\n", dst);
		return;
	}
	storage(e, id, w, sizeof w);
	ref(e, v->arg[0], "b", "i", src);
	out(e, "\tfor (size_t i = 0; i < %ld; i++)\n", n);
	out(e, "\t\t(%s)[i] = 0;\n", w);
	out(e, "\tfor (size_t b = 0; b < batch; b++)\n");
	out(e, "\t\tfor (size_t i = 0; i < %ld; i++)\n", n);
	out(e, "\t\t\t(%s)[i] += %s;\n", w, src);
}

/* For reductions and softmax: outer x len x inner lanes of an operand. */
static void
lanes(const IrType *t, int axis, long *outer, long *len, long *inner)
{
	*outer = 1;
	*len = ir_numel(t);
	*inner = 1;
	if (axis < 0)
		return;
	*len = t->dim[axis];
	for (int d = 0; d < axis; d++)
		*outer *= t->dim[d];
	for (int d = axis + 1; d < t->rank; d++)
		*inner *= t->dim[d];
}

/* Opens loops over b, o, in with `first` the lane's start and `step` its
 * stride, then runs `body` lines; used by reductions and softmax. */
static void
open_lanes(Emitter *e, int id, const IrType *xt, int axis)
{
	long outer, len, inner;

	own_loops(e, id);
	lanes(xt, axis, &outer, &len, &inner);
	out(e, "\tfor (size_t b = 0; b < %s; b++)\n", batch_bound(xt));
	out(e, "\tfor (size_t o = 0; o < %ld; o++)\n", outer);
	out(e, "\tfor (size_t in = 0; in < %ld; in++) {\n", inner);
	out(e, "\t\tconst size_t i = o * %ld + in;\n", inner);
	out(e, "\t\tconst size_t first = o * %ld + in;\n", len * inner);
	out(e, "\t\t(void)i, (void)first;\n");
}

static void
lane_elem(Emitter *e, int id, const char *k, char *buf)
{
	const IrValue *v = val(e, id);
	long outer, len, inner;
	char idx[64];

	lanes(&val(e, v->arg[0])->type, v->axis, &outer, &len, &inner);
	snprintf(idx, sizeof idx, "(first + %s * %ld)", k, inner);
	ref(e, v->arg[0], "b", idx, buf);
}

static long
lane_len(Emitter *e, int id)
{
	long outer, len, inner;
	const IrValue *v = val(e, id);

	lanes(&val(e, v->arg[0])->type, v->axis, &outer, &len, &inner);
	return len;
}

/* init, then acc = step(acc, x_k) over the lane, then the result. */
static void
fold(Emitter *e, int id, const char *init, const char *step,
	const char *result)
{
	const IrValue *v = val(e, id);
	char xk[REF_MAX], x0[REF_MAX], dst[REF_MAX];

	open_lanes(e, id, &val(e, v->arg[0])->type, v->axis);
	lane_elem(e, id, "k", xk);
	lane_elem(e, id, "0", x0);
	ref(e, id, "b", "i", dst);
	out(e, "\t\t%s acc = %s;\n", e->real, strcmp(init, "x0") ? init : x0);
	out(e, "\t\tfor (size_t k = 0; k < %ld; k++) {\n", lane_len(e, id));
	out(e, "\t\t\tconst %s x = %s;\n", e->real, xk);
	out(e, "\t\t\t%s\n\t\t}\n", step);
	out(e, "\t\t%s = %s;\n\t}\n", dst, result);
}

static void
emit_rsum(Emitter *e, int id)
{
	fold(e, id, "0", "acc += x;", "acc");
}

static void
emit_rmax(Emitter *e, int id)
{
	fold(e, id, "x0", "acc = x > acc ? x : acc;", "acc");
}

static void
emit_rmin(Emitter *e, int id)
{
	fold(e, id, "x0", "acc = x < acc ? x : acc;", "acc");
}

/* Two passes: the maximum, then the sum of exponentials shifted by it. */
static void
emit_rlse(Emitter *e, int id)
{
	const IrValue *v = val(e, id);
	char xk[REF_MAX], x0[REF_MAX], dst[REF_MAX];
	long len = lane_len(e, id);

	open_lanes(e, id, &val(e, v->arg[0])->type, v->axis);
	lane_elem(e, id, "k", xk);
	lane_elem(e, id, "0", x0);
	ref(e, id, "b", "i", dst);
	out(e, "\t\t%s m = %s, s = 0;\n", e->real, x0);
	out(e, "\t\tfor (size_t k = 1; k < %ld; k++)\n", len);
	out(e, "\t\t\tm = %s > m ? %s : m;\n", xk, xk);
	out(e, "\t\tfor (size_t k = 0; k < %ld; k++)\n", len);
	out(e, "\t\t\ts += exp%s(%s - m);\n", e->fs, xk);
	out(e, "\t\t%s = isinf(m) ? m : m + log%s(s);\n\t}\n", dst, e->fs);
}

static void
normalise(Emitter *e, int id, int logs)
{
	const IrValue *v = val(e, id);
	char xk[REF_MAX], x0[REF_MAX], zk[REF_MAX];
	char idx[64];
	long len = lane_len(e, id), outer, l, inner;

	lanes(&v->type, v->axis, &outer, &l, &inner);
	open_lanes(e, id, &v->type, v->axis);
	lane_elem(e, id, "k", xk);
	lane_elem(e, id, "0", x0);
	snprintf(idx, sizeof idx, "(first + k * %ld)", inner);
	ref(e, id, "b", idx, zk);
	out(e, "\t\t%s m = %s, s = 0;\n", e->real, x0);
	out(e, "\t\tfor (size_t k = 1; k < %ld; k++)\n", len);
	out(e, "\t\t\tm = %s > m ? %s : m;\n", xk, xk);
	out(e, "\t\tfor (size_t k = 0; k < %ld; k++)\n", len);
	out(e, "\t\t\ts += exp%s(%s - m);\n", e->fs, xk);
	out(e, "\t\tconst %s lse = m + log%s(s);\n", e->real, e->fs);
	out(e, "\t\tfor (size_t k = 0; k < %ld; k++)\n", len);
	if (logs)
		out(e, "\t\t\t%s = %s - lse;\n\t}\n", zk, xk);
	else
		out(e, "\t\t\t%s = exp%s(%s - lse);\n\t}\n", zk, e->fs, xk);
}

static void
emit_softmax(Emitter *e, int id)
{
	normalise(e, id, 0);
}

static void
emit_logsoftmax(Emitter *e, int id)
{
	normalise(e, id, 1);
}

/* Whether product id becomes gemm calls rather than a plain loop nest. */
static int
is_gemm(const IrModule *m, int id)
{
	CgGemm g;

	return cg_gemm_call(m, id, &g);
}

/* A pointer to the first element of product operand id. */
static void
address(const Emitter *e, int id, char *buf, size_t n)
{
	const IrValue *v = val(e, id);
	char name[160];

	switch (v->op) {
	case IR_bcast:
		address(e, v->arg[0], buf, n);
		return;
	case IR_param:
		cg_param_field(e->m, v->slot, name, sizeof name);
		snprintf(buf, n, "%sp->%s",
			e->m->params[v->slot].type.rank ? "" : "&", name);
		return;
	case IR_input:
		snprintf(buf, n, "inputs + %d", v->slot);
		return;
	case IR_target:
		snprintf(buf, n, "targets + %d", v->slot);
		return;
	default:
		storage(e, id, buf, n);
		return;
	}
}

/* A gemm argument: `base`, or example b's part of it when `step`. */
static void
gemm_pointer(const char *base, long step, char *buf, size_t n)
{
	if (step)
		snprintf(buf, n, "%s + b * %ld", base, step);
	else
		snprintf(buf, n, "%s", base);
}

/* C = A B through the generated gemm, as cg_gemm_call() lays it out. */
static int
product_gemm(Emitter *e, int id)
{
	const IrValue *v = val(e, id);
	const char *nm = e->m->name;
	CgGemm g;
	char a[REF_MAX], b[REF_MAX], c[REF_MAX];
	char pa[2 * REF_MAX], pb[2 * REF_MAX], pc[2 * REF_MAX];
	char rows[64], k[64];

	if (!cg_gemm_call(e->m, id, &g))
		return 0;
	address(e, v->arg[g.swap], a, sizeof a);
	address(e, v->arg[!g.swap], b, sizeof b);
	own_loops(e, id);
	storage(e, id, c, sizeof c);
	gemm_pointer(a, g.a_step, pa, sizeof pa);
	gemm_pointer(b, g.b_step, pb, sizeof pb);
	gemm_pointer(c, g.c_step, pc, sizeof pc);
	snprintf(rows, sizeof rows, g.rows_batch ? "batch * %ld" : "%ld",
		g.rows);
	snprintf(k, sizeof k, g.terms_batch ? "batch" : "%ld", g.k);
	if (g.sum)
		zero(e, id);
	if (g.each)
		out(e, "\tfor (size_t b = 0; b < %s; b++)\n\t",
			g.over_batch ? "batch" : "1");
	out(e, "\t%s_gemm(%s, %ld, %s, %s, %ld, %ld, %s, %ld, %ld, %s, %ld, "
		"%d);\n", nm, rows, g.n, k, pa, g.ars, g.acs, pb, g.brs, g.bcs,
		pc, g.ldc, g.sum);
	return 1;
}

/*
 * The plain loop nest for products of values with no storage (constants,
 * iota): C = A B per example, summed over the batch when C has no batch
 * axis but an operand has.
 */
static void
product(Emitter *e, int id)
{
	const IrValue *v = val(e, id);
	const IrType *ta = &val(e, v->arg[0])->type;
	const IrType *tb = &val(e, v->arg[1])->type;
	int over_batch = ta->batched || tb->batched;
	char a[REF_MAX], bb[REF_MAX], c[REF_MAX], ia[64], ib[64], ic[64];
	long m, k, n;

	if (product_gemm(e, id))
		return;
	cg_product_shape(&e->m->fn, id, &m, &k, &n);
	own_loops(e, id);
	snprintf(ia, sizeof ia, "(r * %ld + q)", k);
	snprintf(ib, sizeof ib, "(q * %ld + c)", n);
	snprintf(ic, sizeof ic, "(r * %ld + c)", n);
	ref(e, v->arg[0], "b", ia, a);
	ref(e, v->arg[1], "b", ib, bb);
	ref(e, id, v->type.batched ? "b" : "0", ic, c);
	if (!v->type.batched && over_batch)
		zero(e, id);
	out(e, "\tfor (size_t b = 0; b < %s; b++)\n",
		over_batch ? "batch" : "1");
	out(e, "\tfor (size_t r = 0; r < %ld; r++)\n", m);
	out(e, "\tfor (size_t c = 0; c < %ld; c++) {\n", n);
	out(e, "\t\t%s acc = 0;\n", e->real);
	out(e, "\t\tfor (size_t q = 0; q < %ld; q++)\n", k);
	out(e, "\t\t\tacc += %s * %s;\n", a, bb);
	out(e, "\t\t%s %s= acc;\n\t}\n", c,
		!v->type.batched && over_batch ? "+" : "");
}

static void
emit_matmul(Emitter *e, int id)
{
	product(e, id);
}

static void
emit_outer(Emitter *e, int id)
{
	product(e, id);
}

typedef void (*EmitFn)(Emitter *e, int id);

static const EmitFn emit_fns[IR_NOPS] = {
#define OP(name, arity, rule) [IR_##name] = emit_##name,
#include "ops.def"
#undef OP
};

/* Plans the buffers of a function, declares them, then emits its values. */
static void
emit_body(Emitter *e, CgEntry which, const char *live, const int *roots,
	int nroots)
{
	const IrFunc *f = &e->m->fn;

	e->live = live;
	find_unbuffered(e, which, roots, nroots);
	cg_plan(f, live, roots, nroots, e->unbuffered, &e->plan);
	out(e, "\t%s *restrict ws = workspace;\n", e->real);
	out(e, "\t(void)ws, (void)batch;\n");
	for (int k = 0; k < e->plan.nbuf; k++)
		out(e, "\t%s *restrict w%d = ws + (size_t)%ld * batch + %ld;\n",
			e->real, k, e->plan.off_b[k], e->plan.off_c[k]);
	e->last_line = 0;
	for (int id = 0; id < f->n; id++)
		if (live[id])
			emit_fns[f->v[id].op](e, id);
	close_loop(e);
}

/* The generated functions: what each computes, as roots of the IR. */


static int
exists(const IrModule *m, CgEntry which)
{
	switch (which) {
	case CG_LOSS_GRAD_INPUTS:
		return m->fn.input_grad != NULL;
	case CG_PREDICT:
		return m->fn.output >= 0;
	default:
		return 1;
	}
}

/* Plans, declares and emits the values that `which` needs. */
static void
emit_entry_body(Emitter *e, CgEntry which)
{
	const IrFunc *f = &e->m->fn;
	int *root = malloc(((size_t)e->m->nparams + e->m->ninputs + 2) *
		sizeof *root);
	int nroots = cg_entry_roots(e->m, which, root);
	char *live = malloc((size_t)f->n + 1);

	ir_live(f, root, nroots, live);
	emit_body(e, which, live, root, nroots);
	free(live);
	free(root);
}

static void
write_grad(Emitter *e, int i)
{
	const IrParam *p = &e->m->params[i];
	int g = e->m->fn.grad[i];
	char name[160], src[REF_MAX];

	cg_param_field(e->m, i, name, sizeof name);
	if (g >= 0 && e->home[g] == i + 1)
		return;
	if (g >= 0)
		ref(e, g, "0", p->type.rank ? "i" : "0", src);
	else
		snprintf(src, sizeof src, "0");
	if (p->type.rank == 0)
		out(e, "\tgrad->%s = %s;\n", name, src);
	else
		out(e, "\tfor (size_t i = 0; i < %ld; i++)\n\t\tgrad->%s[i] = "
			"%s;\n", ir_numel(&p->type), name, src);
}

static void
write_input_grad(Emitter *e, int i)
{
	const IrData *d = &e->m->inputs[i];
	int g = e->m->fn.input_grad[i];
	char src[REF_MAX];

	if (g >= 0)
		ref(e, g, "b", "k", src);
	else
		snprintf(src, sizeof src, "0");
	out(e, "\tfor (size_t b = 0; b < batch; b++)\n");
	out(e, "\t\tfor (size_t k = 0; k < %ld; k++)\n", ir_numel(&d->type));
	out(e, "\t\t\tdinputs[b * %ld + %ld + k] = %s;\n", e->m->input_size,
		d->column, src);
}

static void
emit_signature(Emitter *e, CgEntry which)
{
	const char *n = e->m->name, *r = e->real;

	switch (which) {
	case CG_LOSS:
		out(e, "\n%s\n%s_loss(const %s_params *restrict p,\n"
		       "\tconst %s *restrict inputs, const %s *restrict targets,\n"
		       "\tsize_t batch, void *restrict workspace)\n{\n",
		       r, n, n, r, r);
		break;
	case CG_LOSS_GRAD:
		out(e, "\n%s\n%s_loss_grad(const %s_params *restrict p,\n"
		       "\t%s_params *restrict grad, const %s *restrict inputs,\n"
		       "\tconst %s *restrict targets, size_t batch,\n"
		       "\tvoid *restrict workspace)\n{\n", r, n, n, n, r, r);
		break;
	case CG_LOSS_GRAD_INPUTS:
		out(e, "\n%s\n%s_loss_grad_inputs(const %s_params *restrict p,\n"
		       "\t%s_params *restrict grad, %s *restrict dinputs,\n"
		       "\tconst %s *restrict inputs, const %s *restrict targets,\n"
		       "\tsize_t batch, void *restrict workspace)\n{\n",
		       r, n, n, n, r, r, r);
		break;
	default:
		out(e, "\nvoid\n%s_predict(const %s_params *restrict p,\n"
		       "\tconst %s *restrict inputs, size_t batch,\n"
		       "\t%s *restrict out, void *restrict workspace)\n{\n",
		       n, n, r, r);
		break;
	}
}

/* One public function: signature, body, then its results. */
static void
emit_entry(Emitter *e, CgEntry which)
{
	const IrModule *m = e->m;
	char res[REF_MAX];

	emit_signature(e, which);
	out(e, "\t(void)p, (void)inputs;\n");
	if (which != CG_PREDICT)
		out(e, "\t(void)targets;\n");
	if (which == CG_PREDICT && m->fn.output < 0) {
		out(e, "\t(void)out, (void)batch, (void)workspace;\n}\n");
		return;
	}
	emit_entry_body(e, which);
	for (int i = 0; which != CG_LOSS && which != CG_PREDICT && i < m->nparams; i++)
		write_grad(e, i);
	for (int i = 0; which == CG_LOSS_GRAD_INPUTS && i < m->ninputs; i++)
		write_input_grad(e, i);
	if (which == CG_PREDICT) {
		long size = ir_numel(&m->fn.v[m->fn.output].type);
		ref(e, m->fn.output, "b", "i", res);
		out(e, "\tfor (size_t b = 0; b < batch; b++)\n");
		out(e, "\t\tfor (size_t i = 0; i < %ld; i++)\n", size);
		out(e, "\t\t\tout[b * %ld + i] = %s;\n}\n", size, res);
	} else {
		ref(e, m->fn.loss, "0", "0", res);
		out(e, "\treturn %s;\n}\n", res);
	}
	cg_plan_free(&e->plan);
	free_unbuffered(e);
}

/* The workspace must fit the largest function's buffers, as this emitter
 * plans them (loop scalars and gradients computed into grad need no
 * buffer, but the plan then shares buffers differently) and as the LLVM
 * one does (every stored value in the workspace). */
void
cg_workspace(const IrModule *m, long *size_b, long *size_c)
{
	const IrFunc *f = &m->fn;
	int *root = malloc(((size_t)m->nparams + m->ninputs + 2) * sizeof *root);
	char *live = malloc((size_t)f->n + 1);
	Emitter e = { .m = m, .live = live };

	*size_b = *size_c = 0;
	for (CgEntry w = 0; w < CG_NENTRIES; w++) {
		if (!exists(m, w))
			continue;
		int n = cg_entry_roots(m, w, root);
		ir_live(f, root, n, live);
		find_unbuffered(&e, w, root, n);
		for (int c_plan = 0; c_plan < 2; c_plan++) {
			CgPlan p;
			cg_plan(f, live, root, n, c_plan ? e.unbuffered : NULL,
				&p);
			*size_b = p.size_b > *size_b ? p.size_b : *size_b;
			*size_c = p.size_c > *size_c ? p.size_c : *size_c;
			cg_plan_free(&p);
		}
		free_unbuffered(&e);
	}
	free(root);
	free(live);
	free(e.fused);
}

/* Where each source line starts, so quoting one costs nothing. */
static void
index_lines(Emitter *e)
{
	const Source *src = e->o->src;
	int cap = 64;

	if (!src)
		return;
	e->line_start = malloc((size_t)cap * sizeof *e->line_start);
	e->line_start[e->nlines++] = src->text;
	for (size_t i = 0; i < src->len; i++)
		if (src->text[i] == '\n') {
			if (e->nlines == cap)
				e->line_start = realloc(e->line_start,
					(size_t)(cap *= 2) * sizeof *e->line_start);
			e->line_start[e->nlines++] = src->text + i + 1;
		}
}

/* Whether any live value of any entry passes `test`: whether the file
 * needs cg_gemm_source. */
static int
any_live(const IrModule *m, int (*test)(const IrModule *m, int id))
{
	int *root = malloc(((size_t)m->nparams + m->ninputs + 2) * sizeof *root);
	char *live = malloc((size_t)m->fn.n + 1);
	int found = 0;

	for (CgEntry w = 0; w < CG_NENTRIES && !found; w++) {
		if (!exists(m, w))
			continue;
		ir_live(&m->fn, root, cg_entry_roots(m, w, root), live);
		for (int id = 0; id < m->fn.n && !found; id++)
			found = live[id] && test(m, id);
	}
	free(root);
	free(live);
	return found;
}

void
cg_emit_source(const IrModule *m, const CgOptions *o, FILE *f)
{
	Emitter e = { .m = m, .o = o, .out = f, .file = f };
	long size_b, size_c;

	snprintf(e.real, sizeof e.real, "%s_real", m->name);
	e.fs = o->precision == CG_F32 ? "f" : "";
	index_lines(&e);
	cg_workspace(m, &size_b, &size_c);
	out(&e, "/*\n * %s.c - generated by dlc from ", m->name);
	cg_comment_safe(f, m->path, strlen(m->path));
	out(&e, ".\n * The API is documented in %s.h.\n */\n", m->name);
	out(&e, "#include <math.h>\n#include <stddef.h>\n#include <stdint.h>\n");
	out(&e, "\n#include \"%s.h\"\n", m->name);
	cg_template(f, cg_independent_source, m->name);
	cg_emit_tables(m, o, f, size_b, size_c);
	if (any_live(m, is_gemm))
		cg_template(f, cg_gemm_source, m->name);
	for (CgEntry w = 0; w < CG_NENTRIES; w++)
		if (exists(m, w) || w == CG_PREDICT)
			emit_entry(&e, w);
	free(e.line_start);
	free(e.fused);
}
