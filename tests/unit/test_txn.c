/*
 * test_txn.c — unit tests of lib/fd_txn.c.
 *
 * Expected epoch values come from GNU date (`date -u -d '2026-11-24T13:05:00Z' +%s`), the
 * distances from an independent haversine in Python and from pi * R by hand, the currency
 * minor units from ISO 4217 list one (SIX, published 2026-01-01), never from fd_txn.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fd_txn.h"
#include "fd_err.h"

/* ---- helpers -------------------------------------------------------------------------- */

static void check_ts(const char *s, int tz, int64_t want, int line)
{
	int64_t ms = -42;
	const char *r = fd_parse_ts(s, strlen(s), tz, &ms);

	if (r || ms != want) {
		print_error("line %d: '%s' (tz %d): got %s, %lld; want %lld\n", line, s, tz,
		            r ? r : "ok", (long long)ms, (long long)want);
		fail();
	}
}
#define TS_OK(s, tz, want) check_ts((s), (tz), (want), __LINE__)

static void check_ts_bad(const char *s, const char *want, int line)
{
	int64_t ms = -42;
	const char *r = fd_parse_ts(s, strlen(s), 0, &ms);

	if (!r || strcmp(r, want) != 0) {
		print_error("line %d: '%s': got %s; want \"%s\"\n", line, s, r ? r : "ok", want);
		fail();
	}
	assert_int_equal(ms, -42);   /* untouched on error */
}
#define TS_BAD(s, why) check_ts_bad((s), (why), __LINE__)

static void check_amount(const char *s, int e, int64_t want, int line)
{
	int64_t v = -42;
	const char *r = fd_parse_amount(s, strlen(s), e, &v);

	if (r || v != want) {
		print_error("line %d: '%s' (exp %d): got %s, %lld; want %lld\n", line, s, e,
		            r ? r : "ok", (long long)v, (long long)want);
		fail();
	}
}
#define AMT_OK(s, e, want) check_amount((s), (e), (want), __LINE__)

static void check_amount_bad(const char *s, int e, const char *want, int line)
{
	int64_t v = -42;
	const char *r = fd_parse_amount(s, strlen(s), e, &v);

	if (!r || strcmp(r, want) != 0) {
		print_error("line %d: '%s' (exp %d): got %s; want \"%s\"\n", line, s, e,
		            r ? r : "ok", want);
		fail();
	}
	assert_int_equal(v, -42);
}
#define AMT_BAD(s, e, why) check_amount_bad((s), (e), (why), __LINE__)

static void check_near(double got, double want, double eps, int line)
{
	if (!(fabs(got - want) <= eps)) {
		print_error("line %d: got %.9f, want %.9f (+-%g)\n", line, got, want, eps);
		fail();
	}
}
#define NEAR(got, want, eps) check_near((got), (want), (eps), __LINE__)

#define IP_OK(s) assert_null(fd_parse_ip((s), strlen(s)))
#define IP_BAD(s, why) assert_string_equal(fd_parse_ip((s), strlen(s)), (why))

static const char NOT_IP[] = "not an IP address";

/* ---- fields --------------------------------------------------------------------------- */

static void test_field_names(void **state)
{
	/* DESIGN.md, "The canonical transaction", in table order */
	static const char *const want[FD_NFIELDS] = {
		"txn_id", "ts", "amount", "currency", "sender_id", "recipient_id", "merchant_id",
		"merchant_category", "channel", "device_id", "ip", "lat", "lon", "country", "city",
		"label",
	};
	(void)state;
	for (int f = 0; f < FD_NFIELDS; f++) {
		assert_string_equal(fd_field_name[f], want[f]);
		assert_int_equal(fd_field_lookup(want[f], strlen(want[f])), f);
	}
}

static void test_field_lookup(void **state)
{
	(void)state;
	assert_int_equal(fd_field_lookup("ts", 2), FD_F_TS);
	assert_int_equal(fd_field_lookup("lon", 3), FD_F_LON);
	assert_int_equal(fd_field_lookup("label", 5), FD_F_LABEL);
	assert_int_equal(fd_field_lookup("tsx", 2), FD_F_TS);      /* n bytes, not NUL-terminated */
	assert_int_equal(fd_field_lookup("ts", 1), -1);
	assert_int_equal(fd_field_lookup("TS", 2), -1);            /* exact, lowercase */
	assert_int_equal(fd_field_lookup("txn_idx", 7), -1);
	assert_int_equal(fd_field_lookup("txn", 3), -1);
	assert_int_equal(fd_field_lookup("", 0), -1);
	assert_int_equal(fd_field_lookup("amount ", 7), -1);
}

static void test_txn_clear(void **state)
{
	struct fd_txn t;

	(void)state;
	memset(&t, 0xA5, sizeof(t));
	fd_txn_clear(&t);
	assert_null(t.txn_id);
	assert_null(t.sender_id);
	assert_null(t.recipient_id);
	assert_null(t.merchant_id);
	assert_null(t.merchant_category);
	assert_null(t.channel);
	assert_null(t.device_id);
	assert_null(t.ip);
	assert_null(t.city);
	assert_null(t.metadata);
	assert_int_equal(t.metadata_len, 0);
	assert_int_equal(t.label, -1);
	assert_int_equal(t.has_geo, 0);
	assert_int_equal(t.ts, 0);
	assert_int_equal(t.amount, 0);
	assert_string_equal(t.currency, "");
	assert_string_equal(t.country, "");
	assert_int_equal(t.source_id, 0);
	assert_int_equal(t.line, 0);
	assert_true(t.lat == 0.0 && t.lon == 0.0);
}

/* ---- timestamps: accepted forms -------------------------------------------------------- */

static void test_ts_rfc3339(void **state)
{
	(void)state;
	TS_OK("2026-11-24T13:05:00Z", 0, 1795525500000);
	TS_OK("2026-11-24T13:05:00.000Z", 0, 1795525500000);
	TS_OK("2026-11-24 13:05:00Z", 0, 1795525500000);
	TS_OK("2026-11-24t13:05:00z", 0, 1795525500000);     /* RFC 3339 5.6: case-insensitive */
	TS_OK("2026-11-24T13:05Z", 0, 1795525500000);        /* seconds optional */
	TS_OK("2026-11-24T13:05:00.123+02:00", 0, 1795518300123);
	TS_OK("1970-01-01T00:00:00Z", 0, 0);
	TS_OK("1969-12-31T23:59:59Z", 0, -1000);
	TS_OK("1960-06-15T08:30:00Z", 0, -301246200000);
	TS_OK("1900-01-01T00:00:00Z", 0, -2208988800000);
	TS_OK("9999-12-31T23:59:59Z", 0, 253402300799000);
	TS_OK("9999-12-31T23:59:59.999Z", 0, 253402300799999);
	TS_OK("2100-03-01T00:00:00Z", 0, 4107542400000);
}

static void test_ts_offsets(void **state)
{
	(void)state;
	TS_OK("2026-11-24T13:05:00+02:00", 0, 1795518300000);
	TS_OK("2026-11-24T13:05:00+0200", 0, 1795518300000);
	TS_OK("2026-11-24T13:05:00+02", 0, 1795518300000);
	TS_OK("2026-11-24T13:05:00-05:30", 0, 1795545300000);
	TS_OK("2026-11-24T13:05:00+05:45", 0, 1795504800000);
	TS_OK("2026-11-24T13:05:00+0545", 0, 1795504800000);
	TS_OK("2026-11-24T13:05:00-00:00", 0, 1795525500000);
	TS_OK("2026-11-24T13:05:00+00", 0, 1795525500000);
	TS_OK("2026-11-24T13:05:00+18:00", 0, 1795460700000);
	TS_OK("2026-11-24T13:05:00-18:00", 0, 1795590300000);
	TS_OK("2026-11-24T13:05+01:00", 0, 1795521900000);
	/* an explicit zone wins over the naive default */
	TS_OK("2026-11-24T13:05:00Z", 120, 1795525500000);
	TS_OK("2026-11-24T13:05:00+02:00", -300, 1795518300000);
	/* across a day boundary: 2026-11-24T00:30+01:00 = 2026-11-23T23:30Z */
	TS_OK("2026-11-24T00:30:00+01:00", 0, 1795478400000 - 1800000);
}

static void test_ts_naive(void **state)
{
	(void)state;
	TS_OK("2026-11-24 13:05", 0, 1795525500000);
	TS_OK("2026-11-24T13:05:00", 0, 1795525500000);
	TS_OK("2026-11-24T13:05:00", 120, 1795518300000);     /* --tz +02:00 */
	TS_OK("2026-11-24T13:05:00", -330, 1795545300000);    /* --tz -05:30 */
	TS_OK("2026-11-24", 0, 1795478400000);                /* date alone: midnight */
	TS_OK("2026-11-24", 60, 1795478400000 - 3600000);
	TS_OK("2026/11/24 13:05", 0, 1795525500000);          /* bank exports */
	TS_OK("2026/11/24 13:05:00", 0, 1795525500000);
	TS_OK("2026/11/24 13:05:00", 120, 1795518300000);
	TS_OK("2026/11/24", 0, 1795478400000);
}

static void test_ts_fraction(void **state)
{
	(void)state;
	TS_OK("2026-11-24T13:05:00.1Z", 0, 1795525500100);
	TS_OK("2026-11-24T13:05:00.12Z", 0, 1795525500120);
	TS_OK("2026-11-24T13:05:00.123Z", 0, 1795525500123);
	TS_OK("2026-11-24T13:05:00.1234Z", 0, 1795525500123);       /* truncated, not rounded */
	TS_OK("2026-11-24T13:05:00.999999999Z", 0, 1795525500999);
	TS_OK("2026-11-24T13:05:00.000000001Z", 0, 1795525500000);
	TS_OK("2026-11-24T13:05:00.5", 0, 1795525500500);           /* naive with fraction */
	TS_OK("2026-11-24T13:05:00.250-01:00", 0, 1795529100250);
	TS_OK("1969-12-31T23:59:59.500Z", 0, -500);                  /* fraction before 1970 */
}

static void test_ts_leap_years(void **state)
{
	(void)state;
	TS_OK("2024-02-29T00:00:00Z", 0, 1709164800000);
	TS_OK("2024-03-01", 0, 1709251200000);
	TS_OK("2000-02-29T12:00:00Z", 0, 951825600000);     /* divisible by 400: leap */
	TS_OK("2000-03-01", 0, 951868800000);
	TS_OK("1904-02-29", 0, -2077747200000);
	TS_OK("2023-03-01", 0, 1677628800000);
	TS_OK("1900-03-01", 0, -2203891200000);
	TS_BAD("2023-02-29", "day out of range for the month");
	TS_BAD("1900-02-29", "day out of range for the month"); /* divisible by 100: not leap */
	TS_BAD("2100-02-29T00:00:00Z", "day out of range for the month");
	TS_BAD("2024-02-30", "day out of range for the month");
}

static void test_ts_leap_second(void **state)
{
	(void)state;
	/* 60 folds onto the next minute's 0: 2017-01-01T00:00:00Z */
	TS_OK("2016-12-31T23:59:60Z", 0, 1483228800000);
	TS_OK("2026-12-31T23:59:60Z", 0, 1798761600000);
	TS_OK("2026-12-31T23:59:60.5Z", 0, 1798761600500);
	TS_BAD("2026-12-31T23:59:61Z", "second out of range");
}

static void test_ts_epoch(void **state)
{
	(void)state;
	TS_BAD("0", "too few digits for epoch seconds (9 to 11) or milliseconds (12 or 13)");
	TS_OK("100000000", 0, 100000000000);           /* 9 digits: 1973-03-03T09:46:40Z */
	TS_OK("1795525500", 0, 1795525500000);
	TS_OK("1795525500", 120, 1795525500000);       /* epoch is UTC: tz ignored */
	TS_OK("1795525500.5", 0, 1795525500500);
	TS_OK("1795525500.123456", 0, 1795525500123);
	TS_OK("99999999999", 0, 99999999999000);       /* 11 digits: seconds (5138-11-16) */
	TS_OK("179552550012", 0, 179552550012);        /* 12 digits: milliseconds */
	TS_OK("1795525500123", 0, 1795525500123);      /* 13 digits: milliseconds */
	TS_OK("1795525500123.9", 0, 1795525500123);    /* sub-ms fraction dropped */
	/* 8 digits look like YYYYMMDD far more often than a 1970 instant: refused */
	TS_BAD("20261124", "too few digits for epoch seconds (9 to 11) or milliseconds (12 or 13)");
	TS_BAD("17955255001234", "epoch value has too many digits");
	TS_BAD("1795525500123456", "epoch value has too many digits");   /* microseconds */
	TS_BAD("1795525500.", "missing fraction digits");
	TS_BAD("1795525500.1234567890", "fraction longer than 9 digits");
	TS_BAD("1795525500 ", "trailing characters");
	TS_BAD("1795525500Z", "trailing characters");
	TS_BAD("1795525500.5.5", "trailing characters");
	TS_BAD("-1795525500", "not a timestamp");
	TS_BAD("+1795525500", "not a timestamp");
}

static void test_ts_bounded(void **state)
{
	const char *s = "2026-11-24T13:05:00Zjunk";
	int64_t ms = 0;

	(void)state;
	/* (s, n): only n bytes are read */
	assert_null(fd_parse_ts(s, 20, 0, &ms));
	assert_int_equal(ms, 1795525500000);
	assert_null(fd_parse_ts(s, 10, 0, &ms));
	assert_int_equal(ms, 1795478400000);
	assert_null(fd_parse_ts("17955255009", 10, 0, &ms));
	assert_int_equal(ms, 1795525500000);
	assert_string_equal(fd_parse_ts(s, 21, 0, &ms), "trailing characters");
	assert_string_equal(fd_parse_ts(s, 0, 0, &ms), "empty timestamp");
	/* a year alone is not a timestamp */
	assert_string_equal(fd_parse_ts(s, 4, 0, &ms),
			    "too few digits for epoch seconds (9 to 11) or milliseconds (12 or 13)");
}

/* ---- timestamps: every rejection ------------------------------------------------------- */

static void test_ts_rejections(void **state)
{
	(void)state;
	TS_BAD("", "empty timestamp");
	TS_BAD("abc", "not a timestamp");
	TS_BAD("T13:05", "not a timestamp");
	TS_BAD(" 2026-11-24", "not a timestamp");
	TS_BAD("Nov 24 2026", "not a timestamp");

	TS_BAD("2026-1-24", "malformed date");
	TS_BAD("2026-11-2", "malformed date");
	TS_BAD("2026-11/24", "malformed date");
	TS_BAD("2026/11-24", "malformed date");
	TS_BAD("2026-aa-24", "malformed date");
	TS_BAD("2026-11-", "malformed date");

	TS_BAD("1899-12-31T23:59:59Z", "year out of range");
	TS_BAD("0000-01-01", "year out of range");

	TS_BAD("2026-13-01", "month out of range");
	TS_BAD("2026-00-10", "month out of range");

	TS_BAD("2026-04-31", "day out of range for the month");
	TS_BAD("2026-11-00", "day out of range for the month");
	TS_BAD("2026-01-32", "day out of range for the month");

	TS_BAD("2026-11-24T", "malformed time");
	TS_BAD("2026-11-24T13", "malformed time");
	TS_BAD("2026-11-24T1305", "malformed time");
	TS_BAD("2026-11-24T13:5", "malformed time");
	TS_BAD("2026-11-24T13:05:0", "malformed time");
	TS_BAD("2026-11-24T13:05:", "malformed time");
	TS_BAD("2026-11-24T13:05.5Z", "malformed time");    /* a fraction needs seconds */
	TS_BAD("2026-11-24Tab:cd", "malformed time");

	TS_BAD("2026-11-24T24:00:00Z", "hour out of range");
	TS_BAD("2026-11-24T13:60:00Z", "minute out of range");
	TS_BAD("2026-11-24T13:05:99Z", "second out of range");

	TS_BAD("2026-11-24T13:05:00.Z", "missing fraction digits");
	TS_BAD("2026-11-24T13:05:00.1234567890Z", "fraction longer than 9 digits");

	TS_BAD("2026-11-24T13:05:00+18:01", "bad time zone offset");
	TS_BAD("2026-11-24T13:05:00+19:00", "bad time zone offset");
	TS_BAD("2026-11-24T13:05:00+02:60", "bad time zone offset");
	TS_BAD("2026-11-24T13:05:00+2", "bad time zone offset");
	TS_BAD("2026-11-24T13:05:00+020", "bad time zone offset");
	TS_BAD("2026-11-24T13:05:00+02:0", "bad time zone offset");
	TS_BAD("2026-11-24T13:05:00+02:00:00", "bad time zone offset");
	TS_BAD("2026-11-24T13:05:00+02-00", "bad time zone offset");
	TS_BAD("2026-11-24T13:05:00-", "bad time zone offset");

	TS_BAD("2026-11-24T13:05:00Zjunk", "trailing characters");
	TS_BAD("2026-11-24T13:05:00 ", "trailing characters");
	TS_BAD("2026-11-24T13:05:00 +0200", "trailing characters");
	TS_BAD("2026-11-24T13:05:00 UTC", "trailing characters");
	TS_BAD("2026-11-24x", "trailing characters");
	TS_BAD("2026-11-24Z", "trailing characters");
	TS_BAD("2026-11-245", "trailing characters");
	TS_BAD("2026-11-24T13:05:00.5.5Z", "trailing characters");
}

static void test_parse_tz(void **state)
{
	int off = -1;

	(void)state;
	assert_null(fd_parse_tz("UTC", &off));
	assert_int_equal(off, 0);
	off = -1;
	assert_null(fd_parse_tz("utc", &off));
	assert_int_equal(off, 0);
	off = -1;
	assert_null(fd_parse_tz("Z", &off));
	assert_int_equal(off, 0);
	assert_null(fd_parse_tz("+02:00", &off));
	assert_int_equal(off, 120);
	assert_null(fd_parse_tz("-0530", &off));
	assert_int_equal(off, -330);
	assert_null(fd_parse_tz("+05", &off));
	assert_int_equal(off, 300);
	assert_null(fd_parse_tz("+18:00", &off));
	assert_int_equal(off, 1080);
	assert_null(fd_parse_tz("-18:00", &off));
	assert_int_equal(off, -1080);
	assert_null(fd_parse_tz("+05:45", &off));
	assert_int_equal(off, 345);

	off = 7;
	assert_string_equal(fd_parse_tz("", &off), "empty time zone");
	assert_string_equal(fd_parse_tz(NULL, &off), "empty time zone");
	assert_string_equal(fd_parse_tz("+18:01", &off), "bad time zone offset");
	assert_string_equal(fd_parse_tz("+19", &off), "bad time zone offset");
	assert_string_equal(fd_parse_tz("+2", &off), "bad time zone offset");
	assert_string_equal(fd_parse_tz("02:00", &off), "bad time zone offset");
	assert_string_equal(fd_parse_tz("+02:60", &off), "bad time zone offset");
	assert_string_equal(fd_parse_tz("+02:00x", &off), "bad time zone offset");
	assert_string_equal(fd_parse_tz("EST", &off), "bad time zone offset");
	assert_string_equal(fd_parse_tz("UTC+1", &off), "bad time zone offset");
	assert_string_equal(fd_parse_tz("Europe/Paris", &off), "bad time zone offset");
	assert_int_equal(off, 7);
}

static void test_format_ts(void **state)
{
	char buf[FD_TS_BUFSZ];

	(void)state;
	assert_string_equal(fd_format_ts(0, buf), "1970-01-01T00:00:00.000Z");
	assert_string_equal(fd_format_ts(1795525500000, buf), "2026-11-24T13:05:00.000Z");
	assert_string_equal(fd_format_ts(1795525500123, buf), "2026-11-24T13:05:00.123Z");
	assert_string_equal(fd_format_ts(-1, buf), "1969-12-31T23:59:59.999Z");
	assert_string_equal(fd_format_ts(-1000, buf), "1969-12-31T23:59:59.000Z");
	assert_string_equal(fd_format_ts(-2208988800000, buf), "1900-01-01T00:00:00.000Z");
	assert_string_equal(fd_format_ts(-301246200000, buf), "1960-06-15T08:30:00.000Z");
	assert_string_equal(fd_format_ts(951825600000, buf), "2000-02-29T12:00:00.000Z");
	assert_string_equal(fd_format_ts(1709164800000, buf), "2024-02-29T00:00:00.000Z");
	assert_string_equal(fd_format_ts(253402300799999, buf), "9999-12-31T23:59:59.999Z");
	assert_string_equal(fd_format_ts(253402300800000, buf), "10000-01-01T00:00:00.000Z");
	/* the extremes, as GNU date prints them (date -u -d @9223372036854775) */
	assert_string_equal(fd_format_ts(INT64_MAX, buf), "292278994-08-17T07:12:55.807Z");
	assert_string_equal(fd_format_ts(INT64_MIN, buf), "-292275055-05-16T16:47:04.192Z");
	assert_true(fd_format_ts(0, buf) == buf);
	assert_int_equal(strlen(fd_format_ts(1795525500123, buf)), 24);
}

static void test_ts_round_trip(void **state)
{
	char buf[FD_TS_BUFSZ];
	uint64_t x = 88172645463325252u;
	const int64_t lo = -2208988800000, hi = 253402300799999;   /* 1900 .. 9999 */

	(void)state;
	for (int i = 0; i < 200000; i++) {
		int64_t ms, back = 0;
		const char *r;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;   /* xorshift64 */
		ms = lo + (int64_t)(x % (uint64_t)(hi - lo + 1));
		fd_format_ts(ms, buf);
		r = fd_parse_ts(buf, strlen(buf), 0, &back);
		if (r || back != ms) {
			print_error("%lld -> %s -> %s %lld\n", (long long)ms, buf, r ? r : "ok",
			            (long long)back);
			fail();
		}
	}
}

static void test_civil(void **state)
{
	int64_t y;
	unsigned m, d;

	(void)state;
	/* days = epoch seconds / 86400, from GNU date */
	assert_int_equal(fd_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(fd_days_from_civil(2026, 11, 24), 20781);
	assert_int_equal(fd_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(fd_days_from_civil(2000, 2, 29), 11016);
	assert_int_equal(fd_days_from_civil(1969, 12, 31), -1);
	assert_int_equal(fd_days_from_civil(1900, 1, 1), -25567);
	assert_int_equal(fd_days_from_civil(9999, 12, 31), 2932896);
	/* proleptic Gregorian: 0000-03-01 is 719468 days before the epoch */
	assert_int_equal(fd_days_from_civil(0, 3, 1), -719468);

	fd_civil_from_days(20781, &y, &m, &d);
	assert_int_equal(y, 2026);
	assert_int_equal(m, 11);
	assert_int_equal(d, 24);
	fd_civil_from_days(-1, &y, &m, &d);
	assert_int_equal(y, 1969);
	assert_int_equal(m, 12);
	assert_int_equal(d, 31);
	fd_civil_from_days(11016, &y, &m, &d);
	assert_int_equal(y, 2000);
	assert_int_equal(m, 2);
	assert_int_equal(d, 29);
	fd_civil_from_days(-719468, &y, &m, &d);
	assert_int_equal(y, 0);
	assert_int_equal(m, 3);
	assert_int_equal(d, 1);

	/* walk day by day over ~5500 years: each day follows the previous one on the calendar */
	{
		int64_t py, z;
		unsigned pm, pd;

		fd_civil_from_days(-1000000, &py, &pm, &pd);
		for (z = -999999; z < 1000000; z++) {
			fd_civil_from_days(z, &y, &m, &d);
			if (d == pd + 1 && m == pm && y == py) {
				/* next day of the month */
			} else if (d == 1 && ((m == pm + 1 && y == py) || (m == 1 && pm == 12 && y == py + 1))) {
				int leap = (py % 4 == 0 && py % 100 != 0) || py % 400 == 0;
				unsigned len = pm == 2 ? 28u + (unsigned)leap
				               : (pm == 4 || pm == 6 || pm == 9 || pm == 11) ? 30u : 31u;

				assert_int_equal(pd, len);
			} else {
				fail_msg("day %lld: %lld-%u-%u after %lld-%u-%u", (long long)z, (long long)y,
				         m, d, (long long)py, pm, pd);
			}
			assert_int_equal(fd_days_from_civil(y, m, d), z);
			py = y, pm = m, pd = d;
		}
	}
}

/* ---- amounts -------------------------------------------------------------------------- */

static void test_amount_exponents(void **state)
{
	(void)state;
	/* 2: USD */
	AMT_OK("12", 2, 1200);
	AMT_OK("12.3", 2, 1230);
	AMT_OK("12.30", 2, 1230);
	AMT_OK("+12.30", 2, 1230);
	AMT_OK("-0.5", 2, -50);
	AMT_OK(".5", 2, 50);
	AMT_OK("12.", 2, 1200);
	AMT_OK("0", 2, 0);
	AMT_OK("-0", 2, 0);
	AMT_OK("-0.00", 2, 0);
	AMT_OK("007.05", 2, 705);
	AMT_OK("1234567.89", 2, 123456789);
	/* 0: JPY */
	AMT_OK("1000", 0, 1000);
	AMT_OK("1000.", 0, 1000);
	AMT_OK("1000.000", 0, 1000);
	AMT_OK("-250", 0, -250);
	/* 3: BHD */
	AMT_OK("1.234", 3, 1234);
	AMT_OK("0.001", 3, 1);
	AMT_OK("-12.5", 3, -12500);
	AMT_OK("7", 3, 7000);
	/* 4: CLF */
	AMT_OK("1.2345", 4, 12345);
	AMT_OK("0.0001", 4, 1);
	AMT_OK("3", 4, 30000);
}

static void test_amount_decimals(void **state)
{
	(void)state;
	AMT_OK("12.300", 2, 1230);               /* extra zeros are fine */
	AMT_OK("12.3000000000000000000000", 2, 1230);
	AMT_BAD("12.345", 2, "too many decimals for the currency");
	AMT_BAD("12.301", 2, "too many decimals for the currency");
	AMT_BAD("12.3000000000000000000001", 2, "too many decimals for the currency");
	AMT_BAD("1000.5", 0, "too many decimals for the currency");
	AMT_BAD("0.0005", 3, "too many decimals for the currency");
	AMT_BAD("1.23456", 4, "too many decimals for the currency");
	AMT_BAD("-0.001", 2, "too many decimals for the currency");
}

static void test_amount_overflow(void **state)
{
	(void)state;
	AMT_OK("9223372036854775807", 0, INT64_MAX);
	AMT_OK("-9223372036854775807", 0, -INT64_MAX);
	AMT_OK("92233720368547758.07", 2, INT64_MAX);
	AMT_OK("-92233720368547758.07", 2, -INT64_MAX);
	AMT_OK("000000000000000000000000000001", 0, 1);
	AMT_BAD("9223372036854775808", 0, "amount out of range");
	AMT_BAD("-9223372036854775808", 0, "amount out of range");   /* symmetric range */
	AMT_BAD("92233720368547758.08", 2, "amount out of range");
	AMT_BAD("92233720368547759", 2, "amount out of range");       /* overflows on scaling */
	AMT_BAD("922337203685477580.7", 2, "amount out of range");
	AMT_BAD("99999999999999999999999999", 2, "amount out of range");
	AMT_BAD("9223372036854775807", 1, "amount out of range");
}

static void test_amount_junk(void **state)
{
	(void)state;
	AMT_BAD("", 2, "empty amount");
	AMT_BAD("-", 2, "not a number");
	AMT_BAD("+", 2, "not a number");
	AMT_BAD(".", 2, "not a number");
	AMT_BAD("-.", 2, "not a number");
	AMT_BAD("abc", 2, "not a number");
	AMT_BAD("NaN", 2, "not a number");
	AMT_BAD("inf", 2, "not a number");
	AMT_BAD("-Infinity", 2, "not a number");
	AMT_BAD(" 12", 2, "not a number");
	AMT_BAD("$12", 2, "not a number");
	AMT_BAD("+-12", 2, "not a number");
	AMT_BAD("--12", 2, "not a number");
	AMT_BAD("1,234.56", 2, "comma not accepted (no thousands separators or decimal commas)");
	AMT_BAD("12,50", 2, "comma not accepted (no thousands separators or decimal commas)");
	AMT_BAD("1e5", 2, "exponent notation not accepted");
	AMT_BAD("1.5E3", 2, "exponent notation not accepted");
	AMT_BAD("12 ", 2, "trailing characters");
	AMT_BAD("12.3.4", 2, "trailing characters");
	AMT_BAD("12abc", 2, "trailing characters");
	AMT_BAD("0x10", 2, "trailing characters");
	AMT_BAD("12USD", 2, "trailing characters");
	AMT_BAD("12-", 2, "trailing characters");
	AMT_BAD("12", -1, "bad currency exponent");
	AMT_BAD("12", 19, "bad currency exponent");
}

static void test_amount_bounded(void **state)
{
	int64_t v = 0;

	(void)state;
	assert_null(fd_parse_amount("12.345", 5, 2, &v));    /* only "12.34" is read */
	assert_int_equal(v, 1234);
	assert_null(fd_parse_amount("-7x", 2, 0, &v));
	assert_int_equal(v, -7);
	assert_string_equal(fd_parse_amount("12", 0, 2, &v), "empty amount");
}

static void test_format_amount(void **state)
{
	char buf[FD_AMOUNT_BUFSZ];

	(void)state;
	assert_string_equal(fd_format_amount(123456, 2, buf), "1234.56");
	assert_string_equal(fd_format_amount(-5, 2, buf), "-0.05");
	assert_string_equal(fd_format_amount(0, 2, buf), "0.00");
	assert_string_equal(fd_format_amount(0, 0, buf), "0");
	assert_string_equal(fd_format_amount(100, 2, buf), "1.00");
	assert_string_equal(fd_format_amount(-1234, 0, buf), "-1234");
	assert_string_equal(fd_format_amount(5, 3, buf), "0.005");
	assert_string_equal(fd_format_amount(-1234567, 3, buf), "-1234.567");
	assert_string_equal(fd_format_amount(12345, 4, buf), "1.2345");
	assert_string_equal(fd_format_amount(INT64_MAX, 2, buf), "92233720368547758.07");
	assert_string_equal(fd_format_amount(INT64_MIN, 2, buf), "-92233720368547758.08");
	assert_string_equal(fd_format_amount(INT64_MIN, 0, buf), "-9223372036854775808");
	assert_string_equal(fd_format_amount(1, 18, buf), "0.000000000000000001");
	assert_string_equal(fd_format_amount(INT64_MIN, 18, buf), "-9.223372036854775808");
	assert_true(fd_format_amount(1, 2, buf) == buf);
}

static void test_amount_round_trip(void **state)
{
	char buf[FD_AMOUNT_BUFSZ];
	uint64_t x = 0x9E3779B97F4A7C15u;

	(void)state;
	for (int e = 0; e <= 4; e++) {
		for (int i = 0; i < 50000; i++) {
			int64_t v, back = 0;
			const char *r;

			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			/* all magnitudes: shift a random value right by a random amount */
			v = (int64_t)(x >> (1 + (x & 63) % 63));
			if (x & 64)
				v = -v;
			fd_format_amount(v, e, buf);
			r = fd_parse_amount(buf, strlen(buf), e, &back);
			if (r || back != v) {
				print_error("%lld exp %d -> %s -> %s %lld\n", (long long)v, e, buf,
				            r ? r : "ok", (long long)back);
				fail();
			}
		}
	}
}

/* ---- currencies and countries ---------------------------------------------------------- */

static void test_currency(void **state)
{
	(void)state;
	assert_int_equal(fd_currency_exponent("USD"), 2);
	assert_int_equal(fd_currency_exponent("EUR"), 2);
	assert_int_equal(fd_currency_exponent("GBP"), 2);
	assert_int_equal(fd_currency_exponent("AED"), 2);     /* first in the table */
	assert_int_equal(fd_currency_exponent("ZWG"), 2);     /* last */
	assert_int_equal(fd_currency_exponent("MGA"), 2);
	assert_int_equal(fd_currency_exponent("MRU"), 2);
	assert_int_equal(fd_currency_exponent("IDR"), 2);
	assert_int_equal(fd_currency_exponent("SLE"), 2);
	assert_int_equal(fd_currency_exponent("VED"), 2);
	assert_int_equal(fd_currency_exponent("XCG"), 2);     /* Caribbean guilder, 2025 */
	assert_int_equal(fd_currency_exponent("XAD"), 2);
	/* exponent 0 */
	static const char *const zero[] = {
		"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
		"VND", "VUV", "XAF", "XOF", "XPF",
	};
	for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
		assert_int_equal(fd_currency_exponent(zero[i]), 0);
	/* exponent 3 */
	static const char *const three[] = { "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND" };
	for (size_t i = 0; i < sizeof(three) / sizeof(three[0]); i++)
		assert_int_equal(fd_currency_exponent(three[i]), 3);
	/* exponent 4 */
	assert_int_equal(fd_currency_exponent("CLF"), 4);
	assert_int_equal(fd_currency_exponent("UYW"), 4);
	/* minor unit "N.A." in ISO: whole units */
	assert_int_equal(fd_currency_exponent("XAU"), 0);
	assert_int_equal(fd_currency_exponent("XDR"), 0);
	assert_int_equal(fd_currency_exponent("XXX"), 0);
}

static void test_currency_absent(void **state)
{
	static const char *const bad[] = {
		/* withdrawn before 2000 (the recent ones are accepted: see test_currency_historical) */
		"DEM", "FRF", "ITL", "ESP", "NLG",
		/* not codes */
		"ABC", "XYZ", "AAA", "ZZZ", "BTC",
		/* not exactly three upper-case letters */
		"usd", "Usd", "US", "USDX", "US1", "", "U D",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (fd_currency_exponent(bad[i]) != -1)
			fail_msg("%s accepted", bad[i]);
	assert_int_equal(fd_currency_exponent(NULL), -1);
}

static void test_currency_historical(void **state)
{
	(void)state;
	/* last minor units of withdrawn currencies (ISO 4217 list three) */
	assert_int_equal(fd_currency_exponent("HRK"), 2);
	assert_int_equal(fd_currency_exponent("BGN"), 2);
	assert_int_equal(fd_currency_exponent("ZWL"), 2);
	assert_int_equal(fd_currency_exponent("BYR"), 0);
	assert_int_equal(fd_currency_exponent("LTL"), 2);
}

static void test_currency_count(void **state)
{
	char c[4] = "AAA";
	int n = 0;

	(void)state;
	/* ISO 4217 list one, 2026-01-01: 178 distinct alphabetic codes, plus the 18 recently
	 * withdrawn ones that historical exports carry */
	for (c[0] = 'A'; c[0] <= 'Z'; c[0]++)
		for (c[1] = 'A'; c[1] <= 'Z'; c[1]++)
			for (c[2] = 'A'; c[2] <= 'Z'; c[2]++)
				n += fd_currency_exponent(c) >= 0;
	assert_int_equal(n, 178 + 18);
}

static void test_country(void **state)
{
	static const char *const good[] = {
		"US", "GB", "FR", "DE", "JP", "CN", "BR", "IN", "AD", "ZW", "AQ", "AX", "BQ", "CW",
		"SX", "SS", "PS", "TW", "EH", "UM", "BV", "HM",
	};
	static const char *const bad[] = {
		"XK", "UK", "EU", "AN", "CS", "YU", "SU", "ZZ", "AA", "QM", "XA", "TP", "DD",
		"us", "Us", "U", "USA", "", "U1",
	};
	char cc[3] = "AA";
	int n = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!fd_country_valid(good[i]))
			fail_msg("%s refused", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (fd_country_valid(bad[i]))
			fail_msg("%s accepted", bad[i]);
	assert_int_equal(fd_country_valid(NULL), 0);
	for (cc[0] = 'A'; cc[0] <= 'Z'; cc[0]++)
		for (cc[1] = 'A'; cc[1] <= 'Z'; cc[1]++)
			n += fd_country_valid(cc);
	assert_int_equal(n, 249);
}

/* ---- IP addresses --------------------------------------------------------------------- */

static void test_ip_valid(void **state)
{
	(void)state;
	IP_OK("192.168.1.1");
	IP_OK("0.0.0.0");
	IP_OK("255.255.255.255");
	IP_OK("8.8.8.8");
	IP_OK("::");
	IP_OK("::1");
	IP_OK("2001:db8::1");
	IP_OK("2001:DB8::1");
	IP_OK("2001:0db8:85a3:0000:0000:8a2e:0370:7334");
	IP_OK("fe80::1");
	IP_OK("::ffff:192.0.2.128");
	IP_OK("64:ff9b::198.51.100.7");
	/* 45 bytes, the longest text form */
	IP_OK("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255");
}

static void test_ip_invalid(void **state)
{
	(void)state;
	IP_BAD("", "empty IP address");
	IP_BAD("256.1.1.1", NOT_IP);
	IP_BAD("1.2.3", NOT_IP);
	IP_BAD("1.2.3.4.5", NOT_IP);
	IP_BAD("10.1", NOT_IP);                 /* inet_aton short form */
	IP_BAD("01.2.3.4", NOT_IP);             /* leading zero (octal elsewhere) */
	IP_BAD("0x0a.0.0.1", NOT_IP);
	IP_BAD("1..2.3", NOT_IP);
	IP_BAD(" 1.2.3.4", NOT_IP);
	IP_BAD("1.2.3.4 ", NOT_IP);
	IP_BAD("abc", NOT_IP);
	IP_BAD("localhost", NOT_IP);
	IP_BAD("2001:db8::1::2", NOT_IP);
	IP_BAD("12345::", NOT_IP);
	IP_BAD("gggg::1", NOT_IP);
	IP_BAD("1:2:3:4:5:6:7:8:9", NOT_IP);
	IP_BAD("[::1]", NOT_IP);
	IP_BAD("fe80::1%eth0", "IPv6 zone id not accepted");
	IP_BAD("fe80::1%25eth0", "IPv6 zone id not accepted");
	IP_BAD("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.2555", "too long for an IP address");
	IP_BAD("0000000000000000000000000000000000000000000000000001.2.3.4",
	       "too long for an IP address");
	/* an embedded NUL is not hidden by the copy */
	assert_string_equal(fd_parse_ip("1.2.3.4\0junk", 12), NOT_IP);
	/* n bytes only */
	assert_null(fd_parse_ip("1.2.3.45", 7));
}

/* ---- coordinates, labels, distances ---------------------------------------------------- */

static void test_coord(void **state)
{
	double v = -1;

	(void)state;
	assert_null(fd_parse_coord("48.8566", 7, 90, &v));
	NEAR(v, 48.8566, 0);
	assert_null(fd_parse_coord("-0.1278", 7, 180, &v));
	NEAR(v, -0.1278, 0);
	assert_null(fd_parse_coord("+45", 3, 90, &v));
	NEAR(v, 45, 0);
	assert_null(fd_parse_coord("90", 2, 90, &v));
	NEAR(v, 90, 0);
	assert_null(fd_parse_coord("-90.0", 5, 90, &v));
	NEAR(v, -90, 0);
	assert_null(fd_parse_coord("180", 3, 180, &v));
	NEAR(v, 180, 0);
	assert_null(fd_parse_coord("1.5e1", 5, 90, &v));
	NEAR(v, 15, 0);
	assert_null(fd_parse_coord(".5", 2, 90, &v));
	NEAR(v, 0.5, 0);
	assert_null(fd_parse_coord("12.5xyz", 4, 90, &v));    /* n bytes only */
	NEAR(v, 12.5, 0);
	assert_null(fd_parse_coord("-.5", 3, 90, &v));
	NEAR(v, -0.5, 0);
	/* more than 15 significant digits (the slow path) and leading zeros beyond 19 digits:
	 * the nearest double, which the compiler's reading of the same literal gives */
	assert_null(fd_parse_coord("12.345678901234567890", 21, 90, &v));
	NEAR(v, 12.345678901234567890, 0);
	assert_null(fd_parse_coord("00000000000000000000012.5", 25, 90, &v));
	NEAR(v, 12.5, 0);
	assert_null(fd_parse_coord("-33.773100000000001", 19, 90, &v));
	NEAR(v, -33.773100000000001, 0);
	/* 15 digits: still the fast path, exact */
	assert_null(fd_parse_coord("-12.3456789012345", 17, 90, &v));
	NEAR(v, -12.3456789012345, 0);

	v = 7;
	assert_string_equal(fd_parse_coord("", 0, 90, &v), "empty coordinate");
	assert_string_equal(fd_parse_coord("90.0000001", 10, 90, &v), "out of range");
	assert_string_equal(fd_parse_coord("-180.5", 6, 180, &v), "out of range");
	assert_string_equal(fd_parse_coord("91", 2, 90, &v), "out of range");
	assert_string_equal(fd_parse_coord("1e999", 5, 90, &v), "out of range");
	assert_string_equal(fd_parse_coord("nan", 3, 90, &v), "not a number");
	assert_string_equal(fd_parse_coord("NaN", 3, 90, &v), "not a number");
	assert_string_equal(fd_parse_coord("inf", 3, 90, &v), "not a number");
	assert_string_equal(fd_parse_coord("-infinity", 9, 90, &v), "not a number");
	assert_string_equal(fd_parse_coord(" 45", 3, 90, &v), "not a number");
	assert_string_equal(fd_parse_coord(".", 1, 90, &v), "not a number");
	assert_string_equal(fd_parse_coord("-", 1, 90, &v), "not a number");
	assert_string_equal(fd_parse_coord("e5", 2, 90, &v), "not a number");
	assert_string_equal(fd_parse_coord("45 ", 3, 90, &v), "trailing characters");
	assert_string_equal(fd_parse_coord("45abc", 5, 90, &v), "trailing characters");
	assert_string_equal(fd_parse_coord("0x10", 4, 90, &v), "trailing characters");
	assert_string_equal(fd_parse_coord("4,5", 3, 90, &v), "trailing characters");
	assert_string_equal(fd_parse_coord("1.2.3", 5, 90, &v), "trailing characters");
	assert_string_equal(fd_parse_coord("1..2", 4, 90, &v), "trailing characters");
	assert_string_equal(fd_parse_coord("..", 2, 90, &v), "not a number");
	assert_string_equal(fd_parse_coord("1e", 2, 90, &v), "trailing characters");
	assert_string_equal(fd_parse_coord("1\0", 2, 90, &v), "trailing characters");
	{
		const char *lng = "1.0000000000000000000000000000000000000000000000000000000000000001";

		assert_string_equal(fd_parse_coord(lng, strlen(lng), 90, &v), "too long for a coordinate");
	}
	NEAR(v, 7, 0);
}

static void test_label(void **state)
{
	static const struct { const char *s; int want; } good[] = {
		{ "1", 1 }, { "0", 0 }, { "true", 1 }, { "TRUE", 1 }, { "True", 1 }, { "false", 0 },
		{ "FALSE", 0 }, { "yes", 1 }, { "Yes", 1 }, { "no", 0 }, { "NO", 0 }, { "fraud", 1 },
		{ "Fraud", 1 }, { "legit", 0 }, { "LEGIT", 0 }, { "", -1 },
	};
	static const char *const bad[] = {
		"2", "-1", "t", "f", "y", "n", "legitimate", "fraudulent", " 1", "1 ", "maybe", "01",
		"yess", "tru",
	};
	int l;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		l = 42;
		if (fd_parse_label(good[i].s, strlen(good[i].s), &l) || l != good[i].want)
			fail_msg("'%s': %d, want %d", good[i].s, l, good[i].want);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *r;

		l = 42;
		r = fd_parse_label(bad[i], strlen(bad[i]), &l);
		assert_non_null(r);
		assert_string_equal(r, "not a label (expected 1/0, true/false, yes/no, fraud/legit)");
		assert_int_equal(l, 42);
	}
	l = 42;
	assert_null(fd_parse_label("yesno", 3, &l));    /* n bytes only */
	assert_int_equal(l, 1);
}

static void test_haversine(void **state)
{
	(void)state;
	/* Paris (48.8566, 2.3522) - London (51.5074, -0.1278): 343.56 km (independent
	 * haversine in Python with the same radius; published great-circle figure ~344 km) */
	NEAR(fd_haversine_km(48.8566, 2.3522, 51.5074, -0.1278), 343.556535, 1e-5);
	NEAR(fd_haversine_km(51.5074, -0.1278, 48.8566, 2.3522), 343.556535, 1e-5);
	/* JFK - LHR: 5540.02 km */
	NEAR(fd_haversine_km(40.6413, -73.7781, 51.4700, -0.4543), 5540.018970, 1e-5);
	/* by hand: a quarter meridian is pi/2 R, half the equator pi R */
	NEAR(fd_haversine_km(0, 0, 90, 0), M_PI / 2 * 6371.0088, 1e-6);
	NEAR(fd_haversine_km(0, 0, 0, 180), M_PI * 6371.0088, 1e-6);
	NEAR(fd_haversine_km(90, 0, -90, 0), M_PI * 6371.0088, 1e-6);
	NEAR(fd_haversine_km(0, 179.5, 0, -179.5), M_PI / 180 * 6371.0088, 1e-6); /* dateline */
	NEAR(fd_haversine_km(48.8566, 2.3522, 48.8566, 2.3522), 0, 0);
	/* one degree of latitude */
	NEAR(fd_haversine_km(10, 20, 11, 20), M_PI / 180 * 6371.0088, 1e-6);
}

/* Durations: values worked by hand (1 d = 24 x 60 x 60 x 1000 ms = 86,400,000 ms). */
static void test_parse_duration(void **state)
{
	int64_t ms = -1;

	(void)state;
	assert_int_equal(FD_MINUTE_MS, 60000);
	assert_int_equal(FD_HOUR_MS, 3600000);
	assert_int_equal(FD_DAY_MS, 86400000);
	assert_int_equal(FD_WEEK_MS, 604800000);
	assert_null(fd_parse_duration("30s", &ms));
	assert_int_equal(ms, 30000);
	assert_null(fd_parse_duration("15m", &ms));
	assert_int_equal(ms, 900000);
	assert_null(fd_parse_duration("24h", &ms));
	assert_int_equal(ms, 86400000);
	assert_null(fd_parse_duration("7d", &ms));
	assert_int_equal(ms, 604800000);
	assert_null(fd_parse_duration("2w", &ms));
	assert_int_equal(ms, 1209600000);
	assert_null(fd_parse_duration("250ms", &ms));
	assert_int_equal(ms, 250);
	assert_null(fd_parse_duration("90", &ms));  /* no unit: seconds */
	assert_int_equal(ms, 90000);
	assert_null(fd_parse_duration("007m", &ms));
	assert_int_equal(ms, 420000);
	/* the longest: 3660 d = 316,224,000,000 ms, in any unit */
	assert_null(fd_parse_duration("3660d", &ms));
	assert_int_equal(ms, 316224000000LL);
	assert_null(fd_parse_duration("316224000000ms", &ms));
	assert_int_equal(ms, 316224000000LL);
	assert_null(fd_parse_duration("87840h", &ms));
	assert_int_equal(ms, 316224000000LL);
	/* errors leave *ms alone */
	ms = 5;
	assert_string_equal(fd_parse_duration("3661d", &ms), "duration out of range (at most 3660 days)");
	assert_string_equal(fd_parse_duration("316224000001ms", &ms), "duration out of range (at most 3660 days)");
	assert_string_equal(fd_parse_duration("523w", &ms), "duration out of range (at most 3660 days)");
	assert_string_equal(fd_parse_duration("99999999999999999999999d", &ms), "duration out of range (at most 3660 days)");
	assert_string_equal(fd_parse_duration("0s", &ms), "duration must be positive");
	assert_string_equal(fd_parse_duration("0", &ms), "duration must be positive");
	assert_string_equal(fd_parse_duration("", &ms), "not a duration (e.g. 90s, 15m, 24h, 7d)");
	assert_string_equal(fd_parse_duration(NULL, &ms), "not a duration (e.g. 90s, 15m, 24h, 7d)");
	assert_string_equal(fd_parse_duration("-1d", &ms), "not a duration (e.g. 90s, 15m, 24h, 7d)");
	assert_string_equal(fd_parse_duration("h", &ms), "not a duration (e.g. 90s, 15m, 24h, 7d)");
	assert_string_equal(fd_parse_duration(" 1d", &ms), "not a duration (e.g. 90s, 15m, 24h, 7d)");
	assert_string_equal(fd_parse_duration("1.5h", &ms), "unknown unit (use ms, s, m, h, d or w)");
	assert_string_equal(fd_parse_duration("5x", &ms), "unknown unit (use ms, s, m, h, d or w)");
	assert_string_equal(fd_parse_duration("1d ", &ms), "unknown unit (use ms, s, m, h, d or w)");
	assert_string_equal(fd_parse_duration("1D", &ms), "unknown unit (use ms, s, m, h, d or w)");
	assert_string_equal(fd_parse_duration("1dd", &ms), "unknown unit (use ms, s, m, h, d or w)");
	assert_int_equal(ms, 5);
}

/* fd_plain_ident (fd_err.h): letters, digits and '_', not starting with a digit, 1 to max. */
static void test_plain_ident(void **state)
{
	(void)state;
	assert_true(fd_plain_ident("rule_hits", 64));
	assert_true(fd_plain_ident("_x", 64));
	assert_true(fd_plain_ident("Risky_Merchants2", 64));
	assert_true(fd_plain_ident("abc", 3));
	assert_false(fd_plain_ident("abcd", 3));
	assert_false(fd_plain_ident("", 64));
	assert_false(fd_plain_ident(NULL, 64));
	assert_false(fd_plain_ident("2fast", 64));
	assert_false(fd_plain_ident("a-b", 64));
	assert_false(fd_plain_ident("a b", 64));
	assert_false(fd_plain_ident("a.b", 64));
	assert_false(fd_plain_ident("t\"x", 64));
	assert_false(fd_plain_ident("caf\xc3\xa9", 64));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_field_names),
		cmocka_unit_test(test_field_lookup),
		cmocka_unit_test(test_txn_clear),
		cmocka_unit_test(test_ts_rfc3339),
		cmocka_unit_test(test_ts_offsets),
		cmocka_unit_test(test_ts_naive),
		cmocka_unit_test(test_ts_fraction),
		cmocka_unit_test(test_ts_leap_years),
		cmocka_unit_test(test_ts_leap_second),
		cmocka_unit_test(test_ts_epoch),
		cmocka_unit_test(test_ts_bounded),
		cmocka_unit_test(test_ts_rejections),
		cmocka_unit_test(test_parse_tz),
		cmocka_unit_test(test_format_ts),
		cmocka_unit_test(test_ts_round_trip),
		cmocka_unit_test(test_civil),
		cmocka_unit_test(test_amount_exponents),
		cmocka_unit_test(test_amount_decimals),
		cmocka_unit_test(test_amount_overflow),
		cmocka_unit_test(test_amount_junk),
		cmocka_unit_test(test_amount_bounded),
		cmocka_unit_test(test_format_amount),
		cmocka_unit_test(test_amount_round_trip),
		cmocka_unit_test(test_currency),
		cmocka_unit_test(test_currency_absent),
		cmocka_unit_test(test_currency_historical),
		cmocka_unit_test(test_currency_count),
		cmocka_unit_test(test_country),
		cmocka_unit_test(test_ip_valid),
		cmocka_unit_test(test_ip_invalid),
		cmocka_unit_test(test_coord),
		cmocka_unit_test(test_label),
		cmocka_unit_test(test_haversine),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_plain_ident),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
