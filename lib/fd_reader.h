/*
 * fd_reader.h — records from CSV (through libcsv) or NDJSON (through jansson), one interface.
 *
 * A reader pulls bytes from an fd_in and yields one record at a time, with the line it starts
 * on.  The caller binds the column names it wants once (fd_reader_bind) and then reads values
 * by slot, so the same code serves CSV (columns by position, from the header row) and NDJSON
 * (members by name, per object).  Values are returned as text: a JSON string decoded, a JSON
 * number as its token exactly as written ("12.50" stays "12.50", 1e3 stays "1e3": never a
 * binary double printed back), true and false as "true"/"false", an object or array as its
 * JSON text as written, null or a missing member as absent.
 *
 * CSV is RFC 4180: a header row; quoted fields with doubled quotes, embedded delimiters and
 * newlines; CRLF or LF; a UTF-8 byte-order mark ignored; blank lines skipped.  A row whose
 * field count differs from the header's is a bad record (FD_EINPUT from fd_reader_next with
 * the record still available through fd_reader_raw), not a fatal error.  Spaces are part of a
 * field (RFC 4180: never trimmed); a line of nothing but spaces and tabs counts as blank.  A
 * quote inside an unquoted field or text after a closing quote makes a bad record that ends
 * with the line where the fault is; reading goes on with the next line.
 * NDJSON: one JSON object per line, blank lines ignored; a line that is not a JSON object, or
 * that repeats a member name, is a bad record with jansson's message and column.
 *
 * Line numbers count line feeds, as `sed -n 12p` and editors do: a record whose quoted field
 * spans lines 4-6 starts on line 4 and the next record on line 7.
 *
 * Memory is bounded by the longest record, never by the input size.
 */
#ifndef FD_READER_H
#define FD_READER_H

#include <stddef.h>
#include <stdint.h>

#include "fd_buf.h"
#include "fd_err.h"
#include "fd_io.h"

enum fd_format {
	FD_FMT_AUTO = 0,
	FD_FMT_CSV,
	FD_FMT_NDJSON,
};

/* "csv" / "ndjson" -> format, or -1. */
int fd_format_parse(const char *s);
const char *fd_format_name(int fmt);

struct fd_reader_opts {
	int format;        /* FD_FMT_AUTO: NDJSON when the first non-blank byte is '{', else CSV */
	char delimiter;    /* CSV field delimiter; 0 = ',' */
	/* The input's character encoding: NULL or "utf-8" = the bytes as they are (UTF-8);
	 * an iconv name ("windows-1252", "iso-8859-15", "utf-16le", "utf-16" with its BOM) =
	 * converted to UTF-8 as it streams, a sequence invalid in it becoming the byte 0xFF
	 * (see fd_reader_invalid_at); "auto" = UTF-16LE/BE when the input starts with its
	 * byte-order mark, else UTF-8 checked as it streams: the first invalid byte ends the
	 * input (FD_EINPUT "NAME:LINE: not UTF-8: byte 0xe4 at byte offset N ...", suggesting
	 * --encoding).  An unknown name is FD_EUSAGE from fd_reader_open. */
	const char *encoding;
};

struct fd_reader;

/*
 * Create a reader over in (borrowed: it must outlive the reader).  For CSV this reads the
 * header row; FD_EINPUT when the header is malformed or has a duplicated column name
 * ("tx.csv:1: duplicate column 'amount' in the header (columns 3 and 5)").  FD_EUSAGE for a
 * delimiter that is a quote or a line end.  o may be NULL (auto-detect, comma).
 * An empty input (or one of blank lines only) is not an error: the reader yields no record,
 * and fd_reader_format() says FD_FMT_CSV unless NDJSON was asked for.
 */
int fd_reader_open(struct fd_reader **r, struct fd_in *in, const struct fd_reader_opts *o,
		   struct fd_err *err);
void fd_reader_free(struct fd_reader *r);

/* The detected format (FD_FMT_CSV or FD_FMT_NDJSON). */
int fd_reader_format(const struct fd_reader *r);

/* CSV: the header's column names (borrowed, valid for the reader's life).  NDJSON: 0 / NULL. */
size_t fd_reader_columns(const struct fd_reader *r, const char *const **names);

/*
 * Ask for a column / member by name; returns its slot (0, 1, ...).  For CSV, a name that is not
 * in the header still gets a slot, whose value is always absent; fd_reader_has_column() tells.
 * Bind before the first fd_reader_next(): -1 after it, or when out of memory.  Binding a name
 * again returns the slot it already has.
 */
int fd_reader_bind(struct fd_reader *r, const char *name);
/* CSV: 1 when the header has this column.  NDJSON: always 1 (members vary per record). */
int fd_reader_has_column(const struct fd_reader *r, const char *name);

/*
 * Advance to the next record.  Returns 1 when a record is available, 0 at the end of input,
 * FD_EINPUT (negated: -FD_EINPUT) for a bad record that the caller may reject and go past
 * (err names the problem; fd_reader_line and fd_reader_raw describe the record), and
 * -FD_EIO for a read error, after which the reader is finished.
 * For a bad record the message is the problem alone ("expected 17 fields, found 16"), without
 * file or line, so that the caller can write "tx.csv:1234: expected 17 fields, found 16" from
 * fd_in_name() and fd_reader_line().  For -FD_EIO the message names the input, and err->code
 * is FD_EINPUT when the cause is a corrupt or truncated zstd stream (bad data, exit 3) rather
 * than FD_EIO; every later call returns -FD_EIO again.
 */
int fd_reader_next(struct fd_reader *r, struct fd_err *err);

/* The line on which the current record starts (1-based; the CSV header is line 1). */
int64_t fd_reader_line(const struct fd_reader *r);

/* The current record's bytes as they were in the input, without the final newline (LF, CRLF
 * or CR).  For a record made bad by malformed quoting: its lines up to the faulty one.  Valid
 * until the next fd_reader_next(); "" with n = 0 before the first record and at the end. */
void fd_reader_raw(const struct fd_reader *r, const char **s, size_t *n);

/* The value in a slot: 1 and (s, n) when present, 0 when absent (missing member, JSON null,
 * or a CSV column not in the header).  An empty CSV field is present with n = 0.
 * (s, n) stays valid until the next fd_reader_next(). */
int fd_reader_get(const struct fd_reader *r, int slot, const char **s, size_t *n);

/*
 * Append to out a JSON object holding every column / member of the current record that was
 * not bound, unchanged: CSV values as JSON strings (empty fields included), NDJSON members as
 * their original JSON values.  Appends "{}" when there are none; returns 0 or -1 (memory).
 * Returns the number of members appended through *count when count is not NULL.
 */
int fd_reader_unbound_json(const struct fd_reader *r, struct fd_buf *out, size_t *count);

/* The encoding in use, lower case: "utf-8" (also when none was given), the name given, or
 * what "auto" chose ("utf-8", "utf-16le", "utf-16be"; decided by fd_reader_open). */
const char *fd_reader_encoding(const struct fd_reader *r);

/* When the current record holds a sequence that was not valid in the encoding: 1, with the
 * column (CSV header name, NDJSON member name; not NUL-terminated: name_len bytes) and the
 * byte offset of the first one within that field's text.  0 otherwise. */
int fd_reader_invalid_at(const struct fd_reader *r, const char **name, size_t *name_len,
			 size_t *offset);

/* Records yielded so far (good and bad), not counting the CSV header. */
int64_t fd_reader_count(const struct fd_reader *r);

/* For tests and fuzzing only: 0 sends every CSV line through libcsv instead of the quick
 * splitter that handles the common lines itself, and every NDJSON line through jansson
 * instead of the quick validating scanner (the two must agree).  Default 1. */
extern int fd_reader_csv_quick;
extern int fd_reader_ndjson_quick;

#endif
