/*
 * fuzz_chunk.c - libFuzzer target for everything that parses chunk bytes
 * coming from a disk or a peer. The first input byte picks the mode:
 *   even: recovery. Bytes 1-2 give a journal length L; the next L bytes
 *         follow a valid journal header as records, the rest follows a
 *         valid superblock as the chunk's records. chunk_open() must
 *         succeed and report records in increasing, in-bounds offsets;
 *         a walk of the recovered chunk must see only decodable headers.
 *   odd:  resync import. The rest is fed to store_import_feed() in two
 *         pieces (split by byte 1) into a scratch store.
 */
#include "config.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "data/chunk.h"
#include "data/journal.h"
#include "data/needle.h"
#include "data/store.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char		*fz_dir;
static struct store	*fz_store;
static uint64_t		 fz_last, fz_count;

static int
fz_rec(void *arg, uint32_t id, uint64_t off, const struct needle_hdr *h)
{
	(void)arg;
	(void)id;
	if (off < CHUNK_SB_SIZE || (fz_count > 0 && off <= fz_last) ||
	    off % NEEDLE_ALIGN != 0)
		abort();
	if ((h->flags & NEEDLE_F_PAD) != 0)
		abort();
	fz_last = off + needle_reclen(h->size) - 1;
	fz_count++;
	return 0;
}

static int
fz_walk(void *arg, uint64_t off, const struct needle_hdr *h, enum ark_err rc)
{
	uint64_t tail = *(uint64_t *)arg;

	if (rc != ARK_OK || off + needle_reclen(h->size) > tail)
		abort();
	return 0;
}

static void
fz_append(const char *name, uint64_t off, const uint8_t *p, size_t n)
{
	char *path = ark_xasprintf("%s/%s", fz_dir, name);
	int fd = open(path, O_WRONLY);

	if (fd < 0 || (n > 0 && pwrite(fd, p, n, (off_t)off) != (ssize_t)n))
		abort();
	close(fd);
	free(path);
}

static void
fz_recovery(const uint8_t *data, size_t size)
{
	struct chunk *c;
	size_t jlen;
	uint64_t tail;
	char *p;

	if (size < 2)
		return;
	jlen = ((size_t)data[0] | (size_t)data[1] << 8) % (size - 1);
	data += 2;
	size -= 2;
	p = ark_xasprintf("%s/chunk_0.dat", fz_dir);
	unlink(p);
	free(p);
	p = ark_xasprintf("%s/chunk_0.idx", fz_dir);
	unlink(p);
	free(p);
	if (chunk_create(fz_dir, 0, 1 << 20, NULL, &c) != ARK_OK)
		abort();
	chunk_unref(c);
	fz_append("chunk_0.idx", JOURNAL_HDR_SIZE, data, jlen);
	fz_append("chunk_0.dat", CHUNK_SB_SIZE, data + jlen, size - jlen);
	fz_last = fz_count = 0;
	if (chunk_open(fz_dir, 0, 1 << 20, fz_rec, NULL, NULL, &c) != ARK_OK)
		abort();
	tail = chunk_tail(c);
	if (fz_count > 0 && fz_last >= tail)
		abort();
	/* Journal-trusted records are not re-read at open; the walk covers
	 * only what recovery itself vouches for when there was no journal. */
	if (jlen == 0 && chunk_walk(c, 0, tail, fz_walk, &tail) != ARK_OK)
		abort();
	chunk_unref(c);
}

static void
fz_import(const uint8_t *data, size_t size)
{
	struct store_import *im;
	struct store_opts o;
	size_t cut;

	if (fz_store == NULL) {
		char *sd = ark_xasprintf("%s/store", fz_dir);

		store_opts_default(&o);
		o.sync = STORE_SYNC_NONE;
		o.chunk_size = 1 << 20;
		if (store_open(sd, &o, &fz_store) != ARK_OK)
			abort();
		free(sd);
	}
	if (size < 1)
		return;
	cut = data[0] % size;
	data++;
	size--;
	cut = ARK_MIN(cut, size);
	if (store_import_begin(fz_store, &im) != ARK_OK)
		abort();
	if (store_import_feed(im, data, cut) == ARK_OK)
		(void)store_import_feed(im, data + cut, size - cut);
	(void)store_import_end(im, NULL);
}

static int
fz_rm(const char *p, const struct stat *sb, int f, struct FTW *w)
{
	(void)sb;
	(void)f;
	(void)w;
	return remove(p);
}

static void
fz_cleanup(void)
{
	store_close(fz_store);
	fz_store = NULL;
	(void)nftw(fz_dir, fz_rm, 16, FTW_DEPTH | FTW_PHYS);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fz_dir == NULL) {
		const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

		ark_log_init("fuzz_chunk", ARK_LOG_ERROR);
		fz_dir = ark_xasprintf("%s/fuzz_chunk.XXXXXX", base);
		if (mkdtemp(fz_dir) == NULL)
			abort();
		atexit(fz_cleanup);
	}
	if (size < 1)
		return 0;
	if (data[0] % 2 == 0)
		fz_recovery(data + 1, size - 1);
	else
		fz_import(data + 1, size - 1);
	return 0;
}
