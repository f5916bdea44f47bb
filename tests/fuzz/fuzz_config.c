/* SPDX-License-Identifier: MIT */
/*
 * clouds.yaml and -o options: any bytes as the clouds.yaml that
 * config_load() reads (cloud "fuzz"; the file is a memfd, no disk), then
 * validated; the same bytes as "key=value" lines to config_set(), as -o
 * options arrive. Properties: no crash or leak; a loaded config validates
 * or says why; the YAML tree's maps have as many keys as items.
 */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cloudfs/config.h"
#include "cloudfs/yamltree.h"
#include "fuzz.h"

static int memfd = -1;

static void check_tree(const struct ynode *n, int depth)
{
	FUZZ_ASSERT(depth < 10000);
	if (n->kind == YNODE_SCALAR) {
		FUZZ_ASSERT(n->scalar);
		return;
	}
	for (size_t i = 0; i < n->n; i++) {
		FUZZ_ASSERT(n->items[i]);
		FUZZ_ASSERT(n->kind != YNODE_MAP || n->keys[i]);
		check_tree(n->items[i], depth + 1);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[64];

	(void)argc;
	(void)argv;
	/* Only the file under test: no OS_* variable of the machine's. */
	clearenv();
	memfd = memfd_create("clouds.yaml", 0);
	if (memfd < 0)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	setenv("OS_CLIENT_CONFIG_FILE", path, 1);
	setenv("OS_CLIENT_SECURE_FILE", "/nonexistent/secure.yaml", 1);
	return 0;
}

static void check_options(const char *text)
{
	struct config cfg;
	char *copy = strdup(text), *line, *save = NULL, err[256];

	if (!copy)
		return;
	config_init(&cfg);
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		int rc;

		if (!eq)
			continue;
		*eq = '\0';
		rc = config_set(&cfg, line, eq + 1);
		FUZZ_ASSERT(rc <= 0);
	}
	err[0] = '\0';
	if (config_validate(&cfg, err, sizeof(err)))
		FUZZ_ASSERT(err[0]);
	(void)config_auth_method(&cfg);
	(void)config_interface(&cfg);
	config_free(&cfg);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	struct ynode *tree = NULL;
	char err[256] = "", *text;
	int rc;

	if (ftruncate(memfd, 0) || pwrite(memfd, data, size, 0) != (ssize_t)size)
		abort();
	rc = yamltree_parse((const char *)data, size, &tree, err, sizeof(err));
	if (!rc) {
		check_tree(tree, 0);
		ynode_free(tree);
	}
	config_init(&cfg);
	err[0] = '\0';
	rc = config_load(&cfg, "fuzz", err, sizeof(err));
	FUZZ_ASSERT(rc <= 0);
	if (rc)
		FUZZ_ASSERT(err[0]);
	else if (config_validate(&cfg, err, sizeof(err)))
		FUZZ_ASSERT(err[0]);
	config_free(&cfg);
	text = fuzz_cstr(data, size);
	if (text)
		check_options(text);
	free(text);
	return 0;
}
