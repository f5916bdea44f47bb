/* SPDX-License-Identifier: MIT */
/* Inode numbers per path and content version (inodes.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cloudfs/inodes.h"

static uint64_t look(struct inodes *t, const char *path, mode_t type, uint64_t version)
{
	struct stat st = { .st_mode = type | 0444, .st_ino = (ino_t)version, .st_size = 7 };

	assert_int_equal(inodes_lookup(t, path, &st), 0);
	assert_int_not_equal(st.st_ino, 0);
	return (uint64_t)st.st_ino;
}

static void test_root_is_one(void **state)
{
	struct inodes *t = inodes_new();
	char *path = NULL;
	uint64_t ino = 0;

	(void)state;
	assert_int_equal(inodes_get(t, INODES_ROOT, &path, NULL, NULL), 0);
	assert_string_equal(path, "/");
	free(path);
	assert_true(inodes_find(t, "/", &ino, NULL));
	assert_int_equal(ino, INODES_ROOT);
	/* The kernel never forgets the root; forgetting it changes nothing. */
	inodes_forget(t, INODES_ROOT, 5);
	assert_int_equal(inodes_count(t), 1);
	inodes_free(t);
}

static void test_same_version_same_inode(void **state)
{
	struct inodes *t = inodes_new();
	uint64_t a, b, found = 0, v = 0;

	(void)state;
	a = look(t, "/servers/x/status", S_IFREG, 42);
	b = look(t, "/servers/x/status", S_IFREG, 42);
	assert_int_equal(a, b);
	assert_true(inodes_find(t, "/servers/x/status", &found, &v));
	assert_int_equal(found, a);
	assert_int_equal(v, 42);
	/* Two lookups: one forget of one leaves it alive. */
	inodes_forget(t, a, 1);
	assert_true(inodes_find(t, "/servers/x/status", &found, NULL));
	inodes_forget(t, a, 1);
	assert_false(inodes_find(t, "/servers/x/status", &found, NULL));
	assert_int_equal(inodes_count(t), 1);
	inodes_free(t);
}

/* New contents: the path leads to a new inode; holders of the old one keep
 * its path and attributes until the kernel forgets it. */
static void test_new_version_new_inode(void **state)
{
	struct inodes *t = inodes_new();
	struct stat st;
	uint64_t a, b, found = 0, v = 0;
	char *path = NULL;

	(void)state;
	a = look(t, "/servers/x/status", S_IFREG, 1);
	b = look(t, "/servers/x/status", S_IFREG, 2);
	assert_int_not_equal(a, b);
	assert_true(inodes_find(t, "/servers/x/status", &found, NULL));
	assert_int_equal(found, b);
	assert_int_equal(inodes_get(t, a, &path, &v, &st), 0);
	assert_string_equal(path, "/servers/x/status");
	assert_int_equal(v, 1);
	assert_int_equal(st.st_size, 7);
	assert_int_equal(st.st_ino, a);
	free(path);
	/* Forgetting the old one leaves the path's binding alone. */
	inodes_forget(t, a, 1);
	path = (char *)"stale"; /* what a caller's uninitialised pointer holds */
	assert_int_equal(inodes_get(t, a, &path, NULL, NULL), -ENOENT);
	assert_null(path); /* callers free it whatever the result */
	assert_true(inodes_find(t, "/servers/x/status", &found, NULL));
	assert_int_equal(found, b);
	inodes_free(t);
}

/* A name that turns from a file into a directory (a spec that became a
 * resource) is another inode even with the same version. */
static void test_type_change_new_inode(void **state)
{
	struct inodes *t = inodes_new();
	uint64_t a, b;

	(void)state;
	a = look(t, "/networks/net1", S_IFREG, 0);
	b = look(t, "/networks/net1", S_IFDIR, 0);
	assert_int_not_equal(a, b);
	inodes_free(t);
}

/* A version's source: kept per inode, only for versioned ones, and a new
 * version starts without one. */
static void test_source(void **state)
{
	struct inodes *t = inodes_new();
	uint64_t a, b, dir;

	(void)state;
	a = look(t, "/servers/x/status", S_IFREG, 1);
	dir = look(t, "/servers/x", S_IFDIR, 0);
	assert_int_equal(inodes_source(t, a), 0);
	inodes_set_seen(t, a, 77, NULL, 0);
	assert_int_equal(inodes_source(t, a), 77);
	assert_int_equal(look(t, "/servers/x/status", S_IFREG, 1), a); /* kept */
	assert_int_equal(inodes_source(t, a), 77);
	inodes_set_seen(t, dir, 78, NULL, 0); /* version 0: nothing to vouch for */
	assert_int_equal(inodes_source(t, dir), 0);
	b = look(t, "/servers/x/status", S_IFREG, 2);
	assert_int_equal(inodes_source(t, b), 0);
	assert_int_equal(inodes_source(t, a), 77); /* the old one's holders */
	inodes_forget(t, a, 2);
	assert_int_equal(inodes_source(t, a), 0); /* gone */
	inodes_set_seen(t, a, 79, NULL, 0);
	inodes_free(t);
}

/* A small version's bytes stay with its inode; big ones, version 0 and a
 * new version have none. */
static void test_small_bytes(void **state)
{
	struct inodes *t = inodes_new();
	char big[INODES_SMALL + 1], out[INODES_SMALL];
	uint64_t a, b, dir;
	size_t len = 99;

	(void)state;
	memset(big, 'x', sizeof(big));
	a = look(t, "/servers/x/status", S_IFREG, 1);
	dir = look(t, "/servers/x", S_IFDIR, 0);
	assert_false(inodes_small(t, a, out, &len));
	inodes_set_seen(t, a, 1, "ACTIVE\n", 7);
	assert_true(inodes_small(t, a, out, &len));
	assert_int_equal(len, 7);
	assert_memory_equal(out, "ACTIVE\n", 7);
	inodes_set_seen(t, dir, 1, "x", 1);
	assert_false(inodes_small(t, dir, out, &len));
	b = look(t, "/servers/x/json", S_IFREG, 5);
	inodes_set_seen(t, b, 1, big, sizeof(big));
	assert_false(inodes_small(t, b, out, &len));
	inodes_set_seen(t, b, 1, big, INODES_SMALL);
	assert_true(inodes_small(t, b, out, &len));
	assert_int_equal(len, INODES_SMALL);
	assert_int_not_equal(look(t, "/servers/x/status", S_IFREG, 2), a);
	assert_false(inodes_small(t, look(t, "/servers/x/status", S_IFREG, 2), out, &len));
	inodes_free(t);
}

static void test_unbind(void **state)
{
	struct inodes *t = inodes_new();
	uint64_t a, b, found = 0;

	(void)state;
	a = look(t, "/volumes/v", S_IFDIR, 0);
	inodes_unbind(t, "/volumes/v");
	assert_false(inodes_find(t, "/volumes/v", &found, NULL));
	b = look(t, "/volumes/v", S_IFDIR, 0);
	assert_int_not_equal(a, b);
	/* Numbers are never reused. */
	inodes_forget(t, a, 1);
	inodes_forget(t, b, 1);
	assert_true(look(t, "/volumes/v", S_IFDIR, 0) > b);
	inodes_free(t);
}

/* A file the cloud renamed keeps its number, its bytes and attributes
 * under the new path (the kernel moved its dentry); what the new path led
 * to before is unbound; a renamed directory is only unbound. */
static void test_rename(void **state)
{
	struct inodes *t = inodes_new();
	char out[INODES_SMALL], *path = NULL;
	uint64_t a, old_b, found = 0, version = 0, d;
	size_t len = 0;
	struct stat st;

	(void)state;
	a = look(t, "/containers/c/objects/.f.tmp", S_IFREG, 3);
	inodes_set_seen(t, a, 1, "data", 4);
	old_b = look(t, "/containers/c/objects/f", S_IFREG, 9);
	inodes_rename(t, "/containers/c/objects/.f.tmp", "/containers/c/objects/f");
	assert_false(inodes_find(t, "/containers/c/objects/.f.tmp", &found, NULL));
	assert_true(inodes_find(t, "/containers/c/objects/f", &found, &version));
	assert_int_equal(found, a);
	assert_int_equal(version, 3);
	assert_int_equal(inodes_get(t, a, &path, &version, &st), 0);
	assert_string_equal(path, "/containers/c/objects/f");
	free(path);
	assert_int_equal(st.st_size, 7);
	assert_true(inodes_small(t, a, out, &len));
	assert_memory_equal(out, "data", 4);
	/* the number the new path had still answers its holder, by the old path */
	assert_int_equal(inodes_get(t, old_b, &path, &version, &st), 0);
	free(path);
	assert_int_equal(look(t, "/containers/c/objects/f", S_IFREG, 3), a);
	d = look(t, "/containers/c/objects/dir", S_IFDIR, 0);
	inodes_rename(t, "/containers/c/objects/dir", "/containers/c/objects/dir2");
	assert_false(inodes_find(t, "/containers/c/objects/dir2", &found, NULL));
	assert_false(inodes_find(t, "/containers/c/objects/dir", &found, NULL));
	assert_int_not_equal(look(t, "/containers/c/objects/dir2", S_IFDIR, 0), d);
	inodes_free(t);
}

/* A version's bytes go to the kernel once; a new version's go again. */
static void test_fill_once_per_version(void **state)
{
	struct inodes *t = inodes_new();
	uint64_t a, b;

	(void)state;
	a = look(t, "/servers/x/json", S_IFREG, 1);
	assert_true(inodes_fill_begin(t, a));
	inodes_fill_end(t, a);
	assert_false(inodes_fill_begin(t, a));
	assert_int_equal(look(t, "/servers/x/json", S_IFREG, 1), a);
	assert_false(inodes_fill_begin(t, a));
	b = look(t, "/servers/x/json", S_IFREG, 2);
	assert_true(inodes_fill_begin(t, b));
	inodes_fill_end(t, b);
	assert_false(inodes_fill_begin(t, 999999)); /* unknown: nothing to fill */
	inodes_free(t);
}

struct filler {
	struct inodes *t;
	uint64_t ino;
	int done; /* set by the filler before it ends */
	int seen; /* what the waiter saw when it got through */
};

static void *second_opener(void *arg)
{
	struct filler *f = arg;

	/* Must not get through while the first is filling. */
	assert_false(inodes_fill_begin(f->t, f->ino));
	f->seen = __atomic_load_n(&f->done, __ATOMIC_SEQ_CST);
	return NULL;
}

/* A second open of an inode being filled waits for the fill to end. */
static void test_fill_makes_others_wait(void **state)
{
	struct filler f = { .t = inodes_new() };
	pthread_t th;

	(void)state;
	f.ino = look(f.t, "/servers/x/status", S_IFREG, 9);
	assert_true(inodes_fill_begin(f.t, f.ino));
	assert_int_equal(pthread_create(&th, NULL, second_opener, &f), 0);
	usleep(50 * 1000); /* the waiter is blocked by now, or about to be */
	__atomic_store_n(&f.done, 1, __ATOMIC_SEQ_CST);
	inodes_fill_end(f.t, f.ino);
	pthread_join(th, NULL);
	assert_int_equal(f.seen, 1);
	inodes_free(f.t);
}

/* Enough inodes to grow both tables several times; every one is still
 * found by number and by path. */
static void test_many(void **state)
{
	struct inodes *t = inodes_new();
	enum {
		N = 20000
	};
	uint64_t *ino = calloc(N, sizeof(*ino));
	char path[64];

	(void)state;
	for (int i = 0; i < N; i++) {
		snprintf(path, sizeof(path), "/servers/%d/status", i);
		ino[i] = look(t, path, S_IFREG, (uint64_t)i + 1);
	}
	assert_int_equal(inodes_count(t), N + 1);
	for (int i = 0; i < N; i++) {
		uint64_t found = 0, v = 0;
		char *p = NULL;

		snprintf(path, sizeof(path), "/servers/%d/status", i);
		assert_true(inodes_find(t, path, &found, &v));
		assert_int_equal(found, ino[i]);
		assert_int_equal(v, (uint64_t)i + 1);
		assert_int_equal(inodes_get(t, ino[i], &p, NULL, NULL), 0);
		assert_string_equal(p, path);
		free(p);
	}
	for (int i = 0; i < N; i += 2)
		inodes_forget(t, ino[i], 1);
	assert_int_equal(inodes_count(t), N / 2 + 1);
	free(ino);
	inodes_free(t);
}

/* The attributes kept with an inode (a compact copy, not a struct stat)
 * come back as they were bound: every field the model sets. */
static void test_attributes_kept(void **state)
{
	struct inodes *t = inodes_new();
	struct stat in = { .st_mode = S_IFREG | 0644,
			   .st_ino = 5,
			   .st_nlink = 1,
			   .st_uid = 1234,
			   .st_gid = 5678,
			   .st_size = (off_t)5 << 32,
			   .st_blksize = 1 << 20,
			   .st_blocks = 41943040 };
	struct stat out;
	char *path = NULL;
	uint64_t v = 0;

	(void)state;
	in.st_atime = 1795407839;
	in.st_mtime = 1795407840;
	in.st_ctime = 1795407841;
	assert_int_equal(inodes_lookup(t, "/images/x/data", &in), 0);
	memset(&out, 0xa5, sizeof(out));
	assert_int_equal(inodes_get(t, (uint64_t)in.st_ino, &path, &v, &out), 0);
	assert_int_equal(v, 5);
	assert_int_equal(out.st_ino, in.st_ino);
	assert_int_equal(out.st_mode, in.st_mode);
	assert_int_equal(out.st_nlink, 1);
	assert_int_equal(out.st_uid, 1234);
	assert_int_equal(out.st_gid, 5678);
	assert_int_equal(out.st_size, in.st_size);
	assert_int_equal(out.st_blksize, in.st_blksize);
	assert_int_equal(out.st_blocks, in.st_blocks);
	assert_int_equal(out.st_atime, in.st_atime);
	assert_int_equal(out.st_mtime, in.st_mtime);
	assert_int_equal(out.st_ctime, in.st_ctime);
	assert_int_equal(out.st_rdev, 0);
	free(path);
	inodes_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_is_one),
		cmocka_unit_test(test_same_version_same_inode),
		cmocka_unit_test(test_new_version_new_inode),
		cmocka_unit_test(test_type_change_new_inode),
		cmocka_unit_test(test_source),
		cmocka_unit_test(test_small_bytes),
		cmocka_unit_test(test_unbind),
		cmocka_unit_test(test_rename),
		cmocka_unit_test(test_fill_once_per_version),
		cmocka_unit_test(test_fill_makes_others_wait),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_attributes_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
