/*
 * http_url.c - strict parser for the http and https URLs Arkor components
 * call (RFC 3986 subset): scheme, host (name, IPv4, [IPv6]), port, path and
 * query. Anything else is refused with a reason rather than guessed at.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/http_client.h"
#include "common/util.h"

static int
is_host_char(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
	    ch == '~';
}

#define URL_FAIL(msg) do {						\
	if (why != NULL)						\
		*why = (msg);						\
	goto fail;							\
} while (0)

enum ark_err
ark_url_parse(const char *s, struct ark_url *u, const char **why)
{
	const char *p, *auth_end, *hs, *he, *q, *end;
	char v6[INET6_ADDRSTRLEN];
	unsigned char addr[sizeof(struct in6_addr)];
	unsigned long port;
	size_t n;

	memset(u, 0, sizeof(*u));
	if (why != NULL)
		*why = NULL;
	if (s == NULL)
		URL_FAIL("no URL");
	if (strncasecmp(s, "http://", 7) == 0) {
		p = s + 7;
		u->port = 80;
	} else if (strncasecmp(s, "https://", 8) == 0) {
		p = s + 8;
		u->tls = 1;
		u->port = 443;
	} else {
		URL_FAIL("scheme must be http:// or https://");
	}
	auth_end = p + strcspn(p, "/?#");
	if (memchr(p, '@', (size_t)(auth_end - p)) != NULL)
		URL_FAIL("user@host (userinfo) is not supported");
	if (*p == '[') {
		hs = p + 1;
		he = memchr(hs, ']', (size_t)(auth_end - hs));
		if (he == NULL)
			URL_FAIL("unterminated [IPv6] literal");
		n = (size_t)(he - hs);
		if (n == 0 || n >= sizeof(v6))
			URL_FAIL("bad IPv6 literal");
		memcpy(v6, hs, n);
		v6[n] = '\0';
		if (inet_pton(AF_INET6, v6, addr) != 1)
			URL_FAIL("bad IPv6 literal");
		q = he + 1;
	} else {
		hs = p;
		he = memchr(hs, ':', (size_t)(auth_end - hs));
		if (he == NULL)
			he = auth_end;
		if (he == hs)
			URL_FAIL("empty host");
		if (he - hs > 253)
			URL_FAIL("host name too long");
		for (q = hs; q < he; q++)
			if (!is_host_char((unsigned char)*q))
				URL_FAIL("bad character in host");
		q = he;
	}
	if (q < auth_end) {
		if (*q != ':')
			URL_FAIL("junk after host");
		q++;
		if (q < auth_end) {	/* "host:" keeps the default port */
			if (auth_end - q > 5)
				URL_FAIL("port out of range");
			port = 0;
			for (; q < auth_end; q++) {
				if (*q < '0' || *q > '9')
					URL_FAIL("port is not a number");
				port = port * 10 + (unsigned long)(*q - '0');
			}
			if (port == 0 || port > 65535)
				URL_FAIL("port out of range");
			u->port = (uint16_t)port;
		}
	}
	end = auth_end + strcspn(auth_end, "#");
	for (q = auth_end; q < end; q++)
		if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f)
			URL_FAIL("space, control or non-ASCII byte in path "
			    "(percent-encode it)");
	u->host = ark_xstrndup(hs, (size_t)(he - hs));
	n = (size_t)(end - auth_end);
	if (n == 0) {
		u->target = ark_xstrdup("/");
	} else if (*auth_end == '?') {
		u->target = ark_xmalloc(n + 2);
		u->target[0] = '/';
		memcpy(u->target + 1, auth_end, n);
		u->target[n + 1] = '\0';
	} else {
		u->target = ark_xstrndup(auth_end, n);
	}
	return ARK_OK;
fail:
	memset(u, 0, sizeof(*u));
	return ARK_EINVAL;
}

void
ark_url_free(struct ark_url *u)
{
	if (u == NULL)
		return;
	free(u->host);
	free(u->target);
	u->host = NULL;
	u->target = NULL;
}
