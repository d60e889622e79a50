/*
 * fs_ncache.c - arkorfs's cache of names (fs_ncache.h).
 *
 * Per bucket: the last change count seen (known), when it was last
 * confirmed, the names (key -> the answer object/get with "dir" gives,
 * compacted; JSON null: absent; false: unknown, ask) and the complete
 * directories ("prefix/" -> true: every child is in names). One mutex.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/util.h"
#include "fs/fs_ncache.h"
#include "fs/fs_reg.h"

#define FSNC_PARKED	16	/* own answers waiting for an earlier one */

/* An answer of this mount's that came before an earlier write's. */
struct fsnc_parked {
	int64_t			 before, after;
	char			*route;
	json_t			*body, *answer;
};

struct fsnc_bucket {
	char			*name;
	int64_t			 known;		/* 0: nothing known */
	int64_t			 at_ms;		/* last confirmed (monotonic) */
	int			 inflight;	/* own writes sent, not seen */
	struct fsnc_parked	 parked[FSNC_PARKED];
	size_t			 nparked;
	json_t			*names;
	json_t			*complete;
	struct fsnc_bucket	*next;
};

static void	fsnc_unpark(struct fsnc_bucket *, size_t);

static pthread_mutex_t		 fsnc_mu = PTHREAD_MUTEX_INITIALIZER;
static struct fsnc_bucket	*fsnc_list;
static int64_t			 fsnc_ttl_ms;
static size_t			 fsnc_max;

static int64_t
fsnc_now_ms(void)
{
	return (int64_t)(ark_mono_ns() / 1000000);
}

void
fsnc_init(int64_t ttl_ms, size_t max_names)
{
	fsnc_ttl_ms = ttl_ms;
	fsnc_max = max_names;
}

void
fsnc_fini(void)
{
	struct fsnc_bucket *b, *next;

	pthread_mutex_lock(&fsnc_mu);
	for (b = fsnc_list; b != NULL; b = next) {
		next = b->next;
		while (b->nparked > 0)
			fsnc_unpark(b, 0);
		json_decref(b->names);
		json_decref(b->complete);
		free(b->name);
		free(b);
	}
	fsnc_list = NULL;
	pthread_mutex_unlock(&fsnc_mu);
}

static struct fsnc_bucket *
fsnc_bucket(const char *name, int create)
{
	struct fsnc_bucket *b;

	for (b = fsnc_list; b != NULL; b = b->next)
		if (strcmp(b->name, name) == 0)
			return b;
	if (!create)
		return NULL;
	b = ark_xcalloc(1, sizeof(*b));
	b->name = ark_xstrdup(name);
	b->names = json_object();
	b->complete = json_object();
	b->next = fsnc_list;
	fsnc_list = b;
	return b;
}

static void
fsnc_unpark(struct fsnc_bucket *b, size_t i)
{
	free(b->parked[i].route);
	json_decref(b->parked[i].body);
	json_decref(b->parked[i].answer);
	b->parked[i] = b->parked[--b->nparked];
}

/* Forgets every name (and parked answers); known becomes `known` (0:
 * nothing). */
static void
fsnc_drop(struct fsnc_bucket *b, int64_t known)
{
	json_object_clear(b->names);
	json_object_clear(b->complete);
	while (b->nparked > 0)
		fsnc_unpark(b, 0);
	b->known = known;
	b->at_ms = fsnc_now_ms();
}

/* The directory holding key: "a/b/" for "a/b/c", "" at the top. */
static char *
fsnc_parent(const char *key)
{
	const char *slash = strrchr(key, '/');

	return slash != NULL ? ark_xstrndup(key, (size_t)(slash - key + 1)) :
	    ark_xstrdup("");
}

static void
fsnc_set(struct fsnc_bucket *b, const char *key, json_t *v)
{
	if (json_object_size(b->names) >= fsnc_max &&
	    json_object_get(b->names, key) == NULL)
		fsnc_drop(b, b->known);		/* full: start again */
	json_object_set_new_nocheck(b->names, key, v);
}

/* The fields of an object (object/get answer, object/put body,
 * object/setattr answer) that a stat needs; NULL if some are missing. */
static json_t *
fsnc_file(const json_t *o)
{
	static const char *const need[] = { "size", "mode", "uid", "gid",
	    "mtime_ms", NULL };
	json_t	*v = json_object();
	size_t	 i;

	for (i = 0; need[i] != NULL; i++) {
		json_t *f = json_object_get(o, need[i]);

		if (!json_is_integer(f)) {
			json_decref(v);
			return NULL;
		}
		json_object_set_nocheck(v, need[i], f);
	}
	return v;
}

/* A read answered count n: 1 when what it read may be kept. */
static int
fsnc_seen(struct fsnc_bucket *b, int64_t n)
{
	if (n <= 0 || n < b->known)
		return 0;		/* none, or older than what we know */
	/* Newer, while this mount has writes in flight: maybe only ours,
	 * whose answers come next and are applied in turn (another
	 * writer's change then shows in their counts). Keep nothing. */
	if (n > b->known && b->inflight > 0)
		return 0;
	if (n > b->known)
		fsnc_drop(b, n);	/* someone wrote */
	b->at_ms = fsnc_now_ms();
	return 1;
}

static void
fsnc_read(struct fsnc_bucket *b, const json_t *body, int status,
    const json_t *answer)
{
	const char	*key = fsr_str(body, "key");
	json_t		*v = NULL, *mk;

	if (!fsnc_seen(b, fsr_int(answer, "nseq")) ||
	    !json_is_true(json_object_get(body, "dir")) || *key == '\0')
		return;
	if (status == 404)
		v = json_null();
	else if (status != 200)
		return;
	else if (json_is_true(json_object_get(answer, "dir"))) {
		v = json_pack("{s:b}", "dir", 1);
		if ((mk = json_object_get(answer, "marker")) != NULL)
			json_object_set_new(v, "marker", json_deep_copy(mk));
	} else if ((v = fsnc_file(answer)) == NULL)
		return;
	fsnc_set(b, key, v);
}

/* After the removal of key: a directory above it that only its keys
 * implied (no marker) may have gone with it. */
static void
fsnc_unimply(struct fsnc_bucket *b, const char *key)
{
	char	*name = ark_xstrdup(key), *slash;
	json_t	*e;

	while ((slash = strrchr(name, '/')) != NULL) {
		*slash = '\0';
		e = json_object_get(b->names, name);
		if (json_is_true(json_object_get(e, "dir")) &&
		    json_object_get(e, "marker") == NULL)
			json_object_set_new_nocheck(b->names, name,
			    json_false());
	}
	free(name);
}

/* A file being deleted (an early unlink is answered already) is not
 * known to be there any more, nor the directories it alone implied. */
static void
fsnc_deleting(struct fsnc_bucket *b, const char *key)
{
	size_t kl = strlen(key);

	if (kl == 0 || key[kl - 1] == '/')
		return;			/* rmdir: applied on its answer */
	if (json_object_get(b->names, key) != NULL)
		json_object_set_new_nocheck(b->names, key, json_false());
	fsnc_unimply(b, key);
}

/* This mount's own write of key, applied to the cache. */
static void
fsnc_apply(struct fsnc_bucket *b, const char *route, const json_t *body,
    const json_t *answer)
{
	const char	*key = fsr_str(body, "key");
	size_t		 kl = strlen(key);
	char		*name, *parent;
	const json_t	*attrs;
	json_t		*prev, *v;
	int		 absent;

	if (kl == 0)
		return;
	if (strcmp(route, "object/rename") == 0) {
		/* A file moves with its attributes (rsync's temp files,
		 * editors' saves); its old name is unknown, as after an
		 * unlink, or the other file's with exchange. */
		const char *src = fsr_str(body, "src_key");

		prev = json_object_get(b->names, src);
		v = prev != NULL && !json_is_null(prev) ? json_incref(prev) :
		    json_false();
		if (json_is_true(json_object_get(body, "exchange"))) {
			prev = json_object_get(b->names, key);
			fsnc_set(b, src, prev != NULL && !json_is_null(prev) ?
			    json_incref(prev) : json_false());
		} else {
			fsnc_set(b, src, json_false());
			fsnc_unimply(b, src);
		}
		fsnc_set(b, key, v);
		return;
	}
	if (key[kl - 1] != '/') {
		if (strcmp(route, "object/delete") == 0) {
			v = json_false();	/* it may still be a dir */
			fsnc_unimply(b, key);
		} else if ((v = fsnc_file(strcmp(route, "object/put") == 0 ?
		    body : answer)) == NULL)
			v = json_false();
		fsnc_set(b, key, v);
		return;
	}
	/* A directory's marker "name/". */
	name = ark_xstrndup(key, kl - 1);
	if (strcmp(route, "object/delete") == 0) {
		/* rmdir: the name may still be implied by keys under it. */
		fsnc_set(b, name, json_false());
		fsnc_unimply(b, name);
		json_object_del(b->complete, key);
		free(name);
		return;
	}
	prev = json_object_get(b->names, name);
	parent = fsnc_parent(name);
	/* Known absent: looked up so, or not held in a complete parent. */
	absent = json_is_null(prev) || (prev == NULL &&
	    json_object_get(b->complete, parent) != NULL);
	free(parent);
	/* mkdir, chmod and the like of a directory: the marker's attributes
	 * are the put's, or the setattr's answer. */
	attrs = strcmp(route, "object/put") == 0 ? body : answer;
	v = json_pack("{s:b, s:{s:s, s:O?, s:O?, s:O?, s:O?}}", "dir", 1,
	    "marker", "key", key, "mode", json_object_get(attrs, "mode"),
	    "uid", json_object_get(attrs, "uid"), "gid",
	    json_object_get(attrs, "gid"), "mtime_ms",
	    json_object_get(attrs, "mtime_ms"));
	if (v == NULL || !json_is_integer(json_object_get(attrs, "mode"))) {
		json_decref(v);
		fsnc_set(b, name, json_false());
		json_object_del(b->complete, key);
	} else {
		fsnc_set(b, name, v);
		/* mkdir of a name known absent: a directory known empty. */
		if (strcmp(route, "object/put") == 0 && absent)
			json_object_set_new_nocheck(b->complete, key,
			    json_true());
	}
	free(name);
}

/* Applies parked answers that now follow on; when no write of ours is
 * in flight, what is left can only follow another writer's: forgets. */
static void
fsnc_replay(struct fsnc_bucket *b)
{
	size_t	 i;
	int64_t	 top = 0;

	for (i = 0; i < b->nparked; i++)
		if (b->parked[i].before == b->known) {
			struct fsnc_parked *p = &b->parked[i];

			b->known = p->after;
			fsnc_apply(b, p->route, p->body, p->answer);
			fsnc_unpark(b, i);
			i = (size_t)-1;		/* from the start again */
		}
	if (b->inflight > 0 || b->nparked == 0)
		return;
	for (i = 0; i < b->nparked; i++)
		top = ARK_MAX(top, b->parked[i].after);
	fsnc_drop(b, ARK_MAX(top, b->known));
}

static void
fsnc_write(struct fsnc_bucket *b, const char *route, const json_t *body,
    int status, const json_t *answer)
{
	json_t	*ns = json_object_get(answer, "nseq");
	int64_t	 before = (int64_t)json_integer_value(json_array_get(ns, 0));
	int64_t	 after = (int64_t)json_integer_value(json_array_get(ns, 1));

	if (status >= 400 && status < 500)
		return;			/* refused: nothing changed */
	if (status != 200 || before <= 0 || after < before) {
		fsnc_drop(b, 0);	/* failed or unknown: maybe changed */
		return;
	}
	if (before > b->known && b->inflight > 0 &&
	    b->nparked < FSNC_PARKED) {
		/* Maybe an earlier write of ours is still on its way (two
		 * threads): wait for it. */
		struct fsnc_parked *p = &b->parked[b->nparked++];

		p->before = before;
		p->after = after;
		p->route = ark_xstrdup(route);
		p->body = json_deep_copy(body);
		p->answer = json_deep_copy(answer);
		return;
	}
	if (before != b->known) {
		if (after <= b->known) {
			fsnc_drop(b, 0);	/* ours, reordered: unsure */
			return;
		}
		fsnc_drop(b, after);	/* others wrote too */
	}
	b->known = after;
	b->at_ms = fsnc_now_ms();
	fsnc_apply(b, route, body, answer);
}

/* A write whose answer carries the bucket's counts (fsnc_write). */
static int
fsnc_counted(const char *route, const char *bucket, const char *src)
{
	return strcmp(route, "object/put") == 0 ||
	    strcmp(route, "object/delete") == 0 ||
	    strcmp(route, "object/setattr") == 0 ||
	    (strcmp(route, "object/rename") == 0 && strcmp(src, bucket) == 0);
}

void
fsnc_observe(const char *route, const json_t *body, int status,
    const json_t *answer)
{
	/* Reads that keep nothing, and object/deletes, whose entries
	 * fs_unlink shows one by one as object/delete calls. */
	static const char *const reads[] = { "list", "bucket/list", "stat",
	    "assign", "object/deletes", NULL };
	struct fsnc_bucket	*b;
	const char		*bucket = fsr_str(body, "bucket");
	const char		*src = fsr_str(body, "src_bucket");
	size_t			 i;

	if (fsnc_ttl_ms <= 0 || *bucket == '\0')
		return;
	for (i = 0; reads[i] != NULL; i++)
		if (strcmp(route, reads[i]) == 0)
			return;
	pthread_mutex_lock(&fsnc_mu);
	if (fsnc_counted(route, bucket, src)) {
		/* Writes in flight: see fsnc_seen. */
		b = fsnc_bucket(bucket, 1);
		if (status < 0) {
			b->inflight++;
			if (strcmp(route, "object/delete") == 0)
				fsnc_deleting(b, fsr_str(body, "key"));
			goto out;
		}
		if (b->inflight > 0)
			b->inflight--;
	} else if (status < 0)
		goto out;
	if (strcmp(route, "object/get") == 0) {
		if (answer != NULL)
			fsnc_read(fsnc_bucket(bucket, 1), body, status, answer);
	} else if (strcmp(route, "bucket/get") == 0) {
		/* A confirmation of everything known, or news (unless
		 * maybe only ours in flight: fsnc_seen). */
		int64_t n = fsr_int(answer, "nseq");

		if (status == 200 && (b = fsnc_bucket(bucket, 0)) != NULL &&
		    !fsnc_seen(b, n) && !(n > b->known && b->inflight > 0))
			fsnc_drop(b, n);
	} else if (fsnc_counted(route, bucket, src)) {
		b = fsnc_bucket(bucket, 1);
		fsnc_write(b, route, body, status, answer);
		fsnc_replay(b);
	} else {
		/* Any other call may change names: directory renames,
		 * renames between buckets, copies. */
		if ((b = fsnc_bucket(bucket, 0)) != NULL)
			fsnc_drop(b, 0);
		if (*src != '\0' && (b = fsnc_bucket(src, 0)) != NULL)
			fsnc_drop(b, 0);
	}
out:
	pthread_mutex_unlock(&fsnc_mu);
}

/* 1 when a parked answer (a write of ours, done, not applied yet) is of
 * key, of its directory marker or of a name under it: until it applies,
 * the cache's answer for key may be from before that write. */
static int
fsnc_parked_touches(const struct fsnc_bucket *b, const char *key)
{
	static const char *const fields[] = { "key", "src_key", NULL };
	size_t	 i, j, kl = strlen(key);

	for (i = 0; i < b->nparked; i++)
		for (j = 0; fields[j] != NULL; j++) {
			const char *k = fsr_str(b->parked[i].body, fields[j]);

			if (strncmp(k, key, kl) == 0 &&
			    (k[kl] == '\0' || k[kl] == '/'))
				return 1;
		}
	return 0;
}

enum fsnc_res
fsnc_lookup(const char *bucket, const char *key, json_t **obj,
    int64_t *age_ms)
{
	struct fsnc_bucket	*b;
	enum fsnc_res		 res = FSNC_MISS;
	json_t			*e;
	char			*parent;

	*obj = NULL;
	if (fsnc_ttl_ms <= 0)
		return FSNC_MISS;
	parent = fsnc_parent(key);
	pthread_mutex_lock(&fsnc_mu);
	if ((b = fsnc_bucket(bucket, 0)) == NULL || b->known == 0)
		goto out;
	e = json_object_get(b->names, key);
	if (e == NULL ? json_object_get(b->complete, parent) == NULL :
	    json_is_false(e))
		goto out;			/* not known */
	if (fsnc_parked_touches(b, key))
		goto out;			/* changed by a parked write */
	if (age_ms != NULL)
		*age_ms = fsnc_now_ms() - b->at_ms;
	if (fsnc_now_ms() - b->at_ms >= fsnc_ttl_ms)
		res = FSNC_STALE;
	else if (e == NULL || json_is_null(e))
		res = FSNC_ABSENT;
	else {
		*obj = json_incref(e);
		res = FSNC_HIT;
	}
out:
	pthread_mutex_unlock(&fsnc_mu);
	free(parent);
	return res;
}
