/*
 * meta.h - the registry's metadata store: users, access keys, buckets,
 * object versions and their fragment lists, multipart uploads, Git LFS
 * objects and locks, data-server records, the FileID key counter and the
 * garbage-collection queue. This interface has no SQLite type in it so a
 * PostgreSQL implementation can follow; meta_sqlite.c is the SQLite one.
 *
 * Writes are group-committed: every write call queues an operation for the
 * single writer thread, which runs all queued operations in one
 * transaction (each in its own savepoint, so one failing operation does not
 * undo the others) and commits with one sync; the call returns when that
 * transaction is durable (or failed: then nothing of it is applied). Reads
 * run on the calling thread over a pooled read connection (WAL: readers
 * never wait for the writer and see the last committed state).
 *
 * Threads: every function may be called from any thread, concurrently,
 * between meta_open() and meta_close(). Callbacks run on the calling
 * thread and must not call back into the store.
 *
 * Errors (enum ark_err): ARK_ENOENT no such item; ARK_EEXIST the item
 * exists, a precondition (if_version, noreplace) failed, or a bucket is not
 * empty; ARK_EINVAL bad argument (name too long, empty); ARK_EAGAIN a
 * fragment being committed is being deleted by the GC (allocate a new one);
 * ARK_ENOSPC the disk is full (nothing was applied); ARK_EIO other database
 * errors (logged once here); ARK_ECORRUPT the database is not ours.
 *
 * Strings: inputs are borrowed for the call. Outputs in fixed arrays are
 * NUL-terminated; outputs behind pointers are owned by the caller and
 * freed by the matching *_clear() function.
 */
#ifndef ARKOR_REGISTRY_META_H
#define ARKOR_REGISTRY_META_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/fileid.h"

#define META_USER_MAX		64	/* bytes of a user name */
#define META_BUCKET_MAX		63	/* S3 bucket name rules: 3..63 */
#define META_KEYID_MAX		128	/* access key id */
#define META_SECRET_MAX		128	/* access key secret */
#define META_OBJKEY_MAX		1024	/* object key bytes (S3) */
#define META_ETAG_MAX		128
#define META_CTYPE_MAX		256
#define META_JSON_MAX		8192	/* user metadata / checksums JSON */
#define META_BUCKET_CONF_MAX	65536	/* a bucket's tags / CORS JSON */
#define META_URL_MAX		256
#define META_ID_MAX		64	/* upload, lock and server ids */
#define META_OID_MAX		128	/* LFS oid (sha256 hex is 64) */
#define META_PATH_MAX		4096	/* LFS lock path */
#define META_CKNAME_MAX		16	/* upload checksum algorithm / type */
#define META_PART_CKSUMS_MAX	256	/* a part's checksums JSON */

struct meta;				/* opaque store */

struct meta_opts {
	unsigned	 max_batch;	/* operations per transaction; 0: 1024 */
	int		 sync_full;	/* 1 (default): fsync every commit */
	uint64_t	 max_pages;	/* 0: none; else the database may not
					 * grow past this many pages, and a
					 * write needing more fails with
					 * ARK_ENOSPC like on a full disk */
};

/* Opens (creating if missing) the database at `path`, migrates its schema
 * to the current version and starts the writer thread. Caller owns *out.
 * `opts` may be NULL. */
enum ark_err	 meta_open(const char *path, const struct meta_opts *opts,
		    struct meta **out);
/* Finishes queued writes, stops the writer and closes everything. NULL is
 * a no-op. No other call may be running or start. */
void		 meta_close(struct meta *m);
/* Schema version of an open store (tests, /health). */
int		 meta_schema_version(struct meta *m);
/* Runs SQLite's quick_check: ARK_OK, or ARK_ECORRUPT (logged). */
enum ark_err	 meta_check(struct meta *m);

/* ---- FileID keys ---- */

/* Reserves `count` consecutive keys (1..1<<20) from the persisted counter
 * and returns the first in *first. Durable before it returns, so keys are
 * never handed out twice, even across a crash. */
enum ark_err	 meta_fid_reserve(struct meta *m, uint64_t count,
		    uint64_t *first);

/* ---- users and access keys ---- */

struct meta_user {
	int64_t		 id;
	char		 name[META_USER_MAX + 1];
	int		 admin;
	int64_t		 created_ms;
};

/* ARK_EEXIST if the name is taken. */
enum ark_err	 meta_user_create(struct meta *m, const char *name, int admin,
		    struct meta_user *out);
enum ark_err	 meta_user_get(struct meta *m, const char *name,
		    struct meta_user *out);
enum ark_err	 meta_user_list(struct meta *m,
		    int (*cb)(void *arg, const struct meta_user *u), void *arg);
/* Deletes the user and its keys; ARK_EEXIST while it owns buckets. */
enum ark_err	 meta_user_delete(struct meta *m, const char *name);

/*
 * An access key. The secret is stored in clear text on purpose: AWS
 * Signature V4 (object server) and Basic auth (LFS) need the secret itself
 * to recompute signatures, so it cannot be hashed. Protect the database
 * file like the cluster secret (mode 0600).
 */
struct meta_key {
	char		 key_id[META_KEYID_MAX + 1];
	char		 secret[META_SECRET_MAX + 1];
	char		 user[META_USER_MAX + 1];
	int64_t		 user_id;
	int		 admin;		/* of the user */
	int		 readonly;
	int64_t		 created_ms;
};

/* ARK_ENOENT if the user does not exist, ARK_EEXIST if the id is taken. */
enum ark_err	 meta_key_create(struct meta *m, const char *user,
		    const char *key_id, const char *secret, int readonly);
enum ark_err	 meta_key_get(struct meta *m, const char *key_id,
		    struct meta_key *out);
/* Keys of `user`, or of everyone when user is NULL. */
enum ark_err	 meta_key_list(struct meta *m, const char *user,
		    int (*cb)(void *arg, const struct meta_key *k), void *arg);
enum ark_err	 meta_key_delete(struct meta *m, const char *key_id);

/* ---- buckets ---- */

enum meta_acl {
	META_ACL_PRIVATE = 0,
	META_ACL_PUBLIC_READ = 1,
};

struct meta_bucket {
	int64_t		 id;
	char		 name[META_BUCKET_MAX + 1];
	char		 owner[META_USER_MAX + 1];
	enum meta_acl	 acl;
	int64_t		 created_ms;
	uint64_t	 objects;	/* live object count */
	uint64_t	 bytes;		/* sum of object sizes */
	int64_t		 nseq;		/* change count, below */
};

/*
 * A bucket's change count (nseq): one more for every row of its objects
 * that is added, changed or removed (SQLite triggers, so no write path
 * can miss it; a prefix rename or copy adds one for all its rows). A client that cached what it read at count N knows that
 * nothing in the bucket changed while the count is still N, and one that
 * writes sees from the counts before and after its write whether someone
 * else wrote in between (arkorfs's name cache). Reads take the count
 * before the rows, in the same snapshot. A new bucket starts at its
 * creation time in ms times 10^6: a bucket deleted and made again does
 * not repeat the counts of the old one.
 */

/* ARK_ENOENT unknown owner, ARK_EEXIST name taken. */
enum ark_err	 meta_bucket_create(struct meta *m, const char *name,
		    const char *owner, enum meta_acl acl);
enum ark_err	 meta_bucket_get(struct meta *m, const char *name,
		    struct meta_bucket *out);
/* As meta_bucket_get, but id, name, owner and acl are all that holds
 * (from a memo of this thread; the counts may be old). */
enum ark_err	 meta_bucket_access(struct meta *m, const char *name,
		    struct meta_bucket *out);
enum ark_err	 meta_bucket_set_acl(struct meta *m, const char *name,
		    enum meta_acl acl);
/* Buckets of `owner`, or all when NULL, by name. */
enum ark_err	 meta_bucket_list(struct meta *m, const char *owner,
		    int (*cb)(void *arg, const struct meta_bucket *b),
		    void *arg);
/* ARK_EEXIST while the bucket holds objects or multipart uploads. */
enum ark_err	 meta_bucket_delete(struct meta *m, const char *name);

/* A bucket's stored S3 configurations, each the text of a JSON object
 * (at most META_BUCKET_CONF_MAX bytes) or NULL when none: tags
 * {key: value} (PutBucketTagging), cors {"rules": [...]}
 * (PutBucketCors). The store keeps the texts as given. */
struct meta_bucket_conf {
	char		*tags;		/* out: caller owns */
	char		*cors;
};
/* Fills *out (caller clears it); ARK_ENOENT no bucket. */
enum ark_err	 meta_bucket_conf_get(struct meta *m, const char *name,
		    struct meta_bucket_conf *out);
/* Frees what meta_bucket_conf_get allocated and zeroes *c. */
void		 meta_bucket_conf_clear(struct meta_bucket_conf *c);
/* Sets the given configurations (borrowed): NULL keeps one, "" removes
 * it. ARK_ENOENT no bucket, ARK_EINVAL a text too long. */
enum ark_err	 meta_bucket_conf_set(struct meta *m, const char *name,
		    const char *tags, const char *cors);

/* ---- objects ---- */

struct meta_frag {			/* one needle of an object, in order */
	char		 fid[ARK_FID_MAXLEN];
	uint64_t	 offset;	/* in the object */
	uint64_t	 length;
	uint32_t	 crc32c;
};

struct meta_object {
	const char	*bucket;	/* in: borrowed; out: unset */
	char		*key;		/* out: caller owns (meta_object_clear) */
	uint64_t	 size;
	char		 etag[META_ETAG_MAX + 1];
	char		 ctype[META_CTYPE_MAX + 1];
	char		*user_meta;	/* JSON object text or NULL */
	char		*checksums;	/* JSON object text or NULL */
	char		*tags;		/* JSON object text or NULL (S3 tags) */
	char		*headers;	/* JSON object text or NULL: stored
					 * response headers (Cache-Control,
					 * Content-Disposition, Expires...) */
	char		*parts;		/* out: JSON array [{number, size,
					 * etag, checksums?}] for objects
					 * completed from a multipart
					 * upload, else NULL */
	uint32_t	 mode, uid, gid;
	int64_t		 mtime_ms;
	int64_t		 version;	/* set by the store on commit */
	int64_t		 created_ms;	/* of this version */
	int64_t		 nseq;		/* meta_object_get: the bucket's change
					 * count it read (also on ARK_ENOENT) */
	size_t		 nfrags;
	struct meta_frag *frags;
};

/* Frees what the store allocated in *o and zeroes it. */
void		 meta_object_clear(struct meta_object *o);

/* Preconditions for writes on a key. */
#define META_ANY	(-1)		/* no condition */
#define META_ABSENT	0		/* key must not exist */
					/* > 0: current version must equal */

/*
 * Commits a new version of bucket/key atomically: fields and fragment list
 * from `o` (o->key is ignored; version and created are assigned). The
 * fragments of the version it replaces that no row references any more go
 * to the GC queue in the same transaction. ARK_ENOENT no bucket;
 * ARK_EEXIST the precondition `if_version` failed; ARK_EAGAIN a fragment
 * is being deleted by the GC. *version (may be NULL) gets the new version.
 */
enum ark_err	 meta_object_put(struct meta *m, const char *bucket,
		    const char *key, const struct meta_object *o,
		    int64_t if_version, int64_t *version);
/* meta_object_put without waiting: ARK_EINVAL at once for a bad key or
 * FileID (cb not called), else cb(arg, rc) runs on the writer thread once
 * the commit is durable or failed (lazy: once it is committed and visible
 * to readers, on the calling thread before this returns when the writer
 * was idle; it is durable within 2 ms, and meta_sync_async's answer
 * covers it), *version set before, and nseq (may be
 * NULL) the bucket's change count before and after the put. bucket, key,
 * o, version and nseq must stay valid until then. */
enum ark_err	 meta_object_put_async(struct meta *m, const char *bucket,
		    const char *key, const struct meta_object *o,
		    int64_t if_version, int64_t *version, int64_t *nseq,
		    int lazy, void (*cb)(void *arg, enum ark_err rc),
		    void *arg);
/* Fills *out (caller clears it). */
enum ark_err	 meta_object_get(struct meta *m, const char *bucket,
		    const char *key, struct meta_object *out);
/* Deletes the key; its unreferenced fragments go to the GC queue. nseq
 * (may be NULL) gets the bucket's change count before and after. */
enum ark_err	 meta_object_delete(struct meta *m, const char *bucket,
		    const char *key, int64_t if_version, int64_t *nseq);
/* meta_object_delete without waiting (as meta_object_put_async): bucket,
 * key and nseq must stay valid until cb(arg, rc) has run. */
void		 meta_object_delete_async(struct meta *m, const char *bucket,
		    const char *key, int64_t if_version, int64_t *nseq,
		    int lazy, void (*cb)(void *arg, enum ark_err rc),
		    void *arg);
/* cb(arg, ARK_OK or ARK_EIO) once every commit before it is durable. */
void		 meta_sync_async(struct meta *m,
		    void (*cb)(void *arg, enum ark_err rc), void *arg);
/* Attribute changes without touching the fragments: a value of -1 or
 * NULL leaves the field alone; "" clears a JSON field (user_meta,
 * headers, tags) and sets an empty content type. Strings borrowed. */
struct meta_attrs {
	int64_t		 mode, uid, gid, mtime_ms;	/* 32-bit ids/mode */
	const char	*ctype, *user_meta, *headers, *tags;
};
#define META_ATTRS_KEEP	{ -1, -1, -1, -1, NULL, NULL, NULL, NULL }

/* chmod/chown/utimens/setxattr/PutObjectTagging: changes the given
 * attributes under the precondition `if_version` and bumps the version.
 * A mode without file type bits (S_IFMT) keeps the stored type. *out (may
 * be NULL) gets the object's attributes after the change, without its
 * fragments (meta_object_clear); nseq (may be NULL) the bucket's change
 * count before and after. */
enum ark_err	 meta_object_setattr(struct meta *m, const char *bucket,
		    const char *key, const struct meta_attrs *a,
		    int64_t if_version, struct meta_object *out,
		    int64_t *nseq);
/* meta_object_setattr without waiting (as meta_object_put_async): ARK_EINVAL
 * at once for bad attributes (cb not called); everything passed must stay
 * valid until cb(arg, rc) has run. */
enum ark_err	 meta_object_setattr_async(struct meta *m,
		    const char *bucket, const char *key,
		    const struct meta_attrs *attrs, int64_t if_version,
		    struct meta_object *out, int64_t *nseq, int lazy,
		    void (*cb)(void *arg, enum ark_err rc), void *arg);

#define META_NOREPLACE	0x1		/* fail with ARK_EEXIST if dst exists */
#define META_EXCHANGE	0x2		/* rename: swap src and dst (both must exist) */

/* Copy: dst becomes a new version sharing src's fragments (no data moves),
 * with the attributes of `replace` (may be NULL) applied over the source's
 * (S3 CopyObject with MetadataDirective REPLACE, also onto itself), under
 * the if_version precondition on dst (as meta_object_put; META_NOREPLACE
 * is META_ABSENT); a replaced dst version's fragments go to GC. Rename:
 * the row moves, keeping its version and fragments. One transaction
 * each. */
enum ark_err	 meta_object_copy(struct meta *m, const char *sbucket,
		    const char *skey, const char *dbucket, const char *dkey,
		    unsigned flags, const struct meta_attrs *replace,
		    int64_t if_version, int64_t *version);
enum ark_err	 meta_object_rename(struct meta *m, const char *sbucket,
		    const char *skey, const char *dbucket, const char *dkey,
		    unsigned flags);
/* meta_object_rename without waiting (as meta_object_put_async); nseq
 * (may be NULL) gets the bucket's change count before and after when
 * both keys are in one bucket (else it is left alone). */
enum ark_err	 meta_object_rename_async(struct meta *m,
		    const char *sbucket, const char *skey,
		    const char *dbucket, const char *dkey, unsigned flags,
		    int64_t *nseq, int lazy,
		    void (*cb)(void *arg, enum ark_err rc), void *arg);
/* Every key starting with `sprefix` in sbucket, copied or moved to
 * dprefix + rest in dbucket, in ONE transaction. With META_NOREPLACE the
 * whole operation fails (ARK_EEXIST) if any destination key exists;
 * otherwise destination keys are replaced. ARK_EINVAL when the prefixes
 * overlap in the same bucket or sprefix is empty. *count gets the number
 * of keys. */
enum ark_err	 meta_prefix_copy(struct meta *m, const char *sbucket,
		    const char *sprefix, const char *dbucket,
		    const char *dprefix, unsigned flags, uint64_t *count);
enum ark_err	 meta_prefix_rename(struct meta *m, const char *sbucket,
		    const char *sprefix, const char *dbucket,
		    const char *dprefix, unsigned flags, uint64_t *count);

/* ---- listing ---- */

struct meta_list_req {
	const char	*bucket;
	const char	*prefix;	/* NULL = "" */
	const char	*delimiter;	/* NULL/"" = none; at most 16 bytes */
	const char	*start_after;	/* NULL = from the start */
	const char	*token;		/* continuation (wins over start_after) */
	unsigned	 max_keys;	/* entries (keys + prefixes); 1..10000 */
};

struct meta_list_ent {			/* borrowed for the callback only */
	const char	*key;		/* key or common prefix */
	int		 is_prefix;
	uint64_t	 size;
	const char	*etag;
	int64_t		 mtime_ms;
	int64_t		 version;
	int64_t		 mode, uid, gid;	/* POSIX attributes */
};

/*
 * Lists keys in byte order. With a delimiter, keys whose rest after the
 * prefix contains it are rolled into one common prefix, emitted once;
 * the scan then seeks past that prefix (it never reads the keys inside).
 * When more entries exist, *next_token (caller frees) is set to an opaque
 * token for the following page, else NULL.
 */
enum ark_err	 meta_list(struct meta *m, const struct meta_list_req *req,
		    int (*cb)(void *arg, const struct meta_list_ent *e),
		    void *arg, char **next_token);

/* ---- multipart uploads ---- */

struct meta_upload {
	char		 id[META_ID_MAX + 1];
	char		 bucket[META_BUCKET_MAX + 1];
	char		*key;		/* caller owns (meta_upload_clear) */
	char		 ctype[META_CTYPE_MAX + 1];
	char		*user_meta;
	char		*headers;
	/* The checksum the upload declared (S3 x-amz-checksum-algorithm
	 * and -type, e.g. "CRC32" and "COMPOSITE"); "" when none. The
	 * store keeps them for the front end; it checks nothing. */
	char		 cksum_alg[META_CKNAME_MAX + 1];
	char		 cksum_type[META_CKNAME_MAX + 1];
	int64_t		 created_ms;
};
void		 meta_upload_clear(struct meta_upload *u);

struct meta_part {
	unsigned	 number;	/* 1..10000 */
	uint64_t	 size;
	char		 etag[META_ETAG_MAX + 1];
	/* JSON object text ({"crc32": "<base64>"}) or NULL, at most
	 * META_PART_CKSUMS_MAX bytes: borrowed from the caller in
	 * meta_part_put, valid during the callback in meta_part_list. */
	const char	*checksums;
	int64_t		 created_ms;
	size_t		 nfrags;	/* list only: fragments not filled */
	struct meta_frag *frags;	/* borrowed in meta_part_put */
};

/* Creates an upload; *id gets its random id (META_ID_MAX + 1 bytes).
 * ctype, user_meta and headers (JSON text, may be NULL) go to the object
 * on completion; cksum_alg and cksum_type (may be NULL, at most
 * META_CKNAME_MAX bytes) are kept with the upload. */
enum ark_err	 meta_upload_create(struct meta *m, const char *bucket,
		    const char *key, const char *ctype, const char *user_meta,
		    const char *headers, const char *cksum_alg,
		    const char *cksum_type, char *id);
enum ark_err	 meta_upload_get(struct meta *m, const char *id,
		    struct meta_upload *out);
/* Uploads of a bucket whose key starts with prefix (NULL = all) and is
 * >= start_key (NULL = from the prefix), by key then creation time,
 * until cb returns nonzero. */
enum ark_err	 meta_upload_list(struct meta *m, const char *bucket,
		    const char *prefix, const char *start_key,
		    int (*cb)(void *arg, const struct meta_upload *u),
		    void *arg);
/* Stores part `p->number` (replacing an earlier one: its fragments go to
 * GC). Fragment offsets are relative to the part. */
enum ark_err	 meta_part_put(struct meta *m, const char *upload_id,
		    const struct meta_part *p);
/* Parts in number order (frags not filled). */
enum ark_err	 meta_part_list(struct meta *m, const char *upload_id,
		    int (*cb)(void *arg, const struct meta_part *p),
		    void *arg);
/*
 * Completes the upload: the listed parts (numbers strictly ascending, each
 * etag equal to the stored one unless empty) become the fragments of a
 * new version of the object (offsets shifted), with size = sum of parts,
 * the given etag and checksums (JSON object text, may be NULL), and the
 * part list {number, size, etag, checksums?} in `parts`; other parts'
 * fragments go to GC; the upload is gone. The object is written under
 * the if_version precondition (as meta_object_put: ARK_EEXIST, the
 * upload then stays). ARK_ENOENT unknown upload (or, with an if_version
 * above 0, no object); ARK_EINVAL a part is missing, out of order or its
 * etag differs (*bad_part gets its number, may be NULL).
 */
enum ark_err	 meta_upload_complete(struct meta *m, const char *upload_id,
		    const unsigned *numbers, const char *const *etags,
		    size_t nparts, const char *etag, const char *checksums,
		    int64_t if_version, int64_t *version, unsigned *bad_part);
/* Drops the upload; all its fragments go to GC. */
enum ark_err	 meta_upload_abort(struct meta *m, const char *upload_id);

/* ---- Git LFS ---- */

struct meta_lfs {
	uint64_t	 size;
	int64_t		 created_ms;
	size_t		 nfrags;
	struct meta_frag *frags;	/* get: caller frees (free()) */
};

/* Stores (ns, oid) once: ARK_EEXIST if present (content addressed). */
enum ark_err	 meta_lfs_put(struct meta *m, const char *ns, const char *oid,
		    const struct meta_lfs *o);
enum ark_err	 meta_lfs_get(struct meta *m, const char *ns, const char *oid,
		    struct meta_lfs *out);
enum ark_err	 meta_lfs_delete(struct meta *m, const char *ns,
		    const char *oid);

struct meta_lock {
	char		 id[META_ID_MAX + 1];
	char		*path;		/* caller owns (meta_lock_clear) */
	char		 owner[META_USER_MAX + 1];
	int64_t		 locked_ms;
};
void		 meta_lock_clear(struct meta_lock *l);

/* Locks `path`: ARK_EEXIST if locked (then *out describes the existing
 * lock), else *out is the new lock. */
enum ark_err	 meta_lock_create(struct meta *m, const char *ns,
		    const char *path, const char *owner,
		    struct meta_lock *out);
/* Locks of ns in id order, filtered by path and/or id (NULL: any), from
 * id > cursor (NULL: start), at most `limit`; *next (caller frees) is the
 * cursor of the next page or NULL. */
enum ark_err	 meta_lock_list(struct meta *m, const char *ns,
		    const char *path, const char *id, const char *cursor,
		    unsigned limit,
		    int (*cb)(void *arg, const struct meta_lock *l),
		    void *arg, char **next);
/* Unlocks: ARK_EPERM if `owner` is not the owner and !force. *out (may be
 * NULL) gets the removed lock. */
enum ark_err	 meta_lock_delete(struct meta *m, const char *ns,
		    const char *id, const char *owner, int force,
		    struct meta_lock *out);

/* ---- data servers (their registration; live state is in cluster.c) ---- */

struct meta_server {
	char		 id[META_ID_MAX + 1];
	char		 url[META_URL_MAX + 1];
	uint32_t	 group;
	int64_t		 created_ms;
};
/* Inserts or updates the server's url and group. */
enum ark_err	 meta_server_put(struct meta *m, const struct meta_server *s);
enum ark_err	 meta_server_list(struct meta *m,
		    int (*cb)(void *arg, const struct meta_server *s),
		    void *arg);
enum ark_err	 meta_server_delete(struct meta *m, const char *id);

/* ---- garbage collection ---- */

struct meta_gc_item {
	int64_t		 id;
	char		 fid[ARK_FID_MAXLEN];
	unsigned	 attempts;
};

/*
 * In one transaction: takes up to `max` queued fragments due at `now_ms`;
 * drops those referenced again (copy, commit) without returning them; and
 * marks the rest taken until now_ms + lease_ms (a commit that references a
 * taken fragment fails with ARK_EAGAIN). Fills items[] and *n. Tombstones
 * (see meta_gc_done) whose time is up are dropped in the same pass.
 */
enum ark_err	 meta_gc_take(struct meta *m, int64_t now_ms, int64_t lease_ms,
		    struct meta_gc_item *items, size_t max, size_t *n);
/* Whether each of `n` fids is referenced by any object, part or LFS
 * object (referenced[i] 0/1) and its GC state (gc_state[i]: 0 not queued,
 * 1 queued, 2 taken for deletion, 3 deleted), in one snapshot. */
enum ark_err	 meta_fid_status(struct meta *m, const char *const *fids,
		    size_t n, int *referenced, int *gc_state);
/* Deleted everywhere: the item leaves the queue and stays as a tombstone
 * until `keep_until_ms`, so a late commit of the fid (a writer that
 * stalled past --assign-grace) fails with ARK_EAGAIN instead of
 * referencing data that is gone. */
enum ark_err	 meta_gc_done(struct meta *m, int64_t id,
		    int64_t keep_until_ms);
/* Failed: retry at `retry_ms` (attempts + 1). */
enum ark_err	 meta_gc_retry(struct meta *m, int64_t id, int64_t retry_ms);

/* ---- FileIDs assigned but never committed ---- */

/* Records `n` fids just handed out by assign (durably, before the answer
 * goes out). A commit that references one (do_frags_insert) removes it;
 * one still recorded at `expires_ms` is collected. */
enum ark_err	 meta_assigned_add(struct meta *m, const char *const *fids,
		    size_t n, int64_t expires_ms);
/* In one transaction: up to `max` recorded fids expired at `now_ms` leave
 * the record, and those no row references go to the GC queue (whatever
 * their writer stored under them is deleted from every replica).
 * *queued (may be NULL) gets how many were queued. */
enum ark_err	 meta_assigned_expire(struct meta *m, int64_t now_ms,
		    size_t max, size_t *queued);

/* ---- totals ---- */

struct meta_totals {
	uint64_t	 users, keys, buckets, objects, bytes;
	uint64_t	 uploads, lfs_objects, locks, gc_queued;
	uint64_t	 next_key;	/* next FileID key the counter holds */
};
enum ark_err	 meta_totals(struct meta *m, struct meta_totals *out);

#endif /* ARKOR_REGISTRY_META_H */
