/*
 * fuzz.h - what the libFuzzer targets share: the entry point libFuzzer
 * calls, and a scratch file for the loaders, which take paths.
 */
#ifndef DLC_FUZZ_H
#define DLC_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes data to this process's scratch file number `which` (0 or 1) in
 * /dev/shm (or /tmp) and returns its path; aborts when it cannot, since a
 * harness that silently tests nothing would report clean runs. */
const char *fuzz_file(int which, const void *data, size_t size);

#endif
