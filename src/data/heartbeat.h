/*
 * heartbeat.h - arkor-datad's report to the registry: every interval, a
 * POST /v1/servers/heartbeat with the server's id, URL, group (or null to
 * ask for placement) and store figures, authenticated by an admin token.
 * The reply may assign a group. Body and reply: docs/specs/DataServer.md.
 *
 * Threads: one thread of its own, using the blocking ark_http_fetch();
 * heartbeat_start()/heartbeat_stop() from the main thread. A registry that
 * is down only costs a logged warning per state change.
 */
#ifndef ARKOR_DATA_HEARTBEAT_H
#define ARKOR_DATA_HEARTBEAT_H

#include <stdint.h>

#include "common/err.h"

struct ark_secret;
struct store;
struct dsrv;
struct heartbeat;			/* opaque */

struct heartbeat_opts {
	const char		*registry;	/* "host:port"; copied */
	const char		*url;		/* our public URL; copied */
	const char		*server_id;	/* copied */
	int64_t			 interval_ms;
	struct store		*st;		/* borrowed */
	struct dsrv		*d;		/* borrowed: group get/set */
	const struct ark_secret	*secret;	/* borrowed */
	/* Called on the heartbeat thread when the registry assigns a group
	 * the server did not have (persist it). Optional. */
	void			(*on_group)(int64_t group, void *arg);
	void			*arg;
};

/* Builds the JSON body of one heartbeat (caller frees). Any thread. */
char		*heartbeat_body(const struct heartbeat_opts *o);
/* Starts the thread; the first beat is sent at once. Caller owns *out. */
enum ark_err	 heartbeat_start(const struct heartbeat_opts *o,
		    struct heartbeat **out);
/* Stops (waking the thread; an in-flight request ends within its
 * timeout) and frees. NULL is a no-op. */
void		 heartbeat_stop(struct heartbeat *hb);

#endif /* ARKOR_DATA_HEARTBEAT_H */
