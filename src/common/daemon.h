/*
 * daemon.h - process glue every daemon needs: signals turned into plain
 * callbacks on a dedicated thread, atomic pid/port files, and a data
 * directory locked against a second daemon.
 *
 * Threads: call ark_signals_install() from main() BEFORE creating any other
 * thread: it blocks SIGTERM, SIGINT and SIGHUP in the caller, threads
 * created later inherit that mask, and only the signal thread ever receives
 * them (with sigwait). The file helpers are thread-safe.
 */
#ifndef ARKOR_COMMON_DAEMON_H
#define ARKOR_COMMON_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/err.h"

/* Called on the signal thread (a normal thread: it may lock, log, call
 * event_base_loopbreak or evuser triggers) with SIGTERM or SIGINT (stop)
 * or SIGHUP (reload). Signals are handled one at a time, so the callback
 * should return promptly: a stop callback asks the loops to stop and the
 * main thread does the waiting. */
typedef void	(*ark_signal_fn)(int sig, void *arg);

/* Ignores SIGPIPE (write errors come back as EPIPE instead). */
void		 ark_signals_ignore_pipe(void);
/* Ignores SIGPIPE, blocks TERM/INT/HUP in the calling thread and starts
 * the signal thread calling cb(sig, arg) (arg borrowed). One install per
 * process; ARK_EEXIST if already installed, ARK_EIO if the thread could
 * not start (mask restored). */
enum ark_err	 ark_signals_install(ark_signal_fn cb, void *arg);
/* Stops and joins the signal thread and restores the caller's mask.
 * Call from the thread that installed; no-op if not installed. */
void		 ark_signals_uninstall(void);

/* Writes `len` bytes to `path` atomically: a temp file in the same
 * directory, fsync, chmod `mode`, rename. Readers see the old file or the
 * whole new one. ARK_EIO (logged) on failure; no temp file is left. */
enum ark_err	 ark_write_file_atomic(const char *path, const void *data,
		    size_t len, mode_t mode);
/* "<pid>\n", mode 0644. */
enum ark_err	 ark_pidfile_write(const char *path);
/* "<port>\n", mode 0644: the port a daemon bound (tests listen on port 0
 * and wait for this file). ARK_EINVAL for a port outside 1..65535. */
enum ark_err	 ark_portfile_write(const char *path, int port);
/* Removes a pid or port file; a missing file is fine. */
void		 ark_runfile_remove(const char *path);

/* Creates `path` and its missing parents with `mode` (like mkdir -p).
 * ARK_EEXIST if a component exists and is not a directory. */
enum ark_err	 ark_mkdirs(const char *path, mode_t mode);

struct ark_datadir;		/* opaque: path + locked LOCK file */

/* Opens data directory `path` (creating it, mode 0750, when `create`) and
 * takes an exclusive flock on <path>/LOCK, writing our pid into it.
 * ARK_EAGAIN if another process holds it (logged with its pid);
 * ARK_ENOENT if missing and !create. Caller owns *out. The lock lasts
 * until ark_datadir_close() or process exit; it is not inherited by
 * exec'd children (O_CLOEXEC). */
enum ark_err	 ark_datadir_open(const char *path, bool create,
		    struct ark_datadir **out);
const char	*ark_datadir_path(const struct ark_datadir *d);
void		 ark_datadir_close(struct ark_datadir *d);	/* NULL ok */

#endif /* ARKOR_COMMON_DAEMON_H */
