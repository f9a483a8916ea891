/*
 * check.c - name resolution and semantic checks on the syntax tree.
 *
 * Needs: a tree from parse_program().  Guarantees, when it returns zero:
 * every name refers to an earlier declaration, each name is defined once,
 * there is exactly one loss and at most one output, parameters, inputs and
 * targets are numbered in declaration order, and the train settings are
 * filled in (from the clause, else the documented defaults).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"

typedef struct Scope {
	Decl **decls;
	int n, cap;
} Scope;

static const char *const opt_names[] = { [OPT_SGD] = "sgd" };

const char *
check_opt_name(OptKind k)
{
	return opt_names[k];
}

/* Edit distance, for "did you mean"; long names are not worth comparing. */
static int
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int row[65];

	if (la > 64 || lb > 64)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int diag = row[0];
		row[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int up = row[j];
			int best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

static Decl *
lookup(const Scope *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->decls[i]->name, name) == 0)
			return s->decls[i];
	return NULL;
}

static const char *
closest(const Scope *s, const char *name)
{
	const char *best = NULL;
	int best_d = (int)strlen(name) / 3 + 1;

	if (best_d > 2)
		best_d = 2;
	for (int i = 0; i < s->n; i++) {
		int d = distance(name, s->decls[i]->name);
		if (d <= best_d) {
			best_d = d;
			best = s->decls[i]->name;
		}
	}
	return best;
}

static void
define(Program *p, Scope *s, Decl *d)
{
	Decl *old = lookup(s, d->name);

	if (old) {
		diag_error(p->src, d->loc, "'%s' is already defined", d->name);
		diag_note(p->src, old->loc, "'%s' was defined here", d->name);
		return;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->decls = realloc(s->decls, (size_t)s->cap * sizeof *s->decls);
	}
	s->decls[s->n++] = d;
}

static void
resolve(Program *p, const Scope *s, Expr *e)
{
	switch (e->kind) {
	case E_NUM:
		break;
	case E_NAME:
		e->decl = lookup(s, e->name);
		if (!e->decl) {
			const char *hint = closest(s, e->name);
			if (hint)
				diag_error(p->src, e->loc, "unknown name '%s'; "
					"did you mean '%s'?", e->name, hint);
			else
				diag_error(p->src, e->loc, "unknown name '%s'",
					e->name);
		}
		break;
	case E_BINARY:
		resolve(p, s, e->rhs);
		/* fall through */
	case E_UNARY:
		resolve(p, s, e->lhs);
		break;
	case E_CALL:
	case E_INDEX:
	case E_VECTOR:
	case E_COMPR:
		break;
	}
}

static void
single(Program *p, Decl **slot, Decl *d, const char *what)
{
	if (*slot) {
		diag_error(p->src, d->loc, "a program has one %s statement",
			what);
		diag_note(p->src, (*slot)->loc, "the first one is here");
		return;
	}
	*slot = d;
}

static void
check_decls(Program *p)
{
	Scope scope = { 0 };
	int syntax_errors = p->src->nerrors;

	for (Decl *d = p->decls; d; d = d->next) {
		if (d->expr)
			resolve(p, &scope, d->expr);
		switch (d->kind) {
		case D_INPUT:
			d->index = p->ninputs++;
			break;
		case D_TARGET:
			d->index = p->ntargets++;
			break;
		case D_PARAM:
			d->index = p->nparams++;
			break;
		case D_LET:
		case D_CONST:
		case D_FN:
		case D_ARG:
		case D_INDEX:
			break;
		case D_OUTPUT:
			single(p, &p->output, d, "output");
			continue;
		case D_LOSS:
			single(p, &p->loss, d, "loss");
			continue;
		}
		define(p, &scope, d);
	}
	free(scope.decls);
	/* a syntax error may have swallowed the loss statement */
	if (!p->loss && syntax_errors == 0) {
		Loc end = { 1, 1, 1, 1 };
		diag_error(p->src, end, "the program has no 'loss' statement");
	}
}

static int
is_count(double v, double lo, double hi)
{
	return v == floor(v) && v >= lo && v <= hi;
}

static void
check_train_arg(Program *p, Train *t, const TrainArg *a)
{
	if (strcmp(a->name, "lr") == 0) {
		if (!(a->value > 0))
			diag_error(p->src, a->loc, "lr must be positive");
		t->lr = a->value;
	} else if (strcmp(a->name, "momentum") == 0) {
		if (!(a->value >= 0 && a->value < 1))
			diag_error(p->src, a->loc,
				"momentum must be in [0, 1)");
		t->momentum = a->value;
	} else {
		diag_error(p->src, a->loc, "sgd has no argument '%s'; "
			"expected lr or momentum", a->name);
	}
}

/* Defaults apply when the clause, or one of its arguments, is absent. */
static void
check_train(Program *p)
{
	Train *t = p->train;

	if (!t) {
		t = p->train = arena_alloc(p->arena, sizeof *t);
		t->epochs = 100;
		t->batch = 32;
	}
	t->opt = OPT_SGD;
	t->lr = 0.01;
	if (t->opt_name && strcmp(t->opt_name, "sgd") != 0)
		diag_error(p->src, t->opt_loc, "unknown optimizer '%s'; "
			"expected sgd", t->opt_name);
	else
		for (const TrainArg *a = t->args; a; a = a->next)
			check_train_arg(p, t, a);
	if (!is_count(t->epochs, 1, 1e9))
		diag_error(p->src, t->epochs_loc,
			"epochs must be a whole number from 1 to 1e9");
	if (!is_count(t->batch, 1, 1e7))
		diag_error(p->src, t->batch_loc,
			"batch must be a whole number from 1 to 1e7");
	if (t->has_seed && !is_count(t->seed, 0, 9007199254740992.0))
		diag_error(p->src, t->seed_loc,
			"seed must be a whole number from 0 to 2^53");
}

int
check_program(Program *p)
{
	check_decls(p);
	check_train(p);
	return p->src->nerrors;
}
