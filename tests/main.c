/*
 * main.c - the test runner: every file's tests as one cmocka group.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "tests.h"

int
run_cmd(const char *cmd, char **out)
{
	FILE *p = popen(cmd, "r");
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	int status;

	if (!p)
		return -1;
	for (size_t got; (got = fread(buf + len, 1, cap - len - 1, p)) > 0; ) {
		len += got;
		if (cap - len < 2)
			buf = realloc(buf, cap *= 2);
	}
	buf[len] = '\0';
	status = pclose(p);
	if (out)
		*out = buf;
	else
		free(buf);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

const char *
scratch_dir(const char *name)
{
	static char path[1024];
	char cmd[4200];

	snprintf(path, sizeof path, "%s/test-scratch/%s", DLC_BUILD, name);
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", path, path);
	if (system(cmd) != 0)
		abort();
	return path;
}

int
run_dlc_on_text(const char *source, const char *flags, char **err)
{
	const char *dir = scratch_dir("dlc-text");
	char path[1100], cmd[4200];
	FILE *f;

	snprintf(path, sizeof path, "%s/t.dl", dir);
	f = fopen(path, "w");
	if (!f)
		abort();
	fputs(source, f);
	fclose(f);
	snprintf(cmd, sizeof cmd, "cd '%s' && '%s/dlc' %s t.dl 2>&1 >/dev/null",
		dir, DLC_BUILD, flags);
	return run_cmd(cmd, err);
}

int
main(void)
{
	TestList (*const lists[])(void) = {
		frontend_tests, golden_tests, fuzz_tests, ops_tests,
		grad_tests, passes_tests, random_tests, edge_tests, trainer_tests,
		runtime_tests, embed_tests, irtools_tests, torch_tests,
		llvm_tests, idx_tests, examples_tests, harden_tests,
		kernels_tests, threads_tests,
	};
	struct CMUnitTest *all = NULL;
	size_t n = 0;

	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
		TestList l = lists[i]();
		all = realloc(all, (n + l.n) * sizeof *all);
		memcpy(all + n, l.tests, l.n * sizeof *all);
		n += l.n;
	}
	int failed = _cmocka_run_group_tests("dlc", all, n, NULL, NULL);
	free(all);
	return failed != 0;
}
