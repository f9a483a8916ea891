/*
 * data.c - reading examples from CSV.
 *
 * A row holds the flattened inputs, then the targets, in declaration order.
 * The first line is a header when any of its fields is not a number; a
 * header must still have the right number of columns.  Any malformed row
 * stops loading with the file, line and column at fault: training on a
 * silently skipped or misread row would be a wrong answer.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dlrt.h"

typedef struct Reader {
	const char *path;
	char *err;
	size_t errlen;
} Reader;

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0;

	*len = 0;
	if (!f)
		return NULL;
	for (;;) {
		if (*len + 1 >= cap) {
			cap = cap ? 2 * cap : 1 << 16;
			char *grown = realloc(buf, cap);
			if (!grown) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = grown;
		}
		size_t got = fread(buf + *len, 1, cap - *len - 1, f);
		if (got == 0)
			break;
		*len += got;
	}
	fclose(f);
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

/* Parses one field; 0 when it is not a number. */
static int
field_value(const char *s, size_t len, double *out)
{
	char buf[128];
	char *end;

	while (len > 0 && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len == 0 || len >= sizeof buf)
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
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

static int
is_header(const char *line)
{
	const char *p = line;
	double v;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (!field_value(p, len, &v))
			return 1;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

static int
parse_row(Reader *r, long lineno, char *line, int ncols, double *row)
{
	int got = count_fields(line);
	char *p = line;

	if (got != ncols)
		return fail(r, lineno, "expected %d columns, got %d", ncols,
			got);
	for (int c = 0; c < ncols; c++) {
		char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (!field_value(p, len, &row[c])) {
			p[len] = '\0';
			return fail(r, lineno, "column %d: '%.40s' is not a "
				"number", c + 1, p);
		}
		if (!isfinite(row[c]))
			return fail(r, lineno, "column %d: value is not "
				"finite", c + 1);
		p = comma ? comma + 1 : p + len;
	}
	return 0;
}

static void
store(RtData *d, size_t *cap, const double *row)
{
	if (d->n == *cap) {
		*cap = *cap ? 2 * *cap : 256;
		d->inputs = realloc(d->inputs, *cap * (size_t)d->ninputs *
			sizeof *d->inputs + 1);
		d->targets = realloc(d->targets, *cap * (size_t)d->ntargets *
			sizeof *d->targets + 1);
	}
	for (int i = 0; i < d->ninputs; i++)
		d->inputs[d->n * (size_t)d->ninputs + (size_t)i] =
			(rt_real)row[i];
	for (int j = 0; j < d->ntargets; j++)
		d->targets[d->n * (size_t)d->ntargets + (size_t)j] =
			(rt_real)row[d->ninputs + j];
	d->n++;
}

int
rt_read_csv(const char *path, int ninputs, int ntargets, RtData *d,
	char *err, size_t errlen)
{
	Reader r = { path, err, errlen };
	int ncols = ninputs + ntargets;
	size_t len, cap = 0;
	char *text = slurp(path, &len), *p;
	double *row = malloc(((size_t)ncols + 1) * sizeof *row);
	long lineno = 0;
	int status = 0;

	*d = (RtData){ .ninputs = ninputs, .ntargets = ntargets };
	if (!text) {
		free(row);
		return fail(&r, 0, "cannot read: %s", strerror(errno));
	}
	if (memchr(text, '\0', len))
		status = fail(&r, 0, "contains a NUL byte; not a CSV file");
	for (p = text; status == 0 && p < text + len; ) {
		char *nl = strchr(p, '\n');
		char *end = nl ? nl : text + len;
		lineno++;
		*end = '\0';
		if (end > p && end[-1] == '\r')
			end[-1] = '\0';
		if (*p == '\0') {
			p = end + 1;
			continue;
		}
		if (d->n == 0 && lineno == 1 && is_header(p)) {
			int got = count_fields(p);
			if (got != ncols)
				status = fail(&r, lineno, "header has %d "
					"columns, expected %d", got, ncols);
		} else if ((status = parse_row(&r, lineno, p, ncols, row)) == 0) {
			store(d, &cap, row);
		}
		p = end + 1;
	}
	if (status == 0 && d->n == 0)
		status = fail(&r, 0, "no data rows");
	free(text);
	free(row);
	if (status)
		rt_data_free(d);
	return status;
}

void
rt_data_free(RtData *d)
{
	free(d->inputs);
	free(d->targets);
	d->inputs = d->targets = NULL;
	d->n = 0;
}
