/*
 * fs_dstat.h - arkorfs's cache of directory attributes.
 *
 * A create or an unlink makes the kernel forget its parent directory's
 * attributes, and the path walk to the next name asks for them again:
 * without this cache, every file created or removed cost one more
 * registry call, for its directory. An answer is kept for the attribute
 * timeout, as the kernel would have kept it. Directories change through
 * mkdir, rmdir, rename and chmod/chown/utimens, and each of those in
 * this mount empties the cache. A directory implied by keys alone (no
 * marker) may vanish with its last key, so an unlink forgets its parent
 * when the parent is implied.
 *
 * Threads: every call is thread-safe.
 */
#ifndef ARKOR_FS_FS_DSTAT_H
#define ARKOR_FS_FS_DSTAT_H

#include <stdint.h>
#include <sys/stat.h>

/* Answers are kept ttl_ms (0: nothing is kept). */
void	 fsds_init(int64_t ttl_ms);
void	 fsds_fini(void);

/* The attributes of directory (bucket, key) into *st: 1 when held and
 * not older than the timeout, else 0. */
int	 fsds_get(const char *bucket, const char *key, struct stat *st);
/* Keeps what the registry answered; implied: no marker behind it. */
void	 fsds_put(const char *bucket, const char *key, const struct stat *st,
	    int implied);
/* After the unlink of (bucket, key): forgets its parent if implied. */
void	 fsds_unlinked(const char *bucket, const char *key);
/* Forgets everything (a directory changed). */
void	 fsds_clear(void);

#endif /* ARKOR_FS_FS_DSTAT_H */
