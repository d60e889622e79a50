/*
 * gc.h - the garbage collector: a thread that drains the store's GC queue
 * by deleting each fragment from every replica of its group (DELETE
 * <url>/<fid> with a delete token, 2xx or 404 counting as deleted), with
 * exponential backoff per fragment when a replica fails or is down. The
 * queue item leaves the store only when every replica confirmed.
 *
 * What may be deleted is decided by the store (meta_gc_take): only
 * fragments no row references, checked in the transaction that takes them.
 *
 * Threads: gc_start/gc_stop from the main thread; gc_kick and gc_stats
 * from any thread.
 */
#ifndef ARKOR_REGISTRY_GC_H
#define ARKOR_REGISTRY_GC_H

#include <stdint.h>

#include "common/err.h"
#include "common/token.h"
#include "registry/cluster.h"
#include "registry/meta.h"

struct gc;

struct gc_opts {
	int64_t		 interval_ms;	/* between passes when idle */
	int64_t		 lease_ms;	/* a taken item is retried after */
	int64_t		 backoff_max_ms;
	unsigned	 timeout_ms;	/* per DELETE request */
	int64_t		 tombstone_ms;	/* a deleted fid is refused this long */
};

/* Borrowed: m, c, secret (must outlive the gc). */
enum ark_err	 gc_start(struct meta *m, struct cluster *c,
		    const struct ark_secret *secret, const struct gc_opts *o,
		    struct gc **out);
/* Runs a pass now instead of at the next interval. */
void		 gc_kick(struct gc *g);
void		 gc_stop(struct gc *g);		/* NULL is a no-op */

struct gc_stats {
	uint64_t	 passes, deleted, failed;
};
void		 gc_stats(struct gc *g, struct gc_stats *out);

#endif /* ARKOR_REGISTRY_GC_H */
