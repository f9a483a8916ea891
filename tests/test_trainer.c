/*
 * test_trainer.c - end to end: dlc builds the polyfit trainer, the trainer
 * fits the curve, and bad data or flags get clear errors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dlrt.h"
#include "ir.h"
#include "tests.h"

static char trainer[1100];

/* Builds the trainer once; later tests reuse it. */
static const char *
polyfit_trainer(void)
{
	char cmd[3000], *out;

	if (trainer[0])
		return trainer;
	snprintf(trainer, sizeof trainer, "%s/polyfit", scratch_dir("trainer"));
	snprintf(cmd, sizeof cmd, "'%s/dlc' '%s/examples/polyfit.dl' -o '%s'",
		DLC_BUILD, DLC_ROOT, trainer);
	if (run_cmd(cmd, &out) != 0)
		fail_msg("%s\n%s", cmd, out);
	free(out);
	return trainer;
}

/* Reads the epoch,loss log: the first and last losses and the row count. */
static int
read_log(const char *path, double *first, double *last)
{
	FILE *f = fopen(path, "r");
	char line[256];
	int rows = 0;

	assert_non_null(f);
	assert_non_null(fgets(line, sizeof line, f));
	assert_string_equal(line, "epoch,train_loss,val_loss,metric,seconds\n");
	while (fgets(line, sizeof line, f)) {
		long epoch;
		double loss;
		assert_int_equal(sscanf(line, "%ld,%lf", &epoch, &loss), 2);
		assert_int_equal(epoch, rows + 1);
		if (rows == 0)
			*first = loss;
		*last = loss;
		rows++;
	}
	fclose(f);
	return rows;
}

static void
test_polyfit_trains(void **state)
{
	(void)state;
	const char *bin = polyfit_trainer();
	char cmd[3000], log[1200], *out;
	double first = 0, last = 0;

	snprintf(log, sizeof log, "%s.log.csv", bin);
	snprintf(cmd, sizeof cmd, "'%s' --data '%s/examples/data/polyfit.csv' "
		"--log '%s' --quiet", bin, DLC_ROOT, log);
	if (run_cmd(cmd, &out) != 0)
		fail_msg("%s\n%s", cmd, out);
	assert_non_null(strstr(out, "k5 = "));
	free(out);
	assert_int_equal(read_log(log, &first, &last), 2000);
	if (!(last * 100 <= first))
		fail_msg("loss fell from %g to %g, less than 100-fold", first,
			last);
}

/* The same seed and data give the same run, bit for bit. */
static void
test_deterministic(void **state)
{
	(void)state;
	const char *bin = polyfit_trainer();
	char cmd[3000], *a, *b;

	snprintf(cmd, sizeof cmd, "'%s' --data '%s/examples/data/polyfit.csv' "
		"--epochs 30 --seed 5 --val-split 0.2 --optimizer adam "
		"--standardize --schedule cosine --clip 1 2>/dev/null", bin,
		DLC_ROOT);
	assert_int_equal(run_cmd(cmd, &a), 0);
	assert_int_equal(run_cmd(cmd, &b), 0);
	assert_string_equal(a, b);
	free(a);
	free(b);
}

/* Saving at epoch 8 and resuming to 20 gives the 20-epoch run's bits;
 * the parameters survive a JSON round trip unchanged. */
static void
test_resume_and_json(void **state)
{
	(void)state;
	const char *bin = polyfit_trainer(), *dir = scratch_dir("pf-resume");
	char cmd[6000], *whole, *resumed, *out;

	snprintf(cmd, sizeof cmd, "cd '%s' && '%s' --data "
		"'%s/examples/data/polyfit.csv' --epochs 20 --quiet", dir, bin,
		DLC_ROOT);
	assert_int_equal(run_cmd(cmd, &whole), 0);
	snprintf(cmd, sizeof cmd, "cd '%s' && '%s' --data "
		"'%s/examples/data/polyfit.csv' --epochs 8 --save c.ckpt --quiet "
		">/dev/null && '%s' --data '%s/examples/data/polyfit.csv' "
		"--epochs 20 --load c.ckpt --save c.ckpt --params-out p.json "
		"--quiet", dir, bin, DLC_ROOT, bin, DLC_ROOT);
	assert_int_equal(run_cmd(cmd, &resumed), 0);
	assert_string_equal(whole, resumed);
	snprintf(cmd, sizeof cmd, "cd '%s' && '%s' --params-in p.json "
		"--params-out q.json && cmp p.json q.json && grep -c k p.json",
		dir, bin);
	assert_int_equal(run_cmd(cmd, &out), 0);
	assert_string_equal(out, "6\n");
	free(out);
	free(whole);
	free(resumed);
}

/* At the initial parameters (all 0) the model's output is 0, so the
 * gradient of mean((yhat - y)^2) by k_j is mean(-2 y x^j). */
static void
test_grad_out(void **state)
{
	(void)state;
	const char *bin = polyfit_trainer(), *dir = scratch_dir("pf-grad");
	char cmd[6000], line[256], *out;
	double want[6] = { 0 }, got[6];
	int n = 0;
	FILE *f;

	snprintf(cmd, sizeof cmd, "%s/examples/data/polyfit.csv", DLC_ROOT);
	f = fopen(cmd, "r");
	assert_non_null(fgets(line, sizeof line, f));
	for (double x, y; fscanf(f, "%lf,%lf", &x, &y) == 2; n++)
		for (int j = 0; j < 6; j++)
			want[j] += -2 * y * pow(x, j);
	fclose(f);
	snprintf(cmd, sizeof cmd, "cd '%s' && '%s' --data "
		"'%s/examples/data/polyfit.csv' --grad-out g.json && tr -d "
		"'{}\\n' < g.json", dir, bin, DLC_ROOT);
	assert_int_equal(run_cmd(cmd, &out), 0);
	assert_int_equal(sscanf(out, " \"k0\": %lf, \"k1\": %lf, \"k2\": %lf, "
		"\"k3\": %lf, \"k4\": %lf, \"k5\": %lf", &got[0], &got[1],
		&got[2], &got[3], &got[4], &got[5]), 6);
	for (int j = 0; j < 6; j++)
		if (fabs(got[j] - want[j] / n) > 1e-5 * (1 + fabs(want[j] / n)))
			fail_msg("k%d: %g, expected %g", j, got[j], want[j] / n);
	free(out);
}

typedef struct BadData {
	const char *csv;
	const char *message;    /* after "error: FILE" */
} BadData;

static const BadData bad_data[] = {
	{ "x,y\n1,2\n3\n", ":3: expected 2 columns, got 1" },
	{ "x,y\n1,2\n3,abc\n", ":3: column 2: 'abc' is not a number" },
	{ "1,2\nnan,1\n", ":2: column 1: 'nan' is not a finite number" },
	{ "1,2\n3,-inf\n", ":2: column 2: '-inf' is not a finite number" },
	{ "x,y,z\n1,2\n", ":1: header: expected 2 columns, got 3" },
	{ "", ": empty file" },
	{ "\n\n", ": empty file" },
	{ "x,y\n", ": no data rows" },
	{ "x,y\n1,1e39\n", ":2: column 2: '1e39' is out of range for f32" },
};

static void
test_bad_data(void **state)
{
	(void)state;
	const char *bin = polyfit_trainer();
	const char *dir = scratch_dir("bad-data");

	for (size_t i = 0; i < sizeof bad_data / sizeof *bad_data; i++) {
		char path[1200], cmd[3000], want[1400], *out;
		snprintf(path, sizeof path, "%s/bad%zu.csv", dir, i);
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fputs(bad_data[i].csv, f);
		fclose(f);
		snprintf(cmd, sizeof cmd, "'%s' --data '%s' 2>&1", bin, path);
		assert_int_equal(run_cmd(cmd, &out), 1);
		snprintf(want, sizeof want, "error: %s%s\n", path,
			bad_data[i].message);
		assert_string_equal(out, want);
		free(out);
	}
}

static void
test_flags(void **state)
{
	(void)state;
	const char *bin = polyfit_trainer();
	char cmd[3000], *out;

	snprintf(cmd, sizeof cmd, "'%s' --help", bin);
	assert_int_equal(run_cmd(cmd, &out), 0);
	assert_non_null(strstr(out, "--epochs N           train until this many epochs are "
		"done (default 2000)"));
	free(out);
	snprintf(cmd, sizeof cmd, "'%s' 2>&1", bin);
	assert_int_equal(run_cmd(cmd, &out), 2);
	assert_non_null(strstr(out, "no training data"));
	free(out);
	snprintf(cmd, sizeof cmd, "'%s' --data x.csv --epochs 0 2>&1", bin);
	assert_int_equal(run_cmd(cmd, &out), 2);
	assert_string_equal(out, "error: --epochs needs a whole number from 1 "
		"to 1e+09\n");
	free(out);
}

/* Every number of a JSON file, in order: a parameter file's elements. */
long
json_numbers(const char *path, double *out, long max)
{
	char *text = NULL;
	long n = 0;
	char cmd[4200];

	snprintf(cmd, sizeof cmd, "cat '%s'", path);
	assert_int_equal(run_cmd(cmd, &text), 0);
	char prev = 0;

	for (char *p = text; *p && n < max; ) {
		char *end;
		if (strchr("-0123456789", *p) && prev && strchr(":[,", prev)) {
			out[n++] = strtod(p, &end);
			p = end;
			prev = '0';
		} else {
			if (!strchr(" \t\n", *p))
				prev = *p;
			p++;
		}
	}
	free(text);
	return n;
}

/*
 * The reference interpreter's forward values agree with a compiled f64
 * trainer's predictions on the real data rows, at trained parameters.
 */
static void
test_predict_matches_interpreter(void **state)
{
	(void)state;
	const char *dir = scratch_dir("predict-interp");
	const char *csv = DLC_ROOT "/examples/data/polyfit.csv";
	char cmd[4096], json[1200], *out;
	double p[16];

	snprintf(cmd, sizeof cmd, "cd '%s' && '%s/dlc' --precision=f64 "
		"'%s/examples/polyfit.dl' -o m && ./m --data '%s' --epochs 3 "
		"--quiet --params-out p.json >/dev/null && ./m --params-in "
		"p.json --predict '%s'", dir, DLC_BUILD, DLC_ROOT, csv, csv);
	if (run_cmd(cmd, &out) != 0)
		fail_msg("%s", out);
	snprintf(json, sizeof json, "%s/p.json", dir);
	assert_int_equal(json_numbers(json, p, 16), 6);

	Arena *arena = arena_new();
	Source *src = src_load(DLC_ROOT "/examples/polyfit.dl");
	Program *prog = parse_program(src, arena);
	assert_int_equal(check_program(prog), 0);
	IrModule *m = ir_lower(prog, "polyfit");
	RtData d;
	char err[256];
	assert_int_equal(rt_read_csv(csv, 1, 1, &d, err, sizeof err), 0);
	double *want = malloc(d.n * sizeof *want);
	IrBatch b = { p, d.inputs, d.targets, (int)d.n };
	ir_interp(m, &b, NULL, want);

	char *line = out;
	for (size_t i = 0; i < d.n; i++) {
		char *end;
		double got = strtod(line, &end);
		assert_true(end != line);
		if (fabs(got - want[i]) > 1e-12 * fmax(1, fabs(want[i])))
			fail_msg("row %zu: trainer %.17g, interpreter %.17g",
				i + 1, got, want[i]);
		line = end;
	}
	free(want);
	free(out);
	rt_data_free(&d);
	ir_module_free(m);
	src_free(src);
	arena_free(arena);
}

/* Mistakes on dlc's own command line that a newcomer made: each refused
 * with a message, nothing overwritten, nothing crashed. */
static void
test_command_line_mistakes(void **state)
{
	(void)state;
	const char *dir = scratch_dir("cli-mistakes");
	char cmd[4096], *out;

	snprintf(cmd, sizeof cmd, "cd '%s' && cp '%s/examples/polyfit.dl' m.dl"
		" && '%s/dlc' m.dl -o m.dl 2>&1; cmp -s m.dl '%s/examples/"
		"polyfit.dl' && echo intact", dir, DLC_ROOT, DLC_BUILD, DLC_ROOT);
	run_cmd(cmd, &out);
	assert_non_null(strstr(out, "-o m.dl would overwrite the model"));
	assert_non_null(strstr(out, "intact"));
	free(out);
	snprintf(cmd, sizeof cmd, "'%s/dlc' '%s' 2>&1", DLC_BUILD, dir);
	assert_int_equal(run_cmd(cmd, &out), 2);
	assert_non_null(strstr(out, "Is a directory"));
	free(out);
	snprintf(cmd, sizeof cmd, "cd '%s' && '%s/dlc' m.dl -o . 2>&1", dir,
		DLC_BUILD);
	assert_int_equal(run_cmd(cmd, &out), 2);
	assert_non_null(strstr(out, "-o . is a directory"));
	free(out);
	snprintf(cmd, sizeof cmd, "cd '%s' && '%s/dlc' --target=aarch64-linux-gnu"
		" m.dl -o t 2>&1", dir, DLC_BUILD);
	assert_int_equal(run_cmd(cmd, &out), 2);
	assert_non_null(strstr(out, "--target is for --emit=llvm"));
	free(out);
}

/* Resuming a run that is already past --epochs says so. */
static void
test_resume_past_the_end(void **state)
{
	(void)state;
	const char *bin = polyfit_trainer();
	char cmd[4096], *out;

	snprintf(cmd, sizeof cmd, "cd '%s/..' && '%s' --data '%s/examples/"
		"data/polyfit.csv' --epochs 4 --quiet --save past.ckpt >/dev/null "
		"&& '%s' --data '%s/examples/data/polyfit.csv' --load past.ckpt "
		"--epochs 2 2>&1", bin, bin, DLC_ROOT, bin, DLC_ROOT);
	assert_int_equal(run_cmd(cmd, &out), 0);
	assert_non_null(strstr(out, "note: the loaded state is at epoch 4 and "
		"--epochs is 2: nothing left to train"));
	free(out);
}

TestList
trainer_tests(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_polyfit_trains),
		cmocka_unit_test(test_command_line_mistakes),
		cmocka_unit_test(test_resume_past_the_end),
		cmocka_unit_test(test_predict_matches_interpreter),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_resume_and_json),
		cmocka_unit_test(test_grad_out),
		cmocka_unit_test(test_bad_data),
		cmocka_unit_test(test_flags),
	};
	return (TestList){ tests, sizeof tests / sizeof tests[0] };
}
