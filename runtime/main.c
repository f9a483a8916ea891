/*
 * main.c - the command line of a trainer binary: flags, whose defaults come
 * from the model's train clause, then load, train, save, report.
 *
 * Exit status: 0 success, 1 a problem with a file or with training (a
 * message says which), 2 a bad command line, 130 interrupted by SIGINT
 * (after saving when --save is given).
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "dlrt.h"

#ifdef DLRT_F64
#define DIGITS 17
#else
#define DIGITS 9
#endif

/* ---- flags: one table drives parsing and --help ---- */

typedef enum FlagKind {
	F_PATH, F_REAL, F_LONG, F_SEED, F_ON, F_OPT, F_SCHED, F_THREADS,
	F_HELP
} FlagKind;

typedef struct Flag {
	const char *name, *arg;
	FlagKind kind;
	size_t off;             /* the field of RtConfig */
	double lo, hi;          /* numbers: the accepted range */
	const char *help;
} Flag;

#define AT(field) offsetof(RtConfig, field)

static const Flag flags[] = {
	{ "--data", "FILE", F_PATH, AT(data_path), 0, 0,
	  "training examples: CSV, or inputs as .npy or IDX" },
	{ "--targets", "FILE", F_PATH, AT(targets_path), 0, 0,
	  "targets as .npy or IDX, with such --data" },
	{ "--val", "FILE", F_PATH, AT(val_path), 0, 0,
	  "validation examples (CSV or .npy)" },
	{ "--val-targets", "FILE", F_PATH, AT(val_targets_path), 0, 0,
	  "validation targets as .npy" },
	{ "--val-split", "X", F_REAL, AT(val_split), 0, 0.99,
	  "hold out this fraction of --data to validate" },
	{ "--standardize", NULL, F_ON, AT(standardize), 0, 0,
	  "scale inputs by training-set mean and std" },
	{ "--optimizer", "NAME", F_OPT, AT(optim.kind), 0, 0,
	  "sgd, adam or adamw" },
	{ "--lr", "X", F_REAL, AT(optim.lr), 1e-30, 1e30, "learning rate" },
	{ "--momentum", "X", F_REAL, AT(optim.momentum), 0, 0.999999,
	  "sgd momentum" },
	{ "--nesterov", NULL, F_ON, AT(optim.nesterov), 0, 0,
	  "sgd with Nesterov momentum" },
	{ "--beta1", "X", F_REAL, AT(optim.beta1), 0, 0.999999,
	  "adam(w) first-moment decay" },
	{ "--beta2", "X", F_REAL, AT(optim.beta2), 0, 0.999999999,
	  "adam(w) second-moment decay" },
	{ "--eps", "X", F_REAL, AT(optim.eps), 0, 1, "adam(w) epsilon" },
	{ "--weight-decay", "X", F_REAL, AT(optim.weight_decay), 0, 1e6,
	  "L2 (sgd, adam) or decoupled (adamw) decay" },
	{ "--epochs", "N", F_LONG, AT(epochs), 1, 1e9,
	  "train until this many epochs are done" },
	{ "--batch", "B", F_LONG, AT(batch), 1, 1e7, "examples per step" },
	{ "--threads", "N", F_THREADS, AT(threads), 0, RT_MAX_THREADS,
	  "threads per batch; 0 or all: every core" },
	{ "--seed", "S", F_SEED, AT(seed), 0, 9007199254740992.0,
	  "seed of the initial values, shuffle and split" },
	{ "--schedule", "NAME", F_SCHED, AT(schedule), 0, 0,
	  "constant, step or cosine" },
	{ "--step-size", "N", F_LONG, AT(step_size), 1, 1e9,
	  "step schedule: epochs between decays" },
	{ "--gamma", "X", F_REAL, AT(gamma), 0, 1,
	  "step schedule: decay factor" },
	{ "--clip", "X", F_REAL, AT(clip), 0, 1e30,
	  "clip the gradient's global norm to X (0: off)" },
	{ "--patience", "N", F_LONG, AT(patience), 0, 1e9,
	  "stop after N epochs without a better val loss" },
	{ "--save", "FILE", F_PATH, AT(save_path), 0, 0,
	  "checkpoint after every epoch and at the end" },
	{ "--load", "FILE", F_PATH, AT(load_path), 0, 0,
	  "resume from a checkpoint" },
	{ "--params-in", "FILE", F_PATH, AT(params_in), 0, 0,
	  "set the parameters from JSON" },
	{ "--params-out", "FILE", F_PATH, AT(params_out), 0, 0,
	  "write the parameters as JSON" },
	{ "--grad-out", "FILE", F_PATH, AT(grad_out), 0, 0,
	  "write the mean-loss gradient over --data; no training" },
	{ "--eval", "FILE", F_PATH, AT(eval_path), 0, 0,
	  "print loss and metrics on FILE" },
	{ "--eval-targets", "FILE", F_PATH, AT(eval_targets_path), 0, 0,
	  "targets of --eval, with .npy or IDX inputs" },
	{ "--predict", "FILE", F_PATH, AT(predict_path), 0, 0,
	  "write the output for each row of FILE as CSV" },
	{ "--out", "FILE", F_PATH, AT(out_path), 0, 0,
	  "where --predict writes (default: stdout)" },
	{ "--log", "FILE", F_PATH, AT(log_path), 0, 0,
	  "CSV: epoch,train_loss,val_loss,metric,seconds" },
	{ "--plot", "FILE", F_PATH, AT(plot_path), 0, 0,
	  "SVG of train and validation loss per epoch" },
	{ "--every", "N", F_LONG, AT(every), 1, 1e9,
	  "print a summary line every N epochs" },
	{ "--quiet", NULL, F_ON, AT(quiet), 0, 0,
	  "no progress or summaries" },
	{ "--help", NULL, F_HELP, 0, 0, 0, "this text" },
};

enum { NFLAGS = sizeof flags / sizeof flags[0] };

static const char *const sched_names[] = { "constant", "step", "cosine" };

static RtConfig
defaults(const RtModel *m)
{
	RtConfig c = { .optim = m->optim, .epochs = m->epochs,
	               .batch = m->batch, .seed = m->seed, .threads = 1,
	               .schedule = RT_CONSTANT, .step_size = 10,
	               .gamma = 0.1 };

	/* about twenty summary lines a run, and every line of a short one */
	c.every = m->epochs >= 40 ? m->epochs / 20 : 1;
	return c;
}

/* The default of a flag as text; "" when it has none worth showing. */
static void
default_text(const Flag *f, const RtConfig *c, char *buf, size_t n)
{
	const char *p = (const char *)c + f->off;

	buf[0] = '\0';
	if (f->kind == F_REAL)
		snprintf(buf, n, "%g", *(const double *)(const void *)p);
	else if (f->kind == F_LONG || f->kind == F_THREADS)
		snprintf(buf, n, "%ld", *(const long *)(const void *)p);
	else if (f->kind == F_SEED)
		snprintf(buf, n, "%llu", (unsigned long long)
			*(const uint64_t *)(const void *)p);
	else if (f->kind == F_OPT)
		snprintf(buf, n, "%s", rt_optim_name(c->optim.kind));
	else if (f->kind == F_SCHED)
		snprintf(buf, n, "%s", sched_names[c->schedule]);
	else if (f->kind == F_ON && *(const int *)(const void *)p)
		snprintf(buf, n, "on");
}

static void
usage(const RtModel *m, FILE *f)
{
	RtConfig c = defaults(m);
	char left[64], def[64];

	fprintf(f,
"usage: %s [--data FILE] [options]\n"
"\n"
"Trains the model '%s'.  A CSV row holds the %d input columns and then the\n"
"%d target columns of one example; a header line is allowed.  After\n"
"training the parameters are printed, unless --eval or --predict print.\n"
"\n", m->name, m->name, m->ninputs, rt_target_cols(m));
	for (int i = 0; i < NFLAGS; i++) {
		const Flag *fl = &flags[i];
		snprintf(left, sizeof left, "%s%s%s", fl->name,
			fl->arg ? " " : "", fl->arg ? fl->arg : "");
		default_text(fl, &c, def, sizeof def);
		fprintf(f, "  %-20s %s", left, fl->help);
		if (def[0])
			fprintf(f, " (default %s)", def);
		fputc('\n', f);
	}
}

static void
bad_value(const Flag *f)
{
	if (f->kind == F_OPT)
		fprintf(stderr, "error: %s needs sgd, adam or adamw\n",
			f->name);
	else if (f->kind == F_SCHED)
		fprintf(stderr, "error: %s needs constant, step or cosine\n",
			f->name);
	else if (f->kind == F_THREADS)
		fprintf(stderr, "error: %s needs a whole number from 1 to %g, "
			"or 0 or all for every core\n", f->name, f->hi);
	else
		fprintf(stderr, "error: %s needs a %s from %g to %g\n", f->name,
			f->kind == F_REAL ? "number" : "whole number", f->lo,
			f->hi);
	exit(2);
}

static double
number(const Flag *f, const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (*end || end == s || errno || !(v >= f->lo && v <= f->hi) ||
	    (f->kind != F_REAL && v != floor(v)))
		bad_value(f);
	return v;
}

static void
set_flag(const RtModel *m, const Flag *f, RtConfig *c, const char *v)
{
	void *p = (char *)c + f->off;

	switch (f->kind) {
	case F_PATH: *(const char **)p = v; break;
	case F_REAL: *(double *)p = number(f, v); break;
	case F_LONG: *(long *)p = (long)number(f, v); break;
	case F_SEED: *(uint64_t *)p = (uint64_t)number(f, v); break;
	case F_ON: *(int *)p = 1; break;
	case F_OPT:
		if (rt_optim_parse(v, &c->optim.kind))
			bad_value(f);
		c->optimizer_given = 1;
		break;
	case F_SCHED:
		for (int i = 0; i < 3; i++)
			if (strcmp(v, sched_names[i]) == 0) {
				c->schedule = (RtSchedule)i;
				return;
			}
		bad_value(f);
		break;
	case F_THREADS:
		*(long *)p = strcmp(v, "all") ? (long)number(f, v) : 0;
		if (*(long *)p == 0)
			*(long *)p = rt_cores();
		break;
	case F_HELP:
		usage(m, stdout);
		exit(0);
	}
}

static void
parse_flags(const RtModel *m, RtConfig *c, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const Flag *f = NULL;
		for (int k = 0; k < NFLAGS && !f; k++)
			if (strcmp(argv[i], flags[k].name) == 0)
				f = &flags[k];
		if (!f && strcmp(argv[i], "-h") == 0)
			f = &flags[NFLAGS - 1];
		if (!f) {
			fprintf(stderr, "error: unknown flag %s (see --help)\n",
				argv[i]);
			exit(2);
		}
		int takes = f->arg != NULL;
		if (takes && i + 1 >= argc) {
			fprintf(stderr, "error: %s needs a value (%s)\n",
				f->name, f->arg);
			exit(2);
		}
		set_flag(m, f, c, takes ? argv[i + 1] : NULL);
		i += takes;
	}
}

static void
usage_error(const char *msg)
{
	fprintf(stderr, "error: %s (see --help)\n", msg);
	exit(2);
}

/* Combinations that cannot mean anything are refused before any work. */
static void
check_flags(const RtModel *m, const RtConfig *c)
{
	int has_params = c->load_path || c->params_in;

	if (!c->data_path && !((c->predict_path || c->eval_path ||
	    c->params_out) && has_params))
		usage_error("no training data; give --data FILE");
	if (c->val_path && c->val_split > 0)
		usage_error("--val and --val-split exclude each other");
	if (c->patience > 0 && !c->val_path && !(c->val_split > 0))
		usage_error("--patience needs validation data: --val FILE or "
			"--val-split X");
	if (c->out_path && !c->predict_path)
		usage_error("--out goes with --predict");
	if (c->eval_targets_path && !c->eval_path)
		usage_error("--eval-targets goes with --eval");
	if (c->grad_out && !c->data_path)
		usage_error("--grad-out needs --data");
	if (c->predict_path && m->noutputs == 0)
		usage_error("this model declares no output to predict");
}

/* ---- the steps of a run ---- */

typedef struct Run {
	const RtModel *m;
	RtConfig c;
	RtState s;
	RtData train, val, eval, pred;
	FILE *log;
	RtHistory h;
	char err[1024];
} Run;

static void
run_free(Run *r)
{
	rt_state_free(&r->s);
	rt_data_free(&r->train);
	rt_data_free(&r->val);
	rt_data_free(&r->eval);
	rt_data_free(&r->pred);
	rt_history_free(&r->h);
	if (r->log)
		fclose(r->log);
}

static int
report(Run *r)
{
	fprintf(stderr, "error: %s\n", r->err);
	return 1;
}

/* Initial values, then a checkpoint or JSON over them. */
static int
start_state(Run *r)
{
	if (rt_state_init(&r->s, r->m)) {
		snprintf(r->err, sizeof r->err, "out of memory for %zu "
			"parameters", r->m->nparams);
		return -1;
	}
	r->m->init(r->s.params, r->c.seed);
	r->s.epoch_rng = r->c.seed;
	r->s.opt = r->c.optim.kind;
	if (r->c.load_path && rt_ckpt_load(r->c.load_path, r->m, &r->s,
	    r->err, sizeof r->err))
		return -1;
	if (r->c.load_path && !r->c.optimizer_given)
		r->c.optim.kind = r->s.opt;
	if (r->s.opt != r->c.optim.kind) {
		/* another optimiser's moments mean nothing to this one */
		if (r->c.data_path)
			fprintf(stderr, "note: the checkpoint's %s state is dropped; "
			"%s starts afresh\n", rt_optim_name(r->s.opt),
			rt_optim_name(r->c.optim.kind));
		memset(r->s.buf1, 0, r->s.nparams * sizeof *r->s.buf1);
		memset(r->s.buf2, 0, r->s.nparams * sizeof *r->s.buf2);
		r->s.step = 0;
		r->s.opt = r->c.optim.kind;
	}
	if (r->c.params_in && rt_json_read(r->c.params_in, r->m, r->s.params,
	    r->err, sizeof r->err))
		return -1;
	return 0;
}

static int
load_data(Run *r)
{
	const RtConfig *c = &r->c;
	const RtModel *m = r->m;
	RtData all;

	if (c->data_path && rt_read_data(m, c->data_path, c->targets_path, 1,
	    c->val_split > 0 && !c->grad_out ? &all : &r->train, r->err,
	    sizeof r->err))
		return -1;
	if (c->data_path && c->val_split > 0 && !c->grad_out) {
		size_t n = all.n;
		int status = rt_data_split(&all, c->val_split, c->seed,
			&r->train, &r->val);
		rt_data_free(&all);
		if (status) {
			snprintf(r->err, sizeof r->err, "%s: --val-split %g of "
				"%zu examples leaves no training or no "
				"validation data", c->data_path, c->val_split,
				n);
			return -1;
		}
	}
	if (c->val_path && rt_read_data(m, c->val_path, c->val_targets_path,
	    1, &r->val, r->err, sizeof r->err))
		return -1;
	if (c->eval_path && rt_read_data(m, c->eval_path, c->eval_targets_path,
	    1, &r->eval, r->err, sizeof r->err))
		return -1;
	if (c->predict_path && rt_read_data(m, c->predict_path, NULL, 0,
	    &r->pred, r->err, sizeof r->err))
		return -1;
	return 0;
}

/* Learned on the training rows only, so validation stays unseen; a
 * loaded checkpoint's statistics win, so resuming sees the same inputs. */
static void
standardize(Run *r)
{
	if (r->s.scaler.ncols == 0 && r->c.standardize && r->train.n > 0)
		rt_scaler_fit(&r->s.scaler, &r->train);
	rt_scaler_apply(&r->s.scaler, &r->train);
	rt_scaler_apply(&r->s.scaler, &r->val);
	rt_scaler_apply(&r->s.scaler, &r->eval);
	rt_scaler_apply(&r->s.scaler, &r->pred);
}

static int
grad_out(Run *r)
{
	rt_real *g = calloc(r->m->nparams + 1, sizeof *g);
	int status;

	if (!g) {
		snprintf(r->err, sizeof r->err, "out of memory");
		return -1;
	}
	status = rt_full_grad(r->m, &r->train, (size_t)r->c.batch,
		(int)r->c.threads, r->s.params, g, r->err, sizeof r->err);
	if (!status)
		status = rt_json_write(r->c.grad_out, r->m, g, r->err,
			sizeof r->err);
	free(g);
	return status;
}

static void
on_sigint(int sig)
{
	(void)sig;
	rt_interrupted = 1;
}

/* A second ^C kills at once: the handler resets itself. */
static void
catch_sigint(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigint;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
}

static int
save(Run *r)
{
	if (r->c.save_path && rt_ckpt_save(r->c.save_path, r->m, &r->s,
	    r->err, sizeof r->err))
		return report(r);
	return 0;
}

/* Training and what its ending calls for; 0 to go on to the reports. */
static int
train(Run *r)
{
	if (r->c.log_path) {
		if (!(r->log = fopen(r->c.log_path, "w"))) {
			snprintf(r->err, sizeof r->err, "cannot write %s: %s",
				r->c.log_path, strerror(errno));
			return report(r);
		}
		fprintf(r->log, "epoch,train_loss,val_loss,metric,seconds\n");
	}
	catch_sigint();
	RtStop stop = rt_train(r->m, &r->c, &r->train,
		r->val.n ? &r->val : NULL, &r->s, r->log, &r->h);
	signal(SIGINT, SIG_DFL);
	if (stop == RT_NONFINITE) {
		if (r->c.save_path && r->s.epoch > 0)
			fprintf(stderr, "the last good checkpoint, %s, holds "
				"epoch %ld\n", r->c.save_path, r->s.epoch);
		return 1;
	}
	if (stop == RT_FAILED)
		return 1;
	if (save(r))
		return 1;
	if (stop == RT_INTERRUPTED) {
		fprintf(stderr, "interrupted in epoch %ld after %zu of %zu "
			"examples; %s%s\n", r->s.epoch + 1, r->s.pos,
			r->train.n, r->c.save_path ? "saved " : "nothing saved "
			"(give --save FILE to keep progress)", r->c.save_path ?
			r->c.save_path : "");
		return 130;
	}
	return 0;
}

static int
predict(Run *r)
{
	const RtModel *m = r->m;
	size_t chunk = (size_t)r->c.batch, no = (size_t)m->noutputs;
	FILE *f = r->c.out_path ? fopen(r->c.out_path, "w") : stdout;
	void *ws = malloc(m->workspace_size(chunk) + 1);
	rt_real *out = malloc(chunk * no * sizeof *out + 1);
	int status = 0;

	if (!f || !ws || !out) {
		snprintf(r->err, sizeof r->err, "cannot write %s: %s",
			r->c.out_path ? r->c.out_path : "stdout",
			strerror(errno));
		status = -1;
	}
	for (size_t first = 0; !status && first < r->pred.n; first += chunk) {
		size_t len = r->pred.n - first < chunk ? r->pred.n - first :
			chunk;
		m->predict(r->s.params, r->pred.inputs + first *
			(size_t)m->ninputs, len, out, ws);
		for (size_t b = 0; b < len * no; b++)
			fprintf(f, "%.*g%c", DIGITS, (double)out[b],
				(b + 1) % no ? ',' : '\n');
	}
	if (f && f != stdout && fclose(f) != 0 && !status) {
		snprintf(r->err, sizeof r->err, "writing %s failed",
			r->c.out_path);
		status = -1;
	}
	free(ws);
	free(out);
	return status;
}

static int
evaluate(Run *r)
{
	RtEval e;

	if (rt_eval_init(&e, r->m, (size_t)r->c.batch)) {
		snprintf(r->err, sizeof r->err, "out of memory");
		return -1;
	}
	rt_evaluate(&e, r->s.params, &r->eval);
	rt_metrics_print(&e.r, stdout);
	rt_eval_free(&e);
	return 0;
}

static void
print_params(const RtModel *m, const rt_real *p)
{
	char name[256];

	if (m->nparams > 100) {
		printf("%zu parameters; write them with --params-out FILE\n",
			m->nparams);
		return;
	}
	for (size_t i = 0; i < m->nparams; i++) {
		rt_element_name(m, i, name, sizeof name);
		printf("%s = %.*g\n", name, DIGITS, (double)p[i]);
	}
}

/* What the run leaves behind after training. */
static int
outputs(Run *r, int trained)
{
	if (r->c.plot_path && r->h.n > 0 && rt_plot_svg(r->c.plot_path,
	    r->m->name, r->h.train, r->val.n ? r->h.val : NULL, r->h.n,
	    r->h.first, r->err, sizeof r->err))
		return -1;
	if (r->c.params_out && rt_json_write(r->c.params_out, r->m,
	    r->s.params, r->err, sizeof r->err))
		return -1;
	if (r->c.eval_path && evaluate(r))
		return -1;
	if (r->c.predict_path && predict(r))
		return -1;
	/* the parameters are the result, unless another output is, or a
	 * large model's were just written with --params-out */
	if (trained && !r->c.eval_path && !(r->c.predict_path &&
	    !r->c.out_path) && !(r->c.params_out && r->m->nparams > 100))
		print_params(r->m, r->s.params);
	return 0;
}

int
rt_main(const RtModel *m, int argc, char **argv)
{
	Run r = { .m = m, .c = defaults(m) };
	int status = 0;

	parse_flags(m, &r.c, argc, argv);
	check_flags(m, &r.c);
	if (start_state(&r) || load_data(&r)) {
		status = report(&r);
		goto out;
	}
	standardize(&r);
	if (r.c.grad_out) {
		status = grad_out(&r) ? report(&r) : 0;
		goto out;
	}
	if (r.train.n > 0 && (status = train(&r)) != 0)
		goto out;
	if (outputs(&r, r.train.n > 0))
		status = report(&r);
	if (r.log && fclose(r.log) != 0 && status == 0) {
		fprintf(stderr, "error: writing %s failed\n", r.c.log_path);
		status = 1;
	}
	r.log = NULL;
out:
	run_free(&r);
	return status;
}
