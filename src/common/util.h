/*
 * util.h - allocation that cannot fail (control-plane memory only), clocks,
 * randomness and hex. Anything sized by a client must use fallible,
 * capped allocation instead (buf.h).
 */
#ifndef ARKOR_COMMON_UTIL_H
#define ARKOR_COMMON_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/log.h"

#define ARK_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define ARK_MIN(a, b)		((a) < (b) ? (a) : (b))
#define ARK_MAX(a, b)		((a) > (b) ? (a) : (b))

/* Magic-number checks for long-lived structs crossing callbacks. */
#define ARK_CHECK(p, m) do {						\
	if ((p) == NULL || (p)->magic != (m))				\
		ark_fatalx("%s:%d: bad object %p", __FILE__, __LINE__,	\
		    (const void *)(p));					\
} while (0)

/* Unit tests see ARK_STATIC functions. */
#ifdef UNIT_TESTING
#define ARK_STATIC
#else
#define ARK_STATIC static
#endif

/* Abort with a log line when out of memory. Caller owns the result. */
void	*ark_xmalloc(size_t n);
void	*ark_xcalloc(size_t nmemb, size_t size);
void	*ark_xrealloc(void *p, size_t n);
char	*ark_xstrdup(const char *s);
char	*ark_xstrndup(const char *s, size_t n);
char	*ark_xasprintf(const char *fmt, ...) ARK_PRINTF(1, 2);

/* Wall clock in milliseconds / seconds since the Unix epoch. */
int64_t	 ark_now_ms(void);
int64_t	 ark_now_s(void);
/* Monotonic clock in nanoseconds, for durations and deadlines. */
uint64_t ark_mono_ns(void);
/* Formats `epoch_s` as RFC 7231 IMF-fixdate into buf (>= 30 bytes). */
void	 ark_http_date(int64_t epoch_s, char *buf, size_t len);

/* Fills buf with cryptographically secure random bytes (getrandom). */
enum ark_err ark_random_bytes(void *buf, size_t len);
/* The same randomness, drawn from a per-thread pool refilled by one
 * getrandom() per 32 values (request ids, cookies, replica choice cost
 * no system call each). Never fails (fatal when the kernel has none). */
uint64_t ark_random_u64(void);
uint32_t ark_random_u32(void);

/* FNV-1a (64-bit) of the string s continuing from h: start with
 * ARK_FNV_INIT; chain calls to hash several strings (for hash tables,
 * not for anything an attacker may choose to collide). */
#define ARK_FNV_INIT	14695981039346656037ull
uint64_t ark_fnv1a(uint64_t h, const char *s);

/* Writes 2*len lowercase hex digits and a NUL into out (>= 2*len+1). */
void	 ark_hex_encode(const void *in, size_t len, char *out);
/* Decodes exactly 2*outlen hex digits from in; ARK_EINVAL otherwise. */
enum ark_err ark_hex_decode(const char *in, size_t inlen, void *out,
	    size_t outlen);

/* Parses a size such as "8M", "4GiB", "512k", "1024" (binary units) into
 * *out; ARK_EINVAL on junk or overflow. */
enum ark_err ark_parse_size(const char *s, uint64_t *out);

/* Reads an access key file: "access key id: X" / "secret access key: Y"
 * lines (the output of arkorctl init or key create) or KEY=VALUE lines
 * with ARKOR_ACCESS_KEY_ID / ARKOR_SECRET_ACCESS_KEY; other lines are
 * ignored. On ARK_OK the caller owns *id and *secret (free). On error
 * (ARK_EIO: cannot read, errno set; ARK_ENOENT: no key pair in it)
 * nothing is allocated. Used by arkorfs and arkor-lfs-transfer. */
enum ark_err ark_credentials_load(const char *path, char **id,
    char **secret);
/* The access key of a client program: from the file `path` when given,
 * else from ARKOR_ACCESS_KEY_ID / ARKOR_SECRET_ACCESS_KEY. 0, or -1 after
 * a message on stderr prefixed with `prog`. */
int ark_credentials_get(const char *prog, const char *path, char **id,
    char **secret);
/* The value of hex digit c (either case), or -1. */
int ark_hex_digit(int c);

#endif /* ARKOR_COMMON_UTIL_H */
