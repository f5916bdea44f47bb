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

void catalog_regions_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

int catalog_regions(const json_t *catalog, const char *interface, char ***out, size_t *n)
{
	const json_t *svc, *ep;
	char **v = NULL;
	size_t i, j, k = 0, cap = 0;

	*out = NULL;
	*n = 0;
	json_array_foreach(catalog, i,
			   svc){ json_array_foreach(json_object_get(svc, "endpoints"), j, ep){
		const char *iface = json_string_value(json_object_get(ep, "interface"));
	const char *r = json_string_value(json_object_get(ep, "region_id"));
	bool seen = false;

	if (!r)
		r = json_string_value(json_object_get(ep, "region"));
	if (!r || !*r || !iface || strcmp(iface, interface))
		continue;
	for (size_t m = 0; m < k && !seen; m++)
		seen = !strcmp(v[m], r);
	if (seen)
		continue;
	if (k == cap) {
		char **nv = realloc(v, (cap ? 2 * cap : 4) * sizeof(*v));

		if (!nv)
			goto oom;
		v = nv;
		cap = cap ? 2 * cap : 4;
	}
	v[k] = strdup(r);
	if (!v[k])
		goto oom;
	k++;
}
}
*out = v;
*n = k;
return 0;
oom : catalog_regions_free(v, k);
return -ENOMEM;
}
