/*
 * fs_fcache.h - arkorfs's local cache of fragments, on disk. A FileID's
 * bytes never change (a change writes new fragments under new FileIDs),
 * so a fragment fetched once and checked against its CRC32C serves every
 * later read from the local disk without asking anyone: no invalidation,
 * no version check. Random reads of a large file fetch each fragment once
 * instead of once per read.
 *
 * The cache lives in a private directory made under the mount's cache
 * directory and removed at unmount; it holds at most `max_bytes`,
 * least recently used fragments leaving first.
 *
 * Threads: every call is thread-safe.
 */
#ifndef ARKOR_FS_FS_FCACHE_H
#define ARKOR_FS_FS_FCACHE_H

#include <stddef.h>
#include <stdint.h>

/* Makes the cache under dir; max_bytes 0 disables it. 0 or -errno. */
int	 fsc_init(const char *dir, uint64_t max_bytes);
/* Removes every cached fragment and the directory. */
void	 fsc_fini(void);

/* Reads len bytes at off of fragment fid into buf: 1 when the cache held
 * them all, 0 otherwise (buf unspecified). */
int	 fsc_read(const char *fid, void *buf, uint64_t off, size_t len);
/* Keeps a copy of fragment fid (len bytes, already checked). Failures
 * (disk full) only mean the next read fetches it again. */
void	 fsc_store(const char *fid, const void *buf, size_t len);

#endif /* ARKOR_FS_FS_FCACHE_H */
