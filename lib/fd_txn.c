/*
 * fd_txn.c — the canonical transaction and the parsers of its fields; see fd_txn.h.
 *
 * The timestamp and amount parsers run once per field per record during ingest (millions of
 * times a second), so they are hand-written single passes over the bytes: no sscanf, no
 * strtol, no copies, no libc time functions (timegm/mktime depend on TZ and are slow).
 * Every reason returned is a static string; callers compare nothing but NULL.
 */
#include "fd_txn.h"

#include "fd_tz.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>
#include "banned.h"

/* ---- fields --------------------------------------------------------------------------- */

const char *const fd_field_name[FD_NFIELDS] = {
	[FD_F_TXN_ID] = "txn_id",
	[FD_F_TS] = "ts",
	[FD_F_AMOUNT] = "amount",
	[FD_F_CURRENCY] = "currency",
	[FD_F_SENDER_ID] = "sender_id",
	[FD_F_RECIPIENT_ID] = "recipient_id",
	[FD_F_MERCHANT_ID] = "merchant_id",
	[FD_F_MERCHANT_CATEGORY] = "merchant_category",
	[FD_F_CHANNEL] = "channel",
	[FD_F_DEVICE_ID] = "device_id",
	[FD_F_IP] = "ip",
	[FD_F_LAT] = "lat",
	[FD_F_LON] = "lon",
	[FD_F_COUNTRY] = "country",
	[FD_F_CITY] = "city",
	[FD_F_LABEL] = "label",
};

int fd_field_lookup(const char *s, size_t n)
{
	int f;

	if (!s)
		return -1;
	for (f = 0; f < FD_NFIELDS; f++)
		if (strlen(fd_field_name[f]) == n && memcmp(fd_field_name[f], s, n) == 0)
			return f;
	return -1;
}

void fd_txn_clear(struct fd_txn *t)
{
	/* A compound literal sets pointers to NULL and doubles to 0.0 whatever their bit
	 * patterns; every member not named is zero. */
	*t = (struct fd_txn){ .label = -1 };
}

/* ---- civil dates ---------------------------------------------------------------------- */

/*
 * Days from civil and back, after Howard Hinnant's "chrono-Compatible Low-Level Date
 * Algorithms".  The year is shifted to start on 1 March, so that the leap day is the last
 * day of the (shifted) year and the month lengths from March on follow the pattern that
 * (153 * mp + 2) / 5 computes: 31 30 31 30 31 31 30 31 30 31 31 (28|29).  The count then
 * splits into 400-year eras of 146097 days each.  719468 is the number of days from
 * 0000-03-01 to 1970-01-01.
 */
int64_t fd_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;                                         /* [0, 399] */
	doy = (153 * (int64_t)(m > 2 ? m - 3 : m + 9) + 2) / 5 + (int64_t)d - 1; /* [0, 365] */
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                 /* [0, 146096] */
	return era * 146097 + doe - 719468;
}

void fd_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;                                             /* [0, 146096] */
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;        /* [0, 399] */
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                      /* [0, 365] */
	mp = (5 * doy + 2) / 153;                                           /* [0, 11] */
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const unsigned char len[13] = { 0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : len[m];
}

/* ---- timestamps ----------------------------------------------------------------------- */

static const char R_TS_EMPTY[] = "empty timestamp";
static const char R_TS_NOT[] = "not a timestamp";
static const char R_TS_DATE[] = "malformed date";
static const char R_TS_YEAR[] = "year out of range";
static const char R_TS_MONTH[] = "month out of range";
static const char R_TS_DAY[] = "day out of range for the month";
static const char R_TS_TIME[] = "malformed time";
static const char R_TS_HOUR[] = "hour out of range";
static const char R_TS_MINUTE[] = "minute out of range";
static const char R_TS_SECOND[] = "second out of range";
static const char R_TS_FRAC_EMPTY[] = "missing fraction digits";
static const char R_TS_FRAC_LONG[] = "fraction longer than 9 digits";
static const char R_TS_OFFSET[] = "bad time zone offset";
static const char R_TS_TRAIL[] = "trailing characters";
static const char R_TS_EPOCH[] = "epoch value has too many digits";
static const char R_TS_EPOCH_SHORT[] = "too few digits for epoch seconds (9 to 11) or milliseconds (12 or 13)";
static const char R_TZ_EMPTY[] = "empty time zone";

static int is_digit(char c)
{
	return (unsigned)(unsigned char)c - '0' < 10u;
}

/* The two digits at p as a number, or -1. */
static int dig2(const char *p)
{
	unsigned a = (unsigned char)p[0] - '0', b = (unsigned char)p[1] - '0';

	if (a > 9 || b > 9)
		return -1;
	return (int)(a * 10 + b);
}

/*
 * An offset that makes up all of s[0..n): "+HH", "+HHMM" or "+HH:MM" (or '-'), at most
 * 18:00 either way.  Minutes east of UTC into *off.
 */
static const char *parse_offset(const char *s, size_t n, int *off)
{
	int h, m = 0;

	if (n < 3 || (s[0] != '+' && s[0] != '-'))
		return R_TS_OFFSET;
	h = dig2(s + 1);
	if (n == 5)
		m = dig2(s + 3);
	else if (n == 6 && s[3] == ':')
		m = dig2(s + 4);
	else if (n != 3)
		return R_TS_OFFSET;
	if (h < 0 || m < 0 || m > 59 || h * 60 + m > 18 * 60)
		return R_TS_OFFSET;
	*off = s[0] == '-' ? -(h * 60 + m) : h * 60 + m;
	return NULL;
}

/*
 * The fraction digits at s[i..n) after a '.': up to 9, the first three as milliseconds.
 * Returns the index past them in *end.
 */
static const char *parse_fraction(const char *s, size_t n, size_t i, size_t *end, int *frac_ms)
{
	size_t j = i;
	int v = 0;

	while (j < n && is_digit(s[j])) {
		if (j - i < 3)
			v = v * 10 + (s[j] - '0');
		j++;
	}
	if (j == i)
		return R_TS_FRAC_EMPTY;
	if (j - i > 9)
		return R_TS_FRAC_LONG;
	for (size_t k = j - i; k < 3; k++)
		v *= 10;
	*frac_ms = v;
	*end = j;
	return NULL;
}

/* s[0..k) are the k >= 1 leading digits of an epoch value. */
static const char *parse_epoch(const char *s, size_t n, size_t k, int64_t *ms)
{
	int64_t v = 0;
	int frac = 0;
	size_t i;

	if (k > 13)
		return R_TS_EPOCH;
	/* Fewer than 9 digits would be a 1970s instant, and is far more likely a date such as
	 * 20261124 or a year: refuse rather than guess. */
	if (k < 9)
		return R_TS_EPOCH_SHORT;
	for (i = 0; i < k; i++)
		v = v * 10 + (s[i] - '0');
	if (k < n) {
		const char *r;

		if (s[k] != '.')
			return R_TS_TRAIL;
		if ((r = parse_fraction(s, n, k + 1, &i, &frac)))
			return r;
		if (i < n)
			return R_TS_TRAIL;
	}
	/* Seconds have at most 11 digits (up to the year 5138); 12 or 13 digits can only be
	 * milliseconds of this era (2001-09-09 onwards), and their fraction is below a ms. */
	*ms = k <= 11 ? v * 1000 + frac : v;
	return NULL;
}

/* fd_parse_ts, with a naive time read in zone tz when tz is not NULL (else at tz_offset_min). */
static const char *parse_ts(const char *s, size_t n, int tz_offset_min, const struct fd_tz *tz,
			    int dst_policy, int64_t *ms)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0, off = tz_offset_min, zoned = 0;
	size_t k = 0, i;
	char sep;
	int64_t t;

	if (n == 0)
		return R_TS_EMPTY;
	while (k < n && k < 14 && is_digit(s[k]))
		k++;
	if (k != 4 || n == 4 || (s[4] != '-' && s[4] != '/')) {
		if (k == 0)
			return R_TS_NOT;
		while (k < n && is_digit(s[k]))   /* count them all for the message */
			k++;
		return parse_epoch(s, n, k, ms);
	}

	/* YYYY-MM-DD or YYYY/MM/DD */
	sep = s[4];
	if (n < 10 || s[7] != sep)
		return R_TS_DATE;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	mo = dig2(s + 5);
	d = dig2(s + 8);
	if (mo < 0 || d < 0)
		return R_TS_DATE;
	if (y < 1900)
		return R_TS_YEAR;
	if (mo < 1 || mo > 12)
		return R_TS_MONTH;
	if (d < 1 || d > days_in_month(y, mo))
		return R_TS_DAY;
	i = 10;

	if (i < n) {
		/* [T ]HH:MM[:SS[.fraction]] */
		if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
			return R_TS_TRAIL;
		if (n - i < 6 || s[i + 3] != ':')
			return R_TS_TIME;
		h = dig2(s + i + 1);
		mi = dig2(s + i + 4);
		if (h < 0 || mi < 0)
			return R_TS_TIME;
		i += 6;
		if (i < n && s[i] == ':') {
			if (n - i < 3 || (sec = dig2(s + i + 1)) < 0)
				return R_TS_TIME;
			i += 3;
			if (i < n && s[i] == '.') {
				const char *r = parse_fraction(s, n, i + 1, &i, &frac);

				if (r)
					return r;
			}
		} else if (i < n && s[i] == '.') {
			return R_TS_TIME;       /* a fraction needs seconds */
		}
		if (h > 23)
			return R_TS_HOUR;
		if (mi > 59)
			return R_TS_MINUTE;
		if (sec > 60)
			return R_TS_SECOND;

		/* zone: nothing (naive), Z, or an offset */
		if (i < n) {
			if (s[i] == 'Z' || s[i] == 'z') {
				if (i + 1 != n)
					return R_TS_TRAIL;
				off = 0;
				zoned = 1;
			} else if (s[i] == '+' || s[i] == '-') {
				const char *r = parse_offset(s + i, n - i, &off);

				if (r)
					return r;
				zoned = 1;
			} else {
				return R_TS_TRAIL;
			}
		}
	}

	/* A leap second (sec 60) simply adds up to the next minute's 0. */
	t = fd_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec;
	if (!zoned && tz) {
		const char *r = fd_tz_to_utc(tz, t, dst_policy, &t);

		if (r)
			return r;
	} else
		t -= (int64_t)off * 60;
	*ms = t * 1000 + frac;
	return NULL;
}

const char *fd_parse_duration(const char *s, int64_t *ms)
{
	static const struct {
		const char *name;
		int64_t ms;
	} units[] = {
		{"", FD_SECOND_MS}, {"ms", 1}, {"s", FD_SECOND_MS}, {"m", FD_MINUTE_MS},
		{"h", FD_HOUR_MS},  {"d", FD_DAY_MS}, {"w", FD_WEEK_MS},
	};
	int64_t v = 0, unit = 0;
	size_t i;

	if (!s || *s < '0' || *s > '9')
		return "not a duration (e.g. 90s, 15m, 24h, 7d)";
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > FD_DURATION_MAX_MS)  /* already too long in any unit: no overflow below */
			break;
		v = v * 10 + (*s - '0');
	}
	while (*s >= '0' && *s <= '9')
		s++;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(s, units[i].name) == 0)
			unit = units[i].ms;
	if (!unit)
		return "unknown unit (use ms, s, m, h, d or w)";
	if (v == 0)
		return "duration must be positive";
	if (v > FD_DURATION_MAX_MS / unit)
		return "duration out of range (at most 3660 days)";
	*ms = v * unit;
	return NULL;
}

const char *fd_parse_ts(const char *s, size_t n, int tz_offset_min, int64_t *ms)
{
	return parse_ts(s, n, tz_offset_min, NULL, 0, ms);
}

const char *fd_parse_tz(const char *s, int *offset_min)
{
	size_t n;

	if (!s || !*s)
		return R_TZ_EMPTY;
	n = strlen(s);
	if ((n == 1 && (s[0] == 'Z' || s[0] == 'z')) || (n == 3 && strncasecmp(s, "UTC", 3) == 0)) {
		*offset_min = 0;
		return NULL;
	}
	return parse_offset(s, n, offset_min);
}

/* Write v (0 <= v < 10^w) as exactly w digits at p. */
static char *put_digits(char *p, unsigned v, int w)
{
	for (int i = w - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + w;
}

char *fd_format_ts(int64_t ms, char *buf)
{
	int64_t days = ms / 86400000, rem = ms % 86400000, y;
	unsigned m, d, r;
	char *p = buf;

	if (rem < 0) {
		rem += 86400000;
		days--;
	}
	fd_civil_from_days(days, &y, &m, &d);
	if (y >= 0 && y <= 9999) {
		p = put_digits(p, (unsigned)y, 4);
	} else {
		/* Only reachable from ms far outside any valid input (|ms| > 2.5e11 s); keep it
		 * unambiguous rather than pretty.  |y| < 3e8 here, so it fits 9 digits. */
		uint64_t u = y < 0 ? (uint64_t)0 - (uint64_t)y : (uint64_t)y;
		int w = 4;

		if (y < 0)
			*p++ = '-';
		for (uint64_t t = u / 10000; t; t /= 10)
			w++;
		p = put_digits(p, (unsigned)u, w);
	}
	r = (unsigned)rem;
	*p++ = '-';
	p = put_digits(p, m, 2);
	*p++ = '-';
	p = put_digits(p, d, 2);
	*p++ = 'T';
	p = put_digits(p, r / 3600000, 2);
	*p++ = ':';
	p = put_digits(p, r / 60000 % 60, 2);
	*p++ = ':';
	p = put_digits(p, r / 1000 % 60, 2);
	*p++ = '.';
	p = put_digits(p, r % 1000, 3);
	*p++ = 'Z';
	*p = '\0';
	return buf;
}

/* ---- date formats --------------------------------------------------------------------- */

static const char R_FMT_NOMATCH[] = "does not match the date format";
static const char R_FMT_NONE[] = "matches none of the date formats";

static const char *const month_abbr[12] = {"jan", "feb", "mar", "apr", "may", "jun",
					   "jul", "aug", "sep", "oct", "nov", "dec"};

/* Up to max digits at s[*i..n), at least min; the value, or -1. */
static int take_digits(const char *s, size_t n, size_t *i, int min, int max)
{
	int v = 0, k = 0;

	while (k < max && *i < n && is_digit(s[*i])) {
		v = v * 10 + (s[*i] - '0');
		(*i)++;
		k++;
	}
	return k >= min ? v : -1;
}

struct tsfields {
	int y, mo, d, h, mi, sec, frac, h12, pm, zoned, off, epoch;
	int64_t epoch_s;
};

/* Match the whole of s[0..n) against fmt. */
static const char *fmt_match(const char *fmt, const char *s, size_t n, struct tsfields *f)
{
	size_t i = 0;
	const char *p;

	for (p = fmt; *p; p++) {
		if (*p == ' ') {
			if (i >= n || s[i] != ' ')
				return R_FMT_NOMATCH;
			while (i < n && s[i] == ' ')
				i++;
			continue;
		}
		if (*p != '%') {
			if (i >= n || s[i] != *p)
				return R_FMT_NOMATCH;
			i++;
			continue;
		}
		switch (*++p) {
		case 'Y': f->y = take_digits(s, n, &i, 4, 4); if (f->y < 0) return R_TS_DATE; break;
		case 'y':
			f->y = take_digits(s, n, &i, 2, 2);
			if (f->y < 0)
				return R_TS_DATE;
			f->y += f->y < 69 ? 2000 : 1900;
			break;
		case 'm': f->mo = take_digits(s, n, &i, 1, 2); if (f->mo < 0) return R_TS_DATE; break;
		case 'd': case 'e':
			f->d = take_digits(s, n, &i, 1, 2);
			if (f->d < 0)
				return R_TS_DATE;
			break;
		case 'H': f->h = take_digits(s, n, &i, 1, 2); if (f->h < 0) return R_TS_TIME; break;
		case 'I': f->h12 = take_digits(s, n, &i, 1, 2); if (f->h12 < 0) return R_TS_TIME; break;
		case 'M': f->mi = take_digits(s, n, &i, 1, 2); if (f->mi < 0) return R_TS_TIME; break;
		case 'S': f->sec = take_digits(s, n, &i, 1, 2); if (f->sec < 0) return R_TS_TIME; break;
		case 'T':
			if ((f->h = take_digits(s, n, &i, 1, 2)) < 0 || i >= n || s[i++] != ':' ||
			    (f->mi = take_digits(s, n, &i, 1, 2)) < 0 || i >= n || s[i++] != ':' ||
			    (f->sec = take_digits(s, n, &i, 1, 2)) < 0)
				return R_TS_TIME;
			break;
		case 'F':
			if ((f->y = take_digits(s, n, &i, 4, 4)) < 0 || i >= n || s[i++] != '-' ||
			    (f->mo = take_digits(s, n, &i, 1, 2)) < 0 || i >= n || s[i++] != '-' ||
			    (f->d = take_digits(s, n, &i, 1, 2)) < 0)
				return R_TS_DATE;
			break;
		case 'f': {
			size_t e;
			const char *r = parse_fraction(s, n, i, &e, &f->frac);

			if (r)
				return r;
			i = e;
			break;
		}
		case 'b': {
			int k;

			if (n - i < 3)
				return R_TS_DATE;
			for (k = 0; k < 12; k++)
				if (strncasecmp(s + i, month_abbr[k], 3) == 0)
					break;
			if (k == 12)
				return R_TS_MONTH;
			f->mo = k + 1;
			i += 3;
			break;
		}
		case 'p':
			if (n - i < 2 || (s[i + 1] != 'M' && s[i + 1] != 'm'))
				return R_TS_TIME;
			if (s[i] == 'A' || s[i] == 'a')
				f->pm = 0;
			else if (s[i] == 'P' || s[i] == 'p')
				f->pm = 1;
			else
				return R_TS_TIME;
			i += 2;
			break;
		case 'z': {
			size_t j = i;
			const char *r;

			if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
				f->off = 0;
				i++;
			} else {
				/* +HH, +HHMM or +HH:MM: as long as the characters fit that shape */
				if (j < n && (s[j] == '+' || s[j] == '-'))
					j++;
				while (j < n && j - i < 6 && (is_digit(s[j]) || s[j] == ':'))
					j++;
				if ((r = parse_offset(s + i, j - i, &f->off)))
					return r;
				i = j;
			}
			f->zoned = 1;
			break;
		}
		case 's': {
			size_t st = i;
			int64_t v = 0;

			while (i < n && is_digit(s[i]) && i - st < 12)
				v = v * 10 + (s[i++] - '0');
			if (i == st)
				return R_TS_NOT;
			f->epoch = 1;
			f->epoch_s = v;
			break;
		}
		case '%':
			if (i >= n || s[i] != '%')
				return R_FMT_NOMATCH;
			i++;
			break;
		default:
			return R_FMT_NOMATCH;   /* fd_datefmt_check refuses these up front */
		}
	}
	return i == n ? NULL : R_TS_TRAIL;
}

const char *fd_datefmt_check(const char *fmt)
{
	int y = 0, m = 0, d = 0, i12 = 0, p12 = 0, ep = 0;
	const char *p;

	if (!fmt || !*fmt)
		return "empty date format";
	for (p = fmt; *p; p++) {
		if (*p != '%')
			continue;
		switch (*++p) {
		case 'Y': case 'y': y = 1; break;
		case 'm': case 'b': m = 1; break;
		case 'd': case 'e': d = 1; break;
		case 'F': y = m = d = 1; break;
		case 'I': i12 = 1; break;
		case 'p': p12 = 1; break;
		case 's': ep = 1; break;
		case 'H': case 'M': case 'S': case 'T': case 'f': case 'z': case '%': break;
		case '\0': return "a '%' at the end";
		default: return "unknown directive (use %Y %y %m %d %e %b %H %I %p %M %S %f %z %T %F %s %%)";
		}
	}
	if (ep)
		return y || m || d ? "%s (epoch seconds) cannot be combined with date fields" : NULL;
	if (!y)
		return "no year (%Y or %y)";
	if (!m)
		return "no month (%m or %b)";
	if (!d)
		return "no day (%d)";
	if (i12 != p12)
		return "%I (12-hour clock) and %p (AM/PM) go together";
	return NULL;
}

static const char *ts_from_fields(struct tsfields *f, const struct fd_tsopts *o, int64_t *ms)
{
	int64_t t;

	if (f->epoch) {
		*ms = f->epoch_s * 1000 + f->frac;
		return NULL;
	}
	if (f->pm >= 0) {
		if (f->h12 < 1 || f->h12 > 12)
			return R_TS_HOUR;
		f->h = f->h12 % 12 + (f->pm ? 12 : 0);
	}
	if (f->y < 1900)
		return R_TS_YEAR;
	if (f->mo < 1 || f->mo > 12)
		return R_TS_MONTH;
	if (f->d < 1 || f->d > days_in_month(f->y, f->mo))
		return R_TS_DAY;
	if (f->h > 23)
		return R_TS_HOUR;
	if (f->mi > 59)
		return R_TS_MINUTE;
	if (f->sec > 60)
		return R_TS_SECOND;
	t = fd_days_from_civil(f->y, (unsigned)f->mo, (unsigned)f->d) * 86400 + f->h * 3600 +
	    f->mi * 60 + f->sec;
	if (f->zoned)
		t -= (int64_t)f->off * 60;
	else if (o->tz) {
		const char *r = fd_tz_to_utc(o->tz, t, o->dst_policy, &t);

		if (r)
			return r;
	}
	*ms = t * 1000 + f->frac;
	return NULL;
}

const char *fd_parse_ts_opts(const char *s, size_t n, const struct fd_tsopts *o, int64_t *ms)
{
	const char *first = NULL, *valid = NULL;
	size_t k;

	if (!o || !o->formats || !o->formats[0])
		return parse_ts(s, n, 0, o ? o->tz : NULL, o ? o->dst_policy : 0, ms);
	if (n == 0)
		return R_TS_EMPTY;
	for (k = 0; o->formats[k]; k++) {
		struct tsfields f = {.y = 0, .mo = 0, .d = 0, .pm = -1};
		const char *r = fmt_match(o->formats[k], s, n, &f);

		if (!r) {
			/* the value has this format's shape: what is wrong with it is the answer */
			if (!(r = ts_from_fields(&f, o, ms)))
				return NULL;
			if (!valid)
				valid = r;
		}
		if (!first)
			first = r;
	}
	return valid ? valid : k == 1 ? first : R_FMT_NONE;
}

/* ---- amounts -------------------------------------------------------------------------- */

static const char R_AMT_EMPTY[] = "empty amount";
static const char R_AMT_NOT[] = "not a number";
static const char R_AMT_COMMA[] = "comma not accepted (no thousands separators or decimal commas)";
static const char R_AMT_EXPNOT[] = "exponent notation not accepted";
static const char R_AMT_TRAIL[] = "trailing characters";
static const char R_AMT_DECIMALS[] = "too many decimals for the currency";
static const char R_AMT_RANGE[] = "amount out of range";
static const char R_AMT_BADEXP[] = "bad currency exponent";

const char *fd_parse_amount(const char *s, size_t n, int exponent, int64_t *minor)
{
	const uint64_t lim = INT64_MAX;   /* both signs: -INT64_MAX..INT64_MAX */
	uint64_t v = 0;
	size_t i = 0;
	int neg = 0, ndig = 0, nfrac = 0, overflow = 0, lost = 0;

	if (exponent < 0 || exponent > 18)
		return R_AMT_BADEXP;
	if (n == 0)
		return R_AMT_EMPTY;
	if (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-';
		i = 1;
	}
	for (; i < n && is_digit(s[i]); i++, ndig++) {
		unsigned dg = (unsigned)(s[i] - '0');

		if (v > (lim - dg) / 10)
			overflow = 1;
		else
			v = v * 10 + dg;
	}
	if (i < n && s[i] == '.') {
		for (i++; i < n && is_digit(s[i]); i++, ndig++) {
			unsigned dg = (unsigned)(s[i] - '0');

			if (nfrac < exponent) {
				nfrac++;
				if (v > (lim - dg) / 10)
					overflow = 1;
				else
					v = v * 10 + dg;
			} else if (dg) {
				lost = 1;   /* a non-zero digit below the minor unit */
			}
		}
	}
	if (ndig == 0)
		return R_AMT_NOT;
	if (i < n) {
		if (s[i] == ',')
			return R_AMT_COMMA;
		if (s[i] == 'e' || s[i] == 'E')
			return R_AMT_EXPNOT;
		return R_AMT_TRAIL;
	}
	if (lost)
		return R_AMT_DECIMALS;
	for (; nfrac < exponent; nfrac++) {
		if (v > lim / 10)
			overflow = 1;
		v *= 10;
	}
	if (overflow)
		return R_AMT_RANGE;
	*minor = neg ? -(int64_t)v : (int64_t)v;
	return NULL;
}

static const char R_AMT_AMBIG_C[] = "ambiguous separator: one ',' before three digits could be a thousands separator or a decimal comma (write 1,234.00, or give --decimal-comma)";
static const char R_AMT_AMBIG_P[] = "ambiguous separator: one '.' before three digits could be a decimal point or a thousands separator in decimal-comma mode (write 1.234,00)";
static const char R_AMT_GROUP[] = "misplaced thousands separator";
static const char R_AMT_DCOMMA[] = "decimal comma not expected (give --decimal-comma)";
static const char R_AMT_DPOINT[] = "decimal point not expected in decimal-comma mode";
static const char R_AMT_DECIMALS_ROUND[] = "too many decimals for the currency: --round-amounts rounds them";

/* The length of a thousands separator at s[i..n) other than the decimal mark dm, or 0. */
static size_t group_sep(const char *s, size_t n, size_t i, char dm)
{
	unsigned char c = (unsigned char)s[i];

	if ((c == ',' || c == '.') && c != (unsigned char)dm)
		return 1;
	if (c == ' ' || c == '\'')
		return 1;
	if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] == 0xa0)
		return 2;   /* U+00A0 no-break space */
	if (c == 0xe2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 && (unsigned char)s[i + 2] == 0xaf)
		return 3;   /* U+202F narrow no-break space */
	return 0;
}

const char *fd_parse_amount_ex(const char *s, size_t n, int exponent, int flags, int64_t *minor,
			       int *rounded)
{
	const uint64_t lim = INT64_MAX;
	char dm = flags & FD_AMT_DECIMAL_COMMA ? ',' : '.';
	char other = dm == ',' ? '.' : ',';
	size_t i = 0, end = n, seplen = 0, nsep = 0, group = 0, lastsep_digits = 0;
	char sepc = 0;
	uint64_t v = 0;
	int neg = 0, nint = 0, nfrac = 0, overflow = 0, up = 0, has_dm = 0, odd;
	unsigned first_extra = 0;
	int extra_nonzero = 0, nextra = 0;

	if (rounded)
		*rounded = 0;
	if (exponent < 0 || exponent > 18)
		return R_AMT_BADEXP;
	if (n == 0)
		return R_AMT_EMPTY;
	if (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-';
		i = 1;
	} else if (n > 1 && (s[n - 1] == '-' || s[n - 1] == '+')) {
		neg = s[n - 1] == '-';   /* "1.234,56-": a trailing sign, as statements write debits */
		end = n - 1;
	}
	/* the integer part: digits in groups */
	for (; i < end; i++) {
		size_t k;

		if (is_digit(s[i])) {
			unsigned dg = (unsigned)(s[i] - '0');

			if (v > (lim - dg) / 10)
				overflow = 1;
			else
				v = v * 10 + dg;
			nint++;
			group++;
			continue;
		}
		if (s[i] == dm)
			break;
		if (!(k = group_sep(s, end, i, dm)))
			break;
		if (i + k >= end || !is_digit(s[i + k]))
			return R_AMT_TRAIL;   /* "12 EUR", "12 ": not a separator */
		/* a separator: the group before it must be complete */
		if (group == 0 || (nsep == 0 && group > 3) || (nsep > 0 && group != 3))
			return s[i] == other && nsep == 0 && !(flags & FD_AMT_DECIMAL_COMMA) ? R_AMT_DCOMMA
			       : s[i] == other && nsep == 0 ? R_AMT_DPOINT : R_AMT_GROUP;
		if (nsep && (k != seplen || s[i] != sepc))
			return R_AMT_GROUP;
		sepc = s[i];
		seplen = k;
		nsep++;
		group = 0;
		i += k - 1;
	}
	lastsep_digits = group;
	if (nsep && group != 3) {
		if (nsep == 1 && sepc == other)
			return flags & FD_AMT_DECIMAL_COMMA ? R_AMT_DPOINT : R_AMT_DCOMMA;
		return R_AMT_GROUP;
	}
	if (i < end && s[i] == dm) {
		has_dm = 1;
		for (i++; i < end && is_digit(s[i]); i++) {
			unsigned dg = (unsigned)(s[i] - '0');

			if (nfrac < exponent) {
				nfrac++;
				if (v > (lim - dg) / 10)
					overflow = 1;
				else
					v = v * 10 + dg;
			} else {
				if (nextra++ == 0)
					first_extra = dg;
				else if (dg)
					extra_nonzero = 1;
			}
		}
		if (nfrac == 0 && nextra == 0 && nint == 0)
			return R_AMT_NOT;
	}
	if (nint == 0 && !has_dm)
		return R_AMT_NOT;
	if (i < end) {
		if (s[i] == 'e' || s[i] == 'E')
			return R_AMT_EXPNOT;
		if (s[i] == other)
			return flags & FD_AMT_DECIMAL_COMMA ? R_AMT_DPOINT : R_AMT_DCOMMA;
		return R_AMT_TRAIL;
	}
	if (!has_dm && nsep == 1 && sepc == other && lastsep_digits == 3)
		return flags & FD_AMT_DECIMAL_COMMA ? R_AMT_AMBIG_P : R_AMT_AMBIG_C;
	for (; nfrac < exponent; nfrac++) {
		if (v > lim / 10)
			overflow = 1;
		v *= 10;
	}
	if (nextra && (first_extra || extra_nonzero)) {
		if (!(flags & FD_AMT_ROUND))
			return R_AMT_DECIMALS_ROUND;
		/* half to even on the digits below the minor unit */
		odd = (int)(v & 1);
		up = first_extra > 5 || (first_extra == 5 && (extra_nonzero || odd));
		if (up) {
			if (v >= lim)
				overflow = 1;
			else
				v++;
		}
		if (rounded)
			*rounded = 1;
	}
	if (overflow)
		return R_AMT_RANGE;
	*minor = neg ? -(int64_t)v : (int64_t)v;
	return NULL;
}

char *fd_format_amount(int64_t minor, int exponent, char *buf)
{
	char tmp[24];
	uint64_t u = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
	int k = 0, o = 0;

	if (exponent < 0)
		exponent = 0;
	if (exponent > 18)
		exponent = 18;
	do {
		tmp[k++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	while (k <= exponent)   /* at least one integer digit */
		tmp[k++] = '0';
	if (minor < 0)
		buf[o++] = '-';
	while (k > exponent)
		buf[o++] = tmp[--k];
	if (exponent) {
		buf[o++] = '.';
		while (k)
			buf[o++] = tmp[--k];
	}
	buf[o] = '\0';
	return buf;
}

/* ---- currencies ----------------------------------------------------------------------- */

/*
 * ISO 4217 list one (Table A.1), as published by the maintenance agency (SIX) on
 * 2026-01-01: currencies and funds codes with their minor units, sorted for binary search.
 * Withdrawn codes (HRK 2023, SLL, CUC, ZWL 2024, ANG 2025, BGN 2026, ...) are absent.
 * N.A. marks the codes whose minor unit ISO lists as "N.A." (precious metals, bond-market
 * units, SDR, SUCRE, ADB unit, testing and no-currency): they are valid codes without a
 * subdivision, taken as exponent 0 (whole units).  Cross-checked during development against
 * Debian iso-codes 4.15 (which predates XAD, XCG and ZWG and still lists the withdrawn
 * ANG BGN CUC HRK SLL ZWL); the file is not read at run time.
 */
#define NA 0
static const struct currency {
	char code[4];
	signed char exponent;
} currencies[] = {
	/* active codes (ISO 4217 list of 2026-01-01) and, because historical exports still
	 * carry them, the recently withdrawn ones (ANG BGN BYR CUC CYP EEK HRK LTL LVL MRO MTL
	 * SIT SKK SLL STD VEF ZMK ZWL) with their last minor units */
	{ "AED", 2 }, { "AFN", 2 }, { "ALL", 2 }, { "AMD", 2 }, { "ANG", 2 }, { "AOA", 2 },
	{ "ARS", 2 }, { "AUD", 2 }, { "AWG", 2 }, { "AZN", 2 },
	{ "BAM", 2 }, { "BBD", 2 }, { "BDT", 2 }, { "BGN", 2 }, { "BHD", 3 }, { "BIF", 0 },
	{ "BMD", 2 }, { "BND", 2 }, { "BOB", 2 }, { "BOV", 2 }, { "BRL", 2 }, { "BSD", 2 },
	{ "BTN", 2 }, { "BWP", 2 }, { "BYN", 2 }, { "BYR", 0 }, { "BZD", 2 },
	{ "CAD", 2 }, { "CDF", 2 }, { "CHE", 2 }, { "CHF", 2 }, { "CHW", 2 }, { "CLF", 4 },
	{ "CLP", 0 }, { "CNY", 2 }, { "COP", 2 }, { "COU", 2 }, { "CRC", 2 }, { "CUC", 2 },
	{ "CUP", 2 }, { "CVE", 2 }, { "CYP", 2 }, { "CZK", 2 },
	{ "DJF", 0 }, { "DKK", 2 }, { "DOP", 2 }, { "DZD", 2 },
	{ "EEK", 2 }, { "EGP", 2 }, { "ERN", 2 }, { "ETB", 2 }, { "EUR", 2 },
	{ "FJD", 2 }, { "FKP", 2 },
	{ "GBP", 2 }, { "GEL", 2 }, { "GHS", 2 }, { "GIP", 2 }, { "GMD", 2 }, { "GNF", 0 },
	{ "GTQ", 2 }, { "GYD", 2 },
	{ "HKD", 2 }, { "HNL", 2 }, { "HRK", 2 }, { "HTG", 2 }, { "HUF", 2 },
	{ "IDR", 2 }, { "ILS", 2 }, { "INR", 2 }, { "IQD", 3 }, { "IRR", 2 }, { "ISK", 0 },
	{ "JMD", 2 }, { "JOD", 3 }, { "JPY", 0 },
	{ "KES", 2 }, { "KGS", 2 }, { "KHR", 2 }, { "KMF", 0 }, { "KPW", 2 }, { "KRW", 0 },
	{ "KWD", 3 }, { "KYD", 2 }, { "KZT", 2 },
	{ "LAK", 2 }, { "LBP", 2 }, { "LKR", 2 }, { "LRD", 2 }, { "LSL", 2 }, { "LTL", 2 },
	{ "LVL", 2 }, { "LYD", 3 },
	{ "MAD", 2 }, { "MDL", 2 }, { "MGA", 2 }, { "MKD", 2 }, { "MMK", 2 }, { "MNT", 2 },
	{ "MOP", 2 }, { "MRO", 2 }, { "MRU", 2 }, { "MTL", 2 }, { "MUR", 2 }, { "MVR", 2 },
	{ "MWK", 2 }, { "MXN", 2 }, { "MXV", 2 }, { "MYR", 2 }, { "MZN", 2 },
	{ "NAD", 2 }, { "NGN", 2 }, { "NIO", 2 }, { "NOK", 2 }, { "NPR", 2 }, { "NZD", 2 },
	{ "OMR", 3 },
	{ "PAB", 2 }, { "PEN", 2 }, { "PGK", 2 }, { "PHP", 2 }, { "PKR", 2 }, { "PLN", 2 },
	{ "PYG", 0 },
	{ "QAR", 2 },
	{ "RON", 2 }, { "RSD", 2 }, { "RUB", 2 }, { "RWF", 0 },
	{ "SAR", 2 }, { "SBD", 2 }, { "SCR", 2 }, { "SDG", 2 }, { "SEK", 2 }, { "SGD", 2 },
	{ "SHP", 2 }, { "SIT", 2 }, { "SKK", 2 }, { "SLE", 2 }, { "SLL", 2 }, { "SOS", 2 },
	{ "SRD", 2 }, { "SSP", 2 }, { "STD", 2 }, { "STN", 2 }, { "SVC", 2 }, { "SYP", 2 },
	{ "SZL", 2 },
	{ "THB", 2 }, { "TJS", 2 }, { "TMT", 2 }, { "TND", 3 }, { "TOP", 2 }, { "TRY", 2 },
	{ "TTD", 2 }, { "TWD", 2 }, { "TZS", 2 },
	{ "UAH", 2 }, { "UGX", 0 }, { "USD", 2 }, { "USN", 2 }, { "UYI", 0 }, { "UYU", 2 },
	{ "UYW", 4 }, { "UZS", 2 },
	{ "VED", 2 }, { "VEF", 2 }, { "VES", 2 }, { "VND", 0 }, { "VUV", 0 },
	{ "WST", 2 },
	{ "XAD", 2 }, { "XAF", 0 }, { "XAG", NA }, { "XAU", NA }, { "XBA", NA }, { "XBB", NA },
	{ "XBC", NA }, { "XBD", NA }, { "XCD", 2 }, { "XCG", 2 }, { "XDR", NA }, { "XOF", 0 },
	{ "XPD", NA }, { "XPF", 0 }, { "XPT", NA }, { "XSU", NA }, { "XTS", NA }, { "XUA", NA },
	{ "XXX", NA },
	{ "YER", 2 },
	{ "ZAR", 2 }, { "ZMK", 2 }, { "ZMW", 2 }, { "ZWG", 2 }, { "ZWL", 2 },
};
#undef NA

static int upper3(const char *c, int len)
{
	for (int i = 0; i < len; i++)
		if ((unsigned)(unsigned char)c[i] - 'A' >= 26u)
			return 0;
	return c[len] == '\0';
}

/* memcmp's order over n bytes, inline: the code look-ups below run for every record, and a
 * call to memcmp for each of their 8 steps cost fd-score some 3% of its time. */
static inline int code_cmp(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a[i] != b[i])
			return (unsigned char)a[i] < (unsigned char)b[i] ? -1 : 1;
	return 0;
}

int fd_currency_exponent(const char *code3)
{
	size_t lo = 0, hi = sizeof(currencies) / sizeof(currencies[0]);

	if (!code3 || !upper3(code3, 3))
		return -1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = code_cmp(code3, currencies[mid].code, 3);

		if (c == 0)
			return currencies[mid].exponent;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

/* ---- countries ------------------------------------------------------------------------ */

/*
 * The 249 officially assigned ISO 3166-1 alpha-2 codes, sorted.  User-assigned codes (AA,
 * QM-QZ, XA-XZ, ZZ, hence XK for Kosovo), exceptionally reserved (UK, EU, ...) and
 * transitionally reserved ones (AN, CS, ...) are not assigned and are refused.
 * Cross-checked during development against Debian iso-codes (iso_3166-1.json).
 */
static const char countries[][2] = {
	{'A','D'}, {'A','E'}, {'A','F'}, {'A','G'}, {'A','I'}, {'A','L'}, {'A','M'}, {'A','O'},
	{'A','Q'}, {'A','R'}, {'A','S'}, {'A','T'}, {'A','U'}, {'A','W'}, {'A','X'}, {'A','Z'},
	{'B','A'}, {'B','B'}, {'B','D'}, {'B','E'}, {'B','F'}, {'B','G'}, {'B','H'}, {'B','I'},
	{'B','J'}, {'B','L'}, {'B','M'}, {'B','N'}, {'B','O'}, {'B','Q'}, {'B','R'}, {'B','S'},
	{'B','T'}, {'B','V'}, {'B','W'}, {'B','Y'}, {'B','Z'},
	{'C','A'}, {'C','C'}, {'C','D'}, {'C','F'}, {'C','G'}, {'C','H'}, {'C','I'}, {'C','K'},
	{'C','L'}, {'C','M'}, {'C','N'}, {'C','O'}, {'C','R'}, {'C','U'}, {'C','V'}, {'C','W'},
	{'C','X'}, {'C','Y'}, {'C','Z'},
	{'D','E'}, {'D','J'}, {'D','K'}, {'D','M'}, {'D','O'}, {'D','Z'},
	{'E','C'}, {'E','E'}, {'E','G'}, {'E','H'}, {'E','R'}, {'E','S'}, {'E','T'},
	{'F','I'}, {'F','J'}, {'F','K'}, {'F','M'}, {'F','O'}, {'F','R'},
	{'G','A'}, {'G','B'}, {'G','D'}, {'G','E'}, {'G','F'}, {'G','G'}, {'G','H'}, {'G','I'},
	{'G','L'}, {'G','M'}, {'G','N'}, {'G','P'}, {'G','Q'}, {'G','R'}, {'G','S'}, {'G','T'},
	{'G','U'}, {'G','W'}, {'G','Y'},
	{'H','K'}, {'H','M'}, {'H','N'}, {'H','R'}, {'H','T'}, {'H','U'},
	{'I','D'}, {'I','E'}, {'I','L'}, {'I','M'}, {'I','N'}, {'I','O'}, {'I','Q'}, {'I','R'},
	{'I','S'}, {'I','T'},
	{'J','E'}, {'J','M'}, {'J','O'}, {'J','P'},
	{'K','E'}, {'K','G'}, {'K','H'}, {'K','I'}, {'K','M'}, {'K','N'}, {'K','P'}, {'K','R'},
	{'K','W'}, {'K','Y'}, {'K','Z'},
	{'L','A'}, {'L','B'}, {'L','C'}, {'L','I'}, {'L','K'}, {'L','R'}, {'L','S'}, {'L','T'},
	{'L','U'}, {'L','V'}, {'L','Y'},
	{'M','A'}, {'M','C'}, {'M','D'}, {'M','E'}, {'M','F'}, {'M','G'}, {'M','H'}, {'M','K'},
	{'M','L'}, {'M','M'}, {'M','N'}, {'M','O'}, {'M','P'}, {'M','Q'}, {'M','R'}, {'M','S'},
	{'M','T'}, {'M','U'}, {'M','V'}, {'M','W'}, {'M','X'}, {'M','Y'}, {'M','Z'},
	{'N','A'}, {'N','C'}, {'N','E'}, {'N','F'}, {'N','G'}, {'N','I'}, {'N','L'}, {'N','O'},
	{'N','P'}, {'N','R'}, {'N','U'}, {'N','Z'},
	{'O','M'},
	{'P','A'}, {'P','E'}, {'P','F'}, {'P','G'}, {'P','H'}, {'P','K'}, {'P','L'}, {'P','M'},
	{'P','N'}, {'P','R'}, {'P','S'}, {'P','T'}, {'P','W'}, {'P','Y'},
	{'Q','A'},
	{'R','E'}, {'R','O'}, {'R','S'}, {'R','U'}, {'R','W'},
	{'S','A'}, {'S','B'}, {'S','C'}, {'S','D'}, {'S','E'}, {'S','G'}, {'S','H'}, {'S','I'},
	{'S','J'}, {'S','K'}, {'S','L'}, {'S','M'}, {'S','N'}, {'S','O'}, {'S','R'}, {'S','S'},
	{'S','T'}, {'S','V'}, {'S','X'}, {'S','Y'}, {'S','Z'},
	{'T','C'}, {'T','D'}, {'T','F'}, {'T','G'}, {'T','H'}, {'T','J'}, {'T','K'}, {'T','L'},
	{'T','M'}, {'T','N'}, {'T','O'}, {'T','R'}, {'T','T'}, {'T','V'}, {'T','W'}, {'T','Z'},
	{'U','A'}, {'U','G'}, {'U','M'}, {'U','S'}, {'U','Y'}, {'U','Z'},
	{'V','A'}, {'V','C'}, {'V','E'}, {'V','G'}, {'V','I'}, {'V','N'}, {'V','U'},
	{'W','F'}, {'W','S'},
	{'Y','E'}, {'Y','T'},
	{'Z','A'}, {'Z','M'}, {'Z','W'},
};

int fd_country_valid(const char *cc2)
{
	size_t lo = 0, hi = sizeof(countries) / sizeof(countries[0]);

	if (!cc2 || !upper3(cc2, 2))
		return 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = code_cmp(cc2, countries[mid], 2);

		if (c == 0)
			return 1;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

/* ---- other fields --------------------------------------------------------------------- */

static const char R_IP_EMPTY[] = "empty IP address";
static const char R_IP_LONG[] = "too long for an IP address";
static const char R_IP_ZONE[] = "IPv6 zone id not accepted";
static const char R_IP_NOT[] = "not an IP address";

/*
 * inet_pton is the reference for the text forms: IPv4 strictly as four decimal octets
 * (glibc refuses leading zeros such as 01.2.3.4, which other parsers read as octal, and the
 * short forms 10.1 or 0x0a.0.0.1 that inet_aton accepts); IPv6 as RFC 4291 section 2.2,
 * with an embedded dotted quad allowed in the last 32 bits.
 */
const char *fd_parse_ip(const char *s, size_t n)
{
	char tmp[46];   /* INET6_ADDRSTRLEN: the longest text form plus NUL */
	unsigned char addr[16];

	if (n == 0)
		return R_IP_EMPTY;
	if (n >= sizeof(tmp))
		return R_IP_LONG;
	if (memchr(s, '\0', n))
		return R_IP_NOT;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (memchr(tmp, ':', n)) {
		if (memchr(tmp, '%', n))
			return R_IP_ZONE;
		return inet_pton(AF_INET6, tmp, addr) == 1 ? NULL : R_IP_NOT;
	}
	return inet_pton(AF_INET, tmp, addr) == 1 ? NULL : R_IP_NOT;
}

static const char R_CO_EMPTY[] = "empty coordinate";
static const char R_CO_LONG[] = "too long for a coordinate";
static const char R_CO_NOT[] = "not a number";
static const char R_CO_TRAIL[] = "trailing characters";
static const char R_CO_RANGE[] = "out of range";

/*
 * strtod does the decimal-to-binary conversion (correctly rounded in glibc), but it also
 * accepts leading white space, hex floats, "nan" and "inf": only a plain decimal with an
 * optional exponent gets to it.  It follows LC_NUMERIC; the tools keep the C locale, and a
 * locale with a decimal comma would make every "12.5" fail here rather than misread.
 */
const char *fd_parse_coord(const char *s, size_t n, double limit, double *deg)
{
	char tmp[64], *end;
	double v;
	size_t i = 0;
	int digits = 0, k = -1, points = 0;
	uint64_t m = 0;

	if (n == 0)
		return R_CO_EMPTY;
	if (n >= sizeof(tmp))
		return R_CO_LONG;
	if (s[0] == '+' || s[0] == '-')
		i++;
	/* one pass: the digits (the first 19 of them into m), the digits after the point (k) */
	for (; i < n; i++) {
		unsigned d = (unsigned)(unsigned char)s[i] - '0';

		if (d < 10) {
			if (digits < 19)
				m = m * 10 + d;
			digits++;
			if (k >= 0)
				k++;
		} else if (s[i] == '.') {
			points++;
			k = 0;
		} else {
			break;
		}
	}
	if (!digits)
		return R_CO_NOT;
	if (i < n && s[i] != 'e' && s[i] != 'E')
		return R_CO_TRAIL;
	/* The common case, a plain decimal of at most 15 significant digits and one point, is
	 * m / 10^k with m < 2^53 and 10^k exact: one correctly rounded division gives exactly
	 * what strtod would (Clinger's fast path).  Anything else goes to strtod. */
	if (i == n && digits <= 15 && points <= 1) {
		static const double p10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
					     1e11, 1e12, 1e13, 1e14, 1e15};

		v = (double)m / p10[k < 0 ? 0 : k];
		if (s[0] == '-')
			v = -v;
		if (fabs(v) > limit)
			return R_CO_RANGE;
		*deg = v;
		return NULL;
	}
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	errno = 0;
	v = strtod(tmp, &end);
	if (end == tmp)
		return R_CO_NOT;
	if (end != tmp + n)
		return R_CO_TRAIL;
	if (!isfinite(v) || fabs(v) > limit)
		return R_CO_RANGE;
	*deg = v;
	return NULL;
}

static const char R_LABEL[] = "not a label (expected 1/0, true/false, yes/no, fraud/legit)";

const char *fd_parse_label(const char *s, size_t n, int *label)
{
	static const struct {
		const char *word;
		int value;
	} words[] = {
		{ "1", 1 }, { "0", 0 }, { "true", 1 }, { "false", 0 },
		{ "yes", 1 }, { "no", 0 }, { "fraud", 1 }, { "legit", 0 },
	};

	if (n == 0) {
		*label = -1;
		return NULL;
	}
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strlen(words[i].word) == n && strncasecmp(words[i].word, s, n) == 0) {
			*label = words[i].value;
			return NULL;
		}
	}
	return R_LABEL;
}

double fd_haversine_km(double lat1, double lon1, double lat2, double lon2)
{
	const double r = 6371.0088, rad = M_PI / 180.0;
	double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
	double a = sin(dlat / 2) * sin(dlat / 2)
	           + cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);

	if (a > 1.0)   /* rounding near antipodes */
		a = 1.0;
	return 2.0 * r * asin(sqrt(a));
}

int64_t fd_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- shards ---------------------------------------------------------------------------- */

unsigned fd_shard_of(const char *key, unsigned n)
{
	const unsigned char *p = (const unsigned char *)key;
	uint64_t h = 14695981039346656037ULL;

	if (n <= 1)
		return 0;
	for (; *p; p++) {
		h ^= *p;
		h *= 1099511628211ULL;
	}
	return (unsigned)(h % n);
}

/* A decimal number of at most 9 digits at *s, advancing *s; -1 when there is none. */
static long shard_num(const char **s)
{
	long v = 0;
	int k = 0;

	while (**s >= '0' && **s <= '9' && k < 9) {
		v = v * 10 + (**s - '0');
		(*s)++;
		k++;
	}
	return k && !(**s >= '0' && **s <= '9') ? v : -1;
}

const char *fd_parse_shard(const char *s, unsigned *i, unsigned *n)
{
	long a, b;

	if ((a = shard_num(&s)) < 0 || *s++ != '/' || (b = shard_num(&s)) < 0 || *s)
		return "expected I/N (e.g. 0/4)";
	if (b < 1 || b > FD_SHARD_MAX)
		return "N must be from 1 to 65536";
	if (a >= b)
		return "I must be below N (shards are numbered from 0)";
	*i = (unsigned)a;
	*n = (unsigned)b;
	return NULL;
}
