/*
 * fs_dir.h - arkorfs's open directories: a stream over the registry's
 * listing (list with delimiter "/", or bucket/list for the root of an
 * all-buckets mount) addressed by entry number, so readdir can resume at
 * the kernel's offset. One page of entries is held at a time: reading
 * forward costs one list call per page; going back restarts the listing.
 * Keys without a POSIX name (the directory's own marker, "a//b") are
 * skipped.
 *
 * Threads: a stream is used by one thread at a time (FUSE serialises
 * readdir per handle); any thread may open one.
 */
#ifndef ARKOR_FS_FS_DIR_H
#define ARKOR_FS_FS_DIR_H

#include <stdint.h>

#include <jansson.h>

struct fsdir;				/* opaque */

enum fsdir_kind {
	FSDIR_FILE,			/* a key: obj is its list entry */
	FSDIR_DIR,			/* a common prefix: obj is NULL */
	FSDIR_BUCKET			/* a bucket: obj is its entry */
};

struct fsdir_ent {			/* borrowed until the next call */
	const char	*name;
	const char	*key;		/* full key (FSDIR_FILE), else NULL */
	enum fsdir_kind	 kind;
	const json_t	*obj;
};

/* A stream of the children of (bucket, prefix), prefix "" or ending
 * with "/"; bucket NULL lists the buckets. Nothing is fetched yet.
 * Caller frees it with fsdir_close(). */
struct fsdir	*fsdir_open(const char *bucket, const char *prefix);
void		 fsdir_close(struct fsdir *d);	/* NULL is a no-op */
/* The bucket of the stream (NULL for the buckets). */
const char	*fsdir_bucket(const struct fsdir *d);

/* Forgets what was read: the next fsdir_get lists again (rewinddir). */
void		 fsdir_rewind(struct fsdir *d);

/* Entry number idx (from 0) into *e: 0; 1 past the last entry; or a
 * negative errno from the registry (the stream stays usable). */
int		 fsdir_get(struct fsdir *d, uint64_t idx,
		    struct fsdir_ent *e);

#endif /* ARKOR_FS_FS_DIR_H */
