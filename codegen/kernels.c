/*
 * kernels.c - C source that NAME.c includes: the loop annotation every
 * element-wise loop carries and, when it needs it, the matrix product the
 * batched products are emitted as.  Each is a template, '@' standing for
 * the module name (cg_template).
 */
#include "cg.h"

/*
 * Element-wise loops touch element b (or b, i) of every array they write,
 * so no iteration depends on another; the compiler cannot see that
 * through the workspace pointers and, with more than a few arrays, gives
 * up on vectorising rather than check them all at run time.  Each such
 * loop is marked with @_INDEPENDENT, which tells GCC and Clang so and is
 * empty for any other compiler.  The mark is a hint: a loop Clang does not
 * vectorise after all (one that calls expf, or any loop at -O0 or -O1)
 * would otherwise draw a -Wpass-failed warning, an error under -Werror.
 */
const char cg_independent_source[] =
"\n#if defined(__clang__)\n"
"#pragma clang diagnostic ignored \"-Wpass-failed\"\n"
"#define @_INDEPENDENT _Pragma(\"clang loop vectorize(assume_safety)\")\n"
"#elif defined(__GNUC__)\n"
"#define @_INDEPENDENT _Pragma(\"GCC ivdep\")\n"
"#else\n"
"#define @_INDEPENDENT\n"
"#endif\n";

/*
 * The matrix product every batched matmul and outer product becomes:
 * C = A B, or C += A B when `acc`, for an m x k by k x n product.  A's
 * element (i, t) is a[i * ars + t * acs] and B's b[t * brs + j * bcs], so
 * one routine serves transposed or batch-strided operands (W @ x over a
 * batch is X W^T, read from W as it is stored); rows of C are ldc apart
 * and contiguous.
 *
 * It must stay plain C that the compiler vectorises, and each element of C
 * must be the same sum, t = 0, 1, ..., k - 1 in turn onto 0 or C's old
 * value, wherever the element falls: a row's result may not depend on the
 * rows around it or on the batch size.  So C goes in register tiles of
 * 8 rows by one 64-byte vector (16 floats, 8 doubles; two registers where
 * the compiler prefers 32-byte ones), each element's running sum held in
 * a register through a block of 256 terms and stored in C between
 * blocks.  A tile row is its own named array whose one loop over the
 * columns vectorises into a single register; a 2-D array, or rows two
 * vectors wide, leave the sums in memory under gcc 12.  Each
 * block's columns of B are first copied, zero-padded to whole vectors,
 * into a buffer on the stack: 16 KiB that stays in L1 while every row tile
 * reads it, where rows of B a power of two apart would share few cache
 * sets.  Tiles at the edges run the same kernel over the padding (repeating
 * A's last row) and store only what is real, so every element gets the
 * same sequence of operations.
 */
const char cg_gemm_source[] =
"\n"
"/* The register tile is MR rows by NR columns of C, a row being one\n"
" * 64-byte vector; terms of the sum go KC at a time through a copy of B. */\n"
"enum { @_MR = 8, @_NR = 64 / sizeof(@_real), @_KC = 256 };\n\n"
"/* s[r][j] += x_r(t) bp[t][j] for t = 0, 1, ..., kc - 1 in turn, where\n"
" * x_r(t) is ar[r][t * acs].  Each row of s is a named array of one\n"
" * vector's length, so that the compiler keeps it in a register. */\n"
"static void\n"
"@_kernel(size_t kc, const @_real *const ar[@_MR], size_t acs,\n"
"\tconst @_real *bp, @_real s[@_MR][@_NR])\n{\n"
"\t@_real s0[@_NR], s1[@_NR], s2[@_NR], s3[@_NR];\n"
"\t@_real s4[@_NR], s5[@_NR], s6[@_NR], s7[@_NR];\n"
"\tconst @_real *a0 = ar[0], *a1 = ar[1], *a2 = ar[2], *a3 = ar[3];\n"
"\tconst @_real *a4 = ar[4], *a5 = ar[5], *a6 = ar[6], *a7 = ar[7];\n\n"
"\tfor (size_t j = 0; j < @_NR; j++) {\n"
"\t\ts0[j] = s[0][j]; s1[j] = s[1][j]; s2[j] = s[2][j];\n"
"\t\ts3[j] = s[3][j]; s4[j] = s[4][j]; s5[j] = s[5][j];\n"
"\t\ts6[j] = s[6][j]; s7[j] = s[7][j];\n\t}\n"
"\tfor (size_t t = 0; t < kc; t++) {\n"
"\t\tconst @_real *bt = bp + t * @_NR;\n"
"\t\tconst @_real x0 = a0[t * acs], x1 = a1[t * acs];\n"
"\t\tconst @_real x2 = a2[t * acs], x3 = a3[t * acs];\n"
"\t\tconst @_real x4 = a4[t * acs], x5 = a5[t * acs];\n"
"\t\tconst @_real x6 = a6[t * acs], x7 = a7[t * acs];\n\n"
"\t\tfor (size_t j = 0; j < @_NR; j++) {\n"
"\t\t\ts0[j] += x0 * bt[j];\n"
"\t\t\ts1[j] += x1 * bt[j];\n"
"\t\t\ts2[j] += x2 * bt[j];\n"
"\t\t\ts3[j] += x3 * bt[j];\n"
"\t\t\ts4[j] += x4 * bt[j];\n"
"\t\t\ts5[j] += x5 * bt[j];\n"
"\t\t\ts6[j] += x6 * bt[j];\n"
"\t\t\ts7[j] += x7 * bt[j];\n\t\t}\n\t}\n"
"\tfor (size_t j = 0; j < @_NR; j++) {\n"
"\t\ts[0][j] = s0[j]; s[1][j] = s1[j]; s[2][j] = s2[j];\n"
"\t\ts[3][j] = s3[j]; s[4][j] = s4[j]; s[5][j] = s5[j];\n"
"\t\ts[6][j] = s6[j]; s[7][j] = s7[j];\n\t}\n}\n\n"
"/* mr <= MR rows and nr <= NR columns of C over kc terms, adding to C's\n"
" * value when `add`.  Rows past mr repeat A's last row and columns past nr\n"
" * are zero in bp, so the kernel sees a whole tile; neither is stored. */\n"
"static void\n"
"@_tile(size_t mr, size_t nr, size_t kc, const @_real *a, size_t ars,\n"
"\tsize_t acs, const @_real *bp, @_real *c, size_t ldc, int add)\n{\n"
"\t@_real s[@_MR][@_NR];\n"
"\tconst @_real *ar[@_MR];\n"
"\tconst int whole = mr == @_MR && nr == @_NR;\n\n"
"\tfor (size_t r = 0; r < @_MR; r++)\n"
"\t\tar[r] = a + (r < mr ? r : mr - 1) * ars;\n"
"\tif (whole && add)\n"
"\t\tfor (size_t r = 0; r < @_MR; r++)\n"
"\t\t\tfor (size_t j = 0; j < @_NR; j++)\n"
"\t\t\t\ts[r][j] = c[r * ldc + j];\n"
"\telse\n"
"\t\tfor (size_t r = 0; r < @_MR; r++)\n"
"\t\t\tfor (size_t j = 0; j < @_NR; j++)\n"
"\t\t\t\ts[r][j] = add && r < mr && j < nr ?\n"
"\t\t\t\t\tc[r * ldc + j] : 0;\n"
"\t@_kernel(kc, ar, acs, bp, s);\n"
"\tif (whole)\n"
"\t\tfor (size_t r = 0; r < @_MR; r++)\n"
"\t\t\tfor (size_t j = 0; j < @_NR; j++)\n"
"\t\t\t\tc[r * ldc + j] = s[r][j];\n"
"\telse\n"
"\t\tfor (size_t r = 0; r < mr; r++)\n"
"\t\t\tfor (size_t j = 0; j < nr; j++)\n"
"\t\t\t\tc[r * ldc + j] = s[r][j];\n}\n\n"
"/* bp[t][j] = b[t * brs + j * bcs] for kc rows of nr <= NR columns, zero\n"
" * past; read along whichever of B's axes is contiguous. */\n"
"static void\n"
"@_pack(size_t kc, size_t nr, const @_real *b, size_t brs, size_t bcs,\n"
"\t@_real *bp)\n{\n"
"\tif (bcs == 1)\n"
"\t\tfor (size_t t = 0; t < kc; t++)\n"
"\t\t\tfor (size_t j = 0; j < @_NR; j++)\n"
"\t\t\t\tbp[t * @_NR + j] = j < nr ? b[t * brs + j] : 0;\n"
"\telse\n"
"\t\tfor (size_t j = 0; j < @_NR; j++)\n"
"\t\t\tfor (size_t t = 0; t < kc; t++)\n"
"\t\t\t\tbp[t * @_NR + j] = j < nr ? b[t * brs + j * bcs] : 0;\n"
"}\n\n"
"/* C (+)= A B; A's element (i, t) is a[i * ars + t * acs], B's element\n"
" * (t, j) is b[t * brs + j * bcs]. */\n"
"static void\n"
"@_gemm(size_t m, size_t n, size_t k, const @_real *a,\n"
"\tsize_t ars, size_t acs, const @_real *b, size_t brs, size_t bcs,\n"
"\t@_real *c, size_t ldc, int acc)\n{\n"
"\t@_real bp[@_KC * @_NR];\n\n"
"\tfor (size_t r = 0; r < m && k == 0 && !acc; r++)\n"
"\t\tfor (size_t j = 0; j < n; j++)\n"
"\t\t\tc[r * ldc + j] = 0;\n"
"\tfor (size_t t0 = 0; t0 < k; t0 += @_KC) {\n"
"\t\tconst size_t kc = k - t0 < @_KC ? k - t0 : @_KC;\n\n"
"\t\tfor (size_t j0 = 0; j0 < n; j0 += @_NR) {\n"
"\t\t\tconst size_t nr = n - j0 < @_NR ? n - j0 : @_NR;\n\n"
"\t\t\t@_pack(kc, nr, b + t0 * brs + j0 * bcs, brs, bcs, bp);\n"
"\t\t\tfor (size_t i0 = 0; i0 < m; i0 += @_MR)\n"
"\t\t\t\t@_tile(m - i0 < @_MR ? m - i0 : @_MR, nr, kc,\n"
"\t\t\t\t\ta + i0 * ars + t0 * acs, ars, acs, bp,\n"
"\t\t\t\t\tc + i0 * ldc + j0, ldc, acc || t0 > 0);\n\t\t}\n\t}\n}\n";
