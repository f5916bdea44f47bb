/* SPDX-License-Identifier: MIT */
/* Path -> tree position (tree.h). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cloudfs/tree.h"

struct tree_case {
	const char *path;
	int rc;
	enum tree_kind kind;
	const char *coll; /* collection name, or NULL when none */
	const char *ctl; /* control file name */
	const char *entry; /* decoded entry */
	size_t nattrs;
	const char *attrs[3];
};

static const struct tree_case cases[] = {
	{ "/", 0, TREE_ROOT, NULL, NULL, NULL, 0, { NULL } },
	{ "/.cloudfs", 0, TREE_CTL_DIR_NODE, NULL, NULL, NULL, 0, { NULL } },
	{ "/.cloudfs/status", 0, TREE_CTL_FILE, NULL, "status", NULL, 0, { NULL } },
	{ "/servers", 0, TREE_COLLECTION, "servers", NULL, NULL, 0, { NULL } },
	{ "/servers/", 0, TREE_COLLECTION, "servers", NULL, NULL, 0, { NULL } },
	{ "/security_groups", 0, TREE_COLLECTION, "security_groups", NULL, NULL, 0, { NULL } },
	{ "/nope", -ENOENT, 0, NULL, NULL, NULL, 0, { NULL } },
	{ "/nope/abc", -ENOENT, 0, NULL, NULL, NULL, 0, { NULL } },
	{ "/servers/abc", 0, TREE_ENTRY, "servers", NULL, "abc", 0, { NULL } },
	{ "/servers/abc/name", 0, TREE_ATTR, "servers", NULL, "abc", 1, { "name" } },
	{ "/servers/abc/flavor/id", 0, TREE_ATTR, "servers", NULL, "abc", 2, { "flavor", "id" } },
	{ "/images/a%2Fb", 0, TREE_ENTRY, "images", NULL, "a/b", 0, { NULL } },
	{ "/images/%2E%2E", 0, TREE_ENTRY, "images", NULL, "..", 0, { NULL } },
	{ "/servers/abc/metadata/k%2Fv%25",
	  0,
	  TREE_ATTR,
	  "servers",
	  NULL,
	  "abc",
	  2,
	  { "metadata", "k/v%" } },
	{ "/servers/a%zz", -ENOENT, 0, NULL, NULL, NULL, 0, { NULL } },
	{ "/servers/abc/x%41", -ENOENT, 0, NULL, NULL, NULL, 0, { NULL } },
	{ "/.cloudfs/x/y", -ENOTDIR, 0, NULL, NULL, NULL, 0, { NULL } },
	/* projects/: the root's view of other projects (routed by projects.c
	 * below projects/<id>, so nothing deeper parses) */
	{ "/projects", 0, TREE_PROJECTS, NULL, NULL, NULL, 0, { NULL } },
	{ "/projects/abc", 0, TREE_PROJECT, NULL, NULL, "abc", 0, { NULL } },
	{ "/projects/abc/servers", -ENOENT, 0, NULL, NULL, NULL, 0, { NULL } },
	{ "/regions", 0, TREE_REGIONS, NULL, NULL, NULL, 0, { NULL } },
	{ "/regions/RegionTwo", 0, TREE_REGION, NULL, NULL, "RegionTwo", 0, { NULL } },
	{ "/regions/RegionTwo/servers", -ENOENT, 0, NULL, NULL, NULL, 0, { NULL } },
	/* a group of singletons: quotas/<service>/ is the document's directory */
	{ "/quotas", 0, TREE_GROUP, NULL, NULL, NULL, 0, { NULL } },
	{ "/quotas/compute", 0, TREE_ENTRY, "compute", NULL, "", 0, { NULL } },
	{ "/quotas/volume/gigabytes/limit",
	  0,
	  TREE_ATTR,
	  "volume",
	  NULL,
	  "",
	  2,
	  { "gigabytes", "limit" } },
	{ "/quotas/servers", -ENOENT, 0, NULL, NULL, NULL, 0, { NULL } },
	{ "/compute", -ENOENT, 0, NULL, NULL, NULL, 0, { NULL } },
};

static void check_case(const struct tree_case *tc)
{
	struct tree_path tp;
	int rc = tree_parse(tc->path, &tp);

	if (rc != tc->rc)
		fail_msg("tree_parse(\"%s\") = %d, want %d", tc->path, rc, tc->rc);
	if (rc)
		return;
	if (tp.kind != tc->kind)
		fail_msg("tree_parse(\"%s\") kind %d, want %d", tc->path, tp.kind, tc->kind);
	if (tc->coll) {
		assert_non_null(tp.coll);
		assert_string_equal(tp.coll->name, tc->coll);
	} else {
		assert_null(tp.coll);
	}
	if (tc->ctl)
		assert_string_equal(tp.ctl, tc->ctl);
	else
		assert_null(tp.ctl);
	if (tc->kind == TREE_GROUP)
		assert_string_equal(tp.group, "quotas");
	if (tc->entry)
		assert_string_equal(tp.entry, tc->entry);
	else
		assert_null(tp.entry);
	assert_int_equal(tp.nattrs, tc->nattrs);
	for (size_t i = 0; i < tc->nattrs; i++)
		assert_string_equal(tp.attrs[i], tc->attrs[i]);
	tree_path_free(&tp);
}

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i]);
}

/* Builds "/servers/abc" followed by @nattrs components "/a". */
static void deep_path(char *buf, size_t len, size_t nattrs)
{
	size_t o = (size_t)snprintf(buf, len, "/servers/abc");

	for (size_t i = 0; i < nattrs; i++)
		o += (size_t)snprintf(buf + o, len - o, "/a%zu", i);
}

static void test_depth_limit(void **state)
{
	char path[4096];
	struct tree_path tp;

	(void)state;
	/* Exactly TREE_PATH_DEPTH attribute components fit... */
	deep_path(path, sizeof(path), TREE_PATH_DEPTH);
	assert_int_equal(tree_parse(path, &tp), 0);
	assert_int_equal(tp.kind, TREE_ATTR);
	assert_int_equal(tp.nattrs, TREE_PATH_DEPTH);
	assert_string_equal(tp.attrs[TREE_PATH_DEPTH - 1], "a255");
	tree_path_free(&tp);
	/* ...one more does not. */
	deep_path(path, sizeof(path), TREE_PATH_DEPTH + 1);
	assert_int_equal(tree_parse(path, &tp), -ENAMETOOLONG);
	deep_path(path, sizeof(path), TREE_PATH_DEPTH + 10);
	assert_int_equal(tree_parse(path, &tp), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_depth_limit),
	};

	return cmocka_run_group_tests_name("test_tree", tests, NULL, NULL);
}
