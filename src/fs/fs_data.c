/*
 * fs_data.c - worker pool and fragment I/O for arkorfs. A fragment read
 * is a whole-needle GET (so the stored CRC32C can be checked end to end)
 * from one replica, failing over to the next on any error, timeout or
 * checksum mismatch. A fragment write PUTs the same bytes to every
 * replica at once, each on its own worker, and succeeds only when all
 * acknowledged (ARCHITECTURE.md "Data groups and replication").
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cksum.h"
#include "common/http_client.h"
#include "common/log.h"
#include "common/util.h"
#include "fs/fs_data.h"
#include "fs/fs_reg.h"


struct fsd_job {
	struct fsd_job		*next;
	void			(*fn)(void *);
	void			*arg;
	struct fsd_batch	*batch;
};

struct fsd_batch {
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	unsigned		 pending;
};

static pthread_mutex_t	 fsd_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 fsd_cv = PTHREAD_COND_INITIALIZER;
static struct fsd_job	*fsd_head, *fsd_tail;
static pthread_t	*fsd_threads;
static unsigned		 fsd_nthreads, fsd_timeout_ms;
static int		 fsd_stop;

static void *
fsd_worker(void *arg)
{
	struct fsd_job	*j;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&fsd_mu);
		while (fsd_head == NULL && !fsd_stop)
			pthread_cond_wait(&fsd_cv, &fsd_mu);
		if (fsd_head == NULL) {
			pthread_mutex_unlock(&fsd_mu);
			break;
		}
		j = fsd_head;
		fsd_head = j->next;
		if (fsd_head == NULL)
			fsd_tail = NULL;
		pthread_mutex_unlock(&fsd_mu);
		j->fn(j->arg);
		if (j->batch != NULL) {
			pthread_mutex_lock(&j->batch->mu);
			if (--j->batch->pending == 0)
				pthread_cond_broadcast(&j->batch->cv);
			pthread_mutex_unlock(&j->batch->mu);
		}
		free(j);
	}
	ark_http_fetch_thread_cleanup();
	return NULL;
}

enum ark_err
fsd_init(unsigned nthreads, unsigned timeout_ms)
{
	unsigned i;

	fsd_timeout_ms = timeout_ms;
	fsd_threads = ark_xcalloc(nthreads, sizeof(*fsd_threads));
	for (i = 0; i < nthreads; i++) {
		if (pthread_create(&fsd_threads[i], NULL, fsd_worker, NULL) !=
		    0) {
			ark_log_warnx("cannot start data worker threads");
			fsd_fini();
			return ARK_EIO;
		}
		fsd_nthreads++;
	}
	return ARK_OK;
}

void
fsd_fini(void)
{
	unsigned i;

	pthread_mutex_lock(&fsd_mu);
	fsd_stop = 1;
	pthread_cond_broadcast(&fsd_cv);
	pthread_mutex_unlock(&fsd_mu);
	for (i = 0; i < fsd_nthreads; i++)
		pthread_join(fsd_threads[i], NULL);
	free(fsd_threads);
	fsd_threads = NULL;
	fsd_nthreads = 0;
}

struct fsd_batch *
fsd_batch_new(void)
{
	struct fsd_batch *b = ark_xcalloc(1, sizeof(*b));

	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cv, NULL);
	return b;
}

void
fsd_batch_wait(struct fsd_batch *b)
{
	pthread_mutex_lock(&b->mu);
	while (b->pending > 0)
		pthread_cond_wait(&b->cv, &b->mu);
	pthread_mutex_unlock(&b->mu);
	pthread_mutex_destroy(&b->mu);
	pthread_cond_destroy(&b->cv);
	free(b);
}

void
fsd_submit(struct fsd_batch *b, void (*fn)(void *), void *arg)
{
	struct fsd_job *j = ark_xcalloc(1, sizeof(*j));

	j->fn = fn;
	j->arg = arg;
	j->batch = b;
	if (b != NULL) {
		pthread_mutex_lock(&b->mu);
		b->pending++;
		pthread_mutex_unlock(&b->mu);
	}
	pthread_mutex_lock(&fsd_mu);
	if (fsd_tail != NULL)
		fsd_tail->next = j;
	else
		fsd_head = j;
	fsd_tail = j;
	pthread_cond_signal(&fsd_cv);
	pthread_mutex_unlock(&fsd_mu);
}

/* ---- reads --------------------------------------------------------------- */

struct fsd_sink {
	char	*buf;
	size_t	 cap, got;
};

static enum ark_err
fsd_sink_fn(void *arg, const void *data, size_t len)
{
	struct fsd_sink *s = arg;

	if (len > s->cap - s->got)
		return ARK_ETOOBIG;
	memcpy(s->buf + s->got, data, len);
	s->got += len;
	return ARK_OK;
}

int
fsd_get(const json_t *frag, void *buf, size_t cap)
{
	const json_t	*urls = json_object_get(frag, "urls"), *u;
	const char	*fid = fsr_str(frag, "fid");
	uint64_t	 want = (uint64_t)fsr_int(frag, "length");
	uint32_t	 crc = (uint32_t)fsr_int(frag, "crc32c");
	struct ark_http_header h[1];
	int		 denied = 0, tried = 0;
	size_t		 i, nu, first;

	if (want > cap)
		return -EIO;
	h[0].name = "X-Arkor-Token";
	h[0].value = fsr_str(frag, "token");
	nu = json_array_size(urls);
	/* Start at a random replica: reads spread over the group. */
	first = nu > 0 ? ark_random_u32() % nu : 0;
	for (i = 0; i < nu; i++) {
		struct ark_http_fetch_req	 rq;
		struct ark_http_fetch_resp	 rs;
		struct fsd_sink			 s = { buf, cap, 0 };
		enum ark_err			 rc;
		char				*url;

		u = json_array_get(urls, (first + i) % nu);
		if (!json_is_string(u))
			continue;
		tried++;
		url = ark_xasprintf("%s/%s", json_string_value(u), fid);
		memset(&rq, 0, sizeof(rq));
		rq.url = url;
		rq.headers = h;
		rq.nheaders = 1;
		rq.body_sink = fsd_sink_fn;
		rq.body_sink_arg = &s;
		rq.timeout_ms = fsd_timeout_ms;
		rc = ark_http_fetch(&rq, &rs);
		if (rc != ARK_OK) {
			ark_log_warnx("fragment %s from %s: %s; trying the "
			    "next replica", fid, url, ark_strerror(rc));
			free(url);
			continue;
		}
		if (rs.status != 200) {
			if (rs.status == 403)
				denied++;
			else
				ark_log_warnx("fragment %s from %s: HTTP %d",
				    fid, url, rs.status);
		} else if (s.got != want) {
			ark_log_warnx("fragment %s from %s: %zu bytes, want %"
			    PRIu64, fid, url, s.got, want);
		} else if (ark_crc32c(0, buf, s.got) != crc) {
			ark_log_warnx("fragment %s from %s: CRC32C mismatch; "
			    "trying the next replica", fid, url);
		} else {
			ark_http_fetch_resp_free(&rs);
			free(url);
			return 0;
		}
		ark_http_fetch_resp_free(&rs);
		free(url);
	}
	if (tried > 0 && denied == tried)
		return -EACCES;
	if (tried == 0)
		ark_log_warnx("fragment %s: no replica is up", fid);
	return -EIO;
}

/* ---- writes -------------------------------------------------------------- */

/* The PUT of job p; *url to free after the call. */
static void
fsd_put_req(struct fsd_put_job *p, struct ark_http_fetch_req *rq,
    struct ark_http_header h[2], char **url)
{
	*url = ark_xasprintf("%s/%s", p->url, p->put->fid);
	h[0].name = "X-Arkor-Token";
	h[0].value = p->put->token;
	h[1].name = "X-Arkor-Crc32c";
	h[1].value = p->put->crc;
	memset(rq, 0, sizeof(*rq));
	rq->method = "PUT";
	rq->url = *url;
	rq->headers = h;
	rq->nheaders = 2;
	rq->body = p->put->buf;
	rq->body_len = p->put->len;
	rq->timeout_ms = fsd_timeout_ms;
}

/* Records the outcome of job p's PUT. */
static void
fsd_put_done(struct fsd_put_job *p, const char *url, enum ark_err rc,
    struct ark_http_fetch_resp *rs)
{
	if (rc != ARK_OK) {
		ark_log_warnx("fragment %s to %s: %s", p->put->fid, url,
		    ark_strerror(rc));
		return;
	}
	p->ok = rs->status == 200 || rs->status == 201;
	if (!p->ok)
		ark_log_warnx("fragment %s to %s: HTTP %d", p->put->fid, url,
		    rs->status);
	ark_http_fetch_resp_free(rs);
}

static void
fsd_put_one(void *arg)
{
	struct fsd_put_job		*p = arg;
	struct ark_http_fetch_req	 rq;
	struct ark_http_fetch_resp	 rs;
	struct ark_http_header		 h[2];
	char				*url;

	fsd_put_req(p, &rq, h, &url);
	fsd_put_done(p, url, ark_http_fetch(&rq, &rs), &rs);
	free(url);
}

/* Fills p for assignment `as` and buf; its jobs are not started. */
static void
fsd_put_prepare(struct fsd_put *p, const json_t *as, const void *buf,
    size_t len, uint32_t crc)
{
	const json_t	*urls = json_object_get(as, "urls"), *u;
	size_t		 i;

	memset(p, 0, sizeof(*p));
	snprintf(p->fid, sizeof(p->fid), "%s", fsr_str(as, "fid"));
	snprintf(p->token, sizeof(p->token), "%s", fsr_str(as, "token"));
	snprintf(p->crc, sizeof(p->crc), "%08" PRIx32, crc);
	p->buf = buf;
	p->len = len;
	json_array_foreach(urls, i, u) {
		if (p->n == FSD_MAX_REPLICAS || !json_is_string(u))
			break;
		snprintf(p->rep[p->n].url, sizeof(p->rep[p->n].url), "%s",
		    json_string_value(u));
		p->rep[p->n].put = p;
		p->n++;
	}
}

void
fsd_put_start(struct fsd_batch *b, struct fsd_put *p, const json_t *as,
    const void *buf, size_t len, uint32_t crc)
{
	size_t i;

	fsd_put_prepare(p, as, buf, len, crc);
	for (i = 0; i < p->n; i++)
		fsd_submit(b, fsd_put_one, &p->rep[i]);
}

void
fsd_put_now(struct fsd_put *p, const json_t *as, const void *buf,
    size_t len, uint32_t crc)
{
	struct ark_http_fetch_req	 rq[FSD_MAX_REPLICAS];
	struct ark_http_fetch_resp	 rs[FSD_MAX_REPLICAS];
	struct ark_http_header		 h[FSD_MAX_REPLICAS][2];
	enum ark_err			 errs[FSD_MAX_REPLICAS];
	char				*url[FSD_MAX_REPLICAS];
	size_t				 i;

	fsd_put_prepare(p, as, buf, len, crc);
	if (p->n == 0)
		return;
	for (i = 0; i < p->n; i++)
		fsd_put_req(&p->rep[i], &rq[i], h[i], &url[i]);
	(void)ark_http_fetch_many(rq, rs, errs, p->n);
	for (i = 0; i < p->n; i++) {
		fsd_put_done(&p->rep[i], url[i], errs[i], &rs[i]);
		free(url[i]);
	}
}

int
fsd_put_ok(const struct fsd_put *p)
{
	size_t i;

	if (p->n == 0)
		return 0;
	for (i = 0; i < p->n; i++)
		if (!p->rep[i].ok)
			return 0;
	return 1;
}
