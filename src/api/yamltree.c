/* SPDX-License-Identifier: MIT */
/*
 * libyaml events → struct ynode tree. Layer: config support; pure apart from
 * reading the file. Recursion depth is bounded so hostile input cannot blow
 * the stack.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "cloudfs/yamltree.h"

#define YAML_MAX_DEPTH 32
#define YAML_MAX_FILE (1u << 20)

struct yparse {
	yaml_parser_t p;
	char *err;
	size_t errlen;
};

void ynode_free(struct ynode *n)
{
	size_t i;

	if (!n)
		return;
	for (i = 0; i < n->n; i++) {
		if (n->keys)
			free(n->keys[i]);
		ynode_free(n->items[i]);
	}
	free(n->keys);
	free(n->items);
	free(n->scalar);
	free(n);
}

static int yfail(struct yparse *y, size_t line, const char *what)
{
	snprintf(y->err, y->errlen, "line %zu: %s", line + 1, what);
	return -EINVAL;
}

static int ynext(struct yparse *y, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&y->p, ev))
		return yfail(y, y->p.problem_mark.line,
			     y->p.problem ? y->p.problem : "syntax error");
	return 0;
}

static int ypush(struct ynode *parent, char *key, struct ynode *child)
{
	size_t n = parent->n + 1;
	struct ynode **items = realloc(parent->items, n * sizeof(*items));

	if (!items)
		return -ENOMEM;
	parent->items = items;
	if (parent->kind == YNODE_MAP) {
		char **keys = realloc(parent->keys, n * sizeof(*keys));

		if (!keys)
			return -ENOMEM;
		parent->keys = keys;
		keys[parent->n] = key;
	}
	items[parent->n] = child;
	parent->n = n;
	return 0;
}

/* Builds the node that starts with @ev (already consumed). */
static int ynode_build(struct yparse *y, yaml_event_t *ev, int depth, struct ynode **out)
{
	struct ynode *n;
	yaml_event_type_t end;
	int rc = 0;

	if (depth > YAML_MAX_DEPTH)
		return yfail(y, ev->start_mark.line, "nesting too deep");
	if (ev->type == YAML_ALIAS_EVENT)
		return yfail(y, ev->start_mark.line, "YAML aliases are not supported");
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	if (ev->type == YAML_SCALAR_EVENT) {
		n->kind = YNODE_SCALAR;
		n->scalar = strndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
		if (!n->scalar)
			rc = -ENOMEM;
		goto out;
	}
	if (ev->type == YAML_MAPPING_START_EVENT) {
		n->kind = YNODE_MAP;
		end = YAML_MAPPING_END_EVENT;
	} else if (ev->type == YAML_SEQUENCE_START_EVENT) {
		n->kind = YNODE_SEQ;
		end = YAML_SEQUENCE_END_EVENT;
	} else {
		rc = yfail(y, ev->start_mark.line, "unexpected YAML event");
		goto out;
	}
	for (;;) {
		yaml_event_t kev, vev;
		struct ynode *child = NULL;
		char *key = NULL;

		rc = ynext(y, &kev);
		if (rc)
			goto out;
		if (kev.type == end) {
			yaml_event_delete(&kev);
			break;
		}
		if (n->kind == YNODE_MAP) {
			if (kev.type != YAML_SCALAR_EVENT) {
				rc = yfail(y, kev.start_mark.line, "map keys must be scalars");
				yaml_event_delete(&kev);
				goto out;
			}
			key = strndup((const char *)kev.data.scalar.value, kev.data.scalar.length);
			yaml_event_delete(&kev);
			rc = key ? ynext(y, &vev) : -ENOMEM;
			if (!rc) {
				rc = ynode_build(y, &vev, depth + 1, &child);
				yaml_event_delete(&vev);
			}
		} else {
			rc = ynode_build(y, &kev, depth + 1, &child);
			yaml_event_delete(&kev);
		}
		if (!rc)
			rc = ypush(n, key, child);
		if (rc) {
			free(key);
			ynode_free(child);
			goto out;
		}
	}
out:
	if (rc) {
		ynode_free(n);
		return rc;
	}
	*out = n;
	return 0;
}

/* A plain null scalar ("", "~", "null") as a document's whole content. */
static bool ynull_document(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;

	if (ev->type != YAML_SCALAR_EVENT || ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
	       !strcmp(v, "NULL");
}

int yamltree_parse(const char *text, size_t len, struct ynode **out, char *err, size_t errlen)
{
	struct yparse y = { .err = err, .errlen = errlen };
	struct ynode *root = NULL;
	yaml_event_t ev;
	int rc;

	if (!yaml_parser_initialize(&y.p))
		return -ENOMEM;
	yaml_parser_set_input_string(&y.p, (const unsigned char *)text, len);
	/* STREAM-START, then DOCUMENT-START or STREAM-END for empty input. */
	rc = ynext(&y, &ev);
	if (rc)
		goto out;
	yaml_event_delete(&ev);
	rc = ynext(&y, &ev);
	if (rc)
		goto out;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		root = calloc(1, sizeof(*root));
		rc = root ? 0 : -ENOMEM;
		if (root)
			root->kind = YNODE_MAP;
		goto out;
	}
	yaml_event_delete(&ev);
	rc = ynext(&y, &ev);
	if (rc)
		goto out;
	if (ynull_document(&ev)) {
		/* "---" alone, or a document of just "~": empty, like "". */
		root = calloc(1, sizeof(*root));
		rc = root ? 0 : -ENOMEM;
		if (root)
			root->kind = YNODE_MAP;
	} else {
		rc = ynode_build(&y, &ev, 0, &root);
	}
	yaml_event_delete(&ev);
out:
	yaml_parser_delete(&y.p);
	if (!rc && root->kind != YNODE_MAP) {
		snprintf(err, errlen, "line 1: top level is not a map");
		rc = -EINVAL;
	}
	if (rc) {
		ynode_free(root);
		return rc;
	}
	*out = root;
	return 0;
}

int yamltree_load(const char *path, struct ynode **out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *text = NULL;
	size_t len;
	int rc;

	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "%s", strerror(-rc));
		return rc;
	}
	text = malloc(YAML_MAX_FILE + 1);
	if (!text) {
		rc = -ENOMEM;
		goto out;
	}
	errno = 0;
	len = fread(text, 1, YAML_MAX_FILE + 1, f);
	/* A read error (EISDIR for a directory) is not an empty file. */
	if (ferror(f)) {
		rc = errno ? -errno : -EIO;
		snprintf(err, errlen, "%s", strerror(-rc));
		goto out;
	}
	if (len > YAML_MAX_FILE) {
		snprintf(err, errlen, "file larger than %u bytes", YAML_MAX_FILE);
		rc = -EFBIG;
		goto out;
	}
	rc = yamltree_parse(text, len, out, err, errlen);
out:
	fclose(f);
	free(text);
	return rc;
}

const struct ynode *ynode_get(const struct ynode *map, const char *key)
{
	size_t i;

	if (!map || map->kind != YNODE_MAP)
		return NULL;
	/* The last of duplicate keys wins, as in PyYAML (the openstack CLI). */
	for (i = map->n; i > 0; i--)
		if (!strcmp(map->keys[i - 1], key))
			return map->items[i - 1];
	return NULL;
}

const char *ynode_str(const struct ynode *map, const char *key)
{
	const struct ynode *n = ynode_get(map, key);

	return n && n->kind == YNODE_SCALAR ? n->scalar : NULL;
}
