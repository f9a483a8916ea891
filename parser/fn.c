/*
 * fn.c - user functions: the recursion check, the check of each definition
 * and the instantiation of each call.
 *
 * Functions are generic over shapes and inlined, so every call gets its own
 * copy of the body, checked for that call's argument shapes (see FnCall in
 * ast.h).  A definition is first checked once with arguments of unknown
 * shape: that reports what does not depend on the arguments (unknown
 * names, arity of inner calls, bad ranges) exactly once, and a function
 * that fails it is marked bad and never instantiated.  What remains for a
 * call to report is shape errors, each with a note naming the call.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"

/* The user functions a body calls, for the recursion check. */
typedef struct Edges {
	Decl *fn;
	Decl **callee;
	const Expr **site;
	int n, cap;
} Edges;

static int
fn_index(Edges *g, int nfns, const char *name)
{
	for (int i = 0; i < nfns; i++)
		if (strcmp(g[i].fn->name, name) == 0)
			return i;
	return -1;
}

static void
add_edge(Edges *e, Decl *callee, const Expr *site)
{
	if (e->n == e->cap) {
		e->cap = e->cap ? 2 * e->cap : 8;
		e->callee = realloc(e->callee, (size_t)e->cap *
			sizeof *e->callee);
		e->site = realloc(e->site, (size_t)e->cap * sizeof *e->site);
		if (!e->callee || !e->site)
			abort();
	}
	e->callee[e->n] = callee;
	e->site[e->n++] = site;
}

/* Collects calls of functions by name; depth is bounded by the parser. */
static void
collect_calls(Edges *g, int nfns, int self, const Expr *e)
{
	if (!e || e->depth > AST_MAX_DEPTH)
		return;
	if (e->kind == E_CALL) {
		int i = fn_index(g, nfns, e->name);
		if (i >= 0)
			add_edge(&g[self], g[i].fn, e);
	}
	collect_calls(g, nfns, self, e->lhs);
	collect_calls(g, nfns, self, e->rhs);
	collect_calls(g, nfns, self, e->kw_value);
	collect_calls(g, nfns, self, e->lo_expr);
	collect_calls(g, nfns, self, e->hi_expr);
	for (int i = 0; i < e->nargs; i++)
		collect_calls(g, nfns, self, e->args[i]);
}

static void
report_cycle(Checker *c, Edges *g, int nfns, int *stack, int top, int to,
	const Expr *site)
{
	int from = stack[top];

	if (from == to)
		check_error(c, site->loc, "function '%s' calls itself; "
			"functions are inlined, so they cannot recurse",
			g[from].fn->name);
	else
		check_error(c, site->loc, "function '%s' calls '%s', which "
			"leads back to it; functions are inlined, so they "
			"cannot recurse", g[from].fn->name, g[to].fn->name);
	for (int i = top; i >= 0; i--) {
		g[stack[i]].fn->bad = 1;
		if (stack[i] == to)
			break;
	}
	(void)nfns;
}

/*
 * Depth-first search with an explicit stack, so that a long chain of
 * functions cannot exhaust the C stack.  state: 0 new, 1 on the path,
 * 2 done; an edge to a function on the path closes a cycle.
 */
static void
find_cycles(Checker *c, Edges *g, int nfns)
{
	size_t n = nfns > 0 ? (size_t)nfns : 0;
	int *state = calloc(n + 1, sizeof *state);
	int *stack = malloc((n + 1) * sizeof *stack);
	int *next = calloc(n + 1, sizeof *next);

	if (!state || !stack || !next)
		abort();
	for (int root = 0; root < nfns; root++) {
		int top = -1;
		if (state[root])
			continue;
		stack[++top] = root;
		state[root] = 1;
		while (top >= 0) {
			int f = stack[top];
			if (next[f] == g[f].n) {
				state[f] = 2;
				top--;
				continue;
			}
			int e = next[f]++;
			int to = fn_index(g, nfns, g[f].callee[e]->name);
			if (state[to] == 1)
				report_cycle(c, g, nfns, stack, top, to,
					g[f].site[e]);
			else if (state[to] == 0) {
				state[to] = 1;
				stack[++top] = to;
			}
		}
	}
	free(state);
	free(stack);
	free(next);
}

void
check_recursion(Checker *c)
{
	Edges *g = NULL;
	int nfns = 0, cap = 0;

	for (Decl *d = c->p->decls; d; d = d->next) {
		if (d->kind != D_FN || fn_index(g, nfns, d->name) >= 0)
			continue;
		if (nfns == cap) {
			cap = cap ? 2 * cap : 8;
			g = realloc(g, (size_t)cap * sizeof *g);
			if (!g)
				abort();
		}
		g[nfns++] = (Edges){ .fn = d };
	}
	for (int i = 0; i < nfns; i++) {
		for (Decl *l = g[i].fn->body; l; l = l->next)
			collect_calls(g, nfns, i, l->expr);
		collect_calls(g, nfns, i, g[i].fn->expr);
	}
	find_cycles(c, g, nfns);
	for (int i = 0; i < nfns; i++) {
		free(g[i].callee);
		free(g[i].site);
	}
	free(g);
}

/* A fresh copy of a body expression, unchecked; NULL past the budget. */
static Expr *
clone(Checker *c, const Expr *e)
{
	Expr *n;

	if (!e)
		return NULL;
	n = arena_alloc(c->p->arena, sizeof *n);
	*n = *e;
	c->nodes++;
	n->lhs = clone(c, e->lhs);
	n->rhs = clone(c, e->rhs);
	n->kw_value = clone(c, e->kw_value);
	n->lo_expr = clone(c, e->lo_expr);
	n->hi_expr = clone(c, e->hi_expr);
	if (e->nargs) {
		n->args = arena_alloc(c->p->arena, (size_t)e->nargs *
			sizeof *n->args);
		for (int i = 0; i < e->nargs; i++)
			n->args[i] = clone(c, e->args[i]);
	}
	if (e->var) {
		n->var = arena_alloc(c->p->arena, sizeof *n->var);
		*n->var = *e->var;
	}
	n->decl = NULL;
	n->call = NULL;
	return n;
}

static Decl *
new_decl(Checker *c, DeclKind kind, const char *name, Loc loc)
{
	Decl *d = arena_alloc(c->p->arena, sizeof *d);

	d->kind = kind;
	d->name = name;
	d->loc = loc;
	return d;
}

/* The arguments, bound to this call's expressions (NULL: unknown). */
static void
bind_args(Checker *c, FnCall *call, const Decl *fn, Expr **args)
{
	call->nparams = fn->fn_nparams;
	call->param = arena_alloc(c->p->arena, (size_t)(fn->fn_nparams + 1) *
		sizeof *call->param);
	for (int i = 0; i < fn->fn_nparams; i++) {
		Decl *a = new_decl(c, D_ARG, fn->fn_params[i],
			fn->fn_param_locs[i]);
		a->expr = args ? args[i] : NULL;
		a->shape.rank = args ? args[i]->shape.rank : -1;
		if (args) {
			a->shape = args[i]->shape;
			a->type = args[i]->type;
		}
		call->param[i] = a;
		check_define_local(c, a);
	}
}

/* The locals in order, each checked before the next can use it. */
static void
bind_locals(Checker *c, FnCall *call, const Decl *fn)
{
	Decl **tail = &call->locals;

	for (const Decl *l = fn->body; l; l = l->next) {
		Decl *d = new_decl(c, D_LET, l->name, l->loc);
		d->expr = clone(c, l->expr);
		if (check_expr(c, d->expr)) {
			d->shape = d->expr->shape;
			d->type = d->expr->type;
		} else {
			d->shape.rank = -1;
		}
		check_define_local(c, d);
		*tail = d;
		tail = &d->next;
	}
}

static void
push_call(Checker *c, const Decl *fn, const Expr *site)
{
	if (c->ncalls == c->ccap) {
		c->ccap = c->ccap ? 2 * c->ccap : 8;
		c->calls = realloc(c->calls, (size_t)c->ccap *
			sizeof *c->calls);
		if (!c->calls)
			abort();
	}
	c->calls[c->ncalls++] = (CallSite){ fn, site };
}

/*
 * Checks a copy of fn's body in a scope of its own: a new frame of locals
 * and only the globals defined before fn.  args NULL checks the
 * definition itself, with arguments of unknown shape.
 */
static FnCall *
instantiate(Checker *c, const Decl *fn, const Expr *site, Expr **args)
{
	FnCall *call = arena_alloc(c->p->arena, sizeof *call);
	Checker saved = *c;

	push_call(c, fn, site);
	c->frame = c->nlocals;
	c->in_fn = 1;
	c->scope_n = fn->scope_n;
	bind_args(c, call, fn, args);
	bind_locals(c, call, fn);
	call->result = clone(c, fn->expr);
	check_expr(c, call->result);
	c->ncalls--;
	c->nlocals = saved.nlocals;
	c->frame = saved.frame;
	c->in_fn = saved.in_fn;
	c->scope_n = saved.scope_n;
	return call;
}

static int
body_too_deep(const Decl *fn)
{
	for (const Decl *l = fn->body; l; l = l->next)
		if (l->expr->depth > AST_MAX_DEPTH)
			return 1;
	return fn->expr->depth > AST_MAX_DEPTH;
}

static void
check_params(Checker *c, Decl *d)
{
	for (int i = 0; i < d->fn_nparams; i++)
		for (int j = 0; j < i; j++)
			if (strcmp(d->fn_params[i], d->fn_params[j]) == 0) {
				check_error(c, d->fn_param_locs[i], "'%s' is "
					"already a parameter of '%s'",
					d->fn_params[i], d->name);
				d->bad = 1;
			}
}

void
check_fn_decl(Checker *c, Decl *d)
{
	int before = c->p->src->nerrors;

	d->scope_n = c->nglobals;
	d->shape.rank = -1;
	if (check_builtin_named(d->name)) {
		check_error(c, d->loc, "'%s' is a builtin function; choose "
			"another name", d->name);
		d->bad = 1;
	}
	check_params(c, d);
	if (d->bad || !d->expr || body_too_deep(d)) {
		d->bad = 1;
		return;
	}
	instantiate(c, d, NULL, NULL);
	if (c->p->src->nerrors > before)
		d->bad = 1;
}

static int
over_budget(Checker *c, const Expr *e)
{
	if (c->nodes <= CHECK_MAX_NODES)
		return 0;
	if (!c->too_big)
		check_error(c, e->loc, "inlining the function calls makes more "
			"than %d expression nodes", CHECK_MAX_NODES);
	c->too_big = 1;
	return 1;
}

int
check_fn_call(Checker *c, Expr *e, Decl *fn, int args_ok)
{
	e->decl = fn;
	if (e->nargs != fn->fn_nparams) {
		check_error(c, e->loc, "'%s' takes %d argument%s, saw %d",
			fn->name, fn->fn_nparams,
			fn->fn_nparams == 1 ? "" : "s", e->nargs);
		return 0;
	}
	if (e->kw_name) {
		check_error(c, e->kw_loc, "'%s' takes no named arguments",
			fn->name);
		return 0;
	}
	if (!args_ok || fn->bad || over_budget(c, e))
		return 0;
	e->call = instantiate(c, fn, e, e->args);
	e->shape = e->call->result->shape;
	e->type = e->call->result->type;
	e->is_const = e->call->result->is_const;
	e->const_value = e->call->result->const_value;
	return e->shape.rank >= 0 && !over_budget(c, e);
}
