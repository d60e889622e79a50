/*
 * fs_assign.c - FileID assignments with spares (fs_assign.h).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>

#include "common/util.h"
#include "fs/fs_assign.h"
#include "fs/fs_reg.h"

static pthread_mutex_t	 fsa_mu = PTHREAD_MUTEX_INITIALIZER;
static json_t		*fsa_pool;	/* spares, oldest first */
static int64_t		 fsa_until;	/* usable while now < this */
static unsigned		 fsa_spare;	/* at most this many */
static unsigned		 fsa_next;	/* spares the next assign asks for */
static uint64_t		 fsa_size;

void
fsa_init(unsigned spare, uint64_t size)
{
	fsa_spare = spare;
	fsa_size = size;
}

void
fsa_fini(void)
{
	fsa_drop();
}

void
fsa_drop(void)
{
	pthread_mutex_lock(&fsa_mu);
	json_decref(fsa_pool);
	fsa_pool = NULL;
	pthread_mutex_unlock(&fsa_mu);
}

/* Moves up to `want` spares that are still good to the end of out, and
 * says how many spares the next assign should ask for: twice as many
 * when they ran out, half as many when some expired unused (an unused
 * FileID costs the registry a GC entry). */
static unsigned
fsa_from_pool(json_t *out, size_t want)
{
	unsigned	 next;
	int		 expired = 0;

	pthread_mutex_lock(&fsa_mu);
	if (fsa_pool != NULL && ark_now_s() >= fsa_until) {
		if (json_array_size(fsa_pool) > 0) {
			fsa_next /= 2;
			expired = 1;
		}
		json_decref(fsa_pool);
		fsa_pool = NULL;
	}
	while (json_array_size(out) < want && json_array_size(fsa_pool) > 0) {
		json_array_append(out, json_array_get(fsa_pool, 0));
		json_array_remove(fsa_pool, 0);
	}
	if (json_array_size(out) < want && !expired)
		fsa_next = ARK_MIN(fsa_spare, ARK_MAX(1u, fsa_next * 2));
	next = fsa_next;
	pthread_mutex_unlock(&fsa_mu);
	return next;
}

/* Keeps as[from..] as spares, up to fsa_spare in all. */
static void
fsa_keep(const json_t *as, size_t from, int64_t expires)
{
	int64_t	 now = ark_now_s(), until;
	size_t	 i;

	until = now + ARK_MIN((int64_t)FSA_AGE_S, (expires - now) / 2);
	if (until <= now || from >= json_array_size(as))
		return;
	pthread_mutex_lock(&fsa_mu);
	if (json_array_size(fsa_pool) == 0) {
		json_decref(fsa_pool);
		fsa_pool = json_array();
		fsa_until = until;
	} else
		fsa_until = ARK_MIN(fsa_until, until);
	for (i = from; i < json_array_size(as) &&
	    json_array_size(fsa_pool) < fsa_spare; i++)
		json_array_append(fsa_pool, json_array_get(as, i));
	pthread_mutex_unlock(&fsa_mu);
}

int
fsa_take(size_t want, json_t **out)
{
	json_t		*arr = json_array(), *r = NULL, *as;
	size_t		 need, i;
	unsigned	 spare;
	int		 rc;

	spare = fsa_from_pool(arr, want);
	if ((need = want - json_array_size(arr)) > 0) {
		rc = fsr_call("assign", json_pack("{s:I, s:I}", "count",
		    (json_int_t)(need + spare), "size",
		    (json_int_t)fsa_size), &r);
		if (rc != 0) {
			json_decref(arr);
			return rc == -ENOSPC ? -ENOSPC : -EIO;
		}
		as = json_object_get(r, "assignments");
		for (i = 0; i < need && i < json_array_size(as); i++)
			json_array_append(arr, json_array_get(as, i));
		fsa_keep(as, i, fsr_int(r, "expires"));
		json_decref(r);
	}
	*out = arr;
	return 0;
}
