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

/*
 * Tamper coverage, declared per table (DESIGN.md): every table a migration creates has one
 * entry in fd_table_covers (fd_schema.c), next to the migrations, so that a new table cannot
 * be left out silently (tests/unit/test_verify.c fails, naming the table, when a table of a
 * freshly migrated store has no declaration).  fd-audit verify (fd_verify.h) checks every
 * covered table whether or not any audit entry has named it yet.
 *
 *	FD_COVER_ROWS     the rows are vouched for by audit entries that cover them by key_col
 *	                  (fd_verify.h's recording convention): a row whose key no entry names
 *	                  was inserted behind the tools' back; rows changed or deleted since
 *	                  the last entry for their key break that entry's data digest.
 *	FD_COVER_CHAIN    the audit log itself: the hash chain (and seals) vouch for it.
 *	FD_COVER_CUSTODY  sources: each row is compared column by column with what its
 *	                  ingest.source entry recorded; rows without one, or entries whose row
 *	                  is gone, are findings.
 *	FD_COVER_NONE     not covered; why says why (derived data rewritten by the tools).
 */
enum fd_cover_kind { FD_COVER_ROWS, FD_COVER_CHAIN, FD_COVER_CUSTODY, FD_COVER_NONE };

struct fd_table_cover {
	const char *table;
	int kind;             /* enum fd_cover_kind */
	const char *key_col;  /* FD_COVER_ROWS: the key column the entries name; else NULL */
	const char *why;      /* one line: which entries vouch for it, or why nothing does */
};

extern const struct fd_table_cover fd_table_covers[];
extern const size_t fd_ntable_covers;

/* The declaration of table, or NULL when it has none. */
const struct fd_table_cover *fd_table_cover_of(const char *table);

/* The SQL of each capability's migration, in that capability's own file. */
extern const char fd_schema_v2_rules[];
extern const char fd_schema_v3_score[];
extern const char fd_schema_v4_case[];
extern const char fd_schema_v5_audit[];
extern const char fd_schema_v6_ingest[];
extern const char fd_schema_v7_case[];
extern const char fd_schema_v8_rule_lists[];
extern const char fd_schema_v9_latest[];

#endif
