/*
 * rng.h - the generator behind every synthetic data file of examples/data:
 * splitmix64 from a fixed seed, so each file is the same on every machine
 * and can be remade by its program (gen_*.c).
 */
#ifndef EXAMPLES_RNG_H
#define EXAMPLES_RNG_H

#include <math.h>
#include <stdint.h>

static uint64_t rng_state;

/* Uniform on (0, 1): never 0, so log() below is safe. */
static double
uniform(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}

/* Box-Muller: one standard normal from two uniforms. */
static double
normal(void)
{
	double u = uniform(), v = uniform();

	return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

#endif
