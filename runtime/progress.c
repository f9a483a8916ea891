/*
 * progress.c - what the person waiting sees, on stderr so that stdout
 * stays clean for results.  On a terminal a bar redraws in place at most
 * ten times a second, with the example rate and the time left for the
 * whole run; each epoch then leaves one summary line.  Elsewhere (a pipe,
 * a log file) only the summary lines appear.
 */
#include <math.h>
#include <time.h>
#include <unistd.h>

#include "dlrt.h"

double
rt_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void
rt_progress_init(RtProgress *p, FILE *f, int quiet, long every, size_t total)
{
	p->f = f;
	p->tty = isatty(fileno(f));
	p->quiet = quiet;
	p->every = every > 0 ? every : 1;
	p->t0 = p->epoch_t0 = rt_now();
	p->last_draw = 0;
	p->done = 0;
	p->total = total;
}

static void
duration(char *buf, size_t n, double s)
{
	long t = s > 0 && s < 1e9 ? (long)(s + 0.5) : 0;

	if (t >= 3600)
		snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60,
			t % 60);
	else
		snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

static void
rate_text(char *buf, size_t n, double rate)
{
	if (rate >= 1e6)
		snprintf(buf, n, "%.1fM", rate / 1e6);
	else if (rate >= 1e3)
		snprintf(buf, n, "%.1fk", rate / 1e3);
	else
		snprintf(buf, n, "%.0f", rate);
}

static void
draw(RtProgress *p, long epoch, long epochs, size_t pos, size_t n, double t)
{
	enum { WIDTH = 24 };
	char bar[WIDTH + 1], rate[32], left[32];
	double elapsed = t - p->t0;
	double r = elapsed > 0 ? (double)p->done / elapsed : 0;
	int fill = (int)((double)WIDTH * (double)pos / (double)n);

	for (int i = 0; i < WIDTH; i++)
		bar[i] = i < fill ? '=' : i == fill ? '>' : ' ';
	bar[WIDTH] = '\0';
	rate_text(rate, sizeof rate, r);
	duration(left, sizeof left, r > 0 ? (double)(p->total - p->done) / r
		: 0);
	fprintf(p->f, "\repoch %ld/%ld [%s] %zu/%zu  %s ex/s  left %s\033[K",
		epoch, epochs, bar, pos, n, rate, left);
	fflush(p->f);
	p->last_draw = t;
}

/* Called after each batch; pos counts the examples done in the epoch. */
void
rt_progress_batch(RtProgress *p, long epoch, long epochs, size_t pos,
	size_t n, size_t len)
{
	p->done += len;
	if (!p->tty || p->quiet)
		return;
	double t = rt_now();
	if (pos == len || t - p->last_draw >= 0.1)
		draw(p, epoch, epochs, pos, n, t);
}

void
rt_progress_clear(RtProgress *p)
{
	if (p->tty && !p->quiet) {
		fputs("\r\033[K", p->f);
		fflush(p->f);
	}
}

void
rt_progress_epoch(RtProgress *p, long epoch, long epochs, double train,
	double val, const char *metric_name, double metric, double seconds)
{
	int width = snprintf(NULL, 0, "%ld", epochs);

	rt_progress_clear(p);
	if (p->quiet || !(epoch % p->every == 0 || epoch == epochs ||
	    epoch == 1))
		return;
	fprintf(p->f, "epoch %*ld/%ld  train %.6g", width, epoch, epochs,
		train);
	if (!isnan(val))
		fprintf(p->f, "  val %.6g", val);
	if (metric_name && !isnan(metric))
		fprintf(p->f, "  val_%s %.4g", metric_name, metric);
	fprintf(p->f, "  %.2fs\n", seconds);
	fflush(p->f);
}
