/*
 * test_idx.c - the IDX reader and the gzip decompressor under it: every
 * element type, plain and gzipped files, each kind of deflate block, and
 * a clear error for every kind of broken file; then a trainer that learns
 * from IDX files and scores its --eval set through --eval-targets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dlrt.h"
#include "hand_models.h"
#include "tests.h"

static void
put_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/* An IDX header: type, extents; returns its length. */
static size_t
idx_header(unsigned char *buf, int type, int dims, const uint32_t *ext)
{
	buf[0] = buf[1] = 0;
	buf[2] = (unsigned char)type;
	buf[3] = (unsigned char)dims;
	for (int k = 0; k < dims; k++)
		for (int b = 0; b < 4; b++)
			buf[4 + 4 * k + b] = (unsigned char)(ext[k] >>
				(24 - 8 * b));
	return 4 + 4 * (size_t)dims;
}

/* Three 2x2 unsigned-byte images and their labels 2, 0, 1. */
static void
write_images(const char *x, const char *y)
{
	unsigned char buf[64];
	uint32_t ext[3] = { 3, 2, 2 }, n = 3;
	size_t len = idx_header(buf, 0x08, 3, ext);

	for (int i = 0; i < 12; i++)
		buf[len + (size_t)i] = (unsigned char)(20 * i + 15);
	put_file(x, buf, len + 12);
	len = idx_header(buf, 0x08, 1, &n);
	memcpy(buf + len, "\2\0\1", 3);
	put_file(y, buf, len + 3);
}

static void
gzip_file(const char *path)
{
	char cmd[2600];

	snprintf(cmd, sizeof cmd, "gzip -kf9 '%s'", path);
	assert_int_equal(run_cmd(cmd, NULL), 0);
}

static void
test_idx_plain_and_gzipped(void **state)
{
	(void)state;
	const char *dir = scratch_dir("idx-read");
	char x[1200], y[1200], xz[1300], yz[1300], err[512];
	RtData d;

	snprintf(x, sizeof x, "%s/img-idx3-ubyte", dir);
	snprintf(y, sizeof y, "%s/lab-idx1-ubyte", dir);
	write_images(x, y);
	gzip_file(x);
	gzip_file(y);
	snprintf(xz, sizeof xz, "%s.gz", x);
	snprintf(yz, sizeof yz, "%s.gz", y);
	for (int gz = 0; gz < 2; gz++) {
		assert_int_equal(rt_read_data(&hand_softmax, gz ? xz : x,
			gz ? yz : y, 1, &d, err, sizeof err), 0);
		assert_int_equal(d.n, 3);
		assert_int_equal(d.ninputs, 4);
		assert_true(d.inputs[0] == 15 && d.inputs[11] == 235);
		assert_true(d.targets[0] == 2 && d.targets[1] == 0 &&
			d.targets[2] == 1);
		rt_data_free(&d);
	}
	/* prediction needs no labels; training does */
	assert_int_equal(rt_read_data(&hand_softmax, xz, NULL, 0, &d, err,
		sizeof err), 0);
	assert_int_equal(d.ntargets, 0);
	rt_data_free(&d);
	assert_int_equal(rt_read_data(&hand_softmax, xz, NULL, 1, &d, err,
		sizeof err), -1);
	assert_non_null(strstr(err, "an IDX file holds the inputs only"));
}

/* Signed, 16-bit, 32-bit, float and double elements, big-endian. */
static void
test_idx_types(void **state)
{
	(void)state;
	const char *dir = scratch_dir("idx-types");
	static const struct { int type, size; unsigned char v[8];
	                      double want; } cases[] = {
		{ 0x09, 1, { 0xfe }, -2 },
		{ 0x0b, 2, { 0xff, 0x38 }, -200 },
		{ 0x0c, 4, { 0x00, 0x01, 0x00, 0x00 }, 65536 },
		{ 0x0d, 4, { 0x3f, 0xc0, 0x00, 0x00 }, 1.5 },
		{ 0x0e, 8, { 0xc0, 0x04, 0, 0, 0, 0, 0, 0 }, -2.5 },
	};
	char x[1200], err[512];
	unsigned char buf[128];
	uint32_t ext[2] = { 1, 4 };
	RtData d;

	snprintf(x, sizeof x, "%s/x.idx", dir);
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		size_t len = idx_header(buf, cases[c].type, 2, ext);
		for (int k = 0; k < 4; k++, len += (size_t)cases[c].size)
			memcpy(buf + len, cases[c].v, (size_t)cases[c].size);
		put_file(x, buf, len);
		assert_int_equal(rt_read_idx(&hand_softmax, x, NULL, &d, err,
			sizeof err), 0);
		assert_true(d.inputs[0] == cases[c].want);
		assert_true(d.inputs[3] == cases[c].want);
		rt_data_free(&d);
	}
}

/* Writes bytes, and expects reading them as images to fail with `want`. */
static void
refused(const char *path, const void *bytes, size_t n, const char *want)
{
	char err[512];
	RtData d;

	put_file(path, bytes, n);
	assert_int_equal(rt_read_idx(&hand_softmax, path, NULL, &d, err,
		sizeof err), -1);
	if (!strstr(err, want))
		fail_msg("expected '%s' in '%s'", want, err);
}

static void
test_idx_refused(void **state)
{
	(void)state;
	const char *dir = scratch_dir("idx-bad");
	char x[1200], y[1200], err[512];
	unsigned char buf[64];
	uint32_t ext[2] = { 3, 4 }, wide[2] = { 3, 5 }, n = 3, huge[3] = {
		1, 0xffffffffu, 0xffffffffu };
	size_t len = idx_header(buf, 0x08, 2, ext);
	RtData d;

	snprintf(x, sizeof x, "%s/x.idx", dir);
	snprintf(y, sizeof y, "%s/y.idx", dir);
	memset(buf + len, 1, 12);
	refused(x, buf, len + 11, "11 bytes of data, expected 3 x 4 "
		"elements of 1 bytes");
	refused(x, "P4\n2 2\n", 7, "not an IDX file");
	refused(x, buf, 6, "truncated header");
	refused(x, buf, idx_header(buf, 0x08, 3, huge), "extents too large");
	len = idx_header(buf, 0x08, 2, wide);
	refused(x, buf, len + 15, "expected 4 input columns per example, "
		"got 5");
	/* labels: out of range, and too few */
	len = idx_header(buf, 0x08, 2, ext);
	memset(buf + len, 1, 12);
	put_file(x, buf, len + 12);
	len = idx_header(buf, 0x08, 1, &n);
	memcpy(buf + len, "\2\3\1", 3);
	put_file(y, buf, len + 3);
	assert_int_equal(rt_read_idx(&hand_softmax, x, y, &d, err,
		sizeof err), -1);
	assert_non_null(strstr(err, "example 2: class label 3 is outside "
		"0..2"));
	n = 2;
	put_file(y, buf, idx_header(buf, 0x08, 1, &n) + 2);
	assert_int_equal(rt_read_idx(&hand_softmax, x, y, &d, err,
		sizeof err), -1);
	assert_non_null(strstr(err, "has 2 examples but the inputs have 3"));
}

/* "dlc reads gzip; dlc reads gzip again, and again." as Python's gzip
 * module writes it: one block with the fixed Huffman codes, including
 * back references. */
static const unsigned char fixed_gz[] = {
	0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x4b,
	0xc9, 0x49, 0x56, 0x28, 0x4a, 0x4d, 0x4c, 0x29, 0x56, 0x48, 0xaf,
	0xca, 0x2c, 0xb0, 0x56, 0x48, 0x41, 0xe1, 0x2b, 0x24, 0xa6, 0x27,
	0x66, 0xe6, 0xe9, 0x28, 0x24, 0xe6, 0xa5, 0x40, 0x98, 0x7a, 0x00,
	0xf9, 0xd9, 0xc9, 0x9f, 0x30, 0x00, 0x00, 0x00,
};
static const char fixed_text[] =
	"dlc reads gzip; dlc reads gzip again, and again.";

static void
le32(unsigned char *p, uint32_t v)
{
	for (int b = 0; b < 4; b++)
		p[b] = (unsigned char)(v >> (8 * b));
}

/* A gzip member of one stored block, with a file name in the header. */
static size_t
stored_gz(unsigned char *buf, const char *text)
{
	static const unsigned char head[] = { 0x1f, 0x8b, 8, 8, 0, 0, 0, 0,
		0, 3, 'a', 0 };
	size_t n = strlen(text), len = sizeof head;

	memcpy(buf, head, len);
	buf[len++] = 1;         /* last block, type 0 */
	buf[len++] = (unsigned char)n;
	buf[len++] = (unsigned char)(n >> 8);
	buf[len++] = (unsigned char)~n;
	buf[len++] = (unsigned char)(~n >> 8);
	memcpy(buf + len, text, n);
	len += n;
	le32(buf + len, rt_crc32(0, (const unsigned char *)text, n));
	le32(buf + len + 4, (uint32_t)n);
	return len + 8;
}

static void
expect_text(const unsigned char *gz, size_t n, const char *want)
{
	unsigned char *out;
	size_t len;
	const char *why = NULL;

	if (rt_gunzip(gz, n, &out, &len, &why))
		fail_msg("gunzip: %s", why);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(out, want, len);
	free(out);
}

static void
expect_error(const unsigned char *gz, size_t n, const char *want)
{
	unsigned char *out = NULL;
	size_t len;
	const char *why = NULL;

	assert_int_equal(rt_gunzip(gz, n, &out, &len, &why), -1);
	assert_null(out);
	if (!strstr(why, want))
		fail_msg("expected '%s', saw '%s'", want, why);
}

static void
test_gunzip_blocks(void **state)
{
	(void)state;
	unsigned char buf[512], copy[sizeof fixed_gz];
	size_t a, b;

	expect_text(fixed_gz, sizeof fixed_gz, fixed_text);
	a = stored_gz(buf, "stored bytes");
	expect_text(buf, a, "stored bytes");
	/* two members decompress to their concatenation */
	b = stored_gz(buf + a, ", then more");
	expect_text(buf, a + b, "stored bytes, then more");

	expect_error(fixed_gz, sizeof fixed_gz - 9, "truncated");
	expect_error(fixed_gz, 20, "truncated deflate stream");
	expect_error((const unsigned char *)"BZh91AY", 7, "not a gzip file");
	memcpy(copy, fixed_gz, sizeof copy);
	copy[sizeof copy - 8] ^= 1;
	expect_error(copy, sizeof copy, "CRC-32 mismatch");
	memcpy(copy, fixed_gz, sizeof copy);
	copy[sizeof copy - 4] ^= 1;
	expect_error(copy, sizeof copy, "length mismatch");
	a = stored_gz(buf, "xyz");
	buf[15] ^= 0xff;        /* NLEN no longer complements LEN */
	expect_error(buf, a, "stored block length");
	a = stored_gz(buf, "xyz");
	buf[12] = 7;            /* block type 3 */
	expect_error(buf, a, "invalid block type");
}

/* A large file of words drawn at random from a few: gzip -9 writes
 * several dynamic Huffman blocks with matches near and far; the result
 * must equal the original. */
static void
test_gunzip_dynamic(void **state)
{
	(void)state;
	const char *dir = scratch_dir("idx-gz");
	size_t n = 300000, len;
	unsigned char *data = malloc(n), *out;
	char path[1200], gz[1300];
	const char *why;
	RtRng r;

	static const char *const words[] = { "tensor ", "gradient ", "of ",
		"loss\n", "adjoint ", "batch ", "a ", "reverse-mode ", "\t" };
	rt_rng_seed(&r, 42);
	for (size_t i = 0; i < n; ) {
		const char *w = words[rt_rng_below(&r, 9)];
		for (size_t k = 0; w[k] && i < n; k++)
			data[i++] = (unsigned char)w[k];
	}
	snprintf(path, sizeof path, "%s/blob", dir);
	put_file(path, data, n);
	gzip_file(path);
	snprintf(gz, sizeof gz, "%s.gz", path);
	char *packed = rt_slurp(gz, &len);
	assert_non_null(packed);
	assert_true(len < n / 2);
	if (rt_gunzip((unsigned char *)packed, len, &out, &len, &why))
		fail_msg("gunzip: %s", why);
	assert_int_equal(len, n);
	assert_memory_equal(out, data, n);
	free(out);
	free(packed);
	free(data);
}

/* A trainer reads gzipped IDX for training, --eval and --predict. */
static void
test_idx_trainer(void **state)
{
	(void)state;
	static const char model[] =
		"input x[4]\n"
		"target c : class(3)\n"
		"param W[3, 4] = 0\n"
		"logits = W @ (x / 255)\n"
		"output softmax(logits)\n"
		"loss cross_entropy(logits, c)\n"
		"train adam(lr = 0.1) epochs 200 batch 3\n";
	const char *dir = scratch_dir("idx-cli");
	char path[1200], labels[1200], cmd[4000], *out;

	snprintf(path, sizeof path, "%s/m.dl", dir);
	put_file(path, model, strlen(model));
	snprintf(path, sizeof path, "%s/x", dir);
	snprintf(labels, sizeof labels, "%s/y", dir);
	write_images(path, labels);
	gzip_file(path);
	gzip_file(labels);
	snprintf(cmd, sizeof cmd, "(cd '%s' && '%s/dlc' m.dl -o m && ./m "
		"--data x.gz --targets y.gz --quiet --eval x.gz --eval-targets "
		"y.gz && ./m --data x --targets y --quiet --predict x.gz "
		"--out p.csv && wc -l < p.csv && ./m --data x.gz --quiet; "
		"echo status $?; ./m --data x --targets y --eval-targets y; "
		"echo status $?) 2>&1", dir, DLC_BUILD);
	assert_int_equal(run_cmd(cmd, &out), 0);
	if (!strstr(out, "accuracy  1.0000") || !strstr(out, "\n3\n") ||
	    !strstr(out, "an IDX file holds the inputs only") ||
	    !strstr(out, "status 1\n") ||
	    !strstr(out, "--eval-targets goes with --eval") ||
	    !strstr(out, "status 2\n"))
		fail_msg("%s", out);
	free(out);
}

TestList
idx_tests(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idx_plain_and_gzipped),
		cmocka_unit_test(test_idx_types),
		cmocka_unit_test(test_idx_refused),
		cmocka_unit_test(test_gunzip_blocks),
		cmocka_unit_test(test_gunzip_dynamic),
		cmocka_unit_test(test_idx_trainer),
	};
	return (TestList){ tests, sizeof tests / sizeof tests[0] };
}
