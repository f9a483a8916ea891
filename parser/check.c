/*
 * check.c - name resolution, declarations and the train clause.
 *
 * Needs: a tree from parse_program().  Guarantees, when it returns zero:
 * every name refers to a declaration it may see, each name is defined once
 * in its scope, every expression has a shape and a type (see typing.c),
 * every call of a user function holds its own instantiation, no function
 * recurses, there is exactly one scalar loss and at most one output,
 * parameters, inputs and targets are numbered in declaration order, and
 * the train settings are filled in (from the clause, else the defaults).
 *
 * Scopes: the program's statements see every earlier statement.  A
 * function body sees its parameters, its locals, the comprehension
 * indices around it, and the consts and functions defined before the
 * function; not inputs, targets, params or bindings, which it must be
 * passed.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static const char *const opt_names[] = {
	[OPT_SGD] = "sgd", [OPT_ADAM] = "adam", [OPT_ADAMW] = "adamw",
};

const char *
check_opt_name(OptKind k)
{
	return opt_names[k];
}

void
check_error(Checker *c, Loc loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_verror(c->p->src, loc, fmt, ap);
	va_end(ap);
	/* an error inside an inlined body says which call brought it */
	for (int i = c->ncalls - 1; i >= 0 && i >= c->ncalls - 3; i--)
		if (c->calls[i].site)
			diag_note(c->p->src, c->calls[i].site->loc,
				"in this call of '%s'", c->calls[i].fn->name);
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

void
check_hint_init(Hint *h, const char *name)
{
	h->name = name;
	h->best = NULL;
	/* one letter is as far from any other as from nothing: no hint */
	h->dist = strlen(name) < 2 ? 0 : (int)strlen(name) / 3 + 1;
	if (h->dist > 2)
		h->dist = 2;
}

void
check_hint(Hint *h, const char *candidate)
{
	int d = distance(h->name, candidate);

	if (d <= h->dist && d > 0) {
		h->dist = d;
		h->best = candidate;
	}
}

static void
push(Decl ***items, int *n, int *cap, Decl *d)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 16;
		*items = realloc(*items, (size_t)*cap * sizeof **items);
		if (!*items)
			abort();
	}
	(*items)[(*n)++] = d;
}

/* Whether a function body may see global g. */
static int
fn_sees(const Checker *c, int i)
{
	DeclKind k = c->globals[i]->kind;

	return i < c->scope_n && (k == D_CONST || k == D_FN);
}

static size_t
name_hash(const char *s)
{
	size_t h = 14695981039346656037u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

/* The slot of `name` in the globals' table: its index there, or -1. */
static size_t
global_slot(const Checker *c, const char *name)
{
	size_t mask = c->gtable_cap - 1, i = name_hash(name) & mask;

	while (c->gtable[i] >= 0 &&
	    strcmp(c->globals[c->gtable[i]]->name, name) != 0)
		i = (i + 1) & mask;
	return i;
}

static int
global_index(const Checker *c, const char *name)
{
	return c->gtable_cap ? c->gtable[global_slot(c, name)] : -1;
}

/* Records globals[i] by name; a program of many names stays linear. */
static void
index_global(Checker *c, int i)
{
	if ((size_t)c->nglobals * 2 >= c->gtable_cap) {
		size_t cap = c->gtable_cap ? 2 * c->gtable_cap : 64;
		free(c->gtable);
		c->gtable = malloc(cap * sizeof *c->gtable);
		c->gtable_cap = cap;
		for (size_t k = 0; k < cap; k++)
			c->gtable[k] = -1;
		for (int k = 0; k < i; k++)
			c->gtable[global_slot(c, c->globals[k]->name)] = k;
	}
	c->gtable[global_slot(c, c->globals[i]->name)] = i;
}

/* Innermost first: this body's locals, then the globals it may see. */
Decl *
check_lookup(const Checker *c, const char *name)
{
	for (int i = c->nlocals - 1; i >= c->frame; i--)
		if (strcmp(c->locals[i]->name, name) == 0)
			return c->locals[i];
	int i = global_index(c, name);

	if (i >= 0 && (!c->in_fn || fn_sees(c, i)))
		return c->globals[i];
	return NULL;
}

/* Offers every visible name to a hint. */
void
check_hint_visible(const Checker *c, Hint *h, int fns_only)
{
	for (int i = c->frame; i < c->nlocals && !fns_only; i++)
		check_hint(h, c->locals[i]->name);
	for (int i = 0; i < c->nglobals; i++)
		if ((!c->in_fn || fn_sees(c, i)) &&
		    (!fns_only || c->globals[i]->kind == D_FN))
			check_hint(h, c->globals[i]->name);
}

static const char *const kind_word[] = {
	[D_INPUT] = "an input", [D_TARGET] = "a target",
	[D_PARAM] = "a param", [D_CONST] = "a const", [D_LET] = "a binding",
	[D_OUTPUT] = "the output", [D_LOSS] = "the loss",
	[D_FN] = "a function", [D_ARG] = "an argument",
	[D_INDEX] = "an index",
};

const char *
check_kind_word(DeclKind k)
{
	return kind_word[k];
}

void
check_unknown(Checker *c, Loc loc, const char *name)
{
	Hint h;

	/* a global the body may not see gets a message of its own */
	if (c->in_fn)
		for (int i = 0; i < c->nglobals; i++)
			if (strcmp(c->globals[i]->name, name) == 0) {
				check_error(c, loc, "'%s' is %s, which a "
					"function cannot see; pass it as an "
					"argument", name,
					kind_word[c->globals[i]->kind]);
				return;
			}
	check_hint_init(&h, name);
	check_hint_visible(c, &h, 0);
	if (h.best)
		check_error(c, loc, "unknown name '%s'; did you mean '%s'?",
			name, h.best);
	else
		check_error(c, loc, "unknown name '%s'", name);
}

static void
redefined(Checker *c, const Decl *d, const Decl *old)
{
	check_error(c, d->loc, "'%s' is already defined", d->name);
	diag_note(c->p->src, old->loc, "'%s' was defined here", d->name);
}

/* A name of the program: unique among the globals. */
static int
define_global(Checker *c, Decl *d)
{
	int old = global_index(c, d->name);

	if (old >= 0) {
		redefined(c, d, c->globals[old]);
		return 0;
	}
	push(&c->globals, &c->nglobals, &c->gcap, d);
	index_global(c, c->nglobals - 1);
	return 1;
}

/*
 * A name of a body or comprehension: unique among the body's names, and a
 * comprehension index shadows nothing at all.  It is pushed either way, so
 * the body that follows sees the newest meaning.
 */
void
check_define_local(Checker *c, Decl *d)
{
	Decl *old = check_lookup(c, d->name);

	if (old && (old->kind == D_ARG || old->kind == D_LET ||
	    old->kind == D_INDEX || d->kind == D_INDEX))
		redefined(c, d, old);
	push(&c->locals, &c->nlocals, &c->lcap, d);
}

/* A whole number from lo to hi, known at compile time. */
int
check_count(const Expr *e, double lo, double hi)
{
	return e->is_const && e->const_value == floor(e->const_value) &&
		e->const_value >= lo && e->const_value <= hi;
}

/* The declared dimensions: whole constants, at most MAX_RANK of them. */
static void
check_dims(Checker *c, Decl *d)
{
	d->shape.rank = 0;
	if (d->ndims > MAX_RANK) {
		check_error(c, d->dims[MAX_RANK]->loc, "a tensor has at most "
			"%d dimensions, saw %d", MAX_RANK, d->ndims);
		d->shape.rank = -1;
		return;
	}
	for (int i = 0; i < d->ndims; i++) {
		Expr *e = d->dims[i];
		if (!check_expr(c, e))
			continue;
		if (!e->is_const)
			check_error(c, e->loc, "a dimension must be known at "
				"compile time: a number or a const");
		else if (!check_count(e, 1, CHECK_MAX_DIM))
			check_error(c, e->loc, "a dimension must be a whole "
				"number from 1 to %d, saw %g", CHECK_MAX_DIM,
				e->const_value);
		else
			d->shape.dim[d->shape.rank++] = (int)e->const_value;
	}
	if (d->shape.rank != d->ndims) {
		d->shape.rank = -1;
	} else if (shape_size(d->shape) > CHECK_MAX_SIZE) {
		check_error(c, d->loc, "'%s' would have %ld elements; the "
			"limit is %d", d->name, shape_size(d->shape),
			CHECK_MAX_SIZE);
		d->shape.rank = -1;
	}
}

/* The numbers given to normal(...) or uniform(...). */
static int
init_numbers(Checker *c, Decl *d, int want, const char *what)
{
	if (d->init_nargs != want) {
		check_error(c, d->init_loc, "'%s' takes %d %s, saw %d",
			d->init_name, want, what, d->init_nargs);
		return 0;
	}
	for (int i = 0; i < want; i++) {
		Expr *e = d->init_args[i];
		if (!check_expr(c, e))
			return 0;
		if (!e->is_const || !isfinite(e->const_value)) {
			check_error(c, e->loc, "an initializer's argument must "
				"be a number known at compile time");
			return 0;
		}
	}
	if (want > 0)
		d->init_a = d->init_args[0]->const_value;
	if (want > 1)
		d->init_b = d->init_args[1]->const_value;
	return 1;
}

static const struct {
	const char *name;
	InitKind kind;
	int nargs;
	const char *args;
} inits[] = {
	{ "normal", INIT_NORMAL, 2, "arguments (mean, std)" },
	{ "uniform", INIT_UNIFORM, 2, "arguments (lo, hi)" },
	{ "glorot", INIT_GLOROT, 0, "arguments" },
	{ "he", INIT_HE, 0, "arguments" },
};

static void
check_init_values(Checker *c, Decl *d)
{
	char buf[48];

	if (d->init_kind == INIT_NORMAL && !(d->init_b > 0))
		check_error(c, d->init_args[1]->loc, "normal's std must be "
			"positive, saw %g", d->init_b);
	if (d->init_kind == INIT_UNIFORM && !(d->init_a < d->init_b))
		check_error(c, d->init_loc, "uniform needs lo < hi, saw %g "
			"and %g", d->init_a, d->init_b);
	if ((d->init_kind == INIT_GLOROT || d->init_kind == INIT_HE) &&
	    d->shape.rank != 2)
		check_error(c, d->init_loc, "'%s' needs a matrix [out, in], "
			"saw %s", d->init_name, shape_str(d->shape, buf));
}

/* `= NUMBER` was filled by the parser; `~ INIT` is resolved here. */
static void
check_init(Checker *c, Decl *d)
{
	Hint h;

	if (!d->init_name)
		return;
	for (size_t i = 0; i < sizeof inits / sizeof inits[0]; i++) {
		if (strcmp(d->init_name, inits[i].name) != 0)
			continue;
		d->init_kind = inits[i].kind;
		if (init_numbers(c, d, inits[i].nargs, inits[i].args))
			check_init_values(c, d);
		return;
	}
	check_hint_init(&h, d->init_name);
	for (size_t i = 0; i < sizeof inits / sizeof inits[0]; i++)
		check_hint(&h, inits[i].name);
	if (h.best)
		check_error(c, d->init_loc, "unknown initializer '%s'; did you "
			"mean '%s'?", d->init_name, h.best);
	else
		check_error(c, d->init_loc, "unknown initializer '%s'; "
			"expected normal, uniform, glorot or he",
			d->init_name);
}

static void
check_class_target(Checker *c, Decl *d)
{
	Expr *k = d->class_expr;

	d->type = T_LABEL;
	d->shape.rank = -1;
	if (!check_expr(c, k))
		return;
	if (!k->is_const)
		check_error(c, k->loc, "a class count must be known at compile "
			"time: a number or a const");
	else if (!check_count(k, 2, CHECK_MAX_DIM))
		check_error(c, k->loc, "a class count must be a whole number "
			"from 2 to %d, saw %g", CHECK_MAX_DIM, k->const_value);
	else {
		d->nclasses = (int)k->const_value;
		d->shape.rank = 0;
	}
}

static void
check_const(Checker *c, Decl *d)
{
	d->shape.rank = -1;
	if (!check_expr(c, d->expr))
		return;
	if (!d->expr->is_const || d->expr->shape.rank != 0 ||
	    !isfinite(d->expr->const_value)) {
		check_error(c, d->expr->loc, "the value of a const must be a "
			"finite number known at compile time");
		return;
	}
	d->shape.rank = 0;
	d->init_a = d->init = d->expr->const_value;
}

static void
single(Checker *c, Decl **slot, Decl *d, const char *what)
{
	if (*slot) {
		check_error(c, d->loc, "a program has one %s statement", what);
		diag_note(c->p->src, (*slot)->loc, "the first one is here");
		return;
	}
	*slot = d;
}

static void
check_loss(Checker *c, Decl *d)
{
	char buf[48];

	single(c, &c->p->loss, d, "loss");
	if (!check_expr(c, d->expr) || !check_real(c, d->expr))
		return;
	if (d->expr->shape.rank != 0)
		check_error(c, d->loc, "the loss must be a scalar, saw %s",
			shape_str(d->expr->shape, buf));
}

static void
check_output(Checker *c, Decl *d)
{
	single(c, &c->p->output, d, "output");
	if (check_expr(c, d->expr))
		check_real(c, d->expr);
}

static void
check_let(Checker *c, Decl *d)
{
	if (check_expr(c, d->expr)) {
		d->shape = d->expr->shape;
		d->type = d->expr->type;
	} else {
		d->shape.rank = -1;
	}
}

/* The inputs (0), targets (1) or params (2) in all, within the limit;
 * reported once, at the declaration that crosses it. */
static void
check_total(Checker *c, const Decl *d, int which)
{
	static const char *const what[] = { "inputs", "targets", "params" };
	long before = c->total[which];

	if (d->shape.rank < 0)
		return;
	c->total[which] += shape_size(d->shape);
	if (before <= CHECK_MAX_TOTAL && c->total[which] > CHECK_MAX_TOTAL)
		check_error(c, d->loc, "the %s would have %ld elements in all; "
			"the limit is %d", what[which], c->total[which],
			CHECK_MAX_TOTAL);
}

static void
check_decl(Checker *c, Decl *d)
{
	switch (d->kind) {
	case D_INPUT:
		d->index = c->p->ninputs++;
		check_dims(c, d);
		check_total(c, d, 0);
		break;
	case D_TARGET:
		d->index = c->p->ntargets++;
		if (d->class_expr)
			check_class_target(c, d);
		else
			check_dims(c, d);
		check_total(c, d, 1);
		break;
	case D_PARAM:
		d->index = c->p->nparams++;
		check_dims(c, d);
		check_total(c, d, 2);
		check_init(c, d);
		break;
	case D_CONST:
		check_const(c, d);
		break;
	case D_LET:
		check_let(c, d);
		break;
	case D_FN:
		check_fn_decl(c, d);
		break;
	case D_OUTPUT:
		check_output(c, d);
		return;
	case D_LOSS:
		check_loss(c, d);
		return;
	case D_ARG:
	case D_INDEX:
		return;
	}
	define_global(c, d);
}

static void
check_decls(Checker *c)
{
	Program *p = c->p;
	int syntax_errors = p->src->nerrors;

	check_recursion(c);
	for (Decl *d = p->decls; d; d = d->next)
		check_decl(c, d);
	/* a syntax error may have swallowed the loss statement */
	if (!p->loss && syntax_errors == 0) {
		Loc start = { 1, 1, 1, 1 };
		diag_error(p->src, start, "the program has no 'loss' "
			"statement");
	}
}

/* Each optimiser's arguments in positional order, with their defaults
 * (PyTorch's). */
static const struct {
	const char *name;
	OptKind kind;
	int nargs;
	const char *args[5];
	const char *list;
} opts[] = {
	{ "sgd", OPT_SGD, 2, { "lr", "momentum" }, "lr or momentum" },
	{ "adam", OPT_ADAM, 4, { "lr", "beta1", "beta2", "eps" },
	  "lr, beta1, beta2 or eps" },
	{ "adamw", OPT_ADAMW, 5,
	  { "lr", "beta1", "beta2", "eps", "weight_decay" },
	  "lr, beta1, beta2, eps or weight_decay" },
};

static void
set_defaults(Train *t)
{
	t->lr = t->opt == OPT_SGD ? 0.01 : 0.001;
	t->momentum = 0;
	t->beta1 = 0.9;
	t->beta2 = 0.999;
	t->eps = 1e-8;
	t->weight_decay = t->opt == OPT_ADAMW ? 0.01 : 0;
}

static double *
opt_field(Train *t, const char *name)
{
	if (strcmp(name, "lr") == 0)
		return &t->lr;
	if (strcmp(name, "momentum") == 0)
		return &t->momentum;
	if (strcmp(name, "beta1") == 0)
		return &t->beta1;
	if (strcmp(name, "beta2") == 0)
		return &t->beta2;
	if (strcmp(name, "eps") == 0)
		return &t->eps;
	return &t->weight_decay;
}

/* The range each argument must lie in, as a message when it does not. */
static const char *
arg_range_error(const char *name, double v)
{
	if (strcmp(name, "lr") == 0 || strcmp(name, "eps") == 0)
		return v > 0 && isfinite(v) ? NULL : "must be positive";
	if (strcmp(name, "weight_decay") == 0)
		return v >= 0 && isfinite(v) ? NULL : "must not be negative";
	return v >= 0 && v < 1 ? NULL : "must be in [0, 1)";
}

/* Which of the optimiser's arguments `a` is: by name, else by place. */
static int
arg_slot(Checker *c, int o, const TrainArg *a, int place, int named)
{
	if (!a->name) {
		if (named) {
			check_error(c, a->loc, "a positional argument cannot "
				"follow a named one");
			return -1;
		}
		if (place >= opts[o].nargs) {
			check_error(c, a->loc, "%s takes at most %d arguments",
				opts[o].name, opts[o].nargs);
			return -1;
		}
		return place;
	}
	for (int i = 0; i < opts[o].nargs; i++)
		if (strcmp(a->name, opts[o].args[i]) == 0)
			return i;
	check_error(c, a->loc, "%s has no argument '%s'; expected %s",
		opts[o].name, a->name, opts[o].list);
	return -1;
}

static void
check_train_args(Checker *c, Train *t, int o)
{
	int given[5] = { 0 }, place = 0, named = 0;

	for (const TrainArg *a = t->args; a; a = a->next, place++) {
		int i = arg_slot(c, o, a, place, named);
		named |= a->name != NULL;
		if (i < 0)
			continue;
		const char *arg = opts[o].args[i];
		if (given[i]++) {
			check_error(c, a->loc, "'%s' is given twice", arg);
			continue;
		}
		const char *bad = arg_range_error(arg, a->value);
		if (bad)
			check_error(c, a->loc, "%s %s, saw %g", arg, bad,
				a->value);
		*opt_field(t, arg) = a->value;
	}
}

static int
find_opt(Checker *c, const Train *t)
{
	Hint h;

	if (!t->opt_name)
		return 0;
	for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
		if (strcmp(t->opt_name, opts[i].name) == 0)
			return (int)i;
	check_hint_init(&h, t->opt_name);
	for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
		check_hint(&h, opts[i].name);
	if (h.best)
		check_error(c, t->opt_loc, "unknown optimizer '%s'; did you "
			"mean '%s'?", t->opt_name, h.best);
	else
		check_error(c, t->opt_loc, "unknown optimizer '%s'; expected "
			"sgd, adam or adamw", t->opt_name);
	return -1;
}

static int
is_whole(double v, double lo, double hi)
{
	return v == floor(v) && v >= lo && v <= hi;
}

/* Defaults apply when the clause, or one of its arguments, is absent. */
static void
check_train(Checker *c)
{
	Program *p = c->p;
	Train *t = p->train;
	int o;

	if (!t) {
		t = p->train = arena_alloc(p->arena, sizeof *t);
		t->epochs = 100;
		t->batch = 32;
	}
	o = find_opt(c, t);
	t->opt = opts[o < 0 ? 0 : o].kind;
	set_defaults(t);
	if (o >= 0)
		check_train_args(c, t, o);
	if (!is_whole(t->epochs, 1, 1e9))
		check_error(c, t->epochs_loc,
			"epochs must be a whole number from 1 to 1e9");
	if (!is_whole(t->batch, 1, 1e7))
		check_error(c, t->batch_loc,
			"batch must be a whole number from 1 to 1e7");
	if (t->has_seed && !is_whole(t->seed, 0, 9007199254740992.0))
		check_error(c, t->seed_loc,
			"seed must be a whole number from 0 to 2^53");
}

int
check_program(Program *p)
{
	Checker c = { .p = p };

	check_decls(&c);
	check_train(&c);
	free(c.globals);
	free(c.gtable);
	free(c.locals);
	free(c.calls);
	return p->src->nerrors;
}
