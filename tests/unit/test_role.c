/*
 * test_role.c — fd_role: the action matrix against the table written out by hand (fd.7),
 * the vocabularies, and fd_role_authorize on a store: single-user, allowed, denied (with
 * its audit entry), disabled, unknown; a denial on a read-only store is not recorded.
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

#include "../../lib/fd_role.c"

static char dir[64], path[128];

static int setup(void **state)
{
	(void)state;
	memcpy(dir, "/tmp/fd_test_role.XXXXXX", 25);
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

/* The matrix of fd.7, written out again: the action, then ADMIN INVESTIGATOR ANALYST VIEWER. */
static const struct {
	const char *name;
	const char *allow;
} expected[FD_NACT] = {
	{"view", "yyyy"},   {"create", "yyy-"}, {"note", "yyy-"},   {"link", "yyy-"},
	{"status", "yy--"}, {"assign", "yy--"}, {"auto", "yy--"},   {"users", "y---"},
	{"ingest", "yyy-"}, {"score", "yyy-"},  {"rules", "yyy-"},  {"train", "y-y-"},
	{"graph", "yyy-"},  {"seal", "y---"},   {"export", "yy--"},
};

static void test_matrix(void **state)
{
	int a, r;

	(void)state;
	for (a = 0; a < FD_NACT; a++) {
		assert_string_equal(fd_role_action_name(a), expected[a].name);
		for (r = 0; r < FD_NROLES; r++)
			if (fd_role_allowed(r, a) != (expected[a].allow[r] == 'y'))
				fail_msg("%s by %s: %d", expected[a].name, fd_user_role_name[r], fd_role_allowed(r, a));
	}
	assert_int_equal(fd_role_allowed(-1, FD_ACT_VIEW), 0);
	assert_int_equal(fd_role_allowed(FD_ROLE_ADMIN, FD_NACT), 0);
	assert_null(fd_role_action_name(FD_NACT));
	assert_int_equal(fd_user_role_parse("investigator"), FD_ROLE_INVESTIGATOR);
	assert_int_equal(fd_user_role_parse("VIEWER"), FD_ROLE_VIEWER);
	assert_int_equal(fd_user_role_parse("KING"), -1);
	assert_int_equal(fd_user_role_parse(NULL), -1);
}

static struct fd_store *open_as(const char *actor, int flags)
{
	struct fd_who who = {actor, "test_role", "0"};
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

static void test_authorize(void **state)
{
	struct fd_store *st = open_as("vic", FD_STORE_CREATE);
	struct fd_err err = {0};
	char login[256];

	(void)state;
	/* single-user: anyone may */
	assert_int_equal(fd_role_authorize(st, FD_ACT_SEAL, "head", &err), FD_OK);
	assert_int_equal(fd_store_exec(st, "INSERT INTO users (name, role, created_at, created_by) VALUES"
				       " ('boss', 'ADMIN', 1, 'x'), ('vic', 'VIEWER', 1, 'x'), ('old', 'ANALYST', 1, 'x');"
				       "UPDATE users SET active = 0 WHERE name = 'old'", &err), FD_OK);
	assert_int_equal(fd_role_authorize(st, FD_ACT_VIEW, NULL, &err), FD_OK);
	assert_int_equal(fd_role_authorize(st, FD_ACT_INGEST, "tx.csv", &err), FD_EPERM);
	assert_string_equal(err.msg, "permission denied: user 'vic' (VIEWER) may not ingest into the store; that needs ADMIN or INVESTIGATOR or ANALYST");
	assert_int_equal(count(st, "SELECT count(*) FROM audit_log WHERE action = 'ingest.denied' AND object_type = 'source'"
			       " AND object_id = 'tx.csv' AND actor = 'vic' AND json_extract(details, '$.action') = 'ingest'"
			       " AND json_extract(details, '$.role') = 'VIEWER'"), 1);
	{
		char *q = sqlite3_mprintf("SELECT count(*) FROM audit_log WHERE json_extract(details, '$.login') = %Q",
					  fd_role_login(login, sizeof(login)));

		assert_int_equal(count(st, q), 1);
		sqlite3_free(q);
	}
	assert_int_equal(fd_role_authorize(st, FD_NACT, NULL, &err), FD_EUSAGE);
	fd_store_close(st);

	st = open_as("old", 0);
	assert_int_equal(fd_role_authorize(st, FD_ACT_TRAIN, "new model", &err), FD_EPERM);
	assert_string_equal(err.msg, "permission denied: user 'old' is disabled");
	fd_store_close(st);
	st = open_as("nobody-here", 0);
	assert_int_equal(fd_role_authorize(st, FD_ACT_VIEW, "cases", &err), FD_EPERM);
	assert_string_equal(err.msg, "permission denied: 'nobody-here' is not a user of this store (see fd-case user list)");
	fd_store_close(st);
	st = open_as("boss", 0);
	assert_int_equal(fd_role_authorize(st, FD_ACT_SEAL, "head", &err), FD_OK);
	assert_int_equal(count(st, "SELECT count(*) FROM audit_log WHERE action LIKE '%.denied'"), 3);
	fd_store_close(st);

	/* read-only: denied, but nothing can be recorded */
	st = open_as("vic", FD_STORE_READONLY);
	assert_int_equal(fd_role_authorize(st, FD_ACT_SCORE, "m", &err), FD_EPERM);
	assert_int_equal(count(st, "SELECT count(*) FROM audit_log WHERE action LIKE '%.denied'"), 3);
	fd_store_close(st);
}

static void test_login(void **state)
{
	char buf[256];

	(void)state;
	fd_role_login(buf, sizeof(buf));
	if (getuid() == 0)
		assert_string_equal(buf, "root");
	assert_true(buf[0] != '\0');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matrix),
		cmocka_unit_test_setup_teardown(test_authorize, setup, teardown),
		cmocka_unit_test(test_login),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
