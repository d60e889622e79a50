/*
 * test_chunk.c - needle header codec and chunk files: create/reopen with
 * the journal, reservations filled concurrently and resolved out of order
 * (journal stays in offset order), a torn header overwrite of a reserved
 * region followed by a durable needle (recovery pads it and keeps the
 * later one), torn tails, a damaged superblock, and walking.
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

#include "common/cksum.h"
#include "data/chunk.h"
#include "data/needle.h"
#include "data_testutil.h"

#define MAXSZ	(1 << 20)

struct seen {
	int		 n;
	uint64_t	 key[64];
	uint64_t	 off[64];
	uint16_t	 flags[64];
};

static int
seen_fn(void *arg, uint32_t id, uint64_t off, const struct needle_hdr *h)
{
	struct seen *s = arg;

	(void)id;
	if (s->n < 64) {
		s->key[s->n] = h->key;
		s->off[s->n] = off;
		s->flags[s->n] = h->flags;
		s->n++;
	}
	return 0;
}

static int
setup(void **state)
{
	*state = tu_mkdtemp();
	return 0;
}

static int
teardown(void **state)
{
	tu_rmrf(*state);
	free(*state);
	return 0;
}

static void
test_needle_codec(void **state)
{
	struct needle_hdr h = { .key = 0x0123456789abcdefULL,
	    .cookie = 0xdeadbeef, .size = 1000, .flags = 0, .crc = 42 }, d;
	unsigned char b[NEEDLE_HDR_SIZE];

	(void)state;
	assert_int_equal(needle_reclen(0), 32);
	assert_int_equal(needle_reclen(1), 40);
	assert_int_equal(needle_reclen(8), 40);
	assert_int_equal(needle_reclen(9), 48);
	needle_encode(&h, b);
	assert_memory_equal(b, "ARKN", 4);
	assert_int_equal(needle_decode(b, &d), ARK_OK);
	assert_int_equal(d.key, h.key);
	assert_int_equal(d.cookie, h.cookie);
	assert_int_equal(d.size, h.size);
	assert_int_equal(d.crc, h.crc);
	b[12] ^= 1;			/* key byte: header CRC catches it */
	memset(&d, 0, sizeof(d));
	assert_int_equal(needle_decode(b, &d), ARK_ECORRUPT);
	assert_int_equal(d.size, 1000);	/* still trusted */
	b[0] = 'X';
	assert_int_equal(needle_decode(b, &d), ARK_EPROTO);
	/* Unknown flags and a tombstone with data are refused. */
	h.flags = 0x80;
	needle_encode(&h, b);
	assert_int_equal(needle_decode(b, &d), ARK_ECORRUPT);
	h.flags = NEEDLE_F_TOMBSTONE;
	needle_encode(&h, b);
	assert_int_equal(needle_decode(b, &d), ARK_ECORRUPT);
}

/* Writes a needle through a reservation; returns its offset. */
static uint64_t
put_one(struct chunk *c, uint64_t key, uint32_t size, uint64_t seq,
    int journal)
{
	static unsigned char data[4096];
	unsigned char hb[NEEDLE_HDR_SIZE];
	struct needle_hdr h = { .key = key, .cookie = 7, .size = size };
	struct chunk_resv *r;
	uint64_t off;

	assert_true(size <= sizeof(data));
	tu_fill(data, size, key);
	h.crc = ark_crc32c(0, data, size);
	assert_int_equal(chunk_reserve(c, size, &r, &off), ARK_OK);
	assert_int_equal(chunk_pwrite(c, off + NEEDLE_HDR_SIZE, data, size),
	    ARK_OK);
	needle_encode(&h, hb);
	assert_int_equal(chunk_pwrite(c, off, hb, sizeof(hb)), ARK_OK);
	chunk_resolve(c, r, &h, seq);
	if (journal)
		chunk_journal_advance(c, seq);
	return off;
}

static void
test_create_reopen(void **state)
{
	const char *dir = *state;
	struct chunk_open_info info;
	struct chunk *c;
	struct seen s;
	uint64_t off[3];

	assert_int_equal(chunk_create(dir, 5, MAXSZ, NULL, &c), ARK_OK);
	assert_int_equal(chunk_create(dir, 5, MAXSZ, NULL, &c), ARK_EEXIST);
	off[0] = put_one(c, 1, 10, 1, 1);
	off[1] = put_one(c, 2, 0, 2, 1);
	off[2] = put_one(c, 3, 100, 3, 0);	/* not journaled */
	assert_int_equal(off[0], CHUNK_SB_SIZE);
	assert_int_equal(off[1], CHUNK_SB_SIZE + 48);
	assert_int_equal(chunk_tail(c), off[2] + needle_reclen(100));
	chunk_unref(c);

	memset(&s, 0, sizeof(s));
	assert_int_equal(chunk_open(dir, 5, MAXSZ, seen_fn, &s, &info, &c),
	    ARK_OK);
	assert_int_equal(info.journaled, 2);
	assert_int_equal(info.scanned, 1);
	assert_int_equal(info.cut_bytes, 0);
	assert_int_equal(s.n, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(s.key[i], (uint64_t)i + 1);
		assert_int_equal(s.off[i], off[i]);
	}
	chunk_unref(c);
	/* The scanned record was appended to the journal. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(chunk_open(dir, 5, MAXSZ, seen_fn, &s, &info, &c),
	    ARK_OK);
	assert_int_equal(info.journaled, 3);
	assert_int_equal(info.scanned, 0);
	chunk_unref(c);
	assert_int_equal(chunk_open(dir, 6, MAXSZ, NULL, NULL, NULL, &c),
	    ARK_ENOENT);
}

static void
test_out_of_order_resolve(void **state)
{
	const char *dir = *state;
	struct chunk_open_info info;
	struct needle_hdr h[3];
	struct chunk_resv *r[3];
	struct chunk *c;
	uint64_t off[3];
	struct seen s;

	assert_int_equal(chunk_create(dir, 0, MAXSZ, NULL, &c), ARK_OK);
	for (int i = 0; i < 3; i++) {
		memset(&h[i], 0, sizeof(h[i]));
		h[i].key = (uint64_t)i + 10;
		assert_int_equal(chunk_reserve(c, 0, &r[i], &off[i]), ARK_OK);
	}
	assert_int_equal(chunk_inflight(c), 3);
	assert_int_equal(chunk_stable_end(c), off[0]);
	/* Third and first commit, second aborts: records are emitted for the
	 * resolved prefix only, in offset order. */
	for (int i = 2; i >= 0; i -= 2) {
		unsigned char hb[NEEDLE_HDR_SIZE];

		needle_encode(&h[i], hb);
		assert_int_equal(chunk_pwrite(c, off[i], hb, sizeof(hb)),
		    ARK_OK);
	}
	chunk_resolve(c, r[2], &h[2], 1);
	chunk_journal_advance(c, 10);
	assert_int_equal(chunk_stable_end(c), off[0]);
	chunk_resolve(c, r[0], &h[0], 2);
	chunk_journal_advance(c, 1);	/* seq 2 is not durable yet */
	assert_int_equal(chunk_stable_end(c), off[1]);	/* but finished */
	chunk_resolve(c, r[1], NULL, 0);
	chunk_journal_advance(c, 2);
	assert_int_equal(chunk_inflight(c), 0);
	assert_int_equal(chunk_stable_end(c), chunk_tail(c));
	chunk_unref(c);

	memset(&s, 0, sizeof(s));
	assert_int_equal(chunk_open(dir, 0, MAXSZ, seen_fn, &s, &info, &c),
	    ARK_OK);
	assert_int_equal(info.journaled, 2);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.key[0], 10);
	assert_int_equal(s.key[1], 12);
	chunk_unref(c);
}

/*
 * Reservation A is overwritten by its final header when power fails, with
 * the new header half written; B behind it was acknowledged. Recovery must
 * keep B, pad A, and not cut the file at A.
 */
static void
test_torn_header_overwrite(void **state)
{
	const char *dir = *state;
	struct chunk_open_info info;
	struct needle_hdr ha = { .key = 1, .cookie = 1, .size = 64 };
	struct needle_hdr hpad;
	unsigned char hb[NEEDLE_HDR_SIZE], data[64];
	struct chunk_resv *ra;
	struct chunk *c;
	uint64_t offa, offb;
	struct seen s;

	assert_int_equal(chunk_create(dir, 0, MAXSZ, NULL, &c), ARK_OK);
	assert_int_equal(chunk_reserve(c, 64, &ra, &offa), ARK_OK);
	offb = put_one(c, 2, 100, 1, 0);
	tu_fill(data, 32, 1);		/* half of A's data arrived */
	assert_int_equal(chunk_pwrite(c, offa + NEEDLE_HDR_SIZE, data, 32),
	    ARK_OK);
	ha.crc = 12345;
	needle_encode(&ha, hb);
	/* Only the second half of the final header reached the disk. */
	assert_int_equal(chunk_pwrite(c, offa + 16, hb + 16, 16), ARK_OK);
	chunk_unref(c);		/* "crash": A never resolved */

	memset(&s, 0, sizeof(s));
	assert_int_equal(chunk_open(dir, 0, MAXSZ, seen_fn, &s, &info, &c),
	    ARK_OK);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.key[0], 2);
	assert_int_equal(s.off[0], offb);
	assert_int_equal(info.padded, 1);
	assert_int_equal(info.cut_bytes, 0);
	assert_int_equal(chunk_read_hdr(c, offa, &hpad), ARK_OK);
	assert_true(hpad.flags & NEEDLE_F_PAD);
	assert_int_equal(hpad.size, 64);
	chunk_unref(c);
}

/* A complete header whose data never fully landed: padded, not kept. */
static void
test_torn_data(void **state)
{
	const char *dir = *state;
	struct chunk_open_info info;
	struct chunk *c;
	struct seen s;
	uint64_t off;

	assert_int_equal(chunk_create(dir, 0, MAXSZ, NULL, &c), ARK_OK);
	off = put_one(c, 1, 200, 1, 0);
	(void)put_one(c, 2, 8, 2, 0);
	chunk_unref(c);
	tu_flip(dir, "chunk_0.dat", (long long)off + NEEDLE_HDR_SIZE + 100);
	memset(&s, 0, sizeof(s));
	assert_int_equal(chunk_open(dir, 0, MAXSZ, seen_fn, &s, &info, &c),
	    ARK_OK);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.key[0], 2);
	assert_int_equal(info.padded, 1);
	chunk_unref(c);
}

static void
test_bad_superblock(void **state)
{
	const char *dir = *state;
	struct chunk *c;

	assert_int_equal(chunk_create(dir, 0, MAXSZ, NULL, &c), ARK_OK);
	(void)put_one(c, 1, 10, 1, 1);
	chunk_unref(c);
	tu_flip(dir, "chunk_0.dat", 20);
	assert_int_equal(chunk_open(dir, 0, MAXSZ, NULL, NULL, NULL, &c),
	    ARK_ECORRUPT);
	/* A file shorter than a superblock was being created: reinitialised. */
	tu_truncate(dir, "chunk_0.dat", 10);
	assert_int_equal(chunk_open(dir, 0, MAXSZ, NULL, NULL, NULL, &c),
	    ARK_OK);
	assert_int_equal(chunk_tail(c), CHUNK_SB_SIZE);
	chunk_unref(c);
}

struct walked {
	int		 good, bad;
};

static int
walk_fn(void *arg, uint64_t off, const struct needle_hdr *h, enum ark_err rc)
{
	struct walked *w = arg;

	(void)off;
	(void)h;
	if (rc == ARK_OK)
		w->good++;
	else
		w->bad++;
	return 0;
}

static void
test_walk_resync(void **state)
{
	const char *dir = *state;
	struct walked w = { 0, 0 };
	struct chunk *c;
	uint64_t off[4];

	assert_int_equal(chunk_create(dir, 0, MAXSZ, NULL, &c), ARK_OK);
	for (int i = 0; i < 4; i++)
		off[i] = put_one(c, (uint64_t)i + 1, 300, (uint64_t)i + 1, 1);
	assert_int_equal(chunk_walk(c, 0, chunk_tail(c), walk_fn, &w), ARK_OK);
	assert_int_equal(w.good, 4);
	tu_flip(dir, "chunk_0.dat", (long long)off[1] + 3);	/* magic */
	memset(&w, 0, sizeof(w));
	assert_int_equal(chunk_walk(c, 0, chunk_tail(c), walk_fn, &w), ARK_OK);
	assert_int_equal(w.good, 3);
	assert_int_equal(w.bad, 1);
	chunk_unref(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_needle_codec),
		cmocka_unit_test_setup_teardown(test_create_reopen, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_out_of_order_resolve,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_header_overwrite,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_data, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_superblock, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_walk_resync, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("chunk", tests, NULL, NULL);
}
