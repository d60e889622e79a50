/*
 * od.h - arkor-objectd internals shared by its front ends (S3 in od_s3.c,
 * and others): the request context, replies, registry calls, and the
 * fragment upload (od_put.c) and download (od_get.c) pipelines.
 *
 * Everything of a request runs on the HTTP worker thread that accepted it:
 * registry and data-server calls use that thread's async client od_cli,
 * so no thread blocks on I/O. A request context (struct oreq) is
 * reference counted: the HTTP request holds one reference until its
 * finish callback, every outstanding registry or data-server exchange
 * holds one. A callback that finds the request gone (dead) only drops its
 * reference.
 */
#ifndef ARKOR_OBJECT_OD_H
#define ARKOR_OBJECT_OD_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/http_client.h"
#include "common/http_server.h"
#include "common/token.h"
#include "object/s3_checksum.h"
#include "object/s3_chunked.h"
#include "object/s3_error.h"
#include "object/s3_req.h"
#include "object/od_fcache.h"
#include "object/s3_sigv4.h"
#include "object/s3_view.h"
#include "object/s3_xml.h"
#include "object/s3_xmlw.h"

struct od_conf {			/* set once by main */
	const char	*region;
	uint64_t	 fragment_size;	/* bytes per fragment */
	unsigned	 window;	/* fragments in flight per upload */
	const char	*reg_host;	/* registry */
	uint16_t	 reg_port;
	unsigned	 fid_pool;	/* spare FileIDs per worker thread */
	struct od_fcache *fcache;	/* small fragments (od_fcache.h) */
};

extern struct od_conf			 od_conf;
extern struct ark_secret		 od_secret;
extern __thread struct ark_http_client	*od_cli;	/* this worker's */

/* ---- access keys ---- */

struct od_key {
	char		 id[S3_SIGV4_AKID_MAX];
	char		 secret[S3_SIGV4_SECRET_MAX];
	char		 user[72];
	int64_t		 expires;
	int		 writer;	/* known not read-only */
};

/* Cached secret of access key `id` (1 found, 0 not). */
int		 od_key_lookup(const char *id, struct od_key *out);
void		 od_key_store(const char *id, const char *secret,
		    const char *user);
void		 od_key_wipe(void);
/* Marks cached key `id` as able to write (not read-only): only such
 * requests take FileIDs from the spare pool (od_pool.c). */
void		 od_key_set_writer(const char *id, int writer);
/* s3_sigv4_cfg.secret callback over the cache. */
enum ark_err	 od_secret_cb(void *arg, const char *akid, char *secret,
		    size_t cap);
/* Access key id of a request from its V4/V2 header or query; "" if none. */
void		 od_akid(const struct s3_view *v, char *out, size_t cap);

/* ---- request context ---- */

struct oreq;
struct frag;

typedef void	(*od_reg_cb)(struct oreq *o, int status, json_t *j);

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
	int64_t	 group;		/* of the current FileID */
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
	void			*ext;		/* front end's own state */
	void			(*ext_free)(void *ext);
	/* When set, od_error (and so od_put_fail, od_reg_fail) answers
	 * through it instead of with an S3 XML body (Git LFS: JSON); it
	 * runs once, with o->replied already set. */
	void			(*error_reply)(struct oreq *o, enum s3_code sc,
				    const char *msg);
	/* When set, sees every decoded body byte of an upload, in order,
	 * as od_put_data takes it (LFS tus: a resumable SHA-256). */
	void			(*tap)(struct oreq *o, const void *p, size_t n);
	/* CORS (od_cors.c): the response headers of the bucket's rule
	 * matching the request's Origin, {name: value} added to every
	 * reply (NULL: none); what runs once they are known. */
	json_t			*cors_hdrs;
	void			(*cors_next)(struct oreq *o);
	/* Conditional writes (od_s3_write_cond): the if_version the
	 * registry write carries (-1: none), and what runs once known. */
	int64_t			 if_version;
	void			(*cond_next)(struct oreq *o);

	/* Upload pipeline (od_put.c); commit runs once every fragment is
	 * stored on all its replicas. */
	void			(*commit)(struct oreq *o);
	struct s3_chunked	*ch;
	struct s3_cksum		*ck;
	struct s3_cksum_req	 ckr;
	struct frag		*frags, *frags_tail;	/* in offset order */
	struct frag		*cur;			/* being filled */
	struct frag		*queued;	/* sealed, waiting for the window */
	unsigned		 inflight;
	json_t			*assigned;	/* spare assignments */
	int			 assigning;
	unsigned		 assign_want;	/* of the call in flight */
	/* Groups a fragment write of this request failed in: their
	 * assignments are passed over (`skipped` in a row, bounded) until
	 * the registry stops handing them out. */
	int64_t			 bad_groups[4];
	unsigned		 nbad_groups;
	unsigned		 skipped;
	int			 body_done;
	int			 paused;
	enum s3_code		 err;
	uint64_t		 total;		/* bytes of object so far */
	int64_t			 declared;	/* expected size, -1 unknown */
	json_t			*meta;		/* user_meta */
	char			*ctype;

	/* Download pipeline (od_get.c): obj is the registry's object with
	 * fragments (fid, offset, length, crc32c, urls, token). */
	json_t			*obj;
	uint64_t		 gstart, gend;	/* object range, inclusive */
	int			 gstatus;	/* 200 or 206 */
	int			 gstarted;	/* the reply head is out */
	struct od_gslot		*gslot[2];	/* head, read-ahead */
	struct ark_http_creq	*gcreq;		/* UploadPartCopy's source */

	/* DeleteObjects */
	struct ark_buf		 body;
	struct s3_xml_delete	 dl;
	size_t			 di;
	int			*dres;		/* per key: 0 deleted, else code */
};


/* A context for req holding the request's reference (dropped when the
 * HTTP request finishes). */
struct oreq	*od_oreq_new(struct ark_http_req *req);
/* The last reference runs o->ext_free first, while the fragment list
 * still describes what was stored. */
void		 od_oreq_unref(struct oreq *o);
void		 od_frag_unref(struct frag *f);

/* ---- replies (each at most once; nothing once the request is gone) ---- */

void		 od_headers_common(struct oreq *o);
void		 od_error(struct oreq *o, enum s3_code sc, const char *msg);
void		 od_xml_reply(struct oreq *o, int status, struct ark_buf *b);
void		 od_xml_finish(struct oreq *o, struct s3_xmlw *w,
		    struct ark_buf *out);
void		 od_empty_reply(struct oreq *o, int status);

/* ---- registry ---- */

/* POSTs `body` (stolen) to /v1/<route>, as the service when o has no key
 * (or svc is set), else signed as the request's user. cb runs later with
 * the status (-1 on transport errors) and the parsed answer (borrowed,
 * may be NULL); not at all if the request is gone. */
void		 od_reg_call(struct oreq *o, const char *route, json_t *body,
		    int svc, od_reg_cb cb);
/* Registers the registry calls' metrics; once, before serving. */
void		 od_reg_init(void);
/* Drops the worker thread's lookups still waiting to be sent. */
void		 od_reg_thread_fini(void);
/* Replies with the S3 error for a failed registry answer; nf for 404. */
void		 od_reg_fail(struct oreq *o, int status, json_t *j,
		    enum s3_code nf);
const char	*od_jstr(const json_t *j, const char *k);	/* "" if none */
/* A key of a registry list answer asked with "rows": [key, size, etag,
 * mtime_ms] (strings "" and numbers 0 where missing). */
struct od_row {
	const char	*key, *etag;
	uint64_t	 size;
	int64_t		 mtime_ms;
};
void		 od_list_row(const json_t *e, struct od_row *out);
int64_t		 od_jint(const json_t *j, const char *k);
/* x-amz-meta-* headers of v (the request's, or a POST form's fields)
 * as {lower-case name: value}. */
json_t		*od_user_meta(const struct s3_view *v);
/* S3_ERR_METADATA_TOO_LARGE when v's user metadata passes 2 KB. */
enum s3_code	 od_user_meta_check(const struct s3_view *v);
/* S3_ERR_INVALID_STORAGE_CLASS for an x-amz-storage-class S3 lacks. */
enum s3_code	 od_storage_class_check(const struct s3_view *v);

/* ---- spare FileIDs (od_pool.c) ---- */

/* Each worker thread keeps up to od_conf.fid_pool spare assignments
 * (FileID, replica URLs, write token) left over from its assign calls, so
 * that a small upload usually needs no assign round trip: its fragment
 * goes out at once and only the commit talks to the registry. Entries
 * are used for at most OD_POOL_AGE_S seconds and well before their token
 * expires; a failed fragment write empties the pool (the group may be
 * gone). Only requests of keys known to write use it. */
#define OD_POOL_AGE_S		30
/* Moves up to `want` spare assignments to o->assigned; the count. */
unsigned	 od_pool_take(struct oreq *o, unsigned want);
/* Keeps the assignments of `arr` from index `from` on (borrowed). */
void		 od_pool_put(json_t *arr, size_t from, int64_t expires);
void		 od_pool_flush(void);
/* How many extra FileIDs an assign call for o should ask for. */
unsigned	 od_pool_extra(const struct oreq *o);

/* ---- pipelines ---- */

/* Streams the request body into fragments. Before: o->ck (the checksums to
 * compute), o->declared (size or -1), o->commit;
 * o->ch for aws-chunked bodies. Errors reply through od_put_fail. */
void		 od_put_stream(struct oreq *o);
/* Feeds decoded body bytes (the s3_chunked data callback). */
enum s3_code	 od_put_data(void *arg, const void *p, size_t n);
void		 od_put_fail(struct oreq *o, enum s3_code sc, const char *msg);
/* Sends queued fragments while the window has room, resumes a paused
 * client once none waits, commits when the body is done and all are
 * stored. Front ends feeding od_put_data from their own body callbacks
 * (POST forms) call it after each piece. */
void		 od_put_pump(struct oreq *o);
/* The stored fragments as the registry's [{fid, offset, length,
 * crc32c}]; caller owns. */
json_t		*od_put_fragments(const struct oreq *o);
/* For bodies the front end produces itself (UploadPartCopy): set
 * o->body_done first (no client to pause), feed with od_put_data,
 * od_put_seal ends a fragment early, od_put_finish writes and commits. */
void		 od_put_seal(struct oreq *o);
void		 od_put_finish(struct oreq *o);
/* Answers `status` (200 or 206, headers already added) with bytes
 * start..end (inclusive, start <= end) of o->obj. The reply head goes
 * out with the first fragment's bytes, once they arrived and checked
 * out: a small object leaves in one write, and an object whose first
 * fragment no replica can serve gets a 503 instead of a cut-off 200. */
void		 od_get_stream(struct oreq *o, int status, uint64_t start,
		    uint64_t end);
/* Registers the download's metrics; once, before serving. */
void		 od_get_init(void);
/* Cancels the download's fetches in flight; frees its state. */
void		 od_get_cancel(struct oreq *o);
void		 od_get_free(struct oreq *o);

/* ---- S3 front end (od_s3.c) ---- */

void		 od_s3_configure(const char *domain, const char *region);
void		 od_s3_handler(struct ark_http_req *req, void *arg);

/* ---- Git LFS front end (od_lfs*.c, docs/specs/LFS.md) ---- */

/* 1 when req is for the Git LFS API: a path /lfs/<bucket>/.../info/lfs...
 * not signed the S3 way. */
int		 od_lfs_match(struct ark_http_req *req);
void		 od_lfs_handler(struct ark_http_req *req, void *arg);

#endif
