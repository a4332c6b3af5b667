/* fd_audit.c — see fd_audit.h. */
#include "fd_audit.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fd_buf.h"
#include "fd_txn.h"
#include "banned.h"

const char fd_audit_genesis[65] =
	"0000000000000000000000000000000000000000000000000000000000000000";

static void net_str(crypto_hash_sha256_state *s, const char *v)
{
	char len[24];
	size_t n = v ? strlen(v) : 0;

	snprintf(len, sizeof(len), "%zu:", n);
	crypto_hash_sha256_update(s, (const unsigned char *)len, strlen(len));
	if (n)
		crypto_hash_sha256_update(s, (const unsigned char *)v, n);
	crypto_hash_sha256_update(s, (const unsigned char *)",", 1);
}

static void net_int(crypto_hash_sha256_state *s, int64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%lld", (long long)v);
	net_str(s, num);
}

void fd_audit_hash(const struct fd_audit_row *r, char hex[65])
{
	crypto_hash_sha256_state s;
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256_init(&s);
	net_int(&s, r->seq);
	net_int(&s, r->ts);
	net_str(&s, r->actor);
	net_str(&s, r->host);
	net_str(&s, r->tool);
	net_str(&s, r->version);
	net_str(&s, r->action);
	net_str(&s, r->object_type);
	net_str(&s, r->object_id);
	net_str(&s, r->details);
	net_str(&s, r->data_digest);
	net_str(&s, r->prev_hash);
	crypto_hash_sha256_final(&s, h);
	fd_hex(h, sizeof(h), hex);
}

int fd_audit_append(struct fd_store *st, const struct fd_audit_entry *e, int64_t *seq_out,
		    struct fd_err *err)
{
	sqlite3_stmt *s = NULL;
	const struct fd_who *who = fd_store_who(st);
	struct fd_audit_row r;
	char prev[65], hash[65];
	int rc;

	if (!fd_store_in_txn(st))
		return fd_err_set(err, FD_EIO, "internal: audit entry outside a store transaction");
	if (sodium_init() < 0)
		return fd_err_set(err, FD_EIO, "libsodium failed to initialise");
	memcpy(prev, fd_audit_genesis, sizeof(prev));
	r.seq = 1;
	if ((rc = fd_store_prepare(st, &s, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", err)))
		return rc;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *h = (const char *)sqlite3_column_text(s, 1);

		r.seq = sqlite3_column_int64(s, 0) + 1;
		snprintf(prev, sizeof(prev), "%s", h ? h : "");
	} else if (rc != SQLITE_DONE) {
		rc = fd_store_error(st, "reading the audit log", err);
		sqlite3_finalize(s);
		return rc;
	}
	sqlite3_finalize(s);

	r.ts = fd_wall_ms();
	r.actor = who->actor;
	r.host = fd_store_host(st);
	r.tool = who->tool;
	r.version = who->version;
	r.action = e->action;
	r.object_type = e->object_type;
	r.object_id = e->object_id;
	r.details = e->details ? e->details : "{}";
	r.data_digest = e->data_digest;
	r.prev_hash = prev;
	fd_audit_hash(&r, hash);

	if ((rc = fd_store_prepare(st, &s,
				   "INSERT INTO audit_log (seq, ts, actor, host, tool, version, action, object_type,"
				   " object_id, details, data_digest, prev_hash, hash)"
				   " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", err)))
		return rc;
	sqlite3_bind_int64(s, 1, r.seq);
	sqlite3_bind_int64(s, 2, r.ts);
	sqlite3_bind_text(s, 3, r.actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, r.host, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, r.tool, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, r.version, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, r.action, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, r.object_type, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 9, r.object_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 10, r.details, -1, SQLITE_STATIC);
	if (r.data_digest)
		sqlite3_bind_text(s, 11, r.data_digest, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 11);
	sqlite3_bind_text(s, 12, r.prev_hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 13, hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(s) == SQLITE_DONE ? FD_OK : fd_store_error(st, "writing the audit log", err);
	sqlite3_finalize(s);
	if (rc == FD_OK && seq_out)
		*seq_out = r.seq;
	return rc;
}

/* ---- row digests --------------------------------------------------------------------- */

void fd_digest_init(struct fd_digest *d)
{
	crypto_hash_sha256_init(&d->st);
	d->rows = 0;
	d->n = 0;
	d->sink = NULL;
	d->sink_ctx = NULL;
}

void fd_digest_init_sink(struct fd_digest *d, void (*sink)(void *ctx, const unsigned char *p, size_t n),
			 void *ctx)
{
	fd_digest_init(d);
	d->sink = sink;
	d->sink_ctx = ctx;
}

static void dig_out(struct fd_digest *d, const void *p, size_t n)
{
	if (d->sink)
		d->sink(d->sink_ctx, p, n);
	else
		crypto_hash_sha256_update(&d->st, p, n);
}

static void dig_flush(struct fd_digest *d)
{
	if (d->n) {
		dig_out(d, d->buf, d->n);
		d->n = 0;
	}
}

void fd_digest_flush(struct fd_digest *d)
{
	dig_flush(d);
}

static void dig_bytes(struct fd_digest *d, const void *p, size_t n)
{
	if (n > sizeof(d->buf) - d->n) {
		dig_flush(d);
		if (n > sizeof(d->buf)) {
			dig_out(d, p, n);
			return;
		}
	}
	memcpy(d->buf + d->n, p, n);
	d->n += n;
}

/* Decimal digits of v into the end of tmp[24]; returns the first. */
static char *u64_dec(uint64_t v, char *end)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

/* Each value: a type letter, the decimal length of its text, ':', the text.  Integers in
 * decimal, reals as the 16 hex digits of their IEEE-754 bits (exact), NULL as "n". */
static void dig(struct fd_digest *d, char type, const char *s, size_t n)
{
	char tmp[32], *p = u64_dec(n, tmp + sizeof(tmp) - 1);

	tmp[sizeof(tmp) - 1] = ':';
	*--p = type;
	dig_bytes(d, p, (size_t)(tmp + sizeof(tmp) - p));
	dig_bytes(d, s, n);
}

void fd_digest_int(struct fd_digest *d, int64_t v)
{
	char tmp[24], *end = tmp + sizeof(tmp), *p;

	p = u64_dec(v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, end);
	if (v < 0)
		*--p = '-';
	dig(d, 'i', p, (size_t)(end - p));
}

void fd_digest_real(struct fd_digest *d, double v)
{
	static const char xd[] = "0123456789abcdef";
	char num[16];
	uint64_t bits;
	int i;

	if (v == 0)
		v = 0; /* fold -0.0 */
	memcpy(&bits, &v, sizeof(bits));
	for (i = 15; i >= 0; i--, bits >>= 4)
		num[i] = xd[bits & 15];
	dig(d, 'r', num, sizeof(num));
}

void fd_digest_text(struct fd_digest *d, const char *s, size_t n)
{
	if (!s)
		fd_digest_null(d);
	else
		dig(d, 't', s, n);
}

void fd_digest_blob(struct fd_digest *d, const void *p, size_t n)
{
	dig(d, 'b', p ? p : "", p ? n : 0);
}

void fd_digest_null(struct fd_digest *d)
{
	dig_bytes(d, "n", 1);
}

void fd_digest_row_end(struct fd_digest *d)
{
	dig_bytes(d, "\n", 1);
	d->rows++;
}

void fd_digest_final(struct fd_digest *d, char hex[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	dig_flush(d);
	crypto_hash_sha256_final(&d->st, h);
	fd_hex(h, sizeof(h), hex);
}

int fd_audit_digest_rows(struct fd_store *st, const char *table, const char *key_col, int64_t key,
			 char hex[65], int64_t *rows, struct fd_err *err)
{
	struct fd_buf sql = FD_BUF_INIT;
	struct fd_digest d;
	sqlite3_stmt *s;
	int rc, i, n;

	if (!fd_plain_ident(table, FD_IDENT_MAX) || !fd_plain_ident(key_col, FD_IDENT_MAX))
		return fd_err_set(err, FD_EUSAGE, "internal: bad table or column name");
	/* identifiers cannot be bound; they are checked above and come from code, not data */
	if (fd_buf_addf(&sql, "SELECT * FROM \"%s\" WHERE \"%s\" = ?1 ORDER BY rowid", table, key_col))
		return fd_err_set(err, FD_EIO, "out of memory");
	rc = fd_store_prepare(st, &s, sql.s, err);
	fd_buf_release(&sql);
	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, key);
	fd_digest_init(&d);
	n = sqlite3_column_count(s);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		for (i = 0; i < n; i++) {
			switch (sqlite3_column_type(s, i)) {
			case SQLITE_INTEGER:
				fd_digest_int(&d, sqlite3_column_int64(s, i));
				break;
			case SQLITE_FLOAT:
				fd_digest_real(&d, sqlite3_column_double(s, i));
				break;
			case SQLITE_NULL:
				fd_digest_null(&d);
				break;
			case SQLITE_TEXT:
				/* column_text, not column_blob: an empty text is "" here, never NULL,
				 * so '' and NULL digest differently */
				fd_digest_text(&d, (const char *)sqlite3_column_text(s, i),
					       (size_t)sqlite3_column_bytes(s, i));
				break;
			default: /* a blob: its bytes, under a type letter of its own */
				fd_digest_blob(&d, sqlite3_column_blob(s, i), (size_t)sqlite3_column_bytes(s, i));
			}
		}
		fd_digest_row_end(&d);
	}
	if (rc != SQLITE_DONE) {
		rc = fd_store_error(st, "digesting rows", err);
		sqlite3_finalize(s);
		return rc;
	}
	sqlite3_finalize(s);
	fd_digest_final(&d, hex);
	if (rows)
		*rows = d.rows;
	return FD_OK;
}

/* ---- hex and combined digests -------------------------------------------------------- */

int fd_audit_is_hex(const char *s, size_t n)
{
	size_t i;

	if (!s || strlen(s) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int fd_audit_unhex(const char *s, unsigned char *out, size_t n)
{
	return fd_audit_is_hex(s, 2 * n) &&
	       sodium_hex2bin(out, n, s, 2 * n, NULL, NULL, NULL) == 0;
}

void fd_audit_combine_digests(char (*parts)[65], size_t n, char hex[65])
{
	crypto_hash_sha256_state s;
	unsigned char h[crypto_hash_sha256_BYTES];
	size_t i;

	crypto_hash_sha256_init(&s);
	for (i = 0; i < n; i++) {
		crypto_hash_sha256_update(&s, (const unsigned char *)parts[i], 64);
		crypto_hash_sha256_update(&s, (const unsigned char *)"\n", 1);
	}
	crypto_hash_sha256_final(&s, h);
	fd_hex(h, sizeof(h), hex);
	hex[64] = '\0';
}

/* ---- recording a change -------------------------------------------------------------- */

static const char *const reserved[] = {"table", "key", "rows", "tables"};

int fd_verify_record(struct fd_store *st, const char *action, const char *object_type, int64_t key,
		     const struct fd_verify_part *parts, size_t nparts, const char *extra_json,
		     int64_t *seq, struct fd_err *err)
{
	struct fd_buf det = FD_BUF_INIT;
	struct fd_audit_entry e;
	char (*dg)[65] = NULL, data[65], id[24];
	int64_t *rows = NULL;
	size_t i, n;
	int rc = FD_OK, members = 0;

	if (nparts == 0 || !parts)
		return fd_err_set(err, FD_EUSAGE, "internal: an audit record needs at least one table");
	if (extra_json) {
		json_error_t je;
		json_t *x = json_loads(extra_json, 0, &je);

		if (!json_is_object(x)) {
			json_decref(x);
			return fd_err_set(err, FD_EUSAGE, "internal: audit details are not a JSON object");
		}
		for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
			if (json_object_get(x, reserved[i])) {
				json_decref(x);
				return fd_err_set(err, FD_EUSAGE, "internal: audit details use the reserved member '%s'",
						  reserved[i]);
			}
		members = json_object_size(x) > 0;
		json_decref(x);
	}
	dg = calloc(nparts, sizeof(*dg));
	rows = calloc(nparts, sizeof(*rows));
	if (!dg || !rows) {
		rc = fd_err_set(err, FD_EIO, "out of memory");
		goto out;
	}
	for (i = 0; i < nparts; i++)
		if ((rc = fd_audit_digest_rows(st, parts[i].table, parts[i].key_col, key, dg[i], &rows[i], err)))
			goto out;
	/* details: the caller's members as written, then ours */
	if (members) {
		n = strlen(extra_json);
		while (n && extra_json[n - 1] != '}')
			n--;
		fd_buf_add(&det, extra_json, n - 1);  /* up to, not including, the closing brace */
		while (det.len && (det.s[det.len - 1] == ' ' || det.s[det.len - 1] == '\n' ||
				   det.s[det.len - 1] == '\t' || det.s[det.len - 1] == '\r'))
			det.s[--det.len] = '\0';
		fd_buf_addc(&det, ',');
	} else
		fd_buf_addc(&det, '{');
	if (nparts == 1) {
		fd_buf_addf(&det, "\"table\":\"%s\",\"key\":\"%s\",\"rows\":%lld}", parts[0].table,
			    parts[0].key_col, (long long)rows[0]);
		memcpy(data, dg[0], sizeof(data));
	} else {
		fd_buf_adds(&det, "\"tables\":[");
		for (i = 0; i < nparts; i++)
			fd_buf_addf(&det, "%s{\"table\":\"%s\",\"key\":\"%s\",\"rows\":%lld,\"digest\":\"%s\"}",
				    i ? "," : "", parts[i].table, parts[i].key_col, (long long)rows[i], dg[i]);
		fd_buf_adds(&det, "]}");
		fd_audit_combine_digests(dg, nparts, data);
	}
	if (!det.s || det.s[det.len - 1] != '}') {
		rc = fd_err_set(err, FD_EIO, "out of memory");
		goto out;
	}
	snprintf(id, sizeof(id), "%lld", (long long)key);
	e.action = action;
	e.object_type = object_type;
	e.object_id = id;
	e.details = det.s;
	e.data_digest = data;
	rc = fd_audit_append(st, &e, seq, err);
out:
	free(dg);
	free(rows);
	fd_buf_release(&det);
	return rc;
}
