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

struct regcall {
	struct oreq	*o;
	od_reg_cb		 cb;
	struct ark_buf	 resp;
	int		 toobig;
};

static void
reg_on_body(struct ark_http_creq *r, const void *d, size_t n, void *arg)
{
	struct regcall *rc = arg;

	(void)r;
	if (ark_buf_append(&rc->resp, d, n) != ARK_OK)
		rc->toobig = 1;
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
	if (!o->dead)
		rc->cb(o, status, j);
	json_decref(j);
	ark_buf_free(&rc->resp);
	free(rc);
	od_oreq_unref(o);
}

/* POSTs `body` (stolen) to /v1/<route>, as the service when o has no key
 * (or svc is set), else signed as the request's user. cb runs later with
 * the status (-1 on transport errors) and the parsed answer (borrowed,
 * may be NULL). */
void
od_reg_call(struct oreq *o, const char *route, json_t *body, int svc, od_reg_cb cb)
{
	static const struct ark_http_creq_cbs cbs = { NULL, reg_on_body, NULL,
	    reg_on_done };
	struct ark_http_creq *r = NULL;
	struct regcall *rc;
	char path[64], auth[512], tok[ARK_TOKEN_MAXLEN];
	char *s;
	size_t len;

	snprintf(path, sizeof(path), "/v1/%s", route);
	s = ark_json_dump(body, &len);
	json_decref(body);
	if (s == NULL || ark_http_creq_new(od_cli, "POST", od_conf.reg_host,
	    od_conf.reg_port, 0, path, &r) != ARK_OK) {
		free(s);
		od_error(o, S3_ERR_INTERNAL, NULL);
		return;
	}
	if (svc || !o->have_key) {
		ark_token_mint(&od_secret, ARK_TOKEN_ADMIN, ARK_SERVICE_SUBJECT,
		    ark_now_s() + 3600, tok, sizeof(tok));
		snprintf(auth, sizeof(auth), "Arkor-Service %s", tok);
	} else
		ark_reqsig_auth(o->key.id, o->key.secret, path, s, len, auth,
		    sizeof(auth));
	rc = ark_xcalloc(1, sizeof(*rc));
	rc->o = o;
	rc->cb = cb;
	ark_buf_init(&rc->resp, OD_REG_MAX_RESP);
	ark_http_creq_set_header(r, "Authorization", auth);
	ark_http_creq_set_header(r, "Content-Type", "application/json");
	ark_http_creq_body_copy(r, s, len);
	free(s);
	ark_http_creq_set_cbs(r, &cbs, rc);
	o->refs++;
	if (ark_http_creq_start(r) != ARK_OK) {
		ark_http_creq_cancel(r);
		o->refs--;
		ark_buf_free(&rc->resp);
		free(rc);
		od_error(o, S3_ERR_SERVICE_UNAVAILABLE, "registry unreachable");
	}
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
