/* SPDX-License-Identifier: MIT */
/*
 * Nova (compute): servers, flavors, keypairs. Layer: services. Field names
 * and pagination styles follow the Nova API reference and the captured Zed
 * responses in the fixtures.
 */
#include <jansson.h>

#include "cloudfs/service.h"

static const char *const compute_types[] = { "compute", NULL };
/* Where OpenStack keeps a member's modification time. */
static const char *const compute_mtime[] = { "updated", "updated_at", "created", "created_at",
					     NULL };

static const char *const server_rw[] = { "name", "accessIPv4", "accessIPv6", NULL };
static const char *const server_files[] = { "action", "console", "volumes", NULL };
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

/* A server is busy while its status is a transition or Nova runs a task on it. */
static bool server_busy(const json_t *doc)
{
	static const char *const statuses[] = {
		"BUILD",    "REBOOT",	     "HARD_REBOOT",   "RESIZE",	  "MIGRATING",	"REBUILD",
		"PASSWORD", "VERIFY_RESIZE", "REVERT_RESIZE", "SHELVING", "UNSHELVING", NULL,
	};

	return service_field_in(doc, "status", statuses) ||
	       json_is_string(json_object_get(doc, "OS-EXT-STS:task_state"));
}

/* The lines servers/<id>/action takes (docs/SEMANTICS.md). */
static const struct action_verb server_actions[] = {
	{ "reboot", "reboot", "type", "SOFT" },	     { "reboot soft", "reboot", "type", "SOFT" },
	{ "reboot hard", "reboot", "type", "HARD" }, { "stop", "os-stop", NULL, NULL },
	{ "start", "os-start", NULL, NULL },	     { "pause", "pause", NULL, NULL },
	{ "unpause", "unpause", NULL, NULL },	     { "suspend", "suspend", NULL, NULL },
	{ "resume", "resume", NULL, NULL },	     { "lock", "lock", NULL, NULL },
	{ "unlock", "unlock", NULL, NULL },	     { "shelve", "shelve", NULL, NULL },
	{ "unshelve", "unshelve", NULL, NULL },	     { .word = NULL },
};

static const struct collection_def compute_collections[] = {
	{ .name = "servers",
	  .service = SVC_COMPUTE,
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
	  .metadata = true,
	  .writable = server_rw,
	  .spec_rules = server_spec,
	  .busy = server_busy,
	  .extra_files = server_files,
	  .actions = server_actions,
	  .action_path = "action",
	  .actions_help =
		  "reboot, reboot hard, stop, start, pause, unpause, suspend, resume, lock, "
		  "unlock, shelve, unshelve" },
	{ .name = "flavors",
	  .service = SVC_COMPUTE,
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
	  .service = SVC_COMPUTE,
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
	  .spec_text_key = "public_key" },
	/* Read-only. At microversion 2.1 the listing has no links (Nova pages
	 * server groups by offset) and a group carries no timestamp. */
	{ .name = "server_groups",
	  .service = SVC_COMPUTE,
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
	  .service = SVC_COMPUTE,
	  .group = "quotas",
	  .singleton = true,
	  .item_path = "/os-quota-sets",
	  .item_suffix = "/detail",
	  .item_key = "quota_set",
	  .writable_leaf = "limit" },
};

const struct service_def service_compute = {
	.id = SVC_COMPUTE,
	.name = "compute",
	.types = compute_types,
	SERVICE_ROWS(compute_collections),
};
