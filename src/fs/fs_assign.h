/*
 * fs_assign.h - FileID assignments for arkorfs's commits, with spares.
 * One `assign` call asks for what a commit needs plus up to `spare` more
 * (twice as many as last time while they run out, half as many after
 * some expired unused); the spares serve the next commits on any thread,
 * so a small file's commit costs one registry call (object/put), not two
 * (ARCHITECTURE.md: allocation is not a round trip per fragment).
 *
 * A spare is used for at most FSA_AGE_S seconds and half its write
 * token's remaining life, so a fragment written with it still has time to
 * reach every replica. After a failed fragment write the caller marks
 * its group bad (fsa_bad): retries and the next commits go elsewhere
 * while other groups can take them. A spare never used is reclaimed by
 * the registry's assign grace (docs/specs/Internal.md, `assign`).
 *
 * Threads: every function is thread-safe.
 */
#ifndef ARKOR_FS_FS_ASSIGN_H
#define ARKOR_FS_FS_ASSIGN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define FSA_AGE_S	30
#define FSA_BAD_S	10	/* a group that failed a write is avoided */
#define FSA_BAD_MAX	8	/* groups remembered so */
#define FSA_MAX_SKIPS	64	/* assignments passed over per take */

/* Keeps up to `spare` assignments for fragments of up to `size` bytes
 * (0: an assign call per commit window, as without a pool). */
void		 fsa_init(unsigned spare, uint64_t size);
void		 fsa_fini(void);

/* *out = a new array of `want` (>= 1) assignments ("fid", "urls",
 * "token"), spares first: 0, -ENOSPC (no group can take the write) or
 * -EIO. */
int		 fsa_take(size_t want, json_t **out);
/* A write to a replica of `group` failed: until the registry notices
 * (heartbeat timeout) it still assigns FileIDs there, so assignments in
 * it are passed over for FSA_BAD_S seconds (spares included), unless a
 * take passes over FSA_MAX_SKIPS: then nothing else is on offer and the
 * marks are forgotten. */
void		 fsa_bad(int64_t group);

#endif /* ARKOR_FS_FS_ASSIGN_H */
