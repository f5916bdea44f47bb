/* SPDX-License-Identifier: MIT */
/* HTTP status / curl code -> errno, and the cloud's message (errmap.h). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <curl/curl.h>

#include "cloudfs/errmap.h"
#include "unit_fixtures.h"

struct http_case {
	long status;
	const char *body;
	int err;
};

static const struct http_case http_cases[] = {
	{ 200, NULL, 0 },
	{ 201, "{}", 0 },
	{ 202, NULL, 0 },
	{ 204, NULL, 0 },
	{ 400, "{\"badRequest\": {\"message\": \"Invalid input\"}}", -EINVAL },
	{ 400, NULL, -EINVAL },
	{ 400, "Bad Request", -EINVAL },
	/* Cinder refuses to delete a volume in the wrong state with a 400. */
	{ 400,
	  "{\"badRequest\": {\"code\": 400, \"message\": \"Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.\"}}",
	  -EBUSY },
	{ 401, NULL, -EACCES },
	{ 403, NULL, -EACCES },
	{ 403,
	  "{\"forbidden\": {\"message\": \"Policy doesn't allow os_compute_api:servers:create\"}}",
	  -EACCES },
	/* A policy refusal of a quota API is no over-quota answer. */
	{ 403,
	  "{\"forbidden\": {\"code\": 403, \"message\": \"Policy doesn't allow os_compute_api:os-quota-sets:update to be performed.\"}}",
	  -EACCES },
	/* Nova/Cinder over-quota answers. */
	{ 403,
	  "{\"forbidden\": {\"code\": 403, \"message\": \"Quota exceeded for cores: Requested 4, but already used 20 of 20 cores\"}}",
	  -EDQUOT },
	{ 403, "Quota exceeded", -EDQUOT },
	{ 404, NULL, -ENOENT },
	{ 404, "{\"itemNotFound\": {\"message\": \"x\"}}", -ENOENT },
	{ 409, NULL, -EBUSY },
	{ 409,
	  "{\"conflictingRequest\": {\"message\": \"Cannot 'delete' instance while it is in task_state migrating\"}}",
	  -EBUSY },
	{ 409, "{\"NeutronError\": {\"type\": \"InUse\", \"message\": \"Network x is in use\"}}",
	  -EBUSY },
	{ 409, "Image with identifier abc already exists!", -EEXIST },
	/* Neutron's over-quota answer is a 409. */
	{ 409,
	  "{\"NeutronError\": {\"type\": \"OverQuota\", \"message\": \"Quota exceeded for resources: ['network'].\", \"detail\": \"\"}}",
	  -EDQUOT },
	{ 409,
	  "{\"conflictingRequest\": {\"code\": 409, \"message\": \"Key pair 'x' already exists.\"}}",
	  -EEXIST },
	{ 409, "Key pair 'x' already exists.", -EEXIST },
	{ 409, "{\"NeutronError\": {\"message\": \"Security group rule Already Exists\"}}",
	  -EEXIST },
	{ 413, NULL, -EFBIG },
	{ 413, "Request Entity Too Large", -EFBIG },
	{ 413, "{\"overLimit\": {\"message\": \"Quota exceeded for ram\"}}", -EDQUOT },
	{ 429, NULL, -EAGAIN },
	{ 503, NULL, -EAGAIN },
	{ 500, NULL, -EIO },
	{ 500, "Quota exceeded", -EIO }, /* the body only refines 403/409/413 */
	{ 502, NULL, -EIO },
	{ 504, NULL, -ETIMEDOUT },
	{ 405, NULL, -EOPNOTSUPP },
	{ 501, NULL, -EOPNOTSUPP },
	{ 418, NULL, -EIO },
	{ 599, NULL, -EIO },
};

static void test_http_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(http_cases) / sizeof(http_cases[0]); i++) {
		const struct http_case *c = &http_cases[i];
		int got = errmap_http(c->status, c->body);

		if (got != c->err)
			fail_msg("errmap_http(%ld, %s) = %d (%s), want %d (%s)", c->status,
				 c->body ? c->body : "NULL", got, strerror(-got), c->err,
				 strerror(-c->err));
	}
}

/* Every error status maps to a negative errno, never to 0 or a positive. */
static void test_http_errors_are_negative(void **state)
{
	(void)state;
	for (long s = 400; s < 600; s++)
		if (errmap_http(s, NULL) >= 0)
			fail_msg("errmap_http(%ld) = %d, want < 0", s, errmap_http(s, NULL));
	for (long s = 200; s < 300; s++)
		assert_int_equal(errmap_http(s, NULL), 0);
}

static void test_http_retryable(void **state)
{
	static const long yes[] = { 429, 500, 502, 503, 504 };
	static const long no[] = { 200, 201, 204, 400, 401, 403, 404, 405, 409, 413, 501 };

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (!errmap_http_retryable(yes[i]))
			fail_msg("%ld should be retryable", yes[i]);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (errmap_http_retryable(no[i]))
			fail_msg("%ld should not be retryable", no[i]);
}

struct curl_case {
	CURLcode code;
	int err;
	bool retry;
};

static const struct curl_case curl_cases[] = {
	{ CURLE_OK, 0, false },
	{ CURLE_OPERATION_TIMEDOUT, -ETIMEDOUT, false },
	{ CURLE_COULDNT_RESOLVE_HOST, -EHOSTUNREACH, false },
	{ CURLE_COULDNT_RESOLVE_PROXY, -EHOSTUNREACH, false },
	{ CURLE_COULDNT_CONNECT, -ECONNREFUSED, true },
	{ CURLE_ABORTED_BY_CALLBACK, -EINTR, false },
	{ CURLE_PEER_FAILED_VERIFICATION, -EPROTO, false },
	{ CURLE_SSL_CONNECT_ERROR, -EPROTO, false },
	{ CURLE_SSL_CACERT_BADFILE, -EPROTO, false },
	{ CURLE_FILESIZE_EXCEEDED, -EFBIG, false },
	{ CURLE_WRITE_ERROR, -EFBIG, false },
	{ CURLE_OUT_OF_MEMORY, -ENOMEM, false },
	{ CURLE_SEND_ERROR, -ECONNRESET, true },
	{ CURLE_RECV_ERROR, -ECONNRESET, true },
	{ CURLE_GOT_NOTHING, -ECONNRESET, true },
	{ CURLE_PARTIAL_FILE, -ECONNRESET, true },
	{ CURLE_UNSUPPORTED_PROTOCOL, -EIO, false },
	{ CURLE_URL_MALFORMAT, -EIO, false },
	{ CURLE_TOO_MANY_REDIRECTS, -EIO, false },
};

static void test_curl_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(curl_cases) / sizeof(curl_cases[0]); i++) {
		const struct curl_case *c = &curl_cases[i];

		if (errmap_curl((int)c->code) != c->err)
			fail_msg("errmap_curl(%d: %s) = %d, want %d", (int)c->code,
				 curl_easy_strerror(c->code), errmap_curl((int)c->code), c->err);
		if (errmap_curl_retryable((int)c->code) != c->retry)
			fail_msg("errmap_curl_retryable(%d: %s) != %d", (int)c->code,
				 curl_easy_strerror(c->code), c->retry);
	}
	/* The numeric values really are the CURLcode ABI (the header says the
	 * code is passed as int). */
	assert_int_equal(errmap_curl(28), -ETIMEDOUT); /* CURLE_OPERATION_TIMEDOUT */
	assert_int_equal(errmap_curl(7), -ECONNREFUSED); /* CURLE_COULDNT_CONNECT */
	assert_int_equal(errmap_curl(6), -EHOSTUNREACH); /* CURLE_COULDNT_RESOLVE_HOST */
}

struct msg_case {
	const char *fixture;
	const char *msg;
};

/* The messages as they appear in the captured Zed bodies. */
static const struct msg_case msg_cases[] = {
	{ "nova-server-404.json",
	  "Instance 00000000-0000-0000-0000-000000000000 could not be found." },
	{ "neutron-network-404.json",
	  "Network 00000000-0000-0000-0000-000000000000 could not be found." },
	{ "cinder-volume-404.json",
	  "Volume 00000000-0000-0000-0000-000000000000 could not be found." },
	{ "keystone-auth-badpass.json", "The request you have made requires authentication." },
	{ "nova-server-create-bad-request.json",
	  "Invalid input for field/attribute networks. Value: none. 'none' is not of type 'array'" },
	{ "glance-image-404.body", "No image found with ID 00000000-0000-0000-0000-000000000000" },
};

static void test_cloud_message_fixtures(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(msg_cases) / sizeof(msg_cases[0]); i++) {
		size_t len;
		char *body = fixture_read(msg_cases[i].fixture, &len);
		char out[512];

		memset(out, 'X', sizeof(out));
		errmap_cloud_message(body, len, out, sizeof(out));
		if (strcmp(out, msg_cases[i].msg))
			fail_msg("%s: got \"%s\", want \"%s\"", msg_cases[i].fixture, out,
				 msg_cases[i].msg);
		free(body);
	}
}

static void test_cloud_message_other(void **state)
{
	static const struct {
		const char *body, *msg;
	} cases[] = {
		{ "{\"message\": \"bare message\"}", "bare message" },
		/* Multi-line text is folded onto one line. */
		{ "line one\n  line two\r\n\tthree\n", "line one line two three" },
		{ "{\"error\": {\"message\": \"a\\nb\"}}", "a b" },
		/* JSON without any message: the body itself, on one line. */
		{ "{\"x\": 1}", "{\"x\": 1}" },
		{ "", "" },
	};
	char out[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		errmap_cloud_message(cases[i].body, strlen(cases[i].body), out, sizeof(out));
		assert_string_equal(out, cases[i].msg);
	}
	errmap_cloud_message(NULL, 0, out, sizeof(out));
	assert_string_equal(out, "");
}

static void test_cloud_message_truncates(void **state)
{
	char out[16];
	size_t len;
	char *body = fixture_read("nova-server-404.json", &len);

	(void)state;
	memset(out, 'X', sizeof(out));
	errmap_cloud_message(body, len, out, sizeof(out));
	assert_int_equal(strlen(out), sizeof(out) - 1);
	assert_memory_equal(out, "Instance 0000000", sizeof(out) - 1);
	free(body);
}

/* Whatever the buffer size, the message is a prefix of the untruncated one:
 * truncation must not glue two words together. */
static void test_cloud_message_truncation_is_prefix(void **state)
{
	static const char *const bodies[] = {
		"ab cd ef",
		"{\"error\": {\"message\": \"The request  you have\\nmade\"}}",
		"x  y\n\nz",
	};
	char full[256], part[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		errmap_cloud_message(bodies[i], strlen(bodies[i]), full, sizeof(full));
		for (size_t outlen = 1; outlen <= strlen(full) + 1; outlen++) {
			errmap_cloud_message(bodies[i], strlen(bodies[i]), part, outlen);
			assert_true(strlen(part) < outlen);
			if (strncmp(part, full, strlen(part)))
				fail_msg("outlen %zu: \"%s\" is not a prefix of \"%s\"", outlen,
					 part, full);
		}
	}
}

/* Only @len bytes are the body: an HTML page beyond them is not read
 * (found by tests/fuzz/fuzz_errmap: strcasestr() ran past the body). */
static void test_cloud_message_reads_len_bytes(void **state)
{
	static const char mem[] = "plain error<html><body>other</body></html>";
	char out[128];

	(void)state;
	errmap_cloud_message(mem, strlen("plain error"), out, sizeof(out));
	assert_string_equal(out, "plain error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_table),
		cmocka_unit_test(test_http_errors_are_negative),
		cmocka_unit_test(test_http_retryable),
		cmocka_unit_test(test_curl_table),
		cmocka_unit_test(test_cloud_message_fixtures),
		cmocka_unit_test(test_cloud_message_other),
		cmocka_unit_test(test_cloud_message_truncates),
		cmocka_unit_test(test_cloud_message_truncation_is_prefix),
		cmocka_unit_test(test_cloud_message_reads_len_bytes),
	};

	return cmocka_run_group_tests_name("test_errmap", tests, NULL, NULL);
}
