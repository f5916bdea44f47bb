/* SPDX-License-Identifier: MIT */
/* Path parsing. Layer: pure helper of the model. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cloudfs/names.h"
#include "cloudfs/tree.h"

void tree_path_free(struct tree_path *tp)
{
	free(tp->ctl);
	free(tp->entry);
	for (size_t i = 0; i < tp->nattrs; i++)
		free(tp->attrs[i]);
	memset(tp, 0, sizeof(*tp));
}

/* The resource component: decoded, or, when it holds a NUL byte (only a
 * name can: ids cannot), kept as its canonical file name. */
static int parse_entry(const char *comp, struct tree_path *out)
{
	size_t len;
	char *raw = names_decode_len(comp, &len);

	if (!raw)
		return -ENOENT;
	if (!memchr(raw, '\0', len)) {
		out->entry = raw;
		return 0;
	}
	out->entry = names_encode_len(raw, len);
	out->entry_is_file = true;
	free(raw);
	return out->entry ? 0 : -ENOMEM;
}

int tree_parse(const char *path, struct tree_path *out)
{
	char *copy, *save = NULL, *comp;
	size_t depth = 0;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->kind = TREE_ROOT;
	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	for (comp = strtok_r(copy, "/", &save); comp; comp = strtok_r(NULL, "/", &save), depth++) {
		if (depth == 0) {
			if (!strcmp(comp, TREE_CTL_DIR)) {
				out->kind = TREE_CTL_DIR_NODE;
				continue;
			}
			if (!strcmp(comp, TREE_PROJECTS_DIR)) {
				out->kind = TREE_PROJECTS;
				continue;
			}
			if (!strcmp(comp, TREE_REGIONS_DIR)) {
				out->kind = TREE_REGIONS;
				continue;
			}
			out->coll = collection_find(comp);
			out->kind = TREE_COLLECTION;
			if (!out->coll && (out->group = collection_group(comp))) {
				out->kind = TREE_GROUP;
				out->coll = NULL;
			} else if (!out->coll) {
				rc = -ENOENT;
			}
		} else if (depth == 1 &&
			   (out->kind == TREE_PROJECTS || out->kind == TREE_REGIONS)) {
			out->kind = out->kind == TREE_PROJECTS ? TREE_PROJECT : TREE_REGION;
			out->entry = strdup(comp);
			out->entry_is_file = true;
			if (!out->entry)
				rc = -ENOMEM;
		} else if (out->kind == TREE_PROJECTS || out->kind == TREE_PROJECT ||
			   out->kind == TREE_REGIONS || out->kind == TREE_REGION) {
			rc = -ENOENT; /* routed to the project before parsing */
		} else if (depth == 1 && out->kind == TREE_GROUP) {
			out->coll = collection_find_in(out->group, comp);
			out->kind = TREE_ENTRY;
			out->entry = out->coll && out->coll->singleton ? strdup("") : NULL;
			if (!out->coll || !out->coll->singleton)
				rc = -ENOENT;
			else if (!out->entry)
				rc = -ENOMEM;
		} else if (depth == 1 && out->kind == TREE_CTL_DIR_NODE) {
			out->kind = TREE_CTL_FILE;
			out->ctl = strdup(comp);
			if (!out->ctl)
				rc = -ENOMEM;
		} else if (depth == 1) {
			out->kind = TREE_ENTRY;
			rc = parse_entry(comp, out);
		} else if (out->kind == TREE_CTL_FILE) {
			rc = -ENOTDIR;
		} else if (depth - 2 >= TREE_PATH_DEPTH) {
			rc = -ENAMETOOLONG;
		} else {
			out->kind = TREE_ATTR;
			out->attrs[out->nattrs] = names_decode(comp);
			if (!out->attrs[out->nattrs])
				rc = -ENOENT;
			else
				out->nattrs++;
		}
		if (rc)
			break;
	}
	free(copy);
	if (rc)
		tree_path_free(out);
	return rc;
}
