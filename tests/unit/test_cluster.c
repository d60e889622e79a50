/*
 * test_cluster.c - data server placement into groups, writable groups
 * (all replicas up, not read-only, with space), group choice weighted by
 * free space, FileID keys from persisted ranges, removal and reload.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/util.h"
#include "registry/cluster.h"

struct fx {
	char		 dir[64], path[128];
	struct meta	*m;
	struct cluster	*c;
};

static const struct cluster_opts opts = { 60000, 2, 5 };

static int
setup(void **state)
{
	struct fx *f = ark_xcalloc(1, sizeof(*f));

	ark_log_init("test_cluster", ARK_LOG_ERROR);
	strcpy(f->dir, "/tmp/arkor-test-cluster.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/meta.db", f->dir);
	if (meta_open(f->path, NULL, &f->m) != ARK_OK ||
	    cluster_new(f->m, &opts, &f->c) != ARK_OK)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx	*f = *state;
	char		*cmd = ark_xasprintf("rm -rf '%s'", f->dir);

	cluster_free(f->c);
	meta_close(f->m);
	if (system(cmd) != 0)
		return -1;
	free(cmd);
	free(f);
	return 0;
}

static uint32_t
hb(struct fx *f, const char *id, uint64_t free, uint32_t group, int ro)
{
	struct cluster_hb	h;
	char			url[64];
	uint32_t		g = 0;

	snprintf(url, sizeof(url), "http://127.0.0.1:1/%s", id);
	memset(&h, 0, sizeof(h));
	h.id = id;
	h.url = url;
	h.free = free;
	h.capacity = free * 2;
	h.group = group;
	h.readonly = ro;
	assert_int_equal(cluster_heartbeat(f->c, &h, &g), ARK_OK);
	return g;
}

static void
test_placement_and_writable(void **state)
{
	struct fx		*f = *state;
	struct ark_fid		 fid;
	struct cluster_caps	 cc;
	char			 urls[CLUSTER_MAX_REPLICAS][META_URL_MAX + 1];
	struct cluster_hb	 h;
	size_t			 n;
	uint32_t		 g;

	assert_int_equal(hb(f, "a", 1000000, 0, 0), 1);
	assert_int_equal(cluster_assign(f->c, 10, &fid, urls, &n), ARK_EAGAIN);
	assert_int_equal(hb(f, "b", 1000000, 0, 0), 1);
	assert_int_equal(hb(f, "c", 1000000, 0, 0), 2);	/* group 1 full */
	assert_int_equal(hb(f, "d", 1000000, 7, 0), 7);	/* asked for */
	assert_int_equal(hb(f, "a", 1000000, 0, 0), 1);	/* keeps its group */
	memset(&h, 0, sizeof(h));
	h.id = "a";
	h.url = "http://x";
	h.group = 2;
	assert_int_equal(cluster_heartbeat(f->c, &h, &g), ARK_EEXIST);
	assert_int_equal(cluster_assign(f->c, 10, &fid, urls, &n), ARK_OK);
	assert_int_equal(fid.group, 1);
	assert_int_equal(n, 2);
	assert_int_equal(fid.key, 1);
	/* too big for the space left, or a read-only replica: no group */
	assert_int_equal(cluster_assign(f->c, 1000000, &fid, urls, &n),
	    ARK_EAGAIN);
	hb(f, "b", 1000000, 0, 1);
	assert_int_equal(cluster_assign(f->c, 10, &fid, urls, &n), ARK_EAGAIN);
	hb(f, "b", 1000000, 0, 0);
	cluster_caps(f->c, &cc);
	assert_int_equal(cc.servers, 4);
	assert_int_equal(cc.servers_up, 4);
	assert_int_equal(cc.groups, 3);
	assert_int_equal(cc.groups_writable, 1);
	assert_int_equal(cluster_group_urls(f->c, 2, 0, urls, &n), ARK_OK);
	assert_int_equal(n, 1);
	assert_int_equal(cluster_group_urls(f->c, 9, 0, urls, &n), ARK_ENOENT);
}

static void
test_weighted_and_keys(void **state)
{
	struct fx	*f = *state;
	struct ark_fid	 fid;
	char		 urls[CLUSTER_MAX_REPLICAS][META_URL_MAX + 1];
	size_t		 n, i, in1 = 0;
	uint64_t	 last = 0;

	hb(f, "a", 900 << 20, 1, 0);
	hb(f, "b", 900 << 20, 1, 0);
	hb(f, "c", 100 << 20, 2, 0);
	hb(f, "d", 100 << 20, 2, 0);
	for (i = 0; i < 2000; i++) {
		assert_int_equal(cluster_assign(f->c, 1, &fid, urls, &n),
		    ARK_OK);
		assert_true(fid.key > last);	/* unique, increasing */
		last = fid.key;
		if (fid.group == 1)
			in1++;
	}
	/* 90% expected in group 1 */
	assert_true(in1 > 1650 && in1 < 1950);
	/* a restart skips the rest of the reserved range (batch 5) */
	cluster_free(f->c);
	assert_int_equal(cluster_new(f->m, &opts, &f->c), ARK_OK);
	hb(f, "a", 900 << 20, 1, 0);
	hb(f, "b", 900 << 20, 1, 0);
	assert_int_equal(cluster_assign(f->c, 1, &fid, urls, &n), ARK_OK);
	assert_true(fid.key > last);
	assert_int_equal(fid.key, 2001);
}

static void
test_down_and_remove(void **state)
{
	struct fx		*f = *state;
	struct cluster_opts	 o = { 1000, 1, 10 };
	struct ark_fid		 fid;
	char			 urls[CLUSTER_MAX_REPLICAS][META_URL_MAX + 1];
	size_t			 n;

	cluster_free(f->c);
	assert_int_equal(cluster_new(f->m, &o, &f->c), ARK_OK);
	hb(f, "a", 1 << 30, 0, 0);
	assert_int_equal(cluster_assign(f->c, 1, &fid, urls, &n), ARK_OK);
	usleep(1200 * 1000);		/* heartbeat timeout 1 s */
	cluster_sweep(f->c);		/* logs the server down, once */
	cluster_sweep(f->c);
	assert_int_equal(cluster_assign(f->c, 1, &fid, urls, &n), ARK_EAGAIN);
	assert_int_equal(cluster_group_urls(f->c, 1, 1, urls, &n), ARK_OK);
	assert_int_equal(n, 0);
	/* registrations persist; liveness does not */
	cluster_free(f->c);
	assert_int_equal(cluster_new(f->m, &o, &f->c), ARK_OK);
	assert_int_equal(cluster_group_urls(f->c, 1, 0, urls, &n), ARK_OK);
	assert_int_equal(n, 1);
	assert_int_equal(cluster_remove(f->c, "a"), ARK_OK);
	assert_int_equal(cluster_remove(f->c, "a"), ARK_ENOENT);
	cluster_free(f->c);
	assert_int_equal(cluster_new(f->m, &o, &f->c), ARK_OK);
	assert_int_equal(cluster_group_urls(f->c, 1, 0, urls, &n), ARK_ENOENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_placement_and_writable,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_weighted_and_keys, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_down_and_remove, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("cluster", tests, NULL, NULL);
}
