/*
 * s3_xmlw.h - a small streaming XML writer for S3 response bodies
 * (ListBucketResult, ListAllMyBucketsResult, InitiateMultipartUploadResult,
 * CompleteMultipartUploadResult, ListPartsResult, DeleteResult, Error, ...).
 *
 * Usage: s3_xmlw_init() writes the XML declaration into a caller-owned
 * ark_buf; start/elem/text/end append; s3_xmlw_finish() returns the first
 * error. Errors are sticky: after one, every call is a no-op, so callers
 * write a whole document and check once (like a FILE's error flag).
 *
 * Escaping: text and attribute values escape & < > " ' as entities, and
 * every control character below 0x20 (including TAB, LF, CR) and 0x7F as
 * a numeric reference &#xN;, as S3 does. XML 1.0 parsers reject the
 * references to characters other than TAB/LF/CR: clients that may store
 * such keys should ask for encoding-type=url (s3_uri_encode). Bytes >= 0x80
 * are passed through (keys are validated UTF-8 by s3_req).
 *
 * Element names are the caller's literals and are not checked. Nesting is
 * limited to S3_XMLW_MAXDEPTH. Not thread-safe: one writer, one thread.
 */
#ifndef ARKOR_OBJECT_S3_XMLW_H
#define ARKOR_OBJECT_S3_XMLW_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"		/* ARK_PRINTF */

#define S3_XMLW_MAXDEPTH	16
#define S3_XMLNS		"http://s3.amazonaws.com/doc/2006-03-01/"

struct s3_xmlw {			/* fields private; on the caller's stack */
	struct ark_buf	*b;		/* borrowed */
	enum ark_err	 err;		/* first error, sticky */
	int		 depth;
	const char	*stack[S3_XMLW_MAXDEPTH];	/* borrowed names */
};

/* Binds the writer to `b` (borrowed for the writer's life) and appends
 * the declaration <?xml version="1.0" encoding="UTF-8"?>. */
void		 s3_xmlw_init(struct s3_xmlw *w, struct ark_buf *b);
/* Binds without writing a declaration (fragments, tests). */
void		 s3_xmlw_init_fragment(struct s3_xmlw *w, struct ark_buf *b);
/* <name> ; `name` must stay valid until the matching end. */
void		 s3_xmlw_start(struct s3_xmlw *w, const char *name);
/* <name xmlns="S3_XMLNS"> for document roots. */
void		 s3_xmlw_start_ns(struct s3_xmlw *w, const char *name);
/* <name attr="value"> (value escaped), e.g. an xsi:type or a namespace
 * declaration; `name` as for s3_xmlw_start. */
void		 s3_xmlw_start_attr(struct s3_xmlw *w, const char *name,
		    const char *attr, const char *value);
/* Escaped character data. */
void		 s3_xmlw_text(struct s3_xmlw *w, const char *s, size_t n);
void		 s3_xmlw_end(struct s3_xmlw *w);
/* <name>escaped text</name>; text NULL writes <name></name>. */
void		 s3_xmlw_elem(struct s3_xmlw *w, const char *name,
		    const char *text);
void		 s3_xmlw_elemf(struct s3_xmlw *w, const char *name,
		    const char *fmt, ...) ARK_PRINTF(3, 4);
void		 s3_xmlw_elem_u64(struct s3_xmlw *w, const char *name,
		    uint64_t v);
void		 s3_xmlw_elem_bool(struct s3_xmlw *w, const char *name,
		    int v);
/* ISO 8601 with milliseconds, as S3 lists: 2009-10-12T17:50:30.000Z */
void		 s3_xmlw_elem_time(struct s3_xmlw *w, const char *name,
		    int64_t epoch_s);
/* <name>key</name> for listings: key[0..len) escaped, or URL-encoded
 * (s3_uri_encode, '/' kept) when url is 1 (encoding-type=url). */
void		 s3_xmlw_elem_key(struct s3_xmlw *w, const char *name,
		    const char *key, size_t len, int url);
/* ARK_OK, the first sticky error (ARK_ETOOBIG/ARK_ENOMEM from the buffer,
 * ARK_EINVAL for depth overflow or unbalanced end), or ARK_EINVAL if
 * elements are still open. */
enum ark_err	 s3_xmlw_finish(struct s3_xmlw *w);

/* Appends s[0..n) escaped as above to b (same error contract as
 * ark_buf_append: unchanged on error). */
enum ark_err	 s3_xmlw_escape(struct ark_buf *b, const char *s, size_t n);

#endif /* ARKOR_OBJECT_S3_XMLW_H */
