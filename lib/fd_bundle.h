/*
 * fd_bundle.h — evidence bundles: one self-contained file holding a consistent snapshot of
 * the store and what is needed to check it on another machine, without the original store.
 *
 * FORMAT (version 1).  A POSIX ustar archive, compressed as one zstd frame with its content
 * checksum, so that standard tools can open it:
 *	tar --zstd -xf case.fdb && cd fd-bundle && sha256sum -c SHA256SUMS
 * Members, in this order, all under the directory fd-bundle/:
 *	manifest.json   what the bundle holds (below)
 *	SHA256SUMS      the SHA-256 of every other member, as sha256sum prints them
 *	audit.ndjson    the audit log, one entry a line (as `fd-audit log --format ndjson`)
 *	store.db        the store: an SQLite database taken with the backup API in one read
 *	                transaction (a consistent snapshot), in rollback-journal mode
 * The manifest is a JSON object:
 *	format "fd-bundle", version 1, created_at (RFC 3339), created_by (actor), tool,
 *	exported_from {path, host}, and the parts derived from the snapshot:
 *	store   {id (hash of audit entry 1), schema_version, file, sha256, size}
 *	audit   {entries, head_seq, head_hash, file, sha256}
 *	counts  {table: rows, ...} for every table of the snapshot
 *	sources [{id, path, sha256, size, format, rows_accepted, rows_rejected, ingested_at,
 *	          actor}, ...]  — the chain of custody of every ingested input
 *	seals   [{id, seq, head, public_key, key_id, signature, sealed_at, actor, text}, ...]
 *
 * VERIFYING.  fd_bundle_verify() decompresses to a temporary directory, checks the
 * archive's framing, that every member listed in SHA256SUMS has that hash, that the derived
 * parts of the manifest are exactly what the snapshot gives (so neither the manifest nor a
 * member can be changed alone), then runs fd_verify_store() on the snapshot, read-only.
 * A bundle that is damaged or whose parts disagree is bad input (FD_EINPUT); a bundle that is
 * consistent but whose store fails verification is FD_EFINDINGS, as for a store.  Note what
 * this proves: whoever rebuilds a bundle consistently (new snapshot, new hashes) passes the
 * consistency checks; only the chain (whose history cannot be rewritten without breaking
 * every later entry) and the seals (signatures by a key the recipient trusts: pass
 * opts->key) tie the bundle to the original.  Seal the store before exporting.
 */
#ifndef FD_BUNDLE_H
#define FD_BUNDLE_H

#include <stdint.h>

#include "fd_err.h"
#include "fd_store.h"
#include "fd_verify.h"

#define FD_BUNDLE_VERSION 1

struct fd_bundle_info {
	char sha256[65];       /* of the bundle file, as sha256sum prints it */
	int64_t size;          /* its bytes */
	char db_sha256[65];    /* of the embedded store.db */
	int64_t db_size;
	char store_id[65];
	int64_t entries, head_seq;
	char head_hash[65];
	int64_t sources, transactions, seals;
	int64_t audit_seq;     /* export: the audit.export entry recording it */
};

/*
 * Export st to path ("-" for standard output; never over the store itself), atomically
 * (fd_out).  The snapshot's temporary copy goes to $TMPDIR (else /tmp).  The snapshot is
 * verified (opts: as fd_verify_store; may be NULL) and the result given in *vr.  After the
 * bundle is complete, an audit.export entry records it in st (object bundle/<sha256>,
 * details: path, size, head_seq, head_hash, store_sha256).
 * Returns FD_OK; FD_EFINDINGS when the bundle was written but the store fails verification
 * (err: the first finding); FD_EIO / FD_EUSAGE (output over the store) on failure, in which
 * case no bundle is left.
 */
int fd_bundle_export(struct fd_store *st, const char *path, const struct fd_verify_opts *opts,
		     struct fd_bundle_info *info, struct fd_verify_result *vr, struct fd_err *err);

/*
 * Verify the bundle at path ("-" for standard input); who names the verifier for opening
 * the snapshot.  Returns FD_OK when consistent and intact, FD_EINPUT when damaged or
 * inconsistent (err says which member and what), FD_EFINDINGS when the snapshot fails
 * verification (findings through opts->on_finding), FD_EIO on I/O errors.
 */
int fd_bundle_verify(const char *path, const struct fd_who *who, const struct fd_verify_opts *opts,
		     struct fd_bundle_info *info, struct fd_verify_result *vr, struct fd_err *err);

#endif
