/*
 * fs_ncache.h - arkorfs's cache of names, kept right by the registry's
 * change counts.
 *
 * Each bucket counts the changes to its objects (nseq,
 * docs/specs/Internal.md). Every registry answer passes through
 * fsnc_observe(): lookups (object/get with "dir") are kept with the
 * count they read; a write of this mount (object/put, object/delete,
 * object/setattr, object/rename within a bucket) answers the counts
 * before and after it, and when
 * "before" is the count the cache last saw, nobody else wrote in
 * between: the cache applies the write itself and keeps the rest. A
 * write the registry refused (4xx: nothing changed) changes nothing. A
 * count that moved otherwise, a write that may have happened (5xx, no
 * answer) or any other write (directory renames, copies) empties the
 * bucket's part of the cache.
 *
 * So a name looked up once is answered again without the registry while
 * the bucket is quiet, not only for the attribute timeout; and a
 * directory this mount made (mkdir of a name known absent) is
 * "complete": every name in it the cache does not hold is absent, so
 * creating files in it costs no lookup. Answers older than the
 * attribute timeout are confirmed first with one bucket/get for the
 * whole bucket (FSNC_STALE): changes made elsewhere show within the
 * attribute timeout, as without the cache.
 *
 * Threads: every call is thread-safe.
 */
#ifndef ARKOR_FS_FS_NCACHE_H
#define ARKOR_FS_FS_NCACHE_H

#include <stdint.h>

#include <jansson.h>

enum fsnc_res {
	FSNC_MISS,		/* ask the registry */
	FSNC_STALE,		/* confirm with bucket/get, then look again */
	FSNC_ABSENT,		/* no file and no directory of that name */
	FSNC_HIT		/* *obj: what object/get with "dir" answered */
};

/* Answers are confirmed after ttl_ms (0: nothing is kept); at most
 * max_names names are held (past that, the cache starts again). */
void		 fsnc_init(int64_t ttl_ms, size_t max_names);
void		 fsnc_fini(void);

/* Sees one registry call: its route, request body, HTTP status (0: no
 * answer; -1: about to be sent) and answer (NULL when none). An fs_reg
 * observer. A count newer than the cache's, read while this mount's
 * own writes are in flight, is not taken for another writer's: those
 * writes' answers come next and show whether someone else wrote. */
void		 fsnc_observe(const char *route, const json_t *body,
		    int status, const json_t *answer);

/* Looks up (bucket, key); on FSNC_HIT *obj gets a new reference. *age_ms
 * (may be NULL) gets how long ago the registry last confirmed the
 * bucket's names (for FSNC_HIT and FSNC_ABSENT). */
enum fsnc_res	 fsnc_lookup(const char *bucket, const char *key,
		    json_t **obj, int64_t *age_ms);

#endif /* ARKOR_FS_FS_NCACHE_H */
