/* SPDX-License-Identifier: MIT */
/*
 * Filesystem core, changing side: create, update, metadata, actions,
 * attach/detach, delete. Layer: below fs.c, above api. Each change is one
 * API call; afterwards the touched resource and its listing are forgotten
 * (or learnt from the answer), so nothing stale is served.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudfs/log.h"
#include "cloudfs/names.h"
#include "cloudfs/render.h"
#include "cloudfs/spec.h"
#include "model_int.h"

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

static bool is_metadata_key(const struct tree_path *tp)
{
	return tp->kind == TREE_ATTR && tp->coll->metadata && tp->nattrs == 2 &&
	       !strcmp(tp->attrs[0], "metadata");
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
	if (is_metadata_key(tp)) {
		*kind = MODEL_W_META;
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

int model_create_in(struct project *p, const char *path, enum model_wkind *kind)
{
	struct node n;
	size_t nnamed = 0;
	int rc = model_resolve(p, path, &n);

	if (!rc) {
		bool pending = n.virt == VIRT_PENDING;

		model_node_release(&n);
		return pending ? pending_busy(path) : -EEXIST;
	}
	if (rc != -ENOENT)
		return rc;
	rc = parse_new(path, &n.tp);
	if (rc)
		return rc;
	rc = new_file_kind(&n.tp, kind);
	/* A name several resources carry already has no link to follow;
	 * making one more would only add to the confusion. */
	if (!rc && n.tp.kind == TREE_ENTRY &&
	    !model_name_count(p, n.tp.coll, n.tp.entry, &nnamed) && nnamed) {
		log_cloud_error("%s: %zu %s are named '%s' already; use another name", path, nnamed,
				n.tp.coll->name, n.tp.entry);
		rc = -EEXIST;
	}
	tree_path_free(&n.tp);
	if (!rc)
		rc = model_pending_add(p, path);
	return rc == -EEXIST && !nnamed ? pending_busy(path) : rc;
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
	else if (n.virt == VIRT_ACTION)
		*kind = MODEL_W_ACTION;
	else if (n.virt == VIRT_PENDING)
		rc = pending_busy(path); /* its creator alone writes it */
	else
		*kind = is_metadata_key(&n.tp) ? MODEL_W_META : MODEL_W_ATTR;
	model_node_release(&n);
	return rc;
}

/* ---- create ----------------------------------------------------------- */

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
	rc = api_send_json(p->sess, c->service, "POST", c->item_path, body, NULL, &answer);
	if (rc)
		goto out;
	created = c->item_key ? json_object_get(answer, c->item_key) : answer;
	if (!json_is_object(created) || !render_id(created, c->id_field, id, idlen)) {
		log_cloud_error("create %s/%s: the answer names no %s", c->name, name, c->id_field);
		rc = -EIO;
		goto out;
	}
	/* Some creates answer with a stub (Nova: id and links): read it back. */
	if (api_get_item(p->sess, c, id, &doc))
		doc = json_incref((json_t *)created);
	model_forget(p, c, NULL);
	model_learn(p, c, doc);
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
	if (tp.kind != TREE_ENTRY) {
		rc = -EPERM;
	} else if (!tp.coll->mkdir_creates) {
		log_cloud_error("mkdir %s: %s need a spec; write it with: cat > %s", path,
				tp.coll->name, path);
		rc = tp.coll->can_create ? -EINVAL : -EPERM;
	} else {
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

static int set_metadata(struct project *p, const struct node *n, const char *text, size_t len)
{
	const struct collection_def *c = n->tp.coll;
	const char *key = n->tp.attrs[1];
	char *path = api_item_path(c, n->id, "metadata", key);
	json_t *body = NULL;
	int rc = -ENOMEM;

	if (len && text[len - 1] == '\n')
		len--;
	if (!names_is_utf8(text, len) || memchr(text, '\0', len)) {
		log_cloud_error("%s/%s/metadata/%s: a value must be UTF-8 text without NUL bytes",
				c->name, n->id, key);
		rc = -EINVAL;
		goto out;
	}
	body = json_pack("{s{ss#}}", "meta", key, text, (int)len);
	if (!path || !body)
		goto out;
	rc = api_send_json(p->sess, c->service, "PUT", path, body, NULL, NULL);
	model_forget(p, c, n->id);
out:
	json_decref(body);
	free(path);
	return rc;
}

/* ---- actions (the collection's verbs) ---------------------------------- */

static int run_action(struct project *p, const struct node *n, const char *line)
{
	const struct collection_def *c = n->tp.coll;
	const struct action_verb *v = NULL;
	char *path;
	json_t *body;
	int rc;

	for (const struct action_verb *a = c->actions; a && a->word && !v; a++)
		if (!strcmp(a->word, line))
			v = a;
	if (!v || !c->action_path) {
		log_cloud_error("%s/%s/action: unknown action '%.64s' (%s)", c->name, n->id, line,
				c->actions_help ? c->actions_help : "none");
		return -EINVAL;
	}
	path = api_item_path(c, n->id, c->action_path, NULL);
	body = v->arg_key ? json_pack("{s{ss}}", v->action, v->arg_key, v->arg_value)
			  : json_pack("{sn}", v->action);
	rc = path && body ? api_send_json(p->sess, c->service, "POST", path, body, NULL, NULL)
			  : -ENOMEM;
	model_forget(p, n->tp.coll, n->id);
	json_decref(body);
	free(path);
	return rc;
}

/* Runs each non-empty line; stops at the first failure. */
static int run_lines(struct project *p, const struct node *n, const char *data, size_t len)
{
	char line[128];
	int rc = 0;

	while (len && !rc) {
		const char *nl = memchr(data, '\n', len);
		size_t l = nl ? (size_t)(nl - data) : len;

		while (l && (data[l - 1] == ' ' || data[l - 1] == '\r'))
			l--;
		if (l >= sizeof(line))
			return -EINVAL;
		memcpy(line, data, l);
		line[l] = '\0';
		if (l)
			rc = run_action(p, n, line);
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
	if (kind == MODEL_W_META && rc == 0 && n.virt == VIRT_PENDING) {
		model_node_release(&n);
		rc = -ENOENT;
	}
	if (rc == -ENOENT && kind == MODEL_W_META) {
		/* A new key: resolve its resource through the metadata dir. */
		rc = resolve_parent(p, path, &n);
		if (!rc) {
			tree_path_free(&n.tp);
			rc = tree_parse(path, &n.tp);
		}
	}
	if (rc)
		return rc;
	switch (kind) {
	case MODEL_W_ATTR:
		rc = update_attr(p, &n, data, len);
		break;
	case MODEL_W_META:
		rc = set_metadata(p, &n, data, len);
		break;
	case MODEL_W_ACTION:
		rc = run_lines(p, &n, data, len);
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

int model_rmdir_in(struct project *p, const char *path)
{
	struct node n;
	char *url;
	int rc = model_resolve(p, path, &n);

	if (rc)
		return rc;
	if (n.type == NODE_LINK) {
		rc = -ENOTDIR;
		goto out;
	}
	/* A singleton is the project's own document: never deleted (Nova's
	 * DELETE of a quota set would reset it to the defaults). */
	if (n.tp.kind != TREE_ENTRY || n.tp.coll->singleton) {
		rc = n.type == NODE_DIR ? -EPERM : -ENOTDIR;
		goto out;
	}
	url = api_item_path(n.tp.coll, n.id, NULL, NULL);
	rc = url ? api_send(p->sess, n.tp.coll->service, "DELETE", url, NULL, NULL) : -ENOMEM;
	free(url);
	model_forget(p, n.tp.coll, n.id);
	model_forget_singletons(p);
	if (!rc) {
		char *file = render_name(collection_member_name(n.tp.coll, n.res->data));
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

/* Attachments name volumes by id, in this collection. */
static const struct collection_def *volumes_coll(void)
{
	return collection_find("volumes");
}

static void forget_attachment(struct project *p, const struct node *n, const char *vid)
{
	model_forget(p, n->tp.coll, n->id);
	model_forget(p, volumes_coll(), vid);
}

int model_unlink_in(struct project *p, const char *path)
{
	char *url = NULL;
	struct node n;
	int rc = model_resolve(p, path, &n);

	if (rc)
		return rc;
	if (n.virt == VIRT_VOLUMES && n.type == NODE_LINK) {
		url = api_item_path(n.tp.coll, n.id, "os-volume_attachments", n.tp.attrs[1]);
		rc = url ? api_send(p->sess, SVC_COMPUTE, "DELETE", url, NULL, NULL) : -ENOMEM;
		forget_attachment(p, &n, n.tp.attrs[1]);
	} else if (is_metadata_key(&n.tp) && n.type == NODE_FILE) {
		url = api_item_path(n.tp.coll, n.id, "metadata", n.tp.attrs[1]);
		rc = url ? api_send(p->sess, n.tp.coll->service, "DELETE", url, NULL, NULL)
			 : -ENOMEM;
		model_forget(p, n.tp.coll, n.id);
	} else {
		rc = n.type == NODE_DIR ? -EISDIR : -EPERM;
	}
	free(url);
	model_node_release(&n);
	return rc;
}

int model_symlink_in(struct project *p, const char *target, const char *path)
{
	char err[512] = "", *vid = NULL, *url = NULL, *ref;
	const char *last = strrchr(target, '/');
	struct tree_path tp;
	struct node n;
	json_t *body = NULL;
	int rc;

	rc = parse_new(path, &tp);
	if (rc)
		return rc;
	if (tp.kind != TREE_ATTR || strcmp(tp.coll->name, "servers") || tp.nattrs != 2 ||
	    strcmp(tp.attrs[0], "volumes")) {
		tree_path_free(&tp);
		return -EPERM;
	}
	tree_path_free(&tp);
	rc = resolve_parent(p, path, &n);
	if (rc)
		return rc;
	ref = names_decode(last ? last + 1 : target);
	if (!ref) {
		rc = -EINVAL;
		goto out;
	}
	rc = model_find_ref(p, volumes_coll(), ref, &vid, err, sizeof(err));
	if (rc) {
		log_cloud_error("attach %s to servers/%s: %s", target, n.id, err);
		goto out;
	}
	url = api_item_path(n.tp.coll, n.id, "os-volume_attachments", NULL);
	body = json_pack("{s{ss}}", "volumeAttachment", "volumeId", vid);
	rc = url && body ? api_send_json(p->sess, SVC_COMPUTE, "POST", url, body, NULL, NULL)
			 : -ENOMEM;
	forget_attachment(p, &n, vid);
out:
	json_decref(body);
	free(url);
	free(vid);
	free(ref);
	model_node_release(&n);
	return rc;
}
