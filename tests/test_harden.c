/*
 * test_harden.c - bad input of every kind gets a clear error, never a
 * crash, a hang or wrong code (issue 12).
 *
 * tests/bad/NAME.dl beside NAME.err: `dlc --emit=c NAME.dl` runs every
 * stage (lowering too) and must exit 1 printing exactly NAME.err.
 * tests/bad/data/NAME.EXT beside NAME.err: the trainer of
 * tests/bad/data/model.dl, given the file by its extension (or by the
 * flags in NAME.flags, where @ stands for the file), must exit 1 printing
 * exactly NAME.err.  Then the limits too large to keep as files (made
 * here), names and paths that could break the generated C, and a trainer
 * killed over and over while it writes checkpoints.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests.h"

#define BAD DLC_ROOT "/tests/bad"

/* ---- helpers ---- */

static char *
slurp(const char *path, size_t *len)
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
	if (len)
		*len = (size_t)n;
	return buf;
}

static void
spit(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The files of dir whose names end in ext, without it, sorted. */
static char **
names_ending(const char *dir, const char *ext, int *n)
{
	DIR *d = opendir(dir);
	size_t elen = strlen(ext);
	char **names = NULL;
	struct dirent *e;

	*n = 0;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		if (len <= elen || strcmp(e->d_name + len - elen, ext) != 0)
			continue;
		names = realloc(names, (size_t)(*n + 1) * sizeof *names);
		names[(*n)++] = strndup(e->d_name, len - elen);
	}
	closedir(d);
	qsort(names, (size_t)*n, sizeof *names, by_name);
	return names;
}

static void
free_names(char **names, int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Runs cmd and compares its status and output with the golden file. */
static int
golden(const char *name, const char *cmd, const char *golden_path)
{
	char *out, *want = slurp(golden_path, NULL);
	int status = run_cmd(cmd, &out), ok;

	ok = want && status == 1 && strcmp(out, want) == 0;
	if (!ok)
		print_message("--- %s: status %d, expected 1\n--- expected\n"
			"%.1500s--- got\n%.1500s", name, status,
			want ? want : "(no golden file)\n", out);
	free(out);
	free(want);
	return ok;
}

/* ---- tests/bad: programs ---- */

static void
test_bad_programs(void **state)
{
	const char *out = scratch_dir("bad-programs");
	char cmd[4096], gold[1024];
	int n, passed = 0;
	char **names = names_ending(BAD, ".dl", &n);

	(void)state;
	for (int i = 0; i < n; i++) {
		snprintf(cmd, sizeof cmd, "cd '%s' && '%s/dlc' --emit=c -o "
			"'%s/' %s.dl 2>&1 >/dev/null", BAD, DLC_BUILD, out,
			names[i]);
		snprintf(gold, sizeof gold, "%s/%s.err", BAD, names[i]);
		passed += golden(names[i], cmd, gold);
	}
	free_names(names, n);
	print_message("bad programs: %d/%d passed\n", passed, n);
	assert_true(n >= 60);
	assert_int_equal(passed, n);
}

/* ---- tests/bad/data: files for the trainer ---- */

/* The trainer's flags for a data file, by its extension or NAME.flags. */
static void
data_flags(const char *name, const char *file, char *buf, size_t n)
{
	char path[1024], *flags, *at;
	const char *ext = strrchr(file, '.');

	snprintf(path, sizeof path, "%s/data/%s.flags", BAD, name);
	if ((flags = slurp(path, NULL)) != NULL) {
		flags[strcspn(flags, "\n")] = '\0';
		at = strchr(flags, '@');
		assert_non_null(at);
		*at = '\0';
		snprintf(buf, n, "%s%s%s", flags, file, at + 1);
		free(flags);
	} else if (strcmp(ext, ".csv") == 0) {
		snprintf(buf, n, "--data %s --epochs 1 --quiet", file);
	} else if (strcmp(ext, ".npy") == 0) {
		snprintf(buf, n, "--data %s --targets good_y.npy --epochs 1 "
			"--quiet", file);
	} else if (strcmp(ext, ".json") == 0) {
		snprintf(buf, n, "--params-in %s --params-out /dev/null", file);
	} else {
		snprintf(buf, n, "--load %s --params-out /dev/null", file);
	}
}

/* NAME.EXT for the golden NAME.err: the one data file of that name. */
static int
data_file(const char *name, char *buf, size_t n)
{
	static const char *const exts[] = { ".csv", ".npy", ".json", ".ckpt" };
	struct stat st;
	char path[1024];

	for (size_t i = 0; i < sizeof exts / sizeof *exts; i++) {
		snprintf(path, sizeof path, "%s/data/%s%s", BAD, name, exts[i]);
		if (stat(path, &st) == 0) {
			snprintf(buf, n, "%s%s", name, exts[i]);
			return 0;
		}
	}
	return -1;
}

/* Two million columns in one line (4 MB, made here rather than kept),
 * then a line of four million empty fields (a header, being no numbers):
 * each a one-line error. */
static void
wide_rows(const char *dir)
{
	size_t n = 2000000;
	char *row = malloc(2 * n + 2), cmd[4096], *out;

	for (size_t i = 0; i < n; i++)
		row[2 * i] = '1', row[2 * i + 1] = ',';
	row[2 * n - 1] = '\n';
	snprintf(cmd, sizeof cmd, "%s/wide.csv", dir);
	spit(cmd, row, 2 * n);
	snprintf(cmd, sizeof cmd, "cd '%s' && ./model --data wide.csv --quiet "
		"2>&1 >/dev/null", dir);
	assert_int_equal(run_cmd(cmd, &out), 1);
	assert_string_equal(out, "error: wide.csv:1: expected 3 columns, got "
		"2000000\n");
	free(out);
	memset(row, ',', 2 * n);
	row[2 * n - 1] = '\n';
	snprintf(cmd, sizeof cmd, "%s/commas.csv", dir);
	spit(cmd, row, 2 * n);
	snprintf(cmd, sizeof cmd, "cd '%s' && ./model --data commas.csv "
		"--quiet 2>&1 >/dev/null", dir);
	assert_int_equal(run_cmd(cmd, &out), 1);
	assert_string_equal(out, "error: commas.csv:1: header: expected 3 "
		"columns, got 4000000\n");
	free(out);
	free(row);
}

static void
test_bad_data(void **state)
{
	const char *dir = scratch_dir("bad-data");
	char cmd[4096], flags[1024], file[256], gold[1024];
	int n, passed = 0;
	char **names;

	(void)state;
	snprintf(cmd, sizeof cmd, "'%s/dlc' '%s/data/model.dl' -o '%s/model' "
		"2>&1", DLC_BUILD, BAD, dir);
	assert_int_equal(run_cmd(cmd, NULL), 0);
	names = names_ending(BAD "/data", ".err", &n);
	for (int i = 0; i < n; i++) {
		if (data_file(names[i], file, sizeof file) != 0)
			fail_msg("%s.err has no data file beside it", names[i]);
		data_flags(names[i], file, flags, sizeof flags);
		snprintf(cmd, sizeof cmd, "cd '%s/data' && '%s/model' %s 2>&1 "
			">/dev/null", BAD, dir, flags);
		snprintf(gold, sizeof gold, "%s/data/%s.err", BAD, names[i]);
		passed += golden(names[i], cmd, gold);
	}
	free_names(names, n);
	print_message("bad data files: %d/%d passed\n", passed, n);
	assert_true(n >= 20);
	assert_int_equal(passed, n);
	wide_rows(dir);
}

/* ---- limits too large to keep as files ---- */

/* Runs dlc on text through every stage and wants status 1, a message
 * containing `want`, short however large the input (errors quote at most
 * a few hundred columns), and an answer within seconds. */
static void
refused(const char *what, const char *text, size_t len, const char *want)
{
	const char *dir = scratch_dir("limits");
	char path[1200], cmd[4200], *out;
	struct timespec t0, t1;
	size_t outlen;
	int status;

	snprintf(path, sizeof path, "%s/t.dl", dir);
	spit(path, text, len);
	snprintf(cmd, sizeof cmd, "cd '%s' && '%s/dlc' --emit=c -o out/ t.dl "
		">/dev/null 2>err.txt", dir, DLC_BUILD);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	status = run_cmd(cmd, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	snprintf(path, sizeof path, "%s/err.txt", dir);
	out = slurp(path, &outlen);
	assert_non_null(out);
	if (status != 1 || !strstr(out, want) || outlen > 20000)
		fail_msg("%s: status %d, expected 1 and '%s' in %zu bytes:\n"
			"%.2000s", what, status, want, outlen, out);
	assert_true(t1.tv_sec - t0.tv_sec < 20);
	free(out);
}

/* A program around one expression: `loss (EXPR - y)^2`. */
static char *
around(const char *prefix, const char *open, const char *close, int times,
	size_t *len)
{
	size_t olen = strlen(open), clen = strlen(close);
	size_t cap = strlen(prefix) + (olen + clen) * (size_t)times + 64;
	char *s = malloc(cap), *p = s;

	p += sprintf(p, "%sloss (", prefix);
	for (int i = 0; i < times; i++, p += olen)
		memcpy(p, open, olen);
	p += sprintf(p, "x");
	for (int i = 0; i < times; i++, p += clen)
		memcpy(p, close, clen);
	p += sprintf(p, " - y)^2\n");
	*len = (size_t)(p - s);
	return s;
}

static void
test_limit_nesting(void **state)
{
	static const char head[] = "input x\ntarget y\n";
	size_t len;
	char *s;

	(void)state;
	s = around(head, "(", ")", 10000, &len);
	refused("10,000 parentheses", s, len, "brackets nest too deeply");
	free(s);
	s = around("fn f(a) = a\ninput x\ntarget y\n", "f(", ")", 10000, &len);
	refused("10,000 nested calls", s, len, "brackets nest too deeply");
	free(s);
	s = around(head, "[", "]", 10000, &len);
	refused("10,000 brackets", s, len, "brackets nest too deeply");
	free(s);
}

/* 10,000 functions, each calling the one before twice: a call chain that
 * inlining would make 10,000 deep and 2^10000 wide. */
static void
test_limit_call_chain(void **state)
{
	size_t cap = 10000 * 48 + 128, len = 0;
	char *s = malloc(cap);

	(void)state;
	len += (size_t)sprintf(s, "fn f0(a) = a + 1\n");
	for (int i = 1; i < 10000; i++)
		len += (size_t)sprintf(s + len, "fn f%d(a) = f%d(a) * f%d(a)\n",
			i, i - 1, i - 1);
	len += (size_t)sprintf(s + len, "input x\ntarget y\n"
		"loss (f9999(x) - y)^2\n");
	refused("10,000 chained functions", s, len, "function calls");
	free(s);
}

/* A 10 MB line: a sum of 1.6 million terms. */
static void
test_limit_long_line(void **state)
{
	size_t n = 10u << 20, len;
	char *s = malloc(n + 128);

	(void)state;
	len = (size_t)sprintf(s, "input x\ntarget y\nloss (x");
	while (len < n)
		len += (size_t)sprintf(s + len, " + x");
	len += (size_t)sprintf(s + len, " - y)^2\n");
	refused("a 10 MB line", s, len, "this expression nests too deeply");
	/* and 10 MB of one name */
	len = (size_t)sprintf(s, "input x\ntarget y\nloss (x");
	memset(s + len, 'a', n);
	len += n;
	len += (size_t)sprintf(s + len, " - y)^2\n");
	refused("a 10 MB name", s, len, "a name may have at most 100");
	free(s);
}

/* Every byte value outside printable ASCII, where a name would go. */
static void
test_limit_bytes(void **state)
{
	char text[64], want[64];

	(void)state;
	for (int c = 0; c < 256; c++) {
		if ((c >= 32 && c < 127) || c == '\n' || c == '\t' ||
		    c == '\r' || c == '\f' || c == '\v')
			continue;
		int len = snprintf(text, sizeof text, "input x\ntarget y\n"
			"loss (x - y)^2 + %c\n", 'Q');
		text[len - 2] = (char)c;
		snprintf(want, sizeof want, "stray byte 0x%02x", c);
		refused("a stray byte", text, (size_t)len, want);
	}
}

/* ---- names and paths that reach generated code ---- */

/* Trainers whose names would meet the runtime's: built under another
 * name, or refused by --name. */
static void
test_runtime_names(void **state)
{
	static const char *const names[] = { "rt", "RT", "dlrt", "DLRT",
		"rt_read_csv", "Dlrt_x" };
	static const char model[] = "input x\ntarget y\nparam w = 0\n"
		"loss (w * x - y)^2\n";
	const char *dir = scratch_dir("runtime-names");
	char path[1200], cmd[4200], *out;

	(void)state;
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		snprintf(path, sizeof path, "%s/%s.dl", dir, names[i]);
		spit(path, model, strlen(model));
		snprintf(cmd, sizeof cmd, "cd '%s' && '%s/dlc' --name=%s %s.dl "
			"-o t 2>&1", dir, DLC_BUILD, names[i], names[i]);
		assert_int_equal(run_cmd(cmd, &out), 2);
		assert_non_null(strstr(out, "the runtime's names"));
		free(out);
		/* building is slow; half the names show it */
		if (i % 2)
			continue;
		snprintf(cmd, sizeof cmd, "cd '%s' && CC='cc -Wall -Wextra "
			"-Werror' '%s/dlc' %s.dl -o t 2>&1 && ./t --help "
			">/dev/null 2>&1", dir, DLC_BUILD, names[i]);
		if (run_cmd(cmd, &out) != 0)
			fail_msg("a trainer from %s.dl: %s", names[i], out);
		free(out);
	}
}

/* Every kind of name C or our runtime could capture, as inputs, targets
 * and params of one model, in a directory and file named to break
 * quoting; the trainer must build under -Werror with gcc and clang, in
 * f32 and f64, and train. */
static const char hostile_model[] =
"# */ \"\\ ?\?/ a comment\n"
"input int[2]\ninput _Bool\n"
"target errno\n"
"param main[2] = 0.5, model = 0, init = 0.1\n"
"param param_table = 1, targets = 0, predict = 0, NULL = 0, EOF = 1\n"
"param rt_real = 0, RT_SGD = 1, DLRT_H = 0, u_int = 1, __x = 0\n"
"param evil_params = 1, evil_real = 0, EVIL_H = 0, linux = 0, I = 0\n"
"param restrict = 1, inline = 0, signed = 1, SIGKILL = 0, M_PI = 0\n"
"loss (dot(main, int) * restrict + model + init + param_table\n"
"  + targets + predict + NULL + EOF * _Bool + rt_real + RT_SGD + DLRT_H\n"
"  + u_int + __x + evil_params + evil_real + EVIL_H + linux + I + inline\n"
"  + signed + SIGKILL + M_PI - errno)^2\n"
"train sgd(lr = 0.01) epochs 2 batch 2\n";

static void
test_hostile_trainer(void **state)
{
	static const char *const dirs[] = { "sp ace q\"uo\\te tri?\?/ */ $(x)",
		"new\nline\ttab" };
	static const char *const cc[] = {
		"gcc -std=c11 -pedantic -Wall -Wextra -Werror",
		"clang -std=c11 -pedantic -Wall -Wextra -Werror",
	};
	const char *base = scratch_dir("hostile-trainer");
	char dir[1500], cmd[8192], *out;

	(void)state;
	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
		snprintf(dir, sizeof dir, "%s/%s", base, dirs[i]);
		snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
		assert_int_equal(run_cmd(cmd, NULL), 0);
		snprintf(cmd, sizeof cmd, "%s/evil model.dl", dir);
		spit(cmd, hostile_model, strlen(hostile_model));
		snprintf(cmd, sizeof cmd, "cd '%s' && printf '1,2,3,4\\n5,6,7,8"
			"\\n' > d.csv && CC='%s' '%s/dlc' --name=evil %s "
			"'evil model.dl' -o 'tr ainer' 2>&1 && ./'tr ainer' "
			"--data d.csv --quiet --params-out p.json 2>&1 && "
			"grep -q '\"rt_real\"' p.json", dir, cc[i % 2],
			DLC_BUILD, i % 2 ? "--precision=f64" : "");
		if (run_cmd(cmd, &out) != 0)
			fail_msg("directory '%s': %s", dirs[i], out);
		free(out);
	}
}

/* ---- checkpoints that survive SIGKILL ---- */

static uint32_t
get32(const unsigned char *b, size_t *at)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = v << 8 | b[*at + (size_t)i];
	*at += 4;
	return v;
}

/* The epoch count stored in a checkpoint of a model whose parameters are
 * one vector (see ckpt.c's layout), or -1 when it is too short. */
static long
ckpt_epoch(const char *path)
{
	size_t len, at = 32;
	unsigned char *b = (unsigned char *)slurp(path, &len);
	uint64_t v = (uint64_t)-1, n;

	if (!b)
		return -1;
	at += get32(b, &at);                    /* model name */
	get32(b, &at);                          /* one parameter: */
	at += get32(b, &at);                    /* its name */
	at += 4 * (size_t)get32(b, &at);        /* its rank and extents */
	memcpy(&n, b + at, 8);
	at += 8 + 8 * n + 4 + 8 + 16 * n;       /* params, opt, step, bufs */
	if (at + 8 <= len)
		memcpy(&v, b + at, 8);
	free(b);
	return (long)v;
}

static void
sleep_us(long us)
{
	struct timespec ts = { us / 1000000, us % 1000000 * 1000 };

	nanosleep(&ts, NULL);
}

/* Starts `trainer ARGS...` quietly; returns its pid. */
static pid_t
start(char *const argv[])
{
	pid_t pid = fork();

	if (pid == 0) {
		freopen("/dev/null", "w", stdout);
		freopen("/dev/null", "w", stderr);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/*
 * A trainer saving after every epoch of a fast model with a 64 KB
 * checkpoint, killed at random moments 100 times, resuming each time from
 * what it left: every time, the checkpoint must load and hold at least as
 * many epochs as before.
 */
static void
test_kill_while_saving(void **state)
{
	static const char model[] = "input x[4]\ntarget y\n"
		"param w[2000] = 0.001\n"
		"loss (sum(w) * x[0] + x[1] - y)^2\n"
		"train adam(lr = 0.001) epochs 1 batch 4\n";
	const char *dir = scratch_dir("kill-ckpt");
	char path[1400], cmd[4200], trainer[1300], ck[1300], data[1300];
	char *out;
	long last = 0, mid_save = 0;
	uint64_t rng = 12345;

	(void)state;
	snprintf(path, sizeof path, "%s/k.dl", dir);
	spit(path, model, strlen(model));
	snprintf(trainer, sizeof trainer, "%s/k", dir);
	snprintf(ck, sizeof ck, "%s/k.ckpt", dir);
	snprintf(data, sizeof data, "%s/d.csv", dir);
	spit(data, "1,2,3,4,5\n2,3,4,5,6\n", 20);
	snprintf(cmd, sizeof cmd, "cd '%s' && '%s/dlc' k.dl -o k 2>&1 && "
		"./k --data d.csv --save k.ckpt --quiet > /dev/null", dir,
		DLC_BUILD);
	if (run_cmd(cmd, &out) != 0)
		fail_msg("%s", out);
	free(out);
	assert_int_equal(ckpt_epoch(ck), 1);
	for (int kill_no = 0; kill_no < 100; kill_no++) {
		char *argv[] = { trainer, "--data", data, "--load", ck,
			"--save", ck, "--epochs", "100000000", "--quiet", NULL };
		pid_t pid = start(argv);
		int status;
		rng = rng * 6364136223846793005u + 1442695040888963407u;
		sleep_us(2000 + (long)(rng >> 33) % 30000);
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status));
		snprintf(path, sizeof path, "%s.tmp", ck);
		mid_save += access(path, F_OK) == 0;
		snprintf(cmd, sizeof cmd, "'%s' --load '%s' --params-out "
			"/dev/null 2>&1", trainer, ck);
		if (run_cmd(cmd, &out) != 0)
			fail_msg("after kill %d: %s", kill_no + 1, out);
		free(out);
		long epoch = ckpt_epoch(ck);
		if (epoch < last)
			fail_msg("after kill %d the checkpoint went back from "
				"epoch %ld to %ld", kill_no + 1, last, epoch);
		last = epoch;
	}
	print_message("100 kills: %ld left a half-written %s.tmp; the "
		"checkpoint reached epoch %ld\n", mid_save, "k.ckpt", last);
	assert_true(last > 1);
}

/* A bad value of a compiler flag names itself and what would do, and
 * dlc exits 2 before reading the program. */
static void
test_bad_flags(void **state)
{
	static const char *const bad[][2] = {
		{ "--precision=f16", "unknown precision 'f16'; expected f32 or "
			"f64" },
		{ "--emit=bogus", "unknown --emit kind 'bogus'" },
		{ "--emit=ir=nope", "unknown IR stage 'nope'" },
		{ "--print-after=zz", "unknown pass 'zz'" },
		{ "-O7", "unknown option '-O7'" },
	};
	char cmd[4096], *out;
	(void)state;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(cmd, sizeof cmd, "'%s/dlc' %s /nonexistent.dl 2>&1",
			DLC_BUILD, bad[i][0]);
		assert_int_equal(run_cmd(cmd, &out), 2);
		if (!strstr(out, bad[i][1]))
			fail_msg("%s: expected '%s', saw:\n%s", bad[i][0],
				bad[i][1], out);
		free(out);
	}
}

TestList
harden_tests(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_programs),
		cmocka_unit_test(test_bad_data),
		cmocka_unit_test(test_limit_nesting),
		cmocka_unit_test(test_limit_call_chain),
		cmocka_unit_test(test_limit_long_line),
		cmocka_unit_test(test_limit_bytes),
		cmocka_unit_test(test_runtime_names),
		cmocka_unit_test(test_hostile_trainer),
		cmocka_unit_test(test_kill_while_saving),
		cmocka_unit_test(test_bad_flags),
	};
	return (TestList){ tests, sizeof tests / sizeof tests[0] };
}
