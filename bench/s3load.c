/*
 * s3load.c - closed-loop load generator for the S3 benchmark: GET or PUT
 * of fixed-size objects, or ListObjectsV2 pages, over a key set, on N
 * keep-alive connections, signed with AWS Signature V4 in the
 * Authorization header (src/object/s3_sigv4 signs) or unsigned for nginx
 * (plain GET, WebDAV PUT). Built on the project's HTTP client
 * (src/common/http_client): one event loop per thread, each thread owning
 * conns/threads connections, each connection carrying one request at a
 * time. Stops after --duration or --count, whichever comes first, lets the
 * requests in flight finish (bounded by --grace), and prints one line:
 * requests/s, MB/s, latency percentiles and its own CPU share (getrusage),
 * so a run shows whether the generator itself was the bottleneck.
 *
 * Keys are <bucket>/<prefix><8-digit index>: PUT walks them in order (a
 * --count of --keys fills the set once), GET and list pick at random.
 * PUT bodies up to 64 MiB are one shared buffer sent by reference; larger
 * ones are streamed from it with back-pressure, so a 4 GiB upload costs
 * the generator 64 MiB.
 */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "common/cfg.h"
#include "common/cksum.h"
#include "common/daemon.h"
#include "common/http_client.h"
#include "common/log.h"
#include "common/util.h"
#include "object/s3_sigv4.h"
#include "object/s3_view.h"

#define SL_WORKER_MAGIC	0x534c574bu	/* "SLWK" */
#define SL_MAX_ERRLOG	5		/* error lines printed */
#define SL_ERRBODY	256		/* bytes of an error body kept */
#define SL_BODY_MAX	((uint64_t)64 << 20)	/* larger PUTs are streamed */
#define SL_EMPTY_SHA256	\
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* ---- latency histogram: log-linear, 64 steps per octave (< 1.6%) ---- */

#define SL_HIST_SUB	64
#define SL_HIST_N	(2 * SL_HIST_SUB + 58 * SL_HIST_SUB)

static unsigned
sl_hist_index(uint64_t v)
{
	unsigned msb;

	if (v < 2 * SL_HIST_SUB)
		return (unsigned)v;
	msb = 63u - (unsigned)__builtin_clzll(v);	/* >= 7 */
	return 2 * SL_HIST_SUB + (msb - 7) * SL_HIST_SUB +
	    (unsigned)((v >> (msb - 6)) - SL_HIST_SUB);
}

/* Middle of bucket i, the value reported for it. */
static uint64_t
sl_hist_value(unsigned i)
{
	unsigned e;

	if (i < 2 * SL_HIST_SUB)
		return i;
	e = (i - 2 * SL_HIST_SUB) / SL_HIST_SUB;
	return ((uint64_t)(SL_HIST_SUB + (i - 2 * SL_HIST_SUB) % SL_HIST_SUB)
	    << (e + 1)) + ((uint64_t)1 << e);
}

/* Value at quantile q (0..1] of the n samples in h, 0 when empty. */
static uint64_t
sl_hist_quantile(const uint64_t *h, uint64_t n, double q)
{
	uint64_t rank = (uint64_t)(q * (double)n + 0.999999), seen = 0;
	unsigned i;

	if (n == 0)
		return 0;
	if (rank < 1)
		rank = 1;
	for (i = 0; i < SL_HIST_N; i++)
		if ((seen += h[i]) >= rank)
			return sl_hist_value(i);
	return sl_hist_value(SL_HIST_N - 1);
}

/* ---- options --------------------------------------------------------- */

enum sl_mode { SL_GET, SL_PUT, SL_LIST };
enum sl_auth { SL_SIGV4, SL_NONE };
enum sl_order { SL_AUTO, SL_RANDOM, SL_SEQ };
enum sl_payload { SL_UNSIGNED, SL_SIGNED };

static const char *const sl_modes[] = { "get", "put", "list", NULL };
static const char *const sl_auths[] = { "sigv4", "none", NULL };
static const char *const sl_orders[] = { "auto", "random", "seq", NULL };
static const char *const sl_payloads[] = { "unsigned", "signed", NULL };

static const char	*opt_url, *opt_access_key, *opt_secret_key;
static const char	*opt_region, *opt_bucket, *opt_prefix;
static int		 opt_mode, opt_auth, opt_order, opt_payload;
static int64_t		 opt_keys, opt_conns, opt_threads, opt_count;
static int64_t		 opt_max_keys, opt_duration_ms, opt_grace_ms;
static uint64_t		 opt_size;

static const struct ark_cfg_opt sl_opts[] = {
	{ "url", 'u', ARK_CFG_STR, "http://127.0.0.1:7480", 0, 0, NULL,
	  "URL", "server to load (http://HOST:PORT)", 0, &opt_url },
	{ "mode", 'm', ARK_CFG_ENUM, "get", 0, 0, sl_modes, NULL,
	  "GET or PUT objects, or list pages (ListObjectsV2)", 0, &opt_mode },
	{ "auth", 'a', ARK_CFG_ENUM, "sigv4", 0, 0, sl_auths, NULL,
	  "sign requests (SigV4 header) or send them plain (nginx)", 0,
	  &opt_auth },
	{ "access-key", 0, ARK_CFG_STR, NULL, 0, 0, NULL, "ID",
	  "access key id (default: $AWS_ACCESS_KEY_ID)", 0, &opt_access_key },
	{ "secret-key", 0, ARK_CFG_STR, NULL, 0, 0, NULL, "SECRET",
	  "secret access key (default: $AWS_SECRET_ACCESS_KEY)", 0,
	  &opt_secret_key },
	{ "region", 0, ARK_CFG_STR, "us-east-1", 0, 0, NULL, "REGION",
	  "region in the signature's scope", 0, &opt_region },
	{ "bucket", 'b', ARK_CFG_STR, "bench", 0, 0, NULL, "NAME",
	  "bucket (first path segment; a directory for nginx)", 0,
	  &opt_bucket },
	{ "prefix", 'p', ARK_CFG_STR, "obj-", 0, 0, NULL, "STR",
	  "key prefix; keys are PREFIX and an 8-digit index", 0,
	  &opt_prefix },
	{ "keys", 'k', ARK_CFG_INT, "1000", 1, 100000000, NULL, "N",
	  "number of keys in the set", 0, &opt_keys },
	{ "size", 's', ARK_CFG_SIZE, "4KiB", 0, (int64_t)64 << 30, NULL,
	  "SIZE", "PUT body size; GET expects this size (0: any)", 0,
	  &opt_size },
	{ "conns", 'c', ARK_CFG_INT, "16", 1, 4096, NULL, "N",
	  "connections, one request in flight on each", 0, &opt_conns },
	{ "threads", 't', ARK_CFG_INT, "1", 1, 64, NULL, "N",
	  "event loop threads sharing the connections", 0, &opt_threads },
	{ "duration", 'd', ARK_CFG_DURATION, "10s", 0, 86400000, NULL, NULL,
	  "stop issuing requests after this long (0: no time bound)", 0,
	  &opt_duration_ms },
	{ "count", 'n', ARK_CFG_INT, "0", 0, (int64_t)1 << 40, NULL, "N",
	  "stop after this many requests (0: no count bound)", 0,
	  &opt_count },
	{ "grace", 0, ARK_CFG_DURATION, "60s", 1000, 3600000, NULL, NULL,
	  "wait at most this long for requests in flight at the end", 0,
	  &opt_grace_ms },
	{ "order", 0, ARK_CFG_ENUM, "auto", 0, 0, sl_orders, NULL,
	  "key order (auto: seq for put, random otherwise)", 0, &opt_order },
	{ "payload", 0, ARK_CFG_ENUM, "unsigned", 0, 0, sl_payloads, NULL,
	  "PUT x-amz-content-sha256: UNSIGNED-PAYLOAD or the body's SHA-256",
	  0, &opt_payload },
	{ "max-keys", 0, ARK_CFG_INT, "1000", 1, 1000, NULL, "N",
	  "keys per list page (each page must return exactly N)", 0,
	  &opt_max_keys },
	{ NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL, 0, NULL },
};

/* ---- run state ------------------------------------------------------- */

static struct ark_url	 g_url;
static char		 g_host[300];		/* Host header value */
static const char	*g_akid, *g_secret;
static char		*g_body;		/* PUT bytes, shared, read-only */
static size_t		 g_body_len;		/* min(size, SL_BODY_MAX) */
static char		 g_payload[65];		/* x-amz-content-sha256 of PUT */
static _Atomic uint64_t	 g_issued;		/* requests started */
static _Atomic uint64_t	 g_seq;			/* next key, seq order */
static _Atomic unsigned	 g_errlog;		/* error lines printed */

struct sl_worker;

struct sl_slot {			/* one connection's request */
	struct sl_worker *w;
	uint64_t	 t0;		/* ns, when issued */
	uint64_t	 got;		/* body bytes */
	uint64_t	 nkeys;		/* "<Key>" seen (list) */
	uint64_t	 sent;		/* streamed PUT body bytes written */
	int		 ended;		/* streamed body ended */
	char		 tail[4];	/* last body bytes (list) */
	size_t		 ntail;
	char		 ebody[SL_ERRBODY];
	size_t		 nebody;
	char		 target[512];
};

struct sl_worker {
	uint32_t	 magic;
	unsigned	 idx;
	pthread_t	 tid;
	struct event_base *base;
	struct ark_http_client *cli;
	struct event	*stop_ev, *grace_ev;
	struct sl_slot	*slots;
	unsigned	 nslots;
	unsigned	 active;
	int		 stopping;
	uint64_t	 rng;
	int64_t		 date_s;
	char		 amz_date[17];
	/* results */
	uint64_t	 ok, errors, unfinished, bytes, keys_listed;
	uint64_t	 hist[SL_HIST_N];
	struct ark_http_client_stats st;
};

static uint64_t
sl_rand(struct sl_worker *w)
{
	uint64_t x = w->rng;		/* xorshift64* */

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	w->rng = x;
	return x * 2685821657736338717ULL;
}

static const char *
sl_amz_date(struct sl_worker *w)
{
	int64_t now = ark_now_s();
	time_t t = (time_t)now;
	struct tm tm;

	if (now != w->date_s) {
		gmtime_r(&t, &tm);
		strftime(w->amz_date, sizeof(w->amz_date), "%Y%m%dT%H%M%SZ",
		    &tm);
		w->date_s = now;
	}
	return w->amz_date;
}

static void
sl_errorf(const char *fmt, ...) ARK_PRINTF(1, 2);

static void
sl_errorf(const char *fmt, ...)
{
	va_list ap;

	if (atomic_fetch_add(&g_errlog, 1) >= SL_MAX_ERRLOG)
		return;
	va_start(ap, fmt);
	fputs("s3load: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void	sl_issue(struct sl_slot *s);
static void	sl_on_done(struct ark_http_creq *r, enum ark_err err,
		    void *arg);

static void
sl_maybe_done(struct sl_worker *w)
{
	if (w->stopping && w->active == 0)
		event_base_loopbreak(w->base);
}

/* Counts "<Key>" in a streamed body: matches inside `d`, and those that
 * straddle the previous piece (its last 4 bytes are kept in tail). */
static void
sl_count_keys(struct sl_slot *s, const char *d, size_t n)
{
	static const char pat[] = "<Key>";
	const size_t plen = sizeof(pat) - 1;
	char edge[8];
	size_t e, i, k;
	const char *p = d, *end = d + n, *m;

	k = ARK_MIN(n, plen - 1);
	memcpy(edge, s->tail, s->ntail);
	memcpy(edge + s->ntail, d, k);
	e = s->ntail + k;
	for (i = 0; i + plen <= e; i++)
		if (memcmp(edge + i, pat, plen) == 0)
			s->nkeys++;
	while (p < end && (m = memmem(p, (size_t)(end - p), pat, plen)) !=
	    NULL) {
		s->nkeys++;
		p = m + plen;
	}
	if (n >= plen - 1) {
		memcpy(s->tail, end - (plen - 1), plen - 1);
		s->ntail = plen - 1;
	} else {
		char t[8];
		size_t keep = ARK_MIN(e, plen - 1);

		memcpy(t, edge + e - keep, keep);
		memcpy(s->tail, t, keep);
		s->ntail = keep;
	}
}

static void
sl_on_body(struct ark_http_creq *r, const void *d, size_t n, void *arg)
{
	struct sl_slot *s = arg;
	size_t k;

	s->got += n;
	s->w->bytes += n;
	if (ark_http_creq_status(r) / 100 != 2) {
		/* Kept for the error line: one line, printable. */
		k = ARK_MIN(n, sizeof(s->ebody) - 1 - s->nebody);
		for (size_t i = 0; i < k; i++) {
			char ch = ((const char *)d)[i];

			s->ebody[s->nebody + i] = ch >= 0x20 && ch < 0x7f ? ch :
			    ' ';
		}
		s->nebody += k;
		s->ebody[s->nebody] = '\0';
	} else if (opt_mode == SL_LIST)
		sl_count_keys(s, d, n);
}

/* Streamed PUT body: the shared buffer over and over until --size. */
static void
sl_on_drain(struct ark_http_creq *r, void *arg)
{
	struct sl_slot *s = arg;
	size_t n;

	while (s->sent < opt_size && ark_http_creq_writable(r)) {
		n = (size_t)ARK_MIN(opt_size - s->sent, (uint64_t)(256 << 10));
		if (ark_http_creq_write(r, g_body + s->sent % g_body_len, n) !=
		    ARK_OK) {
			ark_http_creq_cancel(r);
			sl_on_done(NULL, ARK_ENOMEM, s);	/* counts it */
			return;
		}
		s->sent += n;
	}
	if (s->sent == opt_size && !s->ended) {
		s->ended = 1;
		if (ark_http_creq_end(r) != ARK_OK) {
			ark_http_creq_cancel(r);
			sl_on_done(NULL, ARK_EINVAL, s);
		}
	}
}

static void
sl_on_done(struct ark_http_creq *r, enum ark_err err, void *arg)
{
	struct sl_slot *s = arg;
	struct sl_worker *w = s->w;
	uint64_t lat = ark_mono_ns() - s->t0;
	int status = err == ARK_OK && r != NULL ? ark_http_creq_status(r) : 0;
	const char *method = opt_mode == SL_PUT ? "PUT" : "GET";

	ARK_CHECK(w, SL_WORKER_MAGIC);
	w->active--;
	if (err != ARK_OK) {
		w->errors++;
		sl_errorf("%s %s: %s", method, s->target, ark_strerror(err));
	} else if (status / 100 != 2) {
		w->errors++;
		sl_errorf("%s %s: status %d %.*s", method, s->target, status,
		    (int)s->nebody, s->ebody);
	} else if (opt_mode == SL_GET && opt_size > 0 && s->got != opt_size) {
		w->errors++;
		sl_errorf("GET %s: %" PRIu64 " bytes, want %" PRIu64,
		    s->target, s->got, opt_size);
	} else if (opt_mode == SL_LIST && s->nkeys != (uint64_t)opt_max_keys) {
		w->errors++;
		sl_errorf("list %s: %" PRIu64 " keys, want %" PRId64,
		    s->target, s->nkeys, opt_max_keys);
	} else {
		w->ok++;
		w->keys_listed += s->nkeys;
		w->hist[ARK_MIN(sl_hist_index(lat), SL_HIST_N - 1)]++;
	}
	sl_issue(s);
	sl_maybe_done(w);
}

static uint64_t
sl_next_key(struct sl_worker *w)
{
	uint64_t span = (uint64_t)opt_keys;
	int order = opt_order;

	if (opt_mode == SL_LIST)	/* start-after: a full page follows */
		span = (uint64_t)(opt_keys - opt_max_keys);
	if (order == SL_AUTO)
		order = opt_mode == SL_PUT ? SL_SEQ : SL_RANDOM;
	if (order == SL_SEQ)
		return atomic_fetch_add(&g_seq, 1) % span;
	return sl_rand(w) % span;
}

/* Adds the SigV4 headers for method/path/query (query raw, may be NULL). */
static enum ark_err
sl_sign(struct sl_worker *w, struct ark_http_creq *r, const char *method,
    const char *path, const char *query, const char *payload)
{
	const char *date = sl_amz_date(w);
	const char *kv[] = { "host", g_host, "x-amz-content-sha256", payload,
	    "x-amz-date", date, NULL };
	struct s3_view v;
	char auth[512];
	enum ark_err rc;

	s3_view_init_kv(&v, method, path, query, kv);
	if ((rc = s3_sigv4_sign(&v, g_akid, g_secret, opt_region, date,
	    "host;x-amz-content-sha256;x-amz-date", payload, auth,
	    sizeof(auth))) != ARK_OK)
		return rc;
	if ((rc = ark_http_creq_set_header(r, "x-amz-content-sha256",
	    payload)) != ARK_OK ||
	    (rc = ark_http_creq_set_header(r, "x-amz-date", date)) != ARK_OK)
		return rc;
	return ark_http_creq_set_header(r, "Authorization", auth);
}

static void
sl_issue(struct sl_slot *s)
{
	static const struct ark_http_creq_cbs cbs = { NULL, sl_on_body,
	    sl_on_drain, sl_on_done };
	struct sl_worker *w = s->w;
	struct ark_http_creq *r = NULL;
	struct evbuffer *eb = NULL;
	const char *method = opt_mode == SL_PUT ? "PUT" : "GET";
	char path[160], query[256];
	const char *q = NULL;
	uint64_t key;
	enum ark_err rc;

	if (w->stopping)
		return;
	if (opt_count > 0 && atomic_fetch_add(&g_issued, 1) >=
	    (uint64_t)opt_count) {
		w->stopping = 1;
		return;
	}
	key = sl_next_key(w);
	if (opt_mode == SL_LIST) {
		snprintf(path, sizeof(path), "/%s", opt_bucket);
		snprintf(query, sizeof(query), "list-type=2&max-keys=%" PRId64
		    "&prefix=%s&start-after=%s%08" PRIu64, opt_max_keys,
		    opt_prefix, opt_prefix, key);
		q = query;
		snprintf(s->target, sizeof(s->target), "%s?%s", path, query);
	} else {
		snprintf(path, sizeof(path), "/%s/%s%08" PRIu64, opt_bucket,
		    opt_prefix, key);
		snprintf(s->target, sizeof(s->target), "%s", path);
	}
	s->got = s->nkeys = 0;
	s->ntail = s->nebody = 0;
	if ((rc = ark_http_creq_new(w->cli, method, g_url.host, g_url.port,
	    g_url.tls, s->target, &r)) != ARK_OK ||
	    (rc = ark_http_creq_set_header(r, "Host", g_host)) != ARK_OK)
		goto fail;
	if (opt_auth == SL_SIGV4 && (rc = sl_sign(w, r, method, path, q,
	    opt_mode == SL_PUT ? g_payload : SL_EMPTY_SHA256)) != ARK_OK)
		goto fail;
	s->sent = 0;
	s->ended = 0;
	if (opt_mode == SL_PUT && opt_size > SL_BODY_MAX) {
		if ((rc = ark_http_creq_body_stream(r, (int64_t)opt_size)) !=
		    ARK_OK)
			goto fail;
	} else if (opt_mode == SL_PUT) {
		/* By reference: every request sends the same bytes. */
		if ((eb = evbuffer_new()) == NULL) {
			rc = ARK_ENOMEM;
			goto fail;
		}
		if (opt_size > 0 && evbuffer_add_reference(eb, g_body,
		    (size_t)opt_size, NULL, NULL) != 0) {
			rc = ARK_ENOMEM;
			goto fail;
		}
		if ((rc = ark_http_creq_body_buffer(r, eb)) != ARK_OK)
			goto fail;
		evbuffer_free(eb);
		eb = NULL;
	}
	ark_http_creq_set_cbs(r, &cbs, s);
	s->t0 = ark_mono_ns();
	if ((rc = ark_http_creq_start(r)) != ARK_OK)
		goto fail;
	w->active++;
	return;
fail:
	if (eb != NULL)
		evbuffer_free(eb);
	ark_http_creq_cancel(r);
	sl_errorf("%s %s: cannot start: %s", method, s->target,
	    ark_strerror(rc));
	w->errors++;
	w->stopping = 1;	/* a local failure would only repeat */
}

static void
sl_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sl_worker *w = arg;

	(void)fd;
	(void)what;
	w->stopping = 1;
	sl_maybe_done(w);
}

static void
sl_grace_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sl_worker *w = arg;

	(void)fd;
	(void)what;
	w->unfinished = w->active;
	event_base_loopbreak(w->base);
}

static void *
sl_worker_main(void *arg)
{
	struct sl_worker *w = arg;
	struct ark_http_client_opts co;
	struct timeval tv;
	unsigned i;

	ark_http_client_opts_default(&co);
	co.max_conns_per_host = w->nslots;
	co.max_idle_per_host = w->nslots;
	co.max_idle_total = w->nslots + 8;
	co.io_timeout_ms = 60000;
	co.idle_timeout_ms = 0;
	if ((w->base = ark_http_base_new()) == NULL ||
	    ark_http_client_new(w->base, &co, &w->cli) != ARK_OK) {
		sl_errorf("worker %u: cannot make an event loop", w->idx);
		w->errors++;
		return NULL;
	}
	w->stop_ev = evtimer_new(w->base, sl_stop_cb, w);
	w->grace_ev = evtimer_new(w->base, sl_grace_cb, w);
	if (opt_duration_ms > 0) {
		tv.tv_sec = opt_duration_ms / 1000;
		tv.tv_usec = (opt_duration_ms % 1000) * 1000;
		evtimer_add(w->stop_ev, &tv);
		tv.tv_sec += opt_grace_ms / 1000;
		evtimer_add(w->grace_ev, &tv);
	}
	for (i = 0; i < w->nslots; i++)
		sl_issue(&w->slots[i]);
	if (w->active > 0)
		event_base_dispatch(w->base);
	ark_http_client_stats(w->cli, &w->st);
	ark_http_client_free(w->cli);
	event_free(w->stop_ev);
	event_free(w->grace_ev);
	event_base_free(w->base);
	return NULL;
}

/* Keys and buckets go into paths and queries unescaped. */
static int
sl_plain_name(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		    *s == '.'))
			return 0;
	return 1;
}

static double
sl_tv_s(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static int
sl_setup(void)
{
	const char *why = NULL;
	unsigned char h[32];

	if (ark_url_parse(opt_url, &g_url, &why) != ARK_OK) {
		fprintf(stderr, "s3load: --url %s: %s\n", opt_url, why);
		return -1;
	}
	if (strchr(g_url.host, ':') != NULL)
		snprintf(g_host, sizeof(g_host), "[%s]:%u", g_url.host,
		    g_url.port);
	else
		snprintf(g_host, sizeof(g_host), "%s:%u", g_url.host,
		    g_url.port);
	if (!sl_plain_name(opt_bucket) || !sl_plain_name(opt_prefix) ||
	    opt_bucket[0] == '\0' || strlen(opt_bucket) > 63 ||
	    strlen(opt_prefix) > 64) {
		fprintf(stderr, "s3load: --bucket (at most 63) and --prefix (at "
		    "most 64) take letters, digits, '-', '_' and '.'\n");
		return -1;
	}
	if (opt_duration_ms == 0 && opt_count == 0) {
		fprintf(stderr, "s3load: give --duration or --count\n");
		return -1;
	}
	if (opt_mode == SL_LIST && opt_keys <= opt_max_keys) {
		fprintf(stderr, "s3load: list needs --keys above --max-keys\n");
		return -1;
	}
	if (opt_auth == SL_SIGV4) {
		g_akid = opt_access_key != NULL ? opt_access_key :
		    getenv("AWS_ACCESS_KEY_ID");
		g_secret = opt_secret_key != NULL ? opt_secret_key :
		    getenv("AWS_SECRET_ACCESS_KEY");
		if (g_akid == NULL || g_secret == NULL || *g_akid == '\0' ||
		    *g_secret == '\0') {
			fprintf(stderr, "s3load: sigv4 needs --access-key and "
			    "--secret-key (or AWS_ACCESS_KEY_ID and "
			    "AWS_SECRET_ACCESS_KEY)\n");
			return -1;
		}
	}
	if (opt_mode == SL_PUT) {
		g_body_len = (size_t)ARK_MIN(opt_size, SL_BODY_MAX);
		g_body = ark_xmalloc(g_body_len > 0 ? g_body_len : 1);
		for (size_t i = 0; i < g_body_len; i++)
			g_body[i] = (char)(i * 131 + 7 + (i >> 12));
		if (opt_payload == SL_SIGNED && opt_size > SL_BODY_MAX) {
			fprintf(stderr, "s3load: --payload signed needs --size "
			    "of at most 64MiB\n");
			return -1;
		}
		if (opt_payload == SL_SIGNED) {
			if (ark_hash(ARK_HASH_SHA256, g_body, (size_t)opt_size,
			    h) != ARK_OK) {
				fprintf(stderr, "s3load: SHA-256 failed\n");
				return -1;
			}
			ark_hex_encode(h, 32, g_payload);
		} else
			snprintf(g_payload, sizeof(g_payload),
			    "UNSIGNED-PAYLOAD");
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct ark_cfg *cfg;
	struct sl_worker *ws;
	struct rusage ru0, ru1;
	struct ark_http_client_stats st;
	uint64_t t0, t1, ok = 0, errors = 0, unfinished = 0, bytes = 0;
	uint64_t listed = 0, *hist;
	unsigned nw, i, j, c;
	double secs, cpu;
	int rc = 0;

	cfg = ark_cfg_new("s3load", PACKAGE_VERSION, sl_opts);
	ark_cfg_set_summary(cfg, "Closed-loop load generator for S3 "
	    "(SigV4) and plain HTTP servers.");
	ark_cfg_parse_or_exit(cfg, argc, argv);
	ark_log_init("s3load", ARK_LOG_WARN);
	ark_signals_ignore_pipe();
	if (sl_setup() != 0) {
		ark_url_free(&g_url);
		ark_cfg_free(cfg);
		return 2;
	}

	nw = (unsigned)ARK_MIN(opt_threads, opt_conns);
	ws = ark_xcalloc(nw, sizeof(*ws));
	hist = ark_xcalloc(SL_HIST_N, sizeof(*hist));
	memset(&st, 0, sizeof(st));
	for (i = 0, c = 0; i < nw; i++) {
		ws[i].magic = SL_WORKER_MAGIC;
		ws[i].idx = i;
		ws[i].nslots = (unsigned)(opt_conns / nw +
		    ((unsigned)opt_conns % nw > i ? 1 : 0));
		ws[i].slots = ark_xcalloc(ws[i].nslots, sizeof(*ws[i].slots));
		for (j = 0; j < ws[i].nslots; j++)
			ws[i].slots[j].w = &ws[i];
		ws[i].rng = ark_random_u64() | 1;
		c += ws[i].nslots;
	}
	getrusage(RUSAGE_SELF, &ru0);
	t0 = ark_mono_ns();
	for (i = 0; i < nw; i++)
		if (pthread_create(&ws[i].tid, NULL, sl_worker_main, &ws[i]) !=
		    0)
			ark_fatalx("pthread_create failed");
	for (i = 0; i < nw; i++)
		pthread_join(ws[i].tid, NULL);
	t1 = ark_mono_ns();
	getrusage(RUSAGE_SELF, &ru1);

	for (i = 0; i < nw; i++) {
		ok += ws[i].ok;
		errors += ws[i].errors;
		unfinished += ws[i].unfinished;
		bytes += ws[i].bytes;
		listed += ws[i].keys_listed;
		st.connects += ws[i].st.connects;
		st.reuses += ws[i].st.reuses;
		for (j = 0; j < SL_HIST_N; j++)
			hist[j] += ws[i].hist[j];
		free(ws[i].slots);
	}
	if (opt_mode == SL_PUT)
		bytes = ok * opt_size;
	secs = (double)(t1 - t0) / 1e9;
	cpu = sl_tv_s(&ru1.ru_utime) - sl_tv_s(&ru0.ru_utime) +
	    sl_tv_s(&ru1.ru_stime) - sl_tv_s(&ru0.ru_stime);
	printf("mode=%s auth=%s conns=%u threads=%u size=%" PRIu64
	    " ok=%" PRIu64 " errors=%" PRIu64 " unfinished=%" PRIu64
	    " secs=%.2f req_per_s=%.1f mb_per_s=%.1f p50_ms=%.3f p90_ms=%.3f"
	    " p99_ms=%.3f max_ms=%.3f cpu_pct=%.0f connects=%" PRIu64,
	    sl_modes[opt_mode], sl_auths[opt_auth], c, nw, opt_size, ok,
	    errors, unfinished, secs, (double)ok / secs,
	    (double)bytes / secs / 1e6,
	    (double)sl_hist_quantile(hist, ok, 0.50) / 1e6,
	    (double)sl_hist_quantile(hist, ok, 0.90) / 1e6,
	    (double)sl_hist_quantile(hist, ok, 0.99) / 1e6,
	    (double)sl_hist_quantile(hist, ok, 1.0) / 1e6,
	    100.0 * cpu / secs, st.connects);
	if (opt_mode == SL_LIST)
		printf(" keys_per_page=%.0f", ok ? (double)listed / ok : 0.0);
	printf("\n");
	if (errors > 0 || unfinished > 0 || ok == 0)
		rc = 1;
	free(hist);
	free(ws);
	free(g_body);
	ark_url_free(&g_url);
	ark_cfg_free(cfg);
	return rc;
}
