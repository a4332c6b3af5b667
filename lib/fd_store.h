/*
 * fd_store.h — the evidence store: one SQLite file shared by every fd tool.
 *
 * Opening applies the pragmas of DESIGN.md (WAL, busy timeout, foreign keys) and brings the
 * schema up to date with forward-only migrations, each in one transaction together with its
 * audit entry.  The file is marked with PRAGMA application_id FD_STORE_APP_ID; any other
 * SQLite file (or a non-SQLite file) is refused with FD_EINPUT, and a store written by a newer
 * fd (user_version above what this build knows) is refused rather than misread.
 *
 * Writes happen inside fd_store_begin() / fd_store_commit(): BEGIN IMMEDIATE, so a second
 * writer waits up to the busy timeout and then fails with FD_EIO "store is locked".  A run that
 * is killed before commit leaves the store as it was (SQLite's atomic commit).
 *
 * The store also carries who is acting (actor, tool, version, host): every audit entry written
 * through it (fd_audit.h) is stamped with them.
 */
#ifndef FD_STORE_H
#define FD_STORE_H

#include <sqlite3.h>
#include <stdint.h>

#include "fd_err.h"
#include "fd_txn.h"

#define FD_STORE_APP_ID 0x46445354 /* "FDST" */

/* Who acts: copied by fd_store_open. */
struct fd_who {
	const char *actor;    /* --actor / $FD_ACTOR / login name */
	const char *tool;     /* "fd-ingest" */
	const char *version;  /* FD_VERSION */
};

enum {
	FD_STORE_CREATE = 1,   /* create the file when missing (otherwise FD_EIO "no such store") */
	FD_STORE_READONLY = 2, /* open for reading; no migration (an outdated store is refused) */
	FD_STORE_ANY_VERSION = 4, /* with READONLY: accept an older schema too (fd-audit verify,
				   * which reports a user_version the audit log does not record) */
};

struct fd_store;

/* Open (and create / migrate) the store at path.  Errors: FD_EIO (cannot open, locked),
 * FD_EINPUT (not an fd store, newer schema, corrupt). */
int fd_store_open(struct fd_store **st, const char *path, int flags, const struct fd_who *who,
		  struct fd_err *err);
/* FD_STORE_READONLY opens with SQLite's URI parameter mode=ro, and immutable=1 when the
 * store's directory cannot be written and it has no -wal file (read-only media, an
 * immutable or read-only directory): such a store can still be read and verified. */
/* 1 when st was opened FD_STORE_READONLY. */
int fd_store_readonly(const struct fd_store *st);
/* Close; rolls back a transaction still open.  Accepts NULL. */
void fd_store_close(struct fd_store *st);

/* The SQLite handle, for the modules that own tables (prepare statements with bound
 * parameters; never build SQL from values). */
sqlite3 *fd_store_db(struct fd_store *st);
const char *fd_store_path(const struct fd_store *st);
const struct fd_who *fd_store_who(const struct fd_store *st);
/* This machine's host name (for audit entries). */
const char *fd_store_host(const struct fd_store *st);
/* The schema version (PRAGMA user_version) and the newest this build knows. */
int fd_store_schema_version(struct fd_store *st);
int fd_store_schema_latest(void);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK.  Not nestable. */
int fd_store_begin(struct fd_store *st, struct fd_err *err);
int fd_store_commit(struct fd_store *st, struct fd_err *err);
void fd_store_rollback(struct fd_store *st);
int fd_store_in_txn(const struct fd_store *st);

/* Run SQL with no result rows and no parameters (schema work).  FD_EIO with SQLite's message. */
int fd_store_exec(struct fd_store *st, const char *sql, struct fd_err *err);
/* Prepare a statement; FD_EIO with SQLite's message and the statement's start. */
int fd_store_prepare(struct fd_store *st, sqlite3_stmt **stmt, const char *sql, struct fd_err *err);
/* Map the last SQLite error on the handle to an fd status and message ("store is locked"
 * for BUSY, "disk full" for FULL, ...) prefixed with what; returns the code. */
int fd_store_error(struct fd_store *st, const char *what, struct fd_err *err);

/* ---- transactions read back from the store ------------------------------------------- */

/*
 * Iterate stored transactions as struct fd_txn, in time order (ts, then id) or, for a
 * source, in line order.  The strings of the filled txn are valid until the next call.
 * where:
 *   FD_TXN_BY_SOURCE: arg_a = source id
 *   FD_TXN_BY_TIME:   ts >= arg_a and ts < arg_b (INT64_MIN / INT64_MAX for open ends)
 */
enum { FD_TXN_BY_SOURCE = 1, FD_TXN_BY_TIME = 2 };
struct fd_txn_iter;
int fd_txn_iter_open(struct fd_txn_iter **it, struct fd_store *st, int where, int64_t arg_a,
		     int64_t arg_b, struct fd_err *err);
/* 1 with *t filled, 0 at the end, or an fd status (negated) on error. */
int fd_txn_iter_next(struct fd_txn_iter *it, struct fd_txn *t, struct fd_err *err);
void fd_txn_iter_free(struct fd_txn_iter *it);

#endif
