/*
 * c.c - the C emitter.
 *
 * Needs: a module whose function holds the loss, output and (after ir_grad)
 * gradients.  Each public function is emitted from the values live for its
 * roots, in array order.  A value is either inline (a leaf or a broadcast:
 * its C expression is used where it is read), a local scalar (one value for
 * the whole batch), or an array slice of the caller's workspace with one
 * element per example.  Consecutive per-example values share one loop over
 * the batch.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cg.h"

enum { EXPR_MAX = 160 };

typedef struct Emitter {
	const IrModule *m;
	const CgOptions *o;
	FILE *out;
	char real[80];          /* the generated floating type's name */
	const char *fsuffix;    /* "f" on libm names in f32 */
	char (*expr)[EXPR_MAX]; /* C expression for element b of each value */
	int *slot;              /* workspace slot of each stored array, or -1 */
	int nslots;
	int in_loop;
	int last_line;
} Emitter;

static const char *const c_words[] = {
	"auto", "break", "case", "char", "const", "continue", "default", "do",
	"double", "else", "enum", "extern", "float", "for", "goto", "if",
	"inline", "int", "long", "register", "restrict", "return", "short",
	"signed", "sizeof", "static", "struct", "switch", "typedef", "union",
	"unsigned", "void", "volatile", "while", "bool", "true", "false",
	"asm", "fortran",
};

const char *
cg_ident(const char *name, char *buf, size_t n)
{
	int clash = name[0] == '_';

	for (size_t i = 0; i < sizeof c_words / sizeof c_words[0]; i++)
		clash |= strcmp(name, c_words[i]) == 0;
	snprintf(buf, n, clash ? "u_%s" : "%s", name);
	return buf;
}

/* Text that goes inside a C comment: no comment end, printable ASCII. */
static void
comment_text(FILE *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '*' && i + 1 < len && s[i + 1] == '/')
			fputs("* ", out);
		else if (c == '\t')
			fputc(' ', out);
		else
			fputc(c >= 32 && c < 127 ? c : '?', out);
	}
}

static void
literal(const Emitter *e, double v, char *buf, size_t n)
{
	char num[40];

	if (isinf(v)) {
		snprintf(buf, n, "(%s)%sHUGE_VAL", e->real, v < 0 ? "-" : "");
		return;
	}
	if (isnan(v)) {
		snprintf(buf, n, "(%s)NAN", e->real);
		return;
	}
	snprintf(num, sizeof num, e->o->precision == CG_F32 ? "%.9g" : "%.17g",
		v);
	if (!strpbrk(num, ".en"))
		strcat(num, ".0");
	snprintf(buf, n, v < 0 ? "(%s%s)" : "%s%s", num,
		e->o->precision == CG_F32 ? "f" : "");
}

static void
out(Emitter *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(e->out, fmt, ap);
	va_end(ap);
}

/* A comment quoting the source line, once per run of values from it. */
static void
source_comment(Emitter *e, int id)
{
	const Source *src = e->o->src;
	int line = e->m->fn.v[id].loc.line;
	const char *p, *end;

	if (!src || line == e->last_line || line <= 0)
		return;
	e->last_line = line;
	p = src->text;
	end = src->text + src->len;
	for (int l = 1; l < line && p; l++) {
		p = memchr(p, '\n', (size_t)(end - p));
		if (p)
			p++;
	}
	if (!p)
		return;
	const char *eol = memchr(p, '\n', (size_t)(end - p));
	size_t len = (size_t)((eol ? eol : end) - p);
	out(e, "%s/* line %d: ", e->in_loop ? "\t\t" : "\t", line);
	comment_text(e->out, p, len > 70 ? 70 : len);
	out(e, " */\n");
}

static void
open_loop(Emitter *e)
{
	if (e->in_loop)
		return;
	out(e, "\tfor (size_t b = 0; b < batch; b++) {\n");
	e->in_loop = 1;
}

static void
close_loop(Emitter *e)
{
	if (!e->in_loop)
		return;
	out(e, "\t}\n");
	e->in_loop = 0;
}

/* Defines value id as `rhs` (a printf format over operand expressions). */
static void
define(Emitter *e, int id, const char *fmt, ...)
{
	char rhs[3 * EXPR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rhs, sizeof rhs, fmt, ap);
	va_end(ap);
	if (e->m->fn.v[id].batched) {
		open_loop(e);
		source_comment(e, id);
		out(e, "\t\tv%d[b] = %s;\n", id, rhs);
		snprintf(e->expr[id], EXPR_MAX, "v%d[b]", id);
	} else {
		close_loop(e);
		source_comment(e, id);
		out(e, "\tconst %s v%d = %s;\n", e->real, id, rhs);
		snprintf(e->expr[id], EXPR_MAX, "v%d", id);
	}
}

#define X(k) (e->expr[e->m->fn.v[id].arg[k]])

static void
emit_const(Emitter *e, int id)
{
	literal(e, e->m->fn.v[id].num, e->expr[id], EXPR_MAX);
}

static void
emit_param(Emitter *e, int id)
{
	char name[72];

	cg_ident(e->m->params[e->m->fn.v[id].slot].name, name, sizeof name);
	snprintf(e->expr[id], EXPR_MAX, "p->%s", name);
}

static void
emit_input(Emitter *e, int id)
{
	snprintf(e->expr[id], EXPR_MAX, "inputs[b * %d + %d]",
		e->m->ninputs, e->m->fn.v[id].slot);
}

static void
emit_target(Emitter *e, int id)
{
	snprintf(e->expr[id], EXPR_MAX, "targets[b * %d + %d]",
		e->m->ntargets, e->m->fn.v[id].slot);
}

static void
emit_nbatch(Emitter *e, int id)
{
	snprintf(e->expr[id], EXPR_MAX, "(%s)batch", e->real);
}

static void emit_neg(Emitter *e, int id) { define(e, id, "-%s", X(0)); }
static void emit_add(Emitter *e, int id) { define(e, id, "%s + %s", X(0), X(1)); }
static void emit_sub(Emitter *e, int id) { define(e, id, "%s - %s", X(0), X(1)); }
static void emit_mul(Emitter *e, int id) { define(e, id, "%s * %s", X(0), X(1)); }
static void emit_div(Emitter *e, int id) { define(e, id, "%s / %s", X(0), X(1)); }

static void
emit_exp(Emitter *e, int id)
{
	define(e, id, "exp%s(%s)", e->fsuffix, X(0));
}

static void
emit_log(Emitter *e, int id)
{
	define(e, id, "log%s(%s)", e->fsuffix, X(0));
}

static void
emit_pow(Emitter *e, int id)
{
	define(e, id, "pow%s(%s, %s)", e->fsuffix, X(0), X(1));
}

/* Small integer powers become products, which are exact at x <= 0. */
static void
emit_powi(Emitter *e, int id)
{
	double n = e->m->fn.v[id].num;
	char prod[3 * EXPR_MAX] = "", lit[40];

	if (fabs(n) > 4 || n == 0) {
		literal(e, n, lit, sizeof lit);
		define(e, id, "pow%s(%s, %s)", e->fsuffix, X(0), lit);
		return;
	}
	for (int k = 0; k < fabs(n); k++) {
		strcat(prod, k ? " * " : "");
		strcat(prod, X(0));
	}
	if (n > 0)
		define(e, id, "%s", prod);
	else
		define(e, id, "1 / (%s)", prod);
}

/* Summed in example order, so results do not depend on the schedule. */
static void
emit_bsum(Emitter *e, int id)
{
	close_loop(e);
	source_comment(e, id);
	out(e, "\t%s v%d = 0;\n", e->real, id);
	out(e, "\tfor (size_t b = 0; b < batch; b++)\n");
	out(e, "\t\tv%d += %s;\n", id, X(0));
	snprintf(e->expr[id], EXPR_MAX, "v%d", id);
}

/* Reading a shared value from every example needs no copy. */
static void
emit_bcast(Emitter *e, int id)
{
	memcpy(e->expr[id], X(0), EXPR_MAX);
}

#undef X

typedef void (*EmitFn)(Emitter *e, int id);

static const EmitFn emit_fns[IR_NOPS] = {
#define OP(name, arity, shape) [IR_##name] = emit_##name,
#include "ops.def"
#undef OP
};

/* Stored per-example values get a workspace slot each. */
static int
stored(const IrValue *v)
{
	return v->batched && v->op != IR_input && v->op != IR_target &&
		v->op != IR_bcast;
}

static void
assign_slots(Emitter *e)
{
	const IrFunc *f = &e->m->fn;

	e->slot = malloc(((size_t)f->n + 1) * sizeof *e->slot);
	e->nslots = 0;
	for (int id = 0; id < f->n; id++)
		e->slot[id] = stored(&f->v[id]) ? e->nslots++ : -1;
}

static void
emit_body(Emitter *e, const char *live)
{
	const IrFunc *f = &e->m->fn;

	out(e, "\t%s *restrict ws = workspace;\n", e->real);
	out(e, "\t(void)ws;\n");
	for (int id = 0; id < f->n; id++)
		if (live[id] && e->slot[id] >= 0)
			out(e, "\t%s *restrict v%d = ws + (size_t)%d * batch;\n",
				e->real, id, e->slot[id]);
	e->last_line = 0;
	for (int id = 0; id < f->n; id++)
		if (live[id])
			emit_fns[f->v[id].op](e, id);
	close_loop(e);
}

static char *
live_for(const IrFunc *f, const int *root, int nroots)
{
	char *live = malloc((size_t)f->n + 1);

	ir_live(f, root, nroots, live);
	return live;
}

static void
emit_loss(Emitter *e)
{
	const char *n = e->m->name;
	char *live = live_for(&e->m->fn, &e->m->fn.loss, 1);

	out(e, "\n%s\n%s_loss(const %s_params *restrict p,\n"
	       "\tconst %s *restrict inputs, const %s *restrict targets,\n"
	       "\tsize_t batch, void *restrict workspace)\n{\n",
	       e->real, n, n, e->real, e->real);
	out(e, "\t(void)p, (void)inputs, (void)targets;\n");
	emit_body(e, live);
	out(e, "\treturn %s;\n}\n", e->expr[e->m->fn.loss]);
	free(live);
}

static void
emit_loss_grad(Emitter *e)
{
	const IrModule *m = e->m;
	int *root = malloc(((size_t)m->nparams + 1) * sizeof *root);
	int nroots = 0;
	char name[72];

	root[nroots++] = m->fn.loss;
	for (int i = 0; i < m->nparams; i++)
		if (m->fn.grad[i] >= 0)
			root[nroots++] = m->fn.grad[i];
	char *live = live_for(&m->fn, root, nroots);

	out(e, "\n%s\n%s_loss_grad(const %s_params *restrict p,\n"
	       "\t%s_params *restrict grad, const %s *restrict inputs,\n"
	       "\tconst %s *restrict targets, size_t batch,\n"
	       "\tvoid *restrict workspace)\n{\n",
	       e->real, m->name, m->name, m->name, e->real, e->real);
	out(e, "\t(void)p, (void)inputs, (void)targets;\n");
	emit_body(e, live);
	for (int i = 0; i < m->nparams; i++)
		out(e, "\tgrad->%s = %s;\n",
			cg_ident(m->params[i].name, name, sizeof name),
			m->fn.grad[i] >= 0 ? e->expr[m->fn.grad[i]] : "0");
	out(e, "\treturn %s;\n}\n", e->expr[m->fn.loss]);
	free(live);
	free(root);
}

static void
emit_predict(Emitter *e)
{
	const IrFunc *f = &e->m->fn;
	const char *n = e->m->name;

	out(e, "\nvoid\n%s_predict(const %s_params *restrict p,\n"
	       "\tconst %s *restrict inputs, size_t batch,\n"
	       "\t%s *restrict out, void *restrict workspace)\n{\n",
	       n, n, e->real, e->real);
	out(e, "\t(void)p, (void)inputs;\n");
	if (f->output < 0) {
		out(e, "\t(void)out, (void)batch, (void)workspace;\n}\n");
		return;
	}
	char *live = live_for(f, &f->output, 1);
	emit_body(e, live);
	out(e, "\tfor (size_t b = 0; b < batch; b++)\n");
	out(e, "\t\tout[b] = %s;\n}\n", e->expr[f->output]);
	free(live);
}

static void
emit_tables(Emitter *e)
{
	const IrModule *m = e->m;
	char name[72], lit[48];

	out(e, "\nconst %s_param_info %s_param_table[%d] = {\n", m->name,
		m->name, m->nparams > 0 ? m->nparams : 1);
	for (int i = 0; i < m->nparams; i++)
		out(e, "\t{ \"%s\", offsetof(%s_params, %s) / sizeof(%s), 1 },\n",
			m->params[i].name, m->name,
			cg_ident(m->params[i].name, name, sizeof name), e->real);
	if (m->nparams == 0)
		out(e, "\t{ \"\", 0, 0 },\n");
	out(e, "};\n");

	out(e, "\nsize_t\n%s_workspace_size(size_t batch)\n{\n", m->name);
	out(e, "\treturn (size_t)%d * batch * sizeof(%s);\n}\n", e->nslots,
		e->real);

	out(e, "\nvoid\n%s_init(%s_params *p, uint64_t seed)\n{\n", m->name,
		m->name);
	out(e, "\t(void)seed;\n");
	for (int i = 0; i < m->nparams; i++) {
		literal(e, m->params[i].init, lit, sizeof lit);
		out(e, "\tp->%s = %s;\n",
			cg_ident(m->params[i].name, name, sizeof name), lit);
	}
	out(e, "}\n");
}

static void
setup(Emitter *e, const IrModule *m, const CgOptions *o, FILE *f)
{
	memset(e, 0, sizeof *e);
	e->m = m;
	e->o = o;
	e->out = f;
	snprintf(e->real, sizeof e->real, "%s_real", m->name);
	e->fsuffix = o->precision == CG_F32 ? "f" : "";
	e->expr = calloc((size_t)m->fn.n + 1, sizeof *e->expr);
	assign_slots(e);
}

static void
teardown(Emitter *e)
{
	free(e->expr);
	free(e->slot);
}

void
cg_emit_source(const IrModule *m, const CgOptions *o, FILE *f)
{
	Emitter e;

	setup(&e, m, o, f);
	out(&e, "/*\n * %s.c - generated by dlc from ", m->name);
	comment_text(f, m->path, strlen(m->path));
	out(&e, ".\n * The API is documented in %s.h.\n */\n", m->name);
	out(&e, "#include <math.h>\n#include <stddef.h>\n#include <stdint.h>\n");
	out(&e, "\n#include \"%s.h\"\n", m->name);
	emit_tables(&e);
	emit_loss(&e);
	emit_loss_grad(&e);
	emit_predict(&e);
	teardown(&e);
}
