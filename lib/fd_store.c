/* fd_store.c — see fd_store.h. */
#include "fd_store.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fd_audit.h"
#include "fd_buf.h"
#include "fd_schema.h"
#include "banned.h"

#define BUSY_TIMEOUT_MS 10000  /* default; $FD_BUSY_TIMEOUT (seconds) overrides */

struct fd_store {
	sqlite3 *db;
	char *path;
	char *actor, *tool, *version;
	struct fd_who who;
	char host[256];
	int in_txn;
	int readonly;
	int busy_ms;
};

static char *dup_or(const char *s, const char *dflt)
{
	return strdup(s ? s : dflt);
}

int fd_store_error(struct fd_store *st, const char *what, struct fd_err *err)
{
	int rc = sqlite3_extended_errcode(st->db), prim = rc & 0xff;
	const char *msg = sqlite3_errmsg(st->db);

	switch (prim) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return fd_err_set(err, FD_EIO, "%s: '%s' is locked by another process (waited %d s)",
				  what, st->path, st->busy_ms / 1000);
	case SQLITE_FULL:
		return fd_err_set(err, FD_EIO, "%s: disk full writing store '%s'", what, st->path);
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return fd_err_set(err, FD_EINPUT, "%s: store '%s' is corrupt or not a database (%s)", what,
				  st->path, msg);
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return fd_err_set(err, FD_EIO, "%s: store '%s' is read-only (%s)", what, st->path, msg);
	default:
		return fd_err_set(err, FD_EIO, "%s: %s", what, msg);
	}
}

int fd_store_exec(struct fd_store *st, const char *sql, struct fd_err *err)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int code = fd_store_error(st, "store", err);

		sqlite3_free(msg);
		return code;
	}
	return FD_OK;
}

int fd_store_prepare(struct fd_store *st, sqlite3_stmt **stmt, const char *sql, struct fd_err *err)
{
	if (sqlite3_prepare_v2(st->db, sql, -1, stmt, NULL) != SQLITE_OK) {
		char what[96];

		snprintf(what, sizeof(what), "preparing '%.60s'", sql);
		*stmt = NULL;
		return fd_store_error(st, what, err);
	}
	return FD_OK;
}

static int pragma_int(struct fd_store *st, const char *sql, int *v, struct fd_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = fd_store_prepare(st, &s, sql, err)))
		return rc;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*v = sqlite3_column_int(s, 0);
		rc = FD_OK;
	} else
		rc = fd_store_error(st, "reading store header", err);
	sqlite3_finalize(s);
	return rc;
}

int fd_store_begin(struct fd_store *st, struct fd_err *err)
{
	if (st->in_txn)
		return fd_err_set(err, FD_EIO, "internal: nested store transaction");
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return fd_store_error(st, "cannot write to the store", err);
	st->in_txn = 1;
	return FD_OK;
}

int fd_store_commit(struct fd_store *st, struct fd_err *err)
{
	int rc;

	if (!st->in_txn)
		return fd_err_set(err, FD_EIO, "internal: commit without a transaction");
	rc = fd_store_exec(st, "COMMIT", err);
	if (rc) {
		fd_store_rollback(st);
		return rc;
	}
	st->in_txn = 0;
	return FD_OK;
}

void fd_store_rollback(struct fd_store *st)
{
	if (st && st->in_txn) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		st->in_txn = 0;
	}
}

int fd_store_in_txn(const struct fd_store *st)
{
	return st->in_txn;
}

int fd_store_schema_latest(void)
{
	return fd_migrations[fd_nmigrations - 1].version;
}

int fd_store_schema_version(struct fd_store *st)
{
	int v = -1;

	pragma_int(st, "PRAGMA user_version", &v, NULL);
	return v;
}

/* A store whose audit log records a migration past its user_version had the version lowered
 * by hand: migrating again would fail half-way (the tables exist), so say what happened. */
static int check_not_migrated(struct fd_store *st, int version, struct fd_err *err)
{
	sqlite3_stmt *s;
	int rc, n = 0;

	if ((rc = fd_store_prepare(st, &s, "SELECT count(*) FROM audit_log WHERE action = 'store.migrate'"
				   " AND object_type = 'store' AND CAST(object_id AS INTEGER) > ?1", err)))
		return rc;
	sqlite3_bind_int(s, 1, version);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int(s, 0);
	else
		rc = fd_store_error(st, "reading the audit log", err);
	sqlite3_finalize(s);
	if (!rc && n)
		rc = fd_err_set(err, FD_EINPUT,
				"store '%s' has schema version %d but its audit log records migrations past it:"
				" the version was lowered behind the tools' back (see fd-audit verify)",
				st->path, version);
	return rc;
}

static int migrate(struct fd_store *st, struct fd_err *err)
{
	int version, rc;
	size_t i;

	for (;;) {
		if ((rc = fd_store_begin(st, err)))
			return rc;
		/* read the version inside the write lock: another process may have migrated */
		if ((rc = pragma_int(st, "PRAGMA user_version", &version, err)))
			goto fail;
		if (version >= fd_store_schema_latest()) {
			fd_store_rollback(st);
			return FD_OK;
		}
		for (i = 0; i < fd_nmigrations && fd_migrations[i].version <= version; i++)
			;
		if (version > 0 && (rc = check_not_migrated(st, version, err)))
			goto fail;
		{
			const struct fd_migration *m = &fd_migrations[i];
			struct fd_buf sql = FD_BUF_INIT, det = FD_BUF_INIT;
			char id[16];
			struct fd_audit_entry e;

			if ((rc = fd_store_exec(st, m->sql, err))) {
				fd_err_prefix(err, "migrating store '%s' to version %d", st->path, m->version);
				goto fail;
			}
			fd_buf_addf(&sql, "PRAGMA user_version = %d", m->version);
			rc = fd_store_exec(st, sql.s, err);
			fd_buf_release(&sql);
			if (rc)
				goto fail;
			if (version == 0) {
				fd_buf_addf(&sql, "PRAGMA application_id = %d", FD_STORE_APP_ID);
				rc = fd_store_exec(st, sql.s, err);
				fd_buf_release(&sql);
				if (rc)
					goto fail;
			}
			snprintf(id, sizeof(id), "%d", m->version);
			fd_buf_adds(&det, "{\"from\":");
			fd_buf_add_i64(&det, version);
			fd_buf_adds(&det, ",\"to\":");
			fd_buf_add_i64(&det, m->version);
			fd_buf_adds(&det, ",\"name\":");
			fd_buf_add_json_str(&det, m->name, strlen(m->name));
			fd_buf_addc(&det, '}');
			e.action = "store.migrate";
			e.object_type = "store";
			e.object_id = id;
			e.details = det.s;
			e.data_digest = NULL;
			rc = det.s ? fd_audit_append(st, &e, NULL, err) : fd_err_set(err, FD_EIO, "out of memory");
			fd_buf_release(&det);
			if (rc)
				goto fail;
		}
		if ((rc = fd_store_commit(st, err)))
			return rc;
	}
fail:
	fd_store_rollback(st);
	return rc;
}

/* 1 when the directory holding path cannot be written (read-only media, a read-only bind
 * mount, an immutable directory, or plain permissions). */
static int dir_readonly(const char *path)
{
	char *copy = strdup(path);
	int ro;

	if (!copy)
		return 0;
	ro = access(dirname(copy), W_OK) != 0;
	free(copy);
	return ro;
}

/*
 * The URI filename (SQLite "URI filenames") that opens path for reading only: mode=ro, and
 * immutable=1 when nothing can change it behind us and SQLite could not create its -shm
 * file: the directory is not writable and there is no -wal (whose frames immutable=1 would
 * ignore).  Reserved characters of the path are %-escaped.
 */
static int readonly_uri(const char *path, struct fd_buf *uri)
{
	struct fd_buf wal = FD_BUF_INIT;
	const char *p;
	int bad, immutable;

	if (fd_buf_adds(&wal, path) || fd_buf_adds(&wal, "-wal")) {
		fd_buf_release(&wal);
		return -1;
	}
	immutable = dir_readonly(path) && access(wal.s, F_OK) != 0 && errno == ENOENT;
	fd_buf_release(&wal);
	bad = fd_buf_adds(uri, path[0] == '/' ? "file://" : "file:");
	for (p = path; *p && !bad; p++)
		bad = *p == '%' || *p == '?' || *p == '#' ? fd_buf_addf(uri, "%%%02X", (unsigned char)*p)
							  : fd_buf_addc(uri, *p);
	if (!bad)
		bad = fd_buf_adds(uri, immutable ? "?mode=ro&immutable=1" : "?mode=ro");
	return bad ? -1 : 0;
}

int fd_store_readonly(const struct fd_store *st)
{
	return st->readonly;
}

int fd_store_open(struct fd_store **out, const char *path, int flags, const struct fd_who *who,
		  struct fd_err *err)
{
	struct fd_buf uri = FD_BUF_INIT;
	struct fd_store *st;
	struct stat sb;
	int rc, appid = 0, version = 0, sflags, exists;

	*out = NULL;
	exists = stat(path, &sb) == 0;
	if (!exists && !(flags & FD_STORE_CREATE))
		return fd_err_set(err, FD_EIO, "no store at '%s' (ingest something first, or give --store)", path);
	if (exists && S_ISDIR(sb.st_mode))
		return fd_err_set(err, FD_EIO, "store '%s' is a directory", path);
	st = calloc(1, sizeof(*st));
	if (!st)
		return fd_err_set(err, FD_EIO, "out of memory");
	st->path = strdup(path);
	st->actor = dup_or(who ? who->actor : NULL, "unknown");
	st->tool = dup_or(who ? who->tool : NULL, "fd");
	st->version = dup_or(who ? who->version : NULL, "0");
	st->readonly = !!(flags & FD_STORE_READONLY);
	if (!st->path || !st->actor || !st->tool || !st->version) {
		fd_store_close(st);
		return fd_err_set(err, FD_EIO, "out of memory");
	}
	st->who.actor = st->actor;
	st->who.tool = st->tool;
	st->who.version = st->version;
	if (gethostname(st->host, sizeof(st->host) - 1) != 0 || !st->host[0])
		memcpy(st->host, "unknown", 8);

	sflags = st->readonly ? SQLITE_OPEN_READONLY | SQLITE_OPEN_URI : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	if (st->readonly && readonly_uri(path, &uri)) {
		fd_buf_release(&uri);
		fd_store_close(st);
		return fd_err_set(err, FD_EIO, "out of memory");
	}
	rc = sqlite3_open_v2(st->readonly ? uri.s : path, &st->db, sflags | SQLITE_OPEN_NOMUTEX, NULL);
	fd_buf_release(&uri);
	if (rc != SQLITE_OK) {
		rc = fd_err_set(err, FD_EIO, "cannot open store '%s': %s", path,
				st->db ? sqlite3_errmsg(st->db) : "out of memory");
		fd_store_close(st);
		return rc;
	}
	sqlite3_extended_result_codes(st->db, 1);
	{
		const char *e = getenv("FD_BUSY_TIMEOUT");
		char *end;
		long v = e && *e ? strtol(e, &end, 10) : -1;

		st->busy_ms = e && *e && *end == '\0' && v >= 0 && v <= 86400 ? (int)v * 1000 : BUSY_TIMEOUT_MS;
	}
	sqlite3_busy_timeout(st->db, st->busy_ms);

	/* Is it ours?  Reading the header also tells a non-database file. */
	if ((rc = pragma_int(st, "PRAGMA application_id", &appid, err)) ||
	    (rc = pragma_int(st, "PRAGMA user_version", &version, err))) {
		fd_err_prefix(err, "opening store");
		goto fail;
	}
	if (appid != FD_STORE_APP_ID) {
		int ntables = 0;

		if (appid == 0 && version == 0 &&
		    (rc = pragma_int(st, "SELECT count(*) FROM sqlite_schema", &ntables, err)))
			goto fail;
		if (appid != 0 || version != 0 || ntables != 0) {
			rc = fd_err_set(err, FD_EINPUT, "'%s' is an SQLite database but not an fd store", path);
			goto fail;
		}
	}
	if (version > fd_store_schema_latest()) {
		rc = fd_err_set(err, FD_EINPUT,
				"store '%s' has schema version %d, newer than this fd knows (%d): upgrade fd",
				path, version, fd_store_schema_latest());
		goto fail;
	}
	if (st->readonly) {
		if (version < fd_store_schema_latest() && !(flags & FD_STORE_ANY_VERSION)) {
			rc = fd_err_set(err, FD_EINPUT,
					"store '%s' has schema version %d; run any writing fd tool to upgrade it to %d",
					path, version, fd_store_schema_latest());
			goto fail;
		}
	} else {
		/* A new store gets 16 KiB pages: bulk loads write a quarter of the pages (and system
		 * calls) of the 4 KiB default.  Only possible before the first table exists. */
		if (version == 0 && (rc = fd_store_exec(st, "PRAGMA page_size = 16384", err)))
			goto fail;
		if ((rc = fd_store_exec(st, "PRAGMA journal_mode = WAL", err)))
			goto fail;
		if ((rc = fd_store_exec(st, "PRAGMA synchronous = FULL", err)))
			goto fail;
	}
	/* migrations run with foreign keys off: a table rebuild (migration 6) needs it */
	if ((rc = fd_store_exec(st, "PRAGMA cache_size = -32768", err)))
		goto fail;
	if (!st->readonly && (rc = migrate(st, err)))
		goto fail;
	if ((rc = fd_store_exec(st, "PRAGMA foreign_keys = ON", err)))
		goto fail;
	*out = st;
	return FD_OK;
fail:
	fd_store_close(st);
	return rc;
}

void fd_store_close(struct fd_store *st)
{
	if (!st)
		return;
	fd_store_rollback(st);
	if (st->db)
		sqlite3_close_v2(st->db);
	free(st->path);
	free(st->actor);
	free(st->tool);
	free(st->version);
	free(st);
}

sqlite3 *fd_store_db(struct fd_store *st)
{
	return st->db;
}

const char *fd_store_path(const struct fd_store *st)
{
	return st->path;
}

const struct fd_who *fd_store_who(const struct fd_store *st)
{
	return &st->who;
}

const char *fd_store_host(const struct fd_store *st)
{
	return st->host;
}

/* ---- iteration ------------------------------------------------------------------------ */

struct fd_txn_iter {
	struct fd_store *st;
	sqlite3_stmt *s;
};

#define TXN_COLS_A "id, txn_id, ts, amount, currency, sender_id, recipient_id, merchant_id, " \
	"merchant_category, channel, device_id, ip, lat, lon, country, city, "
#define TXN_COLS_B ", metadata, source_id, source_line"
/* By source: the records as exported.  By time (analysis): the label is the newest case
 * outcome (labels table) when there is one, else the exported one. */
#define TXN_COLS_EXPORTED TXN_COLS_A "label" TXN_COLS_B
#define TXN_COLS_LABELLED TXN_COLS_A "coalesce((SELECT l.label FROM labels l" \
	" WHERE l.txn_id = transactions.txn_id ORDER BY l.labelled_at DESC, l.rowid DESC LIMIT 1), label)" TXN_COLS_B

int fd_txn_iter_open(struct fd_txn_iter **out, struct fd_store *st, int where, int64_t a, int64_t b,
		     struct fd_err *err)
{
	struct fd_txn_iter *it;
	const char *sql;
	int rc;

	*out = NULL;
	if (where == FD_TXN_BY_SOURCE)
		sql = "SELECT " TXN_COLS_EXPORTED " FROM transactions WHERE source_id = ?1 ORDER BY id";
	else if (where == FD_TXN_BY_TIME)
		sql = "SELECT " TXN_COLS_LABELLED " FROM transactions WHERE ts >= ?1 AND ts < ?2 ORDER BY ts, id";
	else
		return fd_err_set(err, FD_EUSAGE, "internal: bad iterator kind");
	it = calloc(1, sizeof(*it));
	if (!it)
		return fd_err_set(err, FD_EIO, "out of memory");
	it->st = st;
	if ((rc = fd_store_prepare(st, &it->s, sql, err))) {
		free(it);
		return rc;
	}
	sqlite3_bind_int64(it->s, 1, a);
	if (where == FD_TXN_BY_TIME)
		sqlite3_bind_int64(it->s, 2, b);
	*out = it;
	return FD_OK;
}

static const char *col_text(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? NULL : (const char *)sqlite3_column_text(s, i);
}

int fd_txn_iter_next(struct fd_txn_iter *it, struct fd_txn *t, struct fd_err *err)
{
	sqlite3_stmt *s = it->s;
	const char *cur, *cc;
	int rc = sqlite3_step(s);

	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return -fd_store_error(it->st, "reading transactions", err);
	fd_txn_clear(t);
	t->txn_id = col_text(s, 1);
	t->ts = sqlite3_column_int64(s, 2);
	t->amount = sqlite3_column_int64(s, 3);
	cur = col_text(s, 4);
	if (cur) {
		snprintf(t->currency, sizeof(t->currency), "%s", cur);
		t->exponent = fd_currency_exponent(t->currency);
		if (t->exponent < 0)
			t->exponent = 2;
	}
	t->sender_id = col_text(s, 5);
	t->recipient_id = col_text(s, 6);
	t->merchant_id = col_text(s, 7);
	t->merchant_category = col_text(s, 8);
	t->channel = col_text(s, 9);
	t->device_id = col_text(s, 10);
	t->ip = col_text(s, 11);
	if (sqlite3_column_type(s, 12) != SQLITE_NULL && sqlite3_column_type(s, 13) != SQLITE_NULL) {
		t->has_geo = 1;
		t->lat = sqlite3_column_double(s, 12);
		t->lon = sqlite3_column_double(s, 13);
	}
	cc = col_text(s, 14);
	if (cc)
		snprintf(t->country, sizeof(t->country), "%s", cc);
	t->city = col_text(s, 15);
	t->label = sqlite3_column_type(s, 16) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 16);
	t->metadata = col_text(s, 17);
	t->metadata_len = t->metadata ? (size_t)sqlite3_column_bytes(s, 17) : 0;
	t->source_id = sqlite3_column_int64(s, 18);
	t->line = sqlite3_column_int64(s, 19);
	if (!t->txn_id || !t->sender_id)
		return -fd_err_set(err, FD_EINPUT, "store: transaction row %lld lacks txn_id or sender_id",
				   (long long)sqlite3_column_int64(s, 0));
	return 1;
}

void fd_txn_iter_free(struct fd_txn_iter *it)
{
	if (!it)
		return;
	sqlite3_finalize(it->s);
	free(it);
}
