/*
 * fd_rules_store.c — an fd-rules run's hits in the store: rule_runs, rule_hits and the audit
 * entry that covers them.  See fd_rules_store.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "fd_buf.h"
#include "fd_rules_store.h"
#include "fd_verify.h"
#include "banned.h"

struct fd_rules_store {
	struct fd_store *st;
	sqlite3_stmt *ins;          /* INSERT OR IGNORE INTO rule_hits, run columns bound */
	char *ruleset, *rules_file; /* bound to ins: live as long as it */
	int64_t run_id;             /* rule_runs.id */
	int64_t added;              /* new rows of rule_hits */
	int open;                   /* the run's transaction is open */
};

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);

	if (d)
		memcpy(d, s, n);
	return d;
}

int fd_rules_store_begin(struct fd_rules_store **out, struct fd_store *st, const char *ruleset,
			 const char *rules_file, int64_t started_at, struct fd_err *err)
{
	struct fd_rules_store *rs;
	sqlite3_stmt *q = NULL;
	int rc;

	*out = NULL;
	if (!(rs = calloc(1, sizeof(*rs))))
		return fd_err_set(err, FD_EIO, "out of memory");
	rs->st = st;
	if (!(rs->ruleset = dup_str(ruleset)) || !(rs->rules_file = dup_str(rules_file))) {
		fd_rules_store_free(rs);
		return fd_err_set(err, FD_EIO, "out of memory");
	}
	if ((rc = fd_store_begin(st, err))) {
		fd_rules_store_free(rs);
		return rc;
	}
	rs->open = 1;
	if ((rc = fd_store_prepare(st, &q,
				   "INSERT INTO rule_runs (ruleset, rules_file, transactions, hits, started_at, actor)"
				   " VALUES (?1, ?2, 0, 0, ?3, ?4) RETURNING id", err)))
		goto fail;
	sqlite3_bind_text(q, 1, rs->ruleset, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, rs->rules_file, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, started_at);
	sqlite3_bind_text(q, 4, fd_store_who(st)->actor, -1, SQLITE_STATIC);
	rc = sqlite3_step(q) == SQLITE_ROW ? FD_OK : fd_store_error(st, "cannot record the run", err);
	if (rc == FD_OK)
		rs->run_id = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	if (rc)
		goto fail;
	if ((rc = fd_store_prepare(st, &rs->ins,
				   "INSERT OR IGNORE INTO rule_hits (txn_id, rule_id, ruleset, points, action, reason, created_at, run_id)"
				   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", err)))
		goto fail;
	sqlite3_bind_text(rs->ins, 3, rs->ruleset, -1, SQLITE_STATIC);
	sqlite3_bind_int64(rs->ins, 7, started_at);
	sqlite3_bind_int64(rs->ins, 8, rs->run_id);
	*out = rs;
	return FD_OK;
fail:
	fd_rules_store_free(rs);
	return rc;
}

int fd_rules_store_add(struct fd_rules_store *rs, const struct fd_rules_store_hit *h, struct fd_err *err)
{
	sqlite3_stmt *s = rs->ins;
	int r;

	if (!s)
		return fd_err_set(err, FD_EIO, "internal: rule hit recorded outside a run");
	sqlite3_bind_text(s, 1, h->txn_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, h->rule_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 4, h->points);
	sqlite3_bind_text(s, 5, h->action, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, h->reason ? h->reason : "", (int)h->reason_len, SQLITE_STATIC);
	r = sqlite3_step(s);
	sqlite3_reset(s);
	if (r != SQLITE_DONE)
		return fd_store_error(rs->st, "cannot record a rule hit", err);
	rs->added += sqlite3_changes(fd_store_db(rs->st));
	return FD_OK;
}

int64_t fd_rules_store_added(const struct fd_rules_store *rs)
{
	return rs->added;
}

/* The audit entry's details, in the order of fd_rules_store.h. */
static int details(const struct fd_rules_store *rs, const struct fd_rules_store_info *info, struct fd_buf *d)
{
	fd_buf_adds(d, "{\"ruleset\":\"");
	fd_buf_adds(d, rs->ruleset);
	fd_buf_adds(d, "\",\"rules_file\":");
	fd_buf_add_json_str(d, rs->rules_file, strlen(rs->rules_file));
	fd_buf_addf(d, ",\"input\":\"%s\",\"transactions\":%lld,\"hits\":%lld,\"new\":%lld,\"already\":%lld",
		    info->from_store ? "store" : "stream", (long long)info->transactions, (long long)info->hits,
		    (long long)rs->added, (long long)(info->hits - rs->added));
	if (info->from_store) {
		if (info->since != INT64_MIN)
			fd_buf_addf(d, ",\"since\":%lld", (long long)info->since);
		if (info->until != INT64_MAX)
			fd_buf_addf(d, ",\"until\":%lld", (long long)info->until);
	}
	fd_buf_addc(d, '}');
	return fd_buf_failed(d) ? -1 : 0;
}

int fd_rules_store_finish(struct fd_rules_store *rs, const struct fd_rules_store_info *info, int64_t *seq,
			  struct fd_err *err)
{
	static const struct fd_verify_part parts[] = {{"rule_runs", "id"}, {"rule_hits", "run_id"}};
	struct fd_buf d = FD_BUF_INIT;
	sqlite3_stmt *u = NULL;
	int rc;

	*seq = 0;
	sqlite3_finalize(rs->ins);
	rs->ins = NULL;
	if (!rs->open)
		return fd_err_set(err, FD_EIO, "internal: rule run finished twice");
	if (rs->added == 0) {
		fd_store_rollback(rs->st);
		rs->open = 0;
		return FD_OK;
	}
	if (details(rs, info, &d)) {
		rc = fd_err_set(err, FD_EIO, "out of memory");
		goto out;
	}
	if ((rc = fd_store_prepare(rs->st, &u, "UPDATE rule_runs SET transactions = ?1, hits = ?2 WHERE id = ?3", err)))
		goto out;
	sqlite3_bind_int64(u, 1, info->transactions);
	sqlite3_bind_int64(u, 2, info->hits);
	sqlite3_bind_int64(u, 3, rs->run_id);
	rc = sqlite3_step(u) == SQLITE_DONE ? FD_OK : fd_store_error(rs->st, "cannot record the run", err);
	sqlite3_finalize(u);
	if (rc)
		goto out;
	if ((rc = fd_verify_record(rs->st, "rules.hits", "rule_run", rs->run_id, parts, 2, d.s, seq, err)))
		goto out;
	rc = fd_store_commit(rs->st, err);  /* rolls back when it fails */
	rs->open = 0;
out:
	if (rc) {
		*seq = 0;
		fd_store_rollback(rs->st);
		rs->open = 0;
	}
	fd_buf_release(&d);
	return rc;
}

void fd_rules_store_free(struct fd_rules_store *rs)
{
	if (!rs)
		return;
	sqlite3_finalize(rs->ins);
	if (rs->open)
		fd_store_rollback(rs->st);
	free(rs->ruleset);
	free(rs->rules_file);
	free(rs);
}
