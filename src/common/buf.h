/*
 * buf.h - a capped, fallible, growable byte buffer (after curl's dynbuf).
 * Anything whose size a client controls is built in an ark_buf: it never
 * grows past the cap given at init (ARK_ETOOBIG) and reports allocation
 * failure (ARK_ENOMEM) instead of aborting. The contents are always
 * NUL-terminated so text can be used as a C string.
 *
 * Ownership: the struct is usually on the caller's stack; the caller owns
 * the storage and releases it with ark_buf_free(). An ark_buf is not
 * thread-safe: one thread at a time.
 */
#ifndef ARKOR_COMMON_BUF_H
#define ARKOR_COMMON_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "common/err.h"
#include "common/log.h"		/* ARK_PRINTF */

/* Fields are private: use the functions below. Public only so the struct
 * can live on the stack or inside another struct. */
struct ark_buf {
	char	*data;		/* NULL until the first append */
	size_t	 len;		/* bytes used, not counting the NUL */
	size_t	 alloc;		/* bytes allocated */
	size_t	 cap;		/* len may never exceed this */
};

/* Initialises an empty buffer that will hold at most `cap` bytes (cap > 0).
 * Allocates nothing. */
void		 ark_buf_init(struct ark_buf *b, size_t cap);

/* Append `n` bytes from `p` (borrowed). On any error the contents are
 * unchanged: ARK_ETOOBIG if len + n would pass the cap, ARK_ENOMEM if
 * the allocation failed. */
enum ark_err	 ark_buf_append(struct ark_buf *b, const void *p, size_t n);
enum ark_err	 ark_buf_append_str(struct ark_buf *b, const char *s);
enum ark_err	 ark_buf_append_byte(struct ark_buf *b, unsigned char c);
/* Formatted append; same error contract (nothing appended on error). */
enum ark_err	 ark_buf_printf(struct ark_buf *b, const char *fmt, ...)
		    ARK_PRINTF(2, 3);
enum ark_err	 ark_buf_vprintf(struct ark_buf *b, const char *fmt,
		    va_list ap) ARK_PRINTF(2, 0);

/* Contents as a NUL-terminated string, borrowed; "" when empty. Valid until
 * the next call that modifies the buffer. */
const char	*ark_buf_str(const struct ark_buf *b);
size_t		 ark_buf_len(const struct ark_buf *b);
size_t		 ark_buf_cap(const struct ark_buf *b);

/* Shortens the contents to `len` bytes (no-op if already shorter). */
void		 ark_buf_truncate(struct ark_buf *b, size_t len);
/* Empties the buffer, keeping its memory for reuse. */
void		 ark_buf_reset(struct ark_buf *b);
/* Frees the memory; the buffer is empty and reusable with the same cap. */
void		 ark_buf_free(struct ark_buf *b);
/* Hands the storage to the caller (free() it; never NULL on success) and
 * leaves the buffer empty. *lenp (may be NULL) gets the length.
 * Returns NULL only on ENOMEM for an empty buffer. */
char		*ark_buf_steal(struct ark_buf *b, size_t *lenp);

#endif /* ARKOR_COMMON_BUF_H */
