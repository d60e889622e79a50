/*
 * s3_view.h - what the protocol layer needs to see of an HTTP request:
 * method, raw path, raw query and header lookups, through a small struct
 * of borrowed pointers and callbacks. The object server fills one from
 * its ark_http_req (ark_http_req_header / ark_http_req_header_at); tests
 * and fuzzers use the array adapter below. Nothing here allocates.
 *
 * Repeated headers: `header` returns the first value; s3_sigv4 joins the
 * values of a repeated signed header from `header_at` when it is given.
 */
#ifndef ARKOR_OBJECT_S3_VIEW_H
#define ARKOR_OBJECT_S3_VIEW_H

#include <stddef.h>

struct s3_view {
	const char	*method;	/* "GET" */
	const char	*path;		/* raw request path, not decoded */
	const char	*query;		/* raw query after '?', NULL if none */
	/* Bucket named by a virtual-hosted Host header (s3_req), or NULL;
	 * SigV2 signs it as the first path segment. */
	const char	*host_bucket;
	/* First value of header `name` (case-insensitive), or NULL. */
	const char	*(*header)(void *arg, const char *name);
	/* i-th header in arrival order: 0, or -1 past the end. May be NULL
	 * (SigV2 then sees no x-amz-* headers; SigV4 cannot check that
	 * x-amz-* headers are signed). */
	int		 (*header_at)(void *arg, size_t i, const char **name,
			    const char **value);
	void		*arg;
};

/* Header lookup helper: NULL when the view has no such header. */
const char	*s3_view_header(const struct s3_view *v, const char *name);

/* Array adapter: `kv` is a NULL-terminated list of name, value, name,
 * value, ..., NULL (borrowed for the view's life). */
void		 s3_view_init_kv(struct s3_view *v, const char *method,
		    const char *path, const char *query,
		    const char *const *kv);

struct ark_http_req;

/* Server adapter: method, path, query and headers of `req` (borrowed;
 * use the view only on the request's worker thread, while the request
 * lives). host_bucket starts NULL. */
void		 s3_view_init_http(struct s3_view *v,
		    const struct ark_http_req *req);

#endif /* ARKOR_OBJECT_S3_VIEW_H */
