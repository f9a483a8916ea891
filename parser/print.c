/*
 * print.c - the checked tree as text, for --emit=ast and the tests.
 *
 * One statement a line, "LINE: what", expressions as s-expressions whose
 * every node carries its shape: (op:[shape] operands...).  A call of a
 * user function prints its instantiation: the arguments, the locals, and
 * after "->" the result.  Numbers print in their shortest exact form.
 */
#include <stdio.h>
#include <stdlib.h>

#include "ast.h"

static void
print_num(FILE *f, double v)
{
	char buf[32];

	if (v == (double)(long long)v && v > -1e15 && v < 1e15) {
		fprintf(f, "%lld", (long long)v);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	fputs(buf, f);
}

static void
print_shape(FILE *f, Shape s)
{
	fputc('[', f);
	for (int i = 0; i < s.rank; i++)
		fprintf(f, "%s%d", i ? ", " : "", s.dim[i]);
	fputc(']', f);
}

static const char *
op_name(int op)
{
	static char one[2];

	switch (op) {
	case OP_LE: return "<=";
	case OP_GE: return ">=";
	case OP_EQ: return "==";
	case OP_NE: return "!=";
	case OP_AND: return "and";
	case OP_OR: return "or";
	case OP_NOT: return "not";
	default:
		one[0] = (char)op;
		return one;
	}
}

static void print_expr(FILE *f, const Expr *e);

static void
print_args(FILE *f, const Expr *e)
{
	for (int i = 0; i < e->nargs; i++) {
		fputc(' ', f);
		print_expr(f, e->args[i]);
	}
}

static void
print_call(FILE *f, const Expr *e)
{
	const FnCall *call = e->call;

	fprintf(f, "(%s:", e->name);
	print_shape(f, e->shape);
	if (!call) {
		if (e->kind == E_CALL && e->axis >= 0)
			fprintf(f, " axis=%d", e->axis);
		print_args(f, e);
		fputc(')', f);
		return;
	}
	for (int i = 0; i < call->nparams; i++) {
		fprintf(f, " (%s = ", call->param[i]->name);
		print_expr(f, call->param[i]->expr);
		fputc(')', f);
	}
	for (const Decl *l = call->locals; l; l = l->next) {
		fprintf(f, " (let %s = ", l->name);
		print_expr(f, l->expr);
		fputc(')', f);
	}
	fputs(" -> ", f);
	print_expr(f, call->result);
	fputc(')', f);
}

static void
print_compr(FILE *f, const Expr *e)
{
	fprintf(f, "(%s:", e->name);
	print_shape(f, e->shape);
	fprintf(f, " for %s in %ld..%ld ", e->var->name, e->lo, e->hi);
	print_expr(f, e->lhs);
	fputc(')', f);
}

static void
print_expr(FILE *f, const Expr *e)
{
	switch (e->kind) {
	case E_NUM:
		print_num(f, e->num);
		return;
	case E_NAME:
		fprintf(f, "%s:", e->name);
		print_shape(f, e->shape);
		return;
	case E_CALL:
		print_call(f, e);
		return;
	case E_COMPR:
		print_compr(f, e);
		return;
	case E_UNARY:
		fprintf(f, "(%s:", e->op == '-' ? "neg" : op_name(e->op));
		break;
	case E_BINARY:
		fprintf(f, "(%s:", op_name(e->op));
		break;
	case E_INDEX:
		fputs("(index:", f);
		break;
	case E_VECTOR:
		fputs("(vector:", f);
		break;
	}
	print_shape(f, e->shape);
	if (e->lhs) {
		fputc(' ', f);
		print_expr(f, e->lhs);
	}
	if (e->rhs) {
		fputc(' ', f);
		print_expr(f, e->rhs);
	}
	print_args(f, e);
	fputc(')', f);
}

static const char *const init_word[] = {
	[INIT_CONST] = "=", [INIT_NORMAL] = "normal",
	[INIT_UNIFORM] = "uniform", [INIT_GLOROT] = "glorot",
	[INIT_HE] = "he",
};

static void
print_param(FILE *f, const Decl *d)
{
	fprintf(f, " %s", init_word[d->init_kind]);
	if (d->init_kind == INIT_CONST) {
		fputc(' ', f);
		print_num(f, d->init_a);
	} else if (d->init_kind == INIT_NORMAL ||
	    d->init_kind == INIT_UNIFORM) {
		fputc('(', f);
		print_num(f, d->init_a);
		fputs(", ", f);
		print_num(f, d->init_b);
		fputc(')', f);
	}
}

static const char *const decl_word[] = {
	[D_INPUT] = "input", [D_TARGET] = "target", [D_PARAM] = "param",
	[D_LET] = "let", [D_OUTPUT] = "output", [D_LOSS] = "loss",
	[D_CONST] = "const", [D_FN] = "fn", [D_ARG] = "arg",
	[D_INDEX] = "index",
};

static void
print_decl(FILE *f, const Decl *d)
{
	fprintf(f, "%d: %s", d->loc.line, decl_word[d->kind]);
	if (d->kind == D_FN) {
		fprintf(f, " %s(", d->name);
		for (int i = 0; i < d->fn_nparams; i++)
			fprintf(f, "%s%s", i ? ", " : "", d->fn_params[i]);
		fputs(")\n", f);
		return;
	}
	if (d->name)
		fprintf(f, " %s", d->name);
	if (d->kind == D_INPUT || d->kind == D_TARGET || d->kind == D_PARAM ||
	    d->kind == D_LET) {
		fputc(':', f);
		print_shape(f, d->shape);
	}
	if (d->kind == D_TARGET && d->nclasses)
		fprintf(f, " class(%d)", d->nclasses);
	if (d->kind == D_PARAM)
		print_param(f, d);
	if (d->kind == D_CONST) {
		fputs(" = ", f);
		print_num(f, d->init_a);
	} else if (d->expr) {
		fputs(" = ", f);
		print_expr(f, d->expr);
	}
	fputc('\n', f);
}

static void
print_train(FILE *f, const Train *t)
{
	static const char *const names[] = { "lr", "momentum", "beta1",
		"beta2", "eps", "weight_decay" };
	const double values[] = { t->lr, t->momentum, t->beta1, t->beta2,
		t->eps, t->weight_decay };
	static const int used[][6] = {
		[OPT_SGD] = { 1, 1, 0, 0, 0, 0 },
		[OPT_ADAM] = { 1, 0, 1, 1, 1, 0 },
		[OPT_ADAMW] = { 1, 0, 1, 1, 1, 1 },
	};

	fprintf(f, "%d: train %s", t->loc.line, check_opt_name(t->opt));
	for (int i = 0; i < 6; i++)
		if (used[t->opt][i]) {
			fprintf(f, " %s=", names[i]);
			print_num(f, values[i]);
		}
	fputs(" epochs ", f);
	print_num(f, t->epochs);
	fputs(" batch ", f);
	print_num(f, t->batch);
	fputs(" seed ", f);
	print_num(f, t->seed);
	fputc('\n', f);
}

void
parse_fprint_ast(FILE *f, const Program *p)
{
	for (const Decl *d = p->decls; d; d = d->next)
		print_decl(f, d);
	if (p->train)
		print_train(f, p->train);
}

void
parse_print_ast(const Program *p)
{
	parse_fprint_ast(stdout, p);
}
