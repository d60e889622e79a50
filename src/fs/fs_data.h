/*
 * fs_data.h - arkorfs's data path to the data servers: a small pool of
 * worker threads (each with its own keep-alive connections), fragment
 * reads with replica failover and end-to-end CRC32C checks, and fragment
 * writes to every replica of a group in parallel.
 *
 * Threads: every function may be called from any thread after
 * fsd_init(); jobs run on the pool threads.
 */
#ifndef ARKOR_FS_FS_DATA_H
#define ARKOR_FS_FS_DATA_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/err.h"

struct fsd_batch;			/* opaque: a set of jobs to wait for */

/* Starts `nthreads` workers; per-request timeout in ms. */
enum ark_err	 fsd_init(unsigned nthreads, unsigned timeout_ms);
void		 fsd_fini(void);

/* Runs fn(arg) on a worker. With b (may be NULL) the job counts in that
 * batch until fn returns. */
void		 fsd_submit(struct fsd_batch *b, void (*fn)(void *), void *arg);
struct fsd_batch *fsd_batch_new(void);
/* Waits until every job submitted with b has finished, then frees b. */
void		 fsd_batch_wait(struct fsd_batch *b);

/* Reads fragment `frag` (an object/get fragment with "urls", "token",
 * "length", "crc32c"; borrowed) whole into buf (>= its length), trying
 * each replica in turn and checking the CRC32C. 0, -EACCES when every
 * replica refused the token (expired: fetch new tokens), -EIO. */
int		 fsd_get(const json_t *frag, void *buf, size_t cap);

/* One fragment write to every replica of an assignment. The caller
 * allocates it (it is large) and keeps buf alive until the batch ends. */
#define FSD_MAX_REPLICAS	8
struct fsd_put;
struct fsd_put_job {
	struct fsd_put	*put;
	char		 url[256];
	int		 ok;
};
struct fsd_put {
	char		 fid[64];
	char		 token[128];
	char		 crc[16];
	const void	*buf;
	size_t		 len;
	struct fsd_put_job rep[FSD_MAX_REPLICAS];
	size_t		 n;
};

/* Queues PUTs of buf[0..len) with CRC32C `crc` as the FileID of
 * assignment `as` ("fid", "urls", "token"; copied) to each of its
 * replicas, in batch b. After fsd_batch_wait(b), fsd_put_ok() says
 * whether every replica acknowledged (failures are logged). Must not be
 * called from a pool job (the caller waits on the pool). */
void		 fsd_put_start(struct fsd_batch *b, struct fsd_put *p,
		    const json_t *as, const void *buf, size_t len,
		    uint32_t crc);
/* As fsd_put_start, but the PUTs run at once from the calling thread
 * (no hand-off to the pool: for a small fragment, the thread switches
 * cost more than the bytes) and are done when it returns. */
void		 fsd_put_now(struct fsd_put *p, const json_t *as,
		    const void *buf, size_t len, uint32_t crc);
int		 fsd_put_ok(const struct fsd_put *p);

#endif /* ARKOR_FS_FS_DATA_H */
