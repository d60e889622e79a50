/*
 * lfs_pkt.h - the framing and small grammars of the Git LFS pure-SSH
 * protocol (git-lfs docs/proposals/ssh_adapter.md): git pkt-lines (4 hex
 * digits of length including themselves, "0000" flush, "0001" delim),
 * "key=value" arguments, oids, sizes, and the command line that sshd
 * hands to a forced command (SSH_ORIGINAL_COMMAND).
 *
 * The parsing functions are pure (no I/O, no allocation except where
 * said) so that the unit test and fuzzers can drive them; the reader and
 * writer wrap a file descriptor with bounded buffers. Single-threaded.
 */
#ifndef ARKOR_LFS_LFS_PKT_H
#define ARKOR_LFS_LFS_PKT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/err.h"		/* enum ark_err */
#include "common/log.h"		/* ARK_PRINTF */

#define LFS_PKT_MAX		65520	/* whole packet, header included */
#define LFS_PKT_MAX_DATA	(LFS_PKT_MAX - 4)

enum lfs_pkt_type {
	LFS_PKT_DATA,		/* data/len: payload (may be empty) */
	LFS_PKT_FLUSH,		/* "0000" */
	LFS_PKT_DELIM,		/* "0001" */
	LFS_PKT_EOF,		/* reader only: end of input at a boundary */
};

struct lfs_pkt {
	enum lfs_pkt_type	 type;
	const uint8_t		*data;	/* borrowed from the parsed buffer */
	size_t			 len;
};

/* Parses one packet at the start of buf[0..len). ARK_OK: *pkt describes
 * it and *used is its full size. ARK_EAGAIN: more bytes are needed (not
 * an error). ARK_EPROTO: not a pkt-line (non-hex length, the reserved
 * lengths 0002 and 0003, or a length over LFS_PKT_MAX). */
enum ark_err	 lfs_pkt_parse(const uint8_t *buf, size_t len,
		    struct lfs_pkt *pkt, size_t *used);

/* Writes the 4-digit header for a payload of n bytes (n <=
 * LFS_PKT_MAX_DATA) into hdr (5 bytes: NUL-terminated). */
void		 lfs_pkt_header(size_t n, char hdr[5]);

/* A text packet's payload as a C string in out (cap bytes): the trailing
 * LF removed. ARK_EPROTO when it holds a NUL or another control byte
 * (tab allowed), ARK_ETOOBIG when it does not fit. */
enum ark_err	 lfs_pkt_text(const struct lfs_pkt *pkt, char *out,
		    size_t cap);

/* Value of argument `key` in the `n` strings "key=value" of args, or
 * NULL (the first one wins). A string without '=' matches nothing. */
const char	*lfs_arg_get(char *const *args, size_t n, const char *key);

/* 1 when s is a SHA-256 oid: 64 lower-case hex digits. */
int		 lfs_oid_valid(const char *s);

/* Parses a decimal size (digits only, no sign, no leading zero unless
 * "0", at most 2^63-1). ARK_EINVAL otherwise. */
enum ark_err	 lfs_parse_size(const char *s, int64_t *out);

/* The command of a forced ssh command: splits SSH_ORIGINAL_COMMAND
 * ("git-lfs-transfer '/bucket/repo.git' upload", shell words with
 * single or double quotes as git and git-lfs send them) into at most
 * maxw words in buf (cap bytes, which the words point into).
 * ARK_EINVAL for unbalanced quotes, more than maxw words, a backslash,
 * $, `, or control bytes (no shell ever runs them, but they are never
 * part of a valid request). ARK_ETOOBIG when it does not fit buf. */
enum ark_err	 lfs_cmdline_split(const char *cmd, char *buf, size_t cap,
		    char **words, size_t maxw, size_t *nwords);

/* Maps the path of "git-lfs-transfer <path> <op>" to the repository part
 * of the LFS endpoint: leading slashes and a "~/" dropped, then one or
 * more segments of A-Z a-z 0-9 . _ - joined by '/', none empty, "." or
 * "..", at most 1024 bytes; a trailing '/' is dropped. Writes it to out
 * (cap bytes). ARK_EINVAL otherwise (the object server checks the
 * bucket and repository grammar itself). */
enum ark_err	 lfs_repo_path(const char *path, char *out, size_t cap);

/* ---- I/O on file descriptors ------------------------------------------ */

/* Buffered pkt-line reader on fd (borrowed). */
struct lfs_rd {
	int		 fd;
	uint8_t		 buf[LFS_PKT_MAX * 2];
	size_t		 off, len;	/* unread bytes: buf[off..off+len) */
};

void		 lfs_rd_init(struct lfs_rd *r, int fd);
/* Reads the next packet; pkt->data stays valid until the next call.
 * LFS_PKT_EOF at a clean end of input; ARK_EPROTO for a bad packet or
 * input ending inside one; ARK_EIO for a read error. */
enum ark_err	 lfs_rd_next(struct lfs_rd *r, struct lfs_pkt *pkt);

/* Writer on a stdio stream (borrowed). Errors are sticky: once a write
 * failed every call returns ARK_EIO. */
enum ark_err	 lfs_wr_data(FILE *f, const void *data, size_t len);
enum ark_err	 lfs_wr_text(FILE *f, const char *fmt, ...) ARK_PRINTF(2, 3);
enum ark_err	 lfs_wr_flush(FILE *f);	/* "0000" and fflush */
enum ark_err	 lfs_wr_delim(FILE *f);	/* "0001" */

#endif /* ARKOR_LFS_LFS_PKT_H */
