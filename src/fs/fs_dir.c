/*
 * fs_dir.c - open directories of arkorfs as paged registry listings
 * (see fs_dir.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "fs/fs_dir.h"
#include "fs/fs_node.h"
#include "fs/fs_reg.h"

#define FSDIR_PAGE	1000		/* entries per list call */

struct fsdir_slot {
	char			*name;
	const char		*key;
	enum fsdir_kind		 kind;
	const json_t		*obj;
};

struct fsdir {
	char			*bucket;	/* NULL: the buckets */
	char			*prefix;
	json_t			*page;		/* the current answer */
	struct fsdir_slot	*ent;		/* its entries */
	size_t			 n;
	uint64_t		 base;		/* number of ent[0] */
	char			*token;		/* next page's; NULL: last */
	int			 started;	/* page holds a page */
};

struct fsdir *
fsdir_open(const char *bucket, const char *prefix)
{
	struct fsdir *d = ark_xcalloc(1, sizeof(*d));

	d->bucket = bucket != NULL ? ark_xstrdup(bucket) : NULL;
	d->prefix = ark_xstrdup(prefix != NULL ? prefix : "");
	return d;
}

const char *
fsdir_bucket(const struct fsdir *d)
{
	return d->bucket;
}

static void
fsdir_drop(struct fsdir *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		free(d->ent[i].name);
	free(d->ent);
	d->ent = NULL;
	d->n = 0;
	json_decref(d->page);
	d->page = NULL;
}

void
fsdir_close(struct fsdir *d)
{
	if (d == NULL)
		return;
	fsdir_drop(d);
	free(d->bucket);
	free(d->prefix);
	free(d->token);
	free(d);
}

static void
fsdir_add(struct fsdir *d, char *name, const char *key,
    enum fsdir_kind kind, const json_t *obj)
{
	struct fsdir_slot *s = &d->ent[d->n++];

	s->name = name;
	s->key = key;
	s->kind = kind;
	s->obj = obj;
}

/* After the last page: files created in this mount and not closed yet,
 * which the registry does not have (a local disk lists them at once).
 * The page's JSON keeps them, as it keeps its own entries. */
static void
fsdir_add_unclosed(struct fsdir *d)
{
	json_t		*x = fsn_new_under(d->bucket, d->prefix), *e;
	size_t		 i, j, pl = strlen(d->prefix);
	const char	*k;

	if (json_array_size(x) == 0) {
		json_decref(x);
		return;
	}
	json_object_set_new(d->page, "unclosed", x);
	d->ent = ark_xrealloc(d->ent, (d->n + json_array_size(x) + 1) *
	    sizeof(*d->ent));
	json_array_foreach(x, i, e) {
		k = fsr_str(e, "key");
		for (j = 0; j < d->n; j++)	/* committed meanwhile */
			if (strcmp(d->ent[j].name, k + pl) == 0)
				break;
		if (j == d->n)
			fsdir_add(d, ark_xstrdup(k + pl), k, FSDIR_FILE, e);
	}
}

/* Fetches the page after the current one (the first if none). */
static int
fsdir_fetch(struct fsdir *d)
{
	json_t		*q, *r = NULL, *e, *keys, *pfxs;
	size_t		 i, pl = strlen(d->prefix);
	const char	*p;
	int		 rc;

	if (d->bucket == NULL)
		rc = fsr_call("bucket/list", json_object(), &r);
	else {
		q = json_pack("{s:s, s:s, s:s, s:i}", "bucket", d->bucket,
		    "prefix", d->prefix, "delimiter", "/", "max_keys",
		    FSDIR_PAGE);
		if (d->token != NULL)
			json_object_set_new(q, "token", json_string(d->token));
		rc = fsr_call("list", q, &r);
	}
	if (rc != 0)
		return rc;
	if (d->started)
		d->base += d->n;
	fsdir_drop(d);
	d->page = r;
	d->started = 1;
	if (d->bucket == NULL) {
		keys = json_object_get(r, "buckets");
		d->ent = ark_xcalloc(json_array_size(keys) + 1,
		    sizeof(*d->ent));
		json_array_foreach(keys, i, e)
			fsdir_add(d, ark_xstrdup(fsr_str(e, "name")), NULL,
			    FSDIR_BUCKET, e);
		free(d->token);
		d->token = NULL;
		return 0;
	}
	keys = json_object_get(r, "keys");
	pfxs = json_object_get(r, "prefixes");
	d->ent = ark_xcalloc(json_array_size(keys) + json_array_size(pfxs) +
	    1, sizeof(*d->ent));
	json_array_foreach(keys, i, e) {
		p = fsr_str(e, "key");
		if (strlen(p) <= pl)
			continue;	/* the directory's marker */
		fsdir_add(d, ark_xstrdup(p + pl), p, FSDIR_FILE, e);
	}
	json_array_foreach(pfxs, i, e) {
		p = json_string_value(e);
		if (p == NULL || strlen(p) <= pl + 1)
			continue;	/* "dir//": no POSIX name */
		fsdir_add(d, ark_xstrndup(p + pl, strlen(p) - pl - 1), NULL,
		    FSDIR_DIR, NULL);
	}
	free(d->token);
	d->token = NULL;
	if (json_is_true(json_object_get(r, "truncated")) &&
	    *fsr_str(r, "next_token") != '\0')
		d->token = ark_xstrdup(fsr_str(r, "next_token"));
	else
		fsdir_add_unclosed(d);
	return 0;
}

void
fsdir_rewind(struct fsdir *d)
{
	if (!d->started)
		return;
	fsdir_drop(d);
	free(d->token);
	d->token = NULL;
	d->base = 0;
	d->started = 0;
}

int
fsdir_get(struct fsdir *d, uint64_t idx, struct fsdir_ent *e)
{
	struct fsdir_slot	*s;
	int			 rc;

	if (d->started && idx < d->base)
		fsdir_rewind(d);	/* backwards (seekdir): from the start */
	for (;;) {
		if (d->started && idx < d->base + d->n) {
			s = &d->ent[idx - d->base];
			e->name = s->name;
			e->key = s->key;
			e->kind = s->kind;
			e->obj = s->obj;
			return 0;
		}
		if (d->started && d->token == NULL)
			return 1;
		if ((rc = fsdir_fetch(d)) != 0)
			return rc;
	}
}
