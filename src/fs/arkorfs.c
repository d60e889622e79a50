/*
 * arkorfs.c - the Arkor FUSE file system: buckets as directories, keys
 * with '/' as paths. Talks to the registry (metadata, fs_reg) and the data
 * servers (fs_data) directly; open files live in fs_node.
 *
 *   arkorfs [options] REGISTRY MOUNTPOINT
 *
 * Layout: with --bucket B[/prefix] the mount root is that bucket (under
 * the prefix); otherwise every bucket the key may see is a top-level
 * directory. A directory is either a marker object "dir/" (what S3
 * consoles make for folders; mkdir creates one, holding the mode) or
 * implied by keys under "dir/". Rename of a file or a whole directory is
 * one registry transaction (object/rename, prefix/rename).
 *
 * libfuse3 high-level API, path based, multi-threaded: each FUSE thread
 * makes blocking HTTP calls on its own keep-alive connections.
 */
#include "config.h"

#define FUSE_USE_VERSION 32

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <linux/falloc.h>

#include <fuse.h>
#include <jansson.h>

#include "common/cfg.h"
#include "common/http_client.h"
#include "common/log.h"
#include "common/util.h"
#include "fs/fs_assign.h"
#include "fs/fs_data.h"
#include "fs/fs_fcache.h"
#include "fs/fs_ncache.h"
#include "fs/fs_dir.h"
#include "fs/fs_dstat.h"
#include "fs/fs_node.h"
#include "fs/fs_reg.h"
#include "fs/fs_unlink.h"
#include "fs/fs_xattr.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE	(1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE		(1 << 1)
#endif

#define AFS_XATTR_TRIES	5	/* object/setattr races lost in a row */

static const char *const afs_log_values[] = { "error", "warn", "info",
    "debug", NULL };

static const char	*opt_credentials, *opt_bucket, *opt_cache_dir;
static const char	*opt_options, *opt_file_mode_s, *opt_dir_mode_s;
static bool		 opt_read_only, opt_allow_other, opt_foreground;
static bool		 opt_debug, opt_xattr, opt_early_unlink;
static int64_t		 opt_uid, opt_gid, opt_threads, opt_window, opt_fid_pool;
static int64_t		 opt_file_mode, opt_dir_mode;
static int64_t		 opt_attr_timeout, opt_timeout;
static uint64_t		 opt_fragment_size, opt_cache_size;
static int		 opt_log_level;

static const struct ark_cfg_opt afs_opts[] = {
	{ "bucket", 'b', ARK_CFG_STR, NULL, 0, 0, NULL, "BUCKET[/PREFIX]",
	  "mount one bucket (under a key prefix); default: all as dirs", 0,
	  &opt_bucket },
	{ "credentials", 'c', ARK_CFG_STR, NULL, 0, 0, NULL, "FILE",
	  "access key file (arkorctl init output); default: environment",
	  0, &opt_credentials },
	{ "read-only", 'r', ARK_CFG_BOOL, "false", 0, 0, NULL, NULL,
	  "mount read-only", 0, &opt_read_only },
	{ "allow-other", 0, ARK_CFG_BOOL, "false", 0, 0, NULL, NULL,
	  "let other users access the mount", 0, &opt_allow_other },
	{ "uid", 0, ARK_CFG_INT, "-1", -1, UINT32_MAX - 1, NULL, "UID",
	  "owner shown for objects without one (-1: the mounting user)", 0,
	  &opt_uid },
	{ "gid", 0, ARK_CFG_INT, "-1", -1, UINT32_MAX - 1, NULL, "GID",
	  "group shown for objects without one (-1: the mounting group)", 0,
	  &opt_gid },
	{ "file-mode", 0, ARK_CFG_STR, "0644", 0, 0, NULL, "OCTAL",
	  "permissions of objects stored without a mode", 0,
	  &opt_file_mode_s },
	{ "dir-mode", 0, ARK_CFG_STR, "0755", 0, 0, NULL, "OCTAL",
	  "permissions of directories without a marker", 0,
	  &opt_dir_mode_s },
	{ "foreground", 'f', ARK_CFG_BOOL, "false", 0, 0, NULL, NULL,
	  "stay in the foreground", 0, &opt_foreground },
	{ "debug", 'd', ARK_CFG_BOOL, "false", 0, 0, NULL, NULL,
	  "log every FUSE request (implies --foreground)", 0, &opt_debug },
	{ "threads", 't', ARK_CFG_INT, "16", 1, 256, NULL, "N",
	  "FUSE threads and data workers each", 0, &opt_threads },
	{ "fragment-size", 0, ARK_CFG_SIZE, "8MiB", 65536, (int64_t)1 << 30,
	  NULL, "SIZE", "bytes per fragment written", 0, &opt_fragment_size },
	{ "window", 'w', ARK_CFG_INT, "4", 1, 64, NULL, "N",
	  "fragments in flight per file written", 0, &opt_window },
	{ "fid-pool", 0, ARK_CFG_INT, "32", 0, 256, NULL, "N",
	  "spare FileIDs kept for the next commits (0: one assign per commit)",
	  0, &opt_fid_pool },
	{ "cache-dir", 0, ARK_CFG_STR, "/var/tmp", 0, 0, NULL, "DIR",
	  "where changed files are staged and fragments cached", 0,
	  &opt_cache_dir },
	{ "cache-size", 0, ARK_CFG_SIZE, "1GiB", 0, (int64_t)1 << 50, NULL,
	  "SIZE", "fragments kept on local disk for reads (0: none)", 0,
	  &opt_cache_size },
	{ "attr-timeout", 0, ARK_CFG_DURATION, "1s", 0, 3600000, NULL, NULL,
	  "how long names and attributes are trusted", 0,
	  &opt_attr_timeout },
	{ "timeout", 0, ARK_CFG_DURATION, "30s", 100, 3600000, NULL, NULL,
	  "per registry or data-server request", 0, &opt_timeout },
	{ "xattr", 0, ARK_CFG_BOOL, "false", 0, 0, NULL, NULL,
	  "user. xattrs as S3 user metadata (costs a round trip per write)",
	  0, &opt_xattr },
	{ "early-unlink", 0, ARK_CFG_BOOL, "true", 0, 0, NULL, NULL,
	  "answer unlinks of known files at once, send them in batches", 0,
	  &opt_early_unlink },
	{ "options", 'o', ARK_CFG_STR, NULL, 0, 0, NULL, "OPTS",
	  "extra FUSE mount options, comma separated", 0, &opt_options },
	{ "log-level", 0, ARK_CFG_ENUM, "warn", 0, 0, afs_log_values, NULL,
	  "log verbosity", 0, &opt_log_level },
	{ NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL, 0, NULL },
};

static int64_t	 afs_mount_ms;		/* mtime of roots */
static char	*afs_bucket;		/* NULL: all buckets */
static char	*afs_prefix;		/* NULL, or ends with '/' */

/* ---- paths --------------------------------------------------------------- */

/* Splits a FUSE path into bucket and key (caller frees both). The key of
 * a bucket's root is "" (or the prefix). *key is NULL for the mount root
 * of an all-buckets mount. */
static int
afs_split(const char *path, char **bucket, char **key)
{
	const char *p = path + 1, *s;

	*bucket = *key = NULL;
	if (afs_bucket != NULL) {
		*bucket = ark_xstrdup(afs_bucket);
		*key = ark_xasprintf("%s%s", afs_prefix ? afs_prefix : "", p);
		return 0;
	}
	if (*p == '\0')
		return 0;
	if ((s = strchr(p, '/')) == NULL) {
		*bucket = ark_xstrdup(p);
		*key = ark_xstrdup("");
	} else {
		*bucket = ark_xstrndup(p, (size_t)(s - p));
		*key = ark_xstrdup(s + 1);
	}
	return 0;
}

/* 1 when s is UTF-8, as every registry key is (jansson checks). */
static int
afs_utf8(const char *s)
{
	json_t	*j = json_string(s);
	int	 ok = j != NULL;

	json_decref(j);
	return ok;
}

/* The list prefix for the children of directory key k. */
static char *
afs_dir_prefix(const char *k)
{
	if (*k == '\0' || k[strlen(k) - 1] == '/')
		return ark_xstrdup(k);
	return ark_xasprintf("%s/", k);
}

static void
afs_dir_stat(struct stat *st, mode_t mode, int64_t ms)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFDIR | (mode & 07777);
	st->st_nlink = 2;
	st->st_uid = (uid_t)opt_uid;
	st->st_gid = (gid_t)opt_gid;
	st->st_size = 4096;
	st->st_blksize = 4096;
	st->st_mtim.tv_sec = ms / 1000;
	st->st_mtim.tv_nsec = (ms % 1000) * 1000000;
	st->st_atim = st->st_ctim = st->st_mtim;
}

/* Directory test by listing one key under it: 0 when some key or marker
 * exists under it, -ENOENT when none, else an errno. *empty (may be
 * NULL) says whether only its marker is there. */
static int
afs_dir_probe(const char *bucket, const char *key, int *empty)
{
	char	*pfx = afs_dir_prefix(key);
	json_t	*r = NULL, *keys, *pfxs, *k0;
	int	 rc;

	rc = fsr_call("list", json_pack("{s:s, s:s, s:s, s:i}", "bucket",
	    bucket, "prefix", pfx, "delimiter", "/", "max_keys", 2), &r);
	if (rc == 0) {
		keys = json_object_get(r, "keys");
		pfxs = json_object_get(r, "prefixes");
		k0 = json_array_get(keys, 0);
		if (json_array_size(keys) + json_array_size(pfxs) == 0)
			rc = -ENOENT;
		else if (empty != NULL)
			*empty = json_array_size(pfxs) == 0 &&
			    json_array_size(keys) == 1 &&
			    strcmp(fsr_str(k0, "key"), pfx) == 0;
	}
	json_decref(r);
	free(pfx);
	return rc;
}

/* A name cache answer "absent" confirmed this recently counts as the
 * registry's own for a create that follows (fsn_absent). */
#define AFS_ABSENT_FRESH_MS	100

/* stat of (bucket, key) from open nodes or the registry; *isdir set. */
static int
afs_stat_key(const char *bucket, const char *key, struct stat *st)
{
	json_t	*o = NULL, *mk;
	int64_t	 age = 0;
	int	 rc;

	if (*key == '\0' || key[strlen(key) - 1] == '/') {
		/* A bucket root (or the prefix root). */
		if (afs_bucket == NULL && *key == '\0') {
			rc = fsr_call("bucket/get", json_pack("{s:s}",
			    "bucket", bucket), &o);
			if (rc != 0)
				return rc;
			afs_dir_stat(st, (mode_t)opt_dir_mode,
			    fsr_int(o, "created_ms"));
			json_decref(o);
			return 0;
		}
		afs_dir_stat(st, (mode_t)opt_dir_mode, afs_mount_ms);
		return 0;
	}
	if (fsn_stat_path(bucket, key, st) == 0 ||
	    fsds_get(bucket, key, st))
		return 0;
	switch (fsnc_lookup(bucket, key, &o, &age)) {
	case FSNC_STALE:
		/* Confirms (or drops) all the bucket's names at once. */
		(void)fsr_call("bucket/get", json_pack("{s:s}", "bucket",
		    bucket), NULL);
		if (fsnc_lookup(bucket, key, &o, &age) != FSNC_ABSENT) {
			if (o != NULL)
				break;
			goto ask;
		}
		/* FALLTHROUGH */
	case FSNC_ABSENT:
		/* Confirmed as recently as a registry answer: a create may
		 * trust it as it would trust that answer (fs_node.h). */
		fsn_absent(bucket, key, age >= AFS_ABSENT_FRESH_MS);
		return -ENOENT;
	case FSNC_HIT:
		break;
	case FSNC_MISS:
	ask:
		/* One call tells a file, a directory (objects under "key/",
		 * maybe a marker with its mode) and a missing name (the
		 * common case: create) apart. */
		rc = fsr_call("object/get", json_pack("{s:s, s:s, s:b}",
		    "bucket", bucket, "key", key, "dir", 1), &o);
		if (rc == -ENOENT)
			fsn_absent(bucket, key, 0);
		if (rc != 0)
			return rc;
		break;
	}
	if (!json_is_true(json_object_get(o, "dir"))) {
		fsn_obj_stat(o, st);
		json_decref(o);
		return 0;
	}
	afs_dir_stat(st, (mode_t)opt_dir_mode, afs_mount_ms);
	if ((mk = json_object_get(o, "marker")) != NULL) {
		int64_t mode = fsr_int(mk, "mode");

		afs_dir_stat(st, (mode & S_IFMT) == S_IFDIR ? (mode_t)mode :
		    (mode_t)opt_dir_mode, fsr_int(mk, "mtime_ms"));
		if (fsr_int(mk, "uid") != 0)
			st->st_uid = (uid_t)fsr_int(mk, "uid");
		if (fsr_int(mk, "gid") != 0)
			st->st_gid = (gid_t)fsr_int(mk, "gid");
	}
	fsds_put(bucket, key, st, mk == NULL);
	json_decref(o);
	return 0;
}

/* 1 with *st when the caches (no registry call) know key as a directory:
 * its attribute change goes to the marker at once. */
static int
afs_cached_dir(const char *bucket, const char *key, struct stat *st)
{
	json_t	*o = NULL;
	int	 dir;

	if (fsds_get(bucket, key, st))
		return S_ISDIR(st->st_mode);
	if (fsnc_lookup(bucket, key, &o, NULL) != FSNC_HIT)
		return 0;
	dir = json_is_true(json_object_get(o, "dir"));
	json_decref(o);
	return dir && afs_stat_key(bucket, key, st) == 0 &&
	    S_ISDIR(st->st_mode);
}

/* The size and mtime (ms) the name cache holds for file key, which the
 * kernel may hold too: 1, or 0 when it knows no file there. */
static int
afs_cached_file(const char *bucket, const char *key, int64_t *size,
    int64_t *mtime_ms)
{
	json_t	*o = NULL;
	int	 file;

	if (fsnc_lookup(bucket, key, &o, NULL) != FSNC_HIT)
		return 0;
	file = json_is_integer(json_object_get(o, "size"));
	*size = fsr_int(o, "size");
	*mtime_ms = fsr_int(o, "mtime_ms");
	json_decref(o);
	return file;
}

/* ---- FUSE operations ----------------------------------------------------- */

static void *
afs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	double t = (double)opt_attr_timeout / 1000.0;

	cfg->use_ino = 0;
	/* An unlinked (or renamed over) file still open is renamed to
	 * .fuse_hidden* and removed at its last release: its handles keep
	 * working (with a removed name, libfuse answers a getattr without
	 * a handle, as fstat sends, with ESTALE). */
	cfg->hard_remove = 0;
	cfg->attr_timeout = t;
	cfg->entry_timeout = t;
	cfg->negative_timeout = 0;
	/* Calls on an open file get no path (NULL): they address its
	 * node, which follows renames; libfuse builds no path for them. */
	cfg->nullpath_ok = 1;
	conn->max_write = 1u << 20;
	conn->max_readahead = 1u << 20;
	if (conn->capable & FUSE_CAP_ASYNC_READ)
		conn->want |= FUSE_CAP_ASYNC_READ;
	return NULL;
}

/* What a setattr just stored, for the getattr libfuse makes right after
 * it on the same thread (its reply carries the attributes): no second
 * registry call. */
static _Thread_local struct {
	int		 valid;
	char		 path[PATH_MAX];
	struct stat	 st;
} afs_set;

/* getattr: 0 with *st, -ENOENT, -EIO when the registry is unreachable. */
static int
afs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	char	*b, *k;
	int	 rc, just_set;

	/* After a setattr, libfuse's getattr of the same path comes next on
	 * this thread: what the setattr stored, once. */
	just_set = afs_set.valid && path != NULL &&
	    strcmp(afs_set.path, path) == 0;
	afs_set.valid = 0;
	if (fi != NULL && fi->fh != 0) {
		fsn_stat((struct fsn *)(uintptr_t)fi->fh, st);
		return 0;
	}
	if (just_set) {
		*st = afs_set.st;
		return 0;
	}
	afs_split(path, &b, &k);
	if (k == NULL) {
		afs_dir_stat(st, (mode_t)opt_dir_mode, afs_mount_ms);
		rc = 0;
	} else
		rc = afs_stat_key(b, k, st);
	free(b);
	free(k);
	return rc;
}

static int
afs_opendir(const char *path, struct fuse_file_info *fi)
{
	char	*b, *k, *pfx;

	afs_split(path, &b, &k);
	pfx = k != NULL ? afs_dir_prefix(k) : NULL;
	fi->fh = (uint64_t)(uintptr_t)fsdir_open(b, pfx);
	free(pfx);
	free(b);
	free(k);
	return 0;
}

static int
afs_releasedir(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	fsdir_close((struct fsdir *)(uintptr_t)fi->fh);
	return 0;
}

/* readdir from offset off (0, or the cookie of the last entry the kernel
 * took: "." is 1, ".." 2, entry i of the stream i + 3), as fs_dir.h
 * pages through the listing. For readdirplus a key carries its full
 * attributes from the listing (an open file's unsaved size from its
 * node), so `ls -l` needs no lookup per file; directories and buckets
 * are looked up as before. 0 or a negative errno. */
static int
afs_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
    struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	struct fsdir	*d = (struct fsdir *)(uintptr_t)fi->fh;
	struct fsdir_ent e;
	struct stat	 st;
	uint64_t	 i;
	const char	*b;
	int		 rc = 0, plus = (flags & FUSE_READDIR_PLUS) != 0;

	if (off == 0)
		fsdir_rewind(d);	/* rewinddir: what is there now */
	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFDIR;		/* d_type DT_DIR */
	if (off < 1 && filler(buf, ".", &st, 1, 0) != 0)
		return 0;
	if (off < 2 && filler(buf, "..", &st, 2, 0) != 0)
		return 0;
	(void)path;			/* NULL: nullpath_ok */
	b = fsdir_bucket(d);
	for (i = off < 2 ? 0 : (uint64_t)off - 2;
	    (rc = fsdir_get(d, i, &e)) == 0; i++) {
		enum fuse_fill_dir_flags ff = 0;

		memset(&st, 0, sizeof(st));
		switch (e.kind) {
		case FSDIR_BUCKET:
			afs_dir_stat(&st, (mode_t)opt_dir_mode,
			    fsr_int(e.obj, "created_ms"));
			break;
		case FSDIR_DIR:
			st.st_mode = S_IFDIR;
			break;
		case FSDIR_FILE:
			st.st_mode = S_IFREG;
			if (plus && json_object_get(e.obj, "mode") != NULL) {
				if (fsn_stat_path(b, e.key, &st) != 0)
					fsn_obj_stat(e.obj, &st);
				ff = FUSE_FILL_DIR_PLUS;
			}
			break;
		}
		if (filler(buf, e.name, &st, (off_t)i + 3, ff) != 0)
			break;
	}
	return rc < 0 ? rc : 0;
}

static int
afs_mkdir(const char *path, mode_t mode)
{
	struct fuse_context *cx = fuse_get_context();
	char	*b, *k, *m;
	int	 rc;

	afs_split(path, &b, &k);
	if (k == NULL || *k == '\0') {
		rc = afs_bucket == NULL && k != NULL ? -EPERM : -EEXIST;
		goto out;
	}
	m = ark_xasprintf("%s/", k);
	rc = fsr_call("object/put", json_pack("{s:s, s:s, s:i, s:I, s:I, "
	    "s:I, s:I, s:[], s:i, s:b}", "bucket", b, "key", m, "size", 0, "mode",
	    (json_int_t)(S_IFDIR | (mode & 07777)), "uid", (json_int_t)cx->uid,
	    "gid", (json_int_t)cx->gid, "mtime_ms", (json_int_t)ark_now_ms(),
	    "fragments", "if_version", 0, "durable", 0), NULL);
	if (rc == -ESTALE)
		rc = -EEXIST;
	fsds_clear();
	free(m);
out:
	free(b);
	free(k);
	return rc;
}

static int
afs_rmdir(const char *path)
{
	char	*b, *k, *m;
	int	 rc, empty = 0;

	afs_split(path, &b, &k);
	if (k == NULL || *k == '\0') {
		rc = -EBUSY;
		goto out;
	}
	m = ark_xasprintf("%s/", k);
	/* A file created and still open there is not in the registry. */
	rc = fsn_any_under(b, m) ? -ENOTEMPTY : afs_dir_probe(b, k, &empty);
	free(m);
	if (rc == -ENOENT) {
		rc = 0;		/* implied dirs vanish with their last key */
		goto out;
	}
	if (rc == 0 && !empty)
		rc = -ENOTEMPTY;
	if (rc == 0) {
		m = ark_xasprintf("%s/", k);
		rc = fsr_call("object/delete", json_pack("{s:s, s:s, s:b}",
		    "bucket", b, "key", m, "durable", 0), NULL);
		if (rc == -ENOENT)
			rc = 0;
		free(m);
	}
	fsds_clear();
out:
	free(b);
	free(k);
	return rc;
}

/* An unlink answered before the registry has it (fs_unlink.h): of a
 * file not open in this mount that the name cache holds. 0 when queued,
 * else -EAGAIN: delete synchronously. */
static int
afs_unlink_early(const char *bucket, const char *key)
{
	struct fsn	*n;
	json_t		*o;
	int		 rc = -EAGAIN;

	if ((n = fsn_find(bucket, key)) != NULL) {
		fsn_release(n);
		return -EAGAIN;
	}
	if (fsnc_lookup(bucket, key, &o, NULL) != FSNC_HIT)
		return -EAGAIN;
	if (json_object_get(o, "dir") == NULL)
		rc = fsul_queue(bucket, key);
	json_decref(o);
	return rc;
}

static int
afs_unlink(const char *path)
{
	char	*b, *k;
	int	 rc;

	afs_split(path, &b, &k);
	if (k == NULL || *k == '\0') {
		rc = -EISDIR;
		goto out;
	}
	if ((rc = afs_unlink_early(b, k)) != -EAGAIN)
		goto done;
	rc = fsr_call("object/delete", json_pack("{s:s, s:s, s:b}", "bucket",
	    b, "key", k, "durable", 0), NULL);
	if (rc == 0 || rc == -ENOENT)
		fsul_allow(b);		/* this key may delete here */
	if (rc == -ENOENT) {
		/* A new file not committed yet is only in the table. */
		struct fsn *n = fsn_find(b, k);

		if (n != NULL) {
			fsn_release(n);
			rc = 0;
		}
	}
done:
	if (rc == 0) {
		fsn_unlinked(b, k);
		fsds_unlinked(b, k);
	}
out:
	free(b);
	free(k);
	return rc;
}

static int
afs_is_dir(const char *bucket, const char *key, int *isdir)
{
	struct stat	 st;
	int		 rc = afs_stat_key(bucket, key, &st);

	if (rc == 0)
		*isdir = S_ISDIR(st.st_mode);
	return rc;
}

/*
 * libfuse hides a file unlinked (or renamed over) while open: it renames
 * it to .fuse_hidden<ids> and unlinks that at the last release. Before
 * libfuse 3.15 a release that comes in while the hiding rename is under
 * way misses it (libfuse issue 746): the hidden object would stay
 * forever. So arkorfs removes a hidden file itself once it is hidden and
 * its last handle is gone, whichever comes second: afs_release (the node
 * was hidden) or afs_rename (the node was released before it moved).
 * libfuse's own unlink of it then finds nothing, which it ignores.
 */
static int
afs_is_hidden(const char *key)
{
	const char *base = strrchr(key, '/');

	base = base != NULL ? base + 1 : key;
	return strncmp(base, ".fuse_hidden", 12) == 0;
}

static void
afs_hidden_gone(const char *bucket, const char *key)
{
	int rc;

	if (!afs_is_hidden(key))
		return;
	rc = fsr_call("object/delete", json_pack("{s:s, s:s, s:b}", "bucket",
	    bucket, "key", key, "durable", 0), NULL);
	if (rc != 0 && rc != -ENOENT)
		ark_log_warnx("hidden %s/%s stays: %s", bucket, key,
		    strerror(-rc));
}

/* After a rename to (bucket, key): a hidden file whose last handle is
 * already gone goes now (afs_hidden_gone). */
static void
afs_hide_check(const char *bucket, const char *key)
{
	struct fsn	*n;
	char		*b, *k;

	if (!afs_is_hidden(key))
		return;
	if ((n = fsn_find(bucket, key)) == NULL)
		afs_hidden_gone(bucket, key);
	else if (fsn_release_name(n, &b, &k)) {
		afs_hidden_gone(b, k);
		free(b);
		free(k);
	}
}

/* rename: one registry transaction. A directory moves with every key
 * under it (prefix/rename), open files move with it. */
static int
afs_rename(const char *from, const char *to, unsigned int flags)
{
	char	*sb, *sk, *db, *dk, *sp = NULL, *dp = NULL;
	int	 rc, sdir = 0, ddir = 0, dexists, empty = 0;
	struct fsn *n;

	if (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	afs_split(from, &sb, &sk);
	afs_split(to, &db, &dk);
	if (sk == NULL || dk == NULL || *sk == '\0' || *dk == '\0') {
		rc = -EBUSY;
		goto out;
	}
	if ((rc = afs_is_dir(sb, sk, &sdir)) != 0)
		goto out;
	dexists = afs_is_dir(db, dk, &ddir) == 0;
	if ((flags & RENAME_EXCHANGE) && (sdir || ddir)) {
		rc = -EINVAL;
		goto out;
	}
	if (!sdir) {
		if (dexists && ddir) {
			rc = -EISDIR;
			goto out;
		}
		if ((n = fsn_find(sb, sk)) != NULL) {
			rc = fsn_flush(n);
			fsn_release(n);
			if (rc != 0)
				goto out;
		}
		if ((flags & RENAME_EXCHANGE) && (n = fsn_find(db, dk)) !=
		    NULL) {
			rc = fsn_flush(n);
			fsn_release(n);
			if (rc != 0)
				goto out;
		}
		rc = fsr_call("object/rename", json_pack("{s:s, s:s, s:s, "
		    "s:s, s:b, s:b, s:b}", "src_bucket", sb, "src_key", sk,
		    "bucket", db, "key", dk, "noreplace",
		    (flags & RENAME_NOREPLACE) != 0, "exchange",
		    (flags & RENAME_EXCHANGE) != 0, "durable", 0), NULL);
		if (rc == 0 && (flags & RENAME_EXCHANGE)) {
			char *tmp = ark_xasprintf("%s\x01x", sk);

			fsn_renamed(sb, sk, sb, tmp, 0);
			fsn_renamed(db, dk, sb, sk, 0);
			fsn_renamed(sb, tmp, db, dk, 0);
			free(tmp);
		} else if (rc == 0) {
			fsn_renamed(sb, sk, db, dk, 0);
			afs_hide_check(db, dk);
		}
		goto out;
	}
	/* Directories. */
	if (dexists && !ddir) {
		rc = -ENOTDIR;
		goto out;
	}
	sp = afs_dir_prefix(sk);
	dp = afs_dir_prefix(dk);
	if (strcmp(sb, db) == 0 && strncmp(dp, sp, strlen(sp)) == 0) {
		rc = -EINVAL;		/* into itself */
		goto out;
	}
	if (dexists) {
		if (flags & RENAME_NOREPLACE) {
			rc = -EEXIST;
			goto out;
		}
		rc = fsn_any_under(db, dp) ? -ENOTEMPTY :
		    afs_dir_probe(db, dk, &empty);
		if (rc == 0 && !empty)
			rc = -ENOTEMPTY;
		if (rc == -ENOTEMPTY)
			goto out;
		/* An empty destination dir is only its marker: drop it. */
		rc = fsr_call("object/delete", json_pack("{s:s, s:s}",
		    "bucket", db, "key", dp), NULL);
		if (rc != 0 && rc != -ENOENT)
			goto out;
	}
	if ((rc = fsn_flush_prefix(sb, sp)) != 0)
		goto out;
	rc = fsr_call("prefix/rename", json_pack("{s:s, s:s, s:s, s:s, s:b}",
	    "src_bucket", sb, "src_prefix", sp, "bucket", db, "prefix", dp,
	    "noreplace", 1), NULL);
	if (rc == 0)
		fsn_renamed(sb, sp, db, dp, 1);
out:
	fsds_clear();		/* a dir moved, or an implied one emptied */
	free(sp);
	free(dp);
	free(sb);
	free(sk);
	free(db);
	free(dk);
	return rc;
}

/* chmod/chown/utimens of a path: kept with unsaved changes of an open
 * node, else stored (object/setattr, which answers the new attributes;
 * a mode without type bits keeps the stored type). A name that is no
 * object may be a directory: its marker is changed, or made. */
static int
afs_setattr(const char *path, struct fuse_file_info *fi, mode_t mode,
    uid_t uid, gid_t gid, int64_t mtime_ms)
{
	struct fsn	*n = NULL;
	struct stat	 st;
	char		*b, *k, *m = NULL;
	json_t		*q, *res = NULL;
	int		 rc, deferred = 0;

	if (fi != NULL && fi->fh != 0) {
		/* An open file (path NULL, nullpath_ok): its node's name. */
		n = (struct fsn *)(uintptr_t)fi->fh;
		fsn_setattr(n, mode, uid, gid, mtime_ms, &deferred);
		if (deferred || fsn_name(n, &b, &k) != 0)
			return 0;	/* with its commit, or unlinked */
		n = NULL;
	} else {
		afs_split(path, &b, &k);
		if (k == NULL || *k == '\0') {
			rc = 0;		/* roots: nothing stored */
			goto out;
		}
		if ((n = fsn_find(b, k)) != NULL) {
			fsn_setattr(n, mode, uid, gid, mtime_ms, &deferred);
			fsn_release(n);
		}
		if (deferred) {
			rc = 0;
			goto out;
		}
	}
	q = json_pack("{s:s, s:s, s:b}", "bucket", b, "key", k, "durable", 0);
	if (mode != (mode_t)-1)
		json_object_set_new(q, "mode", json_integer(mode & 07777));
	if (uid != (uid_t)-1)
		json_object_set_new(q, "uid", json_integer(uid));
	if (gid != (gid_t)-1)
		json_object_set_new(q, "gid", json_integer(gid));
	if (mtime_ms >= 0)
		json_object_set_new(q, "mtime_ms", json_integer(mtime_ms));
	if (afs_cached_dir(b, k, &st)) {
		/* A directory: its marker at once (tar restores every
		 * directory's times, owner and mode). No marker (implied),
		 * or no directory any more: the way below. */
		m = ark_xasprintf("%s/", k);
		json_object_set_new(q, "key", json_string(m));
		if ((rc = fsr_call("object/setattr", json_incref(q), NULL)) ==
		    -ENOENT) {
			free(m);
			m = NULL;
			json_object_set_new(q, "key", json_string(k));
		}
	}
	if (m == NULL &&
	    (rc = fsr_call("object/setattr", json_incref(q), &res)) == 0) {
		afs_set.valid = path != NULL &&
		    strlen(path) < sizeof(afs_set.path);
		if (afs_set.valid) {
			memcpy(afs_set.path, path, strlen(path) + 1);
			fsn_obj_stat(res, &afs_set.st);
		}
	} else if (m == NULL && rc == -ENOENT) {
		/* No such object: a directory (its marker), or nothing. */
		if ((rc = afs_stat_key(b, k, &st)) == 0 &&
		    !S_ISDIR(st.st_mode))
			rc = -ENOENT;	/* raced with its removal */
		else if (rc == 0) {
			m = ark_xasprintf("%s/", k);
			json_object_set_new(q, "key", json_string(m));
			rc = fsr_call("object/setattr", json_incref(q), NULL);
		}
	}
	json_decref(q);
	json_decref(res);
	if (m != NULL)
		fsds_clear();	/* a directory's attributes changed */
	if (rc == -ENOENT && m != NULL) {
		/* An implied directory: give it a marker. */
		rc = fsr_call("object/put", json_pack("{s:s, s:s, s:i, s:I, "
		    "s:I, s:I, s:I, s:[]}", "bucket", b, "key", m, "size", 0,
		    "mode", (json_int_t)(S_IFDIR | ((mode != (mode_t)-1 ? mode :
		    st.st_mode) & 07777)), "uid", (json_int_t)(uid != (uid_t)-1 ?
		    uid : st.st_uid), "gid", (json_int_t)(gid != (gid_t)-1 ? gid :
		    st.st_gid), "mtime_ms", (json_int_t)(mtime_ms >= 0 ?
		    mtime_ms : ark_now_ms()), "fragments"), NULL);
	}
out:
	free(m);
	free(b);
	free(k);
	return rc;
}

static int
afs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	return afs_setattr(path, fi, mode, (uid_t)-1, (gid_t)-1, -1);
}

static int
afs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	return afs_setattr(path, fi, (mode_t)-1, uid, gid, -1);
}

static int
afs_utimens(const char *path, const struct timespec tv[2],
    struct fuse_file_info *fi)
{
	int64_t ms;

	if (tv == NULL || tv[1].tv_nsec == UTIME_NOW)
		ms = ark_now_ms();
	else if (tv[1].tv_nsec == UTIME_OMIT)
		return 0;
	else
		ms = (int64_t)tv[1].tv_sec * 1000 + tv[1].tv_nsec / 1000000;
	return afs_setattr(path, fi, (mode_t)-1, (uid_t)-1, (gid_t)-1, ms);
}

static int
afs_do_open(const char *path, struct fuse_file_info *fi, int create,
    mode_t mode)
{
	struct fuse_context *cx = fuse_get_context();
	struct fsn	*n;
	struct stat	 st;
	char		*b, *k;
	int64_t		 size = -1, mtime_ms = -1;
	int		 rc, keep, known;

	afs_split(path, &b, &k);
	if (k == NULL || *k == '\0' || k[strlen(k) - 1] == '/') {
		rc = -EISDIR;
		goto out;
	}
	if (create && !afs_utf8(k)) {
		rc = -EINVAL;		/* no key could hold it: refuse now,
					 * not at close */
		goto out;
	}
	/* What the kernel may hold, before the open's registry call. */
	known = !create && afs_cached_file(b, k, &size, &mtime_ms);
	rc = fsn_open(b, k, !create ? 0 : (fi->flags & O_EXCL) ? FSN_EXCL :
	    FSN_CREATE, (fi->flags & O_TRUNC) != 0, mode,
	    cx->uid, cx->gid, &n, &keep);
	if (rc == 0) {
		fi->fh = (uint64_t)(uintptr_t)n;
		fi->keep_cache = keep != 0;
		/* A version the kernel may not have seen (changed elsewhere
		 * since the lookup it holds, up to the attribute timeout
		 * old): the size it has would cut reads of the new content
		 * short. Its pages go anyway without keep_cache. */
		if (!keep && !create) {
			fsn_stat(n, &st);
			if (!known || st.st_size != size ||
			    (int64_t)st.st_mtim.tv_sec * 1000 +
			    st.st_mtim.tv_nsec / 1000000 != mtime_ms)
				(void)fuse_invalidate_path(cx->fuse, path);
		}
	}
out:
	free(b);
	free(k);
	return rc;
}

static int
afs_open(const char *path, struct fuse_file_info *fi)
{
	return afs_do_open(path, fi, 0, 0);
}

static int
afs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	return afs_do_open(path, fi, 1, mode);
}

static int
afs_read(const char *path, char *buf, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	(void)path;
	return fsn_read((struct fsn *)(uintptr_t)fi->fh, buf, size, off);
}

static int
afs_write(const char *path, const char *buf, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	(void)path;
	return fsn_write((struct fsn *)(uintptr_t)fi->fh, buf, size, off);
}

static int
afs_flush(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	return fsn_flush((struct fsn *)(uintptr_t)fi->fh);
}

static int
afs_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	(void)path;
	(void)datasync;
	return fsn_fsync((struct fsn *)(uintptr_t)fi->fh);
}

static int
afs_release(const char *path, struct fuse_file_info *fi)
{
	struct fsn	*n = (struct fsn *)(uintptr_t)fi->fh;
	char		*b, *k;

	(void)path;
	/* flush already committed (its error reached close()); this is
	 * for handles closed without flush, e.g. after a failed commit. */
	fsn_flush(n);
	if (fsn_release_name(n, &b, &k)) {
		afs_hidden_gone(b, k);
		free(b);
		free(k);
	}
	return 0;
}

/* fallocate: mode 0 grows the file (a hole: object storage reserves
 * nothing ahead); FALLOC_FL_KEEP_SIZE has nothing to do; punching and
 * zeroing ranges are not supported. */
static int
afs_fallocate(const char *path, int mode, off_t off, off_t len,
    struct fuse_file_info *fi)
{
	(void)path;
	if (mode & ~FALLOC_FL_KEEP_SIZE)
		return -EOPNOTSUPP;
	if (mode & FALLOC_FL_KEEP_SIZE)
		return 0;
	/* off >= 0, len > 0, no overflow: vfs_fallocate checked them. */
	return fsn_extend((struct fsn *)(uintptr_t)fi->fh, off + len);
}

static int
afs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	struct fsn	*n;
	char		*b, *k;
	int		 rc, keep;

	/* What a chmod of the same SETATTR stored is older than this. */
	afs_set.valid = 0;
	if (fi != NULL && fi->fh != 0)
		return fsn_truncate((struct fsn *)(uintptr_t)fi->fh, size);
	afs_split(path, &b, &k);
	if (k == NULL || *k == '\0') {
		rc = -EISDIR;
		goto out;
	}
	if ((rc = fsn_open(b, k, 0, 0, 0, 0, 0, &n, &keep)) != 0)
		goto out;
	if ((rc = fsn_truncate(n, size)) == 0)
		rc = fsn_flush(n);
	fsn_release(n);
out:
	free(b);
	free(k);
	return rc;
}

/* A new object at path of `mode` holding `content` (may be NULL),
 * committed at once: symlinks, FIFOs, sockets. */
static int
afs_make(const char *path, mode_t mode, const char *content)
{
	struct fuse_context *cx = fuse_get_context();
	struct fsn	*n;
	char		*b, *k;
	int		 rc, keep;

	afs_split(path, &b, &k);
	if (k == NULL || *k == '\0') {
		rc = -EEXIST;
		goto out;
	}
	if (!afs_utf8(k)) {
		rc = -EINVAL;
		goto out;
	}
	rc = fsn_open(b, k, FSN_CREATE, 1, mode, cx->uid, cx->gid, &n, &keep);
	if (rc != 0)
		goto out;
	if (content != NULL)
		rc = fsn_write(n, content, strlen(content), 0);
	if (rc >= 0)
		rc = fsn_flush(n);
	fsn_release(n);
out:
	free(b);
	free(k);
	return rc;
}

static int
afs_symlink(const char *target, const char *path)
{
	return afs_make(path, S_IFLNK | 0777, target);
}

/* mknod: FIFOs and sockets are empty objects with their type in the mode
 * (as s3fs and JuiceFS store them; the kernel implements them, nothing
 * goes through the mount). Devices would need their numbers kept: EPERM,
 * as on file systems that cannot hold them. */
static int
afs_mknod(const char *path, mode_t mode, dev_t rdev)
{
	(void)rdev;
	if (!S_ISFIFO(mode) && !S_ISSOCK(mode) && !S_ISREG(mode))
		return -EPERM;
	return afs_make(path, mode, NULL);
}

/* access(2) and chdir, sent only on mounts without default_permissions:
 * mounted by root for root alone (afs_kernel_checks), so root's rules:
 * everything but executing a file no one may execute. */
static int
afs_access(const char *path, int mask)
{
	struct stat	st;
	int		rc;

	if ((rc = afs_getattr(path, &st, NULL)) != 0)
		return rc;
	if ((mask & X_OK) && !S_ISDIR(st.st_mode) && (st.st_mode & 0111) == 0)
		return -EACCES;
	return 0;
}

static int
afs_readlink(const char *path, char *buf, size_t size)
{
	struct fsn	*n;
	char		*b, *k;
	int		 rc, keep;

	if (size == 0)
		return -EINVAL;
	afs_split(path, &b, &k);
	if (k == NULL || *k == '\0') {
		rc = -EINVAL;
		goto out;
	}
	if ((rc = fsn_open(b, k, 0, 0, 0, 0, 0, &n, &keep)) != 0)
		goto out;
	rc = fsn_read(n, buf, size - 1, 0);
	fsn_release(n);
	if (rc >= 0) {
		buf[rc] = '\0';
		rc = 0;
	}
out:
	free(b);
	free(k);
	return rc;
}

static int
afs_statfs(const char *path, struct statvfs *sv)
{
	json_t	*r = NULL;
	int64_t	 groups, servers, rep;
	int	 rc;

	(void)path;
	if ((rc = fsr_call("stat", json_object(), &r)) != 0)
		return rc;
	memset(sv, 0, sizeof(*sv));
	groups = fsr_int(r, "groups");
	servers = fsr_int(r, "servers");
	rep = groups > 0 && servers >= groups ? servers / groups : 1;
	sv->f_bsize = 4096;
	sv->f_frsize = 4096;
	sv->f_blocks = (fsblkcnt_t)(fsr_int(r, "capacity") / rep / 4096);
	sv->f_bfree = (fsblkcnt_t)(fsr_int(r, "free") / rep / 4096);
	sv->f_bavail = sv->f_bfree;
	sv->f_files = (fsfilcnt_t)fsr_int(r, "objects") + 1000000;
	sv->f_ffree = 1000000;
	sv->f_favail = sv->f_ffree;
	/* The registry bounds a whole key at 1,024 bytes: promise the
	 * usual NAME_MAX (s3fs does too), which fits in any directory up
	 * to 768 bytes deep; longer names work where they fit. */
	sv->f_namemax = 255;
	json_decref(r);
	return 0;
}

static int
afs_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi)
{
	(void)path;
	(void)datasync;
	(void)fi;
	return fsr_sync();	/* the lazy creates, unlinks, mkdirs */
}

/* ---- extended attributes ------------------------------------------------ */

/* The registry object that holds the attributes of (bucket, key): the
 * file, or a directory's marker. 0 with *okey (caller frees) and *o
 * (caller owns; NULL for an implied directory, whose marker *okey names
 * and does not exist yet); -ENOENT; an errno. */
static int
afs_xattr_obj(const char *b, const char *k, char **okey, json_t **o)
{
	char	*m;
	int	 rc;

	*okey = NULL;
	*o = NULL;
	rc = fsr_call("object/get", json_pack("{s:s, s:s}", "bucket", b,
	    "key", k), o);
	if (rc == 0) {
		*okey = ark_xstrdup(k);
		return 0;
	}
	if (rc != -ENOENT)
		return rc;
	m = ark_xasprintf("%s/", k);
	rc = fsr_call("object/get", json_pack("{s:s, s:s}", "bucket", b,
	    "key", m), o);
	if (rc == -ENOENT)
		rc = afs_dir_probe(b, k, NULL);
	if (rc == 0)
		*okey = m;
	else
		free(m);
	return rc;
}

/* The user_meta of registry object o (NULL: none), borrowed. */
static json_t *
afs_user_meta(json_t *o)
{
	json_t *m = json_object_get(o, "user_meta");

	return json_is_object(m) ? m : NULL;
}

struct afs_xop {
	const char	*name;
	const char	*value;		/* NULL: removexattr */
	size_t		 len;
	int		 flags;
};

static int
afs_xop_apply(json_t *meta, const struct afs_xop *op)
{
	if (op->value == NULL)
		return fsx_remove(meta, op->name);
	return fsx_set(meta, op->name, op->value, op->len, op->flags);
}

/* setxattr/removexattr: a node with unsaved changes keeps the new map
 * for its commit; otherwise object/setattr stores it under if_version
 * (metadata only: no data is rewritten), retried when another writer
 * committed in between. An implied directory gets a marker. */
static int
afs_xattr_change(const char *path, const struct afs_xop *op)
{
	struct fsn	*n = NULL;
	char		*b, *k, *okey = NULL;
	json_t		*meta = NULL, *o = NULL, *q;
	int		 rc = -EIO, tries;

	afs_split(path, &b, &k);
	if (k == NULL || *k == '\0' || k[strlen(k) - 1] == '/') {
		/* Roots have no object to hold attributes. */
		meta = json_object();
		rc = afs_xop_apply(meta, op);
		if (rc == 0)
			rc = -ENOTSUP;
		goto out;
	}
	if ((n = fsn_find(b, k)) != NULL && fsn_meta_lock(n, &meta)) {
		rc = afs_xop_apply(meta, op);
		meta = NULL;
		fsn_meta_unlock(n, NULL);
		goto out;
	}
	meta = NULL;
	for (tries = 0; tries < AFS_XATTR_TRIES; tries++) {
		free(okey);
		json_decref(o);
		json_decref(meta);
		meta = NULL;
		if ((rc = afs_xattr_obj(b, k, &okey, &o)) != 0)
			break;
		meta = afs_user_meta(o) != NULL ?
		    json_deep_copy(afs_user_meta(o)) : json_object();
		if ((rc = afs_xop_apply(meta, op)) != 0)
			break;
		if (o != NULL)
			q = json_pack("{s:s, s:s, s:O, s:I}", "bucket", b, "key",
			    okey, "user_meta", meta, "if_version",
			    (json_int_t)fsr_int(o, "version"));
		else
			q = json_pack("{s:s, s:s, s:i, s:I, s:I, s:I, s:I, "
			    "s:[], s:O, s:i}", "bucket", b, "key", okey, "size",
			    0, "mode", (json_int_t)(S_IFDIR | opt_dir_mode),
			    "uid", (json_int_t)opt_uid, "gid",
			    (json_int_t)opt_gid, "mtime_ms",
			    (json_int_t)ark_now_ms(), "fragments", "user_meta",
			    meta, "if_version", 0);
		rc = fsr_call(o != NULL ? "object/setattr" : "object/put", q,
		    NULL);
		if (rc != -ESTALE)
			break;
	}
	if (rc == -ESTALE)
		rc = -EBUSY;
	if (n != NULL) {
		fsn_meta_unlock(n, rc == 0 ? meta : NULL);
		if (rc == 0)
			meta = NULL;
	}
out:
	fsn_release(n);
	json_decref(meta);
	json_decref(o);
	free(okey);
	free(b);
	free(k);
	return rc;
}

static int
afs_setxattr(const char *path, const char *name, const char *value,
    size_t size, int flags)
{
	struct afs_xop op = { name, value != NULL ? value : "", size, flags };

	return afs_xattr_change(path, &op);
}

static int
afs_removexattr(const char *path, const char *name)
{
	struct afs_xop op = { name, NULL, 0, 0 };

	return afs_xattr_change(path, &op);
}

/* getxattr (name set) or listxattr (name NULL) of path. The kernel asks
 * for security.capability before every write: other namespaces answer
 * at once, without the registry. */
static int
afs_xattr_read(const char *path, const char *name, char *buf, size_t size)
{
	struct fsn	*n;
	char		*b, *k, *okey = NULL;
	json_t		*meta, *o = NULL;
	int		 rc;

	if (name != NULL && strncmp(name, "user.", 5) != 0)
		return -ENOTSUP;
	afs_split(path, &b, &k);
	if (k == NULL || *k == '\0' || k[strlen(k) - 1] == '/') {
		rc = name != NULL ? -ENODATA : 0;
		goto out;
	}
	if ((n = fsn_find(b, k)) != NULL) {
		if (fsn_meta_lock(n, &meta)) {
			rc = name != NULL ? fsx_get(meta, name, buf, size) :
			    fsx_list(meta, buf, size);
			fsn_meta_unlock(n, NULL);
			fsn_release(n);
			goto out;
		}
		fsn_meta_unlock(n, NULL);
		fsn_release(n);
	}
	if ((rc = afs_xattr_obj(b, k, &okey, &o)) == 0)
		rc = name != NULL ? fsx_get(afs_user_meta(o), name, buf, size) :
		    fsx_list(afs_user_meta(o), buf, size);
out:
	json_decref(o);
	free(okey);
	free(b);
	free(k);
	return rc;
}

static int
afs_getxattr(const char *path, const char *name, char *value, size_t size)
{
	return afs_xattr_read(path, name, value, size);
}

static int
afs_listxattr(const char *path, char *list, size_t size)
{
	return afs_xattr_read(path, NULL, list, size);
}

static struct fuse_operations afs_ops = {
	.init		= afs_init,
	.getattr	= afs_getattr,
	.access		= afs_access,
	.opendir	= afs_opendir,
	.releasedir	= afs_releasedir,
	.readdir	= afs_readdir,
	.mkdir		= afs_mkdir,
	.rmdir		= afs_rmdir,
	.unlink		= afs_unlink,
	.rename		= afs_rename,
	.chmod		= afs_chmod,
	.chown		= afs_chown,
	.utimens	= afs_utimens,
	.open		= afs_open,
	.create		= afs_create,
	.read		= afs_read,
	.write		= afs_write,
	.flush		= afs_flush,
	.fsync		= afs_fsync,
	.release	= afs_release,
	.truncate	= afs_truncate,
	.fallocate	= afs_fallocate,
	.symlink	= afs_symlink,
	.mknod		= afs_mknod,
	.readlink	= afs_readlink,
	.statfs		= afs_statfs,
	.fsyncdir	= afs_fsyncdir,
	.setxattr	= afs_setxattr,
	.getxattr	= afs_getxattr,
	.listxattr	= afs_listxattr,
	.removexattr	= afs_removexattr,
};

/* ---- start-up ------------------------------------------------------------ */

/* The key pair of --credentials FILE (see ark_credentials_load). */
static int
afs_parse_mode(const char *s, int64_t *out)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 8);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > 07777)
		return -1;
	*out = v;
	return 0;
}

/* 1 when the comma-separated FUSE options opts hold the option name. */
static int
afs_fuse_opt_has(const char *opts, const char *name)
{
	size_t		 n = strlen(name);
	const char	*p;

	for (p = opts; p != NULL && *p != '\0'; p = strchr(p, ',')) {
		if (*p == ',')
			p++;
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return 1;
	}
	return 0;
}

/* Whether the kernel checks permissions from the modes (FUSE's
 * default_permissions). A mount made by root without allow_other or
 * allow_root serves root alone, and root passes every check but
 * executing a file no one may execute: there arkorfs answers access(2)
 * itself (afs_access), the kernel checks execute, and the kernel no
 * longer asks for the parent's attributes after every create, unlink or
 * rename to check the next name in it (two round trips of the seven
 * that creating and removing a file take). */
static int
afs_kernel_checks(void)
{
	return getuid() != 0 || geteuid() != 0 || opt_allow_other ||
	    afs_fuse_opt_has(opt_options, "allow_other") ||
	    afs_fuse_opt_has(opt_options, "allow_root") ||
	    afs_fuse_opt_has(opt_options, "default_permissions");
}

int
main(int argc, char **argv)
{
	struct fuse_args	 fa = FUSE_ARGS_INIT(0, NULL);
	struct fuse_loop_config	 lc;
	struct fsn_cfg		 nc;
	struct ark_cfg		*cfg;
	struct fuse		*fuse;
	struct sigaction	 sa;
	char *const		*args;
	char			*id = NULL, *secret = NULL, *mopts, *mp;
	json_t			*r = NULL;
	int			 nargs, rc, ret = 1;

	cfg = ark_cfg_new("arkorfs", PACKAGE_VERSION, afs_opts);
	ark_cfg_set_summary(cfg, "mount Arkor buckets as a file system "
	    "(FUSE)");
	ark_cfg_allow_args(cfg, "REGISTRY MOUNTPOINT");
	ark_cfg_parse_or_exit(cfg, argc, argv);
	args = ark_cfg_args(cfg, &nargs);
	if (nargs != 2) {
		fprintf(stderr, "arkorfs: need REGISTRY (host:port) and "
		    "MOUNTPOINT; see --help\n");
		ark_cfg_free(cfg);
		return 2;
	}
	ark_log_init("arkorfs", opt_debug ? ARK_LOG_DEBUG :
	    (enum ark_log_level)opt_log_level);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	if (ark_credentials_get("arkorfs", opt_credentials, &id, &secret) != 0)
		goto out;
	if (afs_parse_mode(opt_file_mode_s, &opt_file_mode) != 0 ||
	    afs_parse_mode(opt_dir_mode_s, &opt_dir_mode) != 0) {
		fprintf(stderr, "arkorfs: --file-mode and --dir-mode take "
		    "octal permissions such as 0644\n");
		ark_cfg_free(cfg);
		return 2;
	}
	afs_mount_ms = ark_now_ms();
	if (opt_uid < 0)
		opt_uid = (int64_t)getuid();
	if (opt_gid < 0)
		opt_gid = (int64_t)getgid();
	if (opt_bucket != NULL) {
		const char *s = strchr(opt_bucket, '/');

		if (s == NULL)
			afs_bucket = ark_xstrdup(opt_bucket);
		else {
			afs_bucket = ark_xstrndup(opt_bucket,
			    (size_t)(s - opt_bucket));
			while (*s == '/')
				s++;
			if (*s != '\0')
				afs_prefix = s[strlen(s) - 1] == '/' ?
				    ark_xstrdup(s) : ark_xasprintf("%s/", s);
		}
	}
	if (fsr_init(args[0], id, secret, (unsigned)opt_timeout) != ARK_OK)
		goto out;
	/* Fail now, with a clear message, rather than at the first ls. */
	rc = afs_bucket != NULL ? fsr_call("bucket/get", json_pack("{s:s}",
	    "bucket", afs_bucket), &r) : fsr_call("bucket/list",
	    json_object(), &r);
	json_decref(r);
	if (rc != 0) {
		fprintf(stderr, "arkorfs: registry %s%s%s: %s\n", args[0],
		    afs_bucket ? ", bucket " : "", afs_bucket ? afs_bucket : "",
		    strerror(-rc));
		goto out;
	}
	ark_http_fetch_thread_cleanup();

	memset(&nc, 0, sizeof(nc));
	nc.fragment_size = opt_fragment_size;
	nc.window = (unsigned)opt_window;
	nc.cache_dir = opt_cache_dir;
	nc.uid = (uid_t)opt_uid;
	nc.gid = (gid_t)opt_gid;
	nc.file_mode = (mode_t)opt_file_mode;
	fsn_init(&nc);
	fsds_init(opt_attr_timeout);
	fsnc_init(opt_attr_timeout, 50000);
	fsr_set_observer(fsnc_observe);
	fsr_set_gate(fsul_gate);
	fsa_init((unsigned)opt_fid_pool, opt_fragment_size);

	mopts = ark_xasprintf("fsname=arkor:%s%s%s,subtype=arkorfs%s%s%s%s%s",
	    args[0], afs_bucket ? "/" : "", opt_bucket ? opt_bucket : "",
	    afs_kernel_checks() ? ",default_permissions" : "",
	    opt_read_only ? ",ro" : "", opt_allow_other ? ",allow_other" : "",
	    opt_options ? "," : "", opt_options ? opt_options : "");
	fuse_opt_add_arg(&fa, "arkorfs");
	fuse_opt_add_arg(&fa, "-o");
	fuse_opt_add_arg(&fa, mopts);
	free(mopts);
	if (opt_debug)
		fuse_opt_add_arg(&fa, "-d");
	if (!opt_xattr) {
		/* Off by default (as JuiceFS and s3fs): with getxattr the
		 * kernel asks for security.capability before every write,
		 * one more round trip each (4 KiB pwrite 55-110 us without,
		 * 93-164 us with, same run); without the operations it
		 * answers EOPNOTSUPP itself. */
		afs_ops.setxattr = NULL;
		afs_ops.getxattr = NULL;
		afs_ops.listxattr = NULL;
		afs_ops.removexattr = NULL;
	}
	fuse = fuse_new(&fa, &afs_ops, sizeof(afs_ops), NULL);
	if (fuse == NULL) {
		fprintf(stderr, "arkorfs: bad FUSE options\n");
		goto out_fsr;
	}
	mp = realpath(args[1], NULL);
	if (mp == NULL || fuse_mount(fuse, mp) != 0) {
		fprintf(stderr, "arkorfs: cannot mount on %s\n", args[1]);
		free(mp);
		fuse_destroy(fuse);
		goto out_fsr;
	}
	free(mp);
	if (fuse_daemonize(opt_foreground || opt_debug) != 0) {
		fuse_unmount(fuse);
		fuse_destroy(fuse);
		goto out_fsr;
	}
	/* Workers start after the fork of fuse_daemonize. */
	if (fsd_init((unsigned)opt_threads, (unsigned)opt_timeout) !=
	    ARK_OK) {
		fuse_unmount(fuse);
		fuse_destroy(fuse);
		goto out_fsr;
	}
	(void)fsc_init(opt_cache_dir, opt_cache_size);	/* else uncached */
	fsul_init(opt_early_unlink);
	if (fuse_set_signal_handlers(fuse_get_session(fuse)) != 0) {
		fuse_unmount(fuse);
		fuse_destroy(fuse);
		fsd_fini();
		fsc_fini();
		goto out_fsr;
	}
	memset(&lc, 0, sizeof(lc));
	lc.clone_fd = 0;
	lc.max_idle_threads = (unsigned)opt_threads;
	ark_log_info("mounted %s on %s", args[0], args[1]);
	rc = fuse_loop_mt(fuse, &lc);
	fuse_remove_signal_handlers(fuse_get_session(fuse));
	fuse_unmount(fuse);
	fuse_destroy(fuse);
	fsd_fini();
	fsc_fini();
	ret = rc == 0 ? 0 : 1;
out_fsr:
	fsul_fini();			/* sends the unlinks queued */
	fsds_fini();
	fsnc_fini();
	fsa_fini();
	fsr_fini();
out:
	fuse_opt_free_args(&fa);
	free(id);
	if (secret != NULL)
		memset(secret, 0, strlen(secret));
	free(secret);
	if (afs_bucket != NULL) {
		free(afs_bucket);
		free(afs_prefix);
	}
	ark_cfg_free(cfg);
	return ret;
}
