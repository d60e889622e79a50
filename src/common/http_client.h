/*
 * http_client.h - HTTP/1.1 client on libevent: keep-alive pool, streamed
 * request and response bodies with back-pressure, optional TLS, and a
 * blocking wrapper (ark_http_fetch) for arkorctl and arkorfs threads.
 *
 * Threads: a struct ark_http_client belongs to the thread that runs its
 * event_base; every ark_http_client_* and ark_http_creq_* call must come from
 * that thread (no locks inside). ark_http_fetch() and ark_url_* may be called
 * from any thread: each thread gets its own event_base and pool.
 *
 * The process must ignore SIGPIPE (the daemons' signal setup and libfuse do);
 * a write to a connection the peer closed would otherwise kill it.
 *
 * Design notes and the full contract: docs/internals/http_client.md.
 */
#ifndef ARKOR_COMMON_HTTP_CLIENT_H
#define ARKOR_COMMON_HTTP_CLIENT_H

#include <sys/types.h>			/* ssize_t */

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"		/* enum ark_err */

struct bufferevent;
struct event_base;
struct evbuffer;
struct evdns_base;
struct ssl_ctx_st;

struct ark_http_client;		/* opaque: pool + settings, one per loop */
struct ark_http_creq;		/* opaque: one request/response exchange */
struct ark_http_resp_hdrs;	/* opaque: parsed response header list */

/* ---- URLs --------------------------------------------------------------- */

/* A parsed http(s) URL. Caller owns the strings; free with ark_url_free(). */
struct ark_url {
	int		 tls;		/* 1 for https */
	char		*host;		/* without IPv6 brackets */
	uint16_t	 port;		/* explicit, or 80 / 443 */
	char		*target;	/* path and query, at least "/" */
};

/* Parses "http[s]://host[:port][/path][?query][#frag]"; the host may be an
 * IPv6 literal in brackets. The fragment is dropped. Userinfo, empty hosts,
 * bad ports and spaces or control bytes are refused with ARK_EINVAL, and
 * *why (if not NULL) then points to a static reason. On error *u holds
 * nothing to free. */
enum ark_err	 ark_url_parse(const char *s, struct ark_url *u,
		    const char **why);
void		 ark_url_free(struct ark_url *u);	/* NULL is a no-op */

/* ---- Response headers --------------------------------------------------- */

/* First value of header `name` (case-insensitive), or NULL. The string is
 * borrowed from h. */
const char	*ark_http_resp_hdrs_get(const struct ark_http_resp_hdrs *h,
		    const char *name);
size_t		 ark_http_resp_hdrs_count(const struct ark_http_resp_hdrs *h);
/* Header i (0-based, wire order); ARK_ENOENT past the end. Borrowed. */
enum ark_err	 ark_http_resp_hdrs_nth(const struct ark_http_resp_hdrs *h,
		    size_t i, const char **name, const char **value);
/* Deep copy; caller owns the result (never NULL). */
struct ark_http_resp_hdrs *ark_http_resp_hdrs_dup(
		    const struct ark_http_resp_hdrs *h);
void		 ark_http_resp_hdrs_free(struct ark_http_resp_hdrs *h);

/* ---- Client ------------------------------------------------------------- */

struct ark_http_client_opts {
	unsigned	 connect_timeout_ms;	/* 0 = none; default 5000 */
	unsigned	 request_timeout_ms;	/* total per request; default 0 */
	unsigned	 io_timeout_ms;		/* inactivity while waiting on
						 * the peer; default 30000 */
	unsigned	 expect_timeout_ms;	/* wait for 100 Continue before
						 * sending anyway; default 1000 */
	unsigned	 idle_timeout_ms;	/* pooled conn lifetime idle;
						 * default 30000 */
	unsigned	 max_idle_per_host;	/* default 8 */
	unsigned	 max_idle_total;	/* default 256 */
	unsigned	 max_conns_per_host;	/* busy+idle; more requests
						 * queue. default 64 */
	size_t		 max_header_bytes;	/* response head; default 64 KiB */
	unsigned	 max_headers;		/* response header count; 100 */
	size_t		 stream_low_water;	/* on_drain fires at or below;
						 * default 256 KiB */
	size_t		 stream_high_water;	/* writable() false at or above;
						 * default 1 MiB */
	/* TLS: ssl_ctx is borrowed and must outlive the client; when NULL a
	 * context is made on first https use that verifies the peer against
	 * ca_file (copied) or else the system store. tls_no_verify turns
	 * verification off (tests only). */
	struct ssl_ctx_st *ssl_ctx;
	const char	*ca_file;
	int		 tls_no_verify;
	/* Borrowed resolver; NULL = the client makes its own evdns_base
	 * (numeric hosts never touch DNS). */
	struct evdns_base *dns;
};

/* A new event loop for HTTP work (server workers, clients): epoll with
 * libevent's change list, so the read/write interest a connection turns
 * off and on again within one loop pass costs no epoll_ctl. NULL when out
 * of memory. Free with event_base_free(). */
struct event_base *ark_http_base_new(void);

/*
 * Debian's libevent 2.1 reads at most 4 KiB per read(2) whatever
 * bufferevent_set_max_single_read() says (EVBUFFER_MAX_READ; 2.2 made it
 * settable), so a 64 MiB body costs 16,384 FIONREAD + readv pairs and as
 * many loop passes. Called from a plain-socket bufferevent's read callback
 * when its input holds at least 4 KiB (the cap was hit, more may be
 * waiting): reads up to `room` more bytes from the socket straight into
 * the input buffer with one readv. Returns the bytes read; 0 when nothing
 * was waiting, `room` is 0 or the socket has no fd; -1 at end of stream or
 * on an error, which the bufferevent reports on its next read.
 */
#define ARK_BEV_READ_CAP	4096
ssize_t		 ark_bev_fill(struct bufferevent *bev, size_t room);

/* Fills *o with the defaults above. */
void		 ark_http_client_opts_default(struct ark_http_client_opts *o);

/* Creates a client on `base` (borrowed; must outlive the client). opts may
 * be NULL for defaults; it is copied. Caller owns *out. */
enum ark_err	 ark_http_client_new(struct event_base *base,
		    const struct ark_http_client_opts *opts,
		    struct ark_http_client **out);
/* Cancels every request (no callbacks run), closes every connection and
 * frees the client. Not from inside one of its callbacks. NULL is a no-op. */
void		 ark_http_client_free(struct ark_http_client *c);

/* Pool statistics, for tests and metrics. */
struct ark_http_client_stats {
	uint64_t	 connects;	/* TCP connections opened */
	uint64_t	 reuses;	/* requests sent on a pooled connection */
	uint64_t	 retries;	/* requests retried after a stale conn */
	unsigned	 idle;		/* connections idle in the pool now */
	unsigned	 open;		/* connections open now (idle + busy) */
};
void		 ark_http_client_stats(const struct ark_http_client *c,
		    struct ark_http_client_stats *st);

/* ---- Requests (async) --------------------------------------------------- */

/*
 * Callbacks run on the client's loop thread, never from inside the API call
 * that caused them. From any callback the caller may call any req function,
 * including ark_http_creq_cancel() (after which no callback runs).
 *
 * on_head:  final (non-1xx) response head has arrived; status and header
 *           accessors are valid from here until on_done returns. Optional.
 * on_body:  a piece of the decoded body (chunked framing removed); data is
 *           borrowed for the call. Call ark_http_creq_pause() to stop the
 *           flow. Optional (body discarded).
 * on_drain: the streamed request body may take more data: called once when
 *           the connection is ready for the body, then whenever the bytes
 *           buffered for sending fall to stream_low_water. Write while
 *           ark_http_creq_writable() is true. Needed for streamed bodies.
 * on_done:  exactly once per started request unless canceled: ARK_OK when
 *           a complete response was received (any status), else
 *           ARK_ETIMEDOUT, ARK_ECONN (refused, reset, closed early,
 *           truncated body), ARK_EPROTO (malformed response), ARK_ETOOBIG
 *           (response head over the limits), ARK_ENOMEM. The request is
 *           freed when on_done returns.
 */
struct ark_http_creq_cbs {
	void	(*on_head)(struct ark_http_creq *r, void *arg);
	void	(*on_body)(struct ark_http_creq *r, const void *data,
		    size_t len, void *arg);
	void	(*on_drain)(struct ark_http_creq *r, void *arg);
	void	(*on_done)(struct ark_http_creq *r, enum ark_err err,
		    void *arg);
};

/* Creates a request for `method` (token, e.g. "GET") on host:port (tls 0/1)
 * with `target` (path and query, starting with '/'). Strings are copied.
 * ARK_EINVAL on bad arguments. Caller owns *out until ark_http_creq_start()
 * succeeds; before that free it with ark_http_creq_cancel(). */
enum ark_err	 ark_http_creq_new(struct ark_http_client *c,
		    const char *method, const char *host, uint16_t port,
		    int tls, const char *target, struct ark_http_creq **out);
/* Same from a URL (ark_url_parse). */
enum ark_err	 ark_http_creq_new_url(struct ark_http_client *c,
		    const char *method, const char *url,
		    struct ark_http_creq **out);

/* Request headers. Names must be tokens, values free of CR/LF/NUL;
 * Content-Length, Transfer-Encoding, Expect and Connection are set by the
 * client (ARK_EINVAL). add appends; set replaces every header of that
 * name. Host and User-Agent default unless set. Before start only. */
enum ark_err	 ark_http_creq_add_header(struct ark_http_creq *r,
		    const char *name, const char *value);
enum ark_err	 ark_http_creq_set_header(struct ark_http_creq *r,
		    const char *name, const char *value);

/* Body: at most one of these, before start. body_copy copies len bytes;
 * body_buffer takes ownership of the contents of `buf` (it is left empty).
 * A buffered body is kept until done so it can be resent on retry. */
enum ark_err	 ark_http_creq_body_copy(struct ark_http_creq *r,
		    const void *data, size_t len);
enum ark_err	 ark_http_creq_body_buffer(struct ark_http_creq *r,
		    struct evbuffer *buf);
/* Streamed body: len >= 0 sends Content-Length: len, len < 0 sends it
 * chunked. Then write with ark_http_creq_write() (before or after start)
 * and finish with ark_http_creq_end(). */
enum ark_err	 ark_http_creq_body_stream(struct ark_http_creq *r,
		    int64_t len);
/* Sends "Expect: 100-continue" and holds the body until a 100 response,
 * or expect_timeout_ms. If a final status comes first the body is never
 * sent and that response completes the request. Needs a body. */
enum ark_err	 ark_http_creq_expect_continue(struct ark_http_creq *r);

/* Per-request timeouts in ms overriding the client's; -1 keeps the
 * client's value, 0 means none. */
void		 ark_http_creq_set_timeouts(struct ark_http_creq *r,
		    int connect_ms, int total_ms, int io_ms);
void		 ark_http_creq_set_cbs(struct ark_http_creq *r,
		    const struct ark_http_creq_cbs *cbs, void *arg);

/* Submits the request: it waits for a pooled or new connection. On ARK_OK
 * the client owns r (on_done will run, or cancel). On error the caller
 * still owns r. */
enum ark_err	 ark_http_creq_start(struct ark_http_creq *r);

/* Cancels: closes the connection if the request had one, and frees r. No
 * callback runs afterwards, even from inside one. NULL is a no-op. */
void		 ark_http_creq_cancel(struct ark_http_creq *r);

/* Streamed body. write copies len bytes (framed as a chunk when chunked);
 * it always takes all bytes, so memory stays bounded only if the caller
 * stops when ark_http_creq_writable() is false and waits for on_drain.
 * ARK_EINVAL: not a streamed body, already ended, or more than the declared
 * length. ark_http_creq_write_buffer moves `buf`'s contents. */
enum ark_err	 ark_http_creq_write(struct ark_http_creq *r, const void *data,
		    size_t len);
enum ark_err	 ark_http_creq_write_buffer(struct ark_http_creq *r,
		    struct evbuffer *buf);
/* Ends the streamed body (chunked: writes the last chunk). ARK_EINVAL when
 * fewer bytes than the declared length were written. */
enum ark_err	 ark_http_creq_end(struct ark_http_creq *r);
/* 1 when the body is being sent and less than stream_high_water bytes are
 * buffered for sending. */
int		 ark_http_creq_writable(const struct ark_http_creq *r);
/* Request bytes buffered in user space, not yet written to the socket. */
size_t		 ark_http_creq_pending(const struct ark_http_creq *r);

/* Response back-pressure: pause stops on_body calls (the rest of the
 * current data stays buffered) and stops reading the socket; resume
 * restarts them from the loop (not inline). Idempotent. */
void		 ark_http_creq_pause(struct ark_http_creq *r);
void		 ark_http_creq_resume(struct ark_http_creq *r);

/* Response accessors, valid from on_head until on_done returns. */
int		 ark_http_creq_status(const struct ark_http_creq *r);
const char	*ark_http_creq_resp_header(const struct ark_http_creq *r,
		    const char *name);
const struct ark_http_resp_hdrs *ark_http_creq_resp_hdrs(
		    const struct ark_http_creq *r);
/* Content-Length of the response (for HEAD: of the entity), -1 when
 * absent or chunked. */
int64_t		 ark_http_creq_resp_content_length(const struct ark_http_creq *r);
/* 1 when this request was sent on a pooled (reused) connection. */
int		 ark_http_creq_reused(const struct ark_http_creq *r);

/* ---- Blocking API ------------------------------------------------------- */

struct ark_http_header {
	const char	*name;
	const char	*value;
};

/* Reads up to cap bytes of a streamed upload into buf; *got = 0 at end.
 * Any error aborts the request and is returned by ark_http_fetch. */
typedef enum ark_err (*ark_http_read_fn)(void *arg, void *buf, size_t cap,
    size_t *got);
/* Takes a piece of the response body; an error aborts the request. */
typedef enum ark_err (*ark_http_sink_fn)(void *arg, const void *data,
    size_t len);

struct ark_http_fetch_req {
	const char	*method;	/* NULL = GET */
	const char	*url;		/* or, when NULL: */
	const char	*host;
	uint16_t	 port;
	int		 tls;
	const char	*target;	/* NULL = "/" */
	const struct ark_http_header *headers;	/* nheaders entries */
	size_t		 nheaders;
	const void	*body;		/* borrowed; copied when sent */
	size_t		 body_len;
	ark_http_read_fn body_read;	/* streamed upload, instead of body */
	void		*body_read_arg;
	int64_t		 body_stream_len;	/* with body_read; -1 chunked */
	int		 expect_continue;
	ark_http_sink_fn body_sink;	/* stream the response body to it */
	void		*body_sink_arg;
	size_t		 max_body;	/* buffered body cap; 0 = 16 MiB */
	unsigned	 timeout_ms;	/* total; 0 = 60000 */
};

struct ark_http_fetch_resp {
	int		 status;
	struct ark_http_resp_hdrs *hdrs;	/* caller owns */
	char		*body;		/* NUL-terminated; NULL with sink */
	size_t		 body_len;
};

/* Runs one request to completion on the calling thread's own event_base
 * and keep-alive pool (made on first use, freed at thread exit). Any
 * thread may call; calls on one thread are sequential. On ARK_OK *out
 * holds the response (any status) and the caller frees it with
 * ark_http_fetch_resp_free(); on error *out holds nothing to free.
 * ARK_ETOOBIG when the body exceeds max_body. */
enum ark_err	 ark_http_fetch(const struct ark_http_fetch_req *in,
		    struct ark_http_fetch_resp *out);
/* Runs n requests at once on the calling thread's pool (as
 * ark_http_fetch each): errs[i] is request i's result, out[i] its
 * response when ARK_OK. Returns ARK_OK, or an error that failed them
 * all (then errs[] say so too). */
enum ark_err	 ark_http_fetch_many(const struct ark_http_fetch_req *in,
		    struct ark_http_fetch_resp *out, enum ark_err *errs,
		    size_t n);
void		 ark_http_fetch_resp_free(struct ark_http_fetch_resp *r);
/* Client options for the per-thread pools made after this call (copied;
 * ssl_ctx and dns must be NULL or usable from every thread). Call before
 * starting threads. NULL restores the defaults. */
void		 ark_http_fetch_configure(const struct ark_http_client_opts *o);
/* Frees the calling thread's pool now (it is also freed at thread exit). */
void		 ark_http_fetch_thread_cleanup(void);
/* Stats of the calling thread's pool (zeros when it has none). */
void		 ark_http_fetch_thread_stats(struct ark_http_client_stats *st);
/* Helpers: body_read / body_sink on a file descriptor passed as
 * (int *) arg. EINTR is retried; errors are ARK_EIO. */
enum ark_err	 ark_http_fd_read(void *arg, void *buf, size_t cap,
		    size_t *got);
enum ark_err	 ark_http_fd_write(void *arg, const void *data, size_t len);

#endif /* ARKOR_COMMON_HTTP_CLIENT_H */
