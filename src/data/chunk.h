/*
 * chunk.h - one chunk: the append-only data file chunk_<n>.dat (a 64-byte
 * superblock, then needle records) and its index journal chunk_<n>.idx.
 *
 * Writers reserve a record's full length at the tail (chunk_reserve, under
 * the chunk's mutex, which also writes a PAD header there), fill it with
 * pwrite at their own offset, then resolve it as committed or aborted.
 * Several writers may fill distinct reservations concurrently. Journal
 * records are emitted in offset order for the resolved prefix of the
 * reservation queue, and only for commits the caller declares durable
 * (chunk_journal_advance), so the journal never runs ahead of synced data.
 *
 * Recovery (chunk_open) trusts journal records that lie inside the file,
 * then scans the tail record by record: a missing magic or a record running
 * past EOF cuts the file there; a damaged header or data CRC in the tail
 * turns the record into PAD (dead) and scanning goes on.
 *
 * Thread safety: every function may be called from any thread; the data
 * file is only accessed with pread/pwrite. A chunk is shared by reference
 * count; the last chunk_unref() closes the files.
 */
#ifndef ARKOR_DATA_CHUNK_H
#define ARKOR_DATA_CHUNK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "common/err.h"
#include "data/journal.h"
#include "data/needle.h"

#define CHUNK_SB_SIZE		64
#define CHUNK_VERSION		1
#define CHUNK_MAX_ID		((1u << 20) - 1)
#define CHUNK_TMP_SUFFIX	".compact"

struct chunk;				/* opaque, reference counted */
struct chunk_resv;			/* one in-flight reservation */

struct chunk_open_info {		/* what recovery did */
	uint64_t	 journaled;	/* records taken from the journal */
	uint64_t	 scanned;	/* records found by the tail scan */
	uint64_t	 padded;	/* tail records turned into PAD */
	uint64_t	 cut_bytes;	/* bytes truncated off the tail */
	int		 journal_reset;	/* journal missing or stale */
};

/* Called by chunk_open for each needle or tombstone, in offset order.
 * h->crc is 0 for records taken from the journal. Returns 0. */
typedef int chunk_rec_fn(void *arg, uint32_t id, uint64_t off,
    const struct needle_hdr *h);

/*
 * Creates chunk `id` in `dir` (its files must not exist unless `suffix`
 * is given, then they are replaced): superblock with a fresh generation,
 * synced, directory synced. `suffix` (NULL or CHUNK_TMP_SUFFIX) is
 * appended to both file names. On ARK_OK the caller owns one reference.
 */
enum ark_err	 chunk_create(const char *dir, uint32_t id, uint64_t max_size,
		    const char *suffix, struct chunk **out);
/* Opens and recovers chunk `id` (see above); `fn` may be NULL. On error
 * nothing is held; ARK_ECORRUPT means the superblock is damaged. */
enum ark_err	 chunk_open(const char *dir, uint32_t id, uint64_t max_size,
		    chunk_rec_fn *fn, void *arg, struct chunk_open_info *info,
		    struct chunk **out);
void		 chunk_ref(struct chunk *c);
void		 chunk_unref(struct chunk *c);		/* NULL is a no-op */

uint32_t	 chunk_id(const struct chunk *c);
int		 chunk_fd(const struct chunk *c);
uint64_t	 chunk_generation(const struct chunk *c);
/* End of the last reserved record (= bytes the file will occupy). */
uint64_t	 chunk_tail(struct chunk *c);
/* Offset of the oldest unresolved (pending) reservation, or the tail:
 * everything before it is a finished record. */
uint64_t	 chunk_stable_end(struct chunk *c);
unsigned	 chunk_inflight(struct chunk *c);
/* Refuses further reservations (ARK_EAGAIN) from now on. */
void		 chunk_seal(struct chunk *c);

/*
 * Reserves needle_reclen(h->size) bytes at the tail and writes a PAD header
 * carrying h->size there. ARK_EAGAIN: the chunk is full or sealed (nothing
 * changed). ARK_ENOSPC/ARK_EIO: the file system refused; nothing reserved.
 * On ARK_OK the caller must resolve *r exactly once.
 */
enum ark_err	 chunk_reserve(struct chunk *c, uint32_t size,
		    struct chunk_resv **r, uint64_t *off);
/* Marks *r committed with header `h` and commit sequence `seq`, or aborted
 * when h is NULL (its PAD header stays). The chunk takes *r back. */
void		 chunk_resolve(struct chunk *c, struct chunk_resv *r,
		    const struct needle_hdr *h, uint64_t seq);
/* Writes journal records for the resolved prefix of the queue whose
 * commits have seq <= durable_seq. Errors are logged and not fatal. */
void		 chunk_journal_advance(struct chunk *c, uint64_t durable_seq);

enum ark_err	 chunk_pwrite(struct chunk *c, uint64_t off, const void *p,
		    size_t n);
/* (Re)writes a PAD header for a record of `size` data bytes at off, e.g.
 * over a final header whose commit failed half way. */
enum ark_err	 chunk_mark_pad(struct chunk *c, uint64_t off, uint32_t size);
enum ark_err	 chunk_pwritev(struct chunk *c, uint64_t off,
		    struct iovec *iov, int iovcnt);
/* ARK_EIO on error, ARK_ECORRUPT if the file ends before off + n. */
enum ark_err	 chunk_pread(struct chunk *c, uint64_t off, void *p, size_t n);
/* Reads and decodes the header at off (needle_decode's codes). */
enum ark_err	 chunk_read_hdr(struct chunk *c, uint64_t off,
		    struct needle_hdr *h);
/* Reads the data of the needle at off and checks its CRC against h->crc
 * (ARK_ECORRUPT on mismatch). */
enum ark_err	 chunk_verify_data(struct chunk *c, uint64_t off,
		    const struct needle_hdr *h);
enum ark_err	 chunk_datasync(struct chunk *c);

/*
 * Walks the records in [from, to): fn(arg, off, h, rc) with rc ARK_OK for
 * a good header (PAD records included) or ARK_ECORRUPT for a damaged one,
 * after which the walk looks for the next valid header at 8-byte steps.
 * fn returns 0 to go on, non-zero to stop (chunk_walk then returns ARK_OK).
 * `from` must be a record boundary.
 */
enum ark_err	 chunk_walk(struct chunk *c, uint64_t from, uint64_t to,
		    int (*fn)(void *arg, uint64_t off,
		    const struct needle_hdr *h, enum ark_err rc), void *arg);

/* Single-writer append for compaction output (no reservation queue):
 * writes n bytes at the tail and returns their offset. */
enum ark_err	 chunk_append_raw(struct chunk *c, const void *p, size_t n,
		    uint64_t *off);
enum ark_err	 chunk_journal_append(struct chunk *c,
		    const struct journal_rec *r, size_t n);
/* Syncs data file and journal (clean close, compaction output). */
enum ark_err	 chunk_sync_all(struct chunk *c);
/* Renames a chunk created with a suffix over the real names: data file
 * first, then journal (a crash between leaves a journal whose generation
 * does not match and is rebuilt), then syncs the directory. */
enum ark_err	 chunk_install(struct chunk *c);

#endif /* ARKOR_DATA_CHUNK_H */
