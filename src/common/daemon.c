/*
 * daemon.c - signal thread, atomic run files, data directory lock.
 * Signal handlers run in async-signal context where almost nothing is
 * safe; we never install one. Instead the signals stay blocked everywhere
 * and one thread takes them synchronously with sigwait(), so the daemon's
 * callback runs as ordinary code.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/daemon.h"
#include "common/log.h"
#include "common/util.h"

static struct {
	pthread_t	 tid;
	ark_signal_fn	 cb;
	void		*arg;
	sigset_t	 set, oldmask;
	atomic_bool	 stop;
	bool		 installed;
} sig;

void
ark_signals_ignore_pipe(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, NULL);
}

static void *
signal_thread(void *unused)
{
	int signo;

	(void)unused;
	for (;;) {
		if (sigwait(&sig.set, &signo) != 0)
			continue;
		if (atomic_load(&sig.stop))
			break;
		ark_log_debug("%s: got signal %d", __func__, signo);
		sig.cb(signo, sig.arg);
	}
	return NULL;
}

enum ark_err
ark_signals_install(ark_signal_fn cb, void *arg)
{
	int e;

	if (sig.installed)
		return ARK_EEXIST;
	ark_signals_ignore_pipe();
	sig.cb = cb;
	sig.arg = arg;
	atomic_store(&sig.stop, false);
	sigemptyset(&sig.set);
	sigaddset(&sig.set, SIGTERM);
	sigaddset(&sig.set, SIGINT);
	sigaddset(&sig.set, SIGHUP);
	/*
	 * An ignored signal is discarded before sigwait() can see it, and a
	 * shell starts background jobs with SIGINT ignored: restore the
	 * default action so Ctrl-C and kill -INT stop a daemon launched
	 * from a script too. The signals are blocked, so the default never
	 * runs.
	 */
	pthread_sigmask(SIG_BLOCK, &sig.set, &sig.oldmask);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	if ((e = pthread_create(&sig.tid, NULL, signal_thread, NULL)) != 0) {
		errno = e;
		ark_log_warn("signals: pthread_create");
		pthread_sigmask(SIG_SETMASK, &sig.oldmask, NULL);
		return ARK_EIO;
	}
	sig.installed = true;
	return ARK_OK;
}

void
ark_signals_uninstall(void)
{
	if (!sig.installed)
		return;
	atomic_store(&sig.stop, true);
	/* A thread-directed signal that only the signal thread waits for. */
	pthread_kill(sig.tid, SIGHUP);
	pthread_join(sig.tid, NULL);
	pthread_sigmask(SIG_SETMASK, &sig.oldmask, NULL);
	sig.installed = false;
}

/* ---- files ------------------------------------------------------------ */

static int
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

enum ark_err
ark_write_file_atomic(const char *path, const void *data, size_t len,
    mode_t mode)
{
	char	*tmp = ark_xasprintf("%s.tmp.XXXXXX", path);
	int	 fd;

	if ((fd = mkstemp(tmp)) == -1) {
		ark_log_warn("cannot create %s", tmp);
		free(tmp);
		return ARK_EIO;
	}
	if (write_all(fd, data, len) == -1 || fchmod(fd, mode) == -1 ||
	    fsync(fd) == -1) {
		ark_log_warn("cannot write %s", tmp);
		goto fail;
	}
	if (close(fd) == -1) {
		fd = -1;
		ark_log_warn("cannot write %s", tmp);
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		ark_log_warn("cannot rename %s to %s", tmp, path);
		goto fail;
	}
	free(tmp);
	return ARK_OK;
fail:
	if (fd != -1)
		close(fd);
	unlink(tmp);
	free(tmp);
	return ARK_EIO;
}

enum ark_err
ark_pidfile_write(const char *path)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	return ark_write_file_atomic(path, buf, (size_t)n, 0644);
}

enum ark_err
ark_portfile_write(const char *path, int port)
{
	char buf[16];
	int n;

	if (port < 1 || port > 65535)
		return ARK_EINVAL;
	n = snprintf(buf, sizeof(buf), "%d\n", port);
	return ark_write_file_atomic(path, buf, (size_t)n, 0644);
}

void
ark_runfile_remove(const char *path)
{
	if (unlink(path) == -1 && errno != ENOENT)
		ark_log_warn("cannot remove %s", path);
}

enum ark_err
ark_mkdirs(const char *path, mode_t mode)
{
	char		*p = ark_xstrdup(path), *s;
	struct stat	 st;
	enum ark_err	 rc = ARK_OK;

	for (s = p + 1; ; s++) {
		char c = *s;

		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, mode) == -1) {
			if (errno != EEXIST) {
				ark_log_warn("mkdir %s", p);
				rc = errno == ENOENT ? ARK_ENOENT : ARK_EIO;
				break;
			}
			if (stat(p, &st) == -1 || !S_ISDIR(st.st_mode)) {
				ark_log_warnx("%s exists and is not a "
				    "directory", p);
				rc = ARK_EEXIST;
				break;
			}
		}
		*s = c;
		if (c == '\0')
			break;
		while (s[1] == '/')
			s++;
	}
	free(p);
	return rc;
}

struct ark_datadir {
	char	*path;
	int	 lockfd;
};

enum ark_err
ark_datadir_open(const char *path, bool create, struct ark_datadir **out)
{
	struct ark_datadir	*d;
	struct stat		 st;
	char			*lock, pid[32], other[32];
	enum ark_err		 rc;
	int			 fd, n;
	ssize_t			 r;

	if (create && (rc = ark_mkdirs(path, 0750)) != ARK_OK)
		return rc;
	if (stat(path, &st) == -1) {
		ark_log_warn("data directory %s", path);
		return errno == ENOENT ? ARK_ENOENT : ARK_EIO;
	}
	if (!S_ISDIR(st.st_mode)) {
		ark_log_warnx("data directory %s is not a directory", path);
		return ARK_EEXIST;
	}
	lock = ark_xasprintf("%s/LOCK", path);
	if ((fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0644)) == -1) {
		ark_log_warn("cannot open lock file %s", lock);
		free(lock);
		return ARK_EIO;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK) {
			r = pread(fd, other, sizeof(other) - 1, 0);
			other[r > 0 ? r : 0] = '\0';
			other[strcspn(other, "\n")] = '\0';
			ark_log_warnx("data directory %s is in use by another "
			    "process (pid %s, lock %s); stop it first or use "
			    "another data directory", path,
			    other[0] ? other : "unknown", lock);
			rc = ARK_EAGAIN;
		} else {
			ark_log_warn("flock %s", lock);
			rc = ARK_EIO;
		}
		close(fd);
		free(lock);
		return rc;
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, pid, (size_t)n, 0) != n)
		ark_log_warn("cannot write pid to %s", lock);	/* lock held */
	free(lock);
	d = ark_xcalloc(1, sizeof(*d));
	d->path = ark_xstrdup(path);
	d->lockfd = fd;
	*out = d;
	return ARK_OK;
}

const char *
ark_datadir_path(const struct ark_datadir *d)
{
	return d->path;
}

void
ark_datadir_close(struct ark_datadir *d)
{
	if (d == NULL)
		return;
	/* Leave LOCK in place: unlinking it would race with a new owner. */
	if (ftruncate(d->lockfd, 0) == -1) {
		/* harmless: the next owner rewrites it */
	}
	close(d->lockfd);
	free(d->path);
	free(d);
}
