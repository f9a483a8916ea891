/*
 * fuzz_dlir.c - the .dlir reader: any text is read back into a module or
 * refused with diagnostics, and a module it accepts must pass the
 * verifier (the reader runs it) and survive the remaining stages and the
 * C emitter, as `dlc file.dlir --emit=c` would put it through.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cg.h"
#include "fuzz.h"

static void
emit_c(IrModule *m)
{
	CgOptions co = { .precision = CG_F32 };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		abort();
	cg_emit_header(m, &co, f);
	cg_emit_source(m, &co, f);
	fclose(f);
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Source *src = src_from_string("fuzz.dlir", (const char *)data, size);
	Arena *a = arena_new();
	const char *stage;
	IrModule *m;

	src->quiet = 1;
	m = ir_read(src, a, &stage);
	if (m) {
		int from = ir_stage_index(stage);
		if (from >= 0 && !ir_run_stages(m, from,
		    ir_stage_index("opt"), 1))
			emit_c(m);
		ir_module_free(m);
	}
	arena_free(a);
	src_free(src);
	return 0;
}
