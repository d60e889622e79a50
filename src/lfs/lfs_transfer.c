/*
 * lfs_transfer.c - arkor-lfs-transfer: the server side of the Git LFS
 * pure-SSH protocol (git-lfs docs/proposals/ssh_adapter.md), run by sshd
 * as "git-lfs-transfer <path> <upload|download>" through a forced
 * command (authorized_keys command= or ForceCommand) or directly.
 *
 * It holds no storage logic: every command becomes a request to
 * arkor-objectd's Git LFS HTTP API (batch, object PUT/GET, verify,
 * locks) for the repository <bucket>/<repo> named by the path, with the
 * access key of the configuration (HTTP Basic), so permissions, SHA-256
 * verification and storage stay in the object server. Object bodies are
 * streamed packet by packet between the ssh channel and the HTTP
 * connection: memory is bounded whatever the object size.
 *
 * One session per process, one command at a time, single-threaded;
 * stdin/stdout carry pkt-lines, logs go to --log-file or stderr.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include <jansson.h>

#include "common/cfg.h"
#include "common/cksum.h"
#include "common/http_client.h"
#include "common/log.h"
#include "common/util.h"
#include "lfs/lfs_pkt.h"

#define LX_LINE_MAX	8192	/* one text packet (lock paths: 4096) */
#define LX_MAX_ARGS	64
#define LX_MAX_LINES	1000	/* batch objects, as the HTTP API */
#define LX_ERRBODY_MAX	4096
#define LX_MEDIA	"application/vnd.git-lfs+json"
/* Total limit of one object body: none in practice (24 days); the
 * client's inactivity timeout still ends a stalled transfer. */
#define LX_XFER_TIMEOUT_MS	INT32_MAX

static const char *const lx_log_values[] = { "error", "warn", "info",
    "debug", NULL };

static const char	*opt_endpoint, *opt_credentials, *opt_log_file;
static const char	*opt_ca_file;
static int64_t		 opt_timeout;
static int		 opt_log_level;

static const struct ark_cfg_opt lx_opts[] = {
	{ "endpoint", 'e', ARK_CFG_STR, NULL, 0, 0, NULL, "URL",
	  "the object server (http[s]://host:port) whose Git LFS API "
	  "serves the transfers", 0, &opt_endpoint },
	{ "credentials", 'c', ARK_CFG_STR, NULL, 0, 0, NULL, "FILE",
	  "access key file (arkorctl key create output); default: "
	  "ARKOR_ACCESS_KEY_ID and ARKOR_SECRET_ACCESS_KEY", 0,
	  &opt_credentials },
	{ "ca-file", 0, ARK_CFG_STR, NULL, 0, 0, NULL, "FILE",
	  "CA certificates for an https endpoint; default: the system's",
	  0, &opt_ca_file },
	{ "timeout", 0, ARK_CFG_DURATION, "60s", 100, 3600000, NULL, NULL,
	  "per API call (batch, verify, locks); object bodies have no "
	  "total limit", 0, &opt_timeout },
	{ "log-file", 0, ARK_CFG_STR, NULL, 0, 0, NULL, "FILE",
	  "append log lines to FILE instead of standard error", 0,
	  &opt_log_file },
	{ "log-level", 0, ARK_CFG_ENUM, "warn", 0, 0, lx_log_values, NULL,
	  "log verbosity", 0, &opt_log_level },
	{ NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL, 0, NULL },
};

enum lx_op { LX_UPLOAD, LX_DOWNLOAD, LX_LOCK };

/* One ssh session. */
struct lx {
	struct lfs_rd	 rd;
	FILE		*out;
	enum lx_op	 op;
	const char	*repo;		/* "<bucket>/<repo>" */
	char		*base;		/* <endpoint>/lfs/<repo>/info/lfs */
	char		*auth;		/* "Basic ..." */
	char		 ua[64];
};

/* A message's text packets (arguments or lines), owned. */
struct lx_list {
	char		*v[LX_MAX_LINES];
	size_t		 n;
	bool		 toolong;	/* a packet over LX_LINE_MAX */
	bool		 toomany;
	bool		 binary;	/* a packet with control bytes */
};

static void
lx_list_free(struct lx_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	l->n = 0;
}

/* A framing error: the stream cannot be resynchronised. Tells the client
 * (it reads a status) and ends the session. */
static void __attribute__((noreturn))
lx_die(struct lx *x, const char *why)
{
	ark_log_warnx("protocol error: %s; closing", why);
	lfs_wr_text(x->out, "status 400");
	lfs_wr_delim(x->out);
	lfs_wr_text(x->out, "protocol error: %s", why);
	lfs_wr_flush(x->out);
	exit(1);
}

static void
lx_next(struct lx *x, struct lfs_pkt *p)
{
	enum ark_err e = lfs_rd_next(&x->rd, p);

	if (e == ARK_EIO) {
		ark_log_warn("read from the ssh channel");
		exit(1);
	}
	if (e != ARK_OK)
		lx_die(x, "bad pkt-line");
	if (p->type == LFS_PKT_EOF) {
		ark_log_info("client closed the connection without quit");
		exit(1);
	}
}

/* Reads text packets into l (max entries) until a delim or flush, which
 * is returned. Oversized or binary packets are flagged, not kept. */
static enum lfs_pkt_type
lx_read_list(struct lx *x, struct lx_list *l, size_t max)
{
	char line[LX_LINE_MAX];
	struct lfs_pkt p;
	enum ark_err e;

	for (;;) {
		lx_next(x, &p);
		if (p.type != LFS_PKT_DATA)
			return p.type;
		if ((e = lfs_pkt_text(&p, line, sizeof(line))) != ARK_OK) {
			if (e == ARK_ETOOBIG)
				l->toolong = true;
			else
				l->binary = true;
			continue;
		}
		if (l->n >= max) {
			l->toomany = true;
			continue;
		}
		l->v[l->n++] = ark_xstrdup(line);
	}
}

/* Skips packets up to and including the next flush. */
static void
lx_drain(struct lx *x)
{
	struct lfs_pkt p;

	do
		lx_next(x, &p);
	while (p.type != LFS_PKT_FLUSH);
}

static const char *
lx_list_bad(const struct lx_list *l)
{
	if (l->toolong)
		return "a line is too long";
	if (l->binary)
		return "a line holds control bytes";
	if (l->toomany)
		return "too many lines";
	return NULL;
}

static void
lx_status_ok(struct lx *x, int code)
{
	lfs_wr_text(x->out, "status %d", code);
	lfs_wr_flush(x->out);
}

static void ARK_PRINTF(3, 4)
lx_status_err(struct lx *x, int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ark_log_info("%s %s: status %d: %s", x->repo,
	    x->op == LX_UPLOAD ? "upload" : x->op == LX_DOWNLOAD ?
	    "download" : "lock", code, msg);
	lfs_wr_text(x->out, "status %d", code);
	lfs_wr_delim(x->out);
	lfs_wr_text(x->out, "%s", msg);
	lfs_wr_flush(x->out);
}

/* ---- HTTP ------------------------------------------------------------------ */

/* Percent-encodes s for a URL query or path segment. Caller frees. */
static char *
lx_urlenc(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *o = ark_xmalloc(strlen(s) * 3 + 1), *q = o;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~')
			*q++ = (char)c;
		else {
			*q++ = '%';
			*q++ = hex[c >> 4];
			*q++ = hex[c & 15];
		}
	}
	*q = '\0';
	return o;
}

/* The message of an LFS error body, or a generic one. Borrowed from j
 * or static. */
static const char *
lx_errmsg(json_t *j, int status)
{
	const char *m = json_string_value(json_object_get(j, "message"));

	if (m != NULL && *m != '\0')
		return m;
	switch (status) {
	case 401: return "the object server refused the access key";
	case 403: return "forbidden";
	case 404: return "not found";
	default: return "object server error";
	}
}

/* Sends one API call: method on base + suffix, with a JSON body (may be
 * NULL; taken: freed here). On ARK_OK *resp holds the answer and *json its parsed
 * body (NULL if not JSON); the caller frees both. On error a status has
 * been sent to the client. */
static enum ark_err
lx_api(struct lx *x, const char *method, const char *suffix, json_t *body,
    struct ark_http_fetch_resp *resp, json_t **json)
{
	struct ark_http_header h[4];
	struct ark_http_fetch_req in;
	char *url, *b = NULL;
	enum ark_err e;
	size_t nh = 0;

	*json = NULL;
	url = ark_xasprintf("%s%s", x->base, suffix);
	h[nh++] = (struct ark_http_header){ "Authorization", x->auth };
	h[nh++] = (struct ark_http_header){ "Accept", LX_MEDIA };
	h[nh++] = (struct ark_http_header){ "User-Agent", x->ua };
	memset(&in, 0, sizeof(in));
	in.method = method;
	in.url = url;
	in.headers = h;
	if (body != NULL) {
		h[nh++] = (struct ark_http_header){ "Content-Type", LX_MEDIA };
		b = json_dumps(body, JSON_COMPACT);
		if (b == NULL)
			ark_fatalx("json_dumps: out of memory");
		in.body = b;
		in.body_len = strlen(b);
		json_decref(body);
	}
	in.nheaders = nh;
	in.timeout_ms = (unsigned)opt_timeout;
	e = ark_http_fetch(&in, resp);
	free(b);
	if (e != ARK_OK) {
		ark_log_warnx("%s %s: %s", method, url, ark_strerror(e));
		lx_status_err(x, 502, "object server unreachable: %s",
		    ark_strerror(e));
		free(url);
		return e;
	}
	ark_log_debug("%s: %s %s: %d", __func__, method, url, resp->status);
	free(url);
	if (resp->body != NULL && resp->body_len > 0)
		*json = json_loadb(resp->body, resp->body_len, 0, NULL);
	return ARK_OK;
}

/* Answers a non-success API status with its message; frees nothing. */
static void
lx_api_err(struct lx *x, const struct ark_http_fetch_resp *r, json_t *j)
{
	int code = r->status >= 400 && r->status <= 599 ? r->status : 502;

	lx_status_err(x, code, "%s", lx_errmsg(j, r->status));
}

/* String member `key` of o, or "" (borrowed). */
static const char *
lx_jstr(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v != NULL ? v : "";
}

static json_t *
lx_ref(const char *refname)
{
	return json_pack("{s:s}", "name", refname);
}

/* ---- batch ----------------------------------------------------------------- */

static void
lx_batch(struct lx *x, struct lx_list *args)
{
	struct ark_http_fetch_resp resp;
	struct lx_list lines = { .n = 0 };
	json_t *req, *objs, *j = NULL, *arr, *o;
	const char *refname, *algo, *bad;
	enum lfs_pkt_type end;
	size_t i;
	bool upload = x->op == LX_UPLOAD;

	/* The arguments were read by the caller up to a delim. */
	end = lx_read_list(x, &lines, LX_MAX_LINES);
	(void)end;			/* always a flush here */
	if (x->op == LX_LOCK) {
		lx_status_err(x, 403, "batch needs an upload or download "
		    "session");
		goto out;
	}
	if ((bad = lx_list_bad(&lines)) != NULL) {
		lx_status_err(x, lines.toomany ? 413 : 400, "batch: %s "
		    "(at most %d objects)", bad, LX_MAX_LINES);
		goto out;
	}
	objs = json_array();
	for (i = 0; i < lines.n; i++) {
		char *sp = strchr(lines.v[i], ' '), *se;
		int64_t size;

		if (sp == NULL) {
			json_decref(objs);
			lx_status_err(x, 400, "batch: bad object line: %.80s",
			    lines.v[i]);
			goto out;
		}
		*sp++ = '\0';
		if ((se = strchr(sp, ' ')) != NULL)	/* key=value extras */
			*se = '\0';
		if (lfs_parse_size(sp, &size) != ARK_OK) {
			json_decref(objs);
			lx_status_err(x, 400, "batch: bad size for %.80s",
			    lines.v[i]);
			goto out;
		}
		json_array_append_new(objs, json_pack("{s:s,s:I}", "oid",
		    lines.v[i], "size", (json_int_t)size));
	}
	algo = lfs_arg_get(args->v, args->n, "hash-algo");
	req = json_pack("{s:s,s:[s],s:s,s:o}", "operation",
	    upload ? "upload" : "download", "transfers", "basic",
	    "hash_algo", algo != NULL ? algo : "sha256", "objects", objs);
	if ((refname = lfs_arg_get(args->v, args->n, "refname")) != NULL)
		json_object_set_new(req, "ref", lx_ref(refname));
	if (lx_api(x, "POST", "/objects/batch", req, &resp, &j) != ARK_OK)
		goto out;
	if (resp.status != 200) {
		lx_api_err(x, &resp, j);
		goto done;
	}
	arr = json_object_get(j, "objects");
	if (!json_is_array(arr)) {
		lx_status_err(x, 502, "batch: the object server's answer has "
		    "no objects");
		goto done;
	}
	/* An upload error (invalid oid or size) fails the batch, since
	 * this protocol has no per-object errors; a download of a missing
	 * object is a noop, as in the reference server, and the client
	 * reports that object. */
	if (upload) {
		json_array_foreach(arr, i, o) {
			json_t *err = json_object_get(o, "error");

			if (err == NULL)
				continue;
			int code = (int)json_integer_value(
			    json_object_get(err, "code"));

			lx_status_err(x, code >= 400 && code <= 599 ? code :
			    422, "%s: %s", lx_jstr(o, "oid"),
			    lx_jstr(err, "message"));
			goto done;
		}
	}
	lfs_wr_text(x->out, "status 200");
	lfs_wr_text(x->out, "hash-algo=sha256");
	lfs_wr_delim(x->out);
	json_array_foreach(arr, i, o) {
		const char *oid = json_string_value(json_object_get(o, "oid"));
		json_int_t sz = json_integer_value(json_object_get(o, "size"));
		json_t *acts = json_object_get(o, "actions");
		const char *act = upload ? "upload" : "download";

		if (oid == NULL || !lfs_oid_valid(oid))
			continue;
		if (json_object_get(acts, act) == NULL)
			act = "noop";
		lfs_wr_text(x->out, "%s %lld %s", oid, (long long)sz, act);
	}
	lfs_wr_flush(x->out);
done:
	json_decref(j);
	ark_http_fetch_resp_free(&resp);
out:
	lx_list_free(&lines);
}

/* ---- put-object ------------------------------------------------------------ */

struct lx_put {
	struct lx	*x;
	int64_t		 size, got;
	const uint8_t	*cur;		/* unread part of the current packet */
	size_t		 curlen;
	bool		 ended;		/* the flush was read */
	const char	*why;		/* the client's data was wrong */
};

/* body_read: hands over the packets' bytes. The last bytes go out only
 * after the flush that must follow them was read, so a body longer than
 * the declared size never completes an upload. */
static enum ark_err
lx_put_read(void *arg, void *buf, size_t cap, size_t *got)
{
	struct lx_put *p = arg;
	struct lfs_pkt pkt;
	size_t n;

	*got = 0;
	if (p->ended)
		return ARK_OK;
	if (p->curlen == 0) {
		lx_next(p->x, &pkt);
		if (pkt.type == LFS_PKT_FLUSH) {
			p->ended = true;
			if (p->got == p->size)
				return ARK_OK;
			p->why = "fewer bytes than the size";
			return ARK_EPROTO;
		}
		if (pkt.type != LFS_PKT_DATA) {
			p->why = "a delim packet inside the data";
			return ARK_EPROTO;
		}
		if ((int64_t)pkt.len > p->size - p->got) {
			p->why = "more bytes than the size";
			return ARK_EPROTO;
		}
		p->cur = pkt.data;
		p->curlen = pkt.len;
	}
	n = ARK_MIN(cap, p->curlen);
	memcpy(buf, p->cur, n);
	p->cur += n;
	p->curlen -= n;
	p->got += (int64_t)n;
	*got = n;
	if (p->got == p->size && p->curlen == 0) {
		lx_next(p->x, &pkt);
		if (pkt.type != LFS_PKT_FLUSH) {
			p->why = pkt.type == LFS_PKT_DATA ?
			    "more bytes than the size" :
			    "a delim packet inside the data";
			return ARK_EPROTO;
		}
		p->ended = true;
	}
	return ARK_OK;
}

static void
lx_put(struct lx *x, const char *oid, struct lx_list *args,
    enum lfs_pkt_type end)
{
	struct ark_http_fetch_resp resp;
	struct ark_http_fetch_req in;
	struct ark_http_header h[4];
	struct lx_put p;
	const char *s;
	json_t *j = NULL;
	char *url;
	enum ark_err e;
	int64_t size;

	memset(&p, 0, sizeof(p));
	if (end != LFS_PKT_DELIM) {
		lx_status_err(x, 400, "put-object: no data section");
		return;
	}
	if (x->op != LX_UPLOAD || !lfs_oid_valid(oid) ||
	    (s = lfs_arg_get(args->v, args->n, "size")) == NULL ||
	    lfs_parse_size(s, &size) != ARK_OK) {
		lx_drain(x);
		if (x->op != LX_UPLOAD)
			lx_status_err(x, 403, "put-object needs an upload "
			    "session");
		else if (!lfs_oid_valid(oid))
			lx_status_err(x, 422, "invalid oid: %.80s", oid);
		else
			lx_status_err(x, 400, "put-object: missing or bad "
			    "size argument");
		return;
	}
	p.x = x;
	p.size = size;
	url = ark_xasprintf("%s/objects/%s", x->base, oid);
	h[0] = (struct ark_http_header){ "Authorization", x->auth };
	h[1] = (struct ark_http_header){ "Content-Type",
	    "application/octet-stream" };
	h[2] = (struct ark_http_header){ "User-Agent", x->ua };
	memset(&in, 0, sizeof(in));
	in.method = "PUT";
	in.url = url;
	in.headers = h;
	in.nheaders = 3;
	in.body_read = lx_put_read;
	in.body_read_arg = &p;
	in.body_stream_len = size;
	in.expect_continue = 1;		/* refusals before the bytes */
	in.timeout_ms = LX_XFER_TIMEOUT_MS;
	e = ark_http_fetch(&in, &resp);
	free(url);
	if (!p.ended)
		lx_drain(x);
	if (p.why != NULL) {
		if (e == ARK_OK)
			ark_http_fetch_resp_free(&resp);
		lx_status_err(x, 400, "put-object %s: %s (size=%lld, %lld "
		    "received); nothing stored", oid, p.why,
		    (long long)size, (long long)p.got);
		return;
	}
	if (e != ARK_OK) {
		lx_status_err(x, 502, "put-object %s: object server: %s", oid,
		    ark_strerror(e));
		return;
	}
	if (resp.status == 200 || resp.status == 201) {
		ark_log_info("%s: stored %s (%lld bytes)", x->repo, oid,
		    (long long)size);
		lx_status_ok(x, 200);
	} else {
		if (resp.body != NULL)
			j = json_loadb(resp.body, resp.body_len, 0, NULL);
		lx_api_err(x, &resp, j);
		json_decref(j);
	}
	ark_http_fetch_resp_free(&resp);
}

/* ---- verify-object ----------------------------------------------------- */

static void
lx_verify(struct lx *x, const char *oid, const char *size_word,
    struct lx_list *args)
{
	struct ark_http_fetch_resp resp;
	const char *s;
	json_t *req, *j;
	int64_t size;

	s = lfs_arg_get(args->v, args->n, "size");
	if (s == NULL)
		s = size_word;		/* "verify-object <oid> <size>" */
	if (x->op != LX_UPLOAD) {
		lx_status_err(x, 403, "verify-object needs an upload "
		    "session");
		return;
	}
	if (!lfs_oid_valid(oid)) {
		lx_status_err(x, 422, "invalid oid: %.80s", oid);
		return;
	}
	if (s == NULL || lfs_parse_size(s, &size) != ARK_OK) {
		lx_status_err(x, 400, "verify-object: missing or bad size");
		return;
	}
	req = json_pack("{s:s,s:I}", "oid", oid, "size", (json_int_t)size);
	if (lx_api(x, "POST", "/verify", req, &resp, &j) != ARK_OK)
		return;
	if (resp.status == 200)
		lx_status_ok(x, 200);
	else
		lx_api_err(x, &resp, j);
	json_decref(j);
	ark_http_fetch_resp_free(&resp);
}

/* ---- get-object ------------------------------------------------------------ */

struct lx_get {
	struct lx	*x;
	struct ark_http_fetch_resp *resp;	/* status/headers set before
						 * the first body piece */
	int64_t		 want, sent;
	bool		 head;		/* "status 200 ... delim" written */
	char		 err[LX_ERRBODY_MAX + 1];
	size_t		 errlen;
};

static void
lx_get_head(struct lx_get *g)
{
	lfs_wr_text(g->x->out, "status 200");
	lfs_wr_text(g->x->out, "size=%lld", (long long)g->want);
	lfs_wr_delim(g->x->out);
	g->head = true;
}

static enum ark_err
lx_get_sink(void *arg, const void *data, size_t len)
{
	struct lx_get *g = arg;
	size_t n;

	if (g->resp->status != 200) {
		n = ARK_MIN(len, LX_ERRBODY_MAX - g->errlen);
		memcpy(g->err + g->errlen, data, n);
		g->errlen += n;
		return ARK_OK;
	}
	if (!g->head) {
		const char *cl = ark_http_resp_hdrs_get(g->resp->hdrs,
		    "Content-Length");
		int64_t v;

		if (cl != NULL && lfs_parse_size(cl, &v) == ARK_OK)
			g->want = v;
		if (g->want < 0)
			return ARK_EPROTO;	/* no size to announce */
		lx_get_head(g);
	}
	if (g->sent + (int64_t)len > g->want)
		return ARK_EPROTO;
	/* A blocking write: the ssh channel's pace is the download's. */
	if (lfs_wr_data(g->x->out, data, len) != ARK_OK)
		return ARK_EIO;
	g->sent += (int64_t)len;
	return ARK_OK;
}

static void
lx_get(struct lx *x, const char *oid, struct lx_list *args)
{
	struct ark_http_fetch_resp resp;
	struct ark_http_fetch_req in;
	struct ark_http_header h[3];
	struct lx_get *g;
	const char *s;
	json_t *j;
	char *url;
	enum ark_err e;
	int64_t size = -1;

	if (x->op != LX_DOWNLOAD) {
		lx_status_err(x, 403, "get-object needs a download session");
		return;
	}
	if (!lfs_oid_valid(oid)) {
		lx_status_err(x, 422, "invalid oid: %.80s", oid);
		return;
	}
	if ((s = lfs_arg_get(args->v, args->n, "size")) != NULL &&
	    lfs_parse_size(s, &size) != ARK_OK) {
		lx_status_err(x, 400, "get-object: bad size argument");
		return;
	}
	g = ark_xcalloc(1, sizeof(*g));
	g->x = x;
	g->resp = &resp;
	g->want = size;
	url = ark_xasprintf("%s/objects/%s", x->base, oid);
	h[0] = (struct ark_http_header){ "Authorization", x->auth };
	h[1] = (struct ark_http_header){ "User-Agent", x->ua };
	memset(&in, 0, sizeof(in));
	in.url = url;
	in.headers = h;
	in.nheaders = 2;
	in.body_sink = lx_get_sink;
	in.body_sink_arg = g;
	in.timeout_ms = LX_XFER_TIMEOUT_MS;
	e = ark_http_fetch(&in, &resp);
	free(url);
	if (g->head) {
		/* The client already has a status 200: a short or failed
		 * body can only end the session (its hash check would
		 * refuse the bytes anyway). */
		if (e != ARK_OK || g->sent != g->want) {
			ark_log_warnx("get-object %s: body ended after %lld of "
			    "%lld bytes: %s", oid, (long long)g->sent,
			    (long long)g->want, ark_strerror(e));
			fflush(x->out);
			exit(1);
		}
		lfs_wr_flush(x->out);
		ark_log_info("%s: sent %s (%lld bytes)", x->repo, oid,
		    (long long)g->sent);
	} else if (e != ARK_OK) {
		lx_status_err(x, 502, "get-object %s: object server: %s", oid,
		    ark_strerror(e));
	} else if (resp.status == 200) {
		/* An empty body: no sink call. */
		g->want = 0;
		lx_get_head(g);
		lfs_wr_flush(x->out);
	} else {
		j = json_loadb(g->err, g->errlen, 0, NULL);
		lx_api_err(x, &resp, j);
		json_decref(j);
	}
	if (e == ARK_OK)
		ark_http_fetch_resp_free(&resp);
	free(g);
}

/* ---- locks ---------------------------------------------------------------- */

/* Writes the id=, path=, locked-at=, ownername= arguments of lock l. */
static void
lx_lock_args(struct lx *x, json_t *l)
{
	json_t *owner = json_object_get(l, "owner");

	lfs_wr_text(x->out, "id=%s", lx_jstr(l, "id"));
	lfs_wr_text(x->out, "path=%s", lx_jstr(l, "path"));
	lfs_wr_text(x->out, "locked-at=%s", lx_jstr(l, "locked_at"));
	lfs_wr_text(x->out, "ownername=%s", lx_jstr(owner, "name"));
}

/* The lock-spec lines of lock l; who is "ours", "theirs" or NULL. */
static void
lx_lock_spec(struct lx *x, json_t *l, const char *who)
{
	const char *id = json_string_value(json_object_get(l, "id"));

	if (id == NULL)
		return;
	lfs_wr_text(x->out, "lock %s", id);
	lfs_wr_text(x->out, "path %s %s", id, lx_jstr(l, "path"));
	lfs_wr_text(x->out, "locked-at %s %s", id, lx_jstr(l, "locked_at"));
	lfs_wr_text(x->out, "ownername %s %s", id,
	    lx_jstr(json_object_get(l, "owner"), "name"));
	if (who != NULL)
		lfs_wr_text(x->out, "owner %s %s", id, who);
}

static void
lx_lock(struct lx *x, struct lx_list *args)
{
	struct ark_http_fetch_resp resp;
	const char *path, *refname;
	json_t *req, *j, *l;

	if ((path = lfs_arg_get(args->v, args->n, "path")) == NULL ||
	    *path == '\0') {
		lx_status_err(x, 400, "lock: missing path argument");
		return;
	}
	req = json_pack("{s:s}", "path", path);
	if ((refname = lfs_arg_get(args->v, args->n, "refname")) != NULL)
		json_object_set_new(req, "ref", lx_ref(refname));
	if (lx_api(x, "POST", "/locks", req, &resp, &j) != ARK_OK)
		return;
	l = json_object_get(j, "lock");
	if ((resp.status == 201 || resp.status == 409) && json_is_object(l)) {
		lfs_wr_text(x->out, "status %d", resp.status);
		lx_lock_args(x, l);
		if (resp.status == 409) {
			lfs_wr_delim(x->out);
			lfs_wr_text(x->out, "%s", lx_errmsg(j, 409));
		}
		lfs_wr_flush(x->out);
	} else
		lx_api_err(x, &resp, j);
	json_decref(j);
	ark_http_fetch_resp_free(&resp);
}

/* list-lock: GET /locks (no owner lines); list-locks (what git-lfs asks
 * to verify locks before a push): POST /locks/verify, ours and theirs. */
static void
lx_list_locks(struct lx *x, struct lx_list *args, bool verify)
{
	static const char *const keys[] = { "path", "id", "cursor", "limit",
	    "refspec" };
	struct ark_http_fetch_resp resp;
	const char *v, *nc;
	json_t *req = NULL, *j, *l;
	char *q = ark_xstrdup(""), *t, *enc;
	enum ark_err e;
	size_t i, k;

	if (verify) {
		req = json_object();
		if ((v = lfs_arg_get(args->v, args->n, "cursor")) != NULL)
			json_object_set_new(req, "cursor", json_string(v));
		if ((v = lfs_arg_get(args->v, args->n, "limit")) != NULL)
			json_object_set_new(req, "limit",
			    json_integer(strtoll(v, NULL, 10)));
		if ((v = lfs_arg_get(args->v, args->n, "refname")) != NULL)
			json_object_set_new(req, "ref", lx_ref(v));
	} else {
		for (k = 0; k < ARK_ARRAY_SIZE(keys); k++) {
			if ((v = lfs_arg_get(args->v, args->n, keys[k])) ==
			    NULL)
				continue;
			enc = lx_urlenc(v);
			t = ark_xasprintf("%s%c%s=%s", q, *q ? '&' : '?',
			    keys[k], enc);
			free(enc);
			free(q);
			q = t;
		}
	}
	t = ark_xasprintf("%s%s", verify ? "/locks/verify" : "/locks", q);
	free(q);
	e = lx_api(x, verify ? "POST" : "GET", t, req, &resp, &j);
	free(t);
	if (e != ARK_OK)
		return;
	if (resp.status != 200) {
		lx_api_err(x, &resp, j);
		goto out;
	}
	lfs_wr_text(x->out, "status 200");
	nc = json_string_value(json_object_get(j, "next_cursor"));
	if (nc != NULL && *nc != '\0')
		lfs_wr_text(x->out, "next-cursor=%s", nc);
	lfs_wr_delim(x->out);
	if (verify) {
		json_array_foreach(json_object_get(j, "ours"), i, l)
			lx_lock_spec(x, l, "ours");
		json_array_foreach(json_object_get(j, "theirs"), i, l)
			lx_lock_spec(x, l, "theirs");
	} else {
		json_array_foreach(json_object_get(j, "locks"), i, l)
			lx_lock_spec(x, l, NULL);
	}
	lfs_wr_flush(x->out);
out:
	json_decref(j);
	ark_http_fetch_resp_free(&resp);
}

static void
lx_unlock(struct lx *x, const char *id, struct lx_list *args)
{
	struct ark_http_fetch_resp resp;
	const char *v;
	json_t *req, *j, *l;
	char *enc, *suffix;
	enum ark_err e;

	if (*id == '\0') {
		lx_status_err(x, 400, "unlock: missing lock id");
		return;
	}
	v = lfs_arg_get(args->v, args->n, "force");
	req = json_pack("{s:b}", "force", v != NULL &&
	    (strcmp(v, "true") == 0 || strcmp(v, "1") == 0));
	if ((v = lfs_arg_get(args->v, args->n, "refname")) != NULL)
		json_object_set_new(req, "ref", lx_ref(v));
	enc = lx_urlenc(id);
	suffix = ark_xasprintf("/locks/%s/unlock", enc);
	free(enc);
	e = lx_api(x, "POST", suffix, req, &resp, &j);
	free(suffix);
	if (e != ARK_OK)
		return;
	l = json_object_get(j, "lock");
	if (resp.status == 200 && json_is_object(l)) {
		lfs_wr_text(x->out, "status 200");
		lx_lock_args(x, l);
		lfs_wr_flush(x->out);
	} else
		lx_api_err(x, &resp, j);
	json_decref(j);
	ark_http_fetch_resp_free(&resp);
}

/* ---- session ------------------------------------------------------------- */

/* Runs commands until quit; returns the exit status. */
static int
lx_session(struct lx *x)
{
	char line[LX_LINE_MAX], *w[4];
	struct lx_list args;
	struct lfs_pkt p;
	enum lfs_pkt_type end;
	const char *bad;
	size_t nw;
	char *s, *sp;

	lfs_wr_text(x->out, "version=1");
	lfs_wr_text(x->out, "locking");
	if (lfs_wr_flush(x->out) != ARK_OK)
		return 1;
	for (;;) {
		lx_next(x, &p);
		if (p.type != LFS_PKT_DATA) {
			lx_status_err(x, 400, "expected a command, got a %s "
			    "packet", p.type == LFS_PKT_FLUSH ? "flush" :
			    "delim");
			continue;
		}
		if (lfs_pkt_text(&p, line, sizeof(line)) != ARK_OK) {
			lx_drain(x);
			lx_status_err(x, 400, "unreadable command");
			continue;
		}
		/* command word and up to three operands */
		nw = 0;
		for (s = line; s != NULL && nw < ARK_ARRAY_SIZE(w); s = sp) {
			if ((sp = strchr(s, ' ')) != NULL)
				*sp++ = '\0';
			w[nw++] = s;
		}
		memset(&args, 0, sizeof(args));
		end = lx_read_list(x, &args, LX_MAX_ARGS);
		if ((bad = lx_list_bad(&args)) != NULL) {
			if (end == LFS_PKT_DELIM)
				lx_drain(x);
			lx_status_err(x, 400, "%s: arguments: %s", w[0], bad);
		} else if (strcmp(w[0], "batch") == 0 && end == LFS_PKT_DELIM)
			lx_batch(x, &args);
		else if (strcmp(w[0], "put-object") == 0 && nw == 2)
			lx_put(x, w[1], &args, end);
		else {
			/* Every other command ends at a flush; a delim
			 * section (lock, as the proposal writes it) is
			 * read and ignored. */
			if (end == LFS_PKT_DELIM)
				lx_drain(x);
			if (strcmp(w[0], "quit") == 0 && nw == 1) {
				lx_list_free(&args);
				lx_status_ok(x, 200);
				return 0;
			} else if (strcmp(w[0], "version") == 0 && nw == 2) {
				if (strcmp(w[1], "1") == 0)
					lx_status_ok(x, 200);
				else
					lx_status_err(x, 400, "unsupported "
					    "version %.20s (this server "
					    "speaks 1)", w[1]);
			} else if (strcmp(w[0], "get-object") == 0 && nw == 2)
				lx_get(x, w[1], &args);
			else if (strcmp(w[0], "verify-object") == 0 &&
			    (nw == 2 || nw == 3))
				lx_verify(x, w[1], nw == 3 ? w[2] : NULL,
				    &args);
			else if (strcmp(w[0], "lock") == 0 && nw == 1)
				lx_lock(x, &args);
			else if (strcmp(w[0], "list-lock") == 0 && nw == 1)
				lx_list_locks(x, &args, false);
			else if (strcmp(w[0], "list-locks") == 0 && nw == 1)
				lx_list_locks(x, &args, true);
			else if (strcmp(w[0], "unlock") == 0 && nw == 2)
				lx_unlock(x, w[1], &args);
			else
				lx_status_err(x, 400, "unknown command or "
				    "bad operands: %.40s", w[0]);
		}
		lx_list_free(&args);
		if (ferror(x->out)) {
			ark_log_warnx("write to the ssh channel failed");
			return 1;
		}
	}
}

/* ---- start-up -------------------------------------------------------------- */

static const char *
lx_basename(const char *s)
{
	const char *b = strrchr(s, '/');

	return b != NULL ? b + 1 : s;
}

int
main(int argc, char **argv)
{
	char *const *pargs;
	char cmdbuf[4096], repo[1100], *words[4], *id = NULL, *secret = NULL;
	char *pair, *b64;
	const char *path, *opname, *orig;
	struct ark_http_client_opts ho;
	struct ark_cfg *cfg;
	struct sigaction sa;
	struct lx x;
	size_t nw, pl;
	enum ark_err e;
	int nargs, rc = 1;

	cfg = ark_cfg_new("arkor-lfs-transfer", PACKAGE_VERSION, lx_opts);
	ark_cfg_set_summary(cfg, "serve the Git LFS pure-SSH protocol "
	    "(git-lfs-transfer) from an Arkor object server");
	ark_cfg_allow_args(cfg, "[git-lfs-transfer] PATH upload|download");
	ark_cfg_parse_or_exit(cfg, argc, argv);
	ark_log_init("arkor-lfs-transfer", (enum ark_log_level)opt_log_level);
	if (opt_log_file != NULL && ark_log_open(opt_log_file) != 0) {
		fprintf(stderr, "arkor-lfs-transfer: %s: %s\n", opt_log_file,
		    strerror(errno));
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	/* The request: argv, or the command the ssh client asked for. */
	pargs = ark_cfg_args(cfg, &nargs);
	if (nargs == 0) {
		orig = getenv("SSH_ORIGINAL_COMMAND");
		if (orig == NULL) {
			fprintf(stderr, "arkor-lfs-transfer: need PATH and "
			    "OPERATION (or SSH_ORIGINAL_COMMAND); see "
			    "--help\n");
			goto out;
		}
		e = lfs_cmdline_split(orig, cmdbuf, sizeof(cmdbuf), words,
		    ARK_ARRAY_SIZE(words), &nw);
		if (e != ARK_OK || nw != 3 ||
		    strcmp(lx_basename(words[0]), "git-lfs-transfer") != 0) {
			ark_log_info("refused ssh command: %.200s", orig);
			fprintf(stderr, "arkor-lfs-transfer: this key only "
			    "serves \"git-lfs-transfer <path> <upload|"
			    "download>\", not: %.200s\n", orig);
			goto out;
		}
		path = words[1];
		opname = words[2];
	} else if (nargs == 2 || (nargs == 3 && strcmp(lx_basename(pargs[0]),
	    "git-lfs-transfer") == 0)) {
		path = pargs[nargs - 2];
		opname = pargs[nargs - 1];
	} else {
		fprintf(stderr, "arkor-lfs-transfer: need PATH and OPERATION; "
		    "see --help\n");
		goto out;
	}

	memset(&x, 0, sizeof(x));
	if (strcmp(opname, "upload") == 0)
		x.op = LX_UPLOAD;
	else if (strcmp(opname, "download") == 0)
		x.op = LX_DOWNLOAD;
	else if (strcmp(opname, "lock") == 0)
		x.op = LX_LOCK;
	else {
		fprintf(stderr, "arkor-lfs-transfer: unknown operation "
		    "\"%.40s\" (upload or download)\n", opname);
		goto out;
	}
	if (lfs_repo_path(path, repo, sizeof(repo)) != ARK_OK) {
		fprintf(stderr, "arkor-lfs-transfer: bad repository path "
		    "\"%.200s\": want <bucket>/<repo>\n", path);
		goto out;
	}
	if (opt_endpoint == NULL) {
		fprintf(stderr, "arkor-lfs-transfer: --endpoint URL of the "
		    "object server is not configured\n");
		goto out;
	}
	if (ark_credentials_get("arkor-lfs-transfer", opt_credentials, &id,
	    &secret) != 0)
		goto out;
	ark_http_client_opts_default(&ho);
	ho.ca_file = opt_ca_file;
	ho.max_idle_per_host = 2;
	ark_http_fetch_configure(&ho);

	pl = strlen(opt_endpoint);
	while (pl > 0 && opt_endpoint[pl - 1] == '/')
		pl--;
	x.base = ark_xasprintf("%.*s/lfs/%s/info/lfs", (int)pl, opt_endpoint,
	    repo);
	{
		struct ark_url u;

		if (ark_url_parse(x.base, &u, NULL) != ARK_OK) {
			fprintf(stderr, "arkor-lfs-transfer: bad --endpoint "
			    "URL: %s\n", opt_endpoint);
			goto out;
		}
		ark_url_free(&u);
	}
	pair = ark_xasprintf("%s:%s", id, secret);
	b64 = ark_xmalloc(ARK_BASE64_LEN(strlen(pair)) + 1);
	ark_base64_encode(pair, strlen(pair), b64, 0);
	x.auth = ark_xasprintf("Basic %s", b64);
	explicit_bzero(pair, strlen(pair));
	free(pair);
	free(b64);
	snprintf(x.ua, sizeof(x.ua), "arkor-lfs-transfer/%s",
	    PACKAGE_VERSION);
	x.repo = repo;
	x.out = stdout;
	lfs_rd_init(&x.rd, STDIN_FILENO);
	ark_log_info("session: %s %s as key %s", repo, opname, id);
	rc = lx_session(&x);
	{
		struct rusage ru;

		/* The peak memory, to see that bodies were streamed. */
		if (getrusage(RUSAGE_SELF, &ru) == 0)
			ark_log_info("session end: %s %s: peak RSS %ld KiB",
			    repo, opname, ru.ru_maxrss);
	}
	free(x.base);
	free(x.auth);
out:
	if (secret != NULL)
		explicit_bzero(secret, strlen(secret));
	free(id);
	free(secret);
	ark_cfg_free(cfg);
	return rc;
}
