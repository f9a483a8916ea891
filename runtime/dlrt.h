/*
 * dlrt.h - the trainer runtime: data loading, optimisers, the training
 * loop, checkpoints, metrics, progress, plots and the command line of a
 * trainer binary.
 *
 * The runtime knows a model only through an RtModel descriptor, which
 * dlc generates beside the model's C code (NAME_model.c).  The library is
 * built once per precision: define DLRT_F64 for double.  The runtime owns
 * every buffer it allocates and frees it; nothing allocates per step.
 */
#ifndef DLRT_H
#define DLRT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef DLRT_F64
typedef double rt_real;
#else
typedef float rt_real;
#endif

/* ---- the model descriptor, filled by the generated glue ---- */

#define RT_MAX_RANK 4

/* One declared parameter: a tensor stored row-major inside the model's
 * flat parameter array. */
typedef struct RtParam {
	const char *name;       /* as declared in the .dl file */
	int rank;               /* 0 for a scalar */
	int shape[RT_MAX_RANK]; /* the first `rank` extents */
	size_t offset;          /* index of element 0 in the flat array */
	size_t size;            /* element count, the product of shape */
} RtParam;

/* One declared target.  A real target takes `cols` columns of the data
 * (its flattened shape); a class(K) target takes one column holding an
 * integer label 0..K-1. */
typedef struct RtTarget {
	const char *name;
	int cols;               /* columns in the data */
	int classes;            /* K for class(K), 0 for a real target */
} RtTarget;

typedef enum RtOptKind { RT_SGD, RT_ADAM, RT_ADAMW } RtOptKind;

/* The optimiser, as PyTorch defines it (see optim.c for the formulas). */
typedef struct RtOptim {
	RtOptKind kind;
	double lr;              /* learning rate */
	double momentum;        /* sgd: momentum factor, 0 for plain sgd */
	int nesterov;           /* sgd: Nesterov momentum when nonzero */
	double beta1, beta2;    /* adam, adamw: moment decay rates */
	double eps;             /* adam, adamw: added to the denominator */
	double weight_decay;    /* sgd, adam: L2 term added to the gradient;
	                           adamw: decoupled decay of the parameters */
} RtOptim;

/* What the runtime can call.  Every function takes a workspace of
 * workspace_size(n) bytes for n examples; inputs are n rows of ninputs,
 * targets n rows of rt_target_cols(), outputs n rows of noutputs. */
typedef struct RtModel {
	const char *name;       /* the model's name, for messages */
	uint64_t hash;          /* identifies the model's interface: parameter
	                           names and shapes, input and target columns;
	                           a checkpoint must carry the same */
	size_t nparams;         /* elements of the flat parameter array */
	int nparam_table;       /* declared parameters ... */
	const RtParam *param_table; /* ... in declaration order */
	int ninputs;            /* input columns: all inputs, flattened */
	int ntargets;           /* declared targets ... */
	const RtTarget *targets; /* ... in declaration order */
	int noutputs;           /* output values per example, 0 for none */

	RtOptim optim;          /* the train clause's optimiser */
	long epochs, batch;     /* the train clause's defaults */
	uint64_t seed;

	size_t (*workspace_size)(size_t n);
	void (*init)(rt_real *params, uint64_t seed);
	rt_real (*loss)(const rt_real *params, const rt_real *inputs,
		const rt_real *targets, size_t n, void *workspace);
	rt_real (*loss_grad)(const rt_real *params, rt_real *grad,
		const rt_real *inputs, const rt_real *targets, size_t n,
		void *workspace);
	void (*predict)(const rt_real *params, const rt_real *inputs,
		size_t n, rt_real *out, void *workspace);
} RtModel;

/* model.c: questions about a descriptor. */
int rt_target_cols(const RtModel *m);
int *rt_target_classes(const RtModel *m);  /* per target column, 0: real */

/* "path: message" into err; returns -1, for the loaders to return. */
int rt_file_error(char *err, size_t errlen, const char *path,
	const char *fmt, ...) __attribute__((format(printf, 4, 5)));

int rt_class_target(const RtModel *m);   /* K, or 0 unless one class target */
const char *rt_optim_name(RtOptKind k);
int rt_optim_parse(const char *name, RtOptKind *k);
/* "w[1][2]" for element i of the flat array. */
void rt_element_name(const RtModel *m, size_t i, char *buf, size_t n);

/* ---- data: data.c (CSV), npy.c (NumPy), idx.c (IDX), table.c ---- */

/* A table of examples, inputs and targets split apart. */
typedef struct RtData {
	size_t n;               /* examples */
	int ninputs, ntargets;  /* columns of each; ntargets may be 0 */
	rt_real *inputs;        /* n rows of ninputs */
	rt_real *targets;       /* n rows of ntargets */
} RtData;

/* A binary loader's targets: checks a rows x cols table from `path`
 * against the model and d's inputs, then lets copy() convert it into
 * d->targets, classes[c] being K for a class(K) column, else 0. */
typedef int (*RtCopyOut)(const void *table, rt_real *dst,
	const int *classes, char *err, size_t errlen);
int rt_load_targets(const RtModel *m, const char *path, size_t rows,
	size_t cols, RtCopyOut copy, const void *table, RtData *d, char *err,
	size_t errlen);

/* Reads the inputs and targets of m from CSV.  When want_targets is 0
 * (prediction) a row may hold the inputs alone or the inputs and targets.
 * On error returns -1 with "path:line: message" in err. */
int rt_read_model_csv(const RtModel *m, const char *path, int want_targets,
	RtData *d, char *err, size_t errlen);
/* The same for plain real columns, without a descriptor. */
int rt_read_csv(const char *path, int ninputs, int ntargets, RtData *d,
	char *err, size_t errlen);
/* Reads inputs from one .npy file and targets from another (ypath may be
 * NULL when want_targets is 0). */
int rt_read_npy(const RtModel *m, const char *xpath, const char *ypath,
	RtData *d, char *err, size_t errlen);
/* Reads inputs from an IDX file and targets from another (ypath may be
 * NULL when want_targets is 0), each possibly gzip-compressed (idx.c). */
int rt_read_idx(const RtModel *m, const char *xpath, const char *ypath,
	RtData *d, char *err, size_t errlen);
/* 1 when the file begins as an IDX or a gzip file does. */
int rt_is_idx(const char *path);
/* Any of the above: .npy and .csv by the name's extension, IDX by the
 * file's first bytes, CSV otherwise. */
int rt_read_data(const RtModel *m, const char *path, const char *targets,
	int want_targets, RtData *d, char *err, size_t errlen);
void rt_data_free(RtData *d);
/* A whole file, NUL-terminated, in a malloc'd buffer; NULL and errno on
 * failure. */
char *rt_slurp(const char *path, size_t *len);
/* Moves a seeded `frac` of d's rows into val, the rest into train. */
int rt_data_split(const RtData *d, double frac, uint64_t seed,
	RtData *train, RtData *val);

/* Per-column standardisation of the inputs: x' = (x - mean) / std. */
typedef struct RtScaler {
	int ncols;              /* 0 when off */
	double *mean, *std;
} RtScaler;

void rt_scaler_fit(RtScaler *s, const RtData *d);
void rt_scaler_apply(const RtScaler *s, RtData *d);
void rt_scaler_free(RtScaler *s);

/* ---- inflate.c ---- */

/* Decompresses a gzip file's bytes (every member, checked against its
 * CRC-32 and length) into a malloc'd *out; on failure -1 with a reason
 * in *why. */
int rt_gunzip(const unsigned char *in, size_t len, unsigned char **out,
	size_t *outlen, const char **why);

/* ---- rng.c: the one seeded generator, so runs repeat exactly ---- */

typedef struct RtRng {
	uint64_t state;
} RtRng;

void rt_rng_seed(RtRng *r, uint64_t seed);
uint64_t rt_rng_next(RtRng *r);
size_t rt_rng_below(RtRng *r, size_t n);

/* ---- the training state, which a checkpoint holds ---- */

typedef struct RtState {
	size_t nparams;
	rt_real *params;
	RtOptKind opt;          /* the kind buf1 and buf2 belong to */
	rt_real *buf1, *buf2;   /* sgd: momentum; adam(w): the two moments */
	uint64_t step;          /* optimiser steps taken */
	long epoch;             /* epochs completed */
	size_t pos;             /* examples done in the unfinished epoch */
	uint64_t epoch_rng;     /* the shuffle generator at its start */
	double epoch_loss;      /* sum of batch loss * batch size so far */
	double best_val;        /* early stopping: best validation loss ... */
	long best_epoch;        /* ... and when; 0 before any */
	rt_real *best;          /* parameters at best_epoch */
	RtScaler scaler;
} RtState;

int rt_state_init(RtState *s, const RtModel *m);
void rt_state_free(RtState *s);

/* ---- optim.c: optimiser steps, schedules and clipping ---- */

typedef enum RtSchedule { RT_CONSTANT, RT_STEP, RT_COSINE } RtSchedule;

void rt_optim_step(const RtOptim *o, double lr, RtState *s,
	const rt_real *grad);
/* The learning rate of epoch e (1-based) of `epochs`. */
double rt_schedule_lr(RtSchedule sched, double lr, long e, long epochs,
	long step_size, double gamma);
/* Scales grad so its global L2 norm is at most max_norm; returns the norm
 * before clipping. */
double rt_clip(rt_real *grad, size_t n, double max_norm);

/* ---- ckpt.c: checkpoints ---- */

/* The CRC-32 of gzip and PNG, continued from crc (0 to start). */
uint32_t rt_crc32(uint32_t crc, const unsigned char *p, size_t n);

int rt_ckpt_save(const char *path, const RtModel *m, const RtState *s,
	char *err, size_t errlen);
/* Loads into s, which rt_state_init() made for the same model. */
int rt_ckpt_load(const char *path, const RtModel *m, RtState *s,
	char *err, size_t errlen);
/* For tests of crash safety only: when nonzero, a save raises SIGKILL on
 * its own process after writing this many bytes of the temporary file. */
extern size_t rt_ckpt_crash_after;

/* ---- json.c: parameters by name ---- */

int rt_json_write(const char *path, const RtModel *m, const rt_real *v,
	char *err, size_t errlen);
int rt_json_read(const char *path, const RtModel *m, rt_real *v,
	char *err, size_t errlen);

/* ---- pool.c: one batch's gradient split across threads ---- */

typedef struct RtPool RtPool;

#define RT_MAX_THREADS 1024

/* A pool for batches of up to max_batch rows of m, whose targets have
 * tcols columns, computing with `threads` threads, the caller's among
 * them (fewer when max_batch is smaller); 1 starts none.  NULL, with the
 * reason in err, when memory or a thread is refused. */
RtPool *rt_pool_new(const RtModel *m, int tcols, int threads,
	size_t max_batch, char *err, size_t errlen);
void rt_pool_free(RtPool *p);
/* m->loss_grad of n rows, n at most max_batch, split across the threads;
 * with one thread, exactly m->loss_grad. */
rt_real rt_pool_loss_grad(RtPool *p, const rt_real *params, rt_real *grad,
	const rt_real *inputs, const rt_real *targets, size_t n);
/* The cores this process may run on, 1 to RT_MAX_THREADS. */
int rt_cores(void);

/* ---- metrics.c ---- */

typedef struct RtMetrics {
	double loss;            /* mean loss */
	int kind;               /* 0 loss only, 1 real (mse, mae), 2 class */
	double mse, mae;        /* real targets: over every target column */
	double accuracy;        /* class target */
	int classes;
	size_t *confusion;      /* classes x classes: [truth][predicted] */
} RtMetrics;

/* Buffers for evaluating in chunks of `chunk` examples. */
typedef struct RtEval {
	const RtModel *m;
	size_t chunk;
	void *ws;
	rt_real *out;
	RtMetrics r;
} RtEval;

int rt_eval_init(RtEval *e, const RtModel *m, size_t chunk);
void rt_eval_free(RtEval *e);
/* Mean loss and metrics of params over d; the results are in e->r. */
void rt_evaluate(RtEval *e, const rt_real *params, const RtData *d);
/* The metric of the per-epoch summary: accuracy or mse; NAN for none. */
double rt_metric(const RtMetrics *r, const char **name);
void rt_metrics_print(const RtMetrics *r, FILE *f);

/* ---- progress.c: what a waiting person sees ---- */

typedef struct RtProgress {
	FILE *f;                /* stderr */
	int tty, quiet;
	long every;             /* summary lines every this many epochs */
	double t0, epoch_t0, last_draw;
	size_t done;            /* examples processed in this run */
	size_t total;           /* examples this run will process */
} RtProgress;

double rt_now(void);
void rt_progress_init(RtProgress *p, FILE *f, int quiet, long every,
	size_t total);
void rt_progress_batch(RtProgress *p, long epoch, long epochs, size_t pos,
	size_t n, size_t len);
void rt_progress_epoch(RtProgress *p, long epoch, long epochs, double train,
	double val, const char *metric_name, double metric, double seconds);
void rt_progress_clear(RtProgress *p);

/* ---- plot.c ---- */

int rt_plot_svg(const char *path, const char *title, const double *train,
	const double *val, long n, long first_epoch, char *err,
	size_t errlen);

/* ---- train.c: the loop ---- */

typedef struct RtConfig {
	const char *data_path, *targets_path;
	const char *val_path, *val_targets_path;
	double val_split;
	int standardize;
	RtOptim optim;
	int optimizer_given;    /* --optimizer overrides a checkpoint's */
	long epochs, batch;
	uint64_t seed;
	RtSchedule schedule;
	long step_size;
	double gamma;
	double clip;            /* 0 for none */
	long patience;          /* 0 for none */
	const char *log_path, *plot_path, *save_path, *load_path;
	const char *params_in, *params_out, *grad_out;
	const char *eval_path, *eval_targets_path;
	const char *predict_path, *out_path;
	int quiet;
	long every;
	long threads;           /* for training and --grad-out; below 2: one */
} RtConfig;

/* How a training run ended. */
typedef enum RtStop {
	RT_DONE, RT_EARLY, RT_INTERRUPTED, RT_NONFINITE, RT_FAILED
} RtStop;

/* Per-epoch record, for the log and the plot. */
typedef struct RtHistory {
	long n, cap;
	long first;             /* epoch of entry 0 */
	double *train, *val;
} RtHistory;

/* Set by the SIGINT handler; the loop stops after the current batch. */
extern volatile sig_atomic_t rt_interrupted;

/* Trains s from epoch s->epoch + 1 to c->epochs.  val may be NULL.
 * Saves to c->save_path after every epoch when set; log may be NULL. */
RtStop rt_train(const RtModel *m, const RtConfig *c, const RtData *train,
	const RtData *val, RtState *s, FILE *log, RtHistory *h);
/* The gradient of the mean loss over d at params, into grad, in chunks
 * of `chunk` rows each split across `threads`; -1 when out of memory
 * or threads, with the reason in err. */
int rt_full_grad(const RtModel *m, const RtData *d, size_t chunk,
	int threads, const rt_real *params, rt_real *grad, char *err,
	size_t errlen);
void rt_history_free(RtHistory *h);

/* ---- main.c: the whole trainer; the generated main() calls it ---- */

int rt_main(const RtModel *m, int argc, char **argv);

#endif
