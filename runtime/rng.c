/*
 * rng.c - splitmix64: small, fast, and the same sequence on every platform,
 * which is what makes a seeded run repeat bit for bit.
 */
#include "dlrt.h"

void
rt_rng_seed(RtRng *r, uint64_t seed)
{
	r->state = seed;
}

uint64_t
rt_rng_next(RtRng *r)
{
	uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n) without modulo bias, by rejection. */
size_t
rt_rng_below(RtRng *r, size_t n)
{
	uint64_t limit = UINT64_MAX - UINT64_MAX % n;
	uint64_t x;

	do
		x = rt_rng_next(r);
	while (x >= limit);
	return (size_t)(x % n);
}
