/*
 * fuzz_json.c - the JSON parameter loader, for a model with a matrix and
 * a vector (hand_softmax: W[3][4], b[3]).  A file that loads must leave
 * finite numbers only; one that fails must leave the parameters as they
 * were.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dlrt.h"
#include "fuzz.h"
#include "../hand_models.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum { N = 15 };
	rt_real v[N], before[N];
	char err[512];

	if (hand_softmax.nparams != N)
		abort();
	for (int i = 0; i < N; i++)
		v[i] = before[i] = (rt_real)(i + 1);
	if (rt_json_read(fuzz_file(0, data, size), &hand_softmax, v, err,
	    sizeof err) == 0) {
		for (int i = 0; i < N; i++)
			if (!isfinite(v[i]))
				abort();
	} else if (memcmp(v, before, sizeof v) != 0) {
		abort();
	}
	return 0;
}
