/*
 * fuzz_ckpt.c - the checkpoint loader.
 *
 * Random bytes rarely carry the right length, CRC-32 and model hash, so
 * only the framing would be tested.  The first byte's low bits ask the
 * harness to repair the frame instead: bit 0 writes the true file length
 * into the header and appends the true CRC; bit 1 also writes the model's
 * hash.  With both, the fuzzer reaches the body's parser.  A checkpoint
 * that loads must then be one the model can use.
 */
#include <stdlib.h>
#include <string.h>

#include "dlrt.h"
#include "fuzz.h"
#include "../hand_models.h"

/* The standard CRC-32 (IEEE), as the checkpoint writer computes it. */
static uint32_t
crc32(const unsigned char *p, size_t n)
{
	uint32_t crc = 0xffffffffu;

	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = crc & 1 ? 0xedb88320u ^ (crc >> 1) : crc >> 1;
	}
	return ~crc;
}

static void
put_le(unsigned char *b, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		b[i] = (unsigned char)(v >> (8 * i));
}

/* The body with its frame repaired as `flags` asks; *len grows by 4. */
static unsigned char *
repair(const uint8_t *body, size_t *len, int flags)
{
	unsigned char *b = malloc(*len + 4);

	memcpy(b, body, *len);
	if (*len >= 32) {
		put_le(b + 16, *len + 4, 8);
		if (flags & 2)
			put_le(b + 24, hand_softmax.hash, 8);
	}
	put_le(b + *len, crc32(b, *len), 4);
	*len += 4;
	return b;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int flags = size ? data[0] : 0;
	size_t len = size - !!size;
	unsigned char *b = flags & 1 ? repair(data + 1, &len, flags) :
		(unsigned char *)(size ? data + 1 : data);
	char err[512];
	RtState s;

	if (rt_state_init(&s, &hand_softmax) != 0)
		abort();
	if (rt_ckpt_load(fuzz_file(0, b, len), &hand_softmax, &s, err,
	    sizeof err) == 0) {
		if (s.opt > RT_ADAMW || (s.scaler.ncols != 0 &&
		    s.scaler.ncols != hand_softmax.ninputs))
			abort();
	}
	rt_state_free(&s);
	if (flags & 1)
		free(b);
	return 0;
}
