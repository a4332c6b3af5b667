/*
 * fd_txnstream.h — canonical transactions from an export: one reader for every tool.
 *
 * fd-ingest, fd-features, fd-rules, fd-train and fd-score all read exports the same way:
 * records from CSV or NDJSON (fd_reader.h), columns found through a mapping, every field
 * validated and typed into a struct fd_txn (fd_txn.h).  A record that fails is returned as a
 * bad record with its line, the field, a reason class (for grouping) and a full message; the
 * caller decides whether to reject it and go on or to stop.
 */
#ifndef FD_TXNSTREAM_H
#define FD_TXNSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "fd_buf.h"
#include "fd_err.h"
#include "fd_io.h"
#include "fd_reader.h"
#include "fd_txn.h"

/* ---- column mapping ------------------------------------------------------------------ */

/*
 * A column mapping says, for each canonical field, which column of the export holds it.
 * A mapping file has one "canonical = source column" a line; '#' starts a comment; blank lines
 * are ignored; the source column name is taken verbatim after trimming surrounding blanks
 * (quote it with "..." to keep blanks).  Unmapped canonical fields are looked up under their own
 * name.  For NDJSON a source name with dots ("booking.date") is a path into nested objects
 * when the record has no member of that exact name (fd_reader.h).  Besides the canonical
 * fields, "direction = COLUMN" names a debit/credit indicator column (see amount_sign).  A spec that names no file but a preset ("fd", "sparkov") uses that built-in mapping.
 */
struct fd_colmap;

/* spec: a file path or a preset name; NULL = identity.  FD_EINPUT "FILE:LINE: ..." for a bad
 * line (unknown canonical field, missing '=', a field mapped twice), FD_EIO when unreadable. */
int fd_colmap_load(struct fd_colmap **m, const char *spec, struct fd_err *err);
void fd_colmap_free(struct fd_colmap *m);
/* The source column for a canonical field (never NULL). */
const char *fd_colmap_source(const struct fd_colmap *m, int field);
/* The column of the debit/credit indicator ("direction = DC" in a mapping file), or NULL. */
const char *fd_colmap_direction(const struct fd_colmap *m);
/* NULL-terminated list of preset names. */
const char *const *fd_colmap_presets(void);
/* The mapping as a JSON object of the fields that differ from identity (for the sources row). */
int fd_colmap_json(const struct fd_colmap *m, struct fd_buf *out);

/* ---- the stream ---------------------------------------------------------------------- */

struct fd_txnstream_opts {
	int format;              /* FD_FMT_AUTO / FD_FMT_CSV / FD_FMT_NDJSON */
	char delimiter;          /* CSV; 0 = ',' */
	int tz_offset_min;       /* for naive timestamps */
	const char *currency;    /* default currency; NULL = "USD" */
	const struct fd_colmap *map; /* NULL = identity */
	int hash;                /* compute the SHA-256 of the raw input (fd_in_sha256) */
	int no_metadata;         /* leave t->metadata NULL: the caller never reads the other
				    columns (features, rules, scoring), so their JSON is not built */
	/* How the export writes things (all zero = the strict defaults above). */
	const struct fd_tz *tz;  /* zone of naive timestamps (fd_tz.h); NULL = tz_offset_min */
	int dst_policy;          /* enum fd_tz_dst: gaps and repeats in tz */
	const char *const *date_formats; /* NULL-terminated --date-format list, or NULL */
	int amount_flags;        /* FD_AMT_DECIMAL_COMMA | FD_AMT_ROUND (fd_parse_amount_ex) */
	int amount_sign;         /* enum fd_amount_sign */
	const char *encoding;    /* fd_reader_opts.encoding: NULL = UTF-8 as is, "auto", a name */
};

/*
 * The sign of an amount (DESIGN: the canonical amount is what the sender pays, positive; a
 * negative amount is a reversal):
 *   FD_SIGN_SIGNED          as written: negative = reversal (the default).
 *   FD_SIGN_DEBIT_NEGATIVE  a statement's convention: negative = money out (a debit),
 *                           positive = money in (a credit).  The canonical amount is the
 *                           absolute value (sender_id and recipient_id must be mapped to the
 *                           paying and the receiving side: debtor and creditor), and the side
 *                           is kept in metadata as "debit_credit": "debit" or "credit".
 * A mapped direction column (D/C, DR/CR, DBIT/CRDT, debit/credit, S/H for Soll/Haben; any
 * case) takes precedence: its value gives "debit_credit", the amount must then be unsigned
 * or negative for a reversal, as in the default.
 */
enum fd_amount_sign { FD_SIGN_SIGNED = 0, FD_SIGN_DEBIT_NEGATIVE };
/* "signed" / "debit-negative" -> enum, or -1. */
int fd_amount_sign_parse(const char *s);

/* Why a record was not accepted. */
struct fd_txn_bad {
	int field;               /* canonical field, or -1 for the record as a whole */
	const char *field_name;  /* its name, or "record" */
	const char *cls;         /* the reason without the value, for grouping ("bad amount") */
	char msg[400];           /* the full reason: "bad amount '12.345' (...)" */
};

struct fd_txnstream;

/*
 * Open path ("-" or NULL = standard input) as a transaction stream.  name, when not NULL, is
 * used in messages instead of the path.  For CSV the header must name a column for each
 * required field (txn_id, ts, amount, sender_id) through the mapping: FD_EINPUT
 * "NAME:1: no column 'ts' for the required field ts (columns: ...)" otherwise, and
 * "NAME: empty input: no header row" for an empty CSV.
 */
int fd_txnstream_open(struct fd_txnstream **ts, const char *path, const char *name,
		      const struct fd_txnstream_opts *o, struct fd_err *err);
void fd_txnstream_free(struct fd_txnstream *ts);

/*
 * The next record: 1 with *t filled (strings valid until the next call; t->line set,
 * t->source_id 0), 2 for a bad record (*bad filled; the stream goes on), 0 at the end, or a
 * negated status on an error that ends the stream (err set).
 */
int fd_txnstream_next(struct fd_txnstream *ts, struct fd_txn *t, struct fd_txn_bad *bad,
		      struct fd_err *err);

/* The current record's first line, and its bytes as in the input. */
int64_t fd_txnstream_line(const struct fd_txnstream *ts);
void fd_txnstream_raw(const struct fd_txnstream *ts, const char **s, size_t *n);
int fd_txnstream_format(const struct fd_txnstream *ts);
const char *fd_txnstream_name(const struct fd_txnstream *ts);
/* Amounts rounded so far under FD_AMT_ROUND (records whose value changed). */
int64_t fd_txnstream_rounded(const struct fd_txnstream *ts);
/* The character encoding in use (fd_reader_encoding). */
const char *fd_txnstream_encoding(const struct fd_txnstream *ts);
/* The underlying input (bytes read, size, compression). */
struct fd_in *fd_txnstream_in(const struct fd_txnstream *ts);

#endif
