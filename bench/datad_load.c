/*
 * datad_load.c - closed-loop HTTP/1.1 load generator for the datad
 * benchmark: C connections, one blocking thread each, keep-alive.
 *
 *   datad_load put|get|plain PORT KEYFILE CONNS SECONDS SIZE COUNT [GROUP]
 *
 * put: PUT SIZE-byte needles with fresh keys (thread t, i-th: key
 * t*2^32+i+1) for SECONDS; get: GET random keys of [1, COUNT] written by
 * `put` with CONNS=1 before (thread 0 keys); plain: GET /f/<n> of COUNT
 * static files (nginx). Tokens are minted up front. Prints
 * "ops=<n> secs=<s> ops_per_s=<r> mb_per_s=<m> errors=<e>".
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/token.h"
#include "common/util.h"

static const char *mode;
static int port, conns, secs;
static uint64_t size, count;
static unsigned group;
static struct ark_secret secret;
static char *body;
static char (*rtok)[ARK_TOKEN_MAXLEN];	/* read tokens for keys 1..count */
static _Atomic uint64_t ops, errors, bytes;
static uint64_t deadline;

static int
dial(void)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		perror("connect");
		exit(1);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int
sendall(int fd, const void *p, size_t n)
{
	const char *s = p;

	while (n > 0) {
		ssize_t k = write(fd, s, n);

		if (k <= 0)
			return -1;
		s += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Reads one response; returns status or -1. */
static int
response(int fd, char *buf, size_t cap)
{
	size_t have = 0;
	char *eoh = NULL, *cl;
	long long len = 0, got;
	int status;

	while (eoh == NULL) {
		ssize_t k = read(fd, buf + have, cap - have - 1);

		if (k <= 0)
			return -1;
		have += (size_t)k;
		buf[have] = '\0';
		eoh = strstr(buf, "\r\n\r\n");
	}
	status = atoi(buf + 9);
	if ((cl = strcasestr(buf, "\r\nContent-Length:")) != NULL && cl < eoh)
		len = atoll(cl + 17);
	got = (long long)(have - (size_t)(eoh + 4 - buf));
	while (got < len) {
		ssize_t k = read(fd, buf, cap);

		if (k <= 0)
			return -1;
		got += k;
	}
	atomic_fetch_add(&bytes, (uint64_t)len);
	return status;
}

static void *
worker(void *arg)
{
	unsigned t = (unsigned)(uintptr_t)arg;
	size_t cap = 1 << 20;
	char *buf = ark_xmalloc(cap), hdr[512], fid[64], tok[ARK_TOKEN_MAXLEN];
	uint64_t i = 0, x = 0x9e3779b97f4a7c15ULL * (t + 1);
	int fd = dial();

	while (ark_mono_ns() < deadline) {
		int n, st;
		uint64_t key;

		if (strcmp(mode, "put") == 0) {
			key = ((uint64_t)t << 32) + ++i;
			snprintf(fid, sizeof(fid), "%u,%" PRIx64 "%08x", group,
			    key, 0x1234abcdu);
			ark_token_mint(&secret, ARK_TOKEN_WRITE, fid,
			    ark_now_s() + 3600, tok, sizeof(tok));
			n = snprintf(hdr, sizeof(hdr), "PUT /%s HTTP/1.1\r\n"
			    "Host: b\r\nX-Arkor-Token: %s\r\nContent-Length: "
			    "%" PRIu64 "\r\n\r\n", fid, tok, size);
			if (count > 0 && i > count)
				break;
		} else {
			x ^= x >> 12;
			x ^= x << 25;
			x ^= x >> 27;
			key = (x * 2685821657736338717ULL) % count + 1;
			if (strcmp(mode, "get") == 0)
				n = snprintf(hdr, sizeof(hdr), "GET /%u,%" PRIx64
				    "%08x HTTP/1.1\r\nHost: b\r\nX-Arkor-Token: "
				    "%s\r\n\r\n", group, key, 0x1234abcdu,
				    rtok[key - 1]);
			else
				n = snprintf(hdr, sizeof(hdr), "GET /f/%" PRIu64
				    " HTTP/1.1\r\nHost: b\r\n\r\n", key);
		}
		if (sendall(fd, hdr, (size_t)n) != 0 || (strcmp(mode, "put")
		    == 0 && sendall(fd, body, size) != 0) ||
		    (st = response(fd, buf, cap)) < 0) {
			atomic_fetch_add(&errors, 1);
			close(fd);
			fd = dial();
			continue;
		}
		if (st / 100 != 2)
			atomic_fetch_add(&errors, 1);
		else
			atomic_fetch_add(&ops, 1);
	}
	close(fd);
	free(buf);
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t *th;
	uint64_t t0, t1, i;
	double s;

	if (argc < 8) {
		fprintf(stderr, "usage: datad_load put|get|plain PORT KEYFILE "
		    "CONNS SECONDS SIZE COUNT [GROUP]\n");
		return 2;
	}
	mode = argv[1];
	port = atoi(argv[2]);
	conns = atoi(argv[4]);
	secs = atoi(argv[5]);
	if (ark_parse_size(argv[6], &size) != ARK_OK)
		return 2;
	count = strtoull(argv[7], NULL, 10);
	group = argc > 8 ? (unsigned)atoi(argv[8]) : 1;
	if (strcmp(mode, "plain") != 0 && ark_secret_load(argv[3], &secret)
	    != ARK_OK)
		return 1;
	body = ark_xcalloc(1, size ? size : 1);
	for (i = 0; i < size; i++)
		body[i] = (char)(i * 131 + 7);
	if (strcmp(mode, "get") == 0) {
		rtok = ark_xcalloc(count, sizeof(*rtok));
		for (i = 0; i < count; i++) {
			char fid[64];

			snprintf(fid, sizeof(fid), "%u,%" PRIx64 "%08x", group,
			    i + 1, 0x1234abcdu);
			ark_token_mint(&secret, ARK_TOKEN_READ, fid,
			    ark_now_s() + 3600, rtok[i], ARK_TOKEN_MAXLEN);
		}
	}
	th = ark_xcalloc((size_t)conns, sizeof(*th));
	t0 = ark_mono_ns();
	deadline = t0 + (uint64_t)secs * 1000000000ULL;
	for (int c = 0; c < conns; c++)
		pthread_create(&th[c], NULL, worker, (void *)(uintptr_t)c);
	for (int c = 0; c < conns; c++)
		pthread_join(th[c], NULL);
	t1 = ark_mono_ns();
	s = (double)(t1 - t0) / 1e9;
	printf("ops=%" PRIu64 " secs=%.2f ops_per_s=%.0f mb_per_s=%.1f "
	    "errors=%" PRIu64 "\n", atomic_load(&ops), s,
	    (double)atomic_load(&ops) / s, (double)(strcmp(mode, "put") == 0 ?
	    atomic_load(&ops) * size : atomic_load(&bytes)) / s / 1048576.0,
	    atomic_load(&errors));
	return 0;
}
