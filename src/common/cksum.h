/*
 * cksum.h - checksums and digests: CRC32C (needles, fragments, end-to-end
 * reads), CRC32 (S3 x-amz-checksum-crc32), MD5 (ETag), SHA-1 and SHA-256
 * (S3 checksums, SigV4 payload hashes), and base64 as S3 sends them.
 *
 * CRCs are streaming: start with crc = 0 and pass the previous result back
 * in; the result for a concatenation equals the one-shot result. All
 * functions here are thread-safe; a struct ark_hash belongs to one thread
 * at a time.
 */
#ifndef ARKOR_COMMON_CKSUM_H
#define ARKOR_COMMON_CKSUM_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* CRC32C (Castagnoli). Uses SSE4.2 when the CPU has it. */
uint32_t	 ark_crc32c(uint32_t crc, const void *buf, size_t len);
/* The two implementations, for tests and benchmarks. ark_crc32c_hw() may
 * only be called when ark_crc32c_hw_available() returns 1. */
uint32_t	 ark_crc32c_sw(uint32_t crc, const void *buf, size_t len);
uint32_t	 ark_crc32c_hw(uint32_t crc, const void *buf, size_t len);
int		 ark_crc32c_hw_available(void);

/* CRC32 (IEEE 802.3, as zlib's crc32()). */
uint32_t	 ark_crc32(uint32_t crc, const void *buf, size_t len);

/* Writes the CRC in S3 form (base64 of the 4 big-endian bytes, 8 chars)
 * into out (>= 9 bytes). */
void		 ark_crc_base64(uint32_t crc, char out[9]);

enum ark_hash_alg {
	ARK_HASH_MD5,
	ARK_HASH_SHA1,
	ARK_HASH_SHA256,
};
#define ARK_HASH_MAXLEN		32	/* largest digest in bytes */

struct ark_hash;			/* opaque; wraps an EVP_MD_CTX */

/* Digest length in bytes of `alg` (16, 20, 32). */
size_t		 ark_hash_len(enum ark_hash_alg alg);
/* Starts a digest. On ARK_OK the caller owns *out (ark_hash_free()). */
enum ark_err	 ark_hash_new(enum ark_hash_alg alg, struct ark_hash **out);
enum ark_err	 ark_hash_update(struct ark_hash *h, const void *p, size_t n);
/* Writes ark_hash_len() bytes into out (>= ARK_HASH_MAXLEN) and restarts
 * the context, so it can digest the next message. */
enum ark_err	 ark_hash_final(struct ark_hash *h, unsigned char *out);
void		 ark_hash_free(struct ark_hash *h);	/* NULL is a no-op */
/* One shot: digest of p[0..n) into out. */
enum ark_err	 ark_hash(enum ark_hash_alg alg, const void *p, size_t n,
		    unsigned char *out);

/* HMAC-SHA256 of msg[0..n) under key into out, on a context the calling
 * thread keeps (thread-safe; re-keyed only when the key changes). */
enum ark_err	 ark_hmac_sha256(const void *key, size_t keylen,
		    const void *msg, size_t n, unsigned char out[32]);

/* Base64 (RFC 4648). `url` selects the URL-safe alphabet without padding;
 * otherwise the standard alphabet with '=' padding.
 * ark_base64_encode writes ARK_BASE64_LEN(n) chars and a NUL into out
 * (>= ARK_BASE64_LEN(n) + 1 bytes) and returns the length. */
#define ARK_BASE64_LEN(n)	((((n) + 2) / 3) * 4)
size_t		 ark_base64_encode(const void *in, size_t n, char *out,
		    int url);
/* Strict decode: rejects characters outside the alphabet, wrong padding
 * and non-zero trailing bits (ARK_EINVAL), or output longer than outcap
 * (ARK_ETOOBIG). *outlen gets the decoded length. */
enum ark_err	 ark_base64_decode(const char *in, size_t inlen, void *out,
		    size_t outcap, size_t *outlen, int url);

#endif /* ARKOR_COMMON_CKSUM_H */
