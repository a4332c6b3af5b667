/* fd_schema_audit.c — migration 5, owned by fd-audit: seals over the head of the chain.
 * A seal is written with its own audit.seal entry, which covers its row (fd_verify.h), so a
 * seal inserted or edited by hand is caught by fd-audit verify. */
#include "fd_schema.h"
#include "banned.h"

const char fd_schema_v5_audit[] =
	"CREATE TABLE audit_seals ("
	"  id INTEGER PRIMARY KEY,"
	"  seq INTEGER NOT NULL REFERENCES audit_log(seq),"  /* the sealed head */
	"  head_hash TEXT NOT NULL CHECK (length(head_hash) = 64),"
	"  public_key TEXT NOT NULL CHECK (length(public_key) = 64),"  /* hex Ed25519 public key */
	"  signature TEXT NOT NULL CHECK (length(signature) = 128),"   /* hex Ed25519 signature */
	"  sealed_at INTEGER NOT NULL,"      /* ms UTC */
	"  actor TEXT NOT NULL"
	");"
	"CREATE TRIGGER audit_seals_no_update BEFORE UPDATE ON audit_seals"
	"  BEGIN SELECT RAISE(ABORT, 'audit_seals is append-only'); END;"
	"CREATE TRIGGER audit_seals_no_delete BEFORE DELETE ON audit_seals"
	"  BEGIN SELECT RAISE(ABORT, 'audit_seals is append-only'); END;";
