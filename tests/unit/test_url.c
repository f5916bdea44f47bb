/* SPDX-License-Identifier: MIT */
/* The same-origin check (src/http/url.c): which URLs from a response a token may
 * follow. Each row is a URL a hostile cloud could send. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cloudfs/url.h"

static void test_origin_parts(void **state)
{
	struct url_origin o;

	(void)state;
	assert_int_equal(url_origin("HTTP://Example.COM/x", &o), 0);
	assert_false(o.https);
	assert_string_equal(o.host, "example.com");
	assert_int_equal(o.port, 80);
	assert_int_equal(url_origin("https://h:8443?q#f", &o), 0);
	assert_true(o.https);
	assert_int_equal(o.port, 8443);
	assert_int_equal(url_origin("https://h", &o), 0);
	assert_int_equal(o.port, 443);
	assert_int_equal(url_origin("http://h:/p", &o), 0);
	assert_int_equal(o.port, 80);
	assert_int_equal(url_origin("http://[::1]:5000/v3", &o), 0);
	assert_string_equal(o.host, "[::1]");
	assert_int_equal(o.port, 5000);
}

static void test_origin_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"h/x",
		"/relative",
		"ftp://h/",
		"file:///etc/passwd",
		"gopher://h:70/",
		"http://",
		"http:///x",
		"http://:80/x",
		"http://user@h/x",
		"http://h:80@evil/x",
		"http://h%2eevil/x",
		"http://h\\@evil/x",
		"http://h /x",
		"http://h\r\nX-Injected: 1",
		"http://h/x\ty",
		"http://h:0/x",
		"http://h:65536/x",
		"http://h:123456/x",
		"http://h:80a/x",
		"http://h:-1/x",
		"http://[::1/x",
		"http://[]/x",
		"http://[::1%25eth0]/x",
		"http://\xc3\xa9vil.example/x",
		"http://h\x7f/x",
	};
	struct url_origin o;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (url_origin(bad[i], &o) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
	/* A host longer than any DNS name. */
	char big[600] = "http://";

	memset(big + 7, 'a', 400);
	assert_int_equal(url_origin(big, &o), -EINVAL);
}

static void test_same_origin(void **state)
{
	(void)state;
	assert_true(url_same_origin("http://h:8774/v2.1", "http://h:8774/other?x"));
	assert_true(url_same_origin("http://h/image", "HTTP://H:80/v2/images"));
	assert_true(url_same_origin("https://h/", "https://h:443"));
	assert_false(url_same_origin("http://h:8774", "http://h:8775"));
	assert_false(url_same_origin("http://h", "https://h"));
	assert_false(url_same_origin("http://h:443", "https://h"));
	assert_false(url_same_origin("http://127.0.0.1", "http://127.0.0.2"));
	/* Spellings of one address are not taken as the same host. */
	assert_false(url_same_origin("http://127.0.0.1", "http://127.1"));
	assert_false(url_same_origin("http://h", "http://h."));
	assert_false(url_same_origin("http://h", "garbage"));
	assert_false(url_same_origin("garbage", "garbage"));
}

static void expect_resolve(const char *endpoint, const char *link, int want_rc, const char *want)
{
	char *got = (char *)"unset";
	int rc = url_resolve(endpoint, link, &got);

	if (rc != want_rc)
		fail_msg("url_resolve(%s, %s) = %d, want %d", endpoint, link, rc, want_rc);
	if (!want) {
		assert_null(got);
		return;
	}
	assert_string_equal(got, want);
	free(got);
}

static void test_resolve(void **state)
{
	(void)state;
	/* Glance: relative to the endpoint, path prefix kept. */
	expect_resolve("http://h/image", "/v2/images?marker=m", 0,
		       "http://h/image/v2/images?marker=m");
	expect_resolve("http://h/image/", "/v2/images", 0, "http://h/image/v2/images");
	expect_resolve("http://h:9292", "v2/images", 0, "http://h:9292/v2/images");
	/* "//host" is a path under the endpoint here, never another host. */
	expect_resolve("http://h:9292", "//evil/x", 0, "http://h:9292//evil/x");
	expect_resolve("http://h:9292", "/@evil/x", 0, "http://h:9292/@evil/x");
	/* Absolute: only on the endpoint's origin. */
	expect_resolve("http://h:8774/v2.1", "http://h:8774/v2.1/servers?marker=m", 0,
		       "http://h:8774/v2.1/servers?marker=m");
	expect_resolve("http://h:8774/v2.1", "http://evil:8774/v2.1/servers", -EINVAL, NULL);
	expect_resolve("http://h:8774/v2.1", "https://h:8774/v2.1/servers", -EINVAL, NULL);
	expect_resolve("http://h:8774/v2.1", "javascript:alert(1)", -EINVAL, NULL);
	expect_resolve("http://h:8774/v2.1", "file:///etc/passwd", -EINVAL, NULL);
	/* Control bytes in a relative link. */
	expect_resolve("http://h:9292", "/v2/images\r\nX-Evil: 1", -EINVAL, NULL);
}

static void expect_redirect(const char *from, const char *location, int want_rc, const char *want)
{
	char *got = (char *)"unset";
	int rc = url_redirect(from, location, &got);

	if (rc != want_rc)
		fail_msg("url_redirect(%s, %s) = %d, want %d", from, location, rc, want_rc);
	if (!want) {
		assert_null(got);
		return;
	}
	assert_string_equal(got, want);
	free(got);
}

/* Heat's 302 from /stacks/<id> to /stacks/<name>/<id>: followed on the
 * answering URL's origin only. */
static void test_redirect(void **state)
{
	(void)state;
	expect_redirect("http://h:8004/v1/p/stacks/i", "http://h:8004/v1/p/stacks/web/i", 0,
			"http://h:8004/v1/p/stacks/web/i");
	expect_redirect("http://H:8004/v1/p/stacks/i", "http://h:8004/x?y=1", 0,
			"http://h:8004/x?y=1");
	expect_redirect("http://h/v1/p/stacks/i", "/v1/p/stacks/web/i", 0,
			"http://h/v1/p/stacks/web/i");
	expect_redirect("https://h:13004/a/b", "/c", 0, "https://h:13004/c");
	/* another host, port or scheme; scheme-relative; relative; junk */
	expect_redirect("http://h:8004/v1/p/stacks/i", "http://evil:8004/v1", -EINVAL, NULL);
	expect_redirect("http://h:8004/v1", "http://h:8005/v1", -EINVAL, NULL);
	expect_redirect("http://h:8004/v1", "https://h:8004/v1", -EINVAL, NULL);
	expect_redirect("http://h:8004/v1", "//evil/v1", -EINVAL, NULL);
	expect_redirect("http://h:8004/v1/a", "b", -EINVAL, NULL);
	expect_redirect("http://h:8004/v1", "", -EINVAL, NULL);
	expect_redirect("http://h:8004/v1", "http://h@evil:8004/", -EINVAL, NULL);
	expect_redirect("http://h:8004/v1", "/x\r\nX-Evil: 1", -EINVAL, NULL);
	expect_redirect("http://h:8004/v1", "file:///etc/passwd", -EINVAL, NULL);
}

static void test_query_param(void **state)
{
	size_t len = 0;
	const char *v;

	(void)state;
	v = url_query_param("http://h/x?limit=2&marker=abc&y=1", "marker", &len);
	assert_non_null(v);
	assert_int_equal(len, 3);
	assert_memory_equal(v, "abc", 3);
	v = url_query_param("http://h/x?marker=&y", "marker", &len);
	assert_non_null(v);
	assert_int_equal(len, 0);
	assert_null(url_query_param("http://h/x?xmarker=1", "marker", &len));
	assert_null(url_query_param("http://h/marker=1", "marker", &len));
	assert_null(url_query_param("http://h/x?a=1#marker=2", "marker", &len));
	assert_null(url_query_param("http://h/x?marker", "marker", &len));
	v = url_query_param("http://h/x?a&&marker=z#f", "marker", &len);
	assert_non_null(v);
	assert_int_equal(len, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_origin_parts), cmocka_unit_test(test_origin_refused),
		cmocka_unit_test(test_same_origin),  cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_redirect),     cmocka_unit_test(test_query_param),
	};

	return cmocka_run_group_tests_name("test_url", tests, NULL, NULL);
}
