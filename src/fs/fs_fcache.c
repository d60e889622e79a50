/*
 * fs_fcache.c - the local fragment cache (see fs_fcache.h): one file per
 * fragment named by its FileID, an index of them (hash table + LRU list)
 * under one mutex. Files appear by rename, so a reader never sees a
 * partial one; eviction unlinks, and a reader that loses that race
 * simply misses.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "fs/fs_fcache.h"

#define FSC_BUCKETS	4096

struct fsc_ent {
	char			*fid;
	uint64_t		 size;
	struct fsc_ent		*hnext;		/* hash chain */
	TAILQ_ENTRY(fsc_ent)	 lru;		/* head: most recent */
};

static struct {
	pthread_mutex_t		 mu;
	char			*dir;		/* NULL: disabled */
	uint64_t		 max, used;
	struct fsc_ent		*tab[FSC_BUCKETS];
	TAILQ_HEAD(fsc_lru, fsc_ent) lru;
	unsigned		 seq;		/* temp file names */
} fsc = { .mu = PTHREAD_MUTEX_INITIALIZER };

static unsigned
fsc_hash(const char *fid)
{
	return (unsigned)(ark_fnv1a(ARK_FNV_INIT, fid) % FSC_BUCKETS);
}

/* The entry of fid, or NULL; *pp the link pointing at it. fsc.mu held. */
static struct fsc_ent *
fsc_find(const char *fid, struct fsc_ent ***pp)
{
	struct fsc_ent **p = &fsc.tab[fsc_hash(fid)];

	for (; *p != NULL; p = &(*p)->hnext)
		if (strcmp((*p)->fid, fid) == 0)
			break;
	if (pp != NULL)
		*pp = p;
	return *p;
}

static char *
fsc_path(const char *fid)
{
	return ark_xasprintf("%s/%s", fsc.dir, fid);
}

/* Drops e from the index and the disk. fsc.mu held. */
static void
fsc_drop(struct fsc_ent *e)
{
	struct fsc_ent **p;
	char *path;

	(void)fsc_find(e->fid, &p);
	*p = e->hnext;
	TAILQ_REMOVE(&fsc.lru, e, lru);
	fsc.used -= e->size;
	path = fsc_path(e->fid);
	(void)unlink(path);
	free(path);
	free(e->fid);
	free(e);
}

int
fsc_init(const char *dir, uint64_t max_bytes)
{
	char *d;

	TAILQ_INIT(&fsc.lru);
	if (max_bytes == 0)
		return 0;
	d = ark_xasprintf("%s/arkorfs-cache.XXXXXX", dir);
	if (mkdtemp(d) == NULL) {
		int e = errno;

		ark_log_warn("fragment cache in %s", dir);
		free(d);
		return -e;
	}
	fsc.dir = d;
	fsc.max = max_bytes;
	return 0;
}

void
fsc_fini(void)
{
	struct fsc_ent *e;

	pthread_mutex_lock(&fsc.mu);
	while ((e = TAILQ_FIRST(&fsc.lru)) != NULL)
		fsc_drop(e);
	if (fsc.dir != NULL && rmdir(fsc.dir) != 0)
		ark_log_warn("fragment cache %s", fsc.dir);
	free(fsc.dir);
	fsc.dir = NULL;
	pthread_mutex_unlock(&fsc.mu);
}

int
fsc_read(const char *fid, void *buf, uint64_t off, size_t len)
{
	struct fsc_ent *e;
	char *path;
	size_t done = 0;
	ssize_t r;
	int fd;

	pthread_mutex_lock(&fsc.mu);
	if (fsc.dir == NULL || (e = fsc_find(fid, NULL)) == NULL ||
	    off + len > e->size) {
		pthread_mutex_unlock(&fsc.mu);
		return 0;
	}
	TAILQ_REMOVE(&fsc.lru, e, lru);
	TAILQ_INSERT_HEAD(&fsc.lru, e, lru);
	path = fsc_path(fid);
	pthread_mutex_unlock(&fsc.mu);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return 0;		/* evicted meanwhile */
	while (done < len) {
		r = pread(fd, (char *)buf + done, len - done,
		    (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		done += (size_t)r;
	}
	close(fd);
	return done == len;
}

void
fsc_store(const char *fid, const void *buf, size_t len)
{
	struct fsc_ent *e;
	char *tmp, *path;
	size_t done = 0;
	ssize_t r;
	int fd;

	pthread_mutex_lock(&fsc.mu);
	if (fsc.dir == NULL || len > fsc.max || fsc_find(fid, NULL) != NULL) {
		pthread_mutex_unlock(&fsc.mu);
		return;
	}
	tmp = ark_xasprintf("%s/.tmp%u", fsc.dir, fsc.seq++);
	path = fsc_path(fid);
	pthread_mutex_unlock(&fsc.mu);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	while (fd >= 0 && done < len) {
		r = write(fd, (const char *)buf + done, len - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		done += (size_t)r;
	}
	if (fd < 0 || close(fd) != 0 || done != len ||
	    rename(tmp, path) != 0) {
		(void)unlink(tmp);	/* a full disk: just not cached */
		goto out;
	}
	pthread_mutex_lock(&fsc.mu);
	if (fsc.dir == NULL || fsc_find(fid, NULL) != NULL) {
		pthread_mutex_unlock(&fsc.mu);
		goto out;		/* unmounting, or stored twice */
	}
	e = ark_xcalloc(1, sizeof(*e));
	e->fid = ark_xstrdup(fid);
	e->size = len;
	e->hnext = fsc.tab[fsc_hash(fid)];
	fsc.tab[fsc_hash(fid)] = e;
	TAILQ_INSERT_HEAD(&fsc.lru, e, lru);
	fsc.used += len;
	while (fsc.used > fsc.max && (e = TAILQ_LAST(&fsc.lru, fsc_lru)) != NULL)
		fsc_drop(e);
	pthread_mutex_unlock(&fsc.mu);
out:
	free(tmp);
	free(path);
}
