/*
 * ckpt.c - checkpoints: the whole training state in one binary file, so a
 * run can stop and resume exactly where it was.
 *
 * Layout, every number little-endian, reals as IEEE float64:
 *
 *   magic "\x89DLCKPT\n"  u32 version  u32 bytes per real of the writer
 *   u64 file length       u64 model hash
 *   model name            (u32 length, bytes)
 *   u32 parameter count, then per parameter: name, u32 rank, u32 extents
 *   u64 elements          f64 params[elements]
 *   u32 optimiser         u64 steps   f64 buf1[elements]  f64 buf2[elements]
 *   i64 epochs done       u64 examples done in the next epoch
 *   u64 shuffle state     f64 loss sum of the unfinished epoch
 *   f64 best val loss     i64 its epoch   f64 best[elements]
 *   u32 standardised columns, f64 mean[columns], f64 std[columns]
 *   u32 CRC-32 of every byte before it
 *
 * The length comes early so that a truncated file is told apart from a
 * corrupted one.  Saving writes FILE.tmp, syncs it, renames it over FILE
 * and syncs the directory: at every instant FILE is the old checkpoint or
 * the new one, never a mixture.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dlrt.h"

#define VERSION 1
static const char magic[8] = "\x89" "DLCKPT\n";
enum { HEADER = 32 };

size_t rt_ckpt_crash_after;

uint32_t
rt_crc32(uint32_t crc, const unsigned char *p, size_t n)
{
	static uint32_t table[256];

	if (table[1] == 0)
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
	crc = ~crc;
	while (n--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static int
fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- writing: a buffered stream that keeps the CRC as it goes ---- */

typedef struct Writer {
	int fd;
	int ok;
	uint32_t crc;
	size_t written, used;
	unsigned char buf[1 << 16];
} Writer;

static void
flush(Writer *w)
{
	unsigned char *p = w->buf;

	while (w->ok && w->used > 0) {
		size_t n = w->used;
		if (rt_ckpt_crash_after && w->written + n > rt_ckpt_crash_after)
			n = rt_ckpt_crash_after - w->written;
		ssize_t got = write(w->fd, p, n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			w->ok = 0;
			break;
		}
		p += got;
		w->used -= (size_t)got;
		w->written += (size_t)got;
		if (rt_ckpt_crash_after && w->written >= rt_ckpt_crash_after)
			raise(SIGKILL);
	}
}

static void
put(Writer *w, const void *data, size_t n)
{
	const unsigned char *p = data;

	w->crc = rt_crc32(w->crc, p, n);
	while (n > 0) {
		size_t room = sizeof w->buf - w->used, k = n < room ? n : room;
		memcpy(w->buf + w->used, p, k);
		w->used += k;
		p += k;
		n -= k;
		if (w->used == sizeof w->buf)
			flush(w);
	}
}

static void
put_u64(Writer *w, uint64_t v)
{
	unsigned char b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	put(w, b, 8);
}

static void
put_u32(Writer *w, uint32_t v)
{
	unsigned char b[4];

	for (int i = 0; i < 4; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	put(w, b, 4);
}

static void
put_f64(Writer *w, double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof u);
	put_u64(w, u);
}

static void
put_str(Writer *w, const char *s)
{
	put_u32(w, (uint32_t)strlen(s));
	put(w, s, strlen(s));
}

static void
put_reals(Writer *w, const rt_real *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put_f64(w, (double)v[i]);
}

/* The file length, known before writing so it can lead the file. */
static uint64_t
file_length(const RtModel *m, const RtState *s)
{
	uint64_t n = HEADER + 4 + strlen(m->name) + 4;

	for (int i = 0; i < m->nparam_table; i++)
		n += 4 + strlen(m->param_table[i].name) + 4 +
			4 * (uint64_t)m->param_table[i].rank;
	n += 8 + 8 * (uint64_t)s->nparams * 4;  /* params, buffers, best */
	n += 4 + 8 + 8 + 8 + 8 + 8 + 8 + 8;
	n += 4 + 16 * (uint64_t)s->scaler.ncols + 4;
	return n;
}

static void
put_state(Writer *w, const RtModel *m, const RtState *s)
{
	put(w, magic, 8);
	put_u32(w, VERSION);
	put_u32(w, (uint32_t)sizeof(rt_real));
	put_u64(w, file_length(m, s));
	put_u64(w, m->hash);
	put_str(w, m->name);
	put_u32(w, (uint32_t)m->nparam_table);
	for (int i = 0; i < m->nparam_table; i++) {
		const RtParam *p = &m->param_table[i];
		put_str(w, p->name);
		put_u32(w, (uint32_t)p->rank);
		for (int d = 0; d < p->rank; d++)
			put_u32(w, (uint32_t)p->shape[d]);
	}
	put_u64(w, s->nparams);
	put_reals(w, s->params, s->nparams);
	put_u32(w, (uint32_t)s->opt);
	put_u64(w, s->step);
	put_reals(w, s->buf1, s->nparams);
	put_reals(w, s->buf2, s->nparams);
	put_u64(w, (uint64_t)s->epoch);
	put_u64(w, s->pos);
	put_u64(w, s->epoch_rng);
	put_f64(w, s->epoch_loss);
	put_f64(w, s->best_val);
	put_u64(w, (uint64_t)s->best_epoch);
	put_reals(w, s->best, s->nparams);
	put_u32(w, (uint32_t)s->scaler.ncols);
	for (int c = 0; c < s->scaler.ncols; c++)
		put_f64(w, s->scaler.mean[c]);
	for (int c = 0; c < s->scaler.ncols; c++)
		put_f64(w, s->scaler.std[c]);
	put_u32(w, w->crc);
	flush(w);
}

/* Makes the rename itself durable. */
static int
sync_dir(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int fd, status;

	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path + 1),
			path);
	if ((fd = open(dir, O_RDONLY)) < 0)
		return -1;
	status = fsync(fd);
	close(fd);
	return status;
}

int
rt_ckpt_save(const char *path, const RtModel *m, const RtState *s,
	char *err, size_t errlen)
{
	char tmp[4200];
	Writer *w = malloc(sizeof *w);

	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if (!w)
		return fail(err, errlen, "%s: out of memory", path);
	w->fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	w->ok = w->fd >= 0;
	w->crc = 0;
	w->written = w->used = 0;
	if (w->ok)
		put_state(w, m, s);
	int saved = errno, ok = w->ok && fsync(w->fd) == 0;
	if (!ok)
		saved = errno;
	if (w->fd >= 0 && close(w->fd) != 0 && ok) {
		ok = 0;
		saved = errno;
	}
	free(w);
	if (ok && rename(tmp, path) != 0) {
		ok = 0;
		saved = errno;
	}
	if (!ok) {
		unlink(tmp);
		return fail(err, errlen, "cannot write checkpoint %s: %s",
			path, strerror(saved));
	}
	if (sync_dir(path) != 0)
		return fail(err, errlen, "cannot sync the directory of %s: %s",
			path, strerror(errno));
	return 0;
}

/* ---- reading: bounds-checked, so no file can make us read past it ---- */

typedef struct Reader {
	const unsigned char *p, *end;
	int ok;
} Reader;

static const unsigned char *
take(Reader *r, size_t n)
{
	const unsigned char *p = r->p;

	if (!r->ok || (size_t)(r->end - r->p) < n) {
		r->ok = 0;
		return NULL;
	}
	r->p += n;
	return p;
}

static uint64_t
get_u64(Reader *r)
{
	const unsigned char *b = take(r, 8);
	uint64_t v = 0;

	for (int i = 7; b && i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

static uint32_t
get_u32(Reader *r)
{
	const unsigned char *b = take(r, 4);
	uint32_t v = 0;

	for (int i = 3; b && i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

static double
get_f64(Reader *r)
{
	uint64_t u = get_u64(r);
	double d;

	memcpy(&d, &u, sizeof d);
	return d;
}

static void
get_reals(Reader *r, rt_real *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		v[i] = (rt_real)get_f64(r);
}

/* A length-prefixed string, cut to fit buf. */
static int
get_str(Reader *r, char *buf, size_t n)
{
	uint32_t len = get_u32(r);
	const unsigned char *s = take(r, len);

	snprintf(buf, n, "%.*s", s ? (int)len : 0, s ? (const char *)s : "");
	return r->ok ? 0 : -1;
}

static int
check_params(Reader *r, const RtModel *m, const char *path, char *err,
	size_t errlen)
{
	char name[256];

	if (get_u32(r) != (uint32_t)m->nparam_table && r->ok)
		return fail(err, errlen, "%s: the parameter count differs from "
			"the model's", path);
	for (int i = 0; r->ok && i < m->nparam_table; i++) {
		const RtParam *p = &m->param_table[i];
		get_str(r, name, sizeof name);
		int same = strcmp(name, p->name) == 0 &&
			get_u32(r) == (uint32_t)p->rank;
		for (int d = 0; same && d < p->rank; d++)
			same = get_u32(r) == (uint32_t)p->shape[d];
		if (r->ok && !same)
			return fail(err, errlen, "%s: parameter %d is '%s' "
				"with another shape than the model's '%s'",
				path, i + 1, name, p->name);
	}
	return 0;
}

static void
get_state(Reader *r, RtState *s)
{
	if (get_u64(r) != s->nparams)
		r->ok = 0;
	get_reals(r, s->params, s->nparams);
	s->opt = (RtOptKind)get_u32(r);
	if (s->opt > RT_ADAMW)
		r->ok = 0;
	s->step = get_u64(r);
	get_reals(r, s->buf1, s->nparams);
	get_reals(r, s->buf2, s->nparams);
	s->epoch = (long)get_u64(r);
	s->pos = (size_t)get_u64(r);
	s->epoch_rng = get_u64(r);
	s->epoch_loss = get_f64(r);
	s->best_val = get_f64(r);
	s->best_epoch = (long)get_u64(r);
	get_reals(r, s->best, s->nparams);
}

static void
get_scaler(Reader *r, RtScaler *sc, int ninputs)
{
	uint32_t n = get_u32(r);

	rt_scaler_free(sc);
	if (n == 0 || !r->ok)
		return;
	if (n != (uint32_t)ninputs) {
		r->ok = 0;
		return;
	}
	sc->mean = calloc(n, sizeof *sc->mean);
	sc->std = calloc(n, sizeof *sc->std);
	if (!sc->mean || !sc->std) {
		r->ok = 0;
		rt_scaler_free(sc);
		return;
	}
	sc->ncols = (int)n;
	for (uint32_t c = 0; c < n; c++)
		sc->mean[c] = get_f64(r);
	for (uint32_t c = 0; c < n; c++)
		sc->std[c] = get_f64(r);
}

/* The checks whose failures have their own messages, in the order that
 * makes each message true: format, version, length, checksum, model. */
static int
check_frame(const unsigned char *b, size_t len, const RtModel *m,
	const char *path, char *err, size_t errlen)
{
	Reader r = { b + 8, b + len, 1 };

	if (len < 8 ? memcmp(b, magic, len) != 0 : memcmp(b, magic, 8) != 0)
		return fail(err, errlen, "%s: not a dlc checkpoint", path);
	if (len < HEADER)
		return fail(err, errlen, "%s: truncated checkpoint (%zu bytes)",
			path, len);
	uint32_t version = get_u32(&r);
	get_u32(&r);
	uint64_t want = get_u64(&r), hash = get_u64(&r);
	if (version != VERSION)
		return fail(err, errlen, "%s: checkpoint format version %u; "
			"this trainer reads version %d", path, version, VERSION);
	if (len < want)
		return fail(err, errlen, "%s: truncated checkpoint (%zu of "
			"%llu bytes)", path, len, (unsigned long long)want);
	uint32_t crc = 0;
	for (int i = 3; i >= 0; i--)
		crc = crc << 8 | b[len - 4 + (size_t)i];
	if (len > want || rt_crc32(0, b, len - 4) != crc)
		return fail(err, errlen, "%s: corrupted checkpoint (checksum "
			"mismatch)", path);
	if (hash != m->hash) {
		char name[256];
		get_str(&r, name, sizeof name);
		return fail(err, errlen, "%s: checkpoint of another model "
			"('%s', hash %016llx); this trainer is '%s' (hash "
			"%016llx)", path, name, (unsigned long long)hash,
			m->name, (unsigned long long)m->hash);
	}
	return 0;
}

int
rt_ckpt_load(const char *path, const RtModel *m, RtState *s, char *err,
	size_t errlen)
{
	char name[256];
	size_t len;
	unsigned char *b = (unsigned char *)rt_slurp(path, &len);
	int status;

	if (!b)
		return fail(err, errlen, "cannot read checkpoint %s: %s", path,
			strerror(errno));
	status = check_frame(b, len, m, path, err, errlen);
	if (status == 0) {
		Reader r = { b + HEADER, b + len - 4, 1 };
		get_str(&r, name, sizeof name);
		status = check_params(&r, m, path, err, errlen);
		if (status == 0) {
			get_state(&r, s);
			get_scaler(&r, &s->scaler, m->ninputs);
		}
		if (status == 0 && (!r.ok || r.p != r.end))
			status = fail(err, errlen, "%s: malformed checkpoint "
				"contents", path);
	}
	free(b);
	return status;
}
