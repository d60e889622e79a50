/*
 * cluster.h - live state of the data servers and groups, group choice for
 * new fragments and FileID allocation.
 *
 * Server registrations (id, url, group) are persisted in the metadata
 * store; liveness (last heartbeat), free space and the read-only flag are
 * in memory only: after a restart every server is down until its next
 * heartbeat. A group is writable when it has at least `replicas` servers,
 * every one of them is up (heartbeat within the timeout), none is
 * read-only, and each has more free space than the fragment needs.
 *
 * Threads: every function may be called from any thread (one mutex).
 */
#ifndef ARKOR_REGISTRY_CLUSTER_H
#define ARKOR_REGISTRY_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/err.h"
#include "common/fileid.h"
#include "registry/meta.h"

#define CLUSTER_MAX_REPLICAS	16
#define CLUSTER_CORRUPT_MAX	64	/* corrupt needles kept per server */

struct cluster;

struct cluster_opts {
	int64_t		 heartbeat_timeout_ms;
	unsigned	 replicas;		/* servers per group */
	uint64_t	 key_batch;		/* keys reserved per store write */
};

/* Loads the registered servers from `m` (borrowed, must outlive). */
enum ark_err	 cluster_new(struct meta *m, const struct cluster_opts *o,
		    struct cluster **out);
void		 cluster_free(struct cluster *c);

struct cluster_hb {
	const char	*id;		/* borrowed */
	const char	*url;
	uint32_t	 group;		/* 0: let the registry place it */
	uint64_t	 free, capacity;
	int		 readonly;
	const char	*stats;		/* JSON object text or NULL: shown as
					 * is in cluster_servers_json */
	json_t		*corrupt;	/* borrowed, copied: array of the
					 * server's corrupt needles
					 * ({key, chunk, offset}) or NULL */
};

/* Registers or refreshes a server; places it in a group when hb->group is
 * 0 and it has none (the first group short of `replicas` servers, else a
 * new group). ARK_EEXIST when the server is registered in another group
 * than hb->group asks (remove it first). *group gets its group. */
enum ark_err	 cluster_heartbeat(struct cluster *c,
		    const struct cluster_hb *hb, uint32_t *group);
/* Forgets a server (ARK_ENOENT if unknown). */
enum ark_err	 cluster_remove(struct cluster *c, const char *id);

/* Logs each server that went down (missed heartbeats) since the last
 * call; the GC thread calls it every pass. */
void		 cluster_sweep(struct cluster *c);

/* JSON snapshots, caller owns (json_decref). */
json_t		*cluster_servers_json(struct cluster *c);
json_t		*cluster_groups_json(struct cluster *c);

struct cluster_caps {
	uint64_t	 servers, servers_up, groups, groups_writable;
	uint64_t	 capacity, free;
};
void		 cluster_caps(struct cluster *c, struct cluster_caps *out);

/* Allocates a FileID in a writable group chosen at random weighted by
 * free space, for a fragment of `size` bytes, and writes the URLs of its
 * replicas (each at most META_URL_MAX) into urls[] (*nurls of them).
 * ARK_EAGAIN when no group is writable. */
enum ark_err	 cluster_assign(struct cluster *c, uint64_t size,
		    struct ark_fid *fid, char urls[][META_URL_MAX + 1],
		    size_t *nurls);
/* URLs of a group's servers: only those up when `up_only`. ARK_ENOENT
 * for an unknown group. */
enum ark_err	 cluster_group_urls(struct cluster *c, uint32_t group,
		    int up_only, char urls[][META_URL_MAX + 1], size_t *nurls);

#endif /* ARKOR_REGISTRY_CLUSTER_H */
