/*
 * test_svc.c - listen address parsing of common/svc (the endpoints and the
 * lifecycle are exercised end to end by 011-svc-endpoints.sh).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/svc.h"

static void
test_parse_ok(void **state)
{
	static const struct { const char *in, *host; uint16_t port; } ok[] = {
		{ "127.0.0.1:7500", "127.0.0.1", 7500 },
		{ "0.0.0.0:0", "0.0.0.0", 0 },
		{ ":7480", "0.0.0.0", 7480 },
		{ "[::1]:65535", "::1", 65535 },
		{ "localhost:80", "localhost", 80 },
	};
	char		host[64];
	uint16_t	port;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(ark_svc_parse_listen(ok[i].in, host,
		    sizeof(host), &port), ARK_OK);
		assert_string_equal(host, ok[i].host);
		assert_int_equal(port, ok[i].port);
	}
}

static void
test_parse_bad(void **state)
{
	static const char *const bad[] = { "", "7500", "127.0.0.1", "1.2.3.4:",
	    "1.2.3.4:65536", "1.2.3.4:-1", "1.2.3.4:+1", "1.2.3.4:80x", "::1:80",
	    "[::1]80", "[::1", "host:99999999999999999999" };
	char		host[64];
	uint16_t	port;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ark_svc_parse_listen(bad[i], host,
		    sizeof(host), &port), ARK_EINVAL);
	assert_int_equal(ark_svc_parse_listen(NULL, host, sizeof(host),
	    &port), ARK_EINVAL);
	/* host longer than the caller's buffer */
	assert_int_equal(ark_svc_parse_listen("abcdefgh:1", host, 8, &port),
	    ARK_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_bad),
	};

	return cmocka_run_group_tests_name("svc", tests, NULL, NULL);
}
