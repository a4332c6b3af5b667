/* fd_schema_case.c — migration 4, owned by fd-case (lib/fd_case.h): cases, their events,
 * links, attachments, users, and the labels that case outcomes give transactions. */
#include "fd_schema.h"
#include "banned.h"

const char fd_schema_v4_case[] =
	/* with no row here the store is single-user: the actor may do everything */
	"CREATE TABLE users ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  role TEXT NOT NULL CHECK (role IN ('ADMIN', 'INVESTIGATOR', 'ANALYST', 'VIEWER')),"
	"  active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),"
	"  created_at INTEGER NOT NULL,"
	"  created_by TEXT NOT NULL"
	");"
	"CREATE TABLE cases ("
	"  id INTEGER PRIMARY KEY,"
	"  title TEXT NOT NULL,"
	"  description TEXT NOT NULL DEFAULT '',"
	"  priority TEXT NOT NULL DEFAULT 'MEDIUM' CHECK (priority IN ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL')),"
	"  status TEXT NOT NULL DEFAULT 'OPEN'"
	"    CHECK (status IN ('OPEN', 'IN_PROGRESS', 'CLOSED', 'FALSE_POSITIVE')),"
	"  assignee TEXT,"
	"  origin TEXT NOT NULL DEFAULT 'manual' CHECK (origin IN ('manual', 'auto')),"
	"  suspect TEXT,"                     /* auto cases: the suspect entity, 'account:C1' */
	"  window_start INTEGER,"             /* auto cases: the UTC-aligned window they cover, */
	"  window_end INTEGER,"               /*   [window_start, window_end) in ms */
	"  created_at INTEGER NOT NULL,"
	"  created_by TEXT NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  closed_at INTEGER"
	");"
	"CREATE UNIQUE INDEX cases_auto ON cases(suspect, window_start) WHERE origin = 'auto';"
	"CREATE INDEX cases_status ON cases(status, assignee);"
	"CREATE TABLE case_events ("
	"  id INTEGER PRIMARY KEY,"
	"  case_id INTEGER NOT NULL REFERENCES cases(id),"
	"  ts INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"               /* created, status, assign, note, attach, link, auto */
	"  details TEXT NOT NULL DEFAULT '{}'"  /* JSON object */
	");"
	"CREATE INDEX case_events_case ON case_events(case_id, id);"
	"CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events"
	"  BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END;"
	"CREATE TRIGGER case_events_no_delete BEFORE DELETE ON case_events"
	"  BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END;"
	"CREATE TABLE case_transactions ("
	"  case_id INTEGER NOT NULL REFERENCES cases(id),"
	"  txn_id TEXT NOT NULL,"             /* may name a scored stream transaction not stored */
	"  reason TEXT NOT NULL DEFAULT '',"  /* why it was included */
	"  note TEXT NOT NULL DEFAULT '',"
	"  added_at INTEGER NOT NULL,"
	"  added_by TEXT NOT NULL,"
	"  PRIMARY KEY (case_id, txn_id)"
	");"
	"CREATE INDEX case_transactions_txn ON case_transactions(txn_id);"
	"CREATE TABLE case_entities ("
	"  case_id INTEGER NOT NULL REFERENCES cases(id),"
	"  entity_id INTEGER NOT NULL REFERENCES entities(id),"
	"  role TEXT NOT NULL CHECK (role IN ('SUSPECT', 'VICTIM', 'WITNESS', 'RELATED')),"
	"  note TEXT NOT NULL DEFAULT '',"
	"  added_at INTEGER NOT NULL,"
	"  added_by TEXT NOT NULL,"
	"  PRIMARY KEY (case_id, entity_id)"
	");"
	"CREATE INDEX case_entities_entity ON case_entities(entity_id);"
	"CREATE TABLE case_attachments ("
	"  id INTEGER PRIMARY KEY,"
	"  case_id INTEGER NOT NULL REFERENCES cases(id),"
	"  name TEXT NOT NULL,"
	"  sha256 TEXT NOT NULL,"             /* of content, as sha256sum prints it */
	"  size INTEGER NOT NULL,"
	"  content BLOB NOT NULL,"
	"  added_at INTEGER NOT NULL,"
	"  added_by TEXT NOT NULL"
	");"
	"CREATE INDEX case_attachments_case ON case_attachments(case_id);"
	/* labels from case outcomes (the exported label stays in transactions.label): closing a
	 * case CLOSED (confirmed fraud) writes label 1 for each of its transactions, closing it
	 * FALSE_POSITIVE label 0, with source 'case:ID'; reopening withdraws them. */
	"CREATE TABLE labels ("
	"  txn_id TEXT NOT NULL,"
	"  label INTEGER NOT NULL CHECK (label IN (0, 1)),"
	"  source TEXT NOT NULL,"             /* 'case:12' */
	"  case_id INTEGER REFERENCES cases(id),"
	"  labelled_at INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  PRIMARY KEY (txn_id, source)"
	");"
	"CREATE INDEX labels_case ON labels(case_id);"
	/* The label every consumer reads (fd-rules backtest, fd-train evaluation, the delayed
	 * merchant fraud-rate feature): the newest case outcome overrides the exported label (as
	 * fd_txn_iter's analysis reads do); labelled_at is when the label became known (the
	 * export's ingestion for exported labels), so point-in-time features can ignore labels
	 * not yet known at a transaction's time. */
	"CREATE VIEW effective_labels AS"
	"  SELECT txn_id, label, 'case' AS origin, labelled_at FROM labels l"
	"   WHERE l.rowid = (SELECT m.rowid FROM labels m WHERE m.txn_id = l.txn_id"
	"                     ORDER BY m.labelled_at DESC, m.rowid DESC LIMIT 1)"
	"  UNION ALL"
	"  SELECT t.txn_id, t.label, 'export', s.ingested_at"
	"    FROM transactions t JOIN sources s ON s.id = t.source_id"
	"   WHERE t.label IS NOT NULL"
	"     AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.txn_id = t.txn_id);";
