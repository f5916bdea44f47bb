/* SPDX-License-Identifier: MIT */
/*
 * Path → position in the tree, without touching the cloud. The tree below a
 * project (the mount root today, projects/<name>/ later) is:
 *   /                         the project
 *   /.cloudfs/<file>          control and status files
 *   /<collection>/            servers, images, ...
 *   /<collection>/<entry>     a resource (by id) or a name symlink
 *   /<collection>/<entry>/... attribute files and object directories
 *   /<group>/<singleton>/...  a document about the project (quotas/compute/)
 *   /projects/<id>            the root only: another project's tree (model
 *                             routes the paths below it, projects.c)
 *   /regions/<name>           the root only: the project in another region
 * Components are decoded with names_decode(). Pure.
 */
#ifndef CLOUDFS_TREE_H
#define CLOUDFS_TREE_H

#include "cloudfs/service.h"

/* How deep a JSON document's objects are shown as directories. */
#define TREE_MAX_DEPTH 32
/* Components below a member a path may have: a member's tree (objects/)
 * goes deeper than any document. */
#define TREE_PATH_DEPTH 256
#define TREE_CTL_DIR ".cloudfs"
/* The root's directory of every project the user can scope to. */
#define TREE_PROJECTS_DIR "projects"
/* The root's directory of the default project in each region. */
#define TREE_REGIONS_DIR "regions"

enum tree_kind {
	TREE_ROOT,
	TREE_CTL_DIR_NODE,
	TREE_CTL_FILE,
	TREE_COLLECTION,
	TREE_ENTRY,
	TREE_ATTR,
	TREE_GROUP, /* /<group>/ (quotas/): collections listed together */
	TREE_PROJECTS, /* /projects/ (the root only) */
	TREE_PROJECT, /* /projects/<file name> (entry, entry_is_file) */
	TREE_REGIONS, /* /regions/ (the root only) */
	TREE_REGION, /* /regions/<file name> (entry, entry_is_file) */
};

struct tree_path {
	enum tree_kind kind;
	const struct collection_def *coll; /* COLLECTION, ENTRY, ATTR; a singleton's
					    * document is ENTRY with entry "" */
	const char *group; /* GROUP: its name (borrowed from the registry) */
	char *ctl; /* CTL_FILE: file name */
	char *entry; /* ENTRY, ATTR: decoded id or name, or, if entry_is_file, */
	bool entry_is_file; /* the file name of a name holding a NUL byte */
	char *attrs[TREE_PATH_DEPTH]; /* ATTR: decoded components */
	size_t nattrs;
};

/* Returns 0, -ENOENT (no such collection, bad escape), -ENAMETOOLONG. */
int tree_parse(const char *path, struct tree_path *out) CFS_WARN_UNUSED;
void tree_path_free(struct tree_path *tp);

#endif
