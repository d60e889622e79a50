/*
 * api.h - the registry's HTTP/JSON API (docs/specs/Internal.md): routing,
 * authentication (cluster-secret service tokens; access keys for users),
 * strict body validation, and the handlers over the store, the cluster
 * state and the GC.
 *
 * Threads: api_handler runs on the HTTP worker threads and calls the store
 * synchronously (a write waits for its group commit, so run enough HTTP
 * threads for the concurrency you want to batch). The struct api is
 * read-only once serving starts.
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
#define API_SERVICE_SUBJECT	"arkor-service"

struct api {
	struct meta		*m;		/* borrowed, all of them */
	struct cluster		*c;
	struct gc		*gc;
	const struct ark_secret	*secret;
	int64_t			 token_ttl_s;	/* data-server tokens */
	size_t			 max_body;	/* request bodies */
};

/* The ark_http_handler_cb; `arg` is the struct api. */
void		 api_handler(struct ark_http_req *req, void *arg);

#endif /* ARKOR_REGISTRY_API_H */
