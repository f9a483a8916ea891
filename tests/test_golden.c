/*
 * test_golden.c - golden files of the front end.
 *
 * tests/diag/NAME.dl beside NAME.err: `dlc --check NAME.dl` must exit with
 * status 1 and print exactly NAME.err.  tests/ast/NAME.ast: `dlc --emit=ast`
 * of examples/NAME.dl must print exactly that, and `dlc --check` nothing.
 * Each runner reports "N/M passed" and shows the first lines of every
 * difference.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests.h"

static char *
read_all(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The base names of dir's files ending in ext, sorted. */
static char **
list_files(const char *dir, const char *ext, int *n)
{
	DIR *d = opendir(dir);
	char **names = NULL;
	size_t elen = strlen(ext);
	struct dirent *e;

	*n = 0;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		if (len <= elen || strcmp(e->d_name + len - elen, ext) != 0)
			continue;
		names = realloc(names, (size_t)(*n + 1) * sizeof *names);
		names[*n] = strndup(e->d_name, len - elen);
		(*n)++;
	}
	closedir(d);
	qsort(names, (size_t)*n, sizeof *names, by_name);
	return names;
}

/* Runs dlc with flags on dir/NAME.dl there; compares `stream` (1 stdout,
 * 2 stderr) with the golden file. */
static int
matches(const char *dir, const char *name, const char *flags, int stream,
	const char *golden, int want_status)
{
	char cmd[2048], path[1024], *out = NULL, *want;
	int status, ok;

	snprintf(cmd, sizeof cmd, "cd '%s' && '%s/dlc' %s %s.dl %s", dir,
		DLC_BUILD, flags, name, stream == 1 ? "2>/dev/null" :
		"2>&1 >/dev/null");
	status = run_cmd(cmd, &out);
	snprintf(path, sizeof path, "%s", golden);
	want = read_all(path);
	ok = want && strcmp(out, want) == 0 && status == want_status;
	if (!ok)
		print_message("--- %s: status %d, expected %d\n--- expected\n"
			"%.2000s--- got\n%.2000s", name, status, want_status,
			want ? want : "(no golden file)\n", out);
	free(out);
	free(want);
	return ok;
}

static void
test_diagnostic_goldens(void **state)
{
	const char *dir = DLC_ROOT "/tests/diag";
	char golden[1024];
	int n, passed = 0;
	char **names = list_files(dir, ".dl", &n);

	(void)state;
	for (int i = 0; i < n; i++) {
		snprintf(golden, sizeof golden, "%s/%s.err", dir, names[i]);
		passed += matches(dir, names[i], "--check", 2, golden, 1);
		free(names[i]);
	}
	free(names);
	print_message("diagnostics: %d/%d passed\n", passed, n);
	assert_true(n >= 90);
	assert_int_equal(passed, n);
}

static void
test_ast_goldens(void **state)
{
	const char *dir = DLC_ROOT "/examples";
	char golden[1024];
	int n, passed = 0;
	char **names = list_files(DLC_ROOT "/tests/ast", ".ast", &n);

	(void)state;
	for (int i = 0; i < n; i++) {
		snprintf(golden, sizeof golden, "%s/tests/ast/%s.ast",
			DLC_ROOT, names[i]);
		passed += matches(dir, names[i], "--emit=ast", 1, golden, 0);
		/* --check is silent on a good program */
		passed += matches(dir, names[i], "--check", 2, "/dev/null", 0);
		free(names[i]);
	}
	free(names);
	print_message("ast: %d/%d passed\n", passed, 2 * n);
	assert_int_equal(n, 6);
	assert_int_equal(passed, 2 * n);
}

TestList
golden_tests(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diagnostic_goldens),
		cmocka_unit_test(test_ast_goldens),
	};
	return (TestList){ tests, sizeof tests / sizeof tests[0] };
}
