/*
 * ir_build.c - building IR modules by hand for tests, and compiling their
 * generated C into a shared object to call.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cg.h"
#include "ir_build.h"
#include "tests.h"

static const Loc nowhere = { 1, 1, 1, 1 };

IrType
tb_type(int batched, int rank, int d0, int d1)
{
	int dim[2] = { d0, d1 };

	return ir_shape(batched, rank, dim);
}

IrModule *
tb_module(const char *name)
{
	IrModule *m = calloc(1, sizeof *m);

	m->name = name;
	m->path = "test";
	m->params = calloc(16, sizeof *m->params);
	m->inputs = calloc(16, sizeof *m->inputs);
	m->targets = calloc(1, sizeof *m->targets);
	m->fn.output = -1;
	m->train.epochs = m->train.batch = 1;
	return m;
}

int
tb_op(IrModule *m, IrOp op, int a, int b, int c, const IrType *t)
{
	return ir_emit(&m->fn, op, a, b, c, t, nowhere);
}

int
tb_attr(IrModule *m, int id, double num, int axis, int n)
{
	m->fn.v[id].num = num;
	m->fn.v[id].axis = axis;
	m->fn.v[id].n = n;
	return id;
}

static const char *const names[] = { "a", "b", "c", "d", "e", "f", "g" };

int
tb_param(IrModule *m, int rank, int d0, int d1)
{
	IrType t = tb_type(0, rank, d0, d1);
	int i = m->nparams++;
	int id = tb_op(m, IR_param, -1, -1, -1, &t);

	m->params[i] = (IrParam){ names[i], t, INIT_CONST, 0, 0,
		m->param_size, nowhere };
	m->param_size += ir_numel(&t);
	m->fn.v[id].slot = i;
	m->fn.nparams = m->nparams;
	return id;
}

int
tb_input(IrModule *m, int rank, int d0, int d1)
{
	IrType t = tb_type(1, rank, d0, d1);
	int i = m->ninputs++;
	int id = tb_op(m, IR_input, -1, -1, -1, &t);

	t.batched = 0;
	m->inputs[i] = (IrData){ names[i + 3], t, 0, m->input_size };
	m->fn.v[id].slot = (int)m->input_size;
	m->input_size += ir_numel(&t);
	return id;
}

void
tb_finish(IrModule *m, int result)
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
	if (ir_verify(m, "forward") ||
	    ir_run_stages(m, 0, ir_stage_index("opt"), 1))
		abort();    /* the verifier printed what broke */
}

static int
write_with(const char *path, void (*fn)(const IrModule *, const CgOptions *,
	FILE *), const IrModule *m, const CgOptions *o)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fn(m, o, f);
	return fclose(f);
}

int
tb_compile(const IrModule *m, const char *dir, Compiled *c)
{
	CgOptions o = { .precision = CG_F64 };
	char h[1200], src[1200], so[1200], cmd[4096], sym[128], *out;

	memset(c, 0, sizeof *c);
	snprintf(h, sizeof h, "%s/%s.h", dir, m->name);
	snprintf(src, sizeof src, "%s/%s.c", dir, m->name);
	snprintf(so, sizeof so, "%s/%s.so", dir, m->name);
	if (write_with(h, cg_emit_header, m, &o) ||
	    write_with(src, cg_emit_source, m, &o))
		return -1;
	snprintf(cmd, sizeof cmd, "cc -std=c99 -pedantic -Wall -Wextra -Werror "
		"-O1 -shared -fPIC '%s' -o '%s' -lm 2>&1", src, so);
	if (run_cmd(cmd, &out) != 0) {
		snprintf(c->error, sizeof c->error, "%s", out);
		free(out);
		return -1;
	}
	free(out);
	c->so = dlopen(so, RTLD_NOW | RTLD_LOCAL);
	if (!c->so)
		return -1;
	snprintf(sym, sizeof sym, "%s_loss", m->name);
	*(void **)&c->loss = dlsym(c->so, sym);
	snprintf(sym, sizeof sym, "%s_loss_grad", m->name);
	*(void **)&c->loss_grad = dlsym(c->so, sym);
	snprintf(sym, sizeof sym, "%s_workspace_size", m->name);
	*(void **)&c->workspace_size = dlsym(c->so, sym);
	return c->loss && c->loss_grad && c->workspace_size ? 0 : -1;
}

void
tb_unload(Compiled *c)
{
	if (c->so)
		dlclose(c->so);
	c->so = NULL;
}

IrModule *
tb_compile_source(const char *text, Arena *arena, Source **src)
{
	*src = src_from_string("t.dl", text, strlen(text));
	Program *p = parse_program(*src, arena);
	if (check_program(p) != 0)
		return NULL;
	IrModule *m = ir_lower(p, "t");
	if (m && (ir_verify(m, "forward") ||
	    ir_run_stages(m, 0, ir_stage_index("opt"), 1)))
		abort();    /* the verifier printed what broke */
	return m;
}
