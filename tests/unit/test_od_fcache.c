/*
 * test_od_fcache.c - arkor-objectd's fragment cache (od_fcache.c): whole
 * fragments by FileID, sub-ranges served from them, the length check,
 * the size limit per fragment, least-recently-used eviction under the
 * byte budget, a table that grows past its first buckets, and a cache of
 * size 0 that keeps nothing.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <event2/buffer.h>

#include "object/od_fcache.h"

/* Fragment `fid` of n bytes: byte i is (seed + i) & 0xff. */
static struct evbuffer *
frag(unsigned seed, size_t n)
{
	struct evbuffer *b = evbuffer_new();

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)(seed + i);

		evbuffer_add(b, &c, 1);
	}
	return b;
}

/* Whether bytes [off, off + n) of fragment (seed, len) come back. */
static int
reads(struct od_fcache *c, const char *fid, unsigned seed, size_t len,
    size_t off, size_t n)
{
	struct evbuffer *out = evbuffer_new();
	unsigned char *p;
	int hit = od_fcache_get(c, fid, len, off, n, out);

	if (hit) {
		assert_int_equal(evbuffer_get_length(out), n);
		p = evbuffer_pullup(out, -1);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(p[i], (unsigned char)(seed + off + i));
	} else
		assert_int_equal(evbuffer_get_length(out), 0);
	evbuffer_free(out);
	return hit;
}

static void
test_get_put(void **state)
{
	struct od_fcache *c = od_fcache_new(1 << 20, 64 << 10);
	struct evbuffer *b = frag(7, 4096);
	struct od_fcache_stats st;

	(void)state;
	assert_false(reads(c, "1,abc", 7, 4096, 0, 4096));
	od_fcache_put(c, "1,abc", b);
	assert_int_equal(evbuffer_get_length(b), 4096);	/* left as is */
	assert_true(reads(c, "1,abc", 7, 4096, 0, 4096));
	assert_true(reads(c, "1,abc", 7, 4096, 100, 1));
	assert_true(reads(c, "1,abc", 7, 4096, 4000, 96));
	assert_false(reads(c, "1,abc", 7, 4096, 4000, 97));	/* past end */
	assert_false(reads(c, "1,abc", 7, 4095, 0, 10));	/* other length */
	assert_false(reads(c, "1,abd", 7, 4096, 0, 10));	/* other fid */
	od_fcache_stats(c, &st);
	assert_int_equal(st.items, 1);
	assert_int_equal(st.hits, 3);
	assert_int_equal(st.misses, 3);	/* a range past the end: no lookup */
	assert_true(st.bytes > 4096);
	evbuffer_free(b);
	od_fcache_free(c);
}

static void
test_limits(void **state)
{
	struct od_fcache *c = od_fcache_new(1 << 20, 8192);
	struct od_fcache *none = od_fcache_new(0, 8192);
	struct evbuffer *big = frag(1, 8193), *ok = frag(2, 8192);
	struct od_fcache_stats st;

	(void)state;
	assert_false(od_fcache_fits(c, 0));
	assert_true(od_fcache_fits(c, 8192));
	assert_false(od_fcache_fits(c, 8193));
	od_fcache_put(c, "1,big", big);
	assert_false(reads(c, "1,big", 1, 8193, 0, 1));
	od_fcache_put(c, "1,ok", ok);
	assert_true(reads(c, "1,ok", 2, 8192, 0, 8192));
	od_fcache_put(none, "1,ok", ok);
	assert_false(od_fcache_fits(none, 1));
	assert_false(reads(none, "1,ok", 2, 8192, 0, 1));
	od_fcache_stats(none, &st);
	assert_int_equal(st.items, 0);
	assert_int_equal(st.bytes, 0);
	evbuffer_free(big);
	evbuffer_free(ok);
	od_fcache_free(c);
	od_fcache_free(none);
}

/* A budget for about four 4 KiB fragments: the least recently read go. */
static void
test_lru(void **state)
{
	struct od_fcache *c = od_fcache_new(4 * 4096 + 1024, 4096);
	struct od_fcache_stats st;
	char fid[32];

	(void)state;
	for (unsigned i = 0; i < 4; i++) {
		struct evbuffer *b = frag(i, 4096);

		snprintf(fid, sizeof(fid), "1,%x", i);
		od_fcache_put(c, fid, b);
		evbuffer_free(b);
	}
	od_fcache_stats(c, &st);
	assert_int_equal(st.items, 4);
	assert_true(st.bytes <= 4 * 4096 + 1024);
	assert_true(reads(c, "1,0", 0, 4096, 0, 4096));	/* 0 is recent now */
	for (unsigned i = 4; i < 6; i++) {
		struct evbuffer *b = frag(i, 4096);

		snprintf(fid, sizeof(fid), "1,%x", i);
		od_fcache_put(c, fid, b);
		evbuffer_free(b);
	}
	assert_true(reads(c, "1,0", 0, 4096, 0, 10));
	assert_false(reads(c, "1,1", 1, 4096, 0, 10));
	assert_false(reads(c, "1,2", 2, 4096, 0, 10));
	assert_true(reads(c, "1,3", 3, 4096, 0, 10));
	assert_true(reads(c, "1,5", 5, 4096, 0, 10));
	od_fcache_stats(c, &st);
	assert_int_equal(st.items, 4);
	assert_true(st.bytes <= 4 * 4096 + 1024);
	od_fcache_free(c);
}

/* 5,000 entries: the table grows, every entry is still found. */
static void
test_many(void **state)
{
	struct od_fcache *c = od_fcache_new(64 << 20, 4096);
	struct od_fcache_stats st;
	char fid[32];

	(void)state;
	for (unsigned i = 0; i < 5000; i++) {
		struct evbuffer *b = frag(i, 100 + i % 50);

		snprintf(fid, sizeof(fid), "%u,%x", i % 7, i * 2654435761u);
		od_fcache_put(c, fid, b);
		od_fcache_put(c, fid, b);	/* twice: kept once */
		evbuffer_free(b);
	}
	for (unsigned i = 0; i < 5000; i++) {
		snprintf(fid, sizeof(fid), "%u,%x", i % 7, i * 2654435761u);
		assert_true(reads(c, fid, i, 100 + i % 50, 0, 100 + i % 50));
	}
	od_fcache_stats(c, &st);
	assert_int_equal(st.items, 5000);
	od_fcache_free(c);
	od_fcache_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_put),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_lru),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
