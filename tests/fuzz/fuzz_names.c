/* SPDX-License-Identifier: MIT */
/*
 * names.h and tree.h: any bytes as a cloud name, and as a path.
 * Properties: encode's output is one valid path component (not empty, no
 * '/', not "." or "..", at most 3 bytes per byte) and decodes back to the
 * same bytes; whatever decodes re-encodes to something decoding the same;
 * names_is_utf8() agrees with jansson, which the cloud's JSON goes through.
 */
#include <jansson.h>

#include "cloudfs/names.h"
#include "cloudfs/tree.h"
#include "fuzz.h"

static void check_encode(const char *name, size_t len)
{
	char *file = names_encode_len(name, len), *back;
	size_t blen = 0, flen;

	if (!len) {
		FUZZ_ASSERT(!file);
		return;
	}
	FUZZ_ASSERT(file);
	flen = strlen(file);
	FUZZ_ASSERT(flen > 0 && flen <= 3 * len);
	FUZZ_ASSERT(!strchr(file, '/'));
	FUZZ_ASSERT(strcmp(file, ".") && strcmp(file, ".."));
	back = names_decode_len(file, &blen);
	FUZZ_ASSERT(back && blen == len && !memcmp(back, name, len));
	/* The C-string decoder refuses exactly the names holding a NUL. */
	free(back);
	back = names_decode(file);
	FUZZ_ASSERT(!back == !!memchr(name, '\0', len));
	FUZZ_ASSERT(!back || (strlen(back) == len && !memcmp(back, name, len)));
	free(back);
	free(file);
}

static void check_decode(const char *file)
{
	size_t len = 0, len2 = 0;
	char *name = names_decode_len(file, &len), *again, *name2;

	if (!name)
		return;
	FUZZ_ASSERT(len <= strlen(file));
	if (len) {
		again = names_encode_len(name, len);
		FUZZ_ASSERT(again);
		name2 = names_decode_len(again, &len2);
		FUZZ_ASSERT(name2 && len2 == len && !memcmp(name2, name, len));
		free(name2);
		free(again);
	}
	free(name);
}

static void check_utf8(const uint8_t *data, size_t size)
{
	json_t *s = json_stringn((const char *)data, size);

	FUZZ_ASSERT(!!s == names_is_utf8((const char *)data, size));
	json_decref(s);
}

static void check_tree(const char *s)
{
	struct tree_path tp;
	char *path = malloc(strlen(s) + 2);

	if (!path)
		return;
	path[0] = '/';
	strcpy(path + 1, s);
	if (!tree_parse(path, &tp)) {
		FUZZ_ASSERT(tp.nattrs <=
			    TREE_PATH_DEPTH); /* a member tree goes deeper than documents */
		for (size_t i = 0; i < tp.nattrs; i++)
			FUZZ_ASSERT(tp.attrs[i]);
		FUZZ_ASSERT(!(tp.kind == TREE_ENTRY || tp.kind == TREE_ATTR) || tp.entry);
		/* A name holding NUL is kept as a file name: a valid one. */
		FUZZ_ASSERT(!tp.entry_is_file || !strchr(tp.entry, '/'));
		tree_path_free(&tp);
	}
	free(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);

	if (!s)
		return 0;
	check_encode((const char *)data, size);
	check_encode(s, strlen(s));
	check_decode(s);
	check_utf8(data, size);
	check_tree(s);
	free(s);
	return 0;
}
