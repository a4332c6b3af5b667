/*
 * fd_graph_load.c — the entity network and the store (contract in fd_graph.h): the whole
 * graph loaded from the store, the neighbourhood of an entity loaded hop by hop, and the
 * statistics written back into entities.attrs.  The graph itself is built in fd_graph.c.
 */
#include "fd_graph.h"
#include "fd_graph_impl.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fd_audit.h"
#include "fd_buf.h"
#include "fd_intern.h"
#include "fd_txn.h"
#include "banned.h"

/* ---- loading from the store ---------------------------------------------------------- */

/* The columns every transaction query selects, in this order (the neighbourhood's queries
 * write the same list, with NULL for what they do not need). */
#define TXN_COLS "t.id, t.txn_id, t.ts, t.amount, t.currency, t.sender_id, t.recipient_id, t.merchant_id," \
	" t.device_id, t.ip, t.label, t.metadata"
enum { C_ID, C_TXN, C_TS, C_AMOUNT, C_CUR, C_SENDER, C_RECIP, C_MERCH, C_DEVICE, C_IP, C_LABEL, C_META, C_NCOLS };
/* ... and, in the per-hop queries, the scores of the row (constants when there are none:
 * the lookups would cost more than the rest of the query) */
/* (its latest score: the schema's one meaning of a transaction's risk) */
#define SCORE_COLS ", (SELECT l.risk FROM latest_scores l WHERE l.txn_id = t.txn_id)," \
	" coalesce((SELECT l.level IN ('HIGH', 'MEDIUM') FROM latest_scores l WHERE l.txn_id = t.txn_id), 0)"
#define NO_SCORE_COLS ", NULL, 0"

static const char *col_text(sqlite3_stmt *s, int c)
{
	return (const char *)sqlite3_column_text(s, c);
}

/* Fill t from the current row of s (strings valid until the next step). */
static void row_txn(sqlite3_stmt *s, struct fd_graph_txn *t)
{
	memset(t, 0, sizeof(*t));
	t->txn_id = col_text(s, C_TXN);
	t->ts = sqlite3_column_int64(s, C_TS);
	t->amount = sqlite3_column_int64(s, C_AMOUNT);
	t->currency = col_text(s, C_CUR);
	t->sender = col_text(s, C_SENDER);
	t->recipient = col_text(s, C_RECIP);
	t->merchant = col_text(s, C_MERCH);
	t->device = col_text(s, C_DEVICE);
	t->ip = col_text(s, C_IP);
	t->label = sqlite3_column_type(s, C_LABEL) == SQLITE_NULL ? -1 : sqlite3_column_int(s, C_LABEL);
	t->metadata = col_text(s, C_META);
	t->metadata_len = t->metadata ? (size_t)sqlite3_column_bytes(s, C_META) : 0;
	t->risk = -1;
}

/* Scores by txn id, for the whole-store load. */
struct scoremap {
	struct fd_intern *ids;
	int16_t *risk;              /* hundredths */
	uint8_t *flag;
};

/* 1 when the store has scores, 0 when not, -1 on error (err set). */
static int have_scores(struct fd_store *st, struct fd_err *err)
{
	sqlite3_stmt *s = NULL;
	int r;

	if (fd_store_prepare(st, &s, "SELECT EXISTS (SELECT 1 FROM scores)", err))
		return -1;
	r = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
	sqlite3_finalize(s);
	if (r < 0)
		fd_store_error(st, "reading scores", err);
	return r;
}

static int scores_load(struct fd_store *st, struct scoremap *m, struct fd_err *err)
{
	sqlite3_stmt *s = NULL;
	size_t cap = 0;
	int rc, r;

	memset(m, 0, sizeof(*m));
	if ((r = have_scores(st, err)) <= 0)
		return r < 0 ? err->code : FD_OK;
	if ((rc = fd_store_prepare(st, &s, "SELECT txn_id, risk, level IN ('HIGH', 'MEDIUM') FROM latest_scores", err)))
		return rc;
	if (!(m->ids = fd_intern_create()))
		goto oom;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		const char *id = col_text(s, 0);
		int64_t k = fd_intern_put(m->ids, id ? id : "", id ? (size_t)sqlite3_column_bytes(s, 0) : 0, NULL);

		if (k < 0)
			goto oom;
		if ((size_t)k >= cap) {
			size_t c = cap ? cap * 2 : 4096;
			int16_t *pr = realloc(m->risk, c * sizeof(*pr));
			uint8_t *pf;

			if (!pr)
				goto oom;
			m->risk = pr;
			if (!(pf = realloc(m->flag, c)))
				goto oom;
			m->flag = pf;
			cap = c;
		}
		m->risk[k] = (int16_t)risk_in(sqlite3_column_double(s, 1));
		m->flag[k] = (uint8_t)sqlite3_column_int(s, 2);
	}
	sqlite3_finalize(s);
	if (r != SQLITE_DONE)
		return fd_store_error(st, "reading scores", err);
	return FD_OK;
oom:
	sqlite3_finalize(s);
	return fd_err_set(err, FD_EIO, "out of memory");
}

static void scores_release(struct scoremap *m)
{
	fd_intern_free(m->ids);
	free(m->risk);
	free(m->flag);
}

/* The explicit links (not uses_device / uses_ip) of the whole store. */
static int links_load(struct fd_graph *g, struct fd_store *st, struct fd_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	if (!(g->o.kinds & FD_GRAPH_BIT(FD_GRAPH_LINK)))
		return FD_OK;
	if ((rc = fd_store_prepare(st, &s,
				   "SELECT a.kind, a.key, b.kind, b.key, l.kind, l.first_seen, l.last_seen, l.txn_count"
				   " FROM entity_links l JOIN entities a ON a.id = l.src JOIN entities b ON b.id = l.dst"
				   " WHERE l.kind NOT IN ('uses_device', 'uses_ip') ORDER BY l.id", err)))
		return rc;
	while ((r = sqlite3_step(s)) == SQLITE_ROW)
		if ((rc = fd_graph_add_link(g, col_text(s, 0), col_text(s, 1), col_text(s, 2), col_text(s, 3),
					    col_text(s, 4), sqlite3_column_int64(s, 5), sqlite3_column_int64(s, 6),
					    sqlite3_column_int64(s, 7), err)))
			goto out;
	rc = r == SQLITE_DONE ? FD_OK : fd_store_error(st, "reading entity links", err);
out:
	sqlite3_finalize(s);
	return rc;
}

int fd_graph_load(struct fd_graph *g, struct fd_store *st, struct fd_err *err)
{
	sqlite3_stmt *s = NULL;
	struct scoremap sm;
	struct fd_graph_txn t;
	int rc, r, open = g->o.since == INT64_MIN && g->o.until == INT64_MAX;

	if ((rc = scores_load(st, &sm, err)))
		return rc;
	/* an open window reads the table in storage order; a window goes through the ts index */
	if ((rc = fd_store_prepare(st, &s, open ? "SELECT " TXN_COLS " FROM transactions t"
					      : "SELECT " TXN_COLS " FROM transactions t WHERE t.ts >= ?1 AND t.ts < ?2", err)))
		goto out;
	if (!open) {
		sqlite3_bind_int64(s, 1, g->o.since);
		sqlite3_bind_int64(s, 2, g->o.until);
	}
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		row_txn(s, &t);
		if (sm.ids && t.txn_id) {
			int64_t k = fd_intern_find(sm.ids, t.txn_id, (size_t)sqlite3_column_bytes(s, C_TXN));

			if (k >= 0) {
				t.risk = risk_out(sm.risk[k]);
				t.scored_flag = sm.flag[k];
			}
		}
		if ((rc = fd_graph_add_txn(g, &t, err)))
			goto out;
	}
	if (r != SQLITE_DONE) {
		rc = fd_store_error(st, "reading transactions", err);
		goto out;
	}
	rc = links_load(g, st, err);
out:
	sqlite3_finalize(s);
	scores_release(&sm);
	return rc;
}

/* ---- the neighbourhood, hop by hop --------------------------------------------------- */

/* A transaction row kept between the discovery and the build: strings in ego.arena. */
enum { R_TXN, R_CUR, R_SENDER, R_RECIP, R_MERCH, R_DEVICE, R_IP, R_META, R_NSTR };
#define R_NULL SIZE_MAX
struct erow {
	int64_t ts, amount;
	int label, risk, flag;
	size_t off[R_NSTR];
	size_t metalen;
};

/* An explicit link kept: its kind, both ends (strings in the arena), times and count. */
struct elink {
	size_t kind, skind, skey, dkind, dkey;
	int64_t first, last, count;
};

struct ego {
	struct fd_graph *g;
	struct fd_store *st;
	sqlite3_stmt *q_sender, *q_recip, *q_sender_dev, *q_sender_ip, *q_merchant, *q_attr;
	sqlite3_stmt *q_entity, *q_users, *q_links;
	struct fd_intern *seen;      /* row ids kept: the intern id is the index in rows */
	struct fd_intern *lseen;     /* link ids kept: the intern id is the index in links */
	struct fd_intern *cand;      /* neighbours of the node being expanded: kind byte + key */
	struct fd_buf arena;
	struct erow *rows;
	size_t nrows, rcap;
	struct elink *links;
	size_t nlinks, lcap;
	uint32_t *xrows;             /* rows of the node being expanded */
	size_t nx, xcap;
	uint32_t x, start;
	int max_fanout;
};

static size_t arena_put(struct ego *eg, const char *s, size_t n)
{
	size_t off = eg->arena.len;

	if (!s)
		return R_NULL;
	if (fd_buf_add(&eg->arena, s, n) || fd_buf_addc(&eg->arena, '\0'))
		return R_NULL - 1;
	return off;
}

static const char *arena_str(const struct ego *eg, size_t off)
{
	return off == R_NULL ? NULL : eg->arena.s + off;
}

static int xrows_push(struct ego *eg, uint32_t i)
{
	if (eg->nx == eg->xcap) {
		size_t c = eg->xcap ? eg->xcap * 2 : 256;
		uint32_t *p = realloc(eg->xrows, c * sizeof(*p));

		if (!p)
			return -1;
		eg->xrows = p;
		eg->xcap = c;
	}
	eg->xrows[eg->nx++] = i;
	return 0;
}

/* Keep the current row of s (once) and note it as a row of the node being expanded. */
static int ego_keep(struct ego *eg, sqlite3_stmt *s)
{
	struct fd_graph_txn t;
	int64_t rowid = sqlite3_column_int64(s, C_ID), k;
	int is_new = 0, i;
	struct erow *r;
	const char *str[R_NSTR];

	if ((k = fd_intern_put(eg->seen, (const char *)&rowid, sizeof(rowid), &is_new)) < 0)
		return -1;
	if (is_new) {
		row_txn(s, &t);
		str[R_TXN] = t.txn_id;
		str[R_CUR] = t.currency;
		str[R_SENDER] = t.sender;
		str[R_RECIP] = t.recipient;
		str[R_MERCH] = t.merchant;
		str[R_DEVICE] = t.device;
		str[R_IP] = t.ip;
		str[R_META] = t.metadata;
		if (eg->nrows == eg->rcap) {
			size_t c = eg->rcap ? eg->rcap * 2 : 256;
			struct erow *p = realloc(eg->rows, c * sizeof(*p));

			if (!p)
				return -1;
			eg->rows = p;
			eg->rcap = c;
		}
		r = &eg->rows[eg->nrows++];
		r->ts = t.ts;
		r->amount = t.amount;
		r->label = t.label;
		r->risk = sqlite3_column_type(s, C_NCOLS) == SQLITE_NULL ? -1 : risk_in(sqlite3_column_double(s, C_NCOLS));
		r->flag = sqlite3_column_int(s, C_NCOLS + 1);
		r->metalen = t.metadata_len;
		for (i = 0; i < R_NSTR; i++)
			if ((r->off[i] = arena_put(eg, str[i], i == R_META ? t.metadata_len : str[i] ? strlen(str[i]) : 0)) ==
			    R_NULL - 1)
				return -1;
	}
	return xrows_push(eg, (uint32_t)k);
}

static void erow_txn(const struct ego *eg, const struct erow *r, struct fd_graph_txn *t)
{
	memset(t, 0, sizeof(*t));
	t->txn_id = arena_str(eg, r->off[R_TXN]);
	t->ts = r->ts;
	t->amount = r->amount;
	t->currency = arena_str(eg, r->off[R_CUR]);
	t->sender = arena_str(eg, r->off[R_SENDER]);
	t->recipient = arena_str(eg, r->off[R_RECIP]);
	t->merchant = arena_str(eg, r->off[R_MERCH]);
	t->device = arena_str(eg, r->off[R_DEVICE]);
	t->ip = arena_str(eg, r->off[R_IP]);
	t->metadata = arena_str(eg, r->off[R_META]);
	t->metadata_len = r->metalen;
	t->label = r->label;
	t->risk = risk_out(r->risk);
	t->scored_flag = r->flag;
}

static int ego_touches(struct ego *eg, const struct fd_graph_txn *t);

/* Run a bound row query, keeping its rows (with filter, only those that touch the node being
 * expanded: the scan for an attribute reads every row that has the column). */
static int ego_query(struct ego *eg, sqlite3_stmt *s, int filter, const char *what, struct fd_err *err)
{
	struct fd_graph_txn t;
	int r, k;

	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		if (filter) {
			row_txn(s, &t);
			if ((k = ego_touches(eg, &t)) < 0)
				break;
			if (!k)
				continue;
		}
		if (ego_keep(eg, s))
			break;
	}
	sqlite3_reset(s);
	if (r == SQLITE_ROW)
		return fd_err_set(err, FD_EIO, "out of memory");
	return r == SQLITE_DONE ? FD_OK : fd_store_error(eg->st, what, err);
}

static void bind_window(const struct ego *eg, sqlite3_stmt *s, const char *key)
{
	sqlite3_bind_text(s, 1, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 2, eg->g->o.since);
	sqlite3_bind_int64(s, 3, eg->g->o.until);
}

static int cand_put(struct ego *eg, int kind, const char *key, size_t n)
{
	char buf[FD_TEXT_MAX + 2];

	if (n > FD_TEXT_MAX)
		n = FD_TEXT_MAX;
	buf[0] = (char)(kind + 1);
	memcpy(buf + 1, key, n);
	return fd_intern_put(eg->cand, buf, n + 1, NULL) < 0 ? -1 : 0;
}

static int same_node(const struct fd_graph *g, uint32_t x, int kind, const char *key, size_t n)
{
	size_t len;
	const char *k = fd_intern_str(g->names, x, &len);

	return g->nodes[x].kind == kind && len == n + 1 && memcmp(k + 1, key, n) == 0;
}

/* The neighbours of eg->x that transaction t shows, into eg->cand. */
static int ego_discover(struct ego *eg, const struct fd_graph_txn *t)
{
	struct fd_graph *g = eg->g;
	struct tedge te[3 + FD_GRAPH_MAX_ATTRS];
	int n, i, money, anycur;
	size_t sl = strlen(t->sender);

	if ((n = txn_edges(g, t, te, &money, &anycur)) < 0)
		return -1;
	if (same_node(g, eg->x, NK_ACCOUNT, t->sender, sl)) {
		for (i = 0; i < n; i++)
			if (!te[i].other_cur && cand_put(eg, te[i].nkind, te[i].key, te[i].len))
				return -1;
		return 0;
	}
	for (i = 0; i < n; i++)
		if (!te[i].other_cur && same_node(g, eg->x, te[i].nkind, te[i].key, te[i].len))
			return cand_put(eg, NK_ACCOUNT, t->sender, sl);
	return 0;
}

/* 1 when transaction t has an edge that touches eg->x, 0 when not, -1 out of memory. */
static int ego_touches(struct ego *eg, const struct fd_graph_txn *t)
{
	struct tedge te[3 + FD_GRAPH_MAX_ATTRS];
	int n, i, money, anycur;

	if (!t->sender || (n = txn_edges(eg->g, t, te, &money, &anycur)) < 0)
		return t->sender ? -1 : 0;
	if (same_node(eg->g, eg->x, NK_ACCOUNT, t->sender, strlen(t->sender)))
		return 1;
	for (i = 0; i < n; i++)
		if (!te[i].other_cur && same_node(eg->g, eg->x, te[i].nkind, te[i].key, te[i].len))
			return 1;
	return 0;
}

/* Without --currency, the neighbourhood's money is in the most common currency of the first
 * expanded node that has money (ties alphabetical), so that no neighbour hangs on money that
 * is then left out. */
static int ego_currency(struct ego *eg)
{
	struct fd_graph *g = eg->g;
	struct fd_graph_txn t;
	int64_t *tally = NULL;
	size_t i;
	int c, best = -1;

	if (g->want_cur[0])
		return 0;
	for (i = 0; i < eg->nx; i++) {
		int any;

		erow_txn(eg, &eg->rows[eg->xrows[i]], &t);
		if (txn_money(g, &t, &any) == -2)
			goto oom;
		if ((c = any) < 0)
			continue;
		if (!tally && !(tally = calloc(0x10000, sizeof(*tally))))
			goto oom;
		tally[c]++;
	}
	for (c = 0; tally && c < g->ncur; c++)
		if (tally[c] && (best < 0 || tally[c] > tally[best] ||
				 (tally[c] == tally[best] && strcmp(g->cur[c].code, g->cur[best].code) < 0)))
			best = c;
	if (best >= 0)
		memcpy(g->want_cur, g->cur[best].code, 4);
	free(tally);
	return 0;
oom:
	free(tally);
	return -1;
}

static int64_t entity_id(struct ego *eg, const char *kind, const char *key, struct fd_err *err)
{
	int r;
	int64_t id = -1;

	sqlite3_bind_text(eg->q_entity, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(eg->q_entity, 2, key, -1, SQLITE_TRANSIENT);
	if ((r = sqlite3_step(eg->q_entity)) == SQLITE_ROW)
		id = sqlite3_column_int64(eg->q_entity, 0);
	sqlite3_reset(eg->q_entity);
	if (r != SQLITE_ROW && r != SQLITE_DONE) {
		fd_store_error(eg->st, "reading entities", err);
		return -2;
	}
	return id;
}

/* The explicit links of entity id: kept, and their other ends noted as neighbours. */
static int ego_links(struct ego *eg, int64_t id, struct fd_err *err)
{
	struct fd_graph *g = eg->g;
	sqlite3_stmt *s = eg->q_links;
	int r;

	sqlite3_bind_int64(s, 1, id);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t lid = sqlite3_column_int64(s, 0), k, first = sqlite3_column_int64(s, 2), last = sqlite3_column_int64(s, 3);
		int is_new = 0, sk = kind_index(g, col_text(s, 5), (size_t)sqlite3_column_bytes(s, 5));
		int dk = kind_index(g, col_text(s, 7), (size_t)sqlite3_column_bytes(s, 7)), mine;
		const char *skey = col_text(s, 6), *dkey = col_text(s, 8);

		if (sk < 0 || dk < 0 || last < g->o.since || first >= g->o.until)
			continue;
		if ((k = fd_intern_put(eg->lseen, (const char *)&lid, sizeof(lid), &is_new)) < 0)
			goto oom;
		if (is_new) {
			struct elink *l;

			if (eg->nlinks == eg->lcap) {
				size_t c = eg->lcap ? eg->lcap * 2 : 64;
				struct elink *p = realloc(eg->links, c * sizeof(*p));

				if (!p)
					goto oom;
				eg->links = p;
				eg->lcap = c;
			}
			l = &eg->links[eg->nlinks++];
			l->first = first;
			l->last = last;
			l->count = sqlite3_column_int64(s, 4);
			if ((l->kind = arena_put(eg, col_text(s, 1), (size_t)sqlite3_column_bytes(s, 1))) == R_NULL - 1 ||
			    (l->skind = arena_put(eg, g->kind_name[sk], strlen(g->kind_name[sk]))) == R_NULL - 1 ||
			    (l->skey = arena_put(eg, skey, strlen(skey))) == R_NULL - 1 ||
			    (l->dkind = arena_put(eg, g->kind_name[dk], strlen(g->kind_name[dk]))) == R_NULL - 1 ||
			    (l->dkey = arena_put(eg, dkey, strlen(dkey))) == R_NULL - 1)
				goto oom;
		}
		mine = same_node(g, eg->x, sk, skey, strlen(skey));
		if (cand_put(eg, mine ? dk : sk, mine ? dkey : skey, strlen(mine ? dkey : skey)))
			goto oom;
	}
	sqlite3_reset(s);
	return r == SQLITE_DONE ? FD_OK : fd_store_error(eg->st, "reading entity links", err);
oom:
	sqlite3_reset(s);
	return fd_err_set(err, FD_EIO, "out of memory");
}

/* The accounts linked to a device or IP in the window (their keys into keys, '\0'-separated). */
static int ego_users(struct ego *eg, int64_t id, const char *link_kind, struct fd_buf *keys, size_t *n,
		     struct fd_err *err)
{
	sqlite3_stmt *s = eg->q_users;
	int r;

	*n = 0;
	fd_buf_reset(keys);
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, link_kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, eg->g->o.since);
	sqlite3_bind_int64(s, 4, eg->g->o.until);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		if (fd_buf_add(keys, col_text(s, 0), (size_t)sqlite3_column_bytes(s, 0) + 1)) {
			sqlite3_reset(s);
			return fd_err_set(err, FD_EIO, "out of memory");
		}
		(*n)++;
	}
	sqlite3_reset(s);
	return r == SQLITE_DONE ? FD_OK : fd_store_error(eg->st, "reading entity links", err);
}

/* Expand node x: look up its rows and links, find its neighbours, add the new ones. */
static int ego_expand(struct ego *eg, uint32_t x, struct fd_err *err)
{
	struct fd_graph *g = eg->g;
	struct fd_graph_txn t;
	struct fd_buf keys = FD_BUF_INIT;
	int kind = g->nodes[x].kind, rc = FD_OK, depth = g->nodes[x].depth;
	const char *key = node_key(g, x);
	int64_t eid = -1;
	uint32_t i, nc;
	size_t j;

	eg->x = x;
	eg->nx = 0;
	fd_intern_free(eg->cand);
	if (!(eg->cand = fd_intern_create()))
		return fd_err_set(err, FD_EIO, "out of memory");
	if (kind < NK_ATTR0 && (eid = entity_id(eg, g->kind_name[kind], key, err)) < -1)
		return err->code;
	switch (kind) {
	case NK_ACCOUNT:
		bind_window(eg, eg->q_sender, key);
		if ((rc = ego_query(eg, eg->q_sender, 0, "reading transactions", err)))
			goto out;
		bind_window(eg, eg->q_recip, key);
		if ((rc = ego_query(eg, eg->q_recip, 0, "reading transactions", err)))
			goto out;
		break;
	case NK_DEVICE:
	case NK_IP: {
		size_t n;
		const char *a;
		sqlite3_stmt *q = kind == NK_DEVICE ? eg->q_sender_dev : eg->q_sender_ip;

		if (eid < 0 || !(g->o.kinds & FD_GRAPH_BIT(kind == NK_DEVICE ? FD_GRAPH_DEVICE : FD_GRAPH_IP)))
			break;
		if ((rc = ego_users(eg, eid, kind == NK_DEVICE ? "uses_device" : "uses_ip", &keys, &n, err)))
			goto out;
		if (x != eg->start && eg->max_fanout && n > (size_t)eg->max_fanout) {
			g->nodes[x].expanded = 0;
			goto out;
		}
		for (j = 0, a = keys.s; j < n; j++, a += strlen(a) + 1) {
			int64_t ax = node_find(g, NK_ACCOUNT, a, strlen(a));

			if (ax >= 0 && g->nodes[ax].expanded) {
				/* its rows are kept already */
				if (cand_put(eg, NK_ACCOUNT, a, strlen(a)))
					goto oom;
				continue;
			}
			bind_window(eg, q, a);
			sqlite3_bind_text(q, 4, key, -1, SQLITE_TRANSIENT);
			if ((rc = ego_query(eg, q, 0, "reading transactions", err)))
				goto out;
		}
		break;
	}
	case NK_MERCHANT:
		if (x != eg->start) {
			/* its customers are not neighbours of interest: not expanded */
			g->nodes[x].expanded = 0;
			goto out;
		}
		bind_window(eg, eg->q_merchant, key);
		if ((rc = ego_query(eg, eg->q_merchant, 0, "reading transactions", err)))
			goto out;
		break;
	default: { /* an attribute: a scan of the window for rows that name it */
		char pat[FD_TEXT_MAX + 3];

		if (!(g->o.kinds & FD_GRAPH_BIT(FD_GRAPH_ATTR)))
			break;
		snprintf(pat, sizeof(pat), "\"%s\"", g->kind_name[kind]);
		bind_window(eg, eg->q_attr, pat);
		if ((rc = ego_query(eg, eg->q_attr, 1, "reading transactions", err)))
			goto out;
		break;
	}
	}
	if (eid >= 0 && (g->o.kinds & FD_GRAPH_BIT(FD_GRAPH_LINK)) && (rc = ego_links(eg, eid, err)))
		goto out;
	if (ego_currency(eg))
		goto oom;
	for (j = 0; j < eg->nx; j++) {
		erow_txn(eg, &eg->rows[eg->xrows[j]], &t);
		if (ego_discover(eg, &t))
			goto oom;
	}
	/* the neighbours, x itself aside */
	nc = fd_intern_count(eg->cand);
	{
		uint32_t self = 0;

		for (i = 0; i < nc; i++) {
			size_t len;
			const char *c = fd_intern_str(eg->cand, i, &len);

			self += same_node(g, x, (unsigned char)c[0] - 1, c + 1, len - 1);
		}
		if (x != eg->start && eg->max_fanout && nc - self > (uint32_t)eg->max_fanout) {
			g->nodes[x].expanded = 0;
			goto out;
		}
	}
	g->nodes[x].expanded = 1;
	for (i = 0; i < nc; i++) {
		size_t len;
		const char *c = fd_intern_str(eg->cand, i, &len);
		uint32_t before = fd_intern_count(g->names);
		int64_t id = node_get(g, (unsigned char)c[0] - 1, c + 1, len - 1);

		if (id == -2)
			goto oom;
		if ((uint32_t)id >= before) {
			g->nodes[id].depth = (int16_t)(depth + 1);
			g->nodes[id].expanded = 0;
		}
	}
	goto out;
oom:
	rc = fd_err_set(err, FD_EIO, "out of memory");
out:
	fd_buf_release(&keys);
	return rc;
}

static const char *article(const char *noun)
{
	return strchr("aeiou", noun[0]) ? "an" : "a";
}

/* Resolve spec ("kind:key" or a bare entity key) into the start node. */
static int ego_start(struct ego *eg, const char *spec, struct fd_err *err)
{
	struct fd_graph *g = eg->g;
	const char *colon = strchr(spec, ':'), *key = spec;
	int kind = -1, k, found = 0;
	char vis[200], norm[FD_TEXT_MAX + 1];
	int64_t id;

	if (colon && (k = kind_index(g, spec, (size_t)(colon - spec))) >= 0) {
		kind = k;
		key = colon + 1;
	}
	if (!*key)
		return fd_err_set(err, FD_EUSAGE, "empty entity key in '%s'", fd_visible(vis, sizeof(vis), spec, strlen(spec)));
	if (kind >= NK_ATTR0) {
		if (!attr_normalise(g->kind_name[kind], key, strlen(key), norm, sizeof(norm)))
			return fd_err_set(err, FD_EUSAGE, "empty %s in '%s'", g->kind_name[kind],
					  fd_visible(vis, sizeof(vis), spec, strlen(spec)));
		key = norm;
	} else if (kind >= 0) {
		if ((id = entity_id(eg, g->kind_name[kind], key, err)) < -1)
			return err->code;
		if (id < 0)
			return fd_err_set(err, FD_EUSAGE, "no %s '%s' in the store", g->kind_name[kind],
					  fd_visible(vis, sizeof(vis), key, strlen(key)));
	} else {
		for (k = NK_ACCOUNT; k <= NK_IP; k++) {
			if ((id = entity_id(eg, g->kind_name[k], key, err)) < -1)
				return err->code;
			if (id >= 0) {
				if (found)
					return fd_err_set(err, FD_EUSAGE, "'%s' names both %s %s and %s %s in the store: give "
							  "its kind, e.g. %s:%s", fd_visible(vis, sizeof(vis), key, strlen(key)),
							  article(g->kind_name[kind]), g->kind_name[kind], article(g->kind_name[k]),
							  g->kind_name[k], g->kind_name[kind], vis);
				kind = k;
				found = 1;
			}
		}
		if (!found)
			return fd_err_set(err, FD_EUSAGE, "no entity '%s' in the store (an account, merchant, device or ip; "
					  "or give a kind, e.g. phone:%s)", fd_visible(vis, sizeof(vis), key, strlen(key)), vis);
	}
	if ((id = node_get(g, kind, key, strlen(key))) < 0)
		return fd_err_set(err, FD_EIO, "out of memory");
	g->nodes[id].depth = 0;
	g->nodes[id].expanded = 0;
	eg->start = (uint32_t)id;
	return FD_OK;
}

int fd_graph_load_ego(struct fd_graph *g, struct fd_store *st, const char *spec, int depth,
		      int max_fanout, struct fd_err *err)
{
	/* the row queries twice: with the scores, and without when the store has none */
	/* The row queries select only what the graph will use, so that an index holding those
	 * columns can answer them without reading the table: the txn id when there are scores
	 * to look up or transactions to keep, the metadata when attributes are edges. */
	static const char *const where[6] = {
		" FROM transactions t WHERE t.sender_id = ?1 AND t.ts >= ?2 AND t.ts < ?3",
		" FROM transactions t WHERE t.recipient_id = ?1 AND +t.ts >= ?2 AND +t.ts < ?3",
		" FROM transactions t WHERE t.sender_id = ?1 AND t.ts >= ?2 AND t.ts < ?3 AND t.device_id = ?4",
		" FROM transactions t WHERE t.sender_id = ?1 AND t.ts >= ?2 AND t.ts < ?3 AND t.ip = ?4",
		" FROM transactions t WHERE t.merchant_id = ?1 AND t.ts >= ?2 AND t.ts < ?3",
		" FROM transactions t WHERE t.ts >= ?2 AND t.ts < ?3 AND instr(t.metadata, ?1) > 0",
	};
	static const char *const sql[] = {
		"SELECT id FROM entities WHERE kind = ?1 AND key = ?2",
		"SELECT a.key FROM entity_links l JOIN entities a ON a.id = l.src"
		" WHERE l.dst = ?1 AND l.kind = ?2 AND l.last_seen >= ?3 AND l.first_seen < ?4 ORDER BY a.key",
		"SELECT l.id, l.kind, l.first_seen, l.last_seen, l.txn_count, a.kind, a.key, b.kind, b.key"
		" FROM entity_links l JOIN entities a ON a.id = l.src JOIN entities b ON b.id = l.dst"
		" WHERE l.src = ?1 AND l.kind NOT IN ('uses_device', 'uses_ip')"
		" UNION ALL "
		"SELECT l.id, l.kind, l.first_seen, l.last_seen, l.txn_count, a.kind, a.key, b.kind, b.key"
		" FROM entity_links l JOIN entities a ON a.id = l.src JOIN entities b ON b.id = l.dst"
		" WHERE l.dst = ?1 AND l.src <> ?1 AND l.kind NOT IN ('uses_device', 'uses_ip')",
	};
	struct ego eg;
	sqlite3_stmt **stmts[] = {&eg.q_sender, &eg.q_recip, &eg.q_sender_dev, &eg.q_sender_ip, &eg.q_merchant,
				  &eg.q_attr, &eg.q_entity, &eg.q_users, &eg.q_links};
	struct fd_graph_txn t;
	size_t i;
	uint32_t x;
	int rc, scored;

	if (g->finished || fd_intern_count(g->names))
		return fd_err_set(err, FD_EUSAGE, "fd_graph_load_ego needs a new graph");
	if (depth < 0 || depth > 16)
		return fd_err_set(err, FD_EUSAGE, "depth %d out of range 0-16", depth);
	memset(&eg, 0, sizeof(eg));
	eg.g = g;
	eg.st = st;
	eg.max_fanout = max_fanout;
	g->ego = 1;
	if ((scored = have_scores(st, err)) < 0) {
		rc = err->code;
		goto out;
	}
	for (i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++) {
		char q[1024];

		if (i < 6)
			snprintf(q, sizeof(q), "SELECT t.id, %s, t.ts, t.amount, t.currency, t.sender_id, t.recipient_id,"
				 " t.merchant_id, t.device_id, t.ip, t.label, %s%s%s",
				 scored || g->o.keep_txns ? "t.txn_id" : "NULL",
				 g->o.kinds & FD_GRAPH_BIT(FD_GRAPH_ATTR) ? "t.metadata" : "NULL",
				 scored ? SCORE_COLS : NO_SCORE_COLS, where[i]);
		if ((rc = fd_store_prepare(st, stmts[i], i < 6 ? q : sql[i - 6], err)))
			goto out;
	}
	if (!(eg.seen = fd_intern_create()) || !(eg.lseen = fd_intern_create())) {
		rc = fd_err_set(err, FD_EIO, "out of memory");
		goto out;
	}
	if ((rc = ego_start(&eg, spec, err)))
		goto out;
	/* breadth first: node ids are given in discovery order, so the queue is the id order */
	for (x = 0; x < fd_intern_count(g->names); x++) {
		if (g->nodes[x].depth >= depth)
			break;
		if ((rc = ego_expand(&eg, x, err)))
			goto out;
	}
	if (g->nodes[eg.start].kind >= NK_ATTR0 && eg.nrows == 0 && depth > 0) {
		char vis[200];
		const char *k = node_key(g, eg.start);

		rc = fd_err_set(err, FD_EUSAGE, "no %s '%s' in the store", node_kind(g, eg.start),
				fd_visible(vis, sizeof(vis), k, strlen(k)));
		goto out;
	}
	/* the build: only the nodes found, only edges with an expanded end, each row once */
	g->closed = 1;
	for (i = 0; i < eg.nrows; i++) {
		erow_txn(&eg, &eg.rows[i], &t);
		if ((rc = fd_graph_add_txn(g, &t, err)))
			goto out;
	}
	for (i = 0; i < eg.nlinks; i++) {
		const struct elink *l = &eg.links[i];

		if ((rc = fd_graph_add_link(g, arena_str(&eg, l->skind), arena_str(&eg, l->skey), arena_str(&eg, l->dkind),
					    arena_str(&eg, l->dkey), arena_str(&eg, l->kind), l->first, l->last, l->count, err)))
			goto out;
	}
out:
	for (i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++)
		sqlite3_finalize(*stmts[i]);
	fd_intern_free(eg.seen);
	fd_intern_free(eg.lseen);
	fd_intern_free(eg.cand);
	fd_buf_release(&eg.arena);
	free(eg.rows);
	free(eg.links);
	free(eg.xrows);
	return rc;
}

/* ---- writing the statistics back ----------------------------------------------------- */

struct eid_node {
	int64_t id;
	uint32_t node;
};

static int eid_cmp(const void *a, const void *b)
{
	const struct eid_node *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

int fd_graph_stats_save(struct fd_store *st, const struct fd_graph *g, const struct fd_graph_stats *s,
			int64_t *written, struct fd_err *err)
{
	sqlite3_stmt *find = NULL, *upd = NULL;
	struct eid_node *ids = NULL;
	struct fd_digest dg;
	struct fd_buf det = FD_BUF_INIT;
	struct fd_audit_entry ae;
	char digest[65], when[FD_TS_BUFSZ];
	uint32_t nn = fd_graph_node_count(g), v;
	size_t n = 0, i;
	int rc, r, k;

	*written = 0;
	if (!(ids = malloc(((size_t)nn + 1) * sizeof(*ids))))
		return fd_err_set(err, FD_EIO, "out of memory");
	if ((rc = fd_store_begin(st, err)))
		goto out;
	if ((rc = fd_store_prepare(st, &find, "SELECT id FROM entities WHERE kind = ?1 AND key = ?2", err)) ||
	    (rc = fd_store_prepare(st, &upd,
				   "UPDATE entities SET attrs = json_set(attrs, '$.degree', ?2, '$.pagerank', ?3,"
				   " '$.clustering', ?4, '$.flow_in', ?5, '$.flow_out', ?6, '$.flow_currency', ?7)"
				   " WHERE id = ?1 RETURNING attrs", err)))
		goto fail;
	for (v = 0; v < nn; v++) {
		if (g->nodes[v].kind >= NK_ATTR0)
			continue;
		sqlite3_bind_text(find, 1, node_kind(g, v), -1, SQLITE_STATIC);
		sqlite3_bind_text(find, 2, node_key(g, v), -1, SQLITE_STATIC);
		if ((r = sqlite3_step(find)) == SQLITE_ROW) {
			ids[n].id = sqlite3_column_int64(find, 0);
			ids[n++].node = v;
		}
		sqlite3_reset(find);
		if (r != SQLITE_ROW && r != SQLITE_DONE) {
			rc = fd_store_error(st, "reading entities", err);
			goto fail;
		}
	}
	if (n > 1)
		qsort(ids, n, sizeof(*ids), eid_cmp);
	fd_digest_init(&dg);
	for (i = 0; i < n; i++) {
		v = ids[i].node;
		sqlite3_bind_int64(upd, 1, ids[i].id);
		sqlite3_bind_int64(upd, 2, s->degree[v]);
		sqlite3_bind_double(upd, 3, s->pagerank[v]);
		sqlite3_bind_double(upd, 4, s->clustering[v]);
		sqlite3_bind_int64(upd, 5, s->flow_in[v]);
		sqlite3_bind_int64(upd, 6, s->flow_out[v]);
		if (*fd_graph_currency(g))
			sqlite3_bind_text(upd, 7, fd_graph_currency(g), -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(upd, 7);
		if ((r = sqlite3_step(upd)) != SQLITE_ROW) {
			rc = fd_store_error(st, "writing entity attributes", err);
			goto fail;
		}
		fd_digest_int(&dg, ids[i].id);
		fd_digest_text(&dg, (const char *)sqlite3_column_text(upd, 0), (size_t)sqlite3_column_bytes(upd, 0));
		fd_digest_row_end(&dg);
		while (r == SQLITE_ROW)
			r = sqlite3_step(upd);
		sqlite3_reset(upd);
	}
	fd_digest_final(&dg, digest);
	fd_buf_addf(&det, "{\"entities\":%zu,\"nodes\":%u,\"edges\":%u,\"currency\":", n, nn, g->ne);
	fd_buf_add_json_str(&det, fd_graph_currency(g), strlen(fd_graph_currency(g)));
	fd_buf_adds(&det, ",\"since\":");
	if (g->o.since == INT64_MIN)
		fd_buf_adds(&det, "null");
	else
		fd_buf_addf(&det, "\"%s\"", fd_format_ts(g->o.since, when));
	fd_buf_adds(&det, ",\"until\":");
	if (g->o.until == INT64_MAX)
		fd_buf_adds(&det, "null");
	else
		fd_buf_addf(&det, "\"%s\"", fd_format_ts(g->o.until, when));
	fd_buf_adds(&det, ",\"kinds\":[");
	for (k = 0, r = 0; k < FD_GRAPH_NKINDS; k++)
		if (g->o.kinds & FD_GRAPH_BIT(k))
			fd_buf_addf(&det, "%s\"%s\"", r++ ? "," : "", fd_graph_kind_name[k]);
	if (fd_buf_addf(&det, "],\"pagerank_iterations\":%d,\"attrs\":[\"degree\",\"pagerank\",\"clustering\",\"flow_in\","
			"\"flow_out\",\"flow_currency\"],\"digest_of\":\"entities id and attrs as written, in id order\"}",
			s->iterations)) {
		rc = fd_err_set(err, FD_EIO, "out of memory");
		goto fail;
	}
	memset(&ae, 0, sizeof(ae));
	ae.action = "graph.stats";
	ae.object_type = "entities";
	ae.object_id = "attrs";
	ae.details = det.s;
	ae.data_digest = n ? digest : NULL;
	if ((rc = fd_audit_append(st, &ae, NULL, err)))
		goto fail;
	sqlite3_finalize(find);
	sqlite3_finalize(upd);
	find = upd = NULL;
	if ((rc = fd_store_commit(st, err)))
		goto fail;
	*written = (int64_t)n;
	goto out;
fail:
	sqlite3_finalize(find);
	sqlite3_finalize(upd);
	fd_store_rollback(st);
out:
	free(ids);
	fd_buf_release(&det);
	return rc;
}
