/*
 * test_store.c - the chunk store end to end: round trips (empty, tiny,
 * multi-MiB), cookies, idempotent and conflicting puts, deletes across
 * restarts, journal plus tail recovery, a torn last needle cut at every
 * byte offset, body and journal corruption, streaming writes (CRC, short
 * body, abort, crash mid-write), chunk rollover, group commit, compaction
 * (online readers, crash before/between renames), the read-only floor,
 * scrub, resync (list, raw ranges, import), and drop-behind (large
 * needles leave the page cache after writing).
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <signal.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/vfs.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/cksum.h"
#include "common/log.h"
#include "common/util.h"
#include "data/chunk.h"
#include "data/needle.h"
#include "data/store.h"
#include "data_testutil.h"

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

static struct store *
open_store(const char *dir, enum store_sync pol, uint64_t chunk_size)
{
	struct store_opts o;
	struct store *st;

	store_opts_default(&o);
	o.sync = pol;
	if (chunk_size)
		o.chunk_size = chunk_size;
	assert_int_equal(store_open(dir, &o, &st), ARK_OK);
	return st;
}

static void
put_ok(struct store *st, uint64_t key, size_t len)
{
	unsigned char *b = malloc(len + 1);

	assert_non_null(b);
	tu_fill(b, len, key);
	assert_int_equal(store_put(st, key, (uint32_t)key ^ 0x5a5a, b, len),
	    ARK_OK);
	free(b);
}

/* Asserts key holds tu_fill(key, len), read back through the store. */
static void
check_key(struct store *st, uint64_t key, size_t len)
{
	struct store_loc loc;
	unsigned char *b = malloc(len + 1), *e = malloc(len + 1);

	assert_non_null(b);
	assert_non_null(e);
	assert_int_equal(store_get(st, key, (uint32_t)key ^ 0x5a5a, &loc),
	    ARK_OK);
	assert_int_equal(loc.size, len);
	assert_true(loc.fd >= 0);
	tu_fill(e, len, key);
	assert_int_equal(loc.crc, ark_crc32c(0, e, len));
	assert_int_equal(store_loc_read(&loc, b, len), ARK_OK);
	assert_memory_equal(b, e, len);
	/* What sendfile would read: fd at offset. */
	if (len > 0)
		assert_int_equal(pread(loc.fd, b, len, (off_t)loc.offset),
		    (ssize_t)len);
	assert_memory_equal(b, e, len);
	store_loc_release(&loc);
	free(b);
	free(e);
}

static void
check_absent(struct store *st, uint64_t key)
{
	struct store_loc loc;

	assert_int_equal(store_get(st, key, (uint32_t)key ^ 0x5a5a, &loc),
	    ARK_ENOENT);
}

static void
test_roundtrip(void **state)
{
	struct store *st = open_store(*state, STORE_SYNC_ALWAYS, 0);
	struct store_stats s;

	put_ok(st, 1, 0);
	put_ok(st, 2, 1);
	put_ok(st, 3, 13);
	put_ok(st, 4, 5 << 20);
	check_key(st, 1, 0);
	check_key(st, 2, 1);
	check_key(st, 3, 13);
	check_key(st, 4, 5 << 20);
	check_absent(st, 5);
	store_stats(st, &s);
	assert_int_equal(s.needles, 4);
	assert_int_equal(s.chunks, 1);
	assert_int_equal(s.live_bytes, needle_reclen(0) + needle_reclen(1) +
	    needle_reclen(13) + needle_reclen(5 << 20));
	assert_int_equal(s.dead_bytes, 0);
	assert_false(s.readonly);
	assert_true(s.syncs >= 1);
	assert_true(s.index_bytes > 0);
	store_close(st);
	st = open_store(*state, STORE_SYNC_ALWAYS, 0);
	check_key(st, 1, 0);
	check_key(st, 4, 5 << 20);
	store_close(st);
}

static void
test_cookie_and_conflicts(void **state)
{
	struct store *st = open_store(*state, STORE_SYNC_NONE, 0);
	struct store_loc loc;
	unsigned char b[100];
	struct store_stats s;

	put_ok(st, 7, 100);
	assert_int_equal(store_get(st, 7, 1234, &loc), ARK_ENOENT);
	assert_int_equal(store_delete(st, 7, 1234), ARK_ENOENT);
	/* Identical: idempotent, nothing appended. */
	put_ok(st, 7, 100);
	store_stats(st, &s);
	assert_int_equal(s.needles, 1);
	assert_int_equal(s.dead_bytes, 0);
	/* Different bytes, size or cookie: conflict. */
	tu_fill(b, sizeof(b), 7);
	b[50] ^= 1;
	assert_int_equal(store_put(st, 7, 7 ^ 0x5a5a, b, 100), ARK_EEXIST);
	assert_int_equal(store_put(st, 7, 7 ^ 0x5a5a, b, 99), ARK_EEXIST);
	b[50] ^= 1;
	assert_int_equal(store_put(st, 7, 1, b, 100), ARK_EEXIST);
	check_key(st, 7, 100);
	store_stats(st, &s);
	assert_int_equal(s.needles, 1);
	store_close(st);
}

static void
test_delete_restart(void **state)
{
	struct store *st = open_store(*state, STORE_SYNC_ALWAYS, 0);
	struct store_stats s;

	for (uint64_t k = 1; k <= 10; k++)
		put_ok(st, k, 100 * k);
	for (uint64_t k = 2; k <= 10; k += 2)
		assert_int_equal(store_delete(st, k, (uint32_t)k ^ 0x5a5a),
		    ARK_OK);
	assert_int_equal(store_delete(st, 2, 2 ^ 0x5a5a), ARK_ENOENT);
	put_ok(st, 4, 17);		/* re-put after delete */
	store_stats(st, &s);
	assert_int_equal(s.needles, 6);
	assert_true(s.dead_bytes > 0);
	store_close(st);
	for (int round = 0; round < 2; round++) {
		st = open_store(*state, STORE_SYNC_ALWAYS, 0);
		for (uint64_t k = 1; k <= 10; k += 2)
			check_key(st, k, 100 * k);
		for (uint64_t k = 2; k <= 10; k += 2)
			if (k != 4)
				check_absent(st, k);
		check_key(st, 4, 17);
		store_stats(st, &s);
		assert_int_equal(s.needles, 6);
		store_close(st);
		/* Second round: without journals, from the chunk alone. */
		tu_truncate(*state, "chunk_0.idx", 0);
	}
}

static void
test_journal_plus_tail(void **state)
{
	struct store *st = open_store(*state, STORE_SYNC_NONE, 0);
	long long jlen;

	for (uint64_t k = 1; k <= 40; k++)
		put_ok(st, k, 50 + k);
	store_close(st);
	jlen = tu_fsize(*state, "chunk_0.idx");
	assert_int_equal(jlen, JOURNAL_HDR_SIZE + 40 * JOURNAL_REC_SIZE);
	/* The journal lagged behind the chunk (crash before it was written),
	 * and its last record is torn. */
	tu_truncate(*state, "chunk_0.idx",
	    JOURNAL_HDR_SIZE + 15 * JOURNAL_REC_SIZE + 11);
	st = open_store(*state, STORE_SYNC_NONE, 0);
	for (uint64_t k = 1; k <= 40; k++)
		check_key(st, k, 50 + k);
	store_close(st);
	assert_int_equal(tu_fsize(*state, "chunk_0.idx"), jlen);
	/* A corrupt record in the middle of the journal: the rest comes from
	 * the chunk. Garbage after the journal is cut too. */
	tu_flip(*state, "chunk_0.idx", JOURNAL_HDR_SIZE + 20 * 32 + 5);
	tu_append(*state, "chunk_0.idx", "garbage", 7);
	st = open_store(*state, STORE_SYNC_NONE, 0);
	for (uint64_t k = 1; k <= 40; k++)
		check_key(st, k, 50 + k);
	store_close(st);
	/* A journal of another generation is ignored. */
	tu_flip(*state, "chunk_0.idx", 17);
	st = open_store(*state, STORE_SYNC_NONE, 0);
	for (uint64_t k = 1; k <= 40; k++)
		check_key(st, k, 50 + k);
	store_close(st);
}

/* Cuts the chunk at each offset of its last needle (sampled when large),
 * with and without its journal, and reopens a copy each time. */
static void
torn_tail(const char *dir, size_t lastlen, unsigned step)
{
	struct store *st = open_store(dir, STORE_SYNC_NONE, 0);
	struct store_stats s;
	char *copy = tu_mkdtemp();
	long long end, start;

	for (uint64_t k = 1; k <= 3; k++)
		put_ok(st, k, 10 * k + 3);
	put_ok(st, 99, lastlen);
	store_close(st);
	end = tu_fsize(dir, "chunk_0.dat");
	start = end - (long long)needle_reclen((uint32_t)lastlen);
	for (long long cut = start; cut < end; cut += step) {
		for (int withj = 0; withj < 2; withj++) {
			tu_copy(dir, copy, "chunk_0.dat", cut);
			if (withj)
				tu_copy(dir, copy, "chunk_0.idx", -1);
			else {
				char *p = tu_path(copy, "chunk_0.idx");

				unlink(p);
				free(p);
			}
			st = open_store(copy, STORE_SYNC_NONE, 0);
			for (uint64_t k = 1; k <= 3; k++)
				check_key(st, k, 10 * k + 3);
			check_absent(st, 99);
			store_stats(st, &s);
			assert_int_equal(s.needles, 3);
			store_close(st);
			assert_int_equal(tu_fsize(copy, "chunk_0.dat"), start);
		}
	}
	/* Sanity: the uncut file has it. */
	tu_copy(dir, copy, "chunk_0.dat", -1);
	st = open_store(copy, STORE_SYNC_NONE, 0);
	check_key(st, 99, lastlen);
	store_close(st);
	tu_rmrf(copy);
	free(copy);
}

static void
test_torn_tail_every_byte(void **state)
{
	ark_log_set_level(ARK_LOG_WARN);
	torn_tail(*state, 301, 1);
	ark_log_set_level(ARK_LOG_INFO);
}

static void
test_torn_tail_big(void **state)
{
	ark_log_set_level(ARK_LOG_WARN);
	torn_tail(*state, 3 << 20, 49999);
	ark_log_set_level(ARK_LOG_INFO);
}

static void
test_corrupt_body_and_scrub(void **state)
{
	struct store *st = open_store(*state, STORE_SYNC_NONE, 0);
	struct store_corrupt cl[4];
	struct store_stats s;
	struct store_loc loc;
	unsigned char b[1000];
	uint64_t checked, bad, off;

	for (uint64_t k = 1; k <= 5; k++)
		put_ok(st, k, 1000);
	assert_int_equal(store_get(st, 3, 3 ^ 0x5a5a, &loc), ARK_OK);
	off = loc.rec_offset;
	store_loc_release(&loc);
	store_close(st);
	tu_flip(*state, "chunk_0.dat", (long long)off + NEEDLE_HDR_SIZE + 500);
	st = open_store(*state, STORE_SYNC_NONE, 0);
	assert_int_equal(store_get(st, 3, 3 ^ 0x5a5a, &loc), ARK_OK);
	assert_int_equal(store_loc_read(&loc, b, sizeof(b)), ARK_ECORRUPT);
	assert_int_equal(store_loc_verify(&loc), ARK_ECORRUPT);
	assert_int_equal(store_loc_read(&loc, b, 999), ARK_ETOOBIG);
	store_loc_release(&loc);
	assert_int_equal(store_get(st, 4, 4 ^ 0x5a5a, &loc), ARK_OK);
	assert_int_equal(store_loc_verify(&loc), ARK_OK);
	assert_int_equal(store_loc_pread(&loc, 990, b, 10), ARK_OK);
	assert_int_equal(store_loc_pread(&loc, 990, b, 11), ARK_EINVAL);
	store_loc_release(&loc);
	check_key(st, 2, 1000);
	check_key(st, 4, 1000);
	assert_int_equal(store_scrub_chunk(st, 0, 0, &checked, &bad), ARK_OK);
	assert_int_equal(checked, 5);
	assert_int_equal(bad, 1);
	assert_int_equal(store_corrupt_list(st, cl, 4), 1);
	assert_int_equal(cl[0].key, 3);
	assert_int_equal(cl[0].chunk_id, 0);
	assert_int_equal(cl[0].offset, off);
	store_stats(st, &s);
	assert_int_equal(s.corrupt, 1);
	assert_int_equal(store_scrub_chunk(st, 9, 0, NULL, NULL), ARK_ENOENT);
	store_close(st);
}

static void
test_scrub_rate(void **state)
{
	struct store *st = open_store(*state, STORE_SYNC_NONE, 0);
	uint64_t t0, checked;

	for (uint64_t k = 1; k <= 4; k++)
		put_ok(st, k, 100000);
	t0 = ark_mono_ns();
	/* ~400 KB at 2 MB/s: at least 0.15 s. */
	assert_int_equal(store_scrub_chunk(st, 0, 2000000, &checked, NULL),
	    ARK_OK);
	assert_int_equal(checked, 4);
	assert_true(ark_mono_ns() - t0 > 150000000ULL);
	store_close(st);
}

static void
test_streaming(void **state)
{
	struct store *st = open_store(*state, STORE_SYNC_ALWAYS, 0);
	struct store_ticket t;
	struct store_wr *w;
	struct store_stats s;
	unsigned char b[10000];
	uint32_t crc, bad;
	char *copy;

	tu_fill(b, sizeof(b), 1);
	crc = ark_crc32c(0, b, sizeof(b));
	bad = crc ^ 1;
	/* Pieces with the right CRC. */
	assert_int_equal(store_wr_begin(st, 1, 1 ^ 0x5a5a, sizeof(b), &crc,
	    &w), ARK_OK);
	for (size_t i = 0; i < sizeof(b); i += 999)
		assert_int_equal(store_wr_write(w, b + i,
		    ARK_MIN((size_t)999, sizeof(b) - i)), ARK_OK);
	assert_int_equal(store_wr_finish(w, &t), ARK_OK);
	assert_int_equal(store_wait(st, &t), ARK_OK);
	check_key(st, 1, sizeof(b));
	/* Wrong CRC, short body, too long, abort: nothing visible. */
	tu_fill(b, sizeof(b), 2);
	assert_int_equal(store_wr_begin(st, 2, 2 ^ 0x5a5a, sizeof(b), &bad,
	    &w), ARK_OK);
	assert_int_equal(store_wr_write(w, b, sizeof(b)), ARK_OK);
	check_absent(st, 2);		/* not before finish */
	assert_int_equal(store_wr_finish(w, &t), ARK_ECORRUPT);
	check_absent(st, 2);
	assert_int_equal(store_wr_begin(st, 2, 2 ^ 0x5a5a, sizeof(b), NULL,
	    &w), ARK_OK);
	assert_int_equal(store_wr_write(w, b, 100), ARK_OK);
	assert_int_equal(store_wr_finish(w, &t), ARK_EINVAL);
	assert_int_equal(store_wr_begin(st, 2, 2 ^ 0x5a5a, 10, NULL, &w),
	    ARK_OK);
	assert_int_equal(store_wr_write(w, b, 11), ARK_ETOOBIG);
	assert_int_equal(store_wr_finish(w, &t), ARK_ETOOBIG);
	assert_int_equal(store_wr_begin(st, 2, 2 ^ 0x5a5a, sizeof(b), NULL,
	    &w), ARK_OK);
	assert_int_equal(store_wr_write(w, b, 5000), ARK_OK);
	/* A second writer of the same key while one is in flight. */
	assert_int_equal(store_put(st, 2, 2 ^ 0x5a5a, b, sizeof(b)),
	    ARK_EAGAIN);
	/* Crash now: a copy of the files as they are. */
	copy = tu_mkdtemp();
	tu_copy(*state, copy, "chunk_0.dat", -1);
	tu_copy(*state, copy, "chunk_0.idx", -1);
	store_wr_abort(w);
	check_absent(st, 2);
	/* Streaming an identical copy of an existing needle: verify mode. */
	tu_fill(b, sizeof(b), 1);
	assert_int_equal(store_wr_begin(st, 1, 1 ^ 0x5a5a, sizeof(b), &crc,
	    &w), ARK_OK);
	assert_int_equal(store_wr_write(w, b, 4000), ARK_OK);
	assert_int_equal(store_wr_write(w, b + 4000, 6000), ARK_OK);
	assert_int_equal(store_wr_finish(w, &t), ARK_OK);
	assert_int_equal(store_wr_begin(st, 1, 1 ^ 0x5a5a, sizeof(b), NULL,
	    &w), ARK_OK);
	b[9000] ^= 1;
	assert_int_equal(store_wr_write(w, b, sizeof(b)), ARK_EEXIST);
	assert_int_equal(store_wr_finish(w, &t), ARK_EEXIST);
	store_stats(st, &s);
	assert_int_equal(s.needles, 1);
	store_close(st);

	for (int i = 0; i < 2; i++) {
		st = open_store(i ? *state : copy, STORE_SYNC_ALWAYS, 0);
		check_absent(st, 2);
		check_key(st, 1, sizeof(b));
		store_stats(st, &s);
		assert_int_equal(s.needles, 1);
		assert_true(s.dead_bytes >= 3 * needle_reclen(sizeof(b)) +
		    needle_reclen(10));
		/* The aborted regions do not stop appends after them. */
		put_ok(st, 3, 77);
		store_close(st);
		st = open_store(i ? *state : copy, STORE_SYNC_ALWAYS, 0);
		check_key(st, 3, 77);
		store_close(st);
	}
	tu_rmrf(copy);
	free(copy);
}

static void
test_rollover(void **state)
{
	struct store *st = open_store(*state, STORE_SYNC_NONE, 64 * 1024);
	struct store_stats s;
	uint32_t ids[64];
	unsigned char big[70000];

	for (uint64_t k = 1; k <= 100; k++)
		put_ok(st, k, 4096);
	store_stats(st, &s);
	assert_true(s.chunks >= 7);
	assert_int_equal(store_chunk_ids(st, ids, 64), s.chunks);
	for (uint32_t i = 0; i < s.chunks; i++) {
		assert_int_equal(ids[i], i);
		assert_true(tu_fsize(*state, "chunk_0.dat") <= 64 * 1024);
	}
	assert_int_equal(store_put(st, 1000, 1, big, sizeof(big)),
	    ARK_ETOOBIG);
	store_close(st);
	st = open_store(*state, STORE_SYNC_NONE, 64 * 1024);
	for (uint64_t k = 1; k <= 100; k++)
		check_key(st, k, 4096);
	store_close(st);
}

/* Policy batch: a put is acknowledged within about batch_ms, after a
 * sync that covers it. */
static void
test_batch(void **state)
{
	struct store_opts o;
	struct store *st;
	struct store_stats s;
	uint64_t t0, t;

	store_opts_default(&o);
	o.sync = STORE_SYNC_BATCH;
	o.batch_ms = 20;
	assert_int_equal(store_open(*state, &o, &st), ARK_OK);
	t0 = ark_mono_ns();
	put_ok(st, 1, 100);
	t = ark_mono_ns() - t0;
	store_stats(st, &s);
	assert_true(t >= 15000000ULL);		/* waited for the batch */
	assert_true(t < 2000000000ULL);		/* but not unboundedly */
	assert_int_equal(s.syncs, 1);
	assert_true(s.durable_seq >= 1);
	store_close(st);
	st = open_store(*state, STORE_SYNC_NONE, 0);
	check_key(st, 1, 100);
	store_close(st);
}

/* ---- group commit ----------------------------------------------------- */

#define GC_THREADS	8
#define GC_WRITES	25

struct gc_arg {
	struct store	*st;
	int		 id;
	atomic_int	*failures;
};

static void *
gc_main(void *p)
{
	struct gc_arg *a = p;
	unsigned char b[4096];

	for (int i = 0; i < GC_WRITES; i++) {
		uint64_t key = (uint64_t)a->id * 1000 + (uint64_t)i + 1;
		struct store_ticket t;
		struct store_stats s;
		struct store_wr *w;

		tu_fill(b, sizeof(b), key);
		if (store_wr_begin(a->st, key, 1, sizeof(b), NULL, &w) !=
		    ARK_OK || store_wr_write(w, b, sizeof(b)) != ARK_OK ||
		    store_wr_finish(w, &t) != ARK_OK ||
		    store_wait(a->st, &t) != ARK_OK) {
			atomic_fetch_add(a->failures, 1);
			continue;
		}
		/* Acknowledged only once a sync covering it completed. */
		store_stats(a->st, &s);
		if (s.durable_seq < t.seq || s.syncs == 0)
			atomic_fetch_add(a->failures, 1);
	}
	return NULL;
}

struct notify_arg {
	pthread_mutex_t	 mtx;
	pthread_cond_t	 cond;
	int		 done;
	enum ark_err	 rc;
};

static void
notify_cb(void *p, enum ark_err rc)
{
	struct notify_arg *n = p;

	pthread_mutex_lock(&n->mtx);
	n->done = 1;
	n->rc = rc;
	pthread_cond_signal(&n->cond);
	pthread_mutex_unlock(&n->mtx);
}

static void
test_group_commit(void **state)
{
	struct store *st = open_store(*state, STORE_SYNC_ALWAYS, 0);
	struct gc_arg args[GC_THREADS];
	pthread_t thr[GC_THREADS];
	atomic_int failures;
	struct notify_arg na = { .done = 0 };
	struct store_ticket t;
	struct store_stats s;
	struct store_wr *w;

	atomic_init(&failures, 0);
	for (int i = 0; i < GC_THREADS; i++) {
		args[i].st = st;
		args[i].id = i;
		args[i].failures = &failures;
		assert_int_equal(pthread_create(&thr[i], NULL, gc_main,
		    &args[i]), 0);
	}
	for (int i = 0; i < GC_THREADS; i++)
		pthread_join(thr[i], NULL);
	assert_int_equal(atomic_load(&failures), 0);
	store_stats(st, &s);
	printf("# group commit: %d writes, %llu fdatasync calls\n",
	    GC_THREADS * GC_WRITES, (unsigned long long)s.syncs);
	assert_true(s.syncs >= 1);
	assert_true(s.syncs < GC_THREADS * GC_WRITES);
	assert_int_equal(s.needles, GC_THREADS * GC_WRITES);

	/* Callback flavour, for event loops. */
	pthread_mutex_init(&na.mtx, NULL);
	pthread_cond_init(&na.cond, NULL);
	assert_int_equal(store_wr_begin(st, 77, 1, 3, NULL, &w), ARK_OK);
	assert_int_equal(store_wr_write(w, "abc", 3), ARK_OK);
	assert_int_equal(store_wr_finish(w, &t), ARK_OK);
	store_notify(st, &t, notify_cb, &na);
	pthread_mutex_lock(&na.mtx);
	while (!na.done)
		pthread_cond_wait(&na.cond, &na.mtx);
	pthread_mutex_unlock(&na.mtx);
	assert_int_equal(na.rc, ARK_OK);
	store_stats(st, &s);
	assert_true(s.durable_seq >= t.seq);
	pthread_mutex_destroy(&na.mtx);
	pthread_cond_destroy(&na.cond);
	store_close(st);

	st = open_store(*state, STORE_SYNC_ALWAYS, 0);
	for (int i = 0; i < GC_THREADS; i++)
		for (int j = 0; j < GC_WRITES; j++) {
			struct store_loc loc;
			uint64_t key = (uint64_t)i * 1000 + (uint64_t)j + 1;
			unsigned char b[4096], e[4096];

			assert_int_equal(store_get(st, key, 1, &loc), ARK_OK);
			assert_int_equal(store_loc_read(&loc, b, sizeof(b)),
			    ARK_OK);
			tu_fill(e, sizeof(e), key);
			assert_memory_equal(b, e, sizeof(e));
			store_loc_release(&loc);
		}
	store_close(st);
}

/* ---- compaction ------------------------------------------------------- */

struct reader_arg {
	struct store	*st;
	atomic_int	*stop;
	atomic_int	*errors;
	atomic_int	 reads;
};

static void *
reader_main(void *p)
{
	struct reader_arg *a = p;

	while (!atomic_load(a->stop)) {
		for (uint64_t k = 1; k <= 40; k += 2) {
			struct store_loc loc;
			unsigned char b[2048], e[2048];
			size_t len = 500 + (size_t)k * 10;

			if (store_get(a->st, k, (uint32_t)k ^ 0x5a5a, &loc) !=
			    ARK_OK) {
				atomic_fetch_add(a->errors, 1);
				continue;
			}
			tu_fill(e, len, k);
			if (loc.size != len ||
			    store_loc_read(&loc, b, sizeof(b)) != ARK_OK ||
			    memcmp(b, e, len) != 0)
				atomic_fetch_add(a->errors, 1);
			store_loc_release(&loc);
			atomic_fetch_add(&a->reads, 1);
		}
	}
	return NULL;
}

static void
fill_for_compaction(struct store *st)
{
	for (uint64_t k = 1; k <= 40; k++)
		put_ok(st, k, 500 + k * 10);
	for (uint64_t k = 2; k <= 40; k += 2)
		assert_int_equal(store_delete(st, k, (uint32_t)k ^ 0x5a5a),
		    ARK_OK);
}

static void
check_after_compaction(struct store *st)
{
	for (uint64_t k = 1; k <= 40; k++)
		if (k % 2)
			check_key(st, k, 500 + k * 10);
		else
			check_absent(st, k);
}

static void
test_compaction(void **state)
{
	struct store *st = open_store(*state, STORE_SYNC_ALWAYS, 0);
	struct store_stats s0, s1;
	struct store_loc held;
	struct reader_arg ra;
	atomic_int stop, errors;
	pthread_t thr;
	long long before;
	unsigned char b[1000];
	unsigned n;

	fill_for_compaction(st);
	store_stats(st, &s0);
	assert_true(s0.dead_bytes > s0.live_bytes / 2);
	before = tu_fsize(*state, "chunk_0.dat");
	/* A reader that got its location before the compaction. */
	assert_int_equal(store_get(st, 5, 5 ^ 0x5a5a, &held), ARK_OK);
	atomic_init(&stop, 0);
	atomic_init(&errors, 0);
	ra.st = st;
	ra.stop = &stop;
	ra.errors = &errors;
	atomic_init(&ra.reads, 0);
	assert_int_equal(pthread_create(&thr, NULL, reader_main, &ra), 0);
	usleep(20000);
	/* The active chunk: sealed and replaced first. */
	assert_int_equal(store_compact(st, 0, 0), ARK_OK);
	usleep(20000);
	atomic_store(&stop, 1);
	pthread_join(thr, NULL);
	assert_int_equal(atomic_load(&errors), 0);
	assert_true(atomic_load(&ra.reads) > 0);
	assert_int_equal(store_loc_read(&held, b, sizeof(b)), ARK_OK);
	store_loc_release(&held);
	check_after_compaction(st);
	store_stats(st, &s1);
	assert_int_equal(s1.chunks, 2);
	assert_int_equal(s1.needles, 20);
	assert_int_equal(s1.dead_bytes, 0);	/* lowest chunk: no tombstones */
	assert_int_equal(s1.live_bytes, s0.live_bytes);
	assert_true(tu_fsize(*state, "chunk_0.dat") < before);
	/* Nothing left to do. */
	assert_int_equal(store_compact_auto(st, &n), ARK_OK);
	assert_int_equal(n, 0);
	put_ok(st, 100, 10);
	store_close(st);
	st = open_store(*state, STORE_SYNC_ALWAYS, 0);
	check_after_compaction(st);
	check_key(st, 100, 10);
	store_close(st);
}

static void
test_compaction_auto(void **state)
{
	struct store *st = open_store(*state, STORE_SYNC_NONE, 8192);
	struct store_stats s;
	unsigned n;

	/* Small chunks: the deletes leave sealed chunks mostly dead. */
	fill_for_compaction(st);
	store_stats(st, &s);
	assert_true(s.chunks > 3);
	assert_int_equal(store_compact_auto(st, &n), ARK_OK);
	assert_true(n > 0);
	check_after_compaction(st);
	store_close(st);
	st = open_store(*state, STORE_SYNC_NONE, 8192);
	check_after_compaction(st);
	store_close(st);
}

static void
test_compaction_crash(void **state)
{
	struct store *st = open_store(*state, STORE_SYNC_ALWAYS, 0);
	char *p;

	fill_for_compaction(st);
	assert_int_equal(store_compact(st, 0, STORE_COMPACT_STOP_BEFORE_RENAME),
	    ARK_ECANCELED);
	check_after_compaction(st);
	store_close(st);
	assert_true(tu_fsize(*state, "chunk_0.dat.compact") > 0);
	/* Crash before the renames: leftovers are removed, nothing lost. */
	st = open_store(*state, STORE_SYNC_ALWAYS, 0);
	assert_int_equal(tu_fsize(*state, "chunk_0.dat.compact"), -1);
	assert_int_equal(tu_fsize(*state, "chunk_0.idx.compact"), -1);
	check_after_compaction(st);
	/* Crash between the two renames: new data file, old journal. */
	assert_int_equal(store_compact(st, 0, STORE_COMPACT_STOP_BEFORE_RENAME),
	    ARK_ECANCELED);
	store_close(st);
	{
		char *from = tu_path(*state, "chunk_0.dat.compact");

		p = tu_path(*state, "chunk_0.dat");
		assert_int_equal(rename(from, p), 0);
		free(from);
		free(p);
	}
	st = open_store(*state, STORE_SYNC_ALWAYS, 0);
	check_after_compaction(st);
	store_close(st);
	st = open_store(*state, STORE_SYNC_ALWAYS, 0);
	check_after_compaction(st);
	store_close(st);
}

struct writer_arg {
	struct store	*st;
	atomic_int	*stop;
	atomic_int	*errors;
	int		 n;
};

static void *
writer_main(void *p)
{
	struct writer_arg *a = p;

	for (a->n = 0; !atomic_load(a->stop) && a->n < 2000; a->n++) {
		unsigned char b[300];
		uint64_t key = 100000 + (uint64_t)a->n;

		tu_fill(b, sizeof(b), key);
		if (store_put(a->st, key, (uint32_t)key ^ 0x5a5a, b,
		    sizeof(b)) != ARK_OK)
			atomic_fetch_add(a->errors, 1);
	}
	return NULL;
}

/*
 * Tombstones survive compaction of a chunk that is not the oldest (they
 * may delete needles in older chunks) and go away with the oldest one.
 * Writers keep appending (and rolling chunks over) meanwhile.
 */
static void
test_compaction_tombstones(void **state)
{
	struct store *st = open_store(*state, STORE_SYNC_NONE, 8192);
	struct writer_arg wa;
	atomic_int stop, errors;
	struct store_stats s;
	uint32_t ids[256];
	size_t nids;
	pthread_t thr;

	for (uint64_t k = 1; k <= 20; k++)	/* chunks 0.. */
		put_ok(st, k, 1000);
	for (uint64_t k = 1; k <= 20; k += 2)	/* tombstones later */
		assert_int_equal(store_delete(st, k, (uint32_t)k ^ 0x5a5a),
		    ARK_OK);
	atomic_init(&stop, 0);
	atomic_init(&errors, 0);
	wa.st = st;
	wa.stop = &stop;
	wa.errors = &errors;
	assert_int_equal(pthread_create(&thr, NULL, writer_main, &wa), 0);
	/* Compact every chunk but the oldest, newest first. */
	nids = store_chunk_ids(st, ids, 256);
	assert_true(nids > 2);
	for (size_t i = nids; i-- > 1;)
		assert_int_equal(store_compact(st, ids[i], 0), ARK_OK);
	atomic_store(&stop, 1);
	pthread_join(thr, NULL);
	assert_int_equal(atomic_load(&errors), 0);
	store_close(st);
	st = open_store(*state, STORE_SYNC_NONE, 8192);
	for (uint64_t k = 1; k <= 20; k++)
		if (k % 2)
			check_absent(st, k);
		else
			check_key(st, k, 1000);
	for (int i = 0; i < wa.n; i++)
		check_key(st, 100000 + (uint64_t)i, 300);
	/* Now everything old, oldest first: all dead space goes. */
	nids = store_chunk_ids(st, ids, 256);
	for (size_t i = 0; i + 1 < nids; i++)
		assert_int_equal(store_compact(st, ids[i], 0), ARK_OK);
	store_stats(st, &s);
	assert_int_equal(s.needles, 10 + (uint64_t)wa.n);
	store_close(st);
	st = open_store(*state, STORE_SYNC_NONE, 8192);
	for (uint64_t k = 1; k <= 20; k++)
		if (k % 2)
			check_absent(st, k);
		else
			check_key(st, k, 1000);
	store_close(st);
}

/* ---- replay consistency under concurrency ---------------------------- */

#define RC_KEYS		16
#define RC_THREADS	4
#define RC_OPS		1500
#define RC_MAXCOOKIES	(RC_THREADS * RC_OPS)

struct rc_shared {
	struct store	*st;
	pthread_mutex_t	 mtx;
	uint32_t	 cookies[RC_KEYS][RC_MAXCOOKIES];	/* ever put */
	size_t		 ncookies[RC_KEYS];
	_Atomic uint32_t last[RC_KEYS];
	atomic_int	 stop;
	atomic_int	 unexpected;
};

struct rc_thread {
	struct rc_shared *sh;
	uint64_t	 seed;
};

static uint64_t
rc_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void *
rc_main(void *p)
{
	struct rc_thread *t = p;
	struct rc_shared *sh = t->sh;
	unsigned char b[256];

	for (int i = 0; i < RC_OPS; i++) {
		uint64_t r = rc_rand(&t->seed), key = r % RC_KEYS + 1;
		enum ark_err rc;

		if ((r >> 8) % 3 != 0) {
			uint32_t cookie = (uint32_t)(r >> 32) | 1;
			size_t len = 16 + (size_t)((r >> 16) % 200);

			tu_fill(b, len, key ^ cookie);
			rc = store_put(sh->st, key, cookie, b, len);
			if (rc == ARK_OK) {
				pthread_mutex_lock(&sh->mtx);
				sh->cookies[key - 1][sh->ncookies[key - 1]++] =
				    cookie;
				pthread_mutex_unlock(&sh->mtx);
				atomic_store(&sh->last[key - 1], cookie);
			} else if (rc != ARK_EEXIST && rc != ARK_EAGAIN)
				atomic_fetch_add(&sh->unexpected, 1);
		} else {
			rc = store_delete(sh->st, key,
			    atomic_load(&sh->last[key - 1]));
			if (rc != ARK_OK && rc != ARK_ENOENT &&
			    rc != ARK_EAGAIN)
				atomic_fetch_add(&sh->unexpected, 1);
		}
	}
	return NULL;
}

static void *
rc_compactor(void *p)
{
	struct rc_shared *sh = p;

	while (!atomic_load(&sh->stop)) {
		enum ark_err rc = store_compact_auto(sh->st, NULL);

		if (rc != ARK_OK && rc != ARK_EAGAIN)
			atomic_fetch_add(&sh->unexpected, 1);
		usleep(2000);
	}
	return NULL;
}

/* For each key: the cookie found (0: absent) and the data CRC. */
static void
rc_snapshot(struct rc_shared *sh, uint32_t found[RC_KEYS][2])
{
	for (int k = 0; k < RC_KEYS; k++) {
		found[k][0] = found[k][1] = 0;
		for (size_t i = 0; i < sh->ncookies[k]; i++) {
			struct store_loc loc;
			uint32_t c = sh->cookies[k][i];
			unsigned char b[256], e[256];

			if (store_get(sh->st, (uint64_t)k + 1, c, &loc) !=
			    ARK_OK)
				continue;
			assert_true(found[k][0] == 0 || found[k][0] == c);
			found[k][0] = c;
			found[k][1] = loc.crc;
			assert_int_equal(store_loc_read(&loc, b, sizeof(b)),
			    ARK_OK);
			tu_fill(e, (size_t)loc.size, (uint64_t)(k + 1) ^ c);
			assert_memory_equal(b, e, (size_t)loc.size);
			store_loc_release(&loc);
		}
	}
}

/*
 * Puts, deletes and re-puts of a few keys from several threads, with
 * compaction running and chunks rolling over: whatever the interleaving,
 * a restart must rebuild exactly the state the running store had.
 */
static void
test_replay_consistency(void **state)
{
	static struct rc_shared sh;
	struct rc_thread th[RC_THREADS];
	pthread_t thr[RC_THREADS], cthr;
	uint32_t before[RC_KEYS][2], after[RC_KEYS][2];

	memset(&sh, 0, sizeof(sh));
	pthread_mutex_init(&sh.mtx, NULL);
	sh.st = open_store(*state, STORE_SYNC_NONE, 8192);
	for (int i = 0; i < RC_THREADS; i++) {
		th[i].sh = &sh;
		th[i].seed = 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1);
		assert_int_equal(pthread_create(&thr[i], NULL, rc_main,
		    &th[i]), 0);
	}
	assert_int_equal(pthread_create(&cthr, NULL, rc_compactor, &sh), 0);
	for (int i = 0; i < RC_THREADS; i++)
		pthread_join(thr[i], NULL);
	atomic_store(&sh.stop, 1);
	pthread_join(cthr, NULL);
	assert_int_equal(atomic_load(&sh.unexpected), 0);
	rc_snapshot(&sh, before);
	store_close(sh.st);
	sh.st = open_store(*state, STORE_SYNC_NONE, 8192);
	rc_snapshot(&sh, after);
	assert_memory_equal(before, after, sizeof(before));
	store_close(sh.st);
	/* And from the chunk files alone. */
	for (uint32_t id = 0; id < 4096; id++) {
		char name[32];

		snprintf(name, sizeof(name), "chunk_%u.idx", id);
		if (tu_fsize(*state, name) >= 0)
			tu_truncate(*state, name, 0);
	}
	sh.st = open_store(*state, STORE_SYNC_NONE, 8192);
	rc_snapshot(&sh, after);
	assert_memory_equal(before, after, sizeof(before));
	store_close(sh.st);
	pthread_mutex_destroy(&sh.mtx);
}

static void
test_readonly(void **state)
{
	struct store_opts o;
	struct store *st;
	struct store_stats s;
	unsigned char b[4096];
	enum ark_err rc = ARK_OK;
	uint64_t k;

	store_opts_default(&o);
	o.sync = STORE_SYNC_NONE;
	o.max_disk_use = 64 * 1024;
	assert_int_equal(store_open(*state, &o, &st), ARK_OK);
	for (k = 1; k <= 100 && rc == ARK_OK; k++) {
		tu_fill(b, sizeof(b), k);
		rc = store_put(st, k, (uint32_t)k ^ 0x5a5a, b, sizeof(b));
	}
	assert_int_equal(rc, ARK_ENOSPC);
	assert_true(k > 10);
	store_stats(st, &s);
	assert_true(s.readonly);
	assert_true(s.disk_used <= 64 * 1024);
	/* Everything written still reads; small writes fail too. */
	for (uint64_t j = 1; j < k - 1; j++)
		check_key(st, j, sizeof(b));
	assert_int_equal(store_put(st, 5000, 1, b, 1), ARK_ENOSPC);
	/* The periodic space check leaves it read-only: no space came back. */
	store_refresh_space(st);
	store_stats(st, &s);
	assert_true(s.readonly);
	/* Deletes work, and compaction gets it writable again. */
	for (uint64_t j = 1; j < k - 1; j++)
		assert_int_equal(store_delete(st, j, (uint32_t)j ^ 0x5a5a),
		    ARK_OK);
	assert_int_equal(store_compact(st, 0, 0), ARK_OK);
	store_stats(st, &s);
	assert_false(s.readonly);
	put_ok(st, 6000, 100);
	store_close(st);

	/* The free-space floor: an impossible floor turns it read-only. */
	o.max_disk_use = 0;
	o.min_free = UINT64_MAX / 2;
	assert_int_equal(store_open(*state, &o, &st), ARK_OK);
	assert_int_equal(store_put(st, 7000, 1, b, 10), ARK_ENOSPC);
	store_stats(st, &s);
	assert_true(s.readonly);
	check_key(st, 6000, 100);
	store_close(st);
}

/* A write refused by the file system (simulated with RLIMIT_FSIZE) does
 * not damage the chunk: the store turns read-only, nothing partial is
 * visible, before or after a restart. */
static void
test_fs_full(void **state)
{
	struct store *st = open_store(*state, STORE_SYNC_ALWAYS, 0);
	struct store_stats s;
	struct rlimit old, lim;
	unsigned char b[100000];
	void (*oldsig)(int);

	for (uint64_t k = 1; k <= 3; k++)
		put_ok(st, k, 5000);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	oldsig = signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = (rlim_t)tu_fsize(*state, "chunk_0.dat") + 20000;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	tu_fill(b, sizeof(b), 9);
	assert_int_equal(store_put(st, 9, 9 ^ 0x5a5a, b, sizeof(b)),
	    ARK_ENOSPC);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, oldsig);
	store_stats(st, &s);
	assert_true(s.readonly);
	check_absent(st, 9);
	assert_int_equal(store_put(st, 10, 10 ^ 0x5a5a, b, 10), ARK_ENOSPC);
	store_refresh_space(st);
	store_stats(st, &s);
	assert_false(s.readonly);
	put_ok(st, 4, 5000);
	store_close(st);
	st = open_store(*state, STORE_SYNC_ALWAYS, 0);
	for (uint64_t k = 1; k <= 4; k++)
		check_key(st, k, 5000);
	check_absent(st, 9);
	store_stats(st, &s);
	assert_int_equal(s.needles, 4);
	/* A compaction whose output the file system refuses is undone. */
	assert_int_equal(store_delete(st, 1, 1 ^ 0x5a5a), ARK_OK);
	oldsig = signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = 8000;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(store_compact(st, 0, 0), ARK_ENOSPC);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, oldsig);
	assert_int_equal(tu_fsize(*state, "chunk_0.dat.compact"), -1);
	assert_int_equal(tu_fsize(*state, "chunk_0.idx.compact"), -1);
	for (uint64_t k = 2; k <= 4; k++)
		check_key(st, k, 5000);
	assert_int_equal(store_compact(st, 0, 0), ARK_OK);
	for (uint64_t k = 2; k <= 4; k++)
		check_key(st, k, 5000);
	store_close(st);
}

/* ---- resync ----------------------------------------------------------- */

static void
test_resync(void **state)
{
	struct store *a = open_store(*state, STORE_SYNC_NONE, 0);
	char *bdir = tu_mkdtemp();
	struct store *b = open_store(bdir, STORE_SYNC_ALWAYS, 0);
	struct store_rec_info ri[8];
	struct store_import *im;
	struct store_loc range;
	struct store_stats s;
	uint64_t from, next, n, total = 0;
	size_t cnt, listed = 0;
	unsigned char *buf;

	for (uint64_t k = 1; k <= 12; k++)
		put_ok(a, k, 700 * k);
	assert_int_equal(store_delete(a, 4, 4 ^ 0x5a5a), ARK_OK);
	/* An aborted write leaves PAD, which is skipped. */
	{
		struct store_wr *w;

		assert_int_equal(store_wr_begin(a, 50, 1, 100, NULL, &w),
		    ARK_OK);
		store_wr_abort(w);
	}
	put_ok(a, 13, 5);
	/* Listing in pages of 5. */
	from = 0;
	do {
		assert_int_equal(store_list(a, 0, from, ri, 5, &cnt, &next),
		    ARK_OK);
		for (size_t i = 0; i < cnt; i++) {
			if (ri[i].key == 4 && ri[i].tombstone)
				assert_int_equal(ri[i].size, 0);
			else
				assert_int_equal(ri[i].size, 700 * ri[i].key +
				    (ri[i].key == 13 ? 5 - 700 * 13 : 0));
		}
		listed += cnt;
		from = next;
	} while (cnt > 0);
	assert_int_equal(listed, 14);	/* 13 needles + 1 tombstone */
	/* Raw ranges of at most 4 KiB (a bigger record still comes whole),
	 * fed to the importer in 1000-byte pieces. */
	assert_int_equal(store_import_begin(b, &im), ARK_OK);
	from = 0;
	while (store_raw_range(a, 0, from, 4096, &range, &next) == ARK_OK) {
		buf = malloc(range.size);
		assert_non_null(buf);
		assert_int_equal(pread(range.fd, buf, range.size,
		    (off_t)range.offset), (ssize_t)range.size);
		for (uint64_t i = 0; i < range.size; i += 1000)
			assert_int_equal(store_import_feed(im, buf + i,
			    (size_t)ARK_MIN((uint64_t)1000, range.size - i)),
			    ARK_OK);
		total += range.size;
		free(buf);
		store_loc_release(&range);
		from = next;
	}
	assert_int_equal(store_import_end(im, &n), ARK_OK);
	assert_int_equal(n, 14);
	for (uint64_t k = 1; k <= 12; k++)
		if (k == 4)
			check_absent(b, k);
		else
			check_key(b, k, 700 * k);
	check_key(b, 13, 5);
	store_stats(b, &s);
	assert_int_equal(s.needles, 12);
	/* Importing again is idempotent. */
	{
		struct store_loc r2;

		assert_int_equal(store_raw_range(a, 0, 0, 1 << 20, &r2, &next),
		    ARK_OK);
		buf = malloc(r2.size);
		assert_non_null(buf);
		assert_int_equal(pread(r2.fd, buf, r2.size, (off_t)r2.offset),
		    (ssize_t)r2.size);
		assert_int_equal(store_import_begin(b, &im), ARK_OK);
		assert_int_equal(store_import_feed(im, buf, r2.size), ARK_OK);
		assert_int_equal(store_import_end(im, NULL), ARK_OK);
		/* A corrupt record is refused before it becomes visible. */
		buf[CHUNK_SB_SIZE > 0 ? NEEDLE_HDR_SIZE + 10 : 0] ^= 1;
		store_close(b);
		tu_rmrf(bdir);
		b = open_store(bdir, STORE_SYNC_ALWAYS, 0);
		assert_int_equal(store_import_begin(b, &im), ARK_OK);
		assert_int_equal(store_import_feed(im, buf, r2.size),
		    ARK_ECORRUPT);
		assert_int_equal(store_import_end(im, NULL), ARK_ECORRUPT);
		check_absent(b, 1);
		/* A truncated stream is a protocol error. */
		buf[NEEDLE_HDR_SIZE + 10] ^= 1;
		assert_int_equal(store_import_begin(b, &im), ARK_OK);
		assert_int_equal(store_import_feed(im, buf, 100), ARK_OK);
		assert_int_equal(store_import_end(im, NULL), ARK_EPROTO);
		check_absent(b, 1);
		free(buf);
		store_loc_release(&r2);
	}
	assert_int_equal(store_raw_range(a, 0, total + CHUNK_SB_SIZE, 10,
	    &range, &next), ARK_ENOENT);
	store_close(a);
	store_close(b);
	tu_rmrf(bdir);
	free(bdir);
}

/* Pages of needle key in the page cache. */
static size_t
resident(struct store *st, uint64_t key)
{
	struct store_loc	 loc;
	long			 pg = sysconf(_SC_PAGESIZE);
	unsigned char		 vec[1024];
	uint64_t		 lo, hi;
	size_t			 i, n = 0;
	void			*m;

	assert_int_equal(store_get(st, key, (uint32_t)key ^ 0x5a5a, &loc),
	    ARK_OK);
	lo = loc.offset / (uint64_t)pg * (uint64_t)pg;
	hi = loc.offset + loc.size;
	assert_true((hi - lo) / (uint64_t)pg < sizeof(vec));
	m = mmap(NULL, hi - lo, PROT_READ, MAP_SHARED, loc.fd, (off_t)lo);
	assert_true(m != MAP_FAILED);
	assert_int_equal(mincore(m, hi - lo, vec), 0);
	for (i = 0; i < (hi - lo + (uint64_t)pg - 1) / (uint64_t)pg; i++)
		n += vec[i] & 1;
	munmap(m, hi - lo);
	store_loc_release(&loc);
	return n;
}

/* --drop-behind: large needles leave the page cache once eight more have
 * been written; small ones and the latest large ones stay. */
static void
test_drop_behind(void **state)
{
	struct store_opts	 o;
	struct store		*st;
	struct statfs		 fs;
	uint64_t		 k;

	assert_int_equal(statfs(*state, &fs), 0);
	if (fs.f_type == TMPFS_MAGIC)
		skip();			/* tmpfs pages are the file */
	store_opts_default(&o);
	o.drop_behind = 64 << 10;
	assert_int_equal(store_open(*state, &o, &st), ARK_OK);
	put_ok(st, 100, 4096);
	for (k = 1; k <= 10; k++)
		put_ok(st, k, 256 << 10);
	/* 64 pages each: at most the two shared with a neighbour stay. */
	assert_true(resident(st, 1) <= 2);
	assert_true(resident(st, 2) <= 2);
	assert_true(resident(st, 3) >= 64);
	assert_true(resident(st, 10) >= 64);
	assert_true(resident(st, 100) > 0);
	for (k = 1; k <= 10; k++)
		check_key(st, k, 256 << 10);
	check_key(st, 100, 4096);
	store_close(st);
}

static void
test_lock(void **state)
{
	struct store *st = open_store(*state, STORE_SYNC_NONE, 0);
	struct store_opts o;
	struct store *st2;

	store_opts_default(&o);
	assert_int_equal(store_open(*state, &o, &st2), ARK_EAGAIN);
	o.chunk_size = 10;
	assert_int_equal(store_open(*state, &o, &st2), ARK_EINVAL);
	store_close(st);
	store_close(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_roundtrip),
		T(test_cookie_and_conflicts),
		T(test_delete_restart),
		T(test_journal_plus_tail),
		T(test_torn_tail_every_byte),
		T(test_torn_tail_big),
		T(test_corrupt_body_and_scrub),
		T(test_scrub_rate),
		T(test_streaming),
		T(test_rollover),
		T(test_batch),
		T(test_group_commit),
		T(test_compaction),
		T(test_compaction_auto),
		T(test_compaction_crash),
		T(test_compaction_tombstones),
		T(test_replay_consistency),
		T(test_readonly),
		T(test_fs_full),
		T(test_resync),
		T(test_drop_behind),
		T(test_lock),
#undef T
	};

	ark_log_init("test_store", ARK_LOG_INFO);
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
