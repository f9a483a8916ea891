/*
 * names.c - what the generated code may be called and what it may say:
 * C field names for .dl parameters that no keyword, library macro or name
 * of ours can capture, and source text (paths, quoted lines) made safe to
 * put inside a C comment or string literal.
 *
 * The field names must also survive the user's translation unit, which
 * includes NAME.h after headers of its own choosing; so besides C's and
 * C++'s keywords they avoid the object-like macros of the standard library
 * and the identifiers the standard reserves for future macros.
 */
#include <ctype.h>
#include <string.h>

#include "cg.h"

/* Keywords of C99 through C23 and of C++ (the header is usable from C++),
 * the <iso646.h> spellings, and lowercase macros of the standard headers
 * and of GNU C's default dialects. */
static const char *const taken[] = {
	"auto", "break", "case", "char", "const", "continue", "default", "do",
	"double", "else", "enum", "extern", "float", "for", "goto", "if",
	"inline", "int", "long", "register", "restrict", "return", "short",
	"signed", "sizeof", "static", "struct", "switch", "typedef", "union",
	"unsigned", "void", "volatile", "while", "bool", "true", "false",
	"alignas", "alignof", "constexpr", "nullptr", "static_assert",
	"thread_local", "typeof", "typeof_unqual", "asm", "fortran",
	"class", "new", "delete", "this", "template", "namespace", "private",
	"public", "protected", "virtual", "operator", "friend", "try",
	"catch", "throw", "typename", "using", "explicit", "mutable",
	"export", "wchar_t", "char8_t", "char16_t", "char32_t", "concept",
	"requires", "co_await", "co_yield", "co_return", "consteval",
	"constinit", "decltype", "noexcept", "dynamic_cast", "static_cast",
	"const_cast", "reinterpret_cast", "typeid", "and", "and_eq",
	"bitand", "bitor", "compl", "not", "not_eq", "or", "or_eq", "xor",
	"xor_eq", "errno", "stdin", "stdout", "stderr", "assert", "offsetof",
	"math_errhandling", "complex", "imaginary", "noreturn", "setjmp",
	"va_arg", "va_start", "va_end", "va_copy", "linux", "unix", "i386",
	"NULL", "EOF", "BUFSIZ", "NAN", "INFINITY", "HUGE_VAL", "HUGE_VALF",
	"HUGE_VALL", "I", "CHAR_BIT", "MB_LEN_MAX", "MB_CUR_MAX", "RAND_MAX",
	"TMP_MAX", "L_tmpnam", "NDEBUG", "FILENAME_MAX", "FOPEN_MAX",
};

/* Uppercase prefixes of the standard's macro families (errno's E..., the
 * <math.h>, <float.h>, <fenv.h>, <signal.h>, <locale.h>, <inttypes.h> and
 * <stdint.h> ones, POSIX's M_ constants), and those of dlrt.h and the
 * -DDLRT_F32 or -DDLRT_F64 a trainer is compiled with. */
static const char *const macro_prefixes[] = {
	"FP_", "FE_", "LC_", "SIG", "M_", "FLT_", "DBL_", "LDBL_", "MATH_",
	"PRI", "SCN", "INT", "UINT", "SEEK_", "EXIT_", "CLOCKS_", "TIME_",
	"WCHAR_", "WINT_", "SIZE_", "PTRDIFF_", "ATOMIC_",
	"DLRT", "RT_",      /* the trainer runtime's, beside the glue */
};

static int
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int
has_lower(const char *s)
{
	for (; *s; s++)
		if (islower((unsigned char)*s))
			return 1;
	return 0;
}

/* A name some header may define as a macro: a listed family, errno's
 * E<digit or capital>, or any all-capitals name ending _MIN or _MAX. */
static int
macro_like(const char *s)
{
	size_t len = strlen(s);

	if (s[0] == 'E' && (isdigit((unsigned char)s[1]) ||
	    isupper((unsigned char)s[1])))
		return 1;
	if (has_lower(s))
		return 0;
	for (size_t i = 0; i < sizeof macro_prefixes / sizeof *macro_prefixes;
	    i++)
		if (starts_with(s, macro_prefixes[i]))
			return 1;
	return len > 4 && (strcmp(s + len - 4, "_MIN") == 0 ||
		strcmp(s + len - 4, "_MAX") == 0);
}

/* The prefix that marks a renamed field: "u_", or "v_" for a model whose
 * own name starts with u, so that no renamed field starts with NAME_. */
static const char *
rename_prefix(const IrModule *m)
{
	return m->name[0] == 'u' ? "v_" : "u_";
}

void
cg_guard(const IrModule *m, char *buf, size_t n)
{
	size_t i = 0;

	for (; m->name[i] && i + 3 < n; i++)
		buf[i] = (char)toupper((unsigned char)m->name[i]);
	snprintf(buf + i, n - i, "_H");
}

/*
 * Whether a .dl name must be renamed.  Names with the rename prefix are
 * renamed too, which makes renaming one-to-one: kept names never start
 * with the prefix, renamed ones always do.  NAME_ names could meet our
 * macros, and the include guard is a macro of ours without that prefix.
 */
static int
must_rename(const IrModule *m, const char *s)
{
	char guard[80], own[80];

	cg_guard(m, guard, sizeof guard);
	snprintf(own, sizeof own, "%s_", m->name);
	if (s[0] == '_' || starts_with(s, rename_prefix(m)) ||
	    starts_with(s, own) || strcmp(s, guard) == 0 || macro_like(s))
		return 1;
	for (size_t i = 0; i < sizeof taken / sizeof *taken; i++)
		if (strcmp(s, taken[i]) == 0)
			return 1;
	return 0;
}

const char *
cg_param_field(const IrModule *m, int i, char *buf, size_t n)
{
	const char *name = m->params[i].name;

	if (must_rename(m, name))
		snprintf(buf, n, "%s%s", rename_prefix(m), name);
	else
		snprintf(buf, n, "%s", name);
	return buf;
}

/*
 * Text inside a C comment: no comment start or end can form, and nothing
 * but printable ASCII, so neither a path nor a quoted line can end the
 * comment, nest one (a -Wcomment error), or splice lines.  A '?' is never
 * doubled, so no trigraph forms.
 */
void
cg_comment_safe(FILE *out, const char *s, size_t len)
{
	int prev = 0;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i];
		if (c < 32 || c > 126 || c == '\\')
			c = '?';
		if ((c == '/' && prev == '*') || (c == '*' && prev == '/') ||
		    (c == '?' && prev == '?'))
			fputc(' ', out);
		fputc(c, out);
		prev = c;
	}
}

/* Text inside a C string literal: escapes for quote and backslash, octal
 * escapes for anything not printable, and '?' escaped against trigraphs. */
void
cg_string_safe(FILE *out, const char *s)
{
	for (; *s; s++) {
		int c = (unsigned char)*s;
		if (c == '"' || c == '\\' || c == '?')
			fprintf(out, "\\%c", c);
		else if (c < 32 || c > 126)
			fprintf(out, "\\%03o", c);
		else
			fputc(c, out);
	}
}

/* Writes text with every '@' replaced by the module name. */
void
cg_template(FILE *f, const char *text, const char *name)
{
	for (; *text; text++)
		if (*text == '@')
			fputs(name, f);
		else
			fputc(*text, f);
}
