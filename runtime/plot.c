/*
 * plot.c - the loss curves as a small SVG: training and validation loss
 * per epoch, with axes, ticks, labels and a legend.  The y axis turns
 * logarithmic when the losses span more than two decades, as they
 * usually do, so the late epochs stay visible.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "dlrt.h"

enum { W = 640, H = 400, LEFT = 72, RIGHT = 20, TOP = 36, BOTTOM = 48 };

typedef struct Axes {
	double x0, x1, y0, y1;  /* data range */
	int log;
} Axes;

static double
px(const Axes *a, double x)
{
	double span = a->x1 > a->x0 ? a->x1 - a->x0 : 1;

	return LEFT + (x - a->x0) / span * (W - LEFT - RIGHT);
}

static double
py(const Axes *a, double y)
{
	double v = a->log ? log10(y) : y;
	double span = a->y1 > a->y0 ? a->y1 - a->y0 : 1;

	return H - BOTTOM - (v - a->y0) / span * (H - TOP - BOTTOM);
}

static void
range(Axes *a, const double *train, const double *val, long n)
{
	double lo = INFINITY, hi = -INFINITY;

	for (long i = 0; i < n; i++)
		for (int k = 0; k < 2; k++) {
			double v = k ? (val ? val[i] : NAN) : train[i];
			if (isfinite(v)) {
				lo = v < lo ? v : lo;
				hi = v > hi ? v : hi;
			}
		}
	if (!isfinite(lo))
		lo = 0, hi = 1;
	a->log = lo > 0 && hi / lo > 100;
	a->y0 = a->log ? floor(log10(lo)) : lo;
	a->y1 = a->log ? ceil(log10(hi)) : hi;
	if (a->y1 <= a->y0)
		a->y1 = a->y0 + 1;
}

/* A tick step of 1, 2 or 5 times a power of ten giving about 5 ticks. */
static double
nice_step(double span)
{
	double raw = span / 5, p = pow(10, floor(log10(raw)));

	return raw / p >= 5 ? 5 * p : raw / p >= 2 ? 2 * p : p;
}

static void
axes(FILE *f, const Axes *a)
{
	fprintf(f, "<rect x='%d' y='%d' width='%d' height='%d' fill='none' "
		"stroke='#444'/>\n", LEFT, TOP, W - LEFT - RIGHT,
		H - TOP - BOTTOM);
	double xs = nice_step(a->x1 - a->x0 > 0 ? a->x1 - a->x0 : 1);
	for (double x = ceil(a->x0 / xs) * xs; x <= a->x1 + 1e-9; x += xs)
		fprintf(f, "<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' "
			"stroke='#444'/><text x='%.1f' y='%d' "
			"text-anchor='middle'>%g</text>\n", px(a, x),
			H - BOTTOM, px(a, x), H - BOTTOM + 5, px(a, x),
			H - BOTTOM + 20, x);
	double ys = a->log ? 1 : nice_step(a->y1 - a->y0);
	for (double y = ceil(a->y0 / ys) * ys; y <= a->y1 + 1e-12; y += ys) {
		double v = a->log ? pow(10, y) : y;
		fprintf(f, "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' "
			"stroke='#ddd'/><text x='%d' y='%.1f' "
			"text-anchor='end'>%g</text>\n", LEFT, py(a, v),
			W - RIGHT, py(a, v), LEFT - 6, py(a, v) + 4, v);
	}
	fprintf(f, "<text x='%d' y='%d' text-anchor='middle'>epoch</text>\n",
		(LEFT + W - RIGHT) / 2, H - 10);
	fprintf(f, "<text x='16' y='%d' text-anchor='middle' "
		"transform='rotate(-90 16 %d)'>loss%s</text>\n",
		(TOP + H - BOTTOM) / 2, (TOP + H - BOTTOM) / 2,
		a->log ? " (log scale)" : "");
}

/* One polyline per unbroken run of finite values. */
static void
curve(FILE *f, const Axes *a, const double *v, long n, long first,
	const char *colour)
{
	int open = 0;

	for (long i = 0; i <= n; i++) {
		int ok = i < n && isfinite(v[i]) && (!a->log || v[i] > 0);
		if (ok && !open)
			fprintf(f, "<polyline fill='none' stroke='%s' "
				"stroke-width='2' points='", colour);
		if (ok)
			fprintf(f, "%.1f,%.1f ", px(a, (double)(first + i)),
				py(a, v[i]));
		if (!ok && open)
			fputs("'/>\n", f);
		open = ok;
	}
}

static void
legend(FILE *f, int with_val)
{
	const char *names[] = { "train", "validation" };
	const char *colours[] = { "#1f77b4", "#ff7f0e" };

	for (int k = 0; k < 1 + with_val; k++) {
		int y = TOP + 16 + 18 * k;
		fprintf(f, "<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='%s' "
			"stroke-width='2'/><text x='%d' y='%d'>%s</text>\n",
			W - RIGHT - 110, y, W - RIGHT - 86, y, colours[k],
			W - RIGHT - 80, y + 4, names[k]);
	}
}

static void
escaped(FILE *f, const char *s)
{
	for (; *s; s++)
		if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '&')
			fputs("&amp;", f);
		else
			fputc(*s, f);
}

int
rt_plot_svg(const char *path, const char *title, const double *train,
	const double *val, long n, long first_epoch, char *err,
	size_t errlen)
{
	FILE *f = fopen(path, "w");
	Axes a = { (double)first_epoch, (double)(first_epoch + n - 1), 0, 1,
	           0 };

	if (!f) {
		snprintf(err, errlen, "cannot write %s: %s", path,
			strerror(errno));
		return -1;
	}
	range(&a, train, val, n);
	fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' "
		"height='%d' font-family='sans-serif' font-size='12'>\n"
		"<rect width='100%%' height='100%%' fill='white'/>\n", W, H);
	fprintf(f, "<text x='%d' y='22' text-anchor='middle' "
		"font-size='15'>", W / 2);
	escaped(f, title);
	fputs("</text>\n", f);
	axes(f, &a);
	curve(f, &a, train, n, first_epoch, "#1f77b4");
	if (val)
		curve(f, &a, val, n, first_epoch, "#ff7f0e");
	legend(f, val != NULL);
	fputs("</svg>\n", f);
	if (fclose(f) != 0) {
		snprintf(err, errlen, "writing %s failed", path);
		return -1;
	}
	return 0;
}
