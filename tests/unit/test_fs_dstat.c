/*
 * test_fs_dstat.c - arkorfs's cache of directory attributes: answers
 * come back until the timeout, per (bucket, key) (no mix-up between
 * buckets or keys that share a hash slot), an unlink forgets an implied
 * parent but keeps a marked one, clear forgets all, and a timeout of 0
 * keeps nothing.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <cmocka.h>

#include "fs/fs_dstat.h"

static struct stat
dir_stat(mode_t mode)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFDIR | mode;
	return st;
}

static void
test_get_put(void **state)
{
	struct stat	 a = dir_stat(0755), b = dir_stat(0700), st;
	char		 key[32];
	int		 i;

	(void)state;
	fsds_init(60000);
	assert_int_equal(fsds_get("b1", "d", &st), 0);
	fsds_put("b1", "d", &a, 0);
	fsds_put("b2", "d", &b, 0);
	assert_int_equal(fsds_get("b1", "d", &st), 1);
	assert_int_equal(st.st_mode, S_IFDIR | 0755);
	assert_int_equal(fsds_get("b2", "d", &st), 1);
	assert_int_equal(st.st_mode, S_IFDIR | 0700);
	/* "b1"/"d" and "b1d"/"" are different paths. */
	assert_int_equal(fsds_get("b1d", "", &st), 0);
	assert_int_equal(fsds_get("b1", "d/e", &st), 0);
	/* Many more directories than slots: some answers are overwritten,
	 * none is ever given for another path. */
	for (i = 0; i < 2000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		fsds_put("b1", key, (i % 2) ? &a : &b, 0);
	}
	for (i = 0; i < 2000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		if (fsds_get("b1", key, &st))
			assert_int_equal(st.st_mode,
			    S_IFDIR | ((i % 2) ? 0755 : 0700));
	}
	fsds_fini();
	assert_int_equal(fsds_get("b2", "d", &st), 0);
}

static void
test_unlinked(void **state)
{
	struct stat st, a = dir_stat(0755);

	(void)state;
	fsds_init(60000);
	fsds_put("b", "implied", &a, 1);
	fsds_put("b", "marked", &a, 0);
	fsds_put("b", "x/y", &a, 1);
	fsds_unlinked("b", "implied/f");
	fsds_unlinked("b", "marked/f");
	fsds_unlinked("b", "top");		/* no parent: nothing */
	assert_int_equal(fsds_get("b", "implied", &st), 0);
	assert_int_equal(fsds_get("b", "marked", &st), 1);
	assert_int_equal(fsds_get("b", "x/y", &st), 1);
	fsds_unlinked("b", "x/y/z");
	assert_int_equal(fsds_get("b", "x/y", &st), 0);
	fsds_clear();
	assert_int_equal(fsds_get("b", "marked", &st), 0);
	fsds_fini();
}

static void
test_timeout(void **state)
{
	struct stat		 st, a = dir_stat(0755);
	struct timespec		 ts = { 0, 30 * 1000000L };

	(void)state;
	fsds_init(20);
	fsds_put("b", "d", &a, 0);
	assert_int_equal(fsds_get("b", "d", &st), 1);
	nanosleep(&ts, NULL);
	assert_int_equal(fsds_get("b", "d", &st), 0);
	fsds_fini();
	fsds_init(0);
	fsds_put("b", "d", &a, 0);
	assert_int_equal(fsds_get("b", "d", &st), 0);
	fsds_fini();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_put),
		cmocka_unit_test(test_unlinked),
		cmocka_unit_test(test_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
