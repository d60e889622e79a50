/*
 * s3_time.c - ISO 8601 basic and HTTP date parsing without the C
 * library's locale-dependent strptime (see s3_time.h).
 */
#include "config.h"

#include <string.h>
#include <strings.h>
#include <time.h>

#include "object/s3_time.h"

int64_t
s3_time_days(int64_t y, unsigned m, unsigned d)
{
	/* Howard Hinnant's days_from_civil. */
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
time_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Validates the fields and fills *out. */
static enum ark_err
time_make(int64_t y, unsigned mo, unsigned d, unsigned h, unsigned mi,
    unsigned s, int64_t *out)
{
	static const unsigned mdays[12] =
	    { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	unsigned dim;

	if (mo < 1 || mo > 12 || h > 23 || mi > 59 || s > 59 || y < 1 ||
	    y > 9999)
		return ARK_EINVAL;
	dim = mdays[mo - 1] + (mo == 2 && time_leap(y));
	if (d < 1 || d > dim)
		return ARK_EINVAL;
	*out = s3_time_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
	return ARK_OK;
}

/* Parses exactly n digits at s into *v. */
static int
time_digits(const char *s, size_t n, unsigned *v)
{
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return 0;
}

enum ark_err
s3_time_parse_iso8601(const char *s, int64_t *out)
{
	unsigned y, mo, d, h, mi, sec;

	if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
		return ARK_EINVAL;
	if (time_digits(s, 4, &y) || time_digits(s + 4, 2, &mo) ||
	    time_digits(s + 6, 2, &d) || time_digits(s + 9, 2, &h) ||
	    time_digits(s + 11, 2, &mi) || time_digits(s + 13, 2, &sec))
		return ARK_EINVAL;
	return time_make(y, mo, d, h, mi, sec, out);
}

void
s3_time_format_iso8601(int64_t t, char out[17])
{
	struct tm tm;
	time_t tt = (time_t)t;

	memset(&tm, 0, sizeof(tm));
	gmtime_r(&tt, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

static int
time_month(const char *s)
{
	static const char *const mon[12] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

	for (int i = 0; i < 12; i++)
		if (strncmp(s, mon[i], 3) == 0)
			return i + 1;
	return -1;
}

/* "HH:MM:SS" */
static int
time_hms(const char *s, unsigned *h, unsigned *mi, unsigned *sec)
{
	if (s[2] != ':' || s[5] != ':')
		return -1;
	if (time_digits(s, 2, h) || time_digits(s + 3, 2, mi) ||
	    time_digits(s + 6, 2, sec))
		return -1;
	return 0;
}

enum ark_err
s3_time_parse_http(const char *s, int64_t *out)
{
	size_t len = strlen(s);
	const char *comma = strchr(s, ',');
	unsigned y, d, h, mi, sec;
	int mo;

	if (comma != NULL && comma - s == 3) {
		/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" (29) */
		const char *p = comma + 1;

		/* "+0000" for GMT: what RFC 822 allows and SigV2 examples
		 * (and some older tools) send. */
		if (!(len == 29 && strcmp(p + 22, "GMT") == 0) &&
		    !(len == 31 && strcmp(p + 22, "+0000") == 0))
			return ARK_EINVAL;
		if (p[0] != ' ' || p[3] != ' ' || p[7] != ' ' ||
		    p[12] != ' ' || p[21] != ' ')
			return ARK_EINVAL;
		if (time_digits(p + 1, 2, &d) || (mo = time_month(p + 4)) < 0 ||
		    time_digits(p + 8, 4, &y) || time_hms(p + 13, &h, &mi, &sec))
			return ARK_EINVAL;
		return time_make(y, (unsigned)mo, d, h, mi, sec, out);
	}
	if (comma != NULL) {
		/* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
		const char *p = comma + 1;

		if (strlen(p) != 23 || p[0] != ' ' || p[3] != '-' ||
		    p[7] != '-' || p[10] != ' ' || p[19] != ' ' ||
		    strcmp(p + 20, "GMT"))
			return ARK_EINVAL;
		if (time_digits(p + 1, 2, &d) || (mo = time_month(p + 4)) < 0 ||
		    time_digits(p + 8, 2, &y) || time_hms(p + 11, &h, &mi, &sec))
			return ARK_EINVAL;
		y += y < 70 ? 2000 : 1900;
		return time_make(y, (unsigned)mo, d, h, mi, sec, out);
	}
	/* asctime: "Sun Nov  6 08:49:37 1994" (24) */
	if (len != 24 || s[3] != ' ' || s[7] != ' ' || s[10] != ' ' ||
	    s[19] != ' ')
		return ARK_EINVAL;
	if ((mo = time_month(s + 4)) < 0)
		return ARK_EINVAL;
	if (s[8] == ' ') {
		if (time_digits(s + 9, 1, &d))
			return ARK_EINVAL;
	} else if (time_digits(s + 8, 2, &d))
		return ARK_EINVAL;
	if (time_hms(s + 11, &h, &mi, &sec) || time_digits(s + 20, 4, &y))
		return ARK_EINVAL;
	return time_make(y, (unsigned)mo, d, h, mi, sec, out);
}
