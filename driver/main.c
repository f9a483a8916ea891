/*
 * main.c - the dlc command line: reads flags, runs the stages in order
 * (parse, check, lower, differentiate, optimise, emit) and, for a trainer,
 * calls the C compiler on the generated code and the runtime library.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cg.h"
#include "pipeline.h"

#define DLC_VERSION "0.1.0"

typedef enum Emit {
	EMIT_TRAINER, EMIT_C, EMIT_IR, EMIT_AST, EMIT_CHECK,
} Emit;

typedef struct Options {
	const char *input;
	const char *output;
	const char *name;
	const char *stage;      /* for --emit=ir */
	Emit emit;
	CgPrecision precision;
	Pipeline pipeline;
} Options;

static void
usage(FILE *f)
{
	fprintf(f,
"usage: dlc [options] MODEL.dl\n"
"\n"
"Compiles a model to a trainer binary, or to C code to embed.\n"
"\n"
"  -o PATH             output: the trainer binary (default: MODEL), or for\n"
"                      --emit=c a directory DIR/ or a file NAME.c\n"
"  --emit=c            write NAME.h and NAME.c, the model's C API\n"
"  --emit=ir[=STAGE]   print the IR after STAGE: forward, grad, fold,\n"
"                      simplify, cse, dce, opt (default opt, the final form)\n"
"  -O0 .. -O3          optimisation level (default -O2)\n"
"  --print-after=PASS  print the IR after PASS (or all) as it runs\n"
"  --stats             print op counts, flops and workspace, then stop\n"
"  --emit=ast          print the checked syntax tree\n"
"  --check             parse and check only\n"
"  --precision=P       f32 (default) or f64\n"
"  --name=NAME         C prefix of the generated API (default: from MODEL)\n"
"  --wrt=inputs        also differentiate with respect to the inputs: adds\n"
"                      NAME_loss_grad_inputs to the C API\n"
"  --version           print the version\n"
"  --help              this text\n"
"\n"
"Environment: CC is the C compiler for trainers (default cc).\n");
}

static void
die(const char *fmt, const char *arg)
{
	fprintf(stderr, "dlc: error: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(2);
}

/* snprintf into a path buffer; a path that does not fit is an error. */
static void
path_printf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= n)
		die("a path is too long: %s...", buf);
}

static void
parse_emit(Options *o, const char *v)
{
	if (strcmp(v, "c") == 0) {
		o->emit = EMIT_C;
	} else if (strcmp(v, "ast") == 0) {
		o->emit = EMIT_AST;
	} else if (strncmp(v, "ir", 2) == 0 && (v[2] == '\0' || v[2] == '=')) {
		o->emit = EMIT_IR;
		o->stage = v[2] ? v + 3 : "opt";
		if (!ir_pass_exists(o->stage))
			die("unknown IR stage '%s'; expected forward, grad, fold, "
				"simplify, cse, dce or opt", o->stage);
	} else {
		die("unknown --emit kind '%s'; expected c, ir or ast", v);
	}
}

static void
parse_args(Options *o, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			exit(0);
		} else if (strcmp(a, "--version") == 0) {
			printf("dlc %s (backends: c)\n", DLC_VERSION);
			exit(0);
		} else if (strcmp(a, "-o") == 0) {
			if (++i >= argc)
				die("-o needs a path%s", "");
			o->output = argv[i];
		} else if (strncmp(a, "--emit=", 7) == 0) {
			parse_emit(o, a + 7);
		} else if (strcmp(a, "--check") == 0) {
			o->emit = EMIT_CHECK;
		} else if (strcmp(a, "--precision=f32") == 0) {
			o->precision = CG_F32;
		} else if (strcmp(a, "--precision=f64") == 0) {
			o->precision = CG_F64;
		} else if (strcmp(a, "--wrt=inputs") == 0) {
			o->pipeline.wrt_inputs = 1;
		} else if (strcmp(a, "--wrt=params") == 0) {
			o->pipeline.wrt_inputs = 0;
		} else if (a[0] == '-' && a[1] == 'O' && a[2] >= '0' &&
		    a[2] <= '3' && !a[3]) {
			o->pipeline.level = a[2] - '0';
		} else if (strncmp(a, "--print-after=", 14) == 0) {
			o->pipeline.print_after = a + 14;
			if (!ir_pass_exists(a + 14) && strcmp(a + 14, "all"))
				die("unknown pass '%s' for --print-after", a + 14);
		} else if (strcmp(a, "--stats") == 0) {
			o->pipeline.stats = 1;
		} else if (strncmp(a, "--name=", 7) == 0) {
			o->name = a + 7;
		} else if (a[0] == '-') {
			die("unknown option '%s' (see dlc --help)", a);
		} else if (o->input) {
			die("one model per run; '%s' is a second one", a);
		} else {
			o->input = a;
		}
	}
	if (!o->input)
		die("no input file (see dlc --help)%s", "");
}

/*
 * Whether NAME's identifiers (NAME_params, NAME_SGD, the guard NAME_H, the
 * header NAME.h) could meet the trainer runtime's (rt_, RT_, dlrt.h and
 * its guard DLRT_H), which share the glue's translation unit.
 */
static int
runtime_name(const char *s, size_t len)
{
	static const char *const ours[] = { "rt", "dlrt" };

	for (size_t i = 0; i < sizeof ours / sizeof *ours; i++) {
		size_t n = strlen(ours[i]);
		if (len >= n && strncasecmp(s, ours[i], n) == 0 &&
		    (len == n || s[n] == '_'))
			return 1;
	}
	return 0;
}

/* The file name without directory and extension, as a C identifier; m_
 * goes before one that would not start a C identifier or would meet the
 * runtime's names. */
static char *
module_name(const char *path)
{
	const char *base = strrchr(path, '/');
	char *name;
	size_t len, j = 0;

	base = base ? base + 1 : path;
	len = strcspn(base, ".");
	name = malloc(len + 3);
	if (len == 0 || isdigit((unsigned char)base[0]) ||
	    runtime_name(base, len))
		name[j++] = 'm', name[j++] = '_';
	for (size_t i = 0; i < len; i++)
		name[j++] = isalnum((unsigned char)base[i]) ? base[i] : '_';
	name[j] = '\0';
	return name;
}

static int
valid_name(const char *s)
{
	if (!*s || isdigit((unsigned char)*s) || strlen(s) > 48)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return 0;
	return 1;
}

static FILE *
open_out(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "dlc: error: cannot write %s: %s\n", path,
			strerror(errno));
		exit(1);
	}
	return f;
}

static void
close_out(FILE *f, const char *path)
{
	if (fclose(f) != 0)
		die("writing %s failed", path);
}

typedef void (*EmitFile)(const IrModule *, const CgOptions *, FILE *);

static void
write_file(const char *dir, const char *file, EmitFile fn,
	const IrModule *m, const CgOptions *co)
{
	char path[PATH_MAX];

	path_printf(path, sizeof path, "%s%s", dir, file);
	FILE *f = open_out(path);
	fn(m, co, f);
	close_out(f, path);
}

/* Writes NAME.h and NAME.c (and the trainer glue) into dir, which ends in
 * a slash or is empty. */
static void
write_c(const IrModule *m, const CgOptions *co, const char *dir, int glue)
{
	char file[128];

	snprintf(file, sizeof file, "%s.h", m->name);
	write_file(dir, file, cg_emit_header, m, co);
	snprintf(file, sizeof file, "%s.c", m->name);
	write_file(dir, file, cg_emit_source, m, co);
	if (glue) {
		snprintf(file, sizeof file, "%s_model.c", m->name);
		write_file(dir, file, cg_emit_glue, m, co);
	}
}

/* Where the runtime library and header are: beside the dlc binary. */
static void
dlc_home(char *buf, size_t n)
{
	const char *env = getenv("DLC_HOME");
	ssize_t len;

	if (env && *env) {
		snprintf(buf, n, "%s", env);
		return;
	}
	len = readlink("/proc/self/exe", buf, n - 1);
	if (len <= 0)
		die("cannot locate the dlc binary; set DLC_HOME%s", "");
	buf[len] = '\0';
	char *slash = strrchr(buf, '/');
	if (slash)
		*slash = '\0';
}

static int
run(char **argv)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "dlc: error: cannot run %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* CC may name a command with arguments, such as "ccache gcc". */
static int
split_cc(char *cc, char **argv, int max)
{
	int n = 0;

	for (char *t = strtok(cc, " \t"); t && n < max; t = strtok(NULL, " \t"))
		argv[n++] = t;
	return n;
}

static void
build_trainer(const IrModule *m, const CgOptions *co, const char *output)
{
	char home[PATH_MAX], gen[PATH_MAX], inc[PATH_MAX], geninc[PATH_MAX];
	char src[PATH_MAX], glue[PATH_MAX], lib[PATH_MAX];
	char ccbuf[256], *argv[48];
	const char *cc = getenv("CC");
	int n;

	path_printf(gen, sizeof gen, "%s.gen/", output);
	if (mkdir(gen, 0777) != 0 && errno != EEXIST)
		die("cannot create %s", gen);
	write_c(m, co, gen, 1);

	dlc_home(home, sizeof home);
	snprintf(ccbuf, sizeof ccbuf, "%s", cc && *cc ? cc : "cc");
	n = split_cc(ccbuf, argv, 8);
	path_printf(inc, sizeof inc, "-I%s/include", home);
	path_printf(geninc, sizeof geninc, "-I%s", gen);
	path_printf(src, sizeof src, "%s%s.c", gen, m->name);
	path_printf(glue, sizeof glue, "%s%s_model.c", gen, m->name);
	path_printf(lib, sizeof lib, "%s/libdlrt-%s.a", home,
		co->precision == CG_F32 ? "f32" : "f64");
	if (access(lib, R_OK) != 0)
		die("the runtime library %s is missing; run make", lib);
	const char *rest[] = { "-std=c11", "-O2", inc, geninc,
		co->precision == CG_F64 ? "-DDLRT_F64" : "-DDLRT_F32",
		src, glue, lib, "-lm", "-o", output, NULL };
	for (int i = 0; rest[i]; i++)
		argv[n++] = (char *)rest[i];
	argv[n] = NULL;
	if (run(argv) != 0) {
		fprintf(stderr, "dlc: error: the C compiler failed on the "
			"generated code in %s\n", gen);
		exit(1);
	}
}

/* Whether -o names the C file itself (FILE.c) rather than a directory. */
static int
names_c_file(const char *output)
{
	size_t len = output ? strlen(output) : 0;
	struct stat st;

	if (len < 2 || strcmp(output + len - 2, ".c") != 0)
		return 0;
	return !(stat(output, &st) == 0 && S_ISDIR(st.st_mode));
}

/* FILE of -o DIR/FILE.c: the files written must be NAME.c and NAME.h,
 * since NAME.c includes "NAME.h", so FILE becomes the name; --name may
 * only repeat it. */
static char *
name_from_c_file(const Options *o)
{
	const char *base = strrchr(o->output, '/');
	size_t len;
	char *name;

	base = base ? base + 1 : o->output;
	len = strlen(base) - 2;
	name = malloc(len + 1);
	memcpy(name, base, len);
	name[len] = '\0';
	if (!valid_name(name))
		die("-o %s: the file name must be a C identifier of at most 48 "
			"characters followed by .c", o->output);
	if (o->name && strcmp(o->name, name) != 0)
		die("-o %s: the file must be named after --name (NAME.c)",
			o->output);
	return name;
}

/* -o DIR/ or -o DIR/NAME.c: the directory the pair goes to, ending in a
 * slash, or empty for the current one.  A missing last directory is
 * created. */
static void
c_output_dir(const char *output, char *dir, size_t n)
{
	struct stat st;
	size_t len;

	dir[0] = '\0';
	if (!output)
		return;
	if (names_c_file(output)) {
		const char *slash = strrchr(output, '/');
		if (!slash)
			return;
		path_printf(dir, n, "%.*s", (int)(slash - output + 1), output);
	} else {
		len = strlen(output);
		if (output[len - 1] != '/' && stat(output, &st) == 0 &&
		    !S_ISDIR(st.st_mode))
			die("--emit=c writes two files; give -o a directory "
				"or NAME.c (not '%s')", output);
		path_printf(dir, n, "%s%s", output,
			output[len - 1] == '/' ? "" : "/");
	}
	if (mkdir(dir, 0777) != 0 && errno != EEXIST)
		die("cannot create the directory %s", dir);
}

static void
emit_c(const IrModule *m, const CgOptions *co, const char *output)
{
	char dir[PATH_MAX];

	c_output_dir(output, dir, sizeof dir);
	write_c(m, co, dir, 0);
}

/* What generated code says it was made from: the model's file name
 * without its directory, so the output is the same wherever it is built
 * and no directory name reaches it. */
static const char *
recorded_path(const char *input)
{
	const char *base = strrchr(input, '/');

	return base ? base + 1 : input;
}

static int
compile(const Options *o, Source *src)
{
	Arena *arena = arena_new();
	Program *p = parse_program(src, arena);
	char *name = o->emit == EMIT_C && names_c_file(o->output) ?
		name_from_c_file(o) : o->name ? strdup(o->name) :
		module_name(o->input);
	int status = 0;

	if (check_program(p) != 0) {
		status = 1;
	} else if (o->emit == EMIT_AST) {
		parse_print_ast(p);
	} else if (o->emit != EMIT_CHECK) {
		IrModule *m = ir_lower(p, name);
		CgOptions co = { .precision = o->precision, .src = src,
			.input_grad = o->pipeline.wrt_inputs };
		if (!m) {
			status = 1;
		} else if (!run_pipeline(m, &o->pipeline, &co)) {
			m->path = recorded_path(o->input);
			if (o->emit == EMIT_C)
				emit_c(m, &co, o->output);
			else
				build_trainer(m, &co, o->output ? o->output :
					name);
		}
		if (m)
			ir_module_free(m);
	}
	free(name);
	arena_free(arena);
	return status;
}

typedef struct Job {
	const Options *o;
	Source *src;
	int status;
} Job;

static void *
run_job(void *arg)
{
	Job *j = arg;

	j->status = compile(j->o, j->src);
	return NULL;
}

/*
 * The stages recurse over expression trees, and a long sum written on one
 * line is a tree as deep as it is long.  A thread with a stack of its own
 * (address space, touched only as deep as it goes) lets them without
 * limits that real programs would hit.
 */
static int
compile_on_big_stack(const Options *o, Source *src)
{
	Job job = { o, src, 1 };
	pthread_attr_t attr;
	pthread_t t;

	pthread_attr_init(&attr);
	if (pthread_attr_setstacksize(&attr, (size_t)1 << 30) != 0 ||
	    pthread_create(&t, &attr, run_job, &job) != 0) {
		pthread_attr_destroy(&attr);
		return compile(o, src);
	}
	pthread_join(t, NULL);
	pthread_attr_destroy(&attr);
	return job.status;
}

int
main(int argc, char **argv)
{
	Options o = { .precision = CG_F32, .pipeline.level = 2 };
	Source *src;
	int status;

	parse_args(&o, argc, argv);
	if (o.emit == EMIT_IR)
		o.pipeline.stop = o.stage;
	if (o.name && !valid_name(o.name))
		die("--name needs a C identifier of at most 48 characters, "
			"not '%s'", o.name);
	if (o.name && o.emit == EMIT_TRAINER &&
	    runtime_name(o.name, strlen(o.name)))
		die("--name=%s: a trainer may not be named rt or dlrt, or "
			"start with rt_ or dlrt_ (in any case): the runtime's "
			"names", o.name);
	src = src_load(o.input);
	if (!src)
		die("cannot read %s", o.input);
	status = compile_on_big_stack(&o, src);
	if (src->nerrors > src->max_errors)
		fprintf(stderr, "%s: %d errors in all; only the first %d are "
			"shown\n", o.input, src->nerrors, src->max_errors);
	src_free(src);
	return status;
}
