/*
 * fs_node.h - arkorfs's open files. One struct fsn per object that is
 * open (or being changed), shared by every file handle on it, kept in a
 * table by (bucket, key) so getattr sees unsaved sizes and rename moves
 * open files along.
 *
 * Data model: a node keeps the fragment layout of the version it opened
 * (fs_slots.h). Reads of fragments nobody changed go straight to the
 * data servers (whole fragments, CRC-checked, the next one prefetched).
 * Changes land in an unlinked sparse temp file: in memory (memfd) while
 * the file is at most 1 MiB, in the cache directory past that (never
 * much RAM): a write or truncate that changes part of a fragment first
 * fetches just that fragment into it; one that covers a whole fragment
 * fetches nothing. fsn_flush() commits with one object/put in which
 * untouched fragments are the original entries (no data moves) and only
 * the changed ranges are cut into new fragments, written to every
 * replica of a group first: until that put returns, other readers see
 * the old version (close-to-open; a crash leaves the old or the new
 * version, never a mix). Whole new fragments of a sequential write are
 * put while the writer goes on (write-behind); the commit takes those
 * still unchanged.
 *
 * Threads: all calls are thread-safe; a node's calls serialise on its
 * mutex.
 */
#ifndef ARKOR_FS_FS_NODE_H
#define ARKOR_FS_FS_NODE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <jansson.h>

#include "common/err.h"

struct fsn;				/* opaque */

struct fsn_cfg {
	uint64_t	 fragment_size;	/* bytes per fragment written */
	unsigned	 window;	/* fragments in flight per flush */
	const char	*cache_dir;	/* temp files (borrowed) */
	uid_t		 uid;		/* shown when the object has none */
	gid_t		 gid;
	mode_t		 file_mode;	/* permission bits, ditto */
};

void		 fsn_init(const struct fsn_cfg *cfg);

/* Opens (bucket, key): the node in the table, refreshed from the
 * registry when it has no unsaved changes, or a new one from object/get.
 * With `create` (FSN_CREATE, or FSN_EXCL: -EEXIST if the registry has
 * the object) a missing object gives a new empty node (mode, uid, gid
 * used) that will be committed on flush even if nothing is written; with
 * `trunc` the content is dropped. On 0 the caller owns one reference
 * (fsn_release) and *keep says whether the kernel's cached pages are
 * still right (the node has no unsaved changes and its version is the
 * one this mount last had open, FUSE keep_cache). Negative errno
 * otherwise; -EIO for an object whose fragments overlap. */
#define FSN_CREATE	1
#define FSN_EXCL	2
int		 fsn_open(const char *bucket, const char *key, int create,
		    int trunc, mode_t mode, uid_t uid, gid_t gid,
		    struct fsn **out, int *keep);
/* Notes that a lookup just found no object (bucket, key): a create of
 * that name in the next 100 ms does not ask the registry again. A racing
 * creator elsewhere is then overwritten at commit, as if this create had
 * come first (the last commit wins). With `cached` (the name cache
 * answered, maybe up to the attribute timeout late) only a create that
 * truncates and is not O_EXCL skips the registry. */
void		 fsn_absent(const char *bucket, const char *key, int cached);
/* Flushes nothing; drops the reference (the last one frees the node). */
void		 fsn_release(struct fsn *n);
/* As fsn_release; when that was the last reference to a node still
 * named (not unlinked or replaced), 1 with copies of its last name for
 * the caller to free, else 0. Atomic with fsn_renamed and fsn_find. */
int		 fsn_release_name(struct fsn *n, char **bucket, char **key);

int		 fsn_read(struct fsn *n, char *buf, size_t size, off_t off);
int		 fsn_write(struct fsn *n, const char *buf, size_t size,
		    off_t off);
int		 fsn_truncate(struct fsn *n, off_t size);
/* Grows the file to size (a hole) if it is smaller: fallocate. */
int		 fsn_extend(struct fsn *n, off_t size);
/* Commits unsaved changes (see above); 0 when there were none. The
 * commit is lazy (fs_reg.h): visible to all at once, durable shortly
 * after. fsn_fsync() commits durably and returns once every earlier
 * lazy change of this mount is durable too. */
int		 fsn_flush(struct fsn *n);
int		 fsn_fsync(struct fsn *n);

/* stat of the open node (bucket, key) into *st: 0, or -ENOENT when no
 * such node is open (ask the registry). Unlinked nodes are not shown. */
int		 fsn_stat_path(const char *bucket, const char *key,
		    struct stat *st);
void		 fsn_stat(struct fsn *n, struct stat *st);
/* The open node of (bucket, key) with a new reference, or NULL. */
struct fsn	*fsn_find(const char *bucket, const char *key);

/* chmod/chown/utimens: -1 / (uid_t)-1 / negative ms leave a value. A
 * node with unsaved changes keeps them for its commit, an unlinked one
 * for itself (*deferred = 1); otherwise the caller also stores them in
 * the registry (under fsn_name). */
void		 fsn_setattr(struct fsn *n, mode_t mode, uid_t uid, gid_t gid,
		    int64_t mtime_ms, int *deferred);
/* The current name of node n (renames move it): 0 with copies the
 * caller frees, or -ENOENT when it was unlinked or replaced. */
int		 fsn_name(struct fsn *n, char **bucket, char **key);
/* After an unlink: the node is not committed any more. */
void		 fsn_unlinked(const char *bucket, const char *key);
/* After a rename: open nodes at src (a key, or with is_prefix every key
 * under the prefix src) move to dst. */
void		 fsn_renamed(const char *sbucket, const char *src,
		    const char *dbucket, const char *dst, int is_prefix);
/* The files directly under (bucket, prefix) created in this mount and
 * not committed yet (not closed): a new array of {key, size, mode}. */
json_t		*fsn_new_under(const char *bucket, const char *prefix);
/* 1 when a node under (bucket, prefix) is open: a file there, maybe not
 * in the registry yet (created, not closed). */
int		 fsn_any_under(const char *bucket, const char *prefix);
/* Flushes every open node under (bucket, prefix) (rename of a dir). */
int		 fsn_flush_prefix(const char *bucket, const char *prefix);

/* Extended attributes (the object's user_meta, see fs_xattr.h): locks
 * the node and lends its map in *meta. Returns 1 when the node has
 * unsaved changes: edit *meta in place, it is committed with the
 * content. Returns 0 when the change must go to the registry now
 * (object/setattr, keeping the node locked so no commit races it); then
 * pass the stored map to fsn_meta_unlock. */
int		 fsn_meta_lock(struct fsn *n, json_t **meta);
/* Unlocks; newmeta (taken, may be NULL: unchanged) replaces the map. */
void		 fsn_meta_unlock(struct fsn *n, json_t *newmeta);

/* The POSIX attributes of a registry object into *st. */
void		 fsn_obj_stat(const void *obj, struct stat *st);

#endif /* ARKOR_FS_FS_NODE_H */
