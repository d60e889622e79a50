/*
 * objectd.c - arkor-objectd: the S3 object server. Stateless: it
 * authenticates S3 requests (SigV4/V2 with secrets from the registry's
 * key/get, cached briefly), cuts object bodies into fragments written to
 * every replica of a group, commits metadata to the registry, and streams
 * reads back from one replica per fragment with failover.
 *
 * Everything of a request runs on the HTTP worker thread that accepted it:
 * registry and data-server calls use that thread's async ark_http_client
 * (one per worker, made in thread_init), so no thread blocks on I/O.
 * Registry calls on behalf of a user are signed as that user
 * (Arkor-HMAC with the access key's secret), so the registry enforces
 * bucket ownership; only key/get uses the service token.
 *
 * A request context (struct oreq) is reference counted: the HTTP request
 * holds one reference until its finish callback, every outstanding
 * registry or data-server exchange holds one. A callback that finds the
 * request gone (dead) only drops its reference.
 */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <strings.h>

#include "common/buf.h"
#include "common/cfg.h"
#include "common/cksum.h"
#include "common/daemon.h"
#include "common/http_client.h"
#include "common/http_server.h"
#include "common/json.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/svc.h"
#include "common/token.h"
#include "common/util.h"
#include "object/s3_checksum.h"
#include "object/s3_chunked.h"
#include "object/s3_error.h"
#include "object/s3_req.h"
#include "object/s3_sigv4.h"
#include "object/s3_view.h"
#include "object/s3_xml.h"
#include "object/s3_xmlw.h"

#define OD_KEY_CACHE		128	/* access keys remembered */
#define OD_KEY_TTL_S		30	/* how long a secret is trusted */
#define OD_REG_MAX_RESP		(32u << 20)	/* registry answer cap */
#define OD_PUT_ATTEMPTS		3	/* fragment writes, each a new FID */
#define OD_MAX_REPLICAS		8

static const char *const od_log_values[] = { "error", "warn", "info",
    "debug", NULL };

static const char	*opt_listen, *opt_registry, *opt_cluster_key;
static const char	*opt_region, *opt_domain, *opt_port_file;
static const char	*opt_pid_file;
static uint64_t		 opt_fragment_size;
static int64_t		 opt_window, opt_threads;
static int		 opt_log_level;

static const struct ark_cfg_opt od_opts[] = {
	{ "listen", 'l', ARK_CFG_STR, "127.0.0.1:7480", 0, 0, NULL,
	  "HOST:PORT", "address to listen on (port 0: any)", 0,
	  &opt_listen },
	{ "registry", 'r', ARK_CFG_STR, "127.0.0.1:7400", 0, 0, NULL,
	  "HOST:PORT", "registry address", 0, &opt_registry },
	{ "cluster-key", 'k', ARK_CFG_STR, SYSCONFDIR "/arkor/cluster.key", 0,
	  0, NULL, "FILE", "cluster secret for the registry's service auth",
	  0, &opt_cluster_key },
	{ "fragment-size", 0, ARK_CFG_SIZE, "8MiB", 4096, (int64_t)1 << 30,
	  NULL, "SIZE", "bytes per fragment written to a group", 0,
	  &opt_fragment_size },
	{ "window", 'w', ARK_CFG_INT, "4", 1, 64, NULL, "N",
	  "fragments in flight per upload", 0, &opt_window },
	{ "region", 0, ARK_CFG_STR, "us-east-1", 0, 0, NULL, "REGION",
	  "region name signatures must use (empty: any)", 0, &opt_region },
	{ "domain", 0, ARK_CFG_STR, NULL, 0, 0, NULL, "DOMAIN",
	  "base domain for virtual-hosted-style bucket addressing", 0,
	  &opt_domain },
	{ "threads", 't', ARK_CFG_INT, "0", 0, 256, NULL, "N",
	  "HTTP worker threads (0: one per CPU)", 0, &opt_threads },
	{ "port-file", 0, ARK_CFG_STR, NULL, 0, 0, NULL, "FILE",
	  "write the bound port here once ready", 0, &opt_port_file },
	{ "pid-file", 0, ARK_CFG_STR, NULL, 0, 0, NULL, "FILE",
	  "write the process id here", 0, &opt_pid_file },
	{ "log-level", 0, ARK_CFG_ENUM, "info", 0, 0, od_log_values, NULL,
	  "log verbosity", 0, &opt_log_level },
	{ NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL, 0, NULL },
};

static struct ark_secret	 od_secret;
static char			 od_reg_host[256];
static uint16_t			 od_reg_port;
static struct s3_req_cfg	 od_rcfg;
static struct s3_sigv4_cfg	 od_scfg;

static __thread struct ark_http_client *t_cli;

/* ---- access key cache ---------------------------------------------------- */

struct od_key {
	char		 id[S3_SIGV4_AKID_MAX];
	char		 secret[S3_SIGV4_SECRET_MAX];
	char		 user[72];
	int64_t		 expires;
};

static pthread_mutex_t	 key_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct od_key	 key_cache[OD_KEY_CACHE];
static unsigned		 key_next;

static int
key_lookup(const char *id, struct od_key *out)
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

static void
key_store(const char *id, const char *secret, const char *user)
{
	struct od_key *k;

	pthread_mutex_lock(&key_mtx);
	k = &key_cache[key_next++ % OD_KEY_CACHE];
	snprintf(k->id, sizeof(k->id), "%s", id);
	snprintf(k->secret, sizeof(k->secret), "%s", secret);
	snprintf(k->user, sizeof(k->user), "%s", user);
	k->expires = ark_now_s() + OD_KEY_TTL_S;
	pthread_mutex_unlock(&key_mtx);
}

static enum ark_err
od_secret_cb(void *arg, const char *akid, char *secret, size_t cap)
{
	struct od_key k;

	(void)arg;
	if (!key_lookup(akid, &k))
		return ARK_ENOENT;
	snprintf(secret, cap, "%s", k.secret);
	return ARK_OK;
}

/* Access key id of the request, from the V4/V2 header or query; "" when
 * anonymous or unparsable (the verifier then reports the error). */
static void
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

/* ---- request context ------------------------------------------------------ */

struct oreq;
struct frag;

typedef void	(*reg_cb)(struct oreq *o, int status, json_t *j);

struct frag {				/* one fragment of an upload */
	struct oreq	*o;
	struct frag	*lnext;		/* object's list, by offset */
	struct frag	*qnext;		/* write queue */
	uint64_t	 offset;
	size_t		 len;
	unsigned char	*data;		/* len bytes, shared by the replicas */
	unsigned	 refs;		/* evbuffer references + 1 */
	unsigned	 erefs;		/* evbuffers referencing data */
	uint32_t	 crc;
	char		 fid[64];
	unsigned	 attempts;
	size_t		 cap;		/* bytes allocated while filling */
	unsigned	 pending;	/* replica PUTs outstanding */
	int		 failed;
	int		 done;
};

struct oreq {
	struct ark_http_req	*req;
	unsigned		 refs;
	int			 dead;		/* the HTTP request is gone */
	int			 replied;
	struct s3_view		 v;
	struct s3_req		 r;
	struct s3_auth		 a;
	char			 akid[S3_SIGV4_AKID_MAX];
	struct od_key		 key;
	int			 have_key;
	char			 reqid[20];

	/* PutObject */
	struct s3_chunked	*ch;
	struct s3_cksum		*ck;
	struct s3_cksum_req	 ckr;
	struct frag		*frags, *frags_tail;	/* in offset order */
	struct frag		*cur;			/* being filled */
	struct frag		*queued;	/* sealed, waiting for the window */
	unsigned		 inflight;
	json_t			*assigned;	/* spare assignments */
	int			 assigning;
	int			 body_done;
	int			 paused;
	enum s3_code		 err;
	uint64_t		 total;		/* bytes of object so far */
	int64_t			 declared;	/* expected size, -1 unknown */
	json_t			*meta;		/* user_meta */
	char			*ctype;

	/* GetObject */
	json_t			*obj;
	size_t			 gi;		/* fragment index */
	uint64_t		 gstart, gend;	/* object range, inclusive */
	uint64_t		 gsent;		/* bytes of this fragment sent */
	size_t			 greplica;
	uint32_t		 gcrc;
	int			 gwhole;
	struct ark_http_creq	*gcreq;
	int			 gwait_drain;

	/* DeleteObjects */
	struct ark_buf		 body;
	struct s3_xml_delete	 dl;
	size_t			 di;
	int			*dres;		/* per key: 0 deleted, else code */
};

static void	od_put_pump(struct oreq *o);
static void	od_get_next(struct oreq *o);

static void
frag_unref(struct frag *f)
{
	if (--f->refs == 0) {
		free(f->data);
		free(f);
	}
}

static void
oreq_unref(struct oreq *o)
{
	struct frag *f, *n;

	if (--o->refs > 0)
		return;
	for (f = o->queued; f != NULL; f = n) {
		n = f->qnext;
		frag_unref(f);
	}
	for (f = o->frags; f != NULL; f = n) {
		n = f->lnext;
		frag_unref(f);
	}
	if (o->cur != NULL)
		frag_unref(o->cur);
	s3_chunked_free(o->ch);
	s3_cksum_free(o->ck);
	json_decref(o->assigned);
	json_decref(o->meta);
	json_decref(o->obj);
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
		oreq_unref(o);
	}
	oreq_unref(o);
}

static void
od_headers_common(struct oreq *o)
{
	ark_http_resp_header(o->req, "x-amz-request-id", o->reqid);
	ark_http_resp_header(o->req, "x-amz-id-2", o->reqid);
	ark_http_resp_header(o->req, "Server", "Arkor");
}

static void
od_error(struct oreq *o, enum s3_code sc, const char *msg)
{
	struct ark_buf b;
	const char *res;

	if (o->dead || o->replied)
		return;
	o->replied = 1;
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

static void
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
static void
od_xml_finish(struct oreq *o, struct s3_xmlw *w, struct ark_buf *out)
{
	if (s3_xmlw_finish(w) != ARK_OK)
		od_error(o, S3_ERR_INTERNAL, NULL);
	else
		od_xml_reply(o, 200, out);
	ark_buf_free(out);
}

static void
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
	reg_cb		 cb;
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
	oreq_unref(o);
}

/* POSTs `body` (stolen) to /v1/<route>, as the service when o has no key
 * (or svc is set), else signed as the request's user. cb runs later with
 * the status (-1 on transport errors) and the parsed answer (borrowed,
 * may be NULL). */
static void
reg_call(struct oreq *o, const char *route, json_t *body, int svc, reg_cb cb)
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
	if (s == NULL || ark_http_creq_new(t_cli, "POST", od_reg_host,
	    od_reg_port, 0, path, &r) != ARK_OK) {
		free(s);
		od_error(o, S3_ERR_INTERNAL, NULL);
		return;
	}
	if (svc || !o->have_key) {
		ark_token_mint(&od_secret, ARK_TOKEN_ADMIN, ARK_SERVICE_SUBJECT,
		    ark_now_s() + 3600, tok, sizeof(tok));
		snprintf(auth, sizeof(auth), "Arkor-Service %s", tok);
	} else {
		unsigned char h[32], mac[32];
		char hex[65], *msg, sig[64];
		int64_t now = ark_now_s();
		unsigned int maclen = 0;
		size_t i, n;

		ark_hash(ARK_HASH_SHA256, s, len, h);
		ark_hex_encode(h, 32, hex);
		msg = ark_xasprintf("arkor-req-v1\nPOST\n%s\n%" PRId64 "\n%s",
		    path, now, hex);
		HMAC(EVP_sha256(), o->key.secret, (int)strlen(o->key.secret),
		    (const unsigned char *)msg, strlen(msg), mac, &maclen);
		free(msg);
		n = ark_base64_encode(mac, 32, sig, sizeof(sig));
		for (i = 0; i < n; i++)
			if (sig[i] == '+')
				sig[i] = '-';
			else if (sig[i] == '/')
				sig[i] = '_';
		while (n > 0 && sig[n - 1] == '=')
			n--;
		sig[n] = '\0';
		snprintf(auth, sizeof(auth), "Arkor-HMAC %s:%" PRId64 ":%s",
		    o->key.id, now, sig);
	}
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

static const char *
jstr(const json_t *j, const char *k)
{
	const char *s = json_string_value(json_object_get(j, k));

	return s != NULL ? s : "";
}

static int64_t
jint(const json_t *j, const char *k)
{
	return json_integer_value(json_object_get(j, k));
}

/* The S3 error for a failed registry answer; nf is the 404 code. */
static void
reg_fail(struct oreq *o, int status, json_t *j, enum s3_code nf)
{
	const char *code = jstr(j, "error"), *msg = jstr(j, "message");

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

/* ---- buckets --------------------------------------------------------------- */

static void
list_buckets_done(struct oreq *o, int status, json_t *j)
{
	json_t *arr, *b;
	struct ark_buf out;
	struct s3_xmlw w;
	size_t i;

	if (status != 200) {
		reg_fail(o, status, j, S3_ERR_NO_SUCH_BUCKET);
		return;
	}
	ark_buf_init(&out, 64u << 20);
	s3_xmlw_init(&w, &out);
	s3_xmlw_start_ns(&w, "ListAllMyBucketsResult");
	s3_xmlw_start(&w, "Owner");
	s3_xmlw_elem(&w, "ID", o->key.user);
	s3_xmlw_elem(&w, "DisplayName", o->key.user);
	s3_xmlw_end(&w);
	s3_xmlw_start(&w, "Buckets");
	arr = json_object_get(j, "buckets");
	json_array_foreach(arr, i, b) {
		s3_xmlw_start(&w, "Bucket");
		s3_xmlw_elem(&w, "Name", jstr(b, "name"));
		s3_xmlw_elem_time(&w, "CreationDate",
		    jint(b, "created_ms") / 1000);
		s3_xmlw_end(&w);
	}
	s3_xmlw_end(&w);
	s3_xmlw_end(&w);
	od_xml_finish(o, &w, &out);
}

static void
bucket_simple_done(struct oreq *o, int status, json_t *j)
{
	if (status != 200) {
		reg_fail(o, status, j, S3_ERR_NO_SUCH_BUCKET);
		return;
	}
	switch (o->r.op) {
	case S3_OP_CREATE_BUCKET:
		if (!o->dead) {
			char *loc = ark_xasprintf("/%s", o->r.bucket);

			ark_http_resp_header(o->req, "Location", loc);
			free(loc);
		}
		od_empty_reply(o, 200);
		break;
	case S3_OP_DELETE_BUCKET:
		od_empty_reply(o, 204);
		break;
	case S3_OP_HEAD_BUCKET:
		if (!o->dead)
			ark_http_resp_header(o->req, "x-amz-bucket-region",
			    opt_region[0] != '\0' ? opt_region : "us-east-1");
		od_empty_reply(o, 200);
		break;
	case S3_OP_GET_BUCKET_LOCATION: {
		struct ark_buf out;
		struct s3_xmlw w;

		ark_buf_init(&out, 4096);
		s3_xmlw_init(&w, &out);
		s3_xmlw_start_ns(&w, "LocationConstraint");
		if (strcmp(opt_region, "us-east-1") != 0)
			s3_xmlw_text(&w, opt_region, strlen(opt_region));
		s3_xmlw_end(&w);
		od_xml_finish(o, &w, &out);
		break;
	}
	default:
		od_error(o, S3_ERR_INTERNAL, NULL);
	}
}

static void
od_bucket_op(struct oreq *o)
{
	json_t *b = json_pack("{s:s}", "bucket", o->r.bucket);

	switch (o->r.op) {
	case S3_OP_CREATE_BUCKET: {
		const char *acl = s3_view_header(&o->v, "x-amz-acl");
		enum s3_acl a = S3_ACL_PRIVATE;
		enum s3_code sc;

		if (acl != NULL && (sc = s3_req_canned_acl(acl, &a)) != S3_OK) {
			json_decref(b);
			od_error(o, sc, NULL);
			return;
		}
		json_object_set_new(b, "acl", json_string(a ==
		    S3_ACL_PUBLIC_READ ? "public-read" : "private"));
		reg_call(o, "bucket/create", b, 0, bucket_simple_done);
		return;
	}
	case S3_OP_DELETE_BUCKET:
		reg_call(o, "bucket/delete", b, 0, bucket_simple_done);
		return;
	default:
		reg_call(o, "bucket/get", b, 0, bucket_simple_done);
		return;
	}
}

/* ---- listing ---------------------------------------------------------------- */

static void
list_done(struct oreq *o, int status, json_t *j)
{
	struct s3_list_params lp;
	json_t *keys, *prefixes, *e;
	struct ark_buf out;
	struct s3_xmlw w;
	int v2 = o->r.op == S3_OP_LIST_OBJECTS_V2, trunc;
	const char *last = NULL;
	size_t i, nk, np;

	if (status != 200) {
		reg_fail(o, status, j, S3_ERR_NO_SUCH_BUCKET);
		return;
	}
	if (s3_req_list_params(o->r.op, o->v.query, &lp) != S3_OK)
		memset(&lp, 0, sizeof(lp));
	keys = json_object_get(j, "keys");
	prefixes = json_object_get(j, "prefixes");
	trunc = json_is_true(json_object_get(j, "truncated"));
	nk = json_array_size(keys);
	np = json_array_size(prefixes);
	ark_buf_init(&out, 256u << 20);
	s3_xmlw_init(&w, &out);
	s3_xmlw_start_ns(&w, "ListBucketResult");
	s3_xmlw_elem(&w, "Name", o->r.bucket);
	s3_xmlw_elem_key(&w, "Prefix", lp.prefix, strlen(lp.prefix),
	    lp.encoding_url);
	if (lp.delimiter[0] != '\0')
		s3_xmlw_elem_key(&w, "Delimiter", lp.delimiter,
		    strlen(lp.delimiter), lp.encoding_url);
	s3_xmlw_elem_u64(&w, "MaxKeys", lp.max_keys);
	if (lp.encoding_url)
		s3_xmlw_elem(&w, "EncodingType", "url");
	s3_xmlw_elem_bool(&w, "IsTruncated", trunc);
	if (v2) {
		s3_xmlw_elem_u64(&w, "KeyCount", nk + np);
		if (lp.has_token)
			s3_xmlw_elem(&w, "ContinuationToken", lp.token);
		if (lp.after[0] != '\0')
			s3_xmlw_elem_key(&w, "StartAfter", lp.after,
			    strlen(lp.after), lp.encoding_url);
		if (trunc)
			s3_xmlw_elem(&w, "NextContinuationToken",
			    jstr(j, "next_token"));
	} else
		s3_xmlw_elem_key(&w, "Marker", lp.after, strlen(lp.after),
		    lp.encoding_url);
	json_array_foreach(keys, i, e) {
		const char *k = jstr(e, "key");

		s3_xmlw_start(&w, "Contents");
		s3_xmlw_elem_key(&w, "Key", k, strlen(k), lp.encoding_url);
		s3_xmlw_elem_time(&w, "LastModified",
		    jint(e, "mtime_ms") / 1000);
		s3_xmlw_elemf(&w, "ETag", "\"%s\"", jstr(e, "etag"));
		s3_xmlw_elem_u64(&w, "Size", (uint64_t)jint(e, "size"));
		s3_xmlw_elem(&w, "StorageClass", "STANDARD");
		if (!v2 || lp.fetch_owner) {
			s3_xmlw_start(&w, "Owner");
			s3_xmlw_elem(&w, "ID", o->key.user);
			s3_xmlw_elem(&w, "DisplayName", o->key.user);
			s3_xmlw_end(&w);
		}
		s3_xmlw_end(&w);
		if (last == NULL || strcmp(k, last) > 0)
			last = k;
	}
	json_array_foreach(prefixes, i, e) {
		const char *k = json_string_value(e);

		if (k == NULL)
			continue;
		s3_xmlw_start(&w, "CommonPrefixes");
		s3_xmlw_elem_key(&w, "Prefix", k, strlen(k), lp.encoding_url);
		s3_xmlw_end(&w);
		if (last == NULL || strcmp(k, last) > 0)
			last = k;
	}
	if (!v2 && trunc && last != NULL)
		s3_xmlw_elem_key(&w, "NextMarker", last, strlen(last),
		    lp.encoding_url);
	s3_xmlw_end(&w);
	od_xml_finish(o, &w, &out);
}

static void
od_list(struct oreq *o)
{
	struct s3_list_params lp;
	enum s3_code sc;
	json_t *b;

	if ((sc = s3_req_list_params(o->r.op, o->v.query, &lp)) != S3_OK) {
		od_error(o, sc, NULL);
		return;
	}
	if (lp.max_keys == 0) {
		/* S3 answers an empty, untruncated page. */
		json_t *j = json_pack("{s:[], s:[], s:b}", "keys", "prefixes",
		    "truncated", 0);

		list_done(o, 200, j);
		json_decref(j);
		return;
	}
	b = json_pack("{s:s, s:i}", "bucket", o->r.bucket, "max_keys",
	    (json_int_t)lp.max_keys);
	if (lp.prefix[0] != '\0')
		json_object_set_new(b, "prefix", json_string(lp.prefix));
	if (lp.delimiter[0] != '\0')
		json_object_set_new(b, "delimiter", json_string(lp.delimiter));
	if (lp.after[0] != '\0')
		json_object_set_new(b, "start_after", json_string(lp.after));
	if (lp.has_token && lp.token[0] != '\0')
		json_object_set_new(b, "token", json_string(lp.token));
	reg_call(o, "list", b, 0, list_done);
}

/* ---- DeleteObject ------------------------------------------------------------ */

static void
delete_done(struct oreq *o, int status, json_t *j)
{
	if (status != 200 && !(status == 404 &&
	    strncmp(jstr(j, "message"), "bucket", 6) != 0)) {
		reg_fail(o, status, j, S3_ERR_NO_SUCH_BUCKET);
		return;
	}
	od_empty_reply(o, 204);
}

/* ---- PutObject ------------------------------------------------------------------ */

static void
frag_ref_cleanup(const void *data, size_t len, void *arg)
{
	struct frag *f = arg;

	(void)data;
	(void)len;
	/* Once every replica acknowledged, the bytes are not needed any
	 * more: only the fragment's metadata stays until the commit. */
	if (--f->erefs == 0 && f->done) {
		free(f->data);
		f->data = NULL;
	}
	frag_unref(f);
}

struct rput {
	struct oreq	*o;
	struct frag	*f;
	int		 ok;
};

static void
put_fail(struct oreq *o, enum s3_code sc, const char *msg)
{
	if (o->err == S3_OK)
		o->err = sc;
	od_error(o, sc, msg);
}

static void
rput_head(struct ark_http_creq *r, void *arg)
{
	struct rput *rp = arg;
	int st = ark_http_creq_status(r);

	rp->ok = st == 200 || st == 201;
}

static void
rput_done(struct ark_http_creq *r, enum ark_err err, void *arg)
{
	struct rput *rp = arg;
	struct oreq *o = rp->o;
	struct frag *f = rp->f;

	(void)r;
	if (err != ARK_OK || !rp->ok) {
		ark_log_warnx("fragment %s: replica write failed (%s)", f->fid,
		    err != ARK_OK ? ark_strerror(err) : "status");
		f->failed = 1;
	}
	free(rp);
	if (--f->pending == 0) {
		o->inflight--;
		if (f->failed && ++f->attempts < OD_PUT_ATTEMPTS) {
			/* Write it again under a new FileID, likely in
			 * another group; the old needle is an orphan. */
			f->failed = 0;
			f->fid[0] = '\0';
			f->qnext = o->queued;
			o->queued = f;
			f->refs++;
		} else if (f->failed)
			put_fail(o, S3_ERR_SLOW_DOWN, "fragment write failed");
		else {
			f->done = 1;
			if (f->erefs == 0) {
				free(f->data);
				f->data = NULL;
			}
		}
		if (!o->dead)
			od_put_pump(o);
	}
	frag_unref(f);
	oreq_unref(o);
}

/* Sends f to every replica of the next spare assignment. */
static int
frag_dispatch(struct oreq *o, struct frag *f)
{
	static const struct ark_http_creq_cbs cbs = { rput_head, NULL, NULL,
	    rput_done };
	json_t *as, *urls, *u;
	const char *tok;
	char crc[16], *url;
	size_t i, n;

	if (json_array_size(o->assigned) == 0)
		return 0;
	as = json_incref(json_array_get(o->assigned, 0));
	json_array_remove(o->assigned, 0);
	snprintf(f->fid, sizeof(f->fid), "%s", jstr(as, "fid"));
	tok = jstr(as, "token");
	urls = json_object_get(as, "urls");
	n = json_array_size(urls);
	snprintf(crc, sizeof(crc), "%08" PRIx32, f->crc);
	o->inflight++;
	f->pending = 1;			/* held while starting */
	json_array_foreach(urls, i, u) {
		struct ark_http_creq *r = NULL;
		struct evbuffer *eb;
		struct rput *rp;

		if (i >= OD_MAX_REPLICAS)
			break;
		url = ark_xasprintf("%s/%s", json_string_value(u) != NULL ?
		    json_string_value(u) : "", f->fid);
		if (ark_http_creq_new_url(t_cli, "PUT", url, &r) != ARK_OK) {
			free(url);
			f->failed = 1;
			continue;
		}
		free(url);
		eb = evbuffer_new();
		f->refs++;
		f->erefs++;
		if (eb == NULL || (f->len > 0 && evbuffer_add_reference(eb,
		    f->data, f->len, frag_ref_cleanup, f) != 0)) {
			f->refs--;
			f->erefs--;
			if (eb != NULL)
				evbuffer_free(eb);
			ark_http_creq_cancel(r);
			f->failed = 1;
			continue;
		}
		if (f->len == 0) {
			f->refs--;
			f->erefs--;
		}
		ark_http_creq_set_header(r, "X-Arkor-Token", tok);
		ark_http_creq_set_header(r, "X-Arkor-Crc32c", crc);
		ark_http_creq_body_buffer(r, eb);
		evbuffer_free(eb);
		rp = ark_xcalloc(1, sizeof(*rp));
		rp->o = o;
		rp->f = f;
		ark_http_creq_set_cbs(r, &cbs, rp);
		f->refs++;
		o->refs++;
		f->pending++;
		if (ark_http_creq_start(r) != ARK_OK) {
			ark_http_creq_cancel(r);
			free(rp);
			f->refs--;
			o->refs--;
			f->pending--;
			f->failed = 1;
		}
	}
	if (n == 0)
		f->failed = 1;
	json_decref(as);
	/* Drop the start hold; with no replica started this completes the
	 * fragment as failed through the same path. */
	if (--f->pending == 0) {
		struct rput *rp = ark_xcalloc(1, sizeof(*rp));

		f->pending = 1;
		f->refs++;
		o->refs++;
		rp->o = o;
		rp->f = f;
		rp->ok = 0;
		rput_done(NULL, ARK_EIO, rp);
	}
	return 1;
}

static void
assign_done(struct oreq *o, int status, json_t *j)
{
	json_t *arr = json_object_get(j, "assignments"), *e;
	size_t i;

	o->assigning = 0;
	if (status != 200) {
		if (status == 503)
			put_fail(o, S3_ERR_SLOW_DOWN, "no writable group");
		else {
			if (o->err == S3_OK)
				o->err = S3_ERR_INTERNAL;
			reg_fail(o, status, j, S3_ERR_NO_SUCH_BUCKET);
		}
		return;
	}
	if (o->assigned == NULL)
		o->assigned = json_array();
	json_array_foreach(arr, i, e)
		json_array_append(o->assigned, e);
	od_put_pump(o);
}

static void
od_assign(struct oreq *o, unsigned want)
{
	if (o->assigning || o->err != S3_OK)
		return;
	if (want == 0)
		want = 1;
	if (want > (unsigned)opt_window)
		want = (unsigned)opt_window;
	o->assigning = 1;
	reg_call(o, "assign", json_pack("{s:i, s:I}", "count", (int)want,
	    "size", (json_int_t)opt_fragment_size), 0, assign_done);
}

static unsigned
put_frags_left(const struct oreq *o)
{
	uint64_t left;

	if (o->declared < 0)
		return 1;
	left = (uint64_t)o->declared > o->total ? (uint64_t)o->declared -
	    o->total : 0;
	left = (left + opt_fragment_size - 1) / opt_fragment_size;
	return left > 0 ? (unsigned)ARK_MIN(left, 64) : 1;
}

static void	put_commit(struct oreq *o);

static void
od_put_pump(struct oreq *o)
{
	struct frag *f;

	if (o->dead || o->replied)
		return;
	while (o->queued != NULL && o->inflight < (unsigned)opt_window) {
		f = o->queued;
		if (json_array_size(o->assigned) == 0) {
			od_assign(o, put_frags_left(o));
			break;
		}
		o->queued = f->qnext;
		f->qnext = NULL;
		(void)frag_dispatch(o, f);
		frag_unref(f);			/* the queue's reference */
		if (o->dead || o->replied)
			return;
	}
	if (o->queued == NULL && o->paused && !o->body_done) {
		o->paused = 0;
		ark_http_req_resume(o->req);
	}
	if (o->body_done && o->queued == NULL && o->cur == NULL &&
	    o->inflight == 0 && o->err == S3_OK)
		put_commit(o);
}

/* Sealed fragment: keep it in the object's list, queue it for writing;
 * pause the client while fragments wait for the window. */
static void
frag_seal(struct oreq *o, struct frag *f)
{
	struct frag **qp;

	f->crc = ark_crc32c(0, f->data, f->len);
	if (o->frags_tail != NULL)
		o->frags_tail->lnext = f;
	else
		o->frags = f;
	o->frags_tail = f;		/* the list owns the first reference */
	f->refs++;			/* the queue's reference */
	for (qp = &o->queued; *qp != NULL; qp = &(*qp)->qnext)
		;
	*qp = f;
	if (!o->paused && !o->body_done) {
		o->paused = 1;
		ark_http_req_pause(o->req);
	}
}

static enum s3_code
put_data(void *arg, const void *p, size_t n)
{
	struct oreq *o = arg;
	const unsigned char *d = p;
	struct frag *f;
	size_t take;

	if (o->err != S3_OK)
		return o->err;
	if (s3_cksum_update(o->ck, p, n) != ARK_OK)
		return S3_ERR_INTERNAL;
	while (n > 0) {
		if ((f = o->cur) == NULL) {
			size_t cap = (size_t)opt_fragment_size;

			if (o->declared >= 0 && (uint64_t)o->declared >
			    o->total && (uint64_t)o->declared - o->total < cap)
				cap = (size_t)((uint64_t)o->declared - o->total);
			f = ark_xcalloc(1, sizeof(*f));
			f->o = o;
			f->refs = 1;
			f->offset = o->total;
			f->data = ark_xmalloc(cap > 0 ? cap : 1);
			o->cur = f;
			f->cap = cap > 0 ? cap : 1;
		}
		take = ARK_MIN(n, f->cap - f->len);
		if (take == 0) {
			/* Longer than declared: grow to a whole fragment. */
			f->data = ark_xrealloc(f->data, opt_fragment_size);
			f->cap = (size_t)opt_fragment_size;
			take = ARK_MIN(n, f->cap - f->len);
			if (take == 0)
				return S3_ERR_INTERNAL;
		}
		memcpy(f->data + f->len, d, take);
		f->len += take;
		o->total += take;
		d += take;
		n -= take;
		if (f->len == opt_fragment_size) {
			o->cur = NULL;
			frag_seal(o, f);
		}
	}
	return S3_OK;
}

static void
put_body(struct ark_http_req *req, const void *d, size_t len, void *arg)
{
	struct oreq *o = arg;
	enum s3_code sc;

	(void)req;
	if (o->err != S3_OK)
		return;
	sc = o->ch != NULL ? s3_chunked_feed(o->ch, d, len) :
	    put_data(o, d, len);
	if (sc != S3_OK) {
		put_fail(o, sc, NULL);
		return;
	}
	od_put_pump(o);
}

static void
put_end(struct ark_http_req *req, void *arg)
{
	struct oreq *o = arg;
	enum s3_code sc = S3_OK;
	unsigned char sha[32];

	(void)req;
	if (o->err != S3_OK)
		return;
	if (o->ch != NULL) {
		sc = s3_chunked_finish(o->ch);
		if (sc == S3_OK && o->ckr.in_trailer)
			sc = s3_cksum_set_trailer(&o->ckr, s3_chunked_trailer(
			    o->ch, s3_cksum_header(o->ckr.alg)));
	}
	if (sc == S3_OK && s3_cksum_final(o->ck) != ARK_OK)
		sc = S3_ERR_INTERNAL;
	if (sc == S3_OK)
		sc = s3_cksum_verify(&o->ckr, o->ck);
	if (sc == S3_OK && o->a.payload == S3_PAYLOAD_SHA256) {
		if (s3_cksum_raw(o->ck, S3_CKSUM_SHA256, sha) != 32)
			sc = S3_ERR_INTERNAL;
		else
			sc = s3_sigv4_check_payload(&o->a, sha);
	}
	if (sc == S3_OK && o->declared >= 0 && o->total != (uint64_t)o->declared)
		sc = S3_ERR_INCOMPLETE_BODY;
	if (sc != S3_OK) {
		put_fail(o, sc, NULL);
		return;
	}
	if (o->cur != NULL) {
		struct frag *f = o->cur;

		o->cur = NULL;
		frag_seal(o, f);
	}
	o->body_done = 1;
	od_put_pump(o);
}

static void
commit_done(struct oreq *o, int status, json_t *j)
{
	char etag[40], hex[33], b64[S3_CKSUM_B64_MAX];

	if (status != 200) {
		reg_fail(o, status, j, S3_ERR_NO_SUCH_BUCKET);
		return;
	}
	if (o->dead || o->replied)
		return;
	if (s3_cksum_hex(o->ck, S3_CKSUM_MD5, hex) == ARK_OK) {
		snprintf(etag, sizeof(etag), "\"%s\"", hex);
		ark_http_resp_header(o->req, "ETag", etag);
	}
	if (o->ckr.alg != S3_CKSUM_NONE && o->ckr.alg != S3_CKSUM_MD5 &&
	    s3_cksum_b64(o->ck, o->ckr.alg, b64) == ARK_OK)
		ark_http_resp_header(o->req, s3_cksum_header(o->ckr.alg), b64);
	od_empty_reply(o, 200);
}

static void
put_commit(struct oreq *o)
{
	json_t *b, *frags = json_array();
	struct frag *f;
	char hex[33], b64[S3_CKSUM_B64_MAX];

	for (f = o->frags; f != NULL; f = f->lnext)
		json_array_append_new(frags, json_pack("{s:s, s:I, s:I, s:I}",
		    "fid", f->fid, "offset", (json_int_t)f->offset, "length",
		    (json_int_t)f->len, "crc32c", (json_int_t)f->crc));
	if (s3_cksum_hex(o->ck, S3_CKSUM_MD5, hex) != ARK_OK)
		hex[0] = '\0';
	b = json_pack("{s:s, s:s, s:I, s:s, s:s, s:O, s:o}", "bucket",
	    o->r.bucket, "key", o->r.key, "size", (json_int_t)o->total,
	    "etag", hex, "content_type", o->ctype, "user_meta", o->meta,
	    "fragments", frags);
	if (o->ckr.alg != S3_CKSUM_NONE && o->ckr.alg != S3_CKSUM_MD5 &&
	    s3_cksum_b64(o->ck, o->ckr.alg, b64) == ARK_OK) {
		char name[16];
		size_t i;

		snprintf(name, sizeof(name), "%s", s3_cksum_name(o->ckr.alg));
		for (i = 0; name[i] != '\0'; i++)
			name[i] = (char)tolower((unsigned char)name[i]);
		json_object_set_new(b, "checksums", json_pack("{s:s}", name,
		    b64));
	}
	if (o->r.op == S3_OP_UPLOAD_PART) {
		json_t *pb = json_pack("{s:s, s:i, s:I, s:s, s:O}",
		    "upload_id", o->r.upload_id, "number",
		    (int)o->r.part_number, "size", (json_int_t)o->total,
		    "etag", hex, "fragments", json_object_get(b, "fragments"));

		json_decref(b);
		reg_call(o, "multipart/part", pb, 0, commit_done);
		return;
	}
	reg_call(o, "object/put", b, 0, commit_done);
}

/* x-amz-meta-* request headers as a JSON object of lower-case names
 * without the prefix. */
static json_t *
od_user_meta(struct oreq *o)
{
	json_t *m = json_object();
	const char *n, *v;
	size_t i;

	for (i = 0; ark_http_req_header_at(o->req, i, &n, &v) == ARK_OK; i++) {
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

static void
od_put_start(struct oreq *o)
{
	const char *ct, *dl;
	enum s3_code sc;
	unsigned mask;
	int streaming = o->a.payload == S3_PAYLOAD_STREAMING_SIGNED ||
	    o->a.payload == S3_PAYLOAD_STREAMING_SIGNED_TRAILER ||
	    o->a.payload == S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER;

	if (s3_view_header(&o->v, "x-amz-copy-source") != NULL) {
		od_error(o, S3_ERR_NOT_IMPLEMENTED, "CopyObject");
		return;
	}
	if ((sc = s3_cksum_parse_request(&o->v, &o->ckr)) != S3_OK) {
		od_error(o, sc, NULL);
		return;
	}
	mask = s3_cksum_req_mask(&o->ckr);
	if (o->a.payload == S3_PAYLOAD_SHA256)
		mask |= S3_CKSUM_BIT(S3_CKSUM_SHA256);
	if (s3_cksum_new(mask, &o->ck) != ARK_OK) {
		od_error(o, S3_ERR_INTERNAL, NULL);
		return;
	}
	o->declared = ark_http_req_content_length(o->req);
	if (ark_http_req_is_chunked(o->req))
		o->declared = -1;
	if (streaming) {
		dl = s3_view_header(&o->v, "x-amz-decoded-content-length");
		o->declared = dl != NULL ? strtoll(dl, NULL, 10) : -1;
		if (o->declared < -1)
			o->declared = -1;
		if ((sc = s3_chunked_new(&o->a, o->declared, put_data, o,
		    &o->ch)) != S3_OK) {
			od_error(o, sc, NULL);
			return;
		}
	}
	if (o->declared > (int64_t)5 << 30) {
		od_error(o, S3_ERR_ENTITY_TOO_LARGE, NULL);
		return;
	}
	ct = s3_view_header(&o->v, "content-type");
	o->ctype = ark_xstrdup(ct != NULL ? ct : "binary/octet-stream");
	o->meta = od_user_meta(o);
	if (o->declared != 0)
		od_assign(o, put_frags_left(o));
	ark_http_req_on_body(o->req, put_body, put_end, o);
}

/* ---- GetObject / HeadObject ---------------------------------------------------- */

static void
od_get_abort(struct oreq *o, const char *why)
{
	ark_log_warnx("GET %s/%s aborted: %s", o->r.bucket, o->r.key, why);
	/* A short body on a response with a Content-Length: the server
	 * closes the connection and the client sees the truncation. */
	if (!o->dead)
		ark_http_reply_end(o->req);
}

static void
get_drain(struct ark_http_req *req, void *arg)
{
	struct oreq *o = arg;

	(void)req;
	if (o->gwait_drain && o->gcreq != NULL) {
		o->gwait_drain = 0;
		ark_http_creq_resume(o->gcreq);
	}
}

static json_t *
get_frag(struct oreq *o)
{
	return json_array_get(json_object_get(o->obj, "fragments"), o->gi);
}

static void
gfetch_head(struct ark_http_creq *r, void *arg)
{
	struct oreq *o = arg;
	int st = ark_http_creq_status(r);

	if (st != 200 && st != 206)
		o->gwait_drain = -1;	/* bad replica: skip its body */
}

static void
gfetch_body(struct ark_http_creq *r, const void *d, size_t n, void *arg)
{
	struct oreq *o = arg;
	json_t *f = get_frag(o);
	uint64_t end = ARK_MIN(o->gend, (uint64_t)jint(f, "offset") +
	    (uint64_t)jint(f, "length") - 1);

	if (o->dead || o->gwait_drain < 0)
		return;
	if (o->gstart + n > end + 1)
		n = (size_t)(end + 1 - o->gstart);
	if (o->gwhole)
		o->gcrc = ark_crc32c(o->gcrc, d, n);
	ark_http_reply_write(o->req, d, n);
	o->gstart += n;
	o->gsent += n;
	if (ark_http_reply_congested(o->req)) {
		o->gwait_drain = 1;
		ark_http_creq_pause(r);
	}
}

static void
gfetch_done(struct ark_http_creq *r, enum ark_err err, void *arg)
{
	struct oreq *o = arg;
	json_t *f;
	uint64_t fend;

	(void)r;
	o->gcreq = NULL;
	if (o->dead) {
		oreq_unref(o);
		return;
	}
	f = get_frag(o);
	fend = (uint64_t)jint(f, "offset") + (uint64_t)jint(f, "length") - 1;
	if (err == ARK_OK && o->gwait_drain >= 0 &&
	    o->gstart > ARK_MIN(o->gend, fend)) {
		if (o->gwhole && o->gcrc != (uint32_t)jint(f, "crc32c")) {
			ark_log_error("fragment %s: CRC32C mismatch",
			    jstr(f, "fid"));
			od_get_abort(o, "CRC mismatch");
			oreq_unref(o);
			return;
		}
		o->gi++;
		o->greplica = 0;
		o->gsent = 0;
	} else {
		ark_log_warnx("fragment %s: replica %zu failed (%s)",
		    jstr(f, "fid"), o->greplica, err != ARK_OK ?
		    ark_strerror(err) : "status");
		o->greplica++;
	}
	o->gwait_drain = 0;
	od_get_next(o);
	oreq_unref(o);
}

static void
od_get_next(struct oreq *o)
{
	static const struct ark_http_creq_cbs cbs = { gfetch_head, gfetch_body,
	    NULL, gfetch_done };
	json_t *frags = json_object_get(o->obj, "fragments"), *f, *urls;
	struct ark_http_creq *r = NULL;
	uint64_t off, len, fs, fe;
	char rng[64], *url;
	const char *u;

	for (;;) {
		if (o->gstart > o->gend || o->gi >= json_array_size(frags)) {
			if (o->gstart <= o->gend)
				od_get_abort(o, "fragments end early");
			else
				ark_http_reply_end(o->req);
			return;
		}
		f = json_array_get(frags, o->gi);
		off = (uint64_t)jint(f, "offset");
		len = (uint64_t)jint(f, "length");
		if (off + len <= o->gstart) {
			o->gi++;
			continue;
		}
		break;
	}
	if (off > o->gstart) {
		od_get_abort(o, "hole in the fragment list");
		return;
	}
	urls = json_object_get(f, "urls");
	if (o->greplica >= json_array_size(urls)) {
		od_get_abort(o, "no replica could serve a fragment");
		return;
	}
	u = json_string_value(json_array_get(urls, o->greplica));
	fs = o->gstart - off;
	fe = ARK_MIN(o->gend, off + len - 1) - off;
	if (o->gsent == 0) {
		o->gwhole = fs == 0 && fe == len - 1;
		o->gcrc = 0;
	}
	url = ark_xasprintf("%s/%s", u != NULL ? u : "", jstr(f, "fid"));
	if (ark_http_creq_new_url(t_cli, "GET", url, &r) != ARK_OK) {
		free(url);
		o->greplica++;
		od_get_next(o);
		return;
	}
	free(url);
	ark_http_creq_set_header(r, "X-Arkor-Token", jstr(f, "token"));
	if (!(fs == 0 && fe == len - 1)) {
		snprintf(rng, sizeof(rng), "bytes=%" PRIu64 "-%" PRIu64, fs,
		    fe);
		ark_http_creq_set_header(r, "Range", rng);
	}
	ark_http_creq_set_cbs(r, &cbs, o);
	o->refs++;
	o->gcreq = r;
	o->gwait_drain = 0;
	if (ark_http_creq_start(r) != ARK_OK) {
		ark_http_creq_cancel(r);
		o->gcreq = NULL;
		o->refs--;
		o->greplica++;
		od_get_next(o);
	}
}

static void
get_done(struct oreq *o, int status, json_t *j)
{
	const char *etag, *key;
	json_t *meta, *v;
	struct s3_range rg;
	enum s3_code sc;
	uint64_t size, len;
	int64_t mtime;
	char buf[128];
	int head = o->r.op == S3_OP_HEAD_OBJECT;

	if (status != 200) {
		reg_fail(o, status, j, S3_ERR_NO_SUCH_KEY);
		return;
	}
	if (o->dead)
		return;
	o->obj = json_incref(j);
	etag = jstr(j, "etag");
	size = (uint64_t)jint(j, "size");
	mtime = jint(j, "mtime_ms") / 1000;
	if ((sc = s3_req_conditions(&o->v, etag, mtime, 1)) != S3_OK) {
		if (sc == S3_ERR_NOT_MODIFIED) {
			snprintf(buf, sizeof(buf), "\"%s\"", etag);
			ark_http_resp_header(o->req, "ETag", buf);
		}
		od_error(o, sc, NULL);
		return;
	}
	if ((sc = s3_req_range(s3_view_header(&o->v, "range"), size, &rg)) !=
	    S3_OK) {
		snprintf(buf, sizeof(buf), "bytes */%" PRIu64, size);
		ark_http_resp_header(o->req, "Content-Range", buf);
		od_error(o, sc, NULL);
		return;
	}
	if (!rg.set) {
		rg.start = 0;
		rg.end = size - 1;	/* wraps for 0: nothing to send */
	}
	len = size == 0 ? 0 : rg.end - rg.start + 1;
	od_headers_common(o);
	snprintf(buf, sizeof(buf), "\"%s\"", etag);
	ark_http_resp_header(o->req, "ETag", buf);
	ark_http_date(mtime, buf, sizeof(buf));
	ark_http_resp_header(o->req, "Last-Modified", buf);
	ark_http_resp_header(o->req, "Content-Type",
	    jstr(j, "content_type")[0] != '\0' ? jstr(j, "content_type") :
	    "binary/octet-stream");
	ark_http_resp_header(o->req, "Accept-Ranges", "bytes");
	if (rg.set) {
		snprintf(buf, sizeof(buf), "bytes %" PRIu64 "-%" PRIu64 "/%"
		    PRIu64, rg.start, rg.end, size);
		ark_http_resp_header(o->req, "Content-Range", buf);
	}
	meta = json_object_get(j, "user_meta");
	json_object_foreach(meta, key, v) {
		char name[300];

		if (!json_is_string(v))
			continue;
		snprintf(name, sizeof(name), "x-amz-meta-%s", key);
		ark_http_resp_header(o->req, name, json_string_value(v));
	}
	o->replied = 1;
	ark_http_reply_start(o->req, rg.set ? 206 : 200, (int64_t)len);
	if (head || len == 0) {
		ark_http_reply_end(o->req);
		return;
	}
	o->gstart = rg.start;
	o->gend = rg.end;
	o->gi = 0;
	ark_http_reply_on_drain(o->req, get_drain, o);
	od_get_next(o);
}

/* ---- DeleteObjects ------------------------------------------------------------ */

static void	delm_next(struct oreq *o);

static void
delm_done(struct oreq *o, int status, json_t *j)
{
	if (status == 200 || (status == 404 &&
	    strncmp(jstr(j, "message"), "bucket", 6) != 0))
		o->dres[o->di] = 0;
	else if (status == 404)
		o->dres[o->di] = S3_ERR_NO_SUCH_BUCKET;
	else if (status == 401 || status == 403)
		o->dres[o->di] = S3_ERR_ACCESS_DENIED;
	else
		o->dres[o->di] = S3_ERR_INTERNAL;
	o->di++;
	delm_next(o);
}

static void
delm_next(struct oreq *o)
{
	struct ark_buf out;
	struct s3_xmlw w;
	size_t i;

	if (o->di < o->dl.nobjs) {
		reg_call(o, "object/delete", json_pack("{s:s, s:s}", "bucket",
		    o->r.bucket, "key", o->dl.objs[o->di].key), 0, delm_done);
		return;
	}
	ark_buf_init(&out, 16u << 20);
	s3_xmlw_init(&w, &out);
	s3_xmlw_start_ns(&w, "DeleteResult");
	for (i = 0; i < o->dl.nobjs; i++) {
		const char *k = o->dl.objs[i].key;

		if (o->dres[i] == 0) {
			if (o->dl.quiet)
				continue;
			s3_xmlw_start(&w, "Deleted");
			s3_xmlw_elem(&w, "Key", k);
			s3_xmlw_end(&w);
			continue;
		}
		s3_xmlw_start(&w, "Error");
		s3_xmlw_elem(&w, "Key", k);
		s3_xmlw_elem(&w, "Code", s3_code_name(o->dres[i]));
		s3_xmlw_elem(&w, "Message", s3_code_message(o->dres[i]));
		s3_xmlw_end(&w);
	}
	s3_xmlw_end(&w);
	od_xml_finish(o, &w, &out);
}

static void
delm_body(struct ark_http_req *req, const void *d, size_t len, void *arg)
{
	struct oreq *o = arg;

	(void)req;
	if (o->err == S3_OK && (ark_buf_append(&o->body, d, len) != ARK_OK ||
	    s3_cksum_update(o->ck, d, len) != ARK_OK))
		put_fail(o, S3_ERR_MALFORMED_XML, "body too large");
}

static void
delm_end(struct ark_http_req *req, void *arg)
{
	struct oreq *o = arg;
	enum s3_code sc = S3_OK;
	unsigned char sha[32];

	(void)req;
	if (o->err != S3_OK)
		return;
	if (s3_cksum_final(o->ck) != ARK_OK)
		sc = S3_ERR_INTERNAL;
	if (sc == S3_OK)
		sc = s3_cksum_verify(&o->ckr, o->ck);
	if (sc == S3_OK && o->a.payload == S3_PAYLOAD_SHA256) {
		if (s3_cksum_raw(o->ck, S3_CKSUM_SHA256, sha) != 32)
			sc = S3_ERR_INTERNAL;
		else
			sc = s3_sigv4_check_payload(&o->a, sha);
	}
	if (sc == S3_OK)
		sc = s3_xml_parse_delete(ark_buf_str(&o->body),
		    ark_buf_len(&o->body), &o->dl);
	if (sc != S3_OK) {
		put_fail(o, sc, NULL);
		return;
	}
	o->dres = ark_xcalloc(o->dl.nobjs + 1, sizeof(*o->dres));
	o->di = 0;
	delm_next(o);
}

/* DeleteObjects: the XML body (Content-MD5 or x-amz-checksum-* verified
 * when sent), then one object/delete per key, in order. */
static void
od_delete_multi(struct oreq *o)
{
	enum s3_code sc;
	unsigned mask;

	if (o->a.payload != S3_PAYLOAD_SHA256 &&
	    o->a.payload != S3_PAYLOAD_UNSIGNED &&
	    o->a.payload != S3_PAYLOAD_NONE) {
		od_error(o, S3_ERR_NOT_IMPLEMENTED, "aws-chunked DeleteObjects");
		return;
	}
	if ((sc = s3_cksum_parse_request(&o->v, &o->ckr)) != S3_OK) {
		od_error(o, sc, NULL);
		return;
	}
	mask = s3_cksum_req_mask(&o->ckr) | S3_CKSUM_BIT(S3_CKSUM_SHA256);
	if (s3_cksum_new(mask, &o->ck) != ARK_OK) {
		od_error(o, S3_ERR_INTERNAL, NULL);
		return;
	}
	if (ark_http_req_set_max_body(o->req, S3_XML_MAX_DELETE) != ARK_OK) {
		od_error(o, S3_ERR_MALFORMED_XML, "body too large");
		return;
	}
	ark_buf_init(&o->body, S3_XML_MAX_DELETE);
	ark_http_req_on_body(o->req, delm_body, delm_end, o);
}

/* ---- multipart uploads ------------------------------------------------------ */

static void
mpu_create_done(struct oreq *o, int status, json_t *j)
{
	struct ark_buf out;
	struct s3_xmlw w;

	if (status != 200) {
		reg_fail(o, status, j, S3_ERR_NO_SUCH_BUCKET);
		return;
	}
	ark_buf_init(&out, 1 << 16);
	s3_xmlw_init(&w, &out);
	s3_xmlw_start_ns(&w, "InitiateMultipartUploadResult");
	s3_xmlw_elem(&w, "Bucket", o->r.bucket);
	s3_xmlw_elem(&w, "Key", o->r.key);
	s3_xmlw_elem(&w, "UploadId", jstr(j, "upload_id"));
	s3_xmlw_end(&w);
	od_xml_finish(o, &w, &out);
}

static void
mpu_complete_done(struct oreq *o, int status, json_t *j)
{
	struct ark_buf out;
	struct s3_xmlw w;

	if (status != 200) {
		reg_fail(o, status, j, S3_ERR_NO_SUCH_UPLOAD);
		return;
	}
	ark_buf_init(&out, 1 << 16);
	s3_xmlw_init(&w, &out);
	s3_xmlw_start_ns(&w, "CompleteMultipartUploadResult");
	s3_xmlw_elemf(&w, "Location", "/%s/%s", o->r.bucket, o->r.key);
	s3_xmlw_elem(&w, "Bucket", o->r.bucket);
	s3_xmlw_elem(&w, "Key", o->r.key);
	s3_xmlw_elemf(&w, "ETag", "\"%s\"", o->ctype);
	s3_xmlw_end(&w);
	od_xml_finish(o, &w, &out);
}

static void
mpu_body(struct ark_http_req *req, const void *d, size_t len, void *arg)
{
	struct oreq *o = arg;

	(void)req;
	if (o->err == S3_OK && ark_buf_append(&o->body, d, len) != ARK_OK)
		put_fail(o, S3_ERR_MALFORMED_XML, "body too large");
}

/* CompleteMultipartUpload: the S3 ETag is the MD5 of the parts' binary
 * MD5s, "-<n>"; the registry checks the parts and their ETags. */
static void
mpu_end(struct ark_http_req *req, void *arg)
{
	struct oreq *o = arg;
	struct s3_xml_complete c;
	struct s3_cksum *ck = NULL;
	char etag[S3_CKSUM_COMPOSITE_MAX + 24];
	json_t *parts;
	enum s3_code sc;
	size_t i;

	(void)req;
	if (o->err != S3_OK)
		return;
	memset(&c, 0, sizeof(c));
	if ((sc = s3_xml_parse_complete(ark_buf_str(&o->body),
	    ark_buf_len(&o->body), &c)) != S3_OK) {
		s3_xml_complete_free(&c);
		put_fail(o, sc, NULL);
		return;
	}
	if (s3_cksum_new(S3_CKSUM_BIT(S3_CKSUM_MD5), &ck) != ARK_OK) {
		s3_xml_complete_free(&c);
		put_fail(o, S3_ERR_INTERNAL, NULL);
		return;
	}
	parts = json_array();
	for (i = 0; i < c.nparts; i++) {
		if (s3_cksum_composite_add(ck, S3_CKSUM_MD5,
		    c.parts[i].etag) != ARK_OK)
			sc = S3_ERR_INVALID_PART;
		json_array_append_new(parts, json_pack("{s:i, s:s}", "number",
		    (int)c.parts[i].part_number, "etag", c.parts[i].etag));
	}
	if (sc == S3_OK && (s3_cksum_final(ck) != ARK_OK ||
	    s3_cksum_composite_str(ck, S3_CKSUM_MD5, (unsigned)c.nparts, etag,
	    sizeof(etag)) != ARK_OK))
		sc = S3_ERR_INTERNAL;
	s3_cksum_free(ck);
	s3_xml_complete_free(&c);
	if (sc != S3_OK) {
		json_decref(parts);
		put_fail(o, sc, NULL);
		return;
	}
	free(o->ctype);
	o->ctype = ark_xstrdup(etag);	/* the ETag, for the answer */
	reg_call(o, "multipart/complete", json_pack("{s:s, s:s, s:o}",
	    "upload_id", o->r.upload_id, "etag", etag, "parts", parts), 0,
	    mpu_complete_done);
}

static void
mpu_abort_done(struct oreq *o, int status, json_t *j)
{
	if (status != 200) {
		reg_fail(o, status, j, S3_ERR_NO_SUCH_UPLOAD);
		return;
	}
	od_empty_reply(o, 204);
}

static void
od_mpu(struct oreq *o)
{
	const char *ct = s3_view_header(&o->v, "content-type");

	switch (o->r.op) {
	case S3_OP_CREATE_MULTIPART_UPLOAD:
		reg_call(o, "multipart/create", json_pack("{s:s, s:s, s:s, s:o}",
		    "bucket", o->r.bucket, "key", o->r.key, "content_type",
		    ct != NULL ? ct : "binary/octet-stream", "user_meta",
		    od_user_meta(o)), 0, mpu_create_done);
		return;
	case S3_OP_COMPLETE_MULTIPART_UPLOAD:
		if (ark_http_req_set_max_body(o->req, S3_XML_MAX_COMPLETE) !=
		    ARK_OK) {
			od_error(o, S3_ERR_MALFORMED_XML, "body too large");
			return;
		}
		ark_buf_init(&o->body, S3_XML_MAX_COMPLETE);
		ark_http_req_on_body(o->req, mpu_body, mpu_end, o);
		return;
	case S3_OP_ABORT_MULTIPART_UPLOAD:
		reg_call(o, "multipart/abort", json_pack("{s:s}", "upload_id",
		    o->r.upload_id), 0, mpu_abort_done);
		return;
	default:
		od_error(o, S3_ERR_NOT_IMPLEMENTED, s3_op_name(o->r.op));
	}
}

/* ---- dispatch -------------------------------------------------------------------- */

static void
od_dispatch(struct oreq *o)
{
	switch (o->r.op) {
	case S3_OP_LIST_BUCKETS:
		reg_call(o, "bucket/list", json_pack("{s:s}", "owner",
		    o->key.user), 0, list_buckets_done);
		return;
	case S3_OP_CREATE_BUCKET:
	case S3_OP_DELETE_BUCKET:
	case S3_OP_HEAD_BUCKET:
	case S3_OP_GET_BUCKET_LOCATION:
		od_bucket_op(o);
		return;
	case S3_OP_LIST_OBJECTS:
	case S3_OP_LIST_OBJECTS_V2:
		od_list(o);
		return;
	case S3_OP_PUT_OBJECT:
	case S3_OP_UPLOAD_PART:
		od_put_start(o);
		return;
	case S3_OP_CREATE_MULTIPART_UPLOAD:
	case S3_OP_COMPLETE_MULTIPART_UPLOAD:
	case S3_OP_ABORT_MULTIPART_UPLOAD:
		od_mpu(o);
		return;
	case S3_OP_GET_OBJECT:
	case S3_OP_HEAD_OBJECT:
		reg_call(o, "object/get", json_pack("{s:s, s:s, s:b}", "bucket",
		    o->r.bucket, "key", o->r.key, "tokens", o->r.op ==
		    S3_OP_GET_OBJECT), 0, get_done);
		return;
	case S3_OP_DELETE_OBJECTS:
		od_delete_multi(o);
		return;
	case S3_OP_DELETE_OBJECT:
		reg_call(o, "object/delete", json_pack("{s:s, s:s}", "bucket",
		    o->r.bucket, "key", o->r.key), 0, delete_done);
		return;
	default:
		od_error(o, S3_ERR_NOT_IMPLEMENTED, s3_op_name(o->r.op));
	}
}

static void
od_auth(struct oreq *o)
{
	enum s3_code sc;

	sc = s3_sigv4_verify(&od_scfg, &o->v, ark_now_s(), &o->a);
	if (sc != S3_OK) {
		od_error(o, sc, NULL);
		return;
	}
	if (o->a.kind == S3_AUTH_ANONYMOUS || !o->have_key) {
		od_error(o, S3_ERR_ACCESS_DENIED, NULL);
		return;
	}
	od_dispatch(o);
}

static void
key_done(struct oreq *o, int status, json_t *j)
{
	if (status == 200 && jstr(j, "secret")[0] != '\0') {
		key_store(o->akid, jstr(j, "secret"), jstr(j, "user"));
		o->have_key = key_lookup(o->akid, &o->key);
	} else if (status != 404 && status != 200) {
		reg_fail(o, status == 401 || status == 403 ? 500 : status, j,
		    S3_ERR_INVALID_ACCESS_KEY_ID);
		return;
	}
	od_auth(o);
}

static void
od_handler(struct ark_http_req *req, void *arg)
{
	struct oreq *o;
	enum s3_code sc;

	(void)arg;
	o = ark_xcalloc(1, sizeof(*o));
	o->req = req;
	o->refs = 1;
	snprintf(o->reqid, sizeof(o->reqid), "%s", ark_http_req_id(req));
	ark_http_req_on_finish(req, od_finish, o);
	s3_view_init_http(&o->v, req);
	if ((sc = s3_req_classify(&od_rcfg, &o->v, &o->r)) != S3_OK) {
		od_error(o, sc, NULL);
		return;
	}
	if (o->r.vhost)
		o->v.host_bucket = o->r.bucket;
	od_akid(&o->v, o->akid, sizeof(o->akid));
	if (o->akid[0] == '\0' || (o->have_key = key_lookup(o->akid,
	    &o->key))) {
		od_auth(o);
		return;
	}
	reg_call(o, "key/get", json_pack("{s:s}", "key_id", o->akid), 1,
	    key_done);
}

/* ---- daemon ---------------------------------------------------------------------- */

static void
od_thread_init(struct event_base *base, unsigned idx, void *arg)
{
	struct ark_http_client_opts co;

	(void)idx;
	(void)arg;
	ark_http_client_opts_default(&co);
	co.io_timeout_ms = 60000;
	if (ark_http_client_new(base, &co, &t_cli) != ARK_OK)
		ark_fatalx("cannot create the HTTP client");
}

static void
od_thread_fini(struct event_base *base, unsigned idx, void *arg)
{
	(void)base;
	(void)idx;
	(void)arg;
	ark_http_client_free(t_cli);
	t_cli = NULL;
}

static enum ark_err
od_started(struct ark_http_server *srv, void *arg)
{
	(void)arg;
	ark_log_info("S3 endpoint http://%s (port %u), registry %s, "
	    "fragment size %" PRIu64 ", window %" PRId64, opt_listen,
	    (unsigned)ark_http_server_port(srv), opt_registry,
	    opt_fragment_size, opt_window);
	return ARK_OK;
}

int
main(int argc, char **argv)
{
	struct ark_cfg *cfg;
	struct ark_svc_opts o;
	enum ark_err rc;

	cfg = ark_cfg_new("arkor-objectd", PACKAGE_VERSION, od_opts);
	ark_cfg_set_summary(cfg, "Arkor object server: the S3 API over the "
	    "data groups.");
	ark_cfg_parse_or_exit(cfg, argc, argv);
	ark_log_init("arkor-objectd", (enum ark_log_level)opt_log_level);
	ark_log_hook_libevent();
	ark_signals_ignore_pipe();

	if (ark_svc_parse_listen(opt_registry, od_reg_host,
	    sizeof(od_reg_host), &od_reg_port) != ARK_OK || od_reg_port == 0) {
		fprintf(stderr, "arkor-objectd: option --registry: '%s' is not "
		    "HOST:PORT\n", opt_registry);
		ark_cfg_free(cfg);
		return 2;
	}
	if (ark_secret_load(opt_cluster_key, &od_secret) != ARK_OK) {
		ark_log_error("cannot load the cluster key %s", opt_cluster_key);
		ark_cfg_free(cfg);
		return 1;
	}
	od_rcfg.domain = opt_domain;
	od_scfg.region = opt_region;
	od_scfg.allow_v2 = 1;
	od_scfg.secret = od_secret_cb;

	memset(&o, 0, sizeof(o));
	o.program = "arkor-objectd";
	o.listen = opt_listen;
	o.port_file = opt_port_file;
	o.pid_file = opt_pid_file;
	o.http.threads = (unsigned)opt_threads;
	o.http.thread_init = od_thread_init;
	o.http.thread_fini = od_thread_fini;
	o.handler = od_handler;
	o.started = od_started;
	ark_metrics_enable_process(true);
	rc = ark_svc_run(&o);
	ark_secret_wipe(&od_secret);
	OPENSSL_cleanse(key_cache, sizeof(key_cache));
	ark_cfg_free(cfg);
	return rc == ARK_OK ? 0 : 1;
}
