/*
 * print.c - the textual form of a module, for --emit=ir.
 *
 *   %5 = mul %1, %0 : [B]     ; 6:13
 *
 * One value a line: its number, op, operands (or attribute), and its type,
 * [B] when it carries the batch axis and [] when it is one scalar for the
 * whole batch.  The trailing comment gives the source line and column, and
 * says `back` for values that differentiation made.
 */
#include <stdio.h>

#include "ir.h"

static void
print_operands(const IrModule *m, const IrValue *v, char *buf, size_t n)
{
	switch (v->op) {
	case IR_const:
		snprintf(buf, n, " %.17g", v->num);
		return;
	case IR_param:
		snprintf(buf, n, " %s", m->params[v->slot].name);
		return;
	case IR_input:
		snprintf(buf, n, " %s", m->inputs[v->slot]);
		return;
	case IR_target:
		snprintf(buf, n, " %s", m->targets[v->slot]);
		return;
	case IR_powi:
		snprintf(buf, n, " %%%d, %.17g", v->arg[0], v->num);
		return;
	default:
		break;
	}
	switch (ir_ops[v->op].arity) {
	case 0:
		buf[0] = '\0';
		break;
	case 1:
		snprintf(buf, n, " %%%d", v->arg[0]);
		break;
	default:
		snprintf(buf, n, " %%%d, %%%d", v->arg[0], v->arg[1]);
		break;
	}
}

static void
print_value(const IrModule *m, int id)
{
	const IrValue *v = &m->fn.v[id];
	char ops[160], line[256];

	print_operands(m, v, ops, sizeof ops);
	snprintf(line, sizeof line, "  %%%d = %s%s : %s", id,
		ir_ops[v->op].name, ops, v->batched ? "[B]" : "[]");
	printf("%-40s ; %d:%d%s\n", line, v->loc.line, v->loc.col,
		v->adjoint ? " back" : "");
}

void
ir_print(const IrModule *m, const char *stage)
{
	const IrFunc *f = &m->fn;

	printf("; %s after %s\n", m->path, stage);
	printf("module %s\n", m->name);
	for (int i = 0; i < m->nparams; i++)
		printf("param %s = %.17g\n", m->params[i].name,
			m->params[i].init);
	for (int i = 0; i < m->ninputs; i++)
		printf("input %s\n", m->inputs[i]);
	for (int i = 0; i < m->ntargets; i++)
		printf("target %s\n", m->targets[i]);
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
