/*
 * tables.c - the parts of NAME.c that describe rather than compute: the
 * parameter table, the workspace size, and NAME_init with the declared
 * initialisers driven by a seeded generator of our own, so the same seed
 * gives the same parameters on every platform.
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

static void
templated(FILE *f, const char *text, const char *name)
{
	for (; *text; text++)
		if (*text == '@')
			fputs(name, f);
		else
			fputc(*text, f);
}

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
	char name[72], expr[256];

	fprintf(f, "\nvoid\n%s_init(%s_params *p, uint64_t seed)\n{\n",
		m->name, m->name);
	fprintf(f, "\tuint64_t s = seed;\n\n");
	fprintf(f, "\t(void)s, (void)%s_normal, (void)%s_uniform;\n", m->name,
		m->name);
	for (int i = 0; i < m->nparams; i++) {
		const IrParam *p = &m->params[i];
		cg_ident(p->name, name, sizeof name);
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

static void
emit_param_table(const IrModule *m, FILE *f)
{
	char name[72];

	fprintf(f, "\nconst %s_param_info %s_param_table[%d] = {\n", m->name,
		m->name, m->nparams > 0 ? m->nparams : 1);
	for (int i = 0; i < m->nparams; i++) {
		const IrParam *p = &m->params[i];
		fprintf(f, "\t{ \"%s\", offsetof(%s_params, %s) / sizeof(%s_real)"
			", %ld },\n", p->name, m->name,
			cg_ident(p->name, name, sizeof name), m->name,
			ir_numel(&p->type));
	}
	if (m->nparams == 0)
		fprintf(f, "\t{ \"\", 0, 0 },\n");
	fprintf(f, "};\n");
}

void
cg_emit_tables(const IrModule *m, const CgOptions *o, FILE *f, long size_b,
	long size_c)
{
	(void)o;
	emit_param_table(m, f);
	fprintf(f, "\nsize_t\n%s_workspace_size(size_t batch)\n{\n", m->name);
	fprintf(f, "\treturn ((size_t)%ld * batch + %ld) * sizeof(%s_real);\n}\n",
		size_b, size_c, m->name);
	templated(f, rng_source, m->name);
	emit_init(m, f);
}
