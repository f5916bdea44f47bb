/* SPDX-License-Identifier: MIT */
/*
 * Member extras more than one OpenStack service shares (os_extras.c).
 * Layer: services; private to src/services/.
 */
#ifndef CLOUDFS_OS_EXTRAS_H
#define CLOUDFS_OS_EXTRAS_H

#include "cloudfs/service.h"

/* <member>/metadata/<key>: Nova's and Cinder's key-value metadata, an
 * EXTRA_ON_KEY directory over the document's "metadata" object. */
#define OS_METADATA_EXTRA                                                                   \
	{                                                                                   \
		.name = "metadata", .kind = EXTRA_DIR, .mode = 0755, .flags = EXTRA_ON_KEY, \
		.store = os_metadata_store, .unlink = os_metadata_unlink                    \
	}

int os_metadata_store(const struct extra_ctx *x, const char *data, size_t len);
int os_metadata_unlink(const struct extra_ctx *x);

/* servers/<id>/floating_ips/: the floating IPs on the server's ports, as
 * links; ln -s associates one, rm disassociates it (network.c: Neutron's
 * side of a server). */
#define NETWORK_SERVER_FIPS_EXTRA                                                             \
	{                                                                                     \
		.name = "floating_ips", .kind = EXTRA_DIR, .mode = 0755,                      \
		.readdir = network_server_fips_readdir, .lookup = network_server_fips_lookup, \
		.link = network_server_fips_link, .unlink = network_server_fips_unlink        \
	}

int network_server_fips_readdir(const struct extra_ctx *x, extra_fill_fn fill, void *fill_ctx);
int network_server_fips_lookup(const struct extra_ctx *x, struct extra_entry *e);
int network_server_fips_link(const struct extra_ctx *x, const char *target);
int network_server_fips_unlink(const struct extra_ctx *x);

#endif
