/*
 * http_server_int.h - test and fuzz hooks of http_server.c; not for
 * daemons. They run a connection over any bufferevent (e.g. one side of a
 * bufferevent_pair) on a caller-driven event_base, without threads or
 * sockets.
 */
#ifndef ARKOR_COMMON_HTTP_SERVER_INT_H
#define ARKOR_COMMON_HTTP_SERVER_INT_H

#include "common/http_server.h"

struct bufferevent;

/* Like ark_http_server_new() but creates no socket and no thread. */
enum ark_err	 ark_http_server_new_detached(
		    const struct ark_http_server_opts *opts,
		    struct ark_http_server **out);
/* Serves one connection on `bev` (the server takes ownership and frees it
 * when the connection ends) from `base`, which the caller runs. All
 * detached connections must use the same base. ark_http_server_free()
 * aborts those still open. */
enum ark_err	 ark_http_server_attach_bev(struct ark_http_server *srv,
		    struct event_base *base, struct bufferevent *bev);

#endif /* ARKOR_COMMON_HTTP_SERVER_INT_H */
