/*
 * shape.c - the shape algebra of per-example tensors: equality, size,
 * NumPy broadcasting and the spelling used in diagnostics.
 */
#include <stdio.h>

#include "ast.h"

int
shape_equal(Shape a, Shape b)
{
	if (a.rank != b.rank)
		return 0;
	for (int i = 0; i < a.rank; i++)
		if (a.dim[i] != b.dim[i])
			return 0;
	return 1;
}

long
shape_size(Shape s)
{
	long n = 1;

	for (int i = 0; i < s.rank; i++)
		n *= s.dim[i];
	return n;
}

/*
 * Trailing dimensions align; a pair agrees when equal or when one is 1,
 * which stretches.  Missing leading dimensions count as 1, so a scalar
 * goes everywhere.
 */
int
shape_broadcast(Shape a, Shape b, Shape *out)
{
	Shape r = { a.rank > b.rank ? a.rank : b.rank, { 0 } };

	for (int i = 1; i <= r.rank; i++) {
		int da = i <= a.rank ? a.dim[a.rank - i] : 1;
		int db = i <= b.rank ? b.dim[b.rank - i] : 1;
		if (da != db && da != 1 && db != 1)
			return 0;
		r.dim[r.rank - i] = da == 1 ? db : da;
	}
	*out = r;
	return 1;
}

const char *
shape_str(Shape s, char buf[static 48])
{
	int len = 0;

	if (s.rank <= 0)
		return s.rank == 0 ? "scalar" : "?";
	buf[len++] = '[';
	for (int i = 0; i < s.rank && i < MAX_RANK; i++)
		len += snprintf(buf + len, (size_t)(48 - len), "%s%d",
			i ? ", " : "", s.dim[i]);
	snprintf(buf + len, (size_t)(48 - len), "]");
	return buf;
}
