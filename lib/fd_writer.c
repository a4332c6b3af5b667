/* fd_writer.c — see fd_writer.h.
 *
 * Values go straight into the fd_out buffer; the only memory of our own is a scratch buffer
 * for JSON string escaping.  When that cannot grow, the error is handed to the fd_out, whose
 * commit reports it: a record is never silently cut short.
 */
#include "fd_writer.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fd_buf.h"
#include "fd_reader.h"
#include "fd_txn.h"
#include "banned.h"

struct fd_writer {
	struct fd_out *out;
	int ndjson;
	size_t ncols;
	size_t col;           /* columns written in the current record */
	struct fd_buf keys;   /* NDJSON: "name": for every column, one after the other */
	size_t *key_off;      /* ncols + 1 offsets into keys */
	struct fd_buf tmp;
	int excel_safe;       /* CSV text that a spreadsheet would run as a formula gets a ' */
};

/* CSV needs quotes for a delimiter, quote or line end anywhere, or a space at either end
 * (which some readers trim). */
static int csv_needs_quotes(const char *s, size_t n)
{
	size_t i;

	if (n && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		return 1;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == ',' || c == '"' || c == '\n' || c == '\r')
			return 1;
	}
	return 0;
}

static void csv_field(struct fd_writer *w, const char *s, size_t n)
{
	const char *q;

	/* A lone empty field would make a blank line, which readers skip. */
	if (!csv_needs_quotes(s, n) && !(n == 0 && w->ncols == 1)) {
		fd_out_write(w->out, s, n);
		return;
	}
	fd_out_write(w->out, "\"", 1);
	while ((q = memchr(s, '"', n))) {
		size_t k = (size_t)(q - s) + 1;

		fd_out_write(w->out, s, k);  /* up to and including the quote ... */
		fd_out_write(w->out, "\"", 1);  /* ... which is doubled */
		s += k;
		n -= k;
	}
	fd_out_write(w->out, s, n);
	fd_out_write(w->out, "\"", 1);
}

/* A CSV text value: with excel_safe, one that begins with = + - @ tab or CR (which a
 * spreadsheet takes for a formula) is written with a single quote in front (OWASP's advice). */
static void csv_text(struct fd_writer *w, const char *s, size_t n)
{
	if (!w->excel_safe || n == 0 || !memchr("=+-@\t\r", s[0], 6)) {
		csv_field(w, s, n);
		return;
	}
	fd_buf_reset(&w->tmp);
	if (fd_buf_addc(&w->tmp, '\'') || fd_buf_add(&w->tmp, s, n)) {
		fd_out_set_error(w->out, ENOMEM);
		return;
	}
	csv_field(w, w->tmp.s, w->tmp.len);
}

void fd_writer_excel_safe(struct fd_writer *w, int on)
{
	if (w)
		w->excel_safe = on;
}

static void json_str(struct fd_writer *w, const char *s, size_t n)
{
	fd_buf_reset(&w->tmp);
	if (fd_buf_add_json_str(&w->tmp, s, n)) {
		fd_out_set_error(w->out, ENOMEM);
		return;
	}
	fd_out_write(w->out, w->tmp.s, w->tmp.len);
}

struct fd_writer *fd_writer_create(struct fd_out *out, int format, const char *const *names,
				   size_t ncols)
{
	struct fd_writer *w = calloc(1, sizeof(*w));
	size_t i;

	if (!w)
		return NULL;
	w->out = out;
	w->ndjson = format == FD_FMT_NDJSON;
	w->ncols = ncols;
	w->col = ncols;
	fd_buf_init(&w->keys);
	fd_buf_init(&w->tmp);
	w->key_off = malloc((ncols + 1) * sizeof(*w->key_off));
	if (!w->key_off)
		goto fail;
	for (i = 0; i < ncols; i++) {
		w->key_off[i] = w->keys.len;
		if (fd_buf_add_json_str(&w->keys, names[i], strlen(names[i])) ||
		    fd_buf_addc(&w->keys, ':'))
			goto fail;
	}
	w->key_off[ncols] = w->keys.len;
	if (!w->ndjson) {
		for (i = 0; i < ncols; i++) {
			if (i)
				fd_out_write(out, ",", 1);
			csv_field(w, names[i], strlen(names[i]));
		}
		fd_out_write(out, "\n", 1);
	}
	return w;
fail:
	fd_writer_free(w);
	return NULL;
}

void fd_writer_free(struct fd_writer *w)
{
	if (!w)
		return;
	fd_buf_release(&w->keys);
	fd_buf_release(&w->tmp);
	free(w->key_off);
	free(w);
}

void fd_writer_begin(struct fd_writer *w)
{
	w->col = 0;
	if (w->ndjson)
		fd_out_write(w->out, "{", 1);
}

/* Start the next column: its separator and, in NDJSON, its key.  0 when every column has had
 * its value already (the extra value is dropped). */
static int next_col(struct fd_writer *w)
{
	size_t c = w->col;

	if (c >= w->ncols)
		return 0;
	w->col++;
	if (w->ndjson) {
		if (c)
			fd_out_write(w->out, ",", 1);
		fd_out_write(w->out, w->keys.s + w->key_off[c], w->key_off[c + 1] - w->key_off[c]);
	} else if (c) {
		char *p = fd_out_room(w->out, 1);

		if (p) {
			*p = ',';
			fd_out_advance(w->out, 1);
		}
	}
	return 1;
}

void fd_writer_null(struct fd_writer *w)
{
	if (next_col(w) && w->ndjson)
		fd_out_write(w->out, "null", 4);
}

void fd_writer_str(struct fd_writer *w, const char *s, size_t n)
{
	if (!s) {
		fd_writer_null(w);
		return;
	}
	if (!next_col(w))
		return;
	if (w->ndjson)
		json_str(w, s, n);
	else
		csv_text(w, s, n);
}

void fd_writer_cstr(struct fd_writer *w, const char *s)
{
	fd_writer_str(w, s, s ? strlen(s) : 0);
}

void fd_writer_i64(struct fd_writer *w, int64_t v)
{
	char tmp[24];
	int i = (int)sizeof(tmp);
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	if (!next_col(w))
		return;
	do {
		tmp[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		tmp[--i] = '-';
	fd_out_write(w->out, tmp + i, sizeof(tmp) - (size_t)i);
}

static const char dig2[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
			  "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
			  "8081828384858687888990919293949596979899";

static const uint64_t p10u[] = {1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL,
	10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL,
	1000000000000ULL, 10000000000000ULL, 100000000000000ULL, 1000000000000000ULL,
	10000000000000000ULL, 100000000000000000ULL, 1000000000000000000ULL,
	10000000000000000000ULL};

/* How many decimal digits u has: from its bit length (1233 / 4096 = log10(2) from below),
 * corrected by one comparison. */
static int dec_len(uint64_t u)
{
	int t;

	if (u == 0)
		return 1;
	t = ((64 - __builtin_clzll(u)) * 1233) >> 12;
	return t - (u < p10u[t]) + 1;
}

/* Exactly width decimal digits of u (leading zeros; u < 10^width) at dst, written from the
 * end two at a time, straight where they belong (no copy, whose wide loads would wait on the
 * narrow stores). */
static void put_dec(uint64_t u, int width, char *dst)
{
	char *p = dst + width;

	if (u <= UINT32_MAX) {  /* 9 significant digits and most counts: 32-bit divisions */
		uint32_t x = (uint32_t)u;

		while (p - dst >= 2) {
			p -= 2;
			memcpy(p, dig2 + 2 * (x % 100), 2);
			x /= 100;
		}
		if (p > dst)
			*--p = (char)('0' + x % 10);
		return;
	}
	while (p - dst >= 2) {
		p -= 2;
		memcpy(p, dig2 + 2 * (u % 100), 2);
		u /= 100;
	}
	if (p > dst)
		*--p = (char)('0' + u % 10);
}

/* Decimal digits of an integer below 2^63 into buf (room for 21 bytes); returns the length. */
static int int_dec(uint64_t u, int neg, char *buf)
{
	int len;

	if (neg)
		*buf = '-';
	if (u < 10) {  /* flags and small counts, most of fd-features' whole numbers */
		buf[neg] = (char)('0' + u);
		return neg + 1;
	}
	len = dec_len(u);
	put_dec(u, len, buf + neg);
	return neg + len;
}

/* The shortest "%.Ng" that reads back as v (N = 15, 16 or 17: 17 always does). */
static int shortest_g(double v, char *buf, size_t sz)
{
	int p, n = 0;

	/* whole numbers (counts, flags, ids) are the common case: no printf */
	if (v == floor(v) && fabs(v) < 9007199254740992.0)
		return int_dec((uint64_t)fabs(v), v < 0, buf);
	for (p = 15; p <= 17; p++) {
		n = snprintf(buf, sz, "%.*g", p, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return n;
}

/* v with sig significant digits (1..15), trailing zeros trimmed, computed without printf for
 * magnitudes from 1e-5 to 1e15 and always in positional notation there (where %.*g would
 * switch to an exponent below 1e-4 or from 10^sig up); outside that range, printf.  The last
 * digit comes from llround(v * 10^k), which can differ from printf's exact rounding when the
 * product is a near tie: fine for statistics, not for exact values (use fd_writer_f64). */
static int sig_g(double v, int sig, char *buf, size_t sz)
{
	static const double p10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
				     1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20};
	double a = fabs(v), scaled;
	uint64_t m;
	int e, k, nd, n = 0, i, point;

	/* a whole number below 1e15 (the conversion truncates exactly there; floor() would
	 * be a library call) */
	if (a < 1e15 && (double)(int64_t)a == a)
		return int_dec((uint64_t)a, v < 0, buf);
	if (a < 1e-5 || a >= 1e15 || sig < 1 || sig > 15)
		return snprintf(buf, sz, "%.*g", sig < 1 ? 1 : sig > 17 ? 17 : sig, v);
	/* e = floor(log10(a)): the last power of ten not above a (pw[i] = 1e(i-5)) */
	{
		static const double pw[] = {1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1e0, 1e1, 1e2, 1e3, 1e4, 1e5,
					    1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
		uint64_t bits;
		int b2;

		/* a in [2^(b2-1), 2^b2): floor((b2-1) * log10(2)) is floor(log10(a)) or one
		 * less (78913 / 2^18 = 0.30103); the loops settle it against the table */
		memcpy(&bits, &a, sizeof(bits));
		b2 = (int)((bits >> 52) & 0x7ff) - 1022;
		e = (b2 - 1) * 78913;
		e = e >= 0 ? e >> 18 : -((-e + (1 << 18) - 1) >> 18);
		if (e < -5)
			e = -5;
		if (e > 14)
			e = 14;
		while (e > -5 && a < pw[e + 5])
			e--;
		while (e < 14 && a >= pw[e + 6])
			e++;
	}
	k = sig - 1 - e;
	scaled = k >= 0 ? a * p10[k] : a / p10[-k];
	/* llround without the library call: scaled >= 0, and scaled - floor(scaled) is exact */
	m = (uint64_t)scaled;
	if (scaled - (double)m >= 0.5)
		m++;
	if (m >= (uint64_t)p10[sig]) {  /* rounding carried into a new digit */
		m = (m + 5) / 10;
		e++;
	}
	nd = dec_len(m);                /* sig digits */
	if (v < 0)
		buf[n++] = '-';
	point = e + 1;                  /* digits before the decimal point */
	if (point <= 0) {
		buf[n++] = '0';
		buf[n++] = '.';
		for (i = 0; i < -point; i++)
			buf[n++] = '0';
		put_dec(m, nd, buf + n);
		n += nd;
	} else if (point >= nd) {
		put_dec(m, nd, buf + n);
		n += nd;
		for (i = nd; i < point; i++)
			buf[n++] = '0';
		return n;
	} else {
		uint64_t scale = p10u[nd - point];

		put_dec(m / scale, point, buf + n);
		n += point;
		buf[n++] = '.';
		put_dec(m % scale, nd - point, buf + n);
		n += nd - point;
	}
	while (buf[n - 1] == '0')
		n--;
	if (buf[n - 1] == '.')
		n--;
	return n;
}

/* Room for a number and its separator: sig_g and shortest_g write at most 25 bytes. */
#define NUM_ROOM 48

void fd_writer_f64_sig(struct fd_writer *w, double v, int sig)
{
	char *p, *start;

	if (!isfinite(v)) {
		fd_writer_null(w);
		return;
	}
	if (w->ndjson) {
		if (next_col(w) && (p = fd_out_room(w->out, NUM_ROOM)))
			fd_out_advance(w->out, (size_t)sig_g(v, sig, p, NUM_ROOM));
		return;
	}
	/* CSV, the bulk of fd-features' output: separator and digits straight into the buffer */
	if (w->col >= w->ncols)
		return;
	start = p = fd_out_room(w->out, NUM_ROOM + 1);
	if (w->col++ && p)
		*p++ = ',';
	if (p) {
		p += sig_g(v, sig, p, NUM_ROOM);
		fd_out_advance(w->out, (size_t)(p - start));
	}
}

/* Values per fd_out_room() in fd_writer_f64_sig_n: each with its separator. */
#define NUM_CHUNK (FD_OUT_ROOM_MAX / (NUM_ROOM + 1))

void fd_writer_f64_sig_n(struct fd_writer *w, const double *v, size_t n, int sig)
{
	size_t i, k;
	char *p, *start;

	if (w->ndjson) {
		for (i = 0; i < n; i++)
			fd_writer_f64_sig(w, v[i], sig);
		return;
	}
	/* CSV: a chunk of values at a time straight into the buffer, an absent one being only
	 * its separator; the column count as one value at a time would keep it */
	if (n > w->ncols - w->col)
		n = w->ncols - w->col;
	while (n) {
		k = n < NUM_CHUNK ? n : NUM_CHUNK;
		if (!(start = p = fd_out_room(w->out, k * (NUM_ROOM + 1))))
			return;
		for (i = 0; i < k; i++) {
			if (w->col++)
				*p++ = ',';
			if (isfinite(v[i]))
				p += sig_g(v[i], sig, p, NUM_ROOM);
		}
		fd_out_advance(w->out, (size_t)(p - start));
		v += k;
		n -= k;
	}
}

void fd_writer_f64(struct fd_writer *w, double v)
{
	char buf[40];
	int n;

	if (!isfinite(v)) {
		fd_writer_null(w);
		return;
	}
	if (!next_col(w))
		return;
	n = shortest_g(v, buf, sizeof(buf));
	fd_out_write(w->out, buf, (size_t)n);
}

void fd_writer_fixed(struct fd_writer *w, double v, int decimals)
{
	char buf[400];
	int n, i;

	if (!isfinite(v)) {
		fd_writer_null(w);
		return;
	}
	if (!next_col(w))
		return;
	if (decimals < 0)
		decimals = 0;
	if (decimals > 40)
		decimals = 40;
	n = snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	if (n < 0 || (size_t)n >= sizeof(buf)) {  /* beyond 1e358: cannot happen for a double */
		n = shortest_g(v, buf, sizeof(buf));
	} else if (buf[0] == '-') {
		/* -0.004 to 2 decimals is "-0.00": write "0.00" */
		for (i = 1; i < n && (buf[i] == '0' || buf[i] == '.'); i++)
			;
		if (i == n) {
			memmove(buf, buf + 1, (size_t)n);
			n--;
		}
	}
	fd_out_write(w->out, buf, (size_t)n);
}

void fd_writer_bool(struct fd_writer *w, int v)
{
	if (!next_col(w))
		return;
	if (w->ndjson)
		fd_out_puts(w->out, v ? "true" : "false");
	else
		fd_out_write(w->out, v ? "1" : "0", 1);
}

void fd_writer_ts(struct fd_writer *w, int64_t ms)
{
	char buf[FD_TS_BUFSZ];

	if (!next_col(w))
		return;
	fd_format_ts(ms, buf);
	if (w->ndjson)
		fd_out_write(w->out, "\"", 1);
	fd_out_puts(w->out, buf);
	if (w->ndjson)
		fd_out_write(w->out, "\"", 1);
}

void fd_writer_amount(struct fd_writer *w, int64_t minor, int exponent)
{
	char buf[FD_AMOUNT_BUFSZ];

	if (!next_col(w))
		return;
	fd_out_puts(w->out, fd_format_amount(minor, exponent, buf));
}

void fd_writer_json(struct fd_writer *w, const char *json, size_t n)
{
	if (!json || (n == 0 && w->ndjson)) {
		fd_writer_null(w);
		return;
	}
	if (!next_col(w))
		return;
	if (w->ndjson)
		fd_out_write(w->out, json, n);
	else
		csv_text(w, json, n);
}

void fd_writer_end(struct fd_writer *w)
{
	while (w->col < w->ncols)
		fd_writer_null(w);
	if (w->ndjson)
		fd_out_write(w->out, "}\n", 2);
	else
		fd_out_write(w->out, "\n", 1);
	w->col = w->ncols;
}
