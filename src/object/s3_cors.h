/*
 * s3_cors.h - a bucket's CORS configuration (PutBucketCors) and how S3
 * evaluates it for a request carrying an Origin header: the first rule
 * whose AllowedOrigin matches the origin, whose AllowedMethod lists the
 * method (a preflight's Access-Control-Request-Method) and, for a
 * preflight, whose AllowedHeaders match every name listed in
 * Access-Control-Request-Headers answers; no rule, no CORS headers.
 * Origins match case-sensitively, header names case-insensitively; each
 * pattern may hold one '*' standing for any run of characters.
 * Plain data without shared state: thread-safe.
 */
#ifndef ARKOR_OBJECT_S3_CORS_H
#define ARKOR_OBJECT_S3_CORS_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "object/s3_error.h"

#define S3_CORS_MAX_RULES	100
#define S3_CORS_ID_MAX		255	/* bytes of a rule's ID */

struct s3_cors_list {
	char		**v;		/* each caller-owned via the rule */
	size_t		  n;
};

struct s3_cors_rule {
	char		*id;		/* NULL when none */
	struct s3_cors_list origins;	/* AllowedOrigin, at least one */
	struct s3_cors_list methods;	/* AllowedMethod, at least one */
	struct s3_cors_list headers;	/* AllowedHeader */
	struct s3_cors_list expose;	/* ExposeHeader */
	int64_t		 max_age;	/* MaxAgeSeconds, -1 when none */
};

struct s3_cors {
	struct s3_cors_rule	*rules;
	size_t			 nrules;
};

/* Appends a copy of s[0..n) to l. ARK_ENOMEM leaves l as it was. */
enum ark_err	 s3_cors_list_add(struct s3_cors_list *l, const char *s,
		    size_t n);
/* Checks rule *r and appends it to c, taking it over (*r is zeroed
 * either way; on error it is freed). S3_ERR_MALFORMED_XML: no origin or
 * no method, an ID over S3_CORS_ID_MAX bytes, more than
 * S3_CORS_MAX_RULES rules; S3_ERR_INVALID_REQUEST: a method other than
 * GET PUT POST DELETE HEAD, an origin or allowed header with more than
 * one '*'; S3_ERR_INTERNAL on ENOMEM. */
enum s3_code	 s3_cors_add_rule(struct s3_cors *c, struct s3_cors_rule *r);
/* A rule set up empty (max_age -1), to fill with s3_cors_list_add. */
void		 s3_cors_rule_init(struct s3_cors_rule *r);
void		 s3_cors_rule_free(struct s3_cors_rule *r);
/* Frees the rules and zeroes *c (safe on a zeroed struct). */
void		 s3_cors_free(struct s3_cors *c);

/* The first rule allowing origin and method (borrowed from c), with
 * every name of the comma-separated req_headers (NULL or "": none, as
 * for a request that is not a preflight) allowed; NULL when none. */
const struct s3_cors_rule *s3_cors_match(const struct s3_cors *c,
		    const char *origin, const char *method,
		    const char *req_headers);

/* Calls emit with each response header S3 sends for matching rule r:
 * Access-Control-Allow-Origin (the origin, "*" when the rule's origin is
 * "*"), Access-Control-Allow-Methods, Access-Control-Allow-Credentials
 * (not for "*"), Access-Control-Expose-Headers, Access-Control-Max-Age,
 * Vary, and for a preflight (req_headers non-NULL and not "")
 * Access-Control-Allow-Headers with the requested names. */
void		 s3_cors_headers(const struct s3_cors_rule *r,
		    const char *origin, const char *req_headers,
		    void (*emit)(void *arg, const char *name,
		    const char *value), void *arg);

#endif /* ARKOR_OBJECT_S3_CORS_H */
