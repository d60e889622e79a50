/*
 * api.h - the registry's HTTP/JSON API (docs/specs/Internal.md): routing,
 * authentication (cluster-secret service tokens; access keys for users),
 * strict body validation, and the handlers over the store, the cluster
 * state and the GC.
 *
 * Threads: api_handler runs on the HTTP worker threads. Reads run there,
 * and object/put, which queues its commit without waiting; other routes
 * that write (and so wait for their group commit) run on a pool of
 * `pool_threads` threads. Answers made elsewhere are posted back to the
 * request's loop through its inbox (api_thread_init), so libevent needs
 * no thread support. A few loop threads serve many concurrent commits,
 * which share one transaction. The struct api is read-only once
 * serving starts; api_start/api_stop from the main thread.
 */
#ifndef ARKOR_REGISTRY_API_H
#define ARKOR_REGISTRY_API_H

#include <stddef.h>
#include <stdint.h>

#include "common/http_server.h"
#include "common/token.h"
#include "registry/cluster.h"
#include "registry/gc.h"
#include "registry/meta.h"

/* The `fid` a service token is minted for: ark_token_mint(secret,
 * ARK_TOKEN_ADMIN, API_SERVICE_SUBJECT, expiry). */
#define API_SERVICE_SUBJECT	ARK_SERVICE_SUBJECT

struct api {
	struct meta		*m;		/* borrowed, all of them */
	struct cluster		*c;
	struct gc		*gc;
	const struct ark_secret	*secret;
	int64_t			 token_ttl_s;	/* data-server tokens */
	int64_t			 assign_grace_ms; /* after a write token's
						  * expiry, an uncommitted
						  * FileID is collected */
	size_t			 max_body;	/* request bodies */
	unsigned		 pool_threads;	/* 0: 64 */
};

struct event_base;

/* Starts / joins the pool (api_stop after the HTTP server stopped). */
enum ark_err	 api_start(struct api *a);
void		 api_stop(struct api *a);
/* The server's thread_init: the loop thread's inbox, where pool threads
 * post answers (libevent needs no thread support). */
void		 api_thread_init(struct event_base *base, unsigned idx,
		    void *arg);
/* The server's thread_fini: delivers answers still on the pool for
 * requests that were aborted at shutdown, so nothing leaks. */
void		 api_thread_fini(struct event_base *base, unsigned idx,
		    void *arg);

/* The ark_http_handler_cb; `arg` is the struct api. */
void		 api_handler(struct ark_http_req *req, void *arg);

#endif /* ARKOR_REGISTRY_API_H */
