/*
 * tables.c - the parts of NAME.c that describe rather than compute: the
 * parameter table, the workspace size, NAME_init with the declared
 * initialisers driven by a seeded generator of our own (so the same seed
 * gives the same parameters on every platform), NAME_predict_one, and,
 * through optim.c, the optimisers.  c.c calls cg_emit_tables() after the
 * includes and before the compute functions.
 */
#include <math.h>
#include <string.h>

#include "cg.h"

static const char rng_source[] =
"\n/* splitmix64, and uniforms and normals from it. */\n"
"static uint64_t\n@_next(uint64_t *s)\n{\n"
"\tuint64_t z = (*s += 0x9e3779b97f4a7c15u);\n\n"
"\tz = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;\n"
"\tz = (z ^ (z >> 27)) * 0x94d049bb133111ebu;\n"
"\treturn z ^ (z >> 31);\n}\n\n"
"static double\n@_uniform(uint64_t *s)\n{\n"
"\treturn ((double)(@_next(s) >> 11) + 0.5) / 9007199254740992.0;\n}\n\n"
"static double\n@_normal(uint64_t *s)\n{\n"
"\tdouble u = @_uniform(s), v = @_uniform(s);\n\n"
"\treturn sqrt(-2 * log(u)) * cos(6.283185307179586 * v);\n}\n";

/* Fan-in and fan-out: a [out, in] matrix; a vector counts both ways. */
static void
fans(const IrType *t, double *in, double *out)
{
	*in = t->rank ? t->dim[t->rank - 1] : 1;
	*out = t->rank ? t->dim[0] : 1;
}

/* The expression that draws one element, given the generator state s. */
static void
draw(const IrModule *m, const IrParam *p, char *buf, size_t n)
{
	double in, out;

	fans(&p->type, &in, &out);
	switch (p->init) {
	case INIT_CONST:
		snprintf(buf, n, "%.17g", p->a);
		break;
	case INIT_NORMAL:
		snprintf(buf, n, "%.17g + %.17g * %s_normal(&s)", p->a, p->b,
			m->name);
		break;
	case INIT_UNIFORM:
		snprintf(buf, n, "%.17g + %.17g * %s_uniform(&s)", p->a,
			p->b - p->a, m->name);
		break;
	case INIT_GLOROT:
		snprintf(buf, n, "%.17g * (2 * %s_uniform(&s) - 1)",
			sqrt(6 / (in + out)), m->name);
		break;
	case INIT_HE:
		snprintf(buf, n, "%.17g * %s_normal(&s)", sqrt(2 / in),
			m->name);
		break;
	}
}

static void
emit_init(const IrModule *m, FILE *f)
{
	char name[160], expr[256];

	fprintf(f, "\nvoid\n%s_init(%s_params *p, uint64_t seed)\n{\n",
		m->name, m->name);
	fprintf(f, "\tuint64_t s = seed;\n\n");
	fprintf(f, "\t(void)s, (void)%s_normal, (void)%s_uniform;\n", m->name,
		m->name);
	for (int i = 0; i < m->nparams; i++) {
		const IrParam *p = &m->params[i];
		cg_param_field(m, i, name, sizeof name);
		draw(m, p, expr, sizeof expr);
		if (p->type.rank == 0)
			fprintf(f, "\tp->%s = (%s_real)(%s);\n", name, m->name,
				expr);
		else
			fprintf(f, "\tfor (size_t i = 0; i < %ld; i++)\n"
				"\t\tp->%s[i] = (%s_real)(%s);\n",
				ir_numel(&p->type), name, m->name, expr);
	}
	fprintf(f, "}\n");
}

/* One row of the table: names, where the parameter lives, its shape. */
static void
emit_param_row(const IrModule *m, int i, FILE *f)
{
	const IrParam *p = &m->params[i];
	char field[160];

	cg_param_field(m, i, field, sizeof field);
	fprintf(f, "\t{ \"");
	cg_string_safe(f, p->name);
	fprintf(f, "\", \"%s\",\n\t  offsetof(%s_params, %s) / sizeof(%s_real), "
		"%ld, %d, {", field, m->name, field, m->name,
		ir_numel(&p->type), p->type.rank);
	for (int d = 0; d < 4; d++)
		fprintf(f, " %d%s", d < p->type.rank ? p->type.dim[d] : 1,
			d < 3 ? "," : "");
	fprintf(f, " } },\n");
}

static void
emit_param_table(const IrModule *m, FILE *f)
{
	fprintf(f, "\nconst %s_param_info %s_param_table[%d] = {\n", m->name,
		m->name, m->nparams > 0 ? m->nparams : 1);
	for (int i = 0; i < m->nparams; i++)
		emit_param_row(m, i, f);
	if (m->nparams == 0)
		fprintf(f, "\t{ \"\", \"\", 0, 0, 0, { 1, 1, 1, 1 } },\n");
	fprintf(f, "};\n");
}

/* One example is a batch of one; the workspace is sized for that. */
static const char predict_one_source[] =
"\nvoid\n@_predict_one(const @_params *p, const @_real *input, @_real *out,\n"
"\tvoid *workspace)\n{\n"
"\t@_predict(p, input, 1, out, workspace);\n}\n";

void
cg_emit_tables(const IrModule *m, const CgOptions *o, FILE *f, long size_b,
	long size_c)
{
	emit_param_table(m, f);
	fprintf(f, "\nsize_t\n%s_workspace_size(size_t batch)\n{\n", m->name);
	fprintf(f, "\treturn ((size_t)%ld * batch + %ld) * sizeof(%s_real);\n}\n",
		size_b, size_c, m->name);
	cg_template(f, rng_source, m->name);
	emit_init(m, f);
	cg_template(f, predict_one_source, m->name);
	cg_emit_optim(m, o, f);
}
