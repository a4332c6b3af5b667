/*
 * fd_writer.h — records out as CSV (RFC 4180, quoted only where needed, LF) or NDJSON.
 *
 * The column names are fixed at creation; CSV writes them as the header row.  A record is
 * built value by value in column order between fd_writer_begin() and fd_writer_end():
 * every column gets exactly one value call.  Numbers are written in the C locale; doubles with
 * the shortest form that reads back to the same value ("%.17g" trimmed), or a fixed number of
 * decimals when asked.  Absent values are an empty CSV field and a JSON null.
 * Timestamps go out with fd_writer_ts() as RFC 3339 UTC with milliseconds.
 */
#ifndef FD_WRITER_H
#define FD_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "fd_io.h"

struct fd_writer;

/* out is borrowed.  format is FD_FMT_CSV or FD_FMT_NDJSON (fd_reader.h).  names is copied.
 * NULL when out of memory. */
struct fd_writer *fd_writer_create(struct fd_out *out, int format, const char *const *names,
				   size_t ncols);
void fd_writer_free(struct fd_writer *w);

void fd_writer_begin(struct fd_writer *w);
void fd_writer_str(struct fd_writer *w, const char *s, size_t n);
void fd_writer_cstr(struct fd_writer *w, const char *s);  /* NULL = absent */
void fd_writer_i64(struct fd_writer *w, int64_t v);
void fd_writer_f64(struct fd_writer *w, double v);            /* NaN/inf = absent */
void fd_writer_fixed(struct fd_writer *w, double v, int decimals);
void fd_writer_bool(struct fd_writer *w, int v);              /* CSV 1/0, JSON true/false */
void fd_writer_null(struct fd_writer *w);
void fd_writer_ts(struct fd_writer *w, int64_t ms);
void fd_writer_amount(struct fd_writer *w, int64_t minor, int exponent); /* exact decimal;
	JSON: a number token, e.g. 12.50 */
/* A JSON value written as it is in NDJSON, and as its text in CSV (e.g. metadata). */
void fd_writer_json(struct fd_writer *w, const char *json, size_t n);
void fd_writer_end(struct fd_writer *w);

#endif
