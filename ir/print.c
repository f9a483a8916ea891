/*
 * print.c - the textual form of a module, for --emit=ir.
 *
 *   %5 = rsum %4 axis=1 : [B, 3]     ; 7:12
 *
 * One value a line: its number, op, operands, attributes, and type: [B,
 * ...] when it carries the batch axis, then its per-example dimensions.
 * The trailing comment gives the source line and column, and says `back`
 * for values that differentiation made.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ir.h"

typedef struct Buf {
	char text[256];
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

/* Leaves name what they read; other attributes follow the operands. */
static void
put_attributes(Buf *b, const IrModule *m, const IrValue *v)
{
	switch (v->op) {
	case IR_param:
		put(b, " %s", m->params[v->slot].name);
		return;
	case IR_input:
		put(b, " %s", m->inputs[v->slot].name);
		return;
	case IR_target:
		put(b, " %s", m->targets[v->slot].name);
		return;
	case IR_const:
	case IR_powi:
		put(b, "%s%.17g", ir_arity(v->op) ? ", " : " ", v->num);
		return;
	case IR_iota:
		put(b, " %.17g", v->num);
		return;
	default:
		break;
	}
	if (v->axis >= 0)
		put(b, " axis=%d", v->axis);
}

static void
print_value(const IrModule *m, int id)
{
	const IrValue *v = &m->fn.v[id];
	char type[64];
	Buf b = { .len = 0 };

	put(&b, "  %%%d = %s", id, ir_ops[v->op].name);
	for (int k = 0; k < ir_arity(v->op); k++)
		put(&b, "%s%%%d", k ? ", " : " ", v->arg[k]);
	put_attributes(&b, m, v);
	ir_type_str(&v->type, type, sizeof type);
	put(&b, " : %s", type);
	printf("%-44s ; %d:%d%s\n", b.text, v->loc.line, v->loc.col,
		v->adjoint ? " back" : "");
}

static void
print_data(const char *kind, const IrData *d)
{
	char type[64];

	ir_type_str(&d->type, type, sizeof type);
	printf("%s %s : %s", kind, d->name, type);
	if (d->nclasses)
		printf(" class(%d)", d->nclasses);
	printf("\n");
}

void
ir_print(const IrModule *m, const char *stage)
{
	const IrFunc *f = &m->fn;
	char type[64];

	printf("; %s after %s\n", m->path, stage);
	printf("module %s\n", m->name);
	for (int i = 0; i < m->nparams; i++) {
		ir_type_str(&m->params[i].type, type, sizeof type);
		printf("param %s : %s\n", m->params[i].name, type);
	}
	for (int i = 0; i < m->ninputs; i++)
		print_data("input", &m->inputs[i]);
	for (int i = 0; i < m->ntargets; i++)
		print_data("target", &m->targets[i]);
	printf("func {\n");
	for (int id = 0; id < f->n; id++)
		print_value(m, id);
	printf("}\n");
	printf("loss %%%d\n", f->loss);
	if (f->output >= 0)
		printf("output %%%d\n", f->output);
	for (int i = 0; f->grad && i < m->nparams; i++) {
		if (f->grad[i] >= 0)
			printf("grad %s %%%d\n", m->params[i].name, f->grad[i]);
		else
			printf("grad %s zero\n", m->params[i].name);
	}
}
