/*
 * dsrv.h - the HTTP API of arkor-datad on top of the chunk store: needle
 * PUT/GET/HEAD/DELETE by FileID with tokens, /status, admin (compact,
 * scrub) and resync endpoints. Protocol: docs/specs/DataServer.md.
 *
 * Threads: dsrv_handler() and the thread hooks run on the HTTP worker
 * threads (one per event_base). Work that blocks on an fdatasync or a
 * long disk pass (DELETE, import end, compaction, scrub) runs on a small
 * pool of dsrv job threads; store durability callbacks and job results
 * come back to the request's own worker thread through a per-thread queue
 * woken by an eventfd, so every ark_http_* call stays on its thread.
 * dsrv_set_group()/dsrv_group() are atomic and may be called from any
 * thread (the heartbeat thread learns the group).
 */
#ifndef ARKOR_DATA_DSRV_H
#define ARKOR_DATA_DSRV_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/http_server.h"

struct event_base;
struct ark_buf;
struct ark_secret;
struct store;
struct dsrv;				/* opaque */

#define DSRV_NO_GROUP		(-1)
/* The FileID field of admin tokens (ark_token_mint(ARK_TOKEN_ADMIN, ...)). */
#define DSRV_ADMIN_SCOPE	"*"

struct dsrv_opts {
	struct store		*st;		/* borrowed, outlives the dsrv */
	const struct ark_secret	*secret;	/* borrowed, ditto */
	const char		*server_id;	/* copied */
	const char		*sync_name;	/* "always"...; copied */
	int64_t			 group;		/* DSRV_NO_GROUP: none yet */
	uint64_t		 verify_max;	/* GET verifies the CRC before
						 * sending needles up to this */
	unsigned		 jobs;		/* job threads (2) */
};

/* Creates the server state and starts the job threads. Caller owns *out
 * (dsrv_free). Registers the datad metrics. */
enum ark_err	 dsrv_new(const struct dsrv_opts *o, struct dsrv **out);
/* After the HTTP server stopped (every worker ran dsrv_thread_fini):
 * stops the job threads and frees. NULL is a no-op. */
void		 dsrv_free(struct dsrv *d);

/* ark_svc hooks: arg is the struct dsrv. */
void		 dsrv_handler(struct ark_http_req *req, void *arg);
void		 dsrv_thread_init(struct event_base *base, unsigned idx,
		    void *arg);
/* Waits (bounded) until every durability callback or job started from
 * this worker came back, then frees the worker's queue. */
void		 dsrv_thread_fini(struct event_base *base, unsigned idx,
		    void *arg);
/* /health: unhealthy while the store is read-only because a sync failed
 * is not decidable here; healthy unless the store reports corruption in
 * its sync path. Appends "readonly" and "group". */
int		 dsrv_health(struct ark_buf *b, void *arg);

void		 dsrv_set_group(struct dsrv *d, int64_t group);
int64_t		 dsrv_group(const struct dsrv *d);

/* Background maintenance counters shown in /status (any thread). */
void		 dsrv_note_scrub(struct dsrv *d, uint64_t checked,
		    uint64_t bad);
void		 dsrv_note_compact(struct dsrv *d, unsigned n);
/* Refreshes the store gauges of /metrics (any thread). */
void		 dsrv_update_gauges(struct dsrv *d);

#endif /* ARKOR_DATA_DSRV_H */
