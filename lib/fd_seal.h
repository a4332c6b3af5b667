/*
 * fd_seal.h — seals: Ed25519 signatures over the head of the audit chain (fd_audit.h), their
 * key files and their short text.  fd_verify_store() (fd_verify.h) checks the seals of a
 * store; fd-audit(1) keygen and seal make them.
 */
#ifndef FD_SEAL_H
#define FD_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "fd_err.h"
#include "fd_store.h"

/* ---- seals ------------------------------------------------------------------------------ */

/*
 * A seal is an Ed25519 signature (libsodium crypto_sign_detached) over this text, every line
 * ending in a line feed:
 *
 *	fd-audit seal v1
 *	store <the hash of audit entry 1: 64 hex>
 *	seq <the sealed entry's sequence number, decimal>
 *	head <the sealed entry's hash: 64 hex>
 *
 * The store line names the store (entry 1 is unique to it: its time and host), so a seal
 * cannot be moved to another store.  It is kept in audit_seals, with its own audit.seal
 * entry, and is shown as a short text to write down or send:
 *
 *	fd-seal:v1:<seq>:<first 16 hex of the head hash>:<signature, base64 without padding>
 *
 * Key files are text: a header line, then the key in lowercase hex on the second line.
 *	fd-audit secret key v1        (the 32-byte Ed25519 seed; file mode 0600)
 *	fd-audit public key v1        (the 32-byte public key)
 * A key's id is the first 16 hex digits of its public key.
 */
#define FD_SEAL_TEXT_MAX 160

struct fd_seal {
	int64_t id;              /* audit_seals.id */
	int64_t seq;             /* the sealed entry */
	char head[65];           /* its hash */
	char store_id[65];
	char public_key[65];     /* hex */
	char signature[129];     /* hex */
	int64_t audit_seq;       /* the audit.seal entry recording it */
	char text[FD_SEAL_TEXT_MAX];  /* the short text */
};

/* Write a new key pair: the secret key to path (mode 0600) and the public key to path.pub.
 * Refuses (FD_EUSAGE) when either file exists; FD_EIO on write errors.  key_id[17] may be
 * NULL. */
int fd_seal_keygen(const char *path, char key_id[17], struct fd_err *err);

/* Read a public key from a file, or from 64 hex digits given directly.  FD_EINPUT for a file
 * that is not a public key (a secret key is refused with a message saying so), FD_EIO when it
 * cannot be read. */
int fd_seal_load_public(const char *spec, unsigned char pk[crypto_sign_PUBLICKEYBYTES],
			struct fd_err *err);
/* Read a secret key file; sk receives libsodium's 64-byte secret key. */
int fd_seal_load_secret(const char *path, unsigned char sk[crypto_sign_SECRETKEYBYTES],
			struct fd_err *err);
/* The id of a public key: 16 hex digits and a NUL. */
void fd_seal_key_id(const unsigned char pk[crypto_sign_PUBLICKEYBYTES], char id[17]);

/*
 * Seal the head of the chain with sk: in one store transaction, verify the store (a broken
 * chain is not sealed: FD_EFINDINGS with the first finding), sign, insert the audit_seals row
 * and its audit.seal entry (fd_verify_record).  *seal receives what was made.
 */
int fd_seal_create(struct fd_store *st, const unsigned char sk[crypto_sign_SECRETKEYBYTES],
		   struct fd_seal *seal, struct fd_err *err);

/* The short text of a seal (signature_hex: 128 hex digits); FD_EINPUT if it is not hex. */
int fd_seal_text(int64_t seq, const char *head, const char *signature_hex,
		 char text[FD_SEAL_TEXT_MAX]);

/* The canonical text signed for (store_id, seq, head); returns its length (< 256). */
size_t fd_seal_message(const char *store_id, int64_t seq, const char *head, char buf[256]);

#endif
