/*
 * journal.h - the per-chunk index journal (chunk_<n>.idx): a 32-byte header
 * naming the chunk id and generation of the data file it describes, then
 * 32-byte records (key, offset, size, cookie, flags, CRC32C), one per
 * committed needle or tombstone, in increasing offset order. It is only an
 * accelerator: the chunk file is self-describing, the journal is never
 * fsynced before an ack, and a torn or missing tail is rebuilt by scanning
 * the chunk. Layout: docs/specs/ChunkFormat.md.
 *
 * A struct journal belongs to one chunk; its owner serialises calls.
 */
#ifndef ARKOR_DATA_JOURNAL_H
#define ARKOR_DATA_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define JOURNAL_HDR_SIZE	32
#define JOURNAL_REC_SIZE	32

struct journal;				/* opaque */

struct journal_rec {			/* plain value */
	uint64_t	 key;
	uint64_t	 offset;	/* of the needle header in the chunk */
	uint32_t	 size;
	uint32_t	 cookie;
	uint16_t	 flags;		/* needle flags (NEEDLE_F_TOMBSTONE) */
};

/*
 * Opens `path` (creating it if missing) for chunk `id` whose data file has
 * generation `gen`. Records are passed in file order to `fn`, which returns
 * 0 to accept or -1 to reject one; reading stops at the first short, CRC-bad
 * or rejected record and the file is truncated there. A header that is
 * missing, damaged or names another chunk/generation makes an empty journal
 * (and *reset = 1). On ARK_OK the caller owns *out (journal_close).
 */
enum ark_err	 journal_open(const char *path, uint32_t id, uint64_t gen,
		    int (*fn)(void *arg, const struct journal_rec *r),
		    void *arg, int *reset, struct journal **out);
/* Truncating create, for compaction output. */
enum ark_err	 journal_create(const char *path, uint32_t id, uint64_t gen,
		    struct journal **out);
/* Appends n records with one write(2). On error the file may hold a torn
 * record, which the next open cuts. */
enum ark_err	 journal_append(struct journal *j, const struct journal_rec *r,
		    size_t n);
enum ark_err	 journal_sync(struct journal *j);
uint64_t	 journal_nrecs(const struct journal *j);
void		 journal_close(struct journal *j);	/* NULL is a no-op */

#endif /* ARKOR_DATA_JOURNAL_H */
