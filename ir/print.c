/*
 * print.c - the textual form of a module (docs/ir.md), for --emit=ir and
 * .dlir files.  read.c parses exactly what this prints, so the text is
 * complete: everything a later stage reads is in it.
 *
 *   %5 = rsum %4 axis=1 : [B, 3]               ; 7:12
 *
 * One value a line: its number, op, operands, attributes, and type: [B,
 * ...] when it carries the batch axis, then its per-example dimensions.
 * The trailing comment gives the source line and column, and says `back`
 * for values that differentiation made.  Attributes are op-independent:
 * each of num, axis, n and slot is printed when it differs from its
 * default (0, -1, 0, 0), so no op list is needed here; const shows its
 * number bare and the leaves name what they read instead of a slot.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

typedef struct Buf {
	char text[512];
	size_t len;
} Buf;

static void
put(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
put(Buf *b, const char *fmt, ...)
{
	va_list ap;

	if (b->len >= sizeof b->text)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(b->text + b->len, sizeof b->text - b->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len += (size_t)n;
}

/* The shortest %g spelling that reads back as the same double. */
void
ir_num_str(double v, char *buf, size_t n)
{
	for (int digits = 15; digits <= 17; digits++) {
		snprintf(buf, n, "%.*g", digits, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

static void
put_num(Buf *b, const char *prefix, double v)
{
	char num[40];

	ir_num_str(v, num, sizeof num);
	put(b, "%s%s", prefix, num);
}

/* The name of the input or target whose first column is `column`. */
static const char *
data_name(const IrData *d, int count, int column)
{
	for (int i = 0; i < count; i++)
		if (d[i].column == column)
			return d[i].name;
	return NULL;
}

/* What a leaf reads, by name; NULL when its slot names nothing. */
static const char *
leaf_name(const IrModule *m, const IrValue *v)
{
	switch (v->op) {
	case IR_param:
		return v->slot >= 0 && v->slot < m->nparams ?
			m->params[v->slot].name : NULL;
	case IR_input:
		return data_name(m->inputs, m->ninputs, v->slot);
	case IR_target:
		return data_name(m->targets, m->ntargets, v->slot);
	default:
		return NULL;
	}
}

static int
is_zero(double v)
{
	static const double zero = 0;

	return memcmp(&v, &zero, sizeof v) == 0;
}

static void
put_attributes(Buf *b, const IrModule *m, const IrValue *v)
{
	const char *name = leaf_name(m, v);
	int show_slot = v->slot != 0;

	if (name) {
		put(b, " %s", name);
		show_slot = 0;
	}
	if (v->op == IR_const)
		put_num(b, " ", v->num);
	else if (!is_zero(v->num))
		put_num(b, " num=", v->num);
	if (v->axis != -1)
		put(b, " axis=%d", v->axis);
	if (v->n != 0)
		put(b, " n=%d", v->n);
	if (show_slot)
		put(b, " slot=%d", v->slot);
}

static void
put_type(Buf *b, const IrType *t)
{
	char type[64];

	ir_type_str(t, type, sizeof type);
	put(b, " : %s", type);
}

/* The value's line without the location comment. */
static void
value_text(const IrModule *m, int id, Buf *b)
{
	const IrValue *v = &m->fn.v[id];
	int op_ok = v->op >= 0 && v->op < IR_NOPS;

	put(b, "%%%d = %s", id, op_ok ? ir_ops[v->op].name : "?");
	for (int k = 0; op_ok && k < ir_arity(v->op); k++)
		put(b, "%s%%%d", k ? ", " : " ", v->arg[k]);
	put_attributes(b, m, v);
	put_type(b, &v->type);
}

void
ir_value_str(const IrModule *m, int id, char *buf, size_t n)
{
	Buf b = { .len = 0 };

	value_text(m, id, &b);
	snprintf(buf, n, "%s", b.text);
}

static void
print_value(const IrModule *m, int id, FILE *out)
{
	const IrValue *v = &m->fn.v[id];
	Buf b = { .len = 0 };

	put(&b, "  ");
	value_text(m, id, &b);
	fprintf(out, "%-44s ; %d:%d%s\n", b.text, v->loc.line, v->loc.col,
		v->adjoint ? " back" : "");
}

/* A string in double quotes, with \" \\ and \xHH escapes. */
static void
print_string(const char *s, FILE *out)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 32 || c >= 127)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

/* The optimisers by name.  Kept here rather than borrowed from
 * check_opt_name(), which knows only the ones the checker accepts today
 * and would read past its table for the others. */
const char *
ir_opt_name(int k)
{
	static const char *const names[] = { [OPT_SGD] = "sgd",
		[OPT_ADAM] = "adam", [OPT_ADAMW] = "adamw" };

	return k >= 0 && k < (int)(sizeof names / sizeof *names) ? names[k] :
		NULL;
}

static void
print_train(const IrTrain *t, FILE *out)
{
	static const char *const keys[] = { "lr", "momentum", "beta1", "beta2",
		"eps", "weight_decay" };
	const double vals[] = { t->lr, t->momentum, t->beta1, t->beta2, t->eps,
		t->weight_decay };
	const char *opt = ir_opt_name((int)t->opt);
	Buf b = { .len = 0 };

	if (opt)
		put(&b, "train %s", opt);
	else
		put(&b, "train opt=%d", (int)t->opt);
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
		put(&b, " %s=", keys[i]);
		put_num(&b, "", vals[i]);
	}
	put(&b, " epochs=%ld batch=%ld seed=%llu", t->epochs, t->batch, t->seed);
	fprintf(out, "%s\n", b.text);
}

/* The initialiser, with the numbers its kind uses. */
static void
put_init(Buf *b, const IrParam *p)
{
	switch (p->init) {
	case INIT_CONST:
		put_num(b, " = const(", p->a);
		put(b, ")");
		break;
	case INIT_NORMAL:
	case INIT_UNIFORM:
		put(b, " = %s(", p->init == INIT_NORMAL ? "normal" : "uniform");
		put_num(b, "", p->a);
		put_num(b, ", ", p->b);
		put(b, ")");
		break;
	case INIT_GLOROT:
		put(b, " = glorot");
		break;
	case INIT_HE:
		put(b, " = he");
		break;
	}
}

static void
print_param(const IrParam *p, FILE *out)
{
	Buf b = { .len = 0 };

	put(&b, "param %s", p->name);
	put_type(&b, &p->type);
	put_init(&b, p);
	fprintf(out, "%-44s ; %d:%d\n", b.text, p->loc.line, p->loc.col);
}

static void
print_data(const char *kind, const IrData *d, FILE *out)
{
	char type[64];

	ir_type_str(&d->type, type, sizeof type);
	fprintf(out, "%s %s : %s", kind, d->name, type);
	if (d->nclasses)
		fprintf(out, " class(%d)", d->nclasses);
	fprintf(out, "\n");
}

static void
print_header(const IrModule *m, const char *stage, FILE *out)
{
	fprintf(out, "; %s after %s\n", m->path, stage);
	fprintf(out, "module %s\n", m->name);
	fprintf(out, "source ");
	print_string(m->path, out);
	fprintf(out, "\nstage %s\n", stage);
	print_train(&m->train, out);
	for (int i = 0; i < m->nparams; i++)
		print_param(&m->params[i], out);
	for (int i = 0; i < m->ninputs; i++)
		print_data("input", &m->inputs[i], out);
	for (int i = 0; i < m->ntargets; i++)
		print_data("target", &m->targets[i], out);
}

static void
print_roots(const IrModule *m, FILE *out)
{
	const IrFunc *f = &m->fn;

	fprintf(out, "loss %%%d\n", f->loss);
	if (f->output >= 0)
		fprintf(out, "output %%%d\n", f->output);
	for (int i = 0; m->has_grad && f->grad && i < m->nparams; i++) {
		if (f->grad[i] >= 0)
			fprintf(out, "grad %s %%%d\n", m->params[i].name,
				f->grad[i]);
		else
			fprintf(out, "grad %s zero\n", m->params[i].name);
	}
}

void
ir_print_to(const IrModule *m, const char *stage, FILE *out)
{
	print_header(m, stage, out);
	fprintf(out, "func {\n");
	for (int id = 0; id < m->fn.n; id++)
		print_value(m, id, out);
	fprintf(out, "}\n");
	print_roots(m, out);
}

void
ir_print(const IrModule *m, const char *stage)
{
	ir_print_to(m, stage, stdout);
}
