/*
 * test_http_client.c - HTTP client against a scripted peer on 127.0.0.1.
 *
 * The peer is a raw-socket server in threads (one per accepted
 * connection) that writes exact wire bytes: split responses, chunked,
 * close-delimited, truncated, malformed, slow readers. It counts accepts so
 * tests can see connection reuse, and hashes uploads so tests can check
 * every byte arrived.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "common/http_client.h"
#include "common/log.h"
#include "common/util.h"

#define FNV0	0xcbf29ce484222325ULL

static uint64_t
fnv(uint64_t h, const void *d, size_t n)
{
	const unsigned char *p = d;

	while (n--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* ---- scripted peer ------------------------------------------------------ */

struct peer;
struct pconn;
typedef void (*peer_fn)(struct peer *, struct pconn *);

#define PEER_MAXCONN	128

struct peer {
	int		 lfd;
	uint16_t	 port;
	pthread_t	 thr;
	peer_fn		 fn;
	atomic_int	 accepts;
	atomic_int	 stop;
	atomic_int	 counter;	/* requests served, all connections */
	pthread_mutex_t	 mu;
	pthread_t	 cthr[PEER_MAXCONN];
	int		 ncthr;
	/* script */
	const char	*const *resps;	/* response per request (cycled) */
	int		 close_after;	/* close after each response */
	unsigned	 slow_us;	/* sleep per 128 KiB read */
	int		 expect_mode;	/* 0: send 100, 1: final, 2: silent */
	/* results */
	atomic_ullong	 up_bytes;
	atomic_ullong	 up_hash;
	atomic_int	 body_seen;	/* bytes after a refused Expect */
	atomic_int	 saw_eof;
	SSL_CTX		*sctx;		/* h_tls */
	atomic_int	 tls_ok;	/* handshakes done */
};

struct pconn {
	struct peer	*p;
	int		 fd;
	int		 idx;
	size_t		 len;
	char		 buf[1 << 17];
};

/* Reads more bytes into c->buf; 0 on EOF, -1 on error or stop. */
static ssize_t
pc_fill(struct pconn *c)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	ssize_t n;
	int i;

	if (c->len == sizeof(c->buf))
		return -1;
	for (i = 0; i < 300; i++) {	/* 30 s at most */
		if (atomic_load(&c->p->stop))
			return -1;
		if (poll(&pfd, 1, 100) > 0)
			break;
	}
	if (i == 300)
		return -1;
	n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
	if (n > 0)
		c->len += (size_t)n;
	return n;
}

static void
pc_consume(struct pconn *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

/* Reads one request head into head (NUL-terminated); returns its length,
 * 0 on EOF before any byte, -1 on error. */
static ssize_t
pc_read_head(struct pconn *c, char *head, size_t cap)
{
	char *e;
	size_t n;
	ssize_t r;

	for (;;) {
		if (c->len > 0 && (e = memmem(c->buf, c->len, "\r\n\r\n", 4))
		    != NULL) {
			n = (size_t)(e - c->buf) + 4;
			if (n >= cap)
				return -1;
			memcpy(head, c->buf, n);
			head[n] = '\0';
			pc_consume(c, n);
			return (ssize_t)n;
		}
		if ((r = pc_fill(c)) <= 0)
			return c->len == 0 && r == 0 ? 0 : -1;
	}
}

static int
pc_read_line(struct pconn *c, char *line, size_t cap)
{
	char *e;
	size_t n;

	for (;;) {
		if (c->len > 0 && (e = memmem(c->buf, c->len, "\r\n", 2)) !=
		    NULL) {
			n = (size_t)(e - c->buf);
			if (n >= cap)
				return -1;
			memcpy(line, c->buf, n);
			line[n] = '\0';
			pc_consume(c, n + 2);
			return 0;
		}
		if (pc_fill(c) <= 0)
			return -1;
	}
}

/* Reads n body bytes, hashing them. */
static int
pc_read_body(struct pconn *c, uint64_t n, uint64_t *count, uint64_t *hash)
{
	size_t take;

	while (n > 0) {
		if (c->len == 0 && pc_fill(c) <= 0)
			return -1;
		take = c->len < n ? c->len : (size_t)n;
		*hash = fnv(*hash, c->buf, take);
		*count += take;
		pc_consume(c, take);
		n -= take;
		if (c->p->slow_us && c->len == 0)
			usleep(c->p->slow_us);
	}
	return 0;
}

static int
pc_read_chunked(struct pconn *c, uint64_t *count, uint64_t *hash)
{
	char line[256];
	unsigned long long sz;

	for (;;) {
		if (pc_read_line(c, line, sizeof(line)) != 0)
			return -1;
		sz = strtoull(line, NULL, 16);
		if (sz == 0)
			break;
		if (pc_read_body(c, sz, count, hash) != 0 ||
		    pc_read_line(c, line, sizeof(line)) != 0 || line[0] != '\0')
			return -1;
	}
	do {		/* trailers */
		if (pc_read_line(c, line, sizeof(line)) != 0)
			return -1;
	} while (line[0] != '\0');
	return 0;
}

static int
pc_send(struct pconn *c, const void *d, size_t n)
{
	const char *p = d;
	ssize_t w;

	while (n > 0) {
		w = send(c->fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
pc_sendf(struct pconn *c, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return pc_send(c, buf, (size_t)n);
}

static const char *
head_get(const char *head, const char *name, char *out, size_t cap)
{
	char pat[128];
	const char *p, *e;
	size_t n;

	snprintf(pat, sizeof(pat), "\r\n%s:", name);
	if ((p = strcasestr(head, pat)) == NULL)
		return NULL;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	e = strstr(p, "\r\n");
	n = (size_t)(e - p) < cap - 1 ? (size_t)(e - p) : cap - 1;
	memcpy(out, p, n);
	out[n] = '\0';
	return out;
}

/* Reads the request body the head announces. */
static int
pc_read_req_body(struct pconn *c, const char *head, uint64_t *count,
    uint64_t *hash)
{
	char v[64];

	*count = 0;
	*hash = FNV0;
	if (head_get(head, "Transfer-Encoding", v, sizeof(v)) != NULL)
		return pc_read_chunked(c, count, hash);
	if (head_get(head, "Content-Length", v, sizeof(v)) != NULL)
		return pc_read_body(c, strtoull(v, NULL, 10), count, hash);
	return 0;
}

static void *
peer_conn_main(void *arg)
{
	struct pconn *c = arg;

	c->p->fn(c->p, c);
	close(c->fd);
	free(c);
	return NULL;
}

static void *
peer_main(void *arg)
{
	struct peer *p = arg;
	struct pollfd pfd = { .fd = p->lfd, .events = POLLIN };
	struct pconn *c;
	int fd, one = 1;

	while (!atomic_load(&p->stop)) {
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		if ((fd = accept(p->lfd, NULL, NULL)) < 0)
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		c->p = p;
		c->fd = fd;
		c->idx = atomic_fetch_add(&p->accepts, 1);
		pthread_mutex_lock(&p->mu);
		if (p->ncthr == PEER_MAXCONN ||
		    pthread_create(&p->cthr[p->ncthr], NULL, peer_conn_main,
		    c) != 0) {
			close(fd);
			free(c);
		} else {
			p->ncthr++;
		}
		pthread_mutex_unlock(&p->mu);
	}
	return NULL;
}

static void
peer_start(struct peer *p, peer_fn fn)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int one = 1;

	p->fn = fn;
	pthread_mutex_init(&p->mu, NULL);
	p->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(p->lfd >= 0);
	setsockopt(p->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(p->lfd, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	assert_int_equal(listen(p->lfd, 64), 0);
	assert_int_equal(getsockname(p->lfd, (struct sockaddr *)&sin, &sl),
	    0);
	p->port = ntohs(sin.sin_port);
	assert_int_equal(pthread_create(&p->thr, NULL, peer_main, p), 0);
}

static void
peer_stop(struct peer *p)
{
	int i;

	atomic_store(&p->stop, 1);
	pthread_join(p->thr, NULL);
	for (i = 0; i < p->ncthr; i++)
		pthread_join(p->cthr[i], NULL);
	close(p->lfd);
	pthread_mutex_destroy(&p->mu);
}

/* Handlers. */

/* Answers each request with the next scripted response. */
static void
h_script(struct peer *p, struct pconn *c)
{
	char head[65536];
	uint64_t n, h;
	const char *resp;
	int i, k;

	for (;;) {
		if (pc_read_head(c, head, sizeof(head)) <= 0)
			return;
		if (pc_read_req_body(c, head, &n, &h) != 0)
			return;
		i = atomic_fetch_add(&p->counter, 1);
		for (k = 0; p->resps[k] != NULL; k++)
			;
		resp = p->resps[i % k];
		if (pc_send(c, resp, strlen(resp)) != 0 || p->close_after)
			return;
	}
}

/* Answers request k with the response split after byte k. */
static void
h_split(struct peer *p, struct pconn *c)
{
	char head[65536];
	const char *resp = p->resps[0];
	size_t len = strlen(resp), k;

	for (;;) {
		if (pc_read_head(c, head, sizeof(head)) <= 0)
			return;
		k = (size_t)atomic_fetch_add(&p->counter, 1) % len;
		if (pc_send(c, resp, k) != 0)
			return;
		usleep(2000);
		if (pc_send(c, resp + k, len - k) != 0)
			return;
	}
}

/* Reads the request and never answers; notes when the client hangs up. */
static void
h_hang(struct peer *p, struct pconn *c)
{
	char head[65536];

	if (pc_read_head(c, head, sizeof(head)) <= 0)
		return;
	atomic_fetch_add(&p->counter, 1);
	while (pc_fill(c) > 0)
		c->len = 0;
	if (!atomic_load(&p->stop))
		atomic_store(&p->saw_eof, 1);
}

/* Reads an upload (honouring Expect per expect_mode) and reports it. */
static void
h_upload(struct peer *p, struct pconn *c)
{
	char head[65536], v[64];
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	uint64_t n, h;
	ssize_t r;

	for (;;) {
		if (pc_read_head(c, head, sizeof(head)) <= 0)
			return;
		atomic_fetch_add(&p->counter, 1);
		if (head_get(head, "Expect", v, sizeof(v)) != NULL) {
			if (p->expect_mode == 0) {
				pc_sendf(c, "HTTP/1.1 100 Continue\r\n\r\n");
			} else if (p->expect_mode == 1) {
				pc_send(c, p->resps[0], strlen(p->resps[0]));
				/* Anything the client still sends is a bug. */
				if (poll(&pfd, 1, 300) > 0 &&
				    (r = read(c->fd, v, sizeof(v))) > 0)
					atomic_fetch_add(&p->body_seen,
					    (int)r);
				atomic_fetch_add(&p->body_seen, (int)c->len);
				return;
			}
		}
		if (pc_read_req_body(c, head, &n, &h) != 0)
			return;
		atomic_store(&p->up_bytes, n);
		atomic_store(&p->up_hash, h);
		if (pc_sendf(c, "HTTP/1.1 200 OK\r\nX-Count: %llu\r\n"
		    "X-Hash: %llx\r\nContent-Length: 0\r\n\r\n",
		    (unsigned long long)n, (unsigned long long)h) != 0)
			return;
	}
}

/* Connection 0 serves one request, then drops the next one unanswered
 * (a keep-alive race); later connections serve normally. */
static void
h_stale(struct peer *p, struct pconn *c)
{
	char head[65536];
	uint64_t n, h;
	int served = 0;

	for (;;) {
		if (pc_read_head(c, head, sizeof(head)) <= 0)
			return;
		if (pc_read_req_body(c, head, &n, &h) != 0)
			return;
		if (c->idx == 0 && served == 1) {
			shutdown(c->fd, SHUT_RDWR);
			return;
		}
		atomic_fetch_add(&p->counter, 1);
		served++;
		if (pc_sendf(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
		    "X-Count: %llu\r\n\r\nok", (unsigned long long)n) != 0)
			return;
	}
}

/* Echoes the request target as the body (for fetch from threads). */
static void
h_echo(struct peer *p, struct pconn *c)
{
	char head[65536], target[1024];
	uint64_t n, h;

	for (;;) {
		if (pc_read_head(c, head, sizeof(head)) <= 0)
			return;
		if (pc_read_req_body(c, head, &n, &h) != 0)
			return;
		atomic_fetch_add(&p->counter, 1);
		if (sscanf(head, "%*s %1023s", target) != 1)
			return;
		if (pc_sendf(c, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
		    "X-Count: %llu\r\nX-Hash: %llx\r\n\r\n%s", strlen(target),
		    (unsigned long long)n, (unsigned long long)h, target) != 0)
			return;
	}
}

/* Reads from a TLS connection, giving up when the peer stops. */
static int
tls_read(struct pconn *c, SSL *s, char *buf, size_t cap)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	int i;

	if (SSL_pending(s) == 0) {
		for (i = 0; i < 300; i++) {
			if (atomic_load(&c->p->stop))
				return -1;
			if (poll(&pfd, 1, 100) > 0)
				break;
		}
		if (i == 300)
			return -1;
	}
	return SSL_read(s, buf, (int)cap);
}

/* TLS server: answers each request "tls". */
static void
h_tls(struct peer *p, struct pconn *c)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
	    "\r\ntls";
	SSL *s = SSL_new(p->sctx);
	int n;

	SSL_set_fd(s, c->fd);
	if (SSL_accept(s) != 1)
		goto out;
	atomic_fetch_add(&p->tls_ok, 1);
	for (;;) {
		while (memmem(c->buf, c->len, "\r\n\r\n", 4) == NULL) {
			if (c->len == sizeof(c->buf) || (n = tls_read(c, s,
			    c->buf + c->len, sizeof(c->buf) - c->len)) <= 0)
				goto out;
			c->len += (size_t)n;
		}
		c->len = 0;	/* GET only: no body */
		if (SSL_write(s, resp, sizeof(resp) - 1) <= 0)
			goto out;
	}
out:
	SSL_free(s);
}

/* A self-signed certificate for 127.0.0.1, written to *path as PEM. */
static SSL_CTX *
tls_server_ctx(char *path, size_t len)
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n;
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	SSL_CTX *ctx;
	FILE *f;
	int fd;

	assert_non_null(pk);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, pk);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"arkor-test", -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name,
	    "IP:127.0.0.1");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
	    "critical,CA:TRUE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(x, pk, EVP_sha256()) > 0);

	snprintf(path, len, "/tmp/arkor-test-ca-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	PEM_write_X509(f, x);
	fclose(f);

	ctx = SSL_CTX_new(TLS_server_method());
	assert_int_equal(SSL_CTX_use_certificate(ctx, x), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(ctx, pk), 1);
	X509_free(x);
	EVP_PKEY_free(pk);
	return ctx;
}

/* ---- client side helpers ------------------------------------------------ */

struct res {
	int		 done;
	enum ark_err	 err;
	int		 status;
	int64_t		 clen;
	int		 heads;
	int		 reused;
	char		 xa[128];
	char		 xcount[32];
	char		 xhash[32];
	char		*body;
	size_t		 len;
	size_t		 cap;
	int		 cancel_in_body;
	int		 callbacks_after_cancel;
	int		 canceled;
};

static void
res_free(struct res *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

static void
copy_hdr(struct ark_http_creq *q, const char *name, char *out, size_t cap)
{
	const char *v = ark_http_creq_resp_header(q, name);

	snprintf(out, cap, "%s", v != NULL ? v : "");
}

static void
cb_head(struct ark_http_creq *q, void *arg)
{
	struct res *r = arg;

	if (r->canceled)
		r->callbacks_after_cancel++;
	r->heads++;
	r->status = ark_http_creq_status(q);
	r->clen = ark_http_creq_resp_content_length(q);
	r->reused = ark_http_creq_reused(q);
	copy_hdr(q, "X-A", r->xa, sizeof(r->xa));
	copy_hdr(q, "X-Count", r->xcount, sizeof(r->xcount));
	copy_hdr(q, "X-Hash", r->xhash, sizeof(r->xhash));
}

static void
cb_body(struct ark_http_creq *q, const void *d, size_t n, void *arg)
{
	struct res *r = arg;

	if (r->canceled)
		r->callbacks_after_cancel++;
	if (r->len + n + 1 > r->cap) {
		r->cap = (r->len + n + 1) * 2;
		r->body = realloc(r->body, r->cap);
	}
	memcpy(r->body + r->len, d, n);
	r->len += n;
	r->body[r->len] = '\0';
	if (r->cancel_in_body) {
		r->canceled = 1;
		ark_http_creq_cancel(q);
		ark_http_creq_cancel(q);	/* twice is harmless in a cb */
	}
}

static void
cb_done(struct ark_http_creq *q, enum ark_err err, void *arg)
{
	struct res *r = arg;

	if (r->canceled)
		r->callbacks_after_cancel++;
	r->done = 1;
	r->err = err;
	if (ark_http_creq_status(q) != 0)
		r->status = ark_http_creq_status(q);
}

static const struct ark_http_creq_cbs res_cbs = {
	.on_head = cb_head,
	.on_body = cb_body,
	.on_done = cb_done,
};

static void
guard_cb(evutil_socket_t fd, short w, void *arg)
{
	*(int *)arg = 1;
}

/* Runs the loop until *flag or ms pass; returns 0 when *flag got set. */
static int
run_until(struct event_base *b, const int *flag, int ms)
{
	int expired = 0;
	struct event *g = evtimer_new(b, guard_cb, &expired);
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(g, &tv);
	while (!*flag && !expired)
		event_base_loop(b, EVLOOP_ONCE);
	event_free(g);
	return *flag ? 0 : -1;
}

static void
run_for(struct event_base *b, int ms)
{
	int never = 0;

	(void)run_until(b, &never, ms);
}

struct env {
	struct event_base *base;
	struct ark_http_client *cl;
	struct ark_http_client_opts o;
	struct peer	 p;
};

static void
env_init(struct env *e, peer_fn fn)
{
	memset(e, 0, sizeof(*e));
	e->base = event_base_new();
	assert_non_null(e->base);
	ark_http_client_opts_default(&e->o);
	e->o.io_timeout_ms = 10000;
	if (fn != NULL)
		peer_start(&e->p, fn);
}

static void
env_client(struct env *e)
{
	assert_int_equal(ark_http_client_new(e->base, &e->o, &e->cl), ARK_OK);
}

static void
env_fini(struct env *e)
{
	ark_http_client_free(e->cl);
	if (e->p.fn != NULL)
		peer_stop(&e->p);
	event_base_free(e->base);
}

/* Sends one request with the default callbacks and waits for it. */
static void
do_req(struct env *e, const char *method, const char *target, struct res *r)
{
	struct ark_http_creq *q;

	memset(r, 0, sizeof(*r));
	assert_int_equal(ark_http_creq_new(e->cl, method, "127.0.0.1",
	    e->p.port, 0, target, &q), ARK_OK);
	ark_http_creq_set_cbs(q, &res_cbs, r);
	assert_int_equal(ark_http_creq_start(q), ARK_OK);
	assert_int_equal(run_until(e->base, &r->done, 20000), 0);
}

static void
one_shot(peer_fn fn, const char *const *resps, int close_after,
    struct res *r)
{
	struct env e;

	env_init(&e, NULL);
	e.p.resps = resps;
	e.p.close_after = close_after;
	peer_start(&e.p, fn);
	env_client(&e);
	do_req(&e, "GET", "/x", r);
	env_fini(&e);
}

/* ---- tests: URL --------------------------------------------------------- */

static void
test_url(void **state)
{
	struct ark_url u;
	const char *why;
	static const char *const bad[] = {
		NULL, "", "ftp://a/", "http:/a", "http://", "http:///x",
		"http://a:0/", "http://a:65536/", "http://a:12x/",
		"http://u@a/", "http://[::1/", "http://[zz]/", "http://[]/",
		"http://a b/", "http://a/b c", "http://a/\x7f",
		"http://a:123456/", "http://a]/",
	};
	size_t i;

	assert_int_equal(ark_url_parse("http://example.com", &u, &why),
	    ARK_OK);
	assert_string_equal(u.host, "example.com");
	assert_int_equal(u.port, 80);
	assert_int_equal(u.tls, 0);
	assert_string_equal(u.target, "/");
	ark_url_free(&u);

	assert_int_equal(ark_url_parse("HTTPS://h.example:8443/a/b?x=1&y#frag",
	    &u, &why), ARK_OK);
	assert_string_equal(u.host, "h.example");
	assert_int_equal(u.port, 8443);
	assert_int_equal(u.tls, 1);
	assert_string_equal(u.target, "/a/b?x=1&y");
	ark_url_free(&u);

	assert_int_equal(ark_url_parse("https://[2001:db8::1]/k", &u, &why),
	    ARK_OK);
	assert_string_equal(u.host, "2001:db8::1");
	assert_int_equal(u.port, 443);
	assert_string_equal(u.target, "/k");
	ark_url_free(&u);

	assert_int_equal(ark_url_parse("http://[::1]:7400?q", &u, &why),
	    ARK_OK);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 7400);
	assert_string_equal(u.target, "/?q");
	ark_url_free(&u);

	assert_int_equal(ark_url_parse("http://10.0.0.1:/p%20q", &u, &why),
	    ARK_OK);
	assert_int_equal(u.port, 80);
	assert_string_equal(u.target, "/p%20q");
	ark_url_free(&u);

	for (i = 0; i < ARK_ARRAY_SIZE(bad); i++) {
		why = NULL;
		assert_int_equal(ark_url_parse(bad[i], &u, &why), ARK_EINVAL);
		assert_non_null(why);
		assert_null(u.host);
		ark_url_free(&u);
	}
}

/* ---- tests: responses --------------------------------------------------- */

static void
test_get_content_length(void **state)
{
	static const char *const resps[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A:  v1 \r\n"
		"\r\nhello", NULL };
	struct res r;

	one_shot(h_script, resps, 0, &r);
	assert_int_equal(r.err, ARK_OK);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.clen, 5);
	assert_string_equal(r.xa, "v1");
	assert_int_equal(r.len, 5);
	assert_memory_equal(r.body, "hello", 5);
	res_free(&r);
}

static void
test_chunked(void **state)
{
	static const char *const resps[] = {
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-T: t\r\n\r\n",
		NULL };
	struct res r;

	one_shot(h_script, resps, 0, &r);
	assert_int_equal(r.err, ARK_OK);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.clen, -1);
	assert_string_equal(r.body, "hello world");
	res_free(&r);
}

static void
test_close_delimited(void **state)
{
	static const char *const resps[] = {
		"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nabcdef", NULL };
	struct res r;

	one_shot(h_script, resps, 1, &r);
	assert_int_equal(r.err, ARK_OK);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "abcdef");
	res_free(&r);
}

static void
test_split_every_byte(void **state)
{
	static const char *const resps[] = {
		"HTTP/1.1 100 Continue\r\nX-I: 1\r\n\r\n"
		"HTTP/1.1 201 Created\r\nX-A: split\r\n"
		"Transfer-Encoding: chunked\r\n\r\n"
		"3\r\nabc\r\n5;e=1\r\ndefgh\r\n0\r\nT: x\r\n\r\n", NULL };
	struct env e;
	struct res r;
	size_t k, len = strlen(resps[0]);
	struct ark_http_client_stats st;

	env_init(&e, NULL);
	e.p.resps = resps;
	peer_start(&e.p, h_split);
	env_client(&e);
	for (k = 0; k < len; k++) {
		do_req(&e, "GET", "/s", &r);
		assert_int_equal(r.err, ARK_OK);
		assert_int_equal(r.status, 201);
		assert_string_equal(r.xa, "split");
		assert_string_equal(r.body, "abcdefgh");
		assert_int_equal(r.heads, 1);
		res_free(&r);
	}
	ark_http_client_stats(e.cl, &st);
	assert_int_equal(st.connects, 1);
	assert_int_equal(atomic_load(&e.p.accepts), 1);
	env_fini(&e);
}

static void
test_truncated(void **state)
{
	static const char *const cl[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", NULL };
	static const char *const ch[] = {
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		"5\r\nhel", NULL };
	static const char *const head[] = {
		"HTTP/1.1 200 OK\r\nContent-Le", NULL };
	static const char *const none[] = { "", NULL };
	struct res r;

	one_shot(h_script, cl, 1, &r);
	assert_int_equal(r.err, ARK_ECONN);
	assert_int_equal(r.len, 3);
	res_free(&r);
	one_shot(h_script, ch, 1, &r);
	assert_int_equal(r.err, ARK_ECONN);
	res_free(&r);
	one_shot(h_script, head, 1, &r);
	assert_int_equal(r.err, ARK_ECONN);
	assert_int_equal(r.heads, 0);
	res_free(&r);
	one_shot(h_script, none, 1, &r);
	assert_int_equal(r.err, ARK_ECONN);
	res_free(&r);
}

static void
test_malformed(void **state)
{
	static const char *const r1[] = {
		"HTTP/1.1 abc OK\r\nContent-Length: 0\r\n\r\n", NULL };
	static const char *const r2[] = { "garbage\r\n\r\n", NULL };
	static const char *const r3[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n"
		"\r\nabcd", NULL };
	static const char *const r4[] = {
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		"zz\r\n", NULL };
	static const char *const r5[] = {
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n"
		"Connection: upgrade\r\n\r\n", NULL };
	static const char *const *all[] = { r1, r2, r3, r4, r5 };
	struct res r;
	size_t i;

	for (i = 0; i < ARK_ARRAY_SIZE(all); i++) {
		one_shot(h_script, all[i], 1, &r);
		assert_int_equal(r.err, ARK_EPROTO);
		res_free(&r);
	}
}

static void
test_oversized_headers(void **state)
{
	static char big[80 * 1024], many[8 * 1024];
	const char *r1[] = { big, NULL };
	const char *r2[] = { many, NULL };
	struct res r;
	size_t n;
	int i;

	n = (size_t)snprintf(big, sizeof(big), "HTTP/1.1 200 OK\r\nX-Big: ");
	memset(big + n, 'a', 70 * 1024);
	strcpy(big + n + 70 * 1024, "\r\nContent-Length: 0\r\n\r\n");
	one_shot(h_script, r1, 1, &r);
	assert_int_equal(r.err, ARK_ETOOBIG);
	res_free(&r);

	n = (size_t)snprintf(many, sizeof(many), "HTTP/1.1 200 OK\r\n");
	for (i = 0; i < 150; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n,
		    "X-%d: v\r\n", i);
	snprintf(many + n, sizeof(many) - n, "Content-Length: 0\r\n\r\n");
	one_shot(h_script, r2, 1, &r);
	assert_int_equal(r.err, ARK_ETOOBIG);
	res_free(&r);
}

static void
test_no_body_statuses(void **state)
{
	static const char *const resps[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
		"HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n",
		"HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		NULL };
	struct env e;
	struct res r;

	env_init(&e, NULL);
	e.p.resps = resps;
	peer_start(&e.p, h_script);
	env_client(&e);
	do_req(&e, "HEAD", "/h", &r);
	assert_int_equal(r.err, ARK_OK);
	assert_int_equal(r.clen, 100);
	assert_int_equal(r.len, 0);
	res_free(&r);
	do_req(&e, "GET", "/a", &r);
	assert_int_equal(r.err, ARK_OK);
	assert_int_equal(r.status, 204);
	assert_int_equal(r.len, 0);
	res_free(&r);
	do_req(&e, "GET", "/b", &r);
	assert_int_equal(r.status, 304);
	assert_int_equal(r.len, 0);
	res_free(&r);
	do_req(&e, "GET", "/c", &r);
	assert_int_equal(r.err, ARK_OK);
	assert_string_equal(r.body, "ok");
	assert_int_equal(r.reused, 1);
	res_free(&r);
	assert_int_equal(atomic_load(&e.p.accepts), 1);
	env_fini(&e);
}

/* ---- tests: connections and timeouts ------------------------------------ */

static void
test_refused(void **state)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	struct env e;
	struct res r;
	int fd;

	/* A port that was just bound and released has no listener. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	getsockname(fd, (struct sockaddr *)&sin, &sl);
	close(fd);
	env_init(&e, NULL);
	e.p.port = ntohs(sin.sin_port);
	env_client(&e);
	do_req(&e, "GET", "/", &r);
	assert_int_equal(r.err, ARK_ECONN);
	assert_int_equal(r.heads, 0);
	res_free(&r);
	env_fini(&e);
}

static void
test_timeout(void **state)
{
	struct env e;
	struct res r;
	struct ark_http_creq *q;
	uint64_t t0, ms;

	/* Inactivity timeout. */
	env_init(&e, h_hang);
	e.o.io_timeout_ms = 300;
	env_client(&e);
	t0 = ark_mono_ns();
	do_req(&e, "GET", "/", &r);
	ms = (ark_mono_ns() - t0) / 1000000;
	assert_int_equal(r.err, ARK_ETIMEDOUT);
	assert_true(ms >= 250 && ms < 3000);
	res_free(&r);

	/* Total timeout set on the request. */
	memset(&r, 0, sizeof(r));
	assert_int_equal(ark_http_creq_new(e.cl, "GET", "127.0.0.1", e.p.port,
	    0, "/", &q), ARK_OK);
	ark_http_creq_set_timeouts(q, -1, 200, 0);
	ark_http_creq_set_cbs(q, &res_cbs, &r);
	t0 = ark_mono_ns();
	assert_int_equal(ark_http_creq_start(q), ARK_OK);
	assert_int_equal(run_until(e.base, &r.done, 5000), 0);
	ms = (ark_mono_ns() - t0) / 1000000;
	assert_int_equal(r.err, ARK_ETIMEDOUT);
	assert_true(ms >= 150 && ms < 3000);
	res_free(&r);
	env_fini(&e);
}

static void
test_keepalive(void **state)
{
	static const char *const resps[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none", NULL };
	struct env e;
	struct res r;
	struct ark_http_client_stats st;

	env_init(&e, NULL);
	e.p.resps = resps;
	peer_start(&e.p, h_script);
	env_client(&e);
	do_req(&e, "GET", "/1", &r);
	assert_int_equal(r.err, ARK_OK);
	assert_int_equal(r.reused, 0);
	res_free(&r);
	do_req(&e, "GET", "/2", &r);
	assert_int_equal(r.err, ARK_OK);
	assert_int_equal(r.reused, 1);
	assert_string_equal(r.body, "one");
	res_free(&r);
	ark_http_client_stats(e.cl, &st);
	assert_int_equal(st.connects, 1);
	assert_int_equal(st.reuses, 1);
	assert_int_equal(st.idle, 1);
	assert_int_equal(atomic_load(&e.p.accepts), 1);
	env_fini(&e);
}

static void
test_stale_idle_close(void **state)
{
	/* The peer closes after each response (no Connection: close): the
	 * client notices while the connection is pooled and does not use
	 * it again. */
	static const char *const resps[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", NULL };
	struct env e;
	struct res r;
	struct ark_http_client_stats st;

	env_init(&e, NULL);
	e.p.resps = resps;
	e.p.close_after = 1;
	peer_start(&e.p, h_script);
	env_client(&e);
	do_req(&e, "GET", "/1", &r);
	assert_int_equal(r.err, ARK_OK);
	res_free(&r);
	run_for(e.base, 200);
	ark_http_client_stats(e.cl, &st);
	assert_int_equal(st.idle, 0);
	do_req(&e, "GET", "/2", &r);
	assert_int_equal(r.err, ARK_OK);
	assert_int_equal(r.reused, 0);
	res_free(&r);
	assert_int_equal(atomic_load(&e.p.accepts), 2);
	env_fini(&e);
}

static void
test_stale_retry(void **state)
{
	struct env e;
	struct res r;
	struct ark_http_client_stats st;
	struct ark_http_creq *q;

	/* GET: retried transparently on a fresh connection. */
	env_init(&e, h_stale);
	env_client(&e);
	do_req(&e, "GET", "/1", &r);
	assert_int_equal(r.err, ARK_OK);
	res_free(&r);
	do_req(&e, "GET", "/2", &r);
	assert_int_equal(r.err, ARK_OK);
	assert_string_equal(r.body, "ok");
	res_free(&r);
	ark_http_client_stats(e.cl, &st);
	assert_int_equal(st.retries, 1);
	assert_int_equal(st.connects, 2);
	assert_int_equal(atomic_load(&e.p.accepts), 2);
	env_fini(&e);

	/* POST whose body was sent: not retried. */
	env_init(&e, h_stale);
	env_client(&e);
	do_req(&e, "GET", "/1", &r);
	res_free(&r);
	memset(&r, 0, sizeof(r));
	assert_int_equal(ark_http_creq_new(e.cl, "POST", "127.0.0.1",
	    e.p.port, 0, "/p", &q), ARK_OK);
	assert_int_equal(ark_http_creq_body_copy(q, "data", 4), ARK_OK);
	ark_http_creq_set_cbs(q, &res_cbs, &r);
	assert_int_equal(ark_http_creq_start(q), ARK_OK);
	assert_int_equal(run_until(e.base, &r.done, 10000), 0);
	assert_int_equal(r.err, ARK_ECONN);
	ark_http_client_stats(e.cl, &st);
	assert_int_equal(st.retries, 0);
	res_free(&r);
	env_fini(&e);

	/* PUT with a buffered body is idempotent and replayable. */
	env_init(&e, h_stale);
	env_client(&e);
	do_req(&e, "GET", "/1", &r);
	res_free(&r);
	memset(&r, 0, sizeof(r));
	assert_int_equal(ark_http_creq_new(e.cl, "PUT", "127.0.0.1",
	    e.p.port, 0, "/p", &q), ARK_OK);
	assert_int_equal(ark_http_creq_body_copy(q, "data", 4), ARK_OK);
	ark_http_creq_set_cbs(q, &res_cbs, &r);
	assert_int_equal(ark_http_creq_start(q), ARK_OK);
	assert_int_equal(run_until(e.base, &r.done, 10000), 0);
	assert_int_equal(r.err, ARK_OK);
	assert_string_equal(r.xcount, "4");	/* whole body resent */
	ark_http_client_stats(e.cl, &st);
	assert_int_equal(st.retries, 1);
	res_free(&r);
	env_fini(&e);
}

/* ---- tests: uploads ----------------------------------------------------- */

#define PATLEN	65521u		/* prime: pieces drift against any size */

static unsigned char pat[2 * PATLEN];

static void
pat_init(void)
{
	uint32_t x = 2463534242u;
	size_t i;

	for (i = 0; i < PATLEN; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		pat[i] = pat[i + PATLEN] = (unsigned char)x;
	}
}

struct up {
	struct res	 r;
	uint64_t	 total;
	uint64_t	 sent;
	uint64_t	 hash;
	size_t		 max_pending;
	size_t		 wmax;
	int		 drains;
	int		 before_start;	/* bytes to write before start */
};

static void
up_write(struct ark_http_creq *q, struct up *u)
{
	size_t off, n;

	off = (size_t)(u->sent % PATLEN);
	n = PATLEN;
	if (n > u->wmax)
		n = u->wmax;
	if (n > u->total - u->sent)
		n = (size_t)(u->total - u->sent);
	assert_int_equal(ark_http_creq_write(q, pat + off, n), ARK_OK);
	u->hash = fnv(u->hash, pat + off, n);
	u->sent += n;
	if (ark_http_creq_pending(q) > u->max_pending)
		u->max_pending = ark_http_creq_pending(q);
}

static void
up_drain(struct ark_http_creq *q, void *arg)
{
	struct up *u = arg;

	u->drains++;
	if (ark_http_creq_pending(q) > u->max_pending)
		u->max_pending = ark_http_creq_pending(q);
	while (ark_http_creq_writable(q) && u->sent < u->total)
		up_write(q, u);
	if (u->sent == u->total)
		assert_int_equal(ark_http_creq_end(q), ARK_OK);
}

static void
up_head(struct ark_http_creq *q, void *arg)
{
	cb_head(q, &((struct up *)arg)->r);
}

static void
up_body(struct ark_http_creq *q, const void *d, size_t n, void *arg)
{
	cb_body(q, d, n, &((struct up *)arg)->r);
}

static void
up_done(struct ark_http_creq *q, enum ark_err err, void *arg)
{
	cb_done(q, err, &((struct up *)arg)->r);
}

static const struct ark_http_creq_cbs up_cbs = {
	.on_head = up_head,
	.on_body = up_body,
	.on_drain = up_drain,
	.on_done = up_done,
};

static void
do_upload(struct env *e, struct up *u, uint64_t total, int chunked,
    int expect)
{
	struct ark_http_creq *q;

	memset(u, 0, sizeof(*u));
	u->total = total;
	u->hash = FNV0;
	u->wmax = 64 * 1024;
	assert_int_equal(ark_http_creq_new(e->cl, "PUT", "127.0.0.1",
	    e->p.port, 0, "/up", &q), ARK_OK);
	assert_int_equal(ark_http_creq_body_stream(q, chunked ? -1 :
	    (int64_t)total), ARK_OK);
	if (expect)
		assert_int_equal(ark_http_creq_expect_continue(q), ARK_OK);
	ark_http_creq_set_cbs(q, &up_cbs, u);
	/* Writing before start is allowed; it waits for the connection. */
	if (total > 1000) {
		u->wmax = 1000;
		up_write(q, u);
		u->wmax = 64 * 1024;
	}
	assert_int_equal(ark_http_creq_start(q), ARK_OK);
	assert_int_equal(run_until(e->base, &u->r.done, 120000), 0);
}

static void
check_upload(struct up *u)
{
	char want[32];

	assert_int_equal(u->r.err, ARK_OK);
	assert_int_equal(u->r.status, 200);
	assert_int_equal(strtoull(u->r.xcount, NULL, 10), u->total);
	snprintf(want, sizeof(want), "%llx", (unsigned long long)u->hash);
	assert_string_equal(u->r.xhash, want);
}

static void
test_upload_64m(void **state)
{
	struct env e;
	struct up u;
	struct ark_http_client_stats st;

	env_init(&e, h_upload);
	env_client(&e);
	do_upload(&e, &u, 64ull << 20, 1, 0);
	check_upload(&u);
	res_free(&u.r);
	do_upload(&e, &u, 64ull << 20, 0, 0);
	check_upload(&u);
	res_free(&u.r);
	do_upload(&e, &u, 0, 1, 0);	/* empty chunked body */
	check_upload(&u);
	res_free(&u.r);
	ark_http_client_stats(e.cl, &st);
	assert_int_equal(st.connects, 1);
	env_fini(&e);
}

static void
test_backpressure(void **state)
{
	struct env e;
	struct up u;

	env_init(&e, NULL);
	e.p.slow_us = 300;
	peer_start(&e.p, h_upload);
	env_client(&e);
	do_upload(&e, &u, 256ull << 20, 1, 0);
	check_upload(&u);
	/* high water (1 MiB) + one write + the request head */
	assert_true(u.max_pending <= e.o.stream_high_water + u.wmax + 4096);
	assert_true(u.drains > 10);
	res_free(&u.r);
	env_fini(&e);
}

static void
test_expect_continue(void **state)
{
	static const char *const r417[] = {
		"HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n",
		NULL };
	static const char *const r403[] = {
		"HTTP/1.1 403 Forbidden\r\nContent-Length: 3\r\n\r\nno!",
		NULL };
	struct env e;
	struct up u;
	struct res r;
	struct ark_http_creq *q;

	/* 100 then the final status. */
	env_init(&e, NULL);
	e.p.expect_mode = 0;
	e.o.expect_timeout_ms = 5000;
	peer_start(&e.p, h_upload);
	env_client(&e);
	do_upload(&e, &u, 1 << 20, 0, 1);
	check_upload(&u);
	res_free(&u.r);
	env_fini(&e);

	/* Final 417 / 403 without 100: the body is never sent. */
	env_init(&e, NULL);
	e.p.expect_mode = 1;
	e.p.resps = r417;
	e.o.expect_timeout_ms = 5000;
	peer_start(&e.p, h_upload);
	env_client(&e);
	do_upload(&e, &u, 1 << 20, 0, 1);
	assert_int_equal(u.r.err, ARK_OK);
	assert_int_equal(u.r.status, 417);
	res_free(&u.r);
	peer_stop(&e.p);
	assert_int_equal(atomic_load(&e.p.body_seen), 0);
	e.p.fn = NULL;
	env_fini(&e);

	env_init(&e, NULL);
	e.p.expect_mode = 1;
	e.p.resps = r403;
	e.o.expect_timeout_ms = 5000;
	peer_start(&e.p, h_upload);
	env_client(&e);
	memset(&r, 0, sizeof(r));
	assert_int_equal(ark_http_creq_new(e.cl, "PUT", "127.0.0.1", e.p.port,
	    0, "/b", &q), ARK_OK);
	assert_int_equal(ark_http_creq_body_copy(q, "secret", 6), ARK_OK);
	assert_int_equal(ark_http_creq_expect_continue(q), ARK_OK);
	ark_http_creq_set_cbs(q, &res_cbs, &r);
	assert_int_equal(ark_http_creq_start(q), ARK_OK);
	assert_int_equal(run_until(e.base, &r.done, 10000), 0);
	assert_int_equal(r.err, ARK_OK);
	assert_int_equal(r.status, 403);
	assert_string_equal(r.body, "no!");
	res_free(&r);
	peer_stop(&e.p);
	assert_int_equal(atomic_load(&e.p.body_seen), 0);
	e.p.fn = NULL;
	env_fini(&e);

	/* No 100 at all: the body goes after expect_timeout_ms. */
	env_init(&e, NULL);
	e.p.expect_mode = 2;
	e.o.expect_timeout_ms = 100;
	peer_start(&e.p, h_upload);
	env_client(&e);
	do_upload(&e, &u, 100000, 1, 1);
	check_upload(&u);
	res_free(&u.r);
	env_fini(&e);
}

/* ---- tests: response flow control and cancel ---------------------------- */

struct pr {
	struct res	 r;
	struct event	*ev;
	struct ark_http_creq *q;
	int		 paused;
	int		 pauses;
	int		 while_paused;
	size_t		 next_pause;
};

static void
pr_resume(evutil_socket_t fd, short w, void *arg)
{
	struct pr *p = arg;

	p->paused = 0;
	ark_http_creq_resume(p->q);
}

static void
pr_body(struct ark_http_creq *q, const void *d, size_t n, void *arg)
{
	struct pr *p = arg;
	struct timeval tv = { 0, 20000 };

	if (p->paused)
		p->while_paused++;
	cb_body(q, d, n, &p->r);
	if (p->r.len >= p->next_pause) {
		p->next_pause += 1 << 20;
		p->paused = 1;
		p->pauses++;
		p->q = q;
		ark_http_creq_pause(q);
		evtimer_add(p->ev, &tv);
	}
}

static void
pr_head(struct ark_http_creq *q, void *arg)
{
	cb_head(q, &((struct pr *)arg)->r);
}

static void
pr_done(struct ark_http_creq *q, enum ark_err err, void *arg)
{
	cb_done(q, err, &((struct pr *)arg)->r);
}

static char *big_resp;

static void
test_pause_resume(void **state)
{
	static const struct ark_http_creq_cbs cbs = {
		.on_head = pr_head,
		.on_body = pr_body,
		.on_done = pr_done,
	};
	const size_t blen = 4u << 20;
	const char *resps[2] = { NULL, NULL };
	struct env e;
	struct pr p;
	struct ark_http_creq *q;
	size_t n, i;

	big_resp = malloc(blen + 100);
	n = (size_t)sprintf(big_resp,
	    "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", blen);
	for (i = 0; i < blen; i++)
		big_resp[n + i] = (char)('a' + i % 26);
	big_resp[n + blen] = '\0';
	resps[0] = big_resp;

	env_init(&e, NULL);
	e.p.resps = resps;
	e.o.io_timeout_ms = 1000;
	peer_start(&e.p, h_script);
	env_client(&e);
	memset(&p, 0, sizeof(p));
	p.next_pause = 1;
	p.ev = evtimer_new(e.base, pr_resume, &p);
	assert_int_equal(ark_http_creq_new(e.cl, "GET", "127.0.0.1", e.p.port,
	    0, "/big", &q), ARK_OK);
	ark_http_creq_set_cbs(q, &cbs, &p);
	assert_int_equal(ark_http_creq_start(q), ARK_OK);
	assert_int_equal(run_until(e.base, &p.r.done, 20000), 0);
	assert_int_equal(p.r.err, ARK_OK);
	assert_int_equal(p.r.len, blen);
	assert_memory_equal(p.r.body, big_resp + n, blen);
	assert_int_equal(p.while_paused, 0);
	assert_true(p.pauses >= 4);
	event_free(p.ev);
	res_free(&p.r);
	env_fini(&e);
	free(big_resp);
}

static void
cancel_cb(evutil_socket_t fd, short w, void *arg)
{
	ark_http_creq_cancel(arg);
}

static void
test_cancel(void **state)
{
	static const char *const resps[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nabc", NULL };
	struct env e;
	struct res r, r2, r3;
	struct ark_http_creq *q;
	struct event *ev;
	struct timeval tv = { 0, 50000 };
	int i;

	/* Cancel from outside while waiting for the response. */
	env_init(&e, h_hang);
	env_client(&e);
	memset(&r, 0, sizeof(r));
	assert_int_equal(ark_http_creq_new(e.cl, "GET", "127.0.0.1", e.p.port,
	    0, "/", &q), ARK_OK);
	ark_http_creq_set_cbs(q, &res_cbs, &r);
	assert_int_equal(ark_http_creq_start(q), ARK_OK);
	ev = evtimer_new(e.base, cancel_cb, q);
	evtimer_add(ev, &tv);
	run_for(e.base, 300);
	event_free(ev);
	assert_int_equal(r.done, 0);
	for (i = 0; i < 50 && !atomic_load(&e.p.saw_eof); i++)
		usleep(10000);
	assert_int_equal(atomic_load(&e.p.saw_eof), 1);
	env_fini(&e);

	/* Cancel from inside on_body. */
	env_init(&e, NULL);
	e.p.resps = resps;
	peer_start(&e.p, h_script);
	env_client(&e);
	memset(&r, 0, sizeof(r));
	r.cancel_in_body = 1;
	assert_int_equal(ark_http_creq_new(e.cl, "GET", "127.0.0.1", e.p.port,
	    0, "/", &q), ARK_OK);
	ark_http_creq_set_cbs(q, &res_cbs, &r);
	assert_int_equal(ark_http_creq_start(q), ARK_OK);
	run_for(e.base, 300);
	assert_int_equal(r.canceled, 1);
	assert_int_equal(r.callbacks_after_cancel, 0);
	assert_int_equal(r.done, 0);
	res_free(&r);
	env_fini(&e);

	/* Freeing the client cancels queued and active requests. */
	env_init(&e, h_hang);
	e.o.max_conns_per_host = 1;
	env_client(&e);
	memset(&r, 0, sizeof(r));
	memset(&r2, 0, sizeof(r2));
	memset(&r3, 0, sizeof(r3));
	assert_int_equal(ark_http_creq_new(e.cl, "GET", "127.0.0.1", e.p.port,
	    0, "/1", &q), ARK_OK);
	ark_http_creq_set_cbs(q, &res_cbs, &r);
	assert_int_equal(ark_http_creq_start(q), ARK_OK);
	assert_int_equal(ark_http_creq_new(e.cl, "GET", "127.0.0.1", e.p.port,
	    0, "/2", &q), ARK_OK);
	ark_http_creq_set_cbs(q, &res_cbs, &r2);
	assert_int_equal(ark_http_creq_start(q), ARK_OK);
	/* Never started: freed by cancel. */
	assert_int_equal(ark_http_creq_new(e.cl, "GET", "127.0.0.1", e.p.port,
	    0, "/3", &q), ARK_OK);
	ark_http_creq_cancel(q);
	run_for(e.base, 100);
	ark_http_client_free(e.cl);
	e.cl = NULL;
	run_for(e.base, 50);
	assert_int_equal(r.done + r2.done + r3.done, 0);
	env_fini(&e);
}

static void
test_req_args(void **state)
{
	struct env e;
	struct ark_http_creq *q;

	env_init(&e, NULL);
	env_client(&e);
	assert_int_equal(ark_http_creq_new(e.cl, "G T", "h", 80, 0, "/", &q),
	    ARK_EINVAL);
	assert_int_equal(ark_http_creq_new(e.cl, "GET", "h", 80, 0, "x", &q),
	    ARK_EINVAL);
	assert_int_equal(ark_http_creq_new(e.cl, "GET", "h", 0, 0, "/", &q),
	    ARK_EINVAL);
	assert_int_equal(ark_http_creq_new(e.cl, "GET", "h\r\nX: y", 80, 0,
	    "/", &q), ARK_EINVAL);
	assert_int_equal(ark_http_creq_new(e.cl, "GET", "", 80, 0, "/", &q),
	    ARK_EINVAL);
	assert_int_equal(ark_http_creq_new_url(e.cl, "GET", "ftp://x/", &q),
	    ARK_EINVAL);
	assert_int_equal(ark_http_creq_new(e.cl, "GET", "h", 80, 0, "/", &q),
	    ARK_OK);
	assert_int_equal(ark_http_creq_add_header(q, "Bad Name", "v"),
	    ARK_EINVAL);
	assert_int_equal(ark_http_creq_add_header(q, "X", "a\r\nb"),
	    ARK_EINVAL);
	assert_int_equal(ark_http_creq_add_header(q, "content-length", "1"),
	    ARK_EINVAL);
	assert_int_equal(ark_http_creq_set_header(q, "X", "1"), ARK_OK);
	assert_int_equal(ark_http_creq_set_header(q, "x", "2"), ARK_OK);
	assert_int_equal(ark_http_creq_body_stream(q, 3), ARK_OK);
	assert_int_equal(ark_http_creq_body_copy(q, "a", 1), ARK_EINVAL);
	assert_int_equal(ark_http_creq_write(q, "abcd", 4), ARK_EINVAL);
	assert_int_equal(ark_http_creq_write(q, "ab", 2), ARK_OK);
	assert_int_equal(ark_http_creq_end(q), ARK_EINVAL);
	assert_int_equal(ark_http_creq_write(q, "c", 1), ARK_OK);
	assert_int_equal(ark_http_creq_end(q), ARK_OK);
	assert_int_equal(ark_http_creq_write(q, "d", 1), ARK_EINVAL);
	ark_http_creq_cancel(q);
	/* Expect without a body is refused at start. */
	assert_int_equal(ark_http_creq_new(e.cl, "GET", "h", 80, 0, "/", &q),
	    ARK_OK);
	assert_int_equal(ark_http_creq_expect_continue(q), ARK_OK);
	assert_int_equal(ark_http_creq_start(q), ARK_EINVAL);
	ark_http_creq_cancel(q);
	env_fini(&e);
}

/* ---- tests: TLS --------------------------------------------------------- */

static void
tls_get(struct env *e, struct res *r)
{
	struct ark_http_creq *q;

	memset(r, 0, sizeof(*r));
	assert_int_equal(ark_http_creq_new(e->cl, "GET", "127.0.0.1",
	    e->p.port, 1, "/tls", &q), ARK_OK);
	ark_http_creq_set_cbs(q, &res_cbs, r);
	assert_int_equal(ark_http_creq_start(q), ARK_OK);
	assert_int_equal(run_until(e->base, &r->done, 20000), 0);
}

static void
test_tls(void **state)
{
	char ca[64];
	SSL_CTX *sctx = tls_server_ctx(ca, sizeof(ca));
	struct env e;
	struct res r;
	struct ark_http_client_stats st;

	/* Verified against our CA file; the connection is reused. */
	env_init(&e, NULL);
	e.p.sctx = sctx;
	peer_start(&e.p, h_tls);
	e.o.ca_file = ca;
	env_client(&e);
	tls_get(&e, &r);
	assert_int_equal(r.err, ARK_OK);
	assert_string_equal(r.body, "tls");
	res_free(&r);
	tls_get(&e, &r);
	assert_int_equal(r.err, ARK_OK);
	assert_int_equal(r.reused, 1);
	res_free(&r);
	ark_http_client_stats(e.cl, &st);
	assert_int_equal(st.connects, 1);
	env_fini(&e);

	/* The system store does not know our CA: refused. */
	env_init(&e, NULL);
	e.p.sctx = sctx;
	peer_start(&e.p, h_tls);
	env_client(&e);
	tls_get(&e, &r);
	assert_int_equal(r.err, ARK_ECONN);
	res_free(&r);
	env_fini(&e);

	/* Verification off (tests only). */
	env_init(&e, NULL);
	e.p.sctx = sctx;
	peer_start(&e.p, h_tls);
	e.o.tls_no_verify = 1;
	env_client(&e);
	tls_get(&e, &r);
	assert_int_equal(r.err, ARK_OK);
	res_free(&r);
	env_fini(&e);

	unlink(ca);
	SSL_CTX_free(sctx);
}

/* ---- tests: blocking fetch ---------------------------------------------- */

struct fetch_thr {
	uint16_t	 port;
	int		 id;
	int		 ok;
	uint64_t	 connects;
};

static void *
fetch_thread(void *arg)
{
	struct fetch_thr *t = arg;
	struct ark_http_fetch_req in;
	struct ark_http_fetch_resp out;
	struct ark_http_client_stats st;
	char url[128], want[64];
	int i;

	for (i = 0; i < 20; i++) {
		snprintf(want, sizeof(want), "/t%d/%d", t->id, i);
		snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", t->port,
		    want);
		memset(&in, 0, sizeof(in));
		in.url = url;
		if (ark_http_fetch(&in, &out) != ARK_OK)
			return NULL;
		if (out.status == 200 && strcmp(out.body, want) == 0)
			t->ok++;
		ark_http_fetch_resp_free(&out);
	}
	ark_http_fetch_thread_stats(&st);
	t->connects = st.connects;
	ark_http_fetch_thread_cleanup();
	return NULL;
}

struct memsrc {
	uint64_t	 total;
	uint64_t	 off;
	uint64_t	 hash;
};

static enum ark_err
memsrc_read(void *arg, void *buf, size_t cap, size_t *got)
{
	struct memsrc *m = arg;
	size_t off = (size_t)(m->off % PATLEN), n = PATLEN;

	if (n > cap)
		n = cap;
	if (n > m->total - m->off)
		n = (size_t)(m->total - m->off);
	memcpy(buf, pat + off, n);
	m->hash = fnv(m->hash, pat + off, n);
	m->off += n;
	*got = n;
	return ARK_OK;
}

struct memsink {
	size_t		 n;
	int		 fail_after;
};

static enum ark_err
memsink_write(void *arg, const void *d, size_t n)
{
	struct memsink *s = arg;

	s->n += n;
	return s->fail_after && s->n > (size_t)s->fail_after ? ARK_ENOSPC :
	    ARK_OK;
}

static void
test_fetch(void **state)
{
	struct peer p;
	pthread_t th[2];
	struct fetch_thr t[2];
	struct ark_http_fetch_req in;
	struct ark_http_fetch_resp out;
	struct ark_http_header hd[1] = { { "X-Y", "z" } };
	struct memsrc src;
	struct memsink sink;
	char url[128], want[32];
	int i;

	memset(&p, 0, sizeof(p));
	peer_start(&p, h_echo);
	for (i = 0; i < 2; i++) {
		memset(&t[i], 0, sizeof(t[i]));
		t[i].port = p.port;
		t[i].id = i;
		assert_int_equal(pthread_create(&th[i], NULL, fetch_thread,
		    &t[i]), 0);
	}
	for (i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(t[i].ok, 20);
		assert_int_equal(t[i].connects, 1);
	}

	/* host/port/target form, headers, buffered body. */
	memset(&in, 0, sizeof(in));
	in.method = "POST";
	in.host = "127.0.0.1";
	in.port = p.port;
	in.target = "/post";
	in.headers = hd;
	in.nheaders = 1;
	in.body = "12345";
	in.body_len = 5;
	assert_int_equal(ark_http_fetch(&in, &out), ARK_OK);
	assert_int_equal(out.status, 200);
	assert_string_equal(out.body, "/post");
	assert_string_equal(ark_http_resp_hdrs_get(out.hdrs, "x-count"), "5");
	ark_http_fetch_resp_free(&out);

	/* Streamed upload from a callback, chunked. */
	memset(&src, 0, sizeof(src));
	src.total = 3u << 20;
	src.hash = FNV0;
	memset(&in, 0, sizeof(in));
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/stream", p.port);
	in.method = "PUT";
	in.url = url;
	in.body_read = memsrc_read;
	in.body_read_arg = &src;
	in.body_stream_len = -1;
	assert_int_equal(ark_http_fetch(&in, &out), ARK_OK);
	assert_int_equal(out.status, 200);
	snprintf(want, sizeof(want), "%llx", (unsigned long long)src.hash);
	assert_string_equal(ark_http_resp_hdrs_get(out.hdrs, "X-Hash"), want);
	ark_http_fetch_resp_free(&out);

	/* Body cap and sinks. */
	memset(&in, 0, sizeof(in));
	in.url = url;
	in.max_body = 3;
	assert_int_equal(ark_http_fetch(&in, &out), ARK_ETOOBIG);
	assert_null(out.hdrs);
	memset(&sink, 0, sizeof(sink));
	in.body_sink = memsink_write;
	in.body_sink_arg = &sink;
	assert_int_equal(ark_http_fetch(&in, &out), ARK_OK);
	assert_null(out.body);
	assert_int_equal(sink.n, strlen("/stream"));
	ark_http_fetch_resp_free(&out);
	sink.n = 0;
	sink.fail_after = 2;
	assert_int_equal(ark_http_fetch(&in, &out), ARK_ENOSPC);
	in.url = "http://[::1";
	assert_int_equal(ark_http_fetch(&in, &out), ARK_EINVAL);
	ark_http_fetch_thread_cleanup();
	peer_stop(&p);
}

static void
test_fetch_peer_closed(void **state)
{
	/* The peer closes each connection after its response, while the
	 * fetching thread runs no loop: the next POST must notice and
	 * connect again, not fail on the dead pooled connection (a POST
	 * that went out is not retried). */
	static const char *const resps[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", NULL };
	struct peer p;
	struct ark_http_fetch_req in;
	struct ark_http_fetch_resp out;
	char url[128];
	int i;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.resps = resps;
	p.close_after = 1;
	peer_start(&p, h_script);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/x", p.port);
	memset(&in, 0, sizeof(in));
	in.method = "POST";
	in.url = url;
	in.body = "abc";
	in.body_len = 3;
	for (i = 0; i < 3; i++) {
		assert_int_equal(ark_http_fetch(&in, &out), ARK_OK);
		assert_int_equal(out.status, 200);
		assert_string_equal(out.body, "ok");
		ark_http_fetch_resp_free(&out);
		usleep(50000);		/* the peer's FIN arrives */
	}
	assert_int_equal(atomic_load(&p.accepts), 3);
	ark_http_fetch_thread_cleanup();
	peer_stop(&p);
}

static void
test_fetch_many(void **state)
{
	/* Requests at once on one thread, each with its own result. */
	struct peer p;
	struct ark_http_fetch_req in[4];
	struct ark_http_fetch_resp out[4];
	enum ark_err errs[4];
	char url[3][128];
	int i;

	(void)state;
	memset(&p, 0, sizeof(p));
	peer_start(&p, h_echo);
	memset(in, 0, sizeof(in));
	for (i = 0; i < 4; i++) {
		in[i].method = "POST";
		in[i].body = "0123456789";
		in[i].body_len = (size_t)i + 1;
		if (i < 3) {
			snprintf(url[i], sizeof(url[i]),
			    "http://127.0.0.1:%u/r%d", p.port, i);
			in[i].url = url[i];
		}
	}
	in[3].url = "http://[::1";	/* bad: fails alone */
	assert_int_equal(ark_http_fetch_many(in, out, errs, 4), ARK_OK);
	for (i = 0; i < 3; i++) {
		char want[24];

		assert_int_equal(errs[i], ARK_OK);
		assert_int_equal(out[i].status, 200);
		snprintf(want, sizeof(want), "/r%d", i);
		assert_string_equal(out[i].body, want);
		snprintf(want, sizeof(want), "%d", i + 1);
		assert_string_equal(ark_http_resp_hdrs_get(out[i].hdrs,
		    "x-count"), want);
		ark_http_fetch_resp_free(&out[i]);
	}
	assert_int_equal(errs[3], ARK_EINVAL);
	assert_null(out[3].hdrs);
	/* They overlapped: more than one connection. */
	assert_true(atomic_load(&p.accepts) >= 2);
	ark_http_fetch_thread_cleanup();
	peer_stop(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_req_args),
		cmocka_unit_test(test_get_content_length),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_close_delimited),
		cmocka_unit_test(test_split_every_byte),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_oversized_headers),
		cmocka_unit_test(test_no_body_statuses),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_keepalive),
		cmocka_unit_test(test_stale_idle_close),
		cmocka_unit_test(test_stale_retry),
		cmocka_unit_test(test_upload_64m),
		cmocka_unit_test(test_backpressure),
		cmocka_unit_test(test_expect_continue),
		cmocka_unit_test(test_pause_resume),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_fetch),
		cmocka_unit_test(test_fetch_peer_closed),
		cmocka_unit_test(test_fetch_many),
	};

	signal(SIGPIPE, SIG_IGN);
	ark_log_init("test_http_client", ARK_LOG_ERROR);
	pat_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
