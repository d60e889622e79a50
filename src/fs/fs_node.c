/*
 * fs_node.c - open files of arkorfs (see fs_node.h for the model).
 *
 * Locking: fsn_mu guards the table and every node's refs, bucket, key
 * and hash links; n->mu guards the rest of a node. fsn_mu is never taken
 * while holding n->mu except in fsn_renamed()/fsn_stat_path(), which
 * take n->mu only with trylock-free short sections (no I/O under fsn_mu).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "common/cksum.h"
#include "common/log.h"
#include "common/util.h"
#include "fs/fs_assign.h"
#include "fs/fs_data.h"
#include "fs/fs_fcache.h"
#include "fs/fs_node.h"
#include "fs/fs_reg.h"
#include "fs/fs_slots.h"

#define FSN_MAGIC	0x46534e31u	/* "FSN1" */
#define FSN_HASH	1024
#define FSN_ATTEMPTS	3		/* per fragment, each a new FileID */
#define FSN_AHEAD	4		/* fragments prefetched ahead */
#define FSN_AHEAD_SEQ	8		/* ... by a reader moving from one
					 * fragment to the next */
#define FSN_SLOTS	(FSN_AHEAD_SEQ + 1)	/* fragments held per file */
#define FSN_PUT_NOW_MAX	(1u << 20)	/* a last fragment up to this size is
					 * written from the committing thread */
#define FSN_MEM_MAX	(1u << 20)	/* changes of a file up to this size
					 * are staged in memory (memfd) */
#define FSN_SEEN	4096		/* versions remembered for keep_cache */
#define FSN_GONE	1024		/* names the registry just said are absent */
#define FSN_GONE_NS	(100 * 1000000ull)	/* ... trusted this long */

enum fsn_slot_state { SLOT_EMPTY, SLOT_LOADING, SLOT_READY, SLOT_ERR };

struct fsn_wb;				/* write-behind, see below */
static void	fsn_wb_free(struct fsn *n);
static void	fsn_wb_forget(struct fsn *n, uint64_t lo, uint64_t hi);
static void	fsn_wb_after_write(struct fsn *n, uint64_t off, uint64_t len);

struct fsn_slot {
	enum fsn_slot_state	 state;
	size_t			 idx;		/* fragment index */
	char			*buf;
	size_t			 len;
	uint64_t		 gen;
	int			 cache;		/* also to the fragment cache */
};

struct fsn {
	uint32_t		 magic;
	struct fsn		*hnext;
	unsigned		 refs;		/* fsn_mu */
	char			*bucket;	/* fsn_mu */
	char			*key;		/* fsn_mu */
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	json_t			*obj;		/* object/get with tokens */
	json_t			*frags;		/* committed fragments, owned */
	struct fss		*lay;		/* their slots (fs_slots.h) */
	json_t			*meta;		/* user_meta (xattrs), owned */
	int64_t			 version;	/* 0: never committed */
	uint64_t		 size;
	mode_t			 mode;
	uid_t			 uid;
	gid_t			 gid;
	int64_t			 mtime_ms;
	int			 tmpfd;		/* -1: no local change yet */
	int			 tmpmem;	/* tmpfd is a memfd */
	int			 dirty;
	_Atomic int		 deleted;	/* unlinked or replaced; set
						 * under n->mu or fsn_mu */
	uint64_t		 gen;		/* bumps when obj changes */
	struct fsn_slot		 slot[FSN_SLOTS];
	size_t			 rd_idx;	/* fragment last read */
	size_t			 ahead;		/* fragments to prefetch */
	struct fsn_wb		*wb;		/* write-behind, or NULL */
	uint64_t		 seq_end;	/* end of the last write */
	uint64_t		 wb_next;	/* where write-behind goes on: the
					 * streak's start or the end of its
					 * last early piece */
};

static struct fsn_cfg	 fsn_c;
static pthread_mutex_t	 fsn_mu = PTHREAD_MUTEX_INITIALIZER;
static struct fsn	*fsn_tab[FSN_HASH];
/* The version each recently closed clean file had, by a 64-bit hash of
 * (bucket, key): versions are unique in the cluster, so a match means
 * the kernel's cached pages are that version's (fsn_mu). */
static struct {
	uint64_t	 h;
	int64_t		 version;
} fsn_seen[FSN_SEEN];
/* When a lookup last found (bucket, key) absent, by the same hash
 * (fsn_mu): the kernel sends CREATE right after a LOOKUP that found
 * nothing, and asking again in between would only double the cost. */
static struct {
	uint64_t	 h;
	uint64_t	 at_ns;
	int		 cached;	/* from the name cache, not the registry */
} fsn_gone[FSN_GONE];

void
fsn_init(const struct fsn_cfg *cfg)
{
	fsn_c = *cfg;
}

/* FNV-1a of bucket, a 0xff byte (no name holds it), key. */
static uint64_t
fsn_hash64(const char *bucket, const char *key)
{
	return ark_fnv1a((ark_fnv1a(ARK_FNV_INIT, bucket) ^ 0xff) *
	    1099511628211ull, key);
}

void
fsn_absent(const char *bucket, const char *key, int cached)
{
	uint64_t h = fsn_hash64(bucket, key);

	pthread_mutex_lock(&fsn_mu);
	fsn_gone[h % FSN_GONE].h = h;
	fsn_gone[h % FSN_GONE].at_ns = ark_mono_ns();
	fsn_gone[h % FSN_GONE].cached = cached;
	pthread_mutex_unlock(&fsn_mu);
}

/* Whether a lookup found (bucket, key) absent in the last FSN_GONE_NS:
 * 0 no, 1 the registry said so, 2 the name cache did; forgets it (one
 * CREATE per LOOKUP). */
static int
fsn_was_absent(const char *bucket, const char *key)
{
	uint64_t	 h = fsn_hash64(bucket, key);
	int		 yes;

	pthread_mutex_lock(&fsn_mu);
	yes = fsn_gone[h % FSN_GONE].h == h &&
	    ark_mono_ns() - fsn_gone[h % FSN_GONE].at_ns < FSN_GONE_NS;
	if (yes) {
		fsn_gone[h % FSN_GONE].h = 0;
		yes = fsn_gone[h % FSN_GONE].cached ? 2 : 1;
	}
	pthread_mutex_unlock(&fsn_mu);
	return yes;
}

static unsigned
fsn_hash(const char *bucket, const char *key)
{
	return (unsigned)(fsn_hash64(bucket, key) % FSN_HASH);
}

/* fsn_mu held. */
static struct fsn *
do_fsn_lookup(const char *bucket, const char *key)
{
	struct fsn *n;

	for (n = fsn_tab[fsn_hash(bucket, key)]; n != NULL; n = n->hnext)
		if (strcmp(n->bucket, bucket) == 0 && strcmp(n->key, key) == 0)
			return n;
	return NULL;
}

static void
do_fsn_unhash(struct fsn *n)
{
	struct fsn **pp = &fsn_tab[fsn_hash(n->bucket, n->key)];

	while (*pp != NULL && *pp != n)
		pp = &(*pp)->hnext;
	if (*pp == n)
		*pp = n->hnext;
	n->hnext = NULL;
}

static void
do_fsn_hash(struct fsn *n)
{
	unsigned h = fsn_hash(n->bucket, n->key);

	n->hnext = fsn_tab[h];
	fsn_tab[h] = n;
}

static void
fsn_slots_drop(struct fsn *n)
{
	int i;

	for (i = 0; i < FSN_SLOTS; i++) {
		if (n->slot[i].state == SLOT_LOADING)
			continue;	/* the loader frees it (gen changed) */
		free(n->slot[i].buf);
		n->slot[i].buf = NULL;
		n->slot[i].state = SLOT_EMPTY;
	}
	n->gen++;
}


/* The slots of fragment list frags (borrowed) into *out: 0, or -EIO
 * (logged) when the fragments overlap or are out of order, which no
 * Arkor writer makes. */
static int
fsn_layout(const char *bucket, const char *key, const json_t *frags,
    struct fss **out)
{
	struct fss_ext	*e;
	const json_t	*f;
	size_t		 i, nf = json_array_size(frags);
	enum ark_err	 rc;

	e = ark_xcalloc(nf + 1, sizeof(*e));
	json_array_foreach(frags, i, f) {
		e[i].off = (uint64_t)fsr_int(f, "offset");
		e[i].len = (uint64_t)fsr_int(f, "length");
	}
	rc = fss_new(e, nf, out);
	free(e);
	if (rc != ARK_OK) {
		ark_log_warnx("%s/%s: fragments overlap or are out of order",
		    bucket, key);
		return -EIO;
	}
	return 0;
}

/* Takes the attributes and fragments of registry object `o` (stolen).
 * 0, or -EIO when its fragment list is unusable. n->mu held. */
static int
fsn_take_obj(struct fsn *n, json_t *o)
{
	struct fss	*lay;
	json_t		*frags = json_object_get(o, "fragments");
	struct stat	 st;

	if (!json_is_array(frags))
		frags = NULL;
	if (fsn_layout(fsr_str(o, "bucket"), fsr_str(o, "key"), frags,
	    &lay) != 0) {
		json_decref(o);
		return -EIO;
	}
	fss_free(n->lay);
	n->lay = lay;
	json_decref(n->frags);
	n->frags = frags != NULL ? json_incref(frags) : json_array();
	json_decref(n->obj);
	n->obj = o;
	n->version = fsr_int(o, "version");
	fsn_obj_stat(o, &st);
	n->size = (uint64_t)st.st_size;
	n->mode = st.st_mode;
	n->uid = st.st_uid;
	n->gid = st.st_gid;
	n->mtime_ms = fsr_int(o, "mtime_ms");
	json_decref(n->meta);
	n->meta = json_is_object(json_object_get(o, "user_meta")) ?
	    json_deep_copy(json_object_get(o, "user_meta")) : json_object();
	fsn_slots_drop(n);
	return 0;
}

void
fsn_obj_stat(const void *obj, struct stat *st)
{
	const json_t	*o = obj;
	int64_t		 mode = fsr_int(o, "mode"), ms = fsr_int(o, "mtime_ms");

	memset(st, 0, sizeof(*st));
	if ((mode & S_IFMT) == 0)
		mode |= S_IFREG;
	/* Written by an S3 client: the registry's default mode and owner
	 * 0; show the mount's defaults instead. */
	if (mode == (S_IFREG | 0644) && fsr_int(o, "uid") == 0 &&
	    fsr_int(o, "gid") == 0)
		mode = S_IFREG | fsn_c.file_mode;
	st->st_mode = (mode_t)mode;
	st->st_uid = fsr_int(o, "uid") != 0 ? (uid_t)fsr_int(o, "uid") :
	    fsn_c.uid;
	st->st_gid = fsr_int(o, "gid") != 0 ? (gid_t)fsr_int(o, "gid") :
	    fsn_c.gid;
	st->st_size = (off_t)fsr_int(o, "size");
	st->st_nlink = 1;
	st->st_blksize = 1 << 20;
	st->st_blocks = (st->st_size + 511) / 512;
	st->st_mtim.tv_sec = ms / 1000;
	st->st_mtim.tv_nsec = (ms % 1000) * 1000000;
	st->st_atim = st->st_ctim = st->st_mtim;
}

static int
fsn_get_obj(const char *bucket, const char *key, json_t **out)
{
	return fsr_call("object/get", json_pack("{s:s, s:s, s:b}", "bucket",
	    bucket, "key", key, "tokens", 1), out);
}

static void
fsn_free(struct fsn *n)
{
	int i;

	json_decref(n->obj);
	json_decref(n->frags);
	fss_free(n->lay);
	json_decref(n->meta);
	fsn_wb_free(n);
	for (i = 0; i < FSN_SLOTS; i++)
		free(n->slot[i].buf);
	if (n->tmpfd >= 0)
		close(n->tmpfd);
	pthread_mutex_destroy(&n->mu);
	pthread_cond_destroy(&n->cv);
	free(n->bucket);
	free(n->key);
	n->magic = 0;
	free(n);
}

static struct fsn *
fsn_new(const char *bucket, const char *key)
{
	struct fsn *n = ark_xcalloc(1, sizeof(*n));

	n->magic = FSN_MAGIC;
	n->bucket = ark_xstrdup(bucket);
	n->key = ark_xstrdup(key);
	n->tmpfd = -1;
	n->refs = 1;
	n->rd_idx = (size_t)-1;		/* a first read of fragment 0 streams */
	n->ahead = FSN_AHEAD;
	n->meta = json_object();
	n->frags = json_array();
	if (fss_new(NULL, 0, &n->lay) != ARK_OK)
		ark_fatalx("%s: empty layout", __func__);
	pthread_mutex_init(&n->mu, NULL);
	pthread_cond_init(&n->cv, NULL);
	return n;
}

void
fsn_release(struct fsn *n)
{
	(void)fsn_release_name(n, NULL, NULL);
}

int
fsn_release_name(struct fsn *n, char **bucket, char **key)
{
	int last, named = 0;

	if (n == NULL)
		return 0;
	ARK_CHECK(n, FSN_MAGIC);
	pthread_mutex_lock(&fsn_mu);
	last = --n->refs == 0;
	if (last) {
		/* Nobody else holds it: n->mu is not needed. */
		uint64_t h = fsn_hash64(n->bucket, n->key);

		if (bucket != NULL && n->key[0] != '\0') {
			*bucket = ark_xstrdup(n->bucket);
			*key = ark_xstrdup(n->key);
			named = 1;
		}
		do_fsn_unhash(n);
		if (!n->dirty && !n->deleted && n->version > 0) {
			fsn_seen[h % FSN_SEEN].h = h;
			fsn_seen[h % FSN_SEEN].version = n->version;
		} else if (fsn_seen[h % FSN_SEEN].h == h)
			fsn_seen[h % FSN_SEEN].version = 0;
	}
	pthread_mutex_unlock(&fsn_mu);
	if (last)
		fsn_free(n);
	return named;
}

struct fsn *
fsn_find(const char *bucket, const char *key)
{
	struct fsn *n;

	pthread_mutex_lock(&fsn_mu);
	if ((n = do_fsn_lookup(bucket, key)) != NULL)
		n->refs++;
	pthread_mutex_unlock(&fsn_mu);
	return n;
}

/* An unlinked temp file in the cache dir: O_TMPFILE, or mkstemp and
 * unlink where the file system lacks it. -1 (logged) on failure. */
static int
fsn_tmpfile(void)
{
	char	*path;
	int	 fd;

	fd = open(fsn_c.cache_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	path = ark_xasprintf("%s/arkorfs.XXXXXX", fsn_c.cache_dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	else
		ark_log_warn("temp file in %s", fsn_c.cache_dir);
	free(path);
	return fd;
}

static int	fsn_pwrite_all(int fd, const char *buf, size_t len,
		    uint64_t off);

/* Moves the changes of a memory-staged node to a temp file on disk,
 * holes kept. n->mu held. */
static int
fsn_tmp_to_disk(struct fsn *n)
{
	struct stat	 st;
	char		*buf = NULL;
	off_t		 d = 0, h;
	ssize_t		 r;
	int		 fd, rc = -EIO;

	if (fstat(n->tmpfd, &st) != 0 || (fd = fsn_tmpfile()) < 0)
		return -EIO;
	if (ftruncate(fd, st.st_size) != 0)
		goto out;
	buf = ark_xmalloc(FSN_MEM_MAX);
	while ((d = lseek(n->tmpfd, d, SEEK_DATA)) >= 0) {
		if ((h = lseek(n->tmpfd, d, SEEK_HOLE)) < 0)
			goto out;
		while (d < h) {
			r = pread(n->tmpfd, buf, (size_t)ARK_MIN(h - d,
			    (off_t)FSN_MEM_MAX), d);
			if (r <= 0 || fsn_pwrite_all(fd, buf, (size_t)r,
			    (uint64_t)d) != 0)
				goto out;
			d += r;
		}
	}
	if (errno != ENXIO)
		goto out;
	close(n->tmpfd);
	n->tmpfd = fd;
	n->tmpmem = 0;
	fd = -1;
	rc = 0;
out:
	if (fd >= 0) {
		ark_log_warn("temp file: cannot move %s/%s's changes to disk",
		    n->bucket, n->key);
		close(fd);
	}
	free(buf);
	return rc;
}

/* The temp file that holds local changes, made sparse at the file's
 * size on first use, for changes up to byte `end`: in memory (memfd: no
 * inode or blocks to allocate and free, a quarter of a millisecond per
 * small file here) while the file stays within FSN_MEM_MAX, on disk
 * past that (never much RAM). n->mu held. */
static int
fsn_tmp(struct fsn *n, uint64_t end)
{
	end = ARK_MAX(end, n->size);
	if (n->tmpfd >= 0)
		return n->tmpmem && end > FSN_MEM_MAX ? fsn_tmp_to_disk(n) : 0;
	n->tmpmem = end <= FSN_MEM_MAX &&
	    (n->tmpfd = memfd_create("arkorfs", MFD_CLOEXEC)) >= 0;
	if (!n->tmpmem && (n->tmpfd = fsn_tmpfile()) < 0)
		return -EIO;
	if (ftruncate(n->tmpfd, (off_t)n->size) != 0) {
		ark_log_warn("temp file of %" PRIu64 " bytes", n->size);
		close(n->tmpfd);
		n->tmpfd = -1;
		return -EIO;
	}
	return 0;
}

/* Drops the file's bytes (open with O_TRUNC, truncate to 0). n->mu held. */
static int
fsn_make_empty(struct fsn *n)
{
	/* No temp file until a byte is written: a new empty file (touch,
	 * a lock file) commits without one. */
	if (n->tmpfd >= 0 && ftruncate(n->tmpfd, 0) != 0)
		return -errno;
	fss_truncate(n->lay, 0);
	fsn_wb_free(n);
	n->seq_end = n->wb_next = 0;
	n->size = 0;
	n->dirty = 1;
	n->mtime_ms = ark_now_ms();
	fsn_slots_drop(n);
	return 0;
}

int
fsn_open(const char *bucket, const char *key, int create, int trunc,
    mode_t mode, uid_t uid, gid_t gid, struct fsn **out, int *keep)
{
	struct fsn	*n, *other;
	json_t		*o = NULL;
	uint64_t	 h;
	int		 rc, absent;

	*out = NULL;
	*keep = 0;
	if ((n = fsn_find(bucket, key)) != NULL) {
		rc = 0;
		pthread_mutex_lock(&n->mu);
		if (!n->dirty && n->version > 0 && !n->deleted) {
			/* Close-to-open: someone may have committed since. */
			rc = fsn_get_obj(bucket, key, &o);
			if (rc == 0 && fsr_int(o, "version") != n->version) {
				if (n->tmpfd >= 0) {
					close(n->tmpfd);
					n->tmpfd = -1;
				}
				rc = fsn_take_obj(n, o);
			} else if (rc == 0) {
				json_decref(o);
				*keep = !trunc;
			}
		}
		if (rc == 0 && trunc && n->size > 0)
			rc = fsn_make_empty(n);
		pthread_mutex_unlock(&n->mu);
		if (rc != 0) {
			fsn_release(n);
			return rc;
		}
		*out = n;
		return 0;
	}
	/* A create right after a lookup found nothing need not ask again,
	 * unless that answer came from the name cache (up to the attribute
	 * timeout old) and an object made meanwhile elsewhere would matter:
	 * its content (no O_TRUNC) or O_EXCL. */
	absent = create ? fsn_was_absent(bucket, key) : 0;
	if (absent == 1 || (absent == 2 && trunc && create != FSN_EXCL))
		rc = -ENOENT;
	else
		rc = fsn_get_obj(bucket, key, &o);
	if (rc != 0 && (rc != -ENOENT || !create))
		return rc;
	if (rc == 0 && create == FSN_EXCL) {
		json_decref(o);
		return -EEXIST;
	}
	n = fsn_new(bucket, key);
	pthread_mutex_lock(&n->mu);
	if (o != NULL)
		rc = fsn_take_obj(n, o);
	else {
		n->mode = (mode & 07777) | S_IFREG;
		if ((mode & S_IFMT) != 0)
			n->mode = mode;
		n->uid = uid;
		n->gid = gid;
		rc = fsn_make_empty(n);
	}
	if (rc == 0 && trunc && n->size > 0)
		rc = fsn_make_empty(n);
	pthread_mutex_unlock(&n->mu);
	if (rc != 0) {
		fsn_free(n);
		return rc;
	}
	h = fsn_hash64(bucket, key);
	pthread_mutex_lock(&fsn_mu);
	if ((other = do_fsn_lookup(bucket, key)) != NULL) {
		/* Lost a race with another open: use its node. */
		other->refs++;
		pthread_mutex_unlock(&fsn_mu);
		fsn_free(n);
		*out = other;
		return 0;
	}
	*keep = !n->dirty && n->version > 0 &&
	    fsn_seen[h % FSN_SEEN].h == h &&
	    fsn_seen[h % FSN_SEEN].version == n->version;
	do_fsn_hash(n);
	pthread_mutex_unlock(&fsn_mu);
	*out = n;
	return 0;
}

/* ---- reads --------------------------------------------------------------- */

/* Fetches fragment idx into slot s (state LOADING and its cache flag,
 * set by the caller under n->mu); runs without n->mu. Tokens are
 * refreshed once if every replica refused them. */
static void
fsn_load(struct fsn *n, int s)
{
	json_t		*f, *o = NULL;
	size_t		 idx;
	uint64_t	 gen;
	size_t		 len;
	char		*buf;
	int		 rc, cache;

	pthread_mutex_lock(&n->mu);
	idx = n->slot[s].idx;
	gen = n->slot[s].gen;
	cache = n->slot[s].cache;
	f = json_incref(json_array_get(n->frags, idx));
	pthread_mutex_unlock(&n->mu);
	len = (size_t)fsr_int(f, "length");
	buf = malloc(len > 0 ? len : 1);
	if (buf == NULL)
		rc = -ENOMEM;
	else if (fsc_read(fsr_str(f, "fid"), buf, 0, len))
		rc = 0;
	else if ((rc = fsd_get(f, buf, len)) == 0 && cache)
		fsc_store(fsr_str(f, "fid"), buf, len);
	if (rc == -EACCES) {
		char *b, *k;

		pthread_mutex_lock(&fsn_mu);
		b = ark_xstrdup(n->bucket);
		k = ark_xstrdup(n->key);
		pthread_mutex_unlock(&fsn_mu);
		rc = fsn_get_obj(b, k, &o);
		free(b);
		free(k);
		if (rc == 0) {
			const json_t *nf = json_array_get(json_object_get(o,
			    "fragments"), idx);

			rc = nf != NULL && strcmp(fsr_str(nf, "fid"),
			    fsr_str(f, "fid")) == 0 ? fsd_get(nf, buf, len) :
			    -EIO;
			if (rc == 0 && cache)
				fsc_store(fsr_str(f, "fid"), buf, len);
		}
	}
	json_decref(f);
	pthread_mutex_lock(&n->mu);
	if (o != NULL && rc == 0 && fsr_int(o, "version") == n->version &&
	    n->gen == gen) {
		/* Fresh tokens for the other fragments too. */
		json_decref(n->obj);
		n->obj = o;
		json_decref(n->frags);
		n->frags = json_incref(json_object_get(o, "fragments"));
		o = NULL;
	}
	if (n->slot[s].gen != gen || n->slot[s].state != SLOT_LOADING) {
		free(buf);		/* not ours any more */
	} else if (n->gen != gen) {
		/* The file changed meanwhile: the bytes are stale. */
		free(buf);
		n->slot[s].state = SLOT_EMPTY;
	} else if (rc != 0) {
		free(buf);
		n->slot[s].state = SLOT_ERR;
	} else {
		n->slot[s].buf = buf;
		n->slot[s].len = len;
		n->slot[s].state = SLOT_READY;
	}
	pthread_cond_broadcast(&n->cv);
	pthread_mutex_unlock(&n->mu);
	json_decref(o);
}

static void
fsn_prefetch_job(void *arg)
{
	struct fsn *n = arg;
	int s;

	pthread_mutex_lock(&n->mu);
	for (s = 0; s < FSN_SLOTS; s++)
		if (n->slot[s].state == SLOT_LOADING && n->slot[s].buf == NULL &&
		    n->slot[s].len == (size_t)-1)
			break;
	if (s < FSN_SLOTS)
		n->slot[s].len = 0;
	pthread_mutex_unlock(&n->mu);
	if (s < FSN_SLOTS)
		fsn_load(n, s);
	fsn_release(n);
}

/* A slot to load into, keeping those holding fragments lo..hi: an
 * empty, failed or stale one first, else the lowest fragment (readers
 * move forward). -1 when every other slot is loading. n->mu held. */
static int
fsn_victim(struct fsn *n, size_t lo, size_t hi)
{
	int	 s, best = -1;

	for (s = 0; s < FSN_SLOTS; s++) {
		struct fsn_slot *sl = &n->slot[s];

		if (sl->state == SLOT_LOADING)
			continue;
		if (sl->state != SLOT_READY || sl->gen != n->gen)
			return s;
		if (sl->idx >= lo && sl->idx <= hi)
			continue;
		if (best < 0 || sl->idx < n->slot[best].idx)
			best = s;
	}
	return best;
}

/* The slot holding a valid or loading copy of fragment idx, or -1. */
static int
fsn_slot_find(struct fsn *n, size_t idx)
{
	int s;

	for (s = 0; s < FSN_SLOTS; s++)
		if (n->slot[s].idx == idx && n->slot[s].gen == n->gen &&
		    (n->slot[s].state == SLOT_READY ||
		    n->slot[s].state == SLOT_LOADING))
			return s;
	return -1;
}

/* Starts loading fragments cur+1..cur+n->ahead on workers (into the
 * local fragment cache too with cache). n->mu held. */
static void
fsn_prefetch(struct fsn *n, size_t cur, int cache)
{
	size_t	 idx, nf = json_array_size(n->frags);
	int	 s;

	for (idx = cur + 1; idx <= cur + n->ahead && idx < nf; idx++) {
		if (fss_state(n->lay, idx) != FSS_ABSENT ||
		    fsn_slot_find(n, idx) >= 0)
			continue;
		if ((s = fsn_victim(n, cur, cur + n->ahead)) < 0)
			return;
		free(n->slot[s].buf);
		n->slot[s].buf = NULL;
		n->slot[s].idx = idx;
		n->slot[s].gen = n->gen;
		n->slot[s].len = (size_t)-1;	/* "not yet picked up" */
		n->slot[s].cache = cache;
		n->slot[s].state = SLOT_LOADING;
		pthread_mutex_lock(&fsn_mu);
		n->refs++;
		pthread_mutex_unlock(&fsn_mu);
		fsd_submit(NULL, fsn_prefetch_job, n);
	}
}

/* A slot whose load of fragment idx failed, or -1. */
static int
fsn_slot_err(struct fsn *n, size_t idx)
{
	int s;

	for (s = 0; s < FSN_SLOTS; s++)
		if (n->slot[s].idx == idx && n->slot[s].gen == n->gen &&
		    n->slot[s].state == SLOT_ERR)
			return s;
	return -1;
}

/* The slot holding fragment idx, loading it if needed (into the local
 * fragment cache too with cache). n->mu held. */
static int
fsn_slot_get(struct fsn *n, size_t idx, int cache, int *out)
{
	int s, tries = 0;

	for (;;) {
		if ((s = fsn_slot_find(n, idx)) < 0 &&
		    (s = fsn_slot_err(n, idx)) < 0) {
			if ((s = fsn_victim(n, idx, idx)) < 0) {
				pthread_cond_wait(&n->cv, &n->mu);
				continue;
			}
			free(n->slot[s].buf);
			n->slot[s].buf = NULL;
			n->slot[s].idx = idx;
			n->slot[s].gen = n->gen;
			n->slot[s].len = 0;
			n->slot[s].cache = cache;
			n->slot[s].state = SLOT_LOADING;
			pthread_mutex_unlock(&n->mu);
			fsn_load(n, s);
			pthread_mutex_lock(&n->mu);
			continue;
		}
		switch (n->slot[s].state) {
		case SLOT_READY:
			*out = s;
			return 0;
		case SLOT_LOADING:
			pthread_cond_wait(&n->cv, &n->mu);
			break;
		default:
			n->slot[s].state = SLOT_EMPTY;
			if (++tries > 1)
				return -EIO;
			break;
		}
	}
}

/* Reads [pos, end) from the temp file, zeros past its end or without
 * one (holes). n->mu held. */
static int
fsn_read_local(struct fsn *n, char *buf, uint64_t pos, uint64_t end)
{
	size_t	 done = 0, len = (size_t)(end - pos);
	ssize_t	 r;

	while (n->tmpfd >= 0 && done < len) {
		r = pread(n->tmpfd, buf + done, len - done, (off_t)(pos + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ark_log_warn("temp file read");
			return -EIO;
		}
		if (r == 0)
			break;
		done += (size_t)r;
	}
	memset(buf + done, 0, len - done);
	return 0;
}

int
fsn_read(struct fsn *n, char *buf, size_t size, off_t off)
{
	uint64_t	 o = (uint64_t)off, end;
	size_t		 done = 0, idx, j, nf;
	int		 rc = 0, s;

	ARK_CHECK(n, FSN_MAGIC);
	pthread_mutex_lock(&n->mu);
	/* fsn_slot_get drops n->mu: size and layout are read again after
	 * it, and the step is planned again if they changed. */
	while (o + done < (end = ARK_MIN(n->size, o + size))) {
		uint64_t pos = o + done, lim = end, take;
		struct fss_ext e;

		nf = fss_count(n->lay);
		idx = fss_at(n->lay, pos);
		if (idx < nf && fss_state(n->lay, idx) == FSS_ABSENT &&
		    fss_ext(n->lay, idx).off <= pos) {
			/* Unchanged: the local fragment cache holds it, or
			 * from the data servers. A read of the fragment
			 * last read or a neighbour (the kernel's parallel
			 * read-ahead comes a little out of order) streams:
			 * its fragments are not cached, so that a scan does
			 * not evict what random reads fetched (nor pays for
			 * a copy it will not read again). */
			int seq = idx == n->rd_idx || idx == n->rd_idx + 1 ||
			    idx + 1 == n->rd_idx;

			/* A reader moving on to the next fragment streams:
			 * it gets the deeper read-ahead (one fragment fetch
			 * takes 25 ms here, most of it the data server's
			 * disk; cold 1 GiB reads: 779 -> 903 MB/s). */
			if (idx == n->rd_idx + 1)
				n->ahead = FSN_AHEAD_SEQ;
			else if (!seq)
				n->ahead = FSN_AHEAD;
			n->rd_idx = idx;
			e = fss_ext(n->lay, idx);
			take = ARK_MIN(e.off + e.len, end) - pos;
			if (fsn_slot_find(n, idx) < 0 && fsc_read(fsr_str(
			    json_array_get(n->frags, idx), "fid"), buf + done,
			    pos - e.off, take)) {
				done += take;
				continue;
			}
			if ((rc = fsn_slot_get(n, idx, !seq, &s)) != 0)
				break;
			if (idx >= fss_count(n->lay) ||
			    fss_state(n->lay, idx) != FSS_ABSENT ||
			    (e = fss_ext(n->lay, idx)).off > pos ||
			    e.off + e.len <= pos)
				continue;
			end = ARK_MIN(n->size, o + size);
			if (pos >= end)
				break;
			take = ARK_MIN(e.off + e.len, end) - pos;
			if (pos - e.off + take > n->slot[s].len) {
				rc = -EIO;
				break;
			}
			memcpy(buf + done, n->slot[s].buf + (pos - e.off),
			    take);
			done += take;
			/* Keep the next fragments coming while this one is
			 * read. */
			fsn_prefetch(n, idx, !seq);
			continue;
		}
		/* Changed, or a hole: up to the next absent fragment. */
		for (j = idx; j < nf && fss_ext(n->lay, j).off < end; j++)
			if (fss_state(n->lay, j) == FSS_ABSENT) {
				lim = ARK_MAX(fss_ext(n->lay, j).off, pos);
				break;
			}
		if ((rc = fsn_read_local(n, buf + done, pos, lim)) != 0)
			break;
		done += lim - pos;
	}
	pthread_mutex_unlock(&n->mu);
	return rc != 0 && done == 0 ? rc : (int)done;
}

/* ---- writes -------------------------------------------------------------- */

static int
fsn_pwrite_all(int fd, const char *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = pwrite(fd, buf + done, len - done,
		    (off_t)(off + done));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;

			ark_log_warn("temp file write");
			return e == ENOSPC ? -ENOSPC : -EIO;
		}
		done += (size_t)r;
	}
	return 0;
}

/* Copies absent fragment idx, unchanged, into the temp file (present).
 * Drops n->mu while fetching: the caller plans again afterwards. n->mu
 * held. */
static int
fsn_fetch(struct fsn *n, size_t idx)
{
	struct fss_ext	 e;
	int		 rc, s;

	if ((rc = fsn_slot_get(n, idx, 0, &s)) != 0)
		return rc;
	/* The layout may have changed meanwhile (slot_get reloads idx of
	 * the current one): copy only if it is still needed. */
	if (idx >= fss_count(n->lay) || fss_state(n->lay, idx) != FSS_ABSENT)
		return 0;
	e = fss_ext(n->lay, idx);
	if (n->slot[s].len != e.len)
		return -EIO;
	if ((rc = fsn_tmp(n, e.off + e.len)) != 0 ||
	    (rc = fsn_pwrite_all(n->tmpfd, n->slot[s].buf, e.len, e.off)) != 0)
		return rc;
	fss_set(n->lay, idx, FSS_PRESENT);
	return 0;
}

int
fsn_write(struct fsn *n, const char *buf, size_t size, off_t off)
{
	uint64_t	 fsz = fsn_c.fragment_size;
	size_t		 idx[3];
	int		 rc;

	ARK_CHECK(n, FSN_MAGIC);
	if (size == 0)
		return 0;
	pthread_mutex_lock(&n->mu);
	/* Fetch the fragments this write changes only in part, one at a
	 * time: the layout may change while the lock is dropped. */
	while (fss_write_fetch(n->lay, (uint64_t)off, size, fsz, idx) > 0)
		if ((rc = fsn_fetch(n, idx[0])) != 0)
			goto out;
	if ((rc = fsn_tmp(n, (uint64_t)off + size)) != 0)
		goto out;
	/* Dirty first: a failed write may leave part of it in the file. */
	fss_write(n->lay, (uint64_t)off, size, fsz);
	n->dirty = 1;
	n->mtime_ms = ark_now_ms();
	fsn_wb_forget(n, (uint64_t)off, (uint64_t)off + size);
	if ((rc = fsn_pwrite_all(n->tmpfd, buf, size, (uint64_t)off)) != 0)
		goto out;
	if ((uint64_t)off + size > n->size)
		n->size = (uint64_t)off + size;
	fsn_wb_after_write(n, (uint64_t)off, size);
out:
	pthread_mutex_unlock(&n->mu);
	return rc != 0 ? rc : (int)size;
}

static int	fsn_truncate_locked(struct fsn *, off_t);

int
fsn_truncate(struct fsn *n, off_t size)
{
	int rc;

	ARK_CHECK(n, FSN_MAGIC);
	pthread_mutex_lock(&n->mu);
	rc = fsn_truncate_locked(n, size);
	pthread_mutex_unlock(&n->mu);
	return rc;
}

int
fsn_extend(struct fsn *n, off_t size)
{
	int rc = 0;

	ARK_CHECK(n, FSN_MAGIC);
	pthread_mutex_lock(&n->mu);
	if ((uint64_t)size > n->size)
		rc = fsn_truncate_locked(n, size);
	pthread_mutex_unlock(&n->mu);
	return rc;
}

static int
fsn_truncate_locked(struct fsn *n, off_t size)
{
	size_t	 idx;
	int	 rc = 0;

	if (size == 0)
		return fsn_make_empty(n);
	while (fss_trunc_fetch(n->lay, (uint64_t)size, &idx))
		if ((rc = fsn_fetch(n, idx)) != 0)
			goto out;
	if ((rc = fsn_tmp(n, (uint64_t)size)) != 0)
		goto out;
	if (ftruncate(n->tmpfd, size) != 0) {
		rc = -errno;
		goto out;
	}
	fss_truncate(n->lay, (uint64_t)size);
	fsn_wb_forget(n, (uint64_t)size, UINT64_MAX);
	n->seq_end = n->wb_next = (uint64_t)size;
	n->size = (uint64_t)size;
	n->dirty = 1;
	n->mtime_ms = ark_now_ms();
out:
	return rc;
}

/* ---- commit -------------------------------------------------------------- */

struct fsn_wfrag {
	char		*buf;
	uint64_t	 off;
	size_t		 len;
	uint32_t	 crc;
	int		 zero;		/* a hole: not written */
	json_t		*as;
	struct fsd_put	 put;
	struct fsd_batch *b;		/* the put in flight, or NULL */
	int		 stale;		/* write-behind: changed since */
};

static int
fsn_all_zero(const char *p, size_t len)
{
	static const char z[4096];
	size_t i;

	for (i = 0; i < len; i += sizeof(z))
		if (memcmp(p + i, z, ARK_MIN(sizeof(z), len - i)) != 0)
			return 0;
	return 1;
}

/* The fragment list of a commit as it is built: the entries sent to
 * object/put, and the node's layout after it (reused entries keep their
 * read tokens and state; new ones are present in the temp file). */
struct fsn_acc {
	json_t		*put;
	json_t		*next;
	unsigned char	*st;		/* enum fss_state per entry */
	size_t		 cap;
};

/* Appends fragment (fid, off, len, crc) with state st; e (borrowed, may
 * be NULL: the new entry itself) is what the node keeps. */
static void
fsn_acc_add(struct fsn_acc *a, const char *fid, uint64_t off, uint64_t len,
    uint32_t crc, json_t *e, enum fss_state st)
{
	json_t	*p = json_pack("{s:s, s:I, s:I, s:I}", "fid", fid, "offset",
	    (json_int_t)off, "length", (json_int_t)len, "crc32c",
	    (json_int_t)crc);
	size_t	 i = json_array_size(a->put);

	if (i == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 64;
		a->st = ark_xrealloc(a->st, a->cap);
	}
	a->st[i] = (unsigned char)st;
	json_array_append(a->next, e != NULL ? e : p);
	json_array_append_new(a->put, p);
}

/* Starts the put of w (read, not a hole) to every replica under a fresh
 * FileID: at once from this thread when `now` (a small fragment whose
 * hand-off to the pool would cost more than its bytes), else on the pool
 * (w->b, finished by fsn_put_done). n->mu held. */
static int
fsn_put_begin(struct fsn_wfrag *w, int now)
{
	json_t	*a;
	int	 rc;

	if ((rc = fsa_take(1, &a)) != 0)
		return rc;
	w->as = json_incref(json_array_get(a, 0));
	json_decref(a);
	if (now)
		fsd_put_now(&w->put, w->as, w->buf, w->len, w->crc);
	else {
		w->b = fsd_batch_new();
		fsd_put_start(w->b, &w->put, w->as, w->buf, w->len, w->crc);
	}
	return 0;
}

/* Waits for w's put, writes it again under new FileIDs while a replica
 * fails (FSN_ATTEMPTS in all), and appends it to acc. n->mu held. */
static int
fsn_put_done(struct fsn_wfrag *w, struct fsn_acc *acc)
{
	int attempt, rc;

	if (w->zero)
		return 0;
	for (attempt = 1;; attempt++) {
		if (w->b != NULL) {
			fsd_batch_wait(w->b);
			w->b = NULL;
		}
		if (fsd_put_ok(&w->put))
			break;
		/* The needles written are orphans now; the data servers
		 * reclaim them. The retry goes to another group if one can
		 * take it. */
		fsa_bad(fsr_int(w->as, "group"));
		json_decref(w->as);
		w->as = NULL;
		if (attempt == FSN_ATTEMPTS) {
			ark_log_warnx("fragment at %" PRIu64 ": no group took "
			    "it after %d attempts", w->off, FSN_ATTEMPTS);
			return -EIO;
		}
		if ((rc = fsn_put_begin(w, w->len <= FSN_PUT_NOW_MAX)) != 0)
			return rc;
	}
	fsn_acc_add(acc, fsr_str(w->as, "fid"), w->off, w->len, w->crc,
	    NULL, FSS_PRESENT);
	return 0;
}

/* Finishes the *k puts in flight of ring w (win slots, the oldest at
 * *h), in order, appending them to acc. n->mu held. */
static int
fsn_put_all(struct fsn_wfrag *w, size_t win, size_t *h, size_t *k,
    struct fsn_acc *acc)
{
	int rc = 0;

	for (; rc == 0 && *k > 0; (*k)--, *h = (*h + 1) % win)
		rc = fsn_put_done(&w[*h], acc);
	return rc;
}

/* Reads the local piece [off, off+len) into w; w->zero when it has no
 * byte that is not zero. A hole of the temp file is not read (its bytes
 * are zeroed only when `bytes`: the MD5 needs them). n->mu held. */
static int
fsn_read_piece(struct fsn *n, struct fsn_wfrag *w, uint64_t off,
    uint64_t len, int bytes)
{
	off_t	 d;
	int	 rc;

	json_decref(w->as);
	w->as = NULL;
	w->off = off;
	w->len = (size_t)len;
	if (w->buf == NULL &&
	    (w->buf = malloc((size_t)fsn_c.fragment_size)) == NULL)
		return -ENOMEM;
	d = lseek(n->tmpfd, (off_t)off, SEEK_DATA);
	if ((d < 0 && errno == ENXIO) || (d >= 0 && (uint64_t)d >= off + len)) {
		w->zero = 1;
		if (bytes)
			memset(w->buf, 0, w->len);
		return 0;
	}
	if ((rc = fsn_read_local(n, w->buf, off, off + len)) != 0)
		return rc;
	w->zero = fsn_all_zero(w->buf, w->len);
	w->crc = w->zero ? 0 : ark_crc32c(0, w->buf, w->len);
	return 0;
}

/* ---- write-behind -------------------------------------------------------- */

/*
 * A sequential writer does not leave the whole upload to the commit: once
 * a streak of sequential writes has filled a whole new piece of the
 * commit plan (fss_piece_at: a full fragment of a local run), the piece
 * is read back from the temp file (still in the page cache) and put to a
 * group while the writer goes on, at most `window` puts at a time (the
 * writer waits for the oldest past that). The temp file stays the source
 * of truth: a write or truncate over an early piece forgets it (its
 * FileID becomes an orphan that the GC takes), and the commit takes an
 * early piece only where its plan has exactly that piece; every other
 * piece is read and put as before. Nothing is visible to other readers
 * before the commit's object/put.
 */
struct fsn_early {			/* a piece put before the commit */
	uint64_t	 off;
	uint64_t	 len;		/* fragment_size */
	uint32_t	 crc;
	json_t		*as;		/* its assignment; NULL: all zero */
	int		 used;		/* taken by the commit */
};

struct fsn_wb {
	struct fsn_wfrag	*ring;		/* puts in flight: window slots */
	size_t			 h, k;		/* the oldest, how many */
	struct fsn_early	*done;		/* finished, by offset */
	size_t			 ndone, cap;
};

/* Index of the first finished piece that starts at or past off. */
static size_t
fsn_wb_find(const struct fsn_wb *wb, uint64_t off)
{
	size_t lo = 0, hi = wb->ndone;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (wb->done[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Waits for ring slot w's put and keeps the piece if it is still wanted
 * and every replica took it. */
static void
fsn_wb_collect(struct fsn_wb *wb, struct fsn_wfrag *w)
{
	struct fsn_early	 e;
	size_t			 i;

	if (w->b != NULL) {
		fsd_batch_wait(w->b);
		w->b = NULL;
	}
	if (w->stale || (!w->zero && !fsd_put_ok(&w->put))) {
		if (!w->stale)		/* the commit puts it again */
			fsa_bad(fsr_int(w->as, "group"));
		json_decref(w->as);
		w->as = NULL;
		return;
	}
	e.off = w->off;
	e.len = w->len;
	e.crc = w->crc;
	e.as = w->as;			/* NULL for a zero piece: never put */
	e.used = 0;
	w->as = NULL;
	i = fsn_wb_find(wb, e.off);
	if (i < wb->ndone && wb->done[i].off == e.off) {
		json_decref(wb->done[i].as);
		wb->done[i] = e;
		return;
	}
	if (wb->ndone == wb->cap) {
		wb->cap = wb->cap ? wb->cap * 2 : 64;
		wb->done = ark_xrealloc(wb->done, wb->cap * sizeof(*wb->done));
	}
	memmove(&wb->done[i + 1], &wb->done[i],
	    (wb->ndone - i) * sizeof(*wb->done));
	wb->done[i] = e;
	wb->ndone++;
}

static void
fsn_wb_wait_one(struct fsn_wb *wb)
{
	fsn_wb_collect(wb, &wb->ring[wb->h]);
	wb->h = (wb->h + 1) % fsn_c.window;
	wb->k--;
}

/* Forgets the early pieces that overlap [lo, hi). n->mu held. */
static void
fsn_wb_forget(struct fsn *n, uint64_t lo, uint64_t hi)
{
	struct fsn_wb	*wb = n->wb;
	uint64_t	 fsz = fsn_c.fragment_size;
	size_t		 i, j;

	if (wb == NULL)
		return;
	for (i = 0; i < wb->k; i++) {
		struct fsn_wfrag *w = &wb->ring[(wb->h + i) % fsn_c.window];

		if (w->off < hi && w->off + w->len > lo)
			w->stale = 1;
	}
	/* Every piece is fsz long: those that end past lo start past
	 * lo - fsz. */
	i = j = fsn_wb_find(wb, lo >= fsz ? lo - fsz + 1 : 0);
	while (j < wb->ndone && wb->done[j].off < hi)
		json_decref(wb->done[j++].as);
	if (j > i) {
		memmove(&wb->done[i], &wb->done[j],
		    (wb->ndone - j) * sizeof(*wb->done));
		wb->ndone -= j - i;
	}
}

/* After a write of [off, off+len): extends or restarts the streak and
 * starts the puts of the whole new pieces it filled. n->mu held. */
static void
fsn_wb_after_write(struct fsn *n, uint64_t off, uint64_t len)
{
	uint64_t		 fsz = fsn_c.fragment_size, end = off + len, pos;
	struct fss_piece	 p, todo[16];
	struct fsn_wfrag	*x;
	struct fsn_wb		*wb;
	size_t			 nt = 0;

	if (off != n->seq_end)		/* a new streak */
		n->wb_next = off;
	n->seq_end = end;
	/* Look once the streak has a piece's worth and the write ends on or
	 * crosses a multiple of fsz (where the pieces of new files and of
	 * arkorfs's own fragments end): the plan costs a scan. */
	if (end - n->wb_next < fsz || (end % fsz != 0 && end / fsz == off / fsz))
		return;
	for (pos = end; nt < ARK_ARRAY_SIZE(todo) && pos > n->wb_next &&
	    fss_piece_at(n->lay, n->size, fsz, pos - 1, &p) &&
	    p.off >= n->wb_next; pos = p.off)
		if (p.reuse == FSS_NONE && p.len == fsz && p.off + fsz <= end)
			todo[nt++] = p;
	while (nt > 0) {
		p = todo[--nt];
		if (n->wb == NULL) {
			n->wb = ark_xcalloc(1, sizeof(*n->wb));
			n->wb->ring = ark_xcalloc(fsn_c.window,
			    sizeof(*n->wb->ring));
		}
		wb = n->wb;
		if (wb->k == fsn_c.window)
			fsn_wb_wait_one(wb);
		x = &wb->ring[(wb->h + wb->k) % fsn_c.window];
		x->stale = 0;
		/* On an error the commit does the piece (and reports). */
		if (fsn_read_piece(n, x, p.off, p.len, 0) != 0)
			return;
		n->wb_next = p.off + p.len;
		if (x->zero)
			fsn_wb_collect(wb, x);
		else if (fsn_put_begin(x, 0) != 0)
			return;
		else
			wb->k++;
	}
}

/* Takes the early piece [off, off+len) for the commit: 1 and *e (the
 * caller owns e->as), or 0. n->mu held, no put in flight. */
static int
fsn_wb_take(struct fsn *n, uint64_t off, uint64_t len, struct fsn_early *e)
{
	struct fsn_wb	*wb = n->wb;
	size_t		 i;

	if (wb == NULL || (i = fsn_wb_find(wb, off)) == wb->ndone ||
	    wb->done[i].off != off || wb->done[i].len != len ||
	    wb->done[i].used)
		return 0;
	*e = wb->done[i];
	wb->done[i].as = NULL;
	wb->done[i].used = 1;
	return 1;
}

/* Waits for the puts in flight; their buffers go. n->mu held. */
static void
fsn_wb_drain(struct fsn *n)
{
	struct fsn_wb	*wb = n->wb;
	size_t		 i;

	if (wb == NULL)
		return;
	while (wb->k > 0)
		fsn_wb_wait_one(wb);
	for (i = 0; i < fsn_c.window; i++) {
		free(wb->ring[i].buf);
		wb->ring[i].buf = NULL;
	}
}

/* Drops write-behind: pieces not taken are orphans now. n->mu held (or
 * the node is being freed). */
static void
fsn_wb_free(struct fsn *n)
{
	struct fsn_wb	*wb = n->wb;
	size_t		 i;

	if (wb == NULL)
		return;
	fsn_wb_drain(n);
	for (i = 0; i < wb->ndone; i++)
		json_decref(wb->done[i].as);
	free(wb->done);
	free(wb->ring);
	free(wb);
	n->wb = NULL;
}

/* The ETag of a commit of several fragments or that reuses some: the
 * MD5 of the content would need every byte, so it is the MD5 of the
 * fragment list with the "-<count>" of a multipart upload, which S3
 * clients do not take for a content MD5. */
static void
fsn_list_etag(const json_t *frags, char *etag, size_t cap)
{
	struct ark_hash	*h;
	unsigned char	 dig[ARK_HASH_MAXLEN];
	char		 hex[33], line[128];
	const json_t	*f;
	size_t		 i;

	if (ark_hash_new(ARK_HASH_MD5, &h) != ARK_OK)
		ark_fatalx("%s: MD5", __func__);
	json_array_foreach(frags, i, f) {
		int l = snprintf(line, sizeof(line), "%s %lld %lld %lld\n",
		    fsr_str(f, "fid"), fsr_int(f, "offset"),
		    fsr_int(f, "length"), fsr_int(f, "crc32c"));

		ark_hash_update(h, line, (size_t)l);
	}
	ark_hash_final(h, dig);
	ark_hash_free(h);
	ark_hex_encode(dig, 16, hex);
	snprintf(etag, cap, "%s-%zu", hex, json_array_size(frags));
}

/* The layout after a commit: acc's entries and states. n->mu held. */
static void
fsn_relayout(struct fsn *n, struct fsn_acc *acc)
{
	struct fss	*lay;
	size_t		 i;

	if (fsn_layout("", "", acc->next, &lay) != 0)
		ark_fatalx("%s: a commit made an unusable layout", __func__);
	for (i = 0; i < fss_count(lay); i++)
		fss_set(lay, i, (enum fss_state)acc->st[i]);
	fss_free(n->lay);
	n->lay = lay;
	json_decref(n->frags);
	n->frags = json_incref(acc->next);
	fsn_slots_drop(n);
}

/* Commits the file with one object/put: fragments nobody changed are
 * reused as they are, the rest is read from the temp file and written
 * as new fragments (fs_slots.h). n->mu held; bucket and key are copies.
 * Logs nothing on a refused commit (the caller does). */
static int
fsn_commit(struct fsn *n, const char *bucket, const char *key, int durable)
{
	struct fsn_wfrag	*w;
	struct fsn_early	 e;
	struct fsn_acc		 acc;
	struct ark_hash		*md5 = NULL;
	struct fss_iter		 it;
	struct fss_piece	 p;
	unsigned char		 dig[ARK_HASH_MAXLEN];
	char			 etag[48];
	json_t			*body, *res = NULL;
	uint64_t		 fsz = fsn_c.fragment_size, t0, moved = 0;
	size_t			 i, h = 0, k = 0, win = fsn_c.window;
	size_t			 reused = 0, early = 0;
	int			 rc, whole;

	if (n->size > 0 && (rc = fsn_tmp(n, 0)) != 0)
		return rc;
	t0 = ark_mono_ns();
	fsn_wb_drain(n);
	memset(&acc, 0, sizeof(acc));
	acc.put = json_array();
	acc.next = json_array();
	w = ark_xcalloc(win, sizeof(*w));
	/* A file of one fragment, every byte new: the ETag is the content's
	 * MD5, as a single S3 PUT's. A larger one gets the multipart shape
	 * (fsn_list_etag), as `aws s3 cp` gives a file past its 8 MiB
	 * parts: hashing every byte would cost a core-second per GiB on the
	 * commit's path. */
	whole = n->size <= fsz;
	memset(&it, 0, sizeof(it));
	while (whole && fss_next(n->lay, n->size, fsz, &it, &p))
		whole = p.reuse == FSS_NONE;
	if (whole && ark_hash_new(ARK_HASH_MD5, &md5) != ARK_OK) {
		rc = -ENOMEM;
		goto out;
	}
	/* New pieces go through a ring of `win` slots: w[h] is the oldest of
	 * the k in flight; a slot is read again once its put is done, so
	 * the data servers always have up to `win` fragments to take. */
	memset(&it, 0, sizeof(it));
	while (rc == 0 && fss_next(n->lay, n->size, fsz, &it, &p)) {
		struct fsn_wfrag *x;

		if (p.reuse != FSS_NONE) {
			/* Keep the list in offset order. */
			if ((rc = fsn_put_all(w, win, &h, &k, &acc)) != 0)
				break;
			fsn_acc_add(&acc, fsr_str(json_array_get(n->frags,
			    p.reuse), "fid"), p.off, p.len,
			    (uint32_t)fsr_int(json_array_get(n->frags, p.reuse),
			    "crc32c"), json_array_get(n->frags, p.reuse),
			    fss_state(n->lay, p.reuse));
			reused++;
			continue;
		}
		if (fsn_wb_take(n, p.off, p.len, &e)) {
			rc = fsn_put_all(w, win, &h, &k, &acc);
			/* A one-fragment file's MD5 needs its bytes. */
			if (rc == 0 && md5 != NULL &&
			    (rc = fsn_read_piece(n, &w[h], p.off, p.len,
			    1)) == 0)
				ark_hash_update(md5, w[h].buf, w[h].len);
			if (rc == 0 && e.as != NULL) {
				fsn_acc_add(&acc, fsr_str(e.as, "fid"), p.off,
				    p.len, e.crc, NULL, FSS_PRESENT);
				moved += p.len;
				early++;
			}
			json_decref(e.as);
			continue;
		}
		if (k == win) {
			rc = fsn_put_done(&w[h], &acc);
			h = (h + 1) % win;
			k--;
			if (rc != 0)
				break;
		}
		x = &w[(h + k) % win];
		if ((rc = fsn_read_piece(n, x, p.off, p.len,
		    md5 != NULL)) != 0)
			break;
		if (md5 != NULL)
			ark_hash_update(md5, x->buf, x->len);
		moved += x->zero ? 0 : p.len;
		k++;
		/* The last piece goes out from here if small: for a small
		 * file it is the only one. */
		if (!x->zero)
			rc = fsn_put_begin(x, p.off + p.len >= n->size &&
			    x->len <= FSN_PUT_NOW_MAX);
	}
	if (rc != 0 || (rc = fsn_put_all(w, win, &h, &k, &acc)) != 0)
		goto out;
	if (md5 != NULL) {
		ark_hash_final(md5, dig);
		ark_hex_encode(dig, 16, etag);
	} else
		fsn_list_etag(acc.put, etag, sizeof(etag));
	body = json_pack("{s:s, s:s, s:I, s:s, s:I, s:I, s:I, s:I, s:O}",
	    "bucket", bucket, "key", key, "size", (json_int_t)n->size,
	    "etag", etag, "mode", (json_int_t)n->mode, "uid",
	    (json_int_t)n->uid, "gid", (json_int_t)n->gid, "mtime_ms",
	    (json_int_t)n->mtime_ms, "fragments", acc.put);
	if (n->obj != NULL) {
		/* Keep what S3 clients set (content type, headers). */
		static const char *const keep[] = { "content_type",
		    "headers", "tags", NULL };
		const char *const *kp;

		for (kp = keep; *kp != NULL; kp++) {
			json_t *v = json_object_get(n->obj, *kp);

			if (v != NULL && !json_is_null(v) &&
			    !(json_is_object(v) && json_object_size(v) == 0) &&
			    !(json_is_string(v) && json_string_length(v) == 0))
				json_object_set(body, *kp, v);
		}
	}
	/* User metadata: the S3 client's and the xattrs, as edited. */
	if (json_object_size(n->meta) > 0)
		json_object_set(body, "user_meta", n->meta);
	/* Reused fragments are safe only while the version they belong to
	 * is the current one: then no GC can have taken them. */
	if (reused > 0)
		json_object_set_new(body, "if_version",
		    json_integer(n->version));
	if (!durable)
		json_object_set_new(body, "durable", json_false());
	ark_log_debug("%s: %s/%s: %" PRIu64 " bytes, %" PRIu64 " uploaded "
	    "(%zu fragments before the commit), %zu of %zu fragments reused, "
	    "in %" PRIu64 " ms", __func__, bucket, key, n->size, moved, early,
	    reused, json_array_size(acc.put), (ark_mono_ns() - t0) / 1000000);
	if ((rc = fsr_call("object/put", body, &res)) != 0)
		goto out;
	n->version = fsr_int(res, "version");
	n->dirty = 0;
	json_decref(res);
	/* The next change starts from what was just committed; obj keeps
	 * the S3 attributes for the next commit. */
	fsn_relayout(n, &acc);
out:
	fsn_wb_free(n);
	for (i = 0; i < win; i++) {
		if (w[i].b != NULL)	/* a failed commit's puts in flight */
			fsd_batch_wait(w[i].b);
		free(w[i].buf);
		json_decref(w[i].as);
	}
	free(w);
	ark_hash_free(md5);
	json_decref(acc.put);
	json_decref(acc.next);
	free(acc.st);
	return rc;
}

/* After a commit refused because the file changed elsewhere since its
 * version was read (412 on if_version, or 409 fragment_deleted): fetches
 * every absent fragment and marks all dirty, so the next commit writes
 * everything again and needs no condition (the last writer wins, as for
 * a file written whole). -EIO when a fragment is gone already (the GC
 * took the replaced version's). n->mu held (dropped while fetching). */
static int
fsn_fetch_all(struct fsn *n)
{
	size_t	 i;
	int	 rc;

	for (i = 0; i < fss_count(n->lay); i++)
		while (i < fss_count(n->lay) &&
		    fss_state(n->lay, i) == FSS_ABSENT)
			if ((rc = fsn_fetch(n, i)) != 0)
				return rc;
	for (i = 0; i < fss_count(n->lay); i++)
		if (fss_state(n->lay, i) == FSS_PRESENT)
			fss_set(n->lay, i, FSS_DIRTY);
	return 0;
}

static int
fsn_flush1(struct fsn *n, int durable)
{
	char	*b, *k;
	int	 rc = 0;

	ARK_CHECK(n, FSN_MAGIC);
	pthread_mutex_lock(&n->mu);
	if (!n->dirty || n->deleted)
		goto out;
	pthread_mutex_lock(&fsn_mu);
	b = ark_xstrdup(n->bucket);
	k = ark_xstrdup(n->key);
	pthread_mutex_unlock(&fsn_mu);
	rc = fsn_commit(n, b, k, durable);
	if (rc == -ESTALE || (rc == -EEXIST &&
	    strcmp(fsr_last_error(), "fragment_deleted") == 0)) {
		ark_log_info("commit %s/%s: changed elsewhere since version %"
		    PRId64 " was opened; writing the whole file again", b, k,
		    n->version);
		rc = fsn_fetch_all(n);
		if (rc == 0 && n->dirty && !n->deleted)
			rc = fsn_commit(n, b, k, durable);
	}
	if (rc != 0)
		ark_log_warnx("commit %s/%s: %s", b, k, strerror(-rc));
	free(b);
	free(k);
out:
	pthread_mutex_unlock(&n->mu);
	return rc;
}

int
fsn_flush(struct fsn *n)
{
	return fsn_flush1(n, 0);
}

int
fsn_fsync(struct fsn *n)
{
	int rc;

	if ((rc = fsn_flush1(n, 1)) != 0)
		return rc;
	return fsr_sync();	/* earlier lazy commits: of this file too */
}

/* ---- attributes, renames ------------------------------------------------- */

void
fsn_stat(struct fsn *n, struct stat *st)
{
	ARK_CHECK(n, FSN_MAGIC);
	pthread_mutex_lock(&n->mu);
	memset(st, 0, sizeof(*st));
	st->st_mode = n->mode;
	st->st_uid = n->uid;
	st->st_gid = n->gid;
	st->st_size = (off_t)n->size;
	st->st_nlink = 1;
	st->st_blksize = 1 << 20;
	st->st_blocks = (st->st_size + 511) / 512;
	st->st_mtim.tv_sec = n->mtime_ms / 1000;
	st->st_mtim.tv_nsec = (n->mtime_ms % 1000) * 1000000;
	st->st_atim = st->st_ctim = st->st_mtim;
	pthread_mutex_unlock(&n->mu);
}

int
fsn_stat_path(const char *bucket, const char *key, struct stat *st)
{
	struct fsn	*n = fsn_find(bucket, key);
	int		 deleted;

	if (n == NULL)
		return -ENOENT;
	pthread_mutex_lock(&n->mu);
	deleted = n->deleted;
	pthread_mutex_unlock(&n->mu);
	if (!deleted)
		fsn_stat(n, st);
	fsn_release(n);
	return deleted ? -ENOENT : 0;
}

void
fsn_setattr(struct fsn *n, mode_t mode, uid_t uid, gid_t gid,
    int64_t mtime_ms, int *deferred)
{
	ARK_CHECK(n, FSN_MAGIC);
	pthread_mutex_lock(&n->mu);
	if (mode != (mode_t)-1)
		n->mode = (n->mode & S_IFMT) | (mode & 07777);
	if (uid != (uid_t)-1)
		n->uid = uid;
	if (gid != (gid_t)-1)
		n->gid = gid;
	if (mtime_ms >= 0)
		n->mtime_ms = mtime_ms;
	*deferred = n->dirty || n->deleted;
	pthread_mutex_unlock(&n->mu);
}

int
fsn_name(struct fsn *n, char **bucket, char **key)
{
	int rc = -ENOENT;

	ARK_CHECK(n, FSN_MAGIC);
	*bucket = *key = NULL;
	pthread_mutex_lock(&fsn_mu);	/* a rename changes the name */
	if (n->key[0] != '\0') {	/* "": unlinked or replaced */
		*bucket = ark_xstrdup(n->bucket);
		*key = ark_xstrdup(n->key);
		rc = 0;
	}
	pthread_mutex_unlock(&fsn_mu);
	return rc;
}

void
fsn_unlinked(const char *bucket, const char *key)
{
	struct fsn *n = fsn_find(bucket, key);

	if (n == NULL)
		return;
	pthread_mutex_lock(&n->mu);
	n->deleted = 1;
	pthread_mutex_unlock(&n->mu);
	pthread_mutex_lock(&fsn_mu);
	/* Out of the table: a new file of that name is another node. */
	do_fsn_unhash(n);
	free(n->key);
	n->key = ark_xstrdup("");
	pthread_mutex_unlock(&fsn_mu);
	fsn_release(n);
}

void
fsn_renamed(const char *sbucket, const char *src, const char *dbucket,
    const char *dst, int is_prefix)
{
	struct fsn	*n, *moved = NULL, *next;
	size_t		 h, sl = strlen(src);

	pthread_mutex_lock(&fsn_mu);
	/* A node at the destination is replaced: it is gone. */
	if (!is_prefix && (n = do_fsn_lookup(dbucket, dst)) != NULL) {
		do_fsn_unhash(n);
		free(n->key);
		n->key = ark_xstrdup("");
		n->deleted = 1;		/* atomic: n->mu is not held */
	}
	for (h = 0; h < FSN_HASH; h++) {
		struct fsn **pp = &fsn_tab[h];

		while ((n = *pp) != NULL) {
			if (strcmp(n->bucket, sbucket) == 0 && (is_prefix ?
			    strncmp(n->key, src, sl) == 0 :
			    strcmp(n->key, src) == 0)) {
				char *nk = ark_xasprintf("%s%s", dst,
				    n->key + sl);

				*pp = n->hnext;
				free(n->key);
				n->key = nk;
				free(n->bucket);
				n->bucket = ark_xstrdup(dbucket);
				n->hnext = moved;
				moved = n;
			} else
				pp = &n->hnext;
		}
	}
	for (n = moved; n != NULL; n = next) {
		next = n->hnext;
		do_fsn_hash(n);
	}
	pthread_mutex_unlock(&fsn_mu);
}

/* The open nodes under (bucket, prefix), each with a new reference
 * (fsn_release them; free the array): all of them, or with `children`
 * only those directly under it. */
static struct fsn **
fsn_collect(const char *bucket, const char *prefix, int children,
    size_t *cnt)
{
	struct fsn	**list = NULL, *n;
	size_t		 cap = 0, h, pl = strlen(prefix);

	*cnt = 0;
	pthread_mutex_lock(&fsn_mu);
	for (h = 0; h < FSN_HASH; h++)
		for (n = fsn_tab[h]; n != NULL; n = n->hnext) {
			if (strcmp(n->bucket, bucket) != 0 ||
			    strncmp(n->key, prefix, pl) != 0 ||
			    (children && (n->key[pl] == '\0' ||
			    strchr(n->key + pl, '/') != NULL)))
				continue;
			if (*cnt == cap) {
				cap = cap ? cap * 2 : 16;
				list = ark_xrealloc(list, cap * sizeof(*list));
			}
			n->refs++;
			list[(*cnt)++] = n;
		}
	pthread_mutex_unlock(&fsn_mu);
	return list;
}

json_t *
fsn_new_under(const char *bucket, const char *prefix)
{
	struct fsn	**list, *n;
	size_t		 cnt, i;
	json_t		*out = json_array();
	struct stat	 st;
	char		*b, *k;
	int		 fresh;

	list = fsn_collect(bucket, prefix, 1, &cnt);
	for (i = 0; i < cnt; i++) {
		n = list[i];
		pthread_mutex_lock(&n->mu);
		fresh = n->version == 0 && !n->deleted;
		pthread_mutex_unlock(&n->mu);
		if (fresh && fsn_name(n, &b, &k) == 0) {
			fsn_stat(n, &st);
			json_array_append_new(out, json_pack("{s:s, s:I, s:I}",
			    "key", k, "size", (json_int_t)st.st_size,
			    "mode", (json_int_t)st.st_mode));
			free(b);
			free(k);
		}
		fsn_release(n);
	}
	free(list);
	return out;
}

int
fsn_any_under(const char *bucket, const char *prefix)
{
	struct fsn	*n;
	size_t		 h, pl = strlen(prefix);
	int		 any = 0;

	pthread_mutex_lock(&fsn_mu);
	for (h = 0; h < FSN_HASH && !any; h++)
		for (n = fsn_tab[h]; n != NULL && !any; n = n->hnext)
			any = strcmp(n->bucket, bucket) == 0 &&
			    strncmp(n->key, prefix, pl) == 0;
	pthread_mutex_unlock(&fsn_mu);
	return any;
}

int
fsn_flush_prefix(const char *bucket, const char *prefix)
{
	struct fsn	**list;
	size_t		 cnt, i;
	int		 rc = 0, r;

	list = fsn_collect(bucket, prefix, 0, &cnt);
	for (i = 0; i < cnt; i++) {
		if ((r = fsn_flush(list[i])) != 0 && rc == 0)
			rc = r;
		fsn_release(list[i]);
	}
	free(list);
	return rc;
}

int
fsn_meta_lock(struct fsn *n, json_t **meta)
{
	ARK_CHECK(n, FSN_MAGIC);
	pthread_mutex_lock(&n->mu);
	*meta = n->meta;
	return n->dirty && !n->deleted;
}

void
fsn_meta_unlock(struct fsn *n, json_t *newmeta)
{
	ARK_CHECK(n, FSN_MAGIC);
	if (newmeta != NULL) {
		json_decref(n->meta);
		n->meta = newmeta;
	}
	pthread_mutex_unlock(&n->mu);
}
