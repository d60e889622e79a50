/*
 * s3_time.h - the time formats S3 requests carry: ISO 8601 basic
 * (X-Amz-Date "20130524T000000Z") and HTTP dates (Date, If-Modified-Since:
 * IMF-fixdate, RFC 850 and asctime, RFC 7231 7.1.1.1). All UTC, epoch
 * seconds, thread-safe, no locale.
 */
#ifndef ARKOR_OBJECT_S3_TIME_H
#define ARKOR_OBJECT_S3_TIME_H

#include <stdint.h>

#include "common/err.h"

/* "YYYYMMDDTHHMMSSZ" exactly; ARK_EINVAL otherwise (fields range-checked,
 * leap second 60 refused). */
enum ark_err	 s3_time_parse_iso8601(const char *s, int64_t *out);
/* Writes "YYYYMMDDTHHMMSSZ" and a NUL. */
void		 s3_time_format_iso8601(int64_t t, char out[17]);
/* IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT" (or "+0000" for "GMT",
 * as SigV2 examples send), RFC 850 "Sunday,
 * 06-Nov-94 08:49:37 GMT" (two-digit years 70-99 -> 19xx, else 20xx) or
 * asctime "Sun Nov  6 08:49:37 1994"; the weekday is not checked.
 * ARK_EINVAL on anything else. */
enum ark_err	 s3_time_parse_http(const char *s, int64_t *out);
/* Days since 1970-01-01 of a proleptic Gregorian date (any year). */
int64_t		 s3_time_days(int64_t y, unsigned m, unsigned d);

#endif /* ARKOR_OBJECT_S3_TIME_H */
