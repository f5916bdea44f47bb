/* SPDX-License-Identifier: MIT */
/* A directory snapshot (dirlist.h): what goes in comes out, compactly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cloudfs/dirlist.h"

static struct stat attrs(mode_t mode, off_t size, time_t mtime, ino_t ino)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_mode = mode;
	st.st_nlink = S_ISDIR(mode) ? 2 : 1;
	st.st_uid = 1000;
	st.st_gid = 100;
	st.st_blksize = 4096;
	st.st_size = size;
	st.st_blocks = (size + 511) / 512;
	st.st_mtime = mtime;
	st.st_atime = mtime;
	st.st_ctime = mtime + 7;
	st.st_ino = ino;
	return st;
}

static void assert_same(const struct stat *a, const struct stat *b)
{
	assert_int_equal(a->st_mode, b->st_mode);
	assert_int_equal(a->st_nlink, b->st_nlink);
	assert_int_equal(a->st_uid, b->st_uid);
	assert_int_equal(a->st_gid, b->st_gid);
	assert_int_equal(a->st_blksize, b->st_blksize);
	assert_int_equal(a->st_size, b->st_size);
	assert_int_equal(a->st_blocks, b->st_blocks);
	assert_int_equal(a->st_mtime, b->st_mtime);
	assert_int_equal(a->st_atime, b->st_atime);
	assert_int_equal(a->st_ctime, b->st_ctime);
	assert_int_equal(a->st_ino, b->st_ino);
}

/* Every entry's name and attributes come back as added, in order, across
 * the growth of each buffer; a collection's members (one shape, their
 * own mtimes) are kept as one shape. */
static void test_round_trip(void **state)
{
	struct dirlist l = DIRLIST_INIT;
	struct stat st, want;
	char name[64];

	(void)state;
	assert_int_equal(dirlist_add(&l, ".", &(struct stat){ .st_mode = S_IFDIR }), 0);
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "member-%05d-with-a-longish-name", i);
		want = attrs(S_IFDIR | 0755, 0, 1700000000 + i, 0);
		assert_int_equal(dirlist_add(&l, name, &want), 0);
	}
	assert_int_equal(l.n, 5001);
	assert_int_equal(l.nshapes, 2);
	assert_string_equal(dirlist_name(&l, 0), ".");
	dirlist_stat(&l, 0, &st);
	assert_int_equal(st.st_mode, S_IFDIR);
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "member-%05d-with-a-longish-name", i);
		want = attrs(S_IFDIR | 0755, 0, 1700000000 + i, 0);
		assert_string_equal(dirlist_name(&l, (size_t)i + 1), name);
		dirlist_stat(&l, (size_t)i + 1, &st);
		assert_same(&st, &want);
		assert_int_equal(dirlist_mode(&l, (size_t)i + 1), S_IFDIR | 0755);
	}
	dirlist_free(&l);
}

/* Files that differ in size and version keep each their own; an entry
 * without attributes reads back as all zero (mode 0: unknown). */
static void test_mixed_and_unknown(void **state)
{
	struct dirlist l = DIRLIST_INIT;
	struct stat a = attrs(S_IFREG | 0644, 10, 1700000000, 77);
	struct stat b = attrs(S_IFREG | 0444, 123456789, 1600000000, 78);
	struct stat c = attrs(S_IFLNK | 0777, 36, 1700000001, 0);
	struct stat st;

	(void)state;
	assert_int_equal(dirlist_add(&l, "a", &a), 0);
	assert_int_equal(dirlist_add(&l, "lazy", NULL), 0);
	assert_int_equal(dirlist_add(&l, "b", &b), 0);
	assert_int_equal(dirlist_add(&l, "c", &c), 0);
	assert_int_equal(dirlist_add(&l, "a2", &a), 0);
	dirlist_stat(&l, 0, &st);
	assert_same(&st, &a);
	dirlist_stat(&l, 1, &st);
	assert_int_equal(st.st_mode, 0);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(st.st_ino, 0);
	assert_int_equal(dirlist_mode(&l, 1), 0);
	assert_string_equal(dirlist_name(&l, 1), "lazy");
	dirlist_stat(&l, 2, &st);
	assert_same(&st, &b);
	dirlist_stat(&l, 3, &st);
	assert_same(&st, &c);
	dirlist_stat(&l, 4, &st);
	assert_same(&st, &a);
	assert_string_equal(dirlist_name(&l, 4), "a2");
	dirlist_free(&l);
}

/* A rewinddir refills the list: cleared, it holds only what is added
 * next. */
static void test_clear_refill(void **state)
{
	struct dirlist l = DIRLIST_INIT;
	struct stat a = attrs(S_IFREG | 0644, 1, 5, 9), st;

	(void)state;
	assert_int_equal(dirlist_add(&l, "old", &a), 0);
	dirlist_clear(&l);
	assert_int_equal(l.n, 0);
	a.st_size = 2;
	assert_int_equal(dirlist_add(&l, "new", &a), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(dirlist_name(&l, 0), "new");
	dirlist_stat(&l, 0, &st);
	assert_int_equal(st.st_size, 2);
	dirlist_free(&l);
	assert_null(l.e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_mixed_and_unknown),
		cmocka_unit_test(test_clear_refill),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
