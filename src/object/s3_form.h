/*
 * s3_form.h - streaming multipart/form-data parser (RFC 7578) for S3
 * POST Object (browser form uploads).
 *
 * Fed the request body in pieces split anywhere, it hands over each
 * ordinary form field whole (name, value) and then the content of the
 * part named `file` as a stream of pieces, as AWS reads such a form:
 * the file is the last field that counts, whatever follows it (more
 * parts, an epilogue) is read and ignored. Everything before the file's
 * data (preamble, boundaries, part headers, field values) is bounded by
 * S3_FORM_MAX_PRE bytes, AWS's 20 KB, so memory is bounded whatever the
 * body: the file's bytes are never buffered here.
 *
 * The parser can stop where the file's data begins (S3_FORM_STOP from
 * the file_start callback), so that the caller authenticates the form
 * before it takes any file byte, then continues with the rest of the
 * piece. One parser belongs to one request and one thread at a time.
 */
#ifndef ARKOR_OBJECT_S3_FORM_H
#define ARKOR_OBJECT_S3_FORM_H

#include <stddef.h>

#include "object/s3_error.h"

#define S3_FORM_MAX_PRE		(20u << 10)	/* all but the file's data */
#define S3_FORM_BOUNDARY_MAX	70		/* RFC 2046 */

struct s3_form;				/* opaque */

/* file_start's answer: stop feeding at the first byte of the file. */
#define S3_FORM_STOP		(-1)

struct s3_form_cbs {
	/* A whole field other than the file: name (NUL-terminated) and
	 * value (n bytes plus a NUL, may hold NULs), borrowed for the call.
	 * S3_OK goes on; anything else stops the parser (sticky). */
	enum s3_code	(*field)(void *arg, const char *name,
			    const char *value, size_t n);
	/* The part named "file" (any case) begins: its filename parameter
	 * ("" when none) and Content-Type ("" when none), borrowed. 0 goes
	 * on, S3_FORM_STOP stops before its first byte, any other value is
	 * an enum s3_code error (sticky). */
	int		(*file_start)(void *arg, const char *filename,
			    const char *ctype);
	/* File data, borrowed for the call; an error stops the parser. */
	enum s3_code	(*file_data)(void *arg, const void *p, size_t n);
};

/* The boundary parameter of a Content-Type header value
 * "multipart/form-data; boundary=..." (quoted or not) into out. 0, or -1
 * when the type is another or the boundary missing or invalid. */
int		 s3_form_boundary(const char *ctype,
		    char out[S3_FORM_BOUNDARY_MAX + 1]);

/* A parser for a body of Content-Type `ctype` (borrowed for the call).
 * On S3_OK the caller owns *out (s3_form_free). Errors:
 * S3_ERR_MALFORMED_POST (not multipart/form-data with a valid boundary),
 * S3_ERR_INTERNAL (ENOMEM). cbs and arg are borrowed for the parser's
 * life. */
enum s3_code	 s3_form_new(const char *ctype, const struct s3_form_cbs *cbs,
		    void *arg, struct s3_form **out);
/* Feeds the next n bytes. *used (may be NULL) gets how many were taken:
 * n, unless file_start asked to stop (then the rest, from the file's
 * first byte, is to be fed again; a stop at the end of the piece takes
 * all n: s3_form_has_file() tells). Errors (sticky):
 *   S3_ERR_MALFORMED_POST - not well-formed multipart/form-data: a part
 *     without a name, a bad header line or boundary line;
 *   S3_ERR_MAX_POST_PRE_DATA - more than S3_FORM_MAX_PRE bytes before
 *     the file's data;
 *   whatever a callback returned. */
enum s3_code	 s3_form_feed(struct s3_form *f, const void *p, size_t n,
		    size_t *used);
/* At the end of the body: S3_OK when the file part was complete, or the
 * form ended well without one (s3_form_has_file() then says 0);
 * S3_ERR_INCOMPLETE_BODY when the body ended inside the file;
 * S3_ERR_MALFORMED_POST when it ended elsewhere before the closing
 * boundary; or the sticky error. */
enum s3_code	 s3_form_finish(struct s3_form *f);
/* 1 once the file part began. */
int		 s3_form_has_file(const struct s3_form *f);
void		 s3_form_free(struct s3_form *f);	/* NULL is a no-op */

#endif /* ARKOR_OBJECT_S3_FORM_H */
