/*
 * err.c - messages and names for enum ark_err.
 */
#include "config.h"

#include "common/err.h"

static const struct {
	const char	*name;
	const char	*msg;
} ark_errtab[ARK_ERR_MAX] = {
	[ARK_OK] =		{ "ARK_OK", "success" },
	[ARK_ENOMEM] =		{ "ARK_ENOMEM", "out of memory" },
	[ARK_EIO] =		{ "ARK_EIO", "input/output error" },
	[ARK_ENOENT] =		{ "ARK_ENOENT", "not found" },
	[ARK_EEXIST] =		{ "ARK_EEXIST", "already exists" },
	[ARK_ECORRUPT] =	{ "ARK_ECORRUPT", "data corrupt (checksum mismatch)" },
	[ARK_ETOOBIG] =		{ "ARK_ETOOBIG", "too large" },
	[ARK_EPROTO] =		{ "ARK_EPROTO", "protocol error" },
	[ARK_EINVAL] =		{ "ARK_EINVAL", "invalid argument" },
	[ARK_EPERM] =		{ "ARK_EPERM", "permission denied" },
	[ARK_ETIMEDOUT] =	{ "ARK_ETIMEDOUT", "timed out" },
	[ARK_ECONN] =		{ "ARK_ECONN", "connection failed" },
	[ARK_ENOSPC] =		{ "ARK_ENOSPC", "no space left" },
	[ARK_EAGAIN] =		{ "ARK_EAGAIN", "temporarily unavailable" },
	[ARK_EEXPIRED] =	{ "ARK_EEXPIRED", "expired" },
	[ARK_ECANCELED] =	{ "ARK_ECANCELED", "canceled" },
};

const char *
ark_strerror(enum ark_err e)
{
	if ((unsigned)e >= ARK_ERR_MAX)
		return "unknown error";
	return ark_errtab[e].msg;
}

const char *
ark_errname(enum ark_err e)
{
	if ((unsigned)e >= ARK_ERR_MAX)
		return "ARK_E?";
	return ark_errtab[e].name;
}
