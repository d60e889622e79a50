/*
 * fs_slots.h - the fragment layout of an open file's committed version
 * and what happened to each fragment (slot) since it was opened: still
 * only on the data servers (absent), copied unchanged into the node's
 * temp file (present), changed there (dirty), or cut off by a truncate
 * (gone). It plans the fetches that a write or truncate needs (only the
 * fragments it changes in part) and the pieces of a commit: a fragment
 * that is absent or present is reused as it is (same FileID, no data
 * moved); every other byte range ("local runs": dirty and gone slots,
 * holes, appended bytes) is cut into new fragments of at most the
 * fragment size, starting at the run's first byte, so rewritten aligned
 * fragments keep their boundaries.
 *
 * Pure: no I/O and no locks; the caller (fs_node.c, under the node's
 * mutex) does the fetching and writing.
 */
#ifndef ARKOR_FS_FS_SLOTS_H
#define ARKOR_FS_FS_SLOTS_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

enum fss_state { FSS_ABSENT, FSS_PRESENT, FSS_DIRTY, FSS_GONE };

struct fss_ext {			/* plain value */
	uint64_t	 off;
	uint64_t	 len;
};

struct fss;				/* opaque */

/* A layout of the n fragments ext[0..n) (copied), all absent except
 * empty ones (gone). ARK_EINVAL when they are out of offset order or
 * overlap (*out is NULL then). On ARK_OK the caller owns *out. */
enum ark_err	 fss_new(const struct fss_ext *ext, size_t n,
		    struct fss **out);
void		 fss_free(struct fss *s);	/* NULL is a no-op */

size_t		 fss_count(const struct fss *s);
struct fss_ext	 fss_ext(const struct fss *s, size_t i);
enum fss_state	 fss_state(const struct fss *s, size_t i);
void		 fss_set(struct fss *s, size_t i, enum fss_state st);
/* Index of the first fragment that ends past off (fss_count if none). */
size_t		 fss_at(const struct fss *s, uint64_t off);

/* The absent fragments that a write of [off, off+len) must fetch into
 * the temp file first: the first and last it overlaps when it covers
 * them only in part, and the last fragment of the file when it is
 * shorter than fsz and the write ends past it (it is rewritten together
 * with the appended bytes, so appends do not pile up small fragments).
 * Writes their indexes into idx (at most 3, ascending, distinct) and
 * returns how many. */
size_t		 fss_write_fetch(const struct fss *s, uint64_t off,
		    uint64_t len, uint64_t fsz, size_t idx[3]);
/* After those fetches: marks what the write changes dirty. */
void		 fss_write(struct fss *s, uint64_t off, uint64_t len,
		    uint64_t fsz);
/* The absent fragment that a truncate to size cuts in the middle (it
 * must be fetched first): 1 and *idx, or 0 when none. */
int		 fss_trunc_fetch(const struct fss *s, uint64_t size,
		    size_t *idx);
/* After that fetch: fragments past size are gone, a cut one dirty. */
void		 fss_truncate(struct fss *s, uint64_t size);

/* Commit plan: the pieces of a file of `size` bytes in offset order. */
#define FSS_NONE	((size_t)-1)
struct fss_piece {
	uint64_t	 off;
	uint64_t	 len;
	size_t		 reuse;		/* fragment index, or FSS_NONE */
};
struct fss_iter {			/* zero it to start */
	uint64_t	 pos;
	uint64_t	 run;		/* first byte of the local run */
	uint64_t	 runend;
	size_t		 i;
	int		 inrun;
};
/* The next piece into *p: 1, or 0 at the end. A reused fragment is one
 * piece; local runs come as pieces of at most fsz bytes. */
int		 fss_next(const struct fss *s, uint64_t size, uint64_t fsz,
		    struct fss_iter *it, struct fss_piece *p);

/* The piece of that plan that holds byte off (< size): 1 and *p, or 0
 * past size. Costs a scan of the local run around off. */
int		 fss_piece_at(const struct fss *s, uint64_t size,
		    uint64_t fsz, uint64_t off, struct fss_piece *p);

#endif /* ARKOR_FS_FS_SLOTS_H */
