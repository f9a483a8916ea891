/*
 * ir.c - the op table and the builder that appends values to a function.
 */
#include <stdio.h>
#include <stdlib.h>

#include "ir.h"

const IrOpInfo ir_ops[IR_NOPS] = {
#define OP(name, arity, rule) [IR_##name] = { #name, arity },
#include "ops.def"
#undef OP
};

typedef IrType (*TypeRule)(const IrFunc *f, const int *arg,
	const IrType *given);

/* The type is an attribute of the op: lowering or a rule computed it. */
static IrType
type_given(const IrFunc *f, const int *arg, const IrType *given)
{
	(void)f, (void)arg;
	if (!given)
		abort();    /* every caller of these ops passes the type */
	return *given;
}

static IrType
type_map(const IrFunc *f, const int *arg, const IrType *given)
{
	(void)given;
	return f->v[arg[0]].type;
}

static IrType
type_broadcast(const IrFunc *f, const int *arg, const IrType *given)
{
	IrType t = f->v[arg[0]].type, next;

	(void)given;
	for (int k = 1; k < 3 && arg[k] >= 0; k++) {
		if (!ir_broadcast(&t, &f->v[arg[k]].type, &next))
			abort();    /* the checker matched the shapes */
		t = next;
	}
	return t;
}

static const TypeRule type_rules[IR_NOPS] = {
#define OP(name, arity, rule) [IR_##name] = rule,
#include "ops.def"
#undef OP
};

int
ir_arity(IrOp op)
{
	return ir_ops[op].arity;
}

int
ir_elementwise(IrOp op)
{
	return type_rules[op] == type_map || type_rules[op] == type_broadcast;
}

static int
append(IrFunc *f, IrValue v)
{
	if (f->n == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 64;
		f->v = realloc(f->v, (size_t)f->cap * sizeof *f->v);
		if (!f->v) {
			fprintf(stderr, "dlc: out of memory\n");
			exit(2);
		}
	}
	f->v[f->n] = v;
	return f->n++;
}

int
ir_emit(IrFunc *f, IrOp op, int a, int b, int c, const IrType *type,
	Loc loc)
{
	IrValue v = { .op = op, .arg = { a, b, c }, .axis = -1, .loc = loc };

	v.type = type_rules[op](f, v.arg, type);
	return append(f, v);
}

int
ir_const(IrFunc *f, double num, Loc loc)
{
	IrType t = ir_scalar(0);
	int id = ir_emit(f, IR_const, -1, -1, -1, &t, loc);

	f->v[id].num = num;
	return id;
}

void
ir_func_free(IrFunc *f)
{
	free(f->v);
	free(f->grad);
	free(f->input_grad);
	f->v = NULL;
	f->grad = NULL;
	f->input_grad = NULL;
	f->n = f->cap = 0;
}
