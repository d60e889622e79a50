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
#include <unistd.h>

#include <jansson.h>

#include "common/cksum.h"
#include "common/log.h"
#include "common/util.h"
#include "fs/fs_data.h"
#include "fs/fs_node.h"
#include "fs/fs_reg.h"

#define FSN_MAGIC	0x46534e31u	/* "FSN1" */
#define FSN_HASH	1024
#define FSN_ATTEMPTS	3		/* per fragment, each a new FileID */
#define FSN_SLOTS	4		/* fragments cached per open file */
#define FSN_AHEAD	2		/* fragments prefetched ahead */

enum fsn_slot_state { SLOT_EMPTY, SLOT_LOADING, SLOT_READY, SLOT_ERR };

struct fsn_slot {
	enum fsn_slot_state	 state;
	size_t			 idx;		/* fragment index */
	char			*buf;
	size_t			 len;
	uint64_t		 gen;
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
	json_t			*frags;		/* borrowed from obj */
	json_t			*meta;		/* user_meta (xattrs), owned */
	int64_t			 version;	/* 0: never committed */
	uint64_t		 size;
	mode_t			 mode;
	uid_t			 uid;
	gid_t			 gid;
	int64_t			 mtime_ms;
	int			 tmpfd;		/* -1: not materialised */
	int			 dirty;
	int			 deleted;
	uint64_t		 gen;		/* bumps when obj changes */
	struct fsn_slot		 slot[FSN_SLOTS];
};

static struct fsn_cfg	 fsn_c;
static pthread_mutex_t	 fsn_mu = PTHREAD_MUTEX_INITIALIZER;
static struct fsn	*fsn_tab[FSN_HASH];

void
fsn_init(const struct fsn_cfg *cfg)
{
	fsn_c = *cfg;
}

static unsigned
fsn_hash(const char *bucket, const char *key)
{
	uint32_t h = 2166136261u;
	const char *p;

	for (p = bucket; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h = (h ^ 0xff) * 16777619u;
	for (p = key; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h % FSN_HASH;
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

/* Takes the attributes of registry object `o` (stolen). n->mu held. */
static void
fsn_take_obj(struct fsn *n, json_t *o)
{
	struct stat st;

	json_decref(n->obj);
	n->obj = o;
	n->frags = json_object_get(o, "fragments");
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
	json_decref(n->meta);
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
	n->meta = json_object();
	pthread_mutex_init(&n->mu, NULL);
	pthread_cond_init(&n->cv, NULL);
	return n;
}

void
fsn_release(struct fsn *n)
{
	int last;

	if (n == NULL)
		return;
	ARK_CHECK(n, FSN_MAGIC);
	pthread_mutex_lock(&fsn_mu);
	last = --n->refs == 0;
	if (last)
		do_fsn_unhash(n);
	pthread_mutex_unlock(&fsn_mu);
	if (last)
		fsn_free(n);
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

/* Drops the file's bytes (open with O_TRUNC, truncate to 0). n->mu held. */
static int
fsn_make_empty(struct fsn *n)
{
	if (n->tmpfd < 0) {
		if ((n->tmpfd = fsn_tmpfile()) < 0)
			return -EIO;
	}
	if (ftruncate(n->tmpfd, 0) != 0)
		return -errno;
	n->size = 0;
	n->dirty = 1;
	n->mtime_ms = ark_now_ms();
	fsn_slots_drop(n);
	return 0;
}

int
fsn_open(const char *bucket, const char *key, int create, int trunc,
    mode_t mode, uid_t uid, gid_t gid, struct fsn **out)
{
	struct fsn	*n, *other;
	json_t		*o = NULL;
	int		 rc;

	*out = NULL;
	if ((n = fsn_find(bucket, key)) != NULL) {
		pthread_mutex_lock(&n->mu);
		if (!n->dirty && n->version > 0 && !n->deleted) {
			/* Close-to-open: someone may have committed since. */
			rc = fsn_get_obj(bucket, key, &o);
			if (rc == 0 && fsr_int(o, "version") != n->version) {
				if (n->tmpfd >= 0) {
					close(n->tmpfd);
					n->tmpfd = -1;
				}
				fsn_take_obj(n, o);
			} else if (rc == 0)
				json_decref(o);
		}
		rc = trunc && n->size > 0 ? fsn_make_empty(n) : 0;
		pthread_mutex_unlock(&n->mu);
		if (rc != 0) {
			fsn_release(n);
			return rc;
		}
		*out = n;
		return 0;
	}
	rc = fsn_get_obj(bucket, key, &o);
	if (rc != 0 && (rc != -ENOENT || !create))
		return rc;
	n = fsn_new(bucket, key);
	pthread_mutex_lock(&n->mu);
	if (o != NULL)
		fsn_take_obj(n, o);
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
	pthread_mutex_lock(&fsn_mu);
	if ((other = do_fsn_lookup(bucket, key)) != NULL) {
		/* Lost a race with another open: use its node. */
		other->refs++;
		pthread_mutex_unlock(&fsn_mu);
		fsn_free(n);
		*out = other;
		return 0;
	}
	do_fsn_hash(n);
	pthread_mutex_unlock(&fsn_mu);
	*out = n;
	return 0;
}

/* ---- reads --------------------------------------------------------------- */

/* Index of the first fragment whose end is past off. */
static size_t
fsn_frag_at(const json_t *frags, uint64_t off)
{
	size_t lo = 0, hi = json_array_size(frags);

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const json_t *f = json_array_get(frags, mid);

		if ((uint64_t)(fsr_int(f, "offset") + fsr_int(f, "length")) <=
		    off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Fetches fragment idx into slot s (state LOADING, set by the caller
 * under n->mu); runs without n->mu. Tokens are refreshed once if every
 * replica refused them. */
static void
fsn_load(struct fsn *n, int s)
{
	json_t		*f, *o = NULL;
	size_t		 idx;
	uint64_t	 gen;
	size_t		 len;
	char		*buf;
	int		 rc;

	pthread_mutex_lock(&n->mu);
	idx = n->slot[s].idx;
	gen = n->slot[s].gen;
	f = json_incref(json_array_get(n->frags, idx));
	pthread_mutex_unlock(&n->mu);
	len = (size_t)fsr_int(f, "length");
	buf = malloc(len > 0 ? len : 1);
	rc = buf == NULL ? -ENOMEM : fsd_get(f, buf, len);
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
		}
	}
	json_decref(f);
	pthread_mutex_lock(&n->mu);
	if (o != NULL && rc == 0 && fsr_int(o, "version") == n->version &&
	    n->gen == gen) {
		/* Fresh tokens for the other fragments too. */
		json_decref(n->obj);
		n->obj = o;
		n->frags = json_object_get(o, "fragments");
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

/* Starts loading fragments cur+1..cur+FSN_AHEAD on workers. n->mu held. */
static void
fsn_prefetch(struct fsn *n, size_t cur)
{
	size_t	 idx, nf = json_array_size(n->frags);
	int	 s;

	for (idx = cur + 1; idx <= cur + FSN_AHEAD && idx < nf; idx++) {
		if (fsn_slot_find(n, idx) >= 0)
			continue;
		if ((s = fsn_victim(n, cur, cur + FSN_AHEAD)) < 0)
			return;
		free(n->slot[s].buf);
		n->slot[s].buf = NULL;
		n->slot[s].idx = idx;
		n->slot[s].gen = n->gen;
		n->slot[s].len = (size_t)-1;	/* "not yet picked up" */
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

/* The slot holding fragment idx, loading it if needed. n->mu held. */
static int
fsn_slot_get(struct fsn *n, size_t idx, int *out)
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

int
fsn_read(struct fsn *n, char *buf, size_t size, off_t off)
{
	uint64_t	 o = (uint64_t)off, end;
	size_t		 done = 0, idx;
	ssize_t		 r;
	int		 rc = 0, s;

	ARK_CHECK(n, FSN_MAGIC);
	pthread_mutex_lock(&n->mu);
	if (o >= n->size)
		goto out;
	end = ARK_MIN(n->size, o + size);
	if (n->tmpfd >= 0) {
		while (o + done < end) {
			r = pread(n->tmpfd, buf + done, end - o - done,
			    (off_t)(o + done));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				rc = r < 0 ? -errno : 0;
				break;
			}
			done += (size_t)r;
		}
		goto out;
	}
	while (o + done < end) {
		uint64_t pos = o + done, fo, fl, take;
		const json_t *f;

		idx = fsn_frag_at(n->frags, pos);
		f = json_array_get(n->frags, idx);
		fo = f != NULL ? (uint64_t)fsr_int(f, "offset") : end;
		if (f == NULL || fo > pos) {
			/* A hole reads as zeros. */
			take = ARK_MIN(fo, end) - pos;
			memset(buf + done, 0, take);
			done += take;
			continue;
		}
		fl = (uint64_t)fsr_int(f, "length");
		if ((rc = fsn_slot_get(n, idx, &s)) != 0)
			break;
		take = ARK_MIN(fo + fl, end) - pos;
		if (pos - fo + take > n->slot[s].len) {
			rc = -EIO;
			break;
		}
		memcpy(buf + done, n->slot[s].buf + (pos - fo), take);
		done += take;
		/* Keep the next fragments coming while this one is read. */
		fsn_prefetch(n, idx);
	}
out:
	pthread_mutex_unlock(&n->mu);
	return rc != 0 && done == 0 ? rc : (int)done;
}

/* ---- writes -------------------------------------------------------------- */

/* Copies the committed bytes into a temp file so they can change.
 * n->mu held. */
static int
fsn_materialise(struct fsn *n)
{
	size_t	 i, nf = json_array_size(n->frags);
	int	 fd, rc = 0, s;

	if (n->tmpfd >= 0)
		return 0;
	if ((fd = fsn_tmpfile()) < 0)
		return -EIO;
	for (i = 0; i < nf && rc == 0; i++) {
		const json_t *f = json_array_get(n->frags, i);
		uint64_t fo = (uint64_t)fsr_int(f, "offset");
		size_t w = 0;

		if ((rc = fsn_slot_get(n, i, &s)) != 0)
			break;
		while (w < n->slot[s].len) {
			ssize_t r = pwrite(fd, n->slot[s].buf + w,
			    n->slot[s].len - w, (off_t)(fo + w));

			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				rc = -errno;
				break;
			}
			w += (size_t)r;
		}
		fsn_prefetch(n, i);
	}
	if (rc == 0 && ftruncate(fd, (off_t)n->size) != 0)
		rc = -errno;
	if (rc != 0) {
		close(fd);
		return rc;
	}
	n->tmpfd = fd;
	fsn_slots_drop(n);
	return 0;
}

int
fsn_write(struct fsn *n, const char *buf, size_t size, off_t off)
{
	size_t	 done = 0;
	int	 rc;

	ARK_CHECK(n, FSN_MAGIC);
	pthread_mutex_lock(&n->mu);
	if ((rc = fsn_materialise(n)) != 0)
		goto out;
	while (done < size) {
		ssize_t r = pwrite(n->tmpfd, buf + done, size - done,
		    off + (off_t)done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = errno == ENOSPC ? -ENOSPC : -EIO;
			ark_log_warn("temp file write");
			break;
		}
		done += (size_t)r;
	}
	if (done > 0) {
		n->dirty = 1;
		n->mtime_ms = ark_now_ms();
		if ((uint64_t)off + done > n->size)
			n->size = (uint64_t)off + done;
	}
out:
	pthread_mutex_unlock(&n->mu);
	return done > 0 ? (int)done : rc;
}

int
fsn_truncate(struct fsn *n, off_t size)
{
	int rc = 0;

	ARK_CHECK(n, FSN_MAGIC);
	pthread_mutex_lock(&n->mu);
	if (size == 0)
		rc = fsn_make_empty(n);
	else if ((rc = fsn_materialise(n)) == 0) {
		if (ftruncate(n->tmpfd, size) != 0)
			rc = -errno;
		else {
			n->size = (uint64_t)size;
			n->dirty = 1;
			n->mtime_ms = ark_now_ms();
		}
	}
	pthread_mutex_unlock(&n->mu);
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

/* Writes fragments w[0..k) to the data servers, retrying a failed one
 * under a new FileID; appends them to frags. n->mu held. */
static int
fsn_put_window(struct fsn_wfrag *w, size_t k, json_t *frags)
{
	size_t	 i, want, attempt;
	json_t	*a = NULL;
	int	 rc = 0;

	for (attempt = 0; attempt < FSN_ATTEMPTS; attempt++) {
		struct fsd_batch *b;
		size_t got = 0;

		for (i = 0, want = 0; i < k; i++)
			if (!w[i].zero && w[i].as == NULL)
				want++;
		if (want == 0)
			break;
		rc = fsr_call("assign", json_pack("{s:I, s:I}", "count",
		    (json_int_t)want, "size", (json_int_t)fsn_c.fragment_size),
		    &a);
		if (rc != 0)
			return rc == -ENOSPC ? -ENOSPC : -EIO;
		b = fsd_batch_new();
		for (i = 0; i < k; i++) {
			if (w[i].zero || w[i].as != NULL)
				continue;
			w[i].as = json_incref(json_array_get(
			    json_object_get(a, "assignments"), got++));
			if (w[i].as == NULL)
				continue;
			fsd_put_start(b, &w[i].put, w[i].as, w[i].buf, w[i].len,
			    w[i].crc);
		}
		fsd_batch_wait(b);
		json_decref(a);
		a = NULL;
		for (i = 0; i < k; i++)
			if (!w[i].zero && w[i].as != NULL &&
			    !fsd_put_ok(&w[i].put)) {
				/* The needles written are orphans now; the
				 * data servers reclaim them. */
				json_decref(w[i].as);
				w[i].as = NULL;
			}
	}
	for (i = 0; i < k; i++) {
		if (w[i].zero)
			continue;
		if (w[i].as == NULL) {
			ark_log_warnx("fragment at %" PRIu64 ": no group took "
			    "it after %d attempts", w[i].off, FSN_ATTEMPTS);
			return -EIO;
		}
		json_array_append_new(frags, json_pack("{s:s, s:I, s:I, s:I}",
		    "fid", fsr_str(w[i].as, "fid"), "offset",
		    (json_int_t)w[i].off, "length", (json_int_t)w[i].len,
		    "crc32c", (json_int_t)w[i].crc));
	}
	return 0;
}

/* Uploads the temp file and commits it with one object/put. n->mu held;
 * bucket and key are copies. */
static int
fsn_commit(struct fsn *n, const char *bucket, const char *key)
{
	struct fsn_wfrag	*w;
	struct ark_hash		*md5 = NULL;
	unsigned char		 dig[ARK_HASH_MAXLEN];
	char			 etag[33];
	json_t			*frags = json_array(), *body, *res = NULL;
	uint64_t		 off = 0, fsz = fsn_c.fragment_size, t0;
	size_t			 i, k, win = fsn_c.window;
	int			 rc = 0;

	if (n->tmpfd < 0 && (rc = fsn_make_empty(n)) != 0)
		return rc;
	t0 = ark_mono_ns();
	w = ark_xcalloc(win, sizeof(*w));
	if (ark_hash_new(ARK_HASH_MD5, &md5) != ARK_OK) {
		rc = -ENOMEM;
		goto out;
	}
	while (off < n->size && rc == 0) {
		for (k = 0; k < win && off < n->size; k++) {
			size_t len = (size_t)ARK_MIN(fsz, n->size - off), got = 0;

			if (w[k].buf == NULL &&
			    (w[k].buf = malloc((size_t)fsz)) == NULL) {
				rc = -ENOMEM;
				break;
			}
			while (got < len) {
				ssize_t r = pread(n->tmpfd, w[k].buf + got,
				    len - got, (off_t)(off + got));

				if (r < 0 && errno == EINTR)
					continue;
				if (r <= 0) {
					/* Past the temp file's end: zeros. */
					memset(w[k].buf + got, 0, len - got);
					break;
				}
				got += (size_t)r;
			}
			w[k].off = off;
			w[k].len = len;
			w[k].zero = fsn_all_zero(w[k].buf, len);
			w[k].crc = w[k].zero ? 0 : ark_crc32c(0, w[k].buf, len);
			json_decref(w[k].as);
			w[k].as = NULL;
			ark_hash_update(md5, w[k].buf, len);
			off += len;
		}
		if (rc == 0)
			rc = fsn_put_window(w, k, frags);
	}
	if (rc != 0)
		goto out;
	ark_hash_final(md5, dig);
	ark_hex_encode(dig, 16, etag);
	body = json_pack("{s:s, s:s, s:I, s:s, s:I, s:I, s:I, s:I, s:O}",
	    "bucket", bucket, "key", key, "size", (json_int_t)n->size,
	    "etag", etag, "mode", (json_int_t)n->mode, "uid",
	    (json_int_t)n->uid, "gid", (json_int_t)n->gid, "mtime_ms",
	    (json_int_t)n->mtime_ms, "fragments", frags);
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
	ark_log_debug("%s: %s/%s: %" PRIu64 " bytes uploaded in %" PRIu64
	    " ms", __func__, bucket, key, n->size,
	    (ark_mono_ns() - t0) / 1000000);
	rc = fsr_call("object/put", body, &res);
	if (rc == 0) {
		n->version = fsr_int(res, "version");
		n->dirty = 0;
		/* The temp file stays the file's content (reads use it
		 * while it exists); obj keeps the S3 attributes for the
		 * next commit, its fragments are stale. */
		n->frags = NULL;
		json_decref(res);
	} else
		ark_log_warnx("commit %s/%s: %s", bucket, key, strerror(-rc));
out:
	for (i = 0; i < win; i++) {
		free(w[i].buf);
		json_decref(w[i].as);
	}
	free(w);
	ark_hash_free(md5);
	json_decref(frags);
	return rc;
}

int
fsn_flush(struct fsn *n)
{
	char	*b, *k;
	int	 rc = 0;

	ARK_CHECK(n, FSN_MAGIC);
	pthread_mutex_lock(&n->mu);
	if (n->dirty && !n->deleted) {
		pthread_mutex_lock(&fsn_mu);
		b = ark_xstrdup(n->bucket);
		k = ark_xstrdup(n->key);
		pthread_mutex_unlock(&fsn_mu);
		rc = fsn_commit(n, b, k);
		free(b);
		free(k);
	}
	pthread_mutex_unlock(&n->mu);
	return rc;
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
	*deferred = n->dirty;
	pthread_mutex_unlock(&n->mu);
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
		n->deleted = 1;		/* racy read by flush is benign */
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

int
fsn_flush_prefix(const char *bucket, const char *prefix)
{
	struct fsn	**list = NULL, *n;
	size_t		 cnt = 0, cap = 0, h, i, pl = strlen(prefix);
	int		 rc = 0, r;

	pthread_mutex_lock(&fsn_mu);
	for (h = 0; h < FSN_HASH; h++)
		for (n = fsn_tab[h]; n != NULL; n = n->hnext)
			if (strcmp(n->bucket, bucket) == 0 &&
			    strncmp(n->key, prefix, pl) == 0) {
				if (cnt == cap) {
					cap = cap ? cap * 2 : 16;
					list = ark_xrealloc(list, cap *
					    sizeof(*list));
				}
				n->refs++;
				list[cnt++] = n;
			}
	pthread_mutex_unlock(&fsn_mu);
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
