/*
 * test_metrics.c - exact exposition output for a small registry, label
 * escaping, histogram buckets, series indexing, process metrics, and
 * concurrent updates from several threads summing exactly.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/metrics.h"
#include "common/util.h"

static int
reset(void **state)
{
	(void)state;
	ark_metrics_reset();
	return 0;
}

static void
test_render_exact(void **state)
{
	static const char *const status[] = { "2xx", "4xx", "5xx", NULL };
	static const char *const op[] = { "read", "write", NULL };
	static const char *const odd[] = { "a\"b\\c\nd", NULL };
	const struct ark_metric_label l_status[] = { { "status", status } };
	const struct ark_metric_label l_op_status[] = { { "op", op },
	    { "status", status } };
	const struct ark_metric_label l_odd[] = { { "v", odd } };
	const struct ark_metric_label l_op[] = { { "op", op } };
	static const double bounds[] = { 0.005, 0.1, 1 };
	struct ark_metric *req, *bytes, *conns, *lat, *weird;
	char *s;

	(void)state;
	req = ark_metric_counter("arkor_http_requests_total",
	    "HTTP requests by status class.", l_status, 1);
	bytes = ark_metric_counter("arkor_bytes_total", "Bytes moved.\nBy op "
	    "and status \\ class.", l_op_status, 2);
	conns = ark_metric_gauge("arkor_connections", "Open connections.",
	    NULL, 0);
	lat = ark_metric_histogram("arkor_request_seconds", "Latency.", l_op,
	    1, bounds, 3);
	weird = ark_metric_gauge("arkor_weird", NULL, l_odd, 1);
	/* Same name and shape: the same family. */
	assert_ptr_equal(ark_metric_counter("arkor_http_requests_total", "x",
	    l_status, 1), req);

	ark_metric_inc(req, 0);
	ark_metric_add(req, 2, 41);
	ark_metric_inc(req, 2);
	ark_metric_add(bytes, ark_metric_series(bytes, (size_t[]){ 1, 0 }),
	    4096);
	ark_metric_add(bytes, ark_metric_series_by_name(bytes,
	    (const char *const[]){ "read", "5xx" }), 7);
	ark_metric_set(conns, 0, 10);
	ark_metric_gauge_add(conns, 0, -3);
	ark_metric_set(weird, 0, -1);
	/* Values exact in binary so the sum is exact. */
	ark_metric_observe(lat, 0, 0.00390625);
	ark_metric_observe(lat, 0, 0.001953125);
	ark_metric_observe(lat, 0, 0.5);
	ark_metric_observe(lat, 0, 2.5);
	ark_metric_observe(lat, 1, 0.25);

	s = ark_metrics_render_str();
	assert_non_null(s);
	assert_string_equal(s,
"# HELP arkor_http_requests_total HTTP requests by status class.\n"
"# TYPE arkor_http_requests_total counter\n"
"arkor_http_requests_total{status=\"2xx\"} 1\n"
"arkor_http_requests_total{status=\"4xx\"} 0\n"
"arkor_http_requests_total{status=\"5xx\"} 42\n"
"# HELP arkor_bytes_total Bytes moved.\\nBy op and status \\\\ class.\n"
"# TYPE arkor_bytes_total counter\n"
"arkor_bytes_total{op=\"read\",status=\"2xx\"} 0\n"
"arkor_bytes_total{op=\"read\",status=\"4xx\"} 0\n"
"arkor_bytes_total{op=\"read\",status=\"5xx\"} 7\n"
"arkor_bytes_total{op=\"write\",status=\"2xx\"} 4096\n"
"arkor_bytes_total{op=\"write\",status=\"4xx\"} 0\n"
"arkor_bytes_total{op=\"write\",status=\"5xx\"} 0\n"
"# HELP arkor_connections Open connections.\n"
"# TYPE arkor_connections gauge\n"
"arkor_connections 7\n"
"# HELP arkor_request_seconds Latency.\n"
"# TYPE arkor_request_seconds histogram\n"
"arkor_request_seconds_bucket{op=\"read\",le=\"0.005\"} 2\n"
"arkor_request_seconds_bucket{op=\"read\",le=\"0.1\"} 2\n"
"arkor_request_seconds_bucket{op=\"read\",le=\"1\"} 3\n"
"arkor_request_seconds_bucket{op=\"read\",le=\"+Inf\"} 4\n"
"arkor_request_seconds_sum{op=\"read\"} 3.005859375\n"
"arkor_request_seconds_count{op=\"read\"} 4\n"
"arkor_request_seconds_bucket{op=\"write\",le=\"0.005\"} 0\n"
"arkor_request_seconds_bucket{op=\"write\",le=\"0.1\"} 0\n"
"arkor_request_seconds_bucket{op=\"write\",le=\"1\"} 1\n"
"arkor_request_seconds_bucket{op=\"write\",le=\"+Inf\"} 1\n"
"arkor_request_seconds_sum{op=\"write\"} 0.25\n"
"arkor_request_seconds_count{op=\"write\"} 1\n"
"# TYPE arkor_weird gauge\n"
"arkor_weird{v=\"a\\\"b\\\\c\\nd\"} -1\n");
	free(s);
	assert_int_equal(ark_metric_counter_value(req, 2), 42);
	assert_int_equal(ark_metric_gauge_value(conns, 0), 7);
	assert_int_equal(ark_metric_hist_count(lat, 0), 4);
	assert_true(ark_metric_hist_sum(lat, 1) == 0.25);
	assert_int_equal(ark_metric_series_by_name(bytes,
	    (const char *const[]){ "read", "1xx" }), (size_t)-1);
}

static void
test_unlabelled_histogram_and_cap(void **state)
{
	struct ark_metric	*h;
	struct ark_buf		 b;

	(void)state;
	h = ark_metric_histogram("h", "H.", NULL, 0, (const double[]){ 1e-6,
	    1e9 }, 2);
	ark_metric_observe(h, 0, 5);
	ark_metric_observe(h, 0, 1e-6);	/* le is inclusive */
	ark_buf_init(&b, 4096);
	assert_int_equal(ark_metrics_render(&b), ARK_OK);
	assert_string_equal(ark_buf_str(&b),
	    "# HELP h H.\n# TYPE h histogram\n"
	    "h_bucket{le=\"1e-06\"} 1\n"
	    "h_bucket{le=\"1000000000\"} 2\n"
	    "h_bucket{le=\"+Inf\"} 2\n"
	    "h_sum 5.000001\nh_count 2\n");
	ark_buf_free(&b);
	ark_buf_init(&b, 20);
	assert_int_equal(ark_metrics_render(&b), ARK_ETOOBIG);
	ark_buf_free(&b);
}

static void
test_process(void **state)
{
	char *s;

	(void)state;
	ark_metrics_enable_process(true);
	s = ark_metrics_render_str();
	assert_non_null(s);
	assert_non_null(strstr(s, "# TYPE process_resident_memory_bytes "
	    "gauge\nprocess_resident_memory_bytes "));
	assert_non_null(strstr(s, "\nprocess_virtual_memory_bytes "));
	assert_non_null(strstr(s, "\nprocess_start_time_seconds 1"));
	assert_non_null(strstr(s, "\nprocess_cpu_seconds_total "));
	assert_non_null(strstr(s, "\nprocess_open_fds "));
	assert_non_null(strstr(s, "\nprocess_max_fds "));
	{
		/* The start time is within the last day. */
		double t = strtod(strstr(s, "\nprocess_start_time_seconds ") +
		    28, NULL);
		assert_true(t <= (double)ark_now_s() + 1);
		assert_true(t > (double)ark_now_s() - 86400);
	}
	{
		long rss = strtol(strstr(s, "\nprocess_resident_memory_bytes ")
		    + 31, NULL, 10);
		assert_true(rss > 0);
	}
	free(s);
	ark_metrics_enable_process(false);
}

#define THREADS		4
#define ROUNDS		100000

static struct ark_metric *cc, *gg, *hh;

static void *
worker(void *arg)
{
	size_t me = (size_t)(uintptr_t)arg;

	for (int i = 0; i < ROUNDS; i++) {
		ark_metric_inc(cc, me % 2);
		ark_metric_gauge_add(gg, 0, (i % 2) ? -1 : 2);
		ark_metric_observe(hh, 0, (double)(i % 4));
	}
	return NULL;
}

static void
test_concurrent(void **state)
{
	static const char *const parity[] = { "even", "odd", NULL };
	const struct ark_metric_label l[] = { { "parity", parity } };
	pthread_t	t[THREADS];
	char		*s;

	(void)state;
	cc = ark_metric_counter("c_total", "C.", l, 1);
	gg = ark_metric_gauge("g", "G.", NULL, 0);
	hh = ark_metric_histogram("hh", "H.", NULL, 0, (const double[]){ 0.5,
	    1.5 }, 2);
	for (size_t i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, worker,
		    (void *)(uintptr_t)i), 0);
	/* Render while updating: must not crash or deadlock. */
	for (int i = 0; i < 20; i++)
		free(ark_metrics_render_str());
	for (size_t i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(ark_metric_counter_value(cc, 0),
	    (uint64_t)ROUNDS * THREADS / 2);
	assert_int_equal(ark_metric_counter_value(cc, 1),
	    (uint64_t)ROUNDS * THREADS / 2);
	assert_int_equal(ark_metric_gauge_value(gg, 0),
	    (int64_t)ROUNDS / 2 * THREADS);
	assert_int_equal(ark_metric_hist_count(hh, 0),
	    (uint64_t)ROUNDS * THREADS);
	/* 0+1+2+3 per 4 rounds; exact in binary floating point. */
	assert_true(ark_metric_hist_sum(hh, 0) == 1.5 * ROUNDS * THREADS);
	s = ark_metrics_render_str();
	assert_non_null(strstr(s, "hh_bucket{le=\"0.5\"} 100000\n"));
	assert_non_null(strstr(s, "hh_bucket{le=\"1.5\"} 200000\n"));
	assert_non_null(strstr(s, "hh_bucket{le=\"+Inf\"} 400000\n"));
	assert_non_null(strstr(s, "hh_count 400000\n"));
	assert_non_null(strstr(s, "hh_sum 600000\n"));
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_render_exact, reset, reset),
		cmocka_unit_test_setup_teardown(test_unlabelled_histogram_and_cap,
		    reset, reset),
		cmocka_unit_test_setup_teardown(test_process, reset, reset),
		cmocka_unit_test_setup_teardown(test_concurrent, reset, reset),
	};

	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
