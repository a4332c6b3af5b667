/*
 * fd_rules_store.h — recording an fd-rules run's hits in the store (migration 2, rule_runs
 * and rule_hits: lib/fd_schema_rules.c).
 *
 * A run is one store transaction: fd_rules_store_begin() opens it and inserts the run's
 * rule_runs row, whose id is the run's key; fd_rules_store_add() inserts hits into rule_hits
 * with that run_id; fd_rules_store_finish() sets the run's counts and appends the audit entry
 * "rules.hits" on rule_run/ID, which covers the run's rule_runs row and its rule_hits rows
 * (fd_verify.h's convention, so fd-audit verify recomputes their digests), then commits.  A
 * run that added no new hit records nothing: finish rolls the transaction back.
 *
 * The caller checks the actor's role first (fd_role_authorize with FD_ACT_RULES).
 *
 *	struct fd_rules_store *rs;
 *	fd_rules_store_begin(&rs, st, sha, "rules/default.rules", fd_wall_ms(), err);
 *	for each hit: fd_rules_store_add(rs, &hit, err);
 *	fd_rules_store_finish(rs, &info, &seq, err);
 *	fd_rules_store_free(rs);
 */
#ifndef FD_RULES_STORE_H
#define FD_RULES_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "fd_err.h"
#include "fd_store.h"

struct fd_rules_store;

/*
 * Begin a run: open a store transaction (fd_store_begin: FD_EIO when one is open already, or
 * the store is busy or read-only) and insert the rule_runs row (ruleset: the
 * SHA-256 of the rules file in hex; rules_file: its path as given; started_at: ms UTC, also
 * the created_at of every hit; the store's actor).  The strings are copied.  On error *rs is
 * NULL and the transaction is rolled back.
 */
int fd_rules_store_begin(struct fd_rules_store **rs, struct fd_store *st, const char *ruleset,
			 const char *rules_file, int64_t started_at, struct fd_err *err);

/* A hit to record.  The strings are borrowed for the call; reason is reason_len bytes. */
struct fd_rules_store_hit {
	const char *txn_id;
	const char *rule_id;
	int points;
	const char *action;         /* "review" or "block" (fd_rule_action_name) */
	const char *reason;
	size_t reason_len;
};

/* Record a hit: INSERT OR IGNORE on (txn_id, rule_id, ruleset), so a hit recorded by an
 * earlier run keeps its first row.  FD_EIO "cannot record a rule hit: ..." on store errors. */
int fd_rules_store_add(struct fd_rules_store *rs, const struct fd_rules_store_hit *h, struct fd_err *err);

/* Hits this run added so far (new rows of rule_hits). */
int64_t fd_rules_store_added(const struct fd_rules_store *rs);

/* What the run read, for the rule_runs row and the audit entry's details. */
struct fd_rules_store_info {
	int64_t transactions;       /* transactions evaluated */
	int64_t hits;               /* hits of the run, new or already recorded */
	int from_store;             /* 1: read from the store (--since/--until), 0: a stream */
	int64_t since, until;       /* from_store: the window; INT64_MIN / INT64_MAX = open */
};

/*
 * Finish the run.  When it added hits: set rule_runs.transactions and .hits, append the audit
 * entry (details {"ruleset", "rules_file", "input": "store" or "stream", "transactions",
 * "hits", "new", "already"[, "since"][, "until"]} and the data digest), commit, and set *seq
 * to the entry's sequence number.  When it added none: roll back, *seq = 0.  After an error
 * the transaction is rolled back.  Either way the run is over; free rs afterwards.
 */
int fd_rules_store_finish(struct fd_rules_store *rs, const struct fd_rules_store_info *info, int64_t *seq,
			  struct fd_err *err);

/* Accepts NULL; rolls back a run that was begun and not finished. */
void fd_rules_store_free(struct fd_rules_store *rs);

#endif
