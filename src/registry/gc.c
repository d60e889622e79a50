/*
 * gc.c - GC worker thread over the blocking HTTP client (ark_http_fetch),
 * which gives the thread its own event loop and keep-alive pool.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/http_client.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/util.h"
#include "registry/gc.h"

#define GC_BATCH	64

struct gc {
	struct meta		*m;
	struct cluster		*c;
	const struct ark_secret	*secret;
	struct gc_opts		 o;
	pthread_t		 thr;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	int			 stop, kicked;
	struct gc_stats		 st;
	struct ark_metric	*m_deleted, *m_failed;
};

/* Deletes one fragment from every replica: ARK_OK when all confirmed. */
static enum ark_err
gc_delete(struct gc *g, const struct meta_gc_item *it)
{
	char				 urls[CLUSTER_MAX_REPLICAS][META_URL_MAX + 1];
	char				 tok[ARK_TOKEN_MAXLEN], *u;
	struct ark_fid			 fid;
	struct ark_http_header		 h;
	struct ark_http_fetch_req	 rq;
	struct ark_http_fetch_resp	 rs;
	enum ark_err			 rc;
	size_t				 i, n;

	if (ark_fid_parse_str(it->fid, &fid) != ARK_OK) {
		ark_log_warnx("gc: dropping malformed fid \"%s\"", it->fid);
		return ARK_OK;
	}
	/* Every registered replica, up or not: a down one fails the round
	 * and the fragment is retried later. */
	if ((rc = cluster_group_urls(g->c, fid.group, 0, urls, &n)) != ARK_OK)
		return rc;
	if ((rc = ark_token_mint(g->secret, ARK_TOKEN_DELETE, it->fid,
	    ark_now_s() + 600, tok, sizeof(tok))) != ARK_OK)
		return rc;
	h.name = "X-Arkor-Token";
	h.value = tok;
	for (i = 0; i < n; i++) {
		memset(&rq, 0, sizeof(rq));
		u = ark_xasprintf("%s/%s", urls[i], it->fid);
		rq.method = "DELETE";
		rq.url = u;
		rq.headers = &h;
		rq.nheaders = 1;
		rq.timeout_ms = g->o.timeout_ms;
		rq.max_body = 64 * 1024;
		rc = ark_http_fetch(&rq, &rs);
		free(u);
		if (rc != ARK_OK)
			return rc;
		if (rs.status / 100 != 2 && rs.status != 404) {
			ark_log_debug("%s: %s on %s: HTTP %d", __func__,
			    it->fid, urls[i], rs.status);
			ark_http_fetch_resp_free(&rs);
			return ARK_EIO;
		}
		ark_http_fetch_resp_free(&rs);
	}
	return ARK_OK;
}

static int
gc_pass(struct gc *g)
{
	struct meta_gc_item	items[GC_BATCH];
	size_t			n, i;
	int64_t			backoff;
	enum ark_err		rc;

	cluster_sweep(g->c);
	/* FileIDs handed out whose commit never came: their needles (if the
	 * writer stored any) are collected like unreferenced fragments. */
	if (meta_assigned_expire(g->m, ark_now_ms(), GC_BATCH, &n) == ARK_OK &&
	    n > 0)
		ark_log_info("gc: %zu assigned FileID%s never committed, "
		    "queued for deletion", n, n == 1 ? "" : "s");
	rc = meta_gc_take(g->m, ark_now_ms(), g->o.lease_ms, items, GC_BATCH,
	    &n);
	if (rc != ARK_OK)
		return 0;
	for (i = 0; i < n; i++) {
		if (gc_delete(g, &items[i]) == ARK_OK) {
			if (meta_gc_done(g->m, items[i].id, ark_now_ms() +
			    g->o.tombstone_ms) == ARK_OK) {
				pthread_mutex_lock(&g->mu);
				g->st.deleted++;
				pthread_mutex_unlock(&g->mu);
				ark_metric_inc(g->m_deleted, 0);
			}
			continue;
		}
		backoff = 1000LL << ARK_MIN(items[i].attempts, 20u);
		if (backoff > g->o.backoff_max_ms)
			backoff = g->o.backoff_max_ms;
		if (items[i].attempts == 5)
			ark_log_warnx("gc: %s still not deleted after %u "
			    "attempts (a replica is down?)", items[i].fid,
			    items[i].attempts + 1);
		meta_gc_retry(g->m, items[i].id, ark_now_ms() + backoff);
		pthread_mutex_lock(&g->mu);
		g->st.failed++;
		pthread_mutex_unlock(&g->mu);
		ark_metric_inc(g->m_failed, 0);
	}
	return n == GC_BATCH;		/* more may be due right away */
}

static void *
gc_main(void *arg)
{
	struct gc	*g = arg;
	struct timespec	 ts;
	int		 more = 0;
	int64_t		 at;

	pthread_mutex_lock(&g->mu);
	while (!g->stop) {
		if (!more && !g->kicked) {
			at = ark_now_ms() + g->o.interval_ms;
			ts.tv_sec = at / 1000;
			ts.tv_nsec = (at % 1000) * 1000000;
			pthread_cond_timedwait(&g->cv, &g->mu, &ts);
			if (g->stop)
				break;
		}
		g->kicked = 0;
		g->st.passes++;
		pthread_mutex_unlock(&g->mu);
		more = gc_pass(g);
		pthread_mutex_lock(&g->mu);
	}
	pthread_mutex_unlock(&g->mu);
	ark_http_fetch_thread_cleanup();
	return NULL;
}

enum ark_err
gc_start(struct meta *m, struct cluster *c, const struct ark_secret *secret,
    const struct gc_opts *o, struct gc **out)
{
	struct gc *g = ark_xcalloc(1, sizeof(*g));

	g->m = m;
	g->c = c;
	g->secret = secret;
	g->o = *o;
	if (g->o.interval_ms <= 0)
		g->o.interval_ms = 10000;
	if (g->o.lease_ms <= 0)
		g->o.lease_ms = 300000;
	if (g->o.backoff_max_ms <= 0)
		g->o.backoff_max_ms = 3600000;
	if (g->o.tombstone_ms <= 0)
		g->o.tombstone_ms = 7 * 86400000LL;
	if (g->o.timeout_ms == 0)
		g->o.timeout_ms = 10000;
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	g->m_deleted = ark_metric_counter("arkor_registry_gc_deleted_total",
	    "Fragments deleted from every replica by the GC", NULL, 0);
	g->m_failed = ark_metric_counter("arkor_registry_gc_retries_total",
	    "GC deletions that failed on a replica and were rescheduled",
	    NULL, 0);
	if (pthread_create(&g->thr, NULL, gc_main, g) != 0) {
		ark_log_error("gc: cannot start thread");
		pthread_mutex_destroy(&g->mu);
		pthread_cond_destroy(&g->cv);
		free(g);
		return ARK_EIO;
	}
	*out = g;
	return ARK_OK;
}

void
gc_kick(struct gc *g)
{
	pthread_mutex_lock(&g->mu);
	g->kicked = 1;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

void
gc_stop(struct gc *g)
{
	if (g == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	g->stop = 1;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
	pthread_join(g->thr, NULL);
	pthread_mutex_destroy(&g->mu);
	pthread_cond_destroy(&g->cv);
	free(g);
}

void
gc_stats(struct gc *g, struct gc_stats *out)
{
	pthread_mutex_lock(&g->mu);
	*out = g->st;
	pthread_mutex_unlock(&g->mu);
}
