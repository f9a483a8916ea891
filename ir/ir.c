/*
 * ir.c - the op table and the builder that appends values to a function.
 */
#include <stdio.h>
#include <stdlib.h>

#include "ir.h"

const IrOpInfo ir_ops[IR_NOPS] = {
#define OP(name, arity, shape) [IR_##name] = { #name, arity },
#include "ops.def"
#undef OP
};

typedef int (*ShapeFn)(const IrFunc *f, int a, int b);

static int
shape_unbatched(const IrFunc *f, int a, int b)
{
	(void)f, (void)a, (void)b;
	return 0;
}

static int
shape_batched(const IrFunc *f, int a, int b)
{
	(void)f, (void)a, (void)b;
	return 1;
}

static int
shape_same(const IrFunc *f, int a, int b)
{
	(void)b;
	return f->v[a].batched;
}

/* Element-wise binary ops broadcast a per-batch scalar to every example. */
static int
shape_either(const IrFunc *f, int a, int b)
{
	return f->v[a].batched || f->v[b].batched;
}

static const ShapeFn shape_rules[IR_NOPS] = {
#define OP(name, arity, shape) [IR_##name] = shape,
#include "ops.def"
#undef OP
};

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
ir_emit(IrFunc *f, IrOp op, int a, int b, Loc loc)
{
	IrValue v = { .op = op, .arg = { a, b }, .loc = loc };

	v.batched = shape_rules[op](f, a, b);
	return append(f, v);
}

int
ir_const(IrFunc *f, double num, Loc loc)
{
	int id = ir_emit(f, IR_const, -1, -1, loc);

	f->v[id].num = num;
	return id;
}

int
ir_leaf(IrFunc *f, IrOp op, int slot, Loc loc)
{
	int id = ir_emit(f, op, -1, -1, loc);

	f->v[id].slot = slot;
	return id;
}

int
ir_powi(IrFunc *f, int x, double n, Loc loc)
{
	int id = ir_emit(f, IR_powi, x, -1, loc);

	f->v[id].num = n;
	return id;
}

void
ir_func_free(IrFunc *f)
{
	free(f->v);
	free(f->grad);
	f->v = NULL;
	f->grad = NULL;
	f->n = f->cap = 0;
}
