/*
 * fs_unlink.h - unlinks answered before the registry has them.
 *
 * rm of many files spends most of its time waiting for one registry
 * commit per file. An unlink of a file not open in this mount that the
 * name cache holds is answered at once and queued; one sender thread
 * sends what has queued as one object/deletes call (at most 256, in
 * order). A delete takes effect when the registry gets it, a round trip
 * or a few after its unlink returned: as a synchronous unlink that took
 * that much longer.
 * Every other registry call of the mount waits for the deletes queued
 * before it (fs_reg's gate), so the registry sees this mount's changes
 * in the order they were made: a create after an unlink of the same
 * name, an rmdir after the unlinks in it, a listing, an fsyncdir.
 *
 * Only in buckets where a synchronous delete has succeeded (the key may
 * delete there), and not while the registry is unreachable: those
 * unlinks answer the registry's error as before. A delete the registry
 * refuses later (the key lost the right, the bucket went) is logged;
 * that file stays. A registry older than object/deletes gets the
 * batch as single deletes, and the mount answers no more unlinks early.
 * A killed arkorfs loses what was queued (the files stay); unmount
 * sends it.
 *
 * Threads: every call is thread-safe.
 */
#ifndef ARKOR_FS_FS_UNLINK_H
#define ARKOR_FS_FS_UNLINK_H

/* Starts the sender (after fuse_daemonize: threads do not survive the
 * fork); until then, and with on = 0, nothing is queued. */
void	 fsul_init(int on);
/* Sends what is queued and stops the sender. */
void	 fsul_fini(void);

/* Queues the delete of (bucket, key): 0 when queued (the unlink is done
 * for the caller), -EAGAIN when the caller must delete synchronously. */
int	 fsul_queue(const char *bucket, const char *key);
/* A synchronous delete in bucket was answered 200 or 404: this key may
 * delete there. */
void	 fsul_allow(const char *bucket);
/* The gate (fs_reg.h): returns once every delete queued before the call
 * has been answered; at once on the sender thread and for routes that
 * read or change no names. */
void	 fsul_gate(const char *route);

#endif /* ARKOR_FS_FS_UNLINK_H */
