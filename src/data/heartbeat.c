/*
 * heartbeat.c - periodic POST of the data server's status to the registry
 * (see heartbeat.h). Failures are logged when the state changes (up ->
 * down, down -> up) rather than every interval.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/http_client.h"
#include "common/json.h"
#include "common/log.h"
#include "common/token.h"
#include "common/util.h"
#include "data/dsrv.h"
#include "data/heartbeat.h"
#include "data/store.h"

#define HB_MAGIC		0x48425421u
#define HB_PATH			"/v1/server/heartbeat"
#define HB_TOKEN_TTL_S		300
#define HB_TIMEOUT_MS		5000
#define HB_REPLY_MAX		65536
#define HB_CORRUPT_MAX		64	/* the registry's bound (Internal.md) */

struct heartbeat {
	uint32_t		 magic;
	struct heartbeat_opts	 o;		/* strings owned */
	char			*target_url;
	pthread_t		 thr;
	pthread_mutex_t		 mtx;
	pthread_cond_t		 cond;
	int			 stop;
	int			 up;		/* last beat succeeded */
};

char *
heartbeat_body(const struct heartbeat_opts *o)
{
	struct store_stats s;
	int64_t g = dsrv_group(o->d);
	json_t *j;
	char *out;

	store_stats(o->st, &s);
	/* docs/specs/Internal.md, server/heartbeat: group 0 asks for
	 * placement; the figures the registry does not use go in "stats". */
	j = json_pack("{s:s,s:s,s:I,s:I,s:I,s:b,s:{s:I,s:I,s:I,s:I,s:I,s:s}}",
	    "id", o->server_id, "url", o->url,
	    "group", (json_int_t)(g > 0 ? g : 0),
	    "free", (json_int_t)s.fs_free,
	    "capacity", (json_int_t)(s.fs_free + s.disk_used),
	    "readonly", s.readonly,
	    "stats",
	    "used", (json_int_t)s.disk_used,
	    "chunks", (json_int_t)s.chunks,
	    "needles", (json_int_t)s.needles,
	    "dead_bytes", (json_int_t)s.dead_bytes,
	    "corrupt", (json_int_t)s.corrupt,
	    "version", PACKAGE_VERSION);
	if (j == NULL)
		return NULL;
	if (s.corrupt > 0) {
		struct store_corrupt cl[HB_CORRUPT_MAX];
		size_t n = store_corrupt_list(o->st, cl, HB_CORRUPT_MAX), i;
		json_t *a = json_array();
		char key[20];

		for (i = 0; i < n && i < HB_CORRUPT_MAX; i++) {
			snprintf(key, sizeof(key), "%" PRIx64, cl[i].key);
			json_array_append_new(a, json_pack("{s:s,s:I,s:I}",
			    "key", key, "chunk", (json_int_t)cl[i].chunk_id,
			    "offset", (json_int_t)cl[i].offset));
		}
		json_object_set_new(j, "corrupt", a);
	}
	out = ark_json_dump(j, NULL);
	json_decref(j);
	return out;
}

/* Applies a reply {"group": N|null, ...}; unknown members are ignored so
 * the registry can add some. */
static void
hb_apply_reply(struct heartbeat *hb, const char *body, size_t len)
{
	struct ark_json_err e;
	json_t *o, *g;
	int64_t cur = dsrv_group(hb->o.d);

	if (len == 0)
		return;
	if (ark_json_parse_object(body, len, HB_REPLY_MAX, &o, &e) != ARK_OK) {
		ark_log_warnx("heartbeat: bad reply from %s: %s",
		    hb->o.registry, e.msg);
		return;
	}
	g = json_object_get(o, "group");
	if (json_is_integer(g) && json_integer_value(g) >= 0 &&
	    json_integer_value(g) <= (json_int_t)UINT32_MAX) {
		int64_t ng = (int64_t)json_integer_value(g);

		if (cur < 0) {
			ark_log_info("heartbeat: registry placed us in group "
			    "%" PRId64, ng);
			dsrv_set_group(hb->o.d, ng);
			if (hb->o.on_group != NULL)
				hb->o.on_group(ng, hb->o.arg);
		} else if (cur != ng)
			ark_log_warnx("heartbeat: registry says group %" PRId64
			    " but we serve group %" PRId64 "; keeping ours",
			    ng, cur);
	}
	json_decref(o);
}

static void
hb_beat(struct heartbeat *hb)
{
	struct ark_http_fetch_req rq;
	struct ark_http_fetch_resp rs;
	struct ark_http_header hdr[2];
	char tok[ARK_TOKEN_MAXLEN];
	char *body, *auth;
	enum ark_err rc;
	int ok = 0;

	if ((body = heartbeat_body(&hb->o)) == NULL)
		return;
	if (ark_token_mint(hb->o.secret, ARK_TOKEN_ADMIN, ARK_SERVICE_SUBJECT,
	    ark_now_s() + HB_TOKEN_TTL_S, tok, sizeof(tok)) != ARK_OK) {
		free(body);
		return;
	}
	auth = ark_xasprintf("Arkor-Service %s", tok);
	hdr[0].name = "Authorization";
	hdr[0].value = auth;
	hdr[1].name = "Content-Type";
	hdr[1].value = "application/json";
	memset(&rq, 0, sizeof(rq));
	rq.method = "POST";
	rq.url = hb->target_url;
	rq.headers = hdr;
	rq.nheaders = 2;
	rq.body = body;
	rq.body_len = strlen(body);
	rq.max_body = HB_REPLY_MAX;
	rq.timeout_ms = HB_TIMEOUT_MS;
	rc = ark_http_fetch(&rq, &rs);
	free(body);
	free(auth);
	if (rc == ARK_OK) {
		if (rs.status >= 200 && rs.status < 300) {
			ok = 1;
			hb_apply_reply(hb, rs.body, rs.body_len);
		} else if (hb->up)
			ark_log_warnx("heartbeat: %s answered %d",
			    hb->o.registry, rs.status);
		ark_http_fetch_resp_free(&rs);
	} else if (hb->up)
		ark_log_warnx("heartbeat: %s: %s", hb->o.registry,
		    ark_strerror(rc));
	if (ok && !hb->up)
		ark_log_info("heartbeat: registry %s reachable",
		    hb->o.registry);
	hb->up = ok;
}

static void *
hb_main(void *arg)
{
	struct heartbeat *hb = arg;
	struct timespec ts;

	hb->up = 1;		/* so that a first failure is logged */
	pthread_mutex_lock(&hb->mtx);
	while (!hb->stop) {
		pthread_mutex_unlock(&hb->mtx);
		hb_beat(hb);
		pthread_mutex_lock(&hb->mtx);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += hb->o.interval_ms / 1000;
		ts.tv_nsec += (long)(hb->o.interval_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		while (!hb->stop && pthread_cond_timedwait(&hb->cond,
		    &hb->mtx, &ts) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&hb->mtx);
	ark_http_fetch_thread_cleanup();
	return NULL;
}

enum ark_err
heartbeat_start(const struct heartbeat_opts *o, struct heartbeat **out)
{
	struct heartbeat *hb = ark_xcalloc(1, sizeof(*hb));

	hb->magic = HB_MAGIC;
	hb->o = *o;
	hb->o.registry = ark_xstrdup(o->registry);
	hb->o.url = ark_xstrdup(o->url);
	hb->o.server_id = ark_xstrdup(o->server_id);
	if (hb->o.interval_ms <= 0)
		hb->o.interval_ms = 5000;
	hb->target_url = ark_xasprintf("http://%s%s", o->registry, HB_PATH);
	pthread_mutex_init(&hb->mtx, NULL);
	pthread_cond_init(&hb->cond, NULL);
	if (pthread_create(&hb->thr, NULL, hb_main, hb) != 0) {
		ark_log_warnx("heartbeat: cannot start thread");
		hb->stop = 1;		/* nothing to join */
		heartbeat_stop(hb);
		return ARK_EIO;
	}
	*out = hb;
	return ARK_OK;
}

void
heartbeat_stop(struct heartbeat *hb)
{
	if (hb == NULL)
		return;
	ARK_CHECK(hb, HB_MAGIC);
	pthread_mutex_lock(&hb->mtx);
	if (!hb->stop) {
		hb->stop = 1;
		pthread_cond_broadcast(&hb->cond);
		pthread_mutex_unlock(&hb->mtx);
		pthread_join(hb->thr, NULL);
	} else
		pthread_mutex_unlock(&hb->mtx);
	pthread_mutex_destroy(&hb->mtx);
	pthread_cond_destroy(&hb->cond);
	free((char *)(uintptr_t)hb->o.registry);
	free((char *)(uintptr_t)hb->o.url);
	free((char *)(uintptr_t)hb->o.server_id);
	free(hb->target_url);
	hb->magic = 0;
	free(hb);
}
