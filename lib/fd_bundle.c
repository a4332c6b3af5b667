/* fd_bundle.c — see fd_bundle.h. */
#include "fd_bundle.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>
#include <zstd.h>

#include "fd_audit.h"
#include "fd_buf.h"
#include "fd_io.h"
#include "fd_reader.h"
#include "fd_txn.h"
#include "fd_writer.h"
#include "banned.h"

#define DIRNAME "fd-bundle"
#define CHUNK (1 << 20)
#define MAX_SMALL_MEMBER (256 << 20)  /* manifest.json and SHA256SUMS are read into memory */

/* The members, in archive order; SHA256SUMS lists the others. */
enum { M_MANIFEST, M_SUMS, M_AUDIT, M_DB, M_N };
static const char *const member_name[M_N] = {"manifest.json", "SHA256SUMS", "audit.ndjson", "store.db"};

static void sha_hex(crypto_hash_sha256_state *s, char hex[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256_final(s, h);
	sodium_bin2hex(hex, 65, h, sizeof(h));
}

/* ---- a temporary directory ------------------------------------------------------------- */

struct tmpdir {
	char dir[4096];
	char path[M_N + 1][4200];  /* the members' files; [M_N]: scratch */
};

static int tmpdir_make(struct tmpdir *t, struct fd_err *err)
{
	const char *base = getenv("TMPDIR");
	int i;

	if (!base || !*base)
		base = "/tmp";
	if ((size_t)snprintf(t->dir, sizeof(t->dir), "%s/fd-bundle.XXXXXX", base) >= sizeof(t->dir))
		return fd_err_set(err, FD_EIO, "TMPDIR is too long");
	if (!mkdtemp(t->dir))
		return fd_err_set(err, FD_EIO, "cannot create a temporary directory in '%s': %s", base, strerror(errno));
	for (i = 0; i < M_N; i++)
		snprintf(t->path[i], sizeof(t->path[i]), "%s/%s", t->dir, member_name[i]);
	snprintf(t->path[M_N], sizeof(t->path[M_N]), "%s/check.ndjson", t->dir);
	return FD_OK;
}

static void tmpdir_remove(struct tmpdir *t)
{
	DIR *d;
	struct dirent *e;
	char p[4400];

	if (!t->dir[0])
		return;
	if ((d = opendir(t->dir))) {
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(p, sizeof(p), "%s/%s", t->dir, e->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(t->dir);
	t->dir[0] = '\0';
}

/* ---- what the snapshot says ------------------------------------------------------------ */

/* audit.ndjson: the log as `fd-audit log --format ndjson` writes it. */
static int write_audit(struct fd_store *snap, const char *path, char sha[65], int64_t *size,
		       struct fd_err *err)
{
	struct fd_out *out = NULL;
	struct fd_writer *w = NULL;
	struct fd_verify_log *it = NULL;
	struct fd_verify_log_entry e;
	int rc, r;

	if ((rc = fd_out_open(&out, path, NULL, err)))
		return rc;
	if (!(w = fd_writer_create(out, FD_FMT_NDJSON, fd_verify_log_columns, fd_verify_log_ncolumns))) {
		rc = fd_err_set(err, FD_EIO, "out of memory");
		goto fail;
	}
	if ((rc = fd_verify_log_open(&it, snap, NULL, err)))
		goto fail;
	while ((r = fd_verify_log_next(it, &e, err)) > 0)
		fd_verify_log_write(w, &e);
	if (r < 0) {
		rc = -r;
		goto fail;
	}
	fd_verify_log_free(it);
	fd_writer_free(w);
	if ((rc = fd_out_commit(out, err)))
		return rc;
	return fd_sha256_file(path, sha, size, err);
fail:
	fd_verify_log_free(it);
	fd_writer_free(w);
	fd_out_abort(out);
	return rc;
}

static void add_ts(struct fd_buf *b, int64_t ms)
{
	char ts[FD_TS_BUFSZ];

	fd_buf_addc(b, '"');
	fd_buf_adds(b, fd_format_ts(ms, ts));
	fd_buf_addc(b, '"');
}

static void add_str(struct fd_buf *b, const char *s)
{
	if (s)
		fd_buf_add_json_str(b, s, strlen(s));
	else
		fd_buf_adds(b, "null");
}

static const char *col_text(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? NULL : (const char *)sqlite3_column_text(s, i);
}

static int add_counts(struct fd_store *snap, struct fd_buf *b, struct fd_bundle_info *info, struct fd_err *err)
{
	sqlite3_stmt *s, *c = NULL;
	struct fd_buf sql = FD_BUF_INIT;
	int rc = FD_OK, step, first = 1;

	if ((rc = fd_store_prepare(snap, &s, "SELECT name FROM sqlite_schema WHERE type = 'table'"
				   " AND name NOT LIKE 'sqlite!_%' ESCAPE '!' ORDER BY name", err)))
		return rc;
	fd_buf_adds(b, "\"counts\":{");
	while (!rc && (step = sqlite3_step(s)) == SQLITE_ROW) {
		const char *name = col_text(s, 0);

		if (!first)
			fd_buf_addc(b, ',');
		first = 0;
		add_str(b, name);
		fd_buf_addc(b, ':');
		if (!fd_plain_ident(name, FD_IDENT_MAX)) {  /* not one of ours: never put into SQL */
			fd_buf_adds(b, "null");
			continue;
		}
		fd_buf_reset(&sql);
		if (fd_buf_addf(&sql, "SELECT count(*) FROM \"%s\"", name)) {
			rc = fd_err_set(err, FD_EIO, "out of memory");
			break;
		}
		if ((rc = fd_store_prepare(snap, &c, sql.s, err)))
			break;
		if (sqlite3_step(c) == SQLITE_ROW) {
			int64_t n = sqlite3_column_int64(c, 0);

			fd_buf_add_i64(b, n);
			if (!strcmp(name, "transactions"))
				info->transactions = n;
		} else
			rc = fd_store_error(snap, "counting rows", err);
		sqlite3_finalize(c);
	}
	if (!rc && step != SQLITE_DONE)
		rc = fd_store_error(snap, "listing tables", err);
	fd_buf_release(&sql);
	sqlite3_finalize(s);
	fd_buf_addc(b, '}');
	return rc;
}

static int add_sources(struct fd_store *snap, struct fd_buf *b, struct fd_bundle_info *info, struct fd_err *err)
{
	sqlite3_stmt *s;
	int rc, first = 1;

	if ((rc = fd_store_prepare(snap, &s, "SELECT id, path, sha256, size, format, rows_accepted, rows_rejected,"
				   " ingested_at, actor FROM sources ORDER BY id", err)))
		return rc;
	fd_buf_adds(b, "\"sources\":[");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		fd_buf_adds(b, first ? "{\"id\":" : ",{\"id\":");
		first = 0;
		fd_buf_add_i64(b, sqlite3_column_int64(s, 0));
		fd_buf_adds(b, ",\"path\":");
		add_str(b, col_text(s, 1));
		fd_buf_adds(b, ",\"sha256\":");
		add_str(b, col_text(s, 2));
		fd_buf_adds(b, ",\"size\":");
		fd_buf_add_i64(b, sqlite3_column_int64(s, 3));
		fd_buf_adds(b, ",\"format\":");
		add_str(b, col_text(s, 4));
		fd_buf_adds(b, ",\"rows_accepted\":");
		fd_buf_add_i64(b, sqlite3_column_int64(s, 5));
		fd_buf_adds(b, ",\"rows_rejected\":");
		fd_buf_add_i64(b, sqlite3_column_int64(s, 6));
		fd_buf_adds(b, ",\"ingested_at\":");
		add_ts(b, sqlite3_column_int64(s, 7));
		fd_buf_adds(b, ",\"actor\":");
		add_str(b, col_text(s, 8));
		fd_buf_addc(b, '}');
		info->sources++;
	}
	if (rc != SQLITE_DONE) {
		rc = fd_store_error(snap, "reading the sources", err);
		sqlite3_finalize(s);
		return rc;
	}
	sqlite3_finalize(s);
	fd_buf_addc(b, ']');
	return FD_OK;
}

static int add_seals(struct fd_store *snap, struct fd_buf *b, struct fd_bundle_info *info, struct fd_err *err)
{
	sqlite3_stmt *s;
	int rc, first = 1;

	if ((rc = fd_store_prepare(snap, &s, "SELECT id, seq, head_hash, public_key, signature, sealed_at, actor"
				   " FROM audit_seals ORDER BY id", err)))
		return rc;
	fd_buf_adds(b, "\"seals\":[");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		unsigned char pk[crypto_sign_PUBLICKEYBYTES];
		const char *pkhex = col_text(s, 3);
		char text[FD_SEAL_TEXT_MAX], kid[17] = "";

		if (pkhex && strlen(pkhex) == 64 &&
		    sodium_hex2bin(pk, sizeof(pk), pkhex, 64, NULL, NULL, NULL) == 0)
			fd_seal_key_id(pk, kid);
		if (fd_seal_text(sqlite3_column_int64(s, 1), col_text(s, 2), col_text(s, 4), text))
			text[0] = '\0';
		fd_buf_adds(b, first ? "{\"id\":" : ",{\"id\":");
		first = 0;
		fd_buf_add_i64(b, sqlite3_column_int64(s, 0));
		fd_buf_adds(b, ",\"seq\":");
		fd_buf_add_i64(b, sqlite3_column_int64(s, 1));
		fd_buf_adds(b, ",\"head\":");
		add_str(b, col_text(s, 2));
		fd_buf_adds(b, ",\"public_key\":");
		add_str(b, pkhex);
		fd_buf_adds(b, ",\"key_id\":");
		add_str(b, kid);
		fd_buf_adds(b, ",\"signature\":");
		add_str(b, col_text(s, 4));
		fd_buf_adds(b, ",\"sealed_at\":");
		add_ts(b, sqlite3_column_int64(s, 5));
		fd_buf_adds(b, ",\"actor\":");
		add_str(b, col_text(s, 6));
		fd_buf_adds(b, ",\"text\":");
		add_str(b, text);
		fd_buf_addc(b, '}');
		info->seals++;
	}
	if (rc != SQLITE_DONE) {
		rc = fd_store_error(snap, "reading the seals", err);
		sqlite3_finalize(s);
		return rc;
	}
	sqlite3_finalize(s);
	fd_buf_addc(b, ']');
	return FD_OK;
}

/*
 * The manifest's members derived from the snapshot (no braces): store, audit, counts,
 * sources, seals.  Regenerated when verifying and compared with the manifest.
 */
static int derived(struct fd_store *snap, const struct tmpdir *t, const struct fd_verify_result *vr,
		   struct fd_buf *b, struct fd_bundle_info *info, struct fd_err *err)
{
	char audit_sha[65];
	int64_t audit_size;
	int rc;

	info->sources = info->seals = info->transactions = 0;
	if ((rc = fd_sha256_file(t->path[M_DB], info->db_sha256, &info->db_size, err)))
		return rc;
	if ((rc = write_audit(snap, t->path[M_N], audit_sha, &audit_size, err)))
		return rc;
	memcpy(info->store_id, vr->store_id, sizeof(info->store_id));
	info->entries = vr->entries;
	info->head_seq = vr->head_seq;
	memcpy(info->head_hash, vr->head_hash, sizeof(info->head_hash));
	fd_buf_adds(b, "\"store\":{\"id\":");
	add_str(b, vr->store_id);
	fd_buf_addf(b, ",\"schema_version\":%d,\"file\":\"%s\",\"sha256\":\"%s\",\"size\":%lld},",
		    fd_store_schema_version(snap), member_name[M_DB], info->db_sha256, (long long)info->db_size);
	fd_buf_addf(b, "\"audit\":{\"entries\":%lld,\"head_seq\":%lld,\"head_hash\":", (long long)vr->entries,
		    (long long)vr->head_seq);
	add_str(b, vr->head_hash);
	fd_buf_addf(b, ",\"file\":\"%s\",\"sha256\":\"%s\"},", member_name[M_AUDIT], audit_sha);
	if ((rc = add_counts(snap, b, info, err)))
		return rc;
	fd_buf_addc(b, ',');
	if ((rc = add_sources(snap, b, info, err)))
		return rc;
	fd_buf_addc(b, ',');
	if ((rc = add_seals(snap, b, info, err)))
		return rc;
	if (!b->s || fd_buf_failed(b))
		return fd_err_set(err, FD_EIO, "out of memory");
	return FD_OK;
}

/* ---- the snapshot ---------------------------------------------------------------------- */

static int snapshot(struct fd_store *st, const char *path, struct fd_err *err)
{
	sqlite3 *dst = NULL;
	sqlite3_backup *bk;
	int rc;

	if (sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		rc = fd_err_set(err, FD_EIO, "cannot create the snapshot '%s': %s", path,
				dst ? sqlite3_errmsg(dst) : "out of memory");
		sqlite3_close(dst);
		return rc;
	}
	/* one step over all pages: one read transaction on the store, so a consistent copy */
	bk = sqlite3_backup_init(dst, "main", fd_store_db(st), "main");
	if (!bk) {
		rc = fd_err_set(err, FD_EIO, "snapshot of the store: %s", sqlite3_errmsg(dst));
		sqlite3_close(dst);
		return rc;
	}
	rc = sqlite3_backup_step(bk, -1);
	sqlite3_backup_finish(bk);
	if (rc != SQLITE_DONE) {
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
			rc = fd_err_set(err, FD_EIO, "snapshot of the store: store '%s' is locked", fd_store_path(st));
		else
			rc = fd_err_set(err, FD_EIO, "snapshot of the store: %s", sqlite3_errstr(rc));
		sqlite3_close(dst);
		return rc;
	}
	/* a self-contained file: no -wal beside it */
	if (sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL) != SQLITE_OK) {
		rc = fd_err_set(err, FD_EIO, "snapshot of the store: %s", sqlite3_errmsg(dst));
		sqlite3_close(dst);
		return rc;
	}
	if (sqlite3_close(dst) != SQLITE_OK)
		return fd_err_set(err, FD_EIO, "closing the snapshot '%s'", path);
	return FD_OK;
}

/* ---- writing: ustar through zstd ------------------------------------------------------- */

struct tarw {
	struct fd_out *out;
	ZSTD_CCtx *cc;
	crypto_hash_sha256_state h;  /* of the compressed bytes: the bundle file's hash */
	int64_t size;
	char *zbuf;
	size_t zcap;
	int64_t mtime;
	int zerr;
	const char *zmsg;
};

static void tarw_push(struct tarw *w, const void *p, size_t n, ZSTD_EndDirective mode)
{
	ZSTD_inBuffer in = {p, n, 0};
	size_t left;

	if (w->zerr)
		return;
	do {
		ZSTD_outBuffer zo = {w->zbuf, w->zcap, 0};

		left = ZSTD_compressStream2(w->cc, &zo, &in, mode);
		if (ZSTD_isError(left)) {
			w->zerr = 1;
			w->zmsg = ZSTD_getErrorName(left);
			return;
		}
		if (zo.pos) {
			fd_out_write(w->out, w->zbuf, zo.pos);
			crypto_hash_sha256_update(&w->h, (const unsigned char *)w->zbuf, zo.pos);
			w->size += (int64_t)zo.pos;
		}
	} while (mode == ZSTD_e_end ? left != 0 : in.pos < in.size);
}

static void octal(char *field, size_t width, uint64_t v)
{
	/* width-1 octal digits and a NUL */
	size_t i = width - 1;

	field[i] = '\0';
	while (i > 0) {
		field[--i] = (char)('0' + (v & 7));
		v >>= 3;
	}
}

static void tar_header(struct tarw *w, const char *name, uint64_t size, char type)
{
	unsigned char h[512];
	unsigned sum = 0;
	size_t i;

	memset(h, 0, sizeof(h));
	snprintf((char *)h, 100, "%s/%s", DIRNAME, name);
	octal((char *)h + 100, 8, type == '5' ? 0755 : 0644);
	octal((char *)h + 108, 8, 0);
	octal((char *)h + 116, 8, 0);
	if (size < (1ULL << 33)) {
		octal((char *)h + 124, 12, size);
	} else {  /* GNU base-256 for 8 GiB and more */
		h[124] = 0x80;
		for (i = 0; i < 8; i++)
			h[135 - i] = (unsigned char)(size >> (8 * i));
	}
	octal((char *)h + 136, 12, (uint64_t)w->mtime);
	h[156] = (unsigned char)type;
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memcpy(h + 265, "fd", 2);
	memcpy(h + 297, "fd", 2);
	memset(h + 148, ' ', 8);
	for (i = 0; i < sizeof(h); i++)
		sum += h[i];
	octal((char *)h + 148, 7, sum);
	h[155] = ' ';
	tarw_push(w, h, sizeof(h), ZSTD_e_continue);
}

static int tar_file(struct tarw *w, const char *name, const char *path, char *buf, struct fd_err *err)
{
	static const char zeros[512];
	struct stat sb;
	FILE *f;
	uint64_t done = 0;
	size_t n;

	if (!(f = fopen(path, "rb")) || fstat(fileno(f), &sb) != 0) {
		int e = errno;

		if (f)
			fclose(f);
		return fd_err_set(err, FD_EIO, "cannot read '%s': %s", path, strerror(e));
	}
	tar_header(w, name, (uint64_t)sb.st_size, '0');
	while ((n = fread(buf, 1, CHUNK, f)) > 0) {
		tarw_push(w, buf, n, ZSTD_e_continue);
		done += n;
	}
	if (ferror(f) || done != (uint64_t)sb.st_size) {
		const char *why = ferror(f) ? strerror(errno) : "it changed size";

		fclose(f);
		return fd_err_set(err, FD_EIO, "cannot read '%s': %s", path, why);
	}
	fclose(f);
	if (done % 512)
		tarw_push(w, zeros, 512 - done % 512, ZSTD_e_continue);
	return FD_OK;
}

static int write_text(const char *path, const struct fd_buf *b, struct fd_err *err)
{
	struct fd_out *out;
	int rc;

	if ((rc = fd_out_open(&out, path, NULL, err)))
		return rc;
	fd_out_write_buf(out, b);
	return fd_out_commit(out, err);
}

static void sums_line(struct fd_buf *b, const char *hex, const char *name)
{
	fd_buf_addf(b, "%s  %s\n", hex, name);
}

int fd_bundle_export(struct fd_store *st, const char *path, const struct fd_verify_opts *opts,
		     struct fd_bundle_info *info, struct fd_verify_result *vr, struct fd_err *err)
{
	struct tmpdir t;
	struct fd_store *snap = NULL;
	struct fd_buf man = FD_BUF_INIT, sums = FD_BUF_INIT, det = FD_BUF_INIT;
	struct fd_err verr = {0};
	struct tarw w;
	const char *avoid[2] = {fd_store_path(st), NULL};
	const struct fd_who *who = fd_store_who(st);
	char hex[65], host[256];
	int64_t now = fd_wall_ms();
	int rc, vrc, i;

	memset(info, 0, sizeof(*info));
	memset(vr, 0, sizeof(*vr));
	memset(&t, 0, sizeof(t));
	memset(&w, 0, sizeof(w));
	if (sodium_init() < 0)
		return fd_err_set(err, FD_EIO, "libsodium failed to initialise");
	if ((rc = tmpdir_make(&t, err)))
		return rc;
	/* open the output first: a bad path fails before the work */
	if ((rc = fd_out_open(&w.out, path, avoid, err)))
		goto out;
	if ((rc = snapshot(st, t.path[M_DB], err)))
		goto out;
	if ((rc = fd_store_open(&snap, t.path[M_DB], FD_STORE_READONLY, who, err))) {
		fd_err_prefix(err, "reading the snapshot");
		goto out;
	}
	vrc = fd_verify_store(snap, opts, vr, &verr);
	if (vrc && vrc != FD_EFINDINGS) {
		*err = verr;
		rc = vrc;
		goto out;
	}

	/* manifest.json */
	snprintf(host, sizeof(host), "%s", fd_store_host(st));
	fd_buf_addf(&man, "{\"format\":\"fd-bundle\",\"version\":%d,\"created_at\":", FD_BUNDLE_VERSION);
	add_ts(&man, now);
	fd_buf_adds(&man, ",\"created_by\":");
	add_str(&man, who->actor);
	fd_buf_adds(&man, ",\"tool\":");
	fd_buf_addf(&det, "%s %s", who->tool, who->version);
	add_str(&man, det.s);
	fd_buf_adds(&man, ",\"exported_from\":{\"path\":");
	add_str(&man, fd_store_path(st));
	fd_buf_adds(&man, ",\"host\":");
	add_str(&man, host);
	fd_buf_adds(&man, "},");
	if ((rc = derived(snap, &t, vr, &man, info, err)))
		goto out;
	if (fd_buf_adds(&man, "}\n") || fd_buf_failed(&det)) {
		rc = fd_err_set(err, FD_EIO, "out of memory");
		goto out;
	}
	fd_store_close(snap);
	snap = NULL;
	/* the regenerated log is audit.ndjson */
	if (rename(t.path[M_N], t.path[M_AUDIT]) != 0) {
		rc = fd_err_set(err, FD_EIO, "cannot rename in '%s': %s", t.dir, strerror(errno));
		goto out;
	}
	if ((rc = write_text(t.path[M_MANIFEST], &man, err)))
		goto out;
	/* SHA256SUMS */
	for (i = 0; i < M_N; i++) {
		if (i == M_SUMS)
			continue;
		if ((rc = fd_sha256_file(t.path[i], hex, NULL, err)))
			goto out;
		sums_line(&sums, hex, member_name[i]);
	}
	if (!sums.s || fd_buf_failed(&sums)) {
		rc = fd_err_set(err, FD_EIO, "out of memory");
		goto out;
	}
	if ((rc = write_text(t.path[M_SUMS], &sums, err)))
		goto out;

	/* the archive */
	w.cc = ZSTD_createCCtx();
	w.zcap = ZSTD_CStreamOutSize();
	w.zbuf = malloc(w.zcap);
	{
		char *buf = malloc(CHUNK);

		if (!w.cc || !w.zbuf || !buf) {
			free(buf);
			rc = fd_err_set(err, FD_EIO, "out of memory");
			goto out;
		}
		ZSTD_CCtx_setParameter(w.cc, ZSTD_c_compressionLevel, 3);
		ZSTD_CCtx_setParameter(w.cc, ZSTD_c_checksumFlag, 1);
		crypto_hash_sha256_init(&w.h);
		w.mtime = now / 1000;
		tar_header(&w, "", 0, '5');
		for (i = 0; i < M_N && !rc; i++)
			rc = tar_file(&w, member_name[i], t.path[i], buf, err);
		free(buf);
		if (rc)
			goto out;
	}
	{
		static const char end[1024];

		tarw_push(&w, end, sizeof(end), ZSTD_e_end);
	}
	if (w.zerr) {
		rc = fd_err_set(err, FD_EIO, "compressing the bundle: %s", w.zmsg);
		goto out;
	}
	sha_hex(&w.h, info->sha256);
	info->size = w.size;
	rc = fd_out_commit(w.out, err);
	w.out = NULL;
	if (rc)
		goto out;

	/* record the export */
	{
		struct fd_audit_entry e;

		fd_buf_reset(&det);
		fd_buf_adds(&det, "{\"path\":");
		add_str(&det, path && strcmp(path, "-") ? path : "-");
		fd_buf_addf(&det, ",\"size\":%lld,\"head_seq\":%lld,\"head_hash\":\"%s\",\"store_sha256\":\"%s\"}",
			    (long long)info->size, (long long)info->head_seq, info->head_hash, info->db_sha256);
		if (!det.s || fd_buf_failed(&det)) {
			rc = fd_err_set(err, FD_EIO, "out of memory");
			goto out;
		}
		e.action = "audit.export";
		e.object_type = "bundle";
		e.object_id = info->sha256;
		e.details = det.s;
		e.data_digest = NULL;
		if ((rc = fd_store_begin(st, err)))
			goto out;
		if ((rc = fd_audit_append(st, &e, &info->audit_seq, err)) || (rc = fd_store_commit(st, err))) {
			fd_store_rollback(st);
			fd_err_prefix(err, "the bundle was written but its export is not recorded");
			goto out;
		}
	}
	if (vrc == FD_EFINDINGS) {
		*err = verr;
		rc = FD_EFINDINGS;
	}
out:
	fd_store_close(snap);
	fd_out_abort(w.out);
	ZSTD_freeCCtx(w.cc);
	free(w.zbuf);
	fd_buf_release(&man);
	fd_buf_release(&sums);
	fd_buf_release(&det);
	tmpdir_remove(&t);
	return rc;
}

/* ---- reading ---------------------------------------------------------------------------- */

/* Read exactly n bytes; FD_EINPUT "truncated" at an early end. */
static int read_exact(struct fd_in *in, void *buf, size_t n, const char *what, struct fd_err *err)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k = fd_in_read(in, (char *)buf + got, n - got, err);

		if (k < 0)
			return err->code ? err->code : FD_EIO;
		if (k == 0)
			return fd_err_set(err, FD_EINPUT, "%s: truncated in %s", fd_in_name(in), what);
		got += (size_t)k;
	}
	return FD_OK;
}

static int parse_octal(const unsigned char *f, size_t n, uint64_t *v)
{
	size_t i = 0;
	int digits = 0;

	if (f[0] & 0x80) {  /* GNU base-256 */
		*v = f[0] & 0x3f;
		for (i = 1; i < n; i++) {
			if (*v >> 55)
				return 0;
			*v = (*v << 8) | f[i];
		}
		return 1;
	}
	*v = 0;
	while (i < n && f[i] == ' ')
		i++;
	for (; i < n && f[i] >= '0' && f[i] <= '7'; i++, digits++) {
		if (*v >> 60)
			return 0;
		*v = (*v << 3) | (uint64_t)(f[i] - '0');
	}
	for (; i < n; i++)
		if (f[i] != ' ' && f[i] != '\0')
			return 0;
	return digits > 0;
}

static int parse_sums(const char *text, const char (*have)[65], const int *present, struct fd_err *err)
{
	int listed[M_N] = {0};
	const char *p = text;
	int i, line = 0;

	while (*p) {
		const char *nl = strchr(p, '\n'), *name;
		size_t len = nl ? (size_t)(nl - p) : strlen(p), nlen;
		char hex[65], vis[120];

		line++;
		if (len < 67 || (p[64] != ' ') || (p[65] != ' ' && p[65] != '*'))
			goto bad;
		memcpy(hex, p, 64);
		hex[64] = '\0';
		name = p + 66;
		nlen = len - 66;
		for (i = 0; i < M_N; i++)
			if (i != M_SUMS && strlen(member_name[i]) == nlen && !memcmp(member_name[i], name, nlen))
				break;
		if (i == M_N) {
			fd_visible(vis, sizeof(vis), name, nlen);
			return fd_err_set(err, FD_EINPUT, "bundle SHA256SUMS line %d: '%s' is not a member of the bundle",
					  line, vis);
		}
		listed[i] = 1;
		if (!present[i])
			return fd_err_set(err, FD_EINPUT, "bundle member %s is missing", member_name[i]);
		if (strcmp(hex, have[i]) != 0)
			return fd_err_set(err, FD_EINPUT, "bundle member %s: SHA-256 mismatch (damaged or altered): SHA256SUMS says %.16s..., the member is %.16s...",
					  member_name[i], hex, have[i]);
		p = nl ? nl + 1 : p + len;
	}
	for (i = 0; i < M_N; i++)
		if (i != M_SUMS && !listed[i])
			return fd_err_set(err, FD_EINPUT, "bundle SHA256SUMS does not list %s", member_name[i]);
	return FD_OK;
bad:
	return fd_err_set(err, FD_EINPUT, "bundle SHA256SUMS line %d is not 'HASH  NAME'", line);
}

/* Read the archive into t's files, hashing each member. */
static int unpack(struct fd_in *in, struct tmpdir *t, char (*sha)[65], int *present, struct fd_err *err)
{
	unsigned char h[512];
	char *buf = malloc(CHUNK);
	int rc = FD_OK;

	if (!buf)
		return fd_err_set(err, FD_EIO, "out of memory");
	for (;;) {
		uint64_t size, left, sum;
		unsigned s1 = 0;
		int s2 = 0, k;
		char name[260], vis[300];
		const char *base;
		FILE *f = NULL;
		crypto_hash_sha256_state hs;
		size_t i;

		if ((rc = read_exact(in, h, sizeof(h), "an archive header", err)))
			break;
		for (i = 0; i < sizeof(h) && !h[i]; i++)
			;
		if (i == sizeof(h)) {  /* the end: the rest must be zeros */
			ssize_t n;

			while ((n = fd_in_read(in, buf, CHUNK, err)) > 0)
				for (i = 0; i < (size_t)n; i++)
					if (buf[i]) {
						rc = fd_err_set(err, FD_EINPUT, "%s: data after the end of the archive",
								fd_in_name(in));
						goto out;
					}
			if (n < 0)
				rc = err->code ? err->code : FD_EIO;
			break;
		}
		for (i = 0; i < sizeof(h); i++) {
			unsigned char c = (i >= 148 && i < 156) ? ' ' : h[i];

			s1 += c;
			s2 += (signed char)c;
		}
		if (!parse_octal(h + 148, 8, &sum) || (sum != s1 && (int64_t)sum != s2) || memcmp(h + 257, "ustar", 5)) {
			rc = fd_err_set(err, FD_EINPUT, "%s: not an fd evidence bundle (bad archive header)", fd_in_name(in));
			break;
		}
		if (!parse_octal(h + 124, 12, &size)) {
			rc = fd_err_set(err, FD_EINPUT, "%s: bad member size in the archive", fd_in_name(in));
			break;
		}
		/* name: prefix "/" name, each NUL-terminated within its field */
		{
			size_t pl = strnlen((const char *)h + 345, 155), nl = strnlen((const char *)h, 100);

			if (pl)
				snprintf(name, sizeof(name), "%.*s/%.*s", (int)pl, (const char *)h + 345, (int)nl,
					 (const char *)h);
			else
				snprintf(name, sizeof(name), "%.*s", (int)nl, (const char *)h);
		}
		fd_visible(vis, sizeof(vis), name, strlen(name));
		base = name;
		if (!strncmp(base, "./", 2))
			base += 2;
		if (h[156] == '5') {  /* a directory: only ours */
			if (strcmp(base, DIRNAME "/") && strcmp(base, DIRNAME) && strcmp(base, ".") && strcmp(base, "./")) {
				rc = fd_err_set(err, FD_EINPUT, "bundle: unexpected directory '%s'", vis);
				break;
			}
			continue;
		}
		if (h[156] != '0' && h[156] != '\0') {
			rc = fd_err_set(err, FD_EINPUT, "bundle: member '%s' is not a plain file (type '%c'; "
					"re-pack with tar --format=ustar)", vis, h[156] >= 32 && h[156] < 127 ? h[156] : '?');
			break;
		}
		if (strncmp(base, DIRNAME "/", sizeof(DIRNAME))) {
			rc = fd_err_set(err, FD_EINPUT, "bundle: unexpected member '%s'", vis);
			break;
		}
		base += sizeof(DIRNAME);
		for (k = 0; k < M_N; k++)
			if (!strcmp(base, member_name[k]))
				break;
		if (k == M_N) {
			rc = fd_err_set(err, FD_EINPUT, "bundle: unexpected member '%s'", vis);
			break;
		}
		if (present[k]) {
			rc = fd_err_set(err, FD_EINPUT, "bundle: member %s appears twice", member_name[k]);
			break;
		}
		if (k != M_DB && k != M_AUDIT && size > MAX_SMALL_MEMBER) {
			rc = fd_err_set(err, FD_EINPUT, "bundle: member %s is implausibly large (%llu bytes)",
					member_name[k], (unsigned long long)size);
			break;
		}
		present[k] = 1;
		if (!(f = fopen(t->path[k], "wb"))) {
			rc = fd_err_set(err, FD_EIO, "cannot create '%s': %s", t->path[k], strerror(errno));
			break;
		}
		crypto_hash_sha256_init(&hs);
		for (left = size; left && !rc;) {
			size_t n = left < CHUNK ? (size_t)left : CHUNK;

			if ((rc = read_exact(in, buf, n, member_name[k], err)))
				break;
			crypto_hash_sha256_update(&hs, (const unsigned char *)buf, n);
			if (fwrite(buf, 1, n, f) != n)
				rc = fd_err_set(err, FD_EIO, "write error on '%s': %s", t->path[k], strerror(errno));
			left -= n;
		}
		if (fclose(f) != 0 && !rc)
			rc = fd_err_set(err, FD_EIO, "write error on '%s': %s", t->path[k], strerror(errno));
		if (rc)
			break;
		sha_hex(&hs, sha[k]);
		if (size % 512 && (rc = read_exact(in, buf, 512 - size % 512, member_name[k], err)))
			break;
	}
out:
	free(buf);
	return rc;
}

static char *slurp(const char *path, struct fd_err *err)
{
	FILE *f = fopen(path, "rb");
	struct fd_buf b = FD_BUF_INIT;
	char chunk[8192];
	size_t n;

	if (!f) {
		fd_err_set(err, FD_EIO, "cannot read '%s': %s", path, strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (fd_buf_add(&b, chunk, n)) {
			fclose(f);
			fd_buf_release(&b);
			fd_err_set(err, FD_EIO, "out of memory");
			return NULL;
		}
	fclose(f);
	if (!b.s)
		fd_buf_adds(&b, "");
	if (b.s && strlen(b.s) != b.len) {
		fd_buf_release(&b);
		fd_err_set(err, FD_EINPUT, "'%s' holds a NUL byte", path);
		return NULL;
	}
	return fd_buf_detach(&b, NULL);
}

/* Findings are held back until the bundle is known to be consistent: a damaged bundle
 * reports the damage, not what the damage did to the store. */
struct held {
	const struct fd_verify_opts *user;
	struct fd_verify_finding *f;
	size_t n, cap;
	int oom;
};

static void hold_finding(void *ctx, const struct fd_verify_finding *f)
{
	struct held *h = ctx;
	struct fd_verify_finding *nf;

	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 16;

		if (!(nf = realloc(h->f, cap * sizeof(*nf)))) {
			h->oom = 1;
			return;
		}
		h->f = nf;
		h->cap = cap;
	}
	h->f[h->n].seq = f->seq;
	if (!(h->f[h->n].msg = strdup(f->msg))) {
		h->oom = 1;
		return;
	}
	h->n++;
}

static void hold_note(void *ctx, const char *msg)
{
	struct held *h = ctx;

	if (h->user && h->user->on_note)
		h->user->on_note(h->user->ctx, msg);
}

static void hold_progress(void *ctx, int64_t rows)
{
	struct held *h = ctx;

	if (h->user && h->user->on_progress)
		h->user->on_progress(h->user->ctx, rows);
}

int fd_bundle_verify(const char *path, const struct fd_who *who, const struct fd_verify_opts *opts,
		     struct fd_bundle_info *info, struct fd_verify_result *vr, struct fd_err *err)
{
	struct tmpdir t;
	struct fd_in *in = NULL;
	struct fd_store *snap = NULL;
	struct fd_buf regen = FD_BUF_INIT;
	struct fd_err verr = {0};
	char sha[M_N][65];
	int present[M_N] = {0};
	char *sums = NULL;
	json_t *man = NULL, *mine = NULL;
	json_error_t je;
	struct fd_verify_opts ho;
	struct held held;
	int rc, vrc, i;
	static const char *const parts[] = {"store", "audit", "counts", "sources", "seals"};

	memset(info, 0, sizeof(*info));
	memset(vr, 0, sizeof(*vr));
	memset(&t, 0, sizeof(t));
	memset(sha, 0, sizeof(sha));
	memset(&ho, 0, sizeof(ho));
	memset(&held, 0, sizeof(held));
	if (sodium_init() < 0)
		return fd_err_set(err, FD_EIO, "libsodium failed to initialise");
	if ((rc = fd_in_open(&in, path, FD_IN_HASH, err)))
		return rc;
	if (!fd_in_compressed(in)) {
		rc = fd_err_set(err, FD_EINPUT, "%s: not an fd evidence bundle (not zstd-compressed)", fd_in_name(in));
		goto out;
	}
	if ((rc = tmpdir_make(&t, err)) || (rc = unpack(in, &t, sha, present, err)))
		goto out;
	if ((rc = fd_in_drain(in, err)))
		goto out;
	fd_in_sha256(in, info->sha256);
	info->size = (int64_t)fd_in_raw_bytes(in);
	for (i = 0; i < M_N; i++)
		if (!present[i]) {
			rc = fd_err_set(err, FD_EINPUT, "bundle member %s is missing", member_name[i]);
			goto out;
		}
	if (!(sums = slurp(t.path[M_SUMS], err)) || (rc = parse_sums(sums, (const char (*)[65])sha, present, err))) {
		rc = rc ? rc : err->code;
		goto out;
	}
	if (!(man = json_load_file(t.path[M_MANIFEST], JSON_REJECT_DUPLICATES, &je)) || !json_is_object(man)) {
		rc = fd_err_set(err, FD_EINPUT, "bundle manifest.json: not a JSON object (%s at line %d)", je.text, je.line);
		goto out;
	}
	if (strcmp(json_string_value(json_object_get(man, "format")) ? json_string_value(json_object_get(man, "format")) : "",
		   "fd-bundle") != 0) {
		rc = fd_err_set(err, FD_EINPUT, "bundle manifest.json: format is not \"fd-bundle\"");
		goto out;
	}
	if (!json_is_integer(json_object_get(man, "version")) ||
	    json_integer_value(json_object_get(man, "version")) != FD_BUNDLE_VERSION) {
		rc = fd_err_set(err, FD_EINPUT, "bundle manifest.json: version %s is not %d (made by another fd?)",
				json_is_integer(json_object_get(man, "version")) ? "other" : "missing", FD_BUNDLE_VERSION);
		goto out;
	}
	if ((rc = fd_store_open(&snap, t.path[M_DB], FD_STORE_READONLY, who, err))) {
		fd_err_prefix(err, "bundle store.db");
		rc = FD_EINPUT;
		goto out;
	}
	if (opts)
		ho = *opts;
	held.user = opts;
	ho.on_finding = hold_finding;
	ho.on_note = hold_note;
	ho.on_progress = hold_progress;
	ho.ctx = &held;
	vrc = fd_verify_store(snap, &ho, vr, &verr);
	if (held.oom && !vrc)
		vrc = fd_err_set(&verr, FD_EIO, "out of memory");
	if (vrc && vrc != FD_EFINDINGS) {
		*err = verr;
		rc = vrc == FD_EIO ? FD_EINPUT : vrc;
		fd_err_prefix(err, "bundle store.db");
		goto out;
	}
	fd_buf_addc(&regen, '{');
	if ((rc = derived(snap, &t, vr, &regen, info, err)))
		goto out;
	fd_buf_addc(&regen, '}');
	if (!(mine = json_loads(regen.s, 0, &je))) {
		rc = fd_err_set(err, FD_EIO, "internal: regenerated manifest is not JSON (%s)", je.text);
		goto out;
	}
	/* the log member is the snapshot's log */
	{
		const char *said = json_string_value(json_object_get(json_object_get(mine, "audit"), "sha256"));

		if (!said || strcmp(said, sha[M_AUDIT]) != 0) {
			rc = fd_err_set(err, FD_EINPUT, "bundle audit.ndjson is not the audit log of store.db (altered)");
			goto out;
		}
	}
	for (i = 0; i < (int)(sizeof(parts) / sizeof(parts[0])); i++)
		if (!json_equal(json_object_get(man, parts[i]), json_object_get(mine, parts[i]))) {
			rc = fd_err_set(err, FD_EINPUT, "bundle manifest.json: the \"%s\" part does not match store.db (altered)",
					parts[i]);
			goto out;
		}
	if (vrc == FD_EFINDINGS) {
		for (i = 0; opts && opts->on_finding && i < (int)held.n; i++)
			opts->on_finding(opts->ctx, &held.f[i]);
		*err = verr;
		rc = FD_EFINDINGS;
	}
out:
	for (i = 0; i < (int)held.n; i++)
		free((char *)held.f[i].msg);
	free(held.f);
	json_decref(man);
	json_decref(mine);
	free(sums);
	fd_buf_release(&regen);
	fd_store_close(snap);
	fd_in_free(in);
	tmpdir_remove(&t);
	return rc;
}
