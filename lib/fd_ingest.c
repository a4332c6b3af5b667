/* fd_ingest.c — see fd_ingest.h. */
#include "fd_ingest.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
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
#include "fd_killpoint.h"
#include "fd_reader.h"
#include "fd_schema.h"
#include "fd_txnstream.h"
#include "fd_txn.h"
#include "fd_verify.h"
#include "banned.h"

/* ---- per-input state ----------------------------------------------------------------- */

enum { EK_ACCOUNT, EK_MERCHANT, EK_DEVICE, EK_IP, EK_N };
static const char *const ek_name[EK_N] = {"account", "merchant", "device", "ip"};
enum { LK_DEVICE, LK_IP, LK_N };
static const char *const lk_name[LK_N] = {"uses_device", "uses_ip"};

struct agg {
	int64_t first, last, count;
};

/* ---- the hasher thread: SHA-256 of the row digest's encoding -------------------------- */

#define HCHUNK (256u << 10)
#define HQUEUE 8

struct hchunk {
	size_t n;
	unsigned char data[HCHUNK];
};

struct hasher {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct hchunk *q[HQUEUE];
	size_t head, tail;       /* queued chunks: [tail, head) */
	int done;
	struct hchunk *cur;      /* being filled by the store thread */
	struct hchunk *spare[HQUEUE + 2];
	size_t nspare;
	crypto_hash_sha256_state st;
	int oom;
};

static void *hasher_main(void *arg)
{
	struct hasher *h = arg;

	for (;;) {
		struct hchunk *c;

		pthread_mutex_lock(&h->mu);
		while (h->head == h->tail && !h->done)
			pthread_cond_wait(&h->cv, &h->mu);
		if (h->head == h->tail) {
			pthread_mutex_unlock(&h->mu);
			return NULL;
		}
		c = h->q[h->tail % HQUEUE];
		pthread_mutex_unlock(&h->mu);
		crypto_hash_sha256_update(&h->st, c->data, c->n);
		pthread_mutex_lock(&h->mu);
		h->tail++;
		h->spare[h->nspare++] = c;
		pthread_cond_broadcast(&h->cv);
		pthread_mutex_unlock(&h->mu);
	}
}

/* Queue the chunk being filled (waiting while the queue is full) and take an empty one. */
static void hasher_push(struct hasher *h)
{
	struct hchunk *c = h->cur;

	pthread_mutex_lock(&h->mu);
	while (h->head - h->tail == HQUEUE)
		pthread_cond_wait(&h->cv, &h->mu);
	h->q[h->head % HQUEUE] = c;
	h->head++;
	h->cur = h->nspare ? h->spare[--h->nspare] : NULL;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	if (!h->cur && !(h->cur = malloc(sizeof(*h->cur))))
		h->oom = 1;
	if (h->cur)
		h->cur->n = 0;
}

/* fd_digest's sink: copy into the current chunk. */
static void hasher_sink(void *ctx, const unsigned char *p, size_t n)
{
	struct hasher *h = ctx;

	while (n && h->cur) {
		size_t k = HCHUNK - h->cur->n < n ? HCHUNK - h->cur->n : n;

		memcpy(h->cur->data + h->cur->n, p, k);
		h->cur->n += k;
		p += k;
		n -= k;
		if (h->cur->n == HCHUNK)
			hasher_push(h);
	}
}

static int hasher_start(struct hasher *h)
{
	memset(h, 0, sizeof(*h));
	crypto_hash_sha256_init(&h->st);
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	if (!(h->cur = malloc(sizeof(*h->cur))))
		return -1;
	h->cur->n = 0;
	if (pthread_create(&h->th, NULL, hasher_main, h) != 0) {
		free(h->cur);
		h->cur = NULL;
		return -1;
	}
	return 0;
}

/* Hash what is left, stop the thread; hex receives the digest when not NULL. */
static int hasher_finish(struct hasher *h, char hex[65])
{
	unsigned char out[crypto_hash_sha256_BYTES];
	size_t i;

	if (h->cur && h->cur->n)
		hasher_push(h);
	pthread_mutex_lock(&h->mu);
	h->done = 1;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	pthread_join(h->th, NULL);
	free(h->cur);
	for (i = 0; i < h->nspare; i++)
		free(h->spare[i]);
	crypto_hash_sha256_final(&h->st, out);
	if (hex)
		fd_hex(out, sizeof(out), hex);
	return h->oom ? -1 : 0;
}

struct ingest {
	struct fd_store *st;
	const struct fd_ingest_opts *o;
	struct fd_ingest_result *res;
	struct fd_txnstream *ts;
	int64_t produced;        /* records read by the reader thread */
	sqlite3_stmt *ins, *dup, *rej;
	struct fd_digest digest; /* encodes rows; the hasher thread hashes them */
	struct hasher hasher;
	int hasher_on;
	char digest_hex[65];
	/* entities and links touched by this input */
	struct fd_intern *ent[EK_N];
	struct agg *eagg[EK_N];
	size_t ecap[EK_N];
	char **mcat;             /* merchant category by merchant id (last seen) */
	size_t mcat_cap;
	struct fd_intern *link[LK_N];
	struct agg *lagg[LK_N];
	size_t lcap[LK_N];
	struct fd_buf optbuf;    /* sources.options */
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

/* ---- the reader thread's share: intern the record's entities -------------------------- */

enum { E_SENDER, E_RECIPIENT, E_MERCHANT, E_DEVICE, E_IP, E_N };
static const int e_kind[E_N] = {EK_ACCOUNT, EK_ACCOUNT, EK_MERCHANT, EK_DEVICE, EK_IP};

struct ids {
	int32_t e[E_N];          /* entity ids by role, -1 when absent */
	int32_t l[LK_N];         /* link ids (sender uses device / ip), -1 when absent */
};

static int intern_ids(struct ingest *g, const struct fd_txn *t, struct ids *ids)
{
	const char *key[E_N] = {t->sender_id, t->recipient_id, t->merchant_id, t->device_id, t->ip};
	int k;

	for (k = 0; k < E_N; k++) {
		int64_t id = key[k] ? fd_intern_put(g->ent[e_kind[k]], key[k], strlen(key[k]), NULL) : -1;

		if (key[k] && id < 0)
			return -1;
		ids->e[k] = (int32_t)id;
	}
	for (k = 0; k < LK_N; k++) {
		int32_t other = ids->e[k == LK_DEVICE ? E_DEVICE : E_IP];
		uint32_t pair[2] = {(uint32_t)ids->e[E_SENDER], (uint32_t)other};
		int64_t id = other < 0 ? -1 : fd_intern_put(g->link[k], (const char *)pair, sizeof(pair), NULL);

		if (other >= 0 && id < 0)
			return -1;
		ids->l[k] = (int32_t)id;
	}
	return 0;
}

/* ---- the store thread's share: count an accepted record ------------------------------ */

static int track_entities(struct ingest *g, const struct fd_txn *t, const struct ids *ids)
{
	int k;

	for (k = 0; k < E_N; k++) {
		int kind = e_kind[k];

		if (ids->e[k] < 0)
			continue;
		if (agg_room(&g->eagg[kind], &g->ecap[kind], (size_t)ids->e[k]))
			return -1;
		agg_add(&g->eagg[kind][ids->e[k]], t->ts);
	}
	for (k = 0; k < LK_N; k++) {
		if (ids->l[k] < 0)
			continue;
		if (agg_room(&g->lagg[k], &g->lcap[k], (size_t)ids->l[k]))
			return -1;
		agg_add(&g->lagg[k][ids->l[k]], t->ts);
	}
	if (t->merchant_id && t->merchant_category) {
		size_t o = (size_t)ids->e[E_MERCHANT];

		if (o >= g->mcat_cap) {
			size_t n = g->mcat_cap ? g->mcat_cap * 2 : 1024;
			char **p;

			while (n <= o)
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
			const struct agg *a;

			dbid[k][i] = 0;
			if (i >= g->ecap[k] || (a = &g->eagg[k][i])->count == 0)
				continue;  /* seen only in rejected duplicates */
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
			const struct agg *a;
			uint32_t key[2];

			if (i >= g->lcap[k] || (a = &g->lagg[k][i])->count == 0)
				continue;
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

static int reject(struct ingest *g, int64_t line, const char *raw, size_t rawlen, const char *field,
		  const char *cls, const char *msg, struct fd_err *err)
{
	struct fd_reject r;

	g->res->rejected++;
	count_reason(g->res, field, cls);
	if (g->o->strict) {
		if (strcmp(field, "record") == 0)
			return fd_err_set(err, FD_EINPUT, "%s:%lld: %s (--strict: nothing of this input was written)",
					  g->res->name, (long long)line, msg);
		return fd_err_set(err, FD_EINPUT, "%s:%lld: field '%s': %s (--strict: nothing of this input was written)",
				  g->res->name, (long long)line, field, msg);
	}
	if (g->rej) {
		sqlite3_stmt *s = g->rej;

		sqlite3_bind_int64(s, 1, g->res->source_id);
		sqlite3_bind_int64(s, 2, line);
		sqlite3_bind_text(s, 3, field, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, msg, -1, SQLITE_STATIC);
		if (raw && rawlen)
			sqlite3_bind_blob(s, 5, raw, (int)rawlen, SQLITE_STATIC);
		else
			sqlite3_bind_zeroblob(s, 5, 0);
		if (sqlite3_step(s) != SQLITE_DONE) {
			int rc = fd_store_error(g->st, "writing ingest_rejects", err);

			sqlite3_reset(s);
			return rc;
		}
		sqlite3_reset(s);
	}
	r.source = g->res->name;
	r.line = line;
	r.field = field;
	r.reason = msg;
	r.reason_class = cls;
	r.raw = raw;
	r.rawlen = rawlen;
	if (g->o->on_reject)
		g->o->on_reject(g->o->ctx, &r);
	return FD_OK;
}

/* ---- the input ----------------------------------------------------------------------- */

/*
 * Copy an input that can be read only once (standard input, a FIFO, a `<(...)` pipe: from
 * descriptor in, shown as name) to a temporary file, hashing it.  The file is unlinked as soon
 * as it is created, so that nothing is left in $TMPDIR whatever happens to the process; *fd
 * receives its descriptor (the caller reads it through /dev/fd/N and closes it).
 */
static int spool_input(int in, const char *name, int *fd, char hex[65], int64_t *size,
		       struct fd_err *err)
{
	const char *dir = getenv("TMPDIR");
	struct fd_buf path = FD_BUF_INIT;
	crypto_hash_sha256_state hs;
	unsigned char h[crypto_hash_sha256_BYTES], *buf;
	int rc = FD_OK;

	*size = 0;
	if (fd_buf_addf(&path, "%s/fd-ingest-stdin.XXXXXX", dir && *dir ? dir : "/tmp"))
		return fd_err_set(err, FD_EIO, "out of memory");
	*fd = mkostemp(path.s, O_CLOEXEC);
	if (*fd < 0) {
		rc = fd_err_set(err, FD_EIO, "cannot create a temporary file for %s in '%s': %s",
				name, dir && *dir ? dir : "/tmp", strerror(errno));
		fd_buf_release(&path);
		return rc;
	}
	unlink(path.s);
	buf = malloc(1 << 20);
	if (!buf) {
		rc = fd_err_set(err, FD_EIO, "out of memory");
		goto out;
	}
	crypto_hash_sha256_init(&hs);
	for (;;) {
		ssize_t n = read(in, buf, 1 << 20), w = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = fd_err_set(err, FD_EIO, "reading %s: %s", name, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		crypto_hash_sha256_update(&hs, buf, (unsigned long long)n);
		*size += n;
		while (w < n) {
			ssize_t k = write(*fd, buf + w, (size_t)(n - w));

			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0) {
				rc = fd_err_set(err, FD_EIO, "spooling %s to '%s': %s", name, dir && *dir ? dir : "/tmp",
						strerror(errno));
				goto out;
			}
			w += k;
		}
	}
	crypto_hash_sha256_final(&hs, h);
	fd_hex(h, sizeof(h), hex);
out:
	free(buf);
	fd_buf_release(&path);
	if (rc) {
		close(*fd);
		*fd = -1;
	}
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

/* The source with these bytes: the active one, else the latest superseded (*by its successor). */
static int find_source(struct fd_store *st, const char *sha, int64_t *id, int64_t *at, int64_t *by,
		       struct fd_err *err)
{
	sqlite3_stmt *s;
	int rc;

	*id = *by = 0;
	if ((rc = fd_store_prepare(st, &s, "SELECT id, ingested_at, ifnull(superseded_by, 0) FROM sources"
				   " WHERE sha256 = ?1 ORDER BY superseded_by IS NULL DESC, id DESC LIMIT 1", err)))
		return rc;
	sqlite3_bind_text(s, 1, sha, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
		*at = sqlite3_column_int64(s, 1);
		*by = sqlite3_column_int64(s, 2);
		rc = FD_OK;
	} else if (rc == SQLITE_DONE)
		rc = FD_OK;
	else
		rc = fd_store_error(st, "reading sources", err);
	sqlite3_finalize(s);
	return rc;
}

/* *found = 1 when some source has exactly this many bytes (and so may be these bytes). */
static int same_size_source(struct fd_store *st, int64_t size, int *found, struct fd_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = fd_store_prepare(st, &s, "SELECT 1 FROM sources WHERE size = ?1 LIMIT 1", err)))
		return rc;
	sqlite3_bind_int64(s, 1, size);
	rc = sqlite3_step(s);
	*found = rc == SQLITE_ROW;
	rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? FD_OK : fd_store_error(st, "reading sources", err);
	sqlite3_finalize(s);
	return rc;
}

/* The real hash replaces the stand-in in the sources row: computed while reading (from_stream),
 * or known before but held back while the superseded load still had it. */
static int set_source_hash(struct ingest *g, int from_stream, struct fd_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (from_stream)
		fd_in_sha256(fd_txnstream_in(g->ts), g->res->sha256);
	if ((rc = fd_store_prepare(g->st, &s, "UPDATE sources SET sha256 = ?1 WHERE id = ?2", err)))
		return rc;
	sqlite3_bind_text(s, 1, g->res->sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, g->res->source_id);
	rc = sqlite3_step(s) == SQLITE_DONE ? FD_OK : fd_store_error(g->st, "updating the sources row", err);
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

static int write_source_row(struct ingest *g, const char *path, const char *host, struct fd_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = fd_store_prepare(g->st, &s,
				   "INSERT INTO sources (path, sha256, size, format, compression, rows_accepted,"
				   " rows_rejected, actor, ingested_at, tool_version, options, host, namespace,"
				   " supersedes, supersede_reason)"
				   " VALUES (?1, ?2, ?3, ?4, ?5, 0, 0, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) RETURNING id", err)))
		return rc;
	sqlite3_bind_text(s, 10, host, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 11, g->o->ns ? g->o->ns : "", -1, SQLITE_STATIC);
	if (g->o->supersede) {
		sqlite3_bind_int64(s, 12, g->o->supersede);
		sqlite3_bind_text(s, 13, g->o->supersede_reason, -1, SQLITE_STATIC);
	}
	sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, g->res->sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, g->res->size);
	sqlite3_bind_text(s, 4, fd_format_name(g->res->format), -1, SQLITE_STATIC);
	if (g->res->compressed)
		sqlite3_bind_text(s, 5, "zstd", -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 5);
	sqlite3_bind_text(s, 6, fd_store_who(g->st)->actor, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, fd_wall_ms());
	sqlite3_bind_text(s, 8, fd_store_who(g->st)->version, -1, SQLITE_STATIC);
	{
		/* the options as given, plus the character encoding actually read (what
		 * --encoding auto chose) */
		const char *oj = g->o->options_json ? g->o->options_json : "{}";
		size_t on = strlen(oj);

		fd_buf_reset(&g->optbuf);
		if (on >= 2 && oj[on - 1] == '}') {
			fd_buf_add(&g->optbuf, oj, on - 1);
			fd_buf_adds(&g->optbuf, on > 2 ? ",\"encoding_read\":" : "\"encoding_read\":");
			fd_buf_add_json_str(&g->optbuf, g->res->encoding, strlen(g->res->encoding));
			fd_buf_addc(&g->optbuf, '}');
		} else
			fd_buf_adds(&g->optbuf, oj);
		if (!g->optbuf.s) {
			sqlite3_finalize(s);
			return fd_err_set(err, FD_EIO, "out of memory");
		}
		sqlite3_bind_text(s, 9, g->optbuf.s, -1, SQLITE_STATIC);
	}
	if (sqlite3_step(s) == SQLITE_ROW) {
		g->res->source_id = sqlite3_column_int64(s, 0);
		rc = FD_OK;
	} else
		rc = fd_store_error(g->st, "writing the sources row", err);
	sqlite3_finalize(s);
	return rc;
}

/* The data digest of an entry with several parts (fd_verify.h): the SHA-256 of each part's
 * hex digest and a line feed, in the order the details list them. */
static void parts_digest(char (*parts)[65], size_t n, char hex[65])
{
	crypto_hash_sha256_state hs;
	unsigned char h[crypto_hash_sha256_BYTES];
	size_t i;

	crypto_hash_sha256_init(&hs);
	for (i = 0; i < n; i++) {
		crypto_hash_sha256_update(&hs, (const unsigned char *)parts[i], 64);
		crypto_hash_sha256_update(&hs, (const unsigned char *)"\n", 1);
	}
	crypto_hash_sha256_final(&hs, h);
	fd_hex(h, sizeof(h), hex);
}

static int finish_source(struct ingest *g, const char *path, const char *host, struct fd_err *err)
{
	struct fd_ingest_result *res = g->res;
	struct fd_audit_entry e;
	struct fd_buf det = FD_BUF_INIT;
	sqlite3_stmt *s;
	char id[24], digest[65], parts[2][65];
	int64_t nrej = 0;
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
	/* the entry covers the accepted rows (digested on the way) and the stored rejects */
	memcpy(parts[0], g->digest_hex, sizeof(parts[0]));
	if ((rc = fd_audit_digest_rows(g->st, "ingest_rejects", "source_id", res->source_id, parts[1], &nrej, err)))
		return rc;
	parts_digest(parts, 2, digest);
	fd_buf_adds(&det, "{\"path\":");
	fd_buf_add_json_str(&det, path, strlen(path));
	fd_buf_adds(&det, ",\"host\":");
	fd_buf_add_json_str(&det, host, strlen(host));
	fd_buf_adds(&det, ",\"namespace\":");
	fd_buf_add_json_str(&det, g->o->ns ? g->o->ns : "", g->o->ns ? strlen(g->o->ns) : 0);
	if (g->o->supersede)
		fd_buf_addf(&det, ",\"supersedes\":%lld", (long long)g->o->supersede);
	fd_buf_adds(&det, ",\"sha256\":\"");
	fd_buf_adds(&det, res->sha256);
	fd_buf_addf(&det, "\",\"size\":%lld,\"format\":\"%s\",\"accepted\":%lld,\"rejected\":%lld,"
		    "\"entities\":%lld,\"links\":%lld,\"encoding\":\"%s\",\"rounded\":%lld,\"tables\":["
		    "{\"table\":\"transactions\",\"key\":\"source_id\",\"rows\":%lld,\"digest\":\"%s\"},"
		    "{\"table\":\"ingest_rejects\",\"key\":\"source_id\",\"rows\":%lld,\"digest\":\"%s\"}],"
		    "\"rejects\":{",
		    (long long)res->size, fd_format_name(res->format), (long long)res->accepted,
		    (long long)res->rejected, (long long)res->entities, (long long)res->links,
		    res->encoding, (long long)res->rounded,
		    (long long)res->accepted, parts[0], (long long)nrej, parts[1]);
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

/* ---- re-ingest and limits ----------------------------------------------------------- */

/* A source can be superseded once: it must exist and still be active. */
static int check_supersede(struct fd_store *st, int64_t id, struct fd_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = fd_store_prepare(st, &s, "SELECT ifnull(superseded_by, 0) FROM sources WHERE id = ?1", err)))
		return rc;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_int64(s, 0))
		rc = fd_err_set(err, FD_EUSAGE, "source %lld is already superseded by source %lld", (long long)id,
				(long long)sqlite3_column_int64(s, 0));
	else if (rc == SQLITE_ROW)
		rc = FD_OK;
	else if (rc == SQLITE_DONE)
		rc = fd_err_set(err, FD_EUSAGE, "there is no source %lld to supersede", (long long)id);
	else
		rc = fd_store_error(st, "reading sources", err);
	sqlite3_finalize(s);
	return rc;
}

/* The superseded load leaves transactions: its rows move verbatim (same id and columns, so
 * the same row digest) to superseded_transactions, and it is marked as replaced by this one. */
static int supersede_source(struct ingest *g, struct fd_err *err)
{
	static const char *const sql[] = {
		"INSERT INTO superseded_transactions SELECT * FROM transactions WHERE source_id = ?1 ORDER BY id",
		"DELETE FROM transactions WHERE source_id = ?1",
		"UPDATE sources SET superseded_by = ?2 WHERE id = ?1",
	};
	size_t i;
	int rc = FD_OK;

	for (i = 0; i < sizeof(sql) / sizeof(sql[0]) && rc == FD_OK; i++) {
		sqlite3_stmt *s;

		if ((rc = fd_store_prepare(g->st, &s, sql[i], err)))
			break;
		sqlite3_bind_int64(s, 1, g->o->supersede);
		if (sqlite3_bind_parameter_count(s) > 1)
			sqlite3_bind_int64(s, 2, g->res->source_id);
		if (sqlite3_step(s) != SQLITE_DONE)
			rc = fd_store_error(g->st, "moving the superseded transactions", err);
		sqlite3_finalize(s);
	}
	g->res->superseded = g->o->supersede;
	return rc;
}

/* The audit entry of the superseded source: both tables as they now stand for it. */
static int record_supersede(struct ingest *g, struct fd_err *err)
{
	static const struct fd_verify_part parts[] = {
		{"transactions", "source_id"},
		{"superseded_transactions", "source_id"},
	};
	struct fd_buf det = FD_BUF_INIT;
	int rc;

	fd_buf_addf(&det, "{\"superseded_by\":%lld,\"reason\":", (long long)g->res->source_id);
	fd_buf_add_json_str(&det, g->o->supersede_reason, strlen(g->o->supersede_reason));
	if (fd_buf_addc(&det, '}'))
		return fd_err_set(err, FD_EIO, "out of memory");
	rc = fd_verify_record(g->st, "ingest.supersede", "source", g->o->supersede, parts, 2, det.s, NULL, err);
	fd_buf_release(&det);
	return rc;
}

static int check_limits(const struct fd_ingest_opts *o, struct fd_ingest_result *res, struct fd_err *err)
{
	int64_t total = res->accepted + res->rejected;

	if (o->max_rejects >= 0 && res->rejected > o->max_rejects)
		res->over_limit = 1;
	if (o->max_rejects_pct >= 0 && total > 0 && (double)res->rejected * 100.0 > o->max_rejects_pct * (double)total)
		res->over_limit = 1;
	if (!res->over_limit)
		return FD_OK;
	if (o->max_rejects >= 0 && res->rejected > o->max_rejects)
		return fd_err_set(err, FD_EINPUT, "%s: %lld of %lld records rejected, more than the limit of %lld:"
				  " nothing of this input was written", res->name, (long long)res->rejected,
				  (long long)total, (long long)o->max_rejects);
	return fd_err_set(err, FD_EINPUT, "%s: %lld of %lld records rejected (%.1f%%), more than the limit of %g%%:"
			  " nothing of this input was written", res->name, (long long)res->rejected, (long long)total,
			  100.0 * (double)res->rejected / (double)total, o->max_rejects_pct);
}

/* ---- finding sources, stored rejects --------------------------------------------------- */

static int is_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

static int is_sha256_hex(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return 0;
	return i == 64;
}

int fd_ingest_find_source(struct fd_store *st, const char *which, int64_t *source_id, struct fd_err *err)
{
	char abspath[PATH_MAX], vis[300];
	const char *col = "path", *val = which;
	sqlite3_stmt *s;
	int64_t n = 0, active = 0, any = 0;
	int rc;

	*source_id = 0;
	fd_visible(vis, sizeof(vis), which, strlen(which));
	if (is_digits(which)) {
		char *end;
		long long id;

		errno = 0;
		id = strtoll(which, &end, 10);
		if (errno || *end || id <= 0)
			return fd_err_set(err, FD_EUSAGE, "bad source id '%s'", vis);
		col = "id";
	} else if (is_sha256_hex(which))
		col = "sha256";
	else if (strcmp(which, "-") != 0 && realpath(which, abspath))
		val = abspath;
	if ((rc = fd_store_prepare(st, &s, strcmp(col, "id") == 0 ?
				   "SELECT id, superseded_by IS NULL FROM sources WHERE id = ?1" :
				   strcmp(col, "sha256") == 0 ?
				   "SELECT id, superseded_by IS NULL FROM sources WHERE sha256 = ?1 ORDER BY id" :
				   "SELECT id, superseded_by IS NULL FROM sources WHERE path = ?1 ORDER BY id", err)))
		return rc;
	sqlite3_bind_text(s, 1, val, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		any = sqlite3_column_int64(s, 0);
		if (sqlite3_column_int(s, 1)) {
			active = any;
			n++;
		}
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return fd_store_error(st, "reading sources", err);
	if (!any)
		return fd_err_set(err, FD_EUSAGE, "no source is '%s' (give a source id, a SHA-256 or a path)", vis);
	if (n > 1)
		return fd_err_set(err, FD_EUSAGE, "'%s' names %lld active sources; give the source id", vis, (long long)n);
	*source_id = active ? active : any;
	return FD_OK;
}

int fd_ingest_rejects_of(struct fd_store *st, int64_t source_id, const char *name,
			 void (*on_reject)(void *ctx, const struct fd_reject *r), void *ctx, int64_t *n,
			 struct fd_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (n)
		*n = 0;
	if ((rc = fd_store_prepare(st, &s,
				   "SELECT r.line, r.field, r.reason, r.record, s.path FROM ingest_rejects r"
				   " JOIN sources s ON s.id = r.source_id WHERE r.source_id = ?1 ORDER BY r.id", err)))
		return rc;
	sqlite3_bind_int64(s, 1, source_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct fd_reject r;
		const char *reason = (const char *)sqlite3_column_text(s, 2);

		memset(&r, 0, sizeof(r));
		r.line = sqlite3_column_int64(s, 0);
		r.field = (const char *)sqlite3_column_text(s, 1);
		r.reason = reason;
		r.reason_class = reason;
		r.raw = sqlite3_column_blob(s, 3);
		r.rawlen = (size_t)sqlite3_column_bytes(s, 3);
		r.source = name ? name : (const char *)sqlite3_column_text(s, 4);
		if (on_reject)
			on_reject(ctx, &r);
		if (n)
			(*n)++;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? FD_OK : fd_store_error(st, "reading ingest_rejects", err);
}

/* ---- the pipeline ----------------------------------------------------------------------
 *
 * Two threads share the work of an input: the reader thread reads, parses, validates and
 * interns entity keys (and hashes the raw bytes when that was not done first); the calling
 * thread writes to SQLite, digests the rows and counts the entities.  Records travel in
 * batches, in input order, through a small ring; the store connection is used by the calling
 * thread only.
 */

#define BATCH_ROWS 2048
#define NBATCH 4

enum { S_ID, S_SENDER, S_RECIP, S_MERCH, S_CAT, S_CHAN, S_DEV, S_IP, S_CITY, S_META, S_N };

struct item {
	struct fd_txn t;         /* strings resolved from off[] when the batch is taken */
	size_t off[S_N];         /* arena offsets of the strings, (size_t)-1 for NULL */
	size_t meta_len;
	int64_t line;
	struct ids ids;
	const char *bad_field;   /* NULL for a good record */
	const char *bad_cls;
	size_t bad_msg;          /* arena offset of the message */
	size_t raw_off, raw_len; /* arena: the record's bytes */
};

struct batch {
	struct item it[BATCH_ROWS];
	size_t n;
	struct fd_buf arena;
	int64_t records;         /* read so far, for progress */
	uint64_t bytes;
	int last;                /* the stream ended after this batch: rc tells how */
	int rc;
	struct fd_err err;
};

struct pipe {
	struct ingest *g;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct batch *b[NBATCH];
	size_t head, tail;       /* full batches: [tail, head) modulo NBATCH */
	int stop;                /* the store thread gave up: the reader quits */
};

static const size_t NOSTR = (size_t)-1;

static size_t arena_put(struct fd_buf *a, const char *s, size_t n)
{
	size_t off = a->len;

	if (fd_buf_add(a, s, n) || fd_buf_addc(a, '\0'))
		return NOSTR - 1;
	return off;
}

/* Fill one batch; returns 0, or -1 out of memory. */
static int fill(struct ingest *g, struct batch *b)
{
	const char *raw;
	size_t rawlen;

	b->n = 0;
	b->last = 0;
	b->rc = FD_OK;
	fd_buf_reset(&b->arena);
	while (b->n < BATCH_ROWS) {
		struct item *it = &b->it[b->n];
		struct fd_txn_bad bad;
		int r = fd_txnstream_next(g->ts, &it->t, &bad, &b->err), k;

		if (r <= 0) {
			b->last = 1;
			b->rc = r < 0 ? -r : FD_OK;
			break;
		}
		it->line = fd_txnstream_line(g->ts);
		/* every record's bytes: a good one may still be rejected as a duplicate */
		fd_txnstream_raw(g->ts, &raw, &rawlen);
		it->raw_off = arena_put(&b->arena, raw, rawlen);
		it->raw_len = rawlen;
		if (r == 2) {
			it->bad_field = bad.field_name;
			it->bad_cls = bad.cls;
			it->bad_msg = arena_put(&b->arena, bad.msg, strlen(bad.msg));
		} else {
			const char *str[S_N] = {it->t.txn_id, it->t.sender_id, it->t.recipient_id,
						it->t.merchant_id, it->t.merchant_category, it->t.channel,
						it->t.device_id, it->t.ip, it->t.city, it->t.metadata};

			it->bad_field = NULL;
			for (k = 0; k < S_N; k++)
				it->off[k] = !str[k] ? NOSTR :
					arena_put(&b->arena, str[k], k == S_META ? it->t.metadata_len : strlen(str[k]));
			if (g->o->ns && *g->o->ns) {
				/* the canonical id in a namespace: 'ns:reference' */
				size_t at = b->arena.len;

				fd_buf_adds(&b->arena, g->o->ns);
				fd_buf_addc(&b->arena, ':');
				fd_buf_adds(&b->arena, it->t.txn_id);
				fd_buf_addc(&b->arena, '\0');
				it->off[S_ID] = at;
			}
			it->meta_len = it->t.metadata_len;
			if (intern_ids(g, &it->t, &it->ids))
				return -1;
		}
		if (b->arena.len && !b->arena.s)
			return -1;
		b->n++;
	}
	g->produced += (int64_t)b->n;
	b->records = g->produced;
	b->bytes = fd_in_raw_bytes(fd_txnstream_in(g->ts));
	return 0;
}

static void *reader_main(void *arg)
{
	struct pipe *p = arg;

	for (;;) {
		struct batch *b;
		int last;

		pthread_mutex_lock(&p->mu);
		while (!p->stop && p->head - p->tail == NBATCH - 1)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->stop) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		b = p->b[p->head % NBATCH];
		pthread_mutex_unlock(&p->mu);
		if (fill(p->g, b)) {
			b->last = 1;
			b->rc = fd_err_set(&b->err, FD_EIO, "out of memory");
		}
		last = b->last;
		pthread_mutex_lock(&p->mu);
		p->head++;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		if (last)
			return NULL;
	}
}

/* The next full batch, waiting for it. */
static struct batch *take(struct pipe *p)
{
	struct batch *b;

	pthread_mutex_lock(&p->mu);
	while (p->head == p->tail)
		pthread_cond_wait(&p->cv, &p->mu);
	b = p->b[p->tail % NBATCH];
	pthread_mutex_unlock(&p->mu);
	return b;
}

static void give_back(struct pipe *p)
{
	pthread_mutex_lock(&p->mu);
	p->tail++;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

static void resolve(struct batch *b, struct item *it, int64_t source_id)
{
	const char **dst[S_N] = {&it->t.txn_id, &it->t.sender_id, &it->t.recipient_id,
				 &it->t.merchant_id, &it->t.merchant_category, &it->t.channel,
				 &it->t.device_id, &it->t.ip, &it->t.city, &it->t.metadata};
	int k;

	for (k = 0; k < S_N; k++)
		*dst[k] = it->off[k] == NOSTR ? NULL : b->arena.s + it->off[k];
	it->t.metadata_len = it->meta_len;
	it->t.line = it->line;
	it->t.source_id = source_id;
}

/* Store thread: take the batches in order and write them.  Returns FD_OK at the end. */
static int consume(struct ingest *g, struct pipe *p, int64_t *nread, struct fd_err *err)
{
	const struct fd_ingest_opts *o = g->o;

	for (;;) {
		struct batch *b = take(p);
		size_t i;
		int rc = FD_OK, last = b->last;

		for (i = 0; i < b->n && rc == FD_OK; i++) {
			struct item *it = &b->it[i];
			struct fd_txn_bad d;
			int dup;

			if (it->bad_field) {
				rc = reject(g, it->line, b->arena.s + it->raw_off, it->raw_len, it->bad_field,
					    it->bad_cls, b->arena.s + it->bad_msg, err);
				continue;
			}
			resolve(b, it, g->res->source_id);
			if ((rc = insert_txn(g, &it->t, &dup, err)))
				break;
			if (dup) {
				describe_dup(g, it->t.txn_id, &d);
				rc = reject(g, it->line, b->arena.s + it->raw_off, it->raw_len, "txn_id", d.cls, d.msg, err);
				continue;
			}
			g->res->accepted++;
			if (track_entities(g, &it->t, &it->ids)) {
				rc = fd_err_set(err, FD_EIO, "out of memory");
				break;
			}
			if (o->on_accept && o->on_accept(o->ctx, &it->t))
				rc = fd_err_set(err, FD_EIO, "writing the emitted records failed");
		}
		if (rc == FD_OK && g->res->accepted > 0)
			fd_killpoint("after-insert");
		if (rc == FD_OK && last && b->rc) {
			rc = b->rc;
			*err = b->err;
		}
		*nread = b->records;
		if (o->on_progress)
			o->on_progress(o->ctx, b->records, b->bytes, g->res->size);
		give_back(p);
		if (rc || last)
			return rc;
	}
}

int fd_ingest(struct fd_store *st, const char *path, const struct fd_ingest_opts *o,
	      struct fd_ingest_result *res, struct fd_err *err)
{
	struct ingest g;
	struct fd_txnstream_opts so;
	int spool = -1, src_fd = -1;
	char spool_path[32];
	const char *open_path;
	int is_stdin = !path || strcmp(path, "-") == 0;
	int rc, k, bulk = 0, hash_first = 0, hashed, started = 0;
	int64_t prev_id = 0, prev_at = 0, prev_by = 0, n = 0;
	char abspath[PATH_MAX], host[256], known_sha[65];
	const char *stored_path;
	struct pipe pp;
	pthread_t reader;

	memset(res, 0, sizeof(*res));
	memset(&g, 0, sizeof(g));
	memset(&pp, 0, sizeof(pp));
	g.st = st;
	g.o = o;
	g.res = res;
	snprintf(res->name, sizeof(res->name), "%s", is_stdin ? "<stdin>" : path);
	if (sodium_init() < 0)
		return fd_err_set(err, FD_EIO, "libsodium failed to initialise");
	if (fd_currency_exponent(o->currency ? o->currency : "USD") < 0)
		return fd_err_set(err, FD_EUSAGE, "'%s' is not an ISO 4217 currency code", o->currency);
	if (o->supersede && (!o->supersede_reason || !*o->supersede_reason))
		return fd_err_set(err, FD_EUSAGE, "superseding a source needs a reason");
	/* custody: where the bytes were read, absolute, and on which host */
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	stored_path = is_stdin ? "-" : realpath(path, abspath) ? abspath : path;

	/* 1. the bytes' identity.  Standard input is spooled and hashed on the way.  A file is
	 * hashed first only when a source of the same size exists (it may be the same bytes, and
	 * then nothing is to be read); otherwise it cannot be a repeat, and the reader thread
	 * hashes it as it parses, in one pass. */
	if (!is_stdin) {
		struct stat sb;

		if (stat(path, &sb) != 0)
			return fd_err_set(err, FD_EIO, "cannot open '%s': %s", path, strerror(errno));
		/* a FIFO or <(...) has no size to check against and cannot be read twice */
		if (!S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode) &&
		    (src_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			return fd_err_set(err, FD_EIO, "cannot open '%s': %s", path, strerror(errno));
	}
	if (is_stdin || src_fd >= 0) {
		rc = spool_input(is_stdin ? STDIN_FILENO : src_fd, is_stdin ? "standard input" : path,
				 &spool, res->sha256, &res->size, err);
		if (src_fd >= 0)
			close(src_fd);
		if (rc)
			return rc;
		snprintf(spool_path, sizeof(spool_path), "/dev/fd/%d", spool);
		open_path = spool_path;
	} else {
		struct stat sb;

		if (stat(path, &sb) != 0)
			return fd_err_set(err, FD_EIO, "cannot open '%s': %s", path, strerror(errno));
		res->size = (int64_t)sb.st_size;
		if ((rc = same_size_source(st, res->size, &hash_first, err)))
			return rc;
		if (hash_first && (rc = fd_sha256_file(path, res->sha256, &res->size, err)))
			return rc;
		open_path = path;
	}
	hashed = spool >= 0 || hash_first;

	/* 2. one transaction for the whole input.  Foreign keys are not checked row by row: the
	 * only reference a transaction row holds is to the sources row this function writes
	 * itself, so the check would be a B-tree lookup per row that can never fail. */
	if ((rc = fd_store_exec(st, "PRAGMA foreign_keys = OFF", err)) || (rc = fd_store_begin(st, err)))
		goto out;
	if (o->supersede && (rc = check_supersede(st, o->supersede, err)))
		goto out;
	if (hashed) {
		if ((rc = find_source(st, res->sha256, &prev_id, &prev_at, &prev_by, err)))
			goto out;
		if (prev_id && prev_by && !o->supersede) {
			rc = fd_err_set(err, FD_EUSAGE, "%s: these bytes were ingested as source %lld, superseded by"
					" source %lld; to load them again: --supersede %lld --reason TEXT", res->name,
					(long long)prev_id, (long long)prev_by, (long long)prev_by);
			goto out;
		}
		if (prev_id && !prev_by && prev_id != o->supersede) {
			fd_store_rollback(st);
			res->already = 1;
			res->source_id = prev_id;
			res->already_at = prev_at;
			rc = replay_source(st, o, prev_id, err);
			if (rc == FD_OK && o->on_reject && o->replay_rejects)
				rc = fd_ingest_rejects_of(st, prev_id, res->name, o->on_reject, o->ctx, NULL, err);
			goto out;
		}
	}
	if (!hashed || o->supersede) {
		/* a superseded load may have these very bytes: its row keeps the hash until it is
		 * marked superseded, so the new row holds a stand-in until then */
		memcpy(known_sha, res->sha256, sizeof(known_sha));
		/* a unique stand-in until the reader thread has the hash */
		unsigned char rnd[16];

		randombytes_buf(rnd, sizeof(rnd));
		memcpy(res->sha256, "pending-", 8);
		fd_hex(rnd, sizeof(rnd), res->sha256 + 8);
	}
	memset(&so, 0, sizeof(so));
	if (o->parse)
		so = *o->parse;
	so.format = o->format;
	so.delimiter = o->delimiter;
	so.tz_offset_min = o->tz_offset_min;
	so.currency = o->currency;
	so.map = o->map;
	so.hash = !hashed;
	if ((rc = fd_txnstream_open(&g.ts, open_path, res->name, &so, err)))
		goto out;
	res->format = fd_txnstream_format(g.ts);
	snprintf(res->encoding, sizeof(res->encoding), "%s", fd_txnstream_encoding(g.ts));
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
	if ((rc = write_source_row(&g, stored_path, host, err)))
		goto out;
	if (o->supersede && (rc = supersede_source(&g, err)))
		goto out;
	if ((rc = bulk_load_wanted(st, res->size, &bulk, err)) || (bulk && (rc = drop_txn_indexes(st, err))))
		goto out;
	if ((rc = fd_store_prepare(st, &g.ins,
				   "INSERT INTO transactions (txn_id, ts, amount, currency, sender_id, recipient_id,"
				   " merchant_id, merchant_category, channel, device_id, ip, lat, lon, country, city,"
				   " label, metadata, source_id, source_line)"
				   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,"
				   " ?17, ?18, ?19) ON CONFLICT (txn_id) DO NOTHING", err)) ||
	    (!o->strict && (rc = fd_store_prepare(st, &g.rej,
				   "INSERT INTO ingest_rejects (source_id, line, field, reason, record)"
				   " VALUES (?1, ?2, ?3, ?4, ?5)", err))) ||
	    (rc = fd_store_prepare(st, &g.dup,
				   "SELECT t.source_id, t.source_line, s.path FROM transactions t"
				   " JOIN sources s ON s.id = t.source_id WHERE t.txn_id = ?1", err)))
		goto out;
	if (hasher_start(&g.hasher)) {
		rc = fd_err_set(err, FD_EIO, "cannot start the hasher thread");
		goto out;
	}
	g.hasher_on = 1;
	fd_digest_init_sink(&g.digest, hasher_sink, &g.hasher);

	/* 3. the records, through the pipeline */
	memset(&pp, 0, sizeof(pp));
	pp.g = &g;
	for (k = 0; k < NBATCH; k++)
		if (!(pp.b[k] = calloc(1, sizeof(*pp.b[k])))) {
			rc = fd_err_set(err, FD_EIO, "out of memory");
			goto out;
		}
	pthread_mutex_init(&pp.mu, NULL);
	pthread_cond_init(&pp.cv, NULL);
	if (pthread_create(&reader, NULL, reader_main, &pp) != 0) {
		rc = fd_err_set(err, FD_EIO, "cannot start the reader thread");
		goto out;
	}
	started = 1;
	rc = consume(&g, &pp, &n, err);
	pthread_mutex_lock(&pp.mu);
	pp.stop = 1;
	pthread_cond_broadcast(&pp.cv);
	pthread_mutex_unlock(&pp.mu);
	pthread_join(reader, NULL);
	started = 0;
	if (rc)
		goto out;
	if (fd_in_raw_bytes(fd_txnstream_in(g.ts)) != (uint64_t)res->size) {
		rc = fd_err_set(err, FD_EIO, "%s changed while it was being read (%lld bytes when opened, %llu read)",
				res->name, (long long)res->size, (unsigned long long)fd_in_raw_bytes(fd_txnstream_in(g.ts)));
		goto out;
	}
	if (hashed && o->supersede)
		memcpy(res->sha256, known_sha, sizeof(known_sha));
	if ((!hashed || o->supersede) && (rc = set_source_hash(&g, !hashed, err)))
		goto out;
	if ((rc = check_limits(o, res, err)))
		goto out;
	fd_digest_flush(&g.digest);
	g.hasher_on = 0;
	if (hasher_finish(&g.hasher, g.digest_hex)) {
		rc = fd_err_set(err, FD_EIO, "out of memory");
		goto out;
	}

	res->rounded = fd_txnstream_rounded(g.ts);
	/* 4. entities, custody, audit; then commit */
	if ((bulk && (rc = create_txn_indexes(st, err))) || (rc = flush_entities(&g, err)) ||
	    (rc = finish_source(&g, stored_path, host, err)))
		goto out;
	if (o->supersede && (rc = record_supersede(&g, err)))
		goto out;
	sqlite3_finalize(g.ins);
	sqlite3_finalize(g.dup);
	sqlite3_finalize(g.rej);
	g.ins = g.dup = g.rej = NULL;
	fd_killpoint("before-commit");
	rc = fd_store_commit(st, err);
	if (rc == FD_OK)
		fd_killpoint("after-commit");
out:
	if (rc)
		fd_store_rollback(st);
	fd_store_exec(st, "PRAGMA foreign_keys = ON", NULL);
	sqlite3_finalize(g.ins);
	sqlite3_finalize(g.dup);
	sqlite3_finalize(g.rej);
	if (g.hasher_on)
		hasher_finish(&g.hasher, NULL);
	if (started) {
		pthread_mutex_lock(&pp.mu);
		pp.stop = 1;
		pthread_cond_broadcast(&pp.cv);
		pthread_mutex_unlock(&pp.mu);
		pthread_join(reader, NULL);
	}
	for (k = 0; k < NBATCH; k++) {
		if (pp.b[k])
			fd_buf_release(&pp.b[k]->arena);
		free(pp.b[k]);
	}
	fd_txnstream_free(g.ts);
	fd_buf_release(&g.optbuf);
	if (spool >= 0)
		close(spool);
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
