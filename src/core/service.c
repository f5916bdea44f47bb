/* SPDX-License-Identifier: MIT */
/*
 * The core's side of the service interface: finding collections in the
 * registry it is handed (include/cloudfs/service.h). Knows no service.
 * Layer: core, pure.
 */
#include <string.h>

#include <jansson.h>

#include "cloudfs/service.h"

const json_t *collection_member_name(const struct collection_def *c, const json_t *doc)
{
	return c->name_field ? json_object_get(doc, c->name_field) : NULL;
}

bool service_field_in(const json_t *doc, const char *field, const char *const *words)
{
	const char *v = json_string_value(json_object_get(doc, field));

	for (; v && *words; words++)
		if (!strcmp(v, *words))
			return true;
	return false;
}

const struct collection_def *collection_next(const struct collection_def *c)
{
	size_t s = c ? (size_t)c->service : 0;
	size_t i = c ? (size_t)(c - services[s]->collections) + 1 : 0;

	for (; s < SVC_COUNT; s++, i = 0)
		if (i < services[s]->n_collections)
			return &services[s]->collections[i];
	return NULL;
}

const struct collection_def *collection_find(const char *name)
{
	for (const struct collection_def *c = collection_next(NULL); c; c = collection_next(c))
		if (!c->group && !strcmp(c->name, name))
			return c;
	return NULL;
}

const struct collection_def *collection_find_in(const char *group, const char *name)
{
	for (const struct collection_def *c = collection_next(NULL); c; c = collection_next(c))
		if (c->group && !strcmp(c->group, group) && !strcmp(c->name, name))
			return c;
	return NULL;
}

const char *collection_group(const char *name)
{
	for (const struct collection_def *c = collection_next(NULL); c; c = collection_next(c))
		if (c->group && !strcmp(c->group, name))
			return c->group;
	return NULL;
}
