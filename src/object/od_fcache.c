/*
 * od_fcache.c - whole small fragments in memory, by FileID (see
 * od_fcache.h): a chained hash table over one allocation per entry
 * (header, FileID, bytes) and an LRU list, under one mutex.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>

#include "common/util.h"
#include "object/od_fcache.h"

struct fc_ent {
	TAILQ_ENTRY(fc_ent)	 lru;		/* head: most recent */
	struct fc_ent		*hnext;
	uint64_t		 hash;
	size_t			 len;
	unsigned char		*data;		/* after fid, same block */
	char			 fid[];
};
TAILQ_HEAD(fc_lru, fc_ent);

struct od_fcache {
	pthread_mutex_t	 mu;
	size_t		 budget, item_max;
	struct fc_ent	**tab;
	size_t		 nbuckets;	/* a power of two */
	struct fc_lru	 lru;
	uint64_t	 bytes, items, hits, misses;
};

static uint64_t
fc_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;		/* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static size_t
fc_cost(const struct fc_ent *e)
{
	return sizeof(*e) + strlen(e->fid) + 1 + e->len;
}

struct od_fcache *
od_fcache_new(size_t budget, size_t item_max)
{
	struct od_fcache *c = ark_xcalloc(1, sizeof(*c));

	pthread_mutex_init(&c->mu, NULL);
	c->budget = budget;
	c->item_max = ARK_MIN(item_max, budget);
	c->nbuckets = 1024;
	c->tab = ark_xcalloc(c->nbuckets, sizeof(*c->tab));
	TAILQ_INIT(&c->lru);
	return c;
}

void
od_fcache_free(struct od_fcache *c)
{
	struct fc_ent *e;

	if (c == NULL)
		return;
	while ((e = TAILQ_FIRST(&c->lru)) != NULL) {
		TAILQ_REMOVE(&c->lru, e, lru);
		free(e);
	}
	free(c->tab);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

int
od_fcache_fits(const struct od_fcache *c, uint64_t len)
{
	return c != NULL && len > 0 && len <= c->item_max;
}

static struct fc_ent **
fc_slot(struct od_fcache *c, const char *fid, uint64_t h)
{
	struct fc_ent **p = &c->tab[h & (c->nbuckets - 1)];

	while (*p != NULL && ((*p)->hash != h || strcmp((*p)->fid, fid) != 0))
		p = &(*p)->hnext;
	return p;
}

static void
fc_unlink(struct od_fcache *c, struct fc_ent *e)
{
	struct fc_ent **p = fc_slot(c, e->fid, e->hash);

	*p = e->hnext;
	TAILQ_REMOVE(&c->lru, e, lru);
	c->bytes -= fc_cost(e);
	c->items--;
	free(e);
}

/* Doubles the table when it holds more entries than buckets. */
static void
fc_grow(struct od_fcache *c)
{
	size_t n = c->nbuckets * 2, i;
	struct fc_ent **tab, *e, *next;

	if (c->items <= c->nbuckets || n > ((size_t)1 << 24))
		return;
	tab = ark_xcalloc(n, sizeof(*tab));
	for (i = 0; i < c->nbuckets; i++)
		for (e = c->tab[i]; e != NULL; e = next) {
			next = e->hnext;
			e->hnext = tab[e->hash & (n - 1)];
			tab[e->hash & (n - 1)] = e;
		}
	free(c->tab);
	c->tab = tab;
	c->nbuckets = n;
}

int
od_fcache_get(struct od_fcache *c, const char *fid, uint64_t len,
    uint64_t off, uint64_t n, struct evbuffer *out)
{
	uint64_t h;
	struct fc_ent *e;
	int hit = 0;

	if (!od_fcache_fits(c, len) || off > len || n > len - off)
		return 0;
	h = fc_hash(fid);
	pthread_mutex_lock(&c->mu);
	e = *fc_slot(c, fid, h);
	if (e != NULL && e->len == len) {
		if (evbuffer_add(out, e->data + off, (size_t)n) == 0) {
			TAILQ_REMOVE(&c->lru, e, lru);
			TAILQ_INSERT_HEAD(&c->lru, e, lru);
			hit = 1;
		}
	}
	if (hit)
		c->hits++;
	else
		c->misses++;
	pthread_mutex_unlock(&c->mu);
	return hit;
}

void
od_fcache_put(struct od_fcache *c, const char *fid,
    const struct evbuffer *buf)
{
	size_t len = evbuffer_get_length(buf), flen = strlen(fid);
	struct fc_ent *e, **p;
	uint64_t h;

	if (!od_fcache_fits(c, len))
		return;
	e = ark_xmalloc(sizeof(*e) + flen + 1 + len);
	memcpy(e->fid, fid, flen + 1);
	e->data = (unsigned char *)e->fid + flen + 1;
	e->len = len;
	e->hash = h = fc_hash(fid);
	e->hnext = NULL;
	/* evbuffer_copyout takes a non-const buffer but leaves it as is. */
	if (evbuffer_copyout((struct evbuffer *)(uintptr_t)buf, e->data,
	    len) != (ev_ssize_t)len) {
		free(e);
		return;
	}
	pthread_mutex_lock(&c->mu);
	p = fc_slot(c, fid, h);
	if (*p != NULL) {			/* another thread was first */
		pthread_mutex_unlock(&c->mu);
		free(e);
		return;
	}
	*p = e;
	TAILQ_INSERT_HEAD(&c->lru, e, lru);
	c->bytes += fc_cost(e);
	c->items++;
	while (c->bytes > c->budget && TAILQ_LAST(&c->lru, fc_lru) != e)
		fc_unlink(c, TAILQ_LAST(&c->lru, fc_lru));
	fc_grow(c);
	pthread_mutex_unlock(&c->mu);
}

void
od_fcache_stats(struct od_fcache *c, struct od_fcache_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	out->hits = c->hits;
	out->misses = c->misses;
	out->bytes = c->bytes;
	out->items = c->items;
	pthread_mutex_unlock(&c->mu);
}
