/* SPDX-License-Identifier: MIT */
/*
 * What every libFuzzer harness here shares. A harness is one file,
 * fuzz_<name>.c, defining LLVMFuzzerTestOneInput(); it is built by
 * tests/fuzz/meson.build (-Dfuzz=true, clang) and run by tests/fuzz/run.sh
 * with the seeds in tests/fuzz/corpus/<name>/.
 */
#ifndef CLOUDFS_FUZZ_H
#define CLOUDFS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A property that must hold for every input: a failure is a crash, so
 * libFuzzer keeps the input that broke it. */
#define FUZZ_ASSERT(cond)                                                                   \
	do {                                                                                \
		if (!(cond)) {                                                              \
			fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                     \
			abort();                                                            \
		}                                                                           \
	} while (0)

/* The input as a NUL-terminated string (up to its first NUL); malloc'd. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s) {
		memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}

#endif
