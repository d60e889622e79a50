/*
 * fs_dstat.c - arkorfs's cache of directory attributes (fs_dstat.h): a
 * direct-mapped table of FSDS_SLOTS entries under one mutex; a slot
 * taken by another directory is overwritten.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "fs/fs_dstat.h"

#define FSDS_SLOTS	256

struct fsds_ent {
	char		*path;		/* "bucket\0key", NULL: free */
	size_t		 len;
	struct stat	 st;
	int64_t		 at_ms;		/* when the registry answered
					 * (monotonic) */
	int		 implied;
};

static pthread_mutex_t	 fsds_mu = PTHREAD_MUTEX_INITIALIZER;
static struct fsds_ent	 fsds_tab[FSDS_SLOTS];
static int64_t		 fsds_ttl_ms;

static int64_t
fsds_now_ms(void)
{
	return (int64_t)(ark_mono_ns() / 1000000);
}

void
fsds_init(int64_t ttl_ms)
{
	fsds_ttl_ms = ttl_ms;
}

void
fsds_fini(void)
{
	fsds_clear();
}

/* "bucket\0key" into a new string; *len its length with both parts. */
static char *
fsds_path(const char *bucket, const char *key, size_t *len)
{
	size_t	 bl = strlen(bucket), kl = strlen(key);
	char	*p = ark_xmalloc(bl + kl + 2);

	memcpy(p, bucket, bl + 1);
	memcpy(p + bl + 1, key, kl + 1);
	*len = bl + kl + 1;
	return p;
}

static struct fsds_ent *
fsds_slot(const char *p, size_t len)
{
	uint32_t h = 2166136261u;		/* FNV-1a */
	size_t	 i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return &fsds_tab[h % FSDS_SLOTS];
}

static int
fsds_is(const struct fsds_ent *e, const char *p, size_t len)
{
	return e->path != NULL && e->len == len &&
	    memcmp(e->path, p, len) == 0;
}

static void
fsds_drop(struct fsds_ent *e)
{
	free(e->path);
	e->path = NULL;
}

int
fsds_get(const char *bucket, const char *key, struct stat *st)
{
	struct fsds_ent	*e;
	size_t		 len;
	char		*p;
	int		 hit = 0;

	if (fsds_ttl_ms <= 0)
		return 0;
	p = fsds_path(bucket, key, &len);
	pthread_mutex_lock(&fsds_mu);
	e = fsds_slot(p, len);
	if (fsds_is(e, p, len)) {
		if (fsds_now_ms() - e->at_ms < fsds_ttl_ms) {
			*st = e->st;
			hit = 1;
		} else
			fsds_drop(e);
	}
	pthread_mutex_unlock(&fsds_mu);
	free(p);
	return hit;
}

void
fsds_put(const char *bucket, const char *key, const struct stat *st,
    int implied)
{
	struct fsds_ent	*e;
	size_t		 len;
	char		*p;

	if (fsds_ttl_ms <= 0)
		return;
	p = fsds_path(bucket, key, &len);
	pthread_mutex_lock(&fsds_mu);
	e = fsds_slot(p, len);
	fsds_drop(e);
	e->path = p;
	e->len = len;
	e->st = *st;
	e->at_ms = fsds_now_ms();
	e->implied = implied;
	pthread_mutex_unlock(&fsds_mu);
}

void
fsds_unlinked(const char *bucket, const char *key)
{
	struct fsds_ent	*e;
	const char	*slash = strrchr(key, '/');
	size_t		 len;
	char		*p, *parent;

	if (fsds_ttl_ms <= 0 || slash == NULL)
		return;			/* the bucket's root never vanishes */
	parent = ark_xstrndup(key, (size_t)(slash - key));
	p = fsds_path(bucket, parent, &len);
	pthread_mutex_lock(&fsds_mu);
	e = fsds_slot(p, len);
	if (fsds_is(e, p, len) && e->implied)
		fsds_drop(e);
	pthread_mutex_unlock(&fsds_mu);
	free(p);
	free(parent);
}

void
fsds_clear(void)
{
	size_t i;

	pthread_mutex_lock(&fsds_mu);
	for (i = 0; i < FSDS_SLOTS; i++)
		fsds_drop(&fsds_tab[i]);
	pthread_mutex_unlock(&fsds_mu);
}
