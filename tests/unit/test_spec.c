/* SPDX-License-Identifier: MIT */
/* Create specs → API bodies, attribute text → values, base64 (spec.h). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "cloudfs/service.h"
#include "cloudfs/spec.h"

/* ---- the fake resolver ---- */

struct ref_row {
	const char *coll, *name, *id;
};

/* What the fake cloud holds: a name resolves only in its own collection,
 * so a rule that looks in the wrong place fails. */
static const struct ref_row refs[] = {
	{ "images", "cirros", "img-cirros-id" },
	{ "images", "ubuntu", "img-ubuntu-id" },
	{ "flavors", "m1.tiny", "flv-tiny-id" },
	{ "flavors", "m1.small", "flv-small-id" },
	{ "networks", "private", "net-private-id" },
	{ "networks", "public", "net-public-id" },
	{ "volumes", "data", "vol-data-id" },
	{ "security_groups", "web", "sg-web-id" },
	{ "security_groups", "default", "sg-default-id" },
};

/* Names the resolver refuses in a particular way, in every collection. */
#define REF_AMBIGUOUS "twin"
#define REF_BROKEN "broken"

struct resolver {
	int calls;
	char last_coll[32];
};

static int fake_resolve(void *ctx, const struct collection_def *c, const char *ref, char **id,
			char *err, size_t errlen)
{
	struct resolver *r = ctx;

	assert_non_null(r);
	assert_non_null(c);
	assert_non_null(ref);
	r->calls++;
	snprintf(r->last_coll, sizeof(r->last_coll), "%s", c->name);
	if (!strcmp(ref, REF_AMBIGUOUS)) {
		snprintf(err, errlen, "more than one of %s is named '%s'", c->name, ref);
		return -EINVAL;
	}
	if (!strcmp(ref, REF_BROKEN)) {
		snprintf(err, errlen, "the cloud did not answer while looking up '%s'", ref);
		return -EIO;
	}
	for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
		if (strcmp(refs[i].coll, c->name))
			continue;
		if (!strcmp(refs[i].name, ref) || !strcmp(refs[i].id, ref)) {
			*id = strdup(refs[i].id);
			assert_non_null(*id);
			return 0;
		}
	}
	snprintf(err, errlen, "no %s named '%s'", c->name, ref);
	return -EINVAL;
}

static const struct collection_def *coll(const char *name)
{
	const struct collection_def *c = collection_find(name);

	if (!c)
		fail_msg("no collection \"%s\"", name);
	return c;
}

static json_t *parse(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &jerr);

	if (!j)
		fail_msg("bad expected JSON in the test: %s: %s", text, jerr.text);
	return j;
}

/* ---- spec_build: bodies ---- */

struct build_case {
	const char *coll;
	const char *name;
	const char *spec;
	const char *want; /* the whole body, wrapper included */
	int lookups; /* resolver calls expected */
};

static const struct build_case build_cases[] = {
	/* servers: friendly names resolved in their own collections */
	{ "servers", "vm1",
	  "{\"image\": \"cirros\", \"flavor\": \"m1.tiny\", \"networks\": [\"private\"]}",
	  "{\"server\": {\"name\": \"vm1\", \"imageRef\": \"img-cirros-id\", \"flavorRef\": \"flv-tiny-id\","
	  " \"networks\": [{\"uuid\": \"net-private-id\"}]}}",
	  3 },
	/* ids are references too */
	{ "servers", "vm1",
	  "{\"image\": \"img-ubuntu-id\", \"flavor\": \"flv-small-id\", \"networks\": [\"net-public-id\"]}",
	  "{\"server\": {\"name\": \"vm1\", \"imageRef\": \"img-ubuntu-id\", \"flavorRef\": \"flv-small-id\","
	  " \"networks\": [{\"uuid\": \"net-public-id\"}]}}",
	  3 },
	/* network objects are passed through, names among them resolved */
	{ "servers", "vm1",
	  "{\"networks\": [{\"port\": \"p-1\"}, \"public\", {\"uuid\": \"u-2\", \"fixed_ip\": \"10.0.0.5\"}]}",
	  "{\"server\": {\"name\": \"vm1\", \"networks\": [{\"port\": \"p-1\"}, {\"uuid\": \"net-public-id\"},"
	  " {\"uuid\": \"u-2\", \"fixed_ip\": \"10.0.0.5\"}]}}",
	  1 },
	/* a single "network" becomes a one-element "networks" */
	{ "servers", "vm1", "{\"network\": \"private\"}",
	  "{\"server\": {\"name\": \"vm1\", \"networks\": [{\"uuid\": \"net-private-id\"}]}}", 1 },
	/* "networks" given as one string rather than a list */
	{ "servers", "vm1", "{\"networks\": \"public\"}",
	  "{\"server\": {\"name\": \"vm1\", \"networks\": [{\"uuid\": \"net-public-id\"}]}}", 1 },
	/* Nova's own shortcuts are not references */
	{ "servers", "vm1", "{\"networks\": \"auto\"}",
	  "{\"server\": {\"name\": \"vm1\", \"networks\": \"auto\"}}", 0 },
	{ "servers", "vm1", "{\"networks\": \"none\"}",
	  "{\"server\": {\"name\": \"vm1\", \"networks\": \"none\"}}", 0 },
	{ "servers", "vm1", "{\"network\": \"auto\"}",
	  "{\"server\": {\"name\": \"vm1\", \"networks\": \"auto\"}}", 0 },
	{ "servers", "vm1", "{\"network\": \"none\"}",
	  "{\"server\": {\"name\": \"vm1\", \"networks\": \"none\"}}", 0 },
	/* security group names → [{"name"}]; objects kept */
	{ "servers", "vm1", "{\"security_groups\": [\"default\", \"web\"]}",
	  "{\"server\": {\"name\": \"vm1\", \"security_groups\": [{\"name\": \"default\"}, {\"name\": \"web\"}]}}",
	  0 },
	{ "servers", "vm1", "{\"security_groups\": [{\"name\": \"ssh\"}, \"web\"]}",
	  "{\"server\": {\"name\": \"vm1\", \"security_groups\": [{\"name\": \"ssh\"}, {\"name\": \"web\"}]}}",
	  0 },
	/* one group may be given as a plain string */
	{ "servers", "vm1", "{\"security_groups\": \"default\"}",
	  "{\"server\": {\"name\": \"vm1\", \"security_groups\": [{\"name\": \"default\"}]}}", 0 },
	/* keys beside the wrapper (scheduler hints) stay beside it */
	{ "servers", "vm1",
	  "{\"server\": {\"flavorRef\": \"1\"}, \"os:scheduler_hints\": {\"group\": \"g\"}}",
	  "{\"server\": {\"name\": \"vm1\", \"flavorRef\": \"1\"}, \"os:scheduler_hints\": {\"group\": \"g\"}}",
	  0 },
	/* user_data that is already base64 is kept as written */
	{ "servers", "vm1", "{\"user_data\": \"IyEvYmluL3NoCmVjaG8gaGkK\"}",
	  "{\"server\": {\"name\": \"vm1\", \"user_data\": \"IyEvYmluL3NoCmVjaG8gaGkK\"}}", 0 },
	/* the API's own keys pass through untouched */
	{ "servers", "vm1", "{\"imageRef\": \"raw-image\", \"flavorRef\": \"1\", \"min_count\": 2}",
	  "{\"server\": {\"name\": \"vm1\", \"imageRef\": \"raw-image\", \"flavorRef\": \"1\", \"min_count\": 2}}",
	  0 },
	/* the wrapper key is accepted... */
	{ "servers", "vm1", "{\"server\": {\"image\": \"cirros\", \"flavor\": \"m1.tiny\"}}",
	  "{\"server\": {\"name\": \"vm1\", \"imageRef\": \"img-cirros-id\", \"flavorRef\": \"flv-tiny-id\"}}",
	  2 },
	/* ...and the file name wins over a "name" in the spec, wrapped or not */
	{ "servers", "vm1", "{\"server\": {\"name\": \"other\"}}",
	  "{\"server\": {\"name\": \"vm1\"}}", 0 },
	{ "servers", "vm1", "{\"name\": \"other\", \"flavor\": \"m1.tiny\"}",
	  "{\"server\": {\"name\": \"vm1\", \"flavorRef\": \"flv-tiny-id\"}}", 1 },
	/* empty and whitespace-only specs: just the name */
	{ "servers", "vm1", "", "{\"server\": {\"name\": \"vm1\"}}", 0 },
	{ "servers", "vm1", " \n\t\r\n ", "{\"server\": {\"name\": \"vm1\"}}", 0 },
	{ "networks", "net1", "\n", "{\"network\": {\"name\": \"net1\"}}", 0 },
	{ "networks", "net1", "{\"admin_state_up\": false}",
	  "{\"network\": {\"name\": \"net1\", \"admin_state_up\": false}}", 0 },
	{ "security_groups", "web", "", "{\"security_group\": {\"name\": \"web\"}}", 0 },
	{ "flavors", "f1", "{\"ram\": 512, \"vcpus\": 1, \"disk\": 1}",
	  "{\"flavor\": {\"name\": \"f1\", \"ram\": 512, \"vcpus\": 1, \"disk\": 1}}", 0 },

	/* floating IPs have no name, not even the file's */
	{ "floating_ips", "fip", "{\"network\": \"public\"}",
	  "{\"floatingip\": {\"floating_network_id\": \"net-public-id\"}}", 1 },
	{ "floating_ips", "fip", "{\"name\": \"x\", \"floating_network_id\": \"raw\"}",
	  "{\"floatingip\": {\"name\": \"x\", \"floating_network_id\": \"raw\"}}", 0 },
	{ "floating_ips", "fip", "", "{\"floatingip\": {}}", 0 },

	/* security group rules: the file name is the description; a port or
	 * a range, a CIDR remote (its ethertype follows) or a group's */
	{ "security_group_rules", "ssh",
	  "{\"group\": \"web\", \"port\": 22, \"remote\": \"0.0.0.0/0\"}",
	  "{\"security_group_rule\": {\"description\": \"ssh\", \"security_group_id\": \"sg-web-id\","
	  " \"remote_ip_prefix\": \"0.0.0.0/0\", \"port_range_min\": 22, \"port_range_max\": 22,"
	  " \"protocol\": \"tcp\", \"direction\": \"ingress\", \"ethertype\": \"IPv4\"}}",
	  1 },
	{ "security_group_rules", "web",
	  "{\"group\": \"web\", \"port\": \"8000:8080\", \"protocol\": \"udp\","
	  " \"remote\": \"2001:db8::/32\", \"direction\": \"egress\"}",
	  "{\"security_group_rule\": {\"description\": \"web\", \"security_group_id\": \"sg-web-id\","
	  " \"remote_ip_prefix\": \"2001:db8::/32\", \"protocol\": \"udp\", \"direction\": \"egress\","
	  " \"port_range_min\": 8000, \"port_range_max\": 8080, \"ethertype\": \"IPv6\"}}",
	  1 },
	{ "security_group_rules", "ping",
	  "{\"security_group_id\": \"raw\", \"protocol\": \"icmp\","
	  " \"remote\": \"default\"}",
	  "{\"security_group_rule\": {\"description\": \"ping\", \"security_group_id\": \"raw\","
	  " \"protocol\": \"icmp\", \"remote_group_id\": \"sg-default-id\", \"direction\": \"ingress\"}}",
	  1 },
	/* a port that is no port is left for Neutron to refuse */
	{ "security_group_rules", "bad", "{\"security_group_id\": \"raw\", \"port\": \"ssh\"}",
	  "{\"security_group_rule\": {\"description\": \"bad\", \"security_group_id\": \"raw\","
	  " \"port\": \"ssh\", \"direction\": \"ingress\"}}",
	  0 },

	/* keypairs: the file is the public key, its final newline(s) dropped */
	{ "keypairs", "k1", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG me@host\n",
	  "{\"keypair\": {\"name\": \"k1\", \"public_key\": \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG me@host\"}}",
	  0 },
	{ "keypairs", "k1", "ssh-rsa AAAAB3NzaC1yc2E me@host\r\n",
	  "{\"keypair\": {\"name\": \"k1\", \"public_key\": \"ssh-rsa AAAAB3NzaC1yc2E me@host\"}}",
	  0 },
	{ "keypairs", "k1", "ssh-rsa AAAAB3NzaC1yc2E",
	  "{\"keypair\": {\"name\": \"k1\", \"public_key\": \"ssh-rsa AAAAB3NzaC1yc2E\"}}", 0 },
	/* ...unless it is JSON, which is taken as JSON (wrapped or not) */
	{ "keypairs", "k1", "{\"public_key\": \"ssh-rsa AAAA x\", \"type\": \"ssh\"}\n",
	  "{\"keypair\": {\"name\": \"k1\", \"public_key\": \"ssh-rsa AAAA x\", \"type\": \"ssh\"}}",
	  0 },
	{ "keypairs", "k1", "{\"keypair\": {\"public_key\": \"ssh-rsa AAAA x\"}}",
	  "{\"keypair\": {\"name\": \"k1\", \"public_key\": \"ssh-rsa AAAA x\"}}", 0 },
	/* an empty keypair spec asks Nova to generate the key */
	{ "keypairs", "k1", "", "{\"keypair\": {\"name\": \"k1\"}}", 0 },

	/* stacks: a template is sent as the text written (YAML, comments, the
	 * final newline), bare: POST /stacks takes no wrapper */
	{ "stacks", "web", "heat_template_version: 2015-04-30\n# c\nresources: {}\n",
	  "{\"stack_name\": \"web\", \"template\": \"heat_template_version: 2015-04-30\\n# c\\nresources: {}\\n\"}",
	  0 },
	/* a JSON template too: text, not parsed into a spec */
	{ "stacks", "web", "{\"heat_template_version\": \"2015-04-30\",  \"resources\": {}}\n",
	  "{\"stack_name\": \"web\", \"template\": \"{\\\"heat_template_version\\\": \\\"2015-04-30\\\",  \\\"resources\\\": {}}\\n\"}",
	  0 },
	{ "stacks", "web", "{\"AWSTemplateFormatVersion\": \"2010-09-09\"}",
	  "{\"stack_name\": \"web\", \"template\": \"{\\\"AWSTemplateFormatVersion\\\": \\\"2010-09-09\\\"}\"}",
	  0 },
	/* a second YAML document is the environment, as written; a leading
	 * "---" opens the first */
	{ "stacks", "web", "---\nheat_template_version: 2015-04-30\n---\nparameters: {NetID: n}\n",
	  "{\"stack_name\": \"web\", \"template\": \"---\\nheat_template_version: 2015-04-30\\n\","
	  " \"environment\": \"parameters: {NetID: n}\\n\"}",
	  0 },
	{ "stacks", "web", "# t\nresources: {}\n--- # env\nparameters:\n  a: 1",
	  "{\"stack_name\": \"web\", \"template\": \"# t\\nresources: {}\\n\","
	  " \"environment\": \"parameters:\\n  a: 1\"}",
	  0 },
	/* "---" inside an indented block is not a document start */
	{ "stacks", "web", "a: |\n  ---\n  x\n",
	  "{\"stack_name\": \"web\", \"template\": \"a: |\\n  ---\\n  x\\n\"}", 0 },
	/* a JSON spec is the API's body, "timeout" its timeout_mins */
	{ "stacks", "web",
	  "{\"template\": \"t\", \"parameters\": {\"NetID\": \"n\"}, \"timeout\": 5}",
	  "{\"stack_name\": \"web\", \"template\": \"t\", \"parameters\": {\"NetID\": \"n\"},"
	  " \"timeout_mins\": 5}",
	  0 },

	/* volumes: image and type */
	{ "volumes", "v1", "{\"size\": 10, \"image\": \"cirros\", \"type\": \"ssd\"}",
	  "{\"volume\": {\"name\": \"v1\", \"size\": 10, \"imageRef\": \"img-cirros-id\", \"volume_type\": \"ssd\"}}",
	  1 },
	{ "volumes", "v1", "{\"size\": 1}", "{\"volume\": {\"name\": \"v1\", \"size\": 1}}", 0 },
	/* snapshots: volume → volume_id */
	{ "snapshots", "s1", "{\"volume\": \"data\", \"force\": true}",
	  "{\"snapshot\": {\"name\": \"s1\", \"volume_id\": \"vol-data-id\", \"force\": true}}",
	  1 },

	/* subnets: network, gateway, dhcp, dns; ip_version from the cidr */
	{ "subnets", "sn",
	  "{\"network\": \"private\", \"cidr\": \"10.0.0.0/24\", \"gateway\": \"10.0.0.1\","
	  " \"dhcp\": false, \"dns\": [\"8.8.8.8\", \"1.1.1.1\"]}",
	  "{\"subnet\": {\"name\": \"sn\", \"network_id\": \"net-private-id\", \"cidr\": \"10.0.0.0/24\","
	  " \"gateway_ip\": \"10.0.0.1\", \"enable_dhcp\": false, \"dns_nameservers\": [\"8.8.8.8\", \"1.1.1.1\"],"
	  " \"ip_version\": 4}}",
	  1 },
	{ "subnets", "sn6", "{\"network\": \"private\", \"cidr\": \"fd00:1::/64\"}",
	  "{\"subnet\": {\"name\": \"sn6\", \"network_id\": \"net-private-id\", \"cidr\": \"fd00:1::/64\","
	  " \"ip_version\": 6}}",
	  1 },
	/* a given ip_version is kept, whatever the cidr says */
	{ "subnets", "sn", "{\"network_id\": \"n\", \"cidr\": \"10.0.0.0/24\", \"ip_version\": 6}",
	  "{\"subnet\": {\"name\": \"sn\", \"network_id\": \"n\", \"cidr\": \"10.0.0.0/24\", \"ip_version\": 6}}",
	  0 },
	{ "subnets", "sn", "{\"network_id\": \"n\", \"subnetpool_id\": \"sp\", \"ip_version\": 6}",
	  "{\"subnet\": {\"name\": \"sn\", \"network_id\": \"n\", \"subnetpool_id\": \"sp\", \"ip_version\": 6}}",
	  0 },
	/* no cidr at all: IPv4 */
	{ "subnets", "sn", "{\"network\": \"public\"}",
	  "{\"subnet\": {\"name\": \"sn\", \"network_id\": \"net-public-id\", \"ip_version\": 4}}",
	  1 },

	/* ports: network → network_id; another collection's key is left alone */
	{ "ports", "p1", "{\"network\": \"public\", \"image\": \"cirros\"}",
	  "{\"port\": {\"name\": \"p1\", \"network_id\": \"net-public-id\", \"image\": \"cirros\"}}",
	  1 },

	/* routers: external_network → external_gateway_info.network_id */
	{ "routers", "r1", "{\"external_network\": \"public\"}",
	  "{\"router\": {\"name\": \"r1\", \"external_gateway_info\": {\"network_id\": \"net-public-id\"}}}",
	  1 },
	{ "routers", "r1", "", "{\"router\": {\"name\": \"r1\"}}", 0 },

	/* Glance has no wrapper: the body is bare */
	{ "images", "img", "{\"disk_format\": \"raw\"}",
	  "{\"name\": \"img\", \"disk_format\": \"raw\"}", 0 },
};

static void test_build_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(build_cases) / sizeof(build_cases[0]); i++) {
		const struct build_case *t = &build_cases[i];
		struct resolver r = { 0 };
		json_t *out = NULL, *want = parse(t->want);
		char err[256] = "";
		int rc = spec_build(coll(t->coll), t->name, t->spec, strlen(t->spec), fake_resolve,
				    &r, &out, err, sizeof(err));

		if (rc)
			fail_msg("case %zu (%s \"%s\"): spec_build = %d (%s): %s", i, t->coll,
				 t->spec, rc, strerror(-rc), err);
		assert_non_null(out);
		if (!json_equal(out, want)) {
			char *got = json_dumps(out, JSON_SORT_KEYS | JSON_COMPACT);
			char *exp = json_dumps(want, JSON_SORT_KEYS | JSON_COMPACT);

			fail_msg("case %zu (%s \"%s\"):\n got  %s\n want %s", i, t->coll, t->spec,
				 got, exp);
		}
		if (r.calls != t->lookups)
			fail_msg("case %zu (%s \"%s\"): %d lookups, want %d", i, t->coll, t->spec,
				 r.calls, t->lookups);
		json_decref(out);
		json_decref(want);
	}
}

/* The spec need not be NUL-terminated: only @len bytes are read. */
static void test_build_reads_len_bytes(void **state)
{
	static const char text[] = "{\"flavor\": \"m1.tiny\"}GARBAGE";
	struct resolver r = { 0 };
	json_t *out = NULL,
	       *want = parse("{\"server\": {\"name\": \"vm\", \"flavorRef\": \"flv-tiny-id\"}}");
	char err[256] = "";

	(void)state;
	assert_int_equal(spec_build(coll("servers"), "vm", text, strlen(text) - strlen("GARBAGE"),
				    fake_resolve, &r, &out, err, sizeof(err)),
			 0);
	assert_true(json_equal(out, want));
	json_decref(out);
	json_decref(want);
}

/* A name that is not UTF-8 cannot be a JSON string: EINVAL, saying so
 * (was ENOMEM, issue 11 defect 9). */
static void test_build_non_utf8_name(void **state)
{
	static const char text[] = "{\"flavor\": \"m1.tiny\"}";
	struct resolver r = { 0 };
	json_t *out = NULL;
	char err[256] = "";

	(void)state;
	assert_int_equal(spec_build(coll("servers"), "bad\xff", text, strlen(text), fake_resolve,
				    &r, &out, err, sizeof(err)),
			 -EINVAL);
	assert_null(out);
	assert_non_null(strstr(err, "UTF-8"));
}

/* ---- spec_build: user_data ---- */

static int b64_val(char ch)
{
	static const char alpha[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = ch ? strchr(alpha, ch) : NULL;

	return p ? (int)(p - alpha) : -1;
}

/* A strict decoder for the test's own use; *len is the decoded size. */
static unsigned char *b64_decode(const char *s, size_t *len)
{
	size_t n = strlen(s), o = 0;
	unsigned char *out;

	assert_int_equal(n % 4, 0);
	out = malloc(n / 4 * 3 + 1);
	assert_non_null(out);
	for (size_t i = 0; i < n; i += 4) {
		int a = b64_val(s[i]), b = b64_val(s[i + 1]);
		int c = s[i + 2] == '=' ? 0 : b64_val(s[i + 2]);
		int d = s[i + 3] == '=' ? 0 : b64_val(s[i + 3]);
		unsigned v;

		assert_true(a >= 0 && b >= 0 && c >= 0 && d >= 0);
		v = (unsigned)a << 18 | (unsigned)b << 12 | (unsigned)c << 6 | (unsigned)d;
		out[o++] = (unsigned char)(v >> 16);
		if (s[i + 2] != '=')
			out[o++] = (unsigned char)(v >> 8);
		if (s[i + 3] != '=')
			out[o++] = (unsigned char)v;
		/* Padding only at the very end. */
		if (s[i + 2] == '=' || s[i + 3] == '=')
			assert_int_equal(i + 4, n);
	}
	*len = o;
	return out;
}

static void test_build_user_data_plain(void **state)
{
	/* Plain text of every length mod 3, with newlines, quotes, UTF-8. */
	static const char *const scripts[] = {
		"#!/bin/sh\necho hello > /tmp/x\n",
		"#cloud-config\npackages:\n  - nginx\n",
		"#!/bin/sh\necho \"h\xc3\xa9llo\" \\\n  | tee /tmp/y\n",
		"a b",
		"a b\n",
		"a b\n\n",
		"x",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
		struct resolver r = { 0 };
		json_t *spec = json_pack("{ss}", "user_data", scripts[i]);
		char *text = json_dumps(spec, 0);
		json_t *out = NULL, *server;
		const char *ud;
		unsigned char *raw;
		size_t rawlen;
		char err[256] = "";

		assert_non_null(text);
		assert_int_equal(spec_build(coll("servers"), "vm", text, strlen(text), fake_resolve,
					    &r, &out, err, sizeof(err)),
				 0);
		server = json_object_get(out, "server");
		assert_non_null(server);
		ud = json_string_value(json_object_get(server, "user_data"));
		assert_non_null(ud);
		assert_true(spec_is_base64(ud));
		raw = b64_decode(ud, &rawlen);
		if (rawlen != strlen(scripts[i]) || memcmp(raw, scripts[i], rawlen))
			fail_msg("script %zu: user_data \"%s\" does not decode to the script", i,
				 ud);
		free(raw);
		free(text);
		json_decref(spec);
		json_decref(out);
	}
}

/* ---- spec_build: errors ---- */

struct build_err_case {
	const char *coll;
	const char *spec;
	int rc;
	const char *msg; /* a substring of the message */
};

static const struct build_err_case build_err_cases[] = {
	/* not JSON: where the parser stopped */
	{ "servers", "{\"image\": }", -EINVAL, "line 1, column" },
	{ "servers", "{\n  \"image\": \"cirros\",\n  \"flavor\" \"m1.tiny\"\n}", -EINVAL,
	  "line 3, column" },
	{ "servers", "image: cirros\n", -EINVAL, "not valid JSON" },
	{ "servers", "\"cirros\"", -EINVAL, "not valid JSON" },
	{ "volumes", "{\"size\": 1", -EINVAL, "not valid JSON" },
	/* JSON, but not an object */
	{ "servers", "[{\"image\": \"cirros\"}]", -EINVAL, "JSON object" },
	{ "servers", "[]", -EINVAL, "JSON object" },
	{ "keypairs", "[\"ssh-rsa AAAA\"]", -EINVAL, "JSON object" },
	/* duplicate keys are refused, not silently merged */
	{ "servers", "{\"image\": \"cirros\", \"image\": \"ubuntu\"}", -EINVAL, "duplicate" },
	{ "subnets", "{\"cidr\": \"10.0.0.0/24\", \"cidr\": \"fd00::/64\"}", -EINVAL, "duplicate" },
	/* the resolver's errors, with its message */
	{ "servers", "{\"image\": \"nosuch\"}", -EINVAL, "no images named 'nosuch'" },
	{ "servers", "{\"flavor\": \"cirros\"}", -EINVAL, "no flavors named 'cirros'" },
	{ "servers", "{\"image\": \"" REF_AMBIGUOUS "\"}", -EINVAL, "more than one of images" },
	{ "servers", "{\"flavor\": \"" REF_BROKEN "\"}", -EIO, "did not answer" },
	{ "servers", "{\"networks\": [\"private\", \"nosuch\"]}", -EINVAL,
	  "no networks named 'nosuch'" },
	{ "servers", "{\"network\": \"" REF_AMBIGUOUS "\"}", -EINVAL, "more than one of networks" },
	{ "volumes", "{\"image\": \"" REF_BROKEN "\"}", -EIO, "did not answer" },
	{ "snapshots", "{\"volume\": \"nosuch\"}", -EINVAL, "no volumes named 'nosuch'" },
	{ "subnets", "{\"network\": \"" REF_AMBIGUOUS "\"}", -EINVAL, "more than one of networks" },
	{ "ports", "{\"network\": \"nosuch\"}", -EINVAL, "no networks named 'nosuch'" },
	{ "routers", "{\"external_network\": \"" REF_BROKEN "\"}", -EIO, "did not answer" },
	{ "routers", "{\"external_network\": \"nosuch\"}", -EINVAL, "no networks named 'nosuch'" },
	{ "floating_ips", "{\"network\": \"" REF_AMBIGUOUS "\"}", -EINVAL, "more than one" },
	/* wrongly typed friendly keys */
	{ "servers", "{\"image\": 5}", -EINVAL, "\"image\" must be a name or an id" },
	{ "servers", "{\"networks\": [\"private\", 7]}", -EINVAL,
	  "\"networks\" must be a name or an id" },
	{ "servers", "{\"security_groups\": 7}", -EINVAL, "\"security_groups\" must be a list" },
	{ "servers", "{\"user_data\": 42}", -EINVAL, "\"user_data\" must be text" },
	{ "routers", "{\"external_network\": {\"id\": \"x\"}}", -EINVAL,
	  "must be a name or an id" },
};

static void test_build_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(build_err_cases) / sizeof(build_err_cases[0]); i++) {
		const struct build_err_case *t = &build_err_cases[i];
		struct resolver r = { 0 };
		json_t *out = NULL;
		char err[256] = "";
		int rc = spec_build(coll(t->coll), "x", t->spec, strlen(t->spec), fake_resolve, &r,
				    &out, err, sizeof(err));

		if (rc != t->rc)
			fail_msg("case %zu (%s \"%s\"): spec_build = %d, want %d (%s)", i, t->coll,
				 t->spec, rc, t->rc, strerror(-t->rc));
		if (!strstr(err, t->msg))
			fail_msg("case %zu (%s \"%s\"): message \"%s\" lacks \"%s\"", i, t->coll,
				 t->spec, err, t->msg);
		/* No body on failure. */
		assert_null(out);
	}
}

/* ---- spec_value ---- */

struct value_case {
	const char *current; /* JSON */
	const char *text;
	int rc;
	const char *want; /* JSON when rc == 0, else a substring of the message */
};

static const struct value_case value_cases[] = {
	/* strings: ONE final newline is dropped */
	{ "\"old\"", "new\n", 0, "\"new\"" },
	{ "\"old\"", "new", 0, "\"new\"" },
	{ "\"old\"", "new\n\n", 0, "\"new\\n\"" },
	{ "\"old\"", "two\nlines\n", 0, "\"two\\nlines\"" },
	{ "\"old\"", "\n", 0, "\"\"" },
	{ "\"old\"", "", 0, "\"\"" },
	{ "\"old\"", " padded \n", 0, "\" padded \"" },
	/* a string stays a string whatever it looks like */
	{ "\"old\"", "42\n", 0, "\"42\"" },
	{ "\"old\"", "null", 0, "\"null\"" },
	{ "\"old\"", "\xff\xfe\n", -EINVAL, "UTF-8" },
	/* numbers */
	{ "5", "42\n", 0, "42" },
	{ "5", "42", 0, "42" },
	{ "5", "-3", 0, "-3" },
	{ "5", "2.5\n", 0, "2.5" },
	{ "1.5", "7\n", 0, "7" },
	{ "5", "abc\n", -EINVAL, "expected a number" },
	{ "5", "true\n", -EINVAL, "expected a number" },
	{ "5", "\"42\"", -EINVAL, "expected a number" },
	{ "5", "", -EINVAL, "expected a number" },
	{ "5", "42 43", -EINVAL, "expected a number" },
	/* booleans */
	{ "true", "false\n", 0, "false" },
	{ "false", "true", 0, "true" },
	{ "true", "1\n", -EINVAL, "expected true or false" },
	{ "false", "yes\n", -EINVAL, "expected true or false" },
	{ "true", "\"false\"", -EINVAL, "expected true or false" },
	{ "true", "", -EINVAL, "expected true or false" },
	/* null: "" is null again, anything else a string */
	{ "null", "", 0, "null" },
	{ "null", "\n", 0, "null" },
	{ "null", "text\n", 0, "\"text\"" },
};

static void test_value_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(value_cases) / sizeof(value_cases[0]); i++) {
		const struct value_case *t = &value_cases[i];
		json_t *current = parse(t->current), *out = NULL;
		char err[256] = "";
		int rc = spec_value(current, t->text, strlen(t->text), &out, err, sizeof(err));

		if (rc != t->rc)
			fail_msg("case %zu (%s, \"%s\"): spec_value = %d, want %d (%s)", i,
				 t->current, t->text, rc, t->rc, err);
		if (rc == 0) {
			json_t *want = parse(t->want);

			if (!json_equal(out, want)) {
				char *got = json_dumps(out, JSON_ENCODE_ANY);

				fail_msg("case %zu (%s, \"%s\"): got %s, want %s", i, t->current,
					 t->text, got, t->want);
			}
			/* 2 and 2.0 are json_equal-different, but check the kind. */
			assert_int_equal(json_typeof(out), json_typeof(want));
			json_decref(want);
			json_decref(out);
		} else if (!strstr(err, t->want)) {
			fail_msg("case %zu (%s, \"%s\"): message \"%s\" lacks \"%s\"", i,
				 t->current, t->text, err, t->want);
		}
		json_decref(current);
	}
}

/* Only @len bytes are read, and the newline stripped is the one at @len. */
static void test_value_reads_len_bytes(void **state)
{
	json_t *cur = json_string("old"), *out = NULL;
	char err[64];

	(void)state;
	assert_int_equal(spec_value(cur, "abc\nXYZ", 4, &out, err, sizeof(err)), 0);
	assert_string_equal(json_string_value(out), "abc");
	json_decref(out);
	json_decref(cur);
}

/* ---- base64 ---- */

static void test_base64_rfc4648(void **state)
{
	/* RFC 4648 section 10. */
	static const struct {
		const char *in, *out;
	} v[] = {
		{ "", "" },
		{ "f", "Zg==" },
		{ "fo", "Zm8=" },
		{ "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char *enc = spec_base64((const unsigned char *)v[i].in, strlen(v[i].in));

		assert_non_null(enc);
		if (strcmp(enc, v[i].out))
			fail_msg("base64(\"%s\") = \"%s\", want \"%s\"", v[i].in, enc, v[i].out);
		/* Every non-empty encoding is recognised as base64. */
		if (*v[i].in)
			assert_true(spec_is_base64(enc));
		free(enc);
	}
}

/* Bytes that are not text, and the alphabet's last two characters. */
static void test_base64_binary(void **state)
{
	static const unsigned char bin[] = { 0x00, 0xff, 0xfe, 0xfb, 0xef, 0xbf, 0x00 };
	unsigned char all[256];
	char *enc;
	unsigned char *dec;
	size_t len;

	(void)state;
	enc = spec_base64(bin, sizeof(bin));
	assert_string_equal(enc, "AP/++++/AA==");
	free(enc);

	for (size_t i = 0; i < sizeof(all); i++)
		all[i] = (unsigned char)i;
	for (size_t n = 0; n <= sizeof(all); n++) {
		enc = spec_base64(all, n);
		assert_non_null(enc);
		assert_int_equal(strlen(enc), (n + 2) / 3 * 4);
		dec = b64_decode(enc, &len);
		assert_int_equal(len, n);
		assert_memory_equal(dec, all, n);
		free(dec);
		free(enc);
	}
}

static void test_is_base64(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} cases[] = {
		{ "Zg==", true },
		{ "Zm8=", true },
		{ "Zm9v", true },
		{ "Zm9vYmFy", true },
		{ "AP/++++/AA==", true },
		{ "IyEvYmluL3NoCmVjaG8gaGkK", true },
		/* bad length */
		{ "", false },
		{ "Z", false },
		{ "Zm9", false },
		{ "Zm9vY", false },
		{ "Zg=", false },
		{ "Zg===", false },
		/* bad characters */
		{ "Zm 9", false },
		{ "Zm9v\n", false },
		{ "Zm9\n", false },
		{ "Zm-_", false }, /* the URL-safe alphabet is not Nova's */
		{ "Zm9*", false },
		{ "Zm\xc3\xa9", false },
		/* padding only at the end, at most two */
		{ "Zm=v", false },
		{ "Zg=a", false },
		{ "=Zm9", false },
		{ "Z===", false },
		{ "====", false },
		{ "Zg==Zm9v", false },
		{ "Zm9vYg=a", false },
		{ "Zm9v====", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (spec_is_base64(cases[i].s) != cases[i].ok)
			fail_msg("spec_is_base64(\"%s\") = %d, want %d", cases[i].s, !cases[i].ok,
				 cases[i].ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_table),
		cmocka_unit_test(test_build_reads_len_bytes),
		cmocka_unit_test(test_build_non_utf8_name),
		cmocka_unit_test(test_build_user_data_plain),
		cmocka_unit_test(test_build_errors),
		cmocka_unit_test(test_value_table),
		cmocka_unit_test(test_value_reads_len_bytes),
		cmocka_unit_test(test_base64_rfc4648),
		cmocka_unit_test(test_base64_binary),
		cmocka_unit_test(test_is_base64),
	};

	return cmocka_run_group_tests_name("test_spec", tests, NULL, NULL);
}
