/* fd_schema_audit.c — migration 5, owned by fd-audit: seals over the head of the chain. */
#include "fd_schema.h"

const char fd_schema_v5_audit[] =
	"CREATE TABLE audit_seals ("
	"  id INTEGER PRIMARY KEY,"
	"  seq INTEGER NOT NULL REFERENCES audit_log(seq),"  /* the sealed head */
	"  head_hash TEXT NOT NULL,"
	"  public_key TEXT NOT NULL,"        /* hex Ed25519 public key */
	"  signature TEXT NOT NULL,"         /* hex Ed25519 signature */
	"  sealed_at INTEGER NOT NULL,"
	"  actor TEXT NOT NULL"
	");"
	"CREATE TRIGGER audit_seals_no_update BEFORE UPDATE ON audit_seals"
	"  BEGIN SELECT RAISE(ABORT, 'audit_seals is append-only'); END;"
	"CREATE TRIGGER audit_seals_no_delete BEFORE DELETE ON audit_seals"
	"  BEGIN SELECT RAISE(ABORT, 'audit_seals is append-only'); END;";
