/*
 * http_server.h - streaming HTTP/1.1 server on libevent + libhttp-parser.
 *
 * N worker threads, each with its own event_base and its own SO_REUSEPORT
 * listening socket. A handler runs on the worker thread that accepted the
 * connection, as soon as a request's headers are complete; it streams the
 * request body through callbacks (with pause/resume back-pressure) and
 * streams the response (bytes, evbuffers, file ranges via sendfile).
 * One request at a time per connection: pipelined requests wait, already
 * buffered bytes are parsed after the current response is flushed.
 *
 * Threads: every ark_http_req_* / ark_http_reply_* call must be made on the
 * worker thread that owns the request (the thread of ark_http_req_base()),
 * e.g. from a handler callback or from another event on that base.
 * ark_http_server_stop() may be called from any thread or signal handler.
 *
 * Request lifetime: a request is valid from the handler invocation until
 * its finish callback (ark_http_req_on_finish) returns; the server frees it
 * afterwards, never from inside a handler callback. The finish callback is
 * called exactly once, last, with ARK_OK when the response was fully handed
 * to the kernel or with an error when the request was aborted (client gone,
 * timeout, body limit, server shutdown). An asynchronous handler must
 * register a finish callback and must not touch the request after it.
 * Without one, the request must not be used after ark_http_reply_end().
 */
#ifndef ARKOR_COMMON_HTTP_SERVER_H
#define ARKOR_COMMON_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

struct event_base;
struct evbuffer;
struct ark_http_server;			/* opaque; one per listener address */
struct ark_http_req;			/* opaque; one per request */

/* Called on a worker thread once a request's headers are complete. The
 * handler must eventually reply (possibly later, from another event on
 * ark_http_req_base()). Borrowed `arg` from the options. */
typedef void	(*ark_http_handler_cb)(struct ark_http_req *req, void *arg);
/* Body bytes, decoded from chunked if needed; `data` is borrowed for the
 * call only. The callback may pause, reply, or set other callbacks. */
typedef void	(*ark_http_body_cb)(struct ark_http_req *req,
		    const void *data, size_t len, void *arg);
/* End of the request body, or the response's output went under the low
 * watermark (drain). */
typedef void	(*ark_http_req_cb)(struct ark_http_req *req, void *arg);
/* Last callback for a request: ARK_OK, or why it was aborted (ARK_ECONN
 * client gone or I/O error, ARK_ETIMEDOUT, ARK_ETOOBIG body limit,
 * ARK_ECANCELED shutdown, ARK_EPROTO bad body encoding). */
typedef void	(*ark_http_finish_cb)(struct ark_http_req *req,
		    enum ark_err why, void *arg);
/* Per worker thread, before it accepts / after its loop ended. */
typedef void	(*ark_http_thread_cb)(struct event_base *base, unsigned idx,
		    void *arg);

/* Options; zero means the default shown. Strings are copied. */
struct ark_http_server_opts {
	const char	*host;			/* "127.0.0.1" (numeric) */
	uint16_t	 port;			/* 0: kernel picks */
	unsigned	 threads;		/* number of online CPUs */
	size_t		 max_header_bytes;	/* 64 KiB (request line incl.) -> 431 */
	unsigned	 max_headers;		/* 128 -> 431 */
	size_t		 max_url;		/* 16 KiB -> 414 */
	unsigned	 header_timeout_ms;	/* 10000: whole header section */
	unsigned	 idle_timeout_ms;	/* 60000: keep-alive idle */
	unsigned	 io_timeout_ms;		/* 60000: body read/write inactivity */
	unsigned	 grace_ms;		/* 10000: stop() grace period */
	size_t		 in_buffer;		/* 256 KiB: max input buffered */
	size_t		 out_low_wm;		/* 256 KiB: drain callback below */
	size_t		 out_high_wm;		/* 1 MiB: ark_http_reply_congested */
	size_t		 discard_max;		/* 1 MiB: unread body drained, else close */
	/* Each finished request is logged at info; quiet_requests: only
	 * the aborted ones, 5xx, 401 and 403, the rest at debug (internal
	 * servers, whose callers log the request that matters). */
	bool		 quiet_requests;
	const char	*tls_cert_file;		/* both set: HTTPS */
	const char	*tls_key_file;
	ark_http_handler_cb handler;		/* required */
	void		*handler_arg;
	ark_http_thread_cb thread_init;		/* optional */
	ark_http_thread_cb thread_fini;		/* optional */
	void		*thread_arg;
};

/* Snapshot of the server's counters (all threads, since start). */
struct ark_http_server_stats {
	uint64_t	 requests;
	uint64_t	 status_class[6];	/* [1]..[5]: 1xx..5xx; [0] none sent */
	uint64_t	 bytes_in;		/* request bytes read, headers incl. */
	uint64_t	 bytes_out;		/* response bytes queued */
	uint64_t	 conns_total;
	uint64_t	 conns_active;
};

/* Validates opts, creates the listening sockets (so the port is known) and
 * the TLS context. Caller owns *out (ark_http_server_free). Nothing is
 * accepted before ark_http_server_start(). Any thread. */
enum ark_err	 ark_http_server_new(const struct ark_http_server_opts *opts,
		    struct ark_http_server **out);
/* Starts the worker threads. Call once, from the creating thread. */
enum ark_err	 ark_http_server_start(struct ark_http_server *srv);
/* Bound port (host order), valid after ark_http_server_new(). */
uint16_t	 ark_http_server_port(const struct ark_http_server *srv);
/* Stops accepting, closes idle connections, lets in-flight requests finish
 * within grace_ms, then aborts the rest; threads exit. Any thread;
 * async-signal-safe; idempotent. */
void		 ark_http_server_stop(struct ark_http_server *srv);
/* Blocks until all worker threads exited (after stop()). */
void		 ark_http_server_wait(struct ark_http_server *srv);
/* stop() + wait() and frees everything. NULL is a no-op. Not from a
 * worker thread. */
void		 ark_http_server_free(struct ark_http_server *srv);
void		 ark_http_server_stats(const struct ark_http_server *srv,
		    struct ark_http_server_stats *out);

/* ---- request (worker thread of the request only) ---- */
const char	*ark_http_req_method(const struct ark_http_req *req);	/* "GET" */
/* Raw request target, its path (no query, not percent-decoded) and query
 * (after '?', NULL when none). Borrowed, valid for the request. */
const char	*ark_http_req_url(const struct ark_http_req *req);
const char	*ark_http_req_path(const struct ark_http_req *req);
const char	*ark_http_req_query(const struct ark_http_req *req);
/* First header value with that name (case-insensitive), or NULL. */
const char	*ark_http_req_header(const struct ark_http_req *req,
		    const char *name);
size_t		 ark_http_req_header_count(const struct ark_http_req *req);
/* i-th header in arrival order; ARK_ENOENT past the end. */
enum ark_err	 ark_http_req_header_at(const struct ark_http_req *req,
		    size_t i, const char **name, const char **value);
/* Declared Content-Length, or -1 when chunked or absent (0 then). */
int64_t		 ark_http_req_content_length(const struct ark_http_req *req);
int		 ark_http_req_is_chunked(const struct ark_http_req *req);
int		 ark_http_req_has_body(const struct ark_http_req *req);
/* 10 or 11 (HTTP/1.0, HTTP/1.1). */
int		 ark_http_req_version(const struct ark_http_req *req);
const char	*ark_http_req_id(const struct ark_http_req *req);	/* 16 hex */
const char	*ark_http_req_peer(const struct ark_http_req *req);	/* "ip:port" */
int		 ark_http_req_is_tls(const struct ark_http_req *req);
struct event_base *ark_http_req_base(const struct ark_http_req *req);
uint64_t	 ark_http_req_body_bytes(const struct ark_http_req *req);

/* Registers body callbacks; bytes flow from now on (and "100 Continue" is
 * sent if the client asked for it and no response was started). Register
 * them before starting a response that depends on the body. on_end is
 * called once after the last byte (at once for an empty body); neither is
 * called any more once the response has been ended. */
void		 ark_http_req_on_body(struct ark_http_req *req,
		    ark_http_body_cb on_data, ark_http_req_cb on_end,
		    void *arg);
void		 ark_http_req_on_finish(struct ark_http_req *req,
		    ark_http_finish_cb cb, void *arg);
/* Stops / restarts body delivery; while paused the socket is not read
 * beyond in_buffer bytes. */
void		 ark_http_req_pause(struct ark_http_req *req);
void		 ark_http_req_resume(struct ark_http_req *req);
/* Caps the body. ARK_ETOOBIG when the declared length already exceeds
 * it (the handler then replies 413); a chunked body that grows past it
 * gets an automatic 413 (or an abort if a response was started) and the
 * finish callback with ARK_ETOOBIG. */
enum ark_err	 ark_http_req_set_max_body(struct ark_http_req *req,
		    uint64_t max);

/* ---- response (same thread) ---- */
/* Adds a response header (copied) before ark_http_reply_start();
 * ARK_EINVAL for CR/LF/NUL or an empty name, ARK_EPROTO after start.
 * Date, Content-Length, Transfer-Encoding, Connection and
 * X-Arkor-Request-Id are set by the server. */
enum ark_err	 ark_http_resp_header(struct ark_http_req *req,
		    const char *name, const char *value);
/* Drops the response headers added so far (before ark_http_reply_start):
 * a handler that prepared a success and must answer an error instead. */
void		 ark_http_resp_headers_clear(struct ark_http_req *req);
/* Queues the status line and headers. content_length < 0: unknown, sent
 * chunked to HTTP/1.1 clients and close-delimited to HTTP/1.0 ones.
 * HEAD responses, 1xx, 204 and 304 carry no body; writes are discarded. */
enum ark_err	 ark_http_reply_start(struct ark_http_req *req, int status,
		    int64_t content_length);
/* Copies `len` bytes into the response. */
enum ark_err	 ark_http_reply_write(struct ark_http_req *req,
		    const void *data, size_t len);
/* Moves all of `buf` (caller keeps the empty evbuffer). */
enum ark_err	 ark_http_reply_add_buffer(struct ark_http_req *req,
		    struct evbuffer *buf);
/* Queues [off, off+len) of `fd`, which this call takes ownership of
 * (closed when sent or on error; dup() to keep yours). sendfile(2) on
 * plain TCP, pread in bounded pieces under TLS (then only one file range
 * may be pending: ARK_EAGAIN, wait for the drain callback). */
enum ark_err	 ark_http_reply_add_file(struct ark_http_req *req, int fd,
		    off_t off, off_t len);
/* Called whenever queued output drops under out_low_wm while the
 * response is being streamed. */
void		 ark_http_reply_on_drain(struct ark_http_req *req,
		    ark_http_req_cb cb, void *arg);
/* Bytes queued and not yet sent; congested when above out_high_wm. */
size_t		 ark_http_reply_pending(const struct ark_http_req *req);
int		 ark_http_reply_congested(const struct ark_http_req *req);
/* Completes the response. If the body was not read, the server discards
 * a small remainder (discard_max) or closes the connection after the
 * response. The request stays valid until the finish callback. */
enum ark_err	 ark_http_reply_end(struct ark_http_req *req);
/* start + write + end with Content-Type `ctype` (NULL: none). */
enum ark_err	 ark_http_reply_simple(struct ark_http_req *req, int status,
		    const char *ctype, const void *body, size_t len);
/* A short text/plain body with the reason phrase. */
enum ark_err	 ark_http_reply_error(struct ark_http_req *req, int status);
/* "OK", "Not Found", ... ("Unknown" otherwise). */
const char	*ark_http_reason(int status);

#endif /* ARKOR_COMMON_HTTP_SERVER_H */
