/*
 * fuzz_npy.c - the .npy reader.  The first byte picks the case: the input
 * is the inputs file alone, the inputs file with valid targets, or the
 * targets file beside valid inputs (a class target, so labels are
 * checked).  The valid companions are written once, by hand.
 */
#include <string.h>

#include "dlrt.h"
#include "fuzz.h"
#include "../hand_models.h"

/* A version 1.0 header padded with spaces to `total` bytes before the
 * data, as NumPy writes it. */
static size_t
header(unsigned char *b, const char *dict, size_t total)
{
	size_t hlen = total - 10;

	memcpy(b, "\x93NUMPY\x01\x00", 8);
	b[8] = (unsigned char)(hlen & 0xff);
	b[9] = (unsigned char)(hlen >> 8);
	memset(b + 10, ' ', hlen);
	memcpy(b + 10, dict, strlen(dict));
	b[total - 1] = '\n';
	return total;
}

/* Two examples of hand_softmax: inputs as float64, labels as int64. */
static size_t
valid_inputs(unsigned char *b)
{
	size_t n = header(b, "{'descr': '<f8', 'fortran_order': False, "
		"'shape': (2, 4), }", 64);
	double v[8] = { 1, 2, 3, 4, -1, 0.5, 0, 2 };

	memcpy(b + n, v, sizeof v);
	return n + sizeof v;
}

static size_t
valid_labels(unsigned char *b)
{
	size_t n = header(b, "{'descr': '<i8', 'fortran_order': False, "
		"'shape': (2,), }", 64);
	int64_t v[2] = { 2, 0 };

	memcpy(b + n, v, sizeof v);
	return n + sizeof v;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char good[256];
	char err[512];
	RtData d;
	int mode = size ? data[0] % 3 : 0;
	const uint8_t *rest = data + !!size;
	size_t len = size - !!size;

	if (mode == 2) {
		const char *x = fuzz_file(0, good, valid_inputs(good));
		rt_read_npy(&hand_softmax, x, fuzz_file(1, rest, len), &d, err,
			sizeof err);
	} else {
		const char *x = fuzz_file(0, rest, len);
		const char *y = mode ? fuzz_file(1, good, valid_labels(good)) :
			NULL;
		rt_read_npy(&hand_softmax, x, y, &d, err, sizeof err);
	}
	rt_data_free(&d);
	return 0;
}
