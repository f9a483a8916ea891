/*
 * test_irtools.c - the IR tooling: the textual form reads back byte for
 * byte, the verifier catches each kind of broken invariant, the .dlir
 * reader reports malformed text without crashing, golden IR files pin the
 * examples at every stage, the DOT picture renders, and --gradcheck
 * passes on the examples and fails on a wrong gradient.
 *
 * The examples are found by listing examples/ for .dl files, and the
 * golden files by listing tests/ir/ for .ir files, so a new example or
 * golden file needs no edit here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ir_build.h"
#include "tests.h"

static const Loc nowhere = { 1, 1, 1, 1 };

/* ---- helpers ---- */

static char *
print_module(const IrModule *m, const char *stage)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ir_print_to(m, stage, f);
	fclose(f);
	return text;
}

/* Reads text in-process; NULL when the reader reported errors. */
static IrModule *
read_text(const char *text, Arena *arena, int *nerrors)
{
	Source *src = src_from_string("t.dlir", text, strlen(text));
	const char *stage;
	IrModule *m = ir_read(src, arena, &stage);

	*nerrors = src->nerrors;
	src_free(src);
	return m;
}

/* stderr to /dev/null while `quiet`, for loops that expect errors;
 * DLC_TEST_LOUD=1 in the environment keeps it, to see a sanitizer. */
static int saved_stderr = -1;

static void
quiet(int on)
{
	if (getenv("DLC_TEST_LOUD"))
		return;
	if (on) {
		fflush(stderr);
		saved_stderr = dup(2);
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 2);
		close(null);
	} else {
		fflush(stderr);
		dup2(saved_stderr, 2);
		close(saved_stderr);
	}
}

/* print -> read -> print gives the same text. */
static void
assert_reads_back(const IrModule *m, const char *stage, const char *what)
{
	Arena *arena = arena_new();
	char *first = print_module(m, stage), *second;
	int nerrors;
	IrModule *back = read_text(first, arena, &nerrors);

	if (!back)
		fail_msg("%s after %s: the printed IR does not read back:\n%s",
			what, stage, first);
	second = print_module(back, stage);
	if (strcmp(first, second) != 0)
		fail_msg("%s after %s: printed again, the IR differs:\n%s\n"
			"---\n%s", what, stage, first, second);
	free(first);
	free(second);
	ir_module_free(back);
	arena_free(arena);
}

static const char *
dlc(void)
{
	return DLC_BUILD "/dlc";
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long len;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = malloc((size_t)len + 1);
	len = (long)fread(buf, 1, (size_t)len, f);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

static void
write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Runs a shell command in the repository root; its stdout in *out. */
static int
in_root(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
in_root(char **out, const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	int n = snprintf(cmd, sizeof cmd, "cd '%s' && ", DLC_ROOT);

	va_start(ap, fmt);
	vsnprintf(cmd + n, sizeof cmd - (size_t)n, fmt, ap);
	va_end(ap);
	return run_cmd(cmd, out);
}

/* The names NAME of DIR/NAME.EXT, sorted; returns how many. */
static int
list_files(const char *dir, const char *ext, char names[][128], int max)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	size_t el = strlen(ext);

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max) {
		size_t len = strlen(e->d_name);
		if (len > el && len - el < 128 &&
		    strcmp(e->d_name + len - el, ext) == 0) {
			memcpy(names[n], e->d_name, len - el);
			names[n++][len - el] = '\0';
		}
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof names[0],
		(int (*)(const void *, const void *))strcmp);
	return n;
}

enum { MAX_EXAMPLES = 64 };

/* The examples that check and lower; prints the ones skipped and why. */
static int
usable_examples(char names[][128])
{
	static char all[MAX_EXAMPLES][128];
	int n = list_files(DLC_ROOT "/examples", ".dl", all, MAX_EXAMPLES);
	int kept = 0;

	for (int i = 0; i < n; i++) {
		if (in_root(NULL, "'%s' --check examples/%s.dl 2>/dev/null",
		    dlc(), all[i]) != 0) {
			printf("  skipped %s: dlc --check rejects it\n", all[i]);
			continue;
		}
		if (in_root(NULL, "'%s' --emit=ir=forward examples/%s.dl "
		    ">/dev/null 2>&1", dlc(), all[i]) != 0) {
			printf("  skipped %s: it does not lower\n", all[i]);
			continue;
		}
		strcpy(names[kept++], all[i]);
	}
	assert_true(kept > 0);
	return kept;
}

/* ---- the textual form ---- */

/* Every stage of every example: printed, read back, printed again.  The
 * forward text, read back, must also go on to the same later stages and
 * the same C as the .dl itself. */
static void
test_examples_read_back(void **state)
{
	static char names[MAX_EXAMPLES][128];
	int n = usable_examples(names);
	const char *dir = scratch_dir("irtools-rt");
	char *a, *b;

	(void)state;
	for (int i = 0; i < n; i++) {
		for (int s = 0; ir_stage_name(s); s++) {
			const char *st = ir_stage_name(s);
			char path[40000];
			assert_int_equal(in_root(&a, "'%s' --verify "
				"--emit=ir=%s examples/%s.dl", dlc(), st,
				names[i]), 0);
			snprintf(path, sizeof path, "%s/%s.%s.dlir", dir,
				names[i], st);
			write_text(path, a);
			assert_int_equal(in_root(&b, "'%s' --verify "
				"--emit=ir=%s '%s'", dlc(), st, path), 0);
			if (strcmp(a, b) != 0)
				fail_msg("%s after %s reads back differently",
					names[i], st);
			free(a);
			free(b);
		}
		assert_int_equal(in_root(&b, "'%s' --verify --emit=ir "
			"'%s/%s.forward.dlir'", dlc(), dir, names[i]), 0);
		assert_int_equal(in_root(&a, "'%s' --emit=ir examples/%s.dl",
			dlc(), names[i]), 0);
		if (strcmp(a, b) != 0)
			fail_msg("%s: the forward .dlir optimises to different "
				"IR than the .dl", names[i]);
		free(a);
		free(b);
	}
}

static void
test_dlir_generates_the_same_c(void **state)
{
	const char *dir = scratch_dir("irtools-c");
	char *out;

	(void)state;
	assert_int_equal(in_root(&out, "'%s' --emit=ir=forward "
		"examples/polyfit.dl > '%s/p.dlir' && mkdir '%s/a' '%s/b' && "
		"'%s' --emit=c -o '%s/a' examples/polyfit.dl && "
		"'%s' --emit=c --name=polyfit -o '%s/b' '%s/p.dlir' && "
		"diff -r '%s/a' '%s/b'", dlc(), dir, dir, dir, dlc(), dir,
		dlc(), dir, dir, dir, dir), 0);
	free(out);
}

/* A finished module in the manner of tb_finish(), stopped at forward:
 * the loss is the batch mean of sum(result * w), w a fresh input. */
static void
add_loss(IrModule *m, int result)
{
	IrType r = m->fn.v[result].type;
	int w = tb_input(m, r.rank, r.dim[0], r.dim[1]);
	int prod = tb_op(m, IR_mul, result, w, -1, NULL);
	IrType per_example = ir_scalar(1), scalar = ir_scalar(0);
	int sum = tb_attr(m, tb_op(m, IR_rsum, prod, -1, -1, &per_example), 0,
		-1, 0);
	int total = tb_op(m, IR_bsum, sum, -1, -1, &scalar);
	int n = tb_op(m, IR_nbatch, -1, -1, -1, &scalar);

	m->fn.loss = tb_op(m, IR_div, total, n, -1, NULL);
	m->fn.output = result;
}

/* A batched scalar target y. */
static int
add_target(IrModule *m)
{
	IrType t = ir_scalar(1);
	int id = tb_op(m, IR_target, -1, -1, -1, &t);

	m->targets[0] = (IrData){ "y", ir_scalar(0), 0, 0 };
	m->ntargets = 1;
	m->target_size = 1;
	return id;
}

/* The ops no case of test_ops.c has (they pass no gradient): comparisons,
 * logic, sign, step, onehot, a target, each on a path to the loss. */
static int
b_nondifferentiable(IrModule *m)
{
	int a = tb_param(m, 1, 4, 0), b = tb_param(m, 1, 4, 0);
	int y = add_target(m);
	int lt = tb_op(m, IR_lt, a, b, -1, NULL);
	int le = tb_op(m, IR_le, a, b, -1, NULL);
	int ge = tb_op(m, IR_ge, a, b, -1, NULL);
	int eq = tb_op(m, IR_eq, a, b, -1, NULL);
	int ne = tb_op(m, IR_ne, a, b, -1, NULL);
	int both = tb_op(m, IR_and, lt, tb_op(m, IR_or, le, ge, -1, NULL), -1,
		NULL);
	int flags = tb_op(m, IR_add, both, tb_op(m, IR_not, tb_op(m, IR_add,
		eq, ne, -1, NULL), -1, -1, NULL), -1, NULL);
	int signs = tb_op(m, IR_add, tb_op(m, IR_sign, a, -1, -1, NULL),
		tb_op(m, IR_step, b, -1, -1, NULL), -1, NULL);
	IrType hot = tb_type(0, 1, 4, 0);
	int label = ir_const(&m->fn, 2, nowhere);
	int onehot = tb_attr(m, tb_op(m, IR_onehot, label, -1, -1, &hot), 0,
		-1, 4);
	int mix = tb_op(m, IR_add, tb_op(m, IR_mul, flags, signs, -1, NULL),
		tb_op(m, IR_add, onehot, y, -1, NULL), -1, NULL);

	return tb_op(m, IR_mul, mix, tb_op(m, IR_mul, a, b, -1, NULL), -1,
		NULL);
}

/* Runs every stage with the verifier, reading back after each. */
static void
stages_read_back(IrModule *m, const char *name, char *seen)
{
	for (int id = 0; id < m->fn.n; id++)
		seen[m->fn.v[id].op] = 1;
	assert_reads_back(m, "forward", name);
	for (int s = 1; ir_stage_name(s); s++) {
		if (ir_run_stages(m, s - 1, s, 1))
			fail_msg("%s: invalid IR after %s", name,
				ir_stage_name(s));
		for (int id = 0; id < m->fn.n; id++)
			seen[m->fn.v[id].op] = 1;
		assert_reads_back(m, ir_stage_name(s), name);
	}
}

/* The modules of test_ops.c, and one more, at every stage; between them
 * every op of ops.def must appear. */
static void
test_hand_built_read_back(void **state)
{
	char seen[IR_NOPS] = { 0 };
	int (*build)(IrModule *m);
	const char *name;

	(void)state;
	for (size_t k = 0; (name = ops_case(k, &build)); k++) {
		IrModule *m = tb_module("op");
		add_loss(m, build(m));
		stages_read_back(m, name, seen);
		ir_module_free(m);
	}
	IrModule *m = tb_module("op");
	add_loss(m, b_nondifferentiable(m));
	stages_read_back(m, "nondifferentiable", seen);
	ir_module_free(m);
	for (int op = 0; op < IR_NOPS; op++)
		if (!seen[op])
			fail_msg("no hand-built module uses op %s",
				ir_ops[op].name);
}

/* Attributes and header fields that the examples leave at defaults. */
static void
test_every_field_reads_back(void **state)
{
	IrModule *m = tb_module("fields");
	int a = tb_param(m, 2, 2, 3);
	int c = ir_const(&m->fn, -0.0, nowhere);
	int x = tb_op(m, IR_add, a, c, -1, NULL);

	(void)state;
	m->params[0].init = INIT_UNIFORM;
	m->params[0].a = -0.25;
	m->params[0].b = 1e-300;
	m->targets[0] = (IrData){ "label", ir_scalar(0), 7, 0 };
	m->ntargets = 1;
	m->target_size = 1;
	m->train = (IrTrain){ OPT_SGD, 0.1, 0.5, 0.9, 0.999, 1e-8, 3e-4, 7,
		9, 123456789012345ULL };
	m->path = "dir with \"quotes\"\\and\ttab.dl";
	m->fn.v[x].loc = (Loc){ 12345, 678, 12345, 678 };
	add_loss(m, x);
	assert_reads_back(m, "forward", "fields");
	assert_int_equal(ir_run_stages(m, 0, 4, 1), 0);
	assert_reads_back(m, "opt", "fields");
	ir_module_free(m);
}

/* ---- the verifier: one broken invariant each ---- */

/* A small valid module: loss = mean(sum(relu(W @ x + b)) * w). */
typedef struct Small {
	IrModule *m;
	int w, b, x, mv, add, relu, sum;
} Small;

static Small
small(void)
{
	Small s = { .m = tb_module("small") };
	IrType h = tb_type(1, 1, 2, 0);

	s.w = tb_param(s.m, 2, 2, 3);
	s.b = tb_param(s.m, 1, 2, 0);
	s.x = tb_input(s.m, 1, 3, 0);
	s.mv = tb_op(s.m, IR_matmul, s.w, s.x, -1, &h);
	s.add = tb_op(s.m, IR_add, s.mv, s.b, -1, NULL);
	s.relu = tb_op(s.m, IR_relu, s.add, -1, -1, NULL);
	add_loss(s.m, s.relu);
	return s;
}

/* Breaks a fresh module with `fn`; the verifier must name value `id`
 * (-1 for the module) and say `why`. */
typedef void (*Break)(Small *s, int *id);

static void
expect_problem(const char *what, Break fn, const char *why)
{
	Small s = small();
	IrProblem p;
	int id = -1;

	if (ir_check(s.m, &p) != 0)
		fail_msg("%s: the intact module fails: %s", what, p.why);
	fn(&s, &id);
	if (ir_check(s.m, &p) == 0)
		fail_msg("%s: the verifier accepts the broken module", what);
	if (!strstr(p.why, why) || p.id != id)
		fail_msg("%s: expected '%s' at %%%d, saw '%s' at %%%d", what,
			why, id, p.why, p.id);
	ir_module_free(s.m);
}

#define V(s) ((s)->m->fn.v)

static void
use_before_def(Small *s, int *id)
{
	*id = s->add;
	V(s)[s->add].arg[1] = s->relu;
}

static void
operand_out_of_range(Small *s, int *id)
{
	*id = s->relu;
	V(s)[s->relu].arg[0] = -7;
}

static void
extra_operand(Small *s, int *id)
{
	*id = s->relu;
	V(s)[s->relu].arg[1] = s->add;
}

static void
no_such_op(Small *s, int *id)
{
	*id = s->relu;
	V(s)[s->relu].op = IR_NOPS;
}

static void
stray_dimension(Small *s, int *id)
{
	*id = s->relu;
	V(s)[s->relu].type.dim[3] = 5;
}

static void
zero_dimension(Small *s, int *id)
{
	*id = s->w;
	V(s)[s->w].type.dim[0] = 0;
}

static void
map_type(Small *s, int *id)
{
	*id = s->relu;
	V(s)[s->relu].type.dim[0] = 3;
}

static void
no_broadcast(Small *s, int *id)
{
	*id = s->add;
	V(s)[s->add].arg[1] = s->x;     /* [B, 2] + [B, 3] */
}

static void
broadcast_type(Small *s, int *id)
{
	*id = s->add;
	V(s)[s->add].type.batched = 0;
}

static void
matmul_inner(Small *s, int *id)
{
	*id = s->mv;
	V(s)[s->mv].arg[0] = s->b;      /* [2] @ [B, 3] */
}

static void
matmul_invents_batch(Small *s, int *id)
{
	int t = tb_op(s->m, IR_transpose, s->w, -1, -1,
		&(IrType){ 0, 2, { 3, 2 } });
	IrType h = tb_type(1, 2, 2, 2);

	*id = tb_op(s->m, IR_matmul, s->w, t, -1, &h);
}

static void
reduction_axis(Small *s, int *id)
{
	IrType t = tb_type(1, 0, 0, 0);

	*id = tb_attr(s->m, tb_op(s->m, IR_rsum, s->relu, -1, -1, &t), 0, 1,
		0);
}

static void
reduction_shape(Small *s, int *id)
{
	IrType t = tb_type(1, 1, 2, 0);

	*id = tb_attr(s->m, tb_op(s->m, IR_rmax, s->relu, -1, -1, &t), 0, -1,
		0);
}

static void
unused_attribute(Small *s, int *id)
{
	*id = s->relu;
	V(s)[s->relu].num = 2;
}

static void
fractional_powi(Small *s, int *id)
{
	*id = tb_attr(s->m, tb_op(s->m, IR_powi, s->relu, -1, -1, NULL), 1.5,
		-1, 0);
}

static void
gather_out_of_range(Small *s, int *id)
{
	int at = ir_const(&s->m->fn, 2, nowhere);
	IrType t = tb_type(0, 1, 3, 0);

	*id = tb_op(s->m, IR_gather, s->w, at, -1, &t);
}

static void
gather_shape(Small *s, int *id)
{
	int at = ir_const(&s->m->fn, 1, nowhere);
	IrType t = tb_type(0, 1, 2, 0);

	*id = tb_op(s->m, IR_gather, s->w, at, -1, &t);
}

static void
scatter_size(Small *s, int *id)
{
	int at = ir_const(&s->m->fn, 1, nowhere);
	IrType t = tb_type(0, 2, 4, 3);

	*id = tb_attr(s->m, tb_op(s->m, IR_scatter, s->x, at, -1, &t), 0, -1,
		3);
}

static void
expand_axis(Small *s, int *id)
{
	IrType t = tb_type(0, 2, 2, 3);

	*id = tb_attr(s->m, tb_op(s->m, IR_expand, s->b, -1, -1, &t), 0, 2, 3);
}

static void
transpose_rank(Small *s, int *id)
{
	IrType t = tb_type(0, 1, 2, 0);

	*id = tb_op(s->m, IR_transpose, s->b, -1, -1, &t);
}

static void
bsum_unbatched(Small *s, int *id)
{
	IrType t = tb_type(0, 1, 2, 0);

	*id = tb_op(s->m, IR_bsum, s->b, -1, -1, &t);
}

static void
bcast_batched(Small *s, int *id)
{
	IrType t = tb_type(1, 1, 2, 0);

	*id = tb_op(s->m, IR_bcast, s->relu, -1, -1, &t);
}

static void
sumto_shape(Small *s, int *id)
{
	IrType t = tb_type(0, 1, 3, 0);

	*id = tb_op(s->m, IR_sumto, s->relu, -1, -1, &t);
}

static void
param_slot(Small *s, int *id)
{
	*id = s->b;
	V(s)[s->b].slot = 5;
}

static void
input_column(Small *s, int *id)
{
	*id = s->x;
	V(s)[s->x].slot = 1;
}

static void
batched_loss(Small *s, int *id)
{
	*id = s->relu;
	s->m->fn.loss = s->relu;
}

static void
loss_missing(Small *s, int *id)
{
	*id = -1;
	s->m->fn.loss = s->m->fn.n;
}

static void
gradient_type(Small *s, int *id)
{
	ir_grad(s->m);
	*id = s->m->fn.grad[0];
	s->m->fn.grad[1] = s->m->fn.grad[0];
	*id = s->m->fn.grad[1];
}

static void
param_offset(Small *s, int *id)
{
	*id = -1;
	s->m->params[1].offset = 3;
}

static void
back_in_forward(Small *s, int *id)
{
	*id = s->relu;
	V(s)[s->relu].adjoint = 1;
}

static void
test_verifier_catches(void **state)
{
	static const struct {
		const char *name;
		Break fn;
		const char *why;
	} cases[] = {
		{ "use before definition", use_before_def, "does not precede" },
		{ "operand out of range", operand_out_of_range,
			"does not precede" },
		{ "arity", extra_operand, "takes 1 operands" },
		{ "unknown op", no_such_op, "does not exist" },
		{ "dimension past the rank", stray_dimension,
			"past the rank" },
		{ "zero dimension", zero_dimension, "dimension 0 is 0" },
		{ "element-wise type", map_type, "expected type [B, 2], saw "
			"[B, 3]" },
		{ "broadcasting", no_broadcast, "do not broadcast" },
		{ "broadcast batch axis", broadcast_type, "expected type "
			"[B, 2]" },
		{ "matmul inner dimensions", matmul_inner,
			"inner dimensions differ" },
		{ "matmul batch axis", matmul_invents_batch,
			"no operand is" },
		{ "reduction axis", reduction_axis, "axis=1 is outside" },
		{ "reduction shape", reduction_shape, "reduction of all axes" },
		{ "unused attribute", unused_attribute, "num=2 is not used by "
			"relu" },
		{ "powi exponent", fractional_powi, "whole exponent" },
		{ "gather index range", gather_out_of_range,
			"outside 0..1" },
		{ "gather shape", gather_shape, "expected type [3], saw "
			"[2]" },
		{ "scatter size", scatter_size, "first dimension" },
		{ "expand axis", expand_axis, "axis=2 is outside" },
		{ "transpose rank", transpose_rank, "rank 2 or more" },
		{ "bsum without batch", bsum_unbatched, "bsum of a value "
			"without" },
		{ "bcast of batched", bcast_batched, "bcast of a value that "
			"has" },
		{ "sumto shape", sumto_shape, "does not broadcast" },
		{ "param slot", param_slot, "parameter 5 does not exist" },
		{ "input column", input_column, "no input starts at column "
			"1" },
		{ "batched loss", batched_loss, "unbatched scalar" },
		{ "loss out of range", loss_missing, "does not exist" },
		{ "gradient type", gradient_type, "typed like it" },
		{ "param offsets", param_offset, "starts at 3, expected 6" },
		{ "back value", back_in_forward, "not differentiated" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		expect_problem(cases[i].name, cases[i].fn, cases[i].why);
}

/* ir_verify() names the pass and shows the value. */
static void
test_verify_names_the_pass(void **state)
{
	Small s = small();
	char path[1100], *text;
	int fd, keep;

	(void)state;
	snprintf(path, sizeof path, "%s/stderr", scratch_dir("irtools-v"));
	V(&s)[s.add].arg[1] = s.relu;
	fflush(stderr);
	keep = dup(2);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(fd, 2);
	close(fd);
	int status = ir_verify(s.m, "cse");
	fflush(stderr);
	dup2(keep, 2);
	close(keep);
	assert_int_not_equal(status, 0);
	text = slurp(path);
	if (!strstr(text, "dlc: invalid IR after cse: operand 1 is %5, which "
	    "does not precede %4\n  %4 = add %3, %5 : [B, 2]"))
		fail_msg("unexpected report:\n%s", text);
	free(text);
	ir_module_free(s.m);
}

/* ---- the reader's diagnostics ---- */

static const char good_head[] =
	"module m\nsource \"m.dl\"\nstage forward\n"
	"train sgd lr=0.1 epochs=1 batch=1 seed=0\n"
	"param w : [2] = const(0)  ; 1:1\ninput x : [2]\n";

/* Runs dlc on head + body as a .dlir; expects status 1 and `want` in
 * stderr. */
static void
expect_read_error(const char *body, const char *want)
{
	const char *dir = scratch_dir("irtools-read");
	char path[1100], cmd[4200], *err;
	char text[4096];

	snprintf(text, sizeof text, "%s%s", good_head, body);
	snprintf(path, sizeof path, "%s/bad.dlir", dir);
	write_text(path, text);
	snprintf(cmd, sizeof cmd, "cd '%s' && '%s' --emit=ir bad.dlir 2>&1 "
		">/dev/null", dir, dlc());
	int status = run_cmd(cmd, &err);
	if (status != 1 || !strstr(err, want))
		fail_msg("expected status 1 and\n%s\nsaw status %d and\n%s",
			want, status, err);
	free(err);
}

static void
test_reader_diagnostics(void **state)
{
	(void)state;
	expect_read_error("func {\n  %0 = param w : [2]\n  %1 = frob %0 : "
		"[2]\n}\nloss %1\n",
		"bad.dlir:9:8: error: unknown op 'frob'\n"
		"    %1 = frob %0 : [2]\n"
		"         ^\n");
	expect_read_error("func {\n  %0 = param w : [2]\n  %1 = exp %2 : "
		"[2]\n}\nloss %1\n",
		"bad.dlir:9:12: error: %2 is not defined before here");
	expect_read_error("func {\n  %0 = param v : [2]\n}\nloss %0\n",
		"bad.dlir:8:14: error: no parameter named 'v'");
	expect_read_error("func {\n  %0 = param w : [2]\n  %5 = exp %0 : "
		"[2]\n}\nloss %5\n",
		"bad.dlir:9:3: error: expected %1, saw %5");
	expect_read_error("func {\n  %0 = param w : [2, 0]\n}\nloss %0\n",
		"bad.dlir:8:22: error: 0 is outside 1..1073741824");
	expect_read_error("func {\n  %0 = param w axis= : [2]\n}\nloss %0\n",
		"bad.dlir:8:22: error: expected a whole number, saw ':'");
	expect_read_error("func {\n  %0 = param w : [2] junk\n}\nloss %0\n",
		"bad.dlir:8:22: error: expected the end of the line, saw "
		"'junk'");
	expect_read_error("func {\n  %0 = param w : [2]\n",
		"error: the function has no closing '}'");
	/* well formed, badly typed: the verifier's finding, at its line */
	expect_read_error("func {\n  %0 = param w : [2]\n  %1 = rsum %0 : "
		"[]\n  %2 = bsum %1 : []\n}\nloss %2\n",
		"bad.dlir:10:1: error: bsum of a value without the batch axis");
	expect_read_error("func {\n  %0 = param w : [2]\n  %1 = rsum %0 : []"
		"\n}\nloss %1\ngrad w %1\n",
		"a module at stage forward has no gradients");
}

/* Reads damaged text quietly; 0 when the reader behaved: it reported
 * errors and gave nothing, or accepted a module that verifies. */
static int
misread(const char *text)
{
	Arena *arena = arena_new();
	int nerrors, wrong;
	IrModule *back = read_text(text, arena, &nerrors);
	IrProblem p;

	wrong = back ? nerrors != 0 || ir_check(back, &p) != 0 : nerrors == 0;
	ir_module_free(back);
	arena_free(arena);
	return wrong;
}

/* Every prefix and many one-byte changes of a real module: the reader
 * reports or accepts, and what it accepts verifies. */
static void
test_reader_survives_damage(void **state)
{
	static const char bytes[] = "%0123456789-=:[],;{}Bxe. \n\t\x80";
	IrModule *m = tb_module("dmg");
	char *text, *first_bad = NULL;
	size_t len;
	unsigned seed = 7;

	(void)state;
	add_loss(m, b_nondifferentiable(m));
	assert_int_equal(ir_run_stages(m, 0, 4, 1), 0);
	text = print_module(m, "opt");
	len = strlen(text);
	quiet(1);
	for (size_t cut = 0; cut <= len && !first_bad; cut += 1 + cut / 64) {
		char *part = strndup(text, cut);
		if (misread(part))
			first_bad = part;
		else
			free(part);
	}
	for (int k = 0; k < 3000 && !first_bad; k++) {
		char *bent = strdup(text);
		seed = seed * 1103515245u + 12345u;
		bent[(seed >> 8) % len] = bytes[(seed >> 20) % (sizeof bytes - 1)];
		if (misread(bent))
			first_bad = bent;
		else
			free(bent);
	}
	quiet(0);
	if (first_bad)
		fail_msg("the reader misbehaved on:\n%s", first_bad);
	free(text);
	ir_module_free(m);
}

/* ---- golden files ---- */

/* tests/ir/NAME.STAGE.ir against dlc --emit=ir=STAGE examples/NAME.dl;
 * `make update-golden` rewrites them. */
static void
test_golden_ir(void **state)
{
	static char names[256][128];
	int n = list_files(DLC_ROOT "/tests/ir", ".ir", names, 256);
	int passed = 0;

	(void)state;
	assert_true(n >= 5);
	for (int i = 0; i < n; i++) {
		char *dot = strrchr(names[i], '.'), path[40000], *want, *got;
		assert_non_null(dot);
		*dot = '\0';
		snprintf(path, sizeof path, "%s/tests/ir/%s.%s.ir", DLC_ROOT,
			names[i], dot + 1);
		want = slurp(path);
		assert_int_equal(in_root(&got, "'%s' --verify --emit=ir=%s "
			"examples/%s.dl", dlc(), dot + 1, names[i]), 0);
		if (strcmp(want, got) == 0)
			passed++;
		else
			printf("  golden %s.%s.ir differs; see `make "
				"update-golden`\n", names[i], dot + 1);
		free(want);
		free(got);
	}
	printf("  golden IR: %d/%d passed\n", passed, n);
	assert_int_equal(passed, n);
}

/* ---- the picture ---- */

static void
test_dot_renders(void **state)
{
	static char names[MAX_EXAMPLES][128];
	int n = usable_examples(names);
	const char *dir = scratch_dir("irtools-dot");
	char *out;

	(void)state;
	if (run_cmd("command -v dot >/dev/null", NULL) != 0)
		fail_msg("graphviz's dot is missing: run make deps");
	for (int i = 0; i < n; i++) {
		assert_int_equal(in_root(&out, "'%s' --verify --emit=dot "
			"examples/%s.dl", dlc(), names[i]), 0);
		if (!strstr(out, "subgraph cluster_line") ||
		    !strstr(out, "shape=box, style=\"filled,rounded\"") ||
		    !strstr(out, "-> loss") || !strstr(out, "d loss / d "))
			fail_msg("%s: the picture lacks clusters, back nodes "
				"or marked roots:\n%s", names[i], out);
		free(out);
		assert_int_equal(in_root(&out, "'%s' --emit=dot examples/%s.dl "
			"| dot -Tsvg > '%s/%s.svg' && grep -c '<svg' "
			"'%s/%s.svg'", dlc(), names[i], dir, names[i], dir,
			names[i]), 0);
		free(out);
	}
	assert_int_equal(access(DLC_ROOT "/docs/polyfit.svg", R_OK), 0);
}

/* ---- gradcheck ---- */

static void
test_gradcheck_examples(void **state)
{
	static char names[MAX_EXAMPLES][128];
	int n = usable_examples(names);
	char *out, data[40000];

	(void)state;
	for (int i = 0; i < n; i++) {
		snprintf(data, sizeof data, "%s/examples/data/%s.csv", DLC_ROOT,
			names[i]);
		int has_data = access(data, R_OK) == 0;
		int status = in_root(&out, "'%s' --gradcheck examples/%s.dl "
			"%s%s", dlc(), names[i], has_data ? "--data " : "",
			has_data ? data : "");
		if (status != 0 || !strstr(out, "ok: tolerance 1e-06"))
			fail_msg("%s: gradcheck failed:\n%s", names[i], out);
		free(out);
	}
	assert_int_equal(in_root(&out, "'%s' --gradcheck examples/polyfit.dl",
		dlc()), 0);
	assert_non_null(strstr(out, "64 random rows"));
	assert_non_null(strstr(out, "  k5 "));
	free(out);
}

/* A .dlir whose backward pass is wrong: d(u^2)/du taken as 3u. */
static void
test_gradcheck_catches_a_wrong_gradient(void **state)
{
	const char *dir = scratch_dir("irtools-gc");
	char path[1100], *text, *bad, *out;

	(void)state;
	assert_int_equal(in_root(&text, "'%s' --emit=ir=grad "
		"examples/polyfit.dl", dlc()), 0);
	bad = strstr(text, "= const 2 : []");
	assert_non_null(bad);
	bad[strlen("= const ")] = '3';
	snprintf(path, sizeof path, "%s/wrong.dlir", dir);
	write_text(path, text);
	assert_int_equal(in_root(&out, "'%s' --gradcheck '%s' --data "
		"examples/data/polyfit.csv", dlc(), path), 1);
	assert_non_null(strstr(out, "FAILED"));
	assert_non_null(strstr(out, "k0 "));
	free(out);
	free(text);
}

TestList
irtools_tests(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples_read_back),
		cmocka_unit_test(test_dlir_generates_the_same_c),
		cmocka_unit_test(test_hand_built_read_back),
		cmocka_unit_test(test_every_field_reads_back),
		cmocka_unit_test(test_verifier_catches),
		cmocka_unit_test(test_verify_names_the_pass),
		cmocka_unit_test(test_reader_diagnostics),
		cmocka_unit_test(test_reader_survives_damage),
		cmocka_unit_test(test_golden_ir),
		cmocka_unit_test(test_dot_renders),
		cmocka_unit_test(test_gradcheck_examples),
		cmocka_unit_test(test_gradcheck_catches_a_wrong_gradient),
	};
	return (TestList){ tests, sizeof tests / sizeof tests[0] };
}
