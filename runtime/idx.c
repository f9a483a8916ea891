/*
 * idx.c - reading IDX files, the format of MNIST, Fashion-MNIST and their
 * relatives: images in one file, labels in another, each usually gzipped.
 *
 * An IDX file is two zero bytes, a type byte, the number of dimensions,
 * that many big-endian 32-bit extents, then the elements, big-endian, in
 * row-major order.  Types: 0x08 unsigned byte, 0x09 signed byte, 0x0B
 * 16-bit, 0x0C 32-bit integer, 0x0D float, 0x0E double.  As with .npy, the
 * first axis is the example and the others are flattened into columns
 * (a 60000 x 28 x 28 image file gives 784 input columns).  Values are
 * taken as they are: a model that wants pixels in [0, 1] divides by 255
 * itself, or the trainer's --standardize scales them.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dlrt.h"

typedef struct Idx {
	const char *path;
	unsigned char *bytes;   /* the whole file, decompressed */
	size_t len;
	int type, size;         /* type byte and bytes per element */
	size_t rows, cols;
	const unsigned char *data;
} Idx;

static int
type_size(int type)
{
	switch (type) {
	case 0x08: case 0x09: return 1;
	case 0x0b: return 2;
	case 0x0c: case 0x0d: return 4;
	case 0x0e: return 8;
	}
	return 0;
}

static int
is_gzip(const unsigned char *p, size_t len)
{
	return len >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

static int
is_idx_header(const unsigned char *p, size_t len)
{
	return len >= 4 && p[0] == 0 && p[1] == 0 && type_size(p[2]) &&
		p[3] > 0;
}

int
rt_is_idx(const char *path)
{
	unsigned char p[4];
	FILE *f = fopen(path, "rb");
	size_t got = f ? fread(p, 1, sizeof p, f) : 0;

	if (f)
		fclose(f);
	return is_gzip(p, got) || is_idx_header(p, got);
}

/* The file's bytes in a->bytes, through gunzip when compressed. */
static int
slurp(Idx *a, char *err, size_t errlen)
{
	size_t len;
	char *text = rt_slurp(a->path, &len);
	const char *why;

	if (!text)
		return rt_file_error(err, errlen, a->path, "cannot read: %s",
			strerror(errno));
	if (!is_gzip((unsigned char *)text, len)) {
		a->bytes = (unsigned char *)text;
		a->len = len;
		return 0;
	}
	int status = rt_gunzip((unsigned char *)text, len, &a->bytes, &a->len,
		&why);
	free(text);
	return status ? rt_file_error(err, errlen, a->path, "gzip: %s", why) : 0;
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		(uint32_t)p[2] << 8 | p[3];
}

/* Reads and checks the header; the extents must account for every byte. */
static int
idx_open(Idx *a, const char *path, char *err, size_t errlen)
{
	*a = (Idx){ .path = path };
	if (slurp(a, err, errlen))
		return -1;
	if (!is_idx_header(a->bytes, a->len))
		return rt_file_error(err, errlen, path, "not an IDX file (magic 00 00 "
			"TYPE DIMS)");
	int dims = a->bytes[3];
	size_t head = 4 + 4 * (size_t)dims;
	if (a->len < head)
		return rt_file_error(err, errlen, path, "truncated header");
	a->type = a->bytes[2];
	a->size = type_size(a->type);
	a->rows = be32(a->bytes + 4);
	a->cols = 1;
	for (int k = 1; k < dims; k++) {
		uint32_t e = be32(a->bytes + 4 + 4 * k);
		if (e > 0 && a->cols > (SIZE_MAX >> 8) / e)
			return rt_file_error(err, errlen, path, "extents too large");
		a->cols *= e;
	}
	size_t want = a->len - head;
	if (a->cols == 0 || a->rows > want / a->cols / (size_t)a->size ||
	    a->rows * a->cols * (size_t)a->size != want)
		return rt_file_error(err, errlen, path, "%zu bytes of data, expected "
			"%zu x %zu elements of %d bytes", want, a->rows,
			a->cols, a->size);
	if (a->rows == 0)
		return rt_file_error(err, errlen, path, "no examples");
	a->data = a->bytes + head;
	return 0;
}

/* Element i, converted from big-endian. */
static double
element(const Idx *a, size_t i)
{
	const unsigned char *p = a->data + i * (size_t)a->size;
	uint64_t u = 0;

	for (int k = 0; k < a->size; k++)
		u = u << 8 | p[k];
	switch (a->type) {
	case 0x08: return (double)u;
	case 0x09: return (double)(int8_t)(uint8_t)u;
	case 0x0b: return (double)(int16_t)(uint16_t)u;
	case 0x0c: return (double)(int32_t)(uint32_t)u;
	case 0x0d: {
		uint32_t w = (uint32_t)u;
		float f;
		memcpy(&f, &w, sizeof f);
		return f;
	}
	}
	double d;
	memcpy(&d, &u, sizeof d);
	return d;
}

/* Copies a into dst; labels[c] is K for a class column, else 0. */
static int
copy_out(const Idx *a, rt_real *dst, const int *labels, char *err,
	size_t errlen)
{
	size_t n = a->rows * a->cols;

	for (size_t i = 0; i < n; i++) {
		double v = element(a, i);
		int k = labels ? labels[i % a->cols] : 0;
		if (!isfinite(v))
			return rt_file_error(err, errlen, a->path, "example %zu, column "
				"%zu: value is not finite", i / a->cols + 1,
				i % a->cols + 1);
		if (k > 0 && (v != floor(v) || v < 0 || v >= k))
			return rt_file_error(err, errlen, a->path, "example %zu: class "
				"label %g is outside 0..%d", i / a->cols + 1, v,
				k - 1);
		dst[i] = (rt_real)v;
	}
	return 0;
}

static int
load_inputs(const RtModel *m, const Idx *x, RtData *d, char *err,
	size_t errlen)
{
	if (x->cols != (size_t)m->ninputs)
		return rt_file_error(err, errlen, x->path, "expected %d input columns "
			"per example, got %zu", m->ninputs, x->cols);
	d->n = x->rows;
	d->inputs = malloc(x->rows * x->cols * sizeof *d->inputs + 1);
	if (!d->inputs)
		return rt_file_error(err, errlen, x->path, "out of memory");
	return copy_out(x, d->inputs, NULL, err, errlen);
}

/* copy_out with the signature rt_load_targets takes. */
static int
copy_table(const void *table, rt_real *dst, const int *classes, char *err,
	size_t errlen)
{
	return copy_out(table, dst, classes, err, errlen);
}

static int
load_targets(const RtModel *m, const Idx *y, RtData *d, char *err,
	size_t errlen)
{
	return rt_load_targets(m, y->path, y->rows, y->cols, copy_table, y, d,
		err, errlen);
}

int
rt_read_idx(const RtModel *m, const char *xpath, const char *ypath,
	RtData *d, char *err, size_t errlen)
{
	Idx x, y = { 0 };
	int status = idx_open(&x, xpath, err, errlen);

	*d = (RtData){ .ninputs = m->ninputs };
	if (status == 0)
		status = load_inputs(m, &x, d, err, errlen);
	free(x.bytes);
	x.bytes = NULL;
	if (status == 0 && ypath) {
		status = idx_open(&y, ypath, err, errlen);
		if (status == 0)
			status = load_targets(m, &y, d, err, errlen);
	}
	free(y.bytes);
	if (status)
		rt_data_free(d);
	return status;
}
