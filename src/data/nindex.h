/*
 * nindex.h - the in-memory needle index: u64 key -> u64 value (the store
 * packs chunk id and offset into the value; 0 is reserved for "empty").
 * One open-addressing table of packed 16-byte entries, linear probing with
 * Robin Hood displacement and backward-shift deletion (no tombstones), sized
 * by multiplication (not a power of two) and grown by 1.25x at 90% load, so
 * the table stays between 72% and 90% full: 17.8 to 22.2 bytes per key.
 *
 * Not thread-safe: the owner (the store) serialises access with its lock.
 */
#ifndef ARKOR_DATA_NINDEX_H
#define ARKOR_DATA_NINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct nindex;				/* opaque */

/* Creates an index sized for about `hint` keys (0: small). On ARK_OK the
 * caller owns *out (nindex_free). ARK_ENOMEM leaves *out untouched. */
enum ark_err	 nindex_new(size_t hint, struct nindex **out);
void		 nindex_free(struct nindex *ix);	/* NULL is a no-op */

/* Returns 1 and sets *val (may be NULL) when `key` is present, else 0. */
int		 nindex_get(const struct nindex *ix, uint64_t key,
		    uint64_t *val);
/* Inserts or replaces key -> val (val != 0). *old (may be NULL) gets the
 * previous value or 0. ARK_ENOMEM (table could not grow) leaves the index
 * unchanged; ARK_EINVAL for val == 0. */
enum ark_err	 nindex_put(struct nindex *ix, uint64_t key, uint64_t val,
		    uint64_t *old);
/* Removes `key`; returns 1 and sets *old (may be NULL) if it was present.
 * Never shrinks the table. */
int		 nindex_del(struct nindex *ix, uint64_t key, uint64_t *old);

/* Grows the table so that `n` keys fit without further growth (no-op if
 * they already do). ARK_ENOMEM leaves the index unchanged. */
enum ark_err	 nindex_reserve(struct nindex *ix, size_t n);

size_t		 nindex_count(const struct nindex *ix);
size_t		 nindex_capacity(const struct nindex *ix);
/* Bytes of heap the index holds (the table plus the struct). */
size_t		 nindex_mem_bytes(const struct nindex *ix);
/* Calls fn for every entry, in table order; fn must not modify the index. */
void		 nindex_foreach(const struct nindex *ix,
		    void (*fn)(void *arg, uint64_t key, uint64_t val), void *arg);

#endif /* ARKOR_DATA_NINDEX_H */
