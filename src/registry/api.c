/*
 * api.c - HTTP/JSON routes of arkor-registryd. Every route is
 * `POST /v1/<noun>/<verb>` with a JSON object body (a few read-only ones
 * also answer GET without a body); answers are JSON objects; errors are
 * {"error": code, "message": text[, "field": name]} with the status of
 * err_status(). Bodies are read whole (bounded by max_body), parsed
 * strictly (unknown fields refused), then the handler runs.
 */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/buf.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "registry/api.h"

#define R_SERVICE	0x1	/* cluster secret only */
#define R_GET		0x2	/* GET allowed (no body) */
#define R_WRITE		0x4	/* waits for a commit: run on the pool */
#define R_ASYNC		0x8	/* with R_WRITE: runs on the loop thread and
				 * commits without waiting (rq_defer) */
#define MAX_FRAGS	100000
#define MAX_ASSIGN	1000

struct rq;
typedef void	(*route_fn)(struct rq *r);

struct route {
	const char	*path;
	route_fn	 fn;
	unsigned	 flags;
};

struct rq {
	struct ark_http_req	*req;
	struct api		*a;
	const struct route	*rt;
	struct ark_buf		 body;
	json_t			*j;
	int			 service;
	struct meta_key		 key;		/* the user, when !service */
	struct ark_json_err	 je;
	char			 field[64];
	/* Offloaded to the pool (loop thread reads/writes these only). */
	int			 inpool, dead;
	struct inbox		*inbox;		/* its loop thread's */
	/* An R_ASYNC commit in flight: its state, and what answers it on
	 * the loop thread once the writer is done (rq_defer). */
	void			*job;
	void			(*job_free)(void *job);
	void			(*finish)(struct rq *r);
	enum ark_err		 job_rc;
	int			 done_inline;	/* committed in the handler */
	int			 offloaded;	/* fn runs on a pool thread */
	int			 status;	/* the answer, made on the pool */
	char			*resp;
	size_t			 resp_len;
	struct rq		*next;		/* pool queue */
};

/* The pool: threads that run R_WRITE handlers, which block until their
 * group commit; answers go back to the request's loop thread through
 * that thread's inbox (a list and an eventfd), so libevent itself is
 * only ever used by the thread that owns the base: no locking in it. */
static struct {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	struct rq	*head, *tail;
	pthread_t	*thr;
	unsigned	 n;
	int		 stop;
	atomic_uint	 inflight;
} pool = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL,
    NULL, 0, 0, 0 };

struct inbox {
	pthread_mutex_t	 mu;
	struct rq	*head, *tail;	/* answered on the pool */
	int		 efd;		/* readable while head != NULL */
	struct event	*ev;
};
static _Thread_local struct inbox *my_inbox;	/* the loop thread's */

static void	rq_defer(struct rq *r, void *job, void (*job_free)(void *),
		    void (*finish)(struct rq *));
static void	rq_committed(void *arg, enum ark_err rc);

/* ---- replies ---- */

static void
reply_json(struct rq *r, int status, json_t *v)
{
	size_t	 len;
	char	*s = ark_json_dump(v, &len);

	json_decref(v);
	if (r->offloaded) {
		free(r->resp);
		r->status = s != NULL ? status : 500;
		r->resp = s;
		r->resp_len = s != NULL ? len : 0;
		return;
	}
	if (s == NULL) {
		ark_http_reply_error(r->req, 500);
		return;
	}
	ark_http_reply_simple(r->req, status, "application/json", s, len);
	free(s);
}

static void
reply_err(struct rq *r, int status, const char *code, const char *msg,
    const char *field)
{
	json_t *v = json_pack("{s:s, s:s}", "error", code, "message", msg);

	if (field != NULL && *field != '\0')
		json_object_set_new(v, "field", json_string(field));
	reply_json(r, status, v);
}

static int
err_status(enum ark_err e, const char **code)
{
	switch (e) {
	case ARK_ENOENT:	*code = "not_found"; return 404;
	case ARK_EEXIST:	*code = "conflict"; return 409;
	case ARK_EINVAL:	*code = "invalid"; return 400;
	case ARK_EPERM:		*code = "forbidden"; return 403;
	case ARK_ETOOBIG:	*code = "too_big"; return 413;
	case ARK_EAGAIN:	*code = "unavailable"; return 503;
	case ARK_ENOSPC:	*code = "no_space"; return 507;
	default:		*code = "internal"; return 500;
	}
}

/* The answer to error e of `what`: {"error", "message"}; *status set. */
static json_t *
rc_json(enum ark_err e, const char *what, int *status)
{
	const char	*code;
	char		 msg[256];

	*status = err_status(e, &code);
	snprintf(msg, sizeof(msg), "%s: %s", what, ark_strerror(e));
	return json_pack("{s:s, s:s}", "error", code, "message", msg);
}

static void
reply_rc(struct rq *r, enum ark_err e, const char *what)
{
	int	 st;
	json_t	*v = rc_json(e, what, &st);

	reply_json(r, st, v);
}

static void
reply_ok(struct rq *r)
{
	reply_json(r, 200, json_object());
}

/* ---- strict field access: on error reply 400 naming the field ---- */

static int
bad_field(struct rq *r, const char *field, enum ark_err rc)
{
	snprintf(r->field, sizeof(r->field), "%s", field);
	reply_err(r, 400, rc == ARK_ENOENT ? "missing_field" :
	    rc == ARK_ETOOBIG ? "too_long" : "invalid_field", r->je.msg,
	    r->field);
	return -1;
}

static int
keys_ok(struct rq *r, json_t *o, const char *const allowed[],
    const char *where)
{
	const char	*k;
	json_t		*v;
	size_t		 i;

	if (ark_json_check_keys(o, allowed, &r->je) == ARK_OK)
		return 0;
	json_object_foreach(o, k, v) {
		for (i = 0; allowed[i] != NULL && strcmp(allowed[i], k) != 0;
		    i++)
			;
		if (allowed[i] == NULL) {
			char f[64];

			snprintf(f, sizeof(f), "%s%s", where, k);
			return bad_field(r, f, ARK_EINVAL);
		}
	}
	return bad_field(r, where, ARK_EINVAL);
}

static int
g_str(struct rq *r, json_t *o, const char *f, int req, size_t max,
    const char **out)
{
	enum ark_err rc = ark_json_get_str(o, f, req, max, out, &r->je);

	if (rc != ARK_OK)
		return bad_field(r, f, rc);
	if (*out != NULL && req && **out == '\0') {
		snprintf(r->je.msg, sizeof(r->je.msg),
		    "field \"%s\": must not be empty", f);
		return bad_field(r, f, ARK_EINVAL);
	}
	return 0;
}

static int
g_int(struct rq *r, json_t *o, const char *f, int req, int64_t min,
    int64_t max, int64_t *out)
{
	enum ark_err rc = ark_json_get_int(o, f, req, min, max, out, &r->je);

	return rc == ARK_OK ? 0 : bad_field(r, f, rc);
}

static int
g_bool(struct rq *r, json_t *o, const char *f, bool *out)
{
	enum ark_err rc = ark_json_get_bool(o, f, 0, out, &r->je);

	return rc == ARK_OK ? 0 : bad_field(r, f, rc);
}

/* A JSON object field stored as its compact text (NULL when absent). */
static int
g_objtext_max(struct rq *r, json_t *o, const char *f, size_t max,
    char **out)
{
	json_t		*v = NULL;
	enum ark_err	 rc;
	size_t		 len;

	*out = NULL;
	if ((rc = ark_json_get_object(o, f, 0, &v, &r->je)) != ARK_OK)
		return bad_field(r, f, rc);
	if (v == NULL)
		return 0;
	if ((*out = ark_json_dump(v, &len)) == NULL || len > max) {
		free(*out);
		*out = NULL;
		snprintf(r->je.msg, sizeof(r->je.msg),
		    "field \"%s\": longer than %zu bytes", f, max);
		return bad_field(r, f, ARK_EINVAL);
	}
	return 0;
}

static int
g_objtext(struct rq *r, json_t *o, const char *f, char **out)
{
	return g_objtext_max(r, o, f, META_JSON_MAX, out);
}

/* An optional string field that must be one of `names` (NULL when
 * absent). */
static int
g_enum(struct rq *r, json_t *o, const char *f, const char *const names[],
    const char **out)
{
	size_t i;

	if (g_str(r, o, f, 0, 64, out))
		return -1;
	if (*out == NULL)
		return 0;
	for (i = 0; names[i] != NULL; i++)
		if (strcmp(names[i], *out) == 0)
			return 0;
	snprintf(r->je.msg, sizeof(r->je.msg), "field \"%s\": unknown value",
	    f);
	return bad_field(r, f, ARK_EINVAL);
}

/* "fragments": [{"fid", "offset", "length", "crc32c"}], each within
 * `size` when size >= 0. Caller frees *out. */
static int
g_frags(struct rq *r, json_t *o, int64_t size, struct meta_frag **out,
    size_t *nout)
{
	static const char *const allowed[] = { "fid", "offset", "length",
	    "crc32c", NULL };
	struct meta_frag	*fr;
	struct ark_fid		 fid;
	json_t			*arr = NULL, *e;
	const char		*s;
	int64_t			 off, len, crc;
	size_t			 i, n;
	char			 where[48];
	enum ark_err		 rc;

	*out = NULL;
	*nout = 0;
	if ((rc = ark_json_get_array(o, "fragments", 1, MAX_FRAGS, &arr,
	    &r->je)) != ARK_OK)
		return bad_field(r, "fragments", rc);
	n = json_array_size(arr);
	fr = ark_xcalloc(n + 1, sizeof(*fr));
	json_array_foreach(arr, i, e) {
		snprintf(where, sizeof(where), "fragments[%zu].", i);
		if (!json_is_object(e)) {
			snprintf(r->je.msg, sizeof(r->je.msg),
			    "%s: expected an object", where);
			where[strlen(where) - 1] = '\0';
			goto bad;
		}
		if (keys_ok(r, e, allowed, where) != 0)
			goto fail;
#define FRAG_FIELD(name, call) do {					\
	if ((rc = (call)) != ARK_OK) {					\
		snprintf(where + strlen(where),				\
		    sizeof(where) - strlen(where), "%s", name);		\
		goto bad;						\
	}								\
} while (0)
		FRAG_FIELD("fid", ark_json_get_str(e, "fid", 1,
		    ARK_FID_MAXLEN - 1, &s, &r->je));
		if (ark_fid_parse_str(s, &fid) != ARK_OK) {
			snprintf(r->je.msg, sizeof(r->je.msg), "field \"fid\":"
			    " not a FileID (docs/specs/FileID.md)");
			strcat(where, "fid");
			goto bad;
		}
		FRAG_FIELD("offset", ark_json_get_int(e, "offset", 1, 0,
		    INT64_MAX, &off, &r->je));
		FRAG_FIELD("length", ark_json_get_int(e, "length", 1, 0,
		    INT64_MAX, &len, &r->je));
		FRAG_FIELD("crc32c", ark_json_get_int(e, "crc32c", 1, 0,
		    UINT32_MAX, &crc, &r->je));
#undef FRAG_FIELD
		if (size >= 0 && (off > size || len > size - off)) {
			snprintf(r->je.msg, sizeof(r->je.msg),
			    "fragment [%" PRId64 ", +%" PRId64 ") outside the "
			    "object size %" PRId64, off, len, size);
			strcat(where, "length");
			goto bad;
		}
		snprintf(fr[i].fid, sizeof(fr[i].fid), "%s", s);
		fr[i].offset = (uint64_t)off;
		fr[i].length = (uint64_t)len;
		fr[i].crc32c = (uint32_t)crc;
	}
	*out = fr;
	*nout = n;
	return 0;
bad:
	free(fr);
	return bad_field(r, where, ARK_EINVAL);
fail:
	free(fr);
	return -1;
}

/* ---- authentication and permissions ---- */

/*
 * Services send the same token for minutes: each thread remembers the
 * last one it verified and its expiry, and skips the HMAC when the exact
 * same text comes again (compared in constant time).
 */
static _Thread_local char	tok_cache[ARK_TOKEN_MAXLEN];
static _Thread_local size_t	tok_cache_len;
static _Thread_local int64_t	tok_cache_exp;

static enum ark_err
service_token_check(const struct api *a, const char *tok)
{
	size_t		len = strnlen(tok, ARK_TOKEN_MAXLEN);
	int64_t		now = ark_now_s();
	enum ark_err	rc;

	if (tok_cache_len > 0 && len == tok_cache_len &&
	    CRYPTO_memcmp(tok, tok_cache, len) == 0 && now <= tok_cache_exp)
		return ARK_OK;
	rc = ark_token_verify(a->secret, ARK_TOKEN_ADMIN, API_SERVICE_SUBJECT,
	    tok, now);
	if (rc == ARK_OK && len < sizeof(tok_cache)) {
		memcpy(tok_cache, tok, len);
		tok_cache_len = len;
		tok_cache_exp = strtoll(tok, NULL, 10);	/* "<expiry>.<mac>" */
	}
	return rc;
}

#define REQ_SIG_SKEW	300	/* seconds a signed request stays valid */

/*
 * "Arkor-HMAC <key id>:<unix seconds>:<signature>" (ark_reqsig in
 * common/token.h). The secret never travels; a captured request replays
 * only within REQ_SIG_SKEW.
 */
static int
auth_signed(struct rq *r, const char *v)
{
	const char	*c1, *c2;
	char		 id[META_KEYID_MAX + 1], *end;
	char		 want[ARK_REQSIG_LEN];
	long long	 ts;
	size_t		 n;
	enum ark_err	 rc;

	if ((c1 = strchr(v, ':')) == NULL || (size_t)(c1 - v) > META_KEYID_MAX
	    || (c2 = strchr(c1 + 1, ':')) == NULL)
		goto bad;
	memcpy(id, v, (size_t)(c1 - v));
	id[c1 - v] = '\0';
	ts = strtoll(c1 + 1, &end, 10);
	if (end != c2 || c2 == c1 + 1)
		goto bad;
	if (ts < ark_now_s() - REQ_SIG_SKEW || ts > ark_now_s() + REQ_SIG_SKEW) {
		reply_err(r, 401, "unauthorized", "signed request too old or "
		    "from the future (check the clock)", NULL);
		return -1;
	}
	if ((rc = meta_key_get(r->a->m, id, &r->key)) != ARK_OK) {
		if (rc != ARK_ENOENT) {
			reply_rc(r, rc, "access key");
			return -1;
		}
		goto wrong;
	}
	ark_reqsig(r->key.secret, ark_http_req_method(r->req),
	    ark_http_req_path(r->req), ts, ark_buf_str(&r->body),
	    ark_buf_len(&r->body), want);
	n = strlen(want);
	if (n > 0 && strlen(c2 + 1) == n &&
	    CRYPTO_memcmp(c2 + 1, want, n) == 0)
		return 0;
wrong:
	memset(&r->key, 0, sizeof(r->key));
	reply_err(r, 401, "unauthorized", "unknown access key or bad "
	    "signature", NULL);
	return -1;
bad:
	reply_err(r, 401, "unauthorized", "malformed Arkor-HMAC "
	    "authorization", NULL);
	return -1;
}

static int
auth(struct rq *r)
{
	const char	*h = ark_http_req_header(r->req, "authorization");
	unsigned char	 dec[512];
	char		*colon;
	int		 n;
	size_t		 len, pad;
	enum ark_err	 rc;

	if (h == NULL) {
		ark_http_resp_header(r->req, "WWW-Authenticate",
		    "Basic realm=\"arkor\"");
		reply_err(r, 401, "unauthorized", "missing Authorization",
		    NULL);
		return -1;
	}
	if (strncmp(h, "Arkor-Service ", 14) == 0) {
		rc = service_token_check(r->a, h + 14);
		if (rc != ARK_OK) {
			reply_err(r, 401, "unauthorized", rc == ARK_EEXPIRED ?
			    "service token expired" : "bad service token",
			    NULL);
			return -1;
		}
		r->service = 1;
		return 0;
	}
	if (strncmp(h, "Arkor-HMAC ", 11) == 0)
		return auth_signed(r, h + 11);
	if (strncmp(h, "Basic ", 6) == 0) {
		h += 6;
		len = strlen(h);
		if (len == 0 || len % 4 != 0 || len / 4 * 3 >= sizeof(dec))
			goto bad;
		if ((n = EVP_DecodeBlock(dec, (const unsigned char *)h,
		    (int)len)) < 0)
			goto bad;
		pad = (h[len - 1] == '=') + (h[len - 2] == '=');
		dec[n - (int)pad] = '\0';
		if (strlen((char *)dec) != (size_t)n - pad ||
		    (colon = strchr((char *)dec, ':')) == NULL)
			goto bad;
		*colon = '\0';
		rc = meta_key_get(r->a->m, (char *)dec, &r->key);
		if (rc == ARK_OK && strlen(r->key.secret) == strlen(colon + 1)
		    && CRYPTO_memcmp(r->key.secret, colon + 1,
		    strlen(colon + 1)) == 0) {
			OPENSSL_cleanse(dec, sizeof(dec));
			return 0;
		}
		OPENSSL_cleanse(dec, sizeof(dec));
		if (rc != ARK_OK && rc != ARK_ENOENT) {
			reply_rc(r, rc, "access key");
			return -1;
		}
		memset(&r->key, 0, sizeof(r->key));
		reply_err(r, 401, "unauthorized", "unknown access key or "
		    "wrong secret", NULL);
		return -1;
	}
bad:
	reply_err(r, 401, "unauthorized", "unsupported or malformed "
	    "Authorization", NULL);
	return -1;
}

static int
is_admin(const struct rq *r)
{
	return r->service || r->key.admin;
}

static int
need_write_key(struct rq *r)
{
	if (!r->service && r->key.readonly) {
		reply_err(r, 403, "forbidden", "read-only access key", NULL);
		return -1;
	}
	return 0;
}

/* May the caller read (write = 0) or write the bucket? Replies on no. */
static int
need_bucket(struct rq *r, const char *bucket, int write)
{
	struct meta_bucket	b;
	enum ark_err		rc;

	if (r->service)
		return 0;
	if (write && need_write_key(r) != 0)
		return -1;
	if ((rc = meta_bucket_access(r->a->m, bucket, &b)) != ARK_OK) {
		reply_rc(r, rc, "bucket");
		return -1;
	}
	if (r->key.admin || strcmp(b.owner, r->key.user) == 0 ||
	    (!write && b.acl == META_ACL_PUBLIC_READ))
		return 0;
	reply_err(r, 403, "forbidden", "not your bucket", "bucket");
	return -1;
}

/* ---- cluster ---- */

/* "corrupt": [{"key": hex, "chunk": n, "offset": n}] from a data
 * server's scrub, at most CLUSTER_CORRUPT_MAX entries. */
static int
g_corrupt(struct rq *r, json_t **out)
{
	static const char *const allowed[] = { "key", "chunk", "offset",
	    NULL };
	json_t		*a, *e;
	const char	*k;
	int64_t		 n;
	size_t		 i;

	*out = NULL;
	if ((a = json_object_get(r->j, "corrupt")) == NULL)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > CLUSTER_CORRUPT_MAX) {
		snprintf(r->je.msg, sizeof(r->je.msg), "field \"corrupt\": "
		    "must be an array of at most %d entries",
		    CLUSTER_CORRUPT_MAX);
		return bad_field(r, "corrupt", ARK_EINVAL);
	}
	json_array_foreach(a, i, e) {
		if (!json_is_object(e) || keys_ok(r, e, allowed, "corrupt.") ||
		    g_str(r, e, "key", 1, 16, &k) ||
		    g_int(r, e, "chunk", 1, 0, UINT32_MAX, &n) ||
		    g_int(r, e, "offset", 1, 0, INT64_MAX, &n))
			return json_is_object(e) ? -1 :
			    bad_field(r, "corrupt", ARK_EINVAL);
		if (strspn(k, "0123456789abcdef") != strlen(k)) {
			snprintf(r->je.msg, sizeof(r->je.msg),
			    "field \"corrupt.key\": lowercase hex");
			return bad_field(r, "corrupt.key", ARK_EINVAL);
		}
	}
	*out = a;
	return 0;
}

static void
h_heartbeat(struct rq *r)
{
	static const char *const allowed[] = { "id", "url", "group", "free",
	    "capacity", "readonly", "stats", "corrupt", NULL };
	struct cluster_hb	 hb;
	char			*stats = NULL;
	json_t			*corrupt = NULL;
	const char		*id, *url;
	int64_t			 group = 0, fr = 0, cap = 0;
	bool			 ro = false;
	uint32_t		 g;
	enum ark_err		 rc;

	if (keys_ok(r, r->j, allowed, "") || g_str(r, r->j, "id", 1,
	    META_ID_MAX, &id) || g_str(r, r->j, "url", 1, META_URL_MAX, &url) ||
	    g_int(r, r->j, "group", 0, 0, UINT32_MAX, &group) ||
	    g_int(r, r->j, "free", 1, 0, INT64_MAX, &fr) ||
	    g_int(r, r->j, "capacity", 0, 0, INT64_MAX, &cap) ||
	    g_bool(r, r->j, "readonly", &ro) ||
	    g_objtext(r, r->j, "stats", &stats))
		return;
	if (g_corrupt(r, &corrupt)) {
		free(stats);
		return;
	}
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) !=
	    0) {
		snprintf(r->je.msg, sizeof(r->je.msg),
		    "field \"url\": must start with http:// or https://");
		bad_field(r, "url", ARK_EINVAL);
		free(stats);
		return;
	}
	memset(&hb, 0, sizeof(hb));
	hb.id = id;
	hb.url = url;
	hb.group = (uint32_t)group;
	hb.free = (uint64_t)fr;
	hb.capacity = (uint64_t)cap;
	hb.readonly = ro;
	hb.stats = stats;
	hb.corrupt = corrupt;
	rc = cluster_heartbeat(r->a->c, &hb, &g);
	free(stats);
	if (rc != ARK_OK) {
		if (rc == ARK_EEXIST)
			reply_err(r, 409, "conflict", "server registered in "
			    "another group: remove it first", "group");
		else
			reply_rc(r, rc, "heartbeat");
		return;
	}
	reply_json(r, 200, json_pack("{s:s, s:I}", "id", id, "group",
	    (json_int_t)g));
}

static void
h_server_list(struct rq *r)
{
	static const char *const allowed[] = { NULL };

	if (keys_ok(r, r->j, allowed, ""))
		return;
	reply_json(r, 200, json_pack("{s:o}", "servers",
	    cluster_servers_json(r->a->c)));
}

static void
h_server_remove(struct rq *r)
{
	static const char *const allowed[] = { "id", NULL };
	const char	*id;
	enum ark_err	 rc;

	if (keys_ok(r, r->j, allowed, "") || g_str(r, r->j, "id", 1,
	    META_ID_MAX, &id))
		return;
	if ((rc = cluster_remove(r->a->c, id)) != ARK_OK)
		reply_rc(r, rc, "server");
	else
		reply_ok(r);
}

static void
h_group_list(struct rq *r)
{
	static const char *const allowed[] = { NULL };

	if (keys_ok(r, r->j, allowed, ""))
		return;
	reply_json(r, 200, json_pack("{s:o}", "groups",
	    cluster_groups_json(r->a->c)));
}

static json_t *
urls_json(char urls[][META_URL_MAX + 1], size_t n)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(urls[i]));
	return a;
}

static void
h_assign(struct rq *r)
{
	static const char *const allowed[] = { "count", "size", NULL };
	char		 urls[CLUSTER_MAX_REPLICAS][META_URL_MAX + 1];
	char		 fs[ARK_FID_MAXLEN], tok[ARK_TOKEN_MAXLEN];
	struct ark_fid	 fid;
	json_t		*out, *e;
	const char	**fids;
	int64_t		 count = 1, size = 0, exp;
	size_t		 n, i;
	enum ark_err	 rc;

	if (keys_ok(r, r->j, allowed, "") || g_int(r, r->j, "count", 0, 1,
	    MAX_ASSIGN, &count) || g_int(r, r->j, "size", 0, 0, INT64_MAX,
	    &size) || need_write_key(r))
		return;
	exp = ark_now_s() + r->a->token_ttl_s;
	out = json_array();
	for (i = 0; i < (size_t)count; i++) {
		if ((rc = cluster_assign(r->a->c, (uint64_t)size, &fid, urls,
		    &n)) != ARK_OK) {
			json_decref(out);
			if (rc == ARK_EAGAIN)
				reply_err(r, 503, "no_writable_group",
				    "no data group can take writes", NULL);
			else
				reply_rc(r, rc, "assign");
			return;
		}
		ark_fid_format(&fid, fs, sizeof(fs));
		ark_token_mint(r->a->secret, ARK_TOKEN_WRITE, fs, exp, tok,
		    sizeof(tok));
		json_array_append_new(out, json_pack("{s:s, s:I, s:o, s:s}",
		    "fid", fs, "group", (json_int_t)fid.group, "urls",
		    urls_json(urls, n), "token", tok));
	}
	/* Recorded before the answer: a writer that never commits leaves
	 * nothing behind (gc.c collects them after the grace). */
	fids = ark_xcalloc((size_t)count, sizeof(*fids));
	json_array_foreach(out, i, e)
		fids[i] = json_string_value(json_object_get(e, "fid"));
	rc = meta_assigned_add(r->a->m, fids, (size_t)count,
	    exp * 1000 + r->a->assign_grace_ms);
	free(fids);
	if (rc != ARK_OK) {
		json_decref(out);
		reply_rc(r, rc, "assign");
		return;
	}
	reply_json(r, 200, json_pack("{s:o, s:I}", "assignments", out,
	    "expires", (json_int_t)exp));
}

/* urls + token of one fid for `op`, into a new JSON object. */
static json_t *
fid_access(struct rq *r, const char *fs, enum ark_token_op op, int64_t exp)
{
	char		 urls[CLUSTER_MAX_REPLICAS][META_URL_MAX + 1];
	char		 tok[ARK_TOKEN_MAXLEN];
	struct ark_fid	 fid;
	size_t		 n = 0;

	if (ark_fid_parse_str(fs, &fid) != ARK_OK ||
	    cluster_group_urls(r->a->c, fid.group, op == ARK_TOKEN_READ, urls,
	    &n) != ARK_OK)
		n = 0;
	ark_token_mint(r->a->secret, op, fs, exp, tok, sizeof(tok));
	return json_pack("{s:s, s:o, s:s}", "fid", fs, "urls",
	    urls_json(urls, n), "token", tok);
}

static void
h_lookup(struct rq *r)
{
	static const char *const allowed[] = { "fids", "op", NULL };
	static const char *const ops[] = { "read", "write", "delete", NULL };
	json_t		*arr = NULL, *e, *out;
	const char	*op = "read";
	size_t		 i;
	int		 o;
	int64_t		 exp = ark_now_s() + r->a->token_ttl_s;
	struct ark_fid	 fid;
	enum ark_err	 rc;
	char		 f[32];

	if (keys_ok(r, r->j, allowed, "") || g_str(r, r->j, "op", 0, 16, &op))
		return;
	for (o = 0; ops[o] != NULL && strcmp(ops[o], op) != 0; o++)
		;
	if (ops[o] == NULL) {
		snprintf(r->je.msg, sizeof(r->je.msg),
		    "field \"op\": expected read, write or delete");
		bad_field(r, "op", ARK_EINVAL);
		return;
	}
	if ((rc = ark_json_get_array(r->j, "fids", 1, MAX_ASSIGN, &arr,
	    &r->je)) != ARK_OK) {
		bad_field(r, "fids", rc);
		return;
	}
	json_array_foreach(arr, i, e) {
		if (!json_is_string(e) ||
		    ark_fid_parse_str(json_string_value(e), &fid) != ARK_OK) {
			snprintf(f, sizeof(f), "fids[%zu]", i);
			snprintf(r->je.msg, sizeof(r->je.msg),
			    "field \"%s\": not a FileID", f);
			bad_field(r, f, ARK_EINVAL);
			return;
		}
	}
	out = json_array();
	json_array_foreach(arr, i, e)
		json_array_append_new(out, fid_access(r, json_string_value(e),
		    (enum ark_token_op)o, exp));
	reply_json(r, 200, json_pack("{s:o, s:I}", "fids", out, "expires",
	    (json_int_t)exp));
}

static void
h_fid_status(struct rq *r)
{
	static const char *const allowed[] = { "fids", NULL };
	static const char *const states[] = { "none", "queued", "deleting",
	    "deleted" };
	json_t		*arr = NULL, *e, *out;
	const char	**fids;
	int		*ref, *gcs;
	size_t		 i, n;
	struct ark_fid	 fid;
	enum ark_err	 rc;
	char		 f[32];

	if (keys_ok(r, r->j, allowed, ""))
		return;
	if ((rc = ark_json_get_array(r->j, "fids", 1, MAX_ASSIGN, &arr,
	    &r->je)) != ARK_OK) {
		bad_field(r, "fids", rc);
		return;
	}
	n = json_array_size(arr);
	json_array_foreach(arr, i, e) {
		if (!json_is_string(e) ||
		    ark_fid_parse_str(json_string_value(e), &fid) != ARK_OK) {
			snprintf(f, sizeof(f), "fids[%zu]", i);
			snprintf(r->je.msg, sizeof(r->je.msg),
			    "field \"%s\": not a FileID", f);
			bad_field(r, f, ARK_EINVAL);
			return;
		}
	}
	fids = ark_xcalloc(n + 1, sizeof(*fids));
	ref = ark_xcalloc(n + 1, sizeof(*ref));
	gcs = ark_xcalloc(n + 1, sizeof(*gcs));
	json_array_foreach(arr, i, e)
		fids[i] = json_string_value(e);
	if ((rc = meta_fid_status(r->a->m, fids, n, ref, gcs)) != ARK_OK)
		reply_rc(r, rc, "fid status");
	else {
		out = json_array();
		for (i = 0; i < n; i++)
			json_array_append_new(out, json_pack("{s:s, s:b, s:s}",
			    "fid", fids[i], "referenced", ref[i], "gc",
			    states[gcs[i] < 4 ? gcs[i] : 0]));
		reply_json(r, 200, json_pack("{s:o}", "fids", out));
	}
	free(fids);
	free(ref);
	free(gcs);
}

static void
h_stat(struct rq *r)
{
	static const char *const allowed[] = { NULL };
	struct meta_totals	t;
	struct cluster_caps	cc;
	struct gc_stats		gs;
	enum ark_err		rc;

	if (keys_ok(r, r->j, allowed, ""))
		return;
	if ((rc = meta_totals(r->a->m, &t)) != ARK_OK) {
		reply_rc(r, rc, "stat");
		return;
	}
	cluster_caps(r->a->c, &cc);
	memset(&gs, 0, sizeof(gs));
	if (r->a->gc != NULL)
		gc_stats(r->a->gc, &gs);
	reply_json(r, 200, json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
	    " s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
	    "users", (json_int_t)t.users, "keys", (json_int_t)t.keys,
	    "buckets", (json_int_t)t.buckets, "objects", (json_int_t)t.objects,
	    "bytes", (json_int_t)t.bytes, "uploads", (json_int_t)t.uploads,
	    "lfs_objects", (json_int_t)t.lfs_objects,
	    "locks", (json_int_t)t.locks, "gc_queued", (json_int_t)t.gc_queued,
	    "gc_deleted", (json_int_t)gs.deleted,
	    "servers", (json_int_t)cc.servers,
	    "servers_up", (json_int_t)cc.servers_up,
	    "groups", (json_int_t)cc.groups,
	    "groups_writable", (json_int_t)cc.groups_writable,
	    "capacity", (json_int_t)cc.capacity, "free", (json_int_t)cc.free));
}

static void
h_gc_run(struct rq *r)
{
	static const char *const allowed[] = { NULL };

	if (keys_ok(r, r->j, allowed, ""))
		return;
	if (r->a->gc != NULL)
		gc_kick(r->a->gc);
	reply_ok(r);
}

/* ---- users and keys (service or admin users) ---- */

static int
need_admin(struct rq *r)
{
	if (is_admin(r))
		return 0;
	reply_err(r, 403, "forbidden", "admin only", NULL);
	return -1;
}

static json_t *
user_json(const struct meta_user *u)
{
	return json_pack("{s:s, s:b, s:I}", "name", u->name, "admin",
	    u->admin, "created_ms", (json_int_t)u->created_ms);
}

static void
h_user_create(struct rq *r)
{
	static const char *const allowed[] = { "name", "admin", NULL };
	struct meta_user	 u;
	const char		*name;
	bool			 admin = false;
	enum ark_err		 rc;

	if (need_admin(r) || keys_ok(r, r->j, allowed, "") ||
	    g_str(r, r->j, "name", 1, META_USER_MAX, &name) ||
	    g_bool(r, r->j, "admin", &admin))
		return;
	if ((rc = meta_user_create(r->a->m, name, admin, &u)) != ARK_OK)
		reply_rc(r, rc, "user");
	else
		reply_json(r, 200, user_json(&u));
}

static int
user_cb(void *arg, const struct meta_user *u)
{
	json_array_append_new(arg, user_json(u));
	return 0;
}

static void
h_user_list(struct rq *r)
{
	static const char *const allowed[] = { NULL };
	json_t		*a;
	enum ark_err	 rc;

	if (need_admin(r) || keys_ok(r, r->j, allowed, ""))
		return;
	a = json_array();
	if ((rc = meta_user_list(r->a->m, user_cb, a)) != ARK_OK) {
		json_decref(a);
		reply_rc(r, rc, "users");
		return;
	}
	reply_json(r, 200, json_pack("{s:o}", "users", a));
}

static void
h_user_delete(struct rq *r)
{
	static const char *const allowed[] = { "name", NULL };
	const char	*name;
	enum ark_err	 rc;

	if (need_admin(r) || keys_ok(r, r->j, allowed, "") ||
	    g_str(r, r->j, "name", 1, META_USER_MAX, &name))
		return;
	if ((rc = meta_user_delete(r->a->m, name)) == ARK_EEXIST)
		reply_err(r, 409, "conflict", "user still owns buckets",
		    "name");
	else if (rc != ARK_OK)
		reply_rc(r, rc, "user");
	else
		reply_ok(r);
}

static json_t *
key_json(const struct meta_key *k, int with_secret)
{
	json_t *v = json_pack("{s:s, s:s, s:b, s:b, s:I}", "key_id", k->key_id,
	    "user", k->user, "admin", k->admin, "readonly", k->readonly,
	    "created_ms", (json_int_t)k->created_ms);

	if (with_secret)
		json_object_set_new(v, "secret", json_string(k->secret));
	return v;
}

static void
h_key_create(struct rq *r)
{
	static const char *const allowed[] = { "user", "key_id", "secret",
	    "readonly", NULL };
	struct meta_key	 k;
	const char	*user, *id = NULL, *secret = NULL;
	char		 gid[21], gsecret[41];
	unsigned char	 rnd[40];
	bool		 ro = false;
	enum ark_err	 rc;
	size_t		 i;

	if (need_admin(r) || keys_ok(r, r->j, allowed, "") ||
	    g_str(r, r->j, "user", 1, META_USER_MAX, &user) ||
	    g_str(r, r->j, "key_id", 0, META_KEYID_MAX, &id) ||
	    g_str(r, r->j, "secret", 0, META_SECRET_MAX, &secret) ||
	    g_bool(r, r->j, "readonly", &ro))
		return;
	if (id == NULL || secret == NULL) {
		/* AWS-like shapes: 20 upper-case alnum id, 40 char secret */
		static const char idc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
		static const char sc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"
		    "klmnopqrstuvwxyz0123456789+/";

		if (ark_random_bytes(rnd, sizeof(rnd)) != ARK_OK) {
			reply_rc(r, ARK_EIO, "random");
			return;
		}
		memcpy(gid, "AK", 2);
		for (i = 2; i < 20; i++)
			gid[i] = idc[rnd[i] & 31];
		gid[20] = '\0';
		if (ark_random_bytes(rnd, sizeof(rnd)) != ARK_OK) {
			reply_rc(r, ARK_EIO, "random");
			return;
		}
		for (i = 0; i < 40; i++)
			gsecret[i] = sc[rnd[i] & 63];
		gsecret[40] = '\0';
		if (id == NULL)
			id = gid;
		if (secret == NULL)
			secret = gsecret;
	}
	if ((rc = meta_key_create(r->a->m, user, id, secret, ro)) != ARK_OK ||
	    (rc = meta_key_get(r->a->m, id, &k)) != ARK_OK) {
		reply_rc(r, rc, "key");
		return;
	}
	reply_json(r, 200, key_json(&k, 1));
	OPENSSL_cleanse(&k, sizeof(k));
}

static void
h_key_get(struct rq *r)
{
	static const char *const allowed[] = { "key_id", NULL };
	struct meta_key	 k;
	const char	*id;
	enum ark_err	 rc;

	/* the object server verifies SigV4 with the secret: service only */
	if (keys_ok(r, r->j, allowed, "") || g_str(r, r->j, "key_id", 1,
	    META_KEYID_MAX, &id))
		return;
	if ((rc = meta_key_get(r->a->m, id, &k)) != ARK_OK)
		reply_rc(r, rc, "key");
	else
		reply_json(r, 200, key_json(&k, 1));
	OPENSSL_cleanse(&k, sizeof(k));
}

static int
key_cb(void *arg, const struct meta_key *k)
{
	json_array_append_new(arg, key_json(k, 0));
	return 0;
}

static void
h_key_list(struct rq *r)
{
	static const char *const allowed[] = { "user", NULL };
	const char	*user = NULL;
	json_t		*a;
	enum ark_err	 rc;

	if (keys_ok(r, r->j, allowed, "") || g_str(r, r->j, "user", 0,
	    META_USER_MAX, &user))
		return;
	if (!is_admin(r)) {
		if (user != NULL && strcmp(user, r->key.user) != 0) {
			reply_err(r, 403, "forbidden", "not your keys", "user");
			return;
		}
		user = r->key.user;
	}
	a = json_array();
	if ((rc = meta_key_list(r->a->m, user, key_cb, a)) != ARK_OK) {
		json_decref(a);
		reply_rc(r, rc, "keys");
		return;
	}
	reply_json(r, 200, json_pack("{s:o}", "keys", a));
}

static void
h_key_delete(struct rq *r)
{
	static const char *const allowed[] = { "key_id", NULL };
	const char	*id;
	enum ark_err	 rc;

	if (need_admin(r) || keys_ok(r, r->j, allowed, "") ||
	    g_str(r, r->j, "key_id", 1, META_KEYID_MAX, &id))
		return;
	if ((rc = meta_key_delete(r->a->m, id)) != ARK_OK)
		reply_rc(r, rc, "key");
	else
		reply_ok(r);
}

/* ---- buckets ---- */

/* S3 rules: 3..63 of [a-z0-9.-], starting and ending alnum. */
static int
bucket_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n < 3 || n > 63)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' &&
		    s[i] <= '9') || s[i] == '.' || s[i] == '-'))
			return 0;
	return s[0] != '.' && s[0] != '-' && s[n - 1] != '.' &&
	    s[n - 1] != '-' && strstr(s, "..") == NULL;
}

static int
g_acl(struct rq *r, enum meta_acl *acl)
{
	const char *s = NULL;

	if (g_str(r, r->j, "acl", 0, 32, &s))
		return -1;
	if (s == NULL || strcmp(s, "private") == 0)
		*acl = META_ACL_PRIVATE;
	else if (strcmp(s, "public-read") == 0)
		*acl = META_ACL_PUBLIC_READ;
	else {
		snprintf(r->je.msg, sizeof(r->je.msg),
		    "field \"acl\": expected private or public-read");
		return bad_field(r, "acl", ARK_EINVAL);
	}
	return 0;
}

static json_t *
bucket_json(const struct meta_bucket *b)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I}", "name",
	    b->name, "owner", b->owner, "acl", b->acl == META_ACL_PUBLIC_READ ?
	    "public-read" : "private", "created_ms", (json_int_t)b->created_ms,
	    "objects", (json_int_t)b->objects, "bytes", (json_int_t)b->bytes,
	    "nseq", (json_int_t)b->nseq);
}

/* Adds the bucket's stored configurations to its bucket/get answer j:
 * "tags" and "cors" when set (texts the registry wrote itself). */
static enum ark_err
bucket_conf_json(struct rq *r, const char *name, json_t *j)
{
	struct meta_bucket_conf	 c;
	json_t			*v;
	enum ark_err		 rc;

	if ((rc = meta_bucket_conf_get(r->a->m, name, &c)) != ARK_OK)
		return rc;
	if (c.tags != NULL && (v = json_loads(c.tags, 0, NULL)) != NULL)
		json_object_set_new(j, "tags", v);
	if (c.cors != NULL && (v = json_loads(c.cors, 0, NULL)) != NULL)
		json_object_set_new(j, "cors", v);
	meta_bucket_conf_clear(&c);
	return ARK_OK;
}

static void
h_bucket_create(struct rq *r)
{
	static const char *const allowed[] = { "bucket", "owner", "acl", NULL };
	struct meta_bucket	 b;
	const char		*name, *owner = NULL;
	enum meta_acl		 acl;
	enum ark_err		 rc;

	if (keys_ok(r, r->j, allowed, "") || g_str(r, r->j, "bucket", 1,
	    META_BUCKET_MAX, &name) || g_str(r, r->j, "owner", 0,
	    META_USER_MAX, &owner) || g_acl(r, &acl) || need_write_key(r))
		return;
	if (!bucket_name_ok(name)) {
		snprintf(r->je.msg, sizeof(r->je.msg), "field \"bucket\": "
		    "3 to 63 characters of a-z 0-9 . - (S3 bucket rules)");
		bad_field(r, "bucket", ARK_EINVAL);
		return;
	}
	if (!r->service) {
		if (owner != NULL && strcmp(owner, r->key.user) != 0 &&
		    !r->key.admin) {
			reply_err(r, 403, "forbidden", "cannot create buckets "
			    "for another user", "owner");
			return;
		}
		if (owner == NULL)
			owner = r->key.user;
	} else if (owner == NULL) {
		snprintf(r->je.msg, sizeof(r->je.msg),
		    "field \"owner\": required for service callers");
		bad_field(r, "owner", ARK_ENOENT);
		return;
	}
	rc = meta_bucket_create(r->a->m, name, owner, acl);
	if (rc == ARK_ENOENT)
		reply_err(r, 404, "not_found", "no such user", "owner");
	else if (rc == ARK_EEXIST)
		reply_err(r, 409, "bucket_exists", "bucket exists", "bucket");
	else if (rc != ARK_OK)
		reply_rc(r, rc, "bucket");
	else if ((rc = meta_bucket_get(r->a->m, name, &b)) != ARK_OK)
		reply_rc(r, rc, "bucket");
	else
		reply_json(r, 200, bucket_json(&b));
}

static void
h_bucket_get(struct rq *r)
{
	static const char *const allowed[] = { "bucket", NULL };
	struct meta_bucket	 b;
	const char		*name;
	json_t			*j;
	enum ark_err		 rc;

	if (keys_ok(r, r->j, allowed, "") || g_str(r, r->j, "bucket", 1,
	    META_BUCKET_MAX, &name) || need_bucket(r, name, 0))
		return;
	if ((rc = meta_bucket_get(r->a->m, name, &b)) != ARK_OK) {
		reply_rc(r, rc, "bucket");
		return;
	}
	j = bucket_json(&b);
	if ((rc = bucket_conf_json(r, name, j)) != ARK_OK) {
		json_decref(j);
		reply_rc(r, rc, "bucket");
	} else
		reply_json(r, 200, j);
}

/* "tags": {key: string value}; "cors": {"rules": [...]} (the object
 * server checks the rules; the registry keeps them as given). */
static int
bucket_conf_ok(struct rq *r, const char *tags, const char *cors)
{
	json_t *t = tags != NULL ? json_loads(tags, 0, NULL) : NULL;
	json_t *c = cors != NULL ? json_loads(cors, 0, NULL) : NULL;
	const char *k, *bad = NULL;
	json_t *v;

	json_object_foreach(t, k, v)
		if (!json_is_string(v))
			bad = "tags";
	if (c != NULL && json_object_size(c) > 0 &&
	    !json_is_array(json_object_get(c, "rules")))
		bad = "cors";
	json_decref(t);
	json_decref(c);
	if (bad == NULL)
		return 0;
	snprintf(r->je.msg, sizeof(r->je.msg), "field \"%s\": %s", bad,
	    strcmp(bad, "tags") == 0 ? "values must be strings" :
	    "expected {\"rules\": [...]}");
	return bad_field(r, bad, ARK_EINVAL);
}

static void
h_bucket_config(struct rq *r)
{
	static const char *const allowed[] = { "bucket", "tags", "cors",
	    NULL };
	const char	*name;
	char		*tags = NULL, *cors = NULL;
	enum ark_err	 rc;

	if (keys_ok(r, r->j, allowed, "") || g_str(r, r->j, "bucket", 1,
	    META_BUCKET_MAX, &name) || g_objtext_max(r, r->j, "tags",
	    META_BUCKET_CONF_MAX, &tags) || g_objtext_max(r, r->j, "cors",
	    META_BUCKET_CONF_MAX, &cors) || bucket_conf_ok(r, tags, cors) ||
	    need_bucket(r, name, 1))
		goto out;
	/* "{}" removes a configuration */
	rc = meta_bucket_conf_set(r->a->m, name, tags == NULL ? NULL :
	    strcmp(tags, "{}") == 0 ? "" : tags, cors == NULL ? NULL :
	    strcmp(cors, "{}") == 0 ? "" : cors);
	if (rc != ARK_OK)
		reply_rc(r, rc, "bucket");
	else
		reply_ok(r);
out:
	free(tags);
	free(cors);
}

static void
h_bucket_acl(struct rq *r)
{
	static const char *const allowed[] = { "bucket", "acl", NULL };
	const char	*name;
	enum meta_acl	 acl;
	enum ark_err	 rc;

	if (keys_ok(r, r->j, allowed, "") || g_str(r, r->j, "bucket", 1,
	    META_BUCKET_MAX, &name) || g_acl(r, &acl) ||
	    need_bucket(r, name, 1))
		return;
	if ((rc = meta_bucket_set_acl(r->a->m, name, acl)) != ARK_OK)
		reply_rc(r, rc, "bucket");
	else
		reply_ok(r);
}

static void
h_bucket_delete(struct rq *r)
{
	static const char *const allowed[] = { "bucket", NULL };
	const char	*name;
	enum ark_err	 rc;

	if (keys_ok(r, r->j, allowed, "") || g_str(r, r->j, "bucket", 1,
	    META_BUCKET_MAX, &name) || need_bucket(r, name, 1))
		return;
	if ((rc = meta_bucket_delete(r->a->m, name)) == ARK_EEXIST)
		reply_err(r, 409, "bucket_not_empty", "bucket not empty",
		    "bucket");
	else if (rc != ARK_OK)
		reply_rc(r, rc, "bucket");
	else
		reply_ok(r);
}

static int
bucket_cb(void *arg, const struct meta_bucket *b)
{
	json_array_append_new(arg, bucket_json(b));
	return 0;
}

static void
h_bucket_list(struct rq *r)
{
	static const char *const allowed[] = { "owner", NULL };
	const char	*owner = NULL;
	json_t		*a;
	enum ark_err	 rc;

	if (keys_ok(r, r->j, allowed, "") || g_str(r, r->j, "owner", 0,
	    META_USER_MAX, &owner))
		return;
	if (!is_admin(r)) {
		if (owner != NULL && strcmp(owner, r->key.user) != 0) {
			reply_err(r, 403, "forbidden", "not your buckets",
			    "owner");
			return;
		}
		owner = r->key.user;
	}
	a = json_array();
	if ((rc = meta_bucket_list(r->a->m, owner, bucket_cb, a)) != ARK_OK) {
		json_decref(a);
		reply_rc(r, rc, "buckets");
		return;
	}
	reply_json(r, 200, json_pack("{s:o}", "buckets", a));
}

/* ---- objects ---- */

static json_t *
frags_json(struct rq *r, const struct meta_frag *f, size_t n, int tokens)
{
	json_t	*a = json_array(), *e;
	int64_t	 exp = ark_now_s() + r->a->token_ttl_s;
	size_t	 i;

	for (i = 0; i < n; i++) {
		e = tokens ? fid_access(r, f[i].fid, ARK_TOKEN_READ, exp) :
		    json_pack("{s:s}", "fid", f[i].fid);
		json_object_set_new(e, "offset", json_integer(
		    (json_int_t)f[i].offset));
		json_object_set_new(e, "length", json_integer(
		    (json_int_t)f[i].length));
		json_object_set_new(e, "crc32c", json_integer(f[i].crc32c));
		json_array_append_new(a, e);
	}
	return a;
}

static json_t *
objtext_json(const char *s)
{
	json_t *v;

	/* Most objects have none of these: no parser for "{}". */
	if (s == NULL || strcmp(s, "{}") == 0 ||
	    (v = json_loads(s, 0, NULL)) == NULL)
		return json_object();
	return v;
}

static json_t *
object_json(struct rq *r, const char *bucket, const struct meta_object *o,
    int tokens)
{
	json_t *v;

	v = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:o, s:o, s:o, s:o,"
	    " s:I, s:I, s:I, s:I, s:I, s:o}", "bucket", bucket, "key", o->key,
	    "version", (json_int_t)o->version, "size", (json_int_t)o->size,
	    "etag", o->etag, "content_type", o->ctype,
	    "user_meta", objtext_json(o->user_meta),
	    "checksums", objtext_json(o->checksums),
	    "tags", objtext_json(o->tags),
	    "headers", objtext_json(o->headers),
	    "mode", (json_int_t)o->mode, "uid", (json_int_t)o->uid,
	    "gid", (json_int_t)o->gid, "mtime_ms", (json_int_t)o->mtime_ms,
	    "created_ms", (json_int_t)o->created_ms,
	    "fragments", frags_json(r, o->frags, o->nfrags, tokens));
	if (v != NULL && o->parts != NULL)
		json_object_set_new(v, "parts", json_loads(o->parts, 0, NULL));
	return v;
}

struct list_ctx {
	json_t	*keys, *prefixes;
	int	 rows;		/* keys as [key, size, etag, mtime_ms] */
};

static int
list_cb(void *arg, const struct meta_list_ent *e)
{
	struct list_ctx *l = arg;

	if (e->is_prefix)
		json_array_append_new(l->prefixes, json_string(e->key));
	else if (l->rows)
		json_array_append_new(l->keys, json_pack("[s, I, s, I]",
		    e->key, (json_int_t)e->size, e->etag ? e->etag : "",
		    (json_int_t)e->mtime_ms));
	else
		json_array_append_new(l->keys, json_pack("{s:s, s:I, s:s,"
		    " s:I, s:I, s:I, s:I, s:I}", "key", e->key, "size",
		    (json_int_t)e->size, "etag", e->etag ? e->etag : "",
		    "mtime_ms", (json_int_t)e->mtime_ms, "version",
		    (json_int_t)e->version, "mode", (json_int_t)e->mode,
		    "uid", (json_int_t)e->uid, "gid", (json_int_t)e->gid));
	return 0;
}

/* object/get with "dir": the key names no object; answers {"dir": true,
 * "marker"?: the "key/" entry as `list` gives it} when "key/" is a
 * non-empty prefix (a directory for arkorfs), else 404: one round trip
 * for a file system's lookup of a name that is not a file. */
/* An error of object/get, with the change count the lookup read (0: none,
 * the bucket is missing). */
static void
reply_no_object(struct rq *r, enum ark_err rc, int64_t nseq)
{
	int	 st;
	json_t	*v = rc_json(rc, "object", &st);

	if (nseq != 0)
		json_object_set_new(v, "nseq", json_integer(nseq));
	reply_json(r, st, v);
}

static void
object_get_dir(struct rq *r, const char *bucket, const char *key,
    int64_t nseq)
{
	struct meta_list_req	 q;
	struct list_ctx		 l = { NULL, NULL, 0 };
	char			*pfx, *next = NULL;
	json_t			*k0;
	enum ark_err		 rc;

	if (strlen(key) >= META_OBJKEY_MAX) {	/* "key/" fits no key */
		reply_no_object(r, ARK_ENOENT, nseq);
		return;
	}
	memset(&q, 0, sizeof(q));
	pfx = ark_xasprintf("%s/", key);
	q.bucket = bucket;
	q.prefix = pfx;
	q.delimiter = "/";
	q.max_keys = 1;
	l.keys = json_array();
	l.prefixes = json_array();
	rc = meta_list(r->a->m, &q, list_cb, &l, &next);
	free(next);
	if (rc == ARK_OK && json_array_size(l.keys) +
	    json_array_size(l.prefixes) == 0)
		rc = ARK_ENOENT;
	/* nseq was read before this listing: a change in between only
	 * makes a cache that holds this answer drop it sooner. */
	if (rc == ARK_ENOENT)
		reply_no_object(r, rc, nseq);
	else if (rc != ARK_OK)
		reply_rc(r, rc, "object");
	else if ((k0 = json_array_get(l.keys, 0)) != NULL &&
	    strcmp(json_string_value(json_object_get(k0, "key")), pfx) == 0)
		reply_json(r, 200, json_pack("{s:b, s:O, s:I}", "dir", 1,
		    "marker", k0, "nseq", (json_int_t)nseq));
	else
		reply_json(r, 200, json_pack("{s:b, s:I}", "dir", 1, "nseq",
		    (json_int_t)nseq));
	json_decref(l.keys);
	json_decref(l.prefixes);
	free(pfx);
}

static void
h_object_get(struct rq *r)
{
	static const char *const allowed[] = { "bucket", "key", "tokens",
	    "dir", NULL };
	struct meta_object	 o;
	const char		*bucket, *key;
	bool			 tokens = false, dir = false;
	json_t			*j;
	enum ark_err		 rc;

	if (keys_ok(r, r->j, allowed, "") || g_str(r, r->j, "bucket", 1,
	    META_BUCKET_MAX, &bucket) || g_str(r, r->j, "key", 1,
	    META_OBJKEY_MAX, &key) || g_bool(r, r->j, "tokens", &tokens) ||
	    g_bool(r, r->j, "dir", &dir) || need_bucket(r, bucket, 0))
		return;
	if ((rc = meta_object_get(r->a->m, bucket, key, &o)) != ARK_OK) {
		if (rc == ARK_ENOENT && dir)
			object_get_dir(r, bucket, key, o.nseq);
		else
			reply_no_object(r, rc, o.nseq);
		return;
	}
	j = object_json(r, bucket, &o, tokens);
	json_object_set_new(j, "nseq", json_integer(o.nseq));
	reply_json(r, 200, j);
	meta_object_clear(&o);
}

/* Entry e of batch r (object/gets, object/deletes) as a request of its
 * own, answered into sub->status and sub->resp (reply_json keeps it). */
static void
rq_sub(struct rq *sub, const struct rq *r, json_t *e)
{
	memset(sub, 0, sizeof(*sub));
	sub->req = r->req;
	sub->a = r->a;
	sub->rt = r->rt;
	sub->service = r->service;
	sub->key = r->key;
	sub->offloaded = 1;
	sub->j = e;
}

/* Appends sub's answer to a batch's results as entry i, {"status",
 * "answer"}, and frees it. */
static enum ark_err
results_add(struct ark_buf *out, size_t i, struct rq *sub)
{
	enum ark_err rc;

	rc = ark_buf_printf(out, "%s{\"status\":%d,\"answer\":",
	    i > 0 ? "," : "", sub->status);
	if (rc == ARK_OK)
		rc = ark_buf_append(out, sub->resp != NULL ? sub->resp : "null",
		    sub->resp != NULL ? sub->resp_len : 4);
	if (rc == ARK_OK)
		rc = ark_buf_append_byte(out, '}');
	free(sub->resp);
	sub->resp = NULL;
	return rc;
}

/*
 * object/gets: {"gets": [object/get bodies]} -> {"results": [{"status",
 * "answer"}]}, in order: each entry answered as object/get would answer it
 * alone, for the same caller. The object server sends the lookups of the
 * GETs that wait behind its calls in flight as one such request, so
 * under load one round trip, parse and signature check serve many.
 */
#define OBJECT_GETS_MAX		256
#define OBJECT_GETS_MAX_RESP	((size_t)32 << 20)

static void
h_object_gets(struct rq *r)
{
	static const char *const allowed[] = { "gets", NULL };
	json_t		*a, *e;
	struct ark_buf	 out;
	struct rq	 sub;
	size_t		 i;
	enum ark_err	 rc;

	if (keys_ok(r, r->j, allowed, ""))
		return;
	a = json_object_get(r->j, "gets");
	if (!json_is_array(a) || json_array_size(a) < 1 ||
	    json_array_size(a) > OBJECT_GETS_MAX) {
		reply_err(r, 400, "invalid", "field \"gets\": must be an array "
		    "of 1 to 256 object/get bodies", "gets");
		return;
	}
	ark_buf_init(&out, OBJECT_GETS_MAX_RESP);
	rc = ark_buf_append_str(&out, "{\"results\":[");
	json_array_foreach(a, i, e) {
		rq_sub(&sub, r, e);
		if (!json_is_object(e))
			reply_err(&sub, 400, "invalid", "each of \"gets\" must "
			    "be an object/get body", "gets");
		else
			h_object_get(&sub);
		if (rc == ARK_OK)
			rc = results_add(&out, i, &sub);
		free(sub.resp);
		OPENSSL_cleanse(&sub.key, sizeof(sub.key));
	}
	if (rc == ARK_OK)
		rc = ark_buf_append_str(&out, "]}");
	if (rc == ARK_ETOOBIG)
		reply_err(r, 413, "too_big", "the answers pass 32 MiB: ask for "
		    "fewer objects at once", "gets");
	else if (rc != ARK_OK)
		reply_rc(r, rc, "object/gets");
	else
		ark_http_reply_simple(r->req, 200, "application/json",
		    ark_buf_str(&out), ark_buf_len(&out));
	ark_buf_free(&out);
}

static int
g_if_version(struct rq *r, int64_t *v)
{
	*v = META_ANY;
	return g_int(r, r->j, "if_version", 0, -1, INT64_MAX, v);
}

static void
reply_write_rc(struct rq *r, enum ark_err rc, int64_t if_version,
    const char *what)
{
	if (rc == ARK_EEXIST && if_version != META_ANY)
		reply_err(r, 412, "precondition_failed", "if_version does not "
		    "match the current version", "if_version");
	else if (rc == ARK_EAGAIN)
		reply_err(r, 409, "fragment_deleted", "a fragment is being "
		    "deleted or was deleted by the GC: write it again under a "
		    "new FileID",
		    "fragments");
	else
		reply_rc(r, rc, what);
}

/* object/put runs on the loop thread and waits for its group commit
 * without a pool thread (the hot write path: every S3 PUT ends here). */
struct put_job {
	struct meta_object	 o;
	int64_t			 ifv, v, nseq[2];
};

static void
object_put_job_free(void *job)
{
	struct put_job *pj = job;

	meta_object_clear(&pj->o);
	free(pj);
}

static void
object_put_finish(struct rq *r)
{
	struct put_job *pj = r->job;

	if (r->job_rc != ARK_OK)
		reply_write_rc(r, r->job_rc, pj->ifv, "object");
	else
		reply_json(r, 200, json_pack("{s:I, s:[I, I]}", "version",
		    (json_int_t)pj->v, "nseq", (json_int_t)pj->nseq[0],
		    (json_int_t)pj->nseq[1]));
}

static void
h_object_put(struct rq *r)
{
	static const char *const allowed[] = { "bucket", "key", "size", "etag",
	    "content_type", "user_meta", "checksums", "tags", "headers", "mode",
	    "uid", "gid", "mtime_ms", "fragments", "if_version", "durable",
	    NULL };
	struct meta_object	 o;
	const char		*bucket, *key, *etag = "", *ctype = "";
	int64_t			 size, mode = 0100644, uid = 0, gid = 0;
	int64_t			 mtime = ark_now_ms(), ifv;
	bool			 durable = true;
	struct put_job		*pj;
	enum ark_err		 rc;

	memset(&o, 0, sizeof(o));
	if (keys_ok(r, r->j, allowed, "") || g_str(r, r->j, "bucket", 1,
	    META_BUCKET_MAX, &bucket) || g_str(r, r->j, "key", 1,
	    META_OBJKEY_MAX, &key) || g_int(r, r->j, "size", 1, 0, INT64_MAX,
	    &size) || g_str(r, r->j, "etag", 0, META_ETAG_MAX, &etag) ||
	    g_str(r, r->j, "content_type", 0, META_CTYPE_MAX, &ctype) ||
	    g_int(r, r->j, "mode", 0, 0, UINT32_MAX, &mode) ||
	    g_int(r, r->j, "uid", 0, 0, UINT32_MAX, &uid) ||
	    g_int(r, r->j, "gid", 0, 0, UINT32_MAX, &gid) ||
	    g_int(r, r->j, "mtime_ms", 0, INT64_MIN, INT64_MAX, &mtime) ||
	    g_if_version(r, &ifv) || g_bool(r, r->j, "durable", &durable) ||
	    g_objtext(r, r->j, "user_meta", &o.user_meta) ||
	    g_objtext(r, r->j, "checksums", &o.checksums) ||
	    g_objtext(r, r->j, "tags", &o.tags) ||
	    g_objtext(r, r->j, "headers", &o.headers) ||
	    g_frags(r, r->j, size, &o.frags, &o.nfrags) ||
	    need_bucket(r, bucket, 1))
		goto out;
	o.size = (uint64_t)size;
	snprintf(o.etag, sizeof(o.etag), "%s", etag);
	snprintf(o.ctype, sizeof(o.ctype), "%s", ctype);
	o.mode = (uint32_t)mode;
	o.uid = (uint32_t)uid;
	o.gid = (uint32_t)gid;
	o.mtime_ms = mtime;
	pj = ark_xcalloc(1, sizeof(*pj));
	pj->o = o;			/* the job owns the fragments now */
	memset(&o, 0, sizeof(o));
	pj->ifv = ifv;
	rq_defer(r, pj, object_put_job_free, object_put_finish);
	if ((rc = meta_object_put_async(r->a->m, bucket, key, &pj->o, ifv,
	    &pj->v, pj->nseq, !durable, rq_committed, r)) != ARK_OK)
		rq_committed(r, rc);
out:
	meta_object_clear(&o);
}

/* object/delete waits for its commit on the loop thread, as object/put. */
struct del_job {
	int64_t	 ifv, nseq[2];
};

static void
object_delete_finish(struct rq *r)
{
	struct del_job *dj = r->job;

	if (r->job_rc != ARK_OK)
		reply_write_rc(r, r->job_rc, dj->ifv, "object");
	else
		reply_json(r, 200, json_pack("{s:[I, I]}", "nseq",
		    (json_int_t)dj->nseq[0], (json_int_t)dj->nseq[1]));
}

static void
h_object_delete(struct rq *r)
{
	static const char *const allowed[] = { "bucket", "key", "if_version",
	    "durable", NULL };
	const char	*bucket, *key;
	struct del_job	*dj;
	int64_t		 ifv;
	bool		 durable = true;

	if (keys_ok(r, r->j, allowed, "") || g_str(r, r->j, "bucket", 1,
	    META_BUCKET_MAX, &bucket) || g_str(r, r->j, "key", 1,
	    META_OBJKEY_MAX, &key) || g_if_version(r, &ifv) ||
	    g_bool(r, r->j, "durable", &durable) || need_bucket(r, bucket, 1))
		return;
	dj = ark_xcalloc(1, sizeof(*dj));
	dj->ifv = ifv;
	rq_defer(r, dj, free, object_delete_finish);
	meta_object_delete_async(r->a->m, bucket, key, ifv, dj->nseq,
	    !durable, rq_committed, r);
}

/*
 * object/deletes: {"deletes": [object/delete bodies], "durable"?} ->
 * {"results": [{"status", "answer"}]}, in order: each entry answered as
 * object/delete would answer it alone, for the same caller. arkorfs
 * sends the unlinks it has answered as one such request; they commit in
 * order, lazily unless "durable" (each entry's own "durable" is refused:
 * the call's holds for all).
 */
#define OBJECT_DELETES_MAX	256

struct dels_one {
	struct dels_job	*job;
	struct del_job	 dj;
	enum ark_err	 rc;
	int		 status;	/* 0: sent to the writer; else refused */
	char		*resp;		/* the refusal */
	size_t		 resp_len;
};

struct dels_job {
	struct rq	*r;
	atomic_size_t	 left;		/* commits to come, + 1 while sending */
	size_t		 n;
	struct dels_one	 d[];
};

static void
object_deletes_job_free(void *job)
{
	struct dels_job	*dj = job;
	size_t		 i;

	for (i = 0; i < dj->n; i++)
		free(dj->d[i].resp);
	free(dj);
}

/* One entry, or the sending, done: the last answers the call. */
static void
object_deletes_put(struct dels_job *dj)
{
	if (atomic_fetch_sub(&dj->left, 1) == 1)
		rq_committed(dj->r, ARK_OK);
}

static void
object_deletes_one_done(void *arg, enum ark_err rc)
{
	struct dels_one *o = arg;

	o->rc = rc;
	object_deletes_put(o->job);
}

static void
object_deletes_finish(struct rq *r)
{
	struct dels_job	*dj = r->job;
	struct ark_buf	 out;
	struct rq	 sub;
	size_t		 i;
	enum ark_err	 rc;

	ark_buf_init(&out, (size_t)1 << 20);	/* 256 short answers */
	rc = ark_buf_append_str(&out, "{\"results\":[");
	for (i = 0; i < dj->n && rc == ARK_OK; i++) {
		struct dels_one *o = &dj->d[i];

		memset(&sub, 0, sizeof(sub));
		sub.offloaded = 1;	/* reply_json keeps the answer */
		if (o->status != 0) {
			sub.status = o->status;
			sub.resp = o->resp;
			sub.resp_len = o->resp_len;
			o->resp = NULL;
		} else {
			sub.job = &o->dj;
			sub.job_rc = o->rc;
			object_delete_finish(&sub);
		}
		rc = results_add(&out, i, &sub);
	}
	if (rc == ARK_OK)
		rc = ark_buf_append_str(&out, "]}");
	if (rc != ARK_OK)
		reply_rc(r, rc, "object/deletes");
	else
		ark_http_reply_simple(r->req, 200, "application/json",
		    ark_buf_str(&out), ark_buf_len(&out));
	ark_buf_free(&out);
}

static void
h_object_deletes(struct rq *r)
{
	static const char *const allowed[] = { "deletes", "durable", NULL };
	static const char *const one[] = { "bucket", "key", "if_version",
	    NULL };
	struct dels_job	*dj;
	struct rq	 sub;
	json_t		*a, *e;
	const char	*bucket, *key, *ok_bucket = NULL;
	bool		 durable = true;
	size_t		 i, n;

	if (keys_ok(r, r->j, allowed, "") ||
	    g_bool(r, r->j, "durable", &durable))
		return;
	a = json_object_get(r->j, "deletes");
	n = json_array_size(a);
	if (!json_is_array(a) || n < 1 || n > OBJECT_DELETES_MAX) {
		reply_err(r, 400, "invalid", "field \"deletes\": must be an "
		    "array of 1 to 256 object/delete bodies", "deletes");
		return;
	}
	dj = ark_xcalloc(1, sizeof(*dj) + n * sizeof(dj->d[0]));
	dj->r = r;
	dj->n = n;
	atomic_init(&dj->left, n + 1);
	rq_defer(r, dj, object_deletes_job_free, object_deletes_finish);
	json_array_foreach(a, i, e) {
		struct dels_one *o = &dj->d[i];

		o->job = dj;
		rq_sub(&sub, r, e);
		if (!json_is_object(e))
			reply_err(&sub, 400, "invalid", "each of \"deletes\" "
			    "must be an object/delete body", "deletes");
		else if (keys_ok(&sub, e, one, "") || g_str(&sub, e, "bucket",
		    1, META_BUCKET_MAX, &bucket) || g_str(&sub, e, "key", 1,
		    META_OBJKEY_MAX, &key) || g_if_version(&sub, &o->dj.ifv))
			;
		else if ((ok_bucket == NULL || strcmp(ok_bucket, bucket) != 0)
		    && need_bucket(&sub, bucket, 1))
			;
		else {
			ok_bucket = bucket;	/* checked once per run */
			meta_object_delete_async(r->a->m, bucket, key,
			    o->dj.ifv, o->dj.nseq, !durable,
			    object_deletes_one_done, o);
			OPENSSL_cleanse(&sub.key, sizeof(sub.key));
			continue;
		}
		o->status = sub.status;
		o->resp = sub.resp;
		o->resp_len = sub.resp_len;
		OPENSSL_cleanse(&sub.key, sizeof(sub.key));
		object_deletes_put(dj);
	}
	object_deletes_put(dj);		/* all sent */
}

static void
sync_finish(struct rq *r)
{
	if (r->job_rc != ARK_OK)
		reply_rc(r, r->job_rc, "sync");
	else
		reply_json(r, 200, json_object());
}

/* sync: answers once every earlier commit (the lazy ones too) is
 * durable. */
static void
h_sync(struct rq *r)
{
	static const char *const allowed[] = { NULL };

	if (keys_ok(r, r->j, allowed, ""))
		return;
	rq_defer(r, NULL, NULL, sync_finish);
	meta_sync_async(r->a->m, rq_committed, r);
}

/* Holds the text of the JSON attribute fields of a request. */
struct attr_texts {
	char	*user_meta, *headers, *tags;
};

static void
attr_texts_free(struct attr_texts *t)
{
	free(t->user_meta);
	free(t->headers);
	free(t->tags);
}

/* The optional attribute fields shared by object/setattr and object/copy
 * (replace); *any says whether one was given. "{}" clears a JSON field. */
static int
g_attrs(struct rq *r, struct meta_attrs *a, struct attr_texts *t, int *any)
{
	static const struct meta_attrs keep = META_ATTRS_KEEP;

	*a = keep;
	memset(t, 0, sizeof(*t));
	if (g_int(r, r->j, "mode", 0, 0, UINT32_MAX, &a->mode) ||
	    g_int(r, r->j, "uid", 0, 0, UINT32_MAX, &a->uid) ||
	    g_int(r, r->j, "gid", 0, 0, UINT32_MAX, &a->gid) ||
	    g_int(r, r->j, "mtime_ms", 0, 0, INT64_MAX, &a->mtime_ms) ||
	    g_str(r, r->j, "content_type", 0, META_CTYPE_MAX, &a->ctype) ||
	    g_objtext(r, r->j, "user_meta", &t->user_meta) ||
	    g_objtext(r, r->j, "headers", &t->headers) ||
	    g_objtext(r, r->j, "tags", &t->tags))
		return -1;
#define CLEAR_EMPTY(x) ((x) == NULL ? NULL : strcmp((x), "{}") == 0 ? "" : (x))
	a->user_meta = CLEAR_EMPTY(t->user_meta);
	a->headers = CLEAR_EMPTY(t->headers);
	a->tags = CLEAR_EMPTY(t->tags);
#undef CLEAR_EMPTY
	*any = a->mode >= 0 || a->uid >= 0 || a->gid >= 0 ||
	    a->mtime_ms >= 0 || a->ctype != NULL || a->user_meta != NULL ||
	    a->headers != NULL || a->tags != NULL;
	return 0;
}

/* object/setattr waits for its commit on the loop thread, as object/put. */
struct setattr_job {
	struct meta_attrs	 a;
	struct attr_texts	 t;
	struct meta_object	 o;
	int64_t			 ifv, nseq[2];
};

static void
setattr_job_free(void *job)
{
	struct setattr_job *sj = job;

	attr_texts_free(&sj->t);
	meta_object_clear(&sj->o);
	free(sj);
}

static void
object_setattr_finish(struct rq *r)
{
	struct setattr_job	*sj = r->job;
	struct meta_object	*o = &sj->o;

	if (r->job_rc != ARK_OK)
		reply_write_rc(r, r->job_rc, sj->ifv, "object");
	else
		reply_json(r, 200, json_pack("{s:I, s:I, s:s, s:I, s:I, s:I, "
		    "s:I, s:[I, I]}", "version", (json_int_t)o->version, "size",
		    (json_int_t)o->size, "etag", o->etag, "mode",
		    (json_int_t)o->mode, "uid", (json_int_t)o->uid, "gid",
		    (json_int_t)o->gid, "mtime_ms", (json_int_t)o->mtime_ms,
		    "nseq", (json_int_t)sj->nseq[0], (json_int_t)sj->nseq[1]));
}

static void
h_object_setattr(struct rq *r)
{
	static const char *const allowed[] = { "bucket", "key", "mode", "uid",
	    "gid", "mtime_ms", "content_type", "user_meta", "headers", "tags",
	    "if_version", "durable", NULL };
	struct setattr_job	*sj = ark_xcalloc(1, sizeof(*sj));
	const char		*bucket, *key;
	bool			 durable = true;
	int			 any;
	enum ark_err		 rc;

	if (keys_ok(r, r->j, allowed, "") || g_str(r, r->j, "bucket", 1,
	    META_BUCKET_MAX, &bucket) || g_str(r, r->j, "key", 1,
	    META_OBJKEY_MAX, &key) || g_attrs(r, &sj->a, &sj->t, &any) ||
	    g_if_version(r, &sj->ifv) || g_bool(r, r->j, "durable", &durable) ||
	    need_bucket(r, bucket, 1)) {
		setattr_job_free(sj);
		return;
	}
	rq_defer(r, sj, setattr_job_free, object_setattr_finish);
	if ((rc = meta_object_setattr_async(r->a->m, bucket, key, &sj->a,
	    sj->ifv, &sj->o, sj->nseq, !durable, rq_committed, r)) != ARK_OK)
		rq_committed(r, rc);
}

/* copy of a key (prefix = 0), copy or rename of a prefix (prefix = 1) */
static void
move_common(struct rq *r, int prefix, int rename)
{
	static const char *const callowed[] = { "src_bucket", "src_key",
	    "bucket", "key", "noreplace", "mode", "uid", "gid", "mtime_ms",
	    "content_type", "user_meta", "headers", "tags", "if_version",
	    NULL };
	static const char *const pallowed[] = { "src_bucket", "src_prefix",
	    "bucket", "prefix", "noreplace", NULL };
	const char	*sb, *sk, *db, *dk;
	bool		 noreplace = false;
	unsigned	 flags;
	struct meta_attrs a;
	struct attr_texts t;
	int		 any = 0;
	uint64_t	 n = 0;
	int64_t		 v = 0, ifv = META_ANY;
	enum ark_err	 rc;

	memset(&t, 0, sizeof(t));
	if (keys_ok(r, r->j, prefix ? pallowed : callowed, "") ||
	    g_str(r, r->j, "src_bucket", 1, META_BUCKET_MAX, &sb) ||
	    g_str(r, r->j, prefix ? "src_prefix" : "src_key", 1,
	    META_OBJKEY_MAX, &sk) ||
	    g_str(r, r->j, "bucket", 1, META_BUCKET_MAX, &db) ||
	    g_str(r, r->j, prefix ? "prefix" : "key", !prefix,
	    META_OBJKEY_MAX, &dk) ||
	    g_bool(r, r->j, "noreplace", &noreplace) ||
	    (!prefix && (g_attrs(r, &a, &t, &any) || g_if_version(r, &ifv))) ||
	    need_bucket(r, sb, rename) || need_bucket(r, db, 1))
		goto out;
	if (prefix && dk == NULL)
		dk = "";
	flags = noreplace ? META_NOREPLACE : 0;
	if (prefix)
		rc = rename ? meta_prefix_rename(r->a->m, sb, sk, db, dk,
		    flags, &n) : meta_prefix_copy(r->a->m, sb, sk, db, dk,
		    flags, &n);
	else
		rc = meta_object_copy(r->a->m, sb, sk, db, dk, flags,
		    any ? &a : NULL, ifv, &v);
	if (rc == ARK_EEXIST && ifv == META_ANY)
		reply_err(r, 409, "exists", "destination exists (noreplace)",
		    prefix ? "prefix" : "key");
	else if (rc == ARK_EINVAL && prefix)
		reply_err(r, 400, "invalid", "source and destination prefixes "
		    "overlap, or a resulting key is too long", "prefix");
	else if (rc != ARK_OK)
		reply_write_rc(r, rc, ifv, rename ? "rename" : "copy");
	else if (prefix)
		reply_json(r, 200, json_pack("{s:I}", "count", (json_int_t)n));
	else
		reply_json(r, 200, json_pack("{s:I}", "version", (json_int_t)v));
out:
	attr_texts_free(&t);
}

static void
h_object_copy(struct rq *r)
{
	move_common(r, 0, 0);
}

static void
object_rename_finish(struct rq *r)
{
	int64_t *nseq = r->job;

	if (r->job_rc == ARK_EEXIST)
		reply_err(r, 409, "exists", "destination exists (noreplace)",
		    "key");
	else if (r->job_rc != ARK_OK)
		reply_rc(r, r->job_rc, "rename");
	else if (nseq[0] > 0)
		reply_json(r, 200, json_pack("{s:[I, I]}", "nseq",
		    (json_int_t)nseq[0], (json_int_t)nseq[1]));
	else
		reply_ok(r);	/* between buckets */
}

/* object/rename waits for its commit on the loop thread, as object/put. */
static void
h_object_rename(struct rq *r)
{
	static const char *const allowed[] = { "src_bucket", "src_key",
	    "bucket", "key", "noreplace", "exchange", "durable", NULL };
	const char	*sb, *sk, *db, *dk;
	bool		 noreplace = false, exchange = false, durable = true;
	int64_t		*nseq;
	enum ark_err	 rc;

	if (keys_ok(r, r->j, allowed, "") ||
	    g_str(r, r->j, "src_bucket", 1, META_BUCKET_MAX, &sb) ||
	    g_str(r, r->j, "src_key", 1, META_OBJKEY_MAX, &sk) ||
	    g_str(r, r->j, "bucket", 1, META_BUCKET_MAX, &db) ||
	    g_str(r, r->j, "key", 1, META_OBJKEY_MAX, &dk) ||
	    g_bool(r, r->j, "noreplace", &noreplace) ||
	    g_bool(r, r->j, "exchange", &exchange) ||
	    g_bool(r, r->j, "durable", &durable) ||
	    need_bucket(r, sb, 1) || need_bucket(r, db, 1))
		return;
	if (exchange && noreplace) {
		snprintf(r->je.msg, sizeof(r->je.msg), "field \"exchange\": "
		    "not with noreplace");
		bad_field(r, "exchange", ARK_EINVAL);
		return;
	}
	nseq = ark_xcalloc(2, sizeof(*nseq));
	rq_defer(r, nseq, free, object_rename_finish);
	if ((rc = meta_object_rename_async(r->a->m, sb, sk, db, dk,
	    (noreplace ? META_NOREPLACE : 0) | (exchange ? META_EXCHANGE : 0),
	    nseq, !durable, rq_committed, r)) != ARK_OK)
		rq_committed(r, rc);
}

static void
h_prefix_copy(struct rq *r)
{
	move_common(r, 1, 0);
}

static void
h_prefix_rename(struct rq *r)
{
	move_common(r, 1, 1);
}

static void
h_list(struct rq *r)
{
	static const char *const allowed[] = { "bucket", "prefix", "delimiter",
	    "start_after", "token", "max_keys", "rows", NULL };
	struct meta_list_req	 q;
	struct list_ctx		 l;
	int64_t			 max = 1000;
	bool			 rows = false;
	char			*next = NULL;
	json_t			*out;
	enum ark_err		 rc;

	memset(&q, 0, sizeof(q));
	if (keys_ok(r, r->j, allowed, "") || g_str(r, r->j, "bucket", 1,
	    META_BUCKET_MAX, &q.bucket) || g_str(r, r->j, "prefix", 0,
	    META_OBJKEY_MAX, &q.prefix) || g_str(r, r->j, "delimiter", 0, 16,
	    &q.delimiter) || g_str(r, r->j, "start_after", 0, META_OBJKEY_MAX,
	    &q.start_after) || g_str(r, r->j, "token", 0, META_OBJKEY_MAX,
	    &q.token) || g_int(r, r->j, "max_keys", 0, 1, 10000, &max) ||
	    g_bool(r, r->j, "rows", &rows) || need_bucket(r, q.bucket, 0))
		return;
	q.max_keys = (unsigned)max;
	l.rows = rows;
	l.keys = json_array();
	l.prefixes = json_array();
	if ((rc = meta_list(r->a->m, &q, list_cb, &l, &next)) != ARK_OK) {
		json_decref(l.keys);
		json_decref(l.prefixes);
		reply_rc(r, rc, "list");
		return;
	}
	out = json_pack("{s:o, s:o, s:b}", rows ? "rows" : "keys", l.keys,
	    "prefixes", l.prefixes, "truncated", next != NULL);
	if (next != NULL)
		json_object_set_new(out, "next_token", json_string(next));
	free(next);
	reply_json(r, 200, out);
}

/* ---- multipart uploads ---- */

/* Loads the upload and checks the caller may write its bucket. A
 * "bucket" or "key" given with the id must be the upload's (S3 names an
 * upload by all three): another key's upload is missing (404), before
 * the access check could tell that it exists. */
static int
need_upload(struct rq *r, const char **id, struct meta_upload *u)
{
	const char *bucket = NULL, *key = NULL;
	enum ark_err rc;

	if (g_str(r, r->j, "upload_id", 1, META_ID_MAX, id) ||
	    g_str(r, r->j, "bucket", 0, META_BUCKET_MAX, &bucket) ||
	    g_str(r, r->j, "key", 0, META_OBJKEY_MAX, &key))
		return -1;
	if ((rc = meta_upload_get(r->a->m, *id, u)) != ARK_OK) {
		reply_err(r, 404, "no_such_upload", "no such upload",
		    "upload_id");
		return -1;
	}
	if ((bucket != NULL && strcmp(bucket, u->bucket) != 0) ||
	    (key != NULL && strcmp(key, u->key) != 0)) {
		meta_upload_clear(u);
		reply_err(r, 404, "no_such_upload", "no such upload",
		    "upload_id");
		return -1;
	}
	if (need_bucket(r, u->bucket, 1) != 0) {
		meta_upload_clear(u);
		return -1;
	}
	return 0;
}

static void
h_mp_create(struct rq *r)
{
	static const char *const allowed[] = { "bucket", "key", "content_type",
	    "user_meta", "headers", "checksum_algorithm", "checksum_type",
	    NULL };
	static const char *const algs[] = { "CRC32", "CRC32C", "CRC64NVME",
	    "SHA1", "SHA256", NULL };
	static const char *const types[] = { "COMPOSITE", "FULL_OBJECT",
	    NULL };
	const char	*bucket, *key, *ctype = "", *alg = NULL, *type = NULL;
	char		*umeta = NULL, *hdrs = NULL, id[META_ID_MAX + 1];
	enum ark_err	 rc;

	if (keys_ok(r, r->j, allowed, "") || g_str(r, r->j, "bucket", 1,
	    META_BUCKET_MAX, &bucket) || g_str(r, r->j, "key", 1,
	    META_OBJKEY_MAX, &key) || g_str(r, r->j, "content_type", 0,
	    META_CTYPE_MAX, &ctype) || g_objtext(r, r->j, "user_meta", &umeta)
	    || g_objtext(r, r->j, "headers", &hdrs) ||
	    g_enum(r, r->j, "checksum_algorithm", algs, &alg) ||
	    g_enum(r, r->j, "checksum_type", types, &type))
		goto out;
	if (type != NULL && alg == NULL) {
		snprintf(r->je.msg, sizeof(r->je.msg), "field \"checksum_type\""
		    ": needs checksum_algorithm");
		bad_field(r, "checksum_type", ARK_EINVAL);
		goto out;
	}
	if (need_bucket(r, bucket, 1))
		goto out;
	if ((rc = meta_upload_create(r->a->m, bucket, key, ctype, umeta, hdrs,
	    alg, type, id)) != ARK_OK)
		reply_rc(r, rc, "upload");
	else
		reply_json(r, 200, json_pack("{s:s}", "upload_id", id));
out:
	free(umeta);
	free(hdrs);
}

static void
h_mp_part(struct rq *r)
{
	static const char *const allowed[] = { "upload_id", "number", "size",
	    "etag", "checksums", "fragments", NULL };
	struct meta_upload	 u;
	struct meta_part	 p;
	const char		*id, *etag = "";
	char			*cks = NULL;
	int64_t			 num, size;
	enum ark_err		 rc;

	memset(&p, 0, sizeof(p));
	if (keys_ok(r, r->j, allowed, "") || g_int(r, r->j, "number", 1, 1,
	    10000, &num) || g_int(r, r->j, "size", 1, 0, INT64_MAX, &size) ||
	    g_str(r, r->j, "etag", 0, META_ETAG_MAX, &etag) ||
	    g_objtext(r, r->j, "checksums", &cks) ||
	    g_frags(r, r->j, size, &p.frags, &p.nfrags))
		goto out;
	if (cks != NULL && strlen(cks) > META_PART_CKSUMS_MAX) {
		snprintf(r->je.msg, sizeof(r->je.msg), "field \"checksums\": "
		    "longer than %d bytes", META_PART_CKSUMS_MAX);
		bad_field(r, "checksums", ARK_EINVAL);
		goto out;
	}
	p.checksums = cks;
	if (need_upload(r, &id, &u) != 0)
		goto out;
	meta_upload_clear(&u);
	p.number = (unsigned)num;
	p.size = (uint64_t)size;
	snprintf(p.etag, sizeof(p.etag), "%s", etag);
	if ((rc = meta_part_put(r->a->m, id, &p)) != ARK_OK)
		reply_write_rc(r, rc, META_ANY, "part");
	else
		reply_ok(r);
out:
	free(cks);
	free(p.frags);
}

static int
part_cb(void *arg, const struct meta_part *p)
{
	json_t *e = json_pack("{s:I, s:I, s:s, s:I, s:I}",
	    "number", (json_int_t)p->number, "size", (json_int_t)p->size,
	    "etag", p->etag, "created_ms", (json_int_t)p->created_ms,
	    "fragments", (json_int_t)p->nfrags);

	if (p->checksums != NULL)
		json_object_set_new(e, "checksums", objtext_json(p->checksums));
	json_array_append_new(arg, e);
	return 0;
}

/* The upload's declared checksum, when it has one, into j. */
static void
upload_cksum_json(json_t *j, const struct meta_upload *u)
{
	if (u->cksum_alg[0] != '\0')
		json_object_set_new(j, "checksum_algorithm",
		    json_string(u->cksum_alg));
	if (u->cksum_type[0] != '\0')
		json_object_set_new(j, "checksum_type",
		    json_string(u->cksum_type));
}

static void
h_mp_get(struct rq *r)
{
	static const char *const allowed[] = { "upload_id", NULL };
	struct meta_upload	 u;
	const char		*id;
	json_t			*j;

	if (keys_ok(r, r->j, allowed, "") || need_upload(r, &id, &u))
		return;
	j = json_pack("{s:s, s:s, s:s, s:s, s:I}", "upload_id", id,
	    "bucket", u.bucket, "key", u.key, "content_type", u.ctype,
	    "created_ms", (json_int_t)u.created_ms);
	upload_cksum_json(j, &u);
	reply_json(r, 200, j);
	meta_upload_clear(&u);
}

static void
h_mp_parts(struct rq *r)
{
	static const char *const allowed[] = { "upload_id", NULL };
	struct meta_upload	 u;
	const char		*id;
	json_t			*a;
	enum ark_err		 rc;

	if (keys_ok(r, r->j, allowed, "") || need_upload(r, &id, &u))
		return;
	a = json_array();
	if ((rc = meta_part_list(r->a->m, id, part_cb, a)) != ARK_OK) {
		json_decref(a);
		reply_rc(r, rc, "parts");
	} else {
		json_t *j = json_pack("{s:s, s:s, s:s, s:o}", "upload_id", id,
		    "bucket", u.bucket, "key", u.key, "parts", a);

		upload_cksum_json(j, &u);
		reply_json(r, 200, j);
	}
	meta_upload_clear(&u);
}

struct uploads_ctx {
	json_t		*a;
	const char	*key_marker, *id_marker;
	int		 past;		/* beyond the markers */
	unsigned	 max, n;
	int		 truncated;
};

static int
upload_cb(void *arg, const struct meta_upload *u)
{
	struct uploads_ctx *x = arg;

	if (!x->past && x->key_marker != NULL &&
	    strcmp(u->key, x->key_marker) == 0) {
		/* S3: with only a key marker, that key's uploads are done;
		 * with an upload id marker, the ones after it follow. */
		if (x->id_marker != NULL && strcmp(u->id, x->id_marker) == 0)
			x->past = 1;
		return 0;
	}
	x->past = 1;
	if (x->n == x->max) {
		x->truncated = 1;
		return 1;
	}
	x->n++;
	json_array_append_new(x->a, json_pack("{s:s, s:s, s:I}", "upload_id",
	    u->id, "key", u->key, "created_ms", (json_int_t)u->created_ms));
	return 0;
}

static void
h_mp_list(struct rq *r)
{
	static const char *const allowed[] = { "bucket", "prefix",
	    "key_marker", "upload_id_marker", "max_uploads", NULL };
	struct uploads_ctx	 x;
	const char		*bucket, *prefix = NULL;
	int64_t			 max = 1000;
	enum ark_err		 rc;

	memset(&x, 0, sizeof(x));
	if (keys_ok(r, r->j, allowed, "") || g_str(r, r->j, "bucket", 1,
	    META_BUCKET_MAX, &bucket) || g_str(r, r->j, "prefix", 0,
	    META_OBJKEY_MAX, &prefix) || g_str(r, r->j, "key_marker", 0,
	    META_OBJKEY_MAX, &x.key_marker) || g_str(r, r->j,
	    "upload_id_marker", 0, META_ID_MAX, &x.id_marker) ||
	    g_int(r, r->j, "max_uploads", 0, 1, 1000, &max) ||
	    need_bucket(r, bucket, 0))
		return;
	x.a = json_array();
	x.max = (unsigned)max;
	if ((rc = meta_upload_list(r->a->m, bucket, prefix, x.key_marker,
	    upload_cb, &x)) != ARK_OK) {
		json_decref(x.a);
		reply_rc(r, rc, "uploads");
		return;
	}
	reply_json(r, 200, json_pack("{s:o, s:b}", "uploads", x.a,
	    "truncated", x.truncated));
}

static void
h_mp_complete(struct rq *r)
{
	static const char *const allowed[] = { "upload_id", "parts", "etag",
	    "checksums", "if_version", NULL };
	static const char *const pallowed[] = { "number", "etag", NULL };
	struct meta_upload	 u;
	const char		*id, *etag, **etags = NULL;
	char			*cks = NULL;
	unsigned		*nums = NULL, bad = 0;
	json_t			*arr = NULL, *e;
	int64_t			 num, v, ifv;
	size_t			 i, n;
	char			 where[32];
	enum ark_err		 rc;

	if (keys_ok(r, r->j, allowed, "") || g_str(r, r->j, "etag", 1,
	    META_ETAG_MAX, &etag) || g_if_version(r, &ifv) ||
	    g_objtext(r, r->j, "checksums", &cks))
		return;
	if ((rc = ark_json_get_array(r->j, "parts", 1, 10000, &arr,
	    &r->je)) != ARK_OK) {
		bad_field(r, "parts", rc);
		goto out;
	}
	if ((n = json_array_size(arr)) == 0) {
		snprintf(r->je.msg, sizeof(r->je.msg),
		    "field \"parts\": at least one part");
		bad_field(r, "parts", ARK_EINVAL);
		goto out;
	}
	nums = ark_xcalloc(n, sizeof(*nums));
	etags = ark_xcalloc(n, sizeof(*etags));
	json_array_foreach(arr, i, e) {
		snprintf(where, sizeof(where), "parts[%zu].", i);
		if (!json_is_object(e)) {
			where[strlen(where) - 1] = '\0';
			snprintf(r->je.msg, sizeof(r->je.msg),
			    "%s: expected an object", where);
			bad_field(r, where, ARK_EINVAL);
			goto out;
		}
		if (keys_ok(r, e, pallowed, where))
			goto out;
		if ((rc = ark_json_get_int(e, "number", 1, 1, 10000, &num,
		    &r->je)) != ARK_OK) {
			strcat(where, "number");
			bad_field(r, where, rc);
			goto out;
		}
		etags[i] = "";
		if ((rc = ark_json_get_str(e, "etag", 0, META_ETAG_MAX,
		    &etags[i], &r->je)) != ARK_OK) {
			strcat(where, "etag");
			bad_field(r, where, rc);
			goto out;
		}
		nums[i] = (unsigned)num;
	}
	if (need_upload(r, &id, &u) != 0)
		goto out;
	meta_upload_clear(&u);
	rc = meta_upload_complete(r->a->m, id, nums, etags, n, etag, cks, ifv,
	    &v, &bad);
	if (rc == ARK_EINVAL) {
		char msg[96];

		snprintf(msg, sizeof(msg), "part %u is missing, out of order "
		    "or has another etag", bad);
		reply_err(r, 400, "invalid_part", msg, "parts");
	} else if (rc != ARK_OK)
		reply_write_rc(r, rc, ifv, "complete");
	else
		reply_json(r, 200, json_pack("{s:I}", "version",
		    (json_int_t)v));
out:
	free(cks);
	free(nums);
	free(etags);
}

static void
h_mp_abort(struct rq *r)
{
	static const char *const allowed[] = { "upload_id", "bucket", "key",
	    NULL };
	struct meta_upload	 u;
	const char		*id;
	enum ark_err		 rc;

	if (keys_ok(r, r->j, allowed, "") || need_upload(r, &id, &u))
		return;
	meta_upload_clear(&u);
	if ((rc = meta_upload_abort(r->a->m, id)) != ARK_OK)
		reply_rc(r, rc, "abort");
	else
		reply_ok(r);
}

/* ---- Git LFS (service only: the object server authorises users) ---- */

static void
h_lfs_put(struct rq *r)
{
	static const char *const allowed[] = { "namespace", "oid", "size",
	    "fragments", NULL };
	struct meta_lfs	 o;
	const char	*ns, *oid;
	int64_t		 size;
	enum ark_err	 rc;

	memset(&o, 0, sizeof(o));
	if (keys_ok(r, r->j, allowed, "") || g_str(r, r->j, "namespace", 1,
	    META_PATH_MAX, &ns) || g_str(r, r->j, "oid", 1, META_OID_MAX,
	    &oid) || g_int(r, r->j, "size", 1, 0, INT64_MAX, &size) ||
	    g_frags(r, r->j, size, &o.frags, &o.nfrags))
		goto out;
	o.size = (uint64_t)size;
	if ((rc = meta_lfs_put(r->a->m, ns, oid, &o)) == ARK_EEXIST)
		reply_err(r, 409, "exists", "object already stored", "oid");
	else if (rc != ARK_OK)
		reply_write_rc(r, rc, META_ANY, "lfs object");
	else
		reply_ok(r);
out:
	free(o.frags);
}

static void
h_lfs_get(struct rq *r)
{
	static const char *const allowed[] = { "namespace", "oid", "tokens",
	    NULL };
	struct meta_lfs	 o;
	const char	*ns, *oid;
	bool		 tokens = false;
	enum ark_err	 rc;

	if (keys_ok(r, r->j, allowed, "") || g_str(r, r->j, "namespace", 1,
	    META_PATH_MAX, &ns) || g_str(r, r->j, "oid", 1, META_OID_MAX,
	    &oid) || g_bool(r, r->j, "tokens", &tokens))
		return;
	if ((rc = meta_lfs_get(r->a->m, ns, oid, &o)) != ARK_OK) {
		reply_rc(r, rc, "lfs object");
		return;
	}
	reply_json(r, 200, json_pack("{s:s, s:s, s:I, s:I, s:o}", "namespace",
	    ns, "oid", oid, "size", (json_int_t)o.size, "created_ms",
	    (json_int_t)o.created_ms, "fragments", frags_json(r, o.frags,
	    o.nfrags, tokens)));
	free(o.frags);
}

static void
h_lfs_delete(struct rq *r)
{
	static const char *const allowed[] = { "namespace", "oid", NULL };
	const char	*ns, *oid;
	enum ark_err	 rc;

	if (keys_ok(r, r->j, allowed, "") || g_str(r, r->j, "namespace", 1,
	    META_PATH_MAX, &ns) || g_str(r, r->j, "oid", 1, META_OID_MAX, &oid))
		return;
	if ((rc = meta_lfs_delete(r->a->m, ns, oid)) != ARK_OK)
		reply_rc(r, rc, "lfs object");
	else
		reply_ok(r);
}

static json_t *
lock_json(const struct meta_lock *l)
{
	return json_pack("{s:s, s:s, s:s, s:I}", "id", l->id, "path", l->path,
	    "owner", l->owner, "locked_ms", (json_int_t)l->locked_ms);
}

static void
h_lock_create(struct rq *r)
{
	static const char *const allowed[] = { "namespace", "path", "owner",
	    NULL };
	struct meta_lock	 l;
	const char		*ns, *path, *owner;
	enum ark_err		 rc;

	if (keys_ok(r, r->j, allowed, "") || g_str(r, r->j, "namespace", 1,
	    META_PATH_MAX, &ns) || g_str(r, r->j, "path", 1, META_PATH_MAX,
	    &path) || g_str(r, r->j, "owner", 1, META_USER_MAX, &owner))
		return;
	rc = meta_lock_create(r->a->m, ns, path, owner, &l);
	if (rc == ARK_EEXIST)
		reply_json(r, 409, json_pack("{s:s, s:s, s:o}", "error",
		    "locked", "message", "already locked", "lock",
		    lock_json(&l)));
	else if (rc != ARK_OK)
		reply_rc(r, rc, "lock");
	else
		reply_json(r, 200, json_pack("{s:o}", "lock", lock_json(&l)));
	meta_lock_clear(&l);
}

static int
lock_cb(void *arg, const struct meta_lock *l)
{
	json_array_append_new(arg, lock_json(l));
	return 0;
}

static void
h_lock_list(struct rq *r)
{
	static const char *const allowed[] = { "namespace", "path", "id",
	    "cursor", "limit", NULL };
	const char	*ns, *path = NULL, *id = NULL, *cursor = NULL;
	int64_t		 limit = 100;
	char		*next = NULL;
	json_t		*a, *out;
	enum ark_err	 rc;

	if (keys_ok(r, r->j, allowed, "") || g_str(r, r->j, "namespace", 1,
	    META_PATH_MAX, &ns) || g_str(r, r->j, "path", 0, META_PATH_MAX,
	    &path) || g_str(r, r->j, "id", 0, META_ID_MAX, &id) ||
	    g_str(r, r->j, "cursor", 0, META_ID_MAX, &cursor) ||
	    g_int(r, r->j, "limit", 0, 1, 10000, &limit))
		return;
	a = json_array();
	if ((rc = meta_lock_list(r->a->m, ns, path, id, cursor,
	    (unsigned)limit, lock_cb, a, &next)) != ARK_OK) {
		json_decref(a);
		reply_rc(r, rc, "locks");
		return;
	}
	out = json_pack("{s:o}", "locks", a);
	if (next != NULL)
		json_object_set_new(out, "next_cursor", json_string(next));
	free(next);
	reply_json(r, 200, out);
}

static void
h_lock_delete(struct rq *r)
{
	static const char *const allowed[] = { "namespace", "id", "owner",
	    "force", NULL };
	struct meta_lock	 l;
	const char		*ns, *id, *owner;
	bool			 force = false;
	enum ark_err		 rc;

	memset(&l, 0, sizeof(l));
	if (keys_ok(r, r->j, allowed, "") || g_str(r, r->j, "namespace", 1,
	    META_PATH_MAX, &ns) || g_str(r, r->j, "id", 1, META_ID_MAX, &id) ||
	    g_str(r, r->j, "owner", 1, META_USER_MAX, &owner) ||
	    g_bool(r, r->j, "force", &force))
		return;
	rc = meta_lock_delete(r->a->m, ns, id, owner, force, &l);
	if (rc == ARK_EPERM)
		reply_err(r, 403, "forbidden", "lock owned by another user "
		    "(use force)", "owner");
	else if (rc != ARK_OK)
		reply_rc(r, rc, "lock");
	else
		reply_json(r, 200, json_pack("{s:o}", "lock", lock_json(&l)));
	meta_lock_clear(&l);
}

/* ---- routing ---- */

static const struct route routes[] = {
	{ "/v1/server/heartbeat",	h_heartbeat,	R_SERVICE | R_WRITE },
	{ "/v1/server/list",		h_server_list,	R_SERVICE | R_GET },
	{ "/v1/server/remove",		h_server_remove, R_SERVICE | R_WRITE },
	{ "/v1/group/list",		h_group_list,	R_SERVICE | R_GET },
	{ "/v1/assign",			h_assign,	R_WRITE },
	{ "/v1/lookup",			h_lookup,	R_SERVICE },
	{ "/v1/fid/status",		h_fid_status,	R_SERVICE },
	{ "/v1/stat",			h_stat,		R_GET },
	{ "/v1/gc/run",			h_gc_run,	R_SERVICE },
	{ "/v1/user/create",		h_user_create,	R_WRITE },
	{ "/v1/user/list",		h_user_list,	R_GET },
	{ "/v1/user/delete",		h_user_delete,	R_WRITE },
	{ "/v1/key/create",		h_key_create,	R_WRITE },
	{ "/v1/key/get",		h_key_get,	R_SERVICE },
	{ "/v1/key/list",		h_key_list,	R_GET },
	{ "/v1/key/delete",		h_key_delete,	R_WRITE },
	{ "/v1/bucket/create",		h_bucket_create, R_WRITE },
	{ "/v1/bucket/get",		h_bucket_get,	0 },
	{ "/v1/bucket/acl",		h_bucket_acl,	R_WRITE },
	{ "/v1/bucket/config",		h_bucket_config, R_WRITE },
	{ "/v1/bucket/delete",		h_bucket_delete, R_WRITE },
	{ "/v1/bucket/list",		h_bucket_list,	R_GET },
	{ "/v1/object/get",		h_object_get,	0 },
	{ "/v1/object/gets",		h_object_gets,	0 },
	{ "/v1/object/put",		h_object_put,	R_WRITE | R_ASYNC },
	{ "/v1/object/delete",		h_object_delete, R_WRITE | R_ASYNC },
	{ "/v1/object/deletes",		h_object_deletes, R_WRITE | R_ASYNC },
	{ "/v1/sync",			h_sync,		R_WRITE | R_ASYNC },
	{ "/v1/object/setattr",		h_object_setattr, R_WRITE | R_ASYNC },
	{ "/v1/object/copy",		h_object_copy,	R_WRITE },
	{ "/v1/object/rename",		h_object_rename, R_WRITE | R_ASYNC },
	{ "/v1/prefix/copy",		h_prefix_copy,	R_WRITE },
	{ "/v1/prefix/rename",		h_prefix_rename, R_WRITE },
	{ "/v1/list",			h_list,		0 },
	{ "/v1/multipart/create",	h_mp_create,	R_WRITE },
	{ "/v1/multipart/get",		h_mp_get,	0 },
	{ "/v1/multipart/part",		h_mp_part,	R_WRITE },
	{ "/v1/multipart/parts",	h_mp_parts,	0 },
	{ "/v1/multipart/list",		h_mp_list,	0 },
	{ "/v1/multipart/complete",	h_mp_complete,	R_WRITE },
	{ "/v1/multipart/abort",	h_mp_abort,	R_WRITE },
	{ "/v1/lfs/put",		h_lfs_put,	R_SERVICE | R_WRITE },
	{ "/v1/lfs/get",		h_lfs_get,	R_SERVICE },
	{ "/v1/lfs/delete",		h_lfs_delete,	R_SERVICE | R_WRITE },
	{ "/v1/lock/create",		h_lock_create,	R_SERVICE | R_WRITE },
	{ "/v1/lock/list",		h_lock_list,	R_SERVICE },
	{ "/v1/lock/delete",		h_lock_delete,	R_SERVICE | R_WRITE },
};

static void
rq_free(struct rq *r)
{
	ark_buf_free(&r->body);
	if (r->j != NULL)
		json_decref(r->j);
	OPENSSL_cleanse(&r->key, sizeof(r->key));
	if (r->job_free != NULL)
		r->job_free(r->job);
	free(r->resp);
	free(r);
}

static void
rq_finish(struct ark_http_req *req, enum ark_err why, void *arg)
{
	struct rq *r = arg;

	(void)req;
	(void)why;
	if (r->inpool) {
		r->dead = 1;		/* rq_complete frees it */
		return;
	}
	rq_free(r);
}

/* Back on the loop thread with the pool's answer. */
static void
rq_complete(struct rq *r)
{
	r->inpool = 0;
	if (r->dead) {
		rq_free(r);
		return;
	}
	if (r->finish != NULL) {
		r->finish(r);
		return;
	}
	r->offloaded = 0;
	if (r->resp == NULL)
		ark_http_reply_error(r->req, 500);
	else
		ark_http_reply_simple(r->req, r->status, "application/json",
		    r->resp, r->resp_len);
}

static void
inbox_post(struct inbox *ib, struct rq *r)
{
	uint64_t one = 1;
	int was_empty;

	r->next = NULL;
	pthread_mutex_lock(&ib->mu);
	was_empty = ib->head == NULL;
	if (ib->tail != NULL)
		ib->tail->next = r;
	else
		ib->head = r;
	ib->tail = r;
	pthread_mutex_unlock(&ib->mu);
	if (was_empty && write(ib->efd, &one, sizeof(one)) != sizeof(one))
		ark_fatalx("api: eventfd write failed");
}

/* The loop thread: every answer posted since the last pass. */
static void
inbox_drain(evutil_socket_t fd, short what, void *arg)
{
	struct inbox *ib = arg;
	struct rq *r, *next;
	uint64_t n;

	(void)what;
	pthread_mutex_lock(&ib->mu);
	r = ib->head;
	ib->head = ib->tail = NULL;
	if (fd >= 0 && read(ib->efd, &n, sizeof(n)) < 0)
		(void)0;	/* EAGAIN: a drain already took the count */
	pthread_mutex_unlock(&ib->mu);
	for (; r != NULL; r = next) {
		next = r->next;
		rq_complete(r);
	}
}

static void *
pool_main(void *arg)
{
	struct rq *r;

	(void)arg;
	pthread_mutex_lock(&pool.mu);
	for (;;) {
		while (pool.head == NULL && !pool.stop)
			pthread_cond_wait(&pool.cv, &pool.mu);
		if ((r = pool.head) == NULL)
			break;
		if ((pool.head = r->next) == NULL)
			pool.tail = NULL;
		pthread_mutex_unlock(&pool.mu);
		r->rt->fn(r);
		inbox_post(r->inbox, r);
		atomic_fetch_sub(&pool.inflight, 1);
		pthread_mutex_lock(&pool.mu);
	}
	pthread_mutex_unlock(&pool.mu);
	return NULL;
}

/* An R_ASYNC handler hands its job over: the request stays alive (even
 * if the client goes) until rq_committed posts it back to this loop
 * thread, where finish answers it and job_free frees the job. */
static void
rq_defer(struct rq *r, void *job, void (*job_free)(void *),
    void (*finish)(struct rq *))
{
	r->job = job;
	r->job_free = job_free;
	r->finish = finish;
	r->inpool = 1;
	r->inbox = my_inbox;
	atomic_fetch_add(&pool.inflight, 1);
}

/* The R_ASYNC handler running on this loop thread, if any. */
static _Thread_local struct rq *rq_running;

/* The writer's callback (or the handler's, when nothing was queued).
 * A commit made inline, before the handler returned (a lazy write with
 * the writer idle, or a refusal), is answered by rq_run on the handler's
 * return: no trip through the inbox. */
static void
rq_committed(void *arg, enum ark_err rc)
{
	struct rq *r = arg;

	r->job_rc = rc;
	if (r == rq_running)
		r->done_inline = 1;
	else
		inbox_post(r->inbox, r);
	atomic_fetch_sub(&pool.inflight, 1);
}

static void
pool_submit(struct rq *r)
{
	r->inpool = 1;
	r->offloaded = 1;
	r->inbox = my_inbox;
	r->next = NULL;
	atomic_fetch_add(&pool.inflight, 1);
	pthread_mutex_lock(&pool.mu);
	if (pool.tail != NULL)
		pool.tail->next = r;
	else
		pool.head = r;
	pool.tail = r;
	pthread_cond_signal(&pool.cv);
	pthread_mutex_unlock(&pool.mu);
}

enum ark_err
api_start(struct api *a)
{
	unsigned i;

	pool.n = a->pool_threads > 0 ? a->pool_threads : 64;
	pool.thr = ark_xcalloc(pool.n, sizeof(*pool.thr));
	for (i = 0; i < pool.n; i++)
		if (pthread_create(&pool.thr[i], NULL, pool_main, NULL) != 0) {
			ark_log_error("api: cannot start pool thread %u", i);
			pool.n = i;
			api_stop(a);
			return ARK_EIO;
		}
	return ARK_OK;
}

void
api_stop(struct api *a)
{
	unsigned i;

	(void)a;
	pthread_mutex_lock(&pool.mu);
	pool.stop = 1;
	pthread_cond_broadcast(&pool.cv);
	pthread_mutex_unlock(&pool.mu);
	for (i = 0; i < pool.n; i++)
		pthread_join(pool.thr[i], NULL);
	free(pool.thr);
	pool.thr = NULL;
	pool.n = 0;
	pool.stop = 0;
}

void
api_thread_init(struct event_base *base, unsigned idx, void *arg)
{
	struct inbox *ib = ark_xcalloc(1, sizeof(*ib));

	(void)idx;
	(void)arg;
	pthread_mutex_init(&ib->mu, NULL);
	if ((ib->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		ark_fatal("api: eventfd");
	ib->ev = event_new(base, ib->efd, EV_READ | EV_PERSIST, inbox_drain,
	    ib);
	if (ib->ev == NULL || event_add(ib->ev, NULL) != 0)
		ark_fatalx("api: cannot watch the answer eventfd");
	my_inbox = ib;
}

void
api_thread_fini(struct event_base *base, unsigned idx, void *arg)
{
	struct inbox *ib = my_inbox;
	unsigned n;

	(void)base;
	(void)idx;
	(void)arg;
	/* Requests were aborted; answers still on the pool must land
	 * before the base goes: wait (bounded), then take what was posted. */
	for (n = 0; n < 30000 && atomic_load(&pool.inflight) > 0; n++)
		usleep(1000);
	if (ib == NULL)
		return;
	inbox_drain(-1, 0, ib);
	event_free(ib->ev);
	close(ib->efd);
	pthread_mutex_destroy(&ib->mu);
	free(ib);
	my_inbox = NULL;
}

static void
rq_run(struct rq *r)
{
	if (auth(r) != 0)
		return;
	if ((r->rt->flags & R_SERVICE) && !r->service) {
		reply_err(r, 403, "forbidden", "cluster services only", NULL);
		return;
	}
	if ((r->rt->flags & (R_WRITE | R_ASYNC)) == R_WRITE) {
		pool_submit(r);
		return;
	}
	rq_running = r;
	r->rt->fn(r);
	rq_running = NULL;
	if (r->done_inline)
		rq_complete(r);
}

static void
rq_body(struct ark_http_req *req, const void *data, size_t len, void *arg)
{
	struct rq *r = arg;

	(void)req;
	/* past the cap: the server answers 413 itself (set_max_body) */
	(void)ark_buf_append(&r->body, data, len);
}

static void
rq_end(struct ark_http_req *req, void *arg)
{
	struct rq	*r = arg;
	enum ark_err	 rc;

	(void)req;
	if (ark_buf_len(&r->body) == 0) {
		reply_err(r, 400, "invalid_json", "empty body: send a JSON "
		    "object ({} for none)", NULL);
		return;
	}
	rc = ark_json_parse_object(ark_buf_str(&r->body),
	    ark_buf_len(&r->body), r->a->max_body, &r->j, &r->je);
	if (rc == ARK_ETOOBIG) {
		reply_err(r, 413, "too_big", r->je.msg, NULL);
		return;
	}
	if (rc != ARK_OK) {
		reply_err(r, 400, "invalid_json", r->je.msg, NULL);
		return;
	}
	rq_run(r);
}

void
api_handler(struct ark_http_req *req, void *arg)
{
	struct api		*a = arg;
	const char		*path = ark_http_req_path(req);
	const char		*method = ark_http_req_method(req);
	const struct route	*rt = NULL;
	struct rq		*r;
	size_t			 i;

	for (i = 0; i < ARK_ARRAY_SIZE(routes); i++)
		if (strcmp(routes[i].path, path) == 0) {
			rt = &routes[i];
			break;
		}
	r = ark_xcalloc(1, sizeof(*r));
	r->req = req;
	r->a = a;
	r->rt = rt;
	ark_buf_init(&r->body, a->max_body + 1);
	ark_http_req_on_finish(req, rq_finish, r);
	if (rt == NULL) {
		reply_err(r, 404, "not_found", "no such endpoint", NULL);
		return;
	}
	if (strcmp(method, "GET") == 0 && (rt->flags & R_GET)) {
		r->j = json_object();
		rq_run(r);
		return;
	}
	if (strcmp(method, "POST") != 0) {
		ark_http_resp_header(req, "Allow", (rt->flags & R_GET) ?
		    "GET, POST" : "POST");
		reply_err(r, 405, "method_not_allowed", "use POST", NULL);
		return;
	}
	if (ark_http_req_set_max_body(req, a->max_body) == ARK_ETOOBIG) {
		reply_err(r, 413, "too_big", "request body too large", NULL);
		return;
	}
	ark_http_req_on_body(req, rq_body, rq_end, r);
}
