/*
 * s3_checksum.h - S3 integrity checks on request and response bodies:
 * Content-MD5 (BadDigest / InvalidDigest), the additional checksums
 * x-amz-checksum-{crc32,crc32c,crc64nvme,sha1,sha256} in headers or in an
 * aws-chunked trailer (x-amz-trailer), x-amz-sdk-checksum-algorithm and
 * x-amz-checksum-algorithm, a streaming context computing several
 * algorithms at once (MD5 for the ETag included), CRC64/NVME, and the
 * multipart composite form "<base64>-<n>" (and "<md5 hex>-<n>" ETags).
 *
 * Values travel in S3 form: base64 of the big-endian CRC or of the raw
 * digest. All functions are thread-safe; a struct s3_cksum belongs to one
 * thread at a time.
 */
#ifndef ARKOR_OBJECT_S3_CHECKSUM_H
#define ARKOR_OBJECT_S3_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "object/s3_error.h"
#include "object/s3_view.h"

enum s3_cksum_alg {
	S3_CKSUM_NONE = 0,
	S3_CKSUM_CRC32,
	S3_CKSUM_CRC32C,
	S3_CKSUM_CRC64NVME,
	S3_CKSUM_SHA1,
	S3_CKSUM_SHA256,
	S3_CKSUM_MD5,		/* Content-MD5 and ETags, not x-amz-checksum */
	S3_CKSUM_ALG_MAX
};

#define S3_CKSUM_BIT(a)		(1u << (a))
#define S3_CKSUM_MAXLEN		32	/* raw bytes, SHA-256 */
#define S3_CKSUM_B64_MAX	(44 + 1)	/* base64 of 32 bytes + NUL */
#define S3_CKSUM_COMPOSITE_MAX	(S3_CKSUM_B64_MAX + 8)	/* "-10000" */

/* "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256", "MD5"; NULL for NONE
 * or out of range. */
const char	*s3_cksum_name(enum s3_cksum_alg a);
/* "x-amz-checksum-crc32", ...; NULL for NONE, MD5, out of range. */
const char	*s3_cksum_header(enum s3_cksum_alg a);
/* The header's suffix, "crc32", ..., "sha256": the key of a stored
 * checksums object; NULL like s3_cksum_header. */
const char	*s3_cksum_key(enum s3_cksum_alg a);
/* Algorithm by name as x-amz-(sdk-)checksum-algorithm carries it
 * (case-insensitive; MD5 is not one); -1 when unknown. */
int		 s3_cksum_parse_alg(const char *name);
/* Raw digest length: 4, 4, 8, 20, 32, 16; 0 for NONE. */
size_t		 s3_cksum_len(enum s3_cksum_alg a);

/* CRC-64/NVME (reflected 0xAD93D23594C93659, init and xorout all ones).
 * Streaming like ark_crc32: start with 0, pass the result back in.
 * "123456789" -> 0xAE8B14860A799888. */
uint64_t	 s3_crc64nvme(uint64_t crc, const void *p, size_t n);

/* CRC of the concatenation A|B from crc_a = CRC(A), crc_b = CRC(B) and
 * len_b = |B|, for S3_CKSUM_CRC32, CRC32C and CRC64NVME (values as the
 * streaming functions return them); 0 for other algorithms. This is what
 * a FULL_OBJECT checksum of a multipart upload is made of. */
uint64_t	 s3_cksum_crc_combine(enum s3_cksum_alg a, uint64_t crc_a,
		    uint64_t crc_b, uint64_t len_b);

/* A CRC value (CRC32, CRC32C: 4 bytes; CRC64NVME: 8) from and to its S3
 * form, base64 of the big-endian bytes (out: S3_CKSUM_B64_MAX bytes).
 * ARK_EINVAL for other algorithms and malformed values. */
enum ark_err	 s3_cksum_crc_from_b64(enum s3_cksum_alg a, const char *b64,
		    uint64_t *crc);
enum ark_err	 s3_cksum_crc_to_b64(enum s3_cksum_alg a, uint64_t crc,
		    char *out);

/* ---- streaming context ---- */
struct s3_cksum;			/* opaque */

/* Computes every algorithm in `mask` (S3_CKSUM_BIT()s, NONE ignored).
 * On ARK_OK the caller owns *out (s3_cksum_free); ARK_ENOMEM, ARK_EIO. */
enum ark_err	 s3_cksum_new(unsigned mask, struct s3_cksum **out);
enum ark_err	 s3_cksum_update(struct s3_cksum *c, const void *p,
		    size_t n);
/* Ends the message; the values are then readable and further updates
 * are refused (ARK_EINVAL). */
enum ark_err	 s3_cksum_final(struct s3_cksum *c);
/* Raw value of `a` into out (>= S3_CKSUM_MAXLEN), returns its length; 0
 * when `a` was not computed or before final. */
size_t		 s3_cksum_raw(const struct s3_cksum *c, enum s3_cksum_alg a,
		    unsigned char *out);
/* Base64 / lower-case hex of the value into out (S3_CKSUM_B64_MAX /
 * 65 bytes); ARK_ENOENT when `a` was not computed or before final. */
enum ark_err	 s3_cksum_b64(const struct s3_cksum *c, enum s3_cksum_alg a,
		    char *out);
enum ark_err	 s3_cksum_hex(const struct s3_cksum *c, enum s3_cksum_alg a,
		    char *out);
void		 s3_cksum_free(struct s3_cksum *c);	/* NULL: no-op */

/* ---- what a request declares ---- */
struct s3_cksum_req {			/* plain value */
	int		 has_md5;
	unsigned char	 md5[16];		/* Content-MD5 */
	enum s3_cksum_alg alg;			/* NONE: no additional checksum */
	int		 in_trailer;		/* value arrives in a trailer */
	int		 has_value;
	unsigned char	 value[S3_CKSUM_MAXLEN];
};

/* Reads Content-MD5, x-amz-checksum-*, x-amz-sdk-checksum-algorithm and
 * x-amz-trailer. Errors: S3_ERR_INVALID_DIGEST (Content-MD5 not base64
 * of 16 bytes); S3_ERR_INVALID_CHECKSUM (a checksum value of the wrong
 * form); S3_ERR_INVALID_REQUEST (several x-amz-checksum-* headers, an
 * unknown algorithm or trailer name, an SDK algorithm with no matching
 * value header or trailer). */
enum s3_code	 s3_cksum_parse_request(const struct s3_view *v,
		    struct s3_cksum_req *out);
/* Takes the value of the declared trailer (s3_chunked_trailer() of
 * s3_cksum_header(r->alg)); NULL (missing) or a bad form:
 * S3_ERR_INVALID_CHECKSUM. */
enum s3_code	 s3_cksum_set_trailer(struct s3_cksum_req *r,
		    const char *b64);
/* The algorithms a context must compute for r: MD5 always (ETag) and
 * r->alg. */
unsigned	 s3_cksum_req_mask(const struct s3_cksum_req *r);
/* Compares after final: S3_ERR_BAD_DIGEST (Content-MD5),
 * S3_ERR_BAD_CHECKSUM (x-amz-checksum-*), S3_ERR_INVALID_CHECKSUM (a
 * declared trailer never arrived), else S3_OK. */
enum s3_code	 s3_cksum_verify(const struct s3_cksum_req *r,
		    const struct s3_cksum *c);

/* CreateMultipartUpload: x-amz-checksum-algorithm (absent: NONE) and
 * x-amz-checksum-type (COMPOSITE or FULL_OBJECT; absent: FULL_OBJECT for
 * CRC64NVME, else COMPOSITE). *full_object gets 1 for FULL_OBJECT.
 * S3_ERR_INVALID_REQUEST: unknown algorithm or type, FULL_OBJECT with
 * SHA1/SHA256, COMPOSITE with CRC64NVME, a type without an algorithm. */
enum s3_code	 s3_cksum_parse_mpu(const struct s3_view *v,
		    enum s3_cksum_alg *alg, int *full_object);

/* ---- multipart composite ---- */
/* Feeds one part's value (base64 S3 form, or hex for MD5 ETags, quotes
 * allowed) into c, a context computing `a`: the composite is the
 * checksum of the concatenated raw part values. ARK_EINVAL on a bad
 * value. */
enum ark_err	 s3_cksum_composite_add(struct s3_cksum *c,
		    enum s3_cksum_alg a, const char *part_value);
/* After s3_cksum_final(): "<base64>-<n>" (or "<hex>-<n>" for MD5) into
 * out (S3_CKSUM_COMPOSITE_MAX + 20 bytes). */
enum ark_err	 s3_cksum_composite_str(const struct s3_cksum *c,
		    enum s3_cksum_alg a, unsigned nparts, char *out,
		    size_t cap);
/* Splits "<value>-<n>": copies value into out (cap) and *nparts; a value
 * without "-n" gives *nparts 0. ARK_EINVAL on junk, ARK_ETOOBIG. */
enum ark_err	 s3_cksum_composite_split(const char *s, char *out,
		    size_t cap, unsigned *nparts);

#endif /* ARKOR_OBJECT_S3_CHECKSUM_H */
