/*
 * store.h - the chunk store of arkor-datad: a directory of chunk files, the
 * in-memory needle index, group commit, compaction, scrub, space limits,
 * status figures and resync. Format: docs/specs/ChunkFormat.md.
 *
 * Threads: every function may be called from any thread unless noted; the
 * store runs one sync thread of its own (policies always and batch). Write
 * calls never wait for a sync themselves except store_put/store_delete/
 * store_import_end; streaming writers get a ticket and either block in
 * store_wait() or ask store_notify() for a callback from the sync thread.
 *
 * Visibility: a needle is visible to store_get() once its writer finished,
 * possibly a little before it is durable; it is acknowledged (ticket
 * durable) only after an fdatasync that started after its last write.
 */
#ifndef ARKOR_DATA_STORE_H
#define ARKOR_DATA_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct store;				/* opaque */
struct store_wr;			/* one streaming write */
struct store_import;			/* one raw-record import stream */
struct chunk;

enum store_sync {
	STORE_SYNC_ALWAYS = 0,		/* fdatasync before the ack */
	STORE_SYNC_BATCH,		/* fdatasync within batch_ms */
	STORE_SYNC_NONE,		/* never (page cache only) */
};

struct store_opts {
	uint64_t	 chunk_size;	/* bytes per chunk file (4 GiB) */
	enum store_sync	 sync;
	uint32_t	 batch_ms;	/* bound for STORE_SYNC_BATCH (50) */
	uint64_t	 max_disk_use;	/* bytes of chunk files; 0: none */
	uint64_t	 min_free;	/* file-system free floor; 0: none */
	double		 compact_ratio;	/* dead share that triggers (0.5);
					 * above 1: never */
	size_t		 index_hint;	/* expected needles (presize) */
	uint64_t	 drop_behind;	/* needles this large leave the page
					 * cache once written (0: never) */
};

/* A readable needle: pass fd/offset/size to sendfile(). Holds a reference
 * on the chunk file that store_loc_release() drops: the fd stays valid
 * (even across a compaction) until then. */
struct store_loc {
	struct store	*st;		/* borrowed */
	struct chunk	*chunk;		/* reference */
	int		 fd;
	uint32_t	 chunk_id;
	uint64_t	 rec_offset;	/* needle header */
	uint64_t	 offset;	/* first data byte */
	uint64_t	 size;
	uint32_t	 crc;		/* stored CRC32C of the data */
	uint64_t	 key;
	uint32_t	 cookie;
};

struct store_ticket {			/* durability of one write */
	uint64_t	 seq;
};

struct store_stats {
	uint64_t	 fs_free;	/* bytes available on the file system */
	uint64_t	 disk_used;	/* bytes of chunk files */
	uint32_t	 chunks;
	uint64_t	 needles;
	uint64_t	 live_bytes;	/* records the index points to */
	uint64_t	 dead_bytes;	/* everything else past superblocks */
	uint64_t	 corrupt;
	int		 readonly;
	uint64_t	 index_bytes;
	double		 index_bytes_per_needle;
	uint64_t	 syncs;		/* fdatasync calls on chunk files */
	uint64_t	 sync_avg_ns;	/* moving average of one sync pass */
	uint64_t	 commit_seq;
	uint64_t	 durable_seq;
};

struct store_corrupt {
	uint64_t	 key;		/* 0 when the header is unreadable */
	uint32_t	 chunk_id;
	uint64_t	 offset;
};

struct store_rec_info {			/* one record, for resync listings */
	uint64_t	 key;
	uint32_t	 cookie;
	uint32_t	 size;
	uint32_t	 crc;
	uint64_t	 offset;
	int		 tombstone;
};

void		 store_opts_default(struct store_opts *o);

/* Opens (creating if needed) the store in `dir`, recovering every chunk.
 * On ARK_OK the caller owns *out (store_close). */
enum ark_err	 store_open(const char *dir, const struct store_opts *o,
		    struct store **out);
/* Stops the sync thread, syncs data and journals, frees everything.
 * No other call may be running or start. NULL is a no-op. */
void		 store_close(struct store *st);

/*
 * Whole-needle write; waits for durability per policy. Same key with the
 * same cookie and identical bytes: ARK_OK (idempotent). Same key otherwise:
 * ARK_EEXIST. ARK_ENOSPC when read-only; ARK_ETOOBIG when larger than a
 * chunk; ARK_EAGAIN while another write of the key is in flight.
 */
enum ark_err	 store_put(struct store *st, uint64_t key, uint32_t cookie,
		    const void *data, size_t len);

/*
 * Streaming write of a body of exactly `size` bytes, arriving in pieces.
 * begin: same errors as store_put for what is known up front; *expect_crc
 * (may be NULL) is checked at finish. On ARK_OK the caller owns *out and
 * must end it with store_wr_finish() or store_wr_abort(), from one thread
 * at a time. write: errors are sticky (finish then fails).
 * finish: ARK_EINVAL if fewer bytes came, ARK_ECORRUPT on a CRC mismatch,
 * ARK_EEXIST on a conflicting key; it always frees w. On ARK_OK the needle
 * is visible and *t says when it is durable. Aborted or failed writes
 * leave a dead region that no restart takes for data.
 */
enum ark_err	 store_wr_begin(struct store *st, uint64_t key,
		    uint32_t cookie, uint64_t size, const uint32_t *expect_crc,
		    struct store_wr **out);
enum ark_err	 store_wr_write(struct store_wr *w, const void *p, size_t n);
enum ark_err	 store_wr_finish(struct store_wr *w, struct store_ticket *t);
/* CRC32C of the bytes written so far (the needle's CRC once complete). */
uint32_t	 store_wr_crc(const struct store_wr *w);
void		 store_wr_abort(struct store_wr *w);	/* NULL is a no-op */

/* Blocks until *t is durable (returns at once under STORE_SYNC_NONE).
 * ARK_EIO if an fdatasync failed (the store is then read-only). */
enum ark_err	 store_wait(struct store *st, const struct store_ticket *t);
/* Calls cb(arg, rc) once *t is durable: from the sync thread, or before
 * returning if it already is. cb must not call back into the store's
 * blocking functions. */
void		 store_notify(struct store *st, const struct store_ticket *t,
		    void (*cb)(void *arg, enum ark_err rc), void *arg);

/* Looks up `key`; a wrong cookie is ARK_ENOENT like a missing key. On
 * ARK_OK the caller owns the reference in *loc (store_loc_release). */
enum ark_err	 store_get(struct store *st, uint64_t key, uint32_t cookie,
		    struct store_loc *loc);
/* pread of n data bytes at data position `pos` (no CRC check). */
enum ark_err	 store_loc_pread(const struct store_loc *loc, uint64_t pos,
		    void *buf, size_t n);
/* Reads the whole data into buf (cap >= loc->size) and checks the CRC:
 * ARK_ECORRUPT on mismatch (also recorded for status). */
enum ark_err	 store_loc_read(const struct store_loc *loc, void *buf,
		    size_t cap);
/* Re-reads the data through a bounded buffer and checks the CRC without a
 * caller buffer (e.g. before a sendfile): ARK_ECORRUPT on mismatch (also
 * recorded for status). */
enum ark_err	 store_loc_verify(const struct store_loc *loc);
void		 store_loc_release(struct store_loc *loc);

/* Appends a tombstone and drops the key; waits for durability. A missing
 * key or wrong cookie is ARK_ENOENT. Allowed while read-only (a tombstone
 * is 32 bytes) unless the file system itself is full. */
enum ark_err	 store_delete(struct store *st, uint64_t key, uint32_t cookie);

/*
 * Rewrites chunk `id` without its dead records (needles not in the index,
 * PAD space, and tombstones when no older chunk exists) while reads go on.
 * The active chunk is sealed first. ARK_EAGAIN if writes are still in
 * flight in it. The copy goes to chunk_<id>.dat.compact, is synced, then
 * renamed over the original; index entries move under the index lock.
 * STORE_COMPACT_STOP_BEFORE_RENAME (tests) stops after the sync, leaving
 * the temporary files as a crash would, and returns ARK_ECANCELED.
 */
#define STORE_COMPACT_STOP_BEFORE_RENAME	0x1
enum ark_err	 store_compact(struct store *st, uint32_t id, int flags);
/* Compacts every sealed chunk whose dead share passes compact_ratio;
 * *n (may be NULL) gets how many were rewritten. */
enum ark_err	 store_compact_auto(struct store *st, unsigned *n);

/* Re-reads every record of chunk `id`, verifying header and data CRCs, at
 * most rate_bps bytes per second (0: unlimited). Corrupt records are
 * added to the corrupt list. *checked / *bad may be NULL. */
enum ark_err	 store_scrub_chunk(struct store *st, uint32_t id,
		    uint64_t rate_bps, uint64_t *checked, uint64_t *bad);
/* Copies up to max entries of the corrupt list; returns the total count. */
size_t		 store_corrupt_list(struct store *st, struct store_corrupt *out,
		    size_t max);

void		 store_stats(struct store *st, struct store_stats *s);
/* Re-evaluates the space limits; clears read-only when back under them. */
void		 store_refresh_space(struct store *st);

/* Chunk ids present, ascending; returns the total count. */
size_t		 store_chunk_ids(struct store *st, uint32_t *ids, size_t max);
/*
 * Lists up to max needles and tombstones of chunk `id` from record offset
 * `from` (0: the start), skipping PAD; *n gets the count and *next the
 * offset to continue from (== the end of finished records when done).
 * `from` must be 0 or a value returned in *next or an offset listed.
 */
enum ark_err	 store_list(struct store *st, uint32_t id, uint64_t from,
		    struct store_rec_info *out, size_t max, size_t *n,
		    uint64_t *next);
/*
 * Describes a raw byte range of whole records of chunk `id` starting at
 * record offset `from`: at most max_bytes, but at least one record. On
 * ARK_OK *range holds a chunk reference (store_loc_release) and fd,
 * offset and size of the range; *next is where the following range
 * starts. ARK_ENOENT when from is at the end.
 */
enum ark_err	 store_raw_range(struct store *st, uint32_t id, uint64_t from,
		    uint64_t max_bytes, struct store_loc *range, uint64_t *next);
/*
 * Imports raw records (as produced by store_raw_range) fed in arbitrary
 * pieces. Each needle's header CRC is checked when its header is complete
 * and its data CRC before it becomes visible; PAD records are skipped;
 * tombstones delete a matching local needle. An error is sticky.
 * end: ARK_EPROTO if a record was left incomplete; waits for durability;
 * frees im. *n (may be NULL) gets the number of records applied.
 */
enum ark_err	 store_import_begin(struct store *st, struct store_import **out);
enum ark_err	 store_import_feed(struct store_import *im, const void *p,
		    size_t n);
enum ark_err	 store_import_end(struct store_import *im, uint64_t *n);

#endif /* ARKOR_DATA_STORE_H */
