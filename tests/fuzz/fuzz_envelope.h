/* fuzz_envelope.h -- the untrusted-input path of joinedreviewd, and what it
 * must do with any bytes: the checks that libFuzzer's entry point and the
 * corpus replay (replay.c) share. */
#ifndef FUZZ_ENVELOPE_H
#define FUZZ_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

/* Runs one input through the path (see fuzz_envelope.c) and checks how it
 * behaved. Returns 0, or -1 with a sentence in why saying what went wrong.
 * Inputs over 64 KiB are not run: the ingest socket refuses them before
 * decoding. */
int fuzz_envelope_check(const uint8_t *data, size_t size, char *why, size_t whylen);

#endif
