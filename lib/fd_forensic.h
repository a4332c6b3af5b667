/*
 * fd_forensic.h — the arithmetic of the forensic tests that auditors run on every engagement
 * (ACL and IDEA call them Benford, duplicates, gaps, stratification, ageing): first-digit
 * statistics, reference matching and sequence numbers, round amounts, calendars, bands.
 *
 * Everything here works on exact integers (amounts in minor units, days since the epoch);
 * floating point appears only in the statistics (proportions, chi-square, z, MAD).  The
 * grouping, sorting and output of whole data sets is the tool's (cmd/forensic.c); these are
 * the pieces it is built from, each testable on its own.
 */
#ifndef FD_FORENSIC_H
#define FD_FORENSIC_H

#include <stddef.h>
#include <stdint.h>

/* ---- Benford's law -------------------------------------------------------------------- */

/* The two digit tests: first digit (1-9, 8 degrees of freedom) and first two digits
 * (10-99, 89 degrees of freedom). */
enum fd_benford_test { FD_BENFORD_FIRST = 0, FD_BENFORD_FIRST_TWO = 1 };

/* The smallest and largest digit value of a test: 1..9 or 10..99. */
int fd_benford_lo(int test);
int fd_benford_hi(int test);

/* The leading one and two digits of v > 0 (12345 -> 1 and 12; 7 -> 7 and -1: a one-digit
 * number has no first two digits).  Returns 0, or -1 when v <= 0. */
int fd_leading_digits(int64_t v, int *d1, int *d12);

/* Benford's expected proportion of digit value d under test: log10(1 + 1/d). */
double fd_benford_expected(int d);

/*
 * Nigrini's z statistic of one digit: observed count k of n, expected proportion p, with the
 * continuity correction 1/(2n) applied only when it is smaller than |k/n - p|:
 *   z = (|k/n - p| - 1/(2n)) / sqrt(p (1 - p) / n).
 * 0 when n == 0.
 */
double fd_benford_z(int64_t k, int64_t n, double p);

/* The result of one digit test over counts[0 .. hi-lo] (counts[i] is digit lo + i). */
struct fd_benford_result {
	int64_t n;               /* amounts counted */
	double chi2;             /* Pearson chi-square against Benford's proportions */
	int df;                  /* degrees of freedom: 8 or 89 */
	double p_value;          /* upper tail of chi-square with df degrees of freedom */
	double mad;              /* mean absolute deviation of the proportions */
	const char *conformity;  /* Nigrini's range of mad: "close", "acceptable", "marginal",
				    "nonconformity" ("none" when n == 0) */
	int nonconforming;       /* 1 when conformity is "nonconformity" */
};
void fd_benford_eval(int test, const int64_t *counts, struct fd_benford_result *r);

/*
 * Nigrini's conformity ranges for the MAD (M. Nigrini, Benford's Law, Wiley 2012):
 *   first digit:      close < 0.006 <= acceptable < 0.012 <= marginal < 0.015 <= nonconformity
 *   first two digits: close < 0.0012 <= acceptable < 0.0018 <= marginal < 0.0022 <= nonconformity
 */
const char *fd_benford_conformity(int test, double mad);

/* The upper tail Q(x; df) = P(X > x) of the chi-square distribution, for df >= 1: exact
 * closed forms (a finite sum for even df, erfc and a finite sum for odd df). */
double fd_chi2_q(double x, int df);

/* ---- references ----------------------------------------------------------------------- */

/*
 * A reference as it is compared: ASCII letters upper-cased, digits kept, every other byte
 * (blanks, punctuation, separators) dropped, and leading zeros of each run of digits dropped
 * ("inv-0012/a" -> "INV12A", "000" -> "0").  Writes at most cap - 1 bytes and a NUL into out;
 * returns the length written.
 */
size_t fd_ref_normalise(const char *s, size_t n, char *out, size_t cap);

/* 1 when a and b are at most one edit apart: one byte inserted, deleted, replaced, or two
 * adjacent bytes swapped (optimal string alignment distance <= 1). */
int fd_edit1(const char *a, size_t na, const char *b, size_t nb);

/*
 * How two references match, strongest first: FD_REF_SAME (equal once normalised),
 * FD_REF_DIGITS (the same digits in the same order, at least 3 of them: "INV 1001" and
 * "1001"), FD_REF_EDIT (normalised, one edit apart, both at least 4 bytes long, except one
 * digit replaced by another: "INV1001" and "INV1002" are consecutive numbers of a series, not
 * a typing slip), or FD_REF_NONE.  Empty references never match.
 */
enum fd_ref_match { FD_REF_NONE = 0, FD_REF_EDIT, FD_REF_DIGITS, FD_REF_SAME };
int fd_ref_match(const char *a, size_t na, const char *b, size_t nb);
/* "same", "digits", "one-edit" or "none". */
const char *fd_ref_match_name(int m);

/*
 * A sequence number: the prefix (everything before the trailing run of digits) and the
 * number that run spells, e.g. "INV-000123" -> prefix "INV-" (4 bytes), 123, width 6.
 * Returns 0, or -1 when s does not end in a digit or the number has more than 18 digits.
 */
int fd_ref_split(const char *s, size_t n, size_t *prefix_len, int64_t *number, int *width);

/* ---- calendar ------------------------------------------------------------------------- */

/* Day of the week of a day number (days since 1970-01-01, which was a Thursday):
 * 0 Monday .. 6 Sunday (ISO 8601 order). */
int fd_weekday(int64_t day);
/* "Mon" .. "Sun". */
const char *fd_weekday_name(int wd);
/* Days since 1970-01-01 of ms since the epoch shifted by offset_s seconds (a local date):
 * floor division, so instants before 1970 fall on the right day. */
int64_t fd_day_of(int64_t ms, int32_t offset_s);

/* ---- amounts --------------------------------------------------------------------------- */

/*
 * Amounts compared across currencies in one fixed-point scale: FD_SCALE_EXP decimals
 * (10^-4 of a major unit; ISO 4217 exponents go up to 4).  fd_scaled() converts minor units of
 * exponent e; it saturates at ±INT64_MAX instead of overflowing.
 */
#define FD_SCALE_EXP 4
int64_t fd_scaled(int64_t minor, int exponent);

/* Parse a non-negative decimal in major units ("10000", "2999.5") into the fixed-point scale.
 * NULL, or the reason (fd_parse_amount's; "negative amount"). */
const char *fd_parse_scaled(const char *s, int64_t *scaled);

/* A list of increasing non-negative major-unit amounts, comma-separated ("100,1000,10000").
 * Fills v (at most cap values) and *n; NULL or a reason ("not increasing", "too many values",
 * "empty list", or a value's reason). */
const char *fd_parse_scaled_list(const char *s, int64_t *v, size_t cap, size_t *n);

/*
 * The one-sided binomial z statistic that k of n exceed what proportion p predicts, with the
 * continuity correction: z = (k - n p - 1/2) / sqrt(n p (1 - p)), 0 when n p (1 - p) == 0 or
 * k <= n p.
 */
double fd_binom_z(int64_t k, int64_t n, double p);

#endif
