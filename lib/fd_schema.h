/*
 * fd_schema.h — the list of schema migrations (fd_schema.c), applied by fd_store_open().
 * Migration i brings PRAGMA user_version from i-1 to fd_migrations[i-1].version == i.
 */
#ifndef FD_SCHEMA_H
#define FD_SCHEMA_H

#include <stddef.h>

struct fd_migration {
	int version;        /* 1, 2, ... consecutive */
	const char *name;   /* one line, recorded in the audit entry */
	const char *sql;    /* statements run in one transaction */
};

extern const struct fd_migration fd_migrations[];
extern const size_t fd_nmigrations;

/* The secondary indexes on transactions (all but the txn_id uniqueness), NULL-terminated. */
struct fd_index {
	const char *name;
	const char *create;
};
extern const struct fd_index fd_txn_indexes[];

/* The SQL of each capability's migration, in that capability's own file. */
extern const char fd_schema_v2_rules[];
extern const char fd_schema_v3_score[];
extern const char fd_schema_v4_case[];
extern const char fd_schema_v5_audit[];
extern const char fd_schema_v6_ingest[];

#endif
