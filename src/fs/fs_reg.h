/*
 * fs_reg.h - arkorfs's registry client: JSON calls to arkor-registryd
 * (docs/specs/Internal.md) signed with the user's access key (Arkor-HMAC),
 * and the one mapping of registry answers to errno.
 *
 * Threads: any thread may call; each uses its own keep-alive pool
 * (ark_http_fetch). fsr_init() is called once before threads start.
 */
#ifndef ARKOR_FS_FS_REG_H
#define ARKOR_FS_FS_REG_H

#include <jansson.h>

#include "common/err.h"

/* host:port of the registry, the key pair and the per-call timeout; all
 * strings are copied. */
enum ark_err	 fsr_init(const char *registry, const char *key_id,
		    const char *secret, unsigned timeout_ms);
void		 fsr_fini(void);

/* POSTs `body` (takes ownership) to /v1/<route>. Returns 0 and sets *out
 * (caller owns; may be NULL when out is NULL) on HTTP 200, else a negative
 * errno: the registry's answer mapped (404 -ENOENT, 409 -EEXIST or
 * -ENOTEMPTY, 403 -EACCES, 400 -EINVAL, 413/-ENAMETOOLONG on long keys,
 * 507 -ENOSPC, 412 -ESTALE), -EIO for transport failures (logged once per
 * outage). *code (may be NULL) gets the registry's error code, static. */
int		 fsr_call(const char *route, json_t *body, json_t **out);

/* Lazy writes: a body with "durable": false (object/put, object/delete,
 * object/setattr, object/rename) is answered once the change is visible
 * to everyone, before it is on the registry's disk (close, unlink, chmod,
 * utimens, rename of a file: POSIX makes none durable before fsync).
 * fsr_sync() returns once every lazy write this process made is
 * durable: 0 at once when there is none, else one "sync" call (fsync,
 * fsyncdir). */
int		 fsr_sync(void);

/* Sees every call before it is sent (status -1, answer NULL) and after
 * it ended: route, request body, HTTP status (0: no answer) and answer
 * (NULL when none), all borrowed (fs_ncache). Set once before threads
 * start. */
typedef void	 fsr_observer_fn(const char *route, const json_t *body,
		    int status, const json_t *answer);
void		 fsr_set_observer(fsr_observer_fn *fn);
/* Shows the observer a call made some other way (one entry of a batch). */
void		 fsr_observe(const char *route, const json_t *body, int status,
		    const json_t *answer);

/* Runs before every call is sent, and before fsr_sync() looks: it may
 * wait, so that calls reach the registry in the order they were made
 * (fs_unlink's early-answered unlinks). Set once before threads start. */
typedef void	 fsr_gate_fn(const char *route);
void		 fsr_set_gate(fsr_gate_fn *fn);

/* 0 while the registry is unreachable (the last call found it so). */
int		 fsr_reachable(void);

/* The registry's "error" code of the last failed call on this thread
 * ("" when none); borrowed until the next call. */
const char	*fsr_last_error(void);

/* JSON accessors that tolerate absent members. */
const char	*fsr_str(const json_t *j, const char *k);
long long	 fsr_int(const json_t *j, const char *k);

#endif /* ARKOR_FS_FS_REG_H */
