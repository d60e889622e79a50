/*
 * od_core.c - what every arkor-objectd front end shares: the access-key
 * cache, the request context's life, replies, and registry calls (signed
 * as the request's user, or as the service).
 */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <pthread.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "common/buf.h"
#include "common/json.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/token.h"
#include "common/util.h"
#include "object/od.h"
#include "object/s3_xml.h"

#define OD_KEY_CACHE		128	/* access keys remembered */
#define OD_KEY_TTL_S		30	/* how long a secret is trusted */
#define OD_REG_MAX_RESP		(32u << 20)	/* registry answer cap */

struct od_conf			 od_conf;
struct ark_secret		 od_secret;
__thread struct ark_http_client	*od_cli;

/* ---- access key cache ---------------------------------------------------- */

static pthread_mutex_t	 key_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct od_key	 key_cache[OD_KEY_CACHE];
static unsigned		 key_next;

int
od_key_lookup(const char *id, struct od_key *out)
{
	int64_t now = ark_now_s();
	int found = 0;
	unsigned i;

	pthread_mutex_lock(&key_mtx);
	for (i = 0; i < OD_KEY_CACHE; i++)
		if (key_cache[i].expires > now &&
		    strcmp(key_cache[i].id, id) == 0) {
			*out = key_cache[i];
			found = 1;
			break;
		}
	pthread_mutex_unlock(&key_mtx);
	return found;
}

void
od_key_store(const char *id, const char *secret, const char *user)
{
	struct od_key *k;

	pthread_mutex_lock(&key_mtx);
	k = &key_cache[key_next++ % OD_KEY_CACHE];
	snprintf(k->id, sizeof(k->id), "%s", id);
	snprintf(k->secret, sizeof(k->secret), "%s", secret);
	snprintf(k->user, sizeof(k->user), "%s", user);
	k->writer = 0;
	k->expires = ark_now_s() + OD_KEY_TTL_S;
	pthread_mutex_unlock(&key_mtx);
}

void
od_key_set_writer(const char *id, int writer)
{
	unsigned i;

	pthread_mutex_lock(&key_mtx);
	for (i = 0; i < OD_KEY_CACHE; i++)
		if (strcmp(key_cache[i].id, id) == 0)
			key_cache[i].writer = writer;
	pthread_mutex_unlock(&key_mtx);
}

enum ark_err
od_secret_cb(void *arg, const char *akid, char *secret, size_t cap)
{
	struct od_key k;

	(void)arg;
	if (!od_key_lookup(akid, &k))
		return ARK_ENOENT;
	snprintf(secret, cap, "%s", k.secret);
	return ARK_OK;
}

/* Access key id of the request, from the V4/V2 header or query; "" when
 * anonymous or unparsable (the verifier then reports the error). */
void
od_akid(const struct s3_view *v, char *out, size_t cap)
{
	const char *a = s3_view_header(v, "authorization"), *p, *q;
	size_t n;

	out[0] = '\0';
	if (a != NULL) {
		if ((p = strstr(a, "Credential=")) != NULL) {
			p += 11;
			n = strcspn(p, "/, ");
		} else if (strncmp(a, "AWS ", 4) == 0) {
			p = a + 4;
			n = strcspn(p, ":");
		} else
			return;
		if (n < cap) {
			memcpy(out, p, n);
			out[n] = '\0';
		}
		return;
	}
	if ((q = v->query) == NULL)
		return;
	if ((p = strstr(q, "X-Amz-Credential=")) != NULL) {
		p += 17;
		n = strcspn(p, "%/&");
	} else if ((p = strstr(q, "AWSAccessKeyId=")) != NULL) {
		p += 15;
		n = strcspn(p, "&");
	} else
		return;
	if (n < cap) {
		memcpy(out, p, n);
		out[n] = '\0';
	}
}


void
od_frag_unref(struct frag *f)
{
	if (--f->refs == 0) {
		free(f->data);
		free(f);
	}
}

void
od_oreq_unref(struct oreq *o)
{
	struct frag *f, *n;

	if (--o->refs > 0)
		return;
	if (o->ext_free != NULL)
		o->ext_free(o->ext);
	for (f = o->queued; f != NULL; f = n) {
		n = f->qnext;
		od_frag_unref(f);
	}
	for (f = o->frags; f != NULL; f = n) {
		n = f->lnext;
		od_frag_unref(f);
	}
	if (o->cur != NULL)
		od_frag_unref(o->cur);
	s3_chunked_free(o->ch);
	s3_cksum_free(o->ck);
	json_decref(o->assigned);
	json_decref(o->meta);
	od_get_free(o);
	json_decref(o->obj);
	json_decref(o->cors_hdrs);
	free(o->ctype);
	ark_buf_free(&o->body);
	s3_xml_delete_free(&o->dl);
	free(o->dres);
	s3_sigv4_wipe(&o->a);
	OPENSSL_cleanse(&o->key, sizeof(o->key));
	free(o);
}

static void
od_finish(struct ark_http_req *req, enum ark_err why, void *arg)
{
	struct oreq *o = arg;

	(void)req;
	(void)why;
	o->dead = 1;
	o->req = NULL;
	if (o->gcreq != NULL) {
		ark_http_creq_cancel(o->gcreq);
		o->gcreq = NULL;
		od_oreq_unref(o);
	}
	od_get_cancel(o);
	od_oreq_unref(o);
}

void
od_headers_common(struct oreq *o)
{
	const char *name;
	json_t *v;

	ark_http_resp_header(o->req, "x-amz-request-id", o->reqid);
	ark_http_resp_header(o->req, "x-amz-id-2", o->reqid);
	ark_http_resp_header(o->req, "Server", "Arkor");
	json_object_foreach(o->cors_hdrs, name, v)
		ark_http_resp_header(o->req, name, json_string_value(v));
}

void
od_error(struct oreq *o, enum s3_code sc, const char *msg)
{
	struct ark_buf b;
	const char *res;

	if (o->dead || o->replied)
		return;
	o->replied = 1;
	if (o->error_reply != NULL) {
		o->error_reply(o, sc, msg);
		return;
	}
	od_headers_common(o);
	if (sc == S3_ERR_NOT_MODIFIED ||
	    strcmp(ark_http_req_method(o->req), "HEAD") == 0) {
		ark_http_reply_start(o->req, s3_code_status(sc), 0);
		ark_http_reply_end(o->req);
		return;
	}
	ark_buf_init(&b, 1 << 16);
	res = ark_http_req_path(o->req);
	if (s3_error_xml(&b, sc, msg, res, o->reqid, o->reqid) != ARK_OK)
		ark_buf_reset(&b);
	ark_http_reply_simple(o->req, s3_code_status(sc), "application/xml",
	    ark_buf_str(&b), ark_buf_len(&b));
	ark_buf_free(&b);
}

void
od_xml_reply(struct oreq *o, int status, struct ark_buf *b)
{
	if (o->dead || o->replied)
		return;
	o->replied = 1;
	od_headers_common(o);
	ark_http_reply_simple(o->req, status, "application/xml",
	    ark_buf_str(b), ark_buf_len(b));
}

/* Completes the document written by `w` into `out` and answers 200 with
 * it (InternalError if the writer failed); frees `out` either way. */
void
od_xml_finish(struct oreq *o, struct s3_xmlw *w, struct ark_buf *out)
{
	if (s3_xmlw_finish(w) != ARK_OK)
		od_error(o, S3_ERR_INTERNAL, NULL);
	else
		od_xml_reply(o, 200, out);
	ark_buf_free(out);
}

void
od_empty_reply(struct oreq *o, int status)
{
	if (o->dead || o->replied)
		return;
	o->replied = 1;
	od_headers_common(o);
	ark_http_reply_start(o->req, status, 0);
	ark_http_reply_end(o->req);
}


/* ---- registry calls ----------------------------------------------------- */

/*
 * Lookups (object/get) are the registry call of every GET and HEAD. Each
 * worker thread keeps at most OD_GETS_INFLIGHT of them in flight; the
 * ones that come meanwhile wait, and leave together, up to
 * OD_GETS_BATCH at a time, as one object/gets call (docs/specs/
 * Internal.md) when a call returns. An idle server adds no wait; a busy
 * one pays one round trip, one signature and one HTTP exchange on both
 * sides for many lookups. A batch holds the lookups of one identity (a
 * user's key, or the service); each lookup gets the status and answer
 * its own object/get would have had.
 */
#define OD_GETS_INFLIGHT	2
#define OD_GETS_BATCH		64

struct lookup {
	struct lookup	*next;
	struct oreq	*o;		/* a reference held */
	json_t		*body;
	int		 svc;
	od_reg_cb	 cb;
};

struct regcall {
	struct oreq	*o;
	od_reg_cb	 cb;
	struct ark_buf	 resp;
	int		 toobig;
	int		 lookup;	/* counted in lookups_inflight */
	struct lookup	*batch;		/* object/gets: its lookups */
};

/* /metrics: lookups sent, and object/gets calls that carried them. */
static struct ark_metric	*m_lookups, *m_lookup_batches;

static __thread struct lookup	*lookups_head;
static __thread struct lookup	**lookups_tail;	/* NULL: &lookups_head */
static __thread unsigned	 lookups_inflight;

static void	reg_send(struct oreq *o, const char *route, json_t *body,
		    int svc, struct regcall *rc);
static void	lookups_flush(void);

static void
reg_on_body(struct ark_http_creq *r, const void *d, size_t n, void *arg)
{
	struct regcall *rc = arg;

	(void)r;
	if (ark_buf_append(&rc->resp, d, n) != ARK_OK)
		rc->toobig = 1;
}

static void
lookup_free(struct lookup *l)
{
	json_decref(l->body);
	od_oreq_unref(l->o);
	free(l);
}

/* Sends l (consumed) as an object/get of its own; counted among this
 * thread's lookups in flight when `counted`. */
static void
lookup_send_alone(struct lookup *l, int counted)
{
	struct regcall *rc = ark_xcalloc(1, sizeof(*rc));

	rc->cb = l->cb;
	rc->lookup = counted;
	reg_send(l->o, "object/get", l->body, l->svc, rc);
	l->body = NULL;
	lookup_free(l);
}

/* Each lookup of a batch gets its entry of the answer; or, when the call
 * as a whole failed, that failure (a transport error, a bad signature),
 * except for an answer too big, after which each goes alone. */
static void
batch_done(struct lookup *l, int status, json_t *j)
{
	json_t *res = json_object_get(j, "results"), *e, *ans;
	struct lookup *next;
	size_t i = 0, n = 0;
	int st;

	for (next = l; next != NULL; next = next->next)
		n++;
	if (status == 200 && json_array_size(res) != n)
		status = -1;
	for (; l != NULL; l = next, i++) {
		next = l->next;
		if (status == 413) {
			lookup_send_alone(l, 0);
			continue;
		}
		st = status;
		ans = j;
		if (status == 200) {
			e = json_array_get(res, i);
			st = (int)json_integer_value(json_object_get(e,
			    "status"));
			ans = json_object_get(e, "answer");
			if (!json_is_object(ans)) {
				ans = NULL;
				if (st == 200)
					st = -1;
			}
		}
		if (!l->o->dead)
			l->cb(l->o, st, ans);
		lookup_free(l);
	}
}

static void
reg_on_done(struct ark_http_creq *r, enum ark_err err, void *arg)
{
	struct regcall *rc = arg;
	struct oreq *o = rc->o;
	json_t *j = NULL;
	int status = -1;

	if (err == ARK_OK && !rc->toobig) {
		status = ark_http_creq_status(r);
		if (ark_json_parse(ark_buf_str(&rc->resp),
		    ark_buf_len(&rc->resp), OD_REG_MAX_RESP, &j, NULL) !=
		    ARK_OK || !json_is_object(j)) {
			json_decref(j);
			j = NULL;
			if (status == 200)
				status = -1;
		}
	} else
		ark_log_warnx("registry call failed: %s", ark_strerror(err));
	if (rc->lookup)
		lookups_inflight--;
	if (rc->batch != NULL)
		batch_done(rc->batch, status, j);
	else if (!o->dead)
		rc->cb(o, status, j);
	json_decref(j);
	ark_buf_free(&rc->resp);
	if (rc->lookup)
		lookups_flush();
	free(rc);
	od_oreq_unref(o);
}

/* A call that could not even start: its requests answer an error now. */
static void
reg_fail_now(struct regcall *rc, enum s3_code sc, const char *msg)
{
	struct lookup *l, *next;

	if (rc->lookup)
		lookups_inflight--;
	for (l = rc->batch; l != NULL; l = next) {
		next = l->next;
		od_error(l->o, sc, msg);
		lookup_free(l);
	}
	if (rc->batch == NULL)
		od_error(rc->o, sc, msg);
	ark_buf_free(&rc->resp);
	od_oreq_unref(rc->o);
	free(rc);
}

/* POSTs `body` (stolen) to /v1/<route> for o, as od_reg_call says; rc
 * (taken) says what happens with the answer. */
static void
reg_send(struct oreq *o, const char *route, json_t *body, int svc,
    struct regcall *rc)
{
	static const struct ark_http_creq_cbs cbs = { NULL, reg_on_body, NULL,
	    reg_on_done };
	struct ark_http_creq *r = NULL;
	char path[64], auth[512], tok[ARK_TOKEN_MAXLEN];
	char *s;
	size_t len;

	snprintf(path, sizeof(path), "/v1/%s", route);
	s = ark_json_dump(body, &len);
	json_decref(body);
	rc->o = o;
	ark_buf_init(&rc->resp, OD_REG_MAX_RESP);
	o->refs++;
	if (s == NULL || ark_http_creq_new(od_cli, "POST", od_conf.reg_host,
	    od_conf.reg_port, 0, path, &r) != ARK_OK) {
		free(s);
		reg_fail_now(rc, S3_ERR_INTERNAL, NULL);
		return;
	}
	if (svc || !o->have_key) {
		ark_token_mint(&od_secret, ARK_TOKEN_ADMIN, ARK_SERVICE_SUBJECT,
		    ark_now_s() + 3600, tok, sizeof(tok));
		snprintf(auth, sizeof(auth), "Arkor-Service %s", tok);
	} else
		ark_reqsig_auth(o->key.id, o->key.secret, path, s, len, auth,
		    sizeof(auth));
	ark_http_creq_set_header(r, "Authorization", auth);
	ark_http_creq_set_header(r, "Content-Type", "application/json");
	ark_http_creq_body_copy(r, s, len);
	free(s);
	ark_http_creq_set_cbs(r, &cbs, rc);
	if (ark_http_creq_start(r) != ARK_OK) {
		ark_http_creq_cancel(r);
		reg_fail_now(rc, S3_ERR_SERVICE_UNAVAILABLE,
		    "registry unreachable");
	}
}

/* Whether two lookups may share a call: the same identity. */
static int
lookup_same(const struct lookup *a, const struct lookup *b)
{
	int as = a->svc || !a->o->have_key, bs = b->svc || !b->o->have_key;

	if (as || bs)
		return as && bs;
	return strcmp(a->o->key.id, b->o->key.id) == 0 &&
	    CRYPTO_memcmp(a->o->key.secret, b->o->key.secret,
	    sizeof(a->o->key.secret)) == 0;
}

/* Sends waiting lookups while fewer than OD_GETS_INFLIGHT calls are out:
 * the first waiting one with the next ones of its identity. */
static void
lookups_flush(void)
{
	struct lookup *head, **pp, *l, *batch, **bt;
	struct regcall *rc;
	json_t *gets;
	size_t n;

	while (lookups_head != NULL && lookups_inflight < OD_GETS_INFLIGHT) {
		head = NULL;
		batch = NULL;
		bt = &batch;
		n = 0;
		for (pp = &lookups_head; (l = *pp) != NULL && n < OD_GETS_BATCH;) {
			if (l->o->dead) {	/* its client went */
				if ((*pp = l->next) == NULL)
					lookups_tail = pp;
				lookup_free(l);
				continue;
			}
			if (head == NULL)
				head = l;
			else if (!lookup_same(head, l)) {
				pp = &l->next;
				continue;
			}
			if ((*pp = l->next) == NULL)
				lookups_tail = pp;
			l->next = NULL;
			*bt = l;
			bt = &l->next;
			n++;
		}
		if (n == 0)
			continue;
		lookups_inflight++;
		ark_metric_add(m_lookups, 0, n);
		if (n == 1) {
			lookup_send_alone(batch, 1);
			continue;
		}
		rc = ark_xcalloc(1, sizeof(*rc));
		rc->lookup = 1;
		gets = json_array();
		for (l = batch; l != NULL; l = l->next) {
			json_array_append_new(gets, l->body);
			l->body = NULL;
		}
		rc->batch = batch;
		ark_metric_inc(m_lookup_batches, 0);
		reg_send(batch->o, "object/gets", json_pack("{s:o}", "gets",
		    gets), batch->svc, rc);
	}
}

void
od_reg_init(void)
{
	m_lookups = ark_metric_counter("arkor_objectd_lookups_total",
	    "object lookups sent to the registry (GET, HEAD, copy sources)",
	    NULL, 0);
	m_lookup_batches = ark_metric_counter(
	    "arkor_objectd_lookup_batches_total",
	    "object/gets calls, each carrying lookups that waited", NULL, 0);
}

/* Drops this thread's waiting lookups (the thread is stopping). */
void
od_reg_thread_fini(void)
{
	struct lookup *l;

	while ((l = lookups_head) != NULL) {
		lookups_head = l->next;
		lookup_free(l);
	}
	lookups_tail = NULL;
}

/* POSTs `body` (stolen) to /v1/<route>, as the service when o has no key
 * (or svc is set), else signed as the request's user. cb runs later with
 * the status (-1 on transport errors) and the parsed answer (borrowed,
 * may be NULL). */
void
od_reg_call(struct oreq *o, const char *route, json_t *body, int svc, od_reg_cb cb)
{
	struct regcall *rc;
	struct lookup *l;

	if (strcmp(route, "object/get") == 0) {
		l = ark_xcalloc(1, sizeof(*l));
		l->o = o;
		o->refs++;
		l->body = body;
		l->svc = svc;
		l->cb = cb;
		*(lookups_tail != NULL ? lookups_tail : &lookups_head) = l;
		lookups_tail = &l->next;
		lookups_flush();
		return;
	}
	rc = ark_xcalloc(1, sizeof(*rc));
	rc->cb = cb;
	reg_send(o, route, body, svc, rc);
}

void
od_list_row(const json_t *e, struct od_row *out)
{
	const char *s;

	out->key = (s = json_string_value(json_array_get(e, 0))) ? s : "";
	out->size = (uint64_t)json_integer_value(json_array_get(e, 1));
	out->etag = (s = json_string_value(json_array_get(e, 2))) ? s : "";
	out->mtime_ms = json_integer_value(json_array_get(e, 3));
}

const char *
od_jstr(const json_t *j, const char *k)
{
	const char *s = json_string_value(json_object_get(j, k));

	return s != NULL ? s : "";
}

int64_t
od_jint(const json_t *j, const char *k)
{
	return json_integer_value(json_object_get(j, k));
}

/* The S3 error for a failed registry answer; nf is the 404 code. */
void
od_reg_fail(struct oreq *o, int status, json_t *j, enum s3_code nf)
{
	const char *code = od_jstr(j, "error"), *msg = od_jstr(j, "message");

	switch (status) {
	case 404:
		if (strncmp(msg, "bucket", 6) == 0)
			nf = S3_ERR_NO_SUCH_BUCKET;
		if (strcmp(code, "no_such_upload") == 0 ||
		    strncmp(msg, "upload", 6) == 0)
			nf = S3_ERR_NO_SUCH_UPLOAD;
		od_error(o, nf, NULL);
		return;
	case 401:
	case 403:
		od_error(o, S3_ERR_ACCESS_DENIED, NULL);
		return;
	case 409:
		if (strcmp(code, "bucket_exists") == 0)
			od_error(o, S3_ERR_BUCKET_ALREADY_OWNED, NULL);
		else if (strcmp(code, "bucket_not_empty") == 0)
			od_error(o, S3_ERR_BUCKET_NOT_EMPTY, NULL);
		else
			od_error(o, S3_ERR_SLOW_DOWN, msg);
		return;
	case 412:
		od_error(o, S3_ERR_PRECONDITION_FAILED, NULL);
		return;
	case 400:
		od_error(o, strcmp(code, "invalid_part") == 0 ?
		    S3_ERR_INVALID_PART : S3_ERR_INVALID_ARGUMENT, msg);
		return;
	case 503:
	case 507:
	case -1:
		od_error(o, S3_ERR_SLOW_DOWN, "registry unavailable");
		return;
	default:
		od_error(o, S3_ERR_INTERNAL, msg);
	}
}

/* S3 bounds user metadata at 2 KB: the bytes of every x-amz-meta- name
 * (without the prefix) and value. */
#define OD_USER_META_MAX	2048

enum s3_code
od_user_meta_check(const struct s3_view *view)
{
	const char *n, *v;
	size_t i, total = 0;

	for (i = 0; view->header_at(view->arg, i, &n, &v) == 0; i++)
		if (strncasecmp(n, "x-amz-meta-", 11) == 0)
			total += strlen(n + 11) + strlen(v);
	return total > OD_USER_META_MAX ? S3_ERR_METADATA_TOO_LARGE : S3_OK;
}

/* Every storage class S3 names is taken (and stored as one: Arkor has
 * one kind of storage); another is InvalidStorageClass. */
enum s3_code
od_storage_class_check(const struct s3_view *view)
{
	static const char *const classes[] = { "STANDARD",
	    "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA",
	    "INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE", "OUTPOSTS",
	    "GLACIER_IR", "SNOW", "EXPRESS_ONEZONE", NULL };
	const char *sc = s3_view_header(view, "x-amz-storage-class");
	size_t i;

	if (sc == NULL)
		return S3_OK;
	for (i = 0; classes[i] != NULL; i++)
		if (strcmp(sc, classes[i]) == 0)
			return S3_OK;
	return S3_ERR_INVALID_STORAGE_CLASS;
}

json_t *
od_user_meta(const struct s3_view *view)
{
	json_t *m = json_object();
	const char *n, *v;
	size_t i;

	for (i = 0; view->header_at(view->arg, i, &n, &v) == 0; i++) {
		char name[256];
		size_t k;

		if (strncasecmp(n, "x-amz-meta-", 11) != 0 || n[11] == '\0')
			continue;
		snprintf(name, sizeof(name), "%s", n + 11);
		for (k = 0; name[k] != '\0'; k++)
			name[k] = (char)tolower((unsigned char)name[k]);
		json_object_set_new(m, name, json_string(v));
	}
	return m;
}


struct oreq *
od_oreq_new(struct ark_http_req *req)
{
	struct oreq *o = ark_xcalloc(1, sizeof(*o));

	o->req = req;
	o->refs = 1;
	o->if_version = -1;
	snprintf(o->reqid, sizeof(o->reqid), "%s", ark_http_req_id(req));
	ark_http_req_on_finish(req, od_finish, o);
	return o;
}

void
od_key_wipe(void)
{
	pthread_mutex_lock(&key_mtx);
	OPENSSL_cleanse(key_cache, sizeof(key_cache));
	pthread_mutex_unlock(&key_mtx);
}
