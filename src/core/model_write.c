/* SPDX-License-Identifier: MIT */
/*
 * Filesystem core, changing side: create, update, delete, and the writes,
 * links and removals of member extras (their hooks, service.h). Layer: below fs.c, above api. Each change is one
 * API call; afterwards the touched resource and its listing are forgotten
 * (or learnt from the answer), so nothing stale is served.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudfs/clock.h"
#include "cloudfs/log.h"
#include "cloudfs/names.h"
#include "cloudfs/render.h"
#include "cloudfs/spec.h"
#include "model_int.h"

static const struct member_extra *entry_extra(struct node *n);
static int model_extra_mkdir(struct project *p, const char *path);

/* The node of @path's directory. */
static int resolve_parent(struct project *p, const char *path, struct node *n)
{
	char *dir = strdup(path), *slash = dir ? strrchr(dir, '/') : NULL;
	int rc;

	if (!slash) {
		free(dir);
		return -ENOMEM;
	}
	*slash = '\0';
	rc = model_resolve(p, dir, n);
	free(dir);
	return rc;
}

/* The extra whose store() takes a file at @tp that may not exist yet: a
 * key of a writable EXTRA_ON_KEY object, or an entry of an extra
 * directory that stores. NULL otherwise. */
static const struct member_extra *store_extra(const struct tree_path *tp)
{
	const struct member_extra *e;

	if (tp->kind != TREE_ATTR || tp->nattrs < 2)
		return NULL;
	e = extra_find(tp->coll, tp->attrs[0]);
	if (!e || e->kind != EXTRA_DIR || !e->store)
		return NULL;
	return !(e->flags & EXTRA_ON_KEY) || tp->nattrs == 2 ? e : NULL;
}

/* How a file of extra @e is written: per line at write(2), or at flush. */
static enum model_wkind extra_wkind(const struct member_extra *e)
{
	return e->flags & EXTRA_LINES ? MODEL_W_LINES : MODEL_W_EXTRA;
}

/* tree_parse() of a name to be made: where the tree has no place for one
 * (the root, .cloudfs/) nothing can be made, as the directories' modes say.
 * The cloud takes names as JSON strings: UTF-8, without NUL bytes. */
static int parse_new(const char *path, struct tree_path *tp)
{
	int rc = tree_parse(path, tp);
	const char *name = NULL;

	if (rc)
		return rc == -ENOENT ? -EACCES : rc;
	if (tp->kind == TREE_ENTRY)
		name = tp->entry;
	else if (tp->kind == TREE_ATTR)
		name = tp->attrs[tp->nattrs - 1];
	if (name && (tp->entry_is_file || !names_is_utf8(name, strlen(name)))) {
		log_cloud_error("%s: a name must be UTF-8 text without NUL bytes", path);
		tree_path_free(tp);
		return -EINVAL;
	}
	return 0;
}

/* What writing to a path that does not exist yet would do. */
static int new_file_kind(const struct tree_path *tp, enum model_wkind *kind)
{
	if (tp->kind == TREE_ENTRY && tp->coll->upload) {
		*kind = MODEL_W_UPLOAD;
		return 0;
	}
	if (tp->kind == TREE_ENTRY && tp->coll->can_create) {
		*kind = MODEL_W_SPEC;
		return 0;
	}
	if (store_extra(tp)) {
		*kind = MODEL_W_EXTRA;
		return 0;
	}
	return -EACCES;
}

/* The file @path is being written by someone else: one create per name. */
static int pending_busy(const char *path)
{
	log_cloud_error("%s: being created by another writer; it exists once that one closes it",
			path);
	return -EEXIST;
}

/* A new file in a member's tree: its directory must be one of the tree. */
static int tree_create(struct project *p, const char *path, enum model_wkind *kind)
{
	struct node parent;
	int rc = resolve_parent(p, path, &parent);

	if (rc)
		return rc;
	if (!parent.tree || parent.type != NODE_DIR) {
		model_node_release(&parent);
		return 1; /* not in a tree */
	}
	model_node_release(&parent);
	*kind = MODEL_W_TREE;
	rc = model_pending_add(p, path);
	return rc == -EEXIST ? pending_busy(path) : rc;
}

/* A name several resources carry already has no link to follow; making
 * one more would only add to the confusion: -EEXIST, and why. */
static int name_shared(struct project *p, const char *path, const struct collection_def *c,
		       const char *name)
{
	size_t nnamed = 0;

	if (model_name_count(p, c, name, &nnamed) || !nnamed)
		return 0;
	log_cloud_error("%s: %zu %s are named '%s' already; use another name", path, nnamed,
			c->name, name);
	return -EEXIST;
}

int model_create_in(struct project *p, const char *path, enum model_wkind *kind)
{
	struct node n;
	bool shared = false;
	int rc = model_resolve(p, path, &n);

	if (!rc) {
		bool pending = n.pending;

		model_node_release(&n);
		return pending ? pending_busy(path) : -EEXIST;
	}
	if (rc != -ENOENT)
		return rc;
	rc = parse_new(path, &n.tp);
	if (rc)
		return rc;
	if (n.tp.kind == TREE_ATTR && model_tree_is(n.tp.coll, &n.tp) && n.tp.nattrs > 1) {
		tree_path_free(&n.tp);
		rc = tree_create(p, path, kind);
		return rc == 1 ? -EACCES : rc;
	}
	rc = new_file_kind(&n.tp, kind);
	if (!rc && n.tp.kind == TREE_ENTRY) {
		rc = name_shared(p, path, n.tp.coll, n.tp.entry);
		shared = rc == -EEXIST;
	}
	tree_path_free(&n.tp);
	if (!rc)
		rc = model_pending_add(p, path);
	return rc == -EEXIST && !shared ? pending_busy(path) : rc;
}

int model_open_write_in(struct project *p, const char *path, enum model_wkind *kind)
{
	struct node n;
	int rc = model_resolve(p, path, &n);

	if (rc)
		return rc;
	if (n.type != NODE_FILE || !(n.perm & 0200))
		rc = n.type == NODE_DIR ? -EISDIR : -EACCES;
	else if (n.ctl)
		*kind = MODEL_W_CTL;
	else if (n.pending)
		rc = pending_busy(path); /* its creator alone writes it */
	else if (n.tree)
		*kind = MODEL_W_TREE;
	else if (n.extra || store_extra(&n.tp))
		*kind = extra_wkind(n.extra ? n.extra : store_extra(&n.tp));
	else if (n.tp.coll && n.tp.coll->singleton)
		*kind = MODEL_W_ATTR_LINE; /* a quota limit: echo sees a refusal */
	else
		*kind = MODEL_W_ATTR;
	model_node_release(&n);
	return rc;
}

int model_write_form_in(struct project *p, const char *path, enum model_wkind kind,
			enum model_form *form)
{
	const struct collection_def *c;
	const struct member_extra *e;
	struct tree_path tp;
	int rc = tree_parse(path, &tp);

	(void)p;
	*form = MODEL_FORM_TEXT;
	if (rc)
		return rc;
	c = tp.coll;
	if (kind == MODEL_W_SPEC && tp.kind == TREE_ENTRY && c) {
		/* Heat's template is YAML or JSON as written: no end marker. */
		if (!c->spec_text_key)
			*form = MODEL_FORM_JSON;
		else if (!c->spec_text_raw)
			*form = MODEL_FORM_JSON_OR_TEXT;
	} else if (kind == MODEL_W_EXTRA && (e = store_extra(&tp)) && e->flags & EXTRA_JSON) {
		*form = MODEL_FORM_JSON;
	}
	tree_path_free(&tp);
	return 0;
}

/* ---- create ----------------------------------------------------------- */

/* The member whose document shows @doc (a member of @c) changed with it. */
static void forget_owner(struct project *p, const struct collection_def *c, const json_t *doc)
{
	const char *owner =
		c->owner_field ? json_string_value(json_object_get(doc, c->owner_field)) : NULL;
	const struct collection_def *oc = owner ? collection_find(c->owner_coll) : NULL;

	if (oc)
		model_forget(p, oc, owner);
}

/* The create secret @created carries (collection_def.create_secret) goes
 * out of the answer, which is learnt as the member's document, into the
 * secrets kept for its extras; the answer's copy is wiped. */
static int take_secret(struct project *p, const struct collection_def *c, json_t *created,
		       const char *id)
{
	json_t *v = c->create_secret ? json_object_get(created, c->create_secret) : NULL;
	int rc = 0;

	if (!json_is_string(v))
		return 0;
	rc = model_secret_keep(p, c, id, json_string_value(v), json_string_length(v));
	/* jansson keeps the text where json_string_value() points */
	explicit_bzero((char *)json_string_value(v), json_string_length(v));
	json_object_del(created, c->create_secret);
	return rc;
}

static int create_resource(struct project *p, const struct collection_def *c, const char *name,
			   const char *text, size_t len, char *id, size_t idlen)
{
	json_t *body = NULL, *answer = NULL, *doc = NULL;
	const json_t *created;
	char err[512] = "";
	int rc;

	rc = spec_build(c, name, text, len, model_find_ref, p, &body, err, sizeof(err));
	if (rc) {
		log_cloud_error("create %s/%s: %s", c->name, name, err[0] ? err : strerror(-rc));
		return rc;
	}
	if (c->create_complete) {
		json_t *inner =
			c->item_key && !c->create_bare ? json_object_get(body, c->item_key) : body;

		rc = c->create_complete(inner, session_version(p->sess, c->service));
		if (rc)
			goto out;
	}
	if (c->create_post) {
		struct svc_call call = { p, c };

		rc = c->create_post(&call, body, &answer);
	} else {
		rc = api_send_json(p->sess, c->service, "POST", c->item_path, body, NULL, &answer);
	}
	if (rc)
		goto out;
	created = c->item_key ? json_object_get(answer, c->item_key) : answer;
	if (!json_is_object(created) || !render_id(created, c->id_field, id, idlen)) {
		log_cloud_error("create %s/%s: the answer names no %s", c->name, name, c->id_field);
		rc = -EIO;
		goto out;
	}
	rc = take_secret(p, c, (json_t *)created, id);
	if (rc)
		goto out;
	/* Some creates answer with a stub (Nova: id and links): read it back. */
	if (api_get_item(p->sess, c, id, &doc))
		doc = json_incref((json_t *)created);
	model_forget(p, c, NULL);
	model_learn(p, c, doc);
	forget_owner(p, c, doc);
	log_info("created %s/%s (%s)", c->name, name, id);
out:
	/* Usage changed, or an over-quota answer makes the user look. */
	if (!rc || rc == -EDQUOT)
		model_forget_singletons(p);
	json_decref(doc);
	json_decref(answer);
	json_decref(body);
	return rc;
}

int model_mkdir_in(struct project *p, const char *path)
{
	struct tree_path tp;
	char id[MODEL_ID_MAX];
	struct node n;
	int rc;

	if (!model_resolve(p, path, &n)) {
		model_node_release(&n);
		return -EEXIST;
	}
	rc = parse_new(path, &tp);
	if (rc)
		return rc;
	if (tp.kind == TREE_ATTR && model_tree_is(tp.coll, &tp) && tp.nattrs > 1) {
		rc = resolve_parent(p, path, &n);
		if (!rc) {
			rc = n.tree && n.type == NODE_DIR
				     ? model_tree_mkdir(p, &n, tp.attrs[tp.nattrs - 1])
				     : -EPERM;
			model_node_release(&n);
		}
	} else if (tp.kind != TREE_ENTRY) {
		rc = tp.kind == TREE_ATTR ? model_extra_mkdir(p, path) : -EPERM;
	} else if (tp.coll->mkdir_put) {
		/* The name is the id (a Swift container): PUT it, no body. */
		char *url = api_item_path(tp.coll, tp.entry, NULL, NULL);

		rc = url ? api_send(p->sess, tp.coll->service, "PUT", url,
				    &(struct api_body){ "", 0, "text/plain" }, NULL)
			 : -ENOMEM;
		free(url);
		model_forget(p, tp.coll, tp.entry);
		if (!rc) {
			log_info("created %s/%s", tp.coll->name, tp.entry);
			model_notify_later(p, path);
		}
	} else if (!tp.coll->mkdir_creates) {
		log_cloud_error("mkdir %s: %s need a spec; write it with: cat > %s", path,
				tp.coll->name, path);
		rc = tp.coll->can_create ? -EINVAL : -EPERM;
	} else if (!(rc = name_shared(p, path, tp.coll, tp.entry))) {
		rc = create_resource(p, tp.coll, tp.entry, "", 0, id, sizeof(id));
		/* The kernel wants a directory where it made one. */
		if (!rc)
			rc = model_alias_add(p, tp.coll, tp.entry, id);
		if (!rc)
			model_notify_later(p, path);
	}
	tree_path_free(&tp);
	return rc;
}

/* ---- update ----------------------------------------------------------- */

static int update_attr(struct project *p, const struct node *n, const char *text, size_t len)
{
	const struct collection_def *c = n->tp.coll;
	const char *attr = n->tp.attrs[0];
	json_t *value = NULL, *body = NULL;
	char err[256], *path = api_item_path(c, n->id, NULL, NULL);
	int rc;

	if (!path)
		return -ENOMEM;
	rc = spec_value(n->value, text, len, &value, err, sizeof(err));
	if (rc) {
		log_cloud_error("%s/%s/%s: %s", c->name, n->id, attr, err);
		goto out;
	}
	if (c->patch_update) {
		char ptr[MODEL_ID_MAX];

		snprintf(ptr, sizeof(ptr), "/%s", attr);
		body = json_pack("[{sssssO}]", "op", "replace", "path", ptr, "value", value);
		rc = api_send_json(p->sess, c->service, "PATCH", path, body,
				   "application/openstack-images-v2.1-json-patch", NULL);
	} else {
		body = json_pack("{s{sO}}", c->item_key, attr, value);
		rc = api_send_json(p->sess, c->service, "PUT", path, body, NULL, NULL);
	}
	model_forget(p, c, n->id);
out:
	json_decref(value);
	json_decref(body);
	free(path);
	return rc;
}

/* ---- extras' files ----------------------------------------------------- */

/* One store of @n's extra, with what it needs to know. */
static int store(struct project *p, const struct node *n, const char *data, size_t len)
{
	struct extra_ctx x;

	if (!n->extra || !n->extra->store)
		return -EACCES;
	model_extra_ctx(p, n, &x);
	return n->extra->store(&x, data, len);
}

/* Stores each non-empty line (trailing blanks cut); stops at the first
 * failure. */
static int store_lines(struct project *p, const struct node *n, const char *data, size_t len)
{
	int rc = 0;

	while (len && !rc) {
		const char *nl = memchr(data, '\n', len);
		size_t l = nl ? (size_t)(nl - data) : len;
		char *line;

		while (l && (data[l - 1] == ' ' || data[l - 1] == '\r'))
			l--;
		/* A line is a command or a value (a Heat parameter): as long
		 * as the write buffer allows, NUL-terminated for the hook. */
		line = l ? strndup(data, l) : NULL;
		if (l && !line)
			return -ENOMEM;
		if (l)
			rc = store(p, n, line, l);
		free(line);
		if (!nl)
			break;
		len -= (size_t)(nl - data) + 1;
		data = nl + 1;
	}
	return rc;
}

int model_commit_in(struct project *p, const char *path, enum model_wkind kind, const char *data,
		    size_t len)
{
	char id[MODEL_ID_MAX];
	struct node n;
	int rc;

	if (kind == MODEL_W_SPEC) {
		struct tree_path tp;

		rc = tree_parse(path, &tp);
		if (rc)
			return rc;
		rc = create_resource(p, tp.coll, tp.entry, data, len, id, sizeof(id));
		tree_path_free(&tp);
		return rc;
	}
	rc = model_resolve(p, path, &n);
	if (kind == MODEL_W_EXTRA && rc == 0 && n.pending) {
		model_node_release(&n);
		rc = -ENOENT;
	}
	if (rc == -ENOENT && kind == MODEL_W_EXTRA) {
		/* A new file: resolve its member through its directory. */
		rc = resolve_parent(p, path, &n);
		if (!rc) {
			tree_path_free(&n.tp);
			rc = tree_parse(path, &n.tp);
		}
	}
	if (rc)
		return rc;
	if ((kind == MODEL_W_EXTRA || kind == MODEL_W_LINES) && !n.extra)
		n.extra = store_extra(&n.tp);
	switch (kind) {
	case MODEL_W_ATTR:
	case MODEL_W_ATTR_LINE:
		rc = update_attr(p, &n, data, len);
		break;
	case MODEL_W_EXTRA:
		rc = store(p, &n, data, len);
		break;
	case MODEL_W_LINES:
		rc = store_lines(p, &n, data, len);
		break;
	case MODEL_W_CTL:
		rc = n.ctl && n.ctl->write ? n.ctl->write(p, data, len) : -EACCES;
		break;
	default:
		rc = -EINVAL;
		break;
	}
	model_node_release(&n);
	return rc;
}

/* ---- delete, attach, detach ------------------------------------------- */

/* model_tree_rmdir_vanished() for @path, or -ENOENT. */
static int rmdir_vanished(struct project *p, const char *path)
{
	struct tree_path tp;
	struct node parent;
	int rc = tree_parse(path, &tp);

	if (rc)
		return -ENOENT;
	rc = -ENOENT;
	if (tp.kind == TREE_ATTR && model_tree_is(tp.coll, &tp) && tp.nattrs > 1 &&
	    !resolve_parent(p, path, &parent)) {
		if (parent.tree && parent.type == NODE_DIR)
			rc = model_tree_rmdir_vanished(p, &parent, tp.attrs[tp.nattrs - 1]);
		model_node_release(&parent);
	}
	tree_path_free(&tp);
	return rc;
}

int model_rmdir_in(struct project *p, const char *path)
{
	struct node n;
	char *url;
	int rc = model_resolve(p, path, &n);

	if (rc == -ENOENT)
		return rmdir_vanished(p, path);
	if (rc)
		return rc;
	if (n.type == NODE_LINK) {
		rc = -ENOTDIR;
		goto out;
	}
	if (n.tree) {
		rc = model_tree_remove(p, &n, true);
		goto out;
	}
	/* A singleton is the project's own document: never deleted (Nova's
	 * DELETE of a quota set would reset it to the defaults). */
	if (n.tp.kind == TREE_ENTRY && n.tp.coll->singleton) {
		rc = -EPERM;
		goto out;
	}
	if (n.tp.kind != TREE_ENTRY) {
		const struct member_extra *e = entry_extra(&n);
		struct extra_ctx x;

		if (e && e->rmdir && n.type == NODE_DIR) {
			model_extra_ctx(p, &n, &x);
			rc = e->rmdir(&x);
		} else {
			rc = n.type == NODE_DIR ? -EPERM : -ENOTDIR;
		}
		goto out;
	}
	url = api_item_path(n.tp.coll, n.id, NULL, NULL);
	rc = url ? api_send(p->sess, n.tp.coll->service, "DELETE", url, NULL, NULL) : -ENOMEM;
	free(url);
	/* A container that still holds objects (Swift's 409). */
	if (rc == -EBUSY && n.tp.coll->conflict_notempty)
		rc = -ENOTEMPTY;
	model_forget(p, n.tp.coll, n.id);
	model_forget_singletons(p);
	if (!rc)
		model_secret_drop(p, n.tp.coll, n.id);
	if (!rc) {
		char *file = render_name(collection_member_name(n.tp.coll, n.res->data));

		forget_owner(p, n.tp.coll, n.res->data);
		char *link = NULL;

		log_info("deleted %s/%s", n.tp.coll->name, n.id);
		/* The kernel may still hold the name's link to the id. */
		if (file && asprintf(&link, "/%s/%s", n.tp.coll->name, file) >= 0)
			model_notify_later(p, link);
		free(link);
		free(file);
	}
out:
	model_node_release(&n);
	return rc;
}

/* The extra below which @n is an entry (links, keys of an EXTRA_ON_KEY
 * object, files and directories of an extra directory), or NULL. */
static const struct member_extra *entry_extra(struct node *n)
{
	const struct member_extra *e;

	if (n->tp.kind != TREE_ATTR || n->tp.nattrs < 2)
		return NULL;
	e = n->extra ? n->extra : extra_find(n->tp.coll, n->tp.attrs[0]);
	if (e && (e->flags & EXTRA_ON_KEY) && n->tp.nattrs != 2)
		return NULL;
	n->extra = e;
	return e;
}

/* How long an unlink waits for a file that is still being made. */
#define UNLINK_PENDING_WAIT_MS 2000

int model_unlink_in(struct project *p, const char *path)
{
	const struct member_extra *e;
	struct extra_ctx x;
	struct node n;
	int rc = model_resolve(p, path, &n);

	/* A new file stays pending until the kernel's RELEASE, which comes
	 * after close(2) has returned: `touch f; rm f` (or rsync removing
	 * the temporary file it just closed) finds it pending for a moment.
	 * Wait for it to be made, bounded; one still open for writing
	 * somewhere is EBUSY (it is made when that writer closes). */
	for (int waited = 0; !rc && n.pending; waited += 10) {
		model_node_release(&n);
		if (waited >= UNLINK_PENDING_WAIT_MS)
			return -EBUSY;
		clock_sleep_ms(10);
		rc = model_resolve(p, path, &n);
	}
	if (rc)
		return rc;
	e = entry_extra(&n);
	if (n.tree) {
		rc = model_tree_remove(p, &n, false);
	} else if (e && e->unlink && n.type != NODE_DIR) {
		model_extra_ctx(p, &n, &x);
		rc = e->unlink(&x);
	} else {
		rc = n.type == NODE_DIR ? -EISDIR : -EPERM;
	}
	model_node_release(&n);
	return rc;
}

/* The node of @path, not there yet, in an extra directory that makes
 * entries (@want_link: with link, else with mkdir). -EPERM where nothing can be made. */
static int new_entry(struct project *p, const char *path, bool want_link, struct node *n)
{
	const struct member_extra *e;
	struct tree_path tp;
	int rc = parse_new(path, &tp);

	if (rc)
		return rc;
	e = tp.kind == TREE_ATTR && tp.nattrs >= 2 ? extra_find(tp.coll, tp.attrs[0]) : NULL;
	tree_path_free(&tp);
	if (!e || e->kind != EXTRA_DIR || (e->flags & EXTRA_ON_KEY) ||
	    !(want_link ? e->link != NULL : e->mkdir != NULL))
		return -EPERM;
	rc = resolve_parent(p, path, n);
	if (rc)
		return rc;
	tree_path_free(&n->tp);
	rc = tree_parse(path, &n->tp);
	n->extra = e;
	if (rc)
		model_node_release(n);
	return rc;
}

int model_symlink_in(struct project *p, const char *target, const char *path)
{
	struct extra_ctx x;
	struct node n;
	int rc = new_entry(p, path, true, &n);

	if (rc)
		return rc;
	model_extra_ctx(p, &n, &x);
	rc = n.extra->link(&x, target);
	model_node_release(&n);
	return rc;
}

static int model_extra_mkdir(struct project *p, const char *path)
{
	struct extra_ctx x;
	struct node n;
	int rc = new_entry(p, path, false, &n);

	if (rc)
		return rc;
	model_extra_ctx(p, &n, &x);
	rc = n.extra->mkdir(&x);
	model_node_release(&n);
	return rc;
}

int model_rename(struct project *p, const char *from, const char *to)
{
	struct node src, dst, parent;
	struct tree_path tp;
	int rc = model_resolve(p, from, &src);

	if (rc)
		return rc;
	if (!src.tree || !*src.tpath) {
		model_node_release(&src);
		/* Renaming a resource is `echo new-name > <dir>/name`. */
		return -EPERM;
	}
	rc = parse_new(to, &tp);
	if (rc)
		goto out_src;
	rc = resolve_parent(p, to, &parent);
	if (rc)
		goto out_tp;
	if (!parent.tree || parent.type != NODE_DIR || tp.kind != TREE_ATTR) {
		rc = -EXDEV;
		goto out;
	}
	/* rename(2) never puts a file in a directory's place. */
	if (!model_resolve(p, to, &dst)) {
		bool isdir = dst.type == NODE_DIR;

		model_node_release(&dst);
		if (isdir) {
			rc = src.type == NODE_DIR ? -EXDEV : -EISDIR;
			goto out;
		}
	}
	rc = model_tree_rename(p, &src, &parent, tp.attrs[tp.nattrs - 1]);
	if (!rc)
		log_info("renamed %s to %s", from, to);
out:
	model_node_release(&parent);
out_tp:
	tree_path_free(&tp);
out_src:
	model_node_release(&src);
	return rc;
}
