/* fd_schema_rules.c — migration 2, owned by fd-rules: the rule hits.  See fd_schema.c. */
#include "fd_schema.h"
#include "banned.h"

const char fd_schema_v2_rules[] =
	/* one row per fd-rules run that recorded hits: the audit entry covers a run's rows */
	"CREATE TABLE rule_runs ("
	"  id INTEGER PRIMARY KEY,"
	"  ruleset TEXT NOT NULL,"           /* SHA-256 of the rules file */
	"  rules_file TEXT NOT NULL,"
	"  transactions INTEGER NOT NULL,"
	"  hits INTEGER NOT NULL,"           /* hits of the run, new or already recorded */
	"  started_at INTEGER NOT NULL,"
	"  actor TEXT NOT NULL"
	");"
	"CREATE TABLE rule_hits ("
	"  id INTEGER PRIMARY KEY,"
	"  run_id INTEGER NOT NULL REFERENCES rule_runs(id),"
	"  txn_id TEXT NOT NULL,"            /* the transaction (it may come from a stream) */
	"  rule_id TEXT NOT NULL,"
	"  ruleset TEXT NOT NULL,"           /* SHA-256 of the rules file that fired */
	"  points INTEGER NOT NULL,"
	"  action TEXT NOT NULL CHECK (action IN ('review', 'block')),"
	"  reason TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  UNIQUE (txn_id, rule_id, ruleset)"
	");"
	"CREATE INDEX rule_hits_rule ON rule_hits(rule_id);"
	"CREATE INDEX rule_hits_run ON rule_hits(run_id);";
