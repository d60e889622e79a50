/*
 * cluster.c - data servers, groups, placement, FileID allocation.
 * Small tables (a cluster has tens to thousands of servers): arrays under
 * one mutex, scanned linearly.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "registry/cluster.h"

struct srv {
	char		 id[META_ID_MAX + 1];
	char		 url[META_URL_MAX + 1];
	uint32_t	 group;
	uint64_t	 free, capacity;
	int		 readonly;
	int64_t		 last_ms;	/* last heartbeat; 0: none yet */
	json_t		*stats;		/* last heartbeat's stats or NULL */
	json_t		*corrupt;	/* last reported corrupt needles */
	int		 logged_up;	/* state last logged */
};

struct cluster {
	struct meta	*m;
	struct cluster_opts o;
	pthread_mutex_t	 mu;
	struct srv	*s;
	size_t		 n, alloc;
	uint64_t	 key_next, key_end;	/* reserved range [next, end) */
};

static int
load_cb(void *arg, const struct meta_server *ms)
{
	struct cluster	*c = arg;
	struct srv	*s;

	if (c->n == c->alloc) {
		c->alloc = c->alloc ? c->alloc * 2 : 16;
		c->s = ark_xrealloc(c->s, c->alloc * sizeof(*c->s));
	}
	s = &c->s[c->n++];
	memset(s, 0, sizeof(*s));
	memcpy(s->id, ms->id, sizeof(s->id));
	memcpy(s->url, ms->url, sizeof(s->url));
	s->group = ms->group;
	return 0;
}

enum ark_err
cluster_new(struct meta *m, const struct cluster_opts *o,
    struct cluster **out)
{
	struct cluster	*c = ark_xcalloc(1, sizeof(*c));
	enum ark_err	 rc;

	c->m = m;
	c->o = *o;
	if (c->o.replicas == 0 || c->o.replicas > CLUSTER_MAX_REPLICAS)
		c->o.replicas = 3;
	if (c->o.key_batch == 0)
		c->o.key_batch = 10000;
	pthread_mutex_init(&c->mu, NULL);
	if ((rc = meta_server_list(m, load_cb, c)) != ARK_OK) {
		cluster_free(c);
		return rc;
	}
	*out = c;
	return ARK_OK;
}

void
cluster_free(struct cluster *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++) {
		if (c->s[i].stats != NULL)
			json_decref(c->s[i].stats);
		json_decref(c->s[i].corrupt);
	}
	pthread_mutex_destroy(&c->mu);
	free(c->s);
	free(c);
}

static struct srv *
find(struct cluster *c, const char *id)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->s[i].id, id) == 0)
			return &c->s[i];
	return NULL;
}

static int
is_up(const struct cluster *c, const struct srv *s, int64_t now)
{
	return s->last_ms > 0 && now - s->last_ms <= c->o.heartbeat_timeout_ms;
}

static size_t
group_size(const struct cluster *c, uint32_t g)
{
	size_t i, n = 0;

	for (i = 0; i < c->n; i++)
		if (c->s[i].group == g)
			n++;
	return n;
}

/* The group a new server joins: the lowest group short of replicas. */
static uint32_t
place(const struct cluster *c)
{
	uint32_t	g, max = 0;
	size_t		i;

	for (i = 0; i < c->n; i++)
		if (c->s[i].group > max)
			max = c->s[i].group;
	for (g = 1; g <= max; g++)
		if (group_size(c, g) > 0 && group_size(c, g) < c->o.replicas)
			return g;
	return max + 1;
}

enum ark_err
cluster_heartbeat(struct cluster *c, const struct cluster_hb *hb,
    uint32_t *group)
{
	struct meta_server	 ms;
	struct srv		*s, tmp;
	enum ark_err		 rc = ARK_OK;
	int			 persist = 0;

	pthread_mutex_lock(&c->mu);
	s = find(c, hb->id);
	if (s != NULL && hb->group != 0 && s->group != hb->group) {
		pthread_mutex_unlock(&c->mu);
		return ARK_EEXIST;
	}
	if (s == NULL) {
		memset(&tmp, 0, sizeof(tmp));
		snprintf(tmp.id, sizeof(tmp.id), "%s", hb->id);
		tmp.group = hb->group != 0 ? hb->group : place(c);
		s = &tmp;
		persist = 1;
	}
	if (strcmp(s->url, hb->url) != 0) {
		snprintf(s->url, sizeof(s->url), "%s", hb->url);
		persist = 1;
	}
	if (persist) {
		/* Durable before the server is told its group. The store
		 * call waits for a commit: held lock keeps placement
		 * consistent; registrations are rare. */
		memset(&ms, 0, sizeof(ms));
		memcpy(ms.id, s->id, sizeof(ms.id));
		memcpy(ms.url, s->url, sizeof(ms.url));
		ms.group = s->group;
		if ((rc = meta_server_put(c->m, &ms)) != ARK_OK) {
			pthread_mutex_unlock(&c->mu);
			return rc;
		}
		if (s == &tmp) {
			if (c->n == c->alloc) {
				c->alloc = c->alloc ? c->alloc * 2 : 16;
				c->s = ark_xrealloc(c->s,
				    c->alloc * sizeof(*c->s));
			}
			c->s[c->n] = tmp;
			s = &c->s[c->n++];
			ark_log_info("data server %s (%s) joined group %u",
			    s->id, s->url, s->group);
		}
	}
	if (!s->logged_up) {
		ark_log_info("data server %s (%s, group %u) is up", s->id,
		    s->url, s->group);
		s->logged_up = 1;
	}
	s->free = hb->free;
	s->capacity = hb->capacity;
	s->readonly = hb->readonly;
	s->last_ms = ark_now_ms();
	if (s->stats != NULL)
		json_decref(s->stats);
	s->stats = hb->stats != NULL ? json_loads(hb->stats, 0, NULL) : NULL;
	{
		size_t was = json_array_size(s->corrupt);
		size_t now = json_array_size(hb->corrupt);

		if (now != was)
			ark_log_warnx("data server %s (group %u) reports %zu "
			    "corrupt needle%s", s->id, s->group, now,
			    now == 1 ? "" : "s");
		json_decref(s->corrupt);
		/* A deep copy: the request's JSON is freed on its thread. */
		s->corrupt = now > 0 ? json_deep_copy(hb->corrupt) : NULL;
	}
	*group = s->group;
	pthread_mutex_unlock(&c->mu);
	return rc;
}

void
cluster_sweep(struct cluster *c)
{
	int64_t	now = ark_now_ms();
	size_t	i;

	pthread_mutex_lock(&c->mu);
	for (i = 0; i < c->n; i++)
		if (c->s[i].logged_up && !is_up(c, &c->s[i], now)) {
			c->s[i].logged_up = 0;
			ark_log_warnx("data server %s (%s, group %u) is down: "
			    "no heartbeat for %lld ms", c->s[i].id,
			    c->s[i].url, c->s[i].group,
			    (long long)(now - c->s[i].last_ms));
		}
	pthread_mutex_unlock(&c->mu);
}

enum ark_err
cluster_remove(struct cluster *c, const char *id)
{
	struct srv	*s;
	enum ark_err	 rc;

	pthread_mutex_lock(&c->mu);
	if ((s = find(c, id)) == NULL) {
		pthread_mutex_unlock(&c->mu);
		return ARK_ENOENT;
	}
	if ((rc = meta_server_delete(c->m, id)) == ARK_OK ||
	    rc == ARK_ENOENT) {
		if (s->stats != NULL)
			json_decref(s->stats);
		json_decref(s->corrupt);
		*s = c->s[--c->n];
		rc = ARK_OK;
	}
	pthread_mutex_unlock(&c->mu);
	return rc;
}

/* Group g writable for a fragment of `need` bytes; *free gets the
 * smallest free space of its servers. */
static int
writable(const struct cluster *c, uint32_t g, uint64_t need, int64_t now,
    uint64_t *free)
{
	size_t		i, n = 0;
	uint64_t	min = UINT64_MAX;

	for (i = 0; i < c->n; i++) {
		const struct srv *s = &c->s[i];

		if (s->group != g)
			continue;
		n++;
		if (!is_up(c, s, now) || s->readonly || s->free <= need)
			return 0;
		if (s->free < min)
			min = s->free;
	}
	*free = min;
	return n >= c->o.replicas;
}

/* Distinct group ids, ascending, into *out (caller frees). */
static size_t
groups(const struct cluster *c, uint32_t **out)
{
	uint32_t	*g = ark_xcalloc(c->n + 1, sizeof(*g));
	size_t		 i, j, n = 0;

	for (i = 0; i < c->n; i++) {
		for (j = 0; j < n && g[j] != c->s[i].group; j++)
			;
		if (j == n)
			g[n++] = c->s[i].group;
	}
	for (i = 1; i < n; i++)		/* insertion sort: few groups */
		for (j = i; j > 0 && g[j - 1] > g[j]; j--) {
			uint32_t t = g[j];

			g[j] = g[j - 1];
			g[j - 1] = t;
		}
	*out = g;
	return n;
}

static size_t
urls_of(const struct cluster *c, uint32_t g, int up_only, int64_t now,
    char urls[][META_URL_MAX + 1])
{
	size_t i, n = 0;

	for (i = 0; i < c->n && n < CLUSTER_MAX_REPLICAS; i++)
		if (c->s[i].group == g && (!up_only || is_up(c, &c->s[i], now)))
			memcpy(urls[n++], c->s[i].url, META_URL_MAX + 1);
	return n;
}

enum ark_err
cluster_assign(struct cluster *c, uint64_t size, struct ark_fid *fid,
    char urls[][META_URL_MAX + 1], size_t *nurls)
{
	uint32_t	*g, pick = 0;
	uint64_t	*w, total = 0, r, first;
	size_t		 i, n;
	int64_t		 now = ark_now_ms();
	enum ark_err	 rc;

	pthread_mutex_lock(&c->mu);
	n = groups(c, &g);
	w = ark_xcalloc(n + 1, sizeof(*w));
	for (i = 0; i < n; i++) {
		uint64_t f;

		if (writable(c, g[i], size, now, &f)) {
			w[i] = f / 4096 + 1;	/* weight by free space */
			total += w[i];
		}
	}
	if (total == 0) {
		free(g);
		free(w);
		pthread_mutex_unlock(&c->mu);
		return ARK_EAGAIN;
	}
	r = ark_random_u64() % total;
	for (i = 0; i < n; i++) {
		if (r < w[i]) {
			pick = g[i];
			break;
		}
		r -= w[i];
	}
	free(g);
	free(w);
	if (c->key_next == c->key_end) {
		/* Reserve a new range; committed before any key of it is
		 * used, so a crash can only skip keys, never repeat one. */
		if ((rc = meta_fid_reserve(c->m, c->o.key_batch, &first)) !=
		    ARK_OK) {
			pthread_mutex_unlock(&c->mu);
			return rc;
		}
		c->key_next = first;
		c->key_end = first + c->o.key_batch;
	}
	fid->group = pick;
	fid->key = c->key_next++;
	fid->cookie = ark_random_u32();
	*nurls = urls_of(c, pick, 1, now, urls);
	pthread_mutex_unlock(&c->mu);
	return ARK_OK;
}

enum ark_err
cluster_group_urls(struct cluster *c, uint32_t group, int up_only,
    char urls[][META_URL_MAX + 1], size_t *nurls)
{
	pthread_mutex_lock(&c->mu);
	if (group_size(c, group) == 0) {
		pthread_mutex_unlock(&c->mu);
		return ARK_ENOENT;
	}
	*nurls = urls_of(c, group, up_only, ark_now_ms(), urls);
	pthread_mutex_unlock(&c->mu);
	return ARK_OK;
}

json_t *
cluster_servers_json(struct cluster *c)
{
	json_t	*a = json_array();
	int64_t	 now = ark_now_ms();
	size_t	 i;

	pthread_mutex_lock(&c->mu);
	for (i = 0; i < c->n; i++) {
		const struct srv *s = &c->s[i];

		json_t *e = json_pack("{s:s, s:s, s:I, s:s, s:I, s:I, s:b,"
		    " s:I}", "id", s->id, "url", s->url,
		    "group", (json_int_t)s->group,
		    "state", is_up(c, s, now) ? "up" : "down",
		    "free", (json_int_t)s->free,
		    "capacity", (json_int_t)s->capacity,
		    "readonly", s->readonly,
		    "last_heartbeat_ms", (json_int_t)s->last_ms);

		if (s->stats != NULL)
			json_object_set(e, "stats", s->stats);
		if (s->corrupt != NULL)
			json_object_set_new(e, "corrupt",
			    json_deep_copy(s->corrupt));
		json_array_append_new(a, e);
	}
	pthread_mutex_unlock(&c->mu);
	return a;
}

json_t *
cluster_groups_json(struct cluster *c)
{
	json_t		*a = json_array(), *ids;
	uint32_t	*g;
	uint64_t	 f;
	int64_t		 now = ark_now_ms();
	size_t		 i, j, n;

	pthread_mutex_lock(&c->mu);
	n = groups(c, &g);
	for (i = 0; i < n; i++) {
		int w = writable(c, g[i], 0, now, &f);

		ids = json_array();
		for (j = 0; j < c->n; j++)
			if (c->s[j].group == g[i])
				json_array_append_new(ids,
				    json_string(c->s[j].id));
		json_array_append_new(a, json_pack("{s:I, s:o, s:b, s:I}",
		    "id", (json_int_t)g[i], "servers", ids, "writable", w,
		    "free", (json_int_t)(w ? f : 0)));
	}
	free(g);
	pthread_mutex_unlock(&c->mu);
	return a;
}

void
cluster_caps(struct cluster *c, struct cluster_caps *out)
{
	uint32_t	*g;
	uint64_t	 f;
	int64_t		 now = ark_now_ms();
	size_t		 i, n;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&c->mu);
	out->servers = c->n;
	for (i = 0; i < c->n; i++) {
		if (is_up(c, &c->s[i], now))
			out->servers_up++;
		out->capacity += c->s[i].capacity;
		out->free += c->s[i].free;
	}
	n = groups(c, &g);
	out->groups = n;
	for (i = 0; i < n; i++)
		if (writable(c, g[i], 0, now, &f))
			out->groups_writable++;
	free(g);
	pthread_mutex_unlock(&c->mu);
}
