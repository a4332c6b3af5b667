/*
 * fd_verify.h — checking the audit chain and the data it vouches for; reading the log back.
 * Recording changes so that they can be checked (fd_verify_record) is in fd_audit.h; making
 * seals (Ed25519 signatures over the head of the chain) in fd_seal.h.  fd-audit(1) is the tool over this module; fd_bundle.h reuses it on the
 * snapshot inside an evidence bundle.
 *
 * WHAT fd_verify_store() CHECKS, in one read-only pass over the store:
 *
 *  1. The chain (fd_audit.h): entries numbered 1, 2, 3, ... without gaps (a gap is a deleted
 *     entry); each entry's prev_hash equals the hash of the entry before it (genesis: 64 '0');
 *     each entry's stored hash equals the hash recomputed from its fields (else it was edited).
 *  2. The data each entry vouches for — the convention below: the rows an entry covers are
 *     digested again with fd_audit_digest_rows() and compared with the entry's data_digest,
 *     and their count with the count the entry recorded.
 *  3. Coverage: every row of a covered table must be vouched for by some entry.  Rows whose
 *     key no entry names were written behind the tools' back (e.g. inserted with the sqlite3
 *     shell).  Covered tables are declared in the schema (fd_table_covers, fd_schema.h),
 *     so hand-made rows are caught even in a store where no tool ever wrote that table;
 *     a (table, key column) that an entry names but the schema does not declare (a table
 *     newer than this build) is checked too.
 *  1b. The schema version: PRAGMA user_version must be the version that the last
 *     store.migrate entry recorded (lowered or raised by hand is a finding).
 *  4. Custody: every sources row has its ingest.source entry (object source/<id>), and the
 *     row's path, sha256, size, format, rows_accepted, rows_rejected and actor are those the
 *     entry recorded.
 *  5. Seals (audit_seals): each seal's head is the hash of the entry it names (an entry past
 *     the end of the log means entries were deleted from the end: the only way to detect
 *     that, besides data left without an entry), and its signature verifies with the public
 *     key stored with it.  Given a key (opts.key), at least one seal must have been made with
 *     it; seals by other keys are reported as notes, not findings.
 *
 * THE CONVENTION FOR ENTRIES THAT RECORD ROWS (every capability that writes rows follows it):
 *
 *   An entry whose details carry "table" and "key" covers the rows of that table whose key
 *   column equals the entry's object_id (a decimal integer); its data_digest is the digest
 *   of those rows, all columns in table order, rows in rowid order (fd_audit_digest_rows),
 *   as they stand when the change commits; "rows" records how many (ingest.source's
 *   "accepted" is read as "rows" when "rows" is absent).  Examples:
 *	ingest.source  source/3    {"table":"transactions","key":"source_id",...}
 *	audit.seal     seal/2      {"table":"audit_seals","key":"id","rows":1,...}
 *	case.status    case/12     {"tables":[{"table":"cases","key":"id",...},...]}
 *
 *   An entry may cover several tables of one object with "tables": an array of
 *   {"table":T,"key":K,"rows":N,"digest":HEX}; its data_digest is then the SHA-256 of the
 *   parts' digests, each as 64 hex digits and a line feed, in array order.
 *
 *   Mutable rows (a case's status, assignee): every change appends an entry recording the
 *   state of the object's rows AFTER the change.  Verification compares, for each (table,
 *   key column, key value), only the LAST entry that covers it with the rows as they are now;
 *   earlier entries are history (their digests still sit in the chain, so they cannot be
 *   altered either).  Hence: after the last entry for an object, nothing may change its rows
 *   without a new entry — which is exactly what "behind the tools' back" means.  An object's
 *   entries should always name the same tables, so that every part has a current digest.
 *
 *   A change that writes many rows with no natural key per change (fd-score writing a batch
 *   of scores) gives them one: a run table with one row per run (score_runs.id), a column on
 *   the rows naming it (scores.run_id), and the entry covers {"table":"scores","key":"run_id"}
 *   on object score_run/<id>.  Rows that a later run replaces must then belong to the new
 *   run (an upsert sets run_id), and the earlier run's entry is superseded only if a later
 *   entry covers that run again: simplest is never to update a scored row, only to add.
 *
 *   fd_verify_record() (fd_audit.h) builds such an entry: call it inside the change's store
 *   transaction, after the rows are written.
 *
 * Not covered (documented in fd-audit.1; declared in fd_table_covers): entities and
 * entity_links (derived from the transactions and rewritten by every ingest), sources columns the entry does not record
 * (compression, options, ingested_at, tool_version).
 *
 * Messages name the entry by sequence, action and object, then say what is wrong:
 *   audit entry 7 (ingest.source source/1): data digest mismatch: rows of transactions with
 *   source_id 1 changed since the entry
 */
#ifndef FD_VERIFY_H
#define FD_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "fd_audit.h"   /* fd_verify_record, the writer of the convention below */
#include "fd_err.h"
#include "fd_seal.h"    /* seals, which the verifier checks */
#include "fd_store.h"

/* ---- verification ---------------------------------------------------------------------- */

struct fd_verify_finding {
	int64_t seq;      /* the audit entry it concerns; 0 when none (rows with no entry) */
	const char *msg;  /* one line, without the tool name */
};

struct fd_verify_opts {
	/* A public key whose seals must verify (and at least one must exist), or NULL. */
	const unsigned char *key;  /* crypto_sign_PUBLICKEYBYTES */
	/* A seal's short text (fd_seal_text) to check against this store and key (needs key). */
	const char *seal_text;
	/* Called for each finding, ordered by the entry they concern (findings that concern no
	 * entry last); the first call names the first broken entry.  May be NULL. */
	void (*on_finding)(void *ctx, const struct fd_verify_finding *f);
	/* Called for information that is not a finding (a seal made with another key). */
	void (*on_note)(void *ctx, const char *msg);
	/* Called now and then: rows digested so far. */
	void (*on_progress)(void *ctx, int64_t rows);
	void *ctx;
};

struct fd_verify_result {
	int64_t entries;          /* audit entries read */
	int64_t head_seq;         /* the last entry (0 when the log is empty) */
	char head_hash[65];
	char store_id[65];        /* the hash of entry 1: names the store in seals ("" if none) */
	int64_t digests;          /* (table, key) data digests recomputed */
	int64_t rows;             /* rows digested */
	int64_t sources;          /* sources rows checked */
	int64_t seals;            /* seals checked */
	int64_t seals_key;        /* ... made with opts.key */
	int64_t seals_other;      /* ... made with other keys (opts.key given) */
	int64_t findings;
	char first[1024];         /* the first finding's message ("" when intact) */
	int64_t first_seq;
};

/*
 * Verify st (see the top of this file).  Reads only; may run inside a store transaction.
 * Returns FD_OK when everything is intact, FD_EFINDINGS when anything is not (err: the first
 * finding; every finding went to opts->on_finding), FD_EIO / FD_EINPUT when the store cannot
 * be read.  opts may be NULL.  res is always filled as far as the run got.
 */
int fd_verify_store(struct fd_store *st, const struct fd_verify_opts *opts,
		    struct fd_verify_result *res, struct fd_err *err);

/* ---- reading the log back --------------------------------------------------------------- */

struct fd_verify_log_filter {
	int64_t since, until;     /* ts >= since and ts < until (INT64_MIN / INT64_MAX: open) */
	const char *actor;        /* exact, or NULL */
	const char *action;       /* a glob (sqlite GLOB: '*', '?', '[...]'), or NULL */
	const char *object_type;  /* exact, or NULL */
	const char *object_id;    /* exact, or NULL (only with object_type) */
};

/* An entry as stored; strings valid until the next fd_verify_log_next(). */
struct fd_verify_log_entry {
	int64_t seq, ts;
	const char *actor, *host, *tool, *version, *action, *object_type, *object_id, *details;
	const char *data_digest;  /* NULL when the entry wrote no rows */
	const char *prev_hash, *hash;
};

struct fd_verify_log;
/* Entries matching f (NULL: all) in sequence order. */
int fd_verify_log_open(struct fd_verify_log **it, struct fd_store *st,
		       const struct fd_verify_log_filter *f, struct fd_err *err);
/* 1 with *e filled, 0 at the end, or a negated fd status. */
int fd_verify_log_next(struct fd_verify_log *it, struct fd_verify_log_entry *e, struct fd_err *err);
void fd_verify_log_free(struct fd_verify_log *it);

/* The columns of a log record, for fd_writer: seq, ts, actor, host, tool, version, action,
 * object_type, object_id, details, data_digest, prev_hash, hash. */
extern const char *const fd_verify_log_columns[];
extern const size_t fd_verify_log_ncolumns;
struct fd_writer;
/* Write e as one record (ts as RFC 3339, details as JSON). */
void fd_verify_log_write(struct fd_writer *w, const struct fd_verify_log_entry *e);

#endif
