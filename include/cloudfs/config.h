/* SPDX-License-Identifier: MIT */
/*
 * Everything cloudfs needs to know before it talks to the cloud: credentials
 * read the way the openstack CLI reads them (clouds.yaml + secure.yaml for
 * OS_CLOUD, then OS_* variables on top, then command-line options on top),
 * and the mount's tunables. Parsed once in main(); read-only afterwards.
 * Layer: below everything that talks to the network; does no I/O but reading
 * the YAML files.
 */
#ifndef CLOUDFS_CONFIG_H
#define CLOUDFS_CONFIG_H

#include "cloudfs/common.h"

enum auth_method {
	AUTH_PASSWORD,
	AUTH_TOKEN,
	AUTH_APPCRED
};

struct config {
	/* Credentials and endpoint selection; strings are malloc'd or NULL. */
	char *cloud; /* the clouds.yaml entry in use, if any */
	char *auth_url;
	char *auth_type;
	char *username;
	char *user_id;
	char *password; /* secret */
	char *user_domain_name;
	char *user_domain_id;
	char *project_name;
	char *project_id;
	char *project_domain_name;
	char *project_domain_id;
	char *domain_name; /* fallback for both user and project domain */
	char *domain_id;
	char *token; /* secret */
	char *app_cred_id;
	char *app_cred_name;
	char *app_cred_secret; /* secret */
	char *region;
	char *interface;
	char *cacert;
	char *insecure; /* "true"/"false" as in clouds.yaml verify: false */
	char *source; /* where the credentials came from, for messages */

	/* Mount tunables (-o options). */
	double cache_ttl_s;
	double negative_ttl_s;
	double timeout_s;
	double connect_timeout_s;
	double wait_timeout_s; /* a read of a "wait" file gives up after this; 0: never */
	int retries;
	long max_entries; /* members of one listing before it fails with EFBIG */
	/* Bytes per part of a large upload to a member tree (Swift SLO
	 * segments); 0: the cloud's limit (max_file_size, at most 1 GiB). */
	long long part_size;
	bool expose_token; /* -o expose_token: .cloudfs/token exists */
	int projects_kept; /* other projects' sessions kept at most (projects/) */
	double projects_idle_s; /* an unused project's session is dropped after this */
	/* -o nova_microversion=X.Y: the compute microversion asked for, instead
	 * of the one negotiated at mount; "" when not given. */
	char nova_microversion[16];
};

#define CONFIG_PROJECTS_KEPT 8
#define CONFIG_PROJECTS_IDLE_S 300.0

/* Default cap on the members of one listing (-o max_entries): a cloud whose
 * pagination never ends must not grow the daemon without bound. */
#define CONFIG_MAX_ENTRIES 100000L

void config_init(struct config *cfg);
void config_free(struct config *cfg);

/*
 * Fills @cfg from clouds.yaml/secure.yaml (when @cloud or $OS_CLOUD names a
 * cloud) and then from OS_* variables. Fields already set in @cfg (from the
 * command line) win over both. Returns 0, or -errno with a message in @err.
 */
int config_load(struct config *cfg, const char *cloud, char *err, size_t errlen) CFS_WARN_UNUSED;

/* Sets one credential field by its clouds.yaml auth key or top-level key
 * ("username", "region_name", ...). Returns -ENOENT for an unknown key. */
int config_set(struct config *cfg, const char *key, const char *value) CFS_WARN_UNUSED;

/* The auth method implied by auth_type and which secrets are present. */
enum auth_method config_auth_method(const struct config *cfg);
/* Checks that the credentials are complete; a readable reason in @err. */
int config_validate(const struct config *cfg, char *err, size_t errlen) CFS_WARN_UNUSED;
/* "public", "internal" or "admin" (publicURL etc. normalised). */
const char *config_interface(const struct config *cfg);

#endif
