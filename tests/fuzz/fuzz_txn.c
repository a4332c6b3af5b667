/*
 * fuzz_txn.c — libFuzzer target for the field parsers of lib/fd_txn.c.
 *
 *   clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -fno-sanitize-recover=undefined -Ilib -o build/fuzz_txn tests/fuzz/fuzz_txn.c lib/fd_txn.c \
 *     lib/fd_tz.c lib/fd_err.c -lm
 *   mkdir -p build/fuzz_txn.corpus && build/fuzz_txn -max_total_time=60 build/fuzz_txn.corpus
 *
 * Each input goes, as (data, size) and never NUL-terminated, to every parser; beyond memory
 * errors and undefined behaviour it checks properties that must hold whatever the input:
 * what fd_parse_amount accepts formats back to the same value, what fd_parse_ts accepts
 * formats (RFC 3339 UTC) and parses back to the same instant, days and civil dates round
 * trip, and a parser that fails leaves its output alone.  The export parsers too: amounts with
 * separators, decimal commas and rounding (what the strict parser accepts they read the same;
 * what they accept formats back), date formats, and the input as a TZif file (a local time
 * resolved to an instant maps back to it unless it fell in a gap).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fd_txn.h"
#include "fd_tz.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

/* An exact-size heap copy, so that reading one byte past n is caught by ASan. */
static char *dup_exact(const uint8_t *data, size_t size)
{
	char *p = malloc(size ? size : 1);

	CHECK(p);
	if (size)
		memcpy(p, data, size);
	return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = dup_exact(data, size);
	char buf[FD_TS_BUFSZ > FD_AMOUNT_BUFSZ ? FD_TS_BUFSZ : FD_AMOUNT_BUFSZ];
	int64_t ms = 0x5a5a, back, minor;
	double deg;
	int label, off, tz = 0;
	const char *r;

	/* timestamps, with a naive-zone offset taken from the first byte */
	if (size)
		tz = ((int)data[0] - 128) * 8;     /* -1024 .. 1016 minutes, within +-18:00 */
	r = fd_parse_ts(s, size, tz, &ms);
	if (r) {
		CHECK(ms == 0x5a5a);
	} else {
		fd_format_ts(ms, buf);
		CHECK(strlen(buf) < FD_TS_BUFSZ);
		back = 0;
		r = fd_parse_ts(buf, strlen(buf), 0, &back);
		/* an offset can push 1900-01-01 or 9999-12-31 just out of the year range */
		if (r)
			CHECK(ms < -2208988800000 || ms > 253402300799999);
		else
			CHECK(back == ms);
	}

	/* amounts with every exponent in use (and a few beyond) */
	for (int e = 0; e <= 6; e++) {
		minor = 0x5a5a;
		if (fd_parse_amount(s, size, e, &minor)) {
			CHECK(minor == 0x5a5a);
			continue;
		}
		fd_format_amount(minor, e, buf);
		CHECK(strlen(buf) < FD_AMOUNT_BUFSZ);
		back = 0;
		CHECK(fd_parse_amount(buf, strlen(buf), e, &back) == NULL);
		CHECK(back == minor);
	}

	/* amounts as exports write them */
	for (int f = 0; f < 4; f++) {
		int e = (int)(size % 5), rounded = -1;
		int64_t strict = 0x5a5a;

		minor = 0x5a5a;
		r = fd_parse_amount_ex(s, size, e, f, &minor, &rounded);
		if (r) {
			CHECK(minor == 0x5a5a);
			continue;
		}
		CHECK(rounded == 0 || (rounded == 1 && (f & FD_AMT_ROUND)));
		if (f == 0 && fd_parse_amount(s, size, e, &strict) == NULL)
			CHECK(strict == minor);
		fd_format_amount(minor, e, buf);
		back = 0;
		CHECK(fd_parse_amount_ex(buf, strlen(buf), e, 0, &back, NULL) == NULL && back == minor);
	}
	/* date formats */
	{
		static const char *const fmts[] = {"%d.%m.%Y %H:%M", "%d.%m.%Y", "%m/%d/%y %I:%M:%S %p",
						   "%F %T.%f%z", "%d %b %Y", "%s", NULL};
		struct fd_tsopts o = {fmts, NULL, FD_DST_EARLIER};

		ms = 0x5a5a;
		if (fd_parse_ts_opts(s, size, &o, &ms))
			CHECK(ms == 0x5a5a);
		else
			CHECK(ms >= -2209075200000 && ms <= 999999999999999);
	}
	/* the input as a TZif file */
	{
		struct fd_tz *zone = NULL;
		struct fd_err err;

		if (fd_tz_load_tzif(&zone, data, size, "fuzz", &err) == FD_OK) {
			for (int64_t l = -4000000000LL; l < 5000000000LL; l += 987654321) {
				int64_t u = 0;

				if (fd_tz_to_utc(zone, l, FD_DST_REJECT, &u) == NULL)
					CHECK(u + fd_tz_offset_at(zone, u) == l);
				CHECK(fd_tz_to_utc(zone, l, FD_DST_LATER, &u) == NULL);
			}
			fd_tz_free(zone);
		} else
			CHECK(zone == NULL);
	}

	fd_parse_ip(s, size);
	deg = 1234;
	if (fd_parse_coord(s, size, 90, &deg) == NULL)
		CHECK(deg >= -90 && deg <= 90);
	else
		CHECK(deg == 1234);
	if (fd_parse_coord(s, size, 180, &deg) == NULL)
		CHECK(deg >= -180 && deg <= 180);
	label = 42;
	if (fd_parse_label(s, size, &label) == NULL)
		CHECK(label == -1 || label == 0 || label == 1);
	else
		CHECK(label == 42);
	CHECK(fd_field_lookup(s, size) >= -1 && fd_field_lookup(s, size) < FD_NFIELDS);

	/* NUL-terminated inputs: --tz, currency and country codes */
	{
		char z[64];
		size_t n = size < sizeof(z) - 1 ? size : sizeof(z) - 1;

		memcpy(z, data, n);
		z[n] = '\0';
		off = 0x5a5a;
		if (fd_parse_tz(z, &off) == NULL)
			CHECK(off >= -18 * 60 && off <= 18 * 60);
		else
			CHECK(off == 0x5a5a);
		{
			int e = fd_currency_exponent(z);

			CHECK(e == -1 || e == 0 || e == 2 || e == 3 || e == 4);
		}
		CHECK(fd_country_valid(z) == 0 || fd_country_valid(z) == 1);
	}

	/* civil dates from the first 8 bytes, within +-100 million days */
	if (size >= 8) {
		int64_t z, y;
		unsigned m, d;

		memcpy(&z, data, 8);
		z %= 100000000;
		fd_civil_from_days(z, &y, &m, &d);
		CHECK(m >= 1 && m <= 12 && d >= 1 && d <= 31);
		CHECK(fd_days_from_civil(y, m, d) == z);
		fd_format_ts(z * 86400000, buf);
	}
	/* any int64 formats without overflow */
	if (size >= 8) {
		int64_t v;

		memcpy(&v, data + size - 8, 8);
		fd_format_ts(v, buf);
		CHECK(strlen(buf) < FD_TS_BUFSZ);
		fd_format_amount(v, (int)(size % 20), buf);
		CHECK(strlen(buf) < FD_AMOUNT_BUFSZ);
	}
	(void)fd_haversine_km(size % 181 - 90.0, size % 361 - 180.0, 0, 0);

	free(s);
	return 0;
}
