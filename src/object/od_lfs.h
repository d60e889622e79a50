/*
 * od_lfs.h - the Git LFS front end of arkor-objectd, internal to
 * od_lfs*.c: the endpoint grammar and transfer tokens (od_lfs_url.c,
 * pure functions), the per-request state, authentication and JSON
 * replies (od_lfs.c), and the batch (od_lfs_batch.c), transfer
 * (od_lfs_xfer.c) and locking (od_lfs_lock.c) APIs.
 *
 * Layout (docs/specs/LFS.md): lfs.url = http://HOST/lfs/<bucket>/<repo>/info/lfs
 * stores object <oid> as the S3 object
 * <repo>/lfs/objects/<oid[0:2]>/<oid[2:4]>/<oid> of <bucket>, and the
 * repository's locks under the registry namespace "<bucket>/<repo>".
 * Everything runs on the request's worker thread (od.h).
 */
#ifndef ARKOR_OBJECT_OD_LFS_H
#define ARKOR_OBJECT_OD_LFS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/err.h"
#include "common/log.h"		/* ARK_PRINTF */
#include "common/token.h"

struct oreq;
struct lfs_tus;

#define LFS_MEDIA_TYPE		"application/vnd.git-lfs+json"
#define LFS_REPO_MAX		512	/* repository path bytes */
#define LFS_OID_LEN		64	/* sha256, lower-case hex */
#define LFS_KEY_MAX		(LFS_REPO_MAX + 96)
#define LFS_LOCK_ID_MAX		64
#define LFS_TOKEN_TTL_S		900	/* transfer hrefs stay valid */
#define LFS_AUTH_MAX		(ARK_TOKEN_MAXLEN + 32)
/* The registry takes at most 100 000 fragments per object. */
#define LFS_FRAGS_MAX		99999u

enum lfs_ep {				/* what the path after info/lfs names */
	LFS_EP_NONE = 0,
	LFS_EP_BATCH,			/* objects/batch */
	LFS_EP_OBJECT,			/* objects/<oid>: transfer PUT/GET */
	LFS_EP_VERIFY,			/* verify */
	LFS_EP_LOCKS,			/* locks: create (POST), list (GET) */
	LFS_EP_LOCKS_VERIFY,		/* locks/verify */
	LFS_EP_UNLOCK,			/* locks/<id>/unlock */
};

struct lfs_path {			/* plain value */
	char		 bucket[64];
	char		 repo[LFS_REPO_MAX + 1];	/* no ".git", may be "" */
	size_t		 base_len;	/* raw path bytes up to .../info/lfs */
	enum lfs_ep	 ep;
	char		 oid[LFS_OID_LEN + 1];		/* LFS_EP_OBJECT */
	char		 lock_id[LFS_LOCK_ID_MAX + 1];	/* LFS_EP_UNLOCK */
};

/* ---- od_lfs_url.c: pure, thread-safe ---- */

/* Parses a raw request path "/lfs/<bucket>/<repo>/info/lfs/<endpoint>".
 * The repository path is segments of [A-Za-z0-9._-] (no "." or ".."
 * segment) joined by '/', at most LFS_REPO_MAX bytes, a trailing ".git"
 * dropped; it may be empty. ARK_EINVAL (with *why) when the path is not
 * an LFS path or names no endpoint. */
enum ark_err	 lfs_path_parse(const char *path, struct lfs_path *out,
		    const char **why);
/* 1 when s is 64 lower-case hex digits. */
int		 lfs_oid_valid(const char *s);
/* The S3 key of oid in the repository (out >= LFS_KEY_MAX). */
void		 lfs_object_key(const struct lfs_path *p, const char *oid,
		    char *out, size_t cap);
/* The S3 key of an interrupted tus upload of oid (od_lfs_tus.c):
 * <repo>/lfs/partial/<oid>. */
void		 lfs_partial_key(const struct lfs_path *p, const char *oid,
		    char *out, size_t cap);
/* The lock namespace "<bucket>/<repo>" ("<bucket>" for "") into out. */
void		 lfs_namespace(const struct lfs_path *p, char *out, size_t cap);
/* Transfer tokens: the value of the Authorization header of an href,
 * "Arkor-LFS <size> <token>", binding the operation (ARK_TOKEN_WRITE
 * upload, ARK_TOKEN_READ download and verify), bucket, repository, oid
 * and size to an expiry, signed with the cluster secret. */
enum ark_err	 lfs_token_header(const struct ark_secret *s,
		    enum ark_token_op op, const struct lfs_path *p,
		    const char *oid, uint64_t size, int64_t expiry, char *out,
		    size_t cap);
/* Parses "Arkor-LFS <size> <token>" into *size and the token (borrowed
 * pointer into h). ARK_EPROTO when malformed. */
enum ark_err	 lfs_token_parse(const char *h, uint64_t *size,
		    const char **token);
/* Checks a token from lfs_token_parse for (op, p, oid, size) at `now`:
 * ark_token_verify's answers. */
enum ark_err	 lfs_token_check(const struct ark_secret *s,
		    enum ark_token_op op, const struct lfs_path *p,
		    const char *oid, uint64_t size, const char *token,
		    int64_t now);
/* Epoch milliseconds as RFC 3339 UTC with second precision ("Z") into
 * out (>= 21 bytes). */
void		 lfs_rfc3339(int64_t ms, char *out, size_t cap);
/* Decodes "user:password" from an "Authorization: Basic ..." value into
 * id (cap idcap) and secret (cap seccap). ARK_EPROTO when not Basic or
 * malformed, ARK_ETOOBIG when a part does not fit. */
enum ark_err	 lfs_basic_parse(const char *h, char *id, size_t idcap,
		    char *secret, size_t seccap);

/* ---- od_lfs.c: request state, authorisation, replies ---- */

struct lfs_req {
	struct oreq	*o;		/* back pointer, for ext_free */
	struct lfs_path	 p;
	int		 basic;		/* authenticated with a key pair */
	int		 token;		/* authorised by a transfer token */
	uint64_t	 token_size;	/* size the token binds */
	char		 token_str[ARK_TOKEN_MAXLEN];
	int		 admin, readonly;
	char		 owner[72];	/* bucket owner */
	int		 can_write;
	int		 can_force;	/* bucket owner or admin */
	/* batch (od_lfs_batch.c) */
	json_t		*in;		/* request body */
	json_t		*objs;		/* borrowed from in */
	json_t		*out;		/* answer objects */
	size_t		 bi;
	int		 upload;
	int		 tus;		/* answer with the tus adapter */
	/* transfers (od_lfs_xfer.c) */
	char		 oid[LFS_OID_LEN + 1];
	uint64_t	 size;
	char		 key[LFS_KEY_MAX];
	struct lfs_tus	*tus_state;	/* od_lfs_tus.c */
	/* lfs_read_json */
	void		(*body_cb)(struct oreq *o, json_t *body);
};

/* JSON answer (body stolen, may be NULL for none) with the LFS media
 * type; at most once per request. */
void		 lfs_reply(struct oreq *o, int status, json_t *body);
/* {"message", "request_id"} answer; 401 adds LFS-Authenticate and
 * WWW-Authenticate. The message is also logged at info level. */
void		 lfs_error(struct oreq *o, int status, const char *fmt, ...)
		    ARK_PRINTF(3, 4);
/* Reads a JSON object body of at most `cap` bytes, then calls cb with it
 * (borrowed) or answers 413/422 itself. */
void		 lfs_read_json(struct oreq *o, size_t cap,
		    void (*cb)(struct oreq *o, json_t *body));
/* Scheme and host of hrefs ("http://127.0.0.1:7480") + the base path of
 * the request (".../info/lfs") + suffix, into a new string. */
char		*lfs_href(struct oreq *o, const char *suffix);
/* The registry's answer as an LFS error for what (e.g. "object"). */
void		 lfs_reg_fail(struct oreq *o, int status, json_t *j,
		    const char *what);

/* ---- the APIs ---- */

void		 lfs_batch(struct oreq *o);		/* od_lfs_batch.c */
void		 lfs_xfer_put(struct oreq *o);		/* od_lfs_xfer.c */
void		 lfs_xfer_get(struct oreq *o);
void		 lfs_xfer_verify(struct oreq *o);
void		 lfs_tus_head(struct oreq *o);		/* od_lfs_tus.c */
void		 lfs_tus_patch(struct oreq *o);
/* From the request's last reference: an interrupted PATCH keeps what is
 * stored for the next one; frees the tus state. */
void		 lfs_tus_end(struct oreq *o, struct lfs_req *lr);
void		 lfs_lock_create(struct oreq *o);	/* od_lfs_lock.c */
void		 lfs_lock_list(struct oreq *o);
void		 lfs_lock_verify(struct oreq *o);
void		 lfs_lock_unlock(struct oreq *o);

#endif /* ARKOR_OBJECT_OD_LFS_H */
