/*
 * nindex.c - Robin Hood hash table of (key, value) pairs, 16 bytes each.
 * Invariant: scanning from a key's home slot, every entry met before the
 * key (or before the first empty slot) has a probe distance >= the one the
 * key would have there. Lookups of absent keys stop as soon as that breaks.
 * Slot 0 of a value means empty, so keys may take any 64-bit value.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "data/nindex.h"

#define NINDEX_MIN_CAP	16
#define NINDEX_LOAD_NUM	9		/* grow above 9/10 full */
#define NINDEX_LOAD_DEN	10

struct nindex_ent {
	uint64_t	 key;
	uint64_t	 val;		/* 0: empty slot */
};

struct nindex {
	struct nindex_ent *tab;
	size_t		 cap;
	size_t		 count;
};

static inline uint64_t
nindex_hash(uint64_t k)
{
	/* splitmix64 finaliser: keys are often sequential ranges. */
	k ^= k >> 30;
	k *= 0xbf58476d1ce4e5b9ULL;
	k ^= k >> 27;
	k *= 0x94d049bb133111ebULL;
	k ^= k >> 31;
	return k;
}

static inline size_t
nindex_home(uint64_t key, size_t cap)
{
	__extension__ unsigned __int128 m;

	m = (unsigned __int128)nindex_hash(key) * cap;
	return (size_t)(m >> 64);
}

static inline size_t
nindex_dist(size_t slot, size_t home, size_t cap)
{
	return slot >= home ? slot - home : slot + cap - home;
}

static enum ark_err
nindex_alloc(size_t cap, struct nindex_ent **out)
{
	struct nindex_ent *t;

	if (cap > SIZE_MAX / sizeof(*t))
		return ARK_ENOMEM;
	if ((t = calloc(cap, sizeof(*t))) == NULL)
		return ARK_ENOMEM;
	*out = t;
	return ARK_OK;
}

/* Inserts a key known to be absent; the table has a free slot. */
static void
nindex_place(struct nindex_ent *tab, size_t cap, uint64_t key, uint64_t val)
{
	size_t i = nindex_home(key, cap), d = 0;

	for (;;) {
		struct nindex_ent *e = &tab[i];
		size_t ed;

		if (e->val == 0) {
			e->key = key;
			e->val = val;
			return;
		}
		ed = nindex_dist(i, nindex_home(e->key, cap), cap);
		if (ed < d) {
			struct nindex_ent tmp = *e;

			e->key = key;
			e->val = val;
			key = tmp.key;
			val = tmp.val;
			d = ed;
		}
		if (++i == cap)
			i = 0;
		d++;
	}
}

static enum ark_err
nindex_resize(struct nindex *ix, size_t ncap)
{
	struct nindex_ent *nt;
	enum ark_err rc;

	if ((rc = nindex_alloc(ncap, &nt)) != ARK_OK)
		return rc;
	for (size_t i = 0; i < ix->cap; i++)
		if (ix->tab[i].val != 0)
			nindex_place(nt, ncap, ix->tab[i].key, ix->tab[i].val);
	free(ix->tab);
	ix->tab = nt;
	ix->cap = ncap;
	return ARK_OK;
}

enum ark_err
nindex_new(size_t hint, struct nindex **out)
{
	struct nindex *ix;
	size_t cap = NINDEX_MIN_CAP;
	enum ark_err rc;

	if (hint > 0 && hint < SIZE_MAX / 16)
		cap = hint + hint / 4 + 1;	/* 80% full at `hint` keys */
	if (cap < NINDEX_MIN_CAP)
		cap = NINDEX_MIN_CAP;
	if ((ix = calloc(1, sizeof(*ix))) == NULL)
		return ARK_ENOMEM;
	if ((rc = nindex_alloc(cap, &ix->tab)) != ARK_OK) {
		free(ix);
		return rc;
	}
	ix->cap = cap;
	*out = ix;
	return ARK_OK;
}

void
nindex_free(struct nindex *ix)
{
	if (ix == NULL)
		return;
	free(ix->tab);
	free(ix);
}

static struct nindex_ent *
nindex_find(const struct nindex *ix, uint64_t key)
{
	size_t i = nindex_home(key, ix->cap), d = 0;

	for (;;) {
		struct nindex_ent *e = &ix->tab[i];

		if (e->val == 0)
			return NULL;
		if (e->key == key)
			return e;
		if (nindex_dist(i, nindex_home(e->key, ix->cap), ix->cap) < d)
			return NULL;
		if (++i == ix->cap)
			i = 0;
		d++;
	}
}

int
nindex_get(const struct nindex *ix, uint64_t key, uint64_t *val)
{
	struct nindex_ent *e = nindex_find(ix, key);

	if (e == NULL)
		return 0;
	if (val != NULL)
		*val = e->val;
	return 1;
}

enum ark_err
nindex_put(struct nindex *ix, uint64_t key, uint64_t val, uint64_t *old)
{
	struct nindex_ent *e;
	enum ark_err rc;

	if (val == 0)
		return ARK_EINVAL;
	if ((e = nindex_find(ix, key)) != NULL) {
		if (old != NULL)
			*old = e->val;
		e->val = val;
		return ARK_OK;
	}
	if ((ix->count + 1) * NINDEX_LOAD_DEN > ix->cap * NINDEX_LOAD_NUM) {
		size_t ncap = ix->cap + ix->cap / 4 + 1;

		if ((rc = nindex_resize(ix, ncap)) != ARK_OK)
			return rc;
	}
	nindex_place(ix->tab, ix->cap, key, val);
	ix->count++;
	if (old != NULL)
		*old = 0;
	return ARK_OK;
}

int
nindex_del(struct nindex *ix, uint64_t key, uint64_t *old)
{
	struct nindex_ent *e = nindex_find(ix, key);
	size_t i, j;

	if (e == NULL)
		return 0;
	if (old != NULL)
		*old = e->val;
	/* Backward shift: pull each displaced follower one slot closer. */
	i = (size_t)(e - ix->tab);
	for (;;) {
		j = i + 1 == ix->cap ? 0 : i + 1;
		if (ix->tab[j].val == 0 ||
		    nindex_home(ix->tab[j].key, ix->cap) == j)
			break;
		ix->tab[i] = ix->tab[j];
		i = j;
	}
	ix->tab[i].key = 0;
	ix->tab[i].val = 0;
	ix->count--;
	return 1;
}

enum ark_err
nindex_reserve(struct nindex *ix, size_t n)
{
	size_t cap;

	if (n >= SIZE_MAX / 16)
		return ARK_ENOMEM;
	cap = n + n / 4 + 1;
	if (n * NINDEX_LOAD_DEN <= ix->cap * NINDEX_LOAD_NUM || cap <= ix->cap)
		return ARK_OK;
	return nindex_resize(ix, cap);
}

size_t
nindex_count(const struct nindex *ix)
{
	return ix->count;
}

size_t
nindex_capacity(const struct nindex *ix)
{
	return ix->cap;
}

size_t
nindex_mem_bytes(const struct nindex *ix)
{
	return sizeof(*ix) + ix->cap * sizeof(struct nindex_ent);
}

void
nindex_foreach(const struct nindex *ix,
    void (*fn)(void *arg, uint64_t key, uint64_t val), void *arg)
{
	for (size_t i = 0; i < ix->cap; i++)
		if (ix->tab[i].val != 0)
			fn(arg, ix->tab[i].key, ix->tab[i].val);
}
