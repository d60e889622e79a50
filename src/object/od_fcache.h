/*
 * od_fcache.h - whole small fragments kept in arkor-objectd's memory.
 *
 * A FileID's bytes never change (an overwrite stores a new FileID), so a
 * fragment fetched whole and verified (CRC32C) may answer later GETs of
 * any object version that still names it, without asking a data server
 * again; a deleted or replaced object's FileIDs are simply never asked
 * for again and age out. Entries are evicted least recently used first
 * under a byte budget. One cache per process, shared by the worker
 * threads under a mutex (a lookup copies at most `item_max` bytes).
 */
#ifndef ARKOR_OBJECT_OD_FCACHE_H
#define ARKOR_OBJECT_OD_FCACHE_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;
struct od_fcache;

/* The largest fragment arkor-objectd keeps. */
#define OD_FCACHE_ITEM	((size_t)256 << 10)

struct od_fcache_stats {
	uint64_t	 hits, misses;
	uint64_t	 bytes;		/* cached, entries' overhead incl. */
	uint64_t	 items;
};

/* budget 0: a cache that keeps nothing. Caller owns the result. */
struct od_fcache *od_fcache_new(size_t budget, size_t item_max);
void		 od_fcache_free(struct od_fcache *c);
/* Whether a fragment of `len` bytes may be kept. */
int		 od_fcache_fits(const struct od_fcache *c, uint64_t len);
/* Appends bytes [off, off + n) of fragment fid to out and returns 1 when
 * it is cached whole (len: its length, checked against the entry);
 * 0 otherwise (a miss, counted). */
int		 od_fcache_get(struct od_fcache *c, const char *fid,
		    uint64_t len, uint64_t off, uint64_t n,
		    struct evbuffer *out);
/* Keeps a copy of fragment fid, whose whole verified bytes are `buf`
 * (left as it is). Too big, or already cached: nothing happens. */
void		 od_fcache_put(struct od_fcache *c, const char *fid,
		    const struct evbuffer *buf);
void		 od_fcache_stats(struct od_fcache *c,
		    struct od_fcache_stats *out);

#endif /* ARKOR_OBJECT_OD_FCACHE_H */
