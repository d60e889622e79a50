/*
 * test_fs_slots.c - arkorfs's fragment slots: which fragments a write or
 * truncate must fetch, which it dirties, and the commit plan (fragments
 * reused as they are, local runs cut into new fragments of at most the
 * fragment size), for overwrites, writes across two fragments, appends,
 * shrinking and growing truncates, holes and odd layouts.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "fs/fs_slots.h"

#define K	1024u
#define FSZ	(4 * K)

/* A layout of n fragments of FSZ bytes back to back, all absent. */
static struct fss *
even(size_t n, uint64_t last)
{
	struct fss_ext	 e[16];
	struct fss	*s;
	size_t		 i;

	for (i = 0; i < n; i++) {
		e[i].off = i * FSZ;
		e[i].len = i + 1 == n ? last : FSZ;
	}
	assert_int_equal(fss_new(e, n, &s), ARK_OK);
	return s;
}

/* fss_piece_at must find piece p from its first, middle and last byte. */
static void
same_piece(const struct fss *s, uint64_t size, const struct fss_piece *p)
{
	uint64_t		 at[3] = { p->off, p->off + p->len / 2,
				    p->off + p->len - 1 };
	struct fss_piece	 q;
	size_t			 i;

	for (i = 0; i < 3; i++) {
		assert_int_equal(fss_piece_at(s, size, FSZ, at[i], &q), 1);
		assert_int_equal(q.off, p->off);
		assert_int_equal(q.len, p->len);
		assert_int_equal(q.reuse, p->reuse);
	}
}

/* The plan as text: "r<i>" reused, "n<off>+<len>" new, space separated;
 * every piece is also checked against fss_piece_at. */
static const char *
plan(const struct fss *s, uint64_t size)
{
	static char	 out[1024];
	struct fss_iter	 it;
	struct fss_piece p;
	size_t		 o = 0;

	memset(&it, 0, sizeof(it));
	out[0] = '\0';
	while (fss_next(s, size, FSZ, &it, &p)) {
		same_piece(s, size, &p);
		if (p.reuse != FSS_NONE)
			o += (size_t)snprintf(out + o, sizeof(out) - o, "%sr%zu",
			    o ? " " : "", p.reuse);
		else
			o += (size_t)snprintf(out + o, sizeof(out) - o,
			    "%sn%llu+%llu", o ? " " : "",
			    (unsigned long long)p.off,
			    (unsigned long long)p.len);
	}
	assert_int_equal(fss_piece_at(s, size, FSZ, size, &p), 0);
	return out;
}

static void
test_untouched(void **state)
{
	struct fss *s = even(4, FSZ);

	(void)state;
	assert_string_equal(plan(s, 4 * FSZ), "r0 r1 r2 r3");
	assert_int_equal(fss_at(s, 0), 0);
	assert_int_equal(fss_at(s, FSZ - 1), 0);
	assert_int_equal(fss_at(s, FSZ), 1);
	assert_int_equal(fss_at(s, 4 * FSZ), 4);
	fss_free(s);
}

static void
test_small_overwrite(void **state)
{
	struct fss	*s = even(4, FSZ);
	size_t		 idx[3];

	(void)state;
	/* 100 bytes inside fragment 2: fetch it, rewrite only it. */
	assert_int_equal(fss_write_fetch(s, 2 * FSZ + 10, 100, FSZ, idx), 1);
	assert_int_equal(idx[0], 2);
	fss_set(s, 2, FSS_PRESENT);
	assert_int_equal(fss_write_fetch(s, 2 * FSZ + 10, 100, FSZ, idx), 0);
	fss_write(s, 2 * FSZ + 10, 100, FSZ);
	assert_int_equal(fss_state(s, 2), FSS_DIRTY);
	assert_int_equal(fss_state(s, 1), FSS_ABSENT);
	assert_string_equal(plan(s, 4 * FSZ), "r0 r1 n8192+4096 r3");
	fss_free(s);
}

static void
test_whole_and_spanning(void **state)
{
	struct fss	*s = even(4, FSZ);
	size_t		 idx[3];

	(void)state;
	/* Exactly fragment 1: nothing to fetch. */
	assert_int_equal(fss_write_fetch(s, FSZ, FSZ, FSZ, idx), 0);
	fss_write(s, FSZ, FSZ, FSZ);
	/* Across the boundary of 2 and 3: both fetched, both rewritten. */
	assert_int_equal(fss_write_fetch(s, 3 * FSZ - 5, 10, FSZ, idx), 2);
	assert_int_equal(idx[0], 2);
	assert_int_equal(idx[1], 3);
	fss_set(s, 2, FSS_PRESENT);
	fss_set(s, 3, FSS_PRESENT);
	fss_write(s, 3 * FSZ - 5, 10, FSZ);
	assert_string_equal(plan(s, 4 * FSZ),
	    "r0 n4096+4096 n8192+4096 n12288+4096");
	/* Covering 0 entirely and 1 already dirty: no fetch. */
	assert_int_equal(fss_write_fetch(s, 0, 2 * FSZ, FSZ, idx), 0);
	fss_free(s);
}

static void
test_append(void **state)
{
	struct fss	*s = even(3, FSZ);
	size_t		 idx[3];

	(void)state;
	/* Full last fragment: appended bytes are new fragments. */
	assert_int_equal(fss_write_fetch(s, 3 * FSZ, 6 * K, FSZ, idx), 0);
	fss_write(s, 3 * FSZ, 6 * K, FSZ);
	assert_string_equal(plan(s, 3 * FSZ + 6 * K),
	    "r0 r1 r2 n12288+4096 n16384+2048");
	fss_free(s);

	/* A short last fragment is fetched and rewritten with the bytes
	 * appended after it, so appends do not pile up small fragments. */
	s = even(3, K);
	assert_int_equal(fss_write_fetch(s, 2 * FSZ + K, K, FSZ, idx), 1);
	assert_int_equal(idx[0], 2);
	fss_set(s, 2, FSS_PRESENT);
	fss_write(s, 2 * FSZ + K, K, FSZ);
	assert_int_equal(fss_state(s, 2), FSS_DIRTY);
	assert_string_equal(plan(s, 2 * FSZ + 2 * K), "r0 r1 n8192+2048");
	fss_free(s);
}

static void
test_truncate(void **state)
{
	struct fss	*s = even(4, FSZ);
	size_t		 i;

	(void)state;
	/* Shrink into the middle of fragment 1: it is fetched and cut,
	 * 2 and 3 are dropped. */
	assert_int_equal(fss_trunc_fetch(s, FSZ + 100, &i), 1);
	assert_int_equal(i, 1);
	fss_set(s, 1, FSS_PRESENT);
	fss_truncate(s, FSZ + 100);
	assert_int_equal(fss_state(s, 1), FSS_DIRTY);
	assert_int_equal(fss_state(s, 2), FSS_GONE);
	assert_string_equal(plan(s, FSZ + 100), "r0 n4096+100");
	/* Grow again: a hole after the cut (the caller skips pieces that
	 * are holes in its temp file). */
	fss_truncate(s, 3 * FSZ);
	assert_string_equal(plan(s, 3 * FSZ), "r0 n4096+4096 n8192+4096");
	fss_free(s);

	/* On a boundary nothing is fetched. */
	s = even(4, FSZ);
	assert_int_equal(fss_trunc_fetch(s, 2 * FSZ, &i), 0);
	fss_truncate(s, 2 * FSZ);
	assert_string_equal(plan(s, 2 * FSZ), "r0 r1");
	/* Growing keeps everything. */
	fss_truncate(s, 9 * FSZ);
	assert_string_equal(plan(s, 2 * FSZ + 10), "r0 r1 n8192+10");
	/* To zero: all gone. */
	fss_truncate(s, 0);
	assert_int_equal(fss_state(s, 0), FSS_GONE);
	assert_string_equal(plan(s, 0), "");
	assert_string_equal(plan(s, 10), "n0+10");
	fss_free(s);
}

static void
test_holes_and_layouts(void **state)
{
	struct fss_ext	 e[3] = { { 0, FSZ }, { 3 * FSZ, FSZ },
	    { 4 * FSZ, 100 } };
	struct fss_ext	 bad[2] = { { 0, FSZ }, { FSZ - 1, 10 } };
	struct fss_ext	 empty[1] = { { 0, 0 } };
	struct fss	*s;
	size_t		 idx[3];

	(void)state;
	assert_int_equal(fss_new(e, 3, &s), ARK_OK);
	/* The registry's hole [4K, 12K) is a local run of zeros. */
	assert_string_equal(plan(s, 4 * FSZ + 100), "r0 n4096+4096 "
	    "n8192+4096 r1 r2");
	/* A write into the hole fetches nothing. */
	assert_int_equal(fss_write_fetch(s, FSZ + 5, 5, FSZ, idx), 0);
	fss_write(s, FSZ + 5, 5, FSZ);
	assert_int_equal(fss_state(s, 0), FSS_ABSENT);
	assert_int_equal(fss_state(s, 1), FSS_ABSENT);
	fss_free(s);

	assert_int_equal(fss_new(bad, 2, &s), ARK_EINVAL);
	assert_null(s);
	assert_int_equal(fss_new(empty, 1, &s), ARK_OK);
	assert_int_equal(fss_state(s, 0), FSS_GONE);
	assert_string_equal(plan(s, 0), "");
	fss_free(s);
	assert_int_equal(fss_new(NULL, 0, &s), ARK_OK);
	assert_string_equal(plan(s, 3 * FSZ + 1), "n0+4096 n4096+4096 "
	    "n8192+4096 n12288+1");
	fss_free(s);
	fss_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_untouched),
		cmocka_unit_test(test_small_overwrite),
		cmocka_unit_test(test_whole_and_spanning),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_holes_and_layouts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
