/*
 * fd_txn.h — the canonical transaction (DESIGN.md) and the parsers of its fields.
 *
 * A struct fd_txn is a view: its strings are borrowed from whoever filled it (a reader's
 * record buffer, an SQLite row) and stay valid only until that source moves on.  Code that
 * keeps a value beyond the current record copies it (usually by interning it, fd_intern.h).
 * Absent optional text fields are NULL, never "".
 *
 * Field parsers take (s, n) — n bytes, not necessarily NUL-terminated — and return NULL on
 * success or a short static description of what is wrong ("month out of range"), which the
 * caller places after the field name and the quoted value.
 */
#ifndef FD_TXN_H
#define FD_TXN_H

#include <stddef.h>
#include <stdint.h>

#define FD_TXN_ID_MAX 128      /* bytes */
#define FD_TEXT_MAX 1024       /* bytes, for other text fields */

/* Spans of time in milliseconds, the unit of every timestamp and duration in fd. */
#define FD_SECOND_MS 1000LL
#define FD_MINUTE_MS (60 * FD_SECOND_MS)
#define FD_HOUR_MS (60 * FD_MINUTE_MS)
#define FD_DAY_MS (24 * FD_HOUR_MS)
#define FD_WEEK_MS (7 * FD_DAY_MS)
/* The longest duration fd_parse_duration takes: 3660 days, ten years and then some. */
#define FD_DURATION_MAX_MS (3660 * FD_DAY_MS)

/* The canonical fields, in their canonical (output) order. */
enum fd_field {
	FD_F_TXN_ID,
	FD_F_TS,
	FD_F_AMOUNT,
	FD_F_CURRENCY,
	FD_F_SENDER_ID,
	FD_F_RECIPIENT_ID,
	FD_F_MERCHANT_ID,
	FD_F_MERCHANT_CATEGORY,
	FD_F_CHANNEL,
	FD_F_DEVICE_ID,
	FD_F_IP,
	FD_F_LAT,
	FD_F_LON,
	FD_F_COUNTRY,
	FD_F_CITY,
	FD_F_LABEL,
	FD_NFIELDS
};

/* "txn_id", "ts", ... in enum order. */
extern const char *const fd_field_name[FD_NFIELDS];
/* The field whose canonical name is s (exact, lowercase), or -1. */
int fd_field_lookup(const char *s, size_t n);

struct fd_txn {
	const char *txn_id;            /* required, 1..128 bytes */
	int64_t ts;                    /* ms since 1970-01-01T00:00:00Z */
	int64_t amount;                /* minor units of currency; negative = reversal */
	char currency[4];              /* ISO 4217 alpha-3, NUL-terminated, upper case */
	int exponent;                  /* minor-unit digits of currency (USD 2, JPY 0, BHD 3) */
	const char *sender_id;         /* required */
	const char *recipient_id;      /* optional fields: NULL when absent */
	const char *merchant_id;
	const char *merchant_category;
	const char *channel;           /* lower case */
	const char *device_id;
	const char *ip;
	int has_geo;                   /* lat and lon present (both or neither) */
	double lat, lon;               /* degrees, [-90,90] and [-180,180] */
	char country[3];               /* ISO 3166-1 alpha-2 upper case, or "" when absent */
	const char *city;
	int label;                     /* 1 fraud, 0 legitimate, -1 unknown */
	const char *metadata;          /* JSON object text of the other columns, or NULL */
	size_t metadata_len;
	/* provenance (0 when not from the store) */
	int64_t source_id;             /* sources.id */
	int64_t line;                  /* line of the record in its source */
	/* The export's zone, when the reader knows it (a stored record whose source was ingested
	 * with --tz, fd_txnsrc): its offset from UTC at ts and its name (borrowed); 0 / NULL
	 * when unknown.  local_hour reads this wall clock (fd-features(1)). */
	int zone_known;
	int32_t zone_offset_s;
	const char *zone_name;
};

/* Set every field to its absent value: strings NULL, currency and country "", label -1,
 * numbers (ts, amount, exponent, has_geo, lat, lon, metadata_len, source_id, line, zone_known,
 * zone_offset_s) 0. */
void fd_txn_clear(struct fd_txn *t);

/* ---- timestamps ---------------------------------------------------------------------- */

/*
 * Parse a timestamp into ms since the epoch, UTC.  Accepted:
 *   RFC 3339 / ISO 8601: 2026-11-24T13:05:00Z, 2026-11-24T13:05:00.123+02:00, a space for the T,
 *     seconds optional (2026-11-24 13:05), fraction up to 9 digits (truncated to ms), offset
 *     Z / +HH:MM / +HHMM / +HH, a date alone (midnight);
 *   2026/11/24 13:05[:00] (slashes, as some bank exports write it);
 *   epoch seconds (9 to 11 digits, optional fraction) or epoch milliseconds (12 or 13 digits);
 *   fewer digits are refused (a YYYYMMDD date or a year is not a 1970 instant).
 * A naive time (no zone) is taken at tz_offset_min minutes east of UTC.
 * Validates ranges (month 1-12, day within the month with leap years, hour 0-23, minute 0-59,
 * second 0-60 where 60 is folded onto the next minute's 0, offsets up to ±18:00), and years
 * 1900-9999.
 *
 * Details: 'T', 't' or one space separates date and time; 'Z' or 'z'; the slash form takes
 * the same time, fraction and zone grammar as the dash form; month, day, hour, minute and
 * second are always two digits; a fraction needs seconds; no leading or trailing white
 * space.  Epoch values are unsigned digits (no sign, so only from 1970 on) and UTC whatever
 * tz_offset_min says; a fraction on epoch milliseconds is dropped; more than 13 digits
 * (microseconds) is refused.  Beware that the digit-count rule reads any 1-11 digit string
 * as seconds: "2026" or "20261124" are 1970 instants, not dates.
 * On error *ms is left alone and the reason is one of: "empty timestamp", "not a timestamp",
 * "malformed date", "year out of range", "month out of range", "day out of range for the
 * month", "malformed time", "hour out of range", "minute out of range", "second out of
 * range", "missing fraction digits", "fraction longer than 9 digits", "bad time zone
 * offset", "trailing characters", "epoch value has too many digits".
 */
const char *fd_parse_ts(const char *s, size_t n, int tz_offset_min, int64_t *ms);

/*
 * Parse a duration (NUL-terminated): unsigned decimal digits and a unit, "ms", "s", "m",
 * "h", "d" or "w" ("250ms", "90s", "15m", "24h", "7d", "2w"); no unit means seconds.  It must
 * be more than 0 and at most FD_DURATION_MAX_MS.  NULL, with *ms set; else *ms is left alone
 * and the reason is one of: "not a duration (e.g. 90s, 15m, 24h, 7d)" (empty, or not starting
 * with a digit), "unknown unit (use ms, s, m, h, d or w)", "duration must be positive",
 * "duration out of range (at most 3660 days)".
 */
const char *fd_parse_duration(const char *s, int64_t *ms);

/*
 * Parse a --tz argument (NUL-terminated): "UTC", "Z" (either case), "+HH:MM", "-HHMM", "+HH",
 * up to ±18:00.  Returns NULL or a reason ("empty time zone", "bad time zone offset");
 * *offset_min is left alone on error.
 */
const char *fd_parse_tz(const char *s, int *offset_min);

/*
 * Timestamps as an export writes them: the optional date formats and the zone of naive times.
 *
 * formats (NULL-terminated, or NULL for none): strptime-style patterns tried in order; the
 * first that matches the whole value wins.  With none, the fd_parse_ts grammar applies.
 * Directives: %Y (4 digits), %y (2 digits: 69-99 -> 19xx, 00-68 -> 20xx, as POSIX), %m %d
 * %H %M %S (1 or 2 digits), %e (= %d), %f (1-9 fraction digits, kept to ms), %z (Z, +HH,
 * +HHMM, +HH:MM), %b (Jan..Dec, English, any case), %p with %I (AM/PM, 12-hour clock),
 * %T (= %H:%M:%S), %F (= %Y-%m-%d), %s (epoch seconds), %% (a '%').  Any other
 * character matches itself; a space matches one or more spaces.  Missing time fields are 0:
 * a date-only format gives local midnight.  Fixed-width parsing: no locale, no libc.
 *
 * tz (NULL = UTC) gives the zone of a value without one, resolved by dst_policy around
 * daylight-saving changes (fd_tz.h).
 */
struct fd_tz;
struct fd_tsopts {
	const char *const *formats;
	const struct fd_tz *tz;
	int dst_policy;          /* enum fd_tz_dst */
};

/* 0 when fmt is a usable date format, else a reason ("unknown directive '%Q'", "no year",
 * "no day", "no month", "%I without %p"). */
const char *fd_datefmt_check(const char *fmt);

/* Parse s (n bytes) under o into ms since the epoch.  NULL, or a reason as fd_parse_ts gives,
 * "does not match the date format" (several formats: "matches none of the date formats"),
 * or the fd_tz_to_utc reasons. */
const char *fd_parse_ts_opts(const char *s, size_t n, const struct fd_tsopts *o, int64_t *ms);

/* Format ms as RFC 3339 UTC with milliseconds: "2026-11-24T13:05:00.000Z" (24 bytes + NUL).
 * buf must hold FD_TS_BUFSZ bytes.  Returns buf.  Any int64 is safe: a year outside
 * 0000-9999 (never produced by fd_parse_ts) is written with the digits it needs and a '-'
 * when negative, as GNU date does. */
#define FD_TS_BUFSZ 32
char *fd_format_ts(int64_t ms, char *buf);

/* The current time, ms since the epoch (the clock every "written at" column and audit entry
 * uses). */
int64_t fd_wall_ms(void);

/* Days since 1970-01-01 of a civil date, and back (proleptic Gregorian, year 0 = 1 BC).
 * m must be 1-12 and d 1-31 (not validated: 2026-02-31 is 2026-03-03); |y| and |z| up to
 * 10^12 are safe from overflow. */
int64_t fd_days_from_civil(int64_t y, unsigned m, unsigned d);
void fd_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

/* ---- amounts ------------------------------------------------------------------------- */

/*
 * Parse a decimal amount into integer minor units with the currency's exponent.
 * Accepted: optional sign, digits, optional '.' and fraction ("12", "-0.5", "+12.30", ".5").
 * A fraction longer than exponent digits is accepted only when the extra digits are zeros
 * ("12.300" for USD); anything else ("12.345" USD) is refused, never rounded.  No thousands
 * separators, exponents, NaN or infinities.  Overflow of int64 is refused.
 *
 * Details: the range is symmetric, ±INT64_MAX minor units (INT64_MIN is refused, so that
 * negating an amount is always safe); "12." is 12; no white space; exponent must be 0-18.
 * On error *minor is left alone and the reason is one of: "empty amount", "not a number",
 * "comma not accepted (no thousands separators or decimal commas)", "exponent notation not
 * accepted", "trailing characters", "too many decimals for the currency", "amount out of
 * range", "bad currency exponent".
 */
const char *fd_parse_amount(const char *s, size_t n, int exponent, int64_t *minor);

/*
 * An amount as exports write it.  flags:
 *   FD_AMT_DECIMAL_COMMA  ',' is the decimal mark ("1.234,56", "1 234,56", "-0,5"); else '.'.
 *   FD_AMT_ROUND          more decimals than the currency has are rounded to its exponent,
 *                         half to even ("288.09999999999997" -> 288.10, "0.125" -> 0.12,
 *                         "0.135" -> 0.14); *rounded is set to 1 when that changed the value.
 * Thousands separators are always accepted when well-formed: groups of exactly three digits
 * after a first group of one to three, one separator kind throughout: ',' (point mode), '.'
 * (comma mode), a space, a no-break space (U+00A0 or U+202F) or an apostrophe (').
 * An amount whose only mark could be either decimal or thousands ("1,234" in point mode,
 * "1.234" in comma mode) is refused as ambiguous.  A trailing sign ("1.234,56-", as some
 * statements write debits) is accepted.  Exact decimal arithmetic throughout: never a binary
 * float.  Reasons, besides fd_parse_amount's: "ambiguous separator: ... ", "misplaced
 * thousands separator", "decimal comma not expected (give --decimal-comma)", "decimal point
 * not expected in decimal-comma mode", "too many decimals for the currency: --round-amounts
 * rounds them", "trailing characters" (also for a separator not followed by a digit).
 * rounded may be NULL; *minor is left alone on error.
 */
enum { FD_AMT_DECIMAL_COMMA = 1, FD_AMT_ROUND = 2 };
const char *fd_parse_amount_ex(const char *s, size_t n, int exponent, int flags, int64_t *minor,
			       int *rounded);

/* Format minor units with exponent decimals: (123456, 2) -> "1234.56", (-5, 2) -> "-0.05",
 * (7, 0) -> "7".  Any int64 is safe; exponent is clamped to 0-18.  The output parses back
 * with fd_parse_amount to the same value (INT64_MIN aside).
 * buf must hold FD_AMOUNT_BUFSZ bytes.  Returns buf. */
#define FD_AMOUNT_BUFSZ 32
char *fd_format_amount(int64_t minor, int exponent, char *buf);

/* Minor-unit exponent of an ISO 4217 alpha-3 code (exactly 3 upper-case letters), or -1
 * when the code is not an ISO 4217 currency.
 * code3 is NUL-terminated ("USDX", "usd" and NULL give -1).  The table is ISO 4217 list one
 * as published on 2026-01-01, plus the codes withdrawn since 2000 that historical exports
 * still carry (ANG BGN BYR CUC CYP EEK HRK LTL LVL MRO MTL SIT SKK SLL STD VEF ZMK ZWL),
 * with their last minor units.  Codes whose minor unit ISO gives as "N.A."
 * (XAU XAG XPD XPT, XBA-XBD, XDR, XSU, XUA, XTS, XXX) give 0: whole units. */
int fd_currency_exponent(const char *code3);

/* ---- other fields -------------------------------------------------------------------- */

/* 1 when cc (2 upper-case letters) is an officially assigned ISO 3166-1 alpha-2 code.
 * cc2 is NUL-terminated.  User-assigned (XK, ZZ, ...), exceptionally reserved (UK, EU) and
 * transitionally reserved (AN, CS, ...) codes give 0. */
int fd_country_valid(const char *cc2);

/* NULL when s is a valid IPv4 dotted quad or IPv6 address (RFC 4291 text forms).
 * The judge is inet_pton: IPv4 is exactly four decimal octets, leading zeros refused
 * ("01.2.3.4", which some parsers read as octal) as are inet_aton's short forms ("10.1");
 * IPv6 may end in a dotted quad.  No brackets, ports or white space; a zone id (fe80::1%eth0)
 * is refused; more than 45 bytes is refused.  Reasons: "empty IP address", "too long for an
 * IP address", "IPv6 zone id not accepted", "not an IP address". */
const char *fd_parse_ip(const char *s, size_t n);

/* Parse a coordinate in decimal degrees with |value| <= limit (90 or 180).
 * Optional sign, digits with an optional '.', optional exponent ("1.5e1"); no white space,
 * hex, NaN or infinities; under 64 bytes.  Converted by strtod, so the process must keep
 * LC_NUMERIC in the C locale (a decimal-comma locale makes values fail, never misread).
 * *deg is left alone on error.  Reasons: "empty coordinate", "too long for a coordinate",
 * "not a number", "trailing characters", "out of range". */
const char *fd_parse_coord(const char *s, size_t n, double limit, double *deg);

/* Parse a label: 1/0, true/false, yes/no, fraud/legit (case-insensitive); empty = unknown (-1).
 * Nothing else (no white space, "t", "y", "legitimate"); *label is left alone on error. */
const char *fd_parse_label(const char *s, size_t n, int *label);

/*
 * Sharding by entity (--shard I/N).  Per-sender state needs only that sender's rows, so a
 * stream splits into N shards by sender that run apart (processes, machines) and whose
 * outputs concatenate.  A row belongs to shard fd_shard_of(sender_id, N): the 64-bit FNV-1a
 * hash of the key's bytes (offset basis 14695981039346656037, prime 1099511628211) modulo N.
 * The function is part of the interface: it never changes, so that shards computed by
 * different versions or by another engine line up.
 */
#define FD_SHARD_MAX 65536
unsigned fd_shard_of(const char *key, unsigned n);
/* Parse "I/N": decimal, 0 <= I < N <= FD_SHARD_MAX, nothing else (no signs, spaces).  NULL
 * when valid; *i and *n are left alone on error.  Reasons: "expected I/N (e.g. 0/4)",
 * "N must be from 1 to 65536", "I must be below N (shards are numbered from 0)". */
const char *fd_parse_shard(const char *s, unsigned *i, unsigned *n);

/* Great-circle distance in km between two points (haversine, mean Earth radius 6371.0088 km). */
double fd_haversine_km(double lat1, double lon1, double lat2, double lon2);

#endif
