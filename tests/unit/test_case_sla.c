/*
 * test_case_sla.c — fd_case_sla: the default service levels, parsing --sla, and the state of
 * a case at the boundaries (worked out by hand: CRITICAL 1 d = 86,400,000 ms; NEAR from 80 %
 * = 69,120,000 ms), the order (earliest due first) and the count of breaches, on a store.
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

#include "../../lib/fd_case_sla.c"

static char dir[64], path[128];

static int setup(void **state)
{
	(void)state;
	memcpy(dir, "/tmp/fd_test_sla.XXXXXX", 24);
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

static void test_defaults_and_parse(void **state)
{
	struct fd_case_sla_policy p;
	char why[256];

	(void)state;
	fd_case_sla_defaults(&p);
	assert_int_equal(p.due_ms[FD_PRIO_CRITICAL], 86400000LL);
	assert_int_equal(p.due_ms[FD_PRIO_HIGH], 259200000LL);
	assert_int_equal(p.due_ms[FD_PRIO_MEDIUM], 604800000LL);
	assert_int_equal(p.due_ms[FD_PRIO_LOW], 2592000000LL);
	assert_int_equal(p.near_pct, 80);
	assert_null(fd_case_sla_parse(&p, "critical=12h,LOW=14d", why, sizeof(why)));
	assert_int_equal(p.due_ms[FD_PRIO_CRITICAL], 43200000LL);
	assert_int_equal(p.due_ms[FD_PRIO_LOW], 1209600000LL);
	assert_int_equal(p.due_ms[FD_PRIO_HIGH], 259200000LL);  /* untouched */
	assert_null(fd_case_sla_parse(&p, "MEDIUM=90m", why, sizeof(why)));
	assert_int_equal(p.due_ms[FD_PRIO_MEDIUM], 5400000LL);
	assert_non_null(fd_case_sla_parse(&p, "HIGH", why, sizeof(why)));
	assert_string_equal(why, "'HIGH' is not PRIORITY=DURATION");
	assert_non_null(fd_case_sla_parse(&p, "URGENT=1d", why, sizeof(why)));
	assert_string_equal(why, "unknown priority 'URGENT' (LOW, MEDIUM, HIGH or CRITICAL)");
	assert_non_null(fd_case_sla_parse(&p, "HIGH=1d,", why, sizeof(why)));
	assert_string_equal(why, "'' is not PRIORITY=DURATION");
	assert_non_null(fd_case_sla_parse(&p, "LOW=0s", why, sizeof(why)));
}

static int64_t mkcase(struct fd_store *st, const char *title, int prio, int64_t created)
{
	struct fd_case_new c;
	struct fd_err err = {0};
	sqlite3_stmt *s;
	int64_t id;

	memset(&c, 0, sizeof(c));
	c.title = title;
	c.priority = prio;
	assert_int_equal(fd_case_create(st, &c, &id, &err), FD_OK);
	assert_int_equal(fd_store_prepare(st, &s, "UPDATE cases SET created_at = ?1, updated_at = ?1 WHERE id = ?2", &err),
			 FD_OK);
	sqlite3_bind_int64(s, 1, created);
	sqlite3_bind_int64(s, 2, id);
	assert_int_equal(sqlite3_step(s), SQLITE_DONE);
	sqlite3_finalize(s);
	return id;
}

static void test_states(void **state)
{
	struct fd_who who = {"tester", "test", "0"};
	struct fd_store *st;
	struct fd_err err = {0};
	struct fd_case_sla_policy p;
	struct fd_case_filter f;
	struct fd_case_sla_row *r;
	size_t n, nb;
	const int64_t now = 1773187200000LL;  /* 2026-03-11T00:00:00Z */

	(void)state;
	assert_int_equal(fd_store_open(&st, path, FD_STORE_CREATE, &who, &err), FD_OK);
	fd_case_sla_defaults(&p);
	fd_case_filter_init(&f);
	mkcase(st, "exactly due", FD_PRIO_CRITICAL, now - 86400000LL);    /* 1: BREACHED, due now */
	mkcase(st, "1 ms short", FD_PRIO_CRITICAL, now - 86399999LL);     /* 2: NEAR, due now + 1 */
	mkcase(st, "80 %", FD_PRIO_CRITICAL, now - 69120000LL);           /* 3: NEAR */
	mkcase(st, "1 ms under 80 %", FD_PRIO_CRITICAL, now - 69119999LL); /* 4: OK */
	mkcase(st, "old low", FD_PRIO_LOW, now - 31 * 86400000LL);        /* 5: BREACHED, due a day ago */
	assert_int_equal(fd_case_sla(st, &p, &f, now, 0, &r, &n, &nb, &err), FD_OK);
	assert_int_equal(n, 4);
	assert_int_equal(nb, 2);
	/* earliest due first: 5 (now - 1 d), 1 (now), 2 (now + 1 ms), 3 (now + 17,280,000 ms) */
	assert_int_equal(r[0].s.id, 5);
	assert_int_equal(r[0].state, FD_SLA_BREACHED);
	assert_int_equal(r[0].due_at, now - 86400000LL);
	assert_int_equal(r[1].s.id, 1);
	assert_int_equal(r[1].state, FD_SLA_BREACHED);
	assert_int_equal(r[1].age_ms, 86400000LL);
	assert_int_equal(r[2].s.id, 2);
	assert_int_equal(r[2].state, FD_SLA_NEAR);
	assert_int_equal(r[3].s.id, 3);
	assert_int_equal(r[3].state, FD_SLA_NEAR);
	assert_int_equal(r[3].due_at, now + 17280000LL);
	fd_case_sla_rows_free(r, n);
	/* all: case 4 too, OK; a limit keeps the count of breaches over the whole selection */
	f.limit = 1;
	assert_int_equal(fd_case_sla(st, &p, &f, now, 1, &r, &n, &nb, &err), FD_OK);
	assert_int_equal(n, 1);
	assert_int_equal(nb, 2);
	fd_case_sla_rows_free(r, n);
	f.limit = 0;
	assert_int_equal(fd_case_sla(st, &p, &f, now, 1, &r, &n, &nb, &err), FD_OK);
	assert_int_equal(n, 5);
	assert_int_equal(r[4].s.id, 4);
	assert_int_equal(r[4].state, FD_SLA_OK);
	fd_case_sla_rows_free(r, n);
	/* final statuses only: nothing open */
	f.status_mask = 1u << FD_CASE_CLOSED;
	assert_int_equal(fd_case_sla(st, &p, &f, now, 1, &r, &n, &nb, &err), FD_OK);
	assert_int_equal(n, 0);
	assert_null(r);
	fd_store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_parse),
		cmocka_unit_test_setup_teardown(test_states, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
