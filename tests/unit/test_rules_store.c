/*
 * test_rules_store.c — fd_rules_store: a run that records hits (rule_runs row, rule_hits rows,
 * the audit entry's details written out by hand, fd_verify_store intact), a second run of the
 * same hits that adds nothing and leaves no trace, a run given up (freed unfinished), and the
 * error paths: a nested transaction, a hit that cannot be written, a read-only store.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/fd_rules_store.c"

static char dir[64], path[128];

static int setup(void **state)
{
	(void)state;
	memcpy(dir, "/tmp/fd_test_rstore.XXXXXX", 27);
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/fd.db", dir);
	return 0;
}

static int teardown(void **state)
{
	char p[160];
	static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s%s", path, sfx[i]);
		unlink(p);
	}
	rmdir(dir);
	return 0;
}

static struct fd_store *open_store(int flags)
{
	struct fd_who who = {"tester", "test_rules_store", "0"};
	struct fd_store *st = NULL;
	struct fd_err err = {0};

	assert_int_equal(fd_store_open(&st, path, flags, &who, &err), FD_OK);
	return st;
}

static int64_t count(struct fd_store *st, const char *sql)
{
	sqlite3_stmt *s;
	struct fd_err err = {0};
	int64_t n;

	assert_int_equal(fd_store_prepare(st, &s, sql, &err), FD_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

static void text_of(struct fd_store *st, const char *sql, char *buf, size_t n)
{
	sqlite3_stmt *s;
	struct fd_err err = {0};

	assert_int_equal(fd_store_prepare(st, &s, sql, &err), FD_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	snprintf(buf, n, "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
}

#define SHA "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const struct fd_rules_store_hit hits[] = {
	{"t1", "big", 40, "review", "amount 900 over 500", 19},
	{"t2", "big", 40, "review", "amount 700 over 500", 19},
	{"t2", "night", 60, "block", "at 03:00", 8},
};

static int64_t record(struct fd_store *st, const struct fd_rules_store_info *info, int64_t *added)
{
	struct fd_rules_store *rs = NULL;
	struct fd_err err = {0};
	int64_t seq = -1;
	size_t i;

	assert_int_equal(fd_rules_store_begin(&rs, st, SHA, "my \"x\".rules", 1700000000000LL, &err), FD_OK);
	assert_true(fd_store_in_txn(st));
	for (i = 0; i < 3; i++)
		assert_int_equal(fd_rules_store_add(rs, &hits[i], &err), FD_OK);
	/* the same hit twice in a run is one row */
	assert_int_equal(fd_rules_store_add(rs, &hits[0], &err), FD_OK);
	*added = fd_rules_store_added(rs);
	assert_int_equal(fd_rules_store_finish(rs, info, &seq, &err), FD_OK);
	assert_false(fd_store_in_txn(st));
	fd_rules_store_free(rs);
	return seq;
}

static void test_record(void **state)
{
	struct fd_store *st = open_store(FD_STORE_CREATE);
	struct fd_rules_store_info info = {10, 4, 0, INT64_MIN, INT64_MAX};
	struct fd_verify_result res;
	struct fd_err err = {0};
	char buf[1024];
	int64_t seq, added = -1, before = count(st, "SELECT max(seq) FROM audit_log");

	(void)state;
	seq = record(st, &info, &added);
	assert_int_equal(added, 3);
	assert_int_equal(seq, before + 1);
	assert_int_equal(count(st, "SELECT count(*) FROM rule_runs"), 1);
	assert_int_equal(count(st, "SELECT count(*) FROM rule_runs WHERE id = 1 AND transactions = 10 AND hits = 4"
			       " AND started_at = 1700000000000 AND actor = 'tester' AND rules_file = 'my \"x\".rules'"
			       " AND ruleset = '" SHA "'"), 1);
	assert_int_equal(count(st, "SELECT count(*) FROM rule_hits WHERE run_id = 1 AND ruleset = '" SHA "'"
			       " AND created_at = 1700000000000"), 3);
	assert_int_equal(count(st, "SELECT count(*) FROM rule_hits WHERE txn_id = 't2' AND rule_id = 'night'"
			       " AND points = 60 AND action = 'block' AND reason = 'at 03:00'"), 1);
	text_of(st, "SELECT action || ' ' || object_type || '/' || object_id FROM audit_log ORDER BY seq DESC LIMIT 1",
		buf, sizeof(buf));
	assert_string_equal(buf, "rules.hits rule_run/1");
	text_of(st, "SELECT details FROM audit_log ORDER BY seq DESC LIMIT 1", buf, sizeof(buf));
	{
		static const char want[] = "{\"ruleset\":\"" SHA "\",\"rules_file\":\"my \\\"x\\\".rules\","
					   "\"input\":\"stream\",\"transactions\":10,\"hits\":4,\"new\":3,\"already\":1,";

		if (strncmp(buf, want, sizeof(want) - 1) != 0)
			fail_msg("details %s", buf);
	}
	assert_int_equal(fd_verify_store(st, NULL, &res, &err), FD_OK);

	/* again, from the store with a window: nothing new, nothing recorded, not even the run */
	info.from_store = 1;
	info.since = 5;
	seq = record(st, &info, &added);
	assert_int_equal(added, 0);
	assert_int_equal(seq, 0);
	assert_int_equal(count(st, "SELECT count(*) FROM rule_runs"), 1);
	assert_int_equal(count(st, "SELECT max(seq) FROM audit_log"), before + 1);

	/* a new hit from the store: since is recorded, until (open) is not */
	{
		struct fd_rules_store *rs = NULL;
		struct fd_rules_store_hit h = {"t3", "big", 40, "review", NULL, 0};

		assert_int_equal(fd_rules_store_begin(&rs, st, SHA, "r.rules", 1700000000001LL, &err), FD_OK);
		assert_int_equal(fd_rules_store_add(rs, &h, &err), FD_OK);
		assert_int_equal(fd_rules_store_finish(rs, &info, &seq, &err), FD_OK);
		fd_rules_store_free(rs);
	}
	assert_int_equal(seq, before + 2);
	text_of(st, "SELECT details FROM audit_log ORDER BY seq DESC LIMIT 1", buf, sizeof(buf));
	{
		static const char want[] = "{\"ruleset\":\"" SHA "\",\"rules_file\":\"r.rules\",\"input\":\"store\","
					   "\"transactions\":10,\"hits\":4,\"new\":1,\"already\":3,\"since\":5,";

		if (strncmp(buf, want, sizeof(want) - 1) != 0)
			fail_msg("details %s", buf);
	}
	assert_int_equal(count(st, "SELECT count(*) FROM rule_hits WHERE txn_id = 't3' AND reason = '' AND run_id = 2"), 1);
	assert_int_equal(fd_verify_store(st, NULL, &res, &err), FD_OK);
	fd_store_close(st);
}

static void test_given_up(void **state)
{
	struct fd_store *st = open_store(FD_STORE_CREATE);
	struct fd_rules_store *rs = NULL;
	struct fd_err err = {0};
	int64_t before = count(st, "SELECT max(seq) FROM audit_log");

	(void)state;
	assert_int_equal(fd_rules_store_begin(&rs, st, SHA, "r.rules", 1, &err), FD_OK);
	assert_int_equal(fd_rules_store_add(rs, &hits[0], &err), FD_OK);
	fd_rules_store_free(rs);
	fd_rules_store_free(NULL);
	assert_false(fd_store_in_txn(st));
	assert_int_equal(count(st, "SELECT count(*) FROM rule_runs"), 0);
	assert_int_equal(count(st, "SELECT count(*) FROM rule_hits"), 0);
	assert_int_equal(count(st, "SELECT max(seq) FROM audit_log"), before);
	fd_store_close(st);
}

static void test_errors(void **state)
{
	struct fd_store *st = open_store(FD_STORE_CREATE);
	struct fd_rules_store *rs = NULL;
	struct fd_rules_store_info info = {1, 1, 0, INT64_MIN, INT64_MAX};
	struct fd_err err = {0};
	int64_t seq = -1;

	(void)state;
	/* a transaction already open */
	assert_int_equal(fd_store_begin(st, &err), FD_OK);
	assert_int_equal(fd_rules_store_begin(&rs, st, SHA, "r.rules", 1, &err), FD_EIO);
	assert_null(rs);
	assert_string_equal(err.msg, "internal: nested store transaction");
	fd_store_rollback(st);

	/* a hit that cannot be written (the table gone behind the run's back): the run rolls back,
	 * the table with it */
	assert_int_equal(fd_rules_store_begin(&rs, st, SHA, "r.rules", 1, &err), FD_OK);
	assert_int_equal(sqlite3_exec(fd_store_db(st), "DROP TABLE rule_hits", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(fd_rules_store_add(rs, &hits[0], &err), FD_EIO);
	if (strncmp(err.msg, "cannot record a rule hit: ", 26) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(fd_rules_store_finish(rs, &info, &seq, &err), FD_OK);
	assert_int_equal(seq, 0);
	assert_int_equal(fd_rules_store_add(rs, &hits[0], &err), FD_EIO);
	assert_string_equal(err.msg, "internal: rule hit recorded outside a run");
	assert_int_equal(fd_rules_store_finish(rs, &info, &seq, &err), FD_EIO);
	assert_string_equal(err.msg, "internal: rule run finished twice");
	fd_rules_store_free(rs);
	assert_int_equal(count(st, "SELECT count(*) FROM rule_runs"), 0);
	assert_int_equal(count(st, "SELECT count(*) FROM rule_hits"), 0);
	fd_store_close(st);

	/* read-only: nothing can begin */
	st = open_store(FD_STORE_READONLY);
	rs = NULL;
	assert_int_equal(fd_rules_store_begin(&rs, st, SHA, "r.rules", 1, &err), FD_EIO);
	assert_null(rs);
	assert_false(fd_store_in_txn(st));
	fd_store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_given_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
