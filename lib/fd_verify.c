/* fd_verify.c — see fd_verify.h. */
#include "fd_verify.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fd_audit.h"
#include "fd_buf.h"
#include "fd_schema.h"
#include "fd_txn.h"
#include "fd_writer.h"
#include "banned.h"

#define MAX_KEPT_FINDINGS 10000

/* ---- small helpers --------------------------------------------------------------------- */

static const char *col_text(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? NULL : (const char *)sqlite3_column_text(s, i);
}

/* A decimal int64 and nothing else ("007" and "+7" are not the text of 7). */
static int parse_key(const char *s, int64_t *v)
{
	char *end;
	long long x;

	const char *d = s && *s == '-' ? s + 1 : s;

	if (!d || *d < '0' || *d > '9' || (d[0] == '0' && (d[1] || d != s)))
		return 0;
	errno = 0;
	x = strtoll(s, &end, 10);
	if (errno || *end)
		return 0;
	*v = x;
	return 1;
}

/* ---- the verifier's state -------------------------------------------------------------- */

struct finding {
	int64_t seq;   /* INT64_MAX: concerns no entry */
	int64_t ord;   /* order of discovery, to keep the sort stable */
	char *msg;
};

/* One (table, key column, key) named by an entry. */
struct cover {
	const char *table, *key_col;  /* owned by the verifier's string list */
	int64_t key;
	int64_t seq;       /* the entry */
	int64_t rows;      /* recorded count, or -1 */
	char digest[65];   /* recorded digest ("" when the entry has none) */
};

/* What an ingest.source entry recorded about its sources row. */
struct custody {
	int64_t id, seq;
	char *path, *sha256, *format, *actor;
	int64_t size, accepted, rejected;
};

struct verifier {
	struct fd_store *st;
	const struct fd_verify_opts *o;
	struct fd_verify_result *res;
	struct finding *f;
	size_t nf, capf;
	int64_t ord;
	int oom;
	struct cover *cv;
	size_t ncv, capcv;
	char **strs;       /* interned table / column names */
	size_t nstrs, capstrs;
	struct custody *cu;
	size_t ncu, capcu;
	sqlite3_stmt *name_stmt;
	int64_t mig_to, mig_seq;  /* the highest version a store.migrate entry records, its entry */
};

static void *grow(void *p, size_t *cap, size_t n, size_t elem)
{
	size_t nc;
	void *q;

	if (n < *cap)
		return p;
	nc = *cap ? *cap * 2 : 64;
	q = realloc(p, nc * elem);
	if (q)
		*cap = nc;
	return q;
}

static void finding(struct verifier *v, int64_t seq, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void finding(struct verifier *v, int64_t seq, const char *fmt, ...)
{
	struct fd_buf b = FD_BUF_INIT;
	va_list ap;
	char tmp[1024];
	struct finding *nf;

	v->res->findings++;
	if (v->nf >= MAX_KEPT_FINDINGS)
		return;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (fd_buf_adds(&b, tmp)) {
		v->oom = 1;
		return;
	}
	nf = grow(v->f, &v->capf, v->nf, sizeof(*v->f));
	if (!nf) {
		fd_buf_release(&b);
		v->oom = 1;
		return;
	}
	v->f = nf;
	v->f[v->nf].seq = seq > 0 ? seq : INT64_MAX;
	v->f[v->nf].ord = v->ord++;
	v->f[v->nf].msg = fd_buf_detach(&b, NULL);
	v->nf++;
}

static const char *intern(struct verifier *v, const char *s)
{
	size_t i;
	char **ns;

	for (i = 0; i < v->nstrs; i++)
		if (strcmp(v->strs[i], s) == 0)
			return v->strs[i];
	ns = grow(v->strs, &v->capstrs, v->nstrs, sizeof(*v->strs));
	if (!ns)
		return NULL;
	v->strs = ns;
	if (!(v->strs[v->nstrs] = strdup(s)))
		return NULL;
	return v->strs[v->nstrs++];
}

/* "audit entry 7 (ingest.source source/1)" into buf, from the stored entry. */
static const char *entry_name(struct verifier *v, int64_t seq, char *buf, size_t n)
{
	sqlite3_stmt *s = v->name_stmt;

	snprintf(buf, n, "audit entry %lld", (long long)seq);
	if (!s && fd_store_prepare(v->st, &v->name_stmt,
				   "SELECT action, object_type, object_id FROM audit_log WHERE seq = ?1", NULL))
		return buf;
	s = v->name_stmt;
	sqlite3_reset(s);
	sqlite3_bind_int64(s, 1, seq);
	if (sqlite3_step(s) == SQLITE_ROW) {
		char a[96], t[64], id[96];
		const char *x;

		x = col_text(s, 0);
		fd_visible(a, sizeof(a), x ? x : "", x ? strlen(x) : 0);
		x = col_text(s, 1);
		fd_visible(t, sizeof(t), x ? x : "", x ? strlen(x) : 0);
		x = col_text(s, 2);
		fd_visible(id, sizeof(id), x ? x : "", x ? strlen(x) : 0);
		snprintf(buf, n, "audit entry %lld (%s %s/%s)", (long long)seq, a, t, id);
	}
	sqlite3_reset(s);
	return buf;
}

static int add_cover(struct verifier *v, const char *table, const char *key_col, int64_t key,
		     int64_t seq, int64_t rows, const char *digest)
{
	struct cover *c = grow(v->cv, &v->capcv, v->ncv, sizeof(*v->cv));

	if (!c)
		return -1;
	v->cv = c;
	c = &v->cv[v->ncv];
	c->table = intern(v, table);
	c->key_col = intern(v, key_col);
	if (!c->table || !c->key_col)
		return -1;
	c->key = key;
	c->seq = seq;
	c->rows = rows;
	snprintf(c->digest, sizeof(c->digest), "%s", digest ? digest : "");
	v->ncv++;
	return 0;
}

static int64_t json_int_or(json_t *o, const char *name, int64_t dflt)
{
	json_t *x = json_object_get(o, name);

	return json_is_integer(x) ? (int64_t)json_integer_value(x) : dflt;
}

static char *json_str_dup(json_t *o, const char *name)
{
	json_t *x = json_object_get(o, name);

	return json_is_string(x) ? strdup(json_string_value(x)) : NULL;
}

/* What an entry's details say about the rows it covers; findings for malformed claims. */
static int note_covers(struct verifier *v, const struct fd_audit_row *r, const char *name)
{
	json_t *d, *tables;
	json_error_t je;
	int64_t key;
	int rc = 0;

	if (!strstr(r->details, "\"table")) /* cheap: most entries cover nothing */
		return 0;
	d = json_loads(r->details, 0, &je);
	if (!json_is_object(d)) {
		json_decref(d);
		return 0;
	}
	tables = json_object_get(d, "tables");
	if (json_object_get(d, "table") || json_is_array(tables)) {
		if (!parse_key(r->object_id, &key)) {
			finding(v, r->seq, "%s: names rows by key but its object id is not an integer", name);
			goto out;
		}
		if (!r->data_digest || !fd_audit_is_hex(r->data_digest, 64)) {
			finding(v, r->seq, "%s: names rows of a table but has no data digest", name);
			goto out;
		}
	}
	if (json_object_get(d, "table")) {
		const char *t = json_string_value(json_object_get(d, "table"));
		const char *k = json_string_value(json_object_get(d, "key"));
		int64_t rows = json_int_or(d, "rows", json_int_or(d, "accepted", -1));

		if (!fd_plain_ident(t, FD_IDENT_MAX) || !fd_plain_ident(k, FD_IDENT_MAX)) {
			finding(v, r->seq, "%s: details name no valid table and key column", name);
			goto out;
		}
		rc = add_cover(v, t, k, key, r->seq, rows, r->data_digest);
	} else if (json_is_array(tables)) {
		size_t i, n = json_array_size(tables);
		char (*dg)[65] = n ? calloc(n, 65) : NULL;
		char comb[65];

		if (n == 0 || !dg) {
			free(dg);
			if (n)
				rc = -1;
			else
				finding(v, r->seq, "%s: details list no tables", name);
			goto out;
		}
		for (i = 0; i < n && !rc; i++) {
			json_t *p = json_array_get(tables, i);
			const char *t = json_string_value(json_object_get(p, "table"));
			const char *k = json_string_value(json_object_get(p, "key"));
			const char *h = json_string_value(json_object_get(p, "digest"));

			if (!fd_plain_ident(t, FD_IDENT_MAX) || !fd_plain_ident(k, FD_IDENT_MAX) || !fd_audit_is_hex(h, 64)) {
				finding(v, r->seq, "%s: part %zu of its details names no valid table, key column and digest",
					name, i + 1);
				free(dg);
				goto out;
			}
			memcpy(dg[i], h, 65);
			rc = add_cover(v, t, k, key, r->seq, json_int_or(p, "rows", -1), h);
		}
		if (!rc) {
			fd_audit_combine_digests(dg, n, comb);
			if (strcmp(comb, r->data_digest) != 0)
				finding(v, r->seq, "%s: its data digest is not the digest of the parts its details list", name);
		}
		free(dg);
	}
out:
	json_decref(d);
	return rc;
}

static int note_custody(struct verifier *v, const struct fd_audit_row *r)
{
	struct custody *c;
	json_t *d;
	int64_t id;

	if (strcmp(r->action, "ingest.source") != 0 || strcmp(r->object_type, "source") != 0 ||
	    !parse_key(r->object_id, &id))
		return 0;
	if (!(d = json_loads(r->details, 0, NULL)))
		return 0;
	c = grow(v->cu, &v->capcu, v->ncu, sizeof(*v->cu));
	if (!c) {
		json_decref(d);
		return -1;
	}
	v->cu = c;
	c = &v->cu[v->ncu++];
	memset(c, 0, sizeof(*c));
	c->id = id;
	c->seq = r->seq;
	c->path = json_str_dup(d, "path");
	c->sha256 = json_str_dup(d, "sha256");
	c->format = json_str_dup(d, "format");
	c->actor = strdup(r->actor);
	c->size = json_int_or(d, "size", -1);
	c->accepted = json_int_or(d, "accepted", -1);
	c->rejected = json_int_or(d, "rejected", -1);
	json_decref(d);
	return c->actor ? 0 : -1;
}

/* ---- 1. the chain ---------------------------------------------------------------------- */

static int check_chain(struct verifier *v, struct fd_err *err)
{
	sqlite3_stmt *s;
	struct fd_verify_result *res = v->res;
	char prev_hash[65], hash[65], name[320];
	int64_t prev_seq = 0;
	int rc;

	memcpy(prev_hash, fd_audit_genesis, sizeof(prev_hash));
	if ((rc = fd_store_prepare(v->st, &s,
				   "SELECT seq, ts, actor, host, tool, version, action, object_type, object_id,"
				   " details, data_digest, prev_hash, hash FROM audit_log ORDER BY seq", err)))
		return rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct fd_audit_row r;
		const char *stored;
		char a[96], t[64], id[96];

		r.seq = sqlite3_column_int64(s, 0);
		r.ts = sqlite3_column_int64(s, 1);
		r.actor = col_text(s, 2);
		r.host = col_text(s, 3);
		r.tool = col_text(s, 4);
		r.version = col_text(s, 5);
		r.action = col_text(s, 6);
		r.object_type = col_text(s, 7);
		r.object_id = col_text(s, 8);
		r.details = col_text(s, 9);
		r.data_digest = col_text(s, 10);
		r.prev_hash = col_text(s, 11);
		stored = col_text(s, 12);
		if (!r.actor || !r.host || !r.tool || !r.version || !r.action || !r.object_type ||
		    !r.object_id || !r.details || !r.prev_hash || !stored) {
			/* the NOT NULL constraints were dropped with the table: rebuilt by hand */
			finding(v, r.seq, "audit entry %lld: a field is NULL: the entry was written by hand",
				(long long)r.seq);
			r.actor = r.actor ? r.actor : "";
			r.host = r.host ? r.host : "";
			r.tool = r.tool ? r.tool : "";
			r.version = r.version ? r.version : "";
			r.action = r.action ? r.action : "";
			r.object_type = r.object_type ? r.object_type : "";
			r.object_id = r.object_id ? r.object_id : "";
			r.details = r.details ? r.details : "";
			r.prev_hash = r.prev_hash ? r.prev_hash : "";
			stored = stored ? stored : "";
		}
		res->entries++;
		fd_visible(a, sizeof(a), r.action, strlen(r.action));
		fd_visible(t, sizeof(t), r.object_type, strlen(r.object_type));
		fd_visible(id, sizeof(id), r.object_id, strlen(r.object_id));
		snprintf(name, sizeof(name), "audit entry %lld (%s %s/%s)", (long long)r.seq, a, t, id);

		if (r.seq != prev_seq + 1) {
			char after[48];

			if (prev_seq)
				snprintf(after, sizeof(after), "entry %lld", (long long)prev_seq);
			else
				snprintf(after, sizeof(after), "the start");
			if (r.seq == prev_seq + 2)
				finding(v, prev_seq + 1, "audit entry %lld is missing: deleted from the log (entry %lld follows %s)",
					(long long)(prev_seq + 1), (long long)r.seq, after);
			else
				finding(v, prev_seq + 1, "audit entries %lld to %lld are missing: deleted from the log (entry %lld follows %s)",
					(long long)(prev_seq + 1), (long long)(r.seq - 1), (long long)r.seq, after);
		} else if (strcmp(r.prev_hash, prev_hash) != 0) {
			if (prev_seq)
				finding(v, r.seq, "%s: its prev_hash is not the hash of entry %lld: the chain is broken here (an entry was replaced or inserted)",
					name, (long long)prev_seq);
			else
				finding(v, r.seq, "%s: its prev_hash is not the genesis hash (64 zeros): the chain is broken here",
					name);
		}
		fd_audit_hash(&r, hash);
		if (strcmp(hash, stored) != 0)
			finding(v, r.seq, "%s: hash mismatch: the entry was edited or forged", name);
		if (r.seq == 1)
			snprintf(res->store_id, sizeof(res->store_id), "%s", stored);
		if (strcmp(r.action, "store.migrate") == 0 && strcmp(r.object_type, "store") == 0) {
			int64_t to;

			if (parse_key(r.object_id, &to) && to > v->mig_to) {
				v->mig_to = to;
				v->mig_seq = r.seq;
			}
		}
		if (note_covers(v, &r, name) || note_custody(v, &r)) {
			v->oom = 1;
			break;
		}
		snprintf(prev_hash, sizeof(prev_hash), "%s", stored);
		prev_seq = r.seq;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		rc = fd_store_error(v->st, "reading the audit log", err);
		sqlite3_finalize(s);
		return rc;
	}
	sqlite3_finalize(s);
	res->head_seq = prev_seq;
	snprintf(res->head_hash, sizeof(res->head_hash), "%s", prev_seq ? prev_hash : "");
	if (res->entries == 0)
		finding(v, 0, "the audit log is empty: its entries were deleted (a store's log starts with its migrations)");
	return FD_OK;
}

/* ---- 1b. the schema version ------------------------------------------------------------ */

/* PRAGMA user_version must be the version the audit log's last store.migrate entry brought
 * the store to: each migration is recorded in the same transaction as the version change. */
static int check_version(struct verifier *v, struct fd_err *err)
{
	sqlite3_stmt *s;
	int64_t uv;
	char name[320];
	int rc;

	if (v->res->entries == 0)
		return FD_OK;  /* already a finding */
	if ((rc = fd_store_prepare(v->st, &s, "PRAGMA user_version", err)))
		return rc;
	if (sqlite3_step(s) != SQLITE_ROW) {
		rc = fd_store_error(v->st, "reading the schema version", err);
		sqlite3_finalize(s);
		return rc;
	}
	uv = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (v->mig_seq == 0)
		finding(v, 0, "the audit log records no store.migrate entry but PRAGMA user_version is %lld: the migration entries were removed",
			(long long)uv);
	else if (uv < v->mig_to)
		finding(v, v->mig_seq, "%s: PRAGMA user_version is %lld but the store was migrated to version %lld: the schema version was lowered behind the tools' back",
			entry_name(v, v->mig_seq, name, sizeof(name)), (long long)uv, (long long)v->mig_to);
	else if (uv > v->mig_to)
		finding(v, v->mig_seq, "%s: PRAGMA user_version is %lld but the audit log records migrations only up to version %lld: the schema version was raised behind the tools' back",
			entry_name(v, v->mig_seq, name, sizeof(name)), (long long)uv, (long long)v->mig_to);
	return FD_OK;
}

/* ---- 2. data digests ------------------------------------------------------------------- */

static int cmp_cover(const void *a, const void *b)
{
	const struct cover *x = a, *y = b;
	int c = strcmp(x->table, y->table);

	if (c)
		return c;
	if ((c = strcmp(x->key_col, y->key_col)))
		return c;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* 1 when table has column col. */
static int has_column(struct fd_store *st, const char *table, const char *col, struct fd_err *err)
{
	sqlite3_stmt *s;
	int n = -1;

	if (fd_store_prepare(st, &s, "SELECT count(*) FROM pragma_table_info(?1) WHERE name = ?2", err))
		return -1;
	sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, col, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int(s, 0) > 0;
	else
		fd_store_error(st, "reading the schema", err);
	sqlite3_finalize(s);
	return n;
}

static int check_digests(struct verifier *v, struct fd_err *err)
{
	size_t i;
	char name[320], hex[65];
	int rc;

	if (v->ncv)
		qsort(v->cv, v->ncv, sizeof(*v->cv), cmp_cover);
	for (i = 0; i < v->ncv; i++) {
		struct cover *c = &v->cv[i];
		int64_t rows;
		int h;

		/* only the last entry for each (table, key column, key) speaks for the rows now */
		if (i + 1 < v->ncv && v->cv[i + 1].table == c->table && v->cv[i + 1].key_col == c->key_col &&
		    v->cv[i + 1].key == c->key)
			continue;
		entry_name(v, c->seq, name, sizeof(name));
		if ((h = has_column(v->st, c->table, c->key_col, err)) < 0)
			return err ? err->code : FD_EIO;
		if (!h) {
			finding(v, c->seq, "%s: the table %s with a column %s that it names is gone (dropped or altered)",
				name, c->table, c->key_col);
			continue;
		}
		if ((rc = fd_audit_digest_rows(v->st, c->table, c->key_col, c->key, hex, &rows, err)))
			return rc;
		v->res->digests++;
		v->res->rows += rows;
		if (v->o && v->o->on_progress)
			v->o->on_progress(v->o->ctx, v->res->rows);
		if (strcmp(hex, c->digest) != 0) {
			if (c->rows >= 0 && rows != c->rows)
				finding(v, c->seq, "%s: data digest mismatch: rows of %s with %s %lld changed since the entry (%lld now, the entry recorded %lld)",
					name, c->table, c->key_col, (long long)c->key, (long long)rows, (long long)c->rows);
			else
				finding(v, c->seq, "%s: data digest mismatch: rows of %s with %s %lld changed since the entry",
					name, c->table, c->key_col, (long long)c->key);
		} else if (c->rows >= 0 && rows != c->rows)
			finding(v, c->seq, "%s: the entry records %lld rows of %s with %s %lld but its digest is of %lld",
				name, (long long)c->rows, c->table, c->key_col, (long long)c->key, (long long)rows);
	}
	return FD_OK;
}

/* ---- 3. coverage ----------------------------------------------------------------------- */

static int table_exists(struct fd_store *st, const char *table, struct fd_err *err)
{
	sqlite3_stmt *s;
	int n = -1;

	if (fd_store_prepare(st, &s, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1", err))
		return -1;
	sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int(s, 0) > 0;
	else
		fd_store_error(st, "reading the schema", err);
	sqlite3_finalize(s);
	return n;
}

/* Every distinct key of (table, key_col) must have a cover; v->cv is sorted. */
static int check_coverage_of(struct verifier *v, const char *table, const char *key_col,
			     struct fd_err *err)
{
	struct fd_buf sql = FD_BUF_INIT;
	sqlite3_stmt *s;
	size_t lo = 0, i;
	int rc, h;

	if ((h = table_exists(v->st, table, err)) <= 0)
		return h < 0 ? (err ? err->code : FD_EIO) : FD_OK;
	if ((h = has_column(v->st, table, key_col, err)) <= 0)
		return h < 0 ? (err ? err->code : FD_EIO) : FD_OK;  /* named by an entry: reported */
	/* the first cover of this (table, key_col) */
	while (lo < v->ncv && (strcmp(v->cv[lo].table, table) != 0 || strcmp(v->cv[lo].key_col, key_col) != 0))
		lo++;
	/* identifiers are checked plain (fd_plain_ident) and come from entries or code, never bound */
	if (fd_buf_addf(&sql, "SELECT \"%s\", count(*) FROM \"%s\" GROUP BY 1 ORDER BY 1", key_col, table))
		return fd_err_set(err, FD_EIO, "out of memory");
	rc = fd_store_prepare(v->st, &s, sql.s, err);
	fd_buf_release(&sql);
	if (rc)
		return rc;
	i = lo;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t n = sqlite3_column_int64(s, 1), key;

		if (sqlite3_column_type(s, 0) != SQLITE_INTEGER) {
			const char *t = col_text(s, 0);
			char vis[64];

			if (t)
				fd_visible(vis, sizeof(vis), t, strlen(t));
			finding(v, 0, "%s: %lld row%s with %s %s%s%s %s covered by no audit entry (written behind the tools' back)",
				table, (long long)n, n == 1 ? "" : "s", key_col, t ? "'" : "", t ? vis : "NULL",
				t ? "'" : "", n == 1 ? "is" : "are");
			continue;
		}
		key = sqlite3_column_int64(s, 0);
		while (i < v->ncv && v->cv[i].table == v->cv[lo].table && v->cv[i].key_col == v->cv[lo].key_col &&
		       v->cv[i].key < key)
			i++;
		if (lo < v->ncv && i < v->ncv && v->cv[i].table == v->cv[lo].table &&
		    v->cv[i].key_col == v->cv[lo].key_col && v->cv[i].key == key)
			continue;
		finding(v, 0, "%s: %lld row%s with %s %lld %s covered by no audit entry (inserted behind the tools' back, or their entry deleted)",
			table, (long long)n, n == 1 ? "" : "s", key_col, (long long)key, n == 1 ? "is" : "are");
	}
	if (rc != SQLITE_DONE) {
		rc = fd_store_error(v->st, "reading a covered table", err);
		sqlite3_finalize(s);
		return rc;
	}
	sqlite3_finalize(s);
	return FD_OK;
}

/* 1 when (table, key_col) is a declared covered table (fd_schema.h). */
static int declared_rows(const char *table, const char *key_col)
{
	const struct fd_table_cover *d = fd_table_cover_of(table);

	return d && d->kind == FD_COVER_ROWS && strcmp(d->key_col, key_col) == 0;
}

/* Every declared covered table, whether or not an entry has named it, and every (table, key
 * column) an entry names that the schema does not declare (a table newer than this build). */
static int check_coverage(struct verifier *v, struct fd_err *err)
{
	size_t i;
	int rc;

	for (i = 0; i < fd_ntable_covers; i++)
		if (fd_table_covers[i].kind == FD_COVER_ROWS &&
		    (rc = check_coverage_of(v, fd_table_covers[i].table, fd_table_covers[i].key_col, err)))
			return rc;
	for (i = 0; i < v->ncv; i++) {
		if (i && v->cv[i - 1].table == v->cv[i].table && v->cv[i - 1].key_col == v->cv[i].key_col)
			continue;
		if (!declared_rows(v->cv[i].table, v->cv[i].key_col) &&
		    (rc = check_coverage_of(v, v->cv[i].table, v->cv[i].key_col, err)))
			return rc;
	}
	return FD_OK;
}

/* ---- 4. custody ------------------------------------------------------------------------ */

static int cmp_custody(const void *a, const void *b)
{
	const struct custody *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void differ_text(struct verifier *v, const struct custody *c, const char *name, const char *field,
			const char *row, const char *rec)
{
	char a[160], b[160];

	if (row && rec && strcmp(row, rec) == 0)
		return;
	fd_visible(a, sizeof(a), row ? row : "NULL", row ? strlen(row) : 4);
	fd_visible(b, sizeof(b), rec ? rec : "(nothing)", rec ? strlen(rec) : 9);
	finding(v, c->seq, "%s: sources row %lld differs from the entry: %s is '%s' but the entry recorded '%s'",
		name, (long long)c->id, field, a, b);
}

static void differ_int(struct verifier *v, const struct custody *c, const char *name, const char *field,
		       int64_t row, int64_t rec)
{
	if (row != rec)
		finding(v, c->seq, "%s: sources row %lld differs from the entry: %s is %lld but the entry recorded %lld",
			name, (long long)c->id, field, (long long)row, (long long)rec);
}

static int check_custody(struct verifier *v, struct fd_err *err)
{
	sqlite3_stmt *s;
	size_t i = 0;
	char name[320];
	int rc;

	if ((rc = table_exists(v->st, "sources", err)) <= 0)
		return rc < 0 ? (err ? err->code : FD_EIO) : FD_OK;
	if (v->ncu)
		qsort(v->cu, v->ncu, sizeof(*v->cu), cmp_custody);
	if ((rc = fd_store_prepare(v->st, &s,
				   "SELECT id, path, sha256, size, format, rows_accepted, rows_rejected, actor"
				   " FROM sources ORDER BY id", err)))
		return rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(s, 0);
		const struct custody *c;

		v->res->sources++;
		/* entries for sources rows that no longer exist */
		for (; i < v->ncu && v->cu[i].id < id; i++)
			if (i + 1 == v->ncu || v->cu[i + 1].id != v->cu[i].id)
				finding(v, v->cu[i].seq, "%s: sources row %lld is missing (deleted behind the tools' back)",
					entry_name(v, v->cu[i].seq, name, sizeof(name)), (long long)v->cu[i].id);
		if (i >= v->ncu || v->cu[i].id != id) {
			const char *p = col_text(s, 1);
			char vis[200];

			fd_visible(vis, sizeof(vis), p ? p : "", p ? strlen(p) : 0);
			finding(v, 0, "sources row %lld ('%s') has no ingest.source audit entry (inserted behind the tools' back)",
				(long long)id, vis);
			continue;
		}
		while (i + 1 < v->ncu && v->cu[i + 1].id == id)
			i++;  /* the last entry for this source */
		c = &v->cu[i++];
		entry_name(v, c->seq, name, sizeof(name));
		differ_text(v, c, name, "path", col_text(s, 1), c->path);
		differ_text(v, c, name, "sha256", col_text(s, 2), c->sha256);
		differ_int(v, c, name, "size", sqlite3_column_int64(s, 3), c->size);
		differ_text(v, c, name, "format", col_text(s, 4), c->format);
		differ_int(v, c, name, "rows_accepted", sqlite3_column_int64(s, 5), c->accepted);
		differ_int(v, c, name, "rows_rejected", sqlite3_column_int64(s, 6), c->rejected);
		differ_text(v, c, name, "actor", col_text(s, 7), c->actor);
	}
	if (rc != SQLITE_DONE) {
		rc = fd_store_error(v->st, "reading the sources", err);
		sqlite3_finalize(s);
		return rc;
	}
	sqlite3_finalize(s);
	for (; i < v->ncu; i++)
		if (i + 1 == v->ncu || v->cu[i + 1].id != v->cu[i].id)
			finding(v, v->cu[i].seq, "%s: sources row %lld is missing (deleted behind the tools' back)",
				entry_name(v, v->cu[i].seq, name, sizeof(name)), (long long)v->cu[i].id);
	return FD_OK;
}

/* ---- 5. seals -------------------------------------------------------------------------- */

/* The stored hash of entry seq into hash (""): 1 found, 0 not, -1 error. */
static int stored_hash(struct fd_store *st, int64_t seq, char hash[65], struct fd_err *err)
{
	sqlite3_stmt *s;
	int found = -1;

	hash[0] = '\0';
	if (fd_store_prepare(st, &s, "SELECT hash FROM audit_log WHERE seq = ?1", err))
		return -1;
	sqlite3_bind_int64(s, 1, seq);
	switch (sqlite3_step(s)) {
	case SQLITE_ROW: {
		const char *h = col_text(s, 0);

		snprintf(hash, 65, "%s", h ? h : "");
		found = 1;
		break;
	}
	case SQLITE_DONE:
		found = 0;
		break;
	default:
		fd_store_error(st, "reading the audit log", err);
	}
	sqlite3_finalize(s);
	return found;
}

static int64_t seal_entry(struct verifier *v, int64_t seal_id)
{
	size_t i;

	for (i = 0; i < v->ncv; i++)
		if (!strcmp(v->cv[i].table, "audit_seals") && v->cv[i].key == seal_id)
			return v->cv[i].seq;  /* sorted: the first is fine, there is one */
	return 0;
}

static int check_seals(struct verifier *v, struct fd_err *err)
{
	const struct fd_verify_opts *o = v->o;
	sqlite3_stmt *s;
	char kid[17], mykid[17] = "";
	int rc;

	if (o && o->key)
		fd_seal_key_id(o->key, mykid);
	if ((rc = table_exists(v->st, "audit_seals", err)) <= 0)
		return rc < 0 ? (err ? err->code : FD_EIO) : FD_OK;
	if ((rc = fd_store_prepare(v->st, &s,
				   "SELECT id, seq, head_hash, public_key, signature FROM audit_seals ORDER BY id", err)))
		return rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(s, 0), seq = sqlite3_column_int64(s, 1);
		const char *head = col_text(s, 2), *pkhex = col_text(s, 3), *sighex = col_text(s, 4);
		unsigned char pk[crypto_sign_PUBLICKEYBYTES], sig[crypto_sign_BYTES];
		char hash[65], msg[256], who[96];
		int64_t at = seal_entry(v, id);
		size_t mlen;
		int found;

		v->res->seals++;
		if (!fd_audit_unhex(pkhex, pk, sizeof(pk)) || !fd_audit_unhex(sighex, sig, sizeof(sig)) || !fd_audit_is_hex(head, 64)) {
			finding(v, at, "seal %lld: its key, signature or head is not hex of the right length", (long long)id);
			continue;
		}
		fd_seal_key_id(pk, kid);
		snprintf(who, sizeof(who), "seal %lld (entry %lld, key %s)", (long long)id, (long long)seq, kid);
		if ((found = stored_hash(v->st, seq, hash, err)) < 0) {
			sqlite3_finalize(s);
			return err ? err->code : FD_EIO;
		}
		if (!found) {
			if (seq > v->res->head_seq)
				finding(v, at, "%s: it sealed entry %lld but the log ends at entry %lld: entries were deleted from its end",
					who, (long long)seq, (long long)v->res->head_seq);
			else
				finding(v, at, "%s: the entry it sealed is missing from the log", who);
			continue;
		}
		if (strcmp(hash, head) != 0) {
			finding(v, at, "%s: the head it sealed (%.16s...) is not entry %lld's hash now (%.16s...): the log was rewritten",
				who, head, (long long)seq, hash);
			continue;
		}
		mlen = fd_seal_message(v->res->store_id, seq, head, msg);
		if (crypto_sign_verify_detached(sig, (const unsigned char *)msg, mlen, pk) != 0) {
			finding(v, at, "%s: bad signature (the seal or the log's first entry was altered)", who);
			continue;
		}
		if (o && o->key) {
			if (sodium_memcmp(pk, o->key, sizeof(pk)) == 0)
				v->res->seals_key++;
			else {
				char note[200];

				v->res->seals_other++;
				snprintf(note, sizeof(note), "%s: made with another key (valid signature)", who);
				if (o->on_note)
					o->on_note(o->ctx, note);
			}
		}
	}
	if (rc != SQLITE_DONE) {
		rc = fd_store_error(v->st, "reading the seals", err);
		sqlite3_finalize(s);
		return rc;
	}
	sqlite3_finalize(s);
	if (o && o->key && v->res->seals_key == 0)
		finding(v, 0, "no seal in the store was made with key %s", mykid);
	return FD_OK;
}

/* Parse "fd-seal:v1:<seq>:<16 hex>:<base64>"; FD_EUSAGE when malformed. */
static int parse_seal_text(const char *text, int64_t *seq, char head16[17],
			   unsigned char sig[crypto_sign_BYTES], struct fd_err *err)
{
	const char *p = text, *q;
	char num[24], vis[96];
	size_t siglen = 0;

	fd_visible(vis, sizeof(vis), text, strlen(text));
	if (strncmp(p, "fd-seal:v1:", 11) != 0)
		goto bad;
	p += 11;
	if (!(q = strchr(p, ':')) || q == p || (size_t)(q - p) >= sizeof(num))
		goto bad;
	memcpy(num, p, (size_t)(q - p));
	num[q - p] = '\0';
	if (!parse_key(num, seq) || *seq <= 0)
		goto bad;
	p = q + 1;
	if (!(q = strchr(p, ':')) || q - p != 16)
		goto bad;
	memcpy(head16, p, 16);
	head16[16] = '\0';
	if (!fd_audit_is_hex(head16, 16))
		goto bad;
	p = q + 1;
	if (sodium_base642bin(sig, crypto_sign_BYTES, p, strlen(p), NULL, &siglen, NULL,
			      sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0 || siglen != crypto_sign_BYTES)
		goto bad;
	return FD_OK;
bad:
	return fd_err_set(err, FD_EUSAGE, "seal text '%s' is not of the form fd-seal:v1:SEQ:HEAD:SIGNATURE", vis);
}

static int check_seal_text(struct verifier *v, struct fd_err *err)
{
	const struct fd_verify_opts *o = v->o;
	unsigned char sig[crypto_sign_BYTES];
	char head16[17], hash[65], msg[256], kid[17];
	int64_t seq;
	int found, rc;

	if ((rc = parse_seal_text(o->seal_text, &seq, head16, sig, err)))
		return rc;
	if (!o->key)
		return fd_err_set(err, FD_EUSAGE, "checking a seal text needs the public key (--key)");
	fd_seal_key_id(o->key, kid);
	if ((found = stored_hash(v->st, seq, hash, err)) < 0)
		return err ? err->code : FD_EIO;
	if (!found) {
		finding(v, 0, "seal text: entry %lld is not in the log (it ends at entry %lld)", (long long)seq,
			(long long)v->res->head_seq);
		return FD_OK;
	}
	if (strncmp(hash, head16, 16) != 0) {
		finding(v, seq, "seal text: entry %lld's hash starts %.16s, not %s as sealed: the log was rewritten",
			(long long)seq, hash, head16);
		return FD_OK;
	}
	if (crypto_sign_verify_detached(sig, (const unsigned char *)msg,
					fd_seal_message(v->res->store_id, seq, hash, msg), o->key) != 0)
		finding(v, seq, "seal text: the signature does not verify with key %s over entry %lld of this store",
			kid, (long long)seq);
	return FD_OK;
}

/* ---- the whole check ------------------------------------------------------------------- */

static int cmp_finding(const void *a, const void *b)
{
	const struct finding *x = a, *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->ord < y->ord ? -1 : x->ord > y->ord;
}

static void verifier_release(struct verifier *v)
{
	size_t i;

	for (i = 0; i < v->nf; i++)
		free(v->f[i].msg);
	free(v->f);
	free(v->cv);
	for (i = 0; i < v->nstrs; i++)
		free(v->strs[i]);
	free(v->strs);
	for (i = 0; i < v->ncu; i++) {
		free(v->cu[i].path);
		free(v->cu[i].sha256);
		free(v->cu[i].format);
		free(v->cu[i].actor);
	}
	free(v->cu);
	sqlite3_finalize(v->name_stmt);
}

int fd_verify_store(struct fd_store *st, const struct fd_verify_opts *opts,
		    struct fd_verify_result *res, struct fd_err *err)
{
	struct verifier v;
	size_t i;
	int rc, own_txn = 0;

	memset(res, 0, sizeof(*res));
	memset(&v, 0, sizeof(v));
	v.st = st;
	v.o = opts;
	v.res = res;
	if (sodium_init() < 0)
		return fd_err_set(err, FD_EIO, "libsodium failed to initialise");
	/* one read transaction over all the passes: a writer committing meanwhile is not seen
	 * half (its rows without its entry) */
	if (!fd_store_in_txn(st)) {
		if ((rc = fd_store_exec(st, "BEGIN", err)))
			return rc;
		own_txn = 1;
	}
	if ((rc = check_chain(&v, err)) || (rc = check_version(&v, err)) || (rc = check_digests(&v, err)) || (rc = check_coverage(&v, err)) ||
	    (rc = check_custody(&v, err)) || (rc = check_seals(&v, err)) ||
	    (opts && opts->seal_text && (rc = check_seal_text(&v, err))))
		goto out;
	if (v.oom) {
		rc = fd_err_set(err, FD_EIO, "out of memory");
		goto out;
	}
	if (v.nf)
		qsort(v.f, v.nf, sizeof(*v.f), cmp_finding);
	for (i = 0; i < v.nf; i++) {
		struct fd_verify_finding f;

		f.seq = v.f[i].seq == INT64_MAX ? 0 : v.f[i].seq;
		f.msg = v.f[i].msg;
		if (i == 0) {
			snprintf(res->first, sizeof(res->first), "%s", f.msg);
			res->first_seq = f.seq;
		}
		if (opts && opts->on_finding)
			opts->on_finding(opts->ctx, &f);
	}
	rc = res->findings ? fd_err_set(err, FD_EFINDINGS, "%s", res->first) : FD_OK;
out:
	verifier_release(&v);
	if (own_txn)
		sqlite3_exec(fd_store_db(st), "COMMIT", NULL, NULL, NULL);  /* read-only: nothing to lose */
	return rc;
}

/* ---- the log --------------------------------------------------------------------------- */

const char *const fd_verify_log_columns[] = {
	"seq", "ts", "actor", "host", "tool", "version", "action", "object_type", "object_id",
	"details", "data_digest", "prev_hash", "hash",
};
const size_t fd_verify_log_ncolumns = sizeof(fd_verify_log_columns) / sizeof(fd_verify_log_columns[0]);

struct fd_verify_log {
	struct fd_store *st;
	sqlite3_stmt *s;
};

int fd_verify_log_open(struct fd_verify_log **out, struct fd_store *st,
		       const struct fd_verify_log_filter *f, struct fd_err *err)
{
	struct fd_verify_log *it;
	int rc;

	*out = NULL;
	if (!(it = calloc(1, sizeof(*it))))
		return fd_err_set(err, FD_EIO, "out of memory");
	it->st = st;
	if ((rc = fd_store_prepare(st, &it->s,
				   "SELECT seq, ts, actor, host, tool, version, action, object_type, object_id,"
				   " details, data_digest, prev_hash, hash FROM audit_log"
				   " WHERE ts >= ?1 AND ts < ?2 AND (?3 IS NULL OR actor = ?3)"
				   " AND (?4 IS NULL OR action GLOB ?4) AND (?5 IS NULL OR object_type = ?5)"
				   " AND (?6 IS NULL OR object_id = ?6) ORDER BY seq", err))) {
		free(it);
		return rc;
	}
	sqlite3_bind_int64(it->s, 1, f ? f->since : INT64_MIN);
	sqlite3_bind_int64(it->s, 2, f ? f->until : INT64_MAX);
	if (f && f->actor)
		sqlite3_bind_text(it->s, 3, f->actor, -1, SQLITE_STATIC);
	if (f && f->action)
		sqlite3_bind_text(it->s, 4, f->action, -1, SQLITE_STATIC);
	if (f && f->object_type)
		sqlite3_bind_text(it->s, 5, f->object_type, -1, SQLITE_STATIC);
	if (f && f->object_id)
		sqlite3_bind_text(it->s, 6, f->object_id, -1, SQLITE_STATIC);
	*out = it;
	return FD_OK;
}

int fd_verify_log_next(struct fd_verify_log *it, struct fd_verify_log_entry *e, struct fd_err *err)
{
	sqlite3_stmt *s = it->s;
	int rc = sqlite3_step(s);

	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return -fd_store_error(it->st, "reading the audit log", err);
	e->seq = sqlite3_column_int64(s, 0);
	e->ts = sqlite3_column_int64(s, 1);
	e->actor = col_text(s, 2);
	e->host = col_text(s, 3);
	e->tool = col_text(s, 4);
	e->version = col_text(s, 5);
	e->action = col_text(s, 6);
	e->object_type = col_text(s, 7);
	e->object_id = col_text(s, 8);
	e->details = col_text(s, 9);
	e->data_digest = col_text(s, 10);
	e->prev_hash = col_text(s, 11);
	e->hash = col_text(s, 12);
	return 1;
}

void fd_verify_log_free(struct fd_verify_log *it)
{
	if (!it)
		return;
	sqlite3_finalize(it->s);
	free(it);
}

void fd_verify_log_write(struct fd_writer *w, const struct fd_verify_log_entry *e)
{
	fd_writer_begin(w);
	fd_writer_i64(w, e->seq);
	fd_writer_ts(w, e->ts);
	fd_writer_cstr(w, e->actor);
	fd_writer_cstr(w, e->host);
	fd_writer_cstr(w, e->tool);
	fd_writer_cstr(w, e->version);
	fd_writer_cstr(w, e->action);
	fd_writer_cstr(w, e->object_type);
	fd_writer_cstr(w, e->object_id);
	if (e->details)
		fd_writer_json(w, e->details, strlen(e->details));
	else
		fd_writer_null(w);
	fd_writer_cstr(w, e->data_digest);
	fd_writer_cstr(w, e->prev_hash);
	fd_writer_cstr(w, e->hash);
	fd_writer_end(w);
}
