/*
 * svc.c - a daemon's HTTP front and lifecycle. The standard endpoints are
 * answered before the daemon's handler sees the request, so every daemon
 * serves the same /health and /metrics. HTTP counters from the server's
 * stats are rendered next to the process-wide metrics registry.
 */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/daemon.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/svc.h"
#include "common/util.h"

#define SVC_METRICS_CAP		(4u << 20)

struct svc {
	const struct ark_svc_opts	*opts;
	struct ark_http_server		*srv;
	int64_t				 started_s;
};

static struct svc	 svc_cur;
/* The running server for ark_svc_stop(); the lock keeps it alive while a
 * stop from another thread is in progress. */
static pthread_mutex_t	 svc_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ark_http_server *svc_srv;

enum ark_err
ark_svc_parse_listen(const char *s, char *host, size_t hostlen,
    uint16_t *port)
{
	const char	*colon, *h = s;
	size_t		 n;
	char		*end;
	unsigned long	 p;

	if (s == NULL)
		return ARK_EINVAL;
	if (*s == '[') {
		const char *rb = strchr(s, ']');
		if (rb == NULL || rb[1] != ':')
			return ARK_EINVAL;
		h = s + 1;
		n = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			return ARK_EINVAL;
		n = (size_t)(colon - s);
		if (memchr(s, ':', n) != NULL)	/* bare IPv6 needs [] */
			return ARK_EINVAL;
	}
	if (n == 0) {
		h = "0.0.0.0";
		n = strlen(h);
	}
	if (n + 1 > hostlen || colon[1] == '\0')
		return ARK_EINVAL;
	p = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || p > 65535 || colon[1] == '-' || colon[1] == '+')
		return ARK_EINVAL;
	memcpy(host, h, n);
	host[n] = '\0';
	*port = (uint16_t)p;
	return ARK_OK;
}

static void
svc_http_metrics(struct ark_buf *b, struct ark_http_server *srv)
{
	static const char *const cls[] = { "none", "1xx", "2xx", "3xx",
	    "4xx", "5xx" };
	struct ark_http_server_stats st;

	ark_http_server_stats(srv, &st);
	ark_buf_append_str(b,
	    "# HELP arkor_http_requests_total HTTP requests answered, by "
	    "status class.\n# TYPE arkor_http_requests_total counter\n");
	for (size_t i = 0; i < ARK_ARRAY_SIZE(cls); i++)
		ark_buf_printf(b, "arkor_http_requests_total{class=\"%s\"} %"
		    PRIu64 "\n", cls[i], st.status_class[i]);
	ark_buf_printf(b,
	    "# HELP arkor_http_received_bytes_total Request bytes read.\n"
	    "# TYPE arkor_http_received_bytes_total counter\n"
	    "arkor_http_received_bytes_total %" PRIu64 "\n"
	    "# HELP arkor_http_sent_bytes_total Response bytes queued.\n"
	    "# TYPE arkor_http_sent_bytes_total counter\n"
	    "arkor_http_sent_bytes_total %" PRIu64 "\n"
	    "# HELP arkor_http_connections_total Connections accepted.\n"
	    "# TYPE arkor_http_connections_total counter\n"
	    "arkor_http_connections_total %" PRIu64 "\n"
	    "# HELP arkor_http_connections Open connections.\n"
	    "# TYPE arkor_http_connections gauge\n"
	    "arkor_http_connections %" PRIu64 "\n",
	    st.bytes_in, st.bytes_out, st.conns_total, st.conns_active);
}

static void
svc_reply_buf(struct ark_http_req *req, int status, const char *ctype,
    struct ark_buf *b)
{
	ark_http_resp_header(req, "Cache-Control", "no-store");
	ark_http_reply_simple(req, status, ctype, ark_buf_str(b),
	    ark_buf_len(b));
}

int
ark_svc_route(struct ark_http_req *req, struct ark_http_server *srv,
    const struct ark_svc_opts *o)
{
	const char	*path = ark_http_req_path(req);
	const char	*method = ark_http_req_method(req);
	struct ark_buf	 b;
	int		 status = 200, bad = 0;

	if (strcmp(path, "/health") != 0 && strcmp(path, "/metrics") != 0)
		return 0;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		ark_http_resp_header(req, "Allow", "GET, HEAD");
		ark_http_reply_error(req, 405);
		return 1;
	}
	ark_buf_init(&b, SVC_METRICS_CAP);
	if (strcmp(path, "/metrics") == 0) {
		if (ark_metrics_render(&b) != ARK_OK)
			status = 500;
		else
			svc_http_metrics(&b, srv);
		svc_reply_buf(req, status,
		    "text/plain; version=0.0.4; charset=utf-8", &b);
	} else {
		struct ark_buf extra;

		ark_buf_init(&extra, 64 * 1024);
		if (o != NULL && o->health != NULL)
			bad = o->health(&extra, o->hook_arg);
		ark_buf_printf(&b, "{\"status\":\"%s\",\"program\":\"%s\","
		    "\"version\":\"%s\",\"uptime_s\":%" PRId64 "%s%s}\n",
		    bad ? "unhealthy" : "ok",
		    o != NULL && o->program ? o->program : "arkor",
		    PACKAGE_VERSION, ark_now_s() - svc_cur.started_s,
		    ark_buf_len(&extra) ? "," : "", ark_buf_str(&extra));
		ark_buf_free(&extra);
		svc_reply_buf(req, bad ? 503 : 200, "application/json", &b);
	}
	ark_buf_free(&b);
	return 1;
}

static void
svc_handler(struct ark_http_req *req, void *arg)
{
	struct svc *s = arg;

	if (ark_svc_route(req, s->srv, s->opts))
		return;
	s->opts->handler(req, s->opts->handler_arg);
}

void
ark_svc_stop(void)
{
	pthread_mutex_lock(&svc_lock);
	if (svc_srv != NULL)
		ark_http_server_stop(svc_srv);
	pthread_mutex_unlock(&svc_lock);
}

static void
svc_publish(struct ark_http_server *srv)
{
	pthread_mutex_lock(&svc_lock);
	svc_srv = srv;
	pthread_mutex_unlock(&svc_lock);
}

static void
svc_on_signal(int sig, void *arg)
{
	const struct ark_svc_opts *o = arg;

	if (sig == SIGHUP) {
		ark_log_info("SIGHUP: reloading");
		if (o->reload != NULL)
			o->reload(o->hook_arg);
		return;
	}
	ark_log_info("signal %d: stopping", sig);
	ark_svc_stop();
}

enum ark_err
ark_svc_run(const struct ark_svc_opts *o)
{
	struct ark_http_server_opts	 ho = o->http;
	char				 host[256];
	enum ark_err			 rc;

	if (ark_svc_parse_listen(o->listen, host, sizeof(host), &ho.port)
	    != ARK_OK) {
		ark_log_error("invalid listen address '%s' (want HOST:PORT)",
		    o->listen ? o->listen : "");
		return ARK_EINVAL;
	}
	ho.host = host;
	ho.handler = svc_handler;
	ho.handler_arg = &svc_cur;
	svc_cur.opts = o;
	svc_cur.started_s = ark_now_s();
	ark_metrics_enable_process(true);

	if ((rc = ark_signals_install(svc_on_signal, (void *)o)) != ARK_OK)
		return rc;
	if ((rc = ark_http_server_new(&ho, &svc_cur.srv)) != ARK_OK) {
		ark_log_error("cannot listen on %s: %s", o->listen,
		    ark_strerror(rc));
		goto out;
	}
	svc_publish(svc_cur.srv);
	if (o->started != NULL &&
	    (rc = o->started(svc_cur.srv, o->hook_arg)) != ARK_OK)
		goto out;
	if ((rc = ark_http_server_start(svc_cur.srv)) != ARK_OK) {
		ark_log_error("cannot start the HTTP server: %s",
		    ark_strerror(rc));
		goto out;
	}
	if (o->pid_file != NULL && (rc = ark_pidfile_write(o->pid_file))
	    != ARK_OK)
		goto out;
	/* The port file last: tests treat it as "ready". */
	if (o->port_file != NULL && (rc = ark_portfile_write(o->port_file,
	    ark_http_server_port(svc_cur.srv))) != ARK_OK)
		goto out;
	ark_log_info("%s %s listening on %s:%u%s", o->program,
	    PACKAGE_VERSION, host, ark_http_server_port(svc_cur.srv),
	    ho.tls_cert_file ? " (TLS)" : "");
	ark_http_server_wait(svc_cur.srv);
	ark_log_info("stopped");
out:
	if (rc != ARK_OK && svc_cur.srv != NULL)
		ark_http_server_stop(svc_cur.srv);
	svc_publish(NULL);
	ark_http_server_free(svc_cur.srv);
	svc_cur.srv = NULL;
	if (o->port_file != NULL)
		ark_runfile_remove(o->port_file);
	if (o->pid_file != NULL)
		ark_runfile_remove(o->pid_file);
	ark_signals_uninstall();
	return rc;
}
