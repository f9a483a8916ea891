/*
 * npy.c - reading NumPy .npy arrays, where users' data often lives.
 *
 * The format is a magic string, a version, a header length, and a Python
 * dict literal giving the element type ('descr'), the memory order and the
 * shape, followed by the raw elements.  We read little-endian float32,
 * float64 and (for labels) int32 and int64, in C order.  The first axis is
 * the example; the others are flattened row-major and must match the
 * model's input (or target) columns.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dlrt.h"

typedef struct Npy {
	const char *path;
	char *text;             /* the whole file */
	size_t len;
	char type;              /* 'f' or 'i' */
	int size;               /* bytes per element */
	size_t rows, cols;
	const unsigned char *data;
} Npy;

/* The value text after 'key': in the header dict, or NULL. */
static const char *
dict_value(const char *hdr, const char *key)
{
	char quoted[32];
	const char *p;

	snprintf(quoted, sizeof quoted, "'%s'", key);
	if (!(p = strstr(hdr, quoted)))
		return NULL;
	p += strlen(quoted);
	while (*p == ' ')
		p++;
	if (*p++ != ':')
		return NULL;
	while (*p == ' ')
		p++;
	return p;
}

static int
parse_descr(Npy *a, const char *v, char *err, size_t errlen)
{
	if (!v || *v != '\'')
		return rt_file_error(err, errlen, a->path, "header has no 'descr'");
	if (v[1] == '>')
		return rt_file_error(err, errlen, a->path, "big-endian arrays are not "
			"supported; convert with astype('<f8')");
	a->type = v[2];
	a->size = atoi(v + 3);
	if ((v[1] != '<' && v[1] != '|') || !((a->type == 'f' ||
	    a->type == 'i') && (a->size == 4 || a->size == 8)))
		return rt_file_error(err, errlen, a->path, "element type '%.*s' is not "
			"supported; expected float32, float64, int32 or int64",
			(int)strcspn(v + 1, "'\n") % 16, v + 1);
	return 0;
}

/* shape: (n,) or (n, d1, d2, ...) */
static int
parse_shape(Npy *a, const char *v, char *err, size_t errlen)
{
	char *end;
	int dims = 0;

	if (!v || *v != '(')
		return rt_file_error(err, errlen, a->path, "header has no 'shape'");
	a->rows = 0;
	a->cols = 1;
	for (v++; ; dims++) {
		while (*v == ' ' || *v == ',')
			v++;
		if (*v == ')')
			break;
		errno = 0;
		unsigned long long d = strtoull(v, &end, 10);
		if (end == v || errno)
			return rt_file_error(err, errlen, a->path, "bad 'shape' in "
				"header");
		/* a product that wraps could pass for the right width */
		if (dims > 0 && d != 0 && a->cols > SIZE_MAX / d)
			return rt_file_error(err, errlen, a->path, "shape too large for "
				"its data");
		if (dims == 0)
			a->rows = (size_t)d;
		else
			a->cols *= (size_t)d;
		v = end;
	}
	if (dims == 0)
		return rt_file_error(err, errlen, a->path, "a 0-dimensional array "
			"holds no examples");
	return 0;
}

static int
parse_header(Npy *a, char *err, size_t errlen)
{
	const unsigned char *b = (const unsigned char *)a->text;
	size_t hlen, start;

	if (a->len < 10 || memcmp(b, "\x93NUMPY", 6) != 0)
		return rt_file_error(err, errlen, a->path, "not a .npy file");
	if (b[6] == 1) {
		hlen = (size_t)b[8] | (size_t)b[9] << 8;
		start = 10;
	} else if ((b[6] == 2 || b[6] == 3) && a->len >= 12) {
		hlen = (size_t)b[8] | (size_t)b[9] << 8 |
			(size_t)b[10] << 16 | (size_t)b[11] << 24;
		start = 12;
	} else {
		return rt_file_error(err, errlen, a->path, ".npy version %d is not "
			"supported", b[6]);
	}
	if (start + hlen > a->len)
		return rt_file_error(err, errlen, a->path, "truncated header");
	char *hdr = a->text + start;
	char saved = hdr[hlen];
	hdr[hlen] = '\0';
	const char *fo = dict_value(hdr, "fortran_order");
	int status = parse_descr(a, dict_value(hdr, "descr"), err, errlen);
	if (status == 0 && fo && strncmp(fo, "True", 4) == 0)
		status = rt_file_error(err, errlen, a->path, "Fortran-order arrays "
			"are not supported; save np.ascontiguousarray(a)");
	if (status == 0)
		status = parse_shape(a, dict_value(hdr, "shape"), err, errlen);
	hdr[hlen] = saved;
	a->data = b + start + hlen;
	return status;
}

static int
npy_open(Npy *a, const char *path, char *err, size_t errlen)
{
	memset(a, 0, sizeof *a);
	a->path = path;
	if (!(a->text = rt_slurp(path, &a->len)))
		return rt_file_error(err, errlen, path, "cannot read: %s",
			strerror(errno));
	if (parse_header(a, err, errlen))
		return -1;
	/* a shape whose byte count overflows cannot match any real file */
	if (a->cols == 0 || a->rows > SIZE_MAX / a->cols / (size_t)a->size)
		return rt_file_error(err, errlen, path, "shape too large for its data");
	size_t want = a->rows * a->cols * (size_t)a->size;
	size_t have = a->len - (size_t)(a->data - (unsigned char *)a->text);
	if (have < want)
		return rt_file_error(err, errlen, path, "truncated: %zu bytes of data, "
			"expected %zu", have, want);
	if (a->rows == 0)
		return rt_file_error(err, errlen, path, "empty array: no examples");
	return 0;
}

/* Element i, assembled from little-endian bytes so the host's order and
 * alignment do not matter. */
static double
element(const Npy *a, size_t i)
{
	const unsigned char *p = a->data + i * (size_t)a->size;
	uint64_t u = 0;

	for (int k = a->size - 1; k >= 0; k--)
		u = u << 8 | p[k];
	if (a->type == 'f' && a->size == 8) {
		double d;
		memcpy(&d, &u, sizeof d);
		return d;
	}
	if (a->type == 'f') {
		uint32_t w = (uint32_t)u;
		float f;
		memcpy(&f, &w, sizeof f);
		return f;
	}
	if (a->size == 4)
		return (double)(int32_t)(uint32_t)u;
	return (double)(int64_t)u;
}

/* Copies a into dst, checking values; labels[c] is K for a class column. */
static int
copy_out(const Npy *a, rt_real *dst, const int *labels, char *err,
	size_t errlen)
{
	for (size_t r = 0; r < a->rows; r++)
		for (size_t c = 0; c < a->cols; c++) {
			double v = element(a, r * a->cols + c);
			if (!isfinite(v))
				return rt_file_error(err, errlen, a->path, "row %zu, "
					"column %zu: value is not finite",
					r + 1, c + 1);
			int k = labels ? labels[c] : 0;
			if (k > 0 && (v != floor(v) || v < 0 || v >= k))
				return rt_file_error(err, errlen, a->path, "row %zu, "
					"column %zu: class label %g is outside "
					"0..%d", r + 1, c + 1, v, k - 1);
			dst[r * a->cols + c] = (rt_real)v;
		}
	return 0;
}

/* copy_out with the signature rt_load_targets takes. */
static int
copy_table(const void *table, rt_real *dst, const int *classes, char *err,
	size_t errlen)
{
	return copy_out(table, dst, classes, err, errlen);
}

static int
load_targets(const RtModel *m, const Npy *y, RtData *d, char *err,
	size_t errlen)
{
	return rt_load_targets(m, y->path, y->rows, y->cols, copy_table, y, d,
		err, errlen);
}

int
rt_read_npy(const RtModel *m, const char *xpath, const char *ypath,
	RtData *d, char *err, size_t errlen)
{
	Npy x, y = { 0 };
	int status = npy_open(&x, xpath, err, errlen);

	*d = (RtData){ .ninputs = m->ninputs };
	if (status == 0 && x.cols != (size_t)m->ninputs)
		status = rt_file_error(err, errlen, xpath, "expected %d input columns "
			"per example, got %zu", m->ninputs, x.cols);
	if (status == 0) {
		d->n = x.rows;
		d->inputs = malloc(x.rows * x.cols * sizeof *d->inputs + 1);
		status = d->inputs ? copy_out(&x, d->inputs, NULL, err, errlen)
			: rt_file_error(err, errlen, xpath, "out of memory");
	}
	if (status == 0 && ypath) {
		status = npy_open(&y, ypath, err, errlen);
		if (status == 0)
			status = load_targets(m, &y, d, err, errlen);
	}
	free(x.text);
	free(y.text);
	if (status)
		rt_data_free(d);
	return status;
}
