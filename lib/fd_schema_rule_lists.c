/* fd_schema_rule_lists.c — migration 8, owned by fd-rules: named lists.  See fd_schema.c. */
#include "fd_schema.h"
#include "banned.h"

const char fd_schema_v8_rule_lists[] =
	/* a named list that rules name with `in list NAME` (fd-rules list) */
	"CREATE TABLE rule_lists ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"  /* never reused: an audit entry names it */
	"  name TEXT NOT NULL UNIQUE,"
	"  created_by TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL"
	");"
	"CREATE TABLE rule_list_values ("
	"  id INTEGER PRIMARY KEY,"
	"  list_id INTEGER NOT NULL REFERENCES rule_lists(id),"
	"  value TEXT NOT NULL,"
	"  added_by TEXT NOT NULL,"
	"  added_at INTEGER NOT NULL,"
	"  UNIQUE (list_id, value)"
	");";
