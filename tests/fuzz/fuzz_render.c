/* SPDX-License-Identifier: MIT */
/*
 * JSON → tree: any bytes as the document of a listed member, through what
 * a listing does with it (model_learn(), the cached text, the listing) and
 * what `ls -R`, `stat`, `cat` and `readlink` do (model.h), with no network:
 * everything the walk needs is in the cache. Properties: every listed name
 * is one valid path component that decodes back and looks up; every file's
 * stat size is exactly the bytes a read returns (SEMANTICS tenet 4); link
 * targets hold no ".." but the volume links' leading three; the pure
 * renderers agree with the walk (render_walk() finds the value again).
 */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <sys/stat.h>

#include "cloudfs/buf.h"
#include "cloudfs/model.h"
#include "cloudfs/names.h"
#include "cloudfs/auth.h"
#include "cloudfs/http.h"
#include "cloudfs/render.h"
#include "cloudfs/tree.h"
#include "../../src/core/model_int.h"
#include "fuzz.h"

#define VOLUME_LINK "../../../volumes/"

static struct config cfg;
static struct session sess;

/* A member file whose listing asks the cloud (a server's floating IPs) gets
 * an answer: this transport refuses every connection, login included. */
static int refuse(const struct http_transport *t, const struct http_request *req,
		  struct http_response *resp)
{
	(void)t;
	(void)req;
	snprintf(resp->errbuf, sizeof(resp->errbuf), "refused (fuzzing: no cloud)");
	return -ECONNREFUSED;
}

static const struct http_transport refusing = { .perform = refuse };

static void listing_free(void *data)
{
	struct listing *l = data;

	for (size_t i = 0; i < l->n; i++)
		cache_val_unref(l->m[i]);
	free(l->m);
	free(l);
}

struct names {
	char **v;
	size_t n, cap;
	int links_ok;
};

static int keep(void *ctx, const char *name, const struct stat *st)
{
	struct names *nm = ctx;
	char *back;

	(void)st;
	/* One valid path component, decoding to a name (a C string). */
	FUZZ_ASSERT(*name && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, ".."));
	back = names_decode(name);
	FUZZ_ASSERT(back);
	free(back);
	if (nm->n == nm->cap) {
		size_t cap = nm->cap ? 2 * nm->cap : 16;
		char **v = realloc(nm->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		nm->v = v;
		nm->cap = cap;
	}
	nm->v[nm->n] = strdup(name);
	return nm->v[nm->n] ? (nm->n++, 0) : -ENOMEM;
}

static void check_link(const char *target)
{
	const char *rest = target;

	if (!strncmp(rest, VOLUME_LINK, strlen(VOLUME_LINK)))
		rest += strlen(VOLUME_LINK);
	FUZZ_ASSERT(*rest && !strchr(rest, '/') && strcmp(rest, ".."));
}

/* Walks @path (a directory), checking each child; @depth bounds it. */
static void walk(struct project *p, char *path, int depth)
{
	struct names nm = { 0 };
	size_t len = strlen(path);

	if (model_readdir(p, path, keep, &nm))
		goto out;
	for (size_t i = 0; i < nm.n; i++) {
		struct stat st;
		struct buf b;
		char target[PATH_MAX];

		if (snprintf(path + len, PATH_MAX - len, "/%s", nm.v[i]) >= (int)(PATH_MAX - len))
			continue;
		/* The console and action files talk to the cloud. */
		if (strcmp(nm.v[i], "console") && strcmp(nm.v[i], "action") &&
		    !model_getattr(p, path, &st)) {
			if (S_ISDIR(st.st_mode) && depth < TREE_MAX_DEPTH + 2) {
				walk(p, path, depth + 1);
			} else if (S_ISLNK(st.st_mode)) {
				FUZZ_ASSERT(!model_readlink(p, path, target, sizeof(target)));
				FUZZ_ASSERT((off_t)strlen(target) == st.st_size);
				check_link(target);
			} else if (S_ISREG(st.st_mode)) {
				buf_init(&b, CFS_MAX_BODY);
				if (!model_read(p, path, &b, NULL))
					FUZZ_ASSERT((off_t)b.len == st.st_size);
				buf_free(&b);
			}
		}
		path[len] = '\0';
	}
out:
	for (size_t i = 0; i < nm.n; i++)
		free(nm.v[i]);
	free(nm.v);
}

/* The pure renderers on every value, and render_walk() back to it. */
static void check_values(const json_t *doc, const json_t *obj, char **attrs, size_t depth)
{
	const char *key;
	const json_t *v;
	bool notdir;

	if (depth >= TREE_MAX_DEPTH)
		return;
	json_object_foreach((json_t *)obj, key, v)
	{
		struct buf b;
		int rc;

		attrs[depth] = (char *)key;
		FUZZ_ASSERT(render_walk(doc, attrs, depth + 1, &notdir) == v);
		buf_init(&b, CFS_MAX_BODY);
		rc = render_value(v, &b);
		FUZZ_ASSERT(rc == 0 || rc == -EFBIG || rc == -ENOMEM);
		buf_free(&b);
		if (json_is_object(v))
			check_values(doc, v, attrs, depth + 1);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	config_init(&cfg);
	cfg.auth_url = strdup("http://127.0.0.1:9/v3");
	cfg.timeout_s = 1;
	cfg.retries = 0;
	sess.cfg = &cfg;
	sess.auth = auth_new(&cfg);
	if (sess.auth)
		auth_set_transport(sess.auth, &refusing);
	/* Reached only through the refusing transport. */
	sess.endpoint = calloc(n_services, sizeof(*sess.endpoint));
	for (size_t i = 0; sess.endpoint && i < n_services; i++)
		sess.endpoint[i] = strdup("http://127.0.0.1:9/");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct collection_def *c = collection_find("servers");
	json_t *doc = json_loadb((const char *)data, size, JSON_ALLOW_NUL, NULL);
	struct project p;
	struct listing *l;
	struct cache_val *v;
	char key[MODEL_ID_MAX + 64], id[MODEL_ID_MAX], path[PATH_MAX], *attrs[TREE_MAX_DEPTH];
	char *file;
	struct buf b;

	if (!json_is_object(doc))
		goto out;
	buf_init(&b, CFS_MAX_BODY);
	FUZZ_ASSERT(render_document(doc, &b) == 0);
	buf_free(&b);
	(void)render_mtime(doc, c->mtime_fields, 0);
	check_values(doc, doc, attrs, 0);
	file = render_name(collection_member_name(c, doc));
	FUZZ_ASSERT(!file || (!strchr(file, '/') && strcmp(file, "..")));
	free(file);
	if (!render_id(doc, c->id_field, id, sizeof(id)))
		goto out;
	if (model_project_init(&p, &sess, 600000, 600000))
		goto out;
	/* As a listing leaves it: the member's cached text, in a listing. */
	model_learn(&p, c, doc);
	snprintf(key, sizeof(key), "R:%s/%s", c->name, id);
	l = calloc(1, sizeof(*l));
	if (l && (l->m = calloc(1, sizeof(*l->m))) && !cache_lookup(p.cache, key, &l->m[0])) {
		l->n = 1;
		v = cache_val_new(l, listing_free);
		l = NULL;
		if (v && !cache_put(p.cache, "L:servers", v, 600000)) {
			snprintf(path, sizeof(path), "/servers");
			walk(&p, path, 0);
		}
		cache_val_unref(v);
	}
	if (l)
		listing_free(l);
	model_project_cleanup(&p);
out:
	json_decref(doc);
	return 0;
}
