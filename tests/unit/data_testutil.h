/*
 * data_testutil.h - helpers shared by the chunk store unit tests: a temp
 * directory per test (mkdtemp under $TMPDIR or /tmp, removed afterwards),
 * deterministic pseudo-random payloads, and file surgery (copy, truncate,
 * flip a byte) to simulate crashes and corruption. Header-only, static.
 */
#ifndef ARKOR_TESTS_DATA_TESTUTIL_H
#define ARKOR_TESTS_DATA_TESTUTIL_H

#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static __attribute__((unused)) char *
tu_mkdtemp(void)
{
	const char *base = getenv("TMPDIR");
	char *p;

	if (base == NULL || *base == '\0')
		base = "/tmp";
	if (asprintf(&p, "%s/arkdata-test.XXXXXX", base) < 0)
		abort();
	if (mkdtemp(p) == NULL)
		abort();
	return p;
}

static __attribute__((unused)) int
tu_rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static __attribute__((unused)) void
tu_rmrf(const char *dir)
{
	(void)nftw(dir, tu_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* Deterministic payload for (key, len). */
static __attribute__((unused)) void
tu_fill(void *buf, size_t len, uint64_t key)
{
	unsigned char *p = buf;
	uint64_t x = key * 0x9e3779b97f4a7c15ULL + len + 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (unsigned char)x;
	}
}

static __attribute__((unused)) char *
tu_path(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		abort();
	return p;
}

static __attribute__((unused)) long long
tu_fsize(const char *dir, const char *name)
{
	char *p = tu_path(dir, name);
	struct stat st;
	long long r = stat(p, &st) == 0 ? (long long)st.st_size : -1;

	free(p);
	return r;
}

/* Copies dir/name to todir/name, keeping at most `limit` bytes (-1: all). */
static __attribute__((unused)) void
tu_copy(const char *dir, const char *todir, const char *name, long long limit)
{
	char *src = tu_path(dir, name), *dst = tu_path(todir, name);
	char buf[65536];
	int in = open(src, O_RDONLY), out;
	long long done = 0;
	ssize_t n;

	if (in < 0)
		abort();
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (out < 0)
		abort();
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (limit >= 0 && done + n > limit)
			n = (ssize_t)(limit - done);
		if (n <= 0 || write(out, buf, (size_t)n) != n)
			break;
		done += n;
	}
	close(in);
	close(out);
	free(src);
	free(dst);
}

static __attribute__((unused)) void
tu_truncate(const char *dir, const char *name, long long len)
{
	char *p = tu_path(dir, name);

	if (truncate(p, (off_t)len) != 0)
		abort();
	free(p);
}

/* XORs the byte at `off` of dir/name with 0xff. */
static __attribute__((unused)) void
tu_flip(const char *dir, const char *name, long long off)
{
	char *p = tu_path(dir, name);
	unsigned char b;
	int fd = open(p, O_RDWR);

	if (fd < 0 || pread(fd, &b, 1, (off_t)off) != 1)
		abort();
	b ^= 0xff;
	if (pwrite(fd, &b, 1, (off_t)off) != 1)
		abort();
	close(fd);
	free(p);
}

static __attribute__((unused)) void
tu_append(const char *dir, const char *name, const void *p, size_t n)
{
	char *path = tu_path(dir, name);
	int fd = open(path, O_WRONLY | O_APPEND);

	if (fd < 0 || write(fd, p, n) != (ssize_t)n)
		abort();
	close(fd);
	free(path);
}

#endif /* ARKOR_TESTS_DATA_TESTUTIL_H */
