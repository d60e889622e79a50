/*
 * registry_list_bench.c - listing speed of the metadata store: builds a
 * bucket of N keys in 1000 directories (1000 keys committed one batch
 * per directory, then whole directories copied with meta_prefix_copy) and
 * times pages of 1000 entries with delimiter "/" at the top (1000 common
 * prefixes) and inside a directory, plus a page without delimiter.
 *   registry_list_bench DBFILE [NKEYS]
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "registry/meta.h"

static int
count(void *arg, const struct meta_list_ent *e)
{
	(void)e;
	(*(unsigned *)arg)++;
	return 0;
}

static double
page(struct meta *m, const char *prefix, const char *delim, unsigned *n)
{
	struct meta_list_req	r;
	char			*next = NULL;
	uint64_t		 t0;
	int			 i;
	double			 best = 1e9, ms;

	memset(&r, 0, sizeof(r));
	r.bucket = "big";
	r.prefix = prefix;
	r.delimiter = delim;
	r.max_keys = 1000;
	for (i = 0; i < 20; i++) {
		*n = 0;
		t0 = ark_mono_ns();
		if (meta_list(m, &r, count, n, &next) != ARK_OK)
			ark_fatalx("list failed");
		ms = (double)(ark_mono_ns() - t0) / 1e6;
		free(next);
		next = NULL;
		if (ms < best)
			best = ms;
	}
	return best;
}

int
main(int argc, char **argv)
{
	struct meta		*m;
	struct meta_opts	 o;
	struct meta_object	 ob;
	struct meta_frag	 fr;
	uint64_t		 nkeys, per, i, t0, cnt;
	unsigned		 n;
	char			 key[64], sp[16], dp[16];

	if (argc < 2) {
		fprintf(stderr, "usage: registry_list_bench DBFILE [NKEYS]\n");
		return 2;
	}
	nkeys = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000;
	per = nkeys / 1000 ? nkeys / 1000 : 1;
	ark_log_init("registry_list_bench", ARK_LOG_WARN);
	memset(&o, 0, sizeof(o));
	o.sync_full = 0;
	if (meta_open(argv[1], &o, &m) != ARK_OK ||
	    meta_user_create(m, "u", 0, NULL) != ARK_OK ||
	    meta_bucket_create(m, "big", "u", META_ACL_PRIVATE) != ARK_OK)
		return 1;
	t0 = ark_mono_ns();
	memset(&ob, 0, sizeof(ob));
	memset(&fr, 0, sizeof(fr));
	ob.size = 100;
	ob.frags = &fr;
	ob.nfrags = 1;
	fr.length = 100;
	for (i = 0; i < per; i++) {
		snprintf(key, sizeof(key), "d0000/f%07llu",
		    (unsigned long long)i);
		snprintf(fr.fid, sizeof(fr.fid), "1,%llx00000001",
		    (unsigned long long)i + 1);
		if (meta_object_put(m, "big", key, &ob, META_ANY, NULL) !=
		    ARK_OK)
			return 1;
	}
	for (i = 1; i < 1000; i++) {
		snprintf(sp, sizeof(sp), "d0000/");
		snprintf(dp, sizeof(dp), "d%04llu/", (unsigned long long)i);
		if (meta_prefix_copy(m, "big", sp, "big", dp, 0, &cnt) !=
		    ARK_OK)
			return 1;
	}
	printf("list: built %llu keys in 1000 directories in %.1f s\n",
	    (unsigned long long)(per * 1000),
	    (double)(ark_mono_ns() - t0) / 1e9);
	printf("list: page of 1000 common prefixes (delimiter /): %.2f ms\n",
	    page(m, NULL, "/", &n));
	printf("list: page of %u keys inside d0500/ (delimiter /): %.2f ms\n",
	    (page(m, "d0500/", "/", &n), n), page(m, "d0500/", "/", &n));
	printf("list: page of 1000 keys, no delimiter: %.2f ms\n",
	    page(m, NULL, NULL, &n));
	meta_close(m);
	return 0;
}
