/* SPDX-License-Identifier: MIT */
/*
 * The core's side of the service interface: finding collections in the
 * registry it is handed (include/cloudfs/service.h). Knows no service.
 * Layer: core, pure.
 */
#include <stdio.h>
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

const json_t *service_member_where(const json_t *list, const char *field, const char *value)
{
	const json_t *m;
	size_t i;

	json_array_foreach(list, i, m)
	{
		const char *v = json_string_value(json_object_get(m, field));

		if (v && !strcmp(v, value))
			return m;
	}
	return NULL;
}

size_t service_index(const struct service_def *svc)
{
	size_t i = 0;

	while (i < n_services && services[i] != svc)
		i++;
	return i;
}

const struct collection_def *collection_next(const struct collection_def *c)
{
	size_t s = c ? service_index(c->service) : 0;
	size_t i = c ? (size_t)(c - c->service->collections) + 1 : 0;

	for (; s < n_services; s++, i = 0)
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

const struct member_extra *extra_find(const struct collection_def *c, const char *name)
{
	for (const struct member_extra *e = c->extras; e && e->name; e++)
		if (!strcmp(e->name, name))
			return e;
	return NULL;
}

const struct action_verb *action_verb_find(const struct action_verb *verbs, const char *line)
{
	for (const struct action_verb *a = verbs; a && a->word; a++)
		if (!strcmp(a->word, line))
			return a;
	return NULL;
}

bool service_version_at_least(const char *version, const char *want)
{
	unsigned vmaj, vmin, wmaj, wmin;

	if (!version || sscanf(version, "%u.%u", &vmaj, &vmin) != 2 ||
	    sscanf(want, "%u.%u", &wmaj, &wmin) != 2)
		return false;
	return vmaj != wmaj ? vmaj > wmaj : vmin >= wmin;
}
