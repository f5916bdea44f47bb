/* SPDX-License-Identifier: MIT */
/*
 * The core as the mount drives it, without FUSE and without a network: the
 * real registry (Nova's servers row), the real api layer and login, over
 * the fake transport (fake_transport.h) and a frozen clock. Three parts:
 * - the store: a document is fetched once per TTL, a missing one is
 *   remembered for the negative TTL, a busy one is re-read sooner, and a
 *   refetch returns the set of what changed (added, removed, changed
 *   members; nothing for the same answer) and tells no one, and the
 *   getters hand that set to the project's notify hook;
 * - node resolution (model_resolve()): a collection, a member by id and by
 *   unique name, an attribute, what is missing, a name two members share;
 * - open files (handle.h): ESTALE when a version changed under its name,
 *   a JSON spec sent by the write that completes it (its error that
 *   write's), broken JSON refused at once and never sent, text sent at
 *   flush (its error at close), a refused value never sent again, a second
 *   flush (a dup'ed descriptor) committing nothing, one create per pending
 *   name, commands run per line at write(2), a "wait" file's read parked
 *   until its status comes, a tree's file refused without O_TRUNC.
 */
#include <fcntl.h>
#include <limits.h>

#include "cloudfs/clock.h"
#include "cloudfs/handle.h"
#include "cloudfs/inodes.h"
#include "cloudfs/model.h"
#include "cloudfs/service.h"
#include "../../src/core/model_int.h"
#include "fake_transport.h"

#define NOVA FAKE_NOVA
#define T0 1000000 /* the frozen monotonic clock at the start, ms */
#define TTL_MS 60000
#define NEG_TTL_MS 1000

#define S1 "11111111-1111-4111-8111-111111111111"
#define S2 "22222222-2222-4222-8222-222222222222"
#define S3 "33333333-3333-4333-8333-333333333333"

#define SERVER(id, name, status)                                                    \
	"{\"id\": \"" id "\", \"name\": \"" name "\", \"status\": \"" status "\", " \
	"\"OS-EXT-STS:task_state\": null, \"updated\": \"2026-11-23T04:23:59Z\"}"
#define ITEM(id, name, status) "{\"server\": " SERVER(id, name, status) "}"

/* What the notify hook was told, one "<kind> <path>" per note. */
static struct {
	char notes[64][PATH_MAX + 8];
	size_t n;
} told;

static void note(void *ctx, const char *path, enum model_notify kind)
{
	static const char *const kinds[] = { "entry", "later", "attr" };

	(void)ctx;
	if (told.n < 64)
		snprintf(told.notes[told.n++], sizeof(told.notes[0]), "%s %s", kinds[kind], path);
}

static bool was_told(const char *what)
{
	for (size_t i = 0; i < told.n; i++)
		if (!strcmp(told.notes[i], what))
			return true;
	return false;
}

struct core {
	struct world *w;
	struct project p;
	struct inodes *t;
	int64_t now_ms;
};

static int64_t wall_now;

static void advance(struct core *c, int64_t ms)
{
	c->now_ms += ms;
	clock_set_fake(c->now_ms, wall_now);
}

static int setup(void **state)
{
	struct core *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->w = fake_world_setup();
	/* Frozen, with the wall clock now: the token stays valid. */
	wall_now = (int64_t)time(NULL);
	c->now_ms = T0;
	clock_set_fake(c->now_ms, wall_now);
	assert_int_equal(model_project_init(&c->p, &c->w->s, TTL_MS, NEG_TTL_MS), 0);
	c->p.notify = note;
	c->t = inodes_new();
	assert_non_null(c->t);
	memset(&told, 0, sizeof(told));
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct core *c = *state;

	inodes_free(c->t);
	model_project_cleanup(&c->p);
	fake_world_teardown(c->w);
	clock_set_fake(-1, -1);
	free(c);
	return 0;
}

/* What the last flush() said: it made the created name's resource. */
static bool made;

static int flush(struct handle *h)
{
	return handle_flush(h, 0, &made);
}

/* @path's bytes now, as a reader's snapshot would hold them; "" and the
 * error in *rc on failure. Static storage: one at a time. */
static const char *read_file(struct core *c, const char *path, int *rc)
{
	static char text[4096];
	struct buf b;

	buf_init(&b, sizeof(text) - 1);
	*rc = model_read(&c->p, path, &b, NULL);
	snprintf(text, sizeof(text), "%.*s", *rc ? 0 : (int)b.len, b.data ? b.data : "");
	buf_free(&b);
	return text;
}

/* ---- the store -------------------------------------------------------- */

/* One GET per TTL: reads within it are answered from the cache. */
static void test_store_ttl(void **state)
{
	struct core *c = *state;
	struct answer a[] = {
		{ "GET", NOVA "/servers/" S1, 200, 0, ITEM(S1, "web", "ACTIVE"), 0 },
	};
	int rc;

	script(a, 1);
	assert_string_equal(read_file(c, "/servers/" S1 "/status", &rc), "ACTIVE\n");
	assert_string_equal(read_file(c, "/servers/" S1 "/name", &rc), "web\n");
	advance(c, TTL_MS - 1);
	assert_string_equal(read_file(c, "/servers/" S1 "/status", &rc), "ACTIVE\n");
	assert_int_equal(fake_count("GET", NOVA "/servers/" S1), 1);
	advance(c, 1);
	assert_string_equal(read_file(c, "/servers/" S1 "/status", &rc), "ACTIVE\n");
	assert_int_equal(fake_count("GET", NOVA "/servers/" S1), 2);
}

/* A member the cloud does not have is ENOENT, remembered for the negative
 * TTL (a script's `test -e` loop costs one request per second), then asked
 * again. */
static void test_store_negative_entry(void **state)
{
	struct core *c = *state;
	struct stat st;

	script(NULL, 0); /* every request: Nova's 404 */
	assert_int_equal(model_getattr(&c->p, "/servers/" S2, &st), -ENOENT);
	advance(c, NEG_TTL_MS - 1);
	assert_int_equal(model_getattr(&c->p, "/servers/" S2 "/status", &st), -ENOENT);
	assert_int_equal(fake_count("GET", NOVA "/servers/" S2), 1);
	advance(c, 1);
	assert_int_equal(model_getattr(&c->p, "/servers/" S2, &st), -ENOENT);
	assert_int_equal(fake_count("GET", NOVA "/servers/" S2), 2);
}

/* A member on its way somewhere else (the row's busy hook: BUILD) is kept
 * for MODEL_BUSY_TTL_MS only, so `watch cat status` sees it arrive. */
static void test_store_busy_member_is_reread_sooner(void **state)
{
	struct core *c = *state;
	struct answer a[] = {
		{ "GET", NOVA "/servers/" S1, 200, 0, ITEM(S1, "web", "BUILD"), 1 },
		{ "GET", NOVA "/servers/" S1, 200, 0, ITEM(S1, "web", "ACTIVE"), 0 },
	};
	int rc;

	script(a, 2);
	assert_string_equal(read_file(c, "/servers/" S1 "/status", &rc), "BUILD\n");
	advance(c, MODEL_BUSY_TTL_MS - 1);
	assert_string_equal(read_file(c, "/servers/" S1 "/status", &rc), "BUILD\n");
	advance(c, 1);
	assert_string_equal(read_file(c, "/servers/" S1 "/status", &rc), "ACTIVE\n");
	assert_int_equal(fake_count("GET", NOVA "/servers/" S1), 2);
	/* ACTIVE is kept for the whole TTL. */
	advance(c, MODEL_BUSY_TTL_MS);
	assert_string_equal(read_file(c, "/servers/" S1 "/status", &rc), "ACTIVE\n");
	assert_int_equal(fake_count("GET", NOVA "/servers/" S1), 2);
}

/* A refetch reports what changed, and only that: an unchanged document
 * nothing; a changed one its files' attributes and its old name; a listing
 * that lost a member that member's id and name. */
static void test_store_fetch_reports_changes(void **state)
{
	struct core *c = *state;
	struct answer a[] = {
		{ "GET", NOVA "/servers/" S1, 200, 0, ITEM(S1, "web", "ACTIVE"), 2 },
		{ "GET", NOVA "/servers/" S1, 200, 0, ITEM(S1, "www", "SHUTOFF"), 0 },
		{ "GET", NOVA "/servers/detail", 200, 0,
		  "{\"servers\": [" SERVER(S1, "www", "SHUTOFF") ", " SERVER(S2, "db",
									     "ACTIVE") "]}",
		  1 },
		{ "GET", NOVA "/servers/detail", 200, 0,
		  "{\"servers\": [" SERVER(S1, "www", "SHUTOFF") "]}", 0 },
	};
	struct cache_val *l = NULL;
	int rc;

	script(a, 4);
	read_file(c, "/servers/" S1 "/status", &rc);
	assert_int_equal(rc, 0);
	told.n = 0;

	advance(c, TTL_MS); /* the same document again */
	read_file(c, "/servers/" S1 "/status", &rc);
	assert_int_equal(fake_count("GET", NOVA "/servers/" S1), 2);
	assert_int_equal(told.n, 0);

	advance(c, TTL_MS); /* renamed and stopped */
	assert_string_equal(read_file(c, "/servers/" S1 "/status", &rc), "SHUTOFF\n");
	assert_true(was_told("later /servers/web"));
	assert_true(was_told("attr /servers/" S1));
	assert_true(was_told("attr /servers/" S1 "/json"));
	assert_true(was_told("attr /servers/" S1 "/status"));
	assert_false(was_told("later /servers/www"));
	assert_false(was_told("later /servers/" S1));

	/* A first listing tells nothing new; the next one lost db. */
	assert_int_equal(model_get_listing(&c->p, collection_find("servers"), &l), 0);
	cache_val_unref(l);
	told.n = 0;
	advance(c, TTL_MS);
	assert_int_equal(model_get_listing(&c->p, collection_find("servers"), &l), 0);
	cache_val_unref(l);
	assert_true(was_told("later /servers/" S2));
	assert_true(was_told("later /servers/db"));
	assert_false(was_told("later /servers/" S1));
	assert_false(was_told("later /servers/www"));
}

/* The change set @ch as "<kind> <id>[ <old name>]" lines, for comparing:
 * "added S3", "removed S2 db", "changed S1 web" (the old name, when the
 * document replaced one). Static storage: one at a time. */
static const char *changes_text(const struct model_changes *ch)
{
	static const char *const kinds[] = { "added", "removed", "changed" };
	static char text[1024];
	size_t len = 0;

	text[0] = '\0';
	for (size_t i = 0; i < ch->n && len < sizeof(text); i++) {
		const struct model_change *e = &ch->v[i];
		const struct cdoc *d = (e->doc ? e->doc : e->old)->data;
		const struct cdoc *o = e->old ? e->old->data : NULL;

		len += snprintf(text + len, sizeof(text) - len, "%s%s %s%s%s", len ? "\n" : "",
				kinds[e->kind], d->id, o && o->name ? " " : "",
				o && o->name ? o->name : "");
	}
	return text;
}

/* A refetch returns what changed, as a set, and tells no one: the caller
 * hands it to the notifier. An unchanged listing is an empty set; one
 * with a member added, one removed and one renamed (its name file's size
 * changed) is exactly those three; a member's GET that found a new
 * document is that one change, the same document again nothing. */
static void test_store_refetch_returns_change_set(void **state)
{
	struct core *c = *state;
	const struct collection_def *servers = collection_find("servers");
	struct answer a[] = {
		{ "GET", NOVA "/servers/detail", 200, 0,
		  "{\"servers\": [" SERVER(S1, "web", "ACTIVE") ", " SERVER(S2, "db",
									    "ACTIVE") "]}",
		  2 },
		{ "GET", NOVA "/servers/detail", 200, 0,
		  "{\"servers\": [" SERVER(S1, "webserver", "ACTIVE") ", " SERVER(S3, "cache",
										  "BUILD") "]}",
		  0 },
		{ "GET", NOVA "/servers/" S3, 200, 0, ITEM(S3, "cache", "BUILD"), 1 },
		{ "GET", NOVA "/servers/" S3, 200, 0, ITEM(S3, "cache", "ACTIVE"), 0 },
	};
	struct model_changes ch = MODEL_CHANGES_INIT;
	struct cache_val *v = NULL;
	struct stat st;

	script(a, 4);
	/* The first listing: nothing earlier to compare with. */
	assert_int_equal(model_fetch_listing(&c->p, servers, &v, &ch), 0);
	cache_val_unref(v);
	assert_int_equal(ch.n, 0);

	advance(c, TTL_MS); /* the same listing again: an empty set */
	assert_int_equal(model_fetch_listing(&c->p, servers, &v, &ch), 0);
	cache_val_unref(v);
	assert_int_equal(fake_count("GET", NOVA "/servers/detail"), 2);
	assert_int_equal(ch.n, 0);

	advance(c, TTL_MS); /* cache came, db went, web is webserver now */
	assert_int_equal(model_fetch_listing(&c->p, servers, &v, &ch), 0);
	cache_val_unref(v);
	assert_string_equal(changes_text(&ch), "changed " S1 " web\n"
					       "removed " S2 " db\n"
					       "added " S3);
	assert_int_equal(ch.lost, 0);
	/* The fetch told no one; the hand-off does, exactly the old notes. */
	assert_int_equal(told.n, 0);
	model_changes_deliver(&c->p, &ch);
	assert_int_equal(ch.n, 0);
	assert_true(was_told("later /servers/web"));
	assert_true(was_told("attr /servers/" S1 "/name"));
	assert_true(was_told("later /servers/" S2));
	assert_true(was_told("later /servers/db"));
	assert_false(was_told("later /servers/" S3));
	assert_false(was_told("later /servers/cache"));
	assert_false(was_told("later /servers/webserver"));

	/* A member's GET: a new document is one change (status, so its
	 * status file's size), the same one again none. */
	told.n = 0;
	advance(c, TTL_MS);
	assert_int_equal(model_fetch_item(&c->p, servers, S3, &v, &ch), 0);
	cache_val_unref(v);
	assert_int_equal(ch.n, 0); /* the listing's BUILD, as the GET's */
	advance(c, MODEL_BUSY_TTL_MS);
	assert_int_equal(model_fetch_item(&c->p, servers, S3, &v, &ch), 0);
	cache_val_unref(v);
	assert_string_equal(changes_text(&ch), "changed " S3 " cache");
	model_changes_free(&ch);
	assert_int_equal(told.n, 0);
	/* model_getattr(), the entry FUSE calls, hands its fetches' sets on. */
	advance(c, TTL_MS);
	assert_int_equal(model_getattr(&c->p, "/servers/" S3 "/status", &st), 0);
	assert_int_equal(told.n, 0); /* ACTIVE again: nothing new */
}

/* ---- node resolution -------------------------------------------------- */

static struct answer two_servers[] = {
	{ "GET", NOVA "/servers/detail", 200, 0,
	  "{\"servers\": [" SERVER(S1, "web", "ACTIVE") ", " SERVER(S2, "db", "SHUTOFF") "]}", 0 },
};

static void test_resolve_collection_member_attr(void **state)
{
	struct core *c = *state;
	struct answer a[] = {
		{ "GET", NOVA "/servers/" S1, 200, 0, ITEM(S1, "web", "ACTIVE"), 0 },
	};
	struct node n;

	script(a, 1);
	assert_int_equal(model_resolve(&c->p, "/servers", &n), 0);
	assert_int_equal(n.type, NODE_DIR);
	assert_int_equal(n.tp.kind, TREE_COLLECTION);
	assert_ptr_equal(n.tp.coll, collection_find("servers"));
	model_node_release(&n);
	assert_int_equal(fake.nsent, 0); /* a collection costs no request */

	assert_int_equal(model_resolve(&c->p, "/servers/" S1, &n), 0);
	assert_int_equal(n.type, NODE_DIR);
	assert_string_equal(n.id, S1);
	model_node_release(&n);

	assert_int_equal(model_resolve(&c->p, "/servers/" S1 "/status", &n), 0);
	assert_int_equal(n.type, NODE_FILE);
	assert_string_equal(json_string_value(n.value), "ACTIVE");
	assert_string_equal(n.id, S1);
	model_node_release(&n);

	assert_int_equal(model_resolve(&c->p, "/servers/" S1 "/json", &n), 0);
	assert_true(n.is_doc);
	model_node_release(&n);
	assert_int_equal(fake_count("GET", NULL), 1);
}

/* A unique name is a link to its member's id, found through the listing. */
static void test_resolve_unique_name_is_a_link(void **state)
{
	struct core *c = *state;
	struct node n;

	script(two_servers, 1);
	assert_int_equal(model_resolve(&c->p, "/servers/db", &n), 0);
	assert_int_equal(n.type, NODE_LINK);
	assert_string_equal(n.link, S2);
	model_node_release(&n);
	/* The listing filled the cache: the id resolves without a GET. */
	assert_int_equal(model_resolve(&c->p, "/servers/" S2 "/status", &n), 0);
	assert_string_equal(json_string_value(n.value), "SHUTOFF");
	model_node_release(&n);
	assert_int_equal(fake_count("GET", NULL), 1);
	/* Below a name (while the kernel holds it as mkdir's directory) are
	 * the id's files. */
	assert_int_equal(model_resolve(&c->p, "/servers/db/status", &n), 0);
	assert_string_equal(n.id, S2);
	model_node_release(&n);
}

static void test_resolve_missing_is_enoent(void **state)
{
	struct core *c = *state;
	struct node n;

	script(two_servers, 1);
	assert_int_equal(model_resolve(&c->p, "/servers/nosuch", &n), -ENOENT);
	assert_int_equal(model_resolve(&c->p, "/servers/" S3, &n), -ENOENT); /* GET: 404 */
	assert_int_equal(model_resolve(&c->p, "/servers/" S1 "/nokey", &n), -ENOENT);
	assert_int_equal(model_resolve(&c->p, "/nocollection", &n), -ENOENT);
	assert_int_equal(model_resolve(&c->p, "/servers/" S1 "/status/below", &n), -ENOTDIR);
}

/* A name two members carry leads nowhere (which one would it be?): no
 * link, and a spec naming it is refused as ambiguous. */
static void test_resolve_shared_name(void **state)
{
	struct core *c = *state;
	struct answer a[] = {
		{ "GET", NOVA "/servers/detail", 200, 0,
		  "{\"servers\": [" SERVER(S1, "twin", "ACTIVE") ", " SERVER(S2, "twin",
									     "ACTIVE") "]}",
		  0 },
	};
	char err[256] = "", *id = NULL;
	struct node n;
	size_t count = 0;

	script(a, 1);
	assert_int_equal(model_resolve(&c->p, "/servers/twin", &n), -ENOENT);
	assert_int_equal(model_name_count(&c->p, collection_find("servers"), "twin", &count), 0);
	assert_int_equal(count, 2);
	assert_int_equal(
		model_find_ref(&c->p, collection_find("servers"), "twin", &id, err, sizeof(err)),
		-EINVAL);
	assert_null(id);
	assert_non_null(strstr(err, "ambiguous"));
	/* Each member is still there by its id. */
	assert_int_equal(model_resolve(&c->p, "/servers/" S2, &n), 0);
	model_node_release(&n);
}

/* ---- open files ------------------------------------------------------- */

/* Binds @path as a lookup does; its inode, and its version in *@version. */
static uint64_t look_up(struct core *c, const char *path, uint64_t *version)
{
	struct stat st;

	assert_int_equal(model_getattr(&c->p, path, &st), 0);
	*version = (uint64_t)st.st_ino;
	assert_int_equal(inodes_lookup(c->t, path, &st), 0);
	return (uint64_t)st.st_ino;
}

/* A version opened while its text is cached costs no request and reads
 * its bytes; once the member changed, an open of the old version is
 * ESTALE (the kernel looks the name up again and finds the new one). */
static void test_handle_estale_when_changed(void **state)
{
	struct core *c = *state;
	struct answer a[] = {
		{ "GET", NOVA "/servers/" S1, 200, 0, ITEM(S1, "web", "ACTIVE"), 1 },
		{ "GET", NOVA "/servers/" S1, 200, 0, ITEM(S1, "web", "SHUTOFF"), 0 },
	};
	const char *path = "/servers/" S1 "/status";
	struct handle *h = NULL;
	uint64_t version, ino;
	char *data = NULL;

	script(a, 2);
	ino = look_up(c, path, &version);
	assert_int_equal(handle_open(&c->p, c->t, ino, path, version, O_RDONLY, &h), 0);
	assert_true(handle_versioned(h));
	assert_false(handle_writing(h));
	assert_int_equal(handle_read(h, 4096, 0, &data), 7);
	assert_memory_equal(data, "ACTIVE\n", 7);
	free(data);
	assert_int_equal(flush(h), 0); /* a reader commits nothing */
	handle_close(h);
	assert_int_equal(fake.nsent, 1);

	advance(c, TTL_MS);
	h = NULL;
	assert_int_equal(handle_open(&c->p, c->t, ino, path, version, O_RDONLY, &h), -ESTALE);
	assert_null(h);
	/* Looked up again: a new version, which opens. */
	ino = look_up(c, path, &version);
	assert_int_equal(handle_open(&c->p, c->t, ino, path, version, O_RDONLY, &h), 0);
	assert_int_equal(handle_read(h, 4096, 0, &data), 8);
	assert_memory_equal(data, "SHUTOFF\n", 8);
	free(data);
	handle_close(h);
}

/* No server until the POST; then new1, building. */
static struct answer create_ok[] = {
	{ "GET", NOVA "/servers/detail", 200, 0, "{\"servers\": []}", 1 },
	{ "GET", NOVA "/servers/detail", 200, 0, "{\"servers\": [" SERVER(S3, "new1", "BUILD") "]}",
	  0 },
	{ "POST", NOVA "/servers", 202, 0, "{\"server\": {\"id\": \"" S3 "\", \"links\": []}}", 0 },
	{ "GET", NOVA "/servers/" S3, 200, 0, ITEM(S3, "new1", "BUILD"), 0 },
};

#define SPEC "{\"imageRef\": \"i\", \"flavorRef\": \"1\"}\n"

/* A JSON spec is sent by the write(2) that completes it (a shell ignores
 * close(2) on `echo > servers/x`), in one request, whatever pieces it came
 * in; a flush (a dup'ed descriptor, the close) sends nothing more;
 * whitespace after it is accepted, anything else is EINVAL and makes no
 * second server. */
static void test_handle_json_spec_commits_at_its_end(void **state)
{
	struct core *c = *state;
	struct handle *h = NULL;
	struct node n;
	bool wmade = false;

	script(create_ok, 4);
	assert_int_equal(handle_create(&c->p, "/servers/new1", &h), 0);
	assert_true(handle_writing(h));
	assert_int_equal(flush(h), 0); /* dup'ed before writing */
	assert_false(made);
	assert_int_equal(handle_write(h, SPEC, 10, 0, 0, &wmade), 10);
	assert_false(wmade);
	assert_int_equal(fake_count("POST", NULL), 0);
	assert_int_equal(handle_write(h, &SPEC[10], strlen(SPEC) - 10, 10, 0, &wmade),
			 (int)strlen(SPEC) - 10);
	assert_true(wmade);
	assert_int_equal(fake_count("POST", NOVA "/servers"), 1);
	assert_non_null(strstr(fake.sent[fake.nsent - 2].body, "\"name\":\"new1\""));
	assert_non_null(strstr(fake.sent[fake.nsent - 2].body, "\"flavorRef\":\"1\""));
	assert_int_equal(flush(h), 0);
	assert_false(made);
	assert_int_equal(handle_write(h, " \n", 2, (off_t)strlen(SPEC), 0, &wmade), 2);
	assert_int_equal(handle_write(h, "x", 1, (off_t)strlen(SPEC) + 2, 0, &wmade), -EINVAL);
	assert_int_equal(flush(h), 0);
	handle_close(h);
	assert_int_equal(fake_count("POST", NULL), 1);
	/* No longer pending: the name is the new server's link. */
	assert_int_equal(model_resolve(&c->p, "/servers/new1", &n), 0);
	assert_int_equal(n.type, NODE_LINK);
	model_node_release(&n);
}

/* Bytes that can no longer become JSON fail the write that brings them,
 * and nothing is ever sent for them, not at close either. */
static void test_handle_broken_json_fails_at_once(void **state)
{
	struct core *c = *state;
	struct answer a[] = {
		{ "GET", NOVA "/servers/detail", 200, 0, "{\"servers\": []}", 0 },
	};
	struct handle *h = NULL;
	bool wmade = false;

	script(a, 1);
	assert_int_equal(handle_create(&c->p, "/servers/bad", &h), 0);
	assert_int_equal(handle_write(h, "{\"name\": ", 9, 0, 0, &wmade), 9);
	assert_int_equal(handle_write(h, "nope}\n", 6, 9, 0, &wmade), -EINVAL);
	assert_false(wmade);
	assert_int_equal(handle_write(h, "{}", 2, 15, 0, &wmade), -EINVAL);
	assert_int_equal(flush(h), -EINVAL);
	handle_close(h);
	assert_int_equal(fake_count("POST", NULL), 0);

	/* Cut short: the close is the parser's refusal, still nothing sent. */
	assert_int_equal(handle_create(&c->p, "/servers/short", &h), 0);
	assert_int_equal(handle_write(h, SPEC, 12, 0, 0, &wmade), 12);
	assert_int_equal(flush(h), -EINVAL);
	handle_close(h);
	assert_int_equal(fake_count("POST", NULL), 0);
}

/* The cloud's refusal is the completing write's error, and a later flush
 * (another descriptor's close) returns it again without sending the spec
 * twice; nor does the release. */
static void test_handle_error_at_write(void **state)
{
	struct core *c = *state;
	struct answer a[] = {
		{ "GET", NOVA "/servers/detail", 200, 0, "{\"servers\": []}", 0 },
		{ "POST", NOVA "/servers", 400, 0,
		  "{\"badRequest\": {\"code\": 400, \"message\": \"Invalid flavorRef provided.\"}}",
		  0 },
	};
	struct handle *h = NULL;
	bool wmade = false;

	script(a, 2);
	assert_int_equal(handle_create(&c->p, "/servers/bad", &h), 0);
	assert_int_equal(handle_write(h, SPEC, strlen(SPEC), 0, 0, &wmade), -EINVAL);
	assert_false(wmade);
	assert_int_equal(flush(h), -EINVAL);
	assert_int_equal(flush(h), -EINVAL);
	assert_int_equal(handle_write(h, "x", 1, 0, 0, &wmade), -EINVAL);
	handle_close(h);
	assert_int_equal(fake_count("POST", NULL), 1);
}

/* Text with no end marker (a keypair's public key) is sent at flush, once,
 * however many descriptors close; bytes after it make no second keypair.
 * The same file starting with '{' is a JSON spec, sent at its end. */
static void test_handle_text_spec_commits_at_flush(void **state)
{
	struct core *c = *state;
	struct answer a[] = {
		{ "GET", NOVA "/os-keypairs/k", 200, 0,
		  "{\"keypair\": {\"name\": \"k\", \"public_key\": \"ssh-ed25519 AAAA k@h\"}}", 0 },
		{ "GET", NOVA "/os-keypairs", 200, 0, "{\"keypairs\": []}", 0 },
		{ "POST", NOVA "/os-keypairs", 200, 0,
		  "{\"keypair\": {\"name\": \"k\", \"public_key\": \"ssh-ed25519 AAAA k@h\"}}", 0 },
	};
	static const char key[] = "ssh-ed25519 AAAA k@h\n";
	struct handle *h = NULL;
	bool wmade = false;

	script(a, 3);
	assert_int_equal(handle_create(&c->p, "/keypairs/k", &h), 0);
	assert_int_equal(handle_write(h, key, 8, 0, 0, &wmade), 8);
	assert_int_equal(handle_write(h, key + 8, strlen(key) - 8, 8, 0, &wmade),
			 (int)strlen(key) - 8);
	assert_false(wmade);
	assert_int_equal(fake_count("POST", NULL), 0);
	assert_int_equal(flush(h), 0);
	assert_true(made);
	assert_int_equal(fake_count("POST", NOVA "/os-keypairs"), 1);
	for (size_t i = 0; i < fake.nsent; i++)
		if (!strcmp(fake.sent[i].method, "POST"))
			assert_non_null(strstr(fake.sent[i].body, "ssh-ed25519 AAAA k@h"));
	assert_int_equal(flush(h), 0);
	assert_int_equal(handle_write(h, "x", 1, (off_t)strlen(key), 0, &wmade), -EEXIST);
	handle_close(h);
	assert_int_equal(fake_count("POST", NULL), 1);

	assert_int_equal(handle_create(&c->p, "/keypairs/k2", &h), 0);
	assert_int_equal(handle_write(h, " \n", 2, 0, 0, &wmade), 2);
	assert_int_equal(fake_count("POST", NULL), 1);
	assert_int_equal(handle_write(h, "{}\n", 3, 2, 0, &wmade), 3);
	assert_true(wmade);
	assert_int_equal(fake_count("POST", NOVA "/os-keypairs"), 2);
	assert_int_equal(flush(h), 0);
	handle_close(h);
	assert_int_equal(fake_count("POST", NULL), 2);
}

/* One create per name: while a file is being written, a second create(2)
 * of its name is EEXIST (and sends nothing); once it is closed, the name
 * is free again. */
static void test_handle_one_create_per_pending_name(void **state)
{
	struct core *c = *state;
	struct handle *h = NULL, *h2 = NULL;
	struct stat st;

	script(create_ok, 4);
	assert_int_equal(handle_create(&c->p, "/servers/new1", &h), 0);
	assert_int_equal(model_getattr(&c->p, "/servers/new1", &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(handle_create(&c->p, "/servers/new1", &h2), -EEXIST);
	assert_null(h2);
	assert_int_equal(handle_open(&c->p, c->t, 0, "/servers/new1", 0, O_WRONLY, &h2), -EEXIST);
	assert_int_equal(handle_write(h, SPEC, strlen(SPEC), 0, 0, &made), (int)strlen(SPEC));
	assert_int_equal(flush(h), 0);
	handle_close(h);
	assert_int_equal(fake_count("POST", NULL), 1);
}

/* An attribute's new value is one PUT at flush, of exactly what was
 * written (less the newline); a reader cannot write. */
static void test_handle_attribute_update(void **state)
{
	struct core *c = *state;
	struct answer a[] = {
		{ "GET", NOVA "/servers/" S1, 200, 0, ITEM(S1, "web", "ACTIVE"), 0 },
		{ "PUT", NOVA "/servers/" S1, 200, 0, ITEM(S1, "www", "ACTIVE"), 0 },
	};
	const char *path = "/servers/" S1 "/name";
	struct handle *h = NULL;
	off_t size = -1;

	script(a, 2);
	assert_int_equal(handle_open(&c->p, c->t, 0, path, 0, O_WRONLY | O_TRUNC, &h), 0);
	assert_false(handle_versioned(h));
	assert_int_equal(handle_truncate(&c->p, path, h, 0), 0);
	assert_int_equal(handle_write(h, "www\n", 4, 0, 0, &made), 4);
	assert_true(handle_size(h, &size));
	assert_int_equal(size, 4);
	assert_int_equal(fake_count("PUT", NULL), 0);
	assert_int_equal(flush(h), 0);
	assert_int_equal(flush(h), 0);
	handle_close(h);
	assert_int_equal(fake_count("PUT", NULL), 1);
	assert_string_equal(fake.sent[fake.nsent - 1].method, "PUT");
	assert_string_equal(fake.sent[fake.nsent - 1].body, "{\"server\":{\"name\":\"www\"}}");

	assert_int_equal(handle_open(&c->p, c->t, 0, "/servers/" S1 "/status", 0, O_RDONLY, &h), 0);
	assert_int_equal(handle_write(h, "x", 1, 0, 0, &made), -EBADF);
	handle_close(h);
}

/* A command runs at write(2) as soon as its line is complete (a shell
 * ignores close(2) on `echo reboot > action`), and its refusal is that
 * write's error. */
static void test_handle_command_per_line(void **state)
{
	struct core *c = *state;
	struct answer a[] = {
		{ "GET", NOVA "/servers/" S1, 200, 0, ITEM(S1, "web", "ACTIVE"), 0 },
		{ "POST", NOVA "/servers/" S1 "/action", 202, 0, "", 1 },
		{ "POST", NOVA "/servers/" S1 "/action", 409, 0,
		  "{\"conflictingRequest\": {\"code\": 409, \"message\": \"Cannot 'reboot' "
		  "instance while it is in task_state rebooting\"}}",
		  0 },
	};
	const char *path = "/servers/" S1 "/action";
	struct handle *h = NULL;

	script(a, 4);
	assert_int_equal(handle_open(&c->p, c->t, 0, path, 0, O_WRONLY, &h), 0);
	assert_int_equal(handle_write(h, "reb", 3, 0, 0, &made), 3);
	assert_int_equal(fake_count("POST", NULL), 0);
	assert_int_equal(handle_write(h, "oot\n", 4, 3, 0, &made), 4);
	assert_int_equal(fake_count("POST", NOVA "/servers/" S1 "/action"), 1);
	assert_non_null(strstr(fake.sent[fake.nsent - 1].body, "reboot"));
	assert_int_equal(handle_write(h, "reboot\n", 7, 7, 0, &made), -EBUSY);
	assert_int_equal(flush(h), 0); /* nothing left to run */
	handle_close(h);
	assert_int_equal(fake_count("POST", NULL), 2);
}

/* A "wait" file opens at once; its read is parked (-EINPROGRESS) until
 * the wait ends; the status the waits thread hands over becomes the file's
 * bytes, for this read and the next (a second parked read keeps the first
 * status); a failed wait is that read's error. */
static void test_handle_wait_read_is_parked(void **state)
{
	struct core *c = *state;
	struct answer a[] = {
		{ "GET", NOVA "/servers/" S1, 200, 0, ITEM(S1, "web", "BUILD"), 0 },
	};
	const char *path = "/servers/" S1 "/wait";
	struct handle *h = NULL;
	char *data = NULL;

	script(a, 1);
	assert_int_equal(handle_open(&c->p, c->t, 0, path, 0, O_RDONLY, &h), 0);
	assert_int_equal(handle_read(h, 4096, 0, &data), -EINPROGRESS);
	assert_null(data);
	assert_int_equal(handle_waited(h, 0, "ACTIVE\n", 7, 3, 0, &data), 3);
	assert_memory_equal(data, "ACT", 3);
	free(data);
	assert_int_equal(handle_waited(h, 0, "ERROR\n", 6, 4096, 3, &data), 4);
	assert_memory_equal(data, "IVE\n", 4);
	free(data);
	assert_int_equal(handle_read(h, 4096, 7, &data), 0);
	free(data);
	handle_close(h);

	assert_int_equal(handle_open(&c->p, c->t, 0, path, 0, O_RDONLY, &h), 0);
	assert_int_equal(handle_waited(h, -EREMOTEIO, NULL, 0, 4096, 0, &data), -EREMOTEIO);
	assert_null(data);
	assert_int_equal(handle_read(h, 4096, 0, &data), -EINPROGRESS);
	handle_close(h);
}

#define SWIFT "http://127.0.0.1:8080/v1/AUTH_7c808b28bded4680839ac3a2f00d8a87"

/* A file of a member's tree (a Swift object) is replaced whole: opened for
 * writing without O_TRUNC it opens, but its writes and truncates fail with
 * EOPNOTSUPP and its close sends nothing. */
static void test_handle_tree_file_without_o_trunc_is_refused(void **state)
{
	struct core *c = *state;
	struct answer a[] = {
		/* the pages after the first: Swift pages by marker */
		{ "GET", SWIFT "?format=json&limit=1000&marker=", 200, 0, "[]", 0 },
		{ "GET", SWIFT "/c1", 200, 0,
		  "[{\"name\": \"a.txt\", \"bytes\": 5, \"hash\": "
		  "\"0123456789abcdef0123456789abcdef\", \"last_modified\": "
		  "\"2026-11-23T04:23:59.000000\", \"content_type\": \"text/plain\"}]",
		  1 },
		{ "GET", SWIFT "/c1", 200, 0, "[]", 0 },
		{ "GET", SWIFT, 200, 0,
		  "[{\"name\": \"c1\", \"count\": 1, \"bytes\": 5, \"last_modified\": "
		  "\"2026-11-23T04:23:59.000000\"}]",
		  0 },
	};
	const char *path = "/containers/c1/objects/a.txt";
	struct handle *h = NULL;
	bool wmade = false;

	script(a, 4);
	assert_int_equal(handle_open(&c->p, c->t, 0, path, 0, O_WRONLY, &h), 0);
	assert_true(handle_writing(h));
	assert_int_equal(handle_write(h, "x", 1, 0, 0, &wmade), -EOPNOTSUPP);
	assert_int_equal(handle_truncate(&c->p, path, h, 0), -EOPNOTSUPP);
	assert_int_equal(flush(h), 0);
	handle_close(h);
	assert_int_equal(handle_truncate(&c->p, path, NULL, 0), -EOPNOTSUPP);
	assert_int_equal(fake_count("PUT", NULL), 0);
	assert_int_equal(fake_count("POST", NULL), 0);
	assert_int_equal(fake_count("DELETE", NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_store_ttl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_negative_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_busy_member_is_reread_sooner, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_store_fetch_reports_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_refetch_returns_change_set, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_resolve_collection_member_attr, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_resolve_unique_name_is_a_link, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_resolve_missing_is_enoent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve_shared_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handle_estale_when_changed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handle_json_spec_commits_at_its_end, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_handle_broken_json_fails_at_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_handle_error_at_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handle_text_spec_commits_at_flush, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_handle_one_create_per_pending_name, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_handle_attribute_update, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handle_command_per_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handle_wait_read_is_parked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handle_tree_file_without_o_trunc_is_refused,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
