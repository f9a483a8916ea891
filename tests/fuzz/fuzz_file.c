/*
 * fuzz_file.c - scratch files for the loader targets.  One pair per
 * process, named by the pid so that parallel jobs do not share them, and
 * removed at exit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz.h"

static char paths[2][128];

static void
remove_files(void)
{
	for (int i = 0; i < 2; i++)
		if (paths[i][0])
			unlink(paths[i]);
}

const char *
fuzz_file(int which, const void *data, size_t size)
{
	const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	FILE *f;

	if (!paths[which][0]) {
		snprintf(paths[which], sizeof paths[which],
			"%s/dlc-fuzz-%ld-%d", dir, (long)getpid(), which);
		atexit(remove_files);
	}
	f = fopen(paths[which], "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	return paths[which];
}
