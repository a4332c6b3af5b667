/*
 * fd_seal.c — seals (contract in fd_seal.h): key files, the signed text, sealing the head of
 * the chain.  Checking seals is part of the verifier (fd_verify.c).
 */
#include "fd_seal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fd_audit.h"
#include "fd_buf.h"
#include "fd_txn.h"
#include "fd_verify.h"
#include "banned.h"

/* ---- the signed text and key ids ------------------------------------------------------- */

size_t fd_seal_message(const char *store_id, int64_t seq, const char *head, char buf[256])
{
	int n = snprintf(buf, 256, "fd-audit seal v1\nstore %s\nseq %lld\nhead %s\n", store_id,
			 (long long)seq, head);

	return n < 0 ? 0 : (size_t)n < 256 ? (size_t)n : 255;
}

void fd_seal_key_id(const unsigned char pk[crypto_sign_PUBLICKEYBYTES], char id[17])
{
	sodium_bin2hex(id, 17, pk, 8);
}

/* ---- keys ------------------------------------------------------------------------------ */

static const char secret_header[] = "fd-audit secret key v1";
static const char public_header[] = "fd-audit public key v1";

/* Write text to a new file path with mode, never replacing one: a temporary beside it, then
 * link(2), which fails if path exists. */
static int write_new_file(const char *path, const char *text, mode_t mode, struct fd_err *err)
{
	struct fd_buf tmp = FD_BUF_INIT;
	size_t n = strlen(text);
	int fd, rc = FD_OK;

	if (fd_buf_addf(&tmp, "%s.XXXXXX", path))
		return fd_err_set(err, FD_EIO, "out of memory");
	fd = mkstemp(tmp.s);  /* mode 0600 */
	if (fd < 0) {
		rc = fd_err_set(err, FD_EIO, "cannot create '%s': %s", path, strerror(errno));
		goto out;
	}
	if (fchmod(fd, mode) != 0 || write(fd, text, n) != (ssize_t)n || fsync(fd) != 0) {
		rc = fd_err_set(err, FD_EIO, "write error on '%s': %s", path, strerror(errno));
		close(fd);
		unlink(tmp.s);
		goto out;
	}
	if (close(fd) != 0) {
		rc = fd_err_set(err, FD_EIO, "write error on '%s': %s", path, strerror(errno));
		unlink(tmp.s);
		goto out;
	}
	if (link(tmp.s, path) != 0) {
		rc = errno == EEXIST ? fd_err_set(err, FD_EUSAGE, "'%s' exists: not replacing a key", path)
				     : fd_err_set(err, FD_EIO, "cannot create '%s': %s", path, strerror(errno));
	}
	unlink(tmp.s);
out:
	fd_buf_release(&tmp);
	return rc;
}

int fd_seal_keygen(const char *path, char key_id[17], struct fd_err *err)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	struct fd_buf pub = FD_BUF_INIT, sec = FD_BUF_INIT, pubpath = FD_BUF_INIT;
	struct stat sb;
	int rc;

	if (sodium_init() < 0)
		return fd_err_set(err, FD_EIO, "libsodium failed to initialise");
	if (fd_buf_addf(&pubpath, "%s.pub", path))
		return fd_err_set(err, FD_EIO, "out of memory");
	if (lstat(path, &sb) == 0 || lstat(pubpath.s, &sb) == 0) {
		rc = fd_err_set(err, FD_EUSAGE, "'%s' exists: not replacing a key",
				lstat(path, &sb) == 0 ? path : pubpath.s);
		goto out;
	}
	crypto_sign_keypair(pk, sk);
	fd_buf_addf(&sec, "%s\n", secret_header);
	fd_buf_add_hex(&sec, sk, crypto_sign_SEEDBYTES);  /* libsodium's sk starts with the seed */
	fd_buf_addc(&sec, '\n');
	fd_buf_addf(&pub, "%s\n", public_header);
	fd_buf_add_hex(&pub, pk, sizeof(pk));
	if (fd_buf_addc(&pub, '\n') || !sec.s || sec.s[sec.len - 1] != '\n') {
		rc = fd_err_set(err, FD_EIO, "out of memory");
		goto out;
	}
	if ((rc = write_new_file(path, sec.s, 0600, err)))
		goto out;
	if ((rc = write_new_file(pubpath.s, pub.s, 0644, err))) {
		unlink(path);
		goto out;
	}
	if (key_id)
		fd_seal_key_id(pk, key_id);
out:
	sodium_memzero(sk, sizeof(sk));
	if (sec.s)
		sodium_memzero(sec.s, sec.len);
	fd_buf_release(&sec);
	fd_buf_release(&pub);
	fd_buf_release(&pubpath);
	return rc;
}

/* Read a key file: header line and one hex line of 2*n digits into out.  Returns FD_OK,
 * or FD_EINPUT with *other = 1 when the file holds the other kind of key. */
static int read_key_file(const char *path, const char *header, const char *other_header,
			 unsigned char *out, size_t n, int *other, struct fd_err *err)
{
	char buf[512], vis[200];
	FILE *f;
	size_t len, hl = strlen(header);
	int rc = FD_OK;

	*other = 0;
	fd_visible(vis, sizeof(vis), path, strlen(path));
	if (!(f = fopen(path, "rb")))
		return fd_err_set(err, FD_EIO, "cannot open key '%s': %s", vis, strerror(errno));
	len = fread(buf, 1, sizeof(buf) - 1, f);
	if (ferror(f))
		rc = fd_err_set(err, FD_EIO, "cannot read key '%s': %s", vis, strerror(errno));
	fclose(f);
	if (rc)
		return rc;
	buf[len] = '\0';
	if (strncmp(buf, other_header, strlen(other_header)) == 0 && buf[strlen(other_header)] == '\n') {
		*other = 1;
		return FD_EINPUT;
	}
	if (strncmp(buf, header, hl) != 0 || buf[hl] != '\n' || len != hl + 1 + 2 * n + 1 ||
	    buf[len - 1] != '\n')
		goto bad;
	buf[len - 1] = '\0';
	if (!fd_audit_unhex(buf + hl + 1, out, n))
		goto bad;
	return FD_OK;
bad:
	return fd_err_set(err, FD_EINPUT, "'%s' is not an fd-audit key file (expected the line '%s' and %zu hex digits)",
			  vis, header, 2 * n);
}

int fd_seal_load_public(const char *spec, unsigned char pk[crypto_sign_PUBLICKEYBYTES], struct fd_err *err)
{
	struct stat sb;
	int other, rc;

	if (sodium_init() < 0)
		return fd_err_set(err, FD_EIO, "libsodium failed to initialise");
	if (stat(spec, &sb) != 0 && fd_audit_is_hex(spec, 2 * crypto_sign_PUBLICKEYBYTES))
		return fd_audit_unhex(spec, pk, crypto_sign_PUBLICKEYBYTES) ? FD_OK : FD_EINPUT;
	rc = read_key_file(spec, public_header, secret_header, pk, crypto_sign_PUBLICKEYBYTES, &other, err);
	if (other) {
		char vis[200];

		fd_visible(vis, sizeof(vis), spec, strlen(spec));
		return fd_err_set(err, FD_EINPUT, "'%s' is a secret key: give its public key ('%s.pub')", vis, vis);
	}
	return rc;
}

int fd_seal_load_secret(const char *path, unsigned char sk[crypto_sign_SECRETKEYBYTES], struct fd_err *err)
{
	unsigned char seed[crypto_sign_SEEDBYTES], pk[crypto_sign_PUBLICKEYBYTES];
	int other, rc;

	if (sodium_init() < 0)
		return fd_err_set(err, FD_EIO, "libsodium failed to initialise");
	rc = read_key_file(path, secret_header, public_header, seed, sizeof(seed), &other, err);
	if (other) {
		char vis[200];

		fd_visible(vis, sizeof(vis), path, strlen(path));
		return fd_err_set(err, FD_EINPUT, "'%s' is a public key: sealing needs the secret key", vis);
	}
	if (rc == FD_OK)
		crypto_sign_seed_keypair(pk, sk, seed);
	sodium_memzero(seed, sizeof(seed));
	return rc;
}

/* ---- sealing --------------------------------------------------------------------------- */

int fd_seal_text(int64_t seq, const char *head, const char *signature_hex, char text[FD_SEAL_TEXT_MAX])
{
	unsigned char sig[crypto_sign_BYTES];
	char b64[sodium_base64_ENCODED_LEN(crypto_sign_BYTES, sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];

	if (!fd_audit_unhex(signature_hex, sig, sizeof(sig)) || !head || strlen(head) < 16)
		return fd_err_set(NULL, FD_EINPUT, "bad seal");
	sodium_bin2base64(b64, sizeof(b64), sig, sizeof(sig), sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	snprintf(text, FD_SEAL_TEXT_MAX, "fd-seal:v1:%lld:%.16s:%s", (long long)seq, head, b64);
	return FD_OK;
}

int fd_seal_create(struct fd_store *st, const unsigned char sk[crypto_sign_SECRETKEYBYTES],
		   struct fd_seal *seal, struct fd_err *err)
{
	struct fd_verify_result vr;
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], sig[crypto_sign_BYTES];
	char msg[256], extra[512];
	struct fd_verify_part part = {"audit_seals", "id"};
	sqlite3_stmt *s = NULL;
	size_t mlen;
	int rc;

	memset(seal, 0, sizeof(*seal));
	if (sodium_init() < 0)
		return fd_err_set(err, FD_EIO, "libsodium failed to initialise");
	if ((rc = fd_store_begin(st, err)))
		return rc;
	if ((rc = fd_verify_store(st, NULL, &vr, err))) {
		if (rc == FD_EFINDINGS)
			fd_err_prefix(err, "not sealing a broken chain");
		goto fail;
	}
	if (vr.head_seq == 0) {
		rc = fd_err_set(err, FD_EINPUT, "the audit log is empty: nothing to seal");
		goto fail;
	}
	crypto_sign_ed25519_sk_to_pk(pk, sk);
	seal->seq = vr.head_seq;
	memcpy(seal->head, vr.head_hash, sizeof(seal->head));
	memcpy(seal->store_id, vr.store_id, sizeof(seal->store_id));
	mlen = fd_seal_message(seal->store_id, seal->seq, seal->head, msg);
	crypto_sign_detached(sig, NULL, (const unsigned char *)msg, mlen, sk);
	sodium_bin2hex(seal->public_key, sizeof(seal->public_key), pk, sizeof(pk));
	sodium_bin2hex(seal->signature, sizeof(seal->signature), sig, sizeof(sig));

	if ((rc = fd_store_prepare(st, &s,
				   "INSERT INTO audit_seals (seq, head_hash, public_key, signature, sealed_at, actor)"
				   " VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id", err)))
		goto fail;
	sqlite3_bind_int64(s, 1, seal->seq);
	sqlite3_bind_text(s, 2, seal->head, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, seal->public_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, seal->signature, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, fd_wall_ms());
	sqlite3_bind_text(s, 6, fd_store_who(st)->actor, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW) {
		rc = fd_store_error(st, "writing the seal", err);
		goto fail;
	}
	seal->id = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	s = NULL;
	{
		char kid[17];

		fd_seal_key_id(pk, kid);
		snprintf(extra, sizeof(extra), "{\"seq\":%lld,\"head\":\"%s\",\"public_key\":\"%s\",\"key_id\":\"%s\"}",
			 (long long)seal->seq, seal->head, seal->public_key, kid);
	}
	if ((rc = fd_verify_record(st, "audit.seal", "seal", seal->id, &part, 1, extra, &seal->audit_seq, err)))
		goto fail;
	if ((rc = fd_store_commit(st, err)))
		return rc;
	return fd_seal_text(seal->seq, seal->head, seal->signature, seal->text);
fail:
	sqlite3_finalize(s);
	fd_store_rollback(st);
	return rc;
}
