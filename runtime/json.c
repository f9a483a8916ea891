/*
 * json.c - parameters as JSON, by name, to exchange with other tools:
 *
 *   { "k0": 0.5, "w": [[1, 2, 3], [4, 5, 6]] }
 *
 * A tensor is nested arrays, one level per axis, row-major.  Numbers are
 * written with enough digits to read back to the same bits.  Reading
 * accepts any whitespace and key order, and insists on every parameter,
 * each once, with its exact shape.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dlrt.h"

#ifdef DLRT_F64
#define DIGITS 17
#else
#define DIGITS 9
#endif

/* Elements start..start+size of one parameter, nested by axis d. */
static void
write_axis(FILE *f, const RtParam *p, const rt_real *v, int d, size_t at,
	size_t stride)
{
	if (d == p->rank) {
		fprintf(f, "%.*g", DIGITS, (double)v[at]);
		return;
	}
	size_t inner = stride / (size_t)p->shape[d];
	fputc('[', f);
	for (int i = 0; i < p->shape[d]; i++) {
		if (i > 0)
			fputs(", ", f);
		write_axis(f, p, v, d + 1, at + (size_t)i * inner, inner);
	}
	fputc(']', f);
}

int
rt_json_write(const char *path, const RtModel *m, const rt_real *v,
	char *err, size_t errlen)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		snprintf(err, errlen, "cannot write %s: %s", path,
			strerror(errno));
		return -1;
	}
	fputs("{\n", f);
	for (int i = 0; i < m->nparam_table; i++) {
		const RtParam *p = &m->param_table[i];
		fprintf(f, "  \"%s\": ", p->name);
		write_axis(f, p, v, 0, p->offset, p->size);
		fputs(i + 1 < m->nparam_table ? ",\n" : "\n", f);
	}
	fputs("}\n", f);
	if (fclose(f) != 0) {
		snprintf(err, errlen, "writing %s failed", path);
		return -1;
	}
	return 0;
}

typedef struct Parser {
	const char *path, *text, *p;
	char *err;
	size_t errlen;
} Parser;

static int fail(Parser *j, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* "path:line:col: message" at the cursor. */
static int
fail(Parser *j, const char *fmt, ...)
{
	int line = 1, col = 1;
	va_list ap;

	for (const char *q = j->text; q < j->p; q++)
		if (*q == '\n')
			line++, col = 1;
		else
			col++;
	int n = snprintf(j->err, j->errlen, "%s:%d:%d: ", j->path, line, col);
	if (n < 0 || (size_t)n >= j->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(j->err + n, j->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static void
skip(Parser *j)
{
	while (isspace((unsigned char)*j->p))
		j->p++;
}

static int
expect(Parser *j, char c)
{
	skip(j);
	if (*j->p != c)
		return fail(j, "expected '%c'", c);
	j->p++;
	return 0;
}

/* A key: a string without escapes, which parameter names never need. */
static int
key(Parser *j, char *buf, size_t n)
{
	const char *end;

	if (expect(j, '"'))
		return -1;
	if (!(end = strchr(j->p, '"')) || memchr(j->p, '\n', (size_t)(end -
	    j->p)))
		return fail(j, "unterminated string");
	snprintf(buf, n, "%.*s", (int)(end - j->p), j->p);
	j->p = end + 1;
	return 0;
}

static int
number(Parser *j, rt_real *out)
{
	char *end;

	skip(j);
	if (*j->p != '-' && !isdigit((unsigned char)*j->p))
		return fail(j, "expected a number");
	double v = strtod(j->p, &end);
	if (!isfinite(v))
		return fail(j, "number out of range");
	*out = (rt_real)v;
	j->p = end;
	return 0;
}

static int
axis(Parser *j, const RtParam *p, rt_real *v, int d, size_t at,
	size_t stride)
{
	if (d == p->rank)
		return number(j, &v[at]);
	size_t inner = stride / (size_t)p->shape[d];
	skip(j);
	if (*j->p != '[')
		return fail(j, "'%s' needs an array of %d along axis %d",
			p->name, p->shape[d], d + 1);
	j->p++;
	for (int i = 0; i < p->shape[d]; i++) {
		if (i > 0 && expect(j, ','))
			return fail(j, "'%s' needs %d elements along axis %d",
				p->name, p->shape[d], d + 1);
		if (axis(j, p, v, d + 1, at + (size_t)i * inner, inner))
			return -1;
	}
	if (expect(j, ']'))
		return fail(j, "'%s' needs %d elements along axis %d",
			p->name, p->shape[d], d + 1);
	return 0;
}

static int
member(Parser *j, const RtModel *m, rt_real *v, char *seen)
{
	char name[256];
	const char *at;
	int i;

	skip(j);
	at = j->p;
	if (key(j, name, sizeof name) || expect(j, ':'))
		return -1;
	for (i = 0; i < m->nparam_table; i++)
		if (strcmp(m->param_table[i].name, name) == 0)
			break;
	j->p = at;
	if (i == m->nparam_table)
		return fail(j, "the model has no parameter '%s'", name);
	if (seen[i]++)
		return fail(j, "parameter '%s' given twice", name);
	key(j, name, sizeof name);
	expect(j, ':');
	const RtParam *p = &m->param_table[i];
	return axis(j, p, v, 0, p->offset, p->size);
}

static int
object(Parser *j, const RtModel *m, rt_real *v, char *seen)
{
	if (expect(j, '{'))
		return -1;
	skip(j);
	if (*j->p == '}') {
		j->p++;
	} else {
		for (;;) {
			if (member(j, m, v, seen))
				return -1;
			skip(j);
			if (*j->p == '}') {
				j->p++;
				break;
			}
			if (expect(j, ','))
				return fail(j, "expected ',' or '}'");
		}
	}
	skip(j);
	if (*j->p)
		return fail(j, "unexpected text after the object");
	for (int i = 0; i < m->nparam_table; i++)
		if (!seen[i]) {
			snprintf(j->err, j->errlen, "%s: parameter '%s' is "
				"missing", j->path, m->param_table[i].name);
			return -1;
		}
	return 0;
}

/* Reads into a copy so that a bad file leaves v as it was. */
int
rt_json_read(const char *path, const RtModel *m, rt_real *v, char *err,
	size_t errlen)
{
	size_t len;
	char *text = rt_slurp(path, &len);
	char *seen = calloc((size_t)m->nparam_table + 1, 1);
	rt_real *tmp = malloc((m->nparams + 1) * sizeof *tmp);
	int status = -1;

	if (!text)
		snprintf(err, errlen, "cannot read %s: %s", path,
			strerror(errno));
	else if (!seen || !tmp)
		snprintf(err, errlen, "%s: out of memory", path);
	else if (strlen(text) != len)
		snprintf(err, errlen, "%s: contains a NUL byte; not JSON", path);
	else {
		Parser j = { path, text, text, err, errlen };
		status = object(&j, m, tmp, seen);
	}
	if (status == 0)
		memcpy(v, tmp, m->nparams * sizeof *v);
	free(text);
	free(seen);
	free(tmp);
	return status;
}
