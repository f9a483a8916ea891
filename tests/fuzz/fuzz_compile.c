/*
 * fuzz_compile.c - source text through the whole compiler, in process:
 * scan, parse, check, lower, differentiate, optimise, and emit the
 * header, the C source and the trainer glue into a memory stream.
 *
 * The input's length picks the precision, the -O level and whether inputs
 * are differentiated too, so every setting is reached without spending
 * input bytes on flags.  Like dlc, the stages run on a thread with a large
 * stack (see driver/main.c); the language's own limits must keep any
 * input inside it.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "cg.h"
#include "fuzz.h"

typedef struct Job {
	const uint8_t *data;
	size_t size;
} Job;

static void
emit_all(IrModule *m, const CgOptions *co)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		abort();
	cg_emit_header(m, co, f);
	cg_emit_source(m, co, f);
	cg_emit_glue(m, co, f);
	fclose(f);
	free(text);
}

static void *
compile(void *arg)
{
	const Job *j = arg;
	Source *src = src_from_string("fuzz.dl", (const char *)j->data,
		j->size);
	Arena *a = arena_new();
	Program *p;

	src->quiet = 1;
	p = parse_program(src, a);
	if (check_program(p) == 0) {
		IrModule *m = ir_lower(p, "fuzz");
		if (m) {
			CgOptions co = { .precision = j->size % 2 ? CG_F64 :
				CG_F32, .src = src, .input_grad = j->size % 3 == 0 };
			m->wrt_inputs = co.input_grad;
			m->path = "fuzz.dl";
			if (!ir_optimise(m, (int)(j->size / 2 % 4), 0,
			    ir_no_hook, NULL))
				emit_all(m, &co);
			ir_module_free(m);
		}
	}
	arena_free(a);
	src_free(src);
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static pthread_attr_t attr;
	static int ready;
	Job job = { data, size };
	pthread_t t;

	if (!ready) {
		pthread_attr_init(&attr);
		if (pthread_attr_setstacksize(&attr, (size_t)1 << 28) != 0)
			abort();
		ready = 1;
	}
	if (pthread_create(&t, &attr, compile, &job) != 0)
		abort();
	pthread_join(t, NULL);
	return 0;
}
