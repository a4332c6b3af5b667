/* fd_schema_case_dup.c — migration 7, owned by fd-case (lib/fd_case.h): the status DUPLICATE,
 * for a case merged into another (fd_case_merge).
 *
 * cases is rebuilt (SQLite cannot change a CHECK constraint in place), as migration 6 rebuilds
 * sources: the same columns in the same order, every row copied with its id, so each row's
 * audit digest is unchanged and fd-audit verify still vouches for the cases written before.
 * fd_store_open() runs migrations with foreign keys off, as SQLite's table-rebuild procedure
 * requires; the legacy rename leaves the references to 'cases' (case_events, case_transactions,
 * case_entities, case_attachments, labels) naming the new table. */
#include "fd_schema.h"
#include "banned.h"

const char fd_schema_v7_case[] =
	"CREATE TABLE cases_v8 ("
	"  id INTEGER PRIMARY KEY,"
	"  title TEXT NOT NULL,"
	"  description TEXT NOT NULL DEFAULT '',"
	"  priority TEXT NOT NULL DEFAULT 'MEDIUM' CHECK (priority IN ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL')),"
	"  status TEXT NOT NULL DEFAULT 'OPEN'"
	"    CHECK (status IN ('OPEN', 'IN_PROGRESS', 'CLOSED', 'FALSE_POSITIVE', 'DUPLICATE')),"
	"  assignee TEXT,"
	"  origin TEXT NOT NULL DEFAULT 'manual' CHECK (origin IN ('manual', 'auto')),"
	"  suspect TEXT,"                     /* auto cases: the suspect entity, 'account:C1' */
	"  window_start INTEGER,"             /* auto cases: the earliest alert (before version 7: */
	"  window_end INTEGER,"               /*   a UTC-aligned window); the latest alert + window */
	"  created_at INTEGER NOT NULL,"
	"  created_by TEXT NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  closed_at INTEGER"                 /* also when merged into another case (DUPLICATE) */
	");"
	"INSERT INTO cases_v8 (id, title, description, priority, status, assignee, origin, suspect,"
	"  window_start, window_end, created_at, created_by, updated_at, closed_at)"
	"  SELECT id, title, description, priority, status, assignee, origin, suspect,"
	"  window_start, window_end, created_at, created_by, updated_at, closed_at FROM cases ORDER BY id;"
	"PRAGMA legacy_alter_table = ON;"
	"DROP TABLE cases;"
	"ALTER TABLE cases_v8 RENAME TO cases;"
	"PRAGMA legacy_alter_table = OFF;"
	"CREATE UNIQUE INDEX cases_auto ON cases(suspect, window_start) WHERE origin = 'auto';"
	"CREATE INDEX cases_status ON cases(status, assignee);";
