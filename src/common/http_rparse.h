/*
 * http_rparse.h - incremental HTTP/1.1 response parser for the client: a
 * thin layer over libhttp-parser that collects the head under size and
 * count limits, skips 1xx interim responses (reporting them), removes the
 * chunked framing, knows that HEAD, 1xx, 204 and 304 carry no body, and
 * tells a complete close-delimited body from a truncated one.
 *
 * Internal to http_client.c (and the fuzz target). One parser per
 * connection; not thread-safe; no I/O.
 */
#ifndef ARKOR_COMMON_HTTP_RPARSE_H
#define ARKOR_COMMON_HTTP_RPARSE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct ark_http_rparse;		/* opaque */
struct ark_http_resp_hdrs;

/*
 * Callbacks; each returns ARK_OK to go on. on_body may return ARK_EAGAIN to
 * pause right after this piece (feed() then returns ARK_EAGAIN); any other
 * error aborts and feed() returns it.
 * on_head runs for every head, interim (1xx) ones too: see
 * ark_http_rparse_interim(). The header list is valid until the next head
 * starts or reset().
 */
struct ark_http_rparse_cbs {
	enum ark_err	(*on_head)(void *arg, struct ark_http_rparse *p);
	enum ark_err	(*on_body)(void *arg, const char *data, size_t len);
};

enum ark_http_rparse_state {
	ARK_RP_HEAD = 0,	/* waiting for or inside a head */
	ARK_RP_BODY,		/* final head seen, body in progress */
	ARK_RP_DONE,		/* final response complete */
};

/* Limits: bytes of status line + header lines, and header count. */
struct ark_http_rparse *ark_http_rparse_new(size_t max_header_bytes,
		    unsigned max_headers, const struct ark_http_rparse_cbs *cbs,
		    void *arg);
void		 ark_http_rparse_free(struct ark_http_rparse *p);
/* Prepares for the response to a new request; `head` 1 for HEAD. */
void		 ark_http_rparse_reset(struct ark_http_rparse *p, int head);

/* Parses up to len bytes; *used says how many were consumed. It stops
 * after the final response is complete (state DONE; bytes after it are
 * left unconsumed) or when on_body asked to pause (ARK_EAGAIN). Errors:
 * ARK_EPROTO (malformed), ARK_ETOOBIG (head limits), or a callback's.
 * After an error the parser must be reset before reuse. */
enum ark_err	 ark_http_rparse_feed(struct ark_http_rparse *p,
		    const char *data, size_t len, size_t *used);
/* The peer closed the connection. ARK_OK when that completes the response
 * (close-delimited body; state becomes DONE), ARK_ECONN when the response
 * is missing or truncated. A response that was already DONE is ARK_OK. */
enum ark_err	 ark_http_rparse_eof(struct ark_http_rparse *p);

enum ark_http_rparse_state ark_http_rparse_state(
		    const struct ark_http_rparse *p);
/* Accessors for the current head (valid from on_head on). */
int		 ark_http_rparse_status(const struct ark_http_rparse *p);
int		 ark_http_rparse_interim(const struct ark_http_rparse *p);
/* Content-Length header value, -1 when absent or chunked. */
int64_t		 ark_http_rparse_content_length(const struct ark_http_rparse *p);
/* 1 when the connection may carry another request after DONE. */
int		 ark_http_rparse_keep_alive(const struct ark_http_rparse *p);
/* Body bytes delivered so far for the final response. */
uint64_t	 ark_http_rparse_body_bytes(const struct ark_http_rparse *p);
const struct ark_http_resp_hdrs *ark_http_rparse_hdrs(
		    const struct ark_http_rparse *p);

#endif /* ARKOR_COMMON_HTTP_RPARSE_H */
