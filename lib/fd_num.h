/* fd_num: numbers as a person reads them.
 *
 * Every amount and count that a person reads (reasons, case lists, reports, dashboards, the text
 * of the forensic tests) goes through here, so one number looks the same everywhere:
 * groups of three digits separated by ',' and a '.' before the fraction, in the C convention
 * whatever the locale ("16,528.81", "1,234", "-1,234,567.50").  The currency is the caller's:
 * these functions print the number only.
 *
 * Machine-readable outputs (CSV, NDJSON, the store) keep plain numbers: use fd_format_amount
 * (fd_txn.h) or printf there, never these. */
#ifndef FD_NUM_H
#define FD_NUM_H

#include <stdint.h>

#include "fd_buf.h"

/* Enough for every output: the longest is INT64_MIN with separators (26 bytes and the NUL). */
#define FD_NUM_BUFSZ 32

/* An exact amount in minor units: minor / 10^exponent with exactly `exponent` fraction digits
 * (clamped to 0..18), e.g. (-123456750, 2) gives "-1,234,567.50" and (1234, 0) gives "1,234".
 * buf must hold FD_NUM_BUFSZ bytes.  Returns buf. */
char *fd_num_amount(int64_t minor, int exponent, char *buf);

/* A count: fd_num_amount(n, 0, buf). */
char *fd_num_count(int64_t n, char *buf);

/* fd_num_count into a buffer of its own, for a format argument:
 * fd_buf_addf(b, "%s rows", FD_NUM(n)).  The buffer is a compound literal that lives to the
 * end of the enclosing block: use the result within the statement. */
#define FD_NUM(n) fd_num_count((int64_t)(n), (char[FD_NUM_BUFSZ]){0})

/* v rounded to `decimals` fraction digits (clamped to 0..9), halves away from zero (as a person
 * rounds, not to even as printf does), with separators: (2.5, 0) gives "3", (0.125, 2) "0.13",
 * (16528.814, 2) "16,528.81".  The double's exact value decides: 2.675 is stored just below
 * the half, so (2.675, 2) gives "2.67".
 * A result that rounds to zero has no sign ("0.00", never "-0.00").  NaN gives "n/a",
 * infinities "infinity" and "-infinity"; a value too large for exact rounding
 * (|v| * 10^decimals >= 9e18) is written with printf's "%.6g" ("1.23457e+20").
 * buf must hold FD_NUM_BUFSZ bytes.  Returns buf. */
char *fd_num_double(double v, int decimals, char *buf);

/* Appends fd_num_double(v, decimals) to b.  0, or -1 when out of memory. */
int fd_num_add(struct fd_buf *b, double v, int decimals);

#endif
