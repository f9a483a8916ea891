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
#include "driver.h"
#include "pipeline.h"

#define DLC_VERSION "0.1.0"

typedef enum Emit {
	EMIT_TRAINER, EMIT_C, EMIT_IR, EMIT_AST, EMIT_CHECK, EMIT_DOT,
	EMIT_GRADCHECK, EMIT_LLVM, EMIT_BC, EMIT_OBJ,
} Emit;

/* --backend: the default is LLVM when this build has it, else C. */
typedef enum Backend { BACKEND_AUTO, BACKEND_C, BACKEND_LLVM } Backend;

typedef struct Options {
	const char *input;
	const char *output;
	const char *name;
	const char *stage;      /* for --emit=ir and --emit=dot */
	const char *data;       /* for --gradcheck */
	Emit emit;
	CgPrecision precision;
	Pipeline pipeline;
	int warn_nan;
	Backend backend;
	CgLlvmOptions llvm;     /* --target, --cpu, --fast-math */
	int run;                /* dlc run: train in process by JIT */
	int run_argc;           /* the trainer's flags after the model */
	char **run_argv;
} Options;

static void
usage(FILE *f)
{
	fprintf(f,
"usage: dlc [options] MODEL.dl\n"
"       dlc [options] MODEL.dlir\n"
"       dlc run [options] MODEL.dl --data FILE [trainer flags]\n"
"\n"
"Compiles a model to a trainer binary, or to C code to embed.  A .dlir\n"
"file (the text --emit=ir prints) is accepted wherever a .dl is.  `dlc run`\n"
"compiles it in memory with LLVM's JIT and trains it at once, writing\n"
"no files; it takes a built trainer's flags (dlc run MODEL.dl --help).\n"
"\n"
"  -o PATH             output: the trainer binary (default: MODEL), or for\n"
"                      --emit=c a directory DIR/ or a file NAME.c\n"
"  --emit=c            write NAME.h and NAME.c, the model's C API\n"
"  --emit=llvm         write NAME.ll, the C API as LLVM IR (text)\n"
"  --emit=bc           write NAME.bc, the same as LLVM bitcode\n"
"  --emit=obj          write NAME.o, an object file with the C API, to\n"
"                      link under the NAME.h that --emit=c writes\n"
"  --backend=B         llvm or c: what compiles a trainer (default llvm\n"
"                      when this dlc has LLVM, see --version)\n"
"  --target=TRIPLE     LLVM: the target (default this machine)\n"
"  --cpu=CPU           LLVM: the CPU (default this machine's, with all\n"
"                      its features)\n"
"  --fast-math         LLVM: allow every fast-math rewrite (reassociation,\n"
"                      no NaN or Inf); results may change\n"
"  --emit=ir[=STAGE]   print the IR after STAGE: forward, grad, fold,\n"
"                      simplify, cse, dce, schedule, opt (default opt, the\n"
"                      final form)\n"
"  -O0 .. -O3          optimisation level (default -O2)\n"
"  --print-after=PASS  print the IR after PASS (or all) as it runs\n"
"  --stats             print op counts, flops and workspace, then stop\n"
"  --emit=dot[=STAGE]  write Graphviz DOT of the IR after STAGE (default\n"
"                      opt): forward and adjoint values, per source line\n"
"  --emit=ast          print the checked syntax tree\n"
"  --verify            check the IR after every pass\n"
"  --gradcheck         compare the gradient with central finite\n"
"                      differences at random parameters; exit 1 when a\n"
"                      relative error exceeds 1e-6\n"
"  --data FILE         for --gradcheck: CSV rows (inputs then targets)\n"
"  --check             parse and check only\n"
"  --precision=P       f32 (default) or f64\n"
"  --name=NAME         C prefix of the generated API (default: from MODEL)\n"
"  --warn-nan          warn where a gradient can still be infinite or NaN\n"
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

/* die() with the reason the last system call gave. */
static void
die_errno(const char *fmt, const char *arg)
{
	int err = errno;

	fprintf(stderr, "dlc: error: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, ": %s\n", strerror(err));
	exit(2);
}

static int
is_directory(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Whether two paths name one existing file. */
static int
same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
		sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
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

/* KIND or KIND=STAGE, for the kinds that show the IR at a stage. */
static int
staged(Options *o, const char *v, const char *kind)
{
	size_t len = strlen(kind);

	if (strncmp(v, kind, len) != 0 || (v[len] != '\0' && v[len] != '='))
		return 0;
	o->stage = v[len] ? v + len + 1 : "opt";
	if (ir_stage_index(o->stage) < 0)
		die("unknown IR stage '%s'; expected forward, grad, fold, "
			"simplify, cse, dce, schedule or opt", o->stage);
	return 1;
}

static void
parse_emit(Options *o, const char *v)
{
	if (strcmp(v, "c") == 0)
		o->emit = EMIT_C;
	else if (strcmp(v, "ast") == 0)
		o->emit = EMIT_AST;
	else if (strcmp(v, "llvm") == 0)
		o->emit = EMIT_LLVM;
	else if (strcmp(v, "bc") == 0)
		o->emit = EMIT_BC;
	else if (strcmp(v, "obj") == 0)
		o->emit = EMIT_OBJ;
	else if (staged(o, v, "ir"))
		o->emit = EMIT_IR;
	else if (staged(o, v, "dot"))
		o->emit = EMIT_DOT;
	else
		die("unknown --emit kind '%s'; expected c, llvm, bc, obj, ir, "
			"dot or ast", v);
}

/* "dlc 0.1.0", the backends this build has, and its LLVM. */
static void
print_version(void)
{
	char llvm[64];

	cg_llvm_version(llvm, sizeof llvm);
	if (cg_llvm_available())
		printf("dlc %s (backends: llvm, c; default llvm; %s)\n",
			DLC_VERSION, llvm);
	else
		printf("dlc %s (backends: c; built without LLVM)\n",
			DLC_VERSION);
}

/* The LLVM backend's flags; 0 when `a` is none of them. */
static int
llvm_flag(Options *o, const char *a)
{
	if (strcmp(a, "--backend=llvm") == 0)
		o->backend = BACKEND_LLVM;
	else if (strcmp(a, "--backend=c") == 0)
		o->backend = BACKEND_C;
	else if (strncmp(a, "--backend=", 10) == 0)
		die("unknown backend '%s'; expected llvm or c", a + 10);
	else if (strncmp(a, "--target=", 9) == 0 && a[9])
		o->llvm.triple = a + 9;
	else if (strncmp(a, "--cpu=", 6) == 0 && a[6])
		o->llvm.cpu = a + 6;
	else if (strcmp(a, "--fast-math") == 0)
		o->llvm.fast_math = 1;
	else
		return 0;
	return 1;
}

static void
parse_args(Options *o, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (o->run && o->input) {
			/* dlc run MODEL.dl ...: the rest is the trainer's */
			o->run_argc = argc - i;
			o->run_argv = argv + i;
			break;
		} else if (llvm_flag(o, a)) {
			continue;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			exit(0);
		} else if (strcmp(a, "--version") == 0) {
			print_version();
			exit(0);
		} else if (strcmp(a, "-o") == 0) {
			if (++i >= argc)
				die("-o needs a path%s", "");
			o->output = argv[i];
		} else if (strncmp(a, "--emit=", 7) == 0) {
			parse_emit(o, a + 7);
		} else if (strcmp(a, "--check") == 0) {
			o->emit = EMIT_CHECK;
		} else if (strcmp(a, "--verify") == 0) {
			o->pipeline.verify = 1;
		} else if (strcmp(a, "--gradcheck") == 0) {
			o->emit = EMIT_GRADCHECK;
		} else if (strcmp(a, "--data") == 0) {
			if (++i >= argc)
				die("--data needs a file%s", "");
			o->data = argv[i];
		} else if (strcmp(a, "--precision=f32") == 0) {
			o->precision = CG_F32;
		} else if (strcmp(a, "--precision=f64") == 0) {
			o->precision = CG_F64;
		} else if (strncmp(a, "--precision=", 12) == 0) {
			die("unknown precision '%s'; expected f32 or f64", a + 12);
		} else if (strcmp(a, "--warn-nan") == 0) {
			o->warn_nan = 1;
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

/*
 * Whether CC is GCC, by the copyright line of its --version.  GCC's -O2 vectorises only
 * loops it needs no run-time checks for, which leaves the generated gemm
 * loops scalar; -fvect-cost-model=dynamic lifts that at a fraction of the
 * compile time -O3 costs.  Clang vectorises them at -O2 and rejects the
 * flag, so it is added for GCC alone.
 */
static int
cc_is_gcc(const char *cc)
{
	char cmd[300], line[256];
	int gcc = 0;
	FILE *p;

	snprintf(cmd, sizeof cmd, "%s --version 2>/dev/null", cc);
	p = popen(cmd, "r");
	if (!p)
		return 0;
	while (fgets(line, sizeof line, p))
		if (strstr(line, "clang"))
			gcc = -1;
		else if (gcc == 0 && strstr(line, "Free Software Foundation"))
			gcc = 1;
	pclose(p);
	return gcc == 1;
}

/* The LLVM backend's trainer files: NAME.h and the glue, as for C, and
 * NAME.o in place of NAME.c; the object's path goes to obj. */
static void
write_llvm_trainer(const IrModule *m, const CgOptions *co,
	const CgLlvmOptions *lo, const char *gen, char *obj, size_t n)
{
	char file[128];

	snprintf(file, sizeof file, "%s.h", m->name);
	write_file(gen, file, cg_emit_header, m, co);
	snprintf(file, sizeof file, "%s_model.c", m->name);
	write_file(gen, file, cg_emit_glue, m, co);
	path_printf(obj, n, "%s%s.o", gen, m->name);
	if (cg_llvm_write(m, co, lo, CG_LLVM_OBJ, obj) != 0)
		exit(1);
}

/* A trainer: the model's code (NAME.c, or NAME.o from LLVM when lo is
 * not NULL), the glue and the runtime library, linked by the C compiler. */
static void
build_trainer(const IrModule *m, const CgOptions *co, const char *output,
	const CgLlvmOptions *lo)
{
	char home[PATH_MAX], gen[PATH_MAX], inc[PATH_MAX], geninc[PATH_MAX];
	char src[PATH_MAX], glue[PATH_MAX], lib[PATH_MAX];
	char ccbuf[256], *argv[48];
	const char *cc = getenv("CC");
	int n;

	path_printf(gen, sizeof gen, "%s.gen/", output);
	if (mkdir(gen, 0777) != 0 && errno != EEXIST)
		die("cannot create %s", gen);
	if (lo)
		write_llvm_trainer(m, co, lo, gen, src, sizeof src);
	else
		write_c(m, co, gen, 1);

	dlc_home(home, sizeof home);
	snprintf(ccbuf, sizeof ccbuf, "%s", cc && *cc ? cc : "cc");
	int gcc = cc_is_gcc(ccbuf);
	n = split_cc(ccbuf, argv, 8);
	if (gcc)
		argv[n++] = "-fvect-cost-model=dynamic";
	path_printf(inc, sizeof inc, "-I%s/include", home);
	path_printf(geninc, sizeof geninc, "-I%s", gen);
	if (!lo)
		path_printf(src, sizeof src, "%s%s.c", gen, m->name);
	path_printf(glue, sizeof glue, "%s%s_model.c", gen, m->name);
	path_printf(lib, sizeof lib, "%s/libdlrt-%s.a", home,
		co->precision == CG_F32 ? "f32" : "f64");
	if (access(lib, R_OK) != 0)
		die("the runtime library %s is missing; run make", lib);
	/* -march=native since a trainer runs where it is built;
	 * -fno-math-errno since nothing reads errno, and setting it keeps
	 * sqrt (Adam's update) from vectorising.  bench/bench.py compiles
	 * with the same flags. */
	const char *rest[] = { "-std=c11", "-O2", "-march=native",
		"-fno-math-errno", inc, geninc,
		co->precision == CG_F64 ? "-DDLRT_F64" : "-DDLRT_F32",
		src, glue, lib, "-lm", "-pthread", "-o", output, NULL };
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
recorded_path(const char *path)
{
	const char *base = strrchr(path, '/');

	return base ? base + 1 : path;
}

static int
is_dlir(const char *path)
{
	size_t len = strlen(path);

	return len > 5 && strcmp(path + len - 5, ".dlir") == 0;
}

/* A .dl program parsed, checked and lowered; NULL after reporting. */
static IrModule *
from_program(const Options *o, Source *src, Arena *arena, const char *name)
{
	Program *p = parse_program(src, arena);

	if (check_program(p) != 0)
		return NULL;
	if (o->emit == EMIT_AST)
		parse_print_ast(p);
	if (o->emit == EMIT_AST)
		return NULL;
	/* --check lowers too: some programs check but cannot be lowered */
	IrModule *m = ir_lower(p, name);
	if (o->emit == EMIT_CHECK) {
		ir_module_free(m);
		return NULL;
	}
	return m;
}

/* A .dlir file read back; *stage says how far it had gone. */
static IrModule *
from_text(const Options *o, Source *src, Arena *arena, int *stage)
{
	const char *at;
	IrModule *m;

	if (o->emit == EMIT_AST)
		die("%s is IR and has no syntax tree", o->input);
	m = ir_read(src, arena, &at);
	if (!m)
		return NULL;
	if (o->name)
		m->name = o->name;
	*stage = ir_stage_index(at);
	return m;
}

/* The stage that the output needs. */
static int
goal(const Options *o, int from)
{
	int to = ir_stage_index(o->stage ? o->stage : "opt");

	if (to < from) {
		fprintf(stderr, "dlc: error: %s holds the IR after %s, which "
			"is past %s\n", o->input, ir_stage_name(from), o->stage);
		exit(1);
	}
	return to;
}

/* The source a .dlir came from, for the comments of generated code. */
static Source *
original_source(const IrModule *m)
{
	return m->path ? src_load(m->path) : NULL;
}

static int emit(const IrModule *m, const CgOptions *co, const Options *o,
	const char *name);

/* Runs the remaining passes and writes what was asked for. */
static int
finish_module(const Options *o, IrModule *m, int from, Source *src,
	const char *name)
{
	int to = goal(o, from);
	Source *orig = src;
	int status = 0;

	if (o->emit == EMIT_CHECK)
		return 0;
	if (is_dlir(o->input))
		orig = original_source(m);
	CgOptions co = { .precision = o->precision, .src = orig,
		.input_grad = o->pipeline.wrt_inputs };
	if (run_pipeline(m, &o->pipeline, from, to, &co)) {
		if (orig != src)
			src_free(orig);
		return 0;
	}
	switch (o->emit) {
	case EMIT_IR:
		ir_print(m, ir_stage_name(to));
		break;
	case EMIT_DOT:
		cg_emit_dot(m, orig, stdout);
		break;
	case EMIT_GRADCHECK:
		status = dlc_gradcheck(m, o->data);
		break;
	default:
		m->path = recorded_path(m->path);
		status = emit(m, &co, o, name);
		break;
	}
	if (orig != src)
		src_free(orig);
	return status;
}

/* --emit=llvm, bc or obj: one file, NAME.ll, NAME.bc or NAME.o unless
 * -o names it. */
static int
emit_llvm(const IrModule *m, const CgOptions *co, const Options *o)
{
	static const char *const ext[] = { ".ll", ".bc", ".o" };
	CgLlvmKind kind = o->emit == EMIT_LLVM ? CG_LLVM_IR :
		o->emit == EMIT_BC ? CG_LLVM_BC : CG_LLVM_OBJ;
	char path[PATH_MAX];

	if (o->output)
		path_printf(path, sizeof path, "%s", o->output);
	else
		path_printf(path, sizeof path, "%s%s", m->name, ext[kind]);
	return cg_llvm_write(m, co, &o->llvm, kind, path);
}

/* dlc run: the module compiled in process, trained by the runtime in
 * dlc with the flags after the model; argv[0] is the model's name. */
static int
run_model(const IrModule *m, const CgOptions *co, const Options *o)
{
	CgJit *j = cg_llvm_jit(m, co, &o->llvm);
	char **argv;
	int status;

	if (!j)
		return 1;
	argv = calloc((size_t)o->run_argc + 2, sizeof *argv);
	argv[0] = (char *)m->name;
	for (int i = 0; i < o->run_argc; i++)
		argv[i + 1] = o->run_argv[i];
	fflush(stdout);
	status = co->precision == CG_F32 ?
		run_jit_f32(m, j, o->run_argc + 1, argv) :
		run_jit_f64(m, j, o->run_argc + 1, argv);
	free(argv);
	cg_jit_free(j);
	return status;
}

/* Everything after the pipeline: a file, a trainer, or a run. */
static int
emit(const IrModule *m, const CgOptions *co, const Options *o,
	const char *name)
{
	if (o->run)
		return run_model(m, co, o);
	switch (o->emit) {
	case EMIT_C:
		emit_c(m, co, o->output);
		return 0;
	case EMIT_LLVM: case EMIT_BC: case EMIT_OBJ:
		return emit_llvm(m, co, o);
	default:
		build_trainer(m, co, o->output ? o->output : name,
			o->backend == BACKEND_LLVM ? &o->llvm : NULL);
		return 0;
	}
}

static int
compile(const Options *o, Source *src)
{
	Arena *arena = arena_new();
	char *name = o->emit == EMIT_C && names_c_file(o->output) ?
		name_from_c_file(o) : o->name ? strdup(o->name) :
		module_name(o->input);
	int from = 0, status = 1;
	IrModule *m;

	if (is_dlir(o->input))
		m = from_text(o, src, arena, &from);
	else
		m = from_program(o, src, arena, name);
	if (m && o->pipeline.verify &&
	    ir_verify(m, from ? ir_stage_name(from) : "forward"))
		abort();    /* lowering broke an invariant */
	if (m && o->warn_nan && !is_dlir(o->input))
		ir_warn_nan(m, src);
	if (m)
		status = finish_module(o, m, from, src, name);
	else if (src->nerrors == 0)
		status = 0;     /* --check or --emit=ast, all well */
	ir_module_free(m);
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

/* The backend a run uses, and flags that cannot go together. */
static void
settle_backend(Options *o)
{
	int llvm_file = o->emit == EMIT_LLVM || o->emit == EMIT_BC ||
		o->emit == EMIT_OBJ;

	if (o->backend == BACKEND_AUTO)
		o->backend = cg_llvm_available() || llvm_file || o->run ?
			BACKEND_LLVM : BACKEND_C;
	if (o->backend == BACKEND_C && (llvm_file || o->run))
		die("%s needs the LLVM backend, not --backend=c", o->run ?
			"dlc run" : "--emit=llvm, bc or obj");
	if (o->backend == BACKEND_LLVM && !cg_llvm_available() && o->run)
		die("dlc run needs LLVM, and this dlc was built without it "
			"(dlc --version lists its backends); install llvm-19-dev "
			"and rebuild, or build a trainer: dlc %s", o->input);
	if (o->backend == BACKEND_LLVM && !cg_llvm_available())
		die("the LLVM backend needs LLVM, and this dlc was built "
			"without it (dlc --version lists its backends); install "
			"llvm-19-dev and rebuild, or use --backend=c%s", "");
	if (o->run && o->llvm.triple)
		die("dlc run compiles for this machine; --target is for "
			"--emit=llvm, bc and obj%s", "");
	if (o->emit == EMIT_TRAINER && o->llvm.triple)
		die("a trainer runs on this machine; --target is for "
			"--emit=llvm, bc and obj%s", "");
	o->llvm.level = o->pipeline.level;
}

int
main(int argc, char **argv)
{
	Options o = { .precision = CG_F32, .pipeline.level = 2,
		.pipeline.verify = IR_VERIFY_ALWAYS };
	Source *src;
	int status;

	o.run = argc > 1 && strcmp(argv[1], "run") == 0;
	parse_args(&o, argc - o.run, argv + o.run);
	settle_backend(&o);
	if (o.output && same_file(o.output, o.input))
		die("-o %s would overwrite the model itself", o.output);
	if (o.output && o.emit == EMIT_TRAINER && is_directory(o.output))
		die("-o %s is a directory; a trainer is one file", o.output);
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
		die_errno("cannot read %s", o.input);
	status = compile_on_big_stack(&o, src);
	if (src->nerrors > src->max_errors)
		fprintf(stderr, "%s: %d errors in all; only the first %d are "
			"shown\n", o.input, src->nerrors, src->max_errors);
	src_free(src);
	return status;
}
