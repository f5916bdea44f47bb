/* SPDX-License-Identifier: MIT */
/* Service catalog lookup. Layer: beside auth; pure JSON walking. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cloudfs/catalog.h"

static bool region_matches(const json_t *ep, const char *region)
{
	const char *r = json_string_value(json_object_get(ep, "region_id"));
	const char *r2 = json_string_value(json_object_get(ep, "region"));

	return !region || (r && !strcmp(r, region)) || (r2 && !strcmp(r2, region));
}

static const char *find_in_service(const json_t *svc, const char *interface, const char *region)
{
	const json_t *ep;
	size_t i;

	json_array_foreach(json_object_get(svc, "endpoints"), i, ep)
	{
		const char *iface = json_string_value(json_object_get(ep, "interface"));
		const char *url = json_string_value(json_object_get(ep, "url"));

		if (iface && url && !strcmp(iface, interface) && region_matches(ep, region))
			return url;
	}
	return NULL;
}

void catalog_strip_suffix(char *url, const char *suffix)
{
	size_t n = strlen(url), s;

	while (n && url[n - 1] == '/')
		url[--n] = '\0';
	if (!suffix)
		return;
	s = strlen(suffix);
	if (n >= s && !strcmp(url + n - s, suffix))
		url[n - s] = '\0';
	n = strlen(url);
	while (n && url[n - 1] == '/')
		url[--n] = '\0';
}

int catalog_find(const json_t *catalog, const char *const *types, const char *interface,
		 const char *region, char **out)
{
	const json_t *svc;
	size_t i;

	for (; *types; types++) {
		json_array_foreach(catalog, i, svc)
		{
			const char *type = json_string_value(json_object_get(svc, "type"));
			const char *url;

			if (!type || strcmp(type, *types))
				continue;
			url = find_in_service(svc, interface, region);
			if (!url)
				continue;
			*out = strdup(url);
			if (!*out)
				return -ENOMEM;
			catalog_strip_suffix(*out, NULL);
			return 0;
		}
	}
	return -ENOENT;
}
