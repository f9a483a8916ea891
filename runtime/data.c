/*
 * data.c - reading examples from CSV.
 *
 * A row holds the flattened inputs, then the targets, in declaration order.
 * The first line is a header when none of its fields is a number; a
 * header must still have the right number of columns.  Any malformed row
 * stops loading with the file, line and column at fault: training on a
 * silently skipped or misread row would be a wrong answer.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dlrt.h"

typedef struct Reader {
	int ninputs, ntcols;    /* columns of inputs and of targets */
	const int *classes;     /* per target column: K, or 0 when real */
	const char *path;
	char *err;
	size_t errlen;
	int ncols;              /* columns per row once known, else 0 */
	int keep_targets;
	size_t cap;             /* rows allocated in the RtData */
	double *row;
} Reader;

static int
is_directory(FILE *f)
{
	struct stat st;

	return fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode);
}

/* The whole file, NUL-terminated; NULL with errno set on failure. */
char *
rt_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0;

	*len = 0;
	if (!f)
		return NULL;
	if (is_directory(f)) {
		fclose(f);
		errno = EISDIR;
		return NULL;
	}
	for (;;) {
		if (*len + 1 >= cap) {
			cap = cap ? 2 * cap : 1 << 16;
			char *grown = realloc(buf, cap);
			if (!grown) {
				free(buf);
				fclose(f);
				errno = ENOMEM;
				return NULL;
			}
			buf = grown;
		}
		size_t got = fread(buf + *len, 1, cap - *len - 1, f);
		if (got == 0)
			break;
		*len += got;
	}
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		free(buf);
		errno = EIO;
		return NULL;
	}
	buf[*len] = '\0';
	return buf;
}

static int
count_fields(const char *line)
{
	int n = 1;

	for (; *line; line++)
		n += *line == ',';
	return n;
}

/* Trims blanks and copies one field into buf; 0 when it does not fit. */
static int
field_text(const char *s, size_t len, char *buf, size_t n)
{
	while (len > 0 && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len >= n)
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return 1;
}

/* Parses one field; 0 when it is not a number. */
static int
field_value(const char *s, size_t len, double *out)
{
	char buf[128], *end;

	if (!field_text(s, len, buf, sizeof buf) || buf[0] == '\0')
		return 0;
	*out = strtod(buf, &end);
	return *end == '\0';
}

/* Writes "path:line: message" (no line when 0) and returns -1. */
static int fail(Reader *r, long line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
fail(Reader *r, long line, const char *fmt, ...)
{
	va_list ap;
	int n = line > 0 ? snprintf(r->err, r->errlen, "%s:%ld: ", r->path,
		line) : snprintf(r->err, r->errlen, "%s: ", r->path);

	if (n < 0 || (size_t)n >= r->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* A header names columns, so none of its fields is a number; a first
 * line with some numbers is data, and a bad field in it is reported. */
static int
is_header(const char *line)
{
	const char *p = line;
	double v;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (field_value(p, len, &v))
			return 0;
		if (!comma)
			return 1;
		p = comma + 1;
	}
}

/* The column count a line must have: fixed when targets are wanted; for
 * prediction the first line chooses inputs alone or inputs and targets. */
static int
check_count(Reader *r, long lineno, int got, const char *what)
{
	int ni = r->ninputs, all = ni + r->ntcols;

	if (r->ncols == 0 && (got == all || (!r->keep_targets && got == ni))) {
		r->ncols = got;
		return 0;
	}
	if (r->ncols == got)
		return 0;
	if (r->ncols == 0 && !r->keep_targets && all != ni)
		return fail(r, lineno, "%sexpected %d or %d columns, got %d",
			what, ni, all, got);
	return fail(r, lineno, "%sexpected %d columns, got %d", what,
		r->ncols ? r->ncols : all, got);
}

/* A class label must be a whole number in 0..K-1. */
static int
check_labels(Reader *r, long lineno)
{
	if (r->ncols == r->ninputs || !r->classes)
		return 0;
	for (int t = 0; t < r->ntcols; t++) {
		int k = r->classes[t], col = r->ninputs + t;
		double v = r->row[col];
		if (k > 0 && v != floor(v))
			return fail(r, lineno, "column %d: class label %g is "
				"not a whole number", col + 1, v);
		if (k > 0 && (v < 0 || v >= k))
			return fail(r, lineno, "column %d: class label %g is "
				"outside 0..%d", col + 1, v, k - 1);
	}
	return 0;
}

static int
parse_row(Reader *r, long lineno, char *line)
{
	char *p = line;

	if (check_count(r, lineno, count_fields(line), ""))
		return -1;
	for (int c = 0; c < r->ncols; c++) {
		char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char text[48];
		if (!field_value(p, len, &r->row[c])) {
			field_text(p, len < 40 ? len : 40, text, sizeof text);
			return fail(r, lineno, "column %d: '%s' is not a "
				"number", c + 1, text);
		}
		if (!isfinite(r->row[c])) {
			field_text(p, len < 40 ? len : 40, text, sizeof text);
			return fail(r, lineno, "column %d: '%s' is not a "
				"finite number", c + 1, text);
		}
		if (!isfinite((rt_real)r->row[c])) {
			field_text(p, len < 40 ? len : 40, text, sizeof text);
			return fail(r, lineno, "column %d: '%s' is out of range "
				"for %s", c + 1, text, sizeof(rt_real) == 4 ?
				"f32" : "f64");
		}
		p = comma ? comma + 1 : p + len;
	}
	return check_labels(r, lineno);
}

static int
store(Reader *r, RtData *d)
{
	size_t ni = (size_t)d->ninputs, nt = (size_t)d->ntargets;

	if (d->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 256;
		rt_real *in = realloc(d->inputs, cap * ni * sizeof *in + 1);
		if (in)
			d->inputs = in;
		rt_real *tg = realloc(d->targets, cap * nt * sizeof *tg + 1);
		if (tg)
			d->targets = tg;
		if (!in || !tg)
			return fail(r, 0, "out of memory after %zu rows", d->n);
		r->cap = cap;
	}
	for (size_t i = 0; i < ni; i++)
		d->inputs[d->n * ni + i] = (rt_real)r->row[i];
	for (size_t j = 0; j < nt; j++)
		d->targets[d->n * nt + j] = (rt_real)r->row[ni + j];
	d->n++;
	return 0;
}

/* One line, already cut out and without its line end. */
static int
line(Reader *r, RtData *d, long lineno, char *p, int *seen)
{
	if (*p == '\0')
		return 0;
	if (!*seen && is_header(p)) {
		*seen = 1;
		return check_count(r, lineno, count_fields(p), "header: ");
	}
	*seen = 1;
	if (parse_row(r, lineno, p))
		return -1;
	return store(r, d);
}

static int
read_text(Reader *r, RtData *d, char *text, size_t len)
{
	long lineno = 0;
	int seen = 0;

	if (memchr(text, '\0', len))
		return fail(r, 0, "contains a NUL byte; not a CSV file");
	if (strspn(text, " \t\r\n") == len)
		return fail(r, 0, "empty file");
	for (char *p = text; p < text + len; ) {
		char *nl = strchr(p, '\n');
		char *end = nl ? nl : text + len;
		*end = '\0';
		if (end > p && end[-1] == '\r')
			end[-1] = '\0';
		if (line(r, d, ++lineno, p, &seen))
			return -1;
		p = end + 1;
	}
	if (d->n == 0)
		return fail(r, 0, "no data rows");
	if (r->ncols == d->ninputs)
		d->ntargets = 0;
	return 0;
}

static int
read_csv(Reader *r, RtData *d)
{
	size_t len;
	char *text;
	int status;

	*d = (RtData){ .ninputs = r->ninputs, .ntargets = r->ntcols };
	if (!(text = rt_slurp(r->path, &len)))
		return fail(r, 0, "cannot read: %s", strerror(errno));
	r->row = malloc(((size_t)(r->ninputs + r->ntcols) + 1) *
		sizeof *r->row);
	status = r->row ? read_text(r, d, text, len) :
		fail(r, 0, "out of memory");
	free(text);
	free(r->row);
	if (status)
		rt_data_free(d);
	return status;
}

int
rt_read_csv(const char *path, int ninputs, int ntargets, RtData *d,
	char *err, size_t errlen)
{
	Reader r = { .ninputs = ninputs, .ntcols = ntargets, .path = path,
	             .err = err, .errlen = errlen, .keep_targets = 1 };

	return read_csv(&r, d);
}

int
rt_read_model_csv(const RtModel *m, const char *path, int want_targets,
	RtData *d, char *err, size_t errlen)
{
	Reader r = { .ninputs = m->ninputs, .ntcols = rt_target_cols(m),
	             .path = path, .err = err, .errlen = errlen,
	             .keep_targets = want_targets };
	int *classes = calloc((size_t)r.ntcols + 1, sizeof *classes), c = 0;
	int status;

	if (!classes)
		return fail(&r, 0, "out of memory");
	for (int t = 0; t < m->ntargets; c += m->targets[t++].cols)
		classes[c] = m->targets[t].classes;
	r.classes = classes;
	status = read_csv(&r, d);
	free(classes);
	return status;
}
