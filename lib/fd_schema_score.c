/* fd_schema_score.c — migration 3, owned by fd-train and fd-score: models, score runs and scores. */
#include "fd_schema.h"
#include "banned.h"

const char fd_schema_v3_score[] =
	"CREATE TABLE models ("
	"  id INTEGER PRIMARY KEY,"
	"  version TEXT NOT NULL UNIQUE,"    /* the model's version string */
	"  path TEXT NOT NULL,"
	"  sha256 TEXT NOT NULL,"            /* of the model file */
	"  features TEXT NOT NULL,"          /* JSON array of feature names */
	"  metrics TEXT NOT NULL DEFAULT '{}',"
	"  trained_at INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  promoted INTEGER NOT NULL DEFAULT 0"
	");"
	/* one row per fd-score run that wrote to the store: the audit entry covers a run's scores */
	"CREATE TABLE score_runs ("
	"  id INTEGER PRIMARY KEY,"
	"  model_version TEXT NOT NULL,"
	"  ruleset TEXT,"                    /* SHA-256 of the rules file */
	"  rows INTEGER NOT NULL,"
	"  started_at INTEGER NOT NULL,"
	"  actor TEXT NOT NULL"
	");"
	"CREATE TABLE scores ("
	"  id INTEGER PRIMARY KEY,"
	"  run_id INTEGER NOT NULL REFERENCES score_runs(id),"
	"  txn_id TEXT NOT NULL,"
	"  model_version TEXT NOT NULL,"
	"  ae_error REAL,"
	"  ae_score REAL,"
	"  if_score REAL,"
	"  rule_points INTEGER NOT NULL DEFAULT 0,"
	"  rules TEXT NOT NULL DEFAULT '[]',"  /* JSON array of rule ids that fired */
	"  risk INTEGER NOT NULL CHECK (risk BETWEEN 0 AND 100),"
	"  level TEXT NOT NULL CHECK (level IN ('LOW', 'MEDIUM', 'HIGH')),"
	"  decision TEXT NOT NULL CHECK (decision IN ('APPROVE', 'REVIEW', 'BLOCK')),"
	"  confidence REAL,"
	"  reasons TEXT NOT NULL DEFAULT '[]',"  /* JSON array of sentences */
	"  scored_at INTEGER NOT NULL,"
	"  UNIQUE (txn_id, model_version)"
	");"
	"CREATE INDEX scores_level ON scores(level, txn_id);"
	"CREATE INDEX scores_run ON scores(run_id);";
