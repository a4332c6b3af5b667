/*
 * fd_forensic.c — see fd_forensic.h.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "fd_forensic.h"
#include "fd_txn.h"
#include "banned.h"

/* ---- Benford's law -------------------------------------------------------------------- */

int fd_benford_lo(int test)
{
	return test == FD_BENFORD_FIRST ? 1 : 10;
}

int fd_benford_hi(int test)
{
	return test == FD_BENFORD_FIRST ? 9 : 99;
}

int fd_leading_digits(int64_t v, int *d1, int *d12)
{
	if (v <= 0)
		return -1;
	if (v < 10) {
		*d1 = (int)v;
		*d12 = -1;
		return 0;
	}
	/* divide by 10 until two digits are left: at most 17 steps for an int64 */
	while (v >= 100)
		v /= 10;
	*d12 = (int)v;
	*d1 = (int)(v / 10);
	return 0;
}

double fd_benford_expected(int d)
{
	return log10(1.0 + 1.0 / d);
}

double fd_benford_z(int64_t k, int64_t n, double p)
{
	double dev, cc;

	if (n <= 0)
		return 0;
	dev = fabs((double)k / (double)n - p);
	cc = 1.0 / (2.0 * (double)n);
	/* Nigrini: the correction only when it is smaller than the deviation */
	if (cc < dev)
		dev -= cc;
	return dev / sqrt(p * (1 - p) / (double)n);
}

const char *fd_benford_conformity(int test, double mad)
{
	static const double lim[2][3] = {{0.006, 0.012, 0.015}, {0.0012, 0.0018, 0.0022}};
	const double *l = lim[test == FD_BENFORD_FIRST ? 0 : 1];

	if (mad < l[0])
		return "close";
	if (mad < l[1])
		return "acceptable";
	if (mad <= l[2])
		return "marginal";
	return "nonconformity";
}

/*
 * Closed forms of the chi-square upper tail, summed in logarithms so that neither the powers
 * of x nor e^(-x/2) overflow or underflow on the way (a million nonconforming amounts give
 * chi-square values in the millions):
 *   df = 2k:      Q = e^(-x/2) sum_{i<k} (x/2)^i / i!
 *   df = 2k + 1:  Q = erfc(sqrt(x/2)) + sqrt(2/pi) e^(-x/2) sum_{i=1..k} x^(i-1/2) / (2i-1)!!
 */
double fd_chi2_q(double x, int df)
{
	double q = 0, lt;
	int i, k;

	if (df < 1)
		return NAN;
	if (!(x > 0))
		return 1;
	if (df % 2 == 0) {
		k = df / 2;
		lt = -x / 2;
		for (i = 0; i < k; i++) {
			if (i > 0)
				lt += log(x / 2) - log((double)i);
			q += exp(lt);
		}
	} else {
		k = (df - 1) / 2;
		q = erfc(sqrt(x / 2));
		lt = 0.5 * log(x) - x / 2 + 0.5 * log(2 / M_PI);
		for (i = 1; i <= k; i++) {
			if (i > 1)
				lt += log(x) - log(2.0 * i - 1);
			q += exp(lt);
		}
	}
	return q > 1 ? 1 : q;
}

void fd_benford_eval(int test, const int64_t *counts, struct fd_benford_result *r)
{
	int lo = fd_benford_lo(test), hi = fd_benford_hi(test), d;
	int64_t n = 0;
	double chi2 = 0, sad = 0;

	memset(r, 0, sizeof(*r));
	for (d = lo; d <= hi; d++)
		n += counts[d - lo];
	r->n = n;
	r->df = hi - lo;
	if (n == 0) {
		r->chi2 = NAN;
		r->p_value = NAN;
		r->mad = NAN;
		r->conformity = "none";
		return;
	}
	for (d = lo; d <= hi; d++) {
		double p = fd_benford_expected(d), e = p * (double)n, o = (double)counts[d - lo];

		chi2 += (o - e) * (o - e) / e;
		sad += fabs(o / (double)n - p);
	}
	r->chi2 = chi2;
	r->p_value = fd_chi2_q(chi2, r->df);
	r->mad = sad / (double)(hi - lo + 1);
	r->conformity = fd_benford_conformity(test, r->mad);
	r->nonconforming = strcmp(r->conformity, "nonconformity") == 0;
}

/* ---- references ----------------------------------------------------------------------- */

size_t fd_ref_normalise(const char *s, size_t n, char *out, size_t cap)
{
	size_t i, o = 0;
	int in_digits = 0, lead = 0;  /* lead: the run so far is all zeros, none written */

	if (cap == 0)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= '0' && c <= '9') {
			if (!in_digits) {
				in_digits = 1;
				lead = 1;
			}
			if (lead && c == '0')
				continue;
			lead = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			if (in_digits && lead && o + 1 < cap)
				out[o++] = '0';  /* a run of zeros alone is the number 0 */
			in_digits = 0;
			if (c >= 'a')
				c = (unsigned char)(c - 'a' + 'A');
		} else
			continue;  /* separators do not end a run of digits: "1 000" is 1000 */
		if (o + 1 < cap)
			out[o++] = (char)c;
	}
	if (in_digits && lead && o + 1 < cap)
		out[o++] = '0';
	out[o] = '\0';
	return o;
}

int fd_edit1(const char *a, size_t na, const char *b, size_t nb)
{
	size_t i = 0;

	if (na > nb)
		return fd_edit1(b, nb, a, na);
	if (nb - na > 1)
		return 0;
	while (i < na && a[i] == b[i])
		i++;
	if (i == na)
		return 1;  /* equal, or b has one more byte at the end */
	if (na == nb) {
		/* replace a[i], or swap a[i] and a[i+1] */
		if (memcmp(a + i + 1, b + i + 1, na - i - 1) == 0)
			return 1;
		return i + 1 < na && a[i] == b[i + 1] && a[i + 1] == b[i] &&
		       memcmp(a + i + 2, b + i + 2, na - i - 2) == 0;
	}
	/* b has one byte inserted at i */
	return memcmp(a + i, b + i + 1, na - i) == 0;
}

/* The digits of s in order, at most cap - 1 of them. */
static size_t digits_of(const char *s, size_t n, char *out, size_t cap)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 1 < cap; i++)
		if (s[i] >= '0' && s[i] <= '9')
			out[o++] = s[i];
	out[o] = '\0';
	return o;
}

#define REF_CMP_MAX 256

int fd_ref_match(const char *a, size_t na, const char *b, size_t nb)
{
	char x[REF_CMP_MAX], y[REF_CMP_MAX];
	size_t nx, ny;

	nx = fd_ref_normalise(a, na, x, sizeof(x));
	ny = fd_ref_normalise(b, nb, y, sizeof(y));
	if (nx == 0 || ny == 0)
		return FD_REF_NONE;
	if (nx == ny && memcmp(x, y, nx) == 0)
		return FD_REF_SAME;
	{
		char dx[REF_CMP_MAX], dy[REF_CMP_MAX];
		size_t ndx = digits_of(x, nx, dx, sizeof(dx)), ndy = digits_of(y, ny, dy, sizeof(dy));

		if (ndx >= 3 && ndx == ndy && memcmp(dx, dy, ndx) == 0)
			return FD_REF_DIGITS;
	}
	if (nx >= 4 && ny >= 4 && fd_edit1(x, nx, y, ny)) {
		size_t i = 0;

		if (nx != ny)
			return FD_REF_EDIT;
		while (x[i] == y[i])
			i++;
		/* one digit replaced by another is the next number of a series (INV1001, INV1002),
		 * not a slip of the keyboard: no match */
		if (memcmp(x + i + 1, y + i + 1, nx - i - 1) == 0 && x[i] >= '0' && x[i] <= '9' && y[i] >= '0' &&
		    y[i] <= '9')
			return FD_REF_NONE;
		return FD_REF_EDIT;
	}
	return FD_REF_NONE;
}

const char *fd_ref_match_name(int m)
{
	switch (m) {
	case FD_REF_SAME: return "same";
	case FD_REF_DIGITS: return "digits";
	case FD_REF_EDIT: return "one-edit";
	default: return "none";
	}
}

int fd_ref_split(const char *s, size_t n, size_t *prefix_len, int64_t *number, int *width)
{
	size_t i = n;
	int64_t v = 0;

	while (i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9')
		i--;
	if (i == n || n - i > 18)
		return -1;
	*prefix_len = i;
	*width = (int)(n - i);
	for (; i < n; i++)
		v = v * 10 + (s[i] - '0');
	*number = v;
	return 0;
}

/* ---- calendar ------------------------------------------------------------------------- */

int fd_weekday(int64_t day)
{
	/* 1970-01-01 was a Thursday: ISO index 3 */
	int64_t w = (day + 3) % 7;

	return (int)(w < 0 ? w + 7 : w);
}

const char *fd_weekday_name(int wd)
{
	static const char *const names[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};

	return wd >= 0 && wd < 7 ? names[wd] : "?";
}

int64_t fd_day_of(int64_t ms, int32_t offset_s)
{
	int64_t s = ms / 1000 - (ms % 1000 < 0) + offset_s;

	return s / 86400 - (s % 86400 < 0);
}

/* ---- amounts --------------------------------------------------------------------------- */

int64_t fd_scaled(int64_t minor, int exponent)
{
	int64_t v = minor;
	int e;

	if (exponent > FD_SCALE_EXP) {
		for (e = exponent; e > FD_SCALE_EXP; e--)
			v /= 10;
		return v;
	}
	for (e = exponent; e < FD_SCALE_EXP; e++)
		if (__builtin_mul_overflow(v, 10, &v))
			return minor < 0 ? -INT64_MAX : INT64_MAX;
	return v;
}

const char *fd_parse_scaled(const char *s, int64_t *scaled)
{
	int64_t v;
	const char *why;

	if (*s == '-')
		return "negative amount";
	if ((why = fd_parse_amount(s, strlen(s), FD_SCALE_EXP, &v)))
		return why;
	*scaled = v;
	return NULL;
}

const char *fd_parse_scaled_list(const char *s, int64_t *v, size_t cap, size_t *n)
{
	char buf[64];
	const char *p = s, *why;

	*n = 0;
	if (!*s)
		return "empty list";
	for (;;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		int64_t x;

		if (len == 0 || len >= sizeof(buf))
			return len ? "value too long" : "empty value";
		memcpy(buf, p, len);
		buf[len] = '\0';
		if ((why = fd_parse_scaled(buf, &x)))
			return why;
		if (*n == cap)
			return "too many values";
		if (*n > 0 && x <= v[*n - 1])
			return "not increasing";
		v[(*n)++] = x;
		if (!e)
			return NULL;
		p = e + 1;
	}
}

double fd_binom_z(int64_t k, int64_t n, double p)
{
	double var = (double)n * p * (1 - p), mean = (double)n * p;

	if (var <= 0 || (double)k <= mean)
		return 0;
	return ((double)k - mean - 0.5) / sqrt(var);
}
