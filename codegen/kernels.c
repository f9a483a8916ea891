/*
 * kernels.c - C source that NAME.c includes when it needs it: the matrix
 * product and the transpose the batched products are emitted as.  Each is
 * a template, '@' standing for the module name (cg_template).
 */
#include "cg.h"

/*
 * Element-wise loops touch element b (or b, i) of every array they write,
 * so no iteration depends on another; the compiler cannot see that
 * through the workspace pointers and, with more than a few arrays, gives
 * up on vectorising rather than check them all at run time.  Each such
 * loop is marked with @_INDEPENDENT, which tells GCC and Clang so and is
 * empty for any other compiler.
 */
const char cg_independent_source[] =
"\n#if defined(__clang__)\n"
"#define @_INDEPENDENT _Pragma(\"clang loop vectorize(assume_safety)\")\n"
"#elif defined(__GNUC__)\n"
"#define @_INDEPENDENT _Pragma(\"GCC ivdep\")\n"
"#else\n"
"#define @_INDEPENDENT\n"
"#endif\n";

/* A tiled transpose, for products whose operand arrives the wrong way. */
const char cg_transpose_source[] =
"\n"
"/* dst = src^T for a rows x cols src, in 16 x 16 tiles so that both\n"
" * sides stay within a few cache lines. */\n"
"static void\n@_transpose(size_t rows, size_t cols, const @_real *restrict src,\n"
"\t@_real *restrict dst)\n{\n"
"\tfor (size_t r0 = 0; r0 < rows; r0 += 16)\n"
"\t\tfor (size_t c0 = 0; c0 < cols; c0 += 16)\n"
"\t\t\tfor (size_t r = r0; r < r0 + 16 && r < rows; r++)\n"
"\t\t\t\tfor (size_t c = c0; c < c0 + 16 && c < cols; c++)\n"
"\t\t\t\t\tdst[c * rows + r] = src[r * cols + c];\n}\n\n";

/*
 * The matrix product every batched matmul and outer product becomes:
 * C = A B, or C += A B when `acc`, for an m x k by k x n product.  A's
 * element (i, t) is a[i * ars + t * acs], so one routine serves a
 * transposed or batch-strided A; rows of B and C are ldb and ldc apart and
 * contiguous, which is what lets the compiler vectorise the inner loop.
 * Rows of C and terms of the sum go four at a time: each element of B
 * loaded then serves four rows, and each row of C is loaded and stored
 * once per four terms instead of once per term.
 */
const char cg_gemm_source[] =
"\n/* Four rows of C plus four terms: c_r[j] += sum_u a[4r + u] b_u[j]. */\n"
"static void\n@_rows4(size_t n, @_real *restrict c0, @_real *restrict c1,\n"
"\t@_real *restrict c2, @_real *restrict c3, const @_real *restrict b0,\n"
"\tconst @_real *restrict b1, const @_real *restrict b2,\n"
"\tconst @_real *restrict b3, const @_real *restrict a)\n{\n"
"\tconst @_real a00 = a[0], a01 = a[1], a02 = a[2], a03 = a[3];\n"
"\tconst @_real a10 = a[4], a11 = a[5], a12 = a[6], a13 = a[7];\n"
"\tconst @_real a20 = a[8], a21 = a[9], a22 = a[10], a23 = a[11];\n"
"\tconst @_real a30 = a[12], a31 = a[13], a32 = a[14], a33 = a[15];\n\n"
"\tfor (size_t j = 0; j < n; j++) {\n"
"\t\tconst @_real x0 = b0[j], x1 = b1[j], x2 = b2[j], x3 = b3[j];\n\n"
"\t\tc0[j] += a00 * x0 + a01 * x1 + a02 * x2 + a03 * x3;\n"
"\t\tc1[j] += a10 * x0 + a11 * x1 + a12 * x2 + a13 * x3;\n"
"\t\tc2[j] += a20 * x0 + a21 * x1 + a22 * x2 + a23 * x3;\n"
"\t\tc3[j] += a30 * x0 + a31 * x1 + a32 * x2 + a33 * x3;\n"
"\t}\n}\n\n"
"/* One row of C plus four terms, added as @_rows4 adds them, so that a\n"
" * row's result does not depend on the rows around it. */\n"
"static void\n@_row4(size_t n, @_real *restrict c, const @_real *restrict b0,\n"
"\tconst @_real *restrict b1, const @_real *restrict b2,\n"
"\tconst @_real *restrict b3, const @_real *restrict a)\n{\n"
"\tconst @_real a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];\n\n"
"\tfor (size_t j = 0; j < n; j++)\n"
"\t\tc[j] += a0 * b0[j] + a1 * b1[j] + a2 * b2[j] + a3 * b3[j];\n}\n\n"
"/* One row of C plus one term: c[j] += a b[j]. */\n"
"static void\n@_row1(size_t n, @_real *restrict c, const @_real *restrict b,\n"
"\t@_real a)\n{\n"
"\tfor (size_t j = 0; j < n; j++)\n"
"\t\tc[j] += a * b[j];\n}\n\n"
"/* C (+)= A B; A's element (i, t) is a[i * ars + t * acs]. */\n"
"static void\n@_gemm(size_t m, size_t n, size_t k, const @_real *a,\n"
"\tsize_t ars, size_t acs, const @_real *b, size_t ldb, @_real *c,\n"
"\tsize_t ldc, int acc)\n{\n"
"\tconst size_t m4 = m - m % 4, k4 = k - k % 4;\n\n"
"\tfor (size_t r = 0; r < m && !acc; r++)\n"
"\t\tfor (size_t j = 0; j < n; j++)\n"
"\t\t\tc[r * ldc + j] = 0;\n"
"\tfor (size_t i = 0; i < m4; i += 4) {\n"
"\t\t@_real *c0 = c + i * ldc;\n\n"
"\t\tfor (size_t t = 0; t < k4; t += 4) {\n"
"\t\t\t@_real as[16];\n\n"
"\t\t\tfor (size_t r = 0; r < 4; r++)\n"
"\t\t\t\tfor (size_t u = 0; u < 4; u++)\n"
"\t\t\t\t\tas[4 * r + u] = a[(i + r) * ars + (t + u) * acs];\n"
"\t\t\t@_rows4(n, c0, c0 + ldc, c0 + 2 * ldc, c0 + 3 * ldc,\n"
"\t\t\t\tb + t * ldb, b + (t + 1) * ldb, b + (t + 2) * ldb,\n"
"\t\t\t\tb + (t + 3) * ldb, as);\n"
"\t\t}\n"
"\t\tfor (size_t t = k4; t < k; t++)\n"
"\t\t\tfor (size_t r = 0; r < 4; r++)\n"
"\t\t\t\t@_row1(n, c0 + r * ldc, b + t * ldb,\n"
"\t\t\t\t\ta[(i + r) * ars + t * acs]);\n"
"\t}\n"
"\tfor (size_t i = m4; i < m; i++) {\n"
"\t\tfor (size_t t = 0; t < k4; t += 4) {\n"
"\t\t\t@_real as[4];\n\n"
"\t\t\tfor (size_t u = 0; u < 4; u++)\n"
"\t\t\t\tas[u] = a[i * ars + (t + u) * acs];\n"
"\t\t\t@_row4(n, c + i * ldc, b + t * ldb, b + (t + 1) * ldb,\n"
"\t\t\t\tb + (t + 2) * ldb, b + (t + 3) * ldb, as);\n"
"\t\t}\n"
"\t\tfor (size_t t = k4; t < k; t++)\n"
"\t\t\t@_row1(n, c + i * ldc, b + t * ldb, a[i * ars + t * acs]);\n"
"\t}\n"
"}\n";
