/* SPDX-License-Identifier: MIT */
/*
 * A YAML document as a small tree of maps, sequences and scalars, built with
 * libyaml. Only what clouds.yaml needs: no aliases, no tags.
 */
#ifndef CLOUDFS_YAMLTREE_H
#define CLOUDFS_YAMLTREE_H

#include "cloudfs/common.h"

enum ynode_kind {
	YNODE_SCALAR,
	YNODE_MAP,
	YNODE_SEQ
};

struct ynode {
	enum ynode_kind kind;
	char *scalar; /* YNODE_SCALAR */
	char **keys; /* YNODE_MAP: keys[i] maps to items[i] */
	struct ynode **items; /* YNODE_MAP and YNODE_SEQ */
	size_t n;
};

/*
 * Parses a YAML document. On 0, *out is a new tree (ynode_free()); an empty
 * document gives an empty map. On -EINVAL, err holds "line N: problem".
 */
int yamltree_parse(const char *text, size_t len, struct ynode **out, char *err,
		   size_t errlen) CFS_WARN_UNUSED;
/* Reads and parses a file; -ENOENT when it does not exist. */
int yamltree_load(const char *path, struct ynode **out, char *err, size_t errlen) CFS_WARN_UNUSED;
/* Borrowed child of a map by key, or NULL. */
const struct ynode *ynode_get(const struct ynode *map, const char *key);
/* Borrowed scalar text of map[key], or NULL when missing or not a scalar. */
const char *ynode_str(const struct ynode *map, const char *key);
void ynode_free(struct ynode *n);

#endif
