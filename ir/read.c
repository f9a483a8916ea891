/*
 * read.c - the .dlir reader: parses the textual form that print.c writes
 * (docs/ir.md) back into a module.
 *
 * A hand-written parser, one line at a time, since the format is ours and
 * line-shaped.  Every problem is reported through diag_error() at its
 * line and column; after one, the rest of that line is skipped and the
 * next is read, so a run shows several errors.  Names are resolved as the
 * lines come (the tables precede the function), operands must precede
 * their use, and a module that parsed is then put through ir_check(), so
 * that whatever reaches the passes is well typed.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

typedef struct Reader {
	Source *src;
	Arena *arena;
	const char *p, *end;    /* the cursor and the end of the text */
	int line;
	const char *line_start;
	int failed;             /* an error on the current line */
	int started;            /* the cursor is on a line already */
	IrModule *m;
	int stage;
	int *value_line;        /* the .dlir line of each value */
	int cap_params, cap_inputs, cap_targets;
	Loc module_loc;
	char *seen_grad;        /* a grad line per parameter */
} Reader;

/* ---- the cursor ---- */

static Loc
here(const Reader *r)
{
	int col = (int)(r->p - r->line_start) + 1;

	return (Loc){ r->line, col, r->line, col };
}

static int
error(Reader *r, Loc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Reports once per line; returns 1 so a rule can `return error(...)`. */
static int
error(Reader *r, Loc loc, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (r->failed)
		return 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	diag_error(r->src, loc, "%s", msg);
	r->failed = 1;
	return 1;
}

static int
at_eol(const Reader *r)
{
	return r->p >= r->end || *r->p == '\n';
}

static void
skip_space(Reader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\r'))
		r->p++;
}

/* What the cursor is on, for "saw X" in messages. */
static void
describe(const Reader *r, char *buf, size_t n)
{
	size_t len = 0;

	if (at_eol(r)) {
		snprintf(buf, n, "the end of the line");
		return;
	}
	while (r->p + len < r->end && len < 20 && !isspace((unsigned char)
	    r->p[len]) && isprint((unsigned char)r->p[len]))
		len++;
	if (len == 0)
		snprintf(buf, n, "byte 0x%02x", (unsigned char)*r->p);
	else
		snprintf(buf, n, "'%.*s'", (int)len, r->p);
}

static int
expected(Reader *r, const char *what)
{
	char saw[64];

	describe(r, saw, sizeof saw);
	return error(r, here(r), "expected %s, saw %s", what, saw);
}

static int
accept(Reader *r, char c)
{
	skip_space(r);
	if (r->p < r->end && *r->p == c) {
		r->p++;
		return 1;
	}
	return 0;
}

static int
expect(Reader *r, char c)
{
	char what[8] = { '\'', c, '\'', '\0' };

	return accept(r, c) ? 0 : expected(r, what);
}

static int
is_name_char(char c, int first)
{
	return c == '_' || isalpha((unsigned char)c) ||
		(!first && isdigit((unsigned char)c));
}

/* NAME: [A-Za-z_][A-Za-z0-9_]*, copied into buf; 0 when absent. */
static size_t
peek_word(Reader *r, char *buf, size_t n)
{
	size_t len = 0;

	skip_space(r);
	while (r->p + len < r->end && is_name_char(r->p[len], len == 0))
		len++;
	if (len == 0 || len >= n)
		return 0;
	memcpy(buf, r->p, len);
	buf[len] = '\0';
	return len;
}

static int
word(Reader *r, char *buf, size_t n, const char *what)
{
	size_t len = peek_word(r, buf, n);

	if (len == 0)
		return expected(r, what);
	r->p += len;
	return 0;
}

static int
keyword(Reader *r, const char *kw)
{
	char buf[64], what[80];

	snprintf(what, sizeof what, "'%s'", kw);
	if (peek_word(r, buf, sizeof buf) && strcmp(buf, kw) == 0) {
		r->p += strlen(kw);
		return 0;
	}
	return expected(r, what);
}

/* A number as strtod spells it (inf and nan included). */
static int
number(Reader *r, double *v)
{
	char buf[64];
	size_t len = 0;
	char *stop;

	skip_space(r);
	while (r->p + len < r->end && len + 1 < sizeof buf &&
	    (isalnum((unsigned char)r->p[len]) || strchr("+-.", r->p[len])))
		len++;
	memcpy(buf, r->p, len);
	buf[len] = '\0';
	*v = strtod(buf, &stop);
	if (len == 0 || *stop != '\0')
		return expected(r, "a number");
	r->p += len;
	return 0;
}

/* A whole number from lo to hi. */
static int
integer(Reader *r, long long lo, long long hi, long long *v)
{
	char *stop;
	Loc at;

	skip_space(r);
	at = here(r);
	if (r->p >= r->end || !(isdigit((unsigned char)*r->p) || *r->p == '-'))
		return expected(r, "a whole number");
	errno = 0;
	*v = strtoll(r->p, &stop, 10);
	if (stop == r->p || (stop < r->end && is_name_char(*stop, 0)))
		return expected(r, "a whole number");
	r->p = stop;
	if (errno == ERANGE || *v < lo || *v > hi)
		return error(r, at, "%lld is outside %lld..%lld", *v, lo, hi);
	return 0;
}

static int
int_in(Reader *r, long long lo, long long hi, int *v)
{
	long long x;

	if (integer(r, lo, hi, &x))
		return 1;
	*v = (int)x;
	return 0;
}

/* %N, a value that exists before `limit`. */
static int
value_ref(Reader *r, int limit, int *id)
{
	Loc at;

	skip_space(r);
	at = here(r);
	if (!accept(r, '%'))
		return expected(r, "a value such as %3");
	if (int_in(r, 0, INT_MAX, id))
		return 1;
	if (*id >= limit)
		return error(r, at, "%%%d is not defined before here", *id);
	return 0;
}

static int
end_of_line(Reader *r)
{
	skip_space(r);
	if (r->p < r->end && *r->p == ';')
		while (!at_eol(r))
			r->p++;
	return at_eol(r) ? 0 : expected(r, "the end of the line");
}

/* Moves to the next line that holds more than a comment (the first line
 * of the file on the first call); 0 at the end. */
static int
next_line(Reader *r)
{
	for (;;) {
		if (r->started) {
			while (!at_eol(r))
				r->p++;
			if (r->p >= r->end)
				return 0;
			r->p++;
			r->line++;
			r->line_start = r->p;
		}
		r->started = 1;
		r->failed = 0;
		skip_space(r);
		if (r->p >= r->end)
			return 0;
		if (!at_eol(r) && *r->p != ';')
			return 1;
	}
}

/* ---- pieces of lines ---- */

/* [B, 3, 4] or [3] or [] */
static int
type(Reader *r, IrType *t)
{
	memset(t, 0, sizeof *t);
	if (expect(r, '['))
		return 1;
	skip_space(r);
	if (r->p < r->end && *r->p == 'B') {
		r->p++;
		t->batched = 1;
		if (!accept(r, ','))
			return expect(r, ']');
	} else if (accept(r, ']')) {
		return 0;
	}
	do {
		if (t->rank == IR_MAX_RANK)
			return error(r, here(r), "more than %d dimensions",
				IR_MAX_RANK);
		if (int_in(r, 1, 1 << 30, &t->dim[t->rank++]))
			return 1;
	} while (accept(r, ','));
	return expect(r, ']');
}

/* Digits at the cursor as an int of at most 9 digits; -1 if none. */
static int
digits(Reader *r)
{
	int v = 0, len = 0;

	while (r->p < r->end && isdigit((unsigned char)*r->p) && len < 9) {
		v = v * 10 + (*r->p++ - '0');
		len++;
	}
	return len ? v : -1;
}

/* ; LINE:COL [back], the source location and the back mark; a comment
 * that says something else is skipped */
static void
trailer(Reader *r, Loc *loc, int *back)
{
	const char *keep;
	char buf[8];
	int line, col;

	*loc = (Loc){ 0, 0, 0, 0 };
	skip_space(r);
	if (!accept(r, ';'))
		return;
	skip_space(r);
	keep = r->p;
	line = digits(r);
	col = line >= 0 && accept(r, ':') ? digits(r) : -1;
	if (col >= 0)
		*loc = (Loc){ line, col, line, col };
	else
		r->p = keep;
	if (back && peek_word(r, buf, sizeof buf) && strcmp(buf, "back") == 0) {
		*back = 1;
		r->p += 4;
	}
	while (!at_eol(r))
		r->p++;
}

/* "text" with \" \\ and \xHH escapes */
static int
string(Reader *r, const char **out)
{
	char *buf = arena_alloc(r->arena, (size_t)(r->end - r->p) + 1);
	size_t len = 0;

	if (expect(r, '"'))
		return 1;
	while (!at_eol(r) && *r->p != '"') {
		if (*r->p != '\\') {
			buf[len++] = *r->p++;
		} else if (r->p + 1 < r->end && strchr("\"\\", r->p[1])) {
			buf[len++] = r->p[1];
			r->p += 2;
		} else if (r->p + 3 < r->end && r->p[1] == 'x' &&
		    isxdigit((unsigned char)r->p[2]) &&
		    isxdigit((unsigned char)r->p[3])) {
			char hex[3] = { r->p[2], r->p[3], '\0' };
			buf[len++] = (char)strtol(hex, NULL, 16);
			r->p += 4;
		} else {
			return error(r, here(r), "unknown escape in a string");
		}
	}
	buf[len] = '\0';
	*out = buf;
	return expect(r, '"');
}

/* ---- header lines ---- */

/* module NAME */
static int
module_line(Reader *r)
{
	char name[64];

	r->module_loc = here(r);
	if (keyword(r, "module") || word(r, name, sizeof name, "a module name"))
		return 1;
	r->m->name = arena_strdup(r->arena, name);
	return end_of_line(r);
}

/* source "PATH" */
static int
source_line(Reader *r)
{
	return keyword(r, "source") || string(r, &r->m->path) ||
		end_of_line(r);
}

/* stage NAME, one of ir_stage_name() */
static int
stage_line(Reader *r)
{
	char name[32];
	Loc at;

	if (keyword(r, "stage"))
		return 1;
	skip_space(r);
	at = here(r);
	if (word(r, name, sizeof name, "a stage name"))
		return 1;
	r->stage = ir_stage_index(name);
	if (r->stage < 0)
		return error(r, at, "unknown stage '%s'; expected forward, "
			"grad, cse, dce or opt", name);
	return end_of_line(r);
}

static int
optimiser(Reader *r, IrTrain *t)
{
	char name[32];
	Loc at = here(r);

	if (word(r, name, sizeof name, "an optimiser"))
		return 1;
	for (int k = 0; ir_opt_name(k); k++) {
		const char *known = ir_opt_name(k);
		if (known && strcmp(known, name) == 0) {
			t->opt = (OptKind)k;
			return 0;
		}
	}
	return error(r, at, "unknown optimiser '%s'", name);
}

/* One KEY=VALUE of the train line. */
static int
train_setting(Reader *r, IrTrain *t, const char *key, Loc at)
{
	double *reals[] = { &t->lr, &t->momentum, &t->beta1, &t->beta2,
		&t->eps, &t->weight_decay };
	static const char *const names[] = { "lr", "momentum", "beta1",
		"beta2", "eps", "weight_decay" };
	long long v;

	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (strcmp(key, names[i]) == 0)
			return number(r, reals[i]);
	if (strcmp(key, "epochs") == 0 || strcmp(key, "batch") == 0) {
		if (integer(r, 1, LONG_MAX, &v))
			return 1;
		*(key[0] == 'e' ? &t->epochs : &t->batch) = (long)v;
		return 0;
	}
	if (strcmp(key, "seed") == 0) {
		if (integer(r, 0, LLONG_MAX, &v))
			return 1;
		t->seed = (unsigned long long)v;
		return 0;
	}
	return error(r, at, "unknown train setting '%s'", key);
}

/* train OPT KEY=VALUE... */
static int
train_line(Reader *r)
{
	IrTrain *t = &r->m->train;
	char key[32];

	if (keyword(r, "train") || optimiser(r, t))
		return 1;
	for (;;) {
		skip_space(r);
		if (at_eol(r) || *r->p == ';')
			return end_of_line(r);
		Loc at = here(r);
		if (word(r, key, sizeof key, "a setting such as lr=0.1") ||
		    expect(r, '=') || train_setting(r, t, key, at))
			return 1;
	}
}

/* = const(A) | normal(A, B) | uniform(A, B) | glorot | he */
static int
initialiser(Reader *r, IrParam *p)
{
	char kind[16];
	Loc at;

	if (expect(r, '='))
		return 1;
	skip_space(r);
	at = here(r);
	if (word(r, kind, sizeof kind, "an initialiser"))
		return 1;
	if (strcmp(kind, "glorot") == 0 || strcmp(kind, "he") == 0) {
		p->init = kind[0] == 'g' ? INIT_GLOROT : INIT_HE;
		return 0;
	}
	if (strcmp(kind, "const") == 0)
		p->init = INIT_CONST;
	else if (strcmp(kind, "normal") == 0)
		p->init = INIT_NORMAL;
	else if (strcmp(kind, "uniform") == 0)
		p->init = INIT_UNIFORM;
	else
		return error(r, at, "unknown initialiser '%s'; expected const, "
			"normal, uniform, glorot or he", kind);
	if (expect(r, '(') || number(r, &p->a))
		return 1;
	if (p->init != INIT_CONST && (expect(r, ',') || number(r, &p->b)))
		return 1;
	return expect(r, ')');
}

static void *
grow(void *array, int n, int *cap, size_t size)
{
	if (n < *cap)
		return array;
	*cap = *cap ? 2 * *cap : 8;
	return realloc(array, (size_t)*cap * size);
}

static int
find_param(const IrModule *m, const char *name)
{
	for (int i = 0; i < m->nparams; i++)
		if (strcmp(m->params[i].name, name) == 0)
			return i;
	return -1;
}

static const IrData *
find_data(const IrData *d, int count, const char *name)
{
	for (int i = 0; i < count; i++)
		if (strcmp(d[i].name, name) == 0)
			return &d[i];
	return NULL;
}

/* A table name not used before in any table. */
static int
fresh_name(Reader *r, char *name, size_t n, const char *what)
{
	const IrModule *m = r->m;
	Loc at;

	skip_space(r);
	at = here(r);
	if (word(r, name, n, what))
		return 1;
	if (find_param(m, name) >= 0 || find_data(m->inputs, m->ninputs,
	    name) || find_data(m->targets, m->ntargets, name))
		return error(r, at, "'%s' is declared twice", name);
	return 0;
}

/* param NAME : TYPE = INIT ; LINE:COL */
static int
param_line(Reader *r)
{
	IrModule *m = r->m;
	IrParam p = { .offset = m->param_size };
	char name[64];

	if (keyword(r, "param") || fresh_name(r, name, sizeof name,
	    "a parameter name") || expect(r, ':') || type(r, &p.type) ||
	    initialiser(r, &p))
		return 1;
	trailer(r, &p.loc, NULL);
	if (end_of_line(r))
		return 1;
	p.name = arena_strdup(r->arena, name);
	m->params = grow(m->params, m->nparams, &r->cap_params, sizeof p);
	m->params[m->nparams++] = p;
	m->param_size += ir_numel(&p.type);
	return 0;
}

/* input NAME : TYPE  and  target NAME : TYPE [class(K)] */
static int
data_line(Reader *r, const char *kind, IrData **table, int *count,
	int *cap, long *size)
{
	IrData d = { .column = *size };
	char name[64], word_after[16];

	if (keyword(r, kind) || fresh_name(r, name, sizeof name, "a name") ||
	    expect(r, ':') || type(r, &d.type))
		return 1;
	if (peek_word(r, word_after, sizeof word_after) &&
	    strcmp(word_after, "class") == 0) {
		r->p += 5;
		if (expect(r, '(') || int_in(r, 1, INT_MAX, &d.nclasses) ||
		    expect(r, ')'))
			return 1;
	}
	d.name = arena_strdup(r->arena, name);
	*table = grow(*table, *count, cap, sizeof d);
	(*table)[(*count)++] = d;
	*size += ir_numel(&d.type);
	return end_of_line(r);
}

/* ---- values ---- */

static IrOp
op_named(const char *name)
{
	for (int op = 0; op < IR_NOPS; op++)
		if (strcmp(ir_ops[op].name, name) == 0)
			return (IrOp)op;
	return IR_NOPS;
}

/* The name after param, input or target: sets the slot. */
static int
leaf(Reader *r, IrValue *v)
{
	const IrModule *m = r->m;
	const IrData *d = NULL;
	char name[64];
	Loc at;

	skip_space(r);
	at = here(r);
	if (!peek_word(r, name, sizeof name) || r->p[strlen(name)] == '=')
		return 0;
	r->p += strlen(name);
	if (v->op == IR_param) {
		v->slot = find_param(m, name);
		if (v->slot < 0)
			return error(r, at, "no parameter named '%s'", name);
		return 0;
	}
	d = v->op == IR_input ? find_data(m->inputs, m->ninputs, name) :
		find_data(m->targets, m->ntargets, name);
	if (!d)
		return error(r, at, "no %s named '%s'", ir_ops[v->op].name,
			name);
	v->slot = (int)d->column;
	return 0;
}

/* num=X axis=N n=N slot=N, each at most once */
static int
attributes(Reader *r, IrValue *v)
{
	char key[16];
	int seen = 0;

	for (;;) {
		skip_space(r);
		if (r->p >= r->end || *r->p == ':' || at_eol(r))
			return 0;
		Loc at = here(r);
		if (word(r, key, sizeof key, "an attribute or ':'") ||
		    expect(r, '='))
			return 1;
		static const char *const keys[] = { "num", "axis", "n", "slot" };
		int k = 0;
		while (k < 4 && strcmp(keys[k], key) != 0)
			k++;
		if (k == 4)
			return error(r, at, "unknown attribute '%s'; expected "
				"num, axis, n or slot", key);
		if (seen & 1 << k)
			return error(r, at, "%s= is given twice", key);
		seen |= 1 << k;
		if (k == 0 ? number(r, &v->num) : int_in(r, k == 1 ? -1 : 0,
		    INT_MAX, k == 1 ? &v->axis : k == 2 ? &v->n : &v->slot))
			return 1;
	}
}

/* %ID = OP [%A[, %B[, %C]]] [NAME | NUMBER] [KEY=VALUE...] : TYPE
 *       ; LINE:COL [back] */
static int
value_line(Reader *r)
{
	IrFunc *f = &r->m->fn;
	IrValue v = { .arg = { -1, -1, -1 }, .axis = -1 };
	char name[32];
	Loc at;
	int id;

	at = here(r);
	if (value_ref(r, INT_MAX, &id))
		return 1;
	if (id != f->n)
		return error(r, at, "expected %%%d, saw %%%d; values are "
			"numbered in order", f->n, id);
	if (expect(r, '='))
		return 1;
	skip_space(r);
	at = here(r);
	if (word(r, name, sizeof name, "an op"))
		return 1;
	v.op = op_named(name);
	if (v.op == IR_NOPS)
		return error(r, at, "unknown op '%s'", name);
	for (int k = 0; k < ir_arity(v.op); k++)
		if ((k && expect(r, ',')) || value_ref(r, id, &v.arg[k]))
			return 1;
	if ((v.op == IR_param || v.op == IR_input || v.op == IR_target) &&
	    leaf(r, &v))
		return 1;
	if (v.op == IR_const && number(r, &v.num))
		return 1;
	if (attributes(r, &v) || expect(r, ':') || type(r, &v.type))
		return 1;
	trailer(r, &v.loc, &v.adjoint);
	if (end_of_line(r))
		return 1;
	if (f->n == f->cap) {
		r->value_line = grow(r->value_line, f->n, &f->cap,
			sizeof *r->value_line);
		f->v = realloc(f->v, (size_t)f->cap * sizeof *f->v);
	}
	r->value_line[f->n] = r->line;
	f->v[f->n++] = v;
	return 0;
}

/* func { value lines } */
static int
func_lines(Reader *r)
{
	if (keyword(r, "func") || expect(r, '{') || end_of_line(r))
		return 1;
	while (next_line(r)) {
		skip_space(r);
		if (accept(r, '}'))
			return end_of_line(r);
		if (value_line(r))
			continue;
	}
	return error(r, here(r), "the function has no closing '}'");
}

/* ---- roots ---- */

/* grad NAME (%ID | zero) */
static int
grad_line(Reader *r)
{
	IrModule *m = r->m;
	char name[64];
	int i, id = -1;
	Loc at;

	if (keyword(r, "grad"))
		return 1;
	skip_space(r);
	at = here(r);
	if (word(r, name, sizeof name, "a parameter name"))
		return 1;
	i = find_param(m, name);
	if (i < 0)
		return error(r, at, "no parameter named '%s'", name);
	if (r->seen_grad[i])
		return error(r, at, "a second gradient of '%s'", name);
	if (!m->has_grad)
		return error(r, at, "a module at stage forward has no "
			"gradients");
	skip_space(r);
	if (r->p < r->end && *r->p == 'z') {
		if (keyword(r, "zero"))
			return 1;
	} else if (value_ref(r, m->fn.n, &id)) {
		return 1;
	}
	r->seen_grad[i] = 1;
	m->fn.grad[i] = id;
	return end_of_line(r);
}

/* loss %ID, output %ID, grad lines: in that order */
static void
root_lines(Reader *r)
{
	IrFunc *f = &r->m->fn;
	char kw[16];

	if (!next_line(r)) {
		error(r, here(r), "expected 'loss', saw the end of the file");
		return;
	}
	if (!keyword(r, "loss") && !value_ref(r, f->n, &f->loss))
		end_of_line(r);
	while (next_line(r)) {
		peek_word(r, kw, sizeof kw);
		if (strcmp(kw, "output") == 0 && f->output < 0) {
			if (!keyword(r, "output") && !value_ref(r, f->n,
			    &f->output))
				end_of_line(r);
		} else if (strcmp(kw, "grad") == 0) {
			grad_line(r);
		} else {
			expected(r, "'output' or 'grad'");
		}
	}
}

static int
missing_grads(Reader *r)
{
	IrModule *m = r->m;

	for (int i = 0; m->has_grad && i < m->nparams; i++)
		if (!r->seen_grad[i])
			return error(r, r->module_loc, "parameter '%s' has no "
				"grad line", m->params[i].name);
	return 0;
}

/* ---- the whole file ---- */

typedef int (*LineFn)(Reader *r);

/* The header lines, each once and in this order. */
static int
header(Reader *r)
{
	static const LineFn fixed[] = { module_line, source_line, stage_line,
		train_line };
	IrModule *m = r->m;
	char kw[16];

	for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) {
		if (!next_line(r))
			return error(r, here(r), "the file ends in its header");
		if (fixed[i](r))
			return 1;
	}
	while (next_line(r)) {
		peek_word(r, kw, sizeof kw);
		if (strcmp(kw, "param") == 0)
			param_line(r);
		else if (strcmp(kw, "input") == 0)
			data_line(r, "input", &m->inputs, &m->ninputs,
				&r->cap_inputs, &m->input_size);
		else if (strcmp(kw, "target") == 0)
			data_line(r, "target", &m->targets, &m->ntargets,
				&r->cap_targets, &m->target_size);
		else
			return 0;
	}
	return error(r, here(r), "the file ends before 'func'");
}

/* Reports what ir_check() finds at the line of the value at fault. */
static int
check_module(Reader *r)
{
	IrProblem p;
	Loc at = r->module_loc;

	if (ir_check(r->m, &p) == 0)
		return 0;
	if (p.id >= 0 && p.id < r->m->fn.n)
		at = (Loc){ r->value_line[p.id], 1, r->value_line[p.id], 1 };
	r->failed = 0;
	return error(r, at, "%s", p.why);
}

static void
begin(Reader *r, Source *src, Arena *arena)
{
	IrModule *m = calloc(1, sizeof *m);

	*r = (Reader){ .src = src, .arena = arena, .m = m, .line = 1 };
	r->p = r->line_start = src->text;
	r->end = src->text + src->len;
	m->path = src->path;
	m->fn.output = -1;
	m->fn.loss = -1;
}

static void
finish(Reader *r)
{
	IrModule *m = r->m;

	m->fn.nparams = m->nparams;
	m->has_grad = r->stage > 0;
	r->seen_grad = arena_alloc(r->arena, (size_t)m->nparams + 1);
	memset(r->seen_grad, 0, (size_t)m->nparams + 1);
	if (m->has_grad) {
		m->fn.grad = malloc(((size_t)m->nparams + 1) * sizeof *m->fn.grad);
		for (int i = 0; i < m->nparams; i++)
			m->fn.grad[i] = -1;
	}
}

IrModule *
ir_read(Source *src, Arena *arena, const char **stage)
{
	Reader r;
	int errors = src->nerrors;

	begin(&r, src, arena);
	if (header(&r) == 0) {
		finish(&r);
		if (func_lines(&r) == 0)
			root_lines(&r);
	}
	if (src->nerrors == errors)
		missing_grads(&r);
	if (src->nerrors == errors)
		check_module(&r);
	free(r.value_line);
	if (src->nerrors != errors) {
		ir_module_free(r.m);
		return NULL;
	}
	*stage = ir_stage_name(r.stage);
	return r.m;
}
