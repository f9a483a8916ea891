/*
 * dot.c - the computation graph as Graphviz DOT, for --emit=dot.
 *
 * The picture is the one backpropagation is taught with: forward values
 * as blue ellipses, the adjoint ("back") values that differentiation
 * appended as orange boxes, each edge from an operand to its user labelled
 * with the operand's type, and a cluster per source line holding both the
 * forward values of that line and the adjoint values made from them.
 * Leaves and roots are marked: parameters green, inputs and targets
 * yellow houses, the loss circled in red, and a note for each gradient.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cg.h"

/* Text inside a DOT string: quotes and backslashes escaped, control bytes
 * and non-ASCII shown as '?', at most `max` characters. */
static void
dot_text(FILE *out, const char *s, size_t len, size_t max)
{
	for (size_t i = 0; i < len && i < max; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else
			fputc(c >= 32 && c < 127 ? c : '?', out);
	}
	if (len > max)
		fputs("...", out);
}

/* Line `line` of the source, without its newline; NULL past the end. */
static const char *
source_line(const Source *src, int line, size_t *len)
{
	const char *p = src->text, *end = src->text + src->len;

	for (int l = 1; l < line && p; l++) {
		p = memchr(p, '\n', (size_t)(end - p));
		if (p)
			p++;
	}
	if (!p || p >= end)
		return NULL;
	const char *eol = memchr(p, '\n', (size_t)(end - p));
	*len = (size_t)((eol ? eol : end) - p);
	while (*len && (*p == ' ' || *p == '\t'))
		p++, (*len)--;
	return p;
}

/* Fill and shape say what a value is. */
static const char *
node_style(const IrValue *v)
{
	switch (v->op) {
	case IR_param:
		return "shape=box3d, style=filled, fillcolor=\"#b7e4c7\"";
	case IR_input:
	case IR_target:
		return "shape=house, style=filled, fillcolor=\"#fff3b0\"";
	default:
		break;
	}
	if (v->adjoint)
		return "shape=box, style=\"filled,rounded\", "
			"fillcolor=\"#ffd8b1\", color=\"#c0601a\"";
	return "shape=ellipse, style=filled, fillcolor=\"#cfe2ff\", "
		"color=\"#3a6ea5\"";
}

static void
emit_node(const IrModule *m, int id, FILE *out)
{
	const IrValue *v = &m->fn.v[id];
	char text[512], type[64];

	/* the value's line, without the `%N = ` and the type */
	ir_value_str(m, id, text, sizeof text);
	ir_type_str(&v->type, type, sizeof type);
	char *op = strstr(text, "= ");
	char *colon = strrchr(text, ':');
	if (colon && colon > text)
		colon[-1] = '\0';
	fprintf(out, "    v%d [label=\"%%%d ", id, id);
	dot_text(out, op ? op + 2 : text, strlen(op ? op + 2 : text), 40);
	fprintf(out, "\\n%s\", %s%s];\n", type, node_style(v),
		id == m->fn.loss ? ", penwidth=3, color=\"#d00000\"" : "");
}

/* The lines that hold values, in order, without repeats. */
static int
lines_used(const IrFunc *f, int *line)
{
	int n = 0;

	for (int id = 0; id < f->n; id++) {
		int l = f->v[id].loc.line, k = 0;
		while (k < n && line[k] != l)
			k++;
		if (k == n)
			line[n++] = l;
	}
	return n;
}

static void
emit_cluster(const IrModule *m, const Source *src, int line, FILE *out)
{
	const char *text = NULL;
	size_t len = 0;

	if (line > 0) {
		fprintf(out, "  subgraph cluster_line%d {\n", line);
		fprintf(out, "    label=\"line %d", line);
		if (src)
			text = source_line(src, line, &len);
		if (text) {
			fputs(": ", out);
			dot_text(out, text, len, 60);
		}
		fprintf(out, "\";\n    style=rounded; color=\"#999999\"; "
			"fontcolor=\"#555555\";\n");
	}
	for (int id = 0; id < m->fn.n; id++)
		if (m->fn.v[id].loc.line == line)
			emit_node(m, id, out);
	if (line > 0)
		fprintf(out, "  }\n");
}

static void
emit_edges(const IrModule *m, FILE *out)
{
	const IrFunc *f = &m->fn;
	char type[64];

	for (int id = 0; id < f->n; id++) {
		const IrValue *v = &f->v[id];
		for (int k = 0; k < ir_arity(v->op); k++) {
			ir_type_str(&f->v[v->arg[k]].type, type, sizeof type);
			fprintf(out, "  v%d -> v%d [label=\"%s\"%s];\n",
				v->arg[k], id, type, v->adjoint ?
				", color=\"#c0601a\"" : "");
		}
	}
}

/* The roots as labels outside the graph, pointing at their values. */
static void
emit_roots(const IrModule *m, FILE *out)
{
	const IrFunc *f = &m->fn;

	fprintf(out, "  loss [shape=plaintext, fontcolor=\"#d00000\", "
		"label=\"loss\"];\n  v%d -> loss [color=\"#d00000\"];\n",
		f->loss);
	if (f->output >= 0)
		fprintf(out, "  output [shape=plaintext, label=\"output\"];\n"
			"  v%d -> output;\n", f->output);
	for (int i = 0; m->has_grad && f->grad && i < m->nparams; i++) {
		const char *name = m->params[i].name;
		fprintf(out, "  grad%d [shape=note, style=filled, fillcolor="
			"\"#b7e4c7\", label=\"d loss / d %s%s\"];\n", i, name,
			f->grad[i] < 0 ? " = 0" : "");
		if (f->grad[i] >= 0)
			fprintf(out, "  v%d -> grad%d [color=\"#2d6a4f\"];\n",
				f->grad[i], i);
	}
}

void
cg_emit_dot(const IrModule *m, const Source *src, FILE *out)
{
	int *line = malloc(((size_t)m->fn.n + 1) * sizeof *line);
	int nlines = lines_used(&m->fn, line);

	fprintf(out, "digraph \"%s\" {\n", m->name);
	fprintf(out, "  label=\"%s: forward values (blue ellipses) and "
		"adjoint values (orange boxes)\";\n  labelloc=t;\n", m->name);
	fprintf(out, "  node [fontname=\"Helvetica\", fontsize=10];\n"
		"  edge [fontname=\"Helvetica\", fontsize=8, "
		"fontcolor=\"#666666\"];\n");
	for (int i = 0; i < nlines; i++)
		emit_cluster(m, src, line[i], out);
	emit_edges(m, out);
	emit_roots(m, out);
	fprintf(out, "}\n");
	free(line);
}
