/*
 * util.c - infallible control-plane allocation, clocks, randomness, hex,
 * sizes.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "common/util.h"

void *
ark_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		ark_fatal("malloc(%zu)", n);
	return p;
}

void *
ark_xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		ark_fatal("calloc(%zu, %zu)", nmemb, size);
	return p;
}

void *
ark_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		ark_fatal("realloc(%zu)", n);
	return q;
}

char *
ark_xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		ark_fatal("strdup");
	return p;
}

char *
ark_xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		ark_fatal("strndup");
	return p;
}

char *
ark_xasprintf(const char *fmt, ...)
{
	va_list	 ap;
	char	*p;
	int	 n;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0)
		ark_fatal("vasprintf");
	return p;
}

int64_t
ark_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
ark_now_s(void)
{
	return (int64_t)time(NULL);
}

uint64_t
ark_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void
ark_http_date(int64_t epoch_s, char *buf, size_t len)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char *const mons[] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t	 t = (time_t)epoch_s;
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d GMT",
	    days[tm.tm_wday], tm.tm_mday, mons[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec);
}

enum ark_err
ark_random_bytes(void *buf, size_t len)
{
	unsigned char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ark_log_warn("getrandom");
			return ARK_EIO;
		}
		p += n;
		len -= (size_t)n;
	}
	return ARK_OK;
}

#define RANDOM_POOL	32
static _Thread_local uint64_t random_pool[RANDOM_POOL];
static _Thread_local unsigned random_left;

uint64_t
ark_random_u64(void)
{
	uint64_t v;

	if (random_left == 0) {
		if (ark_random_bytes(random_pool, sizeof(random_pool)) !=
		    ARK_OK)
			ark_fatalx("no randomness");
		random_left = RANDOM_POOL;
	}
	v = random_pool[--random_left];
	random_pool[random_left] = 0;
	return v;
}

uint32_t
ark_random_u32(void)
{
	return (uint32_t)ark_random_u64();
}

uint64_t
ark_fnv1a(uint64_t h, const char *s)
{
	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

void
ark_hex_encode(const void *in, size_t len, char *out)
{
	static const char	 digits[] = "0123456789abcdef";
	const unsigned char	*p = in;

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0xf];
	}
	out[2 * len] = '\0';
}

int
ark_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

enum ark_err
ark_hex_decode(const char *in, size_t inlen, void *out, size_t outlen)
{
	unsigned char *p = out;

	if (inlen != 2 * outlen)
		return ARK_EINVAL;
	for (size_t i = 0; i < outlen; i++) {
		int hi = ark_hex_digit((unsigned char)in[2 * i]);
		int lo = ark_hex_digit((unsigned char)in[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return ARK_EINVAL;
		p[i] = (unsigned char)(hi << 4 | lo);
	}
	return ARK_OK;
}

enum ark_err
ark_parse_size(const char *s, uint64_t *out)
{
	static const struct { const char *sfx; unsigned shift; } units[] = {
		{ "", 0 }, { "b", 0 },
		{ "k", 10 }, { "kb", 10 }, { "kib", 10 },
		{ "m", 20 }, { "mb", 20 }, { "mib", 20 },
		{ "g", 30 }, { "gb", 30 }, { "gib", 30 },
		{ "t", 40 }, { "tb", 40 }, { "tib", 40 },
	};
	char			*end;
	unsigned long long	 v;

	if (s == NULL || !isdigit((unsigned char)*s))
		return ARK_EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return ARK_EINVAL;
	if (*end == ' ') {
		/* "3 KiB" is fine; a trailing blank with no unit is junk. */
		while (*end == ' ')
			end++;
		if (*end == '\0')
			return ARK_EINVAL;
	}
	for (size_t i = 0; i < ARK_ARRAY_SIZE(units); i++) {
		if (strcasecmp(end, units[i].sfx) != 0)
			continue;
		if (units[i].shift && v > (UINT64_MAX >> units[i].shift))
			return ARK_EINVAL;
		*out = (uint64_t)v << units[i].shift;
		return ARK_OK;
	}
	return ARK_EINVAL;
}

enum ark_err
ark_credentials_load(const char *path, char **id, char **secret)
{
	char	 line[1024];
	FILE	*f;

	*id = *secret = NULL;
	if ((f = fopen(path, "r")) == NULL)
		return ARK_EIO;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *v, *e;
		char **dst = NULL;

		line[strcspn(line, "\r\n")] = '\0';
		if (strncmp(line, "access key id:", 14) == 0) {
			dst = id;
			v = line + 14;
		} else if (strncmp(line, "secret access key:", 18) == 0) {
			dst = secret;
			v = line + 18;
		} else if (strncmp(line, "ARKOR_ACCESS_KEY_ID=", 20) == 0) {
			dst = id;
			v = line + 20;
		} else if (strncmp(line, "ARKOR_SECRET_ACCESS_KEY=", 24) ==
		    0) {
			dst = secret;
			v = line + 24;
		} else
			continue;
		while (*v == ' ' || *v == '\t')
			v++;
		e = v + strlen(v);
		while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		free(*dst);
		*dst = ark_xstrdup(v);
	}
	fclose(f);
	if (*id == NULL || *secret == NULL) {
		free(*id);
		free(*secret);
		*id = *secret = NULL;
		return ARK_ENOENT;
	}
	return ARK_OK;
}

int
ark_credentials_get(const char *prog, const char *path, char **id,
    char **secret)
{
	enum ark_err e;

	*id = *secret = NULL;
	if (path != NULL) {
		if ((e = ark_credentials_load(path, id, secret)) == ARK_OK)
			return 0;
		fprintf(stderr, "%s: %s: %s\n", prog, path, e == ARK_EIO ?
		    strerror(errno) : "no \"access key id:\" and \"secret "
		    "access key:\" lines");
		return -1;
	}
	if (getenv("ARKOR_ACCESS_KEY_ID") != NULL &&
	    getenv("ARKOR_SECRET_ACCESS_KEY") != NULL) {
		*id = ark_xstrdup(getenv("ARKOR_ACCESS_KEY_ID"));
		*secret = ark_xstrdup(getenv("ARKOR_SECRET_ACCESS_KEY"));
		return 0;
	}
	fprintf(stderr, "%s: no credentials: use --credentials FILE or set "
	    "ARKOR_ACCESS_KEY_ID and ARKOR_SECRET_ACCESS_KEY\n", prog);
	return -1;
}
