/*
 * test_formats.c — unit tests of the export formats: lib/fd_tz.c (TZif files, POSIX TZ rules,
 * local time to UTC around daylight-saving changes), the date formats and the amounts with
 * thousands separators, decimal commas and rounding in lib/fd_txn.c.
 *
 * Expected instants come from GNU date (`date -u -d '2026-03-29 01:00:00Z' +%s`, and
 * `TZ=Australia/Adelaide date -d '2026-04-05 03:00:00' +%s`), worked by hand from the rules
 * (Europe/Berlin: last Sunday of March 01:00 UTC to last Sunday of October 01:00 UTC), never
 * from the code under test.  The zone tests read the system's tzdata (/usr/share/zoneinfo).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/fd_tz.c"
#include "fd_io.h"
#include "fd_reader.h"

/* ---- POSIX TZ rules ------------------------------------------------------------------ */

static void test_posix_parse(void **state)
{
	struct posix_rule r;

	(void)state;
	assert_int_equal(posix_parse("CET-1CEST,M3.5.0,M10.5.0/3", &r), 0);
	assert_int_equal(r.std_off, 3600);
	assert_int_equal(r.dst_off, 7200);
	assert_int_equal(r.start.kind, 'M');
	assert_int_equal(r.start.a, 3);
	assert_int_equal(r.start.b, 5);
	assert_int_equal(r.start.time, 7200);     /* default 02:00 */
	assert_int_equal(r.end.time, 3 * 3600);
	/* India: no DST, a 30-minute offset */
	assert_int_equal(posix_parse("IST-5:30", &r), 0);
	assert_int_equal(r.std_off, 5 * 3600 + 1800);
	assert_int_equal(r.has_dst, 0);
	/* quoted names, negative and >24 h rule times (RFC 8536 3.3.1) */
	assert_int_equal(posix_parse("<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", &r), 0);
	assert_int_equal(r.std_off, -3 * 3600);
	assert_int_equal(r.dst_off, -2 * 3600);
	assert_int_equal(r.start.time, -2 * 3600);
	assert_int_equal(posix_parse("EST5EDT,M3.2.0/2,M11.1.0/150", &r), 0);
	assert_int_equal(r.end.time, 150 * 3600);
	/* Lord Howe: DST is half an hour */
	assert_int_equal(posix_parse("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", &r), 0);
	assert_int_equal(r.dst_off, 11 * 3600);
	assert_int_equal(posix_parse("J60/0,J300", &r), -1);          /* no name */
	assert_int_equal(posix_parse("CET", &r), -1);                 /* no offset */
	assert_int_equal(posix_parse("CET-1CEST,M13.5.0,M10.5.0", &r), -1);
	assert_int_equal(posix_parse("CET-1CEST,M3.5.0", &r), -1);    /* one date */
	assert_int_equal(posix_parse("CET-1CEST,M3.5.0,M10.5.0x", &r), -1);
	assert_int_equal(posix_parse("AB-1", &r), -1);                /* name too short */
}

static void test_posix_offsets(void **state)
{
	struct posix_rule r;

	(void)state;
	assert_int_equal(posix_parse("CET-1CEST,M3.5.0,M10.5.0/3", &r), 0);
	/* 2026-03-29 01:00:00Z = 1774746000 starts summer time; 2026-10-25 01:00:00Z =
	 * 1792890000 ends it (GNU date) */
	assert_int_equal(rule_offset(&r, 1774746000 - 1), 3600);
	assert_int_equal(rule_offset(&r, 1774746000), 7200);
	assert_int_equal(rule_offset(&r, 1792890000 - 1), 7200);
	assert_int_equal(rule_offset(&r, 1792890000), 3600);
	/* 2045: last Sundays are March 26 and October 29 (2374102800, 2392851600) */
	assert_int_equal(rule_offset(&r, 2374102800 - 1), 3600);
	assert_int_equal(rule_offset(&r, 2374102800), 7200);
	assert_int_equal(rule_offset(&r, 2392851600 - 1), 7200);
	assert_int_equal(rule_offset(&r, 2392851600), 3600);
	/* southern hemisphere: Adelaide, +09:30 / +10:30, first Sunday of October 02:00 to
	 * first Sunday of April 03:00 local: 2026-10-03 16:30Z (1791045000) and 2026-04-04
	 * 16:30Z (1775320200) */
	assert_int_equal(posix_parse("ACST-9:30ACDT,M10.1.0,M4.1.0/3", &r), 0);
	assert_int_equal(rule_offset(&r, 1775320200 - 1), 37800);
	assert_int_equal(rule_offset(&r, 1775320200), 34200);
	assert_int_equal(rule_offset(&r, 1791045000 - 1), 34200);
	assert_int_equal(rule_offset(&r, 1791045000), 37800);
	assert_int_equal(rule_offset(&r, 0), 37800);   /* 1970-01-01: summer there */
	/* Julian days: J60 is March 1 in every year; 60 (zero-based) is March 1 or Feb 29 */
	assert_int_equal(posix_parse("AAA0BBB,J60/0,J300/0", &r), 0);
	/* 2028 (leap): 2028-03-01 00:00Z = 1835481600 */
	assert_int_equal(rule_offset(&r, 1835481600 - 1), 0);
	assert_int_equal(rule_offset(&r, 1835481600), 3600);
	assert_int_equal(posix_parse("AAA0BBB,59/0,300/0", &r), 0);
	assert_int_equal(rule_offset(&r, 1835481600 - 86400 - 1), 0);  /* day 59 of 2028 is Feb 29 */
	assert_int_equal(rule_offset(&r, 1835481600 - 86400), 3600);
}

/* ---- TZif ---------------------------------------------------------------------------- */

static size_t put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
	return 4;
}

/* A hand-made version 2 file: UTC until 1000, +01:00 from 1000, UTC from 2000, and the
 * footer "AAA-2" (+02:00 for ever) after that. */
static size_t make_tzif(unsigned char *b)
{
	size_t n = 0;

	/* version 1 header and body: one type (UTC), no transitions */
	memcpy(b, "TZif2", 5);
	memset(b + 5, 0, 15);
	n = 20;
	n += put32(b + n, 0);  /* isut */
	n += put32(b + n, 0);  /* isstd */
	n += put32(b + n, 0);  /* leap */
	n += put32(b + n, 0);  /* time */
	n += put32(b + n, 1);  /* type */
	n += put32(b + n, 4);  /* char */
	n += put32(b + n, 0);  /* utoff */
	b[n++] = 0;            /* isdst */
	b[n++] = 0;            /* idx */
	memcpy(b + n, "UTC", 4);
	n += 4;
	/* version 2 header and body */
	memcpy(b + n, "TZif2", 5);
	memset(b + n + 5, 0, 15);
	n += 20;
	n += put32(b + n, 0);
	n += put32(b + n, 0);
	n += put32(b + n, 0);
	n += put32(b + n, 2);  /* two transitions */
	n += put32(b + n, 2);  /* two types */
	n += put32(b + n, 8);
	n += put32(b + n, 0);
	n += put32(b + n, 1000);
	n += put32(b + n, 0);
	n += put32(b + n, 2000);
	b[n++] = 1;
	b[n++] = 0;
	n += put32(b + n, 0);      /* type 0: UTC */
	b[n++] = 0;
	b[n++] = 0;
	n += put32(b + n, 3600);   /* type 1: +01:00 */
	b[n++] = 1;
	b[n++] = 4;
	memcpy(b + n, "UTC\0AAA", 8);
	n += 8;
	memcpy(b + n, "\nAAA-2\n", 7);
	return n + 7;
}

static void test_tzif_handmade(void **state)
{
	unsigned char b[256];
	size_t n = make_tzif(b);
	struct fd_tz *tz = NULL;
	struct fd_err err = {0};
	int off = -1;

	(void)state;
	assert_int_equal(fd_tz_load_tzif(&tz, b, n, "test", &err), FD_OK);
	assert_int_equal(fd_tz_fixed(tz, &off), 0);
	assert_int_equal(fd_tz_offset_at(tz, -5000000000LL), 0);
	assert_int_equal(fd_tz_offset_at(tz, 999), 0);
	assert_int_equal(fd_tz_offset_at(tz, 1000), 3600);
	assert_int_equal(fd_tz_offset_at(tz, 1999), 3600);
	assert_int_equal(fd_tz_offset_at(tz, 2000), 7200);     /* the footer from here */
	assert_int_equal(fd_tz_offset_at(tz, 4000000000LL), 7200);
	fd_tz_free(tz);

	/* broken files */
	assert_int_equal(fd_tz_load_tzif(&tz, b, 30, "test", &err), FD_EINPUT);
	assert_non_null(strstr(err.msg, "not valid TZif"));
	assert_int_equal(fd_tz_load_tzif(&tz, "TZxf", 4, "test", &err), FD_EINPUT);
	assert_int_equal(fd_tz_load_tzif(&tz, b, n - 12, "test", &err), FD_EINPUT);
	b[n - 2] = 'x';   /* "AAA-x": a bad footer */
	assert_int_equal(fd_tz_load_tzif(&tz, b, n, "test", &err), FD_EINPUT);
	assert_string_equal(err.msg, "time zone file 'test' is not valid TZif: bad TZ string in the footer");
	assert_null(tz);
}

/* ---- zones from the system ----------------------------------------------------------- */

static struct fd_tz *zone(const char *name)
{
	struct fd_tz *tz = NULL;
	struct fd_err err = {0};

	if (fd_tz_load(&tz, name, &err) != FD_OK) {
		print_error("%s: %s\n", name, err.msg);
		fail();
	}
	return tz;
}

static int64_t local_s(int y, unsigned m, unsigned d, int h, int mi)
{
	return fd_days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60;
}

static void test_berlin(void **state)
{
	struct fd_tz *tz = zone("Europe/Berlin");
	int64_t u = -1;

	(void)state;
	assert_string_equal(fd_tz_name(tz), "Europe/Berlin");
	/* 05.03.2026 14:22 CET = 13:22Z = 1772716920 */
	assert_null(fd_tz_to_utc(tz, local_s(2026, 3, 5, 14, 22), FD_DST_EARLIER, &u));
	assert_int_equal(u, 1772716920);
	/* 2026-03-29 02:30 does not exist: earlier reads it at +01:00 (01:30Z = 1774747800),
	 * later at +02:00 (00:30Z = 1774744200), reject refuses it */
	assert_null(fd_tz_to_utc(tz, local_s(2026, 3, 29, 2, 30), FD_DST_EARLIER, &u));
	assert_int_equal(u, 1774747800);
	assert_null(fd_tz_to_utc(tz, local_s(2026, 3, 29, 2, 30), FD_DST_LATER, &u));
	assert_int_equal(u, 1774744200);
	u = -1;
	assert_string_equal(fd_tz_to_utc(tz, local_s(2026, 3, 29, 2, 30), FD_DST_REJECT, &u),
			    "nonexistent local time (skipped by a daylight-saving change)");
	assert_int_equal(u, -1);
	/* 2026-10-25 02:30 happens twice: 00:30Z (1792888200) and 01:30Z (1792891800) */
	assert_null(fd_tz_to_utc(tz, local_s(2026, 10, 25, 2, 30), FD_DST_EARLIER, &u));
	assert_int_equal(u, 1792888200);
	assert_null(fd_tz_to_utc(tz, local_s(2026, 10, 25, 2, 30), FD_DST_LATER, &u));
	assert_int_equal(u, 1792891800);
	assert_string_equal(fd_tz_to_utc(tz, local_s(2026, 10, 25, 2, 30), FD_DST_REJECT, &u),
			    "ambiguous local time (repeated by a daylight-saving change)");
	/* the edges: 01:59 before the March change, 03:00 after it */
	assert_null(fd_tz_to_utc(tz, local_s(2026, 3, 29, 1, 59), FD_DST_REJECT, &u));
	assert_int_equal(u, 1774745940);
	assert_null(fd_tz_to_utc(tz, local_s(2026, 3, 29, 3, 0), FD_DST_REJECT, &u));
	assert_int_equal(u, 1774746000);
	/* 2045 is past the last transition in the file: the footer's rule */
	assert_int_equal(fd_tz_offset_at(tz, 2374102800 - 1), 3600);
	assert_int_equal(fd_tz_offset_at(tz, 2374102800), 7200);
	fd_tz_free(tz);
}

static void test_other_zones(void **state)
{
	struct fd_tz *tz;
	int64_t u = -1;
	int off = 0;

	(void)state;
	/* Adelaide: southern hemisphere, half-hour offsets (TZ=Australia/Adelaide date); 02:15
	 * on 2026-10-04 is skipped */
	tz = zone("Australia/Adelaide");
	assert_null(fd_tz_to_utc(tz, local_s(2026, 4, 5, 3, 0), FD_DST_REJECT, &u));
	assert_int_equal(u, 1775323800);             /* TZ=Australia/Adelaide date */
	assert_null(fd_tz_to_utc(tz, local_s(2026, 10, 4, 3, 0), FD_DST_REJECT, &u));
	assert_int_equal(u, 1791045000);
	assert_non_null(fd_tz_to_utc(tz, local_s(2026, 10, 4, 2, 15), FD_DST_REJECT, &u));
	fd_tz_free(tz);
	/* Kolkata: +05:30 all year; 2026-06-15 12:00 = 06:30Z = 1781505000 */
	tz = zone("Asia/Kolkata");
	assert_null(fd_tz_to_utc(tz, local_s(2026, 6, 15, 12, 0), FD_DST_REJECT, &u));
	assert_int_equal(u, 1781505000);
	fd_tz_free(tz);
	/* fixed offsets and UTC */
	tz = zone("+05:45");
	assert_int_equal(fd_tz_fixed(tz, &off), 1);
	assert_int_equal(off, 345);
	fd_tz_free(tz);
	tz = zone("utc");
	assert_int_equal(fd_tz_fixed(tz, &off), 1);
	assert_int_equal(off, 0);
	fd_tz_free(tz);
}

static void test_zone_errors(void **state)
{
	struct fd_tz *tz = NULL;
	struct fd_err err = {0};

	(void)state;
	assert_int_equal(fd_tz_load(&tz, "Europe/Berlinn", &err), FD_EUSAGE);
	assert_non_null(strstr(err.msg, "no time zone 'Europe/Berlinn'"));
	assert_int_equal(fd_tz_load(&tz, "../../etc/passwd", &err), FD_EUSAGE);
	assert_int_equal(fd_tz_load(&tz, "/etc/passwd", &err), FD_EUSAGE);
	assert_int_equal(fd_tz_load(&tz, "Europe", &err), FD_EUSAGE);
	assert_int_equal(fd_tz_load(&tz, "", &err), FD_EUSAGE);
	assert_int_equal(fd_tz_load(&tz, "+25:00", &err), FD_EUSAGE);
	assert_int_equal(fd_tz_load(&tz, "leapseconds", &err), FD_EINPUT);   /* not a TZif file */
	assert_null(tz);
	assert_int_equal(fd_tz_dst_parse("earlier"), FD_DST_EARLIER);
	assert_int_equal(fd_tz_dst_parse("later"), FD_DST_LATER);
	assert_int_equal(fd_tz_dst_parse("reject"), FD_DST_REJECT);
	assert_int_equal(fd_tz_dst_parse("first"), -1);
}

/* ---- date formats -------------------------------------------------------------------- */

static void check_fmt(const char *fmt, const char *fmt2, const char *s, const char *zone_name,
		      int policy, const char *want_err, int64_t want_ms, int line)
{
	const char *fmts[3] = {fmt, fmt2, NULL};
	struct fd_tsopts o = {fmt ? fmts : NULL, NULL, policy};
	struct fd_tz *tz = zone_name ? zone(zone_name) : NULL;
	int64_t ms = -42;
	const char *r;

	o.tz = tz;
	r = fd_parse_ts_opts(s, strlen(s), &o, &ms);
	fd_tz_free(tz);
	if (want_err ? !r || strcmp(r, want_err) : r || ms != want_ms) {
		print_error("line %d: '%s' as '%s': got %s, %lld; want %s, %lld\n", line, s,
			    fmt ? fmt : "(default)", r ? r : "ok", (long long)ms,
			    want_err ? want_err : "ok", (long long)want_ms);
		fail();
	}
}
#define FMT_OK(f, s, z, want) check_fmt((f), NULL, (s), (z), FD_DST_EARLIER, NULL, (want), __LINE__)
#define FMT_BAD(f, s, want) check_fmt((f), NULL, (s), NULL, FD_DST_EARLIER, (want), 0, __LINE__)

static void test_date_formats(void **state)
{
	(void)state;
	/* date -u -d '2026-03-05 14:22' +%s = 1772720520 */
	FMT_OK("%d.%m.%Y %H:%M", "05.03.2026 14:22", NULL, 1772720520000LL);
	FMT_OK("%d.%m.%Y %H:%M", "5.3.2026 14:22", NULL, 1772720520000LL);       /* 1-2 digits */
	FMT_OK("%d.%m.%Y %H:%M", "05.03.2026   14:22", NULL, 1772720520000LL);   /* spaces */
	FMT_OK("%d.%m.%Y %H:%M", "05.03.2026 14:22", "Europe/Berlin", 1772716920000LL);
	/* a date alone: local midnight; 2026-03-05 00:00 CET = 2026-03-04 23:00Z = 1772665200 */
	FMT_OK("%d.%m.%Y", "05.03.2026", "Europe/Berlin", 1772665200000LL);
	FMT_OK("%d/%m/%y", "05/03/26", NULL, 1772668800000LL);
	FMT_OK("%d/%m/%y", "05/03/69", NULL, -26092800000LL);    /* 1969-03-05 (POSIX %y) */
	FMT_OK("%m/%d/%Y %I:%M %p", "03/05/2026 02:22 PM", NULL, 1772720520000LL);
	FMT_OK("%m/%d/%Y %I:%M %p", "03/05/2026 12:00 am", NULL, 1772668800000LL);
	FMT_OK("%d %b %Y %T", "05 MAR 2026 14:22:07", NULL, 1772720527000LL);
	FMT_OK("%F %T.%f", "2026-03-05 14:22:07.5", NULL, 1772720527500LL);
	FMT_OK("%F %T.%f", "2026-03-05 14:22:07.123456", NULL, 1772720527123LL);
	FMT_OK("%Y%m%d%H%M%S", "20260305142207", NULL, 1772720527000LL);
	FMT_OK("%d.%m.%Y %H:%M %z", "05.03.2026 14:22 +0530", "Europe/Berlin", 1772700720000LL);
	FMT_OK("%d.%m.%Y %H:%M%z", "05.03.2026 14:22Z", "Europe/Berlin", 1772720520000LL);
	FMT_OK("%s", "1772720520", NULL, 1772720520000LL);
	FMT_OK("%d%%%m%%%Y", "05%03%2026", NULL, 1772668800000LL);
	/* no format: the default grammar, naive in the zone */
	FMT_OK(NULL, "2026-10-25 02:30", "Europe/Berlin", 1792888200000LL);
	FMT_OK(NULL, "2026-10-25T02:30:00+01:00", "Europe/Berlin", 1792891800000LL);

	FMT_BAD("%d.%m.%Y %H:%M", "05.03.2026", "does not match the date format");
	FMT_BAD("%d.%m.%Y %H:%M", "05.03.2026 14:22:00", "trailing characters");
	FMT_BAD("%d.%m.%Y", "31.02.2026", "day out of range for the month");
	FMT_BAD("%d.%m.%Y", "01.13.2026", "month out of range");
	FMT_BAD("%d.%m.%Y %H:%M", "01.03.2026 24:00", "hour out of range");
	FMT_BAD("%d.%m.%Y", "01.03.26", "malformed date");
	FMT_BAD("%d %b %Y", "01 Mrz 2026", "month out of range");
	FMT_BAD("%m/%d/%Y %I:%M %p", "03/05/2026 13:22 PM", "hour out of range");
	FMT_BAD("%d.%m.%Y", "", "empty timestamp");
	/* several formats: the first that matches wins, else a reason for all */
	check_fmt("%d.%m.%Y %H:%M", "%d.%m.%Y", "31.12.2026", NULL, 0, NULL, 1798675200000LL, __LINE__);
	check_fmt("%d.%m.%Y %H:%M", "%d.%m.%Y", "2026-12-31", NULL, 0, "matches none of the date formats", 0, __LINE__);
	/* a DST gap under reject */
	check_fmt("%d.%m.%Y %H:%M", NULL, "29.03.2026 02:30", "Europe/Berlin", FD_DST_REJECT,
		  "nonexistent local time (skipped by a daylight-saving change)", 0, __LINE__);

	assert_null(fd_datefmt_check("%d.%m.%Y %H:%M"));
	assert_null(fd_datefmt_check("%s"));
	assert_string_equal(fd_datefmt_check("%d.%m.%Q"),
			    "unknown directive (use %Y %y %m %d %e %b %H %I %p %M %S %f %z %T %F %s %%)");
	assert_string_equal(fd_datefmt_check("%d.%m"), "no year (%Y or %y)");
	assert_string_equal(fd_datefmt_check("%d.%Y"), "no month (%m or %b)");
	assert_string_equal(fd_datefmt_check("%m.%Y"), "no day (%d)");
	assert_string_equal(fd_datefmt_check("%d.%m.%Y %I:%M"), "%I (12-hour clock) and %p (AM/PM) go together");
	assert_string_equal(fd_datefmt_check("%d.%m.%Y %"), "a '%' at the end");
	assert_string_equal(fd_datefmt_check(""), "empty date format");
	assert_string_equal(fd_datefmt_check("%s %Y"), "%s (epoch seconds) cannot be combined with date fields");
}

/* ---- amounts ------------------------------------------------------------------------- */

static void check_amt(const char *s, int exp, int flags, const char *want_err, int64_t want,
		      int want_rounded, int line)
{
	int64_t v = -42;
	int rounded = -1;
	const char *r = fd_parse_amount_ex(s, strlen(s), exp, flags, &v, &rounded);

	if (want_err ? !r || strcmp(r, want_err) : r || v != want || rounded != want_rounded) {
		print_error("line %d: '%s' (exp %d, flags %d): got %s, %lld (rounded %d); want %s, %lld\n",
			    line, s, exp, flags, r ? r : "ok", (long long)v, rounded,
			    want_err ? want_err : "ok", (long long)want);
		fail();
	}
}
#define DC FD_AMT_DECIMAL_COMMA
#define RD FD_AMT_ROUND
#define AMT_OK(s, e, f, want) check_amt((s), (e), (f), NULL, (want), 0, __LINE__)
#define AMT_ROUNDED(s, e, f, want) check_amt((s), (e), (f), NULL, (want), 1, __LINE__)
#define AMT_BAD(s, e, f, why) check_amt((s), (e), (f), (why), 0, 0, __LINE__)

static void test_amounts(void **state)
{
	static const char ambig_c[] = "ambiguous separator: one ',' before three digits could be a thousands separator or a decimal comma (write 1,234.00, or give --decimal-comma)";
	static const char ambig_p[] = "ambiguous separator: one '.' before three digits could be a decimal point or a thousands separator in decimal-comma mode (write 1.234,00)";

	(void)state;
	/* decimal point (the default) with thousands separators */
	AMT_OK("1234.56", 2, 0, 123456);
	AMT_OK("1,234.56", 2, 0, 123456);
	AMT_OK("1'234.56", 2, 0, 123456);
	AMT_OK("1 234.56", 2, 0, 123456);
	AMT_OK("1\xc2\xa0" "234.56", 2, 0, 123456);           /* U+00A0 */
	AMT_OK("1\xe2\x80\xaf" "234.56", 2, 0, 123456);       /* U+202F */
	AMT_OK("12,345,678.9", 2, 0, 1234567890);
	AMT_OK("-1,234.56", 2, 0, -123456);
	AMT_OK("1,234.56-", 2, 0, -123456);                   /* trailing sign */
	AMT_OK("1,234,567", 0, 0, 1234567);                   /* two groups: not ambiguous */
	AMT_BAD("1,234", 2, 0, ambig_c);
	AMT_BAD("12,50", 2, 0, "decimal comma not expected (give --decimal-comma)");
	AMT_BAD("1234,5", 2, 0, "decimal comma not expected (give --decimal-comma)");
	AMT_BAD("1.234,56", 2, 0, "decimal comma not expected (give --decimal-comma)");
	AMT_BAD("1,23,456.00", 2, 0, "misplaced thousands separator");
	AMT_BAD("1,234 567.00", 2, 0, "misplaced thousands separator");   /* mixed kinds */
	AMT_BAD("1234,567.00", 2, 0, "decimal comma not expected (give --decimal-comma)");
	AMT_BAD(",123.00", 2, 0, "decimal comma not expected (give --decimal-comma)");
	/* decimal comma */
	AMT_OK("1.234,56", 2, DC, 123456);
	AMT_OK("-1.234,56", 2, DC, -123456);
	AMT_OK("1 234,56", 2, DC, 123456);
	AMT_OK("0,99", 2, DC, 99);
	AMT_OK("-1.000.000,00", 2, DC, -100000000);
	AMT_OK("12", 2, DC, 1200);
	AMT_OK(",5", 2, DC, 50);
	AMT_BAD("1.234", 2, DC, ambig_p);
	AMT_BAD("12.5", 2, DC, "decimal point not expected in decimal-comma mode");
	AMT_BAD("1,234.56", 2, DC, "decimal point not expected in decimal-comma mode");
	AMT_BAD("1.23,45", 2, DC, "decimal point not expected in decimal-comma mode");
	AMT_BAD("1,2,3", 2, DC, "trailing characters");
	/* rounding: float artefacts and half to even */
	AMT_BAD("288.09999999999997", 2, 0, "too many decimals for the currency: --round-amounts rounds them");
	AMT_ROUNDED("288.09999999999997", 2, RD, 28810);
	AMT_ROUNDED("0.125", 2, RD, 12);          /* half: to the even 12 */
	AMT_ROUNDED("0.135", 2, RD, 14);          /* half: to the even 14 */
	AMT_ROUNDED("0.1250001", 2, RD, 13);      /* above half */
	AMT_ROUNDED("-0.125", 2, RD, -12);
	AMT_ROUNDED("2.5", 0, RD, 2);             /* JPY */
	AMT_ROUNDED("3.5", 0, RD, 4);
	AMT_ROUNDED("1.0005", 3, RD, 1000);       /* BHD, half to the even 1000 */
	AMT_ROUNDED("1.234,565", 2, DC | RD, 123456);
	AMT_OK("12.300", 2, RD, 1230);            /* zeros are not rounding */
	AMT_BAD("9223372036854775807.5", 0, RD, "amount out of range");
	/* the strict errors are kept */
	AMT_BAD("", 2, 0, "empty amount");
	AMT_BAD("-", 2, 0, "not a number");
	AMT_BAD("1e3", 2, 0, "exponent notation not accepted");
	AMT_BAD("12 EUR", 2, 0, "trailing characters");
	AMT_BAD("99999999999999999999", 2, 0, "amount out of range");
}

/* ---- the reader: dotted paths and encodings ------------------------------------------ */

static struct fd_reader *reader(struct fd_in **in, const char *text, size_t n, const char *enc)
{
	struct fd_reader_opts ro = {FD_FMT_AUTO, 0, enc};
	struct fd_reader *r = NULL;
	struct fd_err err = {0};

	assert_int_equal(fd_in_open_mem(in, text, n, "mem", 0, &err), FD_OK);
	assert_int_equal(fd_reader_open(&r, *in, &ro, &err), FD_OK);
	return r;
}

static void expect_slot(struct fd_reader *r, int slot, const char *want)
{
	const char *v;
	size_t n;

	if (!want) {
		assert_int_equal(fd_reader_get(r, slot, &v, &n), 0);
		return;
	}
	assert_int_equal(fd_reader_get(r, slot, &v, &n), 1);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(v, want, n);
}

static void test_dotted_paths(void **state)
{
	static const char text[] =
		"{\"id\":\"n1\",\"booking\":{\"date\":\"2026-03-05\",\"amt\":{\"v\":12.50}},\"a.b\":\"literal\",\"a\":{\"b\":\"nested\"}}\n"
		"{\"id\":\"n2\",\"booking\":{\"date\":\"x\\u00e4\",\"amt\":[1]},\"a\":{\"b\":null}}\n"
		"{\"id\":\"n3\",\"booking\":\"flat\",\"a\":{\"b\":{\"c\":true}}}\n";
	struct fd_in *in;
	struct fd_reader *r = reader(&in, text, sizeof(text) - 1, NULL);
	struct fd_err err = {0};
	int date = fd_reader_bind(r, "booking.date"), v = fd_reader_bind(r, "booking.amt.v");
	int ab = fd_reader_bind(r, "a.b");

	(void)state;
	assert_int_equal(fd_reader_next(r, &err), 1);
	expect_slot(r, date, "2026-03-05");
	expect_slot(r, v, "12.50");            /* the number as written */
	expect_slot(r, ab, "literal");         /* a member of that exact name comes first */
	assert_int_equal(fd_reader_next(r, &err), 1);
	expect_slot(r, date, "x\xc3\xa4");      /* an escape decoded: U+00E4 */
	expect_slot(r, v, NULL);               /* amt is an array */
	expect_slot(r, ab, NULL);              /* null is absent */
	assert_int_equal(fd_reader_next(r, &err), 1);
	expect_slot(r, date, NULL);            /* booking is not an object */
	expect_slot(r, ab, "{\"c\":true}");     /* an object as its text */
	assert_int_equal(fd_reader_next(r, &err), 0);
	fd_reader_free(r);
	fd_in_free(in);
}

static void test_reader_encodings(void **state)
{
	/* cp1252: 0x80 = U+20AC (e2 82 ac); 0x81 is undefined and becomes the marker 0xFF */
	static const char w[] = "a,b\nx\x80,1\ny,z\x81\n";
	/* UTF-16BE with its mark: "a\n\u00df\n" */
	static const char u16[] = "\xfe\xff\x00" "a\x00\n\x00\xdf\x00\n";
	struct fd_in *in;
	struct fd_reader *r = reader(&in, w, sizeof(w) - 1, "windows-1252");
	struct fd_err err = {0};
	int a = fd_reader_bind(r, "a"), b = fd_reader_bind(r, "b");
	const char *col;
	size_t cn, off;

	(void)state;
	assert_string_equal(fd_reader_encoding(r), "windows-1252");
	assert_int_equal(fd_reader_next(r, &err), 1);
	expect_slot(r, a, "x\xe2\x82\xac");
	assert_int_equal(fd_reader_invalid_at(r, &col, &cn, &off), 0);
	assert_int_equal(fd_reader_next(r, &err), 1);
	expect_slot(r, b, "z\xff");
	assert_int_equal(fd_reader_invalid_at(r, &col, &cn, &off), 1);
	assert_int_equal(cn, 1);
	assert_memory_equal(col, "b", 1);
	assert_int_equal(off, 1);
	fd_reader_free(r);
	fd_in_free(in);

	r = reader(&in, u16, sizeof(u16) - 1, "auto");
	a = fd_reader_bind(r, "a");
	assert_string_equal(fd_reader_encoding(r), "utf-16be");
	assert_int_equal(fd_reader_next(r, &err), 1);
	expect_slot(r, a, "\xc3\x9f");
	fd_reader_free(r);
	fd_in_free(in);

	/* auto on bytes that are not UTF-8: the line and offset of the first bad byte */
	{
		static const char bad[] = "a\nok\n\xe4x\n";
		struct fd_reader_opts ro = {FD_FMT_AUTO, 0, "auto"};

		assert_int_equal(fd_in_open_mem(&in, bad, sizeof(bad) - 1, "mem", 0, &err), FD_OK);
		/* the input fits the first read, so opening (reading the header) finds it */
		assert_int_equal(fd_reader_open(&r, in, &ro, &err), FD_EINPUT);
		assert_non_null(strstr(err.msg, "mem:3: not UTF-8: byte 0xe4 at byte offset 5 "));
		fd_in_free(in);
		ro.encoding = "no-such-encoding";
		assert_int_equal(fd_in_open_mem(&in, bad, sizeof(bad) - 1, "mem", 0, &err), FD_OK);
		assert_int_equal(fd_reader_open(&r, in, &ro, &err), FD_EUSAGE);
		fd_in_free(in);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_posix_parse),
		cmocka_unit_test(test_posix_offsets),
		cmocka_unit_test(test_tzif_handmade),
		cmocka_unit_test(test_berlin),
		cmocka_unit_test(test_other_zones),
		cmocka_unit_test(test_zone_errors),
		cmocka_unit_test(test_date_formats),
		cmocka_unit_test(test_amounts),
		cmocka_unit_test(test_dotted_paths),
		cmocka_unit_test(test_reader_encodings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
