/* fd_ingest.c — see fd_ingest.h. */
#include "fd_ingest.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fd_audit.h"
#include "fd_buf.h"
#include "fd_intern.h"
#include "fd_io.h"
#include "fd_reader.h"
#include "fd_schema.h"
#include "fd_txnstream.h"

/* ---- per-input state ----------------------------------------------------------------- */

enum { EK_ACCOUNT, EK_MERCHANT, EK_DEVICE, EK_IP, EK_N };
static const char *const ek_name[EK_N] = {"account", "merchant", "device", "ip"};
enum { LK_DEVICE, LK_IP, LK_N };
static const char *const lk_name[LK_N] = {"uses_device", "uses_ip"};

struct agg {
	int64_t first, last, count;
};

struct ingest {
	struct fd_store *st;
	const struct fd_ingest_opts *o;
	struct fd_ingest_result *res;
	struct fd_txnstream *ts;
	sqlite3_stmt *ins, *dup;
	struct fd_digest digest;
	/* entities and links touched by this input */
	struct fd_intern *ent[EK_N];
	struct agg *eagg[EK_N];
	size_t ecap[EK_N];
	char **mcat;             /* merchant category by merchant id (last seen) */
	size_t mcat_cap;
	struct fd_intern *link[LK_N];
	struct agg *lagg[LK_N];
	size_t lcap[LK_N];
};

/* Grow an aggregate array to hold index id. */
static int agg_room(struct agg **a, size_t *cap, size_t id)
{
	size_t n;
	struct agg *p;

	if (id < *cap)
		return 0;
	n = *cap ? *cap * 2 : 1024;
	while (n <= id)
		n *= 2;
	p = realloc(*a, n * sizeof(*p));
	if (!p)
		return -1;
	memset(p + *cap, 0, (n - *cap) * sizeof(*p));
	*a = p;
	*cap = n;
	return 0;
}

static void agg_add(struct agg *a, int64_t ts)
{
	if (a->count == 0 || ts < a->first)
		a->first = ts;
	if (a->count == 0 || ts > a->last)
		a->last = ts;
	a->count++;
}

static int64_t entity_touch(struct ingest *g, int kind, const char *key, int64_t ts)
{
	int64_t id = fd_intern_put(g->ent[kind], key, strlen(key), NULL);

	if (id < 0 || agg_room(&g->eagg[kind], &g->ecap[kind], (size_t)id))
		return -1;
	agg_add(&g->eagg[kind][id], ts);
	return id;
}

static int link_touch(struct ingest *g, int kind, int64_t acct, int64_t other, int64_t ts)
{
	uint32_t key[2] = {(uint32_t)acct, (uint32_t)other};
	int64_t id = fd_intern_put(g->link[kind], (const char *)key, sizeof(key), NULL);

	if (id < 0 || agg_room(&g->lagg[kind], &g->lcap[kind], (size_t)id))
		return -1;
	agg_add(&g->lagg[kind][id], ts);
	return 0;
}

static int track_entities(struct ingest *g, const struct fd_txn *t)
{
	int64_t s, o;

	if ((s = entity_touch(g, EK_ACCOUNT, t->sender_id, t->ts)) < 0)
		return -1;
	if (t->recipient_id && entity_touch(g, EK_ACCOUNT, t->recipient_id, t->ts) < 0)
		return -1;
	if (t->merchant_id) {
		if ((o = entity_touch(g, EK_MERCHANT, t->merchant_id, t->ts)) < 0)
			return -1;
		if (t->merchant_category) {
			if ((size_t)o >= g->mcat_cap) {
				size_t n = g->mcat_cap ? g->mcat_cap * 2 : 1024;
				char **p;

				while (n <= (size_t)o)
					n *= 2;
				p = realloc(g->mcat, n * sizeof(*p));
				if (!p)
					return -1;
				memset(p + g->mcat_cap, 0, (n - g->mcat_cap) * sizeof(*p));
				g->mcat = p;
				g->mcat_cap = n;
			}
			if (!g->mcat[o] || strcmp(g->mcat[o], t->merchant_category) != 0) {
				free(g->mcat[o]);
				if (!(g->mcat[o] = strdup(t->merchant_category)))
					return -1;
			}
		}
	}
	if (t->device_id) {
		if ((o = entity_touch(g, EK_DEVICE, t->device_id, t->ts)) < 0 || link_touch(g, LK_DEVICE, s, o, t->ts))
			return -1;
	}
	if (t->ip) {
		if ((o = entity_touch(g, EK_IP, t->ip, t->ts)) < 0 || link_touch(g, LK_IP, s, o, t->ts))
			return -1;
	}
	return 0;
}

/* Write the aggregated entities and links; called once at the end of the input. */
static int flush_entities(struct ingest *g, struct fd_err *err)
{
	sqlite3_stmt *es = NULL, *ls = NULL;
	int64_t *dbid[EK_N] = {NULL};
	int k, rc = FD_OK;
	uint32_t i, n;
	struct fd_buf attrs = FD_BUF_INIT;

	if ((rc = fd_store_prepare(g->st, &es,
				   "INSERT INTO entities (kind, key, first_seen, last_seen, txn_count, attrs)"
				   " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
				   " ON CONFLICT (kind, key) DO UPDATE SET"
				   " first_seen = min(first_seen, excluded.first_seen),"
				   " last_seen = max(last_seen, excluded.last_seen),"
				   " txn_count = txn_count + excluded.txn_count,"
				   " attrs = json_patch(attrs, excluded.attrs)"
				   " RETURNING id", err)))
		goto out;
	if ((rc = fd_store_prepare(g->st, &ls,
				   "INSERT INTO entity_links (src, dst, kind, first_seen, last_seen, txn_count)"
				   " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
				   " ON CONFLICT (src, dst, kind) DO UPDATE SET"
				   " first_seen = min(first_seen, excluded.first_seen),"
				   " last_seen = max(last_seen, excluded.last_seen),"
				   " txn_count = txn_count + excluded.txn_count", err)))
		goto out;
	for (k = 0; k < EK_N; k++) {
		n = fd_intern_count(g->ent[k]);
		dbid[k] = malloc((n ? n : 1) * sizeof(int64_t));
		if (!dbid[k]) {
			rc = fd_err_set(err, FD_EIO, "out of memory");
			goto out;
		}
		for (i = 0; i < n; i++) {
			const struct agg *a = &g->eagg[k][i];

			fd_buf_reset(&attrs);
			if (k == EK_MERCHANT && i < g->mcat_cap && g->mcat[i]) {
				fd_buf_adds(&attrs, "{\"category\":");
				fd_buf_add_json_str(&attrs, g->mcat[i], strlen(g->mcat[i]));
				fd_buf_addc(&attrs, '}');
			} else
				fd_buf_adds(&attrs, "{}");
			sqlite3_bind_text(es, 1, ek_name[k], -1, SQLITE_STATIC);
			sqlite3_bind_text(es, 2, fd_intern_str(g->ent[k], i, NULL), -1, SQLITE_STATIC);
			sqlite3_bind_int64(es, 3, a->first);
			sqlite3_bind_int64(es, 4, a->last);
			sqlite3_bind_int64(es, 5, a->count);
			sqlite3_bind_text(es, 6, attrs.s, (int)attrs.len, SQLITE_STATIC);
			if (sqlite3_step(es) != SQLITE_ROW) {
				rc = fd_store_error(g->st, "writing entities", err);
				goto out;
			}
			dbid[k][i] = sqlite3_column_int64(es, 0);
			sqlite3_reset(es);
			g->res->entities++;
		}
	}
	for (k = 0; k < LK_N; k++) {
		int other = k == LK_DEVICE ? EK_DEVICE : EK_IP;

		n = fd_intern_count(g->link[k]);
		for (i = 0; i < n; i++) {
			const struct agg *a = &g->lagg[k][i];
			uint32_t key[2];

			memcpy(key, fd_intern_str(g->link[k], i, NULL), sizeof(key));
			sqlite3_bind_int64(ls, 1, dbid[EK_ACCOUNT][key[0]]);
			sqlite3_bind_int64(ls, 2, dbid[other][key[1]]);
			sqlite3_bind_text(ls, 3, lk_name[k], -1, SQLITE_STATIC);
			sqlite3_bind_int64(ls, 4, a->first);
			sqlite3_bind_int64(ls, 5, a->last);
			sqlite3_bind_int64(ls, 6, a->count);
			if (sqlite3_step(ls) != SQLITE_DONE) {
				rc = fd_store_error(g->st, "writing entity links", err);
				goto out;
			}
			sqlite3_reset(ls);
			g->res->links++;
		}
	}
out:
	for (k = 0; k < EK_N; k++)
		free(dbid[k]);
	fd_buf_release(&attrs);
	sqlite3_finalize(es);
	sqlite3_finalize(ls);
	return rc;
}

/* ---- reporting ----------------------------------------------------------------------- */

static void count_reason(struct fd_ingest_result *res, const char *field, const char *cls)
{
	char key[160];
	size_t i;

	snprintf(key, sizeof(key), "%s: %s", field, cls);
	for (i = 0; i < res->nreasons; i++)
		if (strcmp(res->reasons[i].reason, key) == 0) {
			res->reasons[i].count++;
			return;
		}
	if (res->nreasons == FD_INGEST_MAX_REASONS) {
		res->reasons[FD_INGEST_MAX_REASONS - 1].count++;
		memcpy(res->reasons[FD_INGEST_MAX_REASONS - 1].reason, "other", 6);
		return;
	}
	memcpy(res->reasons[res->nreasons].reason, key, sizeof(key));
	res->reasons[res->nreasons].count = 1;
	res->nreasons++;
}

static int reject(struct ingest *g, const char *field, const char *cls, const char *msg, struct fd_err *err)
{
	struct fd_reject r;

	g->res->rejected++;
	count_reason(g->res, field, cls);
	if (g->o->strict) {
		if (strcmp(field, "record") == 0)
			return fd_err_set(err, FD_EINPUT, "%s:%lld: %s (--strict: nothing of this input was written)",
					  g->res->name, (long long)fd_txnstream_line(g->ts), msg);
		return fd_err_set(err, FD_EINPUT, "%s:%lld: field '%s': %s (--strict: nothing of this input was written)",
				  g->res->name, (long long)fd_txnstream_line(g->ts), field, msg);
	}
	r.source = g->res->name;
	r.line = fd_txnstream_line(g->ts);
	r.field = field;
	r.reason = msg;
	r.reason_class = cls;
	fd_txnstream_raw(g->ts, &r.raw, &r.rawlen);
	if (g->o->on_reject)
		g->o->on_reject(g->o->ctx, &r);
	return FD_OK;
}

/* ---- the input ----------------------------------------------------------------------- */

/* Copy standard input to a temporary file, hashing it; *tmp receives the file's path. */
static int spool_stdin(char **tmp, char hex[65], int64_t *size, struct fd_err *err)
{
	const char *dir = getenv("TMPDIR");
	struct fd_buf path = FD_BUF_INIT;
	crypto_hash_sha256_state hs;
	unsigned char h[crypto_hash_sha256_BYTES], *buf;
	int fd, rc = FD_OK;
	size_t i;

	*tmp = NULL;
	*size = 0;
	if (fd_buf_addf(&path, "%s/fd-ingest-stdin.XXXXXX", dir && *dir ? dir : "/tmp"))
		return fd_err_set(err, FD_EIO, "out of memory");
	fd = mkstemp(path.s);
	if (fd < 0) {
		rc = fd_err_set(err, FD_EIO, "cannot create a temporary file for standard input in '%s': %s",
				dir && *dir ? dir : "/tmp", strerror(errno));
		fd_buf_release(&path);
		return rc;
	}
	buf = malloc(1 << 20);
	if (!buf) {
		rc = fd_err_set(err, FD_EIO, "out of memory");
		goto out;
	}
	crypto_hash_sha256_init(&hs);
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, 1 << 20), w = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = fd_err_set(err, FD_EIO, "reading standard input: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		crypto_hash_sha256_update(&hs, buf, (unsigned long long)n);
		*size += n;
		while (w < n) {
			ssize_t k = write(fd, buf + w, (size_t)(n - w));

			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0) {
				rc = fd_err_set(err, FD_EIO, "spooling standard input to '%s': %s", path.s,
						strerror(errno));
				goto out;
			}
			w += k;
		}
	}
	crypto_hash_sha256_final(&hs, h);
	for (i = 0; i < sizeof(h); i++) {
		static const char xd[] = "0123456789abcdef";

		hex[2 * i] = xd[h[i] >> 4];
		hex[2 * i + 1] = xd[h[i] & 15];
	}
	hex[64] = '\0';
out:
	free(buf);
	if (close(fd) != 0 && rc == FD_OK)
		rc = fd_err_set(err, FD_EIO, "spooling standard input: %s", strerror(errno));
	if (rc) {
		unlink(path.s);
		fd_buf_release(&path);
	} else
		*tmp = fd_buf_detach(&path, NULL);
	return rc;
}

/* Replay the stored records of a source through on_accept (for --emit on a re-run). */
static int replay_source(struct fd_store *st, const struct fd_ingest_opts *o, int64_t source_id,
			 struct fd_err *err)
{
	struct fd_txn_iter *it;
	struct fd_txn t;
	int rc;

	if (!o->on_accept)
		return FD_OK;
	if ((rc = fd_txn_iter_open(&it, st, FD_TXN_BY_SOURCE, source_id, 0, err)))
		return rc;
	while ((rc = fd_txn_iter_next(it, &t, err)) == 1) {
		if (o->on_accept(o->ctx, &t)) {
			rc = -fd_err_set(err, FD_EIO, "writing the emitted records failed");
			break;
		}
	}
	fd_txn_iter_free(it);
	return rc < 0 ? -rc : FD_OK;
}

static int find_source(struct fd_store *st, const char *sha, int64_t *id, int64_t *at, struct fd_err *err)
{
	sqlite3_stmt *s;
	int rc;

	*id = 0;
	if ((rc = fd_store_prepare(st, &s, "SELECT id, ingested_at FROM sources WHERE sha256 = ?1", err)))
		return rc;
	sqlite3_bind_text(s, 1, sha, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
		*at = sqlite3_column_int64(s, 1);
		rc = FD_OK;
	} else if (rc == SQLITE_DONE)
		rc = FD_OK;
	else
		rc = fd_store_error(st, "reading sources", err);
	sqlite3_finalize(s);
	return rc;
}

static int insert_txn(struct ingest *g, const struct fd_txn *t, int *dup, struct fd_err *err)
{
	sqlite3_stmt *s = g->ins;
	int64_t id;

	*dup = 0;
#define BTEXT(i, v) ((v) ? sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(s, i))
	BTEXT(1, t->txn_id);
	sqlite3_bind_int64(s, 2, t->ts);
	sqlite3_bind_int64(s, 3, t->amount);
	sqlite3_bind_text(s, 4, t->currency, 3, SQLITE_STATIC);
	BTEXT(5, t->sender_id);
	BTEXT(6, t->recipient_id);
	BTEXT(7, t->merchant_id);
	BTEXT(8, t->merchant_category);
	BTEXT(9, t->channel);
	BTEXT(10, t->device_id);
	BTEXT(11, t->ip);
	if (t->has_geo) {
		sqlite3_bind_double(s, 12, t->lat);
		sqlite3_bind_double(s, 13, t->lon);
	} else {
		sqlite3_bind_null(s, 12);
		sqlite3_bind_null(s, 13);
	}
	BTEXT(14, t->country[0] ? t->country : NULL);
	BTEXT(15, t->city);
	if (t->label >= 0)
		sqlite3_bind_int(s, 16, t->label);
	else
		sqlite3_bind_null(s, 16);
	if (t->metadata)
		sqlite3_bind_text(s, 17, t->metadata, (int)t->metadata_len, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 17);
	sqlite3_bind_int64(s, 18, t->source_id);
	sqlite3_bind_int64(s, 19, t->line);
#undef BTEXT
	if (sqlite3_step(s) != SQLITE_DONE) {
		int rc = fd_store_error(g->st, "writing transactions", err);

		sqlite3_reset(s);
		return rc;
	}
	sqlite3_reset(s);
	if (sqlite3_changes(fd_store_db(g->st)) == 0) {
		*dup = 1;
		return FD_OK;
	}
	id = sqlite3_last_insert_rowid(fd_store_db(g->st));
	/* the row digest, in the table's column order (fd_audit.h) */
	fd_digest_int(&g->digest, id);
	fd_digest_text(&g->digest, t->txn_id, strlen(t->txn_id));
	fd_digest_int(&g->digest, t->ts);
	fd_digest_int(&g->digest, t->amount);
	fd_digest_text(&g->digest, t->currency, 3);
#define DTEXT(v) fd_digest_text(&g->digest, v, (v) ? strlen(v) : 0)
	DTEXT(t->sender_id);
	DTEXT(t->recipient_id);
	DTEXT(t->merchant_id);
	DTEXT(t->merchant_category);
	DTEXT(t->channel);
	DTEXT(t->device_id);
	DTEXT(t->ip);
	if (t->has_geo) {
		fd_digest_real(&g->digest, t->lat);
		fd_digest_real(&g->digest, t->lon);
	} else {
		fd_digest_null(&g->digest);
		fd_digest_null(&g->digest);
	}
	if (t->country[0])
		fd_digest_text(&g->digest, t->country, 2);
	else
		fd_digest_null(&g->digest);
	DTEXT(t->city);
#undef DTEXT
	if (t->label >= 0)
		fd_digest_int(&g->digest, t->label);
	else
		fd_digest_null(&g->digest);
	fd_digest_text(&g->digest, t->metadata, t->metadata_len);
	fd_digest_int(&g->digest, t->source_id);
	fd_digest_int(&g->digest, t->line);
	fd_digest_row_end(&g->digest);
	return FD_OK;
}

static int describe_dup(struct ingest *g, const char *txn_id, struct fd_txn_bad *b)
{
	sqlite3_stmt *s = g->dup;
	char vis[160];

	fd_visible(vis, sizeof(vis), txn_id, strlen(txn_id));
	b->field = FD_F_TXN_ID;
	b->field_name = "txn_id";
	b->cls = "duplicate txn_id";
	sqlite3_bind_text(s, 1, txn_id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		int64_t src = sqlite3_column_int64(s, 0), line = sqlite3_column_int64(s, 1);
		const char *path = (const char *)sqlite3_column_text(s, 2);

		if (src == g->res->source_id)
			snprintf(b->msg, sizeof(b->msg), "duplicate txn_id '%s' (first seen on line %lld of this input)",
				 vis, (long long)line);
		else
			snprintf(b->msg, sizeof(b->msg), "duplicate txn_id '%s' (already in source %lld '%s' line %lld)",
				 vis, (long long)src, path ? path : "?", (long long)line);
	} else
		snprintf(b->msg, sizeof(b->msg), "duplicate txn_id '%s'", vis);
	sqlite3_reset(s);
	return -1;
}

/*
 * A bulk load: when an input is large next to what the store already holds, maintaining the
 * secondary indexes row by row (random B-tree inserts) costs far more than building them
 * afresh by sorting.  They are dropped and rebuilt inside the input's own transaction, so the
 * store is never seen without them.
 */
#define BULK_MIN_ROWS 50000
#define BYTES_PER_ROW_GUESS 100

static int bulk_load_wanted(struct fd_store *st, int64_t size, int *want, struct fd_err *err)
{
	sqlite3_stmt *s;
	int64_t have = 0, incoming = size / BYTES_PER_ROW_GUESS;
	int rc;

	*want = 0;
	if (incoming < BULK_MIN_ROWS)
		return FD_OK;
	if ((rc = fd_store_prepare(st, &s, "SELECT ifnull(max(id), 0) FROM transactions", err)))
		return rc;
	if (sqlite3_step(s) == SQLITE_ROW)
		have = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	*want = incoming >= have;
	return FD_OK;
}

static int drop_txn_indexes(struct fd_store *st, struct fd_err *err)
{
	struct fd_buf sql = FD_BUF_INIT;
	int i, rc = FD_OK;

	for (i = 0; fd_txn_indexes[i].name && rc == FD_OK; i++) {
		fd_buf_reset(&sql);
		if (fd_buf_addf(&sql, "DROP INDEX IF EXISTS %s", fd_txn_indexes[i].name))
			rc = fd_err_set(err, FD_EIO, "out of memory");
		else
			rc = fd_store_exec(st, sql.s, err);
	}
	fd_buf_release(&sql);
	return rc;
}

static int create_txn_indexes(struct fd_store *st, struct fd_err *err)
{
	int i, rc = FD_OK;

	for (i = 0; fd_txn_indexes[i].name && rc == FD_OK; i++)
		rc = fd_store_exec(st, fd_txn_indexes[i].create, err);
	return rc;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int write_source_row(struct ingest *g, const char *path, struct fd_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = fd_store_prepare(g->st, &s,
				   "INSERT INTO sources (path, sha256, size, format, compression, rows_accepted,"
				   " rows_rejected, actor, ingested_at, tool_version, options)"
				   " VALUES (?1, ?2, ?3, ?4, ?5, 0, 0, ?6, ?7, ?8, ?9) RETURNING id", err)))
		return rc;
	sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, g->res->sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, g->res->size);
	sqlite3_bind_text(s, 4, fd_format_name(g->res->format), -1, SQLITE_STATIC);
	if (g->res->compressed)
		sqlite3_bind_text(s, 5, "zstd", -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 5);
	sqlite3_bind_text(s, 6, fd_store_who(g->st)->actor, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, wall_ms());
	sqlite3_bind_text(s, 8, fd_store_who(g->st)->version, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 9, g->o->options_json ? g->o->options_json : "{}", -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		g->res->source_id = sqlite3_column_int64(s, 0);
		rc = FD_OK;
	} else
		rc = fd_store_error(g->st, "writing the sources row", err);
	sqlite3_finalize(s);
	return rc;
}

static int finish_source(struct ingest *g, const char *path, struct fd_err *err)
{
	struct fd_ingest_result *res = g->res;
	struct fd_audit_entry e;
	struct fd_buf det = FD_BUF_INIT;
	sqlite3_stmt *s;
	char id[24], digest[65];
	size_t i;
	int rc;

	if ((rc = fd_store_prepare(g->st, &s, "UPDATE sources SET rows_accepted = ?1, rows_rejected = ?2 WHERE id = ?3", err)))
		return rc;
	sqlite3_bind_int64(s, 1, res->accepted);
	sqlite3_bind_int64(s, 2, res->rejected);
	sqlite3_bind_int64(s, 3, res->source_id);
	rc = sqlite3_step(s) == SQLITE_DONE ? FD_OK : fd_store_error(g->st, "updating the sources row", err);
	sqlite3_finalize(s);
	if (rc)
		return rc;
	fd_digest_final(&g->digest, digest);
	fd_buf_adds(&det, "{\"path\":");
	fd_buf_add_json_str(&det, path, strlen(path));
	fd_buf_adds(&det, ",\"sha256\":\"");
	fd_buf_adds(&det, res->sha256);
	fd_buf_addf(&det, "\",\"size\":%lld,\"format\":\"%s\",\"accepted\":%lld,\"rejected\":%lld,"
		    "\"entities\":%lld,\"links\":%lld,\"table\":\"transactions\",\"key\":\"source_id\",\"rejects\":{",
		    (long long)res->size, fd_format_name(res->format), (long long)res->accepted,
		    (long long)res->rejected, (long long)res->entities, (long long)res->links);
	for (i = 0; i < res->nreasons; i++) {
		if (i)
			fd_buf_addc(&det, ',');
		fd_buf_add_json_str(&det, res->reasons[i].reason, strlen(res->reasons[i].reason));
		fd_buf_addf(&det, ":%lld", (long long)res->reasons[i].count);
	}
	if (fd_buf_adds(&det, "}}"))
		return fd_err_set(err, FD_EIO, "out of memory");
	snprintf(id, sizeof(id), "%lld", (long long)res->source_id);
	e.action = "ingest.source";
	e.object_type = "source";
	e.object_id = id;
	e.details = det.s;
	e.data_digest = digest;
	rc = fd_audit_append(g->st, &e, &res->audit_seq, err);
	fd_buf_release(&det);
	return rc;
}

int fd_ingest(struct fd_store *st, const char *path, const struct fd_ingest_opts *o,
	      struct fd_ingest_result *res, struct fd_err *err)
{
	struct ingest g;
	struct fd_txnstream_opts so;
	struct fd_txn t;
	char *spool = NULL;
	const char *open_path;
	int is_stdin = !path || strcmp(path, "-") == 0;
	int rc, k, bulk = 0;
	int64_t prev_id, prev_at, n = 0;

	memset(res, 0, sizeof(*res));
	memset(&g, 0, sizeof(g));
	g.st = st;
	g.o = o;
	g.res = res;
	snprintf(res->name, sizeof(res->name), "%s", is_stdin ? "<stdin>" : path);
	if (sodium_init() < 0)
		return fd_err_set(err, FD_EIO, "libsodium failed to initialise");
	if (fd_currency_exponent(o->currency ? o->currency : "USD") < 0)
		return fd_err_set(err, FD_EUSAGE, "'%s' is not an ISO 4217 currency code", o->currency);

	/* 1. the bytes' identity, before anything else */
	if (is_stdin) {
		if ((rc = spool_stdin(&spool, res->sha256, &res->size, err)))
			return rc;
		open_path = spool;
	} else {
		if ((rc = fd_sha256_file(path, res->sha256, &res->size, err)))
			return rc;
		open_path = path;
	}

	/* 2. one transaction for the whole input.  Foreign keys are not checked row by row: the
	 * only reference a transaction row holds is to the sources row this function writes
	 * itself, so the check would be a B-tree lookup per row that can never fail. */
	if ((rc = fd_store_exec(st, "PRAGMA foreign_keys = OFF", err)) || (rc = fd_store_begin(st, err)))
		goto out;
	if ((rc = find_source(st, res->sha256, &prev_id, &prev_at, err)))
		goto out;
	if (prev_id) {
		fd_store_rollback(st);
		res->already = 1;
		res->source_id = prev_id;
		res->already_at = prev_at;
		rc = replay_source(st, o, prev_id, err);
		goto out;
	}
	memset(&so, 0, sizeof(so));
	so.format = o->format;
	so.delimiter = o->delimiter;
	so.tz_offset_min = o->tz_offset_min;
	so.currency = o->currency;
	so.map = o->map;
	if ((rc = fd_txnstream_open(&g.ts, open_path, res->name, &so, err)))
		goto out;
	res->format = fd_txnstream_format(g.ts);
	res->compressed = fd_in_compressed(fd_txnstream_in(g.ts));
	for (k = 0; k < EK_N; k++)
		if (!(g.ent[k] = fd_intern_create())) {
			rc = fd_err_set(err, FD_EIO, "out of memory");
			goto out;
		}
	for (k = 0; k < LK_N; k++)
		if (!(g.link[k] = fd_intern_create())) {
			rc = fd_err_set(err, FD_EIO, "out of memory");
			goto out;
		}
	if ((rc = write_source_row(&g, is_stdin ? "-" : path, err)))
		goto out;
	if ((rc = bulk_load_wanted(st, res->size, &bulk, err)) || (bulk && (rc = drop_txn_indexes(st, err))))
		goto out;
	if ((rc = fd_store_prepare(st, &g.ins,
				   "INSERT INTO transactions (txn_id, ts, amount, currency, sender_id, recipient_id,"
				   " merchant_id, merchant_category, channel, device_id, ip, lat, lon, country, city,"
				   " label, metadata, source_id, source_line)"
				   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,"
				   " ?17, ?18, ?19) ON CONFLICT (txn_id) DO NOTHING", err)) ||
	    (rc = fd_store_prepare(st, &g.dup,
				   "SELECT t.source_id, t.source_line, s.path FROM transactions t"
				   " JOIN sources s ON s.id = t.source_id WHERE t.txn_id = ?1", err)))
		goto out;
	fd_digest_init(&g.digest);

	/* 3. the records */
	for (;;) {
		struct fd_txn_bad b;
		int r = fd_txnstream_next(g.ts, &t, &b, err), dup;

		if (r == 0)
			break;
		if (r < 0) {
			rc = -r;
			goto out;
		}
		if (o->on_progress && (++n & 8191) == 0)
			o->on_progress(o->ctx, n, fd_in_raw_bytes(fd_txnstream_in(g.ts)), res->size);
		if (r == 2) {
			if ((rc = reject(&g, b.field_name, b.cls, b.msg, err)))
				goto out;
			continue;
		}
		t.source_id = res->source_id;
		if ((rc = insert_txn(&g, &t, &dup, err)))
			goto out;
		if (dup) {
			describe_dup(&g, t.txn_id, &b);
			if ((rc = reject(&g, "txn_id", b.cls, b.msg, err)))
				goto out;
			continue;
		}
		res->accepted++;
		if (track_entities(&g, &t)) {
			rc = fd_err_set(err, FD_EIO, "out of memory");
			goto out;
		}
		if (o->on_accept && o->on_accept(o->ctx, &t)) {
			rc = fd_err_set(err, FD_EIO, "writing the emitted records failed");
			goto out;
		}
	}
	if (fd_in_raw_bytes(fd_txnstream_in(g.ts)) != (uint64_t)res->size) {
		rc = fd_err_set(err, FD_EIO, "%s changed while it was being read (%lld bytes hashed, %llu read)",
				res->name, (long long)res->size, (unsigned long long)fd_in_raw_bytes(fd_txnstream_in(g.ts)));
		goto out;
	}
	if (o->on_progress)
		o->on_progress(o->ctx, n, fd_in_raw_bytes(fd_txnstream_in(g.ts)), res->size);

	/* 4. entities, custody, audit; then commit */
	if ((bulk && (rc = create_txn_indexes(st, err))) || (rc = flush_entities(&g, err)) ||
	    (rc = finish_source(&g, is_stdin ? "-" : path, err)))
		goto out;
	sqlite3_finalize(g.ins);
	sqlite3_finalize(g.dup);
	g.ins = g.dup = NULL;
	rc = fd_store_commit(st, err);
out:
	if (rc)
		fd_store_rollback(st);
	fd_store_exec(st, "PRAGMA foreign_keys = ON", NULL);
	sqlite3_finalize(g.ins);
	sqlite3_finalize(g.dup);
	fd_txnstream_free(g.ts);
	if (spool) {
		unlink(spool);
		free(spool);
	}
	for (k = 0; k < EK_N; k++) {
		fd_intern_free(g.ent[k]);
		free(g.eagg[k]);
	}
	for (k = 0; k < LK_N; k++) {
		fd_intern_free(g.link[k]);
		free(g.lagg[k]);
	}
	for (size_t i = 0; i < g.mcat_cap; i++)
		free(g.mcat[i]);
	free(g.mcat);
	return rc;
}
