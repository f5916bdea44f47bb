/* SPDX-License-Identifier: MIT */
/*
 * Nova (compute): servers, flavors, keypairs. Layer: services. Field names
 * and pagination styles follow the Nova API reference and the captured Zed
 * responses in the fixtures.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cloudfs/buf.h"
#include "cloudfs/log.h"
#include "cloudfs/names.h"
#include "os_extras.h"

extern const struct service_def service_compute;

static const char *const compute_types[] = { "compute", NULL };
/* Where OpenStack keeps a member's modification time. */
static const char *const compute_mtime[] = { "updated", "updated_at", "created", "created_at",
					     NULL };

static const char *const server_rw[] = { "name", "accessIPv4", "accessIPv6", NULL };
/* Nova's own network shortcuts, passed on as they are. */
static const char *const server_net_words[] = { "auto", "none", NULL };
static const struct spec_rule server_spec[] = {
	{ "image", SPEC_REF, "imageRef", "images", NULL, NULL },
	{ "flavor", SPEC_REF, "flavorRef", "flavors", NULL, NULL },
	{ "networks", SPEC_REF_LIST, "networks", "networks", "uuid", server_net_words },
	{ "network", SPEC_REF_LIST, "networks", "networks", "uuid", server_net_words },
	{ "security_groups", SPEC_NAME_LIST, "security_groups", NULL, "name", NULL },
	{ "user_data", SPEC_BASE64, "user_data", NULL, NULL, NULL },
	{ .key = NULL },
};

/* From microversion 2.37 Nova wants "networks" in every create: "auto" is
 * what leaving it out meant before (the project's one network, or one
 * Nova allocates), so a spec without it means the same at any version. */
static int server_create_complete(json_t *body, const char *microversion)
{
	if (!service_version_at_least(microversion, "2.37") || json_object_get(body, "networks"))
		return 0;
	return json_object_set_new(body, "networks", json_string("auto")) ? -ENOMEM : 0;
}

/* A server is busy while its status is a transition or Nova runs a task on it. */
static bool server_busy(const json_t *doc)
{
	static const char *const statuses[] = {
		"BUILD",
		"REBOOT",
		"HARD_REBOOT",
		"RESIZE",
		"MIGRATING",
		"REBUILD",
		"PASSWORD",
		/* not VERIFY_RESIZE: that one waits for the user (confirm,
		 * revert), so a wait ends there */
		"REVERT_RESIZE",
		"SHELVING",
		"UNSHELVING",
		/* the moment between Nova's terminate and its 404 (devcloud shows it) */
		"DELETED",
		NULL,
	};

	return service_field_in(doc, "status", statuses) ||
	       json_is_string(json_object_get(doc, "OS-EXT-STS:task_state"));
}

/* ERROR is where a server ends when Nova gives up (no valid host, a failed
 * build or resize); its "fault" says why. */
static const char *server_failed(const json_t *doc)
{
	static const char *const statuses[] = { "ERROR", NULL };
	const char *msg;

	if (!service_field_in(doc, "status", statuses))
		return NULL;
	msg = json_string_value(json_object_get(json_object_get(doc, "fault"), "message"));
	return msg ? msg : "";
}

/* The lines servers/<id>/action takes (docs/SEMANTICS.md). */
static const struct action_verb server_actions[] = {
	{ "reboot", "reboot", "type", "SOFT" },	     { "reboot soft", "reboot", "type", "SOFT" },
	{ "reboot hard", "reboot", "type", "HARD" }, { "stop", "os-stop", NULL, NULL },
	{ "start", "os-start", NULL, NULL },	     { "pause", "pause", NULL, NULL },
	{ "unpause", "unpause", NULL, NULL },	     { "suspend", "suspend", NULL, NULL },
	{ "resume", "resume", NULL, NULL },	     { "lock", "lock", NULL, NULL },
	{ "unlock", "unlock", NULL, NULL },	     { "shelve", "shelve", NULL, NULL },
	{ "unshelve", "unshelve", NULL, NULL },	     { "confirm", "confirmResize", NULL, NULL },
	{ "revert", "revertResize", NULL, NULL },    { "rescue", "rescue", NULL, NULL },
	{ "unrescue", "unrescue", NULL, NULL },	     { .word = NULL },
};

/* The verbs that take an argument: "<word> <arg>" → {"<action>": {"<key>":
 * arg}}, the argument resolved in @ref_coll (an id or a unique name) when
 * set, else sent as written (an image's name). */
struct server_verb_arg {
	const char *word;
	const char *action;
	const char *key;
	const char *ref_coll;
};

static const struct server_verb_arg server_arg_actions[] = {
	{ "resize", "resize", "flavorRef", "flavors" },
	{ "rebuild", "rebuild", "imageRef", "images" },
	{ "rescue", "rescue", "rescue_image_ref", "images" },
	{ "image", "createImage", "name", NULL },
	{ NULL, NULL, NULL, NULL },
};

#define SERVER_ACTIONS_HELP                                                                 \
	"reboot, reboot hard, stop, start, pause, unpause, suspend, resume, lock, unlock, " \
	"shelve, unshelve, resize <flavor>, confirm, revert, rebuild [<image>], "           \
	"image <name>, rescue [<image>], unrescue"

/* The image a server was booted from ("" when from a volume), or NULL. */
static const char *server_image_id(const json_t *server)
{
	return json_string_value(json_object_get(json_object_get(server, "image"), "id"));
}

/* The body of "<word> <arg>" (@arg NULL: the word alone, which only
 * rebuild takes: the server's own image). NULL with *rc set when the line
 * is none of these. */
static json_t *server_arg_body(const struct extra_ctx *x, const char *line, int *rc)
{
	const char *sp = strchr(line, ' '), *arg = sp ? sp + strspn(sp, " ") : NULL;
	size_t wlen = sp ? (size_t)(sp - line) : strlen(line);
	const struct server_verb_arg *v;
	char err[512] = "", *id = NULL;
	json_t *body;

	for (v = server_arg_actions; v->word; v++)
		if (strlen(v->word) == wlen && !strncmp(v->word, line, wlen))
			break;
	*rc = -EINVAL;
	if (!v->word || (arg && !*arg) || (!arg && strcmp(v->word, "rebuild"))) {
		log_cloud_error("%s/%s/action: unknown action '%.64s' (%s)", x->coll->name, x->id,
				line, SERVER_ACTIONS_HELP);
		return NULL;
	}
	if (!arg) {
		/* rebuild: from the image it was booted from */
		arg = server_image_id(x->doc);
		if (!arg || !*arg) {
			log_cloud_error("%s/%s/action: rebuild: the server was not booted from an "
					"image; say which: rebuild <image>",
					x->coll->name, x->id);
			return NULL;
		}
	}
	if (v->ref_coll) {
		*rc = extra_find_ref(x, v->ref_coll, arg, &id, err, sizeof(err));
		if (*rc) {
			log_cloud_error("%s/%s/action: %s: %s", x->coll->name, x->id, v->word, err);
			return NULL;
		}
		arg = id;
	}
	body = json_pack("{s{ss}}", v->action, v->key, arg);
	free(id);
	*rc = body ? 0 : -ENOMEM;
	return body;
}

/* servers/<id>/action: one verb per line, POSTed to <server>/action. */
static int server_action_store(const struct extra_ctx *x, const char *line, size_t len)
{
	const struct action_verb *v = action_verb_find(server_actions, line);
	json_t *body;
	int rc = -ENOMEM;

	(void)len;
	if (v)
		body = v->arg_key ? json_pack("{s{ss}}", v->action, v->arg_key, v->arg_value)
				  : json_pack("{sn}", v->action);
	else
		body = server_arg_body(x, line, &rc);
	if (!body)
		return rc;
	/* The answer may carry a password (rebuild, rescue): never kept. */
	rc = svc_request_member(x, "POST", "action", NULL, body, NULL);
	extra_changed(x, NULL, x->id);
	/* An image made from the server (createImage) is in images/ now. */
	if (json_object_get(body, "createImage"))
		extra_changed(x, "images", NULL);
	json_decref(body);
	return rc;
}

/* The console log's last lines we ask for. */
#define SERVER_CONSOLE_LINES 1000

/* servers/<id>/console: os-getConsoleOutput (cached with the server). */
static int server_console_show(const struct extra_ctx *x, struct buf *out)
{
	json_t *body, *answer = NULL;
	const json_t *o;
	int rc;

	body = json_pack("{s{si}}", "os-getConsoleOutput", "length", SERVER_CONSOLE_LINES);
	rc = body ? svc_request_member(x, "POST", "action", NULL, body, &answer) : -ENOMEM;
	json_decref(body);
	if (rc)
		return rc;
	o = json_object_get(answer, "output");
	rc = json_is_string(o) ? buf_add(out, json_string_value(o), json_string_length(o)) : -EIO;
	json_decref(answer);
	return rc;
}

/* servers/<id>/console_url: a noVNC URL for the server's console (Nova
 * puts a console token in it, valid for minutes: cached with the server,
 * mode 0400). */
static int server_console_url_show(const struct extra_ctx *x, struct buf *out)
{
	json_t *body, *answer = NULL;
	const json_t *url;
	int rc;

	/* os-getVNCConsole is gone from 2.6 on: remote-consoles replaces it */
	bool remote = service_version_at_least(extra_microversion(x), "2.6");

	body = remote ? json_pack("{s{ssss}}", "remote_console", "protocol", "vnc", "type", "novnc")
		      : json_pack("{s{ss}}", "os-getVNCConsole", "type", "novnc");
	rc = body ? svc_request_member(x, "POST", remote ? "remote-consoles" : "action", NULL, body,
				       &answer)
		  : -ENOMEM;
	json_decref(body);
	if (rc)
		return rc;
	url = json_object_get(json_object_get(answer, remote ? "remote_console" : "console"),
			      "url");
	if (json_is_string(url) && strlen(json_string_value(url)) == json_string_length(url))
		rc = buf_addstr(out, json_string_value(url)) || buf_addstr(out, "\n") ? -ENOMEM : 0;
	else
		rc = -EIO;
	if (rc == -EIO)
		log_cloud_error("%s/%s/console_url: the answer has no console URL", x->coll->name,
				x->id);
	json_decref(answer);
	return rc;
}

/* The volumes a server document says are attached. */
static const json_t *attached_volumes(const json_t *server)
{
	return json_object_get(server, "os-extended-volumes:volumes_attached");
}

/* An attachment's volume id, or NULL: not a string, or holding a NUL byte
 * (no id can). */
static const char *attached_id(const json_t *attachment)
{
	const json_t *id = json_object_get(attachment, "id");
	const char *s = json_string_value(id);

	return s && *s && strlen(s) == json_string_length(id) ? s : NULL;
}

static bool volume_attached(const json_t *server, const char *vid)
{
	const json_t *a;
	size_t i;

	json_array_foreach(attached_volumes(server), i, a)
	{
		const char *id = attached_id(a);

		if (id && !strcmp(id, vid))
			return true;
	}
	return false;
}

/* servers/<id>/volumes/: the attached volumes, as links to them. */
static int server_volumes_readdir(const struct extra_ctx *x, extra_fill_fn fill, void *fill_ctx)
{
	const json_t *a;
	size_t i;
	int rc = 0;

	json_array_foreach(attached_volumes(x->doc), i, a)
	{
		const char *vid = attached_id(a);
		struct extra_ctx child = *x;
		char *sub[1] = { (char *)vid }, *link;

		if (!vid)
			continue;
		child.sub = sub;
		child.nsub = 1;
		link = extra_link_to(&child, "volumes", vid);
		rc = link ? fill(fill_ctx, vid, EXTRA_LINK, link) : -ENOMEM;
		free(link);
		if (rc)
			break;
	}
	return rc;
}

/* volumes/<volume>: an attached volume, by id, or by name as
 * `ln -s ../../../volumes/data1 volumes/data1` names it. */
static int server_volumes_lookup(const struct extra_ctx *x, struct extra_entry *e)
{
	char *vid = NULL, err[256];

	if (x->nsub != 1)
		return -ENOENT;
	if (!volume_attached(x->doc, x->sub[0]) &&
	    (extra_find_ref(x, "volumes", x->sub[0], &vid, err, sizeof(err)) ||
	     !volume_attached(x->doc, vid))) {
		free(vid);
		return -ENOENT;
	}
	e->kind = EXTRA_LINK;
	e->link = extra_link_to(x, "volumes", vid ? vid : x->sub[0]);
	free(vid);
	return e->link ? 0 : -ENOMEM;
}

/* ln -s <.../volumes/<ref>> servers/<id>/volumes/<any>: attach <ref>. */
static int server_volumes_link(const struct extra_ctx *x, const char *target)
{
	const char *last = strrchr(target, '/');
	char err[512] = "", *vid = NULL, *ref = names_decode(last ? last + 1 : target);
	json_t *body = NULL;
	int rc;

	if (!ref)
		return -EINVAL;
	rc = extra_find_ref(x, "volumes", ref, &vid, err, sizeof(err));
	if (rc) {
		log_cloud_error("attach %s to servers/%s: %s", target, x->id, err);
		goto out;
	}
	body = json_pack("{s{ss}}", "volumeAttachment", "volumeId", vid);
	rc = body ? svc_request_member(x, "POST", "os-volume_attachments", NULL, body, NULL)
		  : -ENOMEM;
	extra_changed(x, NULL, x->id);
	extra_changed(x, "volumes", vid);
out:
	json_decref(body);
	free(vid);
	free(ref);
	return rc;
}

/* rm servers/<id>/volumes/<volume>: detach it. The name is an id or, as
 * lookup takes it, the name the link was made with: the attachment is
 * addressed by the volume's id, so a name is resolved first. */
static int server_volumes_unlink(const struct extra_ctx *x)
{
	char *vid = NULL, err[256];
	const char *id = x->sub[0];
	int rc;

	if (!volume_attached(x->doc, id)) {
		rc = extra_find_ref(x, "volumes", id, &vid, err, sizeof(err));
		if (rc)
			return rc;
		id = vid;
	}
	rc = svc_request_member(x, "DELETE", "os-volume_attachments", id, NULL, NULL);
	extra_changed(x, NULL, x->id);
	extra_changed(x, "volumes", id);
	free(vid);
	return rc;
}

static const struct member_extra server_extras[] = {
	{ .name = "action",
	  .kind = EXTRA_FILE,
	  .mode = 0200,
	  .flags = EXTRA_LINES,
	  .store = server_action_store },
	{ .name = "console",
	  .kind = EXTRA_FILE,
	  .mode = 0444,
	  .flags = EXTRA_CACHED | EXTRA_LAZY,
	  .show = server_console_show },
	{ .name = "console_url",
	  .kind = EXTRA_FILE,
	  .mode = 0400,
	  .flags = EXTRA_CACHED | EXTRA_LAZY | EXTRA_UNLISTED,
	  .show = server_console_url_show },
	{ .name = "volumes",
	  .kind = EXTRA_DIR,
	  .mode = 0755,
	  .readdir = server_volumes_readdir,
	  .lookup = server_volumes_lookup,
	  .link = server_volumes_link,
	  .unlink = server_volumes_unlink },
	OS_METADATA_EXTRA,
	NETWORK_SERVER_FIPS_EXTRA,
	{ .name = NULL },
};

/* keypairs/<name>/private_key: the private half Nova generated, shown
 * once (the core keeps it from the create's answer: .create_secret). */
static int keypair_private_lookup(const struct extra_ctx *x, struct extra_entry *e)
{
	(void)e;
	return extra_secret(x, NULL);
}

static int keypair_private_show(const struct extra_ctx *x, struct buf *out)
{
	return extra_secret(x, out);
}

static const struct member_extra keypair_extras[] = {
	{ .name = "private_key",
	  .kind = EXTRA_FILE,
	  .mode = 0400,
	  .lookup = keypair_private_lookup,
	  .show = keypair_private_show },
	{ .name = NULL },
};

static const struct collection_def compute_collections[] = {
	{ .name = "servers",
	  .service = &service_compute,
	  .list_path = "/servers/detail",
	  .item_path = "/servers",
	  .list_key = "servers",
	  .item_key = "server",
	  .id_field = "id",
	  .name_field = "name",
	  .mtime_fields = compute_mtime,
	  .links_key = "servers_links",
	  .next = NEXT_LINKS,
	  .paged = true,
	  .uuid_ids = true,
	  .name_links = true,
	  .can_create = true,
	  .writable = server_rw,
	  .spec_rules = server_spec,
	  .create_complete = server_create_complete,
	  .busy = server_busy,
	  .failed = server_failed,
	  .status_field = "status",
	  .extras = server_extras },
	{ .name = "flavors",
	  .service = &service_compute,
	  .list_path = "/flavors/detail",
	  .item_path = "/flavors",
	  .list_key = "flavors",
	  .item_key = "flavor",
	  .id_field = "id",
	  .name_field = "name",
	  .mtime_fields = compute_mtime,
	  .links_key = "flavors_links",
	  .next = NEXT_LINKS,
	  .paged = true,
	  .name_links = true,
	  .can_create = true },
	/* Nova 2.1 wraps every listed keypair in {"keypair": {...}} and pages
	 * them only from microversion 2.35; a keypair is named, not numbered. */
	{ .name = "keypairs",
	  .service = &service_compute,
	  .list_path = "/os-keypairs",
	  .item_path = "/os-keypairs",
	  .list_key = "keypairs",
	  .item_key = "keypair",
	  .member_wrap = "keypair",
	  .id_field = "name",
	  .name_field = "name",
	  .mtime_fields = compute_mtime,
	  .links_key = "keypairs_links",
	  .next = NEXT_LINKS,
	  .can_create = true,
	  .spec_text_key = "public_key",
	  /* A keypair created without a public key is generated by Nova
	   * (up to microversion 2.91), which answers the private key once. */
	  .create_secret = "private_key",
	  .extras = keypair_extras },
	/* Read-only. At microversion 2.1 the listing has no links (Nova pages
	 * server groups by offset) and a group carries no timestamp. */
	{ .name = "server_groups",
	  .service = &service_compute,
	  .list_path = "/os-server-groups",
	  .item_path = "/os-server-groups",
	  .list_key = "server_groups",
	  .item_key = "server_group",
	  .id_field = "id",
	  .name_field = "name",
	  .links_key = "server_groups_links",
	  .next = NEXT_LINKS,
	  .uuid_ids = true,
	  .name_links = true },
	/* quotas/compute/: the project's quota set with usage, Nova's keys
	 * (cores/{limit,in_use,reserved}, ...). At microversion 2.1 it still
	 * carries floating_ips, security_groups... that Neutron enforces. A
	 * limit is set with PUT /os-quota-sets/<project> (admins only). */
	{ .name = "compute",
	  .service = &service_compute,
	  .group = "quotas",
	  .singleton = true,
	  .item_path = "/os-quota-sets",
	  .item_suffix = "/detail",
	  .item_key = "quota_set",
	  .writable_leaf = "limit" },
};

const struct service_def service_compute = {
	.name = "compute",
	.types = compute_types,
	.microversion_type = "compute",
	/* What the rows and hooks here were checked against (docs/SEMANTICS.md,
	 * "Microversions"). Not 2.71 or later: from there a server's GET has
	 * server_groups, which its listing lacks, so one server's files would
	 * depend on how it was fetched; and from 2.92 Nova no longer generates
	 * keypairs (echo '{}' > keypairs/k). */
	.microversion_max = "2.70",
	SERVICE_ROWS(compute_collections),
};
