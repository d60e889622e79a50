/*
 * test_meta.c - the SQLite metadata store: every operation of meta.h,
 * including listing a bucket with many keys in many directories, prefix
 * rename and copy, commits replacing fragments (GC queue), the GC's
 * resurrection rules, and concurrent writers sharing group commits.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "common/util.h"
#include "registry/meta.h"

struct fx {
	char		 dir[64];
	char		 path[128];
	struct meta	*m;
};

static int
setup(void **state)
{
	struct fx *f = ark_xcalloc(1, sizeof(*f));

	ark_log_init("test_meta", ARK_LOG_ERROR);
	strcpy(f->dir, "/tmp/arkor-test-meta.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/meta.db", f->dir);
	if (meta_open(f->path, NULL, &f->m) != ARK_OK)
		return -1;
	if (meta_user_create(f->m, "alice", 0, NULL) != ARK_OK ||
	    meta_bucket_create(f->m, "b1", "alice", META_ACL_PRIVATE) !=
	    ARK_OK)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx	*f = *state;
	char		*cmd;

	meta_close(f->m);
	cmd = ark_xasprintf("rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(cmd);
	free(f);
	return 0;
}

static void
reopen(struct fx *f)
{
	meta_close(f->m);
	assert_int_equal(meta_open(f->path, NULL, &f->m), ARK_OK);
}

/* An object with n fragments named <g>,<key><cookie> from `base`. */
static void
mkobj(struct meta_object *o, struct meta_frag *fr, size_t n, uint64_t base)
{
	size_t i;

	memset(o, 0, sizeof(*o));
	for (i = 0; i < n; i++) {
		snprintf(fr[i].fid, sizeof(fr[i].fid), "1,%llx0000beef",
		    (unsigned long long)(base + i));
		fr[i].offset = i * 100;
		fr[i].length = 100;
		fr[i].crc32c = (uint32_t)(base + i);
	}
	o->size = n * 100;
	strcpy(o->etag, "etag");
	strcpy(o->ctype, "text/plain");
	o->mode = 0100644;
	o->mtime_ms = 1234;
	o->frags = fr;
	o->nfrags = n;
}

static void
put(struct fx *f, const char *key, uint64_t base, size_t n)
{
	struct meta_object	o;
	struct meta_frag	fr[8];

	mkobj(&o, fr, n, base);
	assert_int_equal(meta_object_put(f->m, "b1", key, &o, META_ANY, NULL),
	    ARK_OK);
}

static uint64_t
gc_count(struct fx *f)
{
	struct meta_totals t;

	assert_int_equal(meta_totals(f->m, &t), ARK_OK);
	return t.gc_queued;
}

static void
test_open_and_counter(void **state)
{
	struct fx	*f = *state;
	uint64_t	 a, b;

	assert_int_equal(meta_schema_version(f->m), 7);
	assert_int_equal(meta_fid_reserve(f->m, 100, &a), ARK_OK);
	assert_int_equal(a, 1);
	assert_int_equal(meta_fid_reserve(f->m, 10, &b), ARK_OK);
	assert_int_equal(b, 101);
	reopen(f);
	assert_int_equal(meta_schema_version(f->m), 7);
	assert_int_equal(meta_fid_reserve(f->m, 1, &b), ARK_OK);
	assert_int_equal(b, 111);
	assert_int_equal(meta_fid_reserve(f->m, 0, &b), ARK_EINVAL);
}

/* A version-1 database (before tags/headers) is migrated on open and
 * keeps its rows. */
static void
test_migration_from_v1(void **state)
{
	struct fx		*f = *state;
	struct meta_object	 g;
	struct meta_bucket_conf	 bc;
	sqlite3			*db;

	put(f, "old", 0x42, 1);
	meta_close(f->m);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "ALTER TABLE objects DROP COLUMN tags;"
	    "ALTER TABLE objects DROP COLUMN headers;"
	    "ALTER TABLE uploads DROP COLUMN headers;"
	    "ALTER TABLE objects DROP COLUMN parts;"
	    "DROP TABLE assigned;"
	    "ALTER TABLE uploads DROP COLUMN cksum_alg;"
	    "ALTER TABLE uploads DROP COLUMN cksum_type;"
	    "ALTER TABLE parts DROP COLUMN cksums;"
	    "ALTER TABLE buckets DROP COLUMN tags;"
	    "ALTER TABLE buckets DROP COLUMN cors;"
	    "DROP TRIGGER objects_nseq_ins;"
	    "DROP TRIGGER objects_nseq_upd;"
	    "DROP TABLE nseq_hold;"
	    "DROP TRIGGER objects_nseq_del;"
	    "ALTER TABLE buckets DROP COLUMN nseq;"
	    "UPDATE schema_version SET version = 1;", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(meta_open(f->path, NULL, &f->m), ARK_OK);
	assert_int_equal(meta_schema_version(f->m), 7);
	assert_int_equal(meta_object_get(f->m, "b1", "old", &g), ARK_OK);
	assert_int_equal(g.nfrags, 1);
	assert_null(g.tags);
	/* an old bucket's change count starts at its creation time */
	assert_true(g.nseq >= 1000000000000LL * 1000000);
	meta_object_clear(&g);
	assert_int_equal(meta_check(f->m), ARK_OK);
	assert_int_equal(meta_bucket_conf_get(f->m, "b1", &bc), ARK_OK);
	assert_null(bc.tags);
	assert_null(bc.cors);
	assert_int_equal(meta_bucket_conf_set(f->m, "b1", "{\"a\":\"1\"}",
	    NULL), ARK_OK);
	/* a database from a newer program is refused */
	meta_close(f->m);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE schema_version SET version"
	    " = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(meta_open(f->path, NULL, &f->m), ARK_ECORRUPT);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE schema_version SET version"
	    " = 7", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(meta_open(f->path, NULL, &f->m), ARK_OK);
}

static int64_t
bucket_nseq(struct fx *f, const char *bucket)
{
	struct meta_bucket b;

	assert_int_equal(meta_bucket_get(f->m, bucket, &b), ARK_OK);
	return b.nseq;
}

/* A bucket's change count: every write on its objects moves it, and
 * reports the counts around it; reads report the count they saw (a
 * missing key too); other buckets' writes and reads move nothing; a new
 * bucket starts past any old count. */
/* Async writes, lazy and durable in one batch: each answer comes once
 * its change is visible, then sync covers them; all survive a reopen. */
struct waiter {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 left;
	enum ark_err	 rc[4];
};

static void
async_done(void *arg, enum ark_err rc)
{
	struct waiter *w = arg;

	pthread_mutex_lock(&w->mu);
	w->rc[--w->left] = rc;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static void
async_wait(struct waiter *w)
{
	pthread_mutex_lock(&w->mu);
	while (w->left > 0)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
}

static void
test_async_lazy(void **state)
{
	struct fx		*f = *state;
	struct waiter		 w = { PTHREAD_MUTEX_INITIALIZER,
				    PTHREAD_COND_INITIALIZER, 3, { 0 } };
	struct meta_object	 o, o2, g;
	struct meta_frag	 fr[1], fr2[1];
	int64_t			 v1, v2, n1[2], n2[2], n3[2];
	int			 i;

	put(f, "gone", 0x70, 1);
	mkobj(&o, fr, 1, 0x80);
	mkobj(&o2, fr2, 1, 0x90);
	assert_int_equal(meta_object_put_async(f->m, "b1", "lazy", &o,
	    META_ANY, &v1, n1, 1, async_done, &w), ARK_OK);
	assert_int_equal(meta_object_put_async(f->m, "b1", "durable", &o2,
	    META_ANY, &v2, n2, 0, async_done, &w), ARK_OK);
	meta_object_delete_async(f->m, "b1", "gone", META_ANY, n3, 1,
	    async_done, &w);
	async_wait(&w);
	for (i = 0; i < 3; i++)
		assert_int_equal(w.rc[i], ARK_OK);
	assert_true(v1 > 0 && v2 > 0 && v1 != v2);
	assert_int_equal(n1[1], n1[0] + 1);
	assert_int_equal(n3[1], n3[0] + 1);
	assert_int_equal(meta_object_get(f->m, "b1", "lazy", &g), ARK_OK);
	assert_int_equal(g.nfrags, 1);
	meta_object_clear(&g);
	assert_int_equal(meta_object_get(f->m, "b1", "gone", &g), ARK_ENOENT);
	/* A lazy attribute change answers the attributes after it. */
	{
		struct meta_attrs a = META_ATTRS_KEEP;

		a.mode = 0600;
		w.left = 1;
		assert_int_equal(meta_object_setattr_async(f->m, "b1", "lazy",
		    &a, META_ANY, &g, n1, 1, async_done, &w), ARK_OK);
		async_wait(&w);
		assert_int_equal(w.rc[0], ARK_OK);
		assert_int_equal(g.mode, 0100600);
		meta_object_clear(&g);
	}
	/* A refused lazy write answers its error. */
	w.left = 2;
	meta_object_delete_async(f->m, "b1", "gone", META_ANY, n3, 1,
	    async_done, &w);
	meta_sync_async(f->m, async_done, &w);
	async_wait(&w);
	assert_int_equal(w.rc[1] == ARK_ENOENT ? w.rc[0] : w.rc[1], ARK_OK);
	assert_true(w.rc[0] == ARK_ENOENT || w.rc[1] == ARK_ENOENT);
	reopen(f);
	assert_int_equal(meta_object_get(f->m, "b1", "lazy", &g), ARK_OK);
	meta_object_clear(&g);
	assert_int_equal(meta_object_get(f->m, "b1", "durable", &g), ARK_OK);
	meta_object_clear(&g);
	assert_int_equal(meta_object_get(f->m, "b1", "gone", &g), ARK_ENOENT);
}

static void
test_nseq(void **state)
{
	struct fx		*f = *state;
	struct meta_object	 o, g;
	struct meta_frag	 fr[2];
	struct meta_attrs	 a = META_ATTRS_KEEP;
	uint64_t		 cnt;
	int64_t			 n0, n[2], v;

	n0 = bucket_nseq(f, "b1");
	assert_true(n0 >= 1000000000000LL * 1000000);	/* created ms x 1e6 */
	mkobj(&o, fr, 1, 0x10);
	assert_int_equal(meta_object_put(f->m, "b1", "k", &o, META_ANY, &v),
	    ARK_OK);
	assert_int_equal(bucket_nseq(f, "b1"), n0 + 1);
	assert_int_equal(meta_object_get(f->m, "b1", "k", &g), ARK_OK);
	assert_int_equal(g.nseq, n0 + 1);
	meta_object_clear(&g);
	assert_int_equal(meta_object_get(f->m, "b1", "none", &g), ARK_ENOENT);
	assert_int_equal(g.nseq, n0 + 1);
	/* A write answers the counts before and after it. */
	a.mode = 0600;
	assert_int_equal(meta_object_setattr(f->m, "b1", "k", &a, META_ANY,
	    NULL, n), ARK_OK);
	assert_int_equal(n[0], n0 + 1);
	assert_int_equal(n[1], n0 + 2);
	assert_int_equal(meta_object_delete(f->m, "b1", "k", META_ANY, n),
	    ARK_OK);
	assert_int_equal(n[0], n0 + 2);
	assert_int_equal(n[1], n0 + 3);
	/* A failed write moves nothing. */
	assert_int_equal(meta_object_delete(f->m, "b1", "k", META_ANY, n),
	    ARK_ENOENT);
	assert_int_equal(bucket_nseq(f, "b1"), n0 + 3);
	/* Renames and copies count, whatever their path. */
	put(f, "d/x", 0x20, 1);
	put(f, "d/y", 0x30, 1);
	n0 = bucket_nseq(f, "b1");
	assert_int_equal(meta_prefix_rename(f->m, "b1", "d/", "b1", "e/", 0,
	    &cnt), ARK_OK);
	assert_int_equal(cnt, 2);
	assert_true(bucket_nseq(f, "b1") > n0);
	n0 = bucket_nseq(f, "b1");
	assert_int_equal(meta_object_rename(f->m, "b1", "e/x", "b1", "f", 0),
	    ARK_OK);
	assert_true(bucket_nseq(f, "b1") > n0);
	/* A failed prefix rename leaves the per-row counting on. */
	put(f, "g/y", 0x40, 1);
	assert_int_equal(meta_prefix_rename(f->m, "b1", "e/", "b1", "g/",
	    META_NOREPLACE, &cnt), ARK_EEXIST);
	n0 = bucket_nseq(f, "b1");
	put(f, "h", 0x50, 1);
	assert_int_equal(bucket_nseq(f, "b1"), n0 + 1);
	/* Another bucket is another count; a new one (made a few ms later,
	 * as any bucket made again after its deletion) starts past ours. */
	n0 = bucket_nseq(f, "b1");
	usleep(3000);
	assert_int_equal(meta_bucket_create(f->m, "b2", "alice",
	    META_ACL_PRIVATE), ARK_OK);
	assert_true(bucket_nseq(f, "b2") > n0);
	assert_int_equal(meta_object_put(f->m, "b2", "k", &o, META_ANY, NULL),
	    ARK_OK);
	assert_int_equal(meta_object_get(f->m, "b1", "f", &g), ARK_OK);
	meta_object_clear(&g);
	assert_int_equal(bucket_nseq(f, "b1"), n0);
	reopen(f);
	assert_int_equal(bucket_nseq(f, "b1"), n0);
	/* A move to another bucket counts in both. */
	v = bucket_nseq(f, "b2");
	assert_int_equal(meta_object_rename(f->m, "b1", "f", "b2", "g", 0),
	    ARK_OK);
	assert_true(bucket_nseq(f, "b1") > n0);
	assert_true(bucket_nseq(f, "b2") > v);
}

/* A bucket's tags and CORS texts: set, kept apart, replaced, removed,
 * and gone with the bucket. */
static void
test_bucket_conf(void **state)
{
	struct fx		*f = *state;
	struct meta_bucket_conf	 c;
	char			*big;

	assert_int_equal(meta_bucket_conf_get(f->m, "b1", &c), ARK_OK);
	assert_null(c.tags);
	assert_null(c.cors);
	assert_int_equal(meta_bucket_conf_get(f->m, "nob", &c), ARK_ENOENT);
	assert_int_equal(meta_bucket_conf_set(f->m, "nob", "{}", NULL),
	    ARK_ENOENT);
	assert_int_equal(meta_bucket_conf_set(f->m, "b1", "{\"k\":\"v\"}",
	    NULL), ARK_OK);
	assert_int_equal(meta_bucket_conf_set(f->m, "b1", NULL,
	    "{\"rules\":[]}"), ARK_OK);
	assert_int_equal(meta_bucket_conf_get(f->m, "b1", &c), ARK_OK);
	assert_string_equal(c.tags, "{\"k\":\"v\"}");
	assert_string_equal(c.cors, "{\"rules\":[]}");
	meta_bucket_conf_clear(&c);
	assert_null(c.tags);
	/* "" removes one, NULL keeps the other */
	assert_int_equal(meta_bucket_conf_set(f->m, "b1", "", NULL), ARK_OK);
	assert_int_equal(meta_bucket_conf_get(f->m, "b1", &c), ARK_OK);
	assert_null(c.tags);
	assert_string_equal(c.cors, "{\"rules\":[]}");
	meta_bucket_conf_clear(&c);
	big = ark_xcalloc(1, META_BUCKET_CONF_MAX + 2);
	memset(big, 'x', META_BUCKET_CONF_MAX + 1);
	assert_int_equal(meta_bucket_conf_set(f->m, "b1", big, NULL),
	    ARK_EINVAL);
	free(big);
	/* survives a reopen; a new bucket of the same name has none */
	reopen(f);
	assert_int_equal(meta_bucket_conf_get(f->m, "b1", &c), ARK_OK);
	assert_string_equal(c.cors, "{\"rules\":[]}");
	meta_bucket_conf_clear(&c);
	assert_int_equal(meta_bucket_delete(f->m, "b1"), ARK_OK);
	assert_int_equal(meta_bucket_create(f->m, "b1", "alice",
	    META_ACL_PRIVATE), ARK_OK);
	assert_int_equal(meta_bucket_conf_get(f->m, "b1", &c), ARK_OK);
	assert_null(c.cors);
	assert_int_equal(meta_check(f->m), ARK_OK);
}

static int
count_user(void *arg, const struct meta_user *u)
{
	(void)u;
	(*(int *)arg)++;
	return 0;
}

static int
count_key(void *arg, const struct meta_key *k)
{
	(void)k;
	(*(int *)arg)++;
	return 0;
}

static int
count_bucket(void *arg, const struct meta_bucket *b)
{
	(void)b;
	(*(int *)arg)++;
	return 0;
}

static void
test_users_keys_buckets(void **state)
{
	struct fx		*f = *state;
	struct meta_user	 u;
	struct meta_key		 k;
	struct meta_bucket	 b;
	int			 n;

	assert_int_equal(meta_user_create(f->m, "bob", 1, &u), ARK_OK);
	assert_string_equal(u.name, "bob");
	assert_int_equal(u.admin, 1);
	assert_int_equal(meta_user_create(f->m, "bob", 0, NULL), ARK_EEXIST);
	assert_int_equal(meta_user_create(f->m, "", 0, NULL), ARK_EINVAL);
	assert_int_equal(meta_user_get(f->m, "nobody", &u), ARK_ENOENT);
	n = 0;
	assert_int_equal(meta_user_list(f->m, count_user, &n), ARK_OK);
	assert_int_equal(n, 2);

	assert_int_equal(meta_key_create(f->m, "bob", "AKBOB", "s3cr3t", 0),
	    ARK_OK);
	assert_int_equal(meta_key_create(f->m, "bob", "AKBOB", "x", 0),
	    ARK_EEXIST);
	assert_int_equal(meta_key_create(f->m, "carol", "AKC", "x", 0),
	    ARK_ENOENT);
	assert_int_equal(meta_key_create(f->m, "alice", "AKAL", "y", 1),
	    ARK_OK);
	assert_int_equal(meta_key_get(f->m, "AKBOB", &k), ARK_OK);
	assert_string_equal(k.secret, "s3cr3t");
	assert_string_equal(k.user, "bob");
	assert_int_equal(k.admin, 1);
	n = 0;
	assert_int_equal(meta_key_list(f->m, "alice", count_key, &n), ARK_OK);
	assert_int_equal(n, 1);
	n = 0;
	assert_int_equal(meta_key_list(f->m, NULL, count_key, &n), ARK_OK);
	assert_int_equal(n, 2);
	/* a key looked up (and remembered) is refused once deleted */
	assert_int_equal(meta_key_get(f->m, "AKAL", &k), ARK_OK);
	assert_int_equal(meta_key_delete(f->m, "AKAL"), ARK_OK);
	assert_int_equal(meta_key_get(f->m, "AKAL", &k), ARK_ENOENT);
	assert_int_equal(meta_key_delete(f->m, "AKAL"), ARK_ENOENT);

	assert_int_equal(meta_bucket_create(f->m, "b1", "bob",
	    META_ACL_PRIVATE), ARK_EEXIST);
	assert_int_equal(meta_bucket_create(f->m, "b2", "bob",
	    META_ACL_PUBLIC_READ), ARK_OK);
	assert_int_equal(meta_bucket_create(f->m, "b3", "zed",
	    META_ACL_PRIVATE), ARK_ENOENT);
	assert_int_equal(meta_bucket_get(f->m, "b2", &b), ARK_OK);
	assert_string_equal(b.owner, "bob");
	assert_int_equal(b.acl, META_ACL_PUBLIC_READ);
	/* the remembered owner and ACL follow every change at once */
	assert_int_equal(meta_bucket_access(f->m, "b2", &b), ARK_OK);
	assert_int_equal(b.acl, META_ACL_PUBLIC_READ);
	assert_int_equal(meta_bucket_set_acl(f->m, "b2", META_ACL_PRIVATE),
	    ARK_OK);
	assert_int_equal(meta_bucket_access(f->m, "b2", &b), ARK_OK);
	assert_int_equal(b.acl, META_ACL_PRIVATE);
	assert_string_equal(b.owner, "bob");
	assert_int_equal(meta_bucket_create(f->m, "b4", "alice",
	    META_ACL_PRIVATE), ARK_OK);
	assert_int_equal(meta_bucket_access(f->m, "b4", &b), ARK_OK);
	assert_string_equal(b.owner, "alice");
	assert_int_equal(meta_bucket_delete(f->m, "b4"), ARK_OK);
	assert_int_equal(meta_bucket_access(f->m, "b4", &b), ARK_ENOENT);
	assert_int_equal(meta_bucket_create(f->m, "b4", "bob",
	    META_ACL_PUBLIC_READ), ARK_OK);
	assert_int_equal(meta_bucket_access(f->m, "b4", &b), ARK_OK);
	assert_string_equal(b.owner, "bob");
	assert_int_equal(b.acl, META_ACL_PUBLIC_READ);
	assert_int_equal(meta_bucket_delete(f->m, "b4"), ARK_OK);
	n = 0;
	assert_int_equal(meta_bucket_list(f->m, "bob", count_bucket, &n),
	    ARK_OK);
	assert_int_equal(n, 1);
	/* a user owning buckets cannot go; keys cascade with the user */
	assert_int_equal(meta_user_delete(f->m, "bob"), ARK_EEXIST);
	put(f, "x", 1, 1);
	assert_int_equal(meta_bucket_delete(f->m, "b1"), ARK_EEXIST);
	assert_int_equal(meta_bucket_delete(f->m, "b2"), ARK_OK);
	assert_int_equal(meta_user_delete(f->m, "bob"), ARK_OK);
	assert_int_equal(meta_key_get(f->m, "AKBOB", &k), ARK_ENOENT);
}

static void
test_object_commit_replaces(void **state)
{
	struct fx		*f = *state;
	struct meta_object	 o, g;
	struct meta_frag	 fr[4];
	struct meta_bucket	 b;
	struct meta_gc_item	 it[8];
	int64_t			 v1, v2;
	size_t			 n;

	mkobj(&o, fr, 3, 0x10);
	o.user_meta = (char *)"{\"a\":\"b\"}";
	assert_int_equal(meta_object_put(f->m, "b1", "k", &o, META_ABSENT,
	    &v1), ARK_OK);
	assert_int_equal(meta_object_put(f->m, "b1", "k", &o, META_ABSENT,
	    NULL), ARK_EEXIST);
	assert_int_equal(meta_object_put(f->m, "nob", "k", &o, META_ANY,
	    NULL), ARK_ENOENT);
	assert_int_equal(meta_object_get(f->m, "b1", "k", &g), ARK_OK);
	assert_int_equal(g.version, v1);
	assert_int_equal(g.size, 300);
	assert_int_equal(g.nfrags, 3);
	assert_string_equal(g.frags[2].fid, "1,120000beef");
	assert_int_equal(g.frags[2].offset, 200);
	assert_string_equal(g.user_meta, "{\"a\":\"b\"}");
	assert_null(g.checksums);
	meta_object_clear(&g);
	assert_int_equal(gc_count(f), 0);

	/* new version keeps fragment 0x11, drops 0x10 and 0x12 */
	mkobj(&o, fr, 2, 0x11);
	snprintf(fr[1].fid, sizeof(fr[1].fid), "1,990000beef");
	assert_int_equal(meta_object_put(f->m, "b1", "k", &o, v1 + 7, NULL),
	    ARK_EEXIST);
	assert_int_equal(meta_object_put(f->m, "b1", "k", &o, v1, &v2),
	    ARK_OK);
	assert_true(v2 > v1);
	assert_int_equal(gc_count(f), 2);
	assert_int_equal(meta_bucket_get(f->m, "b1", &b), ARK_OK);
	assert_int_equal(b.objects, 1);
	assert_int_equal(b.bytes, 200);
	assert_int_equal(meta_gc_take(f->m, ark_now_ms(), 60000, it, 8, &n),
	    ARK_OK);
	assert_int_equal(n, 2);
	assert_true(strcmp(it[0].fid, "1,100000beef") == 0 ||
	    strcmp(it[0].fid, "1,120000beef") == 0);
	assert_int_equal(meta_gc_done(f->m, it[0].id, INT64_MAX), ARK_OK);
	assert_int_equal(meta_gc_done(f->m, it[1].id, INT64_MAX), ARK_OK);
	assert_int_equal(gc_count(f), 0);

	/* setattr bumps the version, delete queues the rest */
	{
		struct meta_attrs a = META_ATTRS_KEEP;
		struct meta_object so;

		a.mode = 0100600;
		a.uid = 5;
		a.tags = "{\"t\":\"1\"}";
		a.user_meta = "{\"xattr\":\"v\"}";
		assert_int_equal(meta_object_setattr(f->m, "b1", "k", &a,
		    v2 + 1, NULL, NULL), ARK_EEXIST);
		assert_int_equal(meta_object_setattr(f->m, "b1", "k", &a,
		    v2, &so, NULL), ARK_OK);
		v1 = so.version;
		assert_true(v1 > v2);
		assert_int_equal(so.mode, 0100600);
		assert_int_equal(so.uid, 5);
		assert_int_equal(so.mtime_ms, 1234);
		meta_object_clear(&so);
		/* Permission bits alone keep the type. */
		a = (struct meta_attrs)META_ATTRS_KEEP;
		a.mode = 0640;
		assert_int_equal(meta_object_setattr(f->m, "b1", "k", &a,
		    META_ANY, &so, NULL), ARK_OK);
		assert_int_equal(so.mode, 0100640);
		assert_true(so.version > v1);
		meta_object_clear(&so);
		a.mode = 0100600;
		assert_int_equal(meta_object_setattr(f->m, "b1", "k", &a,
		    META_ANY, &so, NULL), ARK_OK);
		assert_int_equal(so.mode, 0100600);
		v1 = so.version;
		meta_object_clear(&so);
	}
	assert_int_equal(meta_object_get(f->m, "b1", "k", &g), ARK_OK);
	assert_int_equal(g.mode, 0100600);
	assert_int_equal(g.uid, 5);
	assert_int_equal(g.mtime_ms, 1234);
	assert_int_equal(g.version, v1);
	assert_string_equal(g.tags, "{\"t\":\"1\"}");
	meta_object_clear(&g);
	{
		struct meta_attrs a = META_ATTRS_KEEP;
		struct meta_object so;

		a.tags = "";
		a.ctype = "image/png";
		assert_int_equal(meta_object_setattr(f->m, "b1", "k", &a,
		    META_ANY, &so, NULL), ARK_OK);
		v1 = so.version;
		meta_object_clear(&so);
	}
	assert_int_equal(meta_object_get(f->m, "b1", "k", &g), ARK_OK);
	assert_null(g.tags);
	assert_string_equal(g.ctype, "image/png");
	assert_string_equal(g.user_meta, "{\"xattr\":\"v\"}");
	assert_int_equal(g.nfrags, 2);
	assert_int_equal(g.mode, 0100600);
	meta_object_clear(&g);
	assert_int_equal(meta_object_delete(f->m, "b1", "k", v1 + 1, NULL),
	    ARK_EEXIST);
	assert_int_equal(meta_object_delete(f->m, "b1", "k", META_ANY, NULL),
	    ARK_OK);
	assert_int_equal(meta_object_delete(f->m, "b1", "k", META_ANY, NULL),
	    ARK_ENOENT);
	assert_int_equal(gc_count(f), 2);
	assert_int_equal(meta_bucket_get(f->m, "b1", &b), ARK_OK);
	assert_int_equal(b.objects, 0);
	assert_int_equal(b.bytes, 0);
}

/* FileIDs handed out and never committed go to GC once expired, only
 * once, and not when a commit referenced them; the record is durable. */
static void
test_assigned(void **state)
{
	struct fx	*f = *state;
	const char	*fids[3] = { "1,3000000beef", "1,3010000beef",
	    "1,3020000beef" };
	int64_t		 now = ark_now_ms();
	size_t		 n;

	assert_int_equal(meta_assigned_add(f->m, fids, 3, now + 1000), ARK_OK);
	put(f, "x", 0x300, 1);			/* commits the first */
	assert_int_equal(meta_assigned_expire(f->m, now, 100, &n), ARK_OK);
	assert_int_equal(n, 0);			/* not expired yet */
	reopen(f);
	assert_int_equal(meta_assigned_expire(f->m, now + 2000, 100, &n),
	    ARK_OK);
	assert_int_equal(n, 2);
	assert_int_equal(gc_count(f), 2);
	assert_int_equal(meta_assigned_expire(f->m, now + 2000, 100, &n),
	    ARK_OK);
	assert_int_equal(n, 0);			/* each only once */
}

static void
test_gc_rules(void **state)
{
	struct fx		*f = *state;
	struct meta_object	 o;
	struct meta_frag	 fr[2];
	struct meta_gc_item	 it[8];
	size_t			 n;

	put(f, "a", 0x100, 2);
	put(f, "a", 0x200, 1);		/* 0x100, 0x101 queued */
	assert_int_equal(gc_count(f), 2);
	/* a commit that references a queued fid takes it back */
	mkobj(&o, fr, 1, 0x100);
	assert_int_equal(meta_object_put(f->m, "b1", "b", &o, META_ANY, NULL),
	    ARK_OK);
	assert_int_equal(gc_count(f), 1);
	/* once taken, a fid may be half deleted: commits must fail */
	assert_int_equal(meta_gc_take(f->m, ark_now_ms(), 60000, it, 8, &n),
	    ARK_OK);
	assert_int_equal(n, 1);
	assert_string_equal(it[0].fid, "1,1010000beef");
	mkobj(&o, fr, 1, 0x101);
	assert_int_equal(meta_object_put(f->m, "b1", "c", &o, META_ANY, NULL),
	    ARK_EAGAIN);
	{
		const char	*q[3] = { "1,1000000beef", "1,1010000beef",
		    "1,1020000beef" };
		int		 ref[3], gcs[3];

		assert_int_equal(meta_fid_status(f->m, q, 3, ref, gcs), ARK_OK);
		assert_int_equal(ref[0], 1);	/* in "b" */
		assert_int_equal(gcs[0], 0);
		assert_int_equal(ref[1], 0);
		assert_int_equal(gcs[1], 2);	/* taken */
		assert_int_equal(ref[2], 0);
		assert_int_equal(gcs[2], 0);
	}
	/* leased: not taken again before the lease ends; retry reschedules */
	assert_int_equal(meta_gc_take(f->m, ark_now_ms(), 60000, it, 8, &n),
	    ARK_OK);
	assert_int_equal(n, 0);
	assert_int_equal(meta_gc_retry(f->m, it[0].id, 0), ARK_OK);
	assert_int_equal(meta_gc_take(f->m, ark_now_ms(), 60000, it, 8, &n),
	    ARK_OK);
	assert_int_equal(n, 1);
	assert_int_equal(it[0].attempts, 1);
	/* deleted: a tombstone refuses late commits until its time is up */
	assert_int_equal(meta_gc_done(f->m, it[0].id, ark_now_ms() + 60000),
	    ARK_OK);
	assert_int_equal(gc_count(f), 0);
	assert_int_equal(meta_object_put(f->m, "b1", "c", &o, META_ANY, NULL),
	    ARK_EAGAIN);
	{
		const char	*q[1] = { "1,1010000beef" };
		int		 ref[1], gcs[1];

		assert_int_equal(meta_fid_status(f->m, q, 1, ref, gcs), ARK_OK);
		assert_int_equal(ref[0], 0);
		assert_int_equal(gcs[0], 3);	/* deleted */
		assert_int_equal(meta_gc_take(f->m, ark_now_ms(), 60000, it,
		    8, &n), ARK_OK);
		assert_int_equal(n, 0);		/* tombstones are not taken */
		assert_int_equal(meta_gc_take(f->m, ark_now_ms() + 120000,
		    60000, it, 8, &n), ARK_OK);
		assert_int_equal(n, 0);
		assert_int_equal(meta_fid_status(f->m, q, 1, ref, gcs), ARK_OK);
		assert_int_equal(gcs[0], 0);	/* forgotten */
	}
	/* a copy shares fragments: deleting the source frees nothing */
	assert_int_equal(meta_object_copy(f->m, "b1", "a", "b1", "a2", 0,
	    NULL, META_ANY, NULL), ARK_OK);
	assert_int_equal(meta_object_delete(f->m, "b1", "a", META_ANY, NULL),
	    ARK_OK);
	assert_int_equal(gc_count(f), 0);
	assert_int_equal(meta_object_delete(f->m, "b1", "a2", META_ANY, NULL),
	    ARK_OK);
	assert_int_equal(gc_count(f), 1);
}

static void
test_copy_rename(void **state)
{
	struct fx		*f = *state;
	struct meta_object	 g;
	struct meta_bucket	 b;

	assert_int_equal(meta_bucket_create(f->m, "b2", "alice",
	    META_ACL_PRIVATE), ARK_OK);
	put(f, "src", 0x300, 2);
	put(f, "dst", 0x400, 1);
	assert_int_equal(meta_object_copy(f->m, "b1", "src", "b1", "dst",
	    META_NOREPLACE, NULL, META_ANY, NULL), ARK_EEXIST);
	assert_int_equal(meta_object_copy(f->m, "b1", "src", "b1", "dst", 0,
	    NULL, META_ABSENT, NULL), ARK_EEXIST);
	assert_int_equal(meta_object_get(f->m, "b1", "dst", &g), ARK_OK);
	assert_int_equal(meta_object_copy(f->m, "b1", "src", "b1", "dst", 0,
	    NULL, g.version + 1, NULL), ARK_EEXIST);	/* dst stays: below */
	meta_object_clear(&g);
	assert_int_equal(meta_object_copy(f->m, "b1", "nope", "b1", "x", 0,
	    NULL, META_ANY, NULL), ARK_ENOENT);
	{
		struct meta_attrs a = META_ATTRS_KEEP;

		a.ctype = "application/x-copied";
		a.headers = "{\"Expires\":\"never\"}";
		assert_int_equal(meta_object_copy(f->m, "b1", "src", "b2", "c",
		    0, &a, META_ANY, NULL), ARK_OK);
	}
	assert_int_equal(meta_object_get(f->m, "b2", "c", &g), ARK_OK);
	assert_int_equal(g.nfrags, 2);
	assert_string_equal(g.ctype, "application/x-copied");
	assert_string_equal(g.headers, "{\"Expires\":\"never\"}");
	assert_string_equal(g.frags[0].fid, "1,3000000beef");
	meta_object_clear(&g);

	assert_int_equal(meta_object_rename(f->m, "b1", "src", "b1", "dst",
	    META_NOREPLACE), ARK_EEXIST);
	assert_int_equal(meta_object_rename(f->m, "b1", "src", "b1", "dst",
	    META_EXCHANGE), ARK_OK);
	assert_int_equal(meta_object_get(f->m, "b1", "dst", &g), ARK_OK);
	assert_string_equal(g.frags[0].fid, "1,3000000beef");
	meta_object_clear(&g);
	assert_int_equal(meta_object_get(f->m, "b1", "src", &g), ARK_OK);
	assert_string_equal(g.frags[0].fid, "1,4000000beef");
	meta_object_clear(&g);
	/* replacing rename drops dst's fragments (0x300.. still in b2/c) */
	assert_int_equal(meta_object_rename(f->m, "b1", "src", "b1", "dst", 0),
	    ARK_OK);
	assert_int_equal(meta_object_get(f->m, "b1", "src", &g), ARK_ENOENT);
	assert_int_equal(gc_count(f), 0);
	assert_int_equal(meta_object_rename(f->m, "b1", "dst", "b2", "moved",
	    0), ARK_OK);
	assert_int_equal(meta_bucket_get(f->m, "b1", &b), ARK_OK);
	assert_int_equal(b.objects, 0);
	assert_int_equal(meta_bucket_get(f->m, "b2", &b), ARK_OK);
	assert_int_equal(b.objects, 2);
	assert_int_equal(b.bytes, 300);
}

static void
test_prefix_ops(void **state)
{
	struct fx	*f = *state;
	struct meta_object g;
	uint64_t	 n;
	char		 key[64];
	int		 i;

	for (i = 0; i < 50; i++) {
		snprintf(key, sizeof(key), "dir/sub%d/f%d", i % 5, i);
		put(f, key, 0x1000 + (uint64_t)i * 4, 1);
	}
	put(f, "dir0", 0x2000, 1);		/* sorts after "dir/" */
	put(f, "other/x", 0x2004, 1);
	put(f, "new/sub1/f1", 0x2008, 1);	/* will be replaced */
	assert_int_equal(meta_prefix_rename(f->m, "b1", "dir/", "b1",
	    "dir/a/", 0, &n), ARK_EINVAL);
	assert_int_equal(meta_prefix_rename(f->m, "b1", "dir/", "b1", "new/",
	    META_NOREPLACE, &n), ARK_EEXIST);
	assert_int_equal(meta_object_get(f->m, "b1", "dir/sub0/f0", &g),
	    ARK_OK);		/* all or nothing */
	meta_object_clear(&g);
	assert_int_equal(meta_prefix_rename(f->m, "b1", "dir/", "b1", "new/",
	    0, &n), ARK_OK);
	assert_int_equal(n, 50);
	assert_int_equal(gc_count(f), 1);
	assert_int_equal(meta_object_get(f->m, "b1", "dir/sub1/f1", &g),
	    ARK_ENOENT);
	assert_int_equal(meta_object_get(f->m, "b1", "new/sub1/f1", &g),
	    ARK_OK);
	assert_string_equal(g.frags[0].fid, "1,10040000beef");
	meta_object_clear(&g);
	assert_int_equal(meta_object_get(f->m, "b1", "dir0", &g), ARK_OK);
	meta_object_clear(&g);
	assert_int_equal(meta_prefix_copy(f->m, "b1", "new/sub2/", "b1",
	    "copy/", 0, &n), ARK_OK);
	assert_int_equal(n, 10);
	assert_int_equal(meta_object_get(f->m, "b1", "copy/f7", &g), ARK_OK);
	assert_string_equal(g.key, "copy/f7");
	meta_object_clear(&g);
	assert_int_equal(meta_prefix_rename(f->m, "b1", "missing/", "b1",
	    "m2/", 0, &n), ARK_OK);
	assert_int_equal(n, 0);
}

struct collect {
	char	 out[4096];
	int	 n;
};

static int
collect_cb(void *arg, const struct meta_list_ent *e)
{
	struct collect *c = arg;

	c->n++;
	strcat(c->out, e->key);
	strcat(c->out, e->is_prefix ? "* " : " ");
	return 0;
}

static void
list_page(struct fx *f, const char *prefix, const char *delim,
    const char *after, const char *token, unsigned max, struct collect *c,
    char **next)
{
	struct meta_list_req r = { "b1", prefix, delim, after, token, max };

	memset(c, 0, sizeof(*c));
	assert_int_equal(meta_list(f->m, &r, collect_cb, c, next), ARK_OK);
}

static void
test_list_small(void **state)
{
	struct fx	*f = *state;
	struct collect	 c;
	char		*next;
	static const char *keys[] = { "a", "b/1", "b/2", "b/c/3", "b0", "c/",
	    "c/x", "d" };
	size_t		 i;

	for (i = 0; i < ARK_ARRAY_SIZE(keys); i++)
		put(f, keys[i], 0x5000 + i * 2, 1);
	list_page(f, NULL, NULL, NULL, NULL, 100, &c, &next);
	assert_string_equal(c.out, "a b/1 b/2 b/c/3 b0 c/ c/x d ");
	assert_null(next);
	list_page(f, NULL, "/", NULL, NULL, 100, &c, &next);
	assert_string_equal(c.out, "a b/* b0 c/* d ");
	list_page(f, "b/", "/", NULL, NULL, 100, &c, &next);
	assert_string_equal(c.out, "b/1 b/2 b/c/* ");
	list_page(f, "c/", "/", NULL, NULL, 100, &c, &next);
	assert_string_equal(c.out, "c/ c/x ");
	/* pages of 2 with the token */
	list_page(f, NULL, "/", NULL, NULL, 2, &c, &next);
	assert_string_equal(c.out, "a b/* ");
	assert_non_null(next);
	assert_string_equal(next, "b/");
	{
		char *t = next;

		list_page(f, NULL, "/", NULL, t, 2, &c, &next);
		free(t);
	}
	assert_string_equal(c.out, "b0 c/* ");
	assert_non_null(next);
	{
		char *t = next;

		list_page(f, NULL, "/", NULL, t, 2, &c, &next);
		free(t);
	}
	assert_string_equal(c.out, "d ");
	assert_null(next);
	/* exactly full last page: no token */
	list_page(f, NULL, "/", "b0", NULL, 2, &c, &next);
	assert_string_equal(c.out, "c/* d ");
	assert_null(next);
	/* start-after inside a common prefix skips the prefix */
	list_page(f, NULL, "/", "b/1", NULL, 100, &c, &next);
	assert_string_equal(c.out, "b0 c/* d ");
	list_page(f, NULL, NULL, "b/1", NULL, 100, &c, &next);
	assert_string_equal(c.out, "b/2 b/c/3 b0 c/ c/x d ");
	list_page(f, "zz", "/", NULL, NULL, 100, &c, &next);
	assert_string_equal(c.out, "");
	{
		struct meta_list_req r = { "nob", NULL, NULL, NULL, NULL, 10 };

		assert_int_equal(meta_list(f->m, &r, collect_cb, &c, &next),
		    ARK_ENOENT);
		r.bucket = "b1";
		r.max_keys = 0;
		assert_int_equal(meta_list(f->m, &r, collect_cb, &c, &next),
		    ARK_EINVAL);
	}
}

struct a_count {
	int	 keys, prefixes;
	char	 last[64];
};

static int
count_cb(void *arg, const struct meta_list_ent *e)
{
	struct a_count *a = arg;

	if (e->is_prefix)
		a->prefixes++;
	else
		a->keys++;
	snprintf(a->last, sizeof(a->last), "%s", e->key);
	return 0;
}

static void *
writer_thread(void *arg)
{
	struct fx		*f = arg;
	struct meta_object	 o;
	struct meta_frag	 fr[1];
	char			 key[64];
	static int		 seq;
	int			 i, me = __atomic_fetch_add(&seq, 1,
	    __ATOMIC_SEQ_CST);

	for (i = 0; i < 500; i++) {
		snprintf(key, sizeof(key), "d%03d/k%05d", (me * 500 + i) % 200,
		    me * 500 + i);
		mkobj(&o, fr, 1, 0x100000 + (uint64_t)(me * 500 + i));
		if (meta_object_put(f->m, "b1", key, &o, META_ANY, NULL) !=
		    ARK_OK)
			return (void *)1;
	}
	return NULL;
}

static void
test_list_many_concurrent(void **state)
{
	struct fx		*f = *state;
	struct meta_list_req	 r;
	struct a_count		 a;
	struct meta_bucket	 b;
	pthread_t		 t[8];
	char			*next = NULL, *tok;
	void			*ret;
	int			 i, pages = 0, keys = 0;
	uint64_t		 t0;

	/* 8 threads x 500 commits, group-committed: 4000 keys in 200 dirs */
	t0 = ark_mono_ns();
	for (i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&t[i], NULL, writer_thread, f),
		    0);
	for (i = 0; i < 8; i++) {
		assert_int_equal(pthread_join(t[i], &ret), 0);
		assert_null(ret);
	}
	print_message("4000 commits from 8 threads: %.0f ms\n",
	    (double)(ark_mono_ns() - t0) / 1e6);
	assert_int_equal(meta_bucket_get(f->m, "b1", &b), ARK_OK);
	assert_int_equal(b.objects, 4000);

	memset(&r, 0, sizeof(r));
	r.bucket = "b1";
	r.delimiter = "/";
	r.max_keys = 1000;
	memset(&a, 0, sizeof(a));
	assert_int_equal(meta_list(f->m, &r, count_cb, &a, &next), ARK_OK);
	assert_int_equal(a.prefixes, 200);
	assert_null(next);
	/* one directory: 20 keys, in pages of 7 */
	r.prefix = "d042/";
	r.max_keys = 7;
	do {
		memset(&a, 0, sizeof(a));
		tok = next;
		r.token = tok;
		assert_int_equal(meta_list(f->m, &r, count_cb, &a, &next),
		    ARK_OK);
		free(tok);
		keys += a.keys;
		pages++;
	} while (next != NULL && pages < 10);
	assert_int_equal(keys, 20);
	assert_int_equal(pages, 3);
	/* whole bucket without delimiter, pages of 1000 */
	r.prefix = NULL;
	r.delimiter = NULL;
	r.max_keys = 1000;
	r.token = NULL;
	keys = 0;
	pages = 0;
	do {
		memset(&a, 0, sizeof(a));
		tok = next;
		r.token = tok;
		assert_int_equal(meta_list(f->m, &r, count_cb, &a, &next),
		    ARK_OK);
		free(tok);
		keys += a.keys;
		pages++;
	} while (next != NULL && pages < 10);
	assert_int_equal(keys, 4000);
	assert_int_equal(pages, 4);
}

static int
part_cb(void *arg, const struct meta_part *p)
{
	(*(unsigned *)arg) += p->number;
	if (p->number == 1)
		assert_string_equal(p->checksums, "{\"crc32\":\"AAAAAQ==\"}");
	else
		assert_null(p->checksums);
	return 0;
}

static int
upload_cb(void *arg, const struct meta_upload *u)
{
	(void)u;
	(*(int *)arg)++;
	return 0;
}

static void
test_multipart(void **state)
{
	struct fx		*f = *state;
	struct meta_part	 p;
	struct meta_frag	 fr[2];
	struct meta_upload	 u;
	struct meta_object	 g;
	char			 id[META_ID_MAX + 1], id2[META_ID_MAX + 1];
	unsigned		 nums[2] = { 1, 3 }, bad = 0, sum = 0;
	const char		*etags[2] = { "e1", "" };
	int			 n = 0;
	int64_t			 v;

	assert_int_equal(meta_upload_create(f->m, "b1", "big", "video/mp4",
	    NULL, "{\"Cache-Control\":\"no-cache\"}", "CRC32", "COMPOSITE",
	    id), ARK_OK);
	assert_int_equal(strlen(id), 32);
	assert_int_equal(meta_upload_get(f->m, id, &u), ARK_OK);
	assert_string_equal(u.key, "big");
	assert_string_equal(u.bucket, "b1");
	assert_string_equal(u.cksum_alg, "CRC32");
	assert_string_equal(u.cksum_type, "COMPOSITE");
	meta_upload_clear(&u);
	memset(&p, 0, sizeof(p));
	for (p.number = 1; p.number <= 3; p.number++) {
		mkobj(&g, fr, 2, 0x7000 + p.number * 16);
		p.size = 200;
		snprintf(p.etag, sizeof(p.etag), "e%u", p.number);
		p.checksums = p.number == 1 ? "{\"crc32\":\"AAAAAQ==\"}" : NULL;
		p.frags = fr;
		p.nfrags = 2;
		assert_int_equal(meta_part_put(f->m, id, &p), ARK_OK);
	}
	/* part 3 again: its first fragments go to GC */
	mkobj(&g, fr, 1, 0x7100);
	p.number = 3;
	p.size = 100;
	p.nfrags = 1;
	assert_int_equal(meta_part_put(f->m, id, &p), ARK_OK);
	assert_int_equal(gc_count(f), 2);
	assert_int_equal(meta_part_list(f->m, id, part_cb, &sum), ARK_OK);
	assert_int_equal(sum, 6);
	assert_int_equal(meta_upload_list(f->m, "b1", "b", NULL, upload_cb, &n),
	    ARK_OK);
	assert_int_equal(n, 1);
	etags[0] = "wrong";
	assert_int_equal(meta_upload_complete(f->m, id, nums, etags, 2,
	    "x-2", NULL, META_ANY, &v, &bad), ARK_EINVAL);
	assert_int_equal(bad, 1);
	etags[0] = "e1";
	assert_int_equal(meta_upload_complete(f->m, id, nums, etags, 2,
	    "x-2", NULL, 1, &v, &bad), ARK_ENOENT);	/* no object yet */
	assert_int_equal(meta_upload_complete(f->m, id, nums, etags, 2,
	    "x-2", "{\"crc32\":\"AAAAAg==-2\"}", META_ABSENT, &v, &bad),
	    ARK_OK);
	assert_int_equal(meta_object_get(f->m, "b1", "big", &g), ARK_OK);
	assert_int_equal(g.size, 300);
	assert_int_equal(g.nfrags, 3);
	assert_int_equal(g.frags[2].offset, 200);
	assert_string_equal(g.frags[2].fid, "1,71000000beef");
	assert_string_equal(g.ctype, "video/mp4");
	assert_string_equal(g.etag, "x-2");
	assert_string_equal(g.headers, "{\"Cache-Control\":\"no-cache\"}");
	assert_string_equal(g.parts, "[{\"number\":1,\"size\":200,"
	    "\"etag\":\"e1\",\"checksums\":{\"crc32\":\"AAAAAQ==\"}},"
	    "{\"number\":3,\"size\":100,\"etag\":\"e3\"}]");
	assert_string_equal(g.checksums, "{\"crc32\":\"AAAAAg==-2\"}");
	meta_object_clear(&g);
	/* part 2 was not used: its 2 fragments join the queue */
	assert_int_equal(gc_count(f), 4);
	assert_int_equal(meta_upload_get(f->m, id, &u), ARK_ENOENT);
	assert_int_equal(meta_upload_create(f->m, "b1", "k2", NULL, NULL,
	    NULL, NULL, NULL, id2), ARK_OK);
	assert_int_equal(meta_upload_get(f->m, id2, &u), ARK_OK);
	assert_string_equal(u.cksum_alg, "");
	meta_upload_clear(&u);
	mkobj(&g, fr, 1, 0x7200);
	p.number = 1;
	assert_int_equal(meta_part_put(f->m, id2, &p), ARK_OK);
	assert_int_equal(meta_upload_abort(f->m, id2), ARK_OK);
	assert_int_equal(meta_upload_abort(f->m, id2), ARK_ENOENT);
	assert_int_equal(gc_count(f), 5);
}

static int
lock_cb(void *arg, const struct meta_lock *l)
{
	(void)l;
	(*(int *)arg)++;
	return 0;
}

static void
test_lfs(void **state)
{
	struct fx		*f = *state;
	struct meta_lfs		 o, g;
	struct meta_frag	 fr[2];
	struct meta_object	 tmp;
	struct meta_lock	 l, l2;
	char			*next = NULL, *cur;
	int			 n, pages = 0, total = 0;
	char			 path[32];

	mkobj(&tmp, fr, 2, 0x9000);
	memset(&o, 0, sizeof(o));
	o.size = 200;
	o.frags = fr;
	o.nfrags = 2;
	assert_int_equal(meta_lfs_put(f->m, "org/repo", "abcd", &o), ARK_OK);
	assert_int_equal(meta_lfs_put(f->m, "org/repo", "abcd", &o),
	    ARK_EEXIST);
	assert_int_equal(meta_lfs_get(f->m, "org/repo", "abcd", &g), ARK_OK);
	assert_int_equal(g.size, 200);
	assert_int_equal(g.nfrags, 2);
	free(g.frags);
	assert_int_equal(meta_lfs_get(f->m, "org/other", "abcd", &g),
	    ARK_ENOENT);
	assert_int_equal(meta_lfs_delete(f->m, "org/repo", "abcd"), ARK_OK);
	assert_int_equal(gc_count(f), 2);

	assert_int_equal(meta_lock_create(f->m, "org/repo", "a.bin", "alice",
	    &l), ARK_OK);
	assert_int_equal(meta_lock_create(f->m, "org/repo", "a.bin", "bob",
	    &l2), ARK_EEXIST);
	assert_string_equal(l2.id, l.id);
	assert_string_equal(l2.owner, "alice");
	meta_lock_clear(&l2);
	assert_int_equal(meta_lock_delete(f->m, "org/repo", l.id, "bob", 0,
	    NULL), ARK_EPERM);
	assert_int_equal(meta_lock_delete(f->m, "org/repo", l.id, "bob", 1,
	    &l2), ARK_OK);
	assert_string_equal(l2.path, "a.bin");
	meta_lock_clear(&l2);
	meta_lock_clear(&l);
	for (n = 0; n < 5; n++) {
		snprintf(path, sizeof(path), "f%d", n);
		assert_int_equal(meta_lock_create(f->m, "org/repo", path,
		    "alice", &l), ARK_OK);
		meta_lock_clear(&l);
	}
	do {
		cur = next;
		n = 0;
		assert_int_equal(meta_lock_list(f->m, "org/repo", NULL, NULL,
		    cur, 2, lock_cb, &n, &next), ARK_OK);
		free(cur);
		total += n;
		pages++;
	} while (next != NULL && pages < 10);
	assert_int_equal(total, 5);
	assert_int_equal(pages, 3);
	n = 0;
	assert_int_equal(meta_lock_list(f->m, "org/repo", "f3", NULL, NULL,
	    100, lock_cb, &n, &next), ARK_OK);
	assert_int_equal(n, 1);
}

static int
server_cb(void *arg, const struct meta_server *s)
{
	(void)s;
	(*(int *)arg)++;
	return 0;
}

static void
test_servers_totals(void **state)
{
	struct fx		*f = *state;
	struct meta_server	 s;
	struct meta_totals	 t;
	int			 n = 0;

	memset(&s, 0, sizeof(s));
	strcpy(s.id, "ds1");
	strcpy(s.url, "http://127.0.0.1:7501");
	s.group = 1;
	assert_int_equal(meta_server_put(f->m, &s), ARK_OK);
	s.group = 2;
	assert_int_equal(meta_server_put(f->m, &s), ARK_OK);
	assert_int_equal(meta_server_list(f->m, server_cb, &n), ARK_OK);
	assert_int_equal(n, 1);
	assert_int_equal(meta_server_delete(f->m, "ds1"), ARK_OK);
	assert_int_equal(meta_server_delete(f->m, "ds1"), ARK_ENOENT);
	put(f, "t", 0xa000, 2);
	assert_int_equal(meta_totals(f->m, &t), ARK_OK);
	assert_int_equal(t.users, 1);
	assert_int_equal(t.buckets, 1);
	assert_int_equal(t.objects, 1);
	assert_int_equal(t.bytes, 200);
	assert_int_equal(t.next_key, 1);
}

struct full_arg {
	struct fx	*f;
	int		 id;
	int		 acked, nospc;
};

static void *
full_writer(void *arg)
{
	struct full_arg		*a = arg;
	struct meta_object	 o;
	struct meta_frag	 fr[4];
	char			 key[64], meta[2048];
	enum ark_err		 rc;
	int			 i;

	memset(meta, 0, sizeof(meta));
	memset(meta, 'x', sizeof(meta) - 8);
	meta[0] = '"';
	meta[sizeof(meta) - 9] = '"';
	for (i = 0; i < 2000; i++) {
		snprintf(key, sizeof(key), "full/%d/%05d", a->id, i);
		mkobj(&o, fr, 4, 0x200000 + (uint64_t)(a->id * 10000 + i) * 4);
		o.checksums = meta;	/* bulk, so the cap is reached */
		rc = meta_object_put(a->f->m, "b1", key, &o, META_ANY, NULL);
		if (rc == ARK_ENOSPC) {
			a->nospc++;
			break;
		}
		if (rc != ARK_OK)
			return (void *)1;
		a->acked = i + 1;
	}
	return NULL;
}

/* A full disk (a capped database here) fails the writes that need space
 * with ARK_ENOSPC, keeps every acknowledged commit, corrupts nothing, and
 * the store keeps serving reads, deletes and, after a reopen without the
 * cap, writes. */
static void
test_disk_full(void **state)
{
	struct fx		*f = *state;
	struct meta_opts	 o = { 0, 1, 300 };
	struct full_arg		 a[4];
	struct meta_object	 g;
	pthread_t		 t[4];
	void			*ret;
	char			 key[64];
	int			 i, j, nospc = 0;

	meta_close(f->m);
	assert_int_equal(meta_open(f->path, &o, &f->m), ARK_OK);
	for (i = 0; i < 4; i++) {
		a[i].f = f;
		a[i].id = i;
		a[i].acked = a[i].nospc = 0;
		assert_int_equal(pthread_create(&t[i], NULL, full_writer,
		    &a[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], &ret), 0);
		assert_null(ret);
		nospc += a[i].nospc;
	}
	assert_true(nospc > 0);
	assert_int_equal(meta_check(f->m), ARK_OK);
	for (i = 0; i < 4; i++)
		for (j = 0; j < a[i].acked; j++) {
			snprintf(key, sizeof(key), "full/%d/%05d", i, j);
			assert_int_equal(meta_object_get(f->m, "b1", key, &g),
			    ARK_OK);
			assert_int_equal(g.nfrags, 4);
			meta_object_clear(&g);
		}
	reopen(f);
	assert_int_equal(meta_check(f->m), ARK_OK);
	for (i = 0; i < 4; i++)
		for (j = 0; j < a[i].acked; j++) {
			snprintf(key, sizeof(key), "full/%d/%05d", i, j);
			assert_int_equal(meta_object_get(f->m, "b1", key, &g),
			    ARK_OK);
			meta_object_clear(&g);
		}
	put(f, "after-full", 0x900000, 1);
	print_message("%d/%d/%d/%d commits before ENOSPC\n", a[0].acked,
	    a[1].acked, a[2].acked, a[3].acked);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_and_counter, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_nseq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_async_lazy, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bucket_conf, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_migration_from_v1, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_users_keys_buckets, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_object_commit_replaces,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_gc_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_assigned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_rename, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_prefix_ops, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_list_small, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_list_many_concurrent,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_multipart, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lfs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_servers_totals, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_disk_full, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("meta", tests, NULL, NULL);
}
