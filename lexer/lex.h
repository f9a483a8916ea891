/*
 * lex.h - source files, diagnostics and the flex scanner's interface.
 *
 * Every stage that reports a user error goes through diag_error(), so all
 * messages share one shape: file:line:col: error: message, then the source
 * line and a caret under the offending token.
 */
#ifndef DLC_LEX_H
#define DLC_LEX_H

#include <stdarg.h>
#include <stddef.h>

/* A whole source file held in memory; diagnostics quote its lines. */
typedef struct Source {
	const char *path;
	char *text;
	size_t len;
	int nerrors;
	int max_errors;
	int quiet;          /* count errors but print nothing (the fuzzer) */
} Source;

/* A span of source text: first line/column through last, 1-based. */
typedef struct Loc {
	int line, col;
	int end_line, end_col;
} Loc;

Source *src_load(const char *path);
Source *src_from_string(const char *path, const char *text, size_t len);
void src_free(Source *src);

void diag_error(Source *src, Loc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void diag_verror(Source *src, Loc loc, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
void diag_warning(Source *src, Loc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void diag_note(Source *src, Loc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * An arena owns every node of one compilation; nothing in it is freed one by
 * one, and arena_free() releases it all at the end.
 */
typedef struct Arena Arena;

Arena *arena_new(void);
void *arena_alloc(Arena *a, size_t size);
char *arena_strdup(Arena *a, const char *s);
void arena_free(Arena *a);

/*
 * Brackets may nest this deep.  The bound keeps bison's stack and every
 * recursive walk of the tree small; real models nest a handful of levels.
 */
enum { LEX_MAX_NESTING = 256 };

/*
 * Names may be this long.  Names reach the generated C as identifiers and
 * quoted strings, through buffers sized for them; a longer one is refused
 * rather than cut, since two cut names could become one.
 */
enum { LEX_MAX_NAME = 100 };

/* Scanner state shared between the flex rules and the parser. */
typedef struct LexState {
	Source *src;
	Arena *arena;
	int line, col;
	int depth;          /* open brackets of any kind */
	char open_kind[LEX_MAX_NESTING];   /* '(', '[' or '{', innermost last */
	Loc opener[LEX_MAX_NESTING];       /* where each open bracket is */
	int unclosed;       /* an unclosed bracket was reported at the end */
	int too_deep;       /* the nesting bound was reported */
	char closed_kind;   /* the opener the last closer matched, or 0 */
	Loc closed_loc;     /* where that opener was */
	int last_was_newline;
	int eof_done;
} LexState;

#endif
