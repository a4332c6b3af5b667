/*
 * fd_audit.h — the hash-chained, append-only audit log, and digests of the rows a change wrote.
 *
 * Every change any tool makes to the store appends one entry, in the same SQLite transaction
 * as the change, through fd_audit_append() — the one function that writes audit entries.
 * An entry's hash is the SHA-256 of its canonical encoding (below), which includes the hash of
 * the entry before it (64 zeros for the first), so editing, deleting or inserting an entry
 * breaks the chain.  Triggers refuse UPDATE and DELETE on audit_log.
 *
 * Canonical encoding of an entry: for each of seq, ts, actor, host, tool, version, action,
 * object_type, object_id, details, data_digest, prev_hash in that order, the decimal byte
 * length, ':', the bytes, ',' (a netstring; integers in decimal, a NULL data_digest as the
 * empty string).
 *
 * A data digest is the SHA-256 over the rows a change wrote, each column encoded by type
 * (fd_digest_* below) in the table's column order, rows in rowid order.  fd-audit verify
 * recomputes it from the table with fd_audit_digest_rows(), so data edited behind the tools'
 * back is detected.
 */
#ifndef FD_AUDIT_H
#define FD_AUDIT_H

#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

#include "fd_err.h"
#include "fd_store.h"

struct fd_audit_entry {
	const char *action;       /* "ingest.source", "store.migrate", ... (listed in fd-audit.1) */
	const char *object_type;  /* "source", "store", "case", ... */
	const char *object_id;    /* the object's key as text */
	const char *details;      /* a JSON object's text; NULL = "{}" */
	const char *data_digest;  /* 64 lowercase hex, or NULL when the change wrote no rows */
};

/*
 * Append an entry stamped with the store's actor, host, tool and version and the current
 * time.  Must be called inside fd_store_begin()/fd_store_commit(): the entry commits or rolls
 * back with the change it records.  *seq (may be NULL) receives the entry's sequence number.
 */
int fd_audit_append(struct fd_store *st, const struct fd_audit_entry *e, int64_t *seq,
		    struct fd_err *err);

/* The fields of a stored entry, for recomputing its hash. */
struct fd_audit_row {
	int64_t seq, ts;
	const char *actor, *host, *tool, *version, *action, *object_type, *object_id, *details;
	const char *data_digest;  /* NULL or hex */
	const char *prev_hash;
};
/* The hash an entry must have: lowercase hex into hex[65]. */
void fd_audit_hash(const struct fd_audit_row *r, char hex[65]);

/* The genesis prev_hash: 64 '0'. */
extern const char fd_audit_genesis[65];

/* ---- row digests --------------------------------------------------------------------- */

struct fd_digest {
	crypto_hash_sha256_state st;
	int64_t rows;
	size_t n;                  /* bytes waiting in buf */
	unsigned char buf[4096];   /* values are batched: one hash update per 4 KiB */
	/* when set, full buffers go to sink instead of the hash (fd_digest_init_sink) */
	void (*sink)(void *ctx, const unsigned char *p, size_t n);
	void *sink_ctx;
};

void fd_digest_init(struct fd_digest *d);
/* Encode only: every block of encoded bytes is handed to sink, in order, so that another
 * thread can hash them (the SHA-256 of the sink's bytes is the digest).  fd_digest_final
 * must not be called; fd_digest_flush hands over what is buffered. */
void fd_digest_init_sink(struct fd_digest *d, void (*sink)(void *ctx, const unsigned char *p, size_t n),
			 void *ctx);
void fd_digest_flush(struct fd_digest *d);
/* One column value each; call in the table's column order, then fd_digest_row_end(). */
void fd_digest_int(struct fd_digest *d, int64_t v);
void fd_digest_real(struct fd_digest *d, double v);
void fd_digest_text(struct fd_digest *d, const char *s, size_t n);  /* s NULL = SQL NULL */
void fd_digest_blob(struct fd_digest *d, const void *p, size_t n);
void fd_digest_null(struct fd_digest *d);
void fd_digest_row_end(struct fd_digest *d);
/* Lowercase hex of everything added. */
void fd_digest_final(struct fd_digest *d, char hex[65]);

/*
 * Digest of the rows of table whose key_col equals key, all columns in table order, rows in
 * rowid order.  table and key_col must be plain identifiers (fd_plain_ident), else FD_EUSAGE.
 * *rows (may be NULL) receives the row count.
 */
int fd_audit_digest_rows(struct fd_store *st, const char *table, const char *key_col,
			 int64_t key, char hex[65], int64_t *rows, struct fd_err *err);

/* ---- hex and combined digests -------------------------------------------------------- */

/* 1 when s is exactly n lowercase hex digits (NULL: 0). */
int fd_audit_is_hex(const char *s, size_t n);
/* Parse exactly 2n lowercase hex digits into out[0..n); 1 done, 0 not such hex. */
int fd_audit_unhex(const char *s, unsigned char *out, size_t n);
/* The combined digest of several parts (an entry with "tables", fd_verify.h): SHA-256 over
 * each part's 64 hex digits and a line feed, in order; lowercase hex into hex[65]. */
void fd_audit_combine_digests(char (*parts)[65], size_t n, char hex[65]);

/* ---- recording changes by the convention of fd_verify.h ------------------------------ */

struct fd_verify_part {
	const char *table;    /* plain identifier: [a-z_]+ */
	const char *key_col;  /* plain identifier */
};

/*
 * Append the audit entry for a change that wrote the rows of parts[0..nparts-1] whose key
 * column equals key: digests those rows as they stand (inside the caller's transaction),
 * and appends {action, object_type, object_id = key in decimal} through fd_audit_append()
 * with details = the members of extra_json (a JSON object's text, or NULL) followed by
 * "table", "key", "rows" (one part) or "tables" (several), and the data digest.
 * extra_json must not use the member names "table", "key", "rows" or "tables".
 * Errors: FD_EUSAGE for a bad identifier or bad extra_json, else those of fd_audit_append.
 */
int fd_verify_record(struct fd_store *st, const char *action, const char *object_type,
		     int64_t key, const struct fd_verify_part *parts, size_t nparts,
		     const char *extra_json, int64_t *seq, struct fd_err *err);

#endif
