/*
 * store.c - the chunk store. Locks, in the order they may nest:
 *   compact_mtx (one compaction at a time)
 *   wmtx   active chunk, rollover, space accounting
 *   rw     the index and the chunk table (slots)
 *   chunk mutexes (inside chunk.c)
 *   smtx   commit/durable sequence, dirty chunks, callbacks
 *   cmtx   corrupt list
 * The index maps key -> (chunk id << 44 | offset / 8); bit 43 marks a
 * write that reserved its space but has not finished (invisible to reads,
 * blocks a second writer of the same key).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "common/cksum.h"
#include "common/log.h"
#include "common/util.h"
#include "data/chunk.h"
#include "data/nindex.h"
#include "data/store.h"

#define STORE_MAGIC		0x53544f52u
#define STORE_WR_MAGIC		0x53575752u
#define STORE_LOC_PENDING	(1ULL << 43)
#define STORE_LOC_OFFMASK	((1ULL << 43) - 1)
#define STORE_CORRUPT_MAX	4096
#define STORE_CMP_BUF		65536
#define STORE_DROP_LAG		8	/* large needles left cached after writing */
/* A large needle's data reaches the chunk file in writes of this size:
 * the pieces a socket read yields are small and end anywhere, and every
 * write that ends inside a new file-system block makes the kernel zero
 * the rest of it first (measured: memset 20% of a data server's CPU for
 * 64 MiB PUTs). */
#define STORE_WR_STAGE		(256u << 10)
#define STORE_COPY_BUF		(1024 * 1024)

struct store_slot {
	struct chunk	*c;		/* reference; NULL: no such chunk */
	uint64_t	 live;		/* bytes of records the index uses */
};

struct store_cb {
	struct store_cb	*next;
	uint64_t	 seq;
	void		(*fn)(void *, enum ark_err);
	void		*arg;
};

struct store {
	uint32_t	 magic;
	char		*dir;
	struct store_opts o;
	int		 lockfd;

	pthread_rwlock_t rw;
	struct nindex	*idx;
	struct store_slot *slots;
	uint32_t	 nslots;

	pthread_mutex_t	 wmtx;
	struct chunk	*active;	/* reference */
	uint32_t	 next_id;
	uint64_t	 disk_used;
	uint64_t	 fs_free;
	uint64_t	 fs_checked_ns;
	atomic_int	 readonly;
	uint64_t	 ro_used;	/* disk_used when --max-disk-use hit */

	pthread_mutex_t	 smtx;
	pthread_cond_t	 scond;		/* work for the sync thread */
	pthread_cond_t	 dcond;		/* durable_seq moved */
	uint64_t	 commit_seq;
	uint64_t	 durable_seq;
	uint64_t	 first_wait_ns;
	uint64_t	 writers;	/* commits one sync could cover: the
					 * last batch plus those that came
					 * during it */
	uint64_t	 sync_end_ns;	/* when the last sync returned */
	uint64_t	 sync_ns;	/* moving average of one sync pass */
	struct chunk	**dirty;	/* references */
	size_t		 ndirty, dirty_cap;
	struct store_cb	*cbs;
	enum ark_err	 sync_err;
	atomic_int	 sync_failed;	/* sync_err != ARK_OK, for other locks */
	int		 stopping;
	int		 have_thread;
	pthread_t	 thr;
	atomic_uint_fast64_t nsync;

	pthread_mutex_t	 cmtx;
	struct store_corrupt *corrupt;
	size_t		 ncorrupt;

	pthread_mutex_t	 compact_mtx;

	pthread_mutex_t	 dmtx;		/* drop-behind ring */
	struct {
		uint32_t	 id;		/* chunk id and generation */
		uint64_t	 gen;
		uint64_t	 off;
		uint64_t	 len;		/* 0: empty */
	}		 drop[STORE_DROP_LAG];
	unsigned	 drop_next;

	/* Start-up only: index values displaced during replay. */
	uint64_t	*replaced;
	size_t		 nreplaced, replaced_cap;
	enum ark_err	 replay_err;
};

enum store_wr_mode {
	STORE_WR_WRITE,
	STORE_WR_VERIFY,
};

struct store_wr {
	uint32_t	 magic;
	struct store	*st;
	enum store_wr_mode mode;
	uint64_t	 key;
	uint32_t	 cookie;
	uint32_t	 size;
	uint64_t	 pos;
	uint32_t	 crc;
	int		 has_expect;
	uint32_t	 expect;
	enum ark_err	 err;
	/* STORE_WR_WRITE */
	struct chunk	*c;
	struct chunk_resv *r;
	uint64_t	 off;
	uint64_t	 v;		/* index value, without the pending bit */
	unsigned char	*stage;		/* needles > STORE_WR_STAGE: */
	size_t		 staged;	/* bytes in stage, which start */
	uint64_t	 stage_pos;	/* at this data offset */
	/* STORE_WR_VERIFY */
	struct store_loc ex;
	unsigned char	*cmp;
};

static inline uint64_t
store_pack(uint32_t id, uint64_t off)
{
	return (uint64_t)id << 44 | off >> 3;
}

static inline uint32_t
store_v_id(uint64_t v)
{
	return (uint32_t)(v >> 44);
}

static inline uint64_t
store_v_off(uint64_t v)
{
	return (v & STORE_LOC_OFFMASK) << 3;
}

void
store_opts_default(struct store_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->chunk_size = 4ULL << 30;
	o->sync = STORE_SYNC_ALWAYS;
	o->batch_ms = 50;
	o->compact_ratio = 0.5;
}

/* ---- corrupt list -------------------------------------------------- */

static void
store_add_corrupt(struct store *st, uint64_t key, uint32_t id, uint64_t off)
{
	pthread_mutex_lock(&st->cmtx);
	for (size_t i = 0; i < st->ncorrupt; i++)
		if (st->corrupt[i].chunk_id == id &&
		    st->corrupt[i].offset == off) {
			pthread_mutex_unlock(&st->cmtx);
			return;
		}
	if (st->ncorrupt < STORE_CORRUPT_MAX) {
		st->corrupt[st->ncorrupt].key = key;
		st->corrupt[st->ncorrupt].chunk_id = id;
		st->corrupt[st->ncorrupt].offset = off;
		st->ncorrupt++;
		ark_log_warnx("store: corrupt needle key %016llx chunk %u "
		    "offset %llu", (unsigned long long)key, id,
		    (unsigned long long)off);
	}
	pthread_mutex_unlock(&st->cmtx);
}

size_t
store_corrupt_list(struct store *st, struct store_corrupt *out, size_t max)
{
	size_t n;

	pthread_mutex_lock(&st->cmtx);
	n = st->ncorrupt;
	if (out != NULL && max > 0)
		memcpy(out, st->corrupt, ARK_MIN(n, max) * sizeof(*out));
	pthread_mutex_unlock(&st->cmtx);
	return n;
}

/* ---- chunk table ----------------------------------------------------- */

/* Caller holds rw for writing. */
static void
do_slots_grow(struct store *st, uint32_t id)
{
	uint32_t n;

	if (id < st->nslots)
		return;
	n = st->nslots ? st->nslots : 16;
	while (n <= id)
		n *= 2;
	st->slots = ark_xrealloc(st->slots, n * sizeof(*st->slots));
	memset(st->slots + st->nslots, 0,
	    (n - st->nslots) * sizeof(*st->slots));
	st->nslots = n;
}

/* Returns a reference on chunk `id`, or NULL. */
static struct chunk *
store_chunk_get(struct store *st, uint32_t id)
{
	struct chunk *c = NULL;

	pthread_rwlock_rdlock(&st->rw);
	if (id < st->nslots && (c = st->slots[id].c) != NULL)
		chunk_ref(c);
	pthread_rwlock_unlock(&st->rw);
	return c;
}

/* ---- space ------------------------------------------------------------ */

static uint64_t
store_fs_free(const char *dir)
{
	struct statvfs sv;

	if (statvfs(dir, &sv) != 0)
		return 0;
	return (uint64_t)sv.f_bavail * sv.f_frsize;
}

static void
store_set_readonly(struct store *st, const char *why)
{
	if (atomic_exchange(&st->readonly, 1) == 0)
		ark_log_warnx("store %s: read-only: %s", st->dir, why);
}

/* Caller holds wmtx. */
static enum ark_err
do_space_check(struct store *st, uint64_t len)
{
	uint64_t now;

	if (atomic_load(&st->readonly))
		return ARK_ENOSPC;
	if (st->o.max_disk_use != 0 && st->disk_used + len > st->o.max_disk_use) {
		st->ro_used = st->disk_used;
		store_set_readonly(st, "max-disk-use reached");
		return ARK_ENOSPC;
	}
	if (st->o.min_free != 0) {
		now = ark_mono_ns();
		if (now - st->fs_checked_ns > 1000000000ULL) {
			st->fs_free = store_fs_free(st->dir);
			st->fs_checked_ns = now;
		}
		if (st->fs_free < st->o.min_free + len) {
			store_set_readonly(st, "free-space floor reached");
			return ARK_ENOSPC;
		}
		st->fs_free -= len;
	}
	return ARK_OK;
}

/*
 * Read-only mode has hysteresis, so a server at its limit does not flap
 * between refusing a write and advertising itself writable a second later
 * (the registry would keep sending it writes that fail): under
 * --max-disk-use it leaves only once compaction has given space back and
 * usage is under 90% of the limit; after a full file system or the
 * --min-free floor, once the file system has the floor plus
 * STORE_RO_FS_MARGIN free. A failed fdatasync is final until restart.
 */
#define STORE_RO_FS_MARGIN	(64ULL << 20)

/* Caller holds wmtx. */
static int
store_space_back(const struct store *st)
{
	uint64_t max = st->o.max_disk_use;

	if (max != 0 && (st->disk_used >= st->ro_used ||
	    st->disk_used > max - max / 10))
		return 0;
	return st->fs_free >= st->o.min_free + STORE_RO_FS_MARGIN;
}

void
store_refresh_space(struct store *st)
{
	pthread_mutex_lock(&st->wmtx);
	st->fs_free = store_fs_free(st->dir);
	st->fs_checked_ns = ark_mono_ns();
	if (atomic_load(&st->readonly) && !atomic_load(&st->sync_failed) &&
	    store_space_back(st)) {
		atomic_store(&st->readonly, 0);
		st->ro_used = UINT64_MAX;
		ark_log_info("store %s: writable again", st->dir);
	}
	pthread_mutex_unlock(&st->wmtx);
}

/* Caller holds wmtx. Seals the active chunk and starts the next one. */
static enum ark_err
do_rollover(struct store *st)
{
	struct chunk *c;
	enum ark_err rc;
	uint32_t id = st->next_id;

	if (id > CHUNK_MAX_ID)
		return ARK_ENOSPC;
	if ((rc = chunk_create(st->dir, id, st->o.chunk_size, NULL, &c)) !=
	    ARK_OK)
		return rc;
	chunk_seal(st->active);
	pthread_rwlock_wrlock(&st->rw);
	do_slots_grow(st, id);
	st->slots[id].c = c;
	st->slots[id].live = 0;
	pthread_rwlock_unlock(&st->rw);
	chunk_ref(c);
	chunk_unref(st->active);
	st->active = c;
	st->next_id = id + 1;
	st->disk_used += CHUNK_SB_SIZE;
	ark_log_info("store %s: chunk %u started", st->dir, id);
	return ARK_OK;
}

/* Called under wmtx right after a reservation at (c, off): the index
 * change that goes with a record is made in the same order as records are
 * reserved, i.e. in replay order. A non-OK return aborts the reservation. */
typedef enum ark_err store_hook_fn(struct store *st, void *arg,
    struct chunk *c, uint64_t off);

static uint64_t store_commit(struct store *st, struct chunk *c,
    struct chunk_resv *r, const struct needle_hdr *h);

/* Reserves room for a record of `size` data bytes in the active chunk.
 * `force` skips the soft space limits (tombstones). */
static enum ark_err
store_reserve(struct store *st, uint32_t size, int force, store_hook_fn *hook,
    void *harg, struct chunk **cp, struct chunk_resv **rp, uint64_t *offp)
{
	uint64_t len = needle_reclen(size);
	enum ark_err rc;
	int undo = 0;

	if (len > st->o.chunk_size - CHUNK_SB_SIZE)
		return ARK_ETOOBIG;
	pthread_mutex_lock(&st->wmtx);
	if (atomic_load(&st->sync_failed)) {
		rc = ARK_EIO;
		goto out;
	}
	if (!force && (rc = do_space_check(st, len)) != ARK_OK)
		goto out;
	rc = chunk_reserve(st->active, size, rp, offp);
	if (rc == ARK_EAGAIN && (rc = do_rollover(st)) == ARK_OK)
		rc = chunk_reserve(st->active, size, rp, offp);
	if (rc == ARK_OK) {
		chunk_ref(st->active);
		*cp = st->active;
		st->disk_used += len;
		if (hook != NULL && (rc = hook(st, harg, *cp, *offp)) != ARK_OK)
			undo = 1;
	} else if (rc == ARK_ENOSPC)
		store_set_readonly(st, "file system full");
out:
	pthread_mutex_unlock(&st->wmtx);
	if (undo) {
		(void)store_commit(st, *cp, *rp, NULL);
		chunk_unref(*cp);
		*cp = NULL;
	}
	return rc;
}

/* ---- group commit ----------------------------------------------------- */

/* Assigns the commit sequence of a finished reservation (h NULL: abort). */
static uint64_t
store_commit(struct store *st, struct chunk *c, struct chunk_resv *r,
    const struct needle_hdr *h)
{
	uint64_t seq = 0;
	size_t i;

	if (h != NULL) {
		pthread_mutex_lock(&st->smtx);
		seq = ++st->commit_seq;
		if (st->o.sync != STORE_SYNC_NONE) {
			for (i = 0; i < st->ndirty; i++)
				if (st->dirty[i] == c)
					break;
			if (i == st->ndirty) {
				if (st->ndirty == st->dirty_cap) {
					st->dirty_cap = st->dirty_cap ?
					    st->dirty_cap * 2 : 8;
					st->dirty = ark_xrealloc(st->dirty,
					    st->dirty_cap * sizeof(*st->dirty));
				}
				chunk_ref(c);
				st->dirty[st->ndirty++] = c;
			}
			if (st->first_wait_ns == 0)
				st->first_wait_ns = ark_mono_ns();
			pthread_cond_signal(&st->scond);
		} else
			st->durable_seq = seq;
		pthread_mutex_unlock(&st->smtx);
	}
	chunk_resolve(c, r, h, seq);
	if (st->o.sync == STORE_SYNC_NONE)
		chunk_journal_advance(c, UINT64_MAX);
	else if (h == NULL) {
		uint64_t d;

		/* An abort never makes the chunk dirty: pop it (and what is
		 * already durable before it) now rather than at some later
		 * sync of this chunk. */
		pthread_mutex_lock(&st->smtx);
		d = st->durable_seq;
		pthread_mutex_unlock(&st->smtx);
		chunk_journal_advance(c, d);
	}
	return seq;
}

static void
store_timespec_after(struct timespec *ts, uint64_t ns)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ns += (uint64_t)ts->tv_nsec;
	ts->tv_sec += (time_t)(ns / 1000000000ULL);
	ts->tv_nsec = (long)(ns % 1000000000ULL);
}

static void *
store_sync_main(void *arg)
{
	struct store *st = arg;

	pthread_mutex_lock(&st->smtx);
	for (;;) {
		struct chunk **dirty;
		struct store_cb *done = NULL, **pp, *cb;
		enum ark_err err = ARK_OK;
		size_t ndirty;
		uint64_t target, t0;

		while (!st->stopping && st->commit_seq == st->durable_seq)
			pthread_cond_wait(&st->scond, &st->smtx);
		if (st->commit_seq == st->durable_seq)
			break;		/* stopping, nothing left */
		if (st->o.sync == STORE_SYNC_BATCH && !st->stopping) {
			uint64_t due = st->first_wait_ns +
			    (uint64_t)st->o.batch_ms * 1000000ULL;
			uint64_t now = ark_mono_ns();

			if (now < due) {
				struct timespec ts;

				store_timespec_after(&ts, due - now);
				pthread_cond_timedwait(&st->scond, &st->smtx,
				    &ts);
				continue;
			}
		}
		if (st->o.sync == STORE_SYNC_ALWAYS && !st->stopping &&
		    st->writers > 1 &&
		    st->commit_seq - st->durable_seq < st->writers) {
			/* Group commit: the writers the last sync released
			 * are likely coming back. Without waiting for them,
			 * writers split into two cohorts that alternate,
			 * each sync covering half of them; so wait (at most
			 * one sync's time, and 5 ms) until as many commits
			 * are pending as one sync could have covered. */
			uint64_t wait = st->sync_ns < 5000000 ? st->sync_ns :
			    5000000;
			uint64_t from = st->first_wait_ns > st->sync_end_ns ?
			    st->first_wait_ns : st->sync_end_ns;
			uint64_t now = ark_mono_ns();

			if (now < from + wait) {
				struct timespec ts;

				store_timespec_after(&ts, from + wait - now);
				pthread_cond_timedwait(&st->scond, &st->smtx,
				    &ts);
				continue;
			}
		}
		target = st->commit_seq;
		dirty = st->dirty;
		ndirty = st->ndirty;
		st->dirty = NULL;
		st->ndirty = st->dirty_cap = 0;
		st->first_wait_ns = 0;
		pthread_mutex_unlock(&st->smtx);

		t0 = ark_mono_ns();
		for (size_t i = 0; i < ndirty; i++) {
			if (chunk_datasync(dirty[i]) != ARK_OK)
				err = ARK_EIO;
			atomic_fetch_add(&st->nsync, 1);
			if (err == ARK_OK)
				chunk_journal_advance(dirty[i], target);
			chunk_unref(dirty[i]);
		}
		free(dirty);

		t0 = ark_mono_ns() - t0;
		pthread_mutex_lock(&st->smtx);
		st->sync_ns = st->sync_ns == 0 ? t0 : (st->sync_ns * 7 + t0) / 8;
		st->writers = st->commit_seq - st->durable_seq;
		st->sync_end_ns = ark_mono_ns();
		if (err != ARK_OK && st->sync_err == ARK_OK) {
			/* After a failed fdatasync the page cache may have
			 * dropped our pages: stop taking writes. */
			st->sync_err = err;
			atomic_store(&st->sync_failed, 1);
			store_set_readonly(st, "fdatasync failed");
		}
		if (st->sync_err == ARK_OK)
			st->durable_seq = target;
		pthread_cond_broadcast(&st->dcond);
		for (pp = &st->cbs; (cb = *pp) != NULL;) {
			if (cb->seq <= st->durable_seq ||
			    st->sync_err != ARK_OK) {
				*pp = cb->next;
				cb->next = done;
				done = cb;
			} else
				pp = &cb->next;
		}
		err = st->sync_err;
		if (done != NULL) {
			pthread_mutex_unlock(&st->smtx);
			while ((cb = done) != NULL) {
				done = cb->next;
				cb->fn(cb->arg, err);
				free(cb);
			}
			pthread_mutex_lock(&st->smtx);
		}
		if (st->sync_err != ARK_OK) {
			/* Nothing more can become durable. */
			st->durable_seq = st->commit_seq;
			if (st->stopping)
				break;
		}
	}
	pthread_mutex_unlock(&st->smtx);
	return NULL;
}

enum ark_err
store_wait(struct store *st, const struct store_ticket *t)
{
	enum ark_err rc;

	if (st->o.sync == STORE_SYNC_NONE)
		return ARK_OK;
	pthread_mutex_lock(&st->smtx);
	while (st->durable_seq < t->seq && st->sync_err == ARK_OK)
		pthread_cond_wait(&st->dcond, &st->smtx);
	rc = st->sync_err != ARK_OK ? st->sync_err : ARK_OK;
	pthread_mutex_unlock(&st->smtx);
	return rc;
}

void
store_notify(struct store *st, const struct store_ticket *t,
    void (*fn)(void *arg, enum ark_err rc), void *arg)
{
	struct store_cb *cb;
	enum ark_err rc;

	pthread_mutex_lock(&st->smtx);
	if (st->o.sync == STORE_SYNC_NONE || st->sync_err != ARK_OK ||
	    st->durable_seq >= t->seq) {
		rc = st->sync_err;
		pthread_mutex_unlock(&st->smtx);
		fn(arg, rc);
		return;
	}
	cb = ark_xmalloc(sizeof(*cb));
	cb->seq = t->seq;
	cb->fn = fn;
	cb->arg = arg;
	cb->next = st->cbs;
	st->cbs = cb;
	pthread_mutex_unlock(&st->smtx);
}

static uint64_t
store_current_seq(struct store *st)
{
	uint64_t s;

	pthread_mutex_lock(&st->smtx);
	s = st->commit_seq;
	pthread_mutex_unlock(&st->smtx);
	return s;
}

/* ---- open / close ----------------------------------------------------- */

/* Replay: reads the header of a displaced record to uncount its bytes. */
static void
store_uncount(struct store *st, uint64_t v)
{
	uint32_t id = store_v_id(v);
	struct needle_hdr h;

	if (id >= st->nslots || st->slots[id].c == NULL)
		return;
	if (chunk_read_hdr(st->slots[id].c, store_v_off(v), &h) == ARK_OK &&
	    st->slots[id].live >= needle_reclen(h.size))
		st->slots[id].live -= needle_reclen(h.size);
}

static int
store_replay(void *arg, uint32_t id, uint64_t off, const struct needle_hdr *h)
{
	struct store *st = arg;
	uint64_t old = 0;
	enum ark_err rc;

	if (h->flags & NEEDLE_F_TOMBSTONE) {
		if (!nindex_del(st->idx, h->key, &old))
			return 0;
	} else {
		rc = nindex_put(st->idx, h->key, store_pack(id, off), &old);
		if (rc != ARK_OK) {
			st->replay_err = rc;
			return 0;
		}
		st->slots[id].live += needle_reclen(h->size);
		if (old == 0)
			return 0;
	}
	/* The displaced record may live in the chunk being opened, whose
	 * handle does not exist yet: settle it after chunk_open(). */
	if (st->nreplaced == st->replaced_cap) {
		st->replaced_cap = st->replaced_cap ? st->replaced_cap * 2 : 64;
		st->replaced = ark_xrealloc(st->replaced,
		    st->replaced_cap * sizeof(*st->replaced));
	}
	st->replaced[st->nreplaced++] = old;
	return 0;
}

static int
store_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Lists chunk ids in dir and removes compaction leftovers. */
static enum ark_err
store_scan_dir(struct store *st, uint32_t **idsp, size_t *np)
{
	DIR *d;
	struct dirent *de;
	uint32_t *ids = NULL;
	size_t n = 0, cap = 0;

	if ((d = opendir(st->dir)) == NULL) {
		ark_log_warn("store: opendir %s", st->dir);
		return ARK_EIO;
	}
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name, *p;
		char *end;
		unsigned long v;
		size_t len = strlen(name);

		if (strncmp(name, "chunk_", 6) != 0)
			continue;
		if (len > strlen(CHUNK_TMP_SUFFIX) && strcmp(name + len -
		    strlen(CHUNK_TMP_SUFFIX), CHUNK_TMP_SUFFIX) == 0) {
			char *path = ark_xasprintf("%s/%s", st->dir, name);

			ark_log_info("store: removing unfinished compaction "
			    "output %s", path);
			unlink(path);
			free(path);
			continue;
		}
		p = name + 6;
		if (*p < '0' || *p > '9')
			continue;
		errno = 0;
		v = strtoul(p, &end, 10);
		if (errno != 0 || strcmp(end, ".dat") != 0 || v > CHUNK_MAX_ID)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			ids = ark_xrealloc(ids, cap * sizeof(*ids));
		}
		ids[n++] = (uint32_t)v;
	}
	closedir(d);
	if (n > 0)
		qsort(ids, n, sizeof(*ids), store_cmp_u32);
	*idsp = ids;
	*np = n;
	return ARK_OK;
}

static void store_free(struct store *st);

enum ark_err
store_open(const char *dir, const struct store_opts *o, struct store **out)
{
	struct store *st;
	pthread_condattr_t ca;
	uint32_t *ids = NULL;
	size_t nids = 0;
	char *lockpath;
	enum ark_err rc;

	if (o->chunk_size < CHUNK_SB_SIZE + 2 * NEEDLE_HDR_SIZE ||
	    o->chunk_size > (STORE_LOC_OFFMASK << 3) ||
	    !(o->compact_ratio > 0))
		return ARK_EINVAL;
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		ark_log_warn("store: mkdir %s", dir);
		return ARK_EIO;
	}
	st = ark_xcalloc(1, sizeof(*st));
	st->magic = STORE_MAGIC;
	st->dir = ark_xstrdup(dir);
	st->o = *o;
	st->lockfd = -1;
	pthread_rwlock_init(&st->rw, NULL);
	pthread_mutex_init(&st->wmtx, NULL);
	pthread_mutex_init(&st->smtx, NULL);
	pthread_mutex_init(&st->cmtx, NULL);
	pthread_mutex_init(&st->compact_mtx, NULL);
	pthread_mutex_init(&st->dmtx, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&st->scond, &ca);
	pthread_cond_init(&st->dcond, &ca);
	pthread_condattr_destroy(&ca);
	atomic_init(&st->readonly, 0);
	st->ro_used = UINT64_MAX;
	atomic_init(&st->nsync, 0);
	atomic_init(&st->sync_failed, 0);
	st->corrupt = ark_xcalloc(STORE_CORRUPT_MAX, sizeof(*st->corrupt));

	lockpath = ark_xasprintf("%s/LOCK", dir);
	st->lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	free(lockpath);
	if (st->lockfd < 0 || flock(st->lockfd, LOCK_EX | LOCK_NB) != 0) {
		ark_log_warn("store %s: lock", dir);
		rc = ARK_EAGAIN;
		goto fail;
	}
	if ((rc = nindex_new(o->index_hint, &st->idx)) != ARK_OK)
		goto fail;
	if ((rc = store_scan_dir(st, &ids, &nids)) != ARK_OK)
		goto fail;
	/* Presize the index from the journals: avoids ~60 rehashes of a
	 * growing table at start-up. */
	{
		uint64_t est = 0;

		for (size_t i = 0; i < nids; i++) {
			char *p = ark_xasprintf("%s/chunk_%u.idx", dir, ids[i]);
			struct stat sb;

			if (stat(p, &sb) == 0 && sb.st_size > JOURNAL_HDR_SIZE)
				est += ((uint64_t)sb.st_size -
				    JOURNAL_HDR_SIZE) / JOURNAL_REC_SIZE;
			free(p);
		}
		if (est > 0 && est < SIZE_MAX / 32)
			(void)nindex_reserve(st->idx, (size_t)est);
	}
	for (size_t i = 0; i < nids; i++) {
		struct chunk_open_info info;
		struct chunk *c;

		do_slots_grow(st, ids[i]);
		rc = chunk_open(dir, ids[i], o->chunk_size, store_replay, st,
		    &info, &c);
		if (rc == ARK_OK && st->replay_err != ARK_OK) {
			chunk_unref(c);
			rc = st->replay_err;
		}
		if (rc != ARK_OK) {
			ark_log_warnx("store %s: chunk %u: %s", dir, ids[i],
			    ark_strerror(rc));
			goto fail;
		}
		st->slots[ids[i]].c = c;
		for (size_t k = 0; k < st->nreplaced; k++)
			store_uncount(st, st->replaced[k]);
		st->nreplaced = 0;
		st->disk_used += chunk_tail(c);
		if (info.scanned || info.padded || info.cut_bytes ||
		    info.journal_reset)
			ark_log_info("store %s: chunk %u: %llu journaled, "
			    "%llu recovered from the tail, %llu torn records "
			    "padded, %llu bytes cut%s", dir, ids[i],
			    (unsigned long long)info.journaled,
			    (unsigned long long)info.scanned,
			    (unsigned long long)info.padded,
			    (unsigned long long)info.cut_bytes,
			    info.journal_reset ? ", journal rebuilt" : "");
	}
	free(st->replaced);
	st->replaced = NULL;
	st->replaced_cap = 0;
	if (nids > 0) {
		uint32_t last = ids[nids - 1];

		st->active = st->slots[last].c;
		chunk_ref(st->active);
		st->next_id = last + 1;
		for (size_t i = 0; i + 1 < nids; i++)
			chunk_seal(st->slots[ids[i]].c);
	} else {
		struct chunk *c;

		if ((rc = chunk_create(dir, 0, o->chunk_size, NULL, &c)) !=
		    ARK_OK)
			goto fail;
		do_slots_grow(st, 0);
		st->slots[0].c = c;
		chunk_ref(c);
		st->active = c;
		st->next_id = 1;
		st->disk_used += CHUNK_SB_SIZE;
	}
	free(ids);
	ids = NULL;
	st->fs_free = store_fs_free(dir);
	st->fs_checked_ns = ark_mono_ns();
	if (o->sync != STORE_SYNC_NONE) {
		if (pthread_create(&st->thr, NULL, store_sync_main, st) != 0) {
			ark_log_warnx("store %s: cannot start sync thread", dir);
			rc = ARK_ENOMEM;
			goto fail;
		}
		st->have_thread = 1;
	}
	*out = st;
	return ARK_OK;
fail:
	free(ids);
	store_free(st);
	return rc;
}

static void
store_free(struct store *st)
{
	struct store_cb *cb;

	for (uint32_t i = 0; i < st->nslots; i++)
		chunk_unref(st->slots[i].c);
	chunk_unref(st->active);
	for (size_t i = 0; i < st->ndirty; i++)
		chunk_unref(st->dirty[i]);
	while ((cb = st->cbs) != NULL) {
		st->cbs = cb->next;
		cb->fn(cb->arg, ARK_ECANCELED);
		free(cb);
	}
	free(st->dirty);
	free(st->slots);
	free(st->replaced);
	free(st->corrupt);
	nindex_free(st->idx);
	if (st->lockfd >= 0)
		close(st->lockfd);
	pthread_rwlock_destroy(&st->rw);
	pthread_mutex_destroy(&st->wmtx);
	pthread_mutex_destroy(&st->smtx);
	pthread_mutex_destroy(&st->cmtx);
	pthread_mutex_destroy(&st->compact_mtx);
	pthread_mutex_destroy(&st->dmtx);
	pthread_cond_destroy(&st->scond);
	pthread_cond_destroy(&st->dcond);
	free(st->dir);
	st->magic = 0;
	free(st);
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	ARK_CHECK(st, STORE_MAGIC);
	if (st->have_thread) {
		pthread_mutex_lock(&st->smtx);
		st->stopping = 1;
		pthread_cond_signal(&st->scond);
		pthread_mutex_unlock(&st->smtx);
		pthread_join(st->thr, NULL);
	}
	/* Clean shutdown: everything durable and journaled, whatever the
	 * policy, so the next start reads journals only. */
	for (uint32_t i = 0; i < st->nslots; i++) {
		struct chunk *c = st->slots[i].c;

		if (c == NULL)
			continue;
		if (chunk_datasync(c) == ARK_OK)
			chunk_journal_advance(c, UINT64_MAX);
		(void)chunk_sync_all(c);
	}
	store_free(st);
}

/* ---- reads ------------------------------------------------------------ */

/* Looks up key and reads its header; a reference on the chunk goes to
 * *loc. ARK_ENOENT if absent or pending. */
static enum ark_err
store_lookup(struct store *st, uint64_t key, struct store_loc *loc)
{
	struct needle_hdr h;
	struct chunk *c;
	uint64_t v;
	enum ark_err rc;

	pthread_rwlock_rdlock(&st->rw);
	if (!nindex_get(st->idx, key, &v) || (v & STORE_LOC_PENDING)) {
		pthread_rwlock_unlock(&st->rw);
		return ARK_ENOENT;
	}
	c = st->slots[store_v_id(v)].c;
	chunk_ref(c);
	pthread_rwlock_unlock(&st->rw);
	rc = chunk_read_hdr(c, store_v_off(v), &h);
	if (rc == ARK_OK && (h.key != key || (h.flags & NEEDLE_F_KNOWN)))
		rc = ARK_ECORRUPT;
	if (rc != ARK_OK) {
		if (rc != ARK_EIO)
			rc = ARK_ECORRUPT;
		store_add_corrupt(st, key, store_v_id(v), store_v_off(v));
		chunk_unref(c);
		return rc;
	}
	loc->st = st;
	loc->chunk = c;
	loc->fd = chunk_fd(c);
	loc->chunk_id = store_v_id(v);
	loc->rec_offset = store_v_off(v);
	loc->offset = loc->rec_offset + NEEDLE_HDR_SIZE;
	loc->size = h.size;
	loc->crc = h.crc;
	loc->key = key;
	loc->cookie = h.cookie;
	return ARK_OK;
}

enum ark_err
store_get(struct store *st, uint64_t key, uint32_t cookie,
    struct store_loc *loc)
{
	enum ark_err rc;

	ARK_CHECK(st, STORE_MAGIC);
	if ((rc = store_lookup(st, key, loc)) != ARK_OK)
		return rc;
	if (loc->cookie != cookie) {
		store_loc_release(loc);
		return ARK_ENOENT;
	}
	return ARK_OK;
}

enum ark_err
store_loc_pread(const struct store_loc *loc, uint64_t pos, void *buf,
    size_t n)
{
	if (pos > loc->size || n > loc->size - pos)
		return ARK_EINVAL;
	return chunk_pread(loc->chunk, loc->offset + pos, buf, n);
}

enum ark_err
store_loc_read(const struct store_loc *loc, void *buf, size_t cap)
{
	enum ark_err rc;

	if (cap < loc->size)
		return ARK_ETOOBIG;
	if ((rc = chunk_pread(loc->chunk, loc->offset, buf,
	    (size_t)loc->size)) != ARK_OK)
		return rc;
	if (ark_crc32c(0, buf, (size_t)loc->size) != loc->crc) {
		store_add_corrupt(loc->st, loc->key, loc->chunk_id,
		    loc->rec_offset);
		return ARK_ECORRUPT;
	}
	return ARK_OK;
}

enum ark_err
store_loc_verify(const struct store_loc *loc)
{
	struct needle_hdr h = { .key = loc->key, .cookie = loc->cookie,
	    .size = (uint32_t)loc->size, .crc = loc->crc };
	enum ark_err rc;

	rc = chunk_verify_data(loc->chunk, loc->rec_offset, &h);
	if (rc == ARK_ECORRUPT)
		store_add_corrupt(loc->st, loc->key, loc->chunk_id,
		    loc->rec_offset);
	return rc;
}

void
store_loc_release(struct store_loc *loc)
{
	if (loc == NULL || loc->chunk == NULL)
		return;
	chunk_unref(loc->chunk);
	loc->chunk = NULL;
	loc->fd = -1;
}

/* ---- writes ----------------------------------------------------------- */

/* Reservation hook of a writer: the key becomes pending at its record,
 * unless someone else holds it (ARK_EAGAIN: look again). */
static enum ark_err
store_claim_key(struct store *st, void *arg, struct chunk *c, uint64_t off)
{
	struct store_wr *w = arg;
	enum ark_err rc;

	w->v = store_pack(chunk_id(c), off);
	pthread_rwlock_wrlock(&st->rw);
	if (nindex_get(st->idx, w->key, NULL))
		rc = ARK_EAGAIN;
	else
		rc = nindex_put(st->idx, w->key, w->v | STORE_LOC_PENDING,
		    NULL);
	pthread_rwlock_unlock(&st->rw);
	return rc;
}

enum ark_err
store_wr_begin(struct store *st, uint64_t key, uint32_t cookie, uint64_t size,
    const uint32_t *expect_crc, struct store_wr **out)
{
	struct store_wr *w;
	enum ark_err rc;
	uint64_t v;
	int attempt;

	ARK_CHECK(st, STORE_MAGIC);
	if (size > NEEDLE_MAX_SIZE ||
	    needle_reclen((uint32_t)size) > st->o.chunk_size - CHUNK_SB_SIZE)
		return ARK_ETOOBIG;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return ARK_ENOMEM;
	w->magic = STORE_WR_MAGIC;
	w->st = st;
	w->key = key;
	w->cookie = cookie;
	w->size = (uint32_t)size;
	if (expect_crc != NULL) {
		w->has_expect = 1;
		w->expect = *expect_crc;
	}
	for (attempt = 0; attempt < 3; attempt++) {
		rc = store_lookup(st, key, &w->ex);
		if (rc == ARK_OK) {
			if (w->ex.cookie != cookie || w->ex.size != size ||
			    (expect_crc != NULL && *expect_crc != w->ex.crc)) {
				store_loc_release(&w->ex);
				rc = ARK_EEXIST;
				goto fail;
			}
			/* Same identity: compare the bytes as they come. */
			w->mode = STORE_WR_VERIFY;
			*out = w;
			return ARK_OK;
		}
		if (rc != ARK_ENOENT)
			goto fail;
		pthread_rwlock_rdlock(&st->rw);
		rc = nindex_get(st->idx, key, &v) && (v & STORE_LOC_PENDING) ?
		    ARK_EAGAIN : ARK_OK;
		pthread_rwlock_unlock(&st->rw);
		if (rc != ARK_OK)
			goto fail;	/* another write of this key */
		rc = store_reserve(st, w->size, 0, store_claim_key, w, &w->c,
		    &w->r, &w->off);
		if (rc == ARK_OK) {
			w->mode = STORE_WR_WRITE;
			*out = w;
			return ARK_OK;
		}
		if (rc != ARK_EAGAIN)
			goto fail;
		/* The key appeared meanwhile: look again. */
	}
fail:
	free(w);
	return rc;
}

/* Writes data bytes [pos, pos + n) of the needle being written. */
static enum ark_err
store_wr_pwrite(struct store_wr *w, uint64_t pos, const void *p, size_t n)
{
	enum ark_err rc;

	rc = chunk_pwrite(w->c, w->off + NEEDLE_HDR_SIZE + pos, p, n);
	if (rc != ARK_OK) {
		ark_log_warn("store: write key %016llx",
		    (unsigned long long)w->key);
		if (rc == ARK_ENOSPC)
			store_set_readonly(w->st, "file system full");
		w->err = rc;
	}
	return rc;
}

/* Writes what the stage holds. */
static enum ark_err
store_wr_flush(struct store_wr *w)
{
	enum ark_err rc = ARK_OK;

	if (w->staged > 0)
		rc = store_wr_pwrite(w, w->stage_pos, w->stage, w->staged);
	w->stage_pos += w->staged;
	w->staged = 0;
	return rc;
}

enum ark_err
store_wr_write(struct store_wr *w, const void *p, size_t n)
{
	const unsigned char *src = p;
	enum ark_err rc;

	ARK_CHECK(w, STORE_WR_MAGIC);
	if (w->err != ARK_OK)
		return w->err;
	if (n > w->size - w->pos)
		return (w->err = ARK_ETOOBIG);
	w->crc = ark_crc32c(w->crc, p, n);
	if (w->mode == STORE_WR_WRITE && w->size <= STORE_WR_STAGE) {
		if ((rc = store_wr_pwrite(w, w->pos, p, n)) != ARK_OK)
			return rc;
	} else if (w->mode == STORE_WR_WRITE) {
		size_t done = 0, k;

		if (w->stage == NULL &&
		    (w->stage = malloc(STORE_WR_STAGE)) == NULL)
			return (w->err = ARK_ENOMEM);
		while (done < n) {
			k = ARK_MIN(n - done, STORE_WR_STAGE - w->staged);
			memcpy(w->stage + w->staged, src + done, k);
			w->staged += k;
			done += k;
			if (w->staged == STORE_WR_STAGE &&
			    (rc = store_wr_flush(w)) != ARK_OK)
				return rc;
		}
	} else {
		size_t done = 0;

		if (w->cmp == NULL && (w->cmp = malloc(STORE_CMP_BUF)) == NULL)
			return (w->err = ARK_ENOMEM);
		while (done < n) {
			size_t k = ARK_MIN(n - done, (size_t)STORE_CMP_BUF);

			rc = store_loc_pread(&w->ex, w->pos + done, w->cmp, k);
			if (rc != ARK_OK)
				return (w->err = rc);
			if (memcmp(w->cmp, src + done, k) != 0)
				return (w->err = ARK_EEXIST);
			done += k;
		}
	}
	w->pos += n;
	return ARK_OK;
}

static void
store_wr_free(struct store_wr *w)
{
	store_loc_release(&w->ex);
	free(w->cmp);
	free(w->stage);
	w->magic = 0;
	free(w);
}

void
store_wr_abort(struct store_wr *w)
{
	struct store *st;
	uint64_t v;

	if (w == NULL)
		return;
	ARK_CHECK(w, STORE_WR_MAGIC);
	st = w->st;
	if (w->mode == STORE_WR_WRITE) {
		pthread_rwlock_wrlock(&st->rw);
		if (nindex_get(st->idx, w->key, &v) &&
		    v == (w->v | STORE_LOC_PENDING))
			nindex_del(st->idx, w->key, NULL);
		pthread_rwlock_unlock(&st->rw);
		(void)store_commit(st, w->c, w->r, NULL);
		chunk_unref(w->c);
	}
	store_wr_free(w);
}

/* ---- drop-behind ------------------------------------------------------ */

/*
 * A needle of at least --drop-behind bytes goes to the disk at once
 * (sync_file_range: writeback starts, the write does not wait) and
 * leaves the page cache once STORE_DROP_LAG more such needles have
 * followed (written back by then: DONTNEED frees clean pages only).
 * Large blobs are mostly written once and read later, cold: caching
 * them pushes the small hot ones out and, in a virtual machine, costs
 * fresh guest pages (MinIO writes large objects with O_DIRECT for the
 * same reasons).
 */
static void
store_drop_behind(struct store *st, struct chunk *c, uint64_t rec_off,
    uint64_t size)
{
	struct chunk	*old;
	uint64_t	 gen, off, len;
	uint32_t	 id;
	unsigned	 i;

	if (st->o.drop_behind == 0 || size < st->o.drop_behind)
		return;
	len = needle_reclen(size);
	(void)sync_file_range(chunk_fd(c), (off_t)rec_off, (off_t)len,
	    SYNC_FILE_RANGE_WRITE);
	/* The ring names chunks by id and generation, not by reference:
	 * a compacted chunk's old file must not be kept alive by it. */
	pthread_mutex_lock(&st->dmtx);
	i = st->drop_next;
	st->drop_next = (i + 1) % STORE_DROP_LAG;
	id = st->drop[i].id;
	gen = st->drop[i].gen;
	off = st->drop[i].off;
	len = st->drop[i].len;
	st->drop[i].id = chunk_id(c);
	st->drop[i].gen = chunk_generation(c);
	st->drop[i].off = rec_off;
	st->drop[i].len = needle_reclen(size);
	pthread_mutex_unlock(&st->dmtx);
	if (len > 0 && (old = store_chunk_get(st, id)) != NULL) {
		if (chunk_generation(old) == gen)
			(void)posix_fadvise(chunk_fd(old), (off_t)off,
			    (off_t)len, POSIX_FADV_DONTNEED);
		chunk_unref(old);
	}
}

/* Finishes w; `whole` (may be NULL) is the complete data when no
 * store_wr_write() call wrote it yet. */
static enum ark_err
store_wr_finish_data(struct store_wr *w, const void *whole,
    struct store_ticket *t)
{
	struct store *st = w->st;
	unsigned char hb[NEEDLE_HDR_SIZE];
	static const unsigned char zeros[NEEDLE_ALIGN];
	struct needle_hdr h;
	enum ark_err rc = w->err;

	if (rc == ARK_OK && w->pos != w->size)
		rc = ARK_EINVAL;
	if (rc == ARK_OK && w->mode == STORE_WR_WRITE)
		rc = store_wr_flush(w);
	if (rc == ARK_OK && w->has_expect && w->crc != w->expect)
		rc = ARK_ECORRUPT;
	if (rc != ARK_OK || w->mode == STORE_WR_VERIFY) {
		if (rc == ARK_OK)
			t->seq = store_current_seq(st);
		store_wr_abort(w);
		return rc;
	}
	h.key = w->key;
	h.cookie = w->cookie;
	h.size = w->size;
	h.flags = 0;
	h.crc = w->crc;
	needle_encode(&h, hb);
	if (whole != NULL) {
		struct iovec iov[3];
		size_t pad = (size_t)(needle_reclen(w->size) -
		    NEEDLE_HDR_SIZE - w->size);

		iov[0].iov_base = hb;
		iov[0].iov_len = sizeof(hb);
		iov[1].iov_base = (void *)(uintptr_t)whole;
		iov[1].iov_len = w->size;
		iov[2].iov_base = (void *)(uintptr_t)zeros;
		iov[2].iov_len = pad;
		rc = chunk_pwritev(w->c, w->off, iov, pad ? 3 : 2);
	} else
		rc = chunk_pwrite(w->c, w->off, hb, sizeof(hb));
	if (rc != ARK_OK) {
		ark_log_warn("store: commit key %016llx",
		    (unsigned long long)w->key);
		if (rc == ARK_ENOSPC)
			store_set_readonly(st, "file system full");
		/* The header may be half new: put PAD back so walkers skip
		 * the record (recovery would pad it anyway). */
		(void)chunk_mark_pad(w->c, w->off, w->size);
		store_wr_abort(w);
		return rc;
	}
	pthread_rwlock_wrlock(&st->rw);
	(void)nindex_put(st->idx, w->key, w->v, NULL);	/* present: no alloc */
	st->slots[chunk_id(w->c)].live += needle_reclen(w->size);
	pthread_rwlock_unlock(&st->rw);
	t->seq = store_commit(st, w->c, w->r, &h);
	store_drop_behind(st, w->c, w->off, w->size);
	chunk_unref(w->c);
	w->mode = STORE_WR_VERIFY;	/* nothing left to undo */
	store_wr_free(w);
	return ARK_OK;
}

uint32_t
store_wr_crc(const struct store_wr *w)
{
	ARK_CHECK(w, STORE_WR_MAGIC);
	return w->crc;
}

enum ark_err
store_wr_finish(struct store_wr *w, struct store_ticket *t)
{
	ARK_CHECK(w, STORE_WR_MAGIC);
	return store_wr_finish_data(w, NULL, t);
}

enum ark_err
store_put(struct store *st, uint64_t key, uint32_t cookie, const void *data,
    size_t len)
{
	struct store_ticket t;
	struct store_wr *w;
	enum ark_err rc;

	if ((rc = store_wr_begin(st, key, cookie, len, NULL, &w)) != ARK_OK)
		return rc;
	if (w->mode == STORE_WR_WRITE) {
		w->crc = ark_crc32c(0, data, len);
		w->pos = len;
		rc = store_wr_finish_data(w, data, &t);
	} else {
		if ((rc = store_wr_write(w, data, len)) != ARK_OK) {
			store_wr_abort(w);
			return rc;
		}
		rc = store_wr_finish(w, &t);
	}
	if (rc == ARK_OK)
		rc = store_wait(st, &t);
	return rc;
}

struct store_del {
	uint64_t	 key;
	uint32_t	 cookie;
	uint64_t	 old_v;		/* the entry the caller checked */
	uint64_t	 old_len;
};

/* Reservation hook of a delete: writes the tombstone and drops the entry,
 * both in reservation order. ARK_EAGAIN if the entry changed since the
 * caller checked its cookie. */
static enum ark_err
store_del_hook(struct store *st, void *arg, struct chunk *c, uint64_t off)
{
	struct store_del *d = arg;
	struct needle_hdr h = { .key = d->key, .cookie = d->cookie,
	    .flags = NEEDLE_F_TOMBSTONE };
	unsigned char hb[NEEDLE_HDR_SIZE];
	enum ark_err rc;
	uint64_t v;
	int same;

	/* Writers and deletes of the key are excluded by wmtx; only a
	 * compaction may move the same needle meanwhile. */
	pthread_rwlock_rdlock(&st->rw);
	same = nindex_get(st->idx, d->key, &v) && v == d->old_v;
	pthread_rwlock_unlock(&st->rw);
	if (!same)
		return ARK_EAGAIN;
	needle_encode(&h, hb);
	if ((rc = chunk_pwrite(c, off, hb, sizeof(hb))) != ARK_OK) {
		ark_log_warn("store: tombstone key %016llx",
		    (unsigned long long)d->key);
		(void)chunk_mark_pad(c, off, 0);
		return rc;
	}
	pthread_rwlock_wrlock(&st->rw);
	if (nindex_get(st->idx, d->key, &v) && !(v & STORE_LOC_PENDING)) {
		struct store_slot *s = &st->slots[store_v_id(v)];

		nindex_del(st->idx, d->key, NULL);
		s->live -= ARK_MIN(s->live, d->old_len);
	}
	pthread_rwlock_unlock(&st->rw);
	return ARK_OK;
}

/* Appends a tombstone for (key, cookie) and drops the index entry. */
static enum ark_err
store_do_delete(struct store *st, uint64_t key, uint32_t cookie,
    struct store_ticket *t)
{
	struct needle_hdr h = { .key = key, .cookie = cookie,
	    .flags = NEEDLE_F_TOMBSTONE };
	struct store_del d = { .key = key, .cookie = cookie };
	struct store_loc loc;
	struct chunk_resv *r;
	struct chunk *c;
	uint64_t off;
	enum ark_err rc = ARK_EAGAIN;

	for (int attempt = 0; attempt < 3 && rc == ARK_EAGAIN; attempt++) {
		if ((rc = store_get(st, key, cookie, &loc)) != ARK_OK)
			return rc;
		d.old_v = store_pack(loc.chunk_id, loc.rec_offset);
		d.old_len = needle_reclen((uint32_t)loc.size);
		store_loc_release(&loc);
		rc = store_reserve(st, 0, 1, store_del_hook, &d, &c, &r, &off);
	}
	if (rc != ARK_OK)
		return rc;
	t->seq = store_commit(st, c, r, &h);
	chunk_unref(c);
	return ARK_OK;
}

enum ark_err
store_delete(struct store *st, uint64_t key, uint32_t cookie)
{
	struct store_ticket t;
	enum ark_err rc;

	ARK_CHECK(st, STORE_MAGIC);
	if ((rc = store_do_delete(st, key, cookie, &t)) != ARK_OK)
		return rc;
	return store_wait(st, &t);
}

/* ---- compaction ------------------------------------------------------- */

struct store_move {
	uint64_t	 key;
	uint64_t	 old_off;
	uint64_t	 new_off;
	uint64_t	 len;
};

struct store_cpy {
	struct store	*st;
	struct chunk	*old, *nc;
	uint32_t	 id;
	int		 keep_tombs;
	unsigned char	*buf;
	struct store_move *mv;
	size_t		 nmv, mvcap;
	struct journal_rec jr[64];
	size_t		 njr;
	enum ark_err	 rc;
};

static int
store_cpy_rec(void *arg, uint64_t off, const struct needle_hdr *h,
    enum ark_err hrc)
{
	struct store_cpy *cp = arg;
	struct store *st = cp->st;
	uint64_t len, left, pos, noff = 0, v;
	int live;

	if (hrc != ARK_OK) {
		/* A damaged header may hide a live needle: refuse to drop
		 * it silently; scrub reports it. */
		store_add_corrupt(st, 0, cp->id, off);
		cp->rc = ARK_ECORRUPT;
		return 1;
	}
	if (h->flags & NEEDLE_F_PAD)
		return 0;
	if (h->flags & NEEDLE_F_TOMBSTONE)
		live = cp->keep_tombs;
	else {
		pthread_rwlock_rdlock(&st->rw);
		live = nindex_get(st->idx, h->key, &v) &&
		    v == store_pack(cp->id, off);
		pthread_rwlock_unlock(&st->rw);
	}
	if (!live)
		return 0;
	len = needle_reclen(h->size);
	for (pos = 0, left = len; left > 0;) {
		size_t k = (size_t)ARK_MIN(left, (uint64_t)STORE_COPY_BUF);
		uint64_t o;

		if ((cp->rc = chunk_pread(cp->old, off + pos, cp->buf, k)) !=
		    ARK_OK || (cp->rc = chunk_append_raw(cp->nc, cp->buf, k,
		    &o)) != ARK_OK)
			return 1;
		if (pos == 0)
			noff = o;
		pos += k;
		left -= k;
	}
	if (!(h->flags & NEEDLE_F_TOMBSTONE)) {
		if (cp->nmv == cp->mvcap) {
			cp->mvcap = cp->mvcap ? cp->mvcap * 2 : 256;
			cp->mv = ark_xrealloc(cp->mv, cp->mvcap * sizeof(*cp->mv));
		}
		cp->mv[cp->nmv].key = h->key;
		cp->mv[cp->nmv].old_off = off;
		cp->mv[cp->nmv].new_off = noff;
		cp->mv[cp->nmv].len = len;
		cp->nmv++;
	}
	cp->jr[cp->njr].key = h->key;
	cp->jr[cp->njr].offset = noff;
	cp->jr[cp->njr].size = h->size;
	cp->jr[cp->njr].cookie = h->cookie;
	cp->jr[cp->njr].flags = h->flags;
	if (++cp->njr == ARK_ARRAY_SIZE(cp->jr)) {
		if ((cp->rc = chunk_journal_append(cp->nc, cp->jr, cp->njr)) !=
		    ARK_OK)
			return 1;
		cp->njr = 0;
	}
	return 0;
}

enum ark_err
store_compact(struct store *st, uint32_t id, int flags)
{
	struct store_cpy cp;
	struct chunk *oldslot = NULL;
	uint64_t old_tail, new_tail, live = 0, v;
	enum ark_err rc;
	int waited;

	ARK_CHECK(st, STORE_MAGIC);
	memset(&cp, 0, sizeof(cp));
	cp.st = st;
	cp.id = id;
	pthread_mutex_lock(&st->compact_mtx);
	pthread_mutex_lock(&st->wmtx);
	if ((cp.old = store_chunk_get(st, id)) == NULL) {
		pthread_mutex_unlock(&st->wmtx);
		rc = ARK_ENOENT;
		goto out;
	}
	if (cp.old == st->active && (rc = do_rollover(st)) != ARK_OK) {
		pthread_mutex_unlock(&st->wmtx);
		goto out;
	}
	pthread_mutex_unlock(&st->wmtx);
	for (waited = 0; chunk_inflight(cp.old) > 0; waited++) {
		if (waited == 200) {
			rc = ARK_EAGAIN;
			goto out;
		}
		usleep(10000);
	}
	old_tail = chunk_tail(cp.old);
	pthread_rwlock_rdlock(&st->rw);
	cp.keep_tombs = 0;
	for (uint32_t i = 0; i < id && i < st->nslots; i++)
		if (st->slots[i].c != NULL)
			cp.keep_tombs = 1;
	pthread_rwlock_unlock(&st->rw);
	if ((cp.buf = malloc(STORE_COPY_BUF)) == NULL) {
		rc = ARK_ENOMEM;
		goto out;
	}
	rc = chunk_create(st->dir, id, st->o.chunk_size, CHUNK_TMP_SUFFIX,
	    &cp.nc);
	if (rc != ARK_OK)
		goto out;
	rc = chunk_walk(cp.old, CHUNK_SB_SIZE, old_tail, store_cpy_rec, &cp);
	if (rc == ARK_OK)
		rc = cp.rc;
	if (rc == ARK_OK && cp.njr > 0)
		rc = chunk_journal_append(cp.nc, cp.jr, cp.njr);
	if (rc == ARK_OK)
		rc = chunk_sync_all(cp.nc);
	if (rc != ARK_OK) {
		ark_log_warnx("store %s: compaction of chunk %u failed: %s",
		    st->dir, id, ark_strerror(rc));
		goto out;	/* the leftovers are removed at next open */
	}
	if (flags & STORE_COMPACT_STOP_BEFORE_RENAME) {
		rc = ARK_ECANCELED;
		goto out;
	}
	if ((rc = chunk_install(cp.nc)) != ARK_OK)
		goto out;
	/* Readers holding the old chunk keep reading its (now unlinked)
	 * file; new lookups see the new file and offsets together. */
	pthread_rwlock_wrlock(&st->rw);
	for (size_t i = 0; i < cp.nmv; i++) {
		struct store_move *m = &cp.mv[i];

		if (nindex_get(st->idx, m->key, &v) &&
		    v == store_pack(id, m->old_off)) {
			(void)nindex_put(st->idx, m->key,
			    store_pack(id, m->new_off), NULL);
			live += m->len;
		}
	}
	oldslot = st->slots[id].c;
	st->slots[id].c = cp.nc;
	st->slots[id].live = live;
	pthread_rwlock_unlock(&st->rw);
	chunk_seal(cp.nc);
	new_tail = chunk_tail(cp.nc);
	cp.nc = NULL;
	pthread_mutex_lock(&st->wmtx);
	st->disk_used -= old_tail > new_tail ? old_tail - new_tail : 0;
	pthread_mutex_unlock(&st->wmtx);
	ark_log_info("store %s: chunk %u compacted: %llu -> %llu bytes",
	    st->dir, id, (unsigned long long)old_tail,
	    (unsigned long long)new_tail);
	store_refresh_space(st);
out:
	if (cp.nc != NULL && rc != ARK_ECANCELED) {
		/* Failed output: do not leave a second copy taking space
		 * until the next start. */
		char *p = ark_xasprintf("%s/chunk_%u.dat%s", st->dir, id,
		    CHUNK_TMP_SUFFIX);

		unlink(p);
		free(p);
		p = ark_xasprintf("%s/chunk_%u.idx%s", st->dir, id,
		    CHUNK_TMP_SUFFIX);
		unlink(p);
		free(p);
	}
	chunk_unref(oldslot);
	chunk_unref(cp.nc);
	chunk_unref(cp.old);
	free(cp.buf);
	free(cp.mv);
	pthread_mutex_unlock(&st->compact_mtx);
	return rc;
}

enum ark_err
store_compact_auto(struct store *st, unsigned *n)
{
	uint32_t *ids;
	size_t nids;
	unsigned done = 0;
	enum ark_err rc = ARK_OK;

	nids = store_chunk_ids(st, NULL, 0);
	ids = ark_xcalloc(nids + 1, sizeof(*ids));
	nids = ARK_MIN(nids, store_chunk_ids(st, ids, nids));
	for (size_t i = 0; i < nids; i++) {
		struct chunk *c = store_chunk_get(st, ids[i]);
		uint64_t used, live;
		int active;

		if (c == NULL)
			continue;
		pthread_mutex_lock(&st->wmtx);
		active = c == st->active;
		pthread_mutex_unlock(&st->wmtx);
		used = chunk_tail(c) - CHUNK_SB_SIZE;
		pthread_rwlock_rdlock(&st->rw);
		live = st->slots[ids[i]].live;
		pthread_rwlock_unlock(&st->rw);
		chunk_unref(c);
		if (active || used == 0 ||
		    (double)(used - ARK_MIN(live, used)) / (double)used <
		    st->o.compact_ratio)
			continue;
		if ((rc = store_compact(st, ids[i], 0)) != ARK_OK)
			break;
		done++;
	}
	free(ids);
	if (n != NULL)
		*n = done;
	return rc;
}

/* ---- scrub ------------------------------------------------------------ */

struct store_scrub {
	struct store	*st;
	struct chunk	*c;
	uint32_t	 id;
	uint64_t	 rate;
	uint64_t	 bytes;
	uint64_t	 start_ns;
	uint64_t	 checked, bad;
};

static int
store_scrub_rec(void *arg, uint64_t off, const struct needle_hdr *h,
    enum ark_err hrc)
{
	struct store_scrub *sc = arg;

	if (hrc != ARK_OK) {
		store_add_corrupt(sc->st, 0, sc->id, off);
		sc->bad++;
		return 0;
	}
	sc->bytes += needle_reclen(h->size);
	if (!(h->flags & NEEDLE_F_PAD)) {
		sc->checked++;
		if (chunk_verify_data(sc->c, off, h) != ARK_OK) {
			store_add_corrupt(sc->st, h->key, sc->id, off);
			sc->bad++;
		}
	}
	if (sc->rate > 0) {
		uint64_t due = (uint64_t)((double)sc->bytes * 1e9 /
		    (double)sc->rate);
		uint64_t spent = ark_mono_ns() - sc->start_ns;

		if (due > spent) {
			uint64_t ns = ARK_MIN(due - spent, 1000000000ULL);
			struct timespec ts = { (time_t)(ns / 1000000000ULL),
			    (long)(ns % 1000000000ULL) };

			nanosleep(&ts, NULL);
		}
	}
	return 0;
}

enum ark_err
store_scrub_chunk(struct store *st, uint32_t id, uint64_t rate_bps,
    uint64_t *checked, uint64_t *bad)
{
	struct store_scrub sc;
	enum ark_err rc;

	ARK_CHECK(st, STORE_MAGIC);
	memset(&sc, 0, sizeof(sc));
	if ((sc.c = store_chunk_get(st, id)) == NULL)
		return ARK_ENOENT;
	sc.st = st;
	sc.id = id;
	sc.rate = rate_bps;
	sc.start_ns = ark_mono_ns();
	rc = chunk_walk(sc.c, CHUNK_SB_SIZE, chunk_stable_end(sc.c),
	    store_scrub_rec, &sc);
	chunk_unref(sc.c);
	if (checked != NULL)
		*checked = sc.checked;
	if (bad != NULL)
		*bad = sc.bad;
	return rc;
}

/* ---- status ----------------------------------------------------------- */

void
store_stats(struct store *st, struct store_stats *s)
{
	uint64_t used = 0;

	ARK_CHECK(st, STORE_MAGIC);
	memset(s, 0, sizeof(*s));
	pthread_rwlock_rdlock(&st->rw);
	s->needles = nindex_count(st->idx);
	s->index_bytes = nindex_mem_bytes(st->idx);
	for (uint32_t i = 0; i < st->nslots; i++) {
		if (st->slots[i].c == NULL)
			continue;
		s->chunks++;
		s->live_bytes += st->slots[i].live;
		used += chunk_tail(st->slots[i].c) - CHUNK_SB_SIZE;
	}
	pthread_rwlock_unlock(&st->rw);
	s->dead_bytes = used > s->live_bytes ? used - s->live_bytes : 0;
	s->index_bytes_per_needle = s->needles ?
	    (double)s->index_bytes / (double)s->needles : 0;
	pthread_mutex_lock(&st->wmtx);
	s->disk_used = st->disk_used;
	pthread_mutex_unlock(&st->wmtx);
	s->readonly = atomic_load(&st->readonly);
	s->fs_free = store_fs_free(st->dir);
	pthread_mutex_lock(&st->smtx);
	s->commit_seq = st->commit_seq;
	s->durable_seq = st->durable_seq;
	s->sync_avg_ns = st->sync_ns;
	pthread_mutex_unlock(&st->smtx);
	s->syncs = atomic_load(&st->nsync);
	pthread_mutex_lock(&st->cmtx);
	s->corrupt = st->ncorrupt;
	pthread_mutex_unlock(&st->cmtx);
}

/* ---- resync ----------------------------------------------------------- */

size_t
store_chunk_ids(struct store *st, uint32_t *ids, size_t max)
{
	size_t n = 0;

	pthread_rwlock_rdlock(&st->rw);
	for (uint32_t i = 0; i < st->nslots; i++)
		if (st->slots[i].c != NULL) {
			if (n < max)
				ids[n] = i;
			n++;
		}
	pthread_rwlock_unlock(&st->rw);
	return n;
}

struct store_lister {
	struct store_rec_info *out;
	size_t		 max, n;
	uint64_t	 next;
	int		 full;
};

static int
store_list_rec(void *arg, uint64_t off, const struct needle_hdr *h,
    enum ark_err hrc)
{
	struct store_lister *ls = arg;

	if (hrc != ARK_OK || (h->flags & NEEDLE_F_PAD))
		return 0;
	if (ls->n == ls->max) {
		ls->next = off;
		ls->full = 1;
		return 1;
	}
	ls->out[ls->n].key = h->key;
	ls->out[ls->n].cookie = h->cookie;
	ls->out[ls->n].size = h->size;
	ls->out[ls->n].crc = h->crc;
	ls->out[ls->n].offset = off;
	ls->out[ls->n].tombstone = (h->flags & NEEDLE_F_TOMBSTONE) != 0;
	ls->n++;
	return 0;
}

enum ark_err
store_list(struct store *st, uint32_t id, uint64_t from,
    struct store_rec_info *out, size_t max, size_t *n, uint64_t *next)
{
	struct store_lister ls = { .out = out, .max = max };
	struct chunk *c;
	uint64_t end;
	enum ark_err rc;

	ARK_CHECK(st, STORE_MAGIC);
	if ((c = store_chunk_get(st, id)) == NULL)
		return ARK_ENOENT;
	end = chunk_stable_end(c);
	if (from < CHUNK_SB_SIZE)
		from = CHUNK_SB_SIZE;
	if (from % NEEDLE_ALIGN != 0) {
		chunk_unref(c);
		return ARK_EINVAL;
	}
	rc = chunk_walk(c, from, end, store_list_rec, &ls);
	chunk_unref(c);
	*n = ls.n;
	*next = ls.full ? ls.next : ARK_MAX(end, from);
	return rc;
}

struct store_ranger {
	uint64_t	 from, max, len;
	int		 bad;
};

static int
store_range_rec(void *arg, uint64_t off, const struct needle_hdr *h,
    enum ark_err hrc)
{
	struct store_ranger *rg = arg;
	uint64_t len;

	if (hrc != ARK_OK) {
		rg->bad = rg->len == 0;
		return 1;
	}
	len = needle_reclen(h->size);
	if (rg->len > 0 && rg->len + len > rg->max)
		return 1;
	rg->len = off + len - rg->from;
	return 0;
}

enum ark_err
store_raw_range(struct store *st, uint32_t id, uint64_t from,
    uint64_t max_bytes, struct store_loc *range, uint64_t *next)
{
	struct store_ranger rg;
	struct chunk *c;
	uint64_t end;
	enum ark_err rc;

	ARK_CHECK(st, STORE_MAGIC);
	if ((c = store_chunk_get(st, id)) == NULL)
		return ARK_ENOENT;
	if (from < CHUNK_SB_SIZE)
		from = CHUNK_SB_SIZE;
	end = chunk_stable_end(c);
	if (from >= end || from % NEEDLE_ALIGN != 0) {
		chunk_unref(c);
		return from >= end ? ARK_ENOENT : ARK_EINVAL;
	}
	memset(&rg, 0, sizeof(rg));
	rg.from = from;
	rg.max = max_bytes;
	rc = chunk_walk(c, from, end, store_range_rec, &rg);
	if (rc == ARK_OK && (rg.bad || rg.len == 0))
		rc = ARK_ECORRUPT;
	if (rc != ARK_OK) {
		chunk_unref(c);
		return rc;
	}
	memset(range, 0, sizeof(*range));
	range->st = st;
	range->chunk = c;
	range->fd = chunk_fd(c);
	range->chunk_id = id;
	range->rec_offset = from;
	range->offset = from;
	range->size = rg.len;
	*next = from + rg.len;
	return ARK_OK;
}

enum store_im_state {
	STORE_IM_HDR,
	STORE_IM_DATA,
	STORE_IM_SKIP,
};

struct store_import {
	struct store	*st;
	enum store_im_state state;
	unsigned char	 hb[NEEDLE_HDR_SIZE];
	size_t		 hlen;
	struct needle_hdr h;
	uint64_t	 left;		/* data or skip bytes to go */
	uint64_t	 pad;
	struct store_wr	*w;
	enum ark_err	 err;
	uint64_t	 napplied;
	struct store_ticket last;
};

enum ark_err
store_import_begin(struct store *st, struct store_import **out)
{
	struct store_import *im;

	ARK_CHECK(st, STORE_MAGIC);
	if ((im = calloc(1, sizeof(*im))) == NULL)
		return ARK_ENOMEM;
	im->st = st;
	*out = im;
	return ARK_OK;
}

/* A header is complete: decide what the record means. */
static enum ark_err
store_import_hdr(struct store_import *im)
{
	struct store_ticket t;
	enum ark_err rc;
	uint64_t len;

	if ((rc = needle_decode(im->hb, &im->h)) != ARK_OK)
		return rc == ARK_EPROTO ? ARK_EPROTO : ARK_ECORRUPT;
	im->hlen = 0;
	len = needle_reclen(im->h.size);
	im->pad = len - NEEDLE_HDR_SIZE - im->h.size;
	if (im->h.flags & NEEDLE_F_PAD) {
		im->state = STORE_IM_SKIP;
		im->left = len - NEEDLE_HDR_SIZE;
		return ARK_OK;
	}
	if (im->h.flags & NEEDLE_F_TOMBSTONE) {
		rc = store_do_delete(im->st, im->h.key, im->h.cookie, &t);
		if (rc == ARK_OK) {
			im->last = t;
			im->napplied++;
		} else if (rc != ARK_ENOENT)
			return rc;
		im->state = STORE_IM_SKIP;
		im->left = 0;
		return ARK_OK;
	}
	rc = store_wr_begin(im->st, im->h.key, im->h.cookie, im->h.size,
	    &im->h.crc, &im->w);
	if (rc != ARK_OK)
		return rc;
	im->state = STORE_IM_DATA;
	im->left = im->h.size;
	return ARK_OK;
}

static enum ark_err
store_import_data_done(struct store_import *im)
{
	struct store_ticket t;
	enum ark_err rc;

	rc = store_wr_finish(im->w, &t);
	im->w = NULL;
	if (rc != ARK_OK)
		return rc;
	im->last = t;
	im->napplied++;
	im->state = STORE_IM_SKIP;
	im->left = im->pad;
	return ARK_OK;
}

enum ark_err
store_import_feed(struct store_import *im, const void *p, size_t n)
{
	const unsigned char *src = p;
	enum ark_err rc = ARK_OK;

	if (im->err != ARK_OK)
		return im->err;
	while (rc == ARK_OK) {
		size_t k;

		if (im->state == STORE_IM_SKIP && im->left == 0)
			im->state = STORE_IM_HDR;
		if (im->state == STORE_IM_DATA && im->left == 0) {
			rc = store_import_data_done(im);
			continue;
		}
		if (n == 0)
			break;
		switch (im->state) {
		case STORE_IM_HDR:
			k = ARK_MIN(n, NEEDLE_HDR_SIZE - im->hlen);
			memcpy(im->hb + im->hlen, src, k);
			im->hlen += k;
			if (im->hlen == NEEDLE_HDR_SIZE)
				rc = store_import_hdr(im);
			break;
		case STORE_IM_DATA:
			k = (size_t)ARK_MIN((uint64_t)n, im->left);
			rc = store_wr_write(im->w, src, k);
			im->left -= k;
			break;
		case STORE_IM_SKIP:
		default:
			k = (size_t)ARK_MIN((uint64_t)n, im->left);
			im->left -= k;
			break;
		}
		src += k;
		n -= k;
	}
	if (rc != ARK_OK) {
		store_wr_abort(im->w);
		im->w = NULL;
		im->err = rc;
	}
	return rc;
}

enum ark_err
store_import_end(struct store_import *im, uint64_t *n)
{
	enum ark_err rc = im->err;

	if (rc == ARK_OK && (im->state != STORE_IM_HDR || im->hlen != 0) &&
	    !(im->state == STORE_IM_SKIP && im->left == 0))
		rc = ARK_EPROTO;
	store_wr_abort(im->w);
	if (rc == ARK_OK && im->last.seq != 0)
		rc = store_wait(im->st, &im->last);
	if (n != NULL)
		*n = im->napplied;
	free(im);
	return rc;
}
