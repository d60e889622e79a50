/*
 * chunk.c - chunk files: superblock, reservations, recovery, walking.
 * Invariant: every offset in [CHUNK_SB_SIZE, stable_end) is the start of a
 * record whose header has been written (needle, tombstone or PAD), so the
 * file can be walked header by header without the journal.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cksum.h"
#include "common/log.h"
#include "common/util.h"
#include "data/chunk.h"

#define CHUNK_SB_MAGIC	"ARKCHNK\0"
#define CHUNK_IOBUF	(1024 * 1024)

enum chunk_rstate {
	CHUNK_R_PENDING = 0,
	CHUNK_R_COMMITTED,
	CHUNK_R_ABORTED,
};

struct chunk_resv {
	struct chunk_resv *next;
	uint64_t	 off;
	uint64_t	 seq;
	enum chunk_rstate state;
	struct journal_rec rec;
};

struct chunk {
	atomic_int	 refs;
	uint32_t	 id;
	int		 fd;
	uint64_t	 gen;
	uint64_t	 max_size;
	char		*dir;
	char		*dat_path;
	char		*idx_path;
	char		*suffix;	/* NULL once installed */

	pthread_mutex_t	 mtx;		/* guards everything below */
	uint64_t	 tail;
	int		 sealed;
	unsigned	 inflight;
	struct chunk_resv *head, *last;	/* reservations, offset order */
	struct journal	*jnl;
};

static enum ark_err
chunk_errno(void)
{
	/* EFBIG: a file size limit (RLIMIT_FSIZE) acts like a full disk. */
	return errno == ENOSPC || errno == EDQUOT || errno == EFBIG ?
	    ARK_ENOSPC : ARK_EIO;
}

static enum ark_err
chunk_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) != 0) {
		ark_log_warn("chunk: fsync directory %s", dir);
		if (fd >= 0)
			close(fd);
		return ARK_EIO;
	}
	close(fd);
	return ARK_OK;
}

static struct chunk *
chunk_alloc(const char *dir, uint32_t id, uint64_t max_size,
    const char *suffix)
{
	struct chunk *c = ark_xcalloc(1, sizeof(*c));
	const char *sfx = suffix != NULL ? suffix : "";

	atomic_init(&c->refs, 1);
	c->id = id;
	c->fd = -1;
	c->max_size = max_size;
	c->dir = ark_xstrdup(dir);
	c->dat_path = ark_xasprintf("%s/chunk_%u.dat%s", dir, id, sfx);
	c->idx_path = ark_xasprintf("%s/chunk_%u.idx%s", dir, id, sfx);
	c->suffix = suffix != NULL ? ark_xstrdup(suffix) : NULL;
	pthread_mutex_init(&c->mtx, NULL);
	return c;
}

static void
chunk_free(struct chunk *c)
{
	struct chunk_resv *r, *next;

	for (r = c->head; r != NULL; r = next) {
		next = r->next;
		free(r);
	}
	journal_close(c->jnl);
	if (c->fd >= 0)
		close(c->fd);
	pthread_mutex_destroy(&c->mtx);
	free(c->dir);
	free(c->dat_path);
	free(c->idx_path);
	free(c->suffix);
	free(c);
}

void
chunk_ref(struct chunk *c)
{
	atomic_fetch_add(&c->refs, 1);
}

void
chunk_unref(struct chunk *c)
{
	if (c != NULL && atomic_fetch_sub(&c->refs, 1) == 1)
		chunk_free(c);
}

static enum ark_err
chunk_write_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return chunk_errno();
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return ARK_OK;
}

static void
chunk_sb_encode(unsigned char *p, uint32_t id, uint64_t gen, uint64_t max)
{
	memset(p, 0, CHUNK_SB_SIZE);
	memcpy(p, CHUNK_SB_MAGIC, 8);
	needle_le32enc(p + 8, CHUNK_VERSION);
	needle_le32enc(p + 12, id);
	needle_le64enc(p + 16, gen);
	needle_le64enc(p + 24, max);
	needle_le64enc(p + 32, (uint64_t)ark_now_ms());
	needle_le32enc(p + 40, CHUNK_SB_SIZE);
	needle_le32enc(p + 60, ark_crc32c(0, p, 60));
}

/* Writes a fresh superblock into c->fd (already open, empty or short). */
static enum ark_err
chunk_init_file(struct chunk *c)
{
	unsigned char sb[CHUNK_SB_SIZE];
	enum ark_err rc;

	c->gen = ark_random_u64();
	chunk_sb_encode(sb, c->id, c->gen, c->max_size);
	if (ftruncate(c->fd, 0) != 0 ||
	    (rc = chunk_write_all(c->fd, sb, sizeof(sb), 0)) != ARK_OK ||
	    fdatasync(c->fd) != 0) {
		rc = chunk_errno();
		ark_log_warn("chunk %s: write superblock", c->dat_path);
		return rc;
	}
	c->tail = CHUNK_SB_SIZE;
	return ARK_OK;
}

enum ark_err
chunk_create(const char *dir, uint32_t id, uint64_t max_size,
    const char *suffix, struct chunk **out)
{
	struct chunk *c;
	enum ark_err rc;
	int flags = O_RDWR | O_CREAT | O_CLOEXEC;

	if (id > CHUNK_MAX_ID)
		return ARK_ETOOBIG;
	c = chunk_alloc(dir, id, max_size, suffix);
	flags |= suffix != NULL ? O_TRUNC : O_EXCL;
	if ((c->fd = open(c->dat_path, flags, 0644)) < 0) {
		rc = errno == EEXIST ? ARK_EEXIST : chunk_errno();
		ark_log_warn("chunk %s: create", c->dat_path);
		goto fail;
	}
	if ((rc = chunk_init_file(c)) != ARK_OK)
		goto fail;
	if ((rc = journal_create(c->idx_path, id, c->gen, &c->jnl)) != ARK_OK)
		goto fail;
	if ((rc = chunk_fsync_dir(dir)) != ARK_OK)
		goto fail;
	*out = c;
	return ARK_OK;
fail:
	if (c->fd >= 0) {
		unlink(c->dat_path);
		unlink(c->idx_path);
	}
	chunk_free(c);
	return rc;
}

/* Recovery state shared by the journal callback and the tail scan. */
struct chunk_rcv {
	struct chunk	*c;
	uint64_t	 fsize;
	uint64_t	 end;		/* end of the last accepted record */
	chunk_rec_fn	*fn;
	void		*arg;
	struct chunk_open_info *info;
};

static int
chunk_rcv_jrec(void *arg, const struct journal_rec *r)
{
	struct chunk_rcv *rv = arg;
	struct needle_hdr h;
	uint64_t len = needle_reclen(r->size);

	if (r->offset < rv->end || r->offset % NEEDLE_ALIGN != 0 ||
	    r->offset + len > rv->fsize || (r->flags & ~NEEDLE_F_TOMBSTONE) ||
	    ((r->flags & NEEDLE_F_TOMBSTONE) && r->size != 0))
		return -1;
	h.key = r->key;
	h.cookie = r->cookie;
	h.size = r->size;
	h.flags = r->flags;
	h.crc = 0;
	if (rv->fn != NULL)
		rv->fn(rv->arg, rv->c->id, r->offset, &h);
	rv->end = r->offset + len;
	rv->info->journaled++;
	return 0;
}

enum ark_err
chunk_mark_pad(struct chunk *c, uint64_t off, uint32_t size)
{
	unsigned char hb[NEEDLE_HDR_SIZE];
	struct needle_hdr h = { .size = size, .flags = NEEDLE_F_PAD };

	needle_encode(&h, hb);
	return chunk_write_all(c->fd, hb, sizeof(hb), off);
}

/* Sequential read-ahead for the tail scan: one pread per megabyte rather
 * than one per record. */
struct chunk_rdbuf {
	unsigned char	*p;
	uint64_t	 off;		/* file offset of p[0] */
	size_t		 len;
};

/* Points *out at n bytes from file offset pos (n <= CHUNK_IOBUF). */
static enum ark_err
chunk_rdbuf_get(struct chunk *c, struct chunk_rdbuf *rb, uint64_t pos,
    size_t n, uint64_t fsize, const unsigned char **out)
{
	size_t want;
	enum ark_err rc;

	if (pos < rb->off || pos + n > rb->off + rb->len) {
		want = (size_t)ARK_MIN((uint64_t)CHUNK_IOBUF, fsize - pos);
		if (want < n)
			return ARK_ECORRUPT;
		if ((rc = chunk_pread(c, pos, rb->p, want)) != ARK_OK)
			return rc;
		rb->off = pos;
		rb->len = want;
	}
	*out = rb->p + (pos - rb->off);
	return ARK_OK;
}

/* Scans [rv->end, EOF): see the file comment in chunk.h. */
static enum ark_err
chunk_rcv_tail(struct chunk_rcv *rv)
{
	struct chunk *c = rv->c;
	struct chunk_rdbuf rb = { NULL, 0, 0 };
	struct journal_rec batch[64];
	size_t nb = 0;
	uint64_t pos = rv->end;
	enum ark_err rc = ARK_OK;

	if (pos < rv->fsize && (rb.p = malloc(CHUNK_IOBUF)) == NULL)
		return ARK_ENOMEM;
	while (pos < rv->fsize) {
		const unsigned char *hb, *data;
		struct needle_hdr h;
		uint64_t len;
		enum ark_err drc;

		if (rv->fsize - pos < NEEDLE_HDR_SIZE)
			break;
		rc = chunk_rdbuf_get(c, &rb, pos, NEEDLE_HDR_SIZE, rv->fsize,
		    &hb);
		if (rc != ARK_OK)
			goto out;
		drc = needle_decode(hb, &h);
		if (drc == ARK_EPROTO)
			break;
		len = needle_reclen(h.size);
		if (len > rv->fsize - pos)
			break;
		if (drc == ARK_OK && !(h.flags & NEEDLE_F_PAD) && h.size > 0) {
			if (len <= CHUNK_IOBUF) {
				rc = chunk_rdbuf_get(c, &rb, pos, (size_t)len,
				    rv->fsize, &data);
				if (rc != ARK_OK)
					goto out;
				if (ark_crc32c(0, data + NEEDLE_HDR_SIZE,
				    h.size) != h.crc)
					drc = ARK_ECORRUPT;
			} else if (chunk_verify_data(c, pos, &h) != ARK_OK)
				drc = ARK_ECORRUPT;
		}
		if (drc == ARK_ECORRUPT) {
			/* Torn overwrite of a reservation, or a torn needle:
			 * never acknowledged, so keep it out as dead space. */
			if ((rc = chunk_mark_pad(c, pos, h.size)) != ARK_OK) {
				ark_log_warn("chunk %s: pad torn record",
				    c->dat_path);
				goto out;
			}
			rb.len = 0;	/* the buffer may hold the old bytes */
			rv->info->padded++;
		} else if (!(h.flags & NEEDLE_F_PAD)) {
			if (rv->fn != NULL)
				rv->fn(rv->arg, c->id, pos, &h);
			rv->info->scanned++;
			batch[nb].key = h.key;
			batch[nb].offset = pos;
			batch[nb].size = h.size;
			batch[nb].cookie = h.cookie;
			batch[nb].flags = h.flags;
			if (++nb == ARK_ARRAY_SIZE(batch)) {
				(void)journal_append(c->jnl, batch, nb);
				nb = 0;
			}
		}
		pos += len;
	}
	if (nb > 0)
		(void)journal_append(c->jnl, batch, nb);
	if (pos < rv->fsize) {
		rv->info->cut_bytes = rv->fsize - pos;
		ark_log_info("chunk %s: cut %llu torn bytes at offset %llu",
		    c->dat_path, (unsigned long long)(rv->fsize - pos),
		    (unsigned long long)pos);
		if (ftruncate(c->fd, (off_t)pos) != 0 || fdatasync(c->fd) != 0) {
			ark_log_warn("chunk %s: truncate", c->dat_path);
			rc = ARK_EIO;
			goto out;
		}
	}
	c->tail = pos;
	rc = ARK_OK;
out:
	free(rb.p);
	return rc;
}

enum ark_err
chunk_open(const char *dir, uint32_t id, uint64_t max_size, chunk_rec_fn *fn,
    void *arg, struct chunk_open_info *info, struct chunk **out)
{
	struct chunk_open_info dummy;
	struct chunk_rcv rv;
	unsigned char sb[CHUNK_SB_SIZE];
	struct chunk *c;
	struct stat st;
	enum ark_err rc;

	if (info == NULL)
		info = &dummy;
	memset(info, 0, sizeof(*info));
	c = chunk_alloc(dir, id, max_size, NULL);
	if ((c->fd = open(c->dat_path, O_RDWR | O_CLOEXEC)) < 0 ||
	    fstat(c->fd, &st) != 0) {
		rc = errno == ENOENT ? ARK_ENOENT : ARK_EIO;
		ark_log_warn("chunk %s: open", c->dat_path);
		goto fail;
	}
	if (st.st_size < CHUNK_SB_SIZE) {
		/* Crashed while being created: nothing was ever stored. */
		if ((rc = chunk_init_file(c)) != ARK_OK)
			goto fail;
		st.st_size = CHUNK_SB_SIZE;
	} else {
		if ((rc = chunk_pread(c, 0, sb, sizeof(sb))) != ARK_OK)
			goto fail;
		if (memcmp(sb, CHUNK_SB_MAGIC, 8) != 0 ||
		    needle_le32dec(sb + 60) != ark_crc32c(0, sb, 60) ||
		    needle_le32dec(sb + 8) != CHUNK_VERSION ||
		    needle_le32dec(sb + 12) != id ||
		    needle_le32dec(sb + 40) != CHUNK_SB_SIZE) {
			ark_log_warnx("chunk %s: bad superblock", c->dat_path);
			rc = ARK_ECORRUPT;
			goto fail;
		}
		c->gen = needle_le64dec(sb + 16);
	}
	memset(&rv, 0, sizeof(rv));
	rv.c = c;
	rv.fsize = (uint64_t)st.st_size;
	rv.end = CHUNK_SB_SIZE;
	rv.fn = fn;
	rv.arg = arg;
	rv.info = info;
	rc = journal_open(c->idx_path, id, c->gen, chunk_rcv_jrec, &rv,
	    &info->journal_reset, &c->jnl);
	if (rc != ARK_OK)
		goto fail;
	if ((rc = chunk_rcv_tail(&rv)) != ARK_OK)
		goto fail;
	*out = c;
	return ARK_OK;
fail:
	chunk_free(c);
	return rc;
}

uint32_t
chunk_id(const struct chunk *c)
{
	return c->id;
}

int
chunk_fd(const struct chunk *c)
{
	return c->fd;
}

uint64_t
chunk_generation(const struct chunk *c)
{
	return c->gen;
}

uint64_t
chunk_tail(struct chunk *c)
{
	uint64_t t;

	pthread_mutex_lock(&c->mtx);
	t = c->tail;
	pthread_mutex_unlock(&c->mtx);
	return t;
}

uint64_t
chunk_stable_end(struct chunk *c)
{
	uint64_t t;

	struct chunk_resv *r;

	/* Resolved entries may wait for the journal; only pending ones are
	 * unfinished. */
	pthread_mutex_lock(&c->mtx);
	for (r = c->head; r != NULL && r->state != CHUNK_R_PENDING;
	    r = r->next)
		;
	t = r != NULL ? r->off : c->tail;
	pthread_mutex_unlock(&c->mtx);
	return t;
}

unsigned
chunk_inflight(struct chunk *c)
{
	unsigned n;

	pthread_mutex_lock(&c->mtx);
	n = c->inflight;
	pthread_mutex_unlock(&c->mtx);
	return n;
}

void
chunk_seal(struct chunk *c)
{
	pthread_mutex_lock(&c->mtx);
	c->sealed = 1;
	pthread_mutex_unlock(&c->mtx);
}

/* Caller holds c->mtx. */
static enum ark_err
chunk_extend(struct chunk *c, uint64_t off, uint64_t len)
{
	int e;

	if ((e = posix_fallocate(c->fd, (off_t)off, (off_t)len)) == 0)
		return ARK_OK;
	if (e != EINVAL && e != EOPNOTSUPP) {
		errno = e;
		return chunk_errno();
	}
	/* No fallocate on this file system: at least cover the padding. */
	return ftruncate(c->fd, (off_t)(off + len)) == 0 ? ARK_OK :
	    chunk_errno();
}

enum ark_err
chunk_reserve(struct chunk *c, uint32_t size, struct chunk_resv **rp,
    uint64_t *off)
{
	struct chunk_resv *r;
	uint64_t len = needle_reclen(size);
	enum ark_err rc;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return ARK_ENOMEM;
	pthread_mutex_lock(&c->mtx);
	if (c->sealed || c->tail + len > c->max_size) {
		pthread_mutex_unlock(&c->mtx);
		free(r);
		return ARK_EAGAIN;
	}
	/* Allocate the whole record first: the file then covers it (padding
	 * included) and data writes into it cannot fail with ENOSPC. The PAD
	 * header makes the region skippable before its data lands; written
	 * under the lock so no later record can become durable without it. */
	if ((rc = chunk_extend(c, c->tail, len)) != ARK_OK ||
	    (rc = chunk_mark_pad(c, c->tail, size)) != ARK_OK) {
		ark_log_warn("chunk %s: reserve at %llu", c->dat_path,
		    (unsigned long long)c->tail);
		(void)ftruncate(c->fd, (off_t)c->tail);
		pthread_mutex_unlock(&c->mtx);
		free(r);
		return rc;
	}
	r->off = c->tail;
	c->tail += len;
	c->inflight++;
	if (c->last != NULL)
		c->last->next = r;
	else
		c->head = r;
	c->last = r;
	pthread_mutex_unlock(&c->mtx);
	*rp = r;
	*off = r->off;
	return ARK_OK;
}

void
chunk_resolve(struct chunk *c, struct chunk_resv *r,
    const struct needle_hdr *h, uint64_t seq)
{
	pthread_mutex_lock(&c->mtx);
	if (h != NULL) {
		r->state = CHUNK_R_COMMITTED;
		r->seq = seq;
		r->rec.key = h->key;
		r->rec.offset = r->off;
		r->rec.size = h->size;
		r->rec.cookie = h->cookie;
		r->rec.flags = h->flags;
	} else
		r->state = CHUNK_R_ABORTED;
	c->inflight--;
	pthread_mutex_unlock(&c->mtx);
}

void
chunk_journal_advance(struct chunk *c, uint64_t durable_seq)
{
	struct journal_rec batch[64];
	size_t nb = 0;

	pthread_mutex_lock(&c->mtx);
	while (c->head != NULL && c->head->state != CHUNK_R_PENDING &&
	    (c->head->state == CHUNK_R_ABORTED || c->head->seq <= durable_seq)) {
		struct chunk_resv *r = c->head;

		if (r->state == CHUNK_R_COMMITTED) {
			batch[nb++] = r->rec;
			if (nb == ARK_ARRAY_SIZE(batch)) {
				(void)journal_append(c->jnl, batch, nb);
				nb = 0;
			}
		}
		c->head = r->next;
		if (c->head == NULL)
			c->last = NULL;
		free(r);
	}
	if (nb > 0)
		(void)journal_append(c->jnl, batch, nb);
	pthread_mutex_unlock(&c->mtx);
}

enum ark_err
chunk_pwrite(struct chunk *c, uint64_t off, const void *p, size_t n)
{
	return chunk_write_all(c->fd, p, n, off);
}

enum ark_err
chunk_pwritev(struct chunk *c, uint64_t off, struct iovec *iov, int iovcnt)
{
	while (iovcnt > 0) {
		ssize_t n = pwritev(c->fd, iov, iovcnt, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return chunk_errno();
		}
		off += (uint64_t)n;
		while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (char *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return ARK_OK;
}

enum ark_err
chunk_pread(struct chunk *c, uint64_t off, void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = pread(c->fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ARK_EIO;
		if (n == 0)
			return ARK_ECORRUPT;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return ARK_OK;
}

enum ark_err
chunk_read_hdr(struct chunk *c, uint64_t off, struct needle_hdr *h)
{
	unsigned char hb[NEEDLE_HDR_SIZE];
	enum ark_err rc;

	if ((rc = chunk_pread(c, off, hb, sizeof(hb))) != ARK_OK)
		return rc;
	return needle_decode(hb, h);
}

enum ark_err
chunk_verify_data(struct chunk *c, uint64_t off, const struct needle_hdr *h)
{
	unsigned char stackbuf[16384], *buf = stackbuf;
	size_t cap = sizeof(stackbuf);
	uint64_t left = h->size, pos = off + NEEDLE_HDR_SIZE;
	uint32_t crc = 0;
	enum ark_err rc = ARK_OK;

	if (left > cap) {
		unsigned char *big = malloc(CHUNK_IOBUF);

		if (big != NULL) {
			buf = big;
			cap = CHUNK_IOBUF;
		}
	}
	while (left > 0) {
		size_t n = (size_t)ARK_MIN(left, (uint64_t)cap);

		if ((rc = chunk_pread(c, pos, buf, n)) != ARK_OK)
			goto out;
		crc = ark_crc32c(crc, buf, n);
		pos += n;
		left -= n;
	}
	if (crc != h->crc)
		rc = ARK_ECORRUPT;
out:
	if (buf != stackbuf)
		free(buf);
	return rc;
}

enum ark_err
chunk_datasync(struct chunk *c)
{
	if (fdatasync(c->fd) != 0) {
		ark_log_warn("chunk %s: fdatasync", c->dat_path);
		return ARK_EIO;
	}
	return ARK_OK;
}

enum ark_err
chunk_walk(struct chunk *c, uint64_t from, uint64_t to,
    int (*fn)(void *arg, uint64_t off, const struct needle_hdr *h,
    enum ark_err rc), void *arg)
{
	uint64_t pos = from < CHUNK_SB_SIZE ? CHUNK_SB_SIZE : from;
	enum ark_err rc;

	while (pos + NEEDLE_HDR_SIZE <= to) {
		struct needle_hdr h;

		rc = chunk_read_hdr(c, pos, &h);
		if (rc == ARK_EIO)
			return rc;
		if (rc == ARK_OK && needle_reclen(h.size) <= to - pos) {
			if (fn(arg, pos, &h, ARK_OK) != 0)
				return ARK_OK;
			pos += needle_reclen(h.size);
			continue;
		}
		memset(&h, 0, sizeof(h));
		if (fn(arg, pos, &h, ARK_ECORRUPT) != 0)
			return ARK_OK;
		/* Resynchronise on the next header that decodes. */
		for (pos += NEEDLE_ALIGN; pos + NEEDLE_HDR_SIZE <= to;
		    pos += NEEDLE_ALIGN) {
			rc = chunk_read_hdr(c, pos, &h);
			if (rc == ARK_EIO)
				return rc;
			if (rc == ARK_OK && needle_reclen(h.size) <= to - pos)
				break;
		}
	}
	return ARK_OK;
}

enum ark_err
chunk_append_raw(struct chunk *c, const void *p, size_t n, uint64_t *off)
{
	enum ark_err rc;

	pthread_mutex_lock(&c->mtx);
	if ((rc = chunk_write_all(c->fd, p, n, c->tail)) == ARK_OK) {
		*off = c->tail;
		c->tail += n;
	}
	pthread_mutex_unlock(&c->mtx);
	return rc;
}

enum ark_err
chunk_journal_append(struct chunk *c, const struct journal_rec *r, size_t n)
{
	enum ark_err rc;

	pthread_mutex_lock(&c->mtx);
	rc = journal_append(c->jnl, r, n);
	pthread_mutex_unlock(&c->mtx);
	return rc;
}

enum ark_err
chunk_sync_all(struct chunk *c)
{
	enum ark_err rc;

	if ((rc = chunk_datasync(c)) != ARK_OK)
		return rc;
	pthread_mutex_lock(&c->mtx);
	rc = journal_sync(c->jnl);
	pthread_mutex_unlock(&c->mtx);
	return rc;
}

enum ark_err
chunk_install(struct chunk *c)
{
	char *dat, *idx;

	if (c->suffix == NULL)
		return ARK_OK;
	dat = ark_xasprintf("%s/chunk_%u.dat", c->dir, c->id);
	idx = ark_xasprintf("%s/chunk_%u.idx", c->dir, c->id);
	if (rename(c->dat_path, dat) != 0) {
		ark_log_warn("chunk: rename %s", c->dat_path);
		free(dat);
		free(idx);
		return ARK_EIO;
	}
	free(c->dat_path);
	c->dat_path = dat;
	if (rename(c->idx_path, idx) != 0) {
		/* The stale journal's generation no longer matches: it is
		 * rebuilt from the data file at the next start. */
		ark_log_warn("chunk: rename %s", c->idx_path);
		free(idx);
	} else {
		free(c->idx_path);
		c->idx_path = idx;
	}
	free(c->suffix);
	c->suffix = NULL;
	return chunk_fsync_dir(c->dir);
}
