/*
 * main.c - the command line of a trainer binary: flags, whose defaults come
 * from the model's train clause, then load, train, report.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dlrt.h"

static void
usage(const RtModel *m, FILE *f)
{
	fprintf(f,
"usage: %s --data FILE [options]\n"
"\n"
"Trains the model '%s' on FILE, a CSV of %d input and %d target columns\n"
"per row (a header line is allowed), and prints the trained parameters.\n"
"\n"
"  --data FILE     training examples (required)\n"
"  --epochs N      passes over the data (default %ld)\n"
"  --lr X          learning rate (default %g)\n"
"  --batch B       examples per step (default %ld)\n"
"  --seed S        shuffling seed (default %llu)\n"
"  --log FILE      write epoch,loss rows as CSV\n"
"  --quiet         print only the trained parameters\n"
"  --help          this text\n",
		m->name, m->name, m->ninputs, m->ntargets, m->epochs, m->lr,
		m->batch, m->seed);
}

/* A number flag's value, or exit 2 with a message naming the flag. */
static double
number(const char *flag, const char *s, double lo, double hi, int whole)
{
	char *end;
	double v;

	errno = 0;
	v = s ? strtod(s, &end) : 0;
	if (!s || *end || end == s || errno || v < lo || v > hi ||
	    (whole && v != (double)(long long)v)) {
		fprintf(stderr, "error: %s needs a %s from %g to %g\n", flag,
			whole ? "whole number" : "number", lo, hi);
		exit(2);
	}
	return v;
}

static void
parse_flags(const RtModel *m, RtConfig *c, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(f, "--help") == 0 || strcmp(f, "-h") == 0) {
			usage(m, stdout);
			exit(0);
		} else if (strcmp(f, "--quiet") == 0) {
			c->quiet = 1;
			continue;
		} else if (!v) {
			fprintf(stderr, "error: unknown flag or missing value: "
				"%s (see --help)\n", f);
			exit(2);
		} else if (strcmp(f, "--data") == 0) {
			c->data_path = v;
		} else if (strcmp(f, "--log") == 0) {
			c->log_path = v;
		} else if (strcmp(f, "--epochs") == 0) {
			c->epochs = (long)number(f, v, 1, 1e9, 1);
		} else if (strcmp(f, "--batch") == 0) {
			c->batch = (long)number(f, v, 1, 1e7, 1);
		} else if (strcmp(f, "--lr") == 0) {
			c->lr = number(f, v, 1e-30, 1e30, 0);
		} else if (strcmp(f, "--seed") == 0) {
			c->seed = (uint64_t)number(f, v, 0, 9007199254740992.0, 1);
		} else {
			fprintf(stderr, "error: unknown flag %s (see --help)\n",
				f);
			exit(2);
		}
		i++;
	}
}

static void
print_params(const RtModel *m, const rt_real *p)
{
	for (int i = 0; i < m->nparams; i++)
		printf("%s = %.9g\n", m->param_names[i], (double)p[i]);
}

int
rt_main(const RtModel *m, int argc, char **argv)
{
	RtConfig c = { .epochs = m->epochs, .batch = m->batch, .lr = m->lr,
	               .momentum = m->momentum, .seed = m->seed };
	RtData d;
	FILE *log = NULL;
	char err[512];

	parse_flags(m, &c, argc, argv);
	if (!c.data_path) {
		fprintf(stderr, "error: no training data; give --data FILE "
			"(see --help)\n");
		return 2;
	}
	if (rt_read_csv(c.data_path, m->ninputs, m->ntargets, &d, err,
	    sizeof err)) {
		fprintf(stderr, "error: %s\n", err);
		return 1;
	}
	if (c.log_path && !(log = fopen(c.log_path, "w"))) {
		fprintf(stderr, "error: cannot write %s: %s\n", c.log_path,
			strerror(errno));
		rt_data_free(&d);
		return 1;
	}

	rt_real *params = calloc((size_t)m->nparams + 1, sizeof *params);
	m->init(params, c.seed);
	int status = rt_train(m, &c, &d, params, log);
	if (status == 0)
		print_params(m, params);
	if (log && fclose(log) != 0) {
		fprintf(stderr, "error: writing %s failed\n", c.log_path);
		status = 1;
	}
	free(params);
	rt_data_free(&d);
	return status;
}
