/*
 * inflate.c - decompressing gzip files (RFC 1952) holding deflate data
 * (RFC 1951), so the trainer reads the .gz files in which the MNIST family
 * of data sets is distributed without a library dependency.
 *
 * Deflate is a sequence of blocks, each stored, or coded with the fixed
 * Huffman codes, or with codes described at the block's start.  A Huffman
 * code is canonical: the code lengths alone define it.  We decode through
 * one table per code, indexed by the next `bits` input bits (the longest
 * code's length), whose entry holds the symbol and its length; a table of
 * 2^15 entries at most is cheap, and one lookup decodes any symbol.
 *
 * Every malformed input is reported, never trusted: a truncated stream,
 * an invalid or over-subscribed code, a distance reaching before the
 * output, a bad check value or length in the gzip trailer.
 */
#include <stdlib.h>
#include <string.h>

#include "dlrt.h"

enum { MAXBITS = 15, NLITLEN = 288, NDIST = 32 };

/* A decoding table: entry = symbol << 4 | length; length 0 marks input
 * bits that begin no code. */
typedef struct Huff {
	int bits;               /* index width: the longest code's length */
	uint16_t *table;        /* 2^MAXBITS entries, of which 2^bits used */
} Huff;

typedef struct Inflate {
	const unsigned char *in;
	size_t len, pos;        /* input and the next unread byte */
	uint64_t bitbuf;        /* unconsumed bits, the next in bit 0 */
	int bitcnt;
	unsigned char *out;
	size_t outlen, outcap;
	const char *err;        /* the first problem met, else NULL */
	Huff lit, dist;
} Inflate;

static int
bad(Inflate *s, const char *why)
{
	if (!s->err)
		s->err = why;
	return -1;
}

/* Fills the bit buffer as far as the input allows. */
static void
refill(Inflate *s)
{
	while (s->bitcnt <= 56 && s->pos < s->len) {
		s->bitbuf |= (uint64_t)s->in[s->pos++] << s->bitcnt;
		s->bitcnt += 8;
	}
}

/* The next n bits, consumed; -1 when the input ends first. */
static long
bits(Inflate *s, int n)
{
	long v;

	if (s->bitcnt < n)
		refill(s);
	if (s->bitcnt < n)
		return bad(s, "truncated deflate stream");
	v = (long)(s->bitbuf & ((1ull << n) - 1));
	s->bitbuf >>= n;
	s->bitcnt -= n;
	return v;
}

/* Builds h from n code lengths.  Codes of one length are consecutive
 * numbers, shorter lengths first and symbols in order within a length;
 * deflate sends codes starting from their most significant bit, so each
 * code is entered bit-reversed, once for every value of the unused bits. */
static int
build(Inflate *s, Huff *h, const unsigned char *lengths, int n)
{
	int count[MAXBITS + 1] = { 0 }, next[MAXBITS + 2];
	long left = 1;

	for (int i = 0; i < n; i++)
		count[lengths[i]]++;
	h->bits = 0;
	for (int l = 1; l <= MAXBITS; l++) {
		left = 2 * left - count[l];
		if (left < 0)
			return bad(s, "over-subscribed Huffman code");
		if (count[l])
			h->bits = l;
	}
	memset(h->table, 0, sizeof(uint16_t) << h->bits);
	next[1] = 0;
	for (int l = 1; l <= MAXBITS; l++)
		next[l + 1] = (next[l] + count[l]) << 1;
	for (int sym = 0; sym < n; sym++) {
		int l = lengths[sym], code = l ? next[l]++ : 0, rev = 0;
		for (int b = 0; b < l; b++)
			rev |= (code >> b & 1) << (l - 1 - b);
		for (int k = rev; l && k < 1 << h->bits; k += 1 << l)
			h->table[k] = (uint16_t)(sym << 4 | l);
	}
	return 0;
}

/* One symbol of h; -1 at the end of the input or on a hole in the code. */
static int
decode(Inflate *s, const Huff *h)
{
	if (s->bitcnt < h->bits)
		refill(s);
	if (h->bits == 0)
		return bad(s, "a code with no symbols is used");
	unsigned e = h->table[s->bitbuf & ((1u << h->bits) - 1)];
	int l = (int)(e & 15);
	if (l == 0)
		return bad(s, "invalid Huffman code in the input");
	if (l > s->bitcnt)
		return bad(s, "truncated deflate stream");
	s->bitbuf >>= l;
	s->bitcnt -= l;
	return (int)(e >> 4);
}

static int
put(Inflate *s, unsigned char c)
{
	if (s->outlen == s->outcap) {
		size_t cap = s->outcap ? 2 * s->outcap : 1 << 16;
		unsigned char *grown = realloc(s->out, cap);
		if (!grown)
			return bad(s, "out of memory");
		s->out = grown;
		s->outcap = cap;
	}
	s->out[s->outlen++] = c;
	return 0;
}

/* A stored block: the bits up to the next byte boundary are skipped,
 * then LEN, its complement NLEN, and LEN bytes as they are. */
static int
stored(Inflate *s)
{
	bits(s, s->bitcnt % 8);
	long len = bits(s, 16), nlen = bits(s, 16);

	if (len < 0 || nlen < 0)
		return -1;
	if (len != (~nlen & 0xffff))
		return bad(s, "stored block length fails its check");
	for (long i = 0; i < len; i++) {
		long c = bits(s, 8);
		if (c < 0 || put(s, (unsigned char)c))
			return -1;
	}
	return 0;
}

/* Lengths 257..285 and distances 0..29: a base plus extra bits. */
static const uint16_t len_base[29] = { 3, 4, 5, 6, 7, 8, 9, 10, 11, 13,
	15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163,
	195, 227, 258 };
static const uint8_t len_extra[29] = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1,
	1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0 };
static const uint16_t dist_base[30] = { 1, 2, 3, 4, 5, 7, 9, 13, 17, 25,
	33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
	4097, 6145, 8193, 12289, 16385, 24577 };
static const uint8_t dist_extra[30] = { 0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4,
	4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13 };

/* Copies len bytes from dist bytes back: the source may overlap what is
 * being written, which repeats a short pattern. */
static int
copy_back(Inflate *s, long len, long dist)
{
	if ((size_t)dist > s->outlen)
		return bad(s, "distance reaches before the output's start");
	while (len-- > 0)
		if (put(s, s->out[s->outlen - (size_t)dist]))
			return -1;
	return 0;
}

/* The symbols of one Huffman-coded block, up to its end code 256. */
static int
codes(Inflate *s)
{
	for (;;) {
		int sym = decode(s, &s->lit);
		if (sym < 0)
			return -1;
		if (sym < 256) {
			if (put(s, (unsigned char)sym))
				return -1;
			continue;
		}
		if (sym == 256)
			return 0;
		if ((sym -= 257) >= 29)
			return bad(s, "invalid length code");
		long len = len_base[sym] + bits(s, len_extra[sym]);
		int d = decode(s, &s->dist);
		if (d < 0 || d >= 30)
			return bad(s, "invalid distance code");
		long dist = dist_base[d] + bits(s, dist_extra[d]);
		if (s->err || copy_back(s, len, dist))
			return -1;
	}
}

static int
fixed(Inflate *s)
{
	unsigned char l[NLITLEN];
	int i = 0;

	while (i < 144)
		l[i++] = 8;
	while (i < 256)
		l[i++] = 9;
	while (i < 280)
		l[i++] = 7;
	while (i < NLITLEN)
		l[i++] = 8;
	if (build(s, &s->lit, l, NLITLEN))
		return -1;
	memset(l, 5, NDIST);
	return build(s, &s->dist, l, NDIST) ? -1 : codes(s);
}

/* The code-length alphabet: 0..15 a length, 16 repeats the previous one
 * 3..6 times, 17 and 18 give 3..10 and 11..138 zeros. */
static int
read_lengths(Inflate *s, Huff *h, unsigned char *l, int n)
{
	for (int i = 0; i < n; ) {
		int sym = decode(s, h), rep;
		unsigned char v = 0;
		if (sym < 0)
			return -1;
		if (sym < 16) {
			l[i++] = (unsigned char)sym;
			continue;
		}
		if (sym == 16 && i == 0)
			return bad(s, "repeated code length with none before");
		if (sym == 16)
			v = l[i - 1], rep = 3 + (int)bits(s, 2);
		else
			rep = sym == 17 ? 3 + (int)bits(s, 3) :
				11 + (int)bits(s, 7);
		if (s->err || i + rep > n)
			return bad(s, "code lengths run past their count");
		while (rep--)
			l[i++] = v;
	}
	return 0;
}

static int
dynamic(Inflate *s)
{
	static const uint8_t order[19] = { 16, 17, 18, 0, 8, 7, 9, 6, 10, 5,
		11, 4, 12, 3, 13, 2, 14, 1, 15 };
	unsigned char l[NLITLEN + NDIST] = { 0 };
	long nlen = 257 + bits(s, 5), ndist = 1 + bits(s, 5);
	long ncode = 4 + bits(s, 4);

	if (s->err)
		return -1;
	if (nlen > 286 || ndist > 30)
		return bad(s, "too many length or distance codes");
	for (int i = 0; i < ncode; i++) {
		long v = bits(s, 3);
		if (v < 0)
			return -1;
		l[order[i]] = (unsigned char)v;
	}
	if (build(s, &s->lit, l, 19) ||
	    read_lengths(s, &s->lit, l, (int)(nlen + ndist)))
		return -1;
	if (l[256] == 0)
		return bad(s, "block has no end code");
	if (build(s, &s->lit, l, (int)nlen) ||
	    build(s, &s->dist, l + nlen, (int)ndist))
		return -1;
	return codes(s);
}

/* Blocks until the one marked last. */
static int
blocks(Inflate *s)
{
	long last, type;

	do {
		last = bits(s, 1);
		type = bits(s, 2);
		if (s->err)
			return -1;
		if (type == 0 ? stored(s) : type == 1 ? fixed(s) :
		    type == 2 ? dynamic(s) : bad(s, "invalid block type"))
			return -1;
	} while (!last);
	/* the trailer starts at the next byte; give back unused whole bytes */
	s->pos -= (size_t)(s->bitcnt / 8);
	s->bitbuf = 0;
	s->bitcnt = 0;
	return 0;
}

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		(uint32_t)p[3] << 24;
}

/* Skips a zero-terminated header field. */
static int
skip_string(Inflate *s)
{
	while (s->pos < s->len && s->in[s->pos] != 0)
		s->pos++;
	if (s->pos++ >= s->len)
		return bad(s, "truncated gzip header");
	return 0;
}

/* The member header: magic, method 8 (deflate), flags, and the optional
 * extra field, name, comment and header check, which we skip. */
static int
header(Inflate *s)
{
	const unsigned char *p = s->in + s->pos;

	if (s->len - s->pos < 10 || p[0] != 0x1f || p[1] != 0x8b)
		return bad(s, "not a gzip file");
	if (p[2] != 8 || (p[3] & 0xe0))
		return bad(s, "unsupported gzip method or flags");
	int flags = p[3];
	s->pos += 10;
	if (flags & 4) {
		if (s->len - s->pos < 2)
			return bad(s, "truncated gzip header");
		s->pos += 2 + (size_t)(s->in[s->pos] | s->in[s->pos + 1] << 8);
		if (s->pos > s->len)
			return bad(s, "truncated gzip header");
	}
	if ((flags & 8 && skip_string(s)) || (flags & 16 && skip_string(s)))
		return -1;
	if (flags & 2 && (s->pos += 2) > s->len)
		return bad(s, "truncated gzip header");
	return 0;
}

/* One member: header, deflate data, then the CRC-32 and the length
 * (modulo 2^32) of what it decompresses to. */
static int
member(Inflate *s)
{
	size_t start = s->outlen;

	if (header(s) || blocks(s))
		return -1;
	if (s->len - s->pos < 8)
		return bad(s, "truncated gzip trailer");
	uint32_t crc = le32(s->in + s->pos), size = le32(s->in + s->pos + 4);
	s->pos += 8;
	if (rt_crc32(0, s->out + start, s->outlen - start) != crc)
		return bad(s, "CRC-32 mismatch: the data are corrupt");
	if ((uint32_t)(s->outlen - start) != size)
		return bad(s, "length mismatch in the gzip trailer");
	return 0;
}

int
rt_gunzip(const unsigned char *in, size_t len, unsigned char **out,
	size_t *outlen, const char **why)
{
	Inflate s = { .in = in, .len = len };
	uint16_t *tables = malloc(2 * (sizeof *tables << MAXBITS));

	s.lit.table = tables;
	s.dist.table = tables ? tables + (1 << MAXBITS) : NULL;
	if (!tables)
		bad(&s, "out of memory");
	/* concatenated members decompress to the concatenation */
	while (!s.err && (s.pos == 0 || s.pos < s.len))
		member(&s);
	free(tables);
	if (s.err) {
		free(s.out);
		*out = NULL;
		*outlen = 0;
		*why = s.err;
		return -1;
	}
	*out = s.out ? s.out : malloc(1);
	*outlen = s.outlen;
	return *out ? 0 : -1;
}
