/*
 * log.c - line-oriented logging. A line is formatted into a stack buffer,
 * control characters are escaped so one event stays one line, and the line
 * is emitted with a single write(2) so threads never interleave.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"

static const char	*log_prog = "arkor";
/* Atomic: a reload on the signal thread may change them while workers log. */
static atomic_int	 log_level = ARK_LOG_INFO;
static atomic_int	 log_fd = STDERR_FILENO;
static _Thread_local char log_reqid[64];

static const char *const log_names[] = { "ERROR", "WARN", "INFO", "DEBUG" };

void
ark_log_init(const char *progname, enum ark_log_level level)
{
	if (progname != NULL) {
		const char *p = strrchr(progname, '/');
		log_prog = p ? p + 1 : progname;
	}
	log_level = level;
}

void
ark_log_set_level(enum ark_log_level level)
{
	log_level = level;
}

enum ark_log_level
ark_log_get_level(void)
{
	return (enum ark_log_level)log_level;
}

int
ark_log_level_parse(const char *s)
{
	for (int i = 0; i <= ARK_LOG_DEBUG; i++)
		if (strcasecmp(s, log_names[i]) == 0)
			return i;
	if (strcasecmp(s, "warning") == 0)
		return ARK_LOG_WARN;
	return -1;
}

int
ark_log_open(const char *path)
{
	int fd;

	if (path == NULL || strcmp(path, "-") == 0) {
		log_fd = STDERR_FILENO;
		return 0;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd == -1)
		return -1;
	if (log_fd == STDERR_FILENO) {
		log_fd = fd;
		return 0;
	}
	/* Reopen (log rotation): replace the old file under the same fd
	 * number so threads logging right now never see a closed fd. */
	if (dup3(fd, log_fd, O_CLOEXEC) == -1) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	return 0;
}

void
ark_log_set_reqid(const char *id)
{
	if (id == NULL) {
		log_reqid[0] = '\0';
		return;
	}
	snprintf(log_reqid, sizeof(log_reqid), "%s", id);
}

const char *
ark_log_get_reqid(void)
{
	return log_reqid[0] ? log_reqid : NULL;
}

void
ark_log_vmsg(enum ark_log_level level, int with_errno, const char *fmt,
    va_list ap)
{
	char		 msg[2048], line[4096 + 128];
	struct timespec	 ts;
	struct tm	 tm;
	size_t		 n, i;
	int		 saved = errno, len;

	if ((int)level > atomic_load_explicit(&log_level,
	    memory_order_relaxed))
		return;
	len = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (len < 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = (size_t)snprintf(line, sizeof(line),
	    "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s[%ld] %s%s%s ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L, log_prog,
	    (long)getpid(), log_names[level], log_reqid[0] ? " req=" : "",
	    log_reqid);
	/* Escape control characters: one event is one line. */
	for (i = 0; msg[i] != '\0' && n + 5 < sizeof(line) - 64; i++) {
		unsigned char c = (unsigned char)msg[i];
		if (c < 0x20 || c == 0x7f) {
			n += (size_t)snprintf(line + n, sizeof(line) - n,
			    "\\x%02x", c);
		} else
			line[n++] = (char)c;
	}
	if (with_errno)
		n += (size_t)snprintf(line + n, sizeof(line) - n, ": %s",
		    strerror(saved));
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(atomic_load_explicit(&log_fd, memory_order_relaxed), line,
	    n) < 0) {
		/* nowhere left to report it */
	}
	errno = saved;
}

void
ark_log_msg(enum ark_log_level level, int with_errno, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ark_log_vmsg(level, with_errno, fmt, ap);
	va_end(ap);
}

void
ark_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ark_log_vmsg(ARK_LOG_ERROR, 1, fmt, ap);
	va_end(ap);
	abort();
}

void
ark_fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ark_log_vmsg(ARK_LOG_ERROR, 0, fmt, ap);
	va_end(ap);
	abort();
}

static void
log_libevent_cb(int severity, const char *msg)
{
	switch (severity) {
	case EVENT_LOG_DEBUG:
		ark_log_debug("libevent: %s", msg);
		break;
	case EVENT_LOG_MSG:
		ark_log_info("libevent: %s", msg);
		break;
	case EVENT_LOG_WARN:
		ark_log_warnx("libevent: %s", msg);
		break;
	default:
		ark_log_error("libevent: %s", msg);
		break;
	}
}

void
ark_log_hook_libevent(void)
{
	event_set_log_callback(log_libevent_cb);
}
