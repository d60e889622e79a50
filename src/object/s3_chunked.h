/*
 * s3_chunked.h - streaming decoder for aws-chunked request bodies
 * (Content-Encoding: aws-chunked), the three variants SigV4 declares in
 * x-amz-content-sha256:
 *
 *   STREAMING-AWS4-HMAC-SHA256-PAYLOAD
 *     <hex>;chunk-signature=<sig>\r\n<data>\r\n ... 0;chunk-signature=<sig>
 *     \r\n\r\n
 *   STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
 *     as above, then trailer lines "name:value\r\n" (x-amz-checksum-*),
 *     "x-amz-trailer-signature:<sig>\r\n" and "\r\n"
 *   STREAMING-UNSIGNED-PAYLOAD-TRAILER
 *     <hex>\r\n<data>\r\n ... 0\r\n, trailer lines, "\r\n" (no signatures)
 *
 * Each chunk signature continues the chain from the seed signature of
 * the request (struct s3_auth): HMAC(kSigning, "AWS4-HMAC-SHA256-PAYLOAD\n"
 * date "\n" scope "\n" prev-sig "\n" sha256("") "\n" sha256(chunk)); the
 * trailer signature is HMAC(kSigning, "AWS4-HMAC-SHA256-TRAILER\n" date
 * "\n" scope "\n" last-chunk-sig "\n" sha256(trailer lines as
 * "name:value\n")).
 *
 * Memory is bounded whatever the body: only one header or trailer line
 * (S3_CHUNKED_LINE_MAX) is buffered; chunk data is hashed as it passes and
 * handed to the data callback in the caller's pieces. NOTE that data of a
 * chunk is delivered BEFORE that chunk's signature can be checked (it
 * needs the whole chunk): a caller must not commit anything until
 * s3_chunked_finish() returns S3_OK.
 *
 * One decoder belongs to one request and one thread at a time.
 */
#ifndef ARKOR_OBJECT_S3_CHUNKED_H
#define ARKOR_OBJECT_S3_CHUNKED_H

#include <stddef.h>
#include <stdint.h>

#include "object/s3_error.h"
#include "object/s3_sigv4.h"

#define S3_CHUNKED_LINE_MAX	512	/* chunk header or trailer line */
#define S3_CHUNKED_TRAILERS_MAX	8

struct s3_chunked;			/* opaque */

/* Decoded data, borrowed for the call. A result other than S3_OK stops
 * the decoder with that result (sticky). */
typedef enum s3_code (*s3_chunked_data_fn)(void *arg, const void *p,
    size_t n);

/* Starts a decoder for the request authenticated as `auth` (copied; its
 * payload must be one of the three streaming kinds, else
 * S3_ERR_INVALID_ARGUMENT). decoded_len is x-amz-decoded-content-length,
 * or -1 if absent (then not checked). On S3_OK the caller owns *out and
 * frees it with s3_chunked_free(). S3_ERR_INTERNAL on ENOMEM. */
enum s3_code	 s3_chunked_new(const struct s3_auth *auth,
		    int64_t decoded_len, s3_chunked_data_fn data, void *arg,
		    struct s3_chunked **out);
/* Feeds the next n body bytes (any split). Errors, sticky:
 *   S3_ERR_SIGNATURE_DOES_NOT_MATCH - a chunk or trailer signature;
 *   S3_ERR_INCOMPLETE_BODY - framing error: bad hex or line, missing
 *     CRLF, oversized line, bytes after the end, more data than
 *     x-amz-decoded-content-length;
 *   S3_ERR_INVALID_REQUEST - a malformed or unexpected trailer;
 *   whatever the data callback returned. */
enum s3_code	 s3_chunked_feed(struct s3_chunked *c, const void *p,
		    size_t n);
/* At the end of the body: S3_OK when the final chunk (and trailers) were
 * complete and verified and the decoded length matched; else
 * S3_ERR_INCOMPLETE_BODY or the sticky error. */
enum s3_code	 s3_chunked_finish(struct s3_chunked *c);
/* 1 once the terminating chunk and trailers have been consumed. */
int		 s3_chunked_done(const struct s3_chunked *c);
uint64_t	 s3_chunked_decoded_bytes(const struct s3_chunked *c);
/* Trailer value by (case-insensitive) name, borrowed until free; NULL if
 * absent. Valid once done. x-amz-trailer-signature is not listed. */
const char	*s3_chunked_trailer(const struct s3_chunked *c,
		    const char *name);
size_t		 s3_chunked_trailer_count(const struct s3_chunked *c);
/* i-th trailer; -1 past the end. */
int		 s3_chunked_trailer_at(const struct s3_chunked *c, size_t i,
		    const char **name, const char **value);
void		 s3_chunked_free(struct s3_chunked *c);	/* NULL is a no-op */

#endif /* ARKOR_OBJECT_S3_CHUNKED_H */
