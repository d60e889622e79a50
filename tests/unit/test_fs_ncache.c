/*
 * test_fs_ncache.c - arkorfs's name cache against registry answers made
 * up here: lookups kept at their change count; this mount's writes kept
 * when nobody wrote in between and everything dropped when someone did
 * (or a write failed, or a rename came); a directory made from a name
 * known absent answers its unknown names as absent; removals leave
 * "unknown" (and forget implied parents), from the moment a file's
 * delete is in flight; old answers are ignored;
 * answers past the timeout need a bucket/get; the size bound holds.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <jansson.h>

#include "fs/fs_ncache.h"

/* fsnc_observe, taking the JSON (body, ans may be NULL). */
static void
observe(const char *route, json_t *body, int status, json_t *ans)
{
	fsnc_observe(route, body, status, ans);
	json_decref(body);
	json_decref(ans);
}

static enum fsnc_res
look(const char *key)
{
	json_t		*o = NULL;
	int64_t		 age = -1;
	enum fsnc_res	 r = fsnc_lookup("b", key, &o, &age);

	if (r == FSNC_HIT || r == FSNC_ABSENT)
		assert_true(age >= 0 && age < 1000);

	assert_true((r == FSNC_HIT) == (o != NULL));
	json_decref(o);
	return r;
}

/* object/get of key with "dir" answered `status` at count n. */
static void
get(const char *key, int status, int64_t n, int dir)
{
	json_t *body = json_pack("{s:s, s:s, s:b}", "bucket", "b", "key", key,
	    "dir", 1);
	json_t *ans = status == 404 ? json_pack("{s:s, s:I}", "error",
	    "not_found", "nseq", (json_int_t)n) : dir ?
	    json_pack("{s:b, s:I}", "dir", 1, "nseq", (json_int_t)n) :
	    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "size", 5, "mode",
	    0100644, "uid", 0, "gid", 0, "mtime_ms", 1000, "nseq",
	    (json_int_t)n);

	observe("object/get", body, status, ans);
}

/* A write of key by this mount, answered [before, after]. */
static void
write1(const char *route, const char *key, int status, int64_t before,
    int64_t after)
{
	json_t *body = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I}",
	    "bucket", "b", "key", key, "size", 0, "mode",
	    key[strlen(key) - 1] == '/' ? 040755 : 0100644, "uid", 1, "gid", 1,
	    "mtime_ms", 2000);
	json_t *ans = json_pack("{s:[I, I], s:I, s:I, s:I, s:I, s:I}", "nseq",
	    (json_int_t)before, (json_int_t)after, "size", 7, "mode",
	    0100600, "uid", 1, "gid", 1, "mtime_ms", 3000);

	if (status == 0) {
		json_decref(ans);
		ans = NULL;
	}
	observe(route, body, status, ans);
}

static void
test_reads_and_own_writes(void **state)
{
	(void)state;
	fsnc_init(60000, 1000);
	assert_int_equal(look("f"), FSNC_MISS);
	get("f", 200, 10, 0);
	get("none", 404, 10, 0);
	get("d", 200, 10, 1);
	assert_int_equal(look("f"), FSNC_HIT);
	assert_int_equal(look("none"), FSNC_ABSENT);
	assert_int_equal(look("d"), FSNC_HIT);
	assert_int_equal(look("other"), FSNC_MISS);
	/* Ours alone (before = 10): the rest stays. */
	write1("object/put", "g", 200, 10, 11);
	assert_int_equal(look("g"), FSNC_HIT);
	assert_int_equal(look("f"), FSNC_HIT);
	write1("object/setattr", "f", 200, 11, 12);
	assert_int_equal(look("f"), FSNC_HIT);
	/* An older answer is not kept. */
	get("late", 404, 11, 0);
	assert_int_equal(look("late"), FSNC_MISS);
	/* Someone wrote (before 13, we knew 12): all dropped but ours. */
	write1("object/put", "h", 200, 13, 14);
	assert_int_equal(look("h"), FSNC_HIT);
	assert_int_equal(look("f"), FSNC_MISS);
	assert_int_equal(look("none"), FSNC_MISS);
	/* A read at a newer count drops too. */
	get("x", 404, 15, 0);
	assert_int_equal(look("h"), FSNC_MISS);
	assert_int_equal(look("x"), FSNC_ABSENT);
	fsnc_fini();
}

/* A write of key about to be sent. */
static void
begin(const char *route, const char *key)
{
	observe(route, json_pack("{s:s, s:s}", "bucket", "b", "key", key), -1,
	    NULL);
}

/* Reads that see this mount's own writes before their answers (two
 * threads: rsync's processes, make -j). */
static void
test_writes_in_flight(void **state)
{
	(void)state;
	fsnc_init(60000, 1000);
	get("f", 200, 10, 0);
	observe("object/put", json_pack("{s:s, s:s}", "bucket", "b", "key",
	    "g"), -1, NULL);
	get("x", 404, 11, 0);		/* sees the put: kept for nothing */
	observe("bucket/get", json_pack("{s:s}", "bucket", "b"), 200,
	    json_pack("{s:I}", "nseq", 11));
	assert_int_equal(look("f"), FSNC_HIT);
	assert_int_equal(look("x"), FSNC_MISS);
	write1("object/put", "g", 200, 10, 11);	/* its answer: applied */
	assert_int_equal(look("f"), FSNC_HIT);
	assert_int_equal(look("g"), FSNC_HIT);
	/* Another writer came first: the answer's count shows it. */
	observe("object/delete", json_pack("{s:s, s:s}", "bucket", "b", "key",
	    "g"), -1, NULL);
	get("y", 404, 13, 0);
	assert_int_equal(look("f"), FSNC_HIT);
	write1("object/delete", "g", 200, 12, 13);
	assert_int_equal(look("f"), FSNC_MISS);
	/* Two writes of ours answered out of order: the later waits for
	 * the earlier, then both apply. */
	get("f", 200, 13, 0);
	begin("object/put", "p");
	begin("object/put", "q");
	write1("object/put", "q", 200, 14, 15);
	assert_int_equal(look("f"), FSNC_HIT);
	write1("object/put", "p", 200, 13, 14);
	assert_int_equal(look("f"), FSNC_HIT);
	assert_int_equal(look("p"), FSNC_HIT);
	assert_int_equal(look("q"), FSNC_HIT);
	/* Until it applies, a waiting answer's names are not answered from
	 * what the cache held before it, not even in a directory this
	 * mount made (where a name not held is absent): the file, a
	 * directory's marker, a directory implied by a key under it. */
	get("c", 404, 15, 0);
	write1("object/put", "c/", 200, 15, 16);
	assert_int_equal(look("c/new"), FSNC_ABSENT);
	begin("object/put", "c/p");
	begin("object/put", "c/q");
	begin("object/put", "c/sub/");
	begin("object/put", "c/imp/x");
	write1("object/put", "c/q", 200, 17, 18);
	write1("object/put", "c/sub/", 200, 18, 19);
	write1("object/put", "c/imp/x", 200, 19, 20);
	assert_int_equal(look("c/q"), FSNC_MISS);
	assert_int_equal(look("c/sub"), FSNC_MISS);
	assert_int_equal(look("c/imp"), FSNC_MISS);
	assert_int_equal(look("c/new"), FSNC_ABSENT);
	assert_int_equal(look("f"), FSNC_HIT);
	write1("object/put", "c/p", 200, 16, 17);
	assert_int_equal(look("c/q"), FSNC_HIT);
	assert_int_equal(look("c/sub"), FSNC_HIT);
	assert_int_equal(look("c/new"), FSNC_ABSENT);
	/* An answer whose gap no write of ours fills: forgotten. */
	begin("object/put", "r");
	write1("object/put", "r", 200, 21, 22);
	assert_int_equal(look("f"), FSNC_MISS);
	/* Nothing in flight: a newer count is another writer's. */
	get("f", 200, 22, 0);
	get("z", 404, 23, 0);
	assert_int_equal(look("f"), FSNC_MISS);
	assert_int_equal(look("z"), FSNC_ABSENT);
	fsnc_fini();
}

/* An unlink answered before its delete is sent (fs_unlink): the name
 * and the directory it alone implied are unknown from the moment it is
 * in flight; the rest stays, and the answer applies as any other. */
static void
test_early_unlink(void **state)
{
	(void)state;
	fsnc_init(60000, 1000);
	get("imp/x", 200, 20, 0);
	get("imp", 200, 20, 1);
	get("f", 200, 20, 0);
	get("keep", 200, 20, 0);
	begin("object/delete", "imp/x");
	begin("object/delete", "f");
	assert_int_equal(look("imp/x"), FSNC_MISS);
	assert_int_equal(look("imp"), FSNC_MISS);
	assert_int_equal(look("f"), FSNC_MISS);
	assert_int_equal(look("keep"), FSNC_HIT);
	write1("object/delete", "imp/x", 200, 20, 21);
	write1("object/delete", "f", 200, 21, 22);
	assert_int_equal(look("keep"), FSNC_HIT);
	assert_int_equal(look("f"), FSNC_MISS);
	/* A directory marker's delete (rmdir) applies on its answer. */
	write1("object/put", "d/", 200, 22, 23);
	begin("object/delete", "d/");
	assert_int_equal(look("d"), FSNC_HIT);
	write1("object/delete", "d/", 200, 23, 24);
	assert_int_equal(look("d"), FSNC_MISS);
	assert_int_equal(look("keep"), FSNC_HIT);
	fsnc_fini();
}

static void
test_failures_and_renames(void **state)
{
	(void)state;
	fsnc_init(60000, 1000);
	get("f", 200, 10, 0);
	/* Refused (a setattr of a directory's name, a precondition):
	 * nothing changed, nothing is forgotten. */
	write1("object/setattr", "d", 404, 0, 0);
	write1("object/put", "g", 412, 0, 0);
	assert_int_equal(look("f"), FSNC_HIT);
	write1("object/put", "g", 500, 0, 0);
	assert_int_equal(look("f"), FSNC_MISS);
	get("f", 200, 12, 0);
	assert_int_equal(look("f"), FSNC_HIT);
	write1("object/delete", "g", 0, 0, 0);	/* no answer at all */
	assert_int_equal(look("f"), FSNC_MISS);
	get("f", 200, 13, 0);
	observe("object/rename", json_pack("{s:s, s:s}", "bucket", "b", "key",
	    "z"), 200, NULL);
	assert_int_equal(look("f"), FSNC_MISS);
	/* A rename of this mount within the bucket (rsync's temp file):
	 * the file moves, its old name is unknown, the rest stays. */
	get("f", 200, 20, 0);
	get("t", 200, 20, 0);
	get("g", 404, 20, 0);
	observe("object/rename", json_pack("{s:s, s:s, s:s, s:s}",
	    "src_bucket", "b", "src_key", "t", "bucket", "b", "key", "g"), 200,
	    json_pack("{s:[I, I]}", "nseq", (json_int_t)20, (json_int_t)21));
	assert_int_equal(look("g"), FSNC_HIT);
	assert_int_equal(look("t"), FSNC_MISS);
	assert_int_equal(look("f"), FSNC_HIT);
	/* Between buckets (no counts): dropped. */
	observe("object/rename", json_pack("{s:s, s:s, s:s, s:s}",
	    "src_bucket", "c", "src_key", "x", "bucket", "b", "key", "y"), 200,
	    json_pack("{}"));
	assert_int_equal(look("f"), FSNC_MISS);
	fsnc_fini();
}

static void
test_complete_dirs(void **state)
{
	(void)state;
	fsnc_init(60000, 1000);
	get("d", 404, 20, 0);
	write1("object/put", "d/", 200, 20, 21);	/* mkdir */
	assert_int_equal(look("d"), FSNC_HIT);
	assert_int_equal(look("d/anything"), FSNC_ABSENT);
	assert_int_equal(look("d/sub/deeper"), FSNC_MISS);
	write1("object/put", "d/a", 200, 21, 22);
	assert_int_equal(look("d/a"), FSNC_HIT);
	/* A removed file may still be a directory: ask. */
	write1("object/delete", "d/a", 200, 22, 23);
	assert_int_equal(look("d/a"), FSNC_MISS);
	assert_int_equal(look("d/b"), FSNC_ABSENT);
	/* mkdir in a complete directory (tar x, cp -r): the new directory
	 * is complete too, and its parent stays so. */
	write1("object/put", "d/s/", 200, 23, 24);
	assert_int_equal(look("d/s"), FSNC_HIT);
	assert_int_equal(look("d/s/x"), FSNC_ABSENT);
	assert_int_equal(look("d/c"), FSNC_ABSENT);
	/* chmod, utimens of a directory: known, and still complete. */
	write1("object/setattr", "d/s/", 200, 24, 25);
	assert_int_equal(look("d/s"), FSNC_HIT);
	assert_int_equal(look("d/s/x"), FSNC_ABSENT);
	assert_int_equal(look("d/c"), FSNC_ABSENT);
	write1("object/delete", "d/s/", 200, 25, 26);
	assert_int_equal(look("d/s"), FSNC_MISS);
	assert_int_equal(look("d/s/x"), FSNC_MISS);
	assert_int_equal(look("d/c"), FSNC_ABSENT);
	/* mkdir of a name not known absent: nothing is complete. */
	write1("object/put", "e/", 200, 26, 27);
	assert_int_equal(look("e"), FSNC_HIT);
	assert_int_equal(look("e/x"), FSNC_MISS);
	/* rmdir: the name and its children are unknown again. */
	write1("object/delete", "d/", 200, 27, 28);
	assert_int_equal(look("d"), FSNC_MISS);
	assert_int_equal(look("d/b"), FSNC_MISS);
	/* A directory implied by keys only may go with its last key. */
	get("i", 200, 28, 1);
	get("i/j", 200, 28, 1);
	write1("object/delete", "i/j/k", 200, 28, 29);
	assert_int_equal(look("i"), FSNC_MISS);
	assert_int_equal(look("i/j"), FSNC_MISS);
	fsnc_fini();
}

static void
test_timeout_and_bound(void **state)
{
	struct timespec	 ts = { 0, 40 * 1000000L };
	char		 key[16];
	int		 i;

	(void)state;
	fsnc_init(25, 100);
	get("f", 200, 30, 0);
	assert_int_equal(look("f"), FSNC_HIT);
	nanosleep(&ts, NULL);
	assert_int_equal(look("f"), FSNC_STALE);
	assert_int_equal(look("unknown"), FSNC_MISS);
	observe("bucket/get", json_pack("{s:s}", "bucket", "b"), 200,
	    json_pack("{s:I}", "nseq", 30));
	assert_int_equal(look("f"), FSNC_HIT);
	nanosleep(&ts, NULL);
	observe("bucket/get", json_pack("{s:s}", "bucket", "b"), 200,
	    json_pack("{s:I}", "nseq", 31));
	assert_int_equal(look("f"), FSNC_MISS);
	/* At most 100 names: past that the cache starts again. */
	for (i = 0; i < 250; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		get(key, 404, 31, 0);
	}
	assert_int_equal(look("k249"), FSNC_ABSENT);
	assert_int_equal(look("k0"), FSNC_MISS);
	fsnc_fini();
	/* A timeout of 0 keeps nothing. */
	fsnc_init(0, 100);
	get("f", 200, 40, 0);
	assert_int_equal(look("f"), FSNC_MISS);
	fsnc_fini();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_and_own_writes),
		cmocka_unit_test(test_writes_in_flight),
		cmocka_unit_test(test_early_unlink),
		cmocka_unit_test(test_failures_and_renames),
		cmocka_unit_test(test_complete_dirs),
		cmocka_unit_test(test_timeout_and_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
