/*
 * od_lfs.c - the Git LFS front end of arkor-objectd: routes a request
 * under /lfs/<bucket>/<repo>/info/lfs to its API, authenticates it, and
 * answers in application/vnd.git-lfs+json.
 *
 * Two ways in. API calls (batch, locks) and transfers retried by the
 * client carry HTTP Basic with an access key id and secret, checked
 * against the registry's key/get; the bucket's owner and ACL then decide
 * read (registry bucket/get as the user) and write (owner or admin, key
 * not read-only). The hrefs a batch hands out carry a short-lived
 * transfer token instead (od_lfs_url.c), so a transfer needs no second
 * login and no registry round trip to authorise.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "common/buf.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "object/od.h"
#include "object/od_lfs.h"

#define LFS_REALM	"Basic realm=\"Arkor Git LFS\", charset=\"UTF-8\""

/* ---- replies ------------------------------------------------------------ */

/* Sends the answer; the caller has checked and set o->replied. */
static void
lfs_send(struct oreq *o, int status, json_t *body)
{
	char *s = NULL;
	size_t len = 0;

	if (body != NULL && (s = ark_json_dump(body, &len)) == NULL) {
		ark_log_error("req %s: cannot encode an LFS answer", o->reqid);
		status = 500;
	}
	json_decref(body);
	if (s != NULL)
		ark_http_reply_simple(o->req, status, LFS_MEDIA_TYPE, s, len);
	else {
		ark_http_reply_start(o->req, status, 0);
		ark_http_reply_end(o->req);
	}
	free(s);
}

void
lfs_reply(struct oreq *o, int status, json_t *body)
{
	if (o->dead || o->replied) {
		json_decref(body);
		return;
	}
	o->replied = 1;
	lfs_send(o, status, body);
}

static void
lfs_verror(struct oreq *o, int status, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	ark_log_info("req %s: LFS %s %s: %d %s", o->reqid,
	    o->req != NULL ? ark_http_req_method(o->req) : "-",
	    o->req != NULL ? ark_http_req_path(o->req) : "-", status, msg);
	if (o->dead)
		return;
	if (status == 401) {
		ark_http_resp_header(o->req, "LFS-Authenticate", LFS_REALM);
		ark_http_resp_header(o->req, "WWW-Authenticate", LFS_REALM);
	}
	lfs_send(o, status, json_pack("{s:s, s:s}", "message", msg,
	    "request_id", o->reqid));
}

void
lfs_error(struct oreq *o, int status, const char *fmt, ...)
{
	va_list ap;

	if (o->dead || o->replied)
		return;
	o->replied = 1;
	va_start(ap, fmt);
	lfs_verror(o, status, fmt, ap);
	va_end(ap);
}

/* Errors of the shared pipelines (od_error), as LFS JSON; od_error has
 * set o->replied. */
static void
lfs_pipeline_error(struct oreq *o, enum s3_code sc, const char *msg)
{
	struct lfs_req *lr = o->ext;
	char m[256];
	int status = s3_code_status(sc);

	if (sc == S3_ERR_INCOMPLETE_BODY) {
		snprintf(m, sizeof(m), "size mismatch: received %llu bytes, "
		    "the object has %llu", (unsigned long long)o->total,
		    (unsigned long long)lr->size);
		status = 422;
	} else
		snprintf(m, sizeof(m), "%s", msg != NULL ? msg :
		    s3_code_message(sc));
	ark_log_info("req %s: LFS %s: %d %s", o->reqid, lr->oid[0] != '\0' ?
	    lr->oid : "request", status, m);
	if (!o->dead)
		lfs_send(o, status, json_pack("{s:s, s:s}", "message", m,
		    "request_id", o->reqid));
}

void
lfs_reg_fail(struct oreq *o, int status, json_t *j, const char *what)
{
	const char *msg = od_jstr(j, "message");

	switch (status) {
	case 404:
		lfs_error(o, 404, "%s not found", what);
		return;
	case 401:
	case 403:
		lfs_error(o, 403, "%s: access denied (%s)", what, msg);
		return;
	case 409:
		lfs_error(o, 409, "%s: conflict (%s)", what, msg);
		return;
	case 400:
	case 413:
		lfs_error(o, 422, "%s: %s", what, msg);
		return;
	case 503:
	case 507:
	case -1:
		lfs_error(o, 503, "%s: the registry is unavailable, retry "
		    "later", what);
		return;
	default:
		lfs_error(o, 500, "%s: registry error %d (%s)", what, status,
		    msg);
	}
}

/* ---- request bodies --------------------------------------------------- */

static void
json_body(struct ark_http_req *req, const void *d, size_t len, void *arg)
{
	struct oreq *o = arg;

	(void)req;
	if (o->replied)
		return;
	if (ark_buf_append(&o->body, d, len) != ARK_OK)
		lfs_error(o, 413, "request body over %zu bytes",
		    ark_buf_cap(&o->body));
}

static void
json_end(struct ark_http_req *req, void *arg)
{
	struct oreq *o = arg;
	struct lfs_req *lr = o->ext;
	struct ark_json_err e;

	(void)req;
	if (o->replied)
		return;
	if (ark_buf_len(&o->body) == 0)
		lr->in = json_object();		/* e.g. an unlock without one */
	else if (ark_json_parse_object(ark_buf_str(&o->body),
	    ark_buf_len(&o->body), ark_buf_cap(&o->body), &lr->in, &e) !=
	    ARK_OK) {
		lfs_error(o, 422, "invalid JSON body: %s", e.msg);
		return;
	}
	lr->body_cb(o, lr->in);
}

void
lfs_read_json(struct oreq *o, size_t cap, void (*cb)(struct oreq *o,
    json_t *body))
{
	struct lfs_req *lr = o->ext;

	if (ark_http_req_set_max_body(o->req, cap) != ARK_OK) {
		lfs_error(o, 413, "request body over %zu bytes", cap);
		return;
	}
	lr->body_cb = cb;
	ark_buf_init(&o->body, cap);
	ark_http_req_on_body(o->req, json_body, json_end, o);
}

char *
lfs_href(struct oreq *o, const char *suffix)
{
	struct lfs_req *lr = o->ext;
	const char *host = ark_http_req_header(o->req, "host");
	const char *proto = ark_http_req_header(o->req, "x-forwarded-proto");
	int tls = ark_http_req_is_tls(o->req) || (proto != NULL &&
	    strcasecmp(proto, "https") == 0);

	if (host == NULL || host[0] == '\0' || strpbrk(host, " /\\?#@") !=
	    NULL)
		host = "localhost";
	return ark_xasprintf("%s://%s%.*s%s", tls ? "https" : "http", host,
	    (int)lr->p.base_len, ark_http_req_path(o->req), suffix);
}

/* ---- authorisation ---------------------------------------------------- */

/* PUT, PATCH and a tus HEAD (the upload's offset) act on an upload. */
static int
is_upload(struct oreq *o)
{
	const char *m = ark_http_req_method(o->req);

	return strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0 ||
	    (strcmp(m, "HEAD") == 0 &&
	    ark_http_req_header(o->req, "tus-resumable") != NULL);
}

static void
lfs_dispatch(struct oreq *o)
{
	struct lfs_req *lr = o->ext;
	const char *m = ark_http_req_method(o->req);
	int post = strcmp(m, "POST") == 0;

	if (lr->token && lr->p.ep != LFS_EP_OBJECT &&
	    lr->p.ep != LFS_EP_VERIFY) {
		lfs_error(o, 401, "a transfer token only authorises its "
		    "transfer: send the access key as HTTP Basic");
		return;
	}
	/* Writes need write access, except transfers already authorised
	 * by their token. */
	if (lr->basic && !lr->can_write && ((lr->p.ep == LFS_EP_OBJECT &&
	    is_upload(o)) || (lr->p.ep == LFS_EP_LOCKS && post) ||
	    lr->p.ep == LFS_EP_LOCKS_VERIFY || lr->p.ep == LFS_EP_UNLOCK)) {
		if (lr->readonly)
			lfs_error(o, 403, "access key %s is read-only",
			    o->key.id);
		else
			lfs_error(o, 403, "user %s may not write to bucket "
			    "%s (owned by %s)", o->key.user, lr->p.bucket,
			    lr->owner);
		return;
	}
	switch (lr->p.ep) {
	case LFS_EP_BATCH:
		lfs_batch(o);
		return;
	case LFS_EP_OBJECT:
		if (strcmp(m, "PUT") == 0)
			lfs_xfer_put(o);
		else if (strcmp(m, "PATCH") == 0)
			lfs_tus_patch(o);
		else if (is_upload(o))
			lfs_tus_head(o);
		else
			lfs_xfer_get(o);
		return;
	case LFS_EP_VERIFY:
		lfs_xfer_verify(o);
		return;
	case LFS_EP_LOCKS:
		if (post)
			lfs_lock_create(o);
		else
			lfs_lock_list(o);
		return;
	case LFS_EP_LOCKS_VERIFY:
		lfs_lock_verify(o);
		return;
	case LFS_EP_UNLOCK:
		lfs_lock_unlock(o);
		return;
	default:
		lfs_error(o, 404, "unknown Git LFS endpoint");
	}
}

static void
bucket_done(struct oreq *o, int status, json_t *j)
{
	struct lfs_req *lr = o->ext;

	if (status == 404) {
		lfs_error(o, 404, "repository not found: bucket %s does not "
		    "exist", lr->p.bucket);
		return;
	}
	if (status == 403 || status == 401) {
		lfs_error(o, 403, "user %s may not read bucket %s",
		    o->key.user, lr->p.bucket);
		return;
	}
	if (status != 200) {
		lfs_reg_fail(o, status, j, "bucket");
		return;
	}
	snprintf(lr->owner, sizeof(lr->owner), "%s", od_jstr(j, "owner"));
	lr->can_force = lr->admin || strcmp(lr->owner, o->key.user) == 0;
	lr->can_write = lr->can_force && !lr->readonly;
	lfs_dispatch(o);
}

static void
key_done(struct oreq *o, int status, json_t *j)
{
	struct lfs_req *lr = o->ext;
	const char *secret = od_jstr(j, "secret");
	size_t n = strlen(secret);

	if (status != 200 && status != 404) {
		lfs_reg_fail(o, status == 401 || status == 403 ? 500 : status,
		    j, "access key");
		return;
	}
	/* o->key.secret holds what the client sent until it matches. */
	if (status == 404 || n == 0 || n != strlen(o->key.secret) ||
	    CRYPTO_memcmp(secret, o->key.secret, n) != 0) {
		OPENSSL_cleanse(&o->key, sizeof(o->key));
		lfs_error(o, 401, "bad credentials: unknown access key id or "
		    "wrong secret");
		return;
	}
	snprintf(o->key.id, sizeof(o->key.id), "%s", o->akid);
	snprintf(o->key.user, sizeof(o->key.user), "%s", od_jstr(j, "user"));
	lr->admin = json_is_true(json_object_get(j, "admin"));
	lr->readonly = json_is_true(json_object_get(j, "readonly"));
	lr->basic = 1;
	o->have_key = 1;		/* registry calls now go as the user */
	od_reg_call(o, "bucket/get", json_pack("{s:s}", "bucket",
	    lr->p.bucket), 0, bucket_done);
}

static void
lfs_authenticate(struct oreq *o)
{
	struct lfs_req *lr = o->ext;
	const char *h = ark_http_req_header(o->req, "authorization");
	const char *tok;
	enum ark_err rc;

	if (h != NULL && strncmp(h, "Arkor-LFS ", 10) == 0) {
		if (lr->p.ep != LFS_EP_OBJECT && lr->p.ep != LFS_EP_VERIFY) {
			lfs_error(o, 401, "a transfer token only authorises "
			    "its transfer: send the access key as HTTP Basic");
			return;
		}
		if (lfs_token_parse(h, &lr->token_size, &tok) != ARK_OK) {
			lfs_error(o, 401, "malformed transfer token");
			return;
		}
		snprintf(lr->token_str, sizeof(lr->token_str), "%s", tok);
		lr->token = 1;
		if (lr->p.ep == LFS_EP_OBJECT) {
			/* verify checks the token against its body later */
			rc = lfs_token_check(&od_secret, is_upload(o) ?
			    ARK_TOKEN_WRITE : ARK_TOKEN_READ, &lr->p,
			    lr->p.oid, lr->token_size, lr->token_str,
			    ark_now_s());
			if (rc != ARK_OK) {
				lfs_error(o, 401, "transfer token %s",
				    rc == ARK_EEXPIRED ? "expired" :
				    "not valid for this transfer");
				return;
			}
		}
		lfs_dispatch(o);
		return;
	}
	if (h == NULL) {
		lfs_error(o, 401, "credentials needed: HTTP Basic with an "
		    "Arkor access key id as user name and its secret as "
		    "password");
		return;
	}
	rc = lfs_basic_parse(h, o->akid, sizeof(o->akid), o->key.secret,
	    sizeof(o->key.secret));
	if (rc != ARK_OK || o->akid[0] == '\0') {
		OPENSSL_cleanse(&o->key, sizeof(o->key));
		lfs_error(o, 401, "credentials needed: HTTP Basic with an "
		    "Arkor access key id as user name and its secret as "
		    "password");
		return;
	}
	od_reg_call(o, "key/get", json_pack("{s:s}", "key_id", o->akid), 1,
	    key_done);
}

/* ---- routing ------------------------------------------------------------ */

int
od_lfs_match(struct ark_http_req *req)
{
	const char *path = ark_http_req_path(req);
	const char *a = ark_http_req_header(req, "authorization");
	const char *q = ark_http_req_query(req);

	if (strncmp(path, "/lfs/", 5) != 0 || strstr(path, "/info/lfs") ==
	    NULL)
		return 0;
	/* A bucket named "lfs" stays reachable over S3: signed requests
	 * and presigned URLs are never LFS. */
	if (a != NULL && (strncmp(a, "AWS4-", 5) == 0 ||
	    strncmp(a, "AWS ", 4) == 0))
		return 0;
	if (q != NULL && (strstr(q, "X-Amz-Signature=") != NULL ||
	    strstr(q, "Signature=") != NULL))
		return 0;
	return 1;
}

static void
lfs_req_free(void *p)
{
	struct lfs_req *lr = p;

	if (lr == NULL)
		return;
	lfs_tus_end(lr->o, lr);
	json_decref(lr->in);
	json_decref(lr->out);
	OPENSSL_cleanse(lr, sizeof(*lr));
	free(lr);
}

static int
method_ok(enum lfs_ep ep, const char *m, const char **allow)
{
	switch (ep) {
	case LFS_EP_OBJECT:
		*allow = "GET, HEAD, PUT, PATCH";
		return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 ||
		    strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0;
	case LFS_EP_LOCKS:
		*allow = "GET, POST";
		return strcmp(m, "GET") == 0 || strcmp(m, "POST") == 0;
	default:
		*allow = "POST";
		return strcmp(m, "POST") == 0;
	}
}

void
od_lfs_handler(struct ark_http_req *req, void *arg)
{
	struct oreq *o;
	struct lfs_req *lr;
	const char *why = NULL, *allow;

	(void)arg;
	o = od_oreq_new(req);
	lr = ark_xcalloc(1, sizeof(*lr));
	lr->o = o;
	o->ext = lr;
	o->ext_free = lfs_req_free;
	o->error_reply = lfs_pipeline_error;
	o->declared = -1;
	s3_view_init_http(&o->v, req);
	if (lfs_path_parse(ark_http_req_path(req), &lr->p, &why) != ARK_OK) {
		lfs_error(o, 404, "%s", why);
		return;
	}
	if (!method_ok(lr->p.ep, ark_http_req_method(req), &allow)) {
		ark_http_resp_header(req, "Allow", allow);
		lfs_error(o, 405, "method %s not allowed here (%s)",
		    ark_http_req_method(req), allow);
		return;
	}
	snprintf(o->r.bucket, sizeof(o->r.bucket), "%s", lr->p.bucket);
	lfs_authenticate(o);
}
