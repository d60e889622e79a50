/*
 * svc.h - the HTTP front every Arkor daemon runs: listen address parsing,
 * the standard endpoints (GET/HEAD /health and /metrics) in front of the
 * daemon's own handler, the port and pid files, and the lifecycle from
 * start to a clean stop on SIGTERM/SIGINT (SIGHUP calls a reload hook).
 *
 * Threads: ark_svc_run() is called from main() before any other thread
 * exists (it installs the signal thread first) and blocks until the
 * service stopped. Handlers run on the HTTP worker threads.
 */
#ifndef ARKOR_COMMON_SVC_H
#define ARKOR_COMMON_SVC_H

#include <stdint.h>

#include "common/err.h"
#include "common/http_server.h"

struct ark_buf;

/* Health of the daemon for /health: return 0 when healthy; otherwise
 * /health answers 503. Either way the callback may append JSON members
 * ("\"key\":value" separated by commas, no braces) to `b`. Any thread. */
typedef int	(*ark_svc_health_cb)(struct ark_buf *b, void *arg);
/* SIGHUP: reload what can be reloaded. Runs on the signal thread. */
typedef void	(*ark_svc_reload_cb)(void *arg);

struct ark_svc_opts {
	const char		*program;	/* "arkor-datad" */
	const char		*listen;	/* "HOST:PORT", "[v6]:PORT" */
	const char		*port_file;	/* optional: bound port */
	const char		*pid_file;	/* optional */
	/* Server tuning and TLS; host/port/handler are filled by ark_svc. */
	struct ark_http_server_opts http;
	ark_http_handler_cb	 handler;	/* the daemon's routes */
	void			*handler_arg;
	ark_svc_health_cb	 health;	/* optional */
	ark_svc_reload_cb	 reload;	/* optional */
	void			*hook_arg;
	/* Called once the server listens, before serving; a non-OK return
	 * stops the service with that error. Optional. */
	enum ark_err		(*started)(struct ark_http_server *srv,
				    void *arg);
};

/* Splits "HOST:PORT" / "[V6]:PORT" / ":PORT" (host 0.0.0.0) into host
 * (written to `host`, NUL-terminated, at most hostlen-1 bytes) and port.
 * ARK_EINVAL with nothing logged on bad input. */
enum ark_err	 ark_svc_parse_listen(const char *s, char *host,
		    size_t hostlen, uint16_t *port);

/* Runs the service until SIGTERM/SIGINT (or ark_svc_stop()), then stops
 * the HTTP server gracefully and removes the pid and port files.
 * Returns ARK_OK after a clean stop; errors are logged once here. */
enum ark_err	 ark_svc_run(const struct ark_svc_opts *opts);
/* Asks the running service to stop, as SIGTERM does. Any thread. */
void		 ark_svc_stop(void);

/* Answers /health and /metrics; returns 1 when it handled `req`, 0 when
 * the request is for the daemon's own handler. Exposed for daemons that
 * run their own servers (and for tests). */
int		 ark_svc_route(struct ark_http_req *req,
		    struct ark_http_server *srv, const struct ark_svc_opts *o);

#endif /* ARKOR_COMMON_SVC_H */
