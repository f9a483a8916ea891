/*
 * source.c - loading source text and printing diagnostics that quote it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lex.h"

Source *
src_from_string(const char *path, const char *text, size_t len)
{
	Source *src = calloc(1, sizeof *src);

	src->path = path;
	src->text = malloc(len + 1);
	memcpy(src->text, text, len);
	src->text[len] = '\0';
	src->len = len;
	src->max_errors = 20;
	return src;
}

Source *
src_load(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	struct stat st;
	Source *src;

	if (!f)
		return NULL;
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		errno = EISDIR;
		return NULL;
	}
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			buf = realloc(buf, cap);
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		if (got == 0)
			break;
		len += got;
	}
	fclose(f);
	src = src_from_string(path, buf ? buf : "", len);
	free(buf);
	return src;
}

void
src_free(Source *src)
{
	if (!src)
		return;
	free(src->text);
	free(src);
}

/* Start of line `line` (1-based), or NULL past the end. */
static const char *
line_start(const Source *src, int line)
{
	const char *p = src->text, *end = src->text + src->len;

	for (int l = 1; l < line; l++) {
		p = memchr(p, '\n', (size_t)(end - p));
		if (!p)
			return NULL;
		p++;
	}
	return p;
}

/*
 * Quote the line and underline the span: a caret at its first column, then
 * tildes to its last column when it stays on one line.  Bytes that are not
 * printable ASCII are shown as '?' so a stray byte cannot garble a terminal.
 */
static void
quote(const Source *src, Loc loc)
{
	const char *p = line_start(src, loc.line);
	const char *end = src->text + src->len;
	int width = 0;

	if (!p)
		return;
	fputs("  ", stderr);
	for (const char *q = p; q < end && *q != '\n' && width < 400; q++, width++) {
		unsigned char c = (unsigned char)*q;
		fputc(c == '\t' || (c >= 32 && c < 127) ? c : '?', stderr);
	}
	fputs("\n  ", stderr);
	for (int c = 1; c < loc.col && c <= width; c++)
		fputc(p[c - 1] == '\t' ? '\t' : ' ', stderr);
	fputc('^', stderr);
	if (loc.end_line == loc.line)
		for (int c = loc.col + 1; c <= loc.end_col && c <= width; c++)
			fputc('~', stderr);
	fputc('\n', stderr);
}

static void
report(Source *src, Loc loc, const char *kind, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s:%d:%d: %s: ", src->path, loc.line, loc.col, kind);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	quote(src, loc);
}

void
diag_verror(Source *src, Loc loc, const char *fmt, va_list ap)
{
	src->nerrors++;
	if (src->nerrors > src->max_errors || src->quiet)
		return;
	report(src, loc, "error", fmt, ap);
}

void
diag_error(Source *src, Loc loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_verror(src, loc, fmt, ap);
	va_end(ap);
}

void
diag_warning(Source *src, Loc loc, const char *fmt, ...)
{
	va_list ap;

	if (src->quiet)
		return;
	va_start(ap, fmt);
	report(src, loc, "warning", fmt, ap);
	va_end(ap);
}

void
diag_note(Source *src, Loc loc, const char *fmt, ...)
{
	va_list ap;

	if (src->nerrors > src->max_errors || src->quiet)
		return;
	va_start(ap, fmt);
	report(src, loc, "note", fmt, ap);
	va_end(ap);
}
