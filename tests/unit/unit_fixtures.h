/* SPDX-License-Identifier: MIT */
/*
 * Shared by the unit tests: reading a fixture from $CLOUDFS_FIXTURES
 * (tests/fixtures/openstack-zed/, set by tests/meson.build). Header-only and static
 * inline so that a test that does not use a helper does not warn.
 */
#ifndef CLOUDFS_UNIT_FIXTURES_H
#define CLOUDFS_UNIT_FIXTURES_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

/* The whole file as a NUL-terminated string (malloc'd); fails the test when
 * the fixture is missing. */
static inline char *fixture_read(const char *name, size_t *len)
{
	const char *dir = getenv("CLOUDFS_FIXTURES");
	char path[4096];
	FILE *f;
	char *data;
	long n;

	if (!dir)
		dir = "tests/fixtures/openstack-zed";
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open fixture %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	data = malloc((size_t)n + 1);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
	data[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return data;
}

/* A fixture parsed as JSON (new reference); fails the test on bad JSON. */
static inline json_t *fixture_json(const char *name)
{
	json_error_t jerr;
	size_t len;
	char *text = fixture_read(name, &len);
	json_t *doc = json_loadb(text, len, 0, &jerr);

	if (!doc)
		fail_msg("fixture %s: %s (line %d)", name, jerr.text, jerr.line);
	free(text);
	return doc;
}

#endif
