/*
 * fd_case_analysis.c — the analysis over cases (contract in fd_case.h): transactions related
 * to a case, the prioritised work queue, automatic cases from flagged transactions, and
 * duplicate cases and their merging.  Cases themselves (create, status, assignment, notes,
 * attachments, links, reading) are in fd_case.c.
 */
#include "fd_case.h"
#include "fd_case_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fd_intern.h"
#include "fd_num.h"
#include "fd_txn.h"
#include "fd_verify.h"
#include "banned.h"

/* ---- related transactions ---------------------------------------------------------------- */

struct ctx_txn {  /* a case transaction, as related() compares with it */
	char *txn_id;
	int64_t ts, amount;
	char currency[4];
};

/* Append the strings of an intern table as a JSON array. */
static int intern_json(const struct fd_intern *t, struct fd_buf *b)
{
	uint32_t i, n = fd_intern_count(t);
	size_t len;

	if (fd_buf_addc(b, '['))
		return -1;
	for (i = 0; i < n; i++) {
		const char *s = fd_intern_str(t, i, &len);

		if ((i && fd_buf_addc(b, ',')) || fd_buf_add_json_str(b, s, len))
			return -1;
	}
	return fd_buf_addc(b, ']');
}

static int intern_has(const struct fd_intern *t, const char *s)
{
	return s && fd_intern_find(t, s, strlen(s)) >= 0;
}

/* "42 s", "17 min", "3 h 5 min", "2 d 4 h" */
static void fmt_span(int64_t ms, char *buf, size_t n)
{
	int64_t s = (ms < 0 ? -ms : ms) / 1000;

	if (s < 60)
		snprintf(buf, n, "%lld s", (long long)s);
	else if (s < 3600)
		snprintf(buf, n, "%lld min", (long long)(s / 60));
	else if (s < 86400)
		snprintf(buf, n, "%lld h %lld min", (long long)(s / 3600), (long long)(s % 3600 / 60));
	else
		snprintf(buf, n, "%lld d %lld h", (long long)(s / 86400), (long long)(s % 86400 / 3600));
}

struct rel_sortable {
	struct fd_case_related r;
	int64_t nearest;  /* |dt| to the nearest case transaction */
};

static int cmp_related(const void *pa, const void *pb)
{
	const struct rel_sortable *a = pa, *b = pb;

	if (a->r.score != b->r.score)
		return a->r.score > b->r.score ? -1 : 1;
	if (a->r.risk != b->r.risk)
		return a->r.risk > b->r.risk ? -1 : 1;
	if (a->nearest != b->nearest)
		return a->nearest < b->nearest ? -1 : 1;
	return strcmp(a->r.txn_id, b->r.txn_id);
}

void fd_case_related_free(struct fd_case_related *r, size_t n)
{
	size_t i;

	for (i = 0; r && i < n; i++) {
		free(r[i].txn_id);
		free(r[i].sender);
		free(r[i].recipient);
		free(r[i].why);
	}
	free(r);
}

int fd_case_related(struct fd_store *st, int64_t id, const struct fd_case_related_opts *o,
		    struct fd_case_related **out, size_t *np, struct fd_err *err)
{
	struct fd_intern *set[4] = {NULL, NULL, NULL, NULL}; /* entity_kinds order */
	struct fd_buf js[4] = {FD_BUF_INIT, FD_BUF_INIT, FD_BUF_INIT, FD_BUF_INIT}, why = FD_BUF_INIT;
	struct ctx_txn *ct = NULL;
	struct rel_sortable *rs = NULL;
	sqlite3_stmt *q = NULL;
	size_t nct = 0, cct = 0, nrs = 0, crs = 0, i, limit = o && o->limit ? o->limit : 20;
	int64_t near = o && o->near_ms > 0 ? o->near_ms : FD_HOUR_MS;
	int64_t amt_ms = o && o->amount_ms > 0 ? o->amount_ms : 7 * FD_DAY_MS;
	double tol = o && o->amount_tol > 0 ? o->amount_tol : 0.05;
	int64_t lo = 1, hi = 0, wide = near > amt_ms ? near : amt_ms;
	char what[48];
	int rc, status, k, bad = 0;

	*out = NULL;
	*np = 0;
	snprintf(what, sizeof(what), "case %lld", (long long)id);
	if ((rc = fd_case_authorize(st, FD_CA_VIEW, what, err)))
		return rc;
	if ((rc = case_status(st, id, &status, err)))
		return rc;
	for (k = 0; k < 4; k++)
		if (!(set[k] = fd_intern_create())) {
			rc = oom(err);
			goto out;
		}
	/* the case's transactions and their entities */
	if ((rc = fd_store_prepare(st, &q, "SELECT t.txn_id, t.ts, t.amount, t.currency, t.sender_id, t.recipient_id,"
				   " t.merchant_id, t.device_id, t.ip FROM case_transactions c JOIN transactions t"
				   " ON t.txn_id = c.txn_id WHERE c.case_id = ?", err)))
		goto out;
	sqlite3_bind_int64(q, 1, id);
	while (!bad && sqlite3_step(q) == SQLITE_ROW) {
		struct ctx_txn *c = grow1((void **)&ct, &nct, &cct, sizeof(*c));
		static const int kind_of_col[5] = {0, 0, 1, 2, 3}; /* sender, recipient, merchant, device, ip */
		int col;

		if (!c) {
			bad = 1;
			break;
		}
		c->txn_id = col_dup(q, 0, &bad);
		c->ts = sqlite3_column_int64(q, 1);
		c->amount = sqlite3_column_int64(q, 2);
		snprintf(c->currency, sizeof(c->currency), "%s", (const char *)sqlite3_column_text(q, 3));
		for (col = 4; col <= 8; col++) {
			const char *v = (const char *)sqlite3_column_text(q, col);

			if (v && fd_intern_put(set[kind_of_col[col - 4]], v, strlen(v), NULL) < 0)
				bad = 1;
		}
		if (lo > hi) {
			lo = c->ts;
			hi = c->ts;
		}
		if (c->ts < lo)
			lo = c->ts;
		if (c->ts > hi)
			hi = c->ts;
	}
	sqlite3_finalize(q);
	q = NULL;
	if (bad)
		goto nomem;
	if (lo <= hi) {
		lo = lo > INT64_MIN + wide ? lo - wide : INT64_MIN;
		hi = hi < INT64_MAX - wide ? hi + wide : INT64_MAX;
	}
	if ((rc = fd_store_prepare(st, &q, "SELECT e.kind, e.key FROM case_entities c JOIN entities e"
				   " ON e.id = c.entity_id WHERE c.case_id = ?", err)))
		goto out;
	sqlite3_bind_int64(q, 1, id);
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *kd = (const char *)sqlite3_column_text(q, 0), *key = (const char *)sqlite3_column_text(q, 1);

		for (k = 0; k < 4; k++)
			if (strcmp(kd, entity_kinds[k]) == 0 && fd_intern_put(set[k], key, strlen(key), NULL) < 0)
				bad = 1;
	}
	sqlite3_finalize(q);
	q = NULL;
	if (bad)
		goto nomem;
	for (k = 0; k < 4; k++)
		if (intern_json(set[k], &js[k]))
			goto nomem;

	if ((rc = fd_store_prepare(st, &q,
				   "SELECT t.txn_id, t.ts, t.amount, t.currency, t.sender_id, t.recipient_id,"
				   " t.merchant_id, t.device_id, t.ip,"
				   " (SELECT l.risk FROM latest_scores l WHERE l.txn_id = t.txn_id)"
				   " FROM transactions t WHERE (t.sender_id IN (SELECT value FROM json_each(?1))"
				   "   OR t.recipient_id IN (SELECT value FROM json_each(?1))"
				   "   OR t.merchant_id IN (SELECT value FROM json_each(?2))"
				   "   OR t.device_id IN (SELECT value FROM json_each(?3))"
				   "   OR t.ip IN (SELECT value FROM json_each(?4))"
				   "   OR t.ts BETWEEN ?5 AND ?6)"
				   " AND t.txn_id NOT IN (SELECT txn_id FROM case_transactions WHERE case_id = ?7)", err)))
		goto out;
	for (k = 0; k < 4; k++)
		sqlite3_bind_text(q, k + 1, js[k].s, (int)js[k].len, SQLITE_STATIC);
	sqlite3_bind_int64(q, 5, lo);
	sqlite3_bind_int64(q, 6, hi);
	sqlite3_bind_int64(q, 7, id);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *txn = (const char *)sqlite3_column_text(q, 0);
		int64_t ts = sqlite3_column_int64(q, 1), amount = sqlite3_column_int64(q, 2);
		const char *cur = (const char *)sqlite3_column_text(q, 3);
		const char *snd = (const char *)sqlite3_column_text(q, 4), *rcp = (const char *)sqlite3_column_text(q, 5);
		const char *mer = (const char *)sqlite3_column_text(q, 6), *dev = (const char *)sqlite3_column_text(q, 7);
		const char *ip = (const char *)sqlite3_column_text(q, 8);
		const struct ctx_txn *best_amt = NULL, *best_near = NULL;
		double score = 0, best_rel = 2;
		int64_t nearest = INT64_MAX, best_dt = 0;
		struct rel_sortable *r;
		char a1[FD_NUM_BUFSZ], a2[FD_NUM_BUFSZ], span[48];
		int ex = fd_currency_exponent(cur);

		if (ex < 0)
			ex = 2;
		fd_buf_reset(&why);
#define WHY(...) do { if ((why.len && fd_buf_adds(&why, "; ")) || fd_buf_addf(&why, __VA_ARGS__)) bad = 1; } while (0)
		if (intern_has(set[0], snd) || intern_has(set[0], rcp)) {
			score += 4;
			if (intern_has(set[0], snd))
				WHY("shares account %s (sender)", snd);
			if (intern_has(set[0], rcp))
				WHY("shares account %s (recipient)", rcp);
		}
		if (intern_has(set[2], dev)) {
			score += 3;
			WHY("same device %s", dev);
		}
		if (intern_has(set[3], ip)) {
			score += 2;
			WHY("same IP %s", ip);
		}
		if (intern_has(set[1], mer)) {
			score += 1;
			WHY("same merchant %s", mer);
		}
		for (i = 0; i < nct; i++) {
			int64_t dt = ts - ct[i].ts, adt = dt < 0 ? -dt : dt;

			if (adt < nearest)
				nearest = adt;
			if (adt <= near && (!best_near || adt < (best_dt < 0 ? -best_dt : best_dt))) {
				best_near = &ct[i];
				best_dt = dt;
			}
			if (adt <= amt_ms && ct[i].amount != 0 && strcmp(ct[i].currency, cur) == 0) {
				double rel = fabs((double)amount - (double)ct[i].amount) / fabs((double)ct[i].amount);

				if (rel <= tol && rel < best_rel) {
					best_rel = rel;
					best_amt = &ct[i];
				}
			}
		}
		if (best_amt) {
			score += 1;
			WHY("similar amount: %s %s vs %s %s in %s", fd_num_amount(amount, ex, a1), cur,
			    fd_num_amount(best_amt->amount, ex, a2), cur, best_amt->txn_id);
		}
		if (best_near) {
			score += 1;
			fmt_span(best_dt, span, sizeof(span));
			WHY("%s %s %s", span, best_dt >= 0 ? "after" : "before", best_near->txn_id);
		}
#undef WHY
		if (bad)
			break;
		if (score == 0)
			continue;
		if (!(r = grow1((void **)&rs, &nrs, &crs, sizeof(*rs)))) {
			bad = 1;
			break;
		}
		r->r.txn_id = xstrdup(txn);
		r->r.ts = ts;
		r->r.amount = amount;
		snprintf(r->r.currency, sizeof(r->r.currency), "%s", cur);
		r->r.exponent = ex;
		r->r.sender = xstrdup(snd);
		r->r.recipient = xstrdup(rcp);
		r->r.risk = sqlite3_column_type(q, 9) == SQLITE_NULL ? -1 : sqlite3_column_double(q, 9);
		r->r.score = score;
		r->r.why = xstrdup(why.s);
		r->nearest = nearest;
		if (!r->r.txn_id || !r->r.sender || (rcp && !r->r.recipient) || !r->r.why)
			bad = 1;
	}
	if (bad)
		goto nomem;
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		rc = fd_store_error(st, "reading transactions", err);
		goto out;
	}
	rc = FD_OK;
	if (nrs > 1)
		qsort(rs, nrs, sizeof(*rs), cmp_related);
	{
		size_t keep = nrs < limit ? nrs : limit;
		struct fd_case_related *res = calloc(keep ? keep : 1, sizeof(*res));

		if (!res)
			goto nomem;
		for (i = 0; i < nrs; i++) {
			if (i < keep) {
				res[i] = rs[i].r;
				continue;
			}
			free(rs[i].r.txn_id);
			free(rs[i].r.sender);
			free(rs[i].r.recipient);
			free(rs[i].r.why);
		}
		free(rs);
		rs = NULL;
		nrs = 0;
		*out = res;
		*np = keep;
	}
	goto out;
nomem:
	rc = oom(err);
out:
	sqlite3_finalize(q);
	for (i = 0; i < nrs; i++) {
		free(rs[i].r.txn_id);
		free(rs[i].r.sender);
		free(rs[i].r.recipient);
		free(rs[i].r.why);
	}
	free(rs);
	for (i = 0; i < nct; i++)
		free(ct[i].txn_id);
	free(ct);
	for (k = 0; k < 4; k++) {
		fd_intern_free(set[k]);
		fd_buf_release(&js[k]);
	}
	fd_buf_release(&why);
	return rc;
}

/* ---- prioritisation ---------------------------------------------------------------------- */

void fd_case_ranks_free(struct fd_case_rank *r, size_t n)
{
	size_t i;

	for (i = 0; r && i < n; i++) {
		fd_case_summary_release(&r[i].s);
		free(r[i].why);
	}
	free(r);
}

static int cmp_rank(const void *pa, const void *pb)
{
	const struct fd_case_rank *a = pa, *b = pb;

	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	if (a->s.priority != b->s.priority)
		return a->s.priority > b->s.priority ? -1 : 1;
	if (a->s.created_at != b->s.created_at)
		return a->s.created_at < b->s.created_at ? -1 : 1;
	return a->s.id < b->s.id ? -1 : a->s.id > b->s.id;
}

/* HIGH-scored transactions involving an entity (latest score of each). */
static int entity_high(struct fd_store *st, const char *kind, const char *key, int64_t *n, struct fd_err *err)
{
	static const char *const sql[4] = {
		"SELECT count(*) FROM transactions t WHERE (t.sender_id = ?1 OR t.recipient_id = ?1) AND ",
		"SELECT count(*) FROM transactions t WHERE t.merchant_id = ?1 AND ",
		"SELECT count(*) FROM transactions t WHERE t.device_id = ?1 AND ",
		"SELECT count(*) FROM transactions t WHERE t.ip = ?1 AND ",
	};
	struct fd_buf q = FD_BUF_INIT;
	int k, rc;

	*n = 0;
	for (k = 0; k < 4; k++)
		if (strcmp(kind, entity_kinds[k]) == 0)
			break;
	if (k == 4)
		return FD_OK;
	if (fd_buf_adds(&q, sql[k]) ||
	    fd_buf_adds(&q, "(SELECT l.level FROM latest_scores l WHERE l.txn_id = t.txn_id) = 'HIGH'"))
		return oom(err);
	rc = query_i64(st, q.s, key, 0, n, err);
	fd_buf_release(&q);
	return rc;
}

/* The most dangerous entity of case s: *risk 0-1 and a sentence in why. */
static int case_entity_risk(struct fd_store *st, const struct fd_case_summary *s, double *risk,
			    struct fd_buf *why, struct fd_err *err)
{
	sqlite3_stmt *q;
	int rc;

	*risk = 0;
	/* case entities, and the accounts that sent its transactions */
	if ((rc = fd_store_prepare(st, &q,
				   "SELECT e.id, e.kind, e.key FROM case_entities ce JOIN entities e ON e.id = ce.entity_id"
				   " WHERE ce.case_id = ?1"
				   " UNION SELECT e.id, e.kind, e.key FROM case_transactions ct"
				   " JOIN transactions t ON t.txn_id = ct.txn_id"
				   " JOIN entities e ON e.kind = 'account' AND e.key = t.sender_id WHERE ct.case_id = ?1"
				   " ORDER BY 2, 3", err)))
		return rc;
	sqlite3_bind_int64(q, 1, s->id);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(q, 1), *key = (const char *)sqlite3_column_text(q, 2);
		int64_t eid = sqlite3_column_int64(q, 0), high, prior;
		sqlite3_stmt *p;
		double r;

		if ((rc = entity_high(st, kind, key, &high, err)))
			break;
		if ((rc = fd_store_prepare(st, &p, "SELECT count(DISTINCT c.id) FROM case_entities ce JOIN cases c"
					   " ON c.id = ce.case_id WHERE ce.entity_id = ? AND c.status = 'CLOSED' AND c.id != ?", err)))
			break;
		sqlite3_bind_int64(p, 1, eid);
		sqlite3_bind_int64(p, 2, s->id);
		prior = sqlite3_step(p) == SQLITE_ROW ? sqlite3_column_int64(p, 0) : 0;
		sqlite3_finalize(p);
		r = (high >= 10 ? 1.0 : (double)high / 10) * 0.7 + (prior > 0 ? 0.3 : 0);
		if (r > *risk || (why->len == 0 && r == 0 && high == 0)) {
			if (r > *risk || why->len == 0) {
				*risk = r;
				fd_buf_reset(why);
				char c1[FD_NUM_BUFSZ], c2[FD_NUM_BUFSZ];

				if (fd_buf_addf(why, "%s:%s has %s HIGH-risk transaction%s", kind, key, fd_num_count(high, c1),
						high == 1 ? "" : "s") ||
				    (prior && fd_buf_addf(why, " and %s confirmed-fraud case%s", fd_num_count(prior, c2),
							  prior == 1 ? "" : "s"))) {
					rc = oom(err);
					break;
				}
			}
		}
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? FD_OK : rc == SQLITE_ROW ? FD_OK : rc;
}

int fd_case_prioritize(struct fd_store *st, int64_t now, struct fd_case_rank **out, size_t *np,
		       struct fd_err *err)
{
	struct fd_case_filter f;
	struct fd_case_summary *cs = NULL;
	struct fd_case_rank *r = NULL;
	struct fd_buf ew = FD_BUF_INIT, why = FD_BUF_INIT;
	size_t n = 0, i;
	int rc;

	*out = NULL;
	*np = 0;
	fd_case_filter_init(&f);
	f.status_mask = 1u << FD_CASE_OPEN | 1u << FD_CASE_IN_PROGRESS;
	if ((rc = fd_case_list(st, &f, &cs, &n, err)))
		return rc;
	if (n && !(r = calloc(n, sizeof(*r)))) {
		fd_case_summaries_free(cs, n);
		return oom(err);
	}
	for (i = 0; i < n; i++) {
		struct fd_case_rank *k = &r[i];
		double major, days, erisk;
		char num[FD_NUM_BUFSZ];

		k->s = cs[i];
		memset(&cs[i], 0, sizeof(cs[i]));
		major = stake_major(&k->s);
		days = (double)(now - k->s.created_at) / (double)FD_DAY_MS;
		if (days < 0)
			days = 0;
		fd_buf_reset(&ew);
		if ((rc = case_entity_risk(st, &k->s, &erisk, &ew, err)))
			break;
		k->risk_part = k->s.max_risk > 0 ? 40.0 * k->s.max_risk / 100.0 : 0;
		k->amount_part = major > 0 ? 25.0 * fmin(1.0, log10(1 + major) / 6.0) : 0;
		k->entity_part = 20.0 * erisk;
		k->age_part = 15.0 * fmin(1.0, days / 30.0);
		k->score = k->risk_part + k->amount_part + k->entity_part + k->age_part;
		fd_buf_reset(&why);
		if (k->s.max_risk >= 0)
			fd_buf_addf(&why, "max risk %.2f", k->s.max_risk);
		else
			fd_buf_adds(&why, "not scored");
		fd_buf_adds(&why, "; ");
		fd_case_format_amounts(k->s.stake, k->s.nstake, 1, &why);
		fd_buf_addf(&why, " at stake in %s transaction%s", fd_num_count(k->s.ntxns, num),
			    k->s.ntxns == 1 ? "" : "s");
		if (ew.len)
			fd_buf_addf(&why, "; %s", ew.s);
		fd_buf_addf(&why, "; open %s days", fd_num_double(days, 1, num));
		if (!why.s || !(k->why = strdup(why.s))) {
			rc = oom(err);
			break;
		}
	}
	fd_case_summaries_free(cs, n);
	fd_buf_release(&ew);
	fd_buf_release(&why);
	if (rc) {
		fd_case_ranks_free(r, n);
		return rc;
	}
	if (n > 1)
		qsort(r, n, sizeof(*r), cmp_rank);
	*out = r;
	*np = n;
	return FD_OK;
}

/* ---- automatic cases --------------------------------------------------------------------- */

struct flagrec {
	const char *txn_id;
	char *suspect;        /* normalised "kind:key", owned */
	int64_t ts;
	double risk;
	const char *reasons;
};

static int cmp_flag(const void *pa, const void *pb)
{
	const struct flagrec *a = pa, *b = pb;
	int c = strcmp(a->suspect, b->suspect);

	if (c)
		return c;
	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	return strcmp(a->txn_id, b->txn_id);
}

/* "risk 93: first reason" */
static int flag_reason(const struct flagrec *f, struct fd_buf *b)
{
	char **rs = NULL;
	size_t n = 0, i;
	int r;

	fd_buf_reset(b);
	if (split_reasons(f->reasons, &rs, &n))
		return -1;
	r = fd_buf_addf(b, "risk %.2f", f->risk);
	if (!r && n)
		r = fd_buf_addf(b, ": %s", rs[0]);
	for (i = 0; i < n; i++)
		free(rs[i]);
	free(rs);
	return r;
}

/* A case one call of fd_case_auto touched: what it was before, what the call added. */
struct touched {
	int64_t id;
	int is_new;
	int status, prio;     /* before the call (a new case: OPEN, -1) */
	double maxrisk;       /* of the flags added */
	struct fd_buf txns;   /* JSON array of the transactions added */
};

/* The title's level words: "HIGH", "MEDIUM or HIGH", "LOW, MEDIUM or HIGH". */
static const char *auto_level_words(const struct fd_case_auto_opts *o)
{
	int l = o ? o->min_level : FD_CASE_LEVEL_HIGH;

	return l == FD_CASE_LEVEL_LOW ? "LOW, MEDIUM or HIGH" : l == FD_CASE_LEVEL_MEDIUM ? "MEDIUM or HIGH" : "HIGH";
}

/* Open a new auto case for flag f: window [ts, ts + window), the suspect as SUSPECT entity. */
static int auto_open(struct fd_store *st, const struct flagrec *f, int64_t window,
		     const struct fd_case_auto_opts *o, int64_t now, int64_t *idp, struct fd_err *err)
{
	sqlite3_stmt *q = NULL;
	struct fd_buf title = FD_BUF_INIT, desc = FD_BUF_INIT;
	const char *key = strchr(f->suspect, ':') + 1;
	char kind[16], ts1[FD_TS_BUFSZ], span[48];
	int64_t id, eid;
	int rc;

	fd_format_ts(f->ts, ts1);
	if (window % FD_DAY_MS == 0) {
		ts1[10] = '\0';
		snprintf(span, sizeof(span), "%lld d", (long long)(window / FD_DAY_MS));
	} else {
		ts1[16] = 'Z';
		ts1[17] = '\0';
		fmt_span(window, span, sizeof(span));
	}
	if (fd_buf_addf(&title, "%s risk: %s, %s", auto_level_words(o), f->suspect, ts1) ||
	    fd_buf_addf(&desc, "Opened automatically from the %s-risk alerts of %s. While it is open it"
			" collects the suspect's further alerts up to %s after the latest one.",
			auto_level_words(o), f->suspect, span)) {
		rc = oom(err);
		goto out;
	}
	if ((rc = fd_store_prepare(st, &q, "INSERT INTO cases (title, description, priority, status, origin,"
				   " suspect, window_start, window_end, created_at, created_by, updated_at)"
				   " VALUES (?, ?, 'HIGH', 'OPEN', 'auto', ?, ?, ?, ?, ?, ?)", err)))
		goto out;
	sqlite3_bind_text(q, 1, title.s, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, desc.s, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, f->suspect, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, f->ts);
	sqlite3_bind_int64(q, 5, f->ts + window);
	sqlite3_bind_int64(q, 6, now);
	sqlite3_bind_text(q, 7, actor_of(st), -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 8, now);
	if ((rc = step_done(st, q, "creating a case", err)))
		goto out;
	sqlite3_finalize(q);
	q = NULL;
	*idp = id = sqlite3_last_insert_rowid(fd_store_db(st));
	/* the suspect as a case entity, when the store knows it */
	snprintf(kind, sizeof(kind), "%.*s", (int)(key - 1 - f->suspect), f->suspect);
	if ((rc = fd_store_prepare(st, &q, "SELECT id FROM entities WHERE kind = ? AND key = ?", err)))
		goto out;
	sqlite3_bind_text(q, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, key, -1, SQLITE_STATIC);
	eid = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
	if (eid) {
		int what, was;

		rc = add_entity(st, id, eid, FD_ER_SUSPECT, "suspect of the automatic case's alerts", now, &what, &was, err);
	}
out:
	sqlite3_finalize(q);
	fd_buf_release(&title);
	fd_buf_release(&desc);
	return rc;
}

/* Record what the call did to case t: priority raised, the "created" or "auto" event, a
 * reopening, an automatic assignment. */
static int auto_finish(struct fd_store *st, struct touched *t, const struct fd_case_auto_opts *o, int64_t now,
		       struct fd_case_auto_result *res, struct fd_err *err)
{
	sqlite3_stmt *q = NULL;
	struct fd_buf det = FD_BUF_INIT;
	struct jo j;
	char ts1[FD_TS_BUFSZ], ts2[FD_TS_BUFSZ];
	int rc, want = t->maxrisk >= 90 ? FD_PRIO_CRITICAL : FD_PRIO_HIGH;
	int raise = t->is_new ? want > FD_PRIO_HIGH : t->prio < want;

	if (fd_buf_addc(&t->txns, ']'))
		return oom(err);
	if (raise) {
		if ((rc = fd_store_prepare(st, &q, "UPDATE cases SET priority = ? WHERE id = ?", err)))
			return rc;
		sqlite3_bind_text(q, 1, fd_case_priority_name[want], -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 2, t->id);
		rc = step_done(st, q, "raising a case's priority", err);
		sqlite3_finalize(q);
		q = NULL;
		if (rc)
			return rc;
	}
	if ((rc = fd_store_prepare(st, &q, "SELECT title, suspect, window_start, window_end FROM cases WHERE id = ?", err)))
		return rc;
	sqlite3_bind_int64(q, 1, t->id);
	if (sqlite3_step(q) != SQLITE_ROW) {
		rc = fd_store_error(st, "reading a case", err);
		goto out;
	}
	fd_format_ts(sqlite3_column_int64(q, 2), ts1);
	fd_format_ts(sqlite3_column_int64(q, 3), ts2);
	jo_begin(&j, &det);
	if (t->is_new) {
		jo_str(&j, "title", (const char *)sqlite3_column_text(q, 0));
		jo_str(&j, "priority", fd_case_priority_name[want]);
		jo_str(&j, "origin", "auto");
		jo_str(&j, "suspect", (const char *)sqlite3_column_text(q, 1));
		jo_str(&j, "window_start", ts1);
		jo_str(&j, "window_end", ts2);
		jo_raw(&j, "txns", t->txns.s, t->txns.len);
	} else {
		jo_raw(&j, "added", t->txns.s, t->txns.len);
		if (raise) {
			jo_str(&j, "priority_from", t->prio >= 0 ? fd_case_priority_name[t->prio] : NULL);
			jo_str(&j, "priority", fd_case_priority_name[want]);
		}
		jo_str(&j, "window_start", ts1);
		jo_str(&j, "window_end", ts2);
	}
	jo_risk(&j, "max_risk", t->maxrisk);
	sqlite3_finalize(q);
	q = NULL;
	if ((rc = jo_end(&j, err)) || (rc = case_event(st, t->id, t->is_new ? "created" : "auto", det.s, now, err)))
		goto out;
	if (!t->is_new) {
		res->extended++;
		if (fd_case_status_final(t->status)) {
			struct fd_case_status_result sr;

			if ((rc = move_case(st, t->id, t->status, FD_CASE_IN_PROGRESS, "new HIGH-risk transaction", now,
					    &sr, err)))
				goto out;
			res->reopened++;
		}
	}
	if (t->is_new && o && o->assign) {
		char name[FD_CASE_NAME_MAX + 1];
		int found;

		if ((rc = o->pick == FD_PICK_ROUND_ROBIN ? round_robin_next(st, name, &found, err)
							 : least_loaded(st, t->id, name, &found, err)))
			goto out;
		if (found)
			rc = set_assignee(st, t->id, name, 1, o->pick == FD_PICK_ROUND_ROBIN ? "round-robin" : NULL, now, err);
		else
			res->unassigned++;
	}
out:
	sqlite3_finalize(q);
	fd_buf_release(&det);
	return rc;
}

/*
 * One suspect's flags f[0..n), in time order.  A flag whose transaction is already in one of
 * the suspect's auto cases changes nothing.  Otherwise it joins the suspect's auto case whose
 * window holds it — ts in [window_start - window, window_end) — preferring a case still
 * open, then the latest; the case's window then stretches to cover it (window_end = the
 * latest flag + window).  With no such case a new one opens.  Events are written at the end,
 * one per case touched.
 */
static int auto_suspect(struct fd_store *st, const struct flagrec *f, size_t n, int64_t window,
			const struct fd_case_auto_opts *o, int64_t now, struct fd_case_auto_result *res,
			struct fd_err *err)
{
	sqlite3_stmt *qin = NULL, *qcase = NULL, *qend = NULL, *qstart = NULL;
	struct fd_buf reason = FD_BUF_INIT;
	struct touched *tc = NULL;
	size_t ntc = 0, cap = 0, i, k;
	int rc;

	/* the suspect's auto cases and the cases they were merged into (fd_case_merge) */
	if ((rc = fd_store_prepare(st, &qin, "WITH RECURSIVE fam(id) AS (SELECT id FROM cases WHERE origin = 'auto'"
				   " AND suspect = ?2 UNION SELECT json_extract(e.details, '$.into') FROM case_events e"
				   " JOIN fam ON e.case_id = fam.id WHERE e.kind = 'duplicate')"
				   " SELECT 1 FROM case_transactions WHERE txn_id = ?1 AND case_id IN fam", err)) ||
	    /* the case whose window holds the flag; a merged one stands for the case it was merged
	     * into (followed to the end of the chain) */
	    (rc = fd_store_prepare(st, &qcase, "WITH RECURSIVE ch(id, d) AS (SELECT id, 0 FROM (SELECT id FROM cases"
				   " WHERE origin = 'auto' AND suspect = ?1 AND ?2 >= window_start - ?3 AND ?2 < window_end"
				   " ORDER BY status IN ('CLOSED', 'FALSE_POSITIVE', 'DUPLICATE'), window_end DESC, id DESC LIMIT 1)"
				   " UNION SELECT json_extract(e.details, '$.into'), d + 1 FROM case_events e JOIN ch ON e.case_id = ch.id"
				   " WHERE e.kind = 'duplicate')"
				   " SELECT c.id, c.status, c.priority FROM ch JOIN cases c ON c.id = ch.id ORDER BY ch.d DESC LIMIT 1",
				   err)) ||
	    (rc = fd_store_prepare(st, &qend, "UPDATE cases SET window_end = ?1 WHERE id = ?2 AND window_end < ?1", err)) ||
	    /* OR IGNORE: another auto case of the suspect may start exactly there (its window is
	     * then left as it is rather than the run failing) */
	    (rc = fd_store_prepare(st, &qstart, "UPDATE OR IGNORE cases SET window_start = ?1 WHERE id = ?2"
				   " AND window_start > ?1", err)))
		goto out;
	for (i = 0; i < n; i++) {
		struct touched *t = NULL;
		int64_t id = 0;
		int status = FD_CASE_OPEN, prio = -1, a;

		sqlite3_bind_text(qin, 1, f[i].txn_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(qin, 2, f[i].suspect, -1, SQLITE_STATIC);
		rc = sqlite3_step(qin);
		sqlite3_reset(qin);
		if (rc == SQLITE_ROW) {
			res->already++;
			rc = FD_OK;
			continue;
		}
		if (rc != SQLITE_DONE) {
			rc = fd_store_error(st, "reading cases", err);
			goto out;
		}
		sqlite3_bind_text(qcase, 1, f[i].suspect, -1, SQLITE_STATIC);
		sqlite3_bind_int64(qcase, 2, f[i].ts);
		sqlite3_bind_int64(qcase, 3, window);
		if (sqlite3_step(qcase) == SQLITE_ROW) {
			id = sqlite3_column_int64(qcase, 0);
			status = fd_case_status_parse((const char *)sqlite3_column_text(qcase, 1));
			prio = fd_case_priority_parse((const char *)sqlite3_column_text(qcase, 2));
		}
		sqlite3_reset(qcase);
		for (k = 0; id && k < ntc; k++)
			if (tc[k].id == id)
				t = &tc[k];
		if (!t) {
			if (!(t = grow1((void **)&tc, &ntc, &cap, sizeof(*tc)))) {
				rc = oom(err);
				goto out;
			}
			t->txns = (struct fd_buf)FD_BUF_INIT;
			if (fd_buf_addc(&t->txns, '[')) {
				rc = oom(err);
				goto out;
			}
			if (!id) {
				if ((rc = auto_open(st, &f[i], window, o, now, &id, err)))
					goto out;
				t->is_new = 1;
				res->created++;
			}
			t->id = id;
			t->status = status;
			t->prio = prio;
		}
		if (flag_reason(&f[i], &reason)) {
			rc = oom(err);
			goto out;
		}
		if ((rc = add_txn(st, id, f[i].txn_id, reason.s, NULL, now, &a, err)))
			goto out;
		if (!a) { /* cannot happen (checked above), but count it rather than record it */
			res->already++;
			continue;
		}
		res->added++;
		if (f[i].risk > t->maxrisk)
			t->maxrisk = f[i].risk;
		if (json_arr_add(&t->txns, f[i].txn_id)) {
			rc = oom(err);
			goto out;
		}
		sqlite3_bind_int64(qend, 1, f[i].ts + window);
		sqlite3_bind_int64(qend, 2, id);
		sqlite3_bind_int64(qstart, 1, f[i].ts);
		sqlite3_bind_int64(qstart, 2, id);
		if ((rc = step_done(st, qend, "moving a case's window", err)) ||
		    (rc = step_done(st, qstart, "moving a case's window", err)))
			goto out;
	}
	for (k = 0; k < ntc && !rc; k++)
		rc = auto_finish(st, &tc[k], o, now, res, err);
out:
	sqlite3_finalize(qin);
	sqlite3_finalize(qcase);
	sqlite3_finalize(qend);
	sqlite3_finalize(qstart);
	for (k = 0; k < ntc; k++)
		fd_buf_release(&tc[k].txns);
	free(tc);
	fd_buf_release(&reason);
	return rc;
}

int fd_case_auto(struct fd_store *st, const struct fd_case_flag *flags, size_t n,
		 const struct fd_case_auto_opts *o, struct fd_case_auto_result *res, struct fd_err *err)
{
	struct fd_case_auto_result tmp;
	struct flagrec *fr = NULL;
	struct fd_buf b = FD_BUF_INIT;
	sqlite3_stmt *q = NULL;
	int64_t window = o && o->window_ms > 0 ? o->window_ms : FD_CASE_AUTO_WINDOW, now = fd_wall_ms();
	size_t nf = 0, i, g;
	int rc, own = 0, began = 0;
	double min_risk = o ? o->min_risk : 0;
	char vis[200];

	if (!res)
		res = &tmp;
	memset(res, 0, sizeof(*res));
	if ((rc = fd_case_authorize(st, FD_CA_AUTO, "auto", err)))
		return rc;
	if (n && !(fr = calloc(n, sizeof(*fr))))
		return oom(err);
	for (i = 0; i < n; i++) {
		const struct fd_case_flag *f = &flags[i];
		struct flagrec *r;
		const char *key;
		int64_t ts = f->ts;

		if (!f->txn_id || !*f->txn_id) {
			rc = fd_err_set(err, FD_EUSAGE, "flag %zu has no transaction id", i + 1);
			goto out;
		}
		if (f->risk < min_risk)
			continue;
		fd_buf_reset(&b);
		if (!f->suspect) {
			/* the sender and time from the store */
			if (!q && (rc = fd_store_prepare(st, &q, "SELECT sender_id, ts FROM transactions WHERE txn_id = ?", err)))
				goto out;
			sqlite3_bind_text(q, 1, f->txn_id, -1, SQLITE_STATIC);
			if (sqlite3_step(q) != SQLITE_ROW) {
				sqlite3_reset(q);
				rc = fd_err_set(err, FD_EINPUT, "transaction '%s': no suspect given and not in the store",
						fd_visible(vis, sizeof(vis), f->txn_id, strlen(f->txn_id)));
				goto out;
			}
			fd_buf_addf(&b, "account:%s", (const char *)sqlite3_column_text(q, 0));
			ts = sqlite3_column_int64(q, 1);
			sqlite3_reset(q);
		} else if (!*f->suspect) {
			rc = fd_err_set(err, FD_EUSAGE, "transaction '%s': empty suspect",
					fd_visible(vis, sizeof(vis), f->txn_id, strlen(f->txn_id)));
			goto out;
		} else if (ref_kind(f->suspect, &key) >= 0)
			fd_buf_adds(&b, f->suspect);
		else
			fd_buf_addf(&b, "account:%s", f->suspect);
		r = &fr[nf];
		r->txn_id = f->txn_id;
		r->ts = ts;
		r->risk = f->risk;
		r->reasons = f->reasons;
		if (!b.s || !(r->suspect = strdup(b.s))) {
			rc = oom(err);
			goto out;
		}
		nf++;
	}
	res->flags = (int64_t)nf;
	if (nf > 1)
		qsort(fr, nf, sizeof(*fr), cmp_flag);
	if ((rc = tx_begin(st, &own, err)))
		goto out;
	began = 1;
	for (i = 0; i < nf; i = g) {
		for (g = i + 1; g < nf && strcmp(fr[g].suspect, fr[i].suspect) == 0; g++)
			;
		if ((rc = auto_suspect(st, fr + i, g - i, window, o, now, res, err)))
			break;
	}
out:
	sqlite3_finalize(q);
	for (i = 0; i < nf; i++)
		free(fr[i].suspect);
	free(fr);
	fd_buf_release(&b);
	if (began)
		rc = tx_end(st, own, rc, err);
	if (rc)
		memset(res, 0, sizeof(*res));
	return rc;
}

int fd_case_auto_from_store(struct fd_store *st, int64_t since, int64_t until,
			    const struct fd_case_auto_opts *o, struct fd_case_auto_result *res,
			    struct fd_err *err)
{
	sqlite3_stmt *q;
	struct fd_case_flag *fl = NULL;
	size_t n = 0, cap = 0, i;
	int rc, bad = 0;

	if ((rc = fd_case_authorize(st, FD_CA_AUTO, "auto", err)))
		return rc;
	if ((rc = fd_store_prepare(st, &q, "SELECT s.txn_id, t.sender_id, t.ts, s.risk, s.reasons"
				   " FROM latest_scores s JOIN transactions t ON t.txn_id = s.txn_id"
				   " WHERE (CASE s.level WHEN 'HIGH' THEN 0 WHEN 'MEDIUM' THEN 1 ELSE 2 END) <= ?3"
				   " AND t.ts >= ?1 AND t.ts < ?2 ORDER BY t.ts, s.txn_id", err)))
		return rc;
	sqlite3_bind_int64(q, 1, since);
	sqlite3_bind_int64(q, 2, until);
	sqlite3_bind_int(q, 3, o ? o->min_level : FD_CASE_LEVEL_HIGH);
	while (!bad && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct fd_case_flag *f = grow1((void **)&fl, &n, &cap, sizeof(*fl));
		int b2 = 0;

		if (!f) {
			bad = 1;
			break;
		}
		f->txn_id = col_dup(q, 0, &b2);
		{
			const char *snd = (const char *)sqlite3_column_text(q, 1);
			size_t k = snd ? strlen(snd) : 0;
			char *sus = malloc(k + 9);

			if (sus) {
				memcpy(sus, "account:", 8);
				memcpy(sus + 8, snd ? snd : "", k + 1);
			}
			f->suspect = sus;
		}
		f->ts = sqlite3_column_int64(q, 2);
		f->risk = sqlite3_column_double(q, 3);
		f->reasons = col_dup(q, 4, &b2);
		if (b2 || !f->txn_id || !f->suspect)
			bad = 1;
	}
	if (bad)
		rc = oom(err);
	else if (rc != SQLITE_DONE)
		rc = fd_store_error(st, "reading scores", err);
	else
		rc = FD_OK;
	sqlite3_finalize(q);
	if (!rc)
		rc = fd_case_auto(st, fl, n, o, res, err);
	for (i = 0; i < n; i++) {
		free((char *)fl[i].txn_id);
		free((char *)fl[i].suspect);
		free((char *)fl[i].reasons);
	}
	free(fl);
	return rc;
}

/* ---- duplicates and merging ------------------------------------------------------------------ */

void fd_case_dups_free(struct fd_case_dup *d, size_t n)
{
	size_t i;

	for (i = 0; d && i < n; i++)
		free(d[i].suspects);
	free(d);
}

int fd_case_duplicates(struct fd_store *st, struct fd_case_dup **out, size_t *np, struct fd_err *err)
{
	sqlite3_stmt *q;
	struct fd_case_dup *d = NULL;
	size_t n = 0, cap = 0;
	int rc, bad = 0;

	*out = NULL;
	*np = 0;
	if ((rc = fd_case_authorize(st, FD_CA_VIEW, "duplicates", err)))
		return rc;
	if ((rc = fd_store_prepare(st, &q,
		"WITH oc AS (SELECT id FROM cases WHERE status IN ('OPEN', 'IN_PROGRESS')),"
		" sus AS (SELECT id AS case_id, suspect AS s FROM cases WHERE suspect IS NOT NULL AND id IN oc"
		"  UNION SELECT ce.case_id, e.kind || ':' || e.key FROM case_entities ce JOIN entities e ON e.id = ce.entity_id"
		"   WHERE ce.role = 'SUSPECT' AND ce.case_id IN oc),"
		" tx AS (SELECT a.case_id AS a, b.case_id AS b, count(*) AS n FROM case_transactions a"
		"  JOIN case_transactions b ON b.txn_id = a.txn_id AND b.case_id > a.case_id"
		"  WHERE a.case_id IN oc AND b.case_id IN oc GROUP BY 1, 2),"
		" su AS (SELECT a, b, group_concat(s, ' ') AS s FROM (SELECT x.case_id AS a, y.case_id AS b, x.s AS s"
		"  FROM sus x JOIN sus y ON y.s = x.s AND y.case_id > x.case_id ORDER BY 1, 2, 3) GROUP BY 1, 2),"
		" pairs AS (SELECT a, b FROM tx UNION SELECT a, b FROM su)"
		" SELECT p.a, p.b, coalesce(tx.n, 0), su.s,"
		"  (SELECT count(*) FROM case_transactions WHERE case_id = p.a),"
		"  (SELECT count(*) FROM case_transactions WHERE case_id = p.b)"
		" FROM pairs p LEFT JOIN tx ON tx.a = p.a AND tx.b = p.b LEFT JOIN su ON su.a = p.a AND su.b = p.b"
		" ORDER BY p.a, p.b", err)))
		return rc;
	while (!bad && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct fd_case_dup *x = grow1((void **)&d, &n, &cap, sizeof(*d));

		if (!x) {
			bad = 1;
			break;
		}
		x->keep = sqlite3_column_int64(q, 0);
		x->dup = sqlite3_column_int64(q, 1);
		x->shared_txns = sqlite3_column_int64(q, 2);
		x->suspects = col_dup(q, 3, &bad);
		x->keep_txns = sqlite3_column_int64(q, 4);
		x->dup_txns = sqlite3_column_int64(q, 5);
	}
	if (bad)
		rc = oom(err);
	else
		rc = rc == SQLITE_DONE ? FD_OK : fd_store_error(st, "reading cases", err);
	sqlite3_finalize(q);
	if (rc) {
		fd_case_dups_free(d, n);
		return rc;
	}
	*out = d;
	*np = n;
	return FD_OK;
}

int fd_case_merge(struct fd_store *st, int64_t keep, int64_t dup, const char *note,
		  struct fd_case_merge_result *res, struct fd_err *err)
{
	struct fd_case_merge_result tmp;
	sqlite3_stmt *q = NULL;
	struct fd_buf moved = FD_BUF_INIT, already = FD_BUF_INIT, ents = FD_BUF_INIT, det = FD_BUF_INIT;
	struct jo j;
	char what[64];
	int64_t now = fd_wall_ms();
	int rc, own, began = 0, skeep, sdup, pkeep = -1, pdup = -1;

	if (!res)
		res = &tmp;
	memset(res, 0, sizeof(*res));
	snprintf(what, sizeof(what), "case %lld into case %lld", (long long)dup, (long long)keep);
	if ((rc = fd_case_authorize(st, FD_CA_STATUS, what, err)))
		return rc;
	if ((rc = check_text("the note", note, FD_CASE_TEXT_MAX, 0, 1, err)))
		return rc;
	if (keep == dup)
		return fd_err_set(err, FD_EUSAGE, "cannot merge case %lld into itself", (long long)keep);
	if ((rc = tx_begin(st, &own, err)))
		return rc;
	began = 1;
	if ((rc = case_status(st, keep, &skeep, err)) || (rc = case_status(st, dup, &sdup, err)))
		goto out;
	if (fd_case_status_final(skeep) || fd_case_status_final(sdup)) {
		int64_t c = fd_case_status_final(skeep) ? keep : dup;

		rc = fd_err_set(err, FD_EUSAGE, "case %lld is %s: only OPEN or IN_PROGRESS cases are merged", (long long)c,
				fd_case_status_name[c == keep ? skeep : sdup]);
		goto out;
	}
	res->from_status = sdup;
	if ((rc = fd_store_prepare(st, &q, "SELECT (SELECT priority FROM cases WHERE id = ?1),"
				   " (SELECT priority FROM cases WHERE id = ?2)", err)))
		goto out;
	sqlite3_bind_int64(q, 1, keep);
	sqlite3_bind_int64(q, 2, dup);
	if (sqlite3_step(q) == SQLITE_ROW) {
		pkeep = fd_case_priority_parse((const char *)sqlite3_column_text(q, 0));
		pdup = fd_case_priority_parse((const char *)sqlite3_column_text(q, 1));
	}
	sqlite3_finalize(q);
	q = NULL;
	if (fd_buf_addc(&moved, '[') || fd_buf_addc(&already, '[') || fd_buf_addc(&ents, '[')) {
		rc = oom(err);
		goto out;
	}
	/* the transactions: those keep lacks move (their reason and note with them) */
	if ((rc = fd_store_prepare(st, &q, "SELECT txn_id, EXISTS (SELECT 1 FROM case_transactions k WHERE k.case_id = ?2"
				   " AND k.txn_id = d.txn_id) FROM case_transactions d WHERE d.case_id = ?1 ORDER BY txn_id", err)))
		goto out;
	sqlite3_bind_int64(q, 1, dup);
	sqlite3_bind_int64(q, 2, keep);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(q, 0);

		if (sqlite3_column_int(q, 1)) {
			res->txns_already++;
			if (json_arr_add(&already, t))
				break;
		} else {
			res->txns_moved++;
			if (json_arr_add(&moved, t))
				break;
		}
	}
	sqlite3_finalize(q);
	q = NULL;
	if (rc != SQLITE_DONE) {
		rc = rc == SQLITE_ROW ? oom(err) : fd_store_error(st, "reading a case", err);
		goto out;
	}
	if ((rc = fd_store_prepare(st, &q, "INSERT INTO case_transactions (case_id, txn_id, reason, note, added_at, added_by)"
				   " SELECT ?2, txn_id, reason, note, ?3, ?4 FROM case_transactions d WHERE d.case_id = ?1"
				   " AND NOT EXISTS (SELECT 1 FROM case_transactions k WHERE k.case_id = ?2 AND k.txn_id = d.txn_id)"
				   " ORDER BY txn_id", err)))
		goto out;
	sqlite3_bind_int64(q, 1, dup);
	sqlite3_bind_int64(q, 2, keep);
	sqlite3_bind_int64(q, 3, now);
	sqlite3_bind_text(q, 4, actor_of(st), -1, SQLITE_STATIC);
	if ((rc = step_done(st, q, "moving transactions", err)))
		goto out;
	sqlite3_finalize(q);
	q = NULL;
	/* the entities: those keep lacks move with their role and note; keep's own stay as they are */
	if ((rc = fd_store_prepare(st, &q, "SELECT e.kind || ':' || e.key, d.role, EXISTS (SELECT 1 FROM case_entities k"
				   " WHERE k.case_id = ?2 AND k.entity_id = d.entity_id) FROM case_entities d"
				   " JOIN entities e ON e.id = d.entity_id WHERE d.case_id = ?1 ORDER BY e.kind, e.key", err)))
		goto out;
	sqlite3_bind_int64(q, 1, dup);
	sqlite3_bind_int64(q, 2, keep);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (sqlite3_column_int(q, 2)) {
			res->ents_already++;
			continue;
		}
		res->ents_moved++;
		if (json_arr_add(&ents, (const char *)sqlite3_column_text(q, 0)))
			break;
	}
	sqlite3_finalize(q);
	q = NULL;
	if (rc != SQLITE_DONE) {
		rc = rc == SQLITE_ROW ? oom(err) : fd_store_error(st, "reading a case", err);
		goto out;
	}
	if ((rc = fd_store_prepare(st, &q, "INSERT INTO case_entities (case_id, entity_id, role, note, added_at, added_by)"
				   " SELECT ?2, entity_id, role, note, ?3, ?4 FROM case_entities d WHERE d.case_id = ?1"
				   " AND NOT EXISTS (SELECT 1 FROM case_entities k WHERE k.case_id = ?2 AND k.entity_id = d.entity_id)"
				   " ORDER BY entity_id", err)))
		goto out;
	sqlite3_bind_int64(q, 1, dup);
	sqlite3_bind_int64(q, 2, keep);
	sqlite3_bind_int64(q, 3, now);
	sqlite3_bind_text(q, 4, actor_of(st), -1, SQLITE_STATIC);
	if ((rc = step_done(st, q, "moving entities", err)))
		goto out;
	sqlite3_finalize(q);
	q = NULL;
	if ((rc = fd_store_prepare(st, &q, "DELETE FROM case_transactions WHERE case_id = ?", err)))
		goto out;
	sqlite3_bind_int64(q, 1, dup);
	if ((rc = step_done(st, q, "moving transactions", err)))
		goto out;
	sqlite3_finalize(q);
	q = NULL;
	if ((rc = fd_store_prepare(st, &q, "DELETE FROM case_entities WHERE case_id = ?", err)))
		goto out;
	sqlite3_bind_int64(q, 1, dup);
	if ((rc = step_done(st, q, "moving entities", err)))
		goto out;
	sqlite3_finalize(q);
	q = NULL;
	if ((rc = fd_store_prepare(st, &q, "UPDATE cases SET status = 'DUPLICATE', closed_at = ? WHERE id = ?", err)))
		goto out;
	sqlite3_bind_int64(q, 1, now);
	sqlite3_bind_int64(q, 2, dup);
	if ((rc = step_done(st, q, "closing a duplicate", err)))
		goto out;
	sqlite3_finalize(q);
	q = NULL;
	if (pdup > pkeep) {
		if ((rc = fd_store_prepare(st, &q, "UPDATE cases SET priority = ? WHERE id = ?", err)))
			goto out;
		sqlite3_bind_text(q, 1, fd_case_priority_name[pdup], -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 2, keep);
		if ((rc = step_done(st, q, "raising a case's priority", err)))
			goto out;
		sqlite3_finalize(q);
		q = NULL;
	}
	if (fd_buf_addc(&moved, ']') || fd_buf_addc(&already, ']') || fd_buf_addc(&ents, ']')) {
		rc = oom(err);
		goto out;
	}
	/* the duplicate's event: where its transactions and entities went */
	jo_begin(&j, &det);
	jo_int(&j, "into", keep);
	jo_str(&j, "from", fd_case_status_name[sdup]);
	jo_raw(&j, "txns_moved", moved.s, moved.len);
	jo_raw(&j, "txns_already", already.s, already.len);
	jo_raw(&j, "entities_moved", ents.s, ents.len);
	if (note && *note)
		jo_str(&j, "note", note);
	if ((rc = jo_end(&j, err)) || (rc = case_event(st, dup, "duplicate", det.s, now, err)))
		goto out;
	/* the survivor's event: what it received */
	fd_buf_reset(&det);
	jo_begin(&j, &det);
	jo_int(&j, "duplicate", dup);
	jo_raw(&j, "txns_added", moved.s, moved.len);
	jo_raw(&j, "entities_added", ents.s, ents.len);
	if (pdup > pkeep) {
		jo_str(&j, "priority_from", pkeep >= 0 ? fd_case_priority_name[pkeep] : NULL);
		jo_str(&j, "priority", fd_case_priority_name[pdup]);
	}
	if (note && *note)
		jo_str(&j, "note", note);
	if (!(rc = jo_end(&j, err)))
		rc = case_event(st, keep, "merge", det.s, now, err);
out:
	sqlite3_finalize(q);
	fd_buf_release(&moved);
	fd_buf_release(&already);
	fd_buf_release(&ents);
	fd_buf_release(&det);
	if (began)
		rc = tx_end(st, own, rc, err);
	if (rc)
		memset(res, 0, sizeof(*res));
	return rc;
}
