/*
 * type.c - value types: per-example shapes, the batch axis, and NumPy
 * broadcasting.
 */
#include <stdio.h>
#include <string.h>

#include "ir.h"

long
ir_numel(const IrType *t)
{
	long n = 1;

	for (int i = 0; i < t->rank; i++)
		n *= t->dim[i];
	return n;
}

int
ir_same_shape(const IrType *a, const IrType *b)
{
	if (a->rank != b->rank)
		return 0;
	for (int i = 0; i < a->rank; i++)
		if (a->dim[i] != b->dim[i])
			return 0;
	return 1;
}

IrType
ir_scalar(int batched)
{
	IrType t = { .batched = batched };

	return t;
}

IrType
ir_shape(int batched, int rank, const int *dim)
{
	IrType t = { .batched = batched, .rank = rank };

	memcpy(t.dim, dim, (size_t)rank * sizeof *dim);
	return t;
}

/*
 * Trailing axes align; an axis of 1 (or a missing one) stretches.
 * Returns 0 when the shapes do not broadcast.  Dimensions past the rank
 * are zero, as in every type, since CSE compares types byte for byte.
 */
int
ir_broadcast(const IrType *a, const IrType *b, IrType *out)
{
	int rank = a->rank > b->rank ? a->rank : b->rank;
	IrType t = { .batched = a->batched || b->batched, .rank = rank };

	for (int i = 0; i < rank; i++) {
		int da = i < rank - a->rank ? 1 : a->dim[i - (rank - a->rank)];
		int db = i < rank - b->rank ? 1 : b->dim[i - (rank - b->rank)];
		if (da != db && da != 1 && db != 1)
			return 0;
		t.dim[i] = da == 1 ? db : da;
	}
	*out = t;
	return 1;
}

void
ir_type_str(const IrType *t, char *buf, size_t n)
{
	size_t len = (size_t)snprintf(buf, n, "[%s", t->batched ? "B" : "");

	for (int i = 0; i < t->rank && len < n; i++)
		len += (size_t)snprintf(buf + len, n - len, "%s%d",
			i || t->batched ? ", " : "", t->dim[i]);
	if (len < n)
		snprintf(buf + len, n - len, "]");
}
