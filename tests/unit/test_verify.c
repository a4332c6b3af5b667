/*
 * test_verify.c — fd_verify: the recording convention (fd_verify_record) on the tables that
 * later capabilities own — a case that changes over time, a batch of scores keyed by run —
 * and each change made behind the tools' back through a second SQLite connection (what the
 * sqlite3 shell does); and the small parsers.  Digests are checked against values computed
 * independently with Python's hashlib from the encoding documented in fd_audit.h.
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

#include "../../lib/fd_verify.c"
#include "../../lib/fd_schema.h"

/* The sequence number of the k-th entry after the store's migrations (one entry each). */
#define AFTER_MIGRATIONS(k) ((int64_t)fd_nmigrations + (k))

/* "audit entry N rest", N the k-th entry after the migrations. */
static const char *entry_msg(int k, const char *rest)
{
	static char buf[512];

	snprintf(buf, sizeof(buf), "audit entry %lld %s", (long long)AFTER_MIGRATIONS(k), rest);
	return buf;
}

static char dir[64], path[128];

static int setup(void **state)
{
	(void)state;
	memcpy(dir, "/tmp/fd_test_verify.XXXXXX", 27);
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

static struct fd_store *open_store(void)
{
	struct fd_who who = {"tester", "test_verify", "0"};
	struct fd_store *st = NULL;
	struct fd_err err = {0};

	unlink(path);
	assert_int_equal(fd_store_open(&st, path, FD_STORE_CREATE, &who, &err), FD_OK);
	return st;
}

/* Run SQL in the store like fd would: inside a transaction, then record it. */
static void exec(struct fd_store *st, const char *sql)
{
	struct fd_err err = {0};

	assert_int_equal(fd_store_exec(st, sql, &err), FD_OK);
}

/* Behind the tools' back: another connection, as the sqlite3 shell would be. */
static void tamper(const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("tamper: %s", msg);
	sqlite3_close(db);
}

static char first[1024];
static int nfind;

static void on_finding(void *ctx, const struct fd_verify_finding *f)
{
	(void)ctx;
	if (nfind++ == 0)
		snprintf(first, sizeof(first), "%s", f->msg);
}

static int verify(struct fd_store *st, struct fd_verify_result *res)
{
	struct fd_verify_opts o;
	struct fd_err err = {0};
	int rc;

	memset(&o, 0, sizeof(o));
	o.on_finding = on_finding;
	nfind = 0;
	first[0] = '\0';
	rc = fd_verify_store(st, &o, res, &err);
	if (rc == FD_EFINDINGS)
		assert_string_equal(err.msg, first);
	return rc;
}

static const char *details_of(struct fd_store *st, int64_t seq, char *buf, size_t n)
{
	sqlite3_stmt *s;
	struct fd_err err = {0};

	assert_int_equal(fd_store_prepare(st, &s, "SELECT details || '|' || ifnull(data_digest, '') FROM audit_log WHERE seq = ?1", &err), FD_OK);
	sqlite3_bind_int64(s, 1, seq);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	snprintf(buf, n, "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return buf;
}

/* ---- the recording convention --------------------------------------------------------- */

static void test_record_one_table(void **state)
{
	struct fd_store *st = open_store();
	struct fd_verify_part part = {"t_things", "batch"};
	struct fd_verify_result res;
	struct fd_err err = {0};
	char buf[1024];
	int64_t seq = 0;

	(void)state;
	exec(st, "CREATE TABLE t_things (id INTEGER PRIMARY KEY, batch INTEGER, v TEXT)");
	assert_int_equal(fd_store_begin(st, &err), FD_OK);
	exec(st, "INSERT INTO t_things VALUES (1, 7, 'alpha'), (2, 7, 'beta'), (3, 8, 'other')");
	assert_int_equal(fd_verify_record(st, "thing.add", "batch", 7, &part, 1, " { \"note\" : \"two\" } ", &seq, &err), FD_OK);
	assert_int_equal(fd_store_commit(st, &err), FD_OK);
	assert_int_equal(seq, AFTER_MIGRATIONS(1));
	/* sha256("i1:1i1:7t5:alpha\ni1:2i1:7t4:beta\n"), by Python's hashlib */
	assert_string_equal(details_of(st, AFTER_MIGRATIONS(1), buf, sizeof(buf)),
			    " { \"note\" : \"two\","
			    "\"table\":\"t_things\",\"key\":\"batch\",\"rows\":2}"
			    "|a0ccafb56e669f869115c0b3745af0aa63e10b92fcc3a8769622d2c758c55485");
	/* batch 8 has no entry: the table is covered once an entry names it */
	assert_int_equal(verify(st, &res), FD_EFINDINGS);
	assert_string_equal(first, "t_things: 1 row with batch 8 is covered by no audit entry (inserted behind the tools' back, or their entry deleted)");
	fd_store_close(st);
}

static void test_record_several_tables_and_empty_extra(void **state)
{
	struct fd_store *st = open_store();
	struct fd_verify_part parts[2] = {{"t_a", "k"}, {"t_b", "k"}};
	struct fd_verify_result res;
	struct fd_err err = {0};
	char buf[1024], da[65], db[65], want[1024], comb[65];
	unsigned char h[32];
	crypto_hash_sha256_state s;

	(void)state;
	exec(st, "CREATE TABLE t_a (k INTEGER, v TEXT); CREATE TABLE t_b (k INTEGER, w REAL)");
	assert_int_equal(fd_store_begin(st, &err), FD_OK);
	exec(st, "INSERT INTO t_a VALUES (1, 'x'); INSERT INTO t_b VALUES (1, 0.5), (1, -0.0)");
	assert_int_equal(fd_verify_record(st, "pair.add", "pair", 1, parts, 2, "{}", NULL, &err), FD_OK);
	assert_int_equal(fd_store_commit(st, &err), FD_OK);
	assert_int_equal(fd_audit_digest_rows(st, "t_a", "k", 1, da, NULL, &err), FD_OK);
	assert_int_equal(fd_audit_digest_rows(st, "t_b", "k", 1, db, NULL, &err), FD_OK);
	/* the combined digest: SHA-256 of "<da>\n<db>\n" */
	crypto_hash_sha256_init(&s);
	crypto_hash_sha256_update(&s, (const unsigned char *)da, 64);
	crypto_hash_sha256_update(&s, (const unsigned char *)"\n", 1);
	crypto_hash_sha256_update(&s, (const unsigned char *)db, 64);
	crypto_hash_sha256_update(&s, (const unsigned char *)"\n", 1);
	crypto_hash_sha256_final(&s, h);
	sodium_bin2hex(comb, sizeof(comb), h, sizeof(h));
	snprintf(want, sizeof(want),
		 "{\"tables\":[{\"table\":\"t_a\",\"key\":\"k\",\"rows\":1,\"digest\":\"%s\"},"
		 "{\"table\":\"t_b\",\"key\":\"k\",\"rows\":2,\"digest\":\"%s\"}]}|%s", da, db, comb);
	assert_string_equal(details_of(st, AFTER_MIGRATIONS(1), buf, sizeof(buf)), want);
	assert_int_equal(verify(st, &res), FD_OK);
	assert_int_equal(res.digests, 2);
	assert_int_equal(res.rows, 3);
	tamper("UPDATE t_b SET w = 0.25 WHERE w = 0.5");
	assert_int_equal(verify(st, &res), FD_EFINDINGS);
	assert_string_equal(first, entry_msg(1, "(pair.add pair/1): data digest mismatch: rows of t_b with k 1 changed since the entry"));
	assert_int_equal(nfind, 1);
	fd_store_close(st);
}

static void test_combine_digests_independent(void **state)
{
	char parts[2][65], hex[65];

	(void)state;
	memset(parts[0], 'a', 64);
	memset(parts[1], 'b', 64);
	parts[0][64] = parts[1][64] = '\0';
	fd_audit_combine_digests(parts, 2, hex);
	/* hashlib.sha256(b'a'*64 + b'\n' + b'b'*64 + b'\n') */
	assert_string_equal(hex, "913f9338fb6c17253f3a14816fc08d52522454bfc19a8c99538a197cfb23fb41");
}

static void test_record_refuses(void **state)
{
	struct fd_store *st = open_store();
	struct fd_verify_part part = {"t_things", "batch"}, bad = {"t_things; DROP", "batch"};
	struct fd_err err = {0};

	(void)state;
	exec(st, "CREATE TABLE t_things (id INTEGER PRIMARY KEY, batch INTEGER)");
	assert_int_equal(fd_store_begin(st, &err), FD_OK);
	assert_int_equal(fd_verify_record(st, "a", "b", 1, &part, 1, "{\"table\":1}", NULL, &err), FD_EUSAGE);
	assert_string_equal(err.msg, "internal: audit details use the reserved member 'table'");
	assert_int_equal(fd_verify_record(st, "a", "b", 1, &part, 1, "{\"rows\":1}", NULL, &err), FD_EUSAGE);
	assert_int_equal(fd_verify_record(st, "a", "b", 1, &part, 1, "[1]", NULL, &err), FD_EUSAGE);
	assert_string_equal(err.msg, "internal: audit details are not a JSON object");
	assert_int_equal(fd_verify_record(st, "a", "b", 1, &part, 1, "{\"a\":", NULL, &err), FD_EUSAGE);
	assert_int_equal(fd_verify_record(st, "a", "b", 1, &bad, 1, NULL, NULL, &err), FD_EUSAGE);
	assert_int_equal(fd_verify_record(st, "a", "b", 1, &part, 0, NULL, NULL, &err), FD_EUSAGE);
	fd_store_rollback(st);
	/* outside a transaction: fd_audit_append refuses */
	assert_int_equal(fd_verify_record(st, "a", "b", 1, &part, 1, NULL, NULL, &err), FD_EIO);
	fd_store_close(st);
}

/* ---- a case: mutable rows, the last entry speaks for them ------------------------------ */

static void case_change(struct fd_store *st, const char *sql, const char *action, const char *extra)
{
	struct fd_verify_part parts[2] = {{"cases", "id"}, {"case_events", "case_id"}};
	struct fd_err err = {0};

	assert_int_equal(fd_store_begin(st, &err), FD_OK);
	exec(st, sql);
	assert_int_equal(fd_verify_record(st, action, "case", 1, parts, 2, extra, NULL, &err), FD_OK);
	assert_int_equal(fd_store_commit(st, &err), FD_OK);
}

static void test_case_changed_behind_the_back(void **state)
{
	struct fd_store *st = open_store();
	struct fd_verify_result res;

	(void)state;
	case_change(st,
		    "INSERT INTO cases (id, title, created_at, created_by, updated_at) VALUES (1, 'ring', 1, 'tester', 1);"
		    "INSERT INTO case_events (case_id, ts, actor, kind) VALUES (1, 1, 'tester', 'created')",
		    "case.create", "{\"title\":\"ring\"}");
	case_change(st,
		    "UPDATE cases SET status = 'IN_PROGRESS', updated_at = 2 WHERE id = 1;"
		    "INSERT INTO case_events (case_id, ts, actor, kind, details) VALUES (1, 2, 'tester', 'status', '{\"to\":\"IN_PROGRESS\"}')",
		    "case.status", "{\"status\":\"IN_PROGRESS\"}");
	/* the first entry's digests are history; the second's match the rows now */
	assert_int_equal(verify(st, &res), FD_OK);
	assert_int_equal(res.entries, AFTER_MIGRATIONS(2));
	assert_int_equal(res.digests, 2);
	assert_int_equal(res.rows, 3);

	tamper("UPDATE cases SET status = 'FALSE_POSITIVE' WHERE id = 1");
	assert_int_equal(verify(st, &res), FD_EFINDINGS);
	assert_string_equal(first, entry_msg(2, "(case.status case/1): data digest mismatch: rows of cases with id 1 changed since the entry"));
	assert_int_equal(nfind, 1);
	tamper("UPDATE cases SET status = 'IN_PROGRESS' WHERE id = 1");
	assert_int_equal(verify(st, &res), FD_OK);

	/* an append-only event log: the trigger dropped, an event removed */
	tamper("DROP TRIGGER case_events_no_delete; DELETE FROM case_events WHERE kind = 'status'");
	assert_int_equal(verify(st, &res), FD_EFINDINGS);
	assert_string_equal(first, entry_msg(2, "(case.status case/1): data digest mismatch: rows of case_events with case_id 1 changed since the entry (1 now, the entry recorded 2)"));

	/* a case made by hand */
	tamper("INSERT INTO case_events (case_id, ts, actor, kind, details) VALUES (1, 2, 'tester', 'status', '{\"to\":\"IN_PROGRESS\"}');"
	       "INSERT INTO cases (id, title, created_at, created_by, updated_at) VALUES (2, 'fake', 1, 'x', 1)");
	assert_int_equal(verify(st, &res), FD_EFINDINGS);
	assert_string_equal(first, "cases: 1 row with id 2 is covered by no audit entry (inserted behind the tools' back, or their entry deleted)");
	assert_int_equal(nfind, 1);
	fd_store_close(st);
}

/* ---- scores: a batch keyed by its run ---------------------------------------------------- */

static void test_score_changed_behind_the_back(void **state)
{
	struct fd_store *st = open_store();
	struct fd_verify_part parts[] = {{"score_runs", "id"}, {"scores", "run_id"}};
	struct fd_verify_result res;
	struct fd_err err = {0};
	int64_t seq;

	(void)state;
	/* a run of fd-score: its score_runs row and its scores, recorded as one change */
	assert_int_equal(fd_store_begin(st, &err), FD_OK);
	exec(st, "INSERT INTO score_runs (id, model_version, rows, started_at, actor) VALUES (1, 'm1', 2, 5, 't')");
	exec(st, "INSERT INTO scores (txn_id, model_version, risk, level, decision, scored_at, run_id) VALUES"
		 " ('T1', 'm1', 91, 'HIGH', 'BLOCK', 5, 1), ('T2', 'm1', 12, 'LOW', 'APPROVE', 5, 1)");
	assert_int_equal(fd_verify_record(st, "score.run", "score_run", 1, parts, 2, "{\"model\":\"m1\"}", &seq, &err), FD_OK);
	assert_int_equal(fd_store_commit(st, &err), FD_OK);
	assert_int_equal(verify(st, &res), FD_OK);
	assert_int_equal(res.rows, 3);  /* the run row and its two scores */

	tamper("UPDATE scores SET risk = 10, level = 'LOW', decision = 'APPROVE' WHERE txn_id = 'T1'");
	assert_int_equal(verify(st, &res), FD_EFINDINGS);
	assert_string_equal(first, entry_msg(1, "(score.run score_run/1): data digest mismatch: rows of scores with run_id 1 changed since the entry"));
	tamper("UPDATE scores SET risk = 91, level = 'HIGH', decision = 'BLOCK' WHERE txn_id = 'T1'");
	assert_int_equal(verify(st, &res), FD_OK);
	tamper("INSERT INTO scores (txn_id, model_version, risk, level, decision, scored_at, run_id) VALUES ('T3', 'm1', 1, 'LOW', 'APPROVE', 5, 2)");
	assert_int_equal(verify(st, &res), FD_EFINDINGS);
	assert_string_equal(first, "scores: 1 row with run_id 2 is covered by no audit entry (inserted behind the tools' back, or their entry deleted)");
	fd_store_close(st);
}

/* ---- coverage declared by the schema ------------------------------------------------------ */

/* Every table of a freshly migrated store is declared covered or uncovered (fd_schema.h), and
 * every declaration names a table and key column that exist: a table added by a migration
 * without its line in fd_table_covers fails here, by name. */
static void test_every_table_declared(void **state)
{
	struct fd_store *st = open_store();
	struct fd_err err = {0};
	sqlite3_stmt *s;
	size_t i;
	int missing = 0;

	(void)state;
	assert_int_equal(fd_store_prepare(st, &s, "SELECT name FROM sqlite_schema WHERE type = 'table'"
					  " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name", &err), FD_OK);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(s, 0);

		if (!fd_table_cover_of(t)) {
			print_error("table '%s' of a freshly migrated store has no tamper-coverage declaration"
				    " in fd_table_covers (lib/fd_schema.c): declare it covered (FD_COVER_ROWS"
				    " with its key column) or uncovered (FD_COVER_NONE with the reason)\n", t);
			missing++;
		}
	}
	sqlite3_finalize(s);
	assert_int_equal(missing, 0);
	for (i = 0; i < fd_ntable_covers; i++) {
		const struct fd_table_cover *c = &fd_table_covers[i];

		if (table_exists(st, c->table, &err) != 1)
			fail_msg("fd_table_covers declares '%s', which a migrated store does not have", c->table);
		assert_non_null(c->why);
		if (c->kind == FD_COVER_ROWS && has_column(st, c->table, c->key_col, &err) != 1)
			fail_msg("fd_table_covers: table '%s' has no key column '%s'", c->table, c->key_col);
		assert_true(c->kind == FD_COVER_ROWS || c->key_col == NULL);
	}
	fd_store_close(st);
}

/* Rows forged into covered tables that no audit entry has ever named (the store has seen only
 * its migrations): each is found, by table and key. */
static void test_forged_rows_in_tables_never_named(void **state)
{
	struct fd_store *st = open_store();
	struct fd_verify_result res;

	(void)state;
	assert_int_equal(verify(st, &res), FD_OK);
	tamper("INSERT INTO users (id, name, role, created_at, created_by) VALUES (7, 'mallory', 'ADMIN', 1, 'x');"
	       "INSERT INTO cases (id, title, created_at, created_by, updated_at) VALUES (3, 'x', 1, 'x', 1);"
	       "INSERT INTO labels (txn_id, label, source, case_id, labelled_at, actor) VALUES ('T1', 0, 'case:3', 3, 1, 'x');"
	       "INSERT INTO score_runs (id, model_version, rows, started_at, actor) VALUES (4, 'm', 1, 1, 'x');"
	       "INSERT INTO scores (txn_id, model_version, risk, level, decision, scored_at, run_id)"
	       " VALUES ('T1', 'm', 1, 'LOW', 'APPROVE', 1, 4), ('T2', 'm', 1, 'LOW', 'APPROVE', 1, 4);"
	       "INSERT INTO models (id, version, path, sha256, features, trained_at, actor) VALUES (5, 'm', 'p', 'h', '[]', 1, 'x');"
	       "INSERT INTO rule_runs (id, ruleset, rules_file, transactions, hits, started_at, actor) VALUES (6, 'r', 'f', 1, 1, 1, 'x');"
	       "INSERT INTO rule_hits (run_id, txn_id, rule_id, ruleset, points, action, reason, created_at)"
	       " VALUES (6, 'T1', 'R', 'r', 1, 'block', 'x', 1)");
	assert_int_equal(verify(st, &res), FD_EFINDINGS);
	/* findings that concern no entry come in declaration order (fd_table_covers) */
	assert_string_equal(first, "rule_runs: 1 row with id 6 is covered by no audit entry (inserted behind the tools' back, or their entry deleted)");
	assert_int_equal(nfind, 8);
	assert_int_equal(res.findings, 8);
	fd_store_close(st);
}

static int64_t kept_count;
static int saw_users, saw_scores;

static void on_finding_all(void *ctx, const struct fd_verify_finding *f)
{
	(void)ctx;
	kept_count++;
	if (!strcmp(f->msg, "users: 1 row with id 7 is covered by no audit entry (inserted behind the tools' back, or their entry deleted)"))
		saw_users = 1;
	if (!strcmp(f->msg, "scores: 2 rows with run_id 4 are covered by no audit entry (inserted behind the tools' back, or their entry deleted)"))
		saw_scores = 1;
}

static void test_forged_admin_named(void **state)
{
	struct fd_store *st = open_store();
	struct fd_verify_result res;
	struct fd_verify_opts o;
	struct fd_err err = {0};

	(void)state;
	tamper("INSERT INTO users (id, name, role, created_at, created_by) VALUES (7, 'mallory', 'ADMIN', 1, 'x');"
	       "INSERT INTO score_runs (id, model_version, rows, started_at, actor) VALUES (4, 'm', 1, 1, 'x');"
	       "INSERT INTO scores (txn_id, model_version, risk, level, decision, scored_at, run_id)"
	       " VALUES ('T1', 'm', 1, 'LOW', 'APPROVE', 1, 4), ('T2', 'm', 1, 'LOW', 'APPROVE', 1, 4)");
	memset(&o, 0, sizeof(o));
	o.on_finding = on_finding_all;
	kept_count = saw_users = saw_scores = 0;
	assert_int_equal(fd_verify_store(st, &o, &res, &err), FD_EFINDINGS);
	assert_int_equal(kept_count, 3);
	assert_true(saw_users);
	assert_true(saw_scores);
	fd_store_close(st);
}

/* PRAGMA user_version must be what the last store.migrate entry recorded. */
static void test_user_version_lowered(void **state)
{
	struct fd_store *st = open_store();
	struct fd_verify_result res;
	char sql[64], want[320];
	int latest = fd_store_schema_latest();

	(void)state;
	assert_int_equal(verify(st, &res), FD_OK);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", latest - 1);
	tamper(sql);
	assert_int_equal(verify(st, &res), FD_EFINDINGS);
	/* the last migration's entry is the fd_nmigrations-th of a fresh store (versions need
	 * not be consecutive) */
	snprintf(want, sizeof(want), "audit entry %d (store.migrate store/%d): PRAGMA user_version is %d but the store"
		 " was migrated to version %d: the schema version was lowered behind the tools' back",
		 (int)fd_nmigrations, latest, latest - 1, latest);
	assert_string_equal(first, want);
	assert_int_equal(nfind, 1);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", latest);
	tamper(sql);
	assert_int_equal(verify(st, &res), FD_OK);
	fd_store_close(st);
}

/* A writing open refuses a store whose version was lowered instead of migrating it again. */
static void test_lowered_store_not_migrated(void **state)
{
	struct fd_who who = {"tester", "test_verify", "0"};
	struct fd_store *st = open_store();
	struct fd_err err = {0};
	char sql[64];

	(void)state;
	fd_store_close(st);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", fd_store_schema_latest() - 2);
	tamper(sql);
	st = NULL;
	assert_int_equal(fd_store_open(&st, path, 0, &who, &err), FD_EINPUT);
	assert_null(st);
	assert_non_null(strstr(err.msg, "records migrations past it: the version was lowered behind the tools' back"));
	/* verification can still open it (read-only, any version) and names the tampering */
	assert_int_equal(fd_store_open(&st, path, FD_STORE_READONLY, &who, &err), FD_EINPUT);
	assert_int_equal(fd_store_open(&st, path, FD_STORE_READONLY | FD_STORE_ANY_VERSION, &who, &err), FD_OK);
	fd_store_close(st);
}

/* ---- parsers and texts ------------------------------------------------------------------ */

static void test_parse_key(void **state)
{
	int64_t v = 0;

	(void)state;
	assert_true(parse_key("0", &v) && v == 0);
	assert_true(parse_key("7", &v) && v == 7);
	assert_true(parse_key("-3", &v) && v == -3);
	assert_true(parse_key("9223372036854775807", &v) && v == INT64_MAX);
	assert_false(parse_key("9223372036854775808", &v));
	assert_false(parse_key("007", &v));
	assert_false(parse_key("+7", &v));
	assert_false(parse_key("-0", &v));
	assert_false(parse_key("", &v));
	assert_false(parse_key("1x", &v));
	assert_false(parse_key(" 1", &v));
	assert_false(parse_key(NULL, &v));
}

static void test_seal_message_and_text(void **state)
{
	char buf[256], text[FD_SEAL_TEXT_MAX], head[65], store[65], sig[129];
	unsigned char raw[64], back[64];
	int64_t seq;
	char h16[17];
	struct fd_err err = {0};
	size_t n;

	(void)state;
	memset(head, 'c', 64);
	memset(store, 'd', 64);
	head[64] = store[64] = '\0';
	n = fd_seal_message(store, 42, head, buf);
	assert_string_equal(buf, "fd-audit seal v1\nstore dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd\n"
			    "seq 42\nhead cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\n");
	assert_int_equal(n, strlen(buf));
	for (n = 0; n < 64; n++)
		raw[n] = (unsigned char)n;
	sodium_bin2hex(sig, sizeof(sig), raw, sizeof(raw));
	assert_int_equal(fd_seal_text(42, head, sig, text), FD_OK);
	/* base64 of bytes 0..63, as `python3 -c "import base64; print(base64.b64encode(bytes(range(64))))"` */
	assert_string_equal(text, "fd-seal:v1:42:cccccccccccccccc:"
			    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw");
	assert_int_equal(parse_seal_text(text, &seq, h16, back, &err), FD_OK);
	assert_int_equal(seq, 42);
	assert_string_equal(h16, "cccccccccccccccc");
	assert_memory_equal(back, raw, 64);
	assert_int_equal(fd_seal_text(1, head, "zz", text), FD_EINPUT);
	assert_int_equal(parse_seal_text("fd-seal:v2:42:cccccccccccccccc:AAEC", &seq, h16, back, &err), FD_EUSAGE);
	assert_int_equal(parse_seal_text("fd-seal:v1:0:cccccccccccccccc:AAEC", &seq, h16, back, &err), FD_EUSAGE);
	assert_int_equal(parse_seal_text("fd-seal:v1:4:CCCCCCCCCCCCCCCC:AAEC", &seq, h16, back, &err), FD_EUSAGE);
	assert_int_equal(parse_seal_text("fd-seal:v1:4:cccccccccccccccc:AAEC", &seq, h16, back, &err), FD_EUSAGE);
	assert_string_equal(err.msg, "seal text 'fd-seal:v1:4:cccccccccccccccc:AAEC' is not of the form fd-seal:v1:SEQ:HEAD:SIGNATURE");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_record_one_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_several_tables_and_empty_extra, setup, teardown),
		cmocka_unit_test(test_combine_digests_independent),
		cmocka_unit_test_setup_teardown(test_record_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_case_changed_behind_the_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_score_changed_behind_the_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_table_declared, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged_rows_in_tables_never_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged_admin_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_version_lowered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lowered_store_not_migrated, setup, teardown),
		cmocka_unit_test(test_parse_key),
		cmocka_unit_test(test_seal_message_and_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
