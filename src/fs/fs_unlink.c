/*
 * fs_unlink.c - unlinks answered before the registry has them
 * (fs_unlink.h).
 *
 * One queue (a JSON array of object/delete bodies) under one mutex;
 * counters of deletes ever queued and ever answered, which the gate
 * compares; one sender thread.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/http_client.h"
#include "common/log.h"
#include "common/util.h"
#include "fs/fs_reg.h"
#include "fs/fs_unlink.h"

/* Queued at most (then an unlink waits for room): one object/deletes
 * call takes them all. */
#define FSUL_MAX	256

struct fsul_bucket {
	char			*name;
	struct fsul_bucket	*next;
};

static pthread_mutex_t	 fsul_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 fsul_work = PTHREAD_COND_INITIALIZER;
static pthread_cond_t	 fsul_idle = PTHREAD_COND_INITIALIZER;
static json_t		*fsul_q;		/* bodies waiting to be sent */
static atomic_ullong	 fsul_queued, fsul_done;
static unsigned long long fsul_calls;	/* object/deletes sent */
static int		 fsul_on, fsul_stop;
static int		 fsul_off;		/* the registry lacks the route */
static pthread_t	 fsul_thr;
static struct fsul_bucket *fsul_allowed;	/* a delete succeeded there */
static _Thread_local int fsul_sender;

static int
fsul_is_allowed(const char *bucket)
{
	struct fsul_bucket *b;

	for (b = fsul_allowed; b != NULL; b = b->next)
		if (strcmp(b->name, bucket) == 0)
			return 1;
	return 0;
}

/* Forgets which buckets are allowed: after a refusal, each proves
 * itself again with a synchronous delete. fsul_mu held. */
static void
fsul_disallow_all(void)
{
	struct fsul_bucket *b, *next;

	for (b = fsul_allowed; b != NULL; b = next) {
		next = b->next;
		free(b->name);
		free(b);
	}
	fsul_allowed = NULL;
}

void
fsul_allow(const char *bucket)
{
	struct fsul_bucket *b;

	pthread_mutex_lock(&fsul_mu);
	if (fsul_on && !fsul_is_allowed(bucket)) {
		b = ark_xcalloc(1, sizeof(*b));
		b->name = ark_xstrdup(bucket);
		b->next = fsul_allowed;
		fsul_allowed = b;
	}
	pthread_mutex_unlock(&fsul_mu);
}

int
fsul_queue(const char *bucket, const char *key)
{
	json_t	*e;

	pthread_mutex_lock(&fsul_mu);
	if (!fsul_on || fsul_stop || fsul_off || !fsul_is_allowed(bucket) ||
	    !fsr_reachable()) {
		pthread_mutex_unlock(&fsul_mu);
		return -EAGAIN;
	}
	while (atomic_load(&fsul_queued) - atomic_load(&fsul_done) >=
	    FSUL_MAX && !fsul_stop)
		pthread_cond_wait(&fsul_idle, &fsul_mu);
	e = json_pack("{s:s, s:s}", "bucket", bucket, "key", key);
	/* In flight from now on, for the name cache. */
	fsr_observe("object/delete", e, -1, NULL);
	json_array_append_new(fsul_q, e);
	atomic_fetch_add(&fsul_queued, 1);
	pthread_cond_signal(&fsul_work);
	pthread_mutex_unlock(&fsul_mu);
	return 0;
}

void
fsul_gate(const char *route)
{
	unsigned long long upto;

	if (fsul_sender || strcmp(route, "assign") == 0 ||
	    strcmp(route, "stat") == 0)
		return;
	upto = atomic_load(&fsul_queued);
	if (atomic_load(&fsul_done) >= upto)
		return;
	pthread_mutex_lock(&fsul_mu);
	while (atomic_load(&fsul_done) < upto)
		pthread_cond_wait(&fsul_idle, &fsul_mu);
	pthread_mutex_unlock(&fsul_mu);
}

/* The registry does not know object/deletes (one older than the route):
 * deletes each entry with object/delete, and queues no more. */
static void
fsul_send_each(json_t *batch)
{
	json_t	*e;
	size_t	 i;
	int	 r;

	pthread_mutex_lock(&fsul_mu);
	if (!fsul_off)
		ark_log_warnx("the registry does not know object/deletes: "
		    "unlinks wait for the registry from now on");
	fsul_off = 1;
	pthread_mutex_unlock(&fsul_mu);
	json_array_foreach(batch, i, e) {
		/* Ends the enqueue's "in flight" (outcome unknown: the name
		 * cache forgets the bucket); object/delete sends its own. */
		fsr_observe("object/delete", e, 0, NULL);
		r = fsr_call("object/delete", json_pack("{s:O, s:O, s:b}",
		    "bucket", json_object_get(e, "bucket"), "key",
		    json_object_get(e, "key"), "durable", 0), NULL);
		if (r != 0 && r != -ENOENT)
			ark_log_warnx("unlink of %s/%s answered already did not "
			    "take effect: %s; the file stays", fsr_str(e,
			    "bucket"), fsr_str(e, "key"), strerror(-r));
	}
}

/* Sends one batch and shows each entry's answer to the name cache; logs
 * what did not take effect, once per batch. */
static void
fsul_send(json_t *batch)
{
	json_t		*ans = NULL, *res, *e, *r;
	size_t		 i, n = json_array_size(batch), failed = 0;
	const char	*first = NULL;
	int		 rc, st, first_st = 0;

	rc = fsr_call("object/deletes", json_pack("{s:b, s:O}", "durable", 0,
	    "deletes", batch), &ans);
	if (rc == -ENOENT && strcmp(fsr_last_error(), "not_found") == 0) {
		fsul_send_each(batch);
		return;
	}
	res = json_object_get(ans, "results");
	json_array_foreach(batch, i, e) {
		r = json_array_get(res, i);
		st = (int)json_integer_value(json_object_get(r, "status"));
		fsr_observe("object/delete", e, st, json_object_get(r,
		    "answer"));
		if (st == 200 || st == 404)	/* 404: gone already */
			continue;
		if (failed++ == 0) {
			first = fsr_str(e, "key");
			first_st = st;
		}
	}
	if (failed > 0) {
		ark_log_warnx("%zu of %zu unlinks already answered did not take "
		    "effect (first: %s: %s); those files stay", failed, n,
		    first, rc != 0 ? strerror(-rc) : first_st == 403 ?
		    "refused by the registry" : "registry error");
		pthread_mutex_lock(&fsul_mu);
		fsul_disallow_all();
		pthread_mutex_unlock(&fsul_mu);
	}
	json_decref(ans);
}

static void *
fsul_main(void *arg)
{
	json_t *batch;

	(void)arg;
	fsul_sender = 1;
	pthread_mutex_lock(&fsul_mu);
	for (;;) {
		while (json_array_size(fsul_q) == 0 && !fsul_stop)
			pthread_cond_wait(&fsul_work, &fsul_mu);
		if (json_array_size(fsul_q) == 0)
			break;			/* stopping, all sent */
		batch = fsul_q;
		fsul_q = json_array();
		pthread_mutex_unlock(&fsul_mu);
		fsul_send(batch);
		pthread_mutex_lock(&fsul_mu);
		fsul_calls++;
		atomic_fetch_add(&fsul_done, json_array_size(batch));
		json_decref(batch);
		pthread_cond_broadcast(&fsul_idle);
	}
	pthread_mutex_unlock(&fsul_mu);
	ark_http_fetch_thread_cleanup();
	return NULL;
}

void
fsul_init(int on)
{
	if (!on)
		return;
	fsul_q = json_array();
	if (pthread_create(&fsul_thr, NULL, fsul_main, NULL) != 0) {
		ark_log_warnx("unlinks stay synchronous: no sender thread");
		json_decref(fsul_q);
		fsul_q = NULL;
		return;
	}
	fsul_on = 1;
}

void
fsul_fini(void)
{
	pthread_mutex_lock(&fsul_mu);
	fsul_stop = 1;
	pthread_cond_broadcast(&fsul_work);
	pthread_cond_broadcast(&fsul_idle);
	pthread_mutex_unlock(&fsul_mu);
	if (fsul_on) {
		pthread_join(fsul_thr, NULL);
		ark_log_info("%llu unlinks answered early, sent in %llu calls",
		    (unsigned long long)atomic_load(&fsul_queued), fsul_calls);
	}
	pthread_mutex_lock(&fsul_mu);
	fsul_on = 0;
	fsul_disallow_all();
	json_decref(fsul_q);
	fsul_q = NULL;
	pthread_mutex_unlock(&fsul_mu);
}
