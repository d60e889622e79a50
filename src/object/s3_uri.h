/*
 * s3_uri.h - percent-encoding as S3 and SigV4 use it, and raw query
 * string access.
 *
 * Encoding (RFC 3986 unreserved kept: A-Z a-z 0-9 - . _ ~; every other
 * byte as %XX, upper-case hex) is what SigV4 canonical requests and
 * encoding-type=url responses need. Decoding turns %XX into the byte and
 * leaves '+' alone (S3 clients send %20 for a space; a literal '+' in a
 * key is a '+'), and rejects a bad escape (ARK_EINVAL). Decoded text may
 * contain any byte, NUL included: callers check with s3_req rules.
 *
 * All functions are thread-safe and reentrant.
 */
#ifndef ARKOR_OBJECT_S3_URI_H
#define ARKOR_OBJECT_S3_URI_H

#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"

/* Appends s[0..n) encoded to out; keep_slash keeps '/' as is (paths).
 * ark_buf errors; out unchanged on error. */
enum ark_err	 s3_uri_encode(struct ark_buf *out, const char *s, size_t n,
		    int keep_slash);
/* Appends s[0..n) decoded to out. ARK_EINVAL on a bad %XX escape, else
 * ark_buf errors; out unchanged on error. */
enum ark_err	 s3_uri_decode(struct ark_buf *out, const char *s, size_t n);
/* Decodes into out[0..cap) with a NUL; *outlen (may be NULL) gets the
 * length. ARK_EINVAL bad escape, ARK_ETOOBIG when it does not fit. */
enum ark_err	 s3_uri_decode_to(const char *s, size_t n, char *out,
		    size_t cap, size_t *outlen);

/* One raw query parameter: pointers into the query string. */
struct s3_uri_param {
	const char	*key;
	size_t		 keylen;
	const char	*val;		/* "" (len 0) when no '=' */
	size_t		 vallen;
	int		 has_eq;
};

/* Iterates the raw query `*cur` (advanced; start with the query, NULL is
 * empty): returns 1 and fills *p for the next non-empty '&'-separated
 * piece, 0 at the end. */
int		 s3_uri_query_next(const char **cur, struct s3_uri_param *p);
/* Value of the first parameter whose decoded key equals `name`, decoded
 * into out (cap bytes with the NUL). ARK_ENOENT when absent, ARK_EINVAL on
 * a bad escape, ARK_ETOOBIG when it does not fit. */
enum ark_err	 s3_uri_query_get(const char *query, const char *name,
		    char *out, size_t cap);
/* 1 when a parameter with that (decoded) key is present, with or without
 * a value. */
int		 s3_uri_query_has(const char *query, const char *name);

#endif /* ARKOR_OBJECT_S3_URI_H */
