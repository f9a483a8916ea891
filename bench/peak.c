/*
 * peak.c - this machine's single-core f32 peak, measured: a loop of
 * independent fused multiply-adds on vectors, enough of them in flight to
 * cover the FMA latency on every pipe.  Built with -march=native and
 * -ffp-contract=fast so a*b+c is one FMA instruction.  GNU C vector
 * extensions (gcc and clang); bench.py calls bench_peak_gflops.
 */
#include <time.h>

typedef float v8 __attribute__((vector_size(32)));
typedef float v16 __attribute__((vector_size(64)));

double bench_peak_gflops(long iters, int wide);

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Twelve chains of x = x * m + a, in named variables so they stay in
 * registers: 12 x LANES FMAs per iteration. */
#define CHAINS(V, LANES)                                                \
static double                                                           \
run_##V(long iters)                                                     \
{                                                                       \
	volatile float seed = 1.0f;                                     \
	V m, a, x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11;       \
	double t0, t1, sum = 0;                                         \
	for (int l = 0; l < LANES; l++) {                               \
		m[l] = 0.999999f * seed;                                \
		a[l] = 1e-7f * seed;                                    \
	}                                                               \
	x0 = a * seed; x1 = x0 + a; x2 = x1 + a; x3 = x2 + a;           \
	x4 = x3 + a; x5 = x4 + a; x6 = x5 + a; x7 = x6 + a;             \
	x8 = x7 + a; x9 = x8 + a; x10 = x9 + a; x11 = x10 + a;          \
	t0 = now();                                                     \
	for (long i = 0; i < iters; i++) {                              \
		x0 = x0 * m + a; x1 = x1 * m + a; x2 = x2 * m + a;      \
		x3 = x3 * m + a; x4 = x4 * m + a; x5 = x5 * m + a;      \
		x6 = x6 * m + a; x7 = x7 * m + a; x8 = x8 * m + a;      \
		x9 = x9 * m + a; x10 = x10 * m + a; x11 = x11 * m + a;  \
	}                                                               \
	t1 = now();                                                     \
	x0 += x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + x11;   \
	for (int l = 0; l < LANES; l++)                                 \
		sum += x0[l];                                           \
	seed = (float)sum;      /* keeps the loop from being removed */ \
	return 2.0 * 12 * LANES * (double)iters / (t1 - t0) / 1e9;     \
}

CHAINS(v8, 8)
CHAINS(v16, 16)

double
bench_peak_gflops(long iters, int wide)
{
	return wide ? run_v16(iters) : run_v8(iters);
}
