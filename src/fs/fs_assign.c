/*
 * fs_assign.c - FileID assignments with spares (fs_assign.h).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "common/util.h"
#include "fs/fs_assign.h"
#include "fs/fs_reg.h"

static pthread_mutex_t	 fsa_mu = PTHREAD_MUTEX_INITIALIZER;
static json_t		*fsa_pool;	/* spares, oldest first */
static int64_t		 fsa_until;	/* usable while now < this */
static unsigned		 fsa_spare;	/* at most this many */
static unsigned		 fsa_next;	/* spares the next assign asks for */
static uint64_t		 fsa_size;
static struct {
	int64_t		 group;
	int64_t		 until;		/* avoided while now < this */
}			 fsa_bad_groups[FSA_BAD_MAX];

void
fsa_init(unsigned spare, uint64_t size)
{
	fsa_spare = spare;
	fsa_size = size;
}

void
fsa_fini(void)
{
	pthread_mutex_lock(&fsa_mu);
	json_decref(fsa_pool);
	fsa_pool = NULL;
	pthread_mutex_unlock(&fsa_mu);
}

void
fsa_bad(int64_t group)
{
	int64_t	 now = ark_now_s();
	size_t	 i, pick = 0;

	pthread_mutex_lock(&fsa_mu);
	for (i = 0; i < FSA_BAD_MAX; i++) {
		if (fsa_bad_groups[i].group == group) {
			pick = i;
			break;
		}
		if (fsa_bad_groups[i].until < fsa_bad_groups[pick].until)
			pick = i;	/* the free or oldest entry */
	}
	fsa_bad_groups[pick].group = group;
	fsa_bad_groups[pick].until = now + FSA_BAD_S;
	pthread_mutex_unlock(&fsa_mu);
}

/* Appends assignment a to out, unless its group failed lately: then it
 * is passed over (nothing was written under it), at most FSA_MAX_SKIPS
 * times per take, so that a cluster whose only writable group fails
 * ends in an error instead of endless assign calls. fsa_mu held. */
static void
fsa_offer(json_t *out, json_t *a, unsigned *skipped)
{
	int64_t	 g = fsr_int(a, "group"), now = ark_now_s();
	size_t	 i;

	if (*skipped < FSA_MAX_SKIPS)
		for (i = 0; i < FSA_BAD_MAX; i++)
			if (fsa_bad_groups[i].group == g &&
			    fsa_bad_groups[i].until > now) {
				(*skipped)++;
				return;
			}
	json_array_append(out, a);
}

/* Moves up to `want` spares that are still good to the end of out, and
 * says how many spares the next assign should ask for: twice as many
 * when they ran out, half as many when some expired unused (an unused
 * FileID costs the registry a GC entry). */
static unsigned
fsa_from_pool(json_t *out, size_t want, unsigned *skipped)
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
		fsa_offer(out, json_array_get(fsa_pool, 0), skipped);
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
	int64_t		 now = ark_now_s(), until;
	unsigned	 skipped = 0;
	size_t		 i;

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
		fsa_offer(fsa_pool, json_array_get(as, i), &skipped);
	pthread_mutex_unlock(&fsa_mu);
}

int
fsa_take(size_t want, json_t **out)
{
	json_t		*arr = json_array(), *r = NULL, *as;
	size_t		 need, i;
	unsigned	 spare, skipped = 0, before;
	int		 rc;

	spare = fsa_from_pool(arr, want, &skipped);
	while ((need = want - json_array_size(arr)) > 0) {
		rc = fsr_call("assign", json_pack("{s:I, s:I}", "count",
		    (json_int_t)(need + spare), "size",
		    (json_int_t)fsa_size), &r);
		if (rc != 0) {
			json_decref(arr);
			return rc == -ENOSPC ? -ENOSPC : -EIO;
		}
		as = json_object_get(r, "assignments");
		before = skipped;
		pthread_mutex_lock(&fsa_mu);
		for (i = 0; json_array_size(arr) < want &&
		    i < json_array_size(as); i++)
			fsa_offer(arr, json_array_get(as, i), &skipped);
		if (skipped >= FSA_MAX_SKIPS)
			/* Nothing else to be had (one group, say): stop
			 * passing over, or every commit would waste as
			 * many FileIDs until the marks expire. */
			memset(fsa_bad_groups, 0, sizeof(fsa_bad_groups));
		pthread_mutex_unlock(&fsa_mu);
		fsa_keep(as, i, fsr_int(r, "expires"));
		json_decref(r);
		if (i == 0 || (json_array_size(arr) < want &&
		    skipped == before)) {
			/* The registry gave less than asked. */
			json_decref(arr);
			return -EIO;
		}
	}
	*out = arr;
	return 0;
}
