/*
 * token.c - HMAC-SHA256 access tokens and the cluster secret file.
 * The MAC input is NUL-separated with the FileID last, so no two
 * (op, expiry, fid) triples share an input. Token text has exactly one
 * accepted spelling (canonical decimal, unpadded base64url).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/cksum.h"
#include "common/log.h"
#include "common/token.h"
#include "common/util.h"

#define TOKEN_DOMAIN	"arkor-token-v1"
#define TOKEN_MACLEN	32
#define TOKEN_MAC_B64	43		/* unpadded base64url of 32 bytes */

const char *
ark_token_op_name(enum ark_token_op op)
{
	switch (op) {
	case ARK_TOKEN_READ:
		return "read";
	case ARK_TOKEN_WRITE:
		return "write";
	case ARK_TOKEN_DELETE:
		return "delete";
	case ARK_TOKEN_ADMIN:
		return "admin";
	}
	return NULL;
}

enum ark_err
ark_secret_set(struct ark_secret *s, const void *key, size_t len)
{
	if (len < ARK_SECRET_MINLEN || len > ARK_SECRET_MAXLEN)
		return ARK_EINVAL;
	memcpy(s->key, key, len);
	s->len = len;
	return ARK_OK;
}

void
ark_secret_wipe(struct ark_secret *s)
{
	OPENSSL_cleanse(s, sizeof(*s));
}

static int
all_hex(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') ||
		    (p[i] >= 'a' && p[i] <= 'f') ||
		    (p[i] >= 'A' && p[i] <= 'F')))
			return 0;
	return 1;
}

enum ark_err
ark_secret_load(const char *path, struct ark_secret *s)
{
	unsigned char	 raw[2 * ARK_SECRET_MAXLEN + 2];
	struct stat	 st;
	enum ark_err	 rc = ARK_EIO;
	size_t		 n = 0, t;
	ssize_t		 r;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		if (errno == ENOENT) {
			ark_log_warnx("cluster secret %s does not exist", path);
			return ARK_ENOENT;
		}
		ark_log_warn("cluster secret %s", path);
		return ARK_EIO;
	}
	if (fstat(fd, &st) == -1) {
		ark_log_warn("cluster secret %s: fstat", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ark_log_warnx("cluster secret %s is not a regular file", path);
		rc = ARK_EPERM;
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		ark_log_warnx("cluster secret %s has mode %04o, which lets "
		    "other users read or change it; refusing to use it "
		    "(fix: chmod 600 %s)", path, (unsigned)(st.st_mode & 07777),
		    path);
		rc = ARK_EPERM;
		goto out;
	}
	while (n < sizeof(raw)) {
		r = read(fd, raw + n, sizeof(raw) - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ark_log_warn("cluster secret %s: read", path);
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	rc = ARK_EINVAL;
	/* Hex form: trailing whitespace ignored. */
	t = n;
	while (t > 0 && (raw[t - 1] == '\n' || raw[t - 1] == '\r' ||
	    raw[t - 1] == ' ' || raw[t - 1] == '\t'))
		t--;
	if (t >= 2 * ARK_SECRET_MINLEN && t % 2 == 0 && all_hex(raw, t)) {
		if (t / 2 > ARK_SECRET_MAXLEN)
			goto toolong;
		if (ark_hex_decode((const char *)raw, t, s->key, t / 2) !=
		    ARK_OK)
			goto out;
		s->len = t / 2;
		rc = ARK_OK;
		goto out;
	}
	if (n > ARK_SECRET_MAXLEN) {
toolong:
		ark_log_warnx("cluster secret %s is too long (at most %d "
		    "bytes of key)", path, ARK_SECRET_MAXLEN);
		goto out;
	}
	if (n < ARK_SECRET_MINLEN) {
		ark_log_warnx("cluster secret %s is too short: it needs at "
		    "least %d bytes (or %d hex digits)", path,
		    ARK_SECRET_MINLEN, 2 * ARK_SECRET_MINLEN);
		goto out;
	}
	memcpy(s->key, raw, n);
	s->len = n;
	rc = ARK_OK;
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	close(fd);
	return rc;
}

static enum ark_err
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return ARK_EIO;
		c += w;
		n -= (size_t)w;
	}
	return ARK_OK;
}

enum ark_err
ark_secret_create(const char *path, struct ark_secret *s)
{
	unsigned char	 key[32];
	char		 hex[2 * sizeof(key) + 2], *tmp, *dcopy;
	enum ark_err	 rc = ARK_EIO;
	int		 fd, dfd;

	if ((rc = ark_random_bytes(key, sizeof(key))) != ARK_OK)
		return rc;
	ark_hex_encode(key, sizeof(key), hex);
	hex[2 * sizeof(key)] = '\n';
	hex[2 * sizeof(key) + 1] = '\0';

	/* Write a private temp file, then link() it into place: readers see
	 * either no file or the complete one, and an existing secret is
	 * never replaced (link fails with EEXIST). */
	tmp = ark_xasprintf("%s.tmp.XXXXXX", path);
	if ((fd = mkstemp(tmp)) == -1) {
		ark_log_warn("cluster secret: cannot create %s", tmp);
		rc = ARK_EIO;
		goto out_free;
	}
	if (fchmod(fd, 0600) == -1 ||
	    write_all(fd, hex, 2 * sizeof(key) + 1) != ARK_OK ||
	    fsync(fd) == -1) {
		ark_log_warn("cluster secret: writing %s", tmp);
		close(fd);
		rc = ARK_EIO;
		goto out_unlink;
	}
	close(fd);
	if (link(tmp, path) == -1) {
		if (errno == EEXIST) {
			ark_log_warnx("cluster secret %s already exists; not "
			    "replacing it", path);
			rc = ARK_EEXIST;
		} else {
			ark_log_warn("cluster secret: link %s", path);
			rc = ARK_EIO;
		}
		goto out_unlink;
	}
	dcopy = ark_xstrdup(path);
	if ((dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC))
	    != -1) {
		(void)fsync(dfd);
		close(dfd);
	}
	free(dcopy);
	memcpy(s->key, key, sizeof(key));
	s->len = sizeof(key);
	rc = ARK_OK;
	ark_log_info("created cluster secret %s", path);
out_unlink:
	unlink(tmp);
out_free:
	free(tmp);
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(hex, sizeof(hex));
	return rc;
}

enum ark_err
ark_secret_load_or_create(const char *path, struct ark_secret *s)
{
	struct stat	st;
	enum ark_err	rc;

	if (stat(path, &st) == -1 && errno == ENOENT) {
		rc = ark_secret_create(path, s);
		if (rc != ARK_EEXIST)
			return rc;
		/* Lost a race with another creator: use theirs. */
	}
	return ark_secret_load(path, s);
}

#define TOKEN_FID_MAX	256

static enum ark_err
token_mac(const struct ark_secret *s, enum ark_token_op op, const char *fid,
    int64_t expiry, unsigned char mac[TOKEN_MACLEN])
{
	const char	*opname = ark_token_op_name(op);
	unsigned char	 msg[sizeof(TOKEN_DOMAIN) + 8 + 24 + TOKEN_FID_MAX];
	size_t		 fidlen;
	int		 n;

	if (opname == NULL || fid == NULL || expiry < 0 || s->len == 0 ||
	    (fidlen = strlen(fid)) > TOKEN_FID_MAX)
		return ARK_EINVAL;
	/* "arkor-token-v1\0<op>\0<expiry>\0" then the fid. */
	n = snprintf((char *)msg, sizeof(msg), "%s%c%s%c%" PRId64 "%c",
	    TOKEN_DOMAIN, 0, opname, 0, expiry, 0);
	memcpy(msg + n, fid, fidlen);
	return ark_hmac_sha256(s->key, s->len, msg, (size_t)n + fidlen, mac);
}

enum ark_err
ark_token_mint(const struct ark_secret *s, enum ark_token_op op,
    const char *fid, int64_t expiry, char *out, size_t outlen)
{
	unsigned char	mac[TOKEN_MACLEN];
	enum ark_err	rc;
	int		n;

	if (outlen < ARK_TOKEN_MAXLEN)
		return ARK_EINVAL;
	if ((rc = token_mac(s, op, fid, expiry, mac)) != ARK_OK)
		return rc;
	n = snprintf(out, outlen, "%" PRId64 ".", expiry);
	ark_base64_encode(mac, sizeof(mac), out + n, 1);
	return ARK_OK;
}

enum ark_err
ark_token_verify(const struct ark_secret *s, enum ark_token_op op,
    const char *fid, const char *token, int64_t now)
{
	unsigned char	 want[TOKEN_MACLEN], got[TOKEN_MACLEN];
	const char	*dot, *p;
	int64_t		 expiry = 0;
	size_t		 n;
	enum ark_err	 rc;

	if (token == NULL || (dot = strchr(token, '.')) == NULL)
		return ARK_EPROTO;
	/* Canonical decimal: digits only, no leading zero, fits int64. */
	if (dot == token || dot - token > 19 || (token[0] == '0' && dot - token > 1))
		return ARK_EPROTO;
	for (p = token; p < dot; p++) {
		if (*p < '0' || *p > '9')
			return ARK_EPROTO;
		if (expiry > (INT64_MAX - (*p - '0')) / 10)
			return ARK_EPROTO;
		expiry = expiry * 10 + (*p - '0');
	}
	if (strlen(dot + 1) != TOKEN_MAC_B64 ||
	    ark_base64_decode(dot + 1, TOKEN_MAC_B64, got, sizeof(got), &n, 1)
	    != ARK_OK || n != sizeof(got))
		return ARK_EPROTO;
	if ((rc = token_mac(s, op, fid, expiry, want)) != ARK_OK)
		return rc;
	if (CRYPTO_memcmp(want, got, sizeof(want)) != 0)
		return ARK_EPERM;
	if (expiry < now)
		return ARK_EEXPIRED;
	return ARK_OK;
}

/* ---- Arkor-HMAC request signatures ---- */

void
ark_reqsig(const char *secret, const char *method, const char *path,
    int64_t ts, const void *body, size_t len, char out[ARK_REQSIG_LEN])
{
	unsigned char	 dig[32], mac[32];
	char		 hex[65], *msg;

	ark_hash(ARK_HASH_SHA256, body, len, dig);
	ark_hex_encode(dig, sizeof(dig), hex);
	msg = ark_xasprintf("arkor-req-v1\n%s\n%s\n%" PRId64 "\n%s", method,
	    path, ts, hex);
	if (ark_hmac_sha256(secret, strlen(secret), msg, strlen(msg), mac) !=
	    ARK_OK)
		out[0] = '\0';		/* matches nothing */
	else
		ark_base64_encode(mac, 32, out, 1);
	free(msg);
	OPENSSL_cleanse(mac, sizeof(mac));
}

void
ark_reqsig_auth(const char *key_id, const char *secret, const char *path,
    const void *body, size_t len, char *out, size_t cap)
{
	char	sig[ARK_REQSIG_LEN];
	int64_t	now = ark_now_s();

	ark_reqsig(secret, "POST", path, now, body, len, sig);
	snprintf(out, cap, "Arkor-HMAC %s:%" PRId64 ":%s", key_id, now, sig);
}
