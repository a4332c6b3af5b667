/*
 * fd_ingest.h — validate an export and load it into the store with chain of custody.
 *
 * One input is one SQLite transaction: its sources row, every accepted transaction, the
 * entities and links it touched, and the audit entry recording it (with a digest of the rows
 * written) commit together or not at all.  A run killed at any instant leaves the store with
 * all of that input or none of it; running again completes it.
 *
 * The input's SHA-256 (of the raw bytes, compressed or not: what sha256sum prints) is computed
 * before any row is read, so an input whose exact bytes were ingested before is recognised at
 * once and not loaded again (res->already).  Standard input is first spooled to a temporary
 * file, hashing as it goes.
 *
 * Nothing is dropped silently: every record that fails validation is passed to on_reject with
 * its line, the field and the reason, and counted; under strict the first one stops the input
 * with FD_EINPUT and nothing of that input is written.
 */
#ifndef FD_INGEST_H
#define FD_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "fd_buf.h"
#include "fd_err.h"
#include "fd_store.h"
#include "fd_txn.h"
#include "fd_txnstream.h"

/* ---- ingest -------------------------------------------------------------------------- */

struct fd_reject {
	const char *source;      /* input name as shown in messages */
	int64_t line;            /* where the record starts */
	const char *field;       /* canonical field, or "record" for a malformed record */
	const char *reason;      /* the full message: "bad amount '12.345' (...)" */
	const char *reason_class;/* the reason without the value, for grouping */
	const char *raw;         /* the record's bytes as in the input */
	size_t rawlen;
};

struct fd_ingest_opts {
	int format;              /* FD_FMT_AUTO / FD_FMT_CSV / FD_FMT_NDJSON */
	char delimiter;          /* CSV; 0 = ',' */
	int tz_offset_min;       /* for naive timestamps */
	const char *currency;    /* default currency (ISO 4217); NULL = "USD" */
	const struct fd_colmap *map; /* NULL = identity */
	int strict;              /* stop at the first bad record, write nothing of the input */
	const char *options_json;/* recorded in sources.options; NULL = "{}" */
	/* How the export writes times, amounts and text (zone, date formats, decimal comma,
	 * rounding, sign convention, encoding: fd_txnstream.h); NULL = the defaults.  Its format,
	 * delimiter, tz_offset_min, currency and map are ignored: the fields above give them. */
	const struct fd_txnstream_opts *parse;
	const char *ns;          /* transaction id namespace: txn_id = ns ':' reference; NULL/"" none */
	int64_t supersede;       /* a source id this load replaces (0: none); see fd_ingest() */
	const char *supersede_reason; /* required with supersede */
	int64_t max_rejects;     /* more rejected records than this fails the input; < 0: no limit */
	double max_rejects_pct;  /* more than this percentage of the records fails it; < 0: no limit */
	int replay_rejects;      /* bytes ingested before: pass their stored rejects to on_reject */
	/* Called for each rejected record (may be NULL). */
	void (*on_reject)(void *ctx, const struct fd_reject *r);
	/* Called for each accepted record, in input order (for --emit); also for the stored
	 * records of an input that was ingested before.  Non-zero return stops with FD_EIO. */
	int (*on_accept)(void *ctx, const struct fd_txn *t);
	/* Called now and then with records read and raw bytes consumed of total (-1 unknown). */
	void (*on_progress)(void *ctx, int64_t records, uint64_t bytes, int64_t total);
	void *ctx;
};

#define FD_INGEST_MAX_REASONS 48

struct fd_ingest_result {
	char name[512];          /* the input's display name */
	int64_t source_id;
	int already;             /* 1: these bytes were ingested before, as source_id; nothing done */
	int64_t already_at;      /* when (ms) */
	int64_t superseded;      /* the source this load superseded, 0 none */
	int over_limit;          /* FD_EINPUT because of max_rejects / max_rejects_pct */
	char sha256[65];
	int64_t size;
	int format;
	int compressed;
	int64_t accepted, rejected;
	int64_t rounded;         /* amounts rounded to the currency's exponent (FD_AMT_ROUND) */
	char encoding[40];       /* the character encoding read ("utf-8", "windows-1252", ...) */
	int64_t entities, links; /* touched */
	struct {
		char reason[160];
		int64_t count;
	} reasons[FD_INGEST_MAX_REASONS];
	size_t nreasons;         /* distinct reasons; past the maximum, counted under "other" */
	int64_t audit_seq;
};

/*
 * Ingest one input (path, or "-" for stdin) into st.  Every rejected record is also stored,
 * with its raw bytes, in ingest_rejects (same transaction; covered by the input's audit
 * entry), and on_reject is called for it; a re-run on bytes already ingested calls on_accept
 * for the stored records and, with replay_rejects, on_reject for the stored rejects.
 *
 * sources.path is the absolute path (symbolic links resolved), with the host in sources.host.
 *
 * With o->supersede = S (S active, not superseded): S's transactions move verbatim to
 * superseded_transactions, this input is loaded (the same bytes as S are allowed), S is marked
 * superseded_by the new source, which records supersedes = S and the reason; an
 * ingest.supersede audit entry on source/S covers both tables.  Without it, bytes of a
 * superseded source are refused (FD_EUSAGE) rather than loaded twice.
 *
 * When the rejects exceed max_rejects / max_rejects_pct, nothing of the input is written
 * (FD_EINPUT, res->over_limit); on_reject has still been called for each of them.  Returns FD_OK when the input was
 * processed (even with rejects), FD_EINPUT for an input that cannot be read as transactions
 * (no header, a required column missing, corrupt compression) or a bad record under strict,
 * FD_EIO for I/O and store errors.  On any error nothing of the input is in the store.
 */
int fd_ingest(struct fd_store *st, const char *path, const struct fd_ingest_opts *o,
	      struct fd_ingest_result *res, struct fd_err *err);

/*
 * The source that `which` names: a source id (decimal), a SHA-256 (64 hex digits) or a path
 * (made absolute as fd_ingest stores it, or as given).  Several sources with that SHA-256 or
 * path: the one not superseded.  FD_EUSAGE (with a message) when none matches or the name is
 * ambiguous.
 */
int fd_ingest_find_source(struct fd_store *st, const char *which, int64_t *source_id, struct fd_err *err);

/*
 * Pass the stored rejects of a source to on_reject, in input order; name goes in
 * fd_reject.source (NULL: the source's path).  *n (may be NULL) receives how many.
 */
int fd_ingest_rejects_of(struct fd_store *st, int64_t source_id, const char *name,
			 void (*on_reject)(void *ctx, const struct fd_reject *r), void *ctx, int64_t *n,
			 struct fd_err *err);

#endif
