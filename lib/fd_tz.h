/*
 * fd_tz.h — time zones for naive timestamps: fixed offsets and IANA zones (Europe/Berlin).
 *
 * An IANA zone is read from the system's tzdata: the TZif file (RFC 8536) under $TZDIR, else
 * /usr/share/zoneinfo.  The version 2+ body (64-bit transition times) is used when present,
 * else the version 1 body; times after the last transition follow the POSIX TZ string in the
 * footer ("CET-1CEST,M3.5.0,M10.5.0/3").  No libc time function is involved (localtime,
 * mktime and setenv("TZ") are process-global, locale- and environment-dependent).
 *
 * Converting a local wall-clock time to UTC has two awkward cases around a daylight-saving
 * change, resolved by a policy (enum fd_tz_dst):
 *   - ambiguous: the hour repeated when clocks go back (Berlin 2026-10-25 02:00-02:59 happens
 *     at +02:00 and again at +01:00).  FD_DST_EARLIER takes the first occurrence (the offset
 *     in effect before the change), FD_DST_LATER the second.
 *   - nonexistent: the hour skipped when clocks go forward (Berlin 2026-03-29 02:00-02:59).
 *     FD_DST_EARLIER reads it with the offset in effect before the change (02:30 -> 02:30+01:00
 *     = 03:30 local summer time: moved forward by the length of the gap), FD_DST_LATER with
 *     the offset after it (02:30+02:00 = 01:30 local winter time).
 *   FD_DST_EARLIER is what RFC 5545 (iCalendar, 3.3.5) prescribes for both cases, and what
 *   java.time and Python's zoneinfo (fold=0) do; GNU date's choice for a repeated hour varies
 *   from zone to zone.  FD_DST_REJECT refuses both.
 */
#ifndef FD_TZ_H
#define FD_TZ_H

#include <stddef.h>
#include <stdint.h>

#include "fd_err.h"

struct fd_tz;

enum fd_tz_dst {
	FD_DST_EARLIER = 0,
	FD_DST_LATER,
	FD_DST_REJECT,
};

/* "earlier" / "later" / "reject" -> policy, or -1. */
int fd_tz_dst_parse(const char *s);
const char *fd_tz_dst_name(int policy);

/*
 * Load a zone: "UTC" or "Z" (any case), a fixed offset "+HH:MM" / "-HHMM" / "+HH" (up to
 * ±18:00), or an IANA name ("Europe/Berlin", "Asia/Kolkata"; letters, digits and "/_+-",
 * no "..", not starting with '/').  FD_EUSAGE for a malformed spec or an unknown zone
 * ("no time zone 'Europe/Berlinn' in /usr/share/zoneinfo"), FD_EINPUT for a TZif file that is
 * not valid, FD_EIO when it cannot be read.
 */
int fd_tz_load(struct fd_tz **tz, const char *spec, struct fd_err *err);
/* The same from the bytes of a TZif file (borrowed for the call only), named name.  For
 * tests and fuzzing.  FD_EINPUT when the bytes are not a valid TZif file. */
int fd_tz_load_tzif(struct fd_tz **tz, const void *p, size_t n, const char *name,
		    struct fd_err *err);
/* Accepts NULL. */
void fd_tz_free(struct fd_tz *tz);

/* The spec as given ("Europe/Berlin", "+02:00", "UTC"). */
const char *fd_tz_name(const struct fd_tz *tz);
/* 1 and *offset_min when the zone is a fixed offset (UTC included); 0 for a zone with rules. */
int fd_tz_fixed(const struct fd_tz *tz, int *offset_min);

/* The offset from UTC (seconds east) in effect at utc_s (seconds since the epoch). */
int32_t fd_tz_offset_at(const struct fd_tz *tz, int64_t utc_s);

/*
 * Local wall-clock seconds (the epoch count of the local date and time as if it were UTC) to
 * UTC seconds, resolving daylight-saving cases by policy (see above).  NULL on success, else
 * "nonexistent local time (skipped by a daylight-saving change)" or "ambiguous local time
 * (repeated by a daylight-saving change)" under FD_DST_REJECT; *utc_s is left alone then.
 */
const char *fd_tz_to_utc(const struct fd_tz *tz, int64_t local_s, int policy, int64_t *utc_s);

#endif
