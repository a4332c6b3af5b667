/*
 * fd_writer.h — records out as CSV (RFC 4180, quoted only where needed, LF) or NDJSON.
 *
 * The column names are fixed at creation; CSV writes them as the header row.  A record is
 * built value by value in column order between fd_writer_begin() and fd_writer_end():
 * every column gets exactly one value call (a value beyond the last column is dropped; columns
 * left without one at fd_writer_end() are written absent).  Numbers are written in the C
 * locale (the tools never change LC_NUMERIC); doubles with the shortest of "%.15g", "%.16g",
 * "%.17g" that reads back to the same value (0.1 -> "0.1", 1e21 -> "1e+21"; whole numbers
 * below 2^53 in full digits, -0 as "0"), or a fixed number of decimals when asked (never
 * "-0.00").  Absent values are an empty CSV field and a
 * JSON null.  Timestamps go out with fd_writer_ts() as RFC 3339 UTC with milliseconds.
 *
 * CSV fields are quoted only when they hold a comma, a quote, CR or LF, or begin or end with a
 * space or tab; quotes inside are doubled; lines end with LF.  An empty value in a one-column
 * file is written "" so that the line is not blank.  NDJSON keys come in column order.
 * Output errors (and running out of memory) are kept by the fd_out and reported by
 * fd_out_commit().
 *
 * Text is written verbatim by default, so a value such as "=HYPERLINK(...)" from the data
 * reaches a spreadsheet that opens the CSV as a formula.  fd_writer_excel_safe() makes CSV
 * text values (fd_writer_str, _cstr, _json) that begin with = + - @ tab or CR start with a
 * single quote instead, which spreadsheets show as text (OWASP's CSV-injection advice);
 * numbers, amounts and timestamps are never changed, nor is NDJSON.
 */
#ifndef FD_WRITER_H
#define FD_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "fd_io.h"
#include "fd_reader.h"  /* enum fd_format: FD_FMT_CSV, FD_FMT_NDJSON */

struct fd_writer;

/* out is borrowed.  format is FD_FMT_CSV or FD_FMT_NDJSON.  names is copied.
 * NULL when out of memory. */
struct fd_writer *fd_writer_create(struct fd_out *out, int format, const char *const *names,
				   size_t ncols);
void fd_writer_free(struct fd_writer *w);
/* on = 1: CSV text values that would be spreadsheet formulas get a leading single quote.
 * Accepts NULL (so that it can follow fd_writer_create before the NULL check). */
void fd_writer_excel_safe(struct fd_writer *w, int on);

void fd_writer_begin(struct fd_writer *w);
void fd_writer_str(struct fd_writer *w, const char *s, size_t n);
void fd_writer_cstr(struct fd_writer *w, const char *s);  /* NULL = absent (also for _str) */
void fd_writer_i64(struct fd_writer *w, int64_t v);
void fd_writer_f64(struct fd_writer *w, double v);            /* NaN/inf = absent */
void fd_writer_fixed(struct fd_writer *w, double v, int decimals);
/* v with sig (1..15) significant digits, trailing zeros trimmed, like printf's %.*g but fast:
 * for statistics (features, scores) where round-tripping every bit does not matter.  Unlike
 * %g: whole numbers below 1e15 are written in full ("123456789", not "1.23457e+08"), and
 * magnitudes from 1e-5 to 1e15 without an exponent ("0.0000123", "1234570"); beyond, as %g.
 * NaN/inf = absent; -0 as "0". */
void fd_writer_f64_sig(struct fd_writer *w, double v, int sig);
/* The next n columns: v[0..n-1] each as fd_writer_f64_sig(w, v[i], sig) would write it
 * (the same bytes), with fewer calls and buffer checks: for rows of many numbers. */
void fd_writer_f64_sig_n(struct fd_writer *w, const double *v, size_t n, int sig);
void fd_writer_bool(struct fd_writer *w, int v);              /* CSV 1/0, JSON true/false */
void fd_writer_null(struct fd_writer *w);
void fd_writer_ts(struct fd_writer *w, int64_t ms);
void fd_writer_amount(struct fd_writer *w, int64_t minor, int exponent); /* exact decimal;
	JSON: a number token, e.g. 12.50 */
/* A JSON value written as it is in NDJSON, and as its text in CSV (e.g. metadata).  NULL
 * (or n = 0 in NDJSON) is absent. */
void fd_writer_json(struct fd_writer *w, const char *json, size_t n);
void fd_writer_end(struct fd_writer *w);

#endif
