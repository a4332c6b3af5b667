/*
 * fd_schema.c — the store's schema, as forward-only migrations.
 *
 * Each capability owns its tables and keeps its migration's SQL in a file of its own
 * (fd_schema_<capability>.c); new migrations go at the end of the list.  A migration is never
 * edited once released (a store in the field has already run it): changes are new migrations.  Conventions:
 * snake_case, integer ms UTC timestamps, exact integer amounts (minor units), JSON text for
 * open-ended attributes.
 */
#include "fd_schema.h"

#include <stddef.h>
#include <string.h>
#include "banned.h"

/* The secondary indexes of transactions, named once: migration 1 creates them, and a bulk
 * ingest drops and rebuilds them inside its transaction (fd_ingest.c). */
#define IDX_TXN_TS "CREATE INDEX transactions_ts ON transactions(ts)"
#define IDX_TXN_SENDER "CREATE INDEX transactions_sender ON transactions(sender_id, ts)"
#define IDX_TXN_RECIPIENT \
	"CREATE INDEX transactions_recipient ON transactions(recipient_id) WHERE recipient_id IS NOT NULL"
/* by source alone: index order is then rowid order, which is line order within a source,
 * so replays and audit digests of a source need no sort */
#define IDX_TXN_SOURCE "CREATE INDEX transactions_source ON transactions(source_id)"

const struct fd_index fd_txn_indexes[] = {
	{"transactions_ts", IDX_TXN_TS},
	{"transactions_sender", IDX_TXN_SENDER},
	{"transactions_recipient", IDX_TXN_RECIPIENT},
	{"transactions_source", IDX_TXN_SOURCE},
	{NULL, NULL},
};

static const char v1_foundation[] =
	/* chain of custody: one row per ingested input */
	"CREATE TABLE sources ("
	"  id INTEGER PRIMARY KEY,"
	"  path TEXT NOT NULL,"                 /* as given on the command line; '-' for stdin */
	"  sha256 TEXT NOT NULL UNIQUE,"        /* of the raw bytes, as sha256sum prints it */
	"  size INTEGER NOT NULL,"              /* raw bytes */
	"  format TEXT NOT NULL,"               /* csv | ndjson */
	"  compression TEXT,"                   /* zstd or NULL */
	"  rows_accepted INTEGER NOT NULL,"
	"  rows_rejected INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  ingested_at INTEGER NOT NULL,"       /* ms UTC */
	"  tool_version TEXT NOT NULL,"
	"  options TEXT NOT NULL DEFAULT '{}'"  /* JSON: mapping, tz, currency, delimiter */
	");"
	"CREATE TABLE transactions ("
	"  id INTEGER PRIMARY KEY,"
	"  txn_id TEXT NOT NULL UNIQUE,"
	"  ts INTEGER NOT NULL,"                /* ms UTC */
	"  amount INTEGER NOT NULL,"            /* minor units of currency */
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
	"  label INTEGER CHECK (label IN (0, 1)),"  /* as exported; case outcomes live elsewhere */
	"  metadata TEXT,"                      /* JSON object of the other columns */
	"  source_id INTEGER NOT NULL REFERENCES sources(id),"
	"  source_line INTEGER NOT NULL"
	");"
	IDX_TXN_TS ";" IDX_TXN_SENDER ";" IDX_TXN_RECIPIENT ";" IDX_TXN_SOURCE ";"
	/* entities: accounts (senders and recipients), merchants, devices, IPs */
	"CREATE TABLE entities ("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL CHECK (kind IN ('account', 'merchant', 'device', 'ip')),"
	"  key TEXT NOT NULL,"
	"  first_seen INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  txn_count INTEGER NOT NULL DEFAULT 0,"
	"  attrs TEXT NOT NULL DEFAULT '{}',"   /* JSON: category, graph statistics, ... */
	"  UNIQUE (kind, key)"
	");"
	/* links between entities: an account uses a device or an IP; explicit links */
	"CREATE TABLE entity_links ("
	"  id INTEGER PRIMARY KEY,"
	"  src INTEGER NOT NULL REFERENCES entities(id),"
	"  dst INTEGER NOT NULL REFERENCES entities(id),"
	"  kind TEXT NOT NULL,"                 /* uses_device, uses_ip, or an explicit kind */
	"  first_seen INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  txn_count INTEGER NOT NULL DEFAULT 0,"
	"  UNIQUE (src, dst, kind)"
	");"
	"CREATE INDEX entity_links_dst ON entity_links(dst, kind);"
	/* the audit log: append-only, hash-chained (fd_audit.h) */
	"CREATE TABLE audit_log ("
	"  seq INTEGER PRIMARY KEY,"
	"  ts INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  host TEXT NOT NULL,"
	"  tool TEXT NOT NULL,"
	"  version TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  object_type TEXT NOT NULL,"
	"  object_id TEXT NOT NULL,"
	"  details TEXT NOT NULL,"
	"  data_digest TEXT,"
	"  prev_hash TEXT NOT NULL,"
	"  hash TEXT NOT NULL UNIQUE"
	");"
	"CREATE INDEX audit_log_object ON audit_log(object_type, object_id);"
	"CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log"
	"  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;"
	"CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log"
	"  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;";

const struct fd_migration fd_migrations[] = {
	{1, "foundation: sources, transactions, entities, entity_links, audit_log", v1_foundation},
	{2, "rules: rule_runs, rule_hits", fd_schema_v2_rules},
	{3, "scoring: models, score_runs, scores", fd_schema_v3_score},
	{4, "cases: users, cases, case_events, case_transactions, case_entities, case_attachments, labels",
	 fd_schema_v4_case},
	{5, "audit: audit_seals", fd_schema_v5_audit},
	{6, "ingest: ingest_rejects, superseded_transactions; sources rebuilt for re-ingest and namespaces",
	 fd_schema_v6_ingest},
	{7, "cases: status DUPLICATE for merged cases; cases rebuilt", fd_schema_v7_case},
	{8, "rules: rule_lists, rule_list_values", fd_schema_v8_rule_lists},
	{9, "scoring: latest_scores, the latest score of each transaction", fd_schema_v9_latest},
};

const size_t fd_nmigrations = sizeof(fd_migrations) / sizeof(fd_migrations[0]);

/* Tamper coverage of every table (fd_schema.h).  A migration that creates a table adds its
 * line here; the rows of a covered table must be written with an audit entry that covers
 * them (fd_verify_record) by the key column named here. */
const struct fd_table_cover fd_table_covers[] = {
	{"sources", FD_COVER_CUSTODY, NULL, "each row against its ingest.source entry (source/ID)"},
	{"transactions", FD_COVER_ROWS, "source_id", "ingest.source entries (source/ID)"},
	{"entities", FD_COVER_NONE, NULL,
	 "derived from the transactions, rewritten by every ingest and by fd-graph stats --save"},
	{"entity_links", FD_COVER_NONE, NULL, "derived from the transactions, rewritten by every ingest"},
	{"audit_log", FD_COVER_CHAIN, NULL, "the hash chain and the seals"},
	{"rule_runs", FD_COVER_ROWS, "id", "rules.hits entries (rule_run/ID)"},
	{"rule_hits", FD_COVER_ROWS, "run_id", "rules.hits entries (rule_run/ID)"},
	{"models", FD_COVER_ROWS, "id", "model.register entries (model/ID)"},
	{"score_runs", FD_COVER_ROWS, "id", "score.run entries (score_run/ID)"},
	{"scores", FD_COVER_ROWS, "run_id", "score.run entries (score_run/ID)"},
	{"users", FD_COVER_ROWS, "id", "user.add, user.enable and user.disable entries (user/ID)"},
	{"cases", FD_COVER_ROWS, "id", "case.* entries (case/ID)"},
	{"case_events", FD_COVER_ROWS, "case_id", "case.* entries (case/ID)"},
	{"case_transactions", FD_COVER_ROWS, "case_id", "case.* entries (case/ID)"},
	{"case_entities", FD_COVER_ROWS, "case_id", "case.* entries (case/ID)"},
	{"case_attachments", FD_COVER_ROWS, "case_id", "case.* entries (case/ID)"},
	{"labels", FD_COVER_ROWS, "case_id", "case.* entries (case/ID)"},
	{"audit_seals", FD_COVER_ROWS, "id", "audit.seal entries (seal/ID)"},
	{"ingest_rejects", FD_COVER_ROWS, "source_id", "ingest.source and ingest.supersede entries (source/ID)"},
	{"superseded_transactions", FD_COVER_ROWS, "source_id", "ingest.supersede entries (source/ID)"},
	{"rule_lists", FD_COVER_ROWS, "id", "rules.list_add and rules.list_remove entries (rule_list/ID)"},
	{"rule_list_values", FD_COVER_ROWS, "list_id", "rules.list_add and rules.list_remove entries (rule_list/ID)"},
};

const size_t fd_ntable_covers = sizeof(fd_table_covers) / sizeof(fd_table_covers[0]);

const struct fd_table_cover *fd_table_cover_of(const char *table)
{
	size_t i;

	for (i = 0; i < fd_ntable_covers; i++)
		if (strcmp(fd_table_covers[i].table, table) == 0)
			return &fd_table_covers[i];
	return NULL;
}
