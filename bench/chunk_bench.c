/*
 * chunk_bench.c - figures for the chunk store (not run by make check):
 *   1. 4 KiB puts with sync=always from 64 threads: needles/s, fdatasyncs
 *   2. 8 MiB needles, sync=always, one writer: MB/s
 *   3. 10 million needles: index bytes per needle, and start-up time from
 *      the journals (and from the chunk files alone, journals removed)
 * Usage: chunk_bench [-d dir] [-t threads] [-n puts/thread] [-m millions]
 * Uses a temporary directory under dir (default $TMPDIR or /tmp), at most
 * about 1.2 GB with the defaults, and removes it.
 */
#include "config.h"

#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cksum.h"
#include "common/log.h"
#include "common/util.h"
#include "data/chunk.h"
#include "data/journal.h"
#include "data/needle.h"
#include "data/store.h"

static int
rm_cb(const char *p, const struct stat *sb, int f, struct FTW *w)
{
	(void)sb;
	(void)f;
	(void)w;
	return remove(p);
}

static void
rmrf(const char *dir)
{
	(void)nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static char *
mkdir_tmp(const char *base)
{
	char *p = ark_xasprintf("%s/chunk_bench.XXXXXX", base);

	if (mkdtemp(p) == NULL)
		ark_fatal("mkdtemp %s", p);
	return p;
}

static double
secs(uint64_t ns)
{
	return (double)ns / 1e9;
}

struct wr_arg {
	struct store	*st;
	int		 id;
	int		 n;
	atomic_int	*fail;
};

static void *
wr_main(void *p)
{
	struct wr_arg *a = p;
	unsigned char buf[4096];

	memset(buf, a->id, sizeof(buf));
	for (int i = 0; i < a->n; i++) {
		uint64_t key = ((uint64_t)a->id << 32) | (uint64_t)i;

		buf[0] = (unsigned char)i;
		if (store_put(a->st, key, 1, buf, sizeof(buf)) != ARK_OK)
			atomic_fetch_add(a->fail, 1);
	}
	return NULL;
}

static void
bench_small(const char *base, int threads, int per)
{
	char *dir = mkdir_tmp(base);
	struct store_opts o;
	struct store *st;
	struct store_stats s;
	struct wr_arg *args = ark_xcalloc((size_t)threads, sizeof(*args));
	pthread_t *thr = ark_xcalloc((size_t)threads, sizeof(*thr));
	atomic_int fail;
	uint64_t t0, t;

	store_opts_default(&o);
	o.sync = STORE_SYNC_ALWAYS;
	if (store_open(dir, &o, &st) != ARK_OK)
		ark_fatalx("store_open %s", dir);
	atomic_init(&fail, 0);
	t0 = ark_mono_ns();
	for (int i = 0; i < threads; i++) {
		args[i].st = st;
		args[i].id = i;
		args[i].n = per;
		args[i].fail = &fail;
		pthread_create(&thr[i], NULL, wr_main, &args[i]);
	}
	for (int i = 0; i < threads; i++)
		pthread_join(thr[i], NULL);
	t = ark_mono_ns() - t0;
	store_stats(st, &s);
	printf("4 KiB puts, sync=always, %d threads: %d puts in %.2f s = "
	    "%.0f needles/s, %.1f MB/s, %llu fdatasyncs (%.1f puts/sync), "
	    "%d failures\n", threads, threads * per, secs(t),
	    threads * per / secs(t), threads * per * 4096.0 / 1e6 / secs(t),
	    (unsigned long long)s.syncs,
	    (double)(threads * per) / (double)(s.syncs ? s.syncs : 1),
	    atomic_load(&fail));
	store_close(st);
	rmrf(dir);
	free(dir);
	free(args);
	free(thr);
}

static void
bench_big(const char *base, int count)
{
	char *dir = mkdir_tmp(base);
	size_t len = 8u << 20;
	unsigned char *buf = ark_xmalloc(len);
	struct store_opts o;
	struct store *st;
	uint64_t t0, t;

	store_opts_default(&o);
	o.sync = STORE_SYNC_ALWAYS;
	if (store_open(dir, &o, &st) != ARK_OK)
		ark_fatalx("store_open %s", dir);
	(void)ark_random_bytes(buf, len);
	t0 = ark_mono_ns();
	for (int i = 0; i < count; i++) {
		buf[0] = (unsigned char)i;
		if (store_put(st, (uint64_t)i + 1, 1, buf, len) != ARK_OK)
			ark_fatalx("put 8 MiB failed");
	}
	t = ark_mono_ns() - t0;
	printf("8 MiB puts, sync=always, 1 writer: %d in %.2f s = %.1f MB/s\n",
	    count, secs(t), count * (double)len / 1e6 / secs(t));
	t0 = ark_mono_ns();
	for (int i = 0; i < count; i++) {
		struct store_loc loc;

		if (store_get(st, (uint64_t)i + 1, 1, &loc) != ARK_OK ||
		    store_loc_read(&loc, buf, len) != ARK_OK)
			ark_fatalx("get 8 MiB failed");
		store_loc_release(&loc);
	}
	t = ark_mono_ns() - t0;
	printf("8 MiB gets with CRC check (page cache): %.1f MB/s\n",
	    count * (double)len / 1e6 / secs(t));
	store_close(st);
	rmrf(dir);
	free(dir);
	free(buf);
}

/* Writes n empty needles straight into chunk files (same format as the
 * store writes, 32 bytes each) and their journals. */
static void
make_many(const char *dir, uint64_t n, uint64_t chunk_size)
{
	enum { BATCH = 32768 };
	unsigned char *buf = ark_xmalloc((size_t)BATCH * NEEDLE_HDR_SIZE);
	struct journal_rec *jr = ark_xcalloc(BATCH, sizeof(*jr));
	uint64_t key = 1, per = (chunk_size - CHUNK_SB_SIZE) / NEEDLE_HDR_SIZE;
	uint32_t id = 0;

	while (key <= n) {
		struct chunk *c;
		uint64_t left = ARK_MIN(per, n - key + 1);

		if (chunk_create(dir, id, chunk_size, NULL, &c) != ARK_OK)
			ark_fatalx("chunk_create");
		while (left > 0) {
			size_t k = (size_t)ARK_MIN(left, (uint64_t)BATCH);
			uint64_t off;

			for (size_t i = 0; i < k; i++) {
				struct needle_hdr h = { .key = key + i,
				    .cookie = 1 };

				needle_encode(&h, buf + i * NEEDLE_HDR_SIZE);
			}
			if (chunk_append_raw(c, buf, k * NEEDLE_HDR_SIZE,
			    &off) != ARK_OK)
				ark_fatalx("append");
			for (size_t i = 0; i < k; i++) {
				jr[i].key = key + i;
				jr[i].offset = off + i * NEEDLE_HDR_SIZE;
				jr[i].size = 0;
				jr[i].cookie = 1;
				jr[i].flags = 0;
			}
			if (chunk_journal_append(c, jr, k) != ARK_OK)
				ark_fatalx("journal");
			key += k;
			left -= k;
		}
		(void)chunk_sync_all(c);
		chunk_unref(c);
		id++;
	}
	free(buf);
	free(jr);
}

static void
bench_startup(const char *base, uint64_t n)
{
	char *dir = mkdir_tmp(base);
	uint64_t chunk_size = 256ULL << 20, t0, t;
	struct store_opts o;
	struct store_stats s;
	struct store *st;
	struct store_loc loc;

	t0 = ark_mono_ns();
	make_many(dir, n, chunk_size);
	printf("startup: wrote %llu empty needles in %.1f s\n",
	    (unsigned long long)n, secs(ark_mono_ns() - t0));
	store_opts_default(&o);
	o.chunk_size = chunk_size;
	for (int pass = 0; pass < 2; pass++) {
		t0 = ark_mono_ns();
		if (store_open(dir, &o, &st) != ARK_OK)
			ark_fatalx("store_open");
		t = ark_mono_ns() - t0;
		store_stats(st, &s);
		if (s.needles != n || store_get(st, n / 2, 1, &loc) != ARK_OK)
			ark_fatalx("startup: wrong needle count %llu",
			    (unsigned long long)s.needles);
		store_loc_release(&loc);
		printf("startup %s: %llu needles in %u chunks, %.2f s; index "
		    "%.1f MB = %.2f bytes/needle\n", pass == 0 ?
		    "from journals" : "from chunk files alone (no journals)",
		    (unsigned long long)s.needles, s.chunks, secs(t),
		    (double)s.index_bytes / 1e6, s.index_bytes_per_needle);
		store_close(st);
		if (pass == 0)
			for (uint32_t id = 0; id < s.chunks; id++) {
				char *p = ark_xasprintf("%s/chunk_%u.idx",
				    dir, id);

				unlink(p);
				free(p);
			}
	}
	rmrf(dir);
	free(dir);
}

int
main(int argc, char **argv)
{
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	int threads = 64, per = 200, big = 32, ch;
	uint64_t millions = 10;

	ark_log_init("chunk_bench", ARK_LOG_WARN);
	while ((ch = getopt(argc, argv, "d:t:n:b:m:")) != -1) {
		switch (ch) {
		case 'd':
			base = optarg;
			break;
		case 't':
			threads = atoi(optarg);
			break;
		case 'n':
			per = atoi(optarg);
			break;
		case 'b':
			big = atoi(optarg);
			break;
		case 'm':
			millions = strtoull(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: chunk_bench [-d dir] "
			    "[-t threads] [-n puts/thread] [-b big puts] "
			    "[-m millions]\n");
			return 2;
		}
	}
	if (threads < 1 || threads > 1024 || per < 1 || big < 1 ||
	    millions < 1 || millions > 50)
		ark_fatalx("bad arguments");
	printf("crc32c: %s\n", ark_crc32c_hw_available() ? "hardware" :
	    "software");
	bench_small(base, threads, per);
	bench_big(base, big);
	bench_startup(base, millions * 1000000ULL);
	return 0;
}
