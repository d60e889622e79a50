/*
 * lfs_pkt.c - pkt-line framing, arguments, oids, sizes, the forced
 * command line and repository paths of the Git LFS pure-SSH protocol.
 * Everything that reads input checks bounds itself: the input is the
 * ssh client's, untrusted.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "lfs/lfs_pkt.h"

enum ark_err
lfs_pkt_parse(const uint8_t *buf, size_t len, struct lfs_pkt *pkt,
    size_t *used)
{
	size_t n = 0;
	int i, v;

	if (len < 4)
		return ARK_EAGAIN;
	for (i = 0; i < 4; i++) {
		if ((v = ark_hex_digit(buf[i])) < 0)
			return ARK_EPROTO;
		n = n << 4 | (size_t)v;
	}
	if (n == 0 || n == 1) {
		pkt->type = n == 0 ? LFS_PKT_FLUSH : LFS_PKT_DELIM;
		pkt->data = NULL;
		pkt->len = 0;
		*used = 4;
		return ARK_OK;
	}
	/* 0002 (response-end) belongs to git's protocol v2, not to this
	 * one; 0003 cannot hold its own header. */
	if (n < 4 || n > LFS_PKT_MAX)
		return ARK_EPROTO;
	if (len < n)
		return ARK_EAGAIN;
	pkt->type = LFS_PKT_DATA;
	pkt->data = buf + 4;
	pkt->len = n - 4;
	*used = n;
	return ARK_OK;
}

void
lfs_pkt_header(size_t n, char hdr[5])
{
	static const char hex[] = "0123456789abcdef";
	size_t t = n + 4;

	hdr[0] = hex[(t >> 12) & 15];
	hdr[1] = hex[(t >> 8) & 15];
	hdr[2] = hex[(t >> 4) & 15];
	hdr[3] = hex[t & 15];
	hdr[4] = '\0';
}

enum ark_err
lfs_pkt_text(const struct lfs_pkt *pkt, char *out, size_t cap)
{
	size_t n, i;

	if (pkt->type != LFS_PKT_DATA)
		return ARK_EPROTO;
	n = pkt->len;
	if (n > 0 && pkt->data[n - 1] == '\n')
		n--;
	for (i = 0; i < n; i++)
		if (pkt->data[i] < 0x20 && pkt->data[i] != '\t')
			return ARK_EPROTO;
	if (n >= cap)
		return ARK_ETOOBIG;
	memcpy(out, pkt->data, n);
	out[n] = '\0';
	return ARK_OK;
}

const char *
lfs_arg_get(char *const *args, size_t n, const char *key)
{
	size_t kl = strlen(key), i;

	for (i = 0; i < n; i++)
		if (strncmp(args[i], key, kl) == 0 && args[i][kl] == '=')
			return args[i] + kl + 1;
	return NULL;
}

int
lfs_oid_valid(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}

enum ark_err
lfs_parse_size(const char *s, int64_t *out)
{
	int64_t v = 0;
	const char *p;

	if (*s == '\0' || (s[0] == '0' && s[1] != '\0'))
		return ARK_EINVAL;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return ARK_EINVAL;
		if (v > (INT64_MAX - (*p - '0')) / 10)
			return ARK_EINVAL;
		v = v * 10 + (*p - '0');
	}
	*out = v;
	return ARK_OK;
}

enum ark_err
lfs_cmdline_split(const char *cmd, char *buf, size_t cap, char **words,
    size_t maxw, size_t *nwords)
{
	size_t o = 0, nw = 0;
	const char *p = cmd;
	char q;

	*nwords = 0;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (nw == maxw)
			return ARK_EINVAL;
		words[nw++] = buf + o;
		q = 0;
		for (; *p != '\0'; p++) {
			unsigned char c = (unsigned char)*p;

			if (q == 0 && (c == ' ' || c == '\t'))
				break;
			if (c < 0x20 || c == 0x7f || c == '\\' || c == '$' ||
			    c == '`')
				return ARK_EINVAL;
			if (q == 0 && (c == '\'' || c == '"')) {
				q = (char)c;
				continue;
			}
			if (q != 0 && c == (unsigned char)q) {
				q = 0;
				continue;
			}
			if (o + 1 >= cap)
				return ARK_ETOOBIG;
			buf[o++] = (char)c;
		}
		if (q != 0)
			return ARK_EINVAL;
		if (o + 1 >= cap)
			return ARK_ETOOBIG;
		buf[o++] = '\0';
	}
	*nwords = nw;
	return ARK_OK;
}

static bool
repo_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

enum ark_err
lfs_repo_path(const char *path, char *out, size_t cap)
{
	const char *p = path, *seg;
	size_t o = 0, sl;

	if (p[0] == '~' && p[1] == '/')
		p += 2;
	while (*p == '/')
		p++;
	if (*p == '\0' || strlen(p) > 1024)
		return ARK_EINVAL;
	while (*p != '\0') {
		seg = p;
		while (*p != '\0' && *p != '/') {
			if (!repo_char(*p))
				return ARK_EINVAL;
			p++;
		}
		sl = (size_t)(p - seg);
		if (sl == 0 || (sl == 1 && seg[0] == '.') ||
		    (sl == 2 && seg[0] == '.' && seg[1] == '.'))
			return ARK_EINVAL;
		if (o + sl + 2 > cap)
			return ARK_ETOOBIG;
		if (o > 0)
			out[o++] = '/';
		memcpy(out + o, seg, sl);
		o += sl;
		if (*p == '/') {
			p++;
			if (*p == '\0')		/* one trailing slash */
				break;
		}
	}
	out[o] = '\0';
	return ARK_OK;
}

/* ---- I/O ------------------------------------------------------------------ */

void
lfs_rd_init(struct lfs_rd *r, int fd)
{
	r->fd = fd;
	r->off = r->len = 0;
}

enum ark_err
lfs_rd_next(struct lfs_rd *r, struct lfs_pkt *pkt)
{
	enum ark_err e;
	size_t used;
	ssize_t n;

	for (;;) {
		e = lfs_pkt_parse(r->buf + r->off, r->len, pkt, &used);
		if (e == ARK_OK) {
			r->off += used;
			r->len -= used;
			return ARK_OK;
		}
		if (e != ARK_EAGAIN)
			return e;
		/* Keep the partial packet at the front, then fill. */
		if (r->off > 0) {
			memmove(r->buf, r->buf + r->off, r->len);
			r->off = 0;
		}
		do
			n = read(r->fd, r->buf + r->len,
			    sizeof(r->buf) - r->len);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return ARK_EIO;
		if (n == 0) {
			if (r->len > 0)
				return ARK_EPROTO;
			pkt->type = LFS_PKT_EOF;
			pkt->data = NULL;
			pkt->len = 0;
			return ARK_OK;
		}
		r->len += (size_t)n;
	}
}

enum ark_err
lfs_wr_data(FILE *f, const void *data, size_t len)
{
	const uint8_t *p = data;
	char hdr[5];
	size_t n;

	if (ferror(f))
		return ARK_EIO;
	do {
		n = len > LFS_PKT_MAX_DATA ? LFS_PKT_MAX_DATA : len;
		lfs_pkt_header(n, hdr);
		if (fwrite(hdr, 1, 4, f) != 4 ||
		    (n > 0 && fwrite(p, 1, n, f) != n))
			return ARK_EIO;
		p += n;
		len -= n;
	} while (len > 0);
	return ARK_OK;
}

enum ark_err
lfs_wr_text(FILE *f, const char *fmt, ...)
{
	char line[LFS_PKT_MAX_DATA + 1];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return ARK_EIO;
	if ((size_t)n > sizeof(line) - 2)	/* cut, keep room for LF */
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	return lfs_wr_data(f, line, (size_t)n);
}

enum ark_err
lfs_wr_flush(FILE *f)
{
	if (ferror(f) || fwrite("0000", 1, 4, f) != 4 || fflush(f) != 0)
		return ARK_EIO;
	return ARK_OK;
}

enum ark_err
lfs_wr_delim(FILE *f)
{
	if (ferror(f) || fwrite("0001", 1, 4, f) != 4)
		return ARK_EIO;
	return ARK_OK;
}
