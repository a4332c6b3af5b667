/* test_graph.c — fd_graph on small hand-drawn graphs: building (aggregates, currency, window,
 * minimum, reversals, attributes), components, time-respecting cycles (one loop that is not in
 * time order must not be reported), fans, statistics (clustering by hand, PageRank from
 * networkx), the JSON writer, and the neighbourhood loaded hop by hop from a store. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/fd_graph.c"
#include "../../lib/fd_graph_rank.c"

#include "fd_ingest.h"

/* ms of a UTC time on 2026-01-DD HH:MM */
#define T(dd, hh, mm) ((int64_t)(1767225600000LL + ((dd) - 1) * 86400000LL + (hh) * 3600000LL + (mm) * 60000LL))

static char tmpdir[64];

static int setup(void **state)
{
	(void)state;
	memcpy(tmpdir, "/tmp/fd_test_graph.XXXXXX", 26);
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	char p[600];

	(void)state;
	if (d) {
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(tmpdir);
	return 0;
}

/* A transaction: sender, recipient or merchant (a name beginning with 'M' is a merchant),
 * amount in minor units, time; the rest absent. */
static struct fd_graph_txn tx(const char *id, int64_t ts, int64_t amount, const char *from, const char *to)
{
	struct fd_graph_txn t;

	memset(&t, 0, sizeof(t));
	t.txn_id = id;
	t.ts = ts;
	t.amount = amount;
	t.currency = "USD";
	t.sender = from;
	if (to && to[0] == 'M')
		t.merchant = to;
	else
		t.recipient = to;
	t.label = 0;
	t.risk = -1;
	return t;
}

static struct fd_graph *new_graph(unsigned kinds, int keep)
{
	struct fd_graph_opts o;
	struct fd_graph *g;
	struct fd_err err = {0};

	fd_graph_opts_init(&o);
	o.kinds = kinds;
	o.keep_txns = keep;
	assert_int_equal(fd_graph_create(&g, &o, &err), FD_OK);
	return g;
}

static void add(struct fd_graph *g, struct fd_graph_txn t)
{
	struct fd_err err = {0};

	assert_int_equal(fd_graph_add_txn(g, &t, &err), FD_OK);
}

static void finish(struct fd_graph *g)
{
	struct fd_err err = {0};

	assert_int_equal(fd_graph_finish(g, &err), FD_OK);
}

/* The edge src -> dst of kind, or fail. */
static struct fd_graph_edge_info edge(const struct fd_graph *g, const char *sk, const char *s, const char *dk,
				      const char *d, int kind)
{
	struct fd_graph_edge_info e;
	int64_t a = fd_graph_find(g, sk, s), b = fd_graph_find(g, dk, d);
	uint32_t i;

	assert_true(a >= 0);
	assert_true(b >= 0);
	for (i = 0; i < fd_graph_edge_count(g); i++) {
		fd_graph_edge_get(g, i, &e);
		if (e.src == (uint32_t)a && e.dst == (uint32_t)b && e.kind == kind)
			return e;
	}
	fail_msg("no edge %s:%s -> %s:%s", sk, s, dk, d);
	return e;
}

static const char *name_of(const struct fd_graph *g, uint32_t id, char *buf, size_t n)
{
	struct fd_graph_node_info ni;

	fd_graph_node_get(g, id, &ni);
	snprintf(buf, n, "%s:%s", ni.kind, ni.key);
	return buf;
}

/* ---- parsers ------------------------------------------------------------------------- */

static void test_parse_kinds(void **state)
{
	struct fd_err err = {0};
	unsigned m = 0;

	(void)state;
	assert_int_equal(fd_graph_parse_kinds("transfer", &m, &err), FD_OK);
	assert_int_equal(m, 1u);
	assert_int_equal(fd_graph_parse_kinds("money,link", &m, &err), FD_OK);
	assert_int_equal(m, 1u | 2u | 32u);
	assert_int_equal(fd_graph_parse_kinds("shared", &m, &err), FD_OK);
	assert_int_equal(m, 4u | 8u | 16u);
	assert_int_equal(fd_graph_parse_kinds("all", &m, &err), FD_OK);
	assert_int_equal(m, 63u);
	assert_int_equal(fd_graph_parse_kinds("ip,device,ip", &m, &err), FD_OK);
	assert_int_equal(m, 4u | 8u);
	m = 99;
	assert_int_equal(fd_graph_parse_kinds("transfers", &m, &err), FD_EUSAGE);
	assert_string_equal(err.msg, "unknown edge kind 'transfers' (transfer, payment, device, ip, attr, link; money, shared, links, all)");
	assert_int_equal(m, 99u);
	assert_int_equal(fd_graph_parse_kinds("", &m, &err), FD_EUSAGE);
	assert_string_equal(err.msg, "empty list of edge kinds");
	assert_int_equal(fd_graph_parse_kinds("ip,", &m, &err), FD_EUSAGE);
	assert_int_equal(fd_graph_parse_kinds(",ip", &m, &err), FD_EUSAGE);
	assert_string_equal(err.msg, "unknown edge kind '' (transfer, payment, device, ip, attr, link; money, shared, links, all)");
}

static void test_format_parse(void **state)
{
	(void)state;
	assert_int_equal(fd_graph_format_parse("graphml"), FD_GRAPH_GRAPHML);
	assert_int_equal(fd_graph_format_parse("dot"), FD_GRAPH_DOT);
	assert_int_equal(fd_graph_format_parse("JSON"), -1);
}

static void test_normalise(void **state)
{
	char b[64];

	(void)state;
	assert_int_equal(attr_normalise("phone", " +44 (20) 7946-0000 ", 20, b, sizeof(b)), 13);
	assert_string_equal(b, "+442079460000");
	assert_int_equal(attr_normalise("mobile", "0044 20 79", 10, b, sizeof(b)), 8);
	assert_string_equal(b, "00442079");
	assert_int_equal(attr_normalise("phone", "+", 1, b, sizeof(b)), 0);
	assert_int_equal(attr_normalise("phone", "1+2", 3, b, sizeof(b)), 2);
	assert_string_equal(b, "12");
	assert_int_equal(attr_normalise("email", "  Jo.Doe@Example.COM\t", 21, b, sizeof(b)), 18);
	assert_string_equal(b, "jo.doe@example.com");
	assert_int_equal(attr_normalise("address", "1  High\tStreet \n London", 23, b, sizeof(b)), 20);
	assert_string_equal(b, "1 high street london");
	assert_int_equal(attr_normalise("address", "   ", 3, b, sizeof(b)), 0);
	/* cut at the room given, always terminated */
	assert_int_equal(attr_normalise("address", "abcdefgh", 8, b, 5), 4);
	assert_string_equal(b, "abcd");
}

/* ---- building ------------------------------------------------------------------------ */

static void test_aggregates(void **state)
{
	struct fd_graph *g = new_graph(0, 1);
	struct fd_graph_txn t;
	struct fd_graph_edge_info e;
	struct fd_graph_node_info n;
	struct fd_graph_move m;

	(void)state;
	t = tx("t1", T(5, 9, 0), 1000, "A", "B");
	t.device = "D1";
	t.ip = "10.0.0.1";
	t.risk = 30;
	add(g, t);
	t = tx("t2", T(5, 8, 0), 250, "A", "B");
	t.label = 1;
	add(g, t);
	t = tx("t3", T(6, 9, 0), 499, "A", "M1");
	t.device = "D1";
	t.scored_flag = 1;
	t.risk = 80.25;  /* risks have two decimals */
	add(g, t);
	t = tx("t4", T(6, 10, 0), -499, "A", "M1");  /* a reversal: no money, but the device */
	t.device = "D2";
	add(g, t);
	t = tx("t5", T(7, 9, 0), 700, "B", "A");
	t.currency = "EUR";                          /* dropped: USD is the most common */
	add(g, t);
	t = tx("t6", T(7, 10, 0), 20, "B", "C");
	t.metadata = "{\"phone\":\"+1 555 0100\",\"email\":\"\",\"note\":\"phone\"}";
	t.metadata_len = strlen(t.metadata);
	add(g, t);
	finish(g);
	assert_string_equal(fd_graph_currency(g), "USD");
	assert_int_equal(fd_graph_currency_exp(g), 2);
	assert_int_equal(fd_graph_money_dropped(g), 1);
	assert_int_equal(fd_graph_txn_count(g), 6);

	e = edge(g, "account", "A", "account", "B", FD_GRAPH_TRANSFER);
	assert_int_equal(e.count, 2);
	assert_int_equal(e.total, 1250);
	assert_int_equal(e.first, T(5, 8, 0));
	assert_int_equal(e.last, T(5, 9, 0));
	assert_int_equal(e.flagged, 1);
	assert_float_equal(e.risk, 30.0, 1e-9);
	e = edge(g, "account", "A", "merchant", "M1", FD_GRAPH_PAYMENT);
	assert_int_equal(e.count, 1);
	assert_int_equal(e.total, 499);
	assert_int_equal(e.flagged, 1);
	assert_float_equal(e.risk, 80.25, 1e-9);
	e = edge(g, "account", "A", "device", "D1", FD_GRAPH_DEVICE);
	assert_int_equal(e.count, 2);
	assert_int_equal(e.total, 0);
	e = edge(g, "account", "A", "device", "D2", FD_GRAPH_DEVICE);
	assert_int_equal(e.count, 1);
	e = edge(g, "account", "A", "ip", "10.0.0.1", FD_GRAPH_IP);
	assert_int_equal(e.count, 1);
	e = edge(g, "account", "B", "phone", "+15550100", FD_GRAPH_ATTR);
	assert_int_equal(e.count, 1);
	assert_true(fd_graph_find(g, "email", "") < 0);
	/* 8 nodes: A B C M1 D1 D2 ip phone; 7 edges: A>B A>M1 A>D1 A>D2 A>ip B>C B>phone (the EUR
	 * transfer B -> A is none) */
	assert_int_equal(fd_graph_node_count(g), 8);
	assert_int_equal(fd_graph_edge_count(g), 7);
	fd_graph_node_get(g, (uint32_t)fd_graph_find(g, "account", "A"), &n);
	assert_int_equal(n.txns, 5);
	assert_int_equal(n.flagged, 2);
	assert_int_equal(n.sent, 4);
	assert_int_equal(n.sent_flagged, 2);
	assert_float_equal(n.risk, 80.25, 1e-9);
	assert_int_equal(n.first, T(5, 8, 0));
	assert_int_equal(n.last, T(7, 9, 0));
	/* moves: USD money only, in (edge, time) order */
	assert_int_equal(fd_graph_move_count(g), 4);
	fd_graph_move_get(g, 0, &m);
	assert_string_equal(m.txn_id, "t2");
	assert_int_equal(m.flagged, 1);
	fd_graph_move_get(g, 1, &m);
	assert_string_equal(m.txn_id, "t1");
	fd_graph_free(g);
}

static void test_currency_window_minimum(void **state)
{
	struct fd_graph_opts o;
	struct fd_graph *g;
	struct fd_err err = {0};
	struct fd_graph_txn t;
	uint32_t i;

	(void)state;
	fd_graph_opts_init(&o);
	o.since = T(2, 0, 0);
	o.until = T(3, 0, 0);
	o.min_amount = 105000;           /* 10.50 */
	o.currency = "JPY";
	assert_int_equal(fd_graph_create(&g, &o, &err), FD_OK);
	add(g, tx("a", T(1, 23, 59), 5000, "A", "B"));      /* before the window */
	add(g, tx("b", T(3, 0, 0), 5000, "A", "B"));        /* at until: out */
	t = tx("c", T(2, 10, 0), 11, "A", "B");             /* 11 JPY >= 10.50: in */
	t.currency = "JPY";
	add(g, t);
	t = tx("d", T(2, 11, 0), 10, "A", "C");             /* 10 JPY: below */
	t.currency = "JPY";
	add(g, t);
	add(g, tx("e", T(2, 12, 0), 5000, "A", "B"));       /* USD: not the currency asked for */
	finish(g);
	assert_string_equal(fd_graph_currency(g), "JPY");
	assert_int_equal(fd_graph_currency_exp(g), 0);
	assert_int_equal(fd_graph_money_dropped(g), 1);
	assert_int_equal(fd_graph_txn_count(g), 3);
	assert_int_equal(fd_graph_edge_count(g), 1);
	for (i = 0; i < 1; i++) {
		struct fd_graph_edge_info e;

		fd_graph_edge_get(g, i, &e);
		assert_int_equal(e.total, 11);
	}
	fd_graph_free(g);

	/* USD minimum 10.50 is 1050 cents; 1049 is out */
	fd_graph_opts_init(&o);
	o.min_amount = 105000;
	assert_int_equal(fd_graph_create(&g, &o, &err), FD_OK);
	add(g, tx("a", T(1, 0, 0), 1049, "A", "B"));
	add(g, tx("b", T(1, 0, 0), 1050, "A", "C"));
	finish(g);
	assert_int_equal(fd_graph_edge_count(g), 1);
	assert_true(fd_graph_find(g, "account", "B") >= 0);  /* a party, but no money edge */
	edge(g, "account", "A", "account", "C", FD_GRAPH_TRANSFER);
	fd_graph_free(g);

	/* bad options */
	fd_graph_opts_init(&o);
	o.currency = "usd";
	assert_int_equal(fd_graph_create(&g, &o, &err), FD_EUSAGE);
	assert_null(g);
	fd_graph_opts_init(&o);
	{
		const char *attrs[] = {"phone", "device"};

		o.attrs = attrs;
		o.nattrs = 2;
		assert_int_equal(fd_graph_create(&g, &o, &err), FD_EUSAGE);
		assert_string_equal(err.msg, "attribute 'device' cannot name a node kind (not empty, no ':', not account, merchant, device or ip)");
	}
	/* a sender is required */
	g = new_graph(0, 0);
	t = tx("x", T(1, 0, 0), 1, NULL, "B");
	assert_int_equal(fd_graph_add_txn(g, &t, &err), FD_EINPUT);
	assert_string_equal(err.msg, "transaction 'x' has no sender");
	fd_graph_free(g);
}

/* ---- components ---------------------------------------------------------------------- */

static void test_components(void **state)
{
	struct fd_graph *g = new_graph(0, 0);
	struct fd_graph_comps c;
	struct fd_err err = {0};
	struct fd_graph_txn t;
	char b[64];

	(void)state;
	/* ring 1: A1, A2 share D1; A2, A3 share an IP; ring 2: B1, B2 share a phone; C alone */
	t = tx("1", T(1, 1, 0), 100, "A1", "M1");
	t.device = "D1";
	add(g, t);
	t = tx("2", T(1, 2, 0), 200, "A2", "M1");
	t.device = "D1";
	t.ip = "10.0.0.1";
	t.label = 1;
	add(g, t);
	t = tx("3", T(1, 3, 0), 300, "A3", "A1");
	t.ip = "10.0.0.1";
	add(g, t);
	t = tx("4", T(1, 4, 0), 400, "A1", "B1");
	add(g, t);
	t = tx("5", T(1, 5, 0), 500, "B1", "M2");
	t.metadata = "{\"phone\":\"+1 555 0100\"}";
	t.metadata_len = strlen(t.metadata);
	add(g, t);
	t = tx("6", T(1, 6, 0), 600, "B2", "M2");
	t.metadata = "{\"phone\":\"+15550100\"}";
	t.metadata_len = strlen(t.metadata);
	add(g, t);
	t = tx("7", T(1, 7, 0), 700, "C", "M2");
	t.device = "DC";
	add(g, t);
	finish(g);
	assert_int_equal(fd_graph_components(g, FD_GRAPH_SHARED | FD_GRAPH_BIT(FD_GRAPH_LINK), 2, 0, &c, &err), FD_OK);
	assert_int_equal(c.ngroups, 3);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.c[0].naccounts, 3);
	assert_int_equal(c.c[0].nmembers, 5);
	assert_int_equal(c.c[0].nshared, 2);
	assert_string_equal(name_of(g, c.c[0].members[0], b, sizeof(b)), "account:A1");
	assert_string_equal(name_of(g, c.c[0].members[1], b, sizeof(b)), "account:A2");
	assert_string_equal(name_of(g, c.c[0].members[2], b, sizeof(b)), "account:A3");
	assert_string_equal(name_of(g, c.c[0].members[3], b, sizeof(b)), "device:D1");
	assert_string_equal(name_of(g, c.c[0].members[4], b, sizeof(b)), "ip:10.0.0.1");
	assert_int_equal(c.c[0].sent, 4);
	assert_int_equal(c.c[0].flagged, 1);
	assert_int_equal(c.c[0].flow_internal, 300);          /* A3 -> A1 */
	assert_int_equal(c.c[0].flow_out, 100 + 200 + 400);   /* M1, M1, B1 */
	assert_int_equal(c.c[0].flow_in, 0);
	assert_int_equal(c.c[1].naccounts, 2);
	assert_int_equal(c.c[1].nshared, 1);
	assert_string_equal(name_of(g, c.c[1].members[2], b, sizeof(b)), "phone:+15550100");
	assert_int_equal(c.c[1].flow_in, 400);
	assert_int_equal(c.c[1].flow_out, 1100);
	fd_graph_comps_release(&c);
	/* joined by money: one group of 5 accounts */
	assert_int_equal(fd_graph_components(g, FD_GRAPH_SHARED | FD_GRAPH_BIT(FD_GRAPH_TRANSFER), 2, 0, &c, &err), FD_OK);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.c[0].naccounts, 5);
	assert_int_equal(c.c[0].flow_internal, 700);
	fd_graph_comps_release(&c);
	/* size limits */
	assert_int_equal(fd_graph_components(g, FD_GRAPH_SHARED, 1, 2, &c, &err), FD_OK);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.c[0].naccounts, 2);
	assert_int_equal(c.c[1].naccounts, 1);
	fd_graph_comps_release(&c);
	fd_graph_free(g);
}

/* ---- cycles -------------------------------------------------------------------------- */

static struct fd_graph *cycle_graph(void)
{
	struct fd_graph *g = new_graph(FD_GRAPH_MONEY, 1);

	/* P: in time order, started twice from P1 */
	add(g, tx("p1", T(1, 10, 0), 1000, "P1", "P2"));
	add(g, tx("p1b", T(1, 11, 0), 300, "P1", "P2"));
	add(g, tx("p2", T(1, 12, 0), 990, "P2", "P3"));
	add(g, tx("p3", T(1, 15, 0), 980, "P3", "P1"));
	/* Q: a loop in no time order from any start (Q1->Q2 10:00, Q2->Q3 14:00, Q3->Q1 12:00) */
	add(g, tx("q1", T(2, 10, 0), 500, "Q1", "Q2"));
	add(g, tx("q2", T(2, 14, 0), 500, "Q2", "Q3"));
	add(g, tx("q3", T(2, 12, 0), 500, "Q3", "Q1"));
	/* R: the same loop rotated in time (R2->R3 first) is a cycle from R2 */
	add(g, tx("r1", T(3, 14, 0), 400, "R1", "R2"));
	add(g, tx("r2", T(3, 10, 0), 400, "R2", "R3"));
	add(g, tx("r3", T(3, 12, 0), 400, "R3", "R1"));
	/* Z: 17 days round */
	add(g, tx("z1", T(3, 10, 0), 700, "Z1", "Z2"));
	add(g, tx("z2", T(20, 10, 0), 650, "Z2", "Z1"));
	/* W: four hops; W1 also pays a merchant (no cycle through merchants) */
	add(g, tx("w1", T(5, 1, 0), 2000, "W1", "W2"));
	add(g, tx("w2", T(5, 2, 0), 1990, "W2", "W3"));
	add(g, tx("w3", T(5, 3, 0), 1980, "W3", "W4"));
	add(g, tx("w4", T(5, 4, 0), 1970, "W4", "W1"));
	add(g, tx("wm", T(5, 5, 0), 10, "W1", "M1"));
	/* equal times are not "after": S1 -> S2 -> S1 at the same instant */
	add(g, tx("s1", T(6, 1, 0), 50, "S1", "S2"));
	add(g, tx("s2", T(6, 1, 0), 50, "S2", "S1"));
	finish(g);
	return g;
}

static void cycle_ids(const struct fd_graph *g, const struct fd_graph_cycle *c, char *buf, size_t n)
{
	struct fd_graph_move m;
	uint32_t i;
	size_t o = 0;

	buf[0] = '\0';
	for (i = 0; i < c->len && o < n; i++) {
		fd_graph_move_get(g, c->hops[i], &m);
		o += (size_t)snprintf(buf + o, n - o, "%s%s", i ? " " : "", m.txn_id);
	}
}

static void test_cycles(void **state)
{
	struct fd_graph *g = cycle_graph();
	struct fd_graph_cycles c;
	struct fd_err err = {0};
	char b[128];

	(void)state;
	assert_int_equal(fd_graph_cycles(g, 2, 6, 7 * 86400000LL, 0, &c, &err), FD_OK);
	assert_int_equal(c.truncated, 0);
	assert_int_equal(c.n, 3);
	cycle_ids(g, &c.c[0], b, sizeof(b));
	assert_string_equal(b, "w1 w2 w3 w4");
	assert_int_equal(c.c[0].amount_min, 1970);
	assert_int_equal(c.c[0].amount_max, 2000);
	assert_int_equal(c.c[0].instances, 1);
	cycle_ids(g, &c.c[1], b, sizeof(b));
	assert_string_equal(b, "p1 p2 p3");
	assert_int_equal(c.c[1].instances, 2);
	assert_int_equal(c.c[1].start, T(1, 10, 0));
	assert_int_equal(c.c[1].end, T(1, 15, 0));
	cycle_ids(g, &c.c[2], b, sizeof(b));
	assert_string_equal(b, "r2 r3 r1");
	fd_graph_cycles_release(&c);
	/* a wider window brings Z in; the Q loop and the same-instant S loop never */
	assert_int_equal(fd_graph_cycles(g, 2, 6, 17 * 86400000LL, 0, &c, &err), FD_OK);
	assert_int_equal(c.n, 4);
	cycle_ids(g, &c.c[2], b, sizeof(b));  /* 650.00 went round: before R's 400.00 */
	assert_string_equal(b, "z1 z2");
	fd_graph_cycles_release(&c);
	assert_int_equal(fd_graph_cycles(g, 2, 6, 17 * 86400000LL - 1, 0, &c, &err), FD_OK);
	assert_int_equal(c.n, 3);
	fd_graph_cycles_release(&c);
	/* lengths */
	assert_int_equal(fd_graph_cycles(g, 2, 3, 30 * 86400000LL, 0, &c, &err), FD_OK);
	assert_int_equal(c.n, 3);  /* P, R, Z */
	fd_graph_cycles_release(&c);
	assert_int_equal(fd_graph_cycles(g, 4, 6, 30 * 86400000LL, 0, &c, &err), FD_OK);
	assert_int_equal(c.n, 1);
	fd_graph_cycles_release(&c);
	/* the step budget */
	assert_int_equal(fd_graph_cycles(g, 2, 6, 7 * 86400000LL, 2, &c, &err), FD_OK);
	assert_int_equal(c.truncated, 1);
	fd_graph_cycles_release(&c);
	assert_int_equal(fd_graph_cycles(g, 1, 6, 1, 0, &c, &err), FD_EUSAGE);
	assert_int_equal(fd_graph_cycles(g, 4, 3, 1, 0, &c, &err), FD_EUSAGE);
	fd_graph_free(g);
}

/* ---- fans ---------------------------------------------------------------------------- */

static void test_fans(void **state)
{
	struct fd_graph *g = new_graph(FD_GRAPH_MONEY, 1);
	struct fd_graph_fans f;
	struct fd_graph_fan_opts o;
	struct fd_err err = {0};
	char b[64];
	int i;
	static const char *const sender[] = {"S0", "S1", "S2", "S3", "S4"}, *const in[] = {"in0", "in1", "in2", "in3", "in4"};
	static const char *const recip[] = {"R0", "R1", "R2"}, *const out[] = {"out0", "out1", "out2"};
	static const char *const slow[] = {"U0", "U1", "U2", "U3"}, *const sin[] = {"slow0", "slow1", "slow2", "slow3"};

	(void)state;
	for (i = 0; i < 5; i++)  /* S0..S4 -> HUB on day 10, then HUB -> R0..R2 on day 11 */
		add(g, tx(in[i], T(10, 9 + i, 0), 1000, sender[i], "HUB"));
	for (i = 0; i < 3; i++)
		add(g, tx(out[i], T(11, 9, i * 10), 1500, "HUB", recip[i]));
	for (i = 0; i < 4; i++)  /* U0..U3 -> SLOW a week apart */
		add(g, tx(sin[i], T(1 + 7 * i, 9, 0), 200, slow[i], "SLOW"));
	add(g, tx("sg1", T(20, 9, 0), 300, "SRC", "I1"));
	add(g, tx("sg2", T(20, 10, 0), 300, "SRC", "I2"));
	add(g, tx("sg3", T(20, 11, 0), 300, "SRC", "I3"));
	add(g, tx("sg4", T(21, 9, 0), 290, "I1", "DST"));
	add(g, tx("sg5", T(21, 10, 0), 280, "I2", "DST"));
	add(g, tx("sg6", T(20, 8, 0), 270, "I3", "DST"));  /* before SRC paid I3: not part of it */
	finish(g);

	memset(&o, 0, sizeof(o));
	o.window = 3 * 86400000LL;
	o.min_in = o.gs_min_in = 3;
	o.min_out = o.gs_min_out = o.sg_min = 3;
	o.min_pass = 0.5;
	assert_int_equal(fd_graph_fans(g, &o, &f, &err), FD_OK);
	/* gather-scatter HUB 5+3; fan-in HUB 5; fan-out HUB 3 (4500), fan-out SRC 3 (900),
	 * fan-in DST 3 (840); scatter-gather SRC -> DST has only 2 intermediates in time */
	assert_int_equal(f.n, 5);
	assert_int_equal(f.f[0].kind, FD_FAN_GATHER_SCATTER);
	assert_string_equal(name_of(g, f.f[0].center, b, sizeof(b)), "account:HUB");
	assert_int_equal(f.f[0].nin, 5);
	assert_int_equal(f.f[0].nout, 3);
	assert_int_equal(f.f[0].in_total, 5000);
	assert_int_equal(f.f[0].out_total, 4500);
	assert_int_equal(f.f[0].nmoves, 8);
	assert_int_equal(f.f[0].start, T(10, 9, 0));
	assert_int_equal(f.f[0].end, T(11, 9, 20));
	assert_int_equal(f.f[1].kind, FD_FAN_IN);
	assert_int_equal(f.f[1].nin, 5);
	assert_int_equal(f.f[2].kind, FD_FAN_OUT);
	assert_int_equal(f.f[2].out_total, 4500);
	assert_int_equal(f.f[3].kind, FD_FAN_OUT);
	assert_string_equal(name_of(g, f.f[3].center, b, sizeof(b)), "account:SRC");
	assert_int_equal(f.f[4].kind, FD_FAN_IN);
	assert_string_equal(name_of(g, f.f[4].center, b, sizeof(b)), "account:DST");
	fd_graph_fans_release(&f);

	/* each pattern has its own thresholds */
	o.min_in = o.min_out = 10;
	o.gs_min_in = 5;
	o.gs_min_out = 3;
	o.sg_min = 0;
	assert_int_equal(fd_graph_fans(g, &o, &f, &err), FD_OK);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.f[0].kind, FD_FAN_GATHER_SCATTER);
	fd_graph_fans_release(&f);

	/* two intermediates are enough for a scatter-gather with sg_min 2 */
	o.kinds = FD_GRAPH_BIT(FD_FAN_SCATTER_GATHER);
	o.sg_min = 2;
	assert_int_equal(fd_graph_fans(g, &o, &f, &err), FD_OK);
	assert_int_equal(f.n, 1);
	assert_string_equal(name_of(g, f.f[0].center, b, sizeof(b)), "account:SRC");
	assert_string_equal(name_of(g, (uint32_t)f.f[0].other, b, sizeof(b)), "account:DST");
	assert_int_equal(f.f[0].nin, 2);
	assert_int_equal(f.f[0].out_total, 600);
	assert_int_equal(f.f[0].in_total, 570);
	assert_int_equal(f.f[0].nmoves, 4);
	fd_graph_fans_release(&f);

	/* the pass-through ratio: 4500 / 5000 */
	o.kinds = FD_GRAPH_BIT(FD_FAN_GATHER_SCATTER);
	o.gs_min_in = 5;
	o.gs_min_out = 3;
	o.min_pass = 0.9;
	assert_int_equal(fd_graph_fans(g, &o, &f, &err), FD_OK);
	assert_int_equal(f.n, 1);
	fd_graph_fans_release(&f);
	o.min_pass = 0.91;
	assert_int_equal(fd_graph_fans(g, &o, &f, &err), FD_OK);
	assert_int_equal(f.n, 0);
	fd_graph_fans_release(&f);

	/* SLOW: one sender a week; a fan-in of 4 over 22 days only */
	o.kinds = FD_GRAPH_BIT(FD_FAN_IN);
	o.min_in = 4;
	assert_int_equal(fd_graph_fans(g, &o, &f, &err), FD_OK);
	assert_int_equal(f.n, 1);  /* HUB */
	fd_graph_fans_release(&f);
	o.window = 21 * 86400000LL;
	assert_int_equal(fd_graph_fans(g, &o, &f, &err), FD_OK);
	assert_int_equal(f.n, 2);
	assert_string_equal(name_of(g, f.f[1].center, b, sizeof(b)), "account:SLOW");
	assert_int_equal(f.f[1].nin, 4);
	fd_graph_fans_release(&f);
	o.window = 21 * 86400000LL - 1;
	assert_int_equal(fd_graph_fans(g, &o, &f, &err), FD_OK);
	assert_int_equal(f.n, 1);
	fd_graph_fans_release(&f);
	fd_graph_free(g);
}

/* ---- statistics ---------------------------------------------------------------------- */

static void test_stats(void **state)
{
	struct fd_graph *g = new_graph(0, 0);
	struct fd_graph_stats s;
	struct fd_err err = {0};
	struct fd_graph_txn t;
	uint32_t a, b, c, d, e;

	(void)state;
	/* transfers a->b->c->a, c->d; device e used by a and d */
	add(g, tx("1", T(1, 1, 0), 100, "a", "b"));
	add(g, tx("2", T(1, 2, 0), 200, "b", "c"));
	add(g, tx("3", T(1, 3, 0), 300, "c", "a"));
	add(g, tx("4", T(1, 4, 0), 400, "c", "d"));
	t = tx("5", T(1, 5, 0), 0, "a", NULL);
	t.device = "e";
	add(g, t);
	t = tx("6", T(1, 6, 0), 0, "d", NULL);
	t.device = "e";
	add(g, t);
	add(g, tx("7", T(1, 7, 0), 50, "a", "b"));  /* a parallel transfer changes nothing */
	finish(g);
	assert_int_equal(fd_graph_stats(g, &s, &err), FD_OK);
	a = (uint32_t)fd_graph_find(g, "account", "a");
	b = (uint32_t)fd_graph_find(g, "account", "b");
	c = (uint32_t)fd_graph_find(g, "account", "c");
	d = (uint32_t)fd_graph_find(g, "account", "d");
	e = (uint32_t)fd_graph_find(g, "device", "e");
	assert_int_equal(s.degree[a], 3);
	assert_int_equal(s.in_degree[a], 1);
	assert_int_equal(s.out_degree[a], 2);
	assert_int_equal(s.degree[e], 2);
	assert_int_equal(s.flow_out[a], 150);
	assert_int_equal(s.flow_in[a], 300);
	assert_int_equal(s.flow_out[c], 700);
	/* by hand: a's neighbours b, c, e: one link (b-c) of three */
	assert_float_equal(s.clustering[a], 1.0 / 3, 1e-15);
	assert_float_equal(s.clustering[b], 1.0, 1e-15);
	assert_float_equal(s.clustering[c], 1.0 / 3, 1e-15);
	assert_float_equal(s.clustering[d], 0.0, 1e-15);
	assert_float_equal(s.clustering[e], 0.0, 1e-15);
	/* networkx 3.6 pagerank(alpha=0.85) on arcs a>b b>c c>a c>d a<>e d<>e */
	assert_float_equal(s.pagerank[a], 0.217790089258, 1e-9);
	assert_float_equal(s.pagerank[b], 0.122560787935, 1e-9);
	assert_float_equal(s.pagerank[c], 0.134176669745, 1e-9);
	assert_float_equal(s.pagerank[d], 0.217790089258, 1e-9);
	assert_float_equal(s.pagerank[e], 0.307682363804, 1e-9);
	fd_graph_stats_release(&s);
	fd_graph_free(g);

	/* a dangling node keeps PageRank summing to 1 */
	g = new_graph(0, 0);
	add(g, tx("1", T(1, 1, 0), 100, "x", "y"));
	finish(g);
	assert_int_equal(fd_graph_stats(g, &s, &err), FD_OK);
	/* networkx: x 0.35087719298245634, y 0.6491228070175437 */
	assert_float_equal(s.pagerank[0], 0.350877192982, 1e-9);
	assert_float_equal(s.pagerank[1], 0.649122807018, 1e-9);
	fd_graph_stats_release(&s);
	fd_graph_free(g);
}

/* ---- the JSON writer ----------------------------------------------------------------- */

static json_t *write_json(const struct fd_graph *g, int what, const void *res)
{
	char path[600];
	struct fd_out *out;
	struct fd_err err = {0};
	json_error_t je;
	json_t *j;

	snprintf(path, sizeof(path), "%s/out.json", tmpdir);
	assert_int_equal(fd_out_open(&out, path, NULL, &err), FD_OK);
	if (what == 0)
		assert_int_equal(fd_graph_write(g, FD_GRAPH_JSON, out, &err), FD_OK);
	else
		assert_int_equal(fd_graph_cycles_write(g, res, 0, FD_GRAPH_JSON, out, &err), FD_OK);
	assert_int_equal(fd_out_commit(out, &err), FD_OK);
	j = json_load_file(path, 0, &je);
	if (!j)
		fail_msg("bad JSON at line %d: %s", je.line, je.text);
	return j;
}

static void test_write_json(void **state)
{
	struct fd_graph *g = cycle_graph();
	struct fd_graph_cycles c;
	struct fd_err err = {0};
	json_t *j, *hop;

	(void)state;
	j = write_json(g, 0, NULL);
	assert_int_equal(json_array_size(json_object_get(j, "nodes")), 18);
	assert_int_equal(json_array_size(json_object_get(j, "edges")), 18);
	assert_string_equal(json_string_value(json_object_get(j, "currency")), "USD");
	json_decref(j);
	assert_int_equal(fd_graph_cycles(g, 2, 6, 7 * 86400000LL, 0, &c, &err), FD_OK);
	j = write_json(g, 1, &c);
	assert_int_equal(json_array_size(json_object_get(j, "cycles")), 3);
	hop = json_array_get(json_object_get(json_array_get(json_object_get(j, "cycles"), 1), "hops"), 2);
	assert_string_equal(json_string_value(json_object_get(hop, "txn_id")), "p3");
	assert_string_equal(json_string_value(json_object_get(hop, "from")), "account:P3");
	assert_string_equal(json_string_value(json_object_get(hop, "to")), "account:P1");
	assert_string_equal(json_string_value(json_object_get(hop, "ts")), "2026-01-01T15:00:00.000Z");
	assert_float_equal(json_real_value(json_object_get(hop, "amount")), 9.8, 1e-12);
	/* the subgraph: the accounts of W, P and R, and their hop edges */
	assert_int_equal(json_array_size(json_object_get(j, "nodes")), 10);
	assert_int_equal(json_array_size(json_object_get(j, "edges")), 10);
	json_decref(j);
	fd_graph_cycles_release(&c);
	fd_graph_free(g);
}

/* ---- the neighbourhood from a store -------------------------------------------------- */

static void test_ego(void **state)
{
	struct fd_who who = {"tester", "test_graph", "0"};
	struct fd_store *st;
	struct fd_ingest_opts io;
	struct fd_ingest_result res;
	struct fd_graph *g;
	struct fd_graph_opts o;
	struct fd_graph_node_info ni;
	struct fd_err err = {0};
	char db[600], fixture[600];
	const char *root = getenv("FD_ROOT");

	(void)state;
	snprintf(db, sizeof(db), "%s/fd.db", tmpdir);
	snprintf(fixture, sizeof(fixture), "%s/testdata/graph/rings.csv", root ? root : ".");
	assert_int_equal(fd_store_open(&st, db, FD_STORE_CREATE, &who, &err), FD_OK);
	memset(&io, 0, sizeof(io));
	if (fd_ingest(st, fixture, &io, &res, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(res.accepted, 10);

	fd_graph_opts_init(&o);
	assert_int_equal(fd_graph_create(&g, &o, &err), FD_OK);
	assert_int_equal(fd_graph_load_ego(g, st, "A1", 2, 100, &err), FD_OK);
	finish(g);
	/* by hand: A1; M1 DX 10.0.0.9 A3 B1 DA1; A2 M2 DA3 10.0.0.1 DB1 phone email */
	assert_int_equal(fd_graph_node_count(g), 14);
	assert_int_equal(fd_graph_edge_count(g), 14);
	fd_graph_node_get(g, (uint32_t)fd_graph_find(g, "account", "A2"), &ni);
	assert_int_equal(ni.depth, 2);
	assert_int_equal(ni.expanded, 0);
	fd_graph_node_get(g, (uint32_t)fd_graph_find(g, "merchant", "M1"), &ni);
	assert_int_equal(ni.depth, 1);
	assert_int_equal(ni.expanded, 0);
	fd_graph_node_get(g, (uint32_t)fd_graph_find(g, "device", "DX"), &ni);
	assert_int_equal(ni.depth, 1);
	assert_int_equal(ni.expanded, 1);
	fd_graph_node_get(g, (uint32_t)fd_graph_find(g, "phone", "+442079460000"), &ni);
	assert_int_equal(ni.depth, 2);
	edge(g, "account", "A2", "device", "DX", FD_GRAPH_DEVICE);
	assert_string_equal(fd_graph_currency(g), "USD");
	fd_graph_free(g);

	/* embedded: DOT into a buffer, with the start drawn twice round */
	{
		struct fd_buf b = FD_BUF_INIT;

		assert_int_equal(fd_graph_create(&g, &o, &err), FD_OK);
		assert_int_equal(fd_graph_load_ego(g, st, "device:DX", 1, 100, &err), FD_OK);
		finish(g);
		fd_buf_adds(&b, "<pre>");
		assert_int_equal(fd_graph_write_buf(g, FD_GRAPH_DOT, &b, &err), FD_OK);
		assert_true(strncmp(b.s, "<pre>digraph fd {\n", 18) == 0);
		assert_non_null(strstr(b.s, "\"device:DX\" [label=\"DX\\ndevice, 1 flagged\", shape=hexagon"));
		assert_non_null(strstr(b.s, "peripheries=2"));
		assert_non_null(strstr(b.s, "\"account:A2\" -> \"device:DX\""));
		assert_string_equal(b.s + b.len - 2, "}\n");
		assert_int_equal(fd_graph_write_buf(g, FD_GRAPH_CSV, &b, &err), FD_EUSAGE);
		fd_buf_release(&b);
		fd_graph_free(g);
	}

	/* the phone, written another way: a scan finds both accounts */
	assert_int_equal(fd_graph_create(&g, &o, &err), FD_OK);
	assert_int_equal(fd_graph_load_ego(g, st, "phone:+44 20 7946 0000", 1, 100, &err), FD_OK);
	finish(g);
	assert_int_equal(fd_graph_node_count(g), 3);
	assert_int_equal(fd_graph_edge_count(g), 2);
	fd_graph_free(g);

	assert_int_equal(fd_graph_create(&g, &o, &err), FD_OK);
	assert_int_equal(fd_graph_load_ego(g, st, "merchant:A1", 1, 100, &err), FD_EUSAGE);
	assert_string_equal(err.msg, "no merchant 'A1' in the store");
	fd_graph_free(g);
	assert_int_equal(fd_graph_create(&g, &o, &err), FD_OK);
	assert_int_equal(fd_graph_load_ego(g, st, "nobody", 1, 100, &err), FD_EUSAGE);
	fd_graph_free(g);
	fd_store_close(st);
}

/* The evidence curves, by hand from their definitions in fd_graph_rank.c / fd-graph(1). */
static void test_rank_curves(void **state)
{
	(void)state;
	assert_float_equal(pass_fit(0.9), 1, 1e-12);
	assert_float_equal(pass_fit(0.85), 1, 1e-12);
	assert_float_equal(pass_fit(0.675), 0.5, 1e-12);   /* (0.675 - 0.5) / 0.35 */
	assert_float_equal(pass_fit(1.075), 0.5, 1e-12);   /* (1.15 - 1.075) / 0.15 */
	assert_float_equal(pass_fit(0.5), 0, 1e-12);
	assert_float_equal(pass_fit(1.2), 0, 1e-12);
	assert_float_equal(size_fit(7.5, 3, 12), 0.5, 1e-12);
	assert_float_equal(size_fit(2, 3, 12), 0, 1e-12);
	assert_float_equal(size_fit(20, 3, 12), 1, 1e-12);
	/* two accounts, and half of the smaller finding (rounded up) */
	assert_int_equal(ring_join(3, 10), 2);
	assert_int_equal(ring_join(6, 8), 3);
	assert_int_equal(ring_join(9, 9), 5);
}

/* The amount constraint and the pair limit of the cycle search, and the ranking. */
static void test_cycles_ranked(void **state)
{
	struct fd_graph *g = cycle_graph();
	struct fd_graph_cycles c;
	struct fd_graph_cycle_opts o = {2, 6, 30 * 86400000LL, 0, 0.8, 1.01, 0};
	struct fd_err err = {0};
	char b[128];

	(void)state;
	/* P from p1b (300 then 990) is not money passed on; R's hops are all 400 (100 %);
	 * Z's 650/700 = 93 %; W 99.5 % a hop */
	assert_int_equal(fd_graph_cycles_find(g, &o, &c, &err), FD_OK);
	assert_int_equal(fd_graph_cycles_rank(g, &c, o.window, &err), FD_OK);
	assert_int_equal(c.n, 4);
	cycle_ids(g, &c.c[0], b, sizeof(b));
	assert_string_equal(b, "w1 w2 w3 w4");   /* the longest loop, every pair fresh */
	assert_int_equal(c.c[1].instances + c.c[2].instances + c.c[3].instances, 3);
	assert_true(c.c[0].score > c.c[1].score && c.c[1].score >= c.c[2].score && c.c[2].score >= c.c[3].score);
	cycle_ids(g, &c.c[3], b, sizeof(b));
	assert_string_equal(b, "z1 z2");         /* two hops: half the flow, 17 days */
	assert_non_null(strstr(c.c[3].why, "a repayment as often as not"));
	fd_graph_cycles_release(&c);
	/* P1 -> P2 has two transfers: --pair-max 1 leaves P out */
	o.pair_max = 1;
	assert_int_equal(fd_graph_cycles_find(g, &o, &c, &err), FD_OK);
	assert_int_equal(c.n, 3);
	fd_graph_cycles_release(&c);
	/* a hub set aside takes its cycles with it */
	o.pair_max = 0;
	assert_int_equal(fd_graph_exclude(g, (uint32_t)fd_graph_find(g, "account", "W3"), &err), FD_OK);
	assert_int_equal(fd_graph_excluded(g, (uint32_t)fd_graph_find(g, "account", "W3")), 1);
	assert_int_equal(fd_graph_cycles_find(g, &o, &c, &err), FD_OK);
	assert_int_equal(c.n, 3);
	fd_graph_cycles_release(&c);
	fd_graph_free(g);
}

/* Hubs: accounts with at least N distinct counterparties, most first. */
static void test_hubs(void **state)
{
	struct fd_graph *g = new_graph(FD_GRAPH_MONEY, 1);
	struct fd_err err = {0};
	uint32_t *hubs;
	size_t n;
	char id[8], who[8];
	int i;

	(void)state;
	for (i = 0; i < 6; i++) {
		snprintf(id, sizeof(id), "i%d", i);
		snprintf(who, sizeof(who), "E%d", i);
		add(g, tx(id, T(1, 1, i), 100, who, "BIG"));
	}
	/* SMALL pays BIG twice and E0 once: 2 counterparties */
	add(g, tx("s1", T(1, 2, 0), 100, "SMALL", "BIG"));
	add(g, tx("s2", T(1, 3, 0), 100, "SMALL", "BIG"));
	add(g, tx("s3", T(1, 4, 0), 100, "E0", "SMALL"));
	finish(g);
	assert_int_equal(fd_graph_counterparties(g, (uint32_t)fd_graph_find(g, "account", "BIG")), 7);
	assert_int_equal(fd_graph_counterparties(g, (uint32_t)fd_graph_find(g, "account", "SMALL")), 2);
	assert_int_equal(fd_graph_hubs(g, 7, &hubs, &n, &err), FD_OK);
	assert_int_equal(n, 1);
	assert_int_equal(hubs[0], (uint32_t)fd_graph_find(g, "account", "BIG"));
	free(hubs);
	assert_int_equal(fd_graph_excluded(g, (uint32_t)fd_graph_find(g, "account", "SMALL")), 0);
	fd_graph_free(g);
}

/* A busy account's fan is the legs cut from one sum, not its most counterparties; the sides
 * of a bipartite pattern are not listed again as fans. */
static void test_fan_groups(void **state)
{
	struct fd_graph *g = new_graph(FD_GRAPH_MONEY, 1);
	struct fd_graph_pattern_opts o;
	struct fd_graph_fans f;
	struct fd_graph_move m;
	struct fd_err err = {0};
	char id[8], who[8];
	uint32_t busy, j;
	size_t i, fans_at_busy = 0, bip = 0;
	int k;

	(void)state;
	/* BUSY: 8 ordinary senders, 100.00-191.00, a week apart (one band of amounts, 49 days) */
	for (k = 0; k < 8; k++) {
		snprintf(id, sizeof(id), "b%d", k);
		snprintf(who, sizeof(who), "B%d", k);
		add(g, tx(id, T(1 + 7 * k, 10, 0), 10000 + 1300 * k, who, "BUSY"));
	}
	/* and 5 senders of 5000.00 each within 3 days */
	for (k = 0; k < 5; k++) {
		snprintf(id, sizeof(id), "f%d", k);
		snprintf(who, sizeof(who), "F%d", k);
		add(g, tx(id, T(30 + k / 2, 9 + k, 0), 500000, who, "BUSY"));
	}
	/* P0..P4 each pay Q0 and Q1 700.00: bipartite, whose recipients get 5 legs each */
	for (k = 0; k < 10; k++) {
		snprintf(id, sizeof(id), "p%d", k);
		snprintf(who, sizeof(who), "P%d", k / 2);
		add(g, tx(id, T(20 + k / 4, k, 0), 70000, who, k % 2 ? "Q1" : "Q0"));
	}
	finish(g);
	busy = (uint32_t)fd_graph_find(g, "account", "BUSY");
	fd_graph_pattern_opts_init(&o);
	o.kinds = FD_GRAPH_BIT(FD_FAN_IN) | FD_GRAPH_BIT(FD_FAN_OUT);
	assert_int_equal(fd_graph_patterns(g, &o, &f, &err), FD_OK);
	for (i = 0; i < f.n; i++) {
		assert_int_equal(f.f[i].kind, FD_FAN_IN);
		assert_int_equal(f.f[i].center, busy);  /* no fan at Q0 or Q1 */
		assert_int_equal(f.f[i].nin, 5);
		assert_int_equal(f.f[i].nmoves, 5);
		for (j = 0; j < f.f[i].nmoves; j++) {
			fd_graph_move_get(g, f.f[i].moves[j], &m);
			assert_int_equal(m.amount, 500000);
		}
		fans_at_busy++;
	}
	assert_int_equal(fans_at_busy, 1);
	fd_graph_fans_release(&f);
	/* asked for, the bipartite pattern is listed, its recipients still no fans */
	o.kinds |= FD_GRAPH_BIT(FD_FAN_BIPARTITE);
	assert_int_equal(fd_graph_patterns(g, &o, &f, &err), FD_OK);
	for (i = 0; i < f.n; i++) {
		if (f.f[i].kind == FD_FAN_BIPARTITE) {
			bip++;
			assert_int_equal(f.f[i].nmoves, 10);
		} else
			assert_int_equal(f.f[i].center, busy);
	}
	assert_int_equal(bip, 1);
	fd_graph_fans_release(&f);
	fd_graph_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_kinds),
		cmocka_unit_test(test_format_parse),
		cmocka_unit_test(test_normalise),
		cmocka_unit_test(test_aggregates),
		cmocka_unit_test(test_currency_window_minimum),
		cmocka_unit_test(test_components),
		cmocka_unit_test(test_cycles),
		cmocka_unit_test(test_fans),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_write_json),
		cmocka_unit_test(test_ego),
		cmocka_unit_test(test_rank_curves),
		cmocka_unit_test(test_cycles_ranked),
		cmocka_unit_test(test_hubs),
		cmocka_unit_test(test_fan_groups),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
