/* fd_schema_ingest.c — migration 6, owned by fd-ingest: stored rejects, re-ingest, namespaces.
 *
 * sources is rebuilt (SQLite cannot drop a constraint in place): the same columns in the same
 * order, ids kept, but sha256 is unique only among loads that are not superseded, so the same
 * bytes can be loaded again through fd-ingest --supersede; new columns name the host, the
 * transaction id namespace and the supersede links.  fd_store_open() runs migrations with
 * foreign keys off, as SQLite's table-rebuild procedure requires.
 *
 * ingest_rejects keeps every rejected record with its source, written in the input's
 * transaction and covered by its ingest.source audit entry, so `fd-ingest --rejects-of` can
 * write them again at any time.
 *
 * transactions keeps exactly the active loads, so every txn_id-keyed table and every tool that
 * reads transactions stays correct unchanged; a superseded load's rows move, verbatim (same
 * id, same columns, hence the same row digest), to superseded_transactions, and the
 * ingest.supersede audit entry covers both tables for that source. */
#include "fd_schema.h"
#include "banned.h"

const char fd_schema_v6_ingest[] =
	"CREATE TABLE sources_v6 ("
	"  id INTEGER PRIMARY KEY,"
	"  path TEXT NOT NULL,"                 /* absolute (symbolic links resolved); '-' for stdin */
	"  sha256 TEXT NOT NULL,"               /* of the raw bytes, as sha256sum prints it */
	"  size INTEGER NOT NULL,"
	"  format TEXT NOT NULL,"
	"  compression TEXT,"
	"  rows_accepted INTEGER NOT NULL,"
	"  rows_rejected INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  ingested_at INTEGER NOT NULL,"
	"  tool_version TEXT NOT NULL,"
	"  options TEXT NOT NULL DEFAULT '{}',"
	"  host TEXT,"                          /* where path was read; NULL before version 6 */
	"  namespace TEXT NOT NULL DEFAULT '',"  /* txn_id = namespace ':' reference, '' = none */
	"  supersedes INTEGER REFERENCES sources(id),"    /* the load this one replaces */
	"  supersede_reason TEXT,"
	"  superseded_by INTEGER REFERENCES sources(id)," /* set once, by the replacing load */
	"  CHECK ((supersedes IS NULL) = (supersede_reason IS NULL))"
	");"
	"INSERT INTO sources_v6 (id, path, sha256, size, format, compression, rows_accepted, rows_rejected,"
	"  actor, ingested_at, tool_version, options)"
	"  SELECT id, path, sha256, size, format, compression, rows_accepted, rows_rejected,"
	"  actor, ingested_at, tool_version, options FROM sources ORDER BY id;"
	/* the legacy rename leaves the references to 'sources' (transactions, the
	 * effective_labels view) as they are: they name the new table once it is renamed */
	"PRAGMA legacy_alter_table = ON;"
	"DROP TABLE sources;"
	"ALTER TABLE sources_v6 RENAME TO sources;"
	"PRAGMA legacy_alter_table = OFF;"
	"CREATE UNIQUE INDEX sources_sha256_active ON sources(sha256) WHERE superseded_by IS NULL;"
	"CREATE INDEX sources_sha256 ON sources(sha256);"
	"CREATE INDEX sources_size ON sources(size);"
	"CREATE TABLE ingest_rejects ("
	"  id INTEGER PRIMARY KEY,"
	"  source_id INTEGER NOT NULL REFERENCES sources(id),"
	"  line INTEGER NOT NULL,"              /* where the record starts */
	"  field TEXT NOT NULL,"                /* canonical field, or 'record' */
	"  reason TEXT NOT NULL,"
	"  record BLOB NOT NULL"                /* the record's bytes exactly as in the input */
	");"
	"CREATE INDEX ingest_rejects_source ON ingest_rejects(source_id);"
	"CREATE TABLE superseded_transactions ("
	"  id INTEGER PRIMARY KEY,"
	"  txn_id TEXT NOT NULL,"
	"  ts INTEGER NOT NULL,"
	"  amount INTEGER NOT NULL,"
	"  currency TEXT NOT NULL,"
	"  sender_id TEXT NOT NULL,"
	"  recipient_id TEXT,"
	"  merchant_id TEXT,"
	"  merchant_category TEXT,"
	"  channel TEXT,"
	"  device_id TEXT,"
	"  ip TEXT,"
	"  lat REAL,"
	"  lon REAL,"
	"  country TEXT,"
	"  city TEXT,"
	"  label INTEGER,"
	"  metadata TEXT,"
	"  source_id INTEGER NOT NULL REFERENCES sources(id),"
	"  source_line INTEGER NOT NULL"
	");"
	"CREATE INDEX superseded_transactions_source ON superseded_transactions(source_id);"
	"CREATE INDEX superseded_transactions_txn ON superseded_transactions(txn_id);";
