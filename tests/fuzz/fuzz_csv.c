/*
 * fuzz_csv.c - the CSV reader, through both entry points: the model's
 * (a class(3) target, so labels are checked) and plain real columns.  The
 * first byte picks the reader and whether targets are wanted; the rest is
 * the file.
 */
#include <stdlib.h>

#include "dlrt.h"
#include "fuzz.h"
#include "../hand_models.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	RtData d = { 0 };
	int mode = size ? data[0] % 4 : 0;
	const char *path = fuzz_file(0, data + !!size, size - !!size);

	if (mode == 0)
		rt_read_csv(path, 2, 1, &d, err, sizeof err);
	else if (mode == 1)
		rt_read_model_csv(&hand_linear, path, 1, &d, err, sizeof err);
	else
		rt_read_model_csv(&hand_softmax, path, mode == 2, &d, err,
			sizeof err);
	/* a failed read leaves d empty, so freeing is right either way */
	rt_data_free(&d);
	return 0;
}
