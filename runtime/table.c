/*
 * table.c - what happens to a table of examples after loading: choosing
 * the reader, the seeded validation split, and standardisation.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dlrt.h"

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

int
rt_read_data(const RtModel *m, const char *path, const char *targets,
	int want_targets, RtData *d, char *err, size_t errlen)
{
	int idx = !ends_with(path, ".npy") && !ends_with(path, ".csv") &&
		rt_is_idx(path);

	if (idx && want_targets && !targets) {
		snprintf(err, errlen, "%s: an IDX file holds the inputs only; "
			"give the labels' IDX file with --targets FILE", path);
		return -1;
	}
	if (idx)
		return rt_read_idx(m, path, targets, d, err, errlen);
	if (ends_with(path, ".npy")) {
		if (want_targets && !targets) {
			snprintf(err, errlen, "%s: a .npy file holds the inputs "
				"only; give the targets with --targets FILE.npy",
				path);
			return -1;
		}
		return rt_read_npy(m, path, targets, d, err, errlen);
	}
	if (targets && access(path, R_OK) != 0)
		return rt_file_error(err, errlen, path, "cannot read: %s",
			strerror(errno));
	if (targets) {
		snprintf(err, errlen, "%s: --targets goes with .npy or IDX inputs; "
			"a CSV row holds its own targets", targets);
		return -1;
	}
	return rt_read_model_csv(m, path, want_targets, d, err, errlen);
}

void
rt_data_free(RtData *d)
{
	free(d->inputs);
	free(d->targets);
	d->inputs = d->targets = NULL;
	d->n = 0;
}

static int
alloc_rows(RtData *d, size_t n, int ni, int nt)
{
	*d = (RtData){ .n = n, .ninputs = ni, .ntargets = nt };
	d->inputs = malloc(n * (size_t)ni * sizeof *d->inputs + 1);
	d->targets = malloc(n * (size_t)nt * sizeof *d->targets + 1);
	return d->inputs && d->targets ? 0 : -1;
}

static void
copy_row(RtData *to, size_t i, const RtData *from, size_t j)
{
	size_t ni = (size_t)from->ninputs, nt = (size_t)from->ntargets;

	memcpy(to->inputs + i * ni, from->inputs + j * ni,
		ni * sizeof(rt_real));
	memcpy(to->targets + i * nt, from->targets + j * nt,
		nt * sizeof(rt_real));
}

/* A seeded permutation picks the validation rows; both parts keep the
 * file's order, so the split depends on the seed and nothing else.  The
 * generator is offset from the shuffle's so the two are independent. */
int
rt_data_split(const RtData *d, double frac, uint64_t seed, RtData *train,
	RtData *val)
{
	size_t nval = (size_t)floor(frac * (double)d->n + 0.5), a = 0, b = 0;
	char *is_val = calloc(d->n + 1, 1);
	size_t *perm = malloc((d->n + 1) * sizeof *perm);
	RtRng rng;

	if (nval == 0 || nval >= d->n || !is_val || !perm) {
		free(is_val);
		free(perm);
		return -1;
	}
	rt_rng_seed(&rng, seed ^ 0x5eedda7a5011700dull);
	for (size_t i = 0; i < d->n; i++)
		perm[i] = i;
	for (size_t i = 0; i < nval; i++) {
		size_t j = i + rt_rng_below(&rng, d->n - i);
		size_t t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
		is_val[perm[i]] = 1;
	}
	free(perm);
	if (alloc_rows(train, d->n - nval, d->ninputs, d->ntargets) ||
	    alloc_rows(val, nval, d->ninputs, d->ntargets)) {
		rt_data_free(train);
		rt_data_free(val);
		free(is_val);
		return -1;
	}
	for (size_t i = 0; i < d->n; i++)
		if (is_val[i])
			copy_row(val, b++, d, i);
		else
			copy_row(train, a++, d, i);
	free(is_val);
	return 0;
}

/* Mean and population standard deviation per input column, in double and
 * in two passes so large offsets do not cancel. */
void
rt_scaler_fit(RtScaler *s, const RtData *d)
{
	size_t ni = (size_t)d->ninputs;

	rt_scaler_free(s);
	s->mean = calloc(ni + 1, sizeof *s->mean);
	s->std = calloc(ni + 1, sizeof *s->std);
	if (!s->mean || !s->std) {
		rt_scaler_free(s);
		return;
	}
	s->ncols = d->ninputs;
	for (size_t r = 0; r < d->n; r++)
		for (size_t c = 0; c < ni; c++)
			s->mean[c] += (double)d->inputs[r * ni + c];
	for (size_t c = 0; c < ni; c++)
		s->mean[c] /= (double)d->n;
	for (size_t r = 0; r < d->n; r++)
		for (size_t c = 0; c < ni; c++) {
			double x = (double)d->inputs[r * ni + c] - s->mean[c];
			s->std[c] += x * x;
		}
	/* a constant column stays centred rather than dividing by zero */
	for (size_t c = 0; c < ni; c++) {
		s->std[c] = sqrt(s->std[c] / (double)d->n);
		if (!(s->std[c] > 0))
			s->std[c] = 1;
	}
}

void
rt_scaler_apply(const RtScaler *s, RtData *d)
{
	size_t ni = (size_t)d->ninputs;

	if (s->ncols != d->ninputs)
		return;
	for (size_t r = 0; r < d->n; r++)
		for (size_t c = 0; c < ni; c++)
			d->inputs[r * ni + c] = (rt_real)(((double)d->inputs[
				r * ni + c] - s->mean[c]) / s->std[c]);
}

void
rt_scaler_free(RtScaler *s)
{
	free(s->mean);
	free(s->std);
	s->mean = s->std = NULL;
	s->ncols = 0;
}
