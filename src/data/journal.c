/*
 * journal.c - append-only index journal of one chunk. Reads at start-up go
 * through a 1 MiB buffer; each record carries its own CRC32C so a torn
 * tail is detected record by record.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cksum.h"
#include "common/log.h"
#include "common/util.h"
#include "data/journal.h"
#include "data/needle.h"

#define JOURNAL_MAGIC	"ARKIDX1\0"
#define JOURNAL_VERSION	1
#define JOURNAL_RDBUF	(1024 * 1024)

struct journal {
	int		 fd;
	uint64_t	 end;		/* append position */
	uint64_t	 nrecs;
	char		*path;
};

static void
journal_hdr_encode(unsigned char *p, uint32_t id, uint64_t gen)
{
	memcpy(p, JOURNAL_MAGIC, 8);
	needle_le32enc(p + 8, JOURNAL_VERSION);
	needle_le32enc(p + 12, id);
	needle_le64enc(p + 16, gen);
	needle_le32enc(p + 24, 0);
	needle_le32enc(p + 28, ark_crc32c(0, p, 28));
}

static void
journal_rec_encode(unsigned char *p, const struct journal_rec *r)
{
	needle_le64enc(p, r->key);
	needle_le64enc(p + 8, r->offset);
	needle_le32enc(p + 16, r->size);
	needle_le32enc(p + 20, r->cookie);
	needle_le16enc(p + 24, r->flags);
	needle_le16enc(p + 26, 0);
	needle_le32enc(p + 28, ark_crc32c(0, p, 28));
}

static int
journal_rec_decode(const unsigned char *p, struct journal_rec *r)
{
	if (needle_le32dec(p + 28) != ark_crc32c(0, p, 28))
		return -1;
	r->key = needle_le64dec(p);
	r->offset = needle_le64dec(p + 8);
	r->size = needle_le32dec(p + 16);
	r->cookie = needle_le32dec(p + 20);
	r->flags = needle_le16dec(p + 24);
	return 0;
}

static enum ark_err
journal_pwrite(int fd, const void *buf, size_t len, uint64_t off)
{
	const unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return errno == ENOSPC ? ARK_ENOSPC : ARK_EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return ARK_OK;
}

static enum ark_err
journal_reset(struct journal *j, uint32_t id, uint64_t gen)
{
	unsigned char hdr[JOURNAL_HDR_SIZE];
	enum ark_err rc;

	if (ftruncate(j->fd, 0) != 0) {
		ark_log_warn("journal %s: truncate", j->path);
		return ARK_EIO;
	}
	journal_hdr_encode(hdr, id, gen);
	if ((rc = journal_pwrite(j->fd, hdr, sizeof(hdr), 0)) != ARK_OK) {
		ark_log_warn("journal %s: write header", j->path);
		return rc;
	}
	j->end = JOURNAL_HDR_SIZE;
	j->nrecs = 0;
	return ARK_OK;
}

static enum ark_err
journal_openfd(const char *path, int trunc, struct journal **out)
{
	struct journal *j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return ARK_ENOMEM;
	j->path = ark_xstrdup(path);
	j->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | (trunc ? O_TRUNC : 0),
	    0644);
	if (j->fd < 0) {
		ark_log_warn("journal %s: open", path);
		free(j->path);
		free(j);
		return ARK_EIO;
	}
	*out = j;
	return ARK_OK;
}

enum ark_err
journal_create(const char *path, uint32_t id, uint64_t gen,
    struct journal **out)
{
	struct journal *j;
	enum ark_err rc;

	if ((rc = journal_openfd(path, 1, &j)) != ARK_OK)
		return rc;
	if ((rc = journal_reset(j, id, gen)) != ARK_OK) {
		journal_close(j);
		return rc;
	}
	*out = j;
	return ARK_OK;
}

enum ark_err
journal_open(const char *path, uint32_t id, uint64_t gen,
    int (*fn)(void *arg, const struct journal_rec *r), void *arg, int *reset,
    struct journal **out)
{
	unsigned char hdr[JOURNAL_HDR_SIZE], *buf = NULL;
	struct journal *j;
	uint64_t pos;
	size_t have = 0, used = 0;
	enum ark_err rc;
	int stop = 0;

	*reset = 0;
	if ((rc = journal_openfd(path, 0, &j)) != ARK_OK)
		return rc;
	if (pread(j->fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
	    memcmp(hdr, JOURNAL_MAGIC, 8) != 0 ||
	    needle_le32dec(hdr + 28) != ark_crc32c(0, hdr, 28) ||
	    needle_le32dec(hdr + 8) != JOURNAL_VERSION ||
	    needle_le32dec(hdr + 12) != id || needle_le64dec(hdr + 16) != gen) {
		*reset = 1;
		if ((rc = journal_reset(j, id, gen)) != ARK_OK)
			goto fail;
		*out = j;
		return ARK_OK;
	}
	if ((buf = malloc(JOURNAL_RDBUF)) == NULL) {
		rc = ARK_ENOMEM;
		goto fail;
	}
	pos = JOURNAL_HDR_SIZE;
	while (!stop) {
		struct journal_rec r;
		ssize_t n;

		if (have - used < JOURNAL_REC_SIZE) {
			memmove(buf, buf + used, have - used);
			have -= used;
			used = 0;
			n = pread(j->fd, buf + have, JOURNAL_RDBUF - have,
			    (off_t)(pos + have));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				ark_log_warn("journal %s: read", path);
				rc = ARK_EIO;
				goto fail;
			}
			if (n == 0)
				break;
			have += (size_t)n;
			continue;
		}
		if (journal_rec_decode(buf + used, &r) != 0 ||
		    fn(arg, &r) != 0) {
			stop = 1;
			break;
		}
		used += JOURNAL_REC_SIZE;
		pos += JOURNAL_REC_SIZE;
		j->nrecs++;
	}
	free(buf);
	buf = NULL;
	j->end = pos;
	/* Cut a torn or rejected tail so appends follow the last good one. */
	if (ftruncate(j->fd, (off_t)pos) != 0) {
		ark_log_warn("journal %s: truncate", path);
		rc = ARK_EIO;
		goto fail;
	}
	*out = j;
	return ARK_OK;
fail:
	free(buf);
	journal_close(j);
	return rc;
}

enum ark_err
journal_append(struct journal *j, const struct journal_rec *r, size_t n)
{
	unsigned char stackbuf[64 * JOURNAL_REC_SIZE], *p = stackbuf;
	enum ark_err rc;

	while (n > 0) {
		size_t k = ARK_MIN(n, (size_t)64);

		for (size_t i = 0; i < k; i++)
			journal_rec_encode(p + i * JOURNAL_REC_SIZE, &r[i]);
		rc = journal_pwrite(j->fd, p, k * JOURNAL_REC_SIZE, j->end);
		if (rc != ARK_OK) {
			ark_log_warn("journal %s: append", j->path);
			return rc;
		}
		j->end += k * JOURNAL_REC_SIZE;
		j->nrecs += k;
		r += k;
		n -= k;
	}
	return ARK_OK;
}

enum ark_err
journal_sync(struct journal *j)
{
	if (fdatasync(j->fd) != 0) {
		ark_log_warn("journal %s: fdatasync", j->path);
		return ARK_EIO;
	}
	return ARK_OK;
}

uint64_t
journal_nrecs(const struct journal *j)
{
	return j->nrecs;
}

void
journal_close(struct journal *j)
{
	if (j == NULL)
		return;
	if (j->fd >= 0)
		close(j->fd);
	free(j->path);
	free(j);
}
