/*
 * od_pool.c - spare FileID assignments per worker thread (see od.h).
 * An assign call for an upload asks for od_pool_extra() more FileIDs than
 * the upload needs; the rest wait here for the next uploads on this
 * thread. The pool lives and dies with its thread: no locking.
 */
#include "config.h"

#include <stdint.h>

#include <jansson.h>

#include "common/util.h"
#include "object/od.h"

static __thread json_t	*pool;		/* assignments, oldest first */
static __thread int64_t	 pool_until;	/* usable while now < this */

void
od_pool_flush(void)
{
	json_decref(pool);
	pool = NULL;
}

unsigned
od_pool_extra(const struct oreq *o)
{
	if (od_conf.fid_pool == 0 || !o->have_key || !o->key.writer)
		return 0;
	return od_conf.fid_pool - (unsigned)json_array_size(pool);
}

unsigned
od_pool_take(struct oreq *o, unsigned want)
{
	unsigned n = 0;

	if (pool == NULL || !o->have_key || !o->key.writer)
		return 0;
	if (ark_now_s() >= pool_until) {
		od_pool_flush();
		return 0;
	}
	if (o->assigned == NULL)
		o->assigned = json_array();
	while (n < want && json_array_size(pool) > 0) {
		json_array_append(o->assigned, json_array_get(pool, 0));
		json_array_remove(pool, 0);
		n++;
	}
	return n;
}

void
od_pool_put(json_t *arr, size_t from, int64_t expires)
{
	int64_t now = ark_now_s(), until;
	size_t i;

	if (from >= json_array_size(arr))
		return;
	/* Half the token's life at most, so a fragment written from the
	 * pool still has time to reach every replica. */
	until = now + ARK_MIN((int64_t)OD_POOL_AGE_S, (expires - now) / 2);
	if (until <= now)
		return;
	if (pool == NULL || json_array_size(pool) == 0) {
		json_decref(pool);
		pool = json_array();
		pool_until = until;
	} else
		pool_until = ARK_MIN(pool_until, until);
	for (i = from; i < json_array_size(arr) &&
	    json_array_size(pool) < od_conf.fid_pool; i++)
		json_array_append(pool, json_array_get(arr, i));
}
