/*
 * fs_slots.c - fragment slots of an open file and its commit plan (see
 * fs_slots.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "fs/fs_slots.h"

struct fss {
	size_t			 n;
	struct fss_ext		*e;
	unsigned char		*st;		/* enum fss_state */
};

enum ark_err
fss_new(const struct fss_ext *ext, size_t n, struct fss **out)
{
	struct fss	*s;
	uint64_t	 end = 0;
	size_t		 i;

	*out = NULL;
	for (i = 0; i < n; i++) {
		if (ext[i].off < end || ext[i].len > UINT64_MAX - ext[i].off)
			return ARK_EINVAL;
		end = ext[i].off + ext[i].len;
	}
	s = ark_xcalloc(1, sizeof(*s));
	s->n = n;
	s->e = ark_xcalloc(n + 1, sizeof(*s->e));
	s->st = ark_xcalloc(n + 1, 1);
	if (n > 0)
		memcpy(s->e, ext, n * sizeof(*ext));
	for (i = 0; i < n; i++)
		s->st[i] = ext[i].len == 0 ? FSS_GONE : FSS_ABSENT;
	*out = s;
	return ARK_OK;
}

void
fss_free(struct fss *s)
{
	if (s == NULL)
		return;
	free(s->e);
	free(s->st);
	free(s);
}

size_t
fss_count(const struct fss *s)
{
	return s->n;
}

struct fss_ext
fss_ext(const struct fss *s, size_t i)
{
	return s->e[i];
}

enum fss_state
fss_state(const struct fss *s, size_t i)
{
	return (enum fss_state)s->st[i];
}

void
fss_set(struct fss *s, size_t i, enum fss_state st)
{
	s->st[i] = (unsigned char)st;
}

static uint64_t
fss_end(const struct fss *s, size_t i)
{
	return s->e[i].off + s->e[i].len;
}

size_t
fss_at(const struct fss *s, uint64_t off)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (fss_end(s, mid) <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The last fragment that is not gone, or FSS_NONE. */
static size_t
fss_last(const struct fss *s)
{
	size_t i = s->n;

	while (i > 0)
		if (s->st[--i] != FSS_GONE)
			return i;
	return FSS_NONE;
}

/* Whether a write of [off, end) overlaps fragment i only in part. */
static int
fss_partial(const struct fss *s, size_t i, uint64_t off, uint64_t end)
{
	return s->e[i].off < end && fss_end(s, i) > off &&
	    (off > s->e[i].off || end < fss_end(s, i));
}

/* Whether the write ending at end grows the short last fragment t. */
static int
fss_grows_tail(const struct fss *s, size_t t, uint64_t end, uint64_t fsz)
{
	return t != FSS_NONE && s->e[t].len < fsz && end > fss_end(s, t);
}

size_t
fss_write_fetch(const struct fss *s, uint64_t off, uint64_t len,
    uint64_t fsz, size_t idx[3])
{
	uint64_t	 end = off + len;
	size_t		 cand[3], k = 0, c, t;

	if (len == 0)
		return 0;
	cand[0] = fss_at(s, off);
	cand[1] = fss_at(s, end - 1);
	t = fss_last(s);
	cand[2] = fss_grows_tail(s, t, end, fsz) && off > s->e[t].off ? t :
	    FSS_NONE;
	for (c = 0; c < 3; c++) {
		size_t i = cand[c];

		if (i == FSS_NONE || i >= s->n || s->st[i] != FSS_ABSENT)
			continue;
		if (c < 2 && !fss_partial(s, i, off, end))
			continue;
		if (k > 0 && idx[k - 1] == i)
			continue;
		idx[k++] = i;
	}
	return k;
}

void
fss_write(struct fss *s, uint64_t off, uint64_t len, uint64_t fsz)
{
	uint64_t	 end = off + len;
	size_t		 i, t = fss_last(s);

	if (len == 0)
		return;
	if (fss_grows_tail(s, t, end, fsz))
		s->st[t] = FSS_DIRTY;
	for (i = fss_at(s, off); i < s->n && s->e[i].off < end; i++)
		if (s->st[i] != FSS_GONE)
			s->st[i] = FSS_DIRTY;
}

int
fss_trunc_fetch(const struct fss *s, uint64_t size, size_t *idx)
{
	size_t i = fss_at(s, size);

	if (i < s->n && s->e[i].off < size && s->st[i] == FSS_ABSENT) {
		*idx = i;
		return 1;
	}
	return 0;
}

void
fss_truncate(struct fss *s, uint64_t size)
{
	size_t i;

	for (i = fss_at(s, size); i < s->n; i++) {
		if (s->st[i] == FSS_GONE)
			continue;
		s->st[i] = s->e[i].off >= size ? FSS_GONE : FSS_DIRTY;
	}
}

/* Whether fragment i goes into a commit of `size` bytes unchanged. */
static int
fss_kept(const struct fss *s, size_t i, uint64_t size)
{
	return (s->st[i] == FSS_ABSENT || s->st[i] == FSS_PRESENT) &&
	    s->e[i].len > 0 && fss_end(s, i) <= size;
}

int
fss_next(const struct fss *s, uint64_t size, uint64_t fsz,
    struct fss_iter *it, struct fss_piece *p)
{
	uint64_t	 step, end;
	size_t		 j;

	if (it->pos >= size || fsz == 0)
		return 0;
	while (it->i < s->n && fss_end(s, it->i) <= it->pos)
		it->i++;
	if (!it->inrun) {
		j = it->i;
		if (j < s->n && fss_kept(s, j, size) && s->e[j].off <= it->pos) {
			p->off = s->e[j].off;
			p->len = s->e[j].len;
			p->reuse = j;
			it->pos = fss_end(s, j);
			it->i = j + 1;
			return 1;
		}
		/* A local run, up to the next fragment kept as it is. */
		while (j < s->n && !fss_kept(s, j, size))
			j++;
		it->run = it->pos;
		it->runend = j < s->n ? ARK_MIN(s->e[j].off, size) : size;
		it->inrun = 1;
	}
	step = it->pos - it->run;
	step = it->run + (step / fsz + 1) * fsz;
	end = ARK_MIN(step, it->runend);
	p->off = it->pos;
	p->len = end - it->pos;
	p->reuse = FSS_NONE;
	it->pos = end;
	if (end >= it->runend)
		it->inrun = 0;
	return 1;
}

int
fss_piece_at(const struct fss *s, uint64_t size, uint64_t fsz, uint64_t off,
    struct fss_piece *p)
{
	uint64_t	 run, runend;
	size_t		 i, j;

	if (off >= size || fsz == 0)
		return 0;
	i = fss_at(s, off);
	if (i < s->n && fss_kept(s, i, size) && s->e[i].off <= off) {
		p->off = s->e[i].off;
		p->len = s->e[i].len;
		p->reuse = i;
		return 1;
	}
	/* As fss_next: the run starts where the last kept fragment before
	 * it ends (or at 0) and stops at the next kept one (or at size). */
	for (j = i; j > 0 && !fss_kept(s, j - 1, size); j--)
		;
	run = j > 0 ? fss_end(s, j - 1) : 0;
	for (j = i; j < s->n && !fss_kept(s, j, size); j++)
		;
	runend = j < s->n ? ARK_MIN(s->e[j].off, size) : size;
	p->off = run + (off - run) / fsz * fsz;
	p->len = ARK_MIN(p->off + fsz, runend) - p->off;
	p->reuse = FSS_NONE;
	return 1;
}
