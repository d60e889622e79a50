/*
 * fs_reg.c - signed JSON calls to the registry for arkorfs. The secret
 * never travels: each request carries Arkor-HMAC over method, path, time
 * and the body's SHA-256. Transport failures are logged once when the
 * registry becomes unreachable and once when it is back, so an outage
 * gives one clear line, not one per file operation.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "common/http_client.h"
#include "common/json.h"
#include "common/log.h"
#include "common/token.h"
#include "common/util.h"
#include "fs/fs_reg.h"

#define FSR_MAX_RESP	(64u << 20)	/* a list page or a huge object */

static char		*fsr_base;		/* "http://host:port" */
static char		*fsr_key_id, *fsr_secret;
static unsigned		 fsr_timeout_ms;
static atomic_int	 fsr_down;		/* 1 while unreachable */
static _Thread_local char fsr_err[64];
/* Lazy writes answered, and how many of them a durable answer covers. */
static atomic_ullong	 fsr_lazy_done, fsr_lazy_synced;
static fsr_observer_fn	*fsr_obs;
static fsr_gate_fn	*fsr_gate;

void
fsr_set_observer(fsr_observer_fn *fn)
{
	fsr_obs = fn;
}

void
fsr_observe(const char *route, const json_t *body, int status,
    const json_t *answer)
{
	if (fsr_obs != NULL)
		fsr_obs(route, body, status, answer);
}

void
fsr_set_gate(fsr_gate_fn *fn)
{
	fsr_gate = fn;
}

int
fsr_reachable(void)
{
	return !atomic_load(&fsr_down);
}

enum ark_err
fsr_init(const char *registry, const char *key_id, const char *secret,
    unsigned timeout_ms)
{
	struct ark_url	 u;
	const char	*why = NULL;

	if (strncmp(registry, "http://", 7) == 0 ||
	    strncmp(registry, "https://", 8) == 0)
		fsr_base = ark_xstrdup(registry);
	else
		fsr_base = ark_xasprintf("http://%s", registry);
	while (fsr_base[0] != '\0' && fsr_base[strlen(fsr_base) - 1] == '/')
		fsr_base[strlen(fsr_base) - 1] = '\0';
	if (ark_url_parse(fsr_base, &u, &why) != ARK_OK) {
		ark_log_warnx("registry %s: %s", registry, why ? why : "bad");
		return ARK_EINVAL;
	}
	ark_url_free(&u);
	fsr_key_id = ark_xstrdup(key_id);
	fsr_secret = ark_xstrdup(secret);
	fsr_timeout_ms = timeout_ms;
	return ARK_OK;
}

void
fsr_fini(void)
{
	free(fsr_base);
	free(fsr_key_id);
	if (fsr_secret != NULL)
		memset(fsr_secret, 0, strlen(fsr_secret));
	free(fsr_secret);
	fsr_base = fsr_key_id = fsr_secret = NULL;
}

static int
fsr_map(int status, const char *code)
{
	switch (status) {
	case 400:
		if (strcmp(code, "too_long") == 0)
			return -ENAMETOOLONG;	/* a key past 1,024 bytes */
		return -EINVAL;
	case 401:
	case 403:
		return -EACCES;
	case 404:
		return -ENOENT;
	case 409:
		if (strcmp(code, "bucket_not_empty") == 0)
			return -ENOTEMPTY;
		if (strcmp(code, "fragment_deleted") == 0)
			return -EAGAIN;
		return -EEXIST;
	case 412:
		return -ESTALE;
	case 413:
		return -ENAMETOOLONG;
	case 503:
	case 507:
		return -ENOSPC;
	default:
		return -EIO;
	}
}

static int	fsr_call1(const char *, const json_t *, json_t **, int *);

int
fsr_call(const char *route, json_t *body, json_t **out)
{
	json_t			*j = NULL;
	int			 ret, status = 0, lazy, syncs;
	unsigned long long	 before, have;

	if (out != NULL)
		*out = NULL;
	if (fsr_gate != NULL)
		fsr_gate(route);
	lazy = json_is_false(json_object_get(body, "durable"));
	/* A durable write's answer comes after the registry's fsync, which
	 * covers every commit before it. */
	syncs = !lazy && (strcmp(route, "sync") == 0 ||
	    strcmp(route, "object/put") == 0 ||
	    strcmp(route, "object/delete") == 0 ||
	    strcmp(route, "object/setattr") == 0 ||
	    strcmp(route, "object/rename") == 0);
	before = atomic_load(&fsr_lazy_done);
	if (fsr_obs != NULL)
		fsr_obs(route, body, -1, NULL);		/* about to send */
	ret = fsr_call1(route, body, &j, &status);
	if (lazy)	/* counted even when it failed: it may have committed */
		atomic_fetch_add(&fsr_lazy_done, 1);
	else if (syncs && ret == 0) {
		have = atomic_load(&fsr_lazy_synced);
		while (have < before && !atomic_compare_exchange_weak(
		    &fsr_lazy_synced, &have, before))
			;
	}
	if (fsr_obs != NULL)
		fsr_obs(route, body, status, j);
	json_decref(body);
	if (ret == 0 && out != NULL)
		*out = j;
	else
		json_decref(j);
	return ret;
}

/* One call: 0 or a negative errno; *j the answer (any status; NULL
 * when none) and *status its HTTP status (0: no answer). */
static int
fsr_call1(const char *route, const json_t *body, json_t **jp, int *statusp)
{
	struct ark_http_fetch_req	 rq;
	struct ark_http_fetch_resp	 rs;
	struct ark_http_header		 h[2];
	char				 path[96], auth[512], *url, *b;
	size_t				 blen;
	json_t				*j = NULL;
	enum ark_err			 rc;
	int				 ret, status;

	fsr_err[0] = '\0';
	snprintf(path, sizeof(path), "/v1/%s", route);
	b = ark_json_dump(body, &blen);
	if (b == NULL)			/* json_pack refused a name that is */
		return -EINVAL;		/* not UTF-8 (keys are UTF-8) */
	ark_reqsig_auth(fsr_key_id, fsr_secret, path, b, blen, auth,
	    sizeof(auth));
	url = ark_xasprintf("%s%s", fsr_base, path);
	memset(&rq, 0, sizeof(rq));
	h[0].name = "Authorization";
	h[0].value = auth;
	h[1].name = "Content-Type";
	h[1].value = "application/json";
	rq.method = "POST";
	rq.url = url;
	rq.headers = h;
	rq.nheaders = 2;
	rq.body = b;
	rq.body_len = blen;
	rq.max_body = FSR_MAX_RESP;
	rq.timeout_ms = fsr_timeout_ms;
	rc = ark_http_fetch(&rq, &rs);
	free(b);
	free(url);
	if (rc != ARK_OK) {
		if (atomic_exchange(&fsr_down, 1) == 0)
			ark_log_warnx("registry %s unreachable: %s", fsr_base,
			    ark_strerror(rc));
		return rc == ARK_ETIMEDOUT ? -ETIMEDOUT : -EIO;
	}
	if (atomic_exchange(&fsr_down, 0) == 1)
		ark_log_info("registry %s reachable again", fsr_base);
	status = rs.status;
	if (ark_json_parse_object(rs.body != NULL ? rs.body : "",
	    rs.body_len, FSR_MAX_RESP, &j, NULL) != ARK_OK) {
		ark_log_warnx("registry %s: HTTP %d, not JSON", route,
		    rs.status);
		ark_http_fetch_resp_free(&rs);
		return -EIO;
	}
	ark_http_fetch_resp_free(&rs);
	*jp = j;
	*statusp = status;
	if (status == 200)
		return 0;
	snprintf(fsr_err, sizeof(fsr_err), "%s", fsr_str(j, "error"));
	ret = fsr_map(status, fsr_err);
	if (ret == -EIO || ret == -EACCES)
		ark_log_warnx("registry %s: HTTP %d %s: %s", route, status,
		    fsr_err, fsr_str(j, "message"));
	else
		ark_log_debug("%s: %s: HTTP %d %s: %s", __func__, route,
		    status, fsr_err, fsr_str(j, "message"));
	return ret;
}

int
fsr_sync(void)
{
	if (fsr_gate != NULL)
		fsr_gate("sync");	/* what waits to be sent counts too */
	if (atomic_load(&fsr_lazy_synced) >= atomic_load(&fsr_lazy_done))
		return 0;
	return fsr_call("sync", json_object(), NULL);
}

const char *
fsr_last_error(void)
{
	return fsr_err;
}

const char *
fsr_str(const json_t *j, const char *k)
{
	const char *s = json_string_value(json_object_get(j, k));

	return s != NULL ? s : "";
}

long long
fsr_int(const json_t *j, const char *k)
{
	return (long long)json_integer_value(json_object_get(j, k));
}
