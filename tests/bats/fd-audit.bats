#!/usr/bin/env bats
# fd-audit: verify (each tampering made with the sqlite3 shell), log, keygen/seal, export and
# bundles, metrics.  Expected messages are written out by hand; hashes come from the store
# through the sqlite3 shell, and are recomputed independently (Python's hashlib for the
# chain, OpenSSL for the Ed25519 seals, sha256sum and tar for bundles).

load common
bats_require_minimum_version 1.5.0

setup() {
	common_setup
	G="$TD/ingest/good.csv"
	fd-ingest -q "$G"
}

# The first lines of a broken verification: the finding(s), then the verdict.
broken() { printf 'fd-audit: %s\n' "$@" "$FD_STORE: NOT intact: $N finding$([ "$N" = 1 ] || echo s)"; }

# Recompute entry SEQ's hash from its stored fields — the netstring encoding of fd_audit.h,
# written again here in Python — and store it (a careful forger's move).
rehash() {
	python3 - "$FD_STORE" "$1" <<'PY'
import hashlib, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
seq = int(sys.argv[2])
row = db.execute("SELECT seq, ts, actor, host, tool, version, action, object_type, object_id,"
                 " details, data_digest, prev_hash FROM audit_log WHERE seq = ?", (seq,)).fetchone()
h = hashlib.sha256()
for v in row:
    b = b"" if v is None else str(v).encode()
    h.update(str(len(b)).encode() + b":" + b + b",")
db.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
db.execute("UPDATE audit_log SET hash = ? WHERE seq = ?", (h.hexdigest(), seq))
db.commit()
PY
}

head16() { q "SELECT substr(hash, 1, 16) FROM audit_log WHERE seq = $1"; }

# The migrations the code has (one store.migrate entry each), and S N: what was entry N
# when there were five (the entries after the migrations move with their number).
M=$(grep -cE '^[[:space:]]*\{[0-9]+, "' "$FD_ROOT/lib/fd_schema.c")
S() { echo $(($1 + M - 5)); }

# RFC 3339 with milliseconds of epoch ms $1, by date(1)
rfc3339() { printf '%s.%03dZ' "$(date -u -d "@$(($1 / 1000))" +%Y-%m-%dT%H:%M:%S)" $(($1 % 1000)); }

# ---- verify: an untouched store --------------------------------------------------------

@test "an untouched store verifies: exit 0 and a summary" {
	run --separate-stderr fd-audit verify
	assert_success
	assert_output "$FD_STORE: intact: $(S 6) audit entries (head $(S 6) $(head16 $(S 6))), 2 data digests over 5 rows, 1 source, 0 seals"
	[ -z "$stderr" ]
	run fd-audit -q verify
	assert_success
	assert_output ""
}

@test "the stored hashes are the netstring SHA-256 that an independent implementation computes" {
	before=$(q "SELECT group_concat(hash) FROM audit_log")
	for s in $(seq 1 $(S 6)); do rehash $s; done
	run q "SELECT group_concat(hash) FROM audit_log"
	assert_output "$before"
	run fd-audit verify
	assert_success
}

@test "a store with two inputs, empty ones and rejects verifies" {
	fd-ingest -q --max-rejects 100% "$TD/ingest/bad.csv"
	fd-gen --seed 3 --rows 40 -o g.csv
	fd-ingest -q g.csv
	printf 'txn_id,ts,amount,sender_id\n' > empty.csv
	fd-ingest -q empty.csv
	run fd-audit verify
	assert_success
	n=$(q "SELECT (SELECT count(*) FROM transactions) + (SELECT count(*) FROM ingest_rejects)")
	assert_output "$FD_STORE: intact: $(S 9) audit entries (head $(S 9) $(head16 $(S 9))), 8 data digests over $n rows, 4 sources, 0 seals"
}

@test "no store: exit 4" {
	run fd-audit --store nowhere.db verify
	assert_failure 4
	assert_output "fd-audit: no store at 'nowhere.db' (ingest something first, or give --store)"
	run fd-audit --store nowhere.db log
	assert_failure 4
}

@test "a file that is not a store: exit 3" {
	echo hello > not.db
	run fd-audit --store not.db verify
	assert_failure 3
	assert_output --partial "fd-audit: opening store: "
}

# ---- verify: each tampering ------------------------------------------------------------

@test "a transaction edited behind the tools' back" {
	q "UPDATE transactions SET amount = 99999 WHERE txn_id = 'T3'"
	run fd-audit verify
	assert_failure 1
	assert_output "$(N=1 broken "audit entry $(S 6) (ingest.source source/1): data digest mismatch: rows of transactions with source_id 1 changed since the entry")"
}

@test "a transaction inserted by hand into a source" {
	q "INSERT INTO transactions (txn_id, ts, amount, currency, sender_id, source_id, source_line) VALUES ('X1', 1, 1, 'USD', 'C9', 1, 99)"
	run fd-audit verify
	assert_failure 1
	assert_output "$(N=1 broken "audit entry $(S 6) (ingest.source source/1): data digest mismatch: rows of transactions with source_id 1 changed since the entry (6 now, the entry recorded 5)")"
}

@test "transactions inserted by hand under a source no entry covers" {
	q "INSERT INTO transactions (txn_id, ts, amount, currency, sender_id, source_id, source_line) VALUES ('X1', 1, 1, 'USD', 'C9', 2, 1), ('X2', 1, 1, 'USD', 'C9', 2, 2)"
	run fd-audit verify
	assert_failure 1
	assert_output "$(N=1 broken "transactions: 2 rows with source_id 2 are covered by no audit entry (inserted behind the tools' back, or their entry deleted)")"
}

@test "a transaction deleted behind the tools' back" {
	q "DELETE FROM transactions WHERE txn_id = 'T1'"
	run fd-audit verify
	assert_failure 1
	assert_output "$(N=1 broken "audit entry $(S 6) (ingest.source source/1): data digest mismatch: rows of transactions with source_id 1 changed since the entry (4 now, the entry recorded 5)")"
}

@test "an audit entry edited (the trigger dropped first)" {
	q "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET details = replace(details, '\"rejected\":0', '\"rejected\":9') WHERE seq = $(S 6)"
	run fd-audit verify
	assert_failure 1
	assert_output "$(N=2 broken "audit entry $(S 6) (ingest.source source/1): hash mismatch: the entry was edited or forged" \
		"audit entry $(S 6) (ingest.source source/1): sources row 1 differs from the entry: rows_rejected is 0 but the entry recorded 9")"
}

@test "an audit entry edited and its hash recomputed: the next entry's link breaks" {
	fd-gen --seed 3 --rows 10 -o g.csv
	fd-ingest -q g.csv
	q "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET actor = 'mallory' WHERE seq = 4"
	rehash 4
	run fd-audit verify
	assert_failure 1
	assert_output "$(N=1 broken "audit entry 5 (store.migrate store/5): its prev_hash is not the hash of entry 4: the chain is broken here (an entry was replaced or inserted)")"
}

@test "an audit entry deleted from the middle of the log" {
	q "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = 3"
	run fd-audit verify
	assert_failure 1
	assert_output "$(N=1 broken "audit entry 3 is missing: deleted from the log (entry 4 follows entry 2)")"
}

@test "audit entries deleted from the start of the log" {
	q "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq <= 2"
	run fd-audit verify
	assert_failure 1
	assert_output "$(N=1 broken "audit entries 1 to 2 are missing: deleted from the log (entry 3 follows the start)")"
}

@test "the last audit entry deleted: its rows are left without one" {
	q "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = $(S 6)"
	run fd-audit verify
	assert_failure 1
	assert_output "$(N=2 broken "transactions: 5 rows with source_id 1 are covered by no audit entry (inserted behind the tools' back, or their entry deleted)" \
		"sources row 1 ('$G') has no ingest.source audit entry (inserted behind the tools' back)")"
}

@test "an audit entry inserted by hand" {
	q "INSERT INTO audit_log VALUES ($(S 7), 1, 'a', 'h', 'fd-ingest', '0.1.0', 'ingest.source', 'source', '2', '{}', NULL, (SELECT hash FROM audit_log WHERE seq = $(S 6)), 'f00d')"
	run fd-audit verify
	assert_failure 1
	assert_output "$(N=2 broken "audit entry $(S 7) (ingest.source source/2): hash mismatch: the entry was edited or forged" \
		"audit entry $(S 7) (ingest.source source/2): sources row 2 is missing (deleted behind the tools' back)")"
}

@test "the whole log emptied" {
	q "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log"
	run fd-audit verify
	assert_failure 1
	assert_line --index 0 "fd-audit: the audit log is empty: its entries were deleted (a store's log starts with its migrations)"
}

@test "a sources row edited: the chain of custody no longer matches" {
	q "UPDATE sources SET sha256 = 'abc', path = 'other.csv' WHERE id = 1"
	sha=$(sha256sum "$G" | cut -d' ' -f1)
	run fd-audit verify
	assert_failure 1
	assert_output "$(N=2 broken "audit entry $(S 6) (ingest.source source/1): sources row 1 differs from the entry: path is 'other.csv' but the entry recorded '$G'" \
		"audit entry $(S 6) (ingest.source source/1): sources row 1 differs from the entry: sha256 is 'abc' but the entry recorded '$sha'")"
}

@test "a sources row inserted by hand" {
	q "INSERT INTO sources (path, sha256, size, format, rows_accepted, rows_rejected, actor, ingested_at, tool_version) VALUES ('fake.csv', 'ab', 1, 'csv', 0, 0, 'x', 1, '0')"
	run fd-audit verify
	assert_failure 1
	assert_output "$(N=1 broken "sources row 2 ('fake.csv') has no ingest.source audit entry (inserted behind the tools' back)")"
}

@test "a sources row deleted" {
	q "PRAGMA foreign_keys = OFF; DELETE FROM sources WHERE id = 1"
	run fd-audit verify
	assert_failure 1
	assert_output "$(N=1 broken "audit entry $(S 6) (ingest.source source/1): sources row 1 is missing (deleted behind the tools' back)")"
}

@test "a covered table altered: a column added changes every digest" {
	q "ALTER TABLE transactions ADD COLUMN note TEXT"
	run fd-audit verify
	assert_failure 1
	assert_line --index 0 "fd-audit: audit entry $(S 6) (ingest.source source/1): data digest mismatch: rows of transactions with source_id 1 changed since the entry"
}

@test "findings are listed in log order, each on its own line" {
	fd-gen --seed 3 --rows 10 -o g.csv
	fd-ingest -q g.csv
	q "UPDATE transactions SET amount = amount + 1 WHERE source_id = 2"
	q "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = 2"
	q "UPDATE transactions SET amount = amount + 1 WHERE source_id = 1"
	run fd-audit verify
	assert_failure 1
	assert_output "$(N=3 broken "audit entry 2 is missing: deleted from the log (entry 3 follows entry 1)" \
		"audit entry $(S 6) (ingest.source source/1): data digest mismatch: rows of transactions with source_id 1 changed since the entry" \
		"audit entry $(S 7) (ingest.source source/2): data digest mismatch: rows of transactions with source_id 2 changed since the entry")"
}

# ---- keys and seals --------------------------------------------------------------------

@test "keygen writes a secret key (0600) and a public key, and never replaces one" {
	run fd-audit keygen --out k
	assert_success
	pub=$(sed -n 2p k.pub)
	assert_output "fd-audit: key ${pub:0:16}: secret key in 'k' (keep it private), public key in 'k.pub'"
	[ "$(stat -c %a k)" = 600 ]
	[ "$(sed -n 1p k)" = "fd-audit secret key v1" ]
	[[ $(sed -n 2p k) =~ ^[0-9a-f]{64}$ ]]
	[ "$(sed -n 1p k.pub)" = "fd-audit public key v1" ]
	[[ $pub =~ ^[0-9a-f]{64}$ ]]
	[ "$(wc -l < k)" = 2 ] && [ "$(wc -l < k.pub)" = 2 ]
	run fd-audit keygen --out k
	assert_failure 2
	assert_output "fd-audit: 'k' exists: not replacing a key"
	rm k
	run fd-audit keygen --out k
	assert_failure 2
	assert_output "fd-audit: 'k.pub' exists: not replacing a key"
	run fd-audit keygen
	assert_failure 2
	assert_line --index 0 "fd-audit: keygen needs -o FILE (the secret key; the public key goes to FILE.pub)"
}

@test "seal signs the documented text with Ed25519: OpenSSL agrees" {
	fd-audit -q keygen --out k
	run --separate-stderr fd-audit seal --key k
	assert_success
	h=$(q "SELECT hash FROM audit_log WHERE seq = $(S 6)")
	assert_output --regexp "^fd-seal:v1:$(S 6):${h:0:16}:[A-Za-z0-9+/]{86}$"
	text=$output
	kid=$(sed -n 2p k.pub | cut -c1-16)
	[ "$stderr" = "fd-audit: sealed entry $(S 6) (head ${h:0:16}) of '$FD_STORE' with key $kid: seal 1, recorded as audit entry $(S 7)" ]
	run q "SELECT id, seq, head_hash = '$h', public_key = '$(sed -n 2p k.pub)', actor FROM audit_seals"
	assert_output "1|$(S 6)|1|1|tester"
	run q "SELECT action, object_type, object_id, json_extract(details, '$.table'), json_extract(details, '$.seq') FROM audit_log WHERE seq = $(S 7)"
	assert_output "audit.seal|seal|1|audit_seals|$(S 6)"
	# the short text's signature is the stored one
	[ "$(printf '%s' "${text##*:}" | base64 -d 2>/dev/null | od -An -v -tx1 | tr -d " \n")" = "$(q "SELECT signature FROM audit_seals")" ]
	# independent check of the signature over the canonical text
	printf '302a300506032b6570032100%s' "$(sed -n 2p k.pub)" | xxd -r -p > pub.der
	openssl pkey -pubin -inform DER -in pub.der -out pub.pem
	printf 'fd-audit seal v1\nstore %s\nseq %s\nhead %s\n' "$(q "SELECT hash FROM audit_log WHERE seq = 1")" "$(S 6)" "$h" > msg
	q "SELECT signature FROM audit_seals" | xxd -r -p > sig.bin
	run openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in msg -sigfile sig.bin
	assert_output "Signature Verified Successfully"
}

@test "verify --key checks the seals made with that key" {
	fd-audit -q keygen --out k
	fd-audit -q seal --key k
	run --separate-stderr fd-audit verify --key k.pub
	assert_success
	kid=$(sed -n 2p k.pub | cut -c1-16)
	assert_output "$FD_STORE: intact: $(S 7) audit entries (head $(S 7) $(head16 $(S 7))), 3 data digests over 6 rows, 1 source, 1 seal (1 by key $kid, 0 by other keys)"
	# the key given as its hex digits
	run fd-audit verify --key "$(sed -n 2p k.pub)"
	assert_success
}

@test "verify --key with another key: exit 1, and the seals by other keys are noted" {
	fd-audit -q keygen --out k
	fd-audit -q keygen --out other
	fd-audit -q seal --key k
	run fd-audit verify --key other.pub
	assert_failure 1
	kid=$(sed -n 2p k.pub | cut -c1-16)
	oid=$(sed -n 2p other.pub | cut -c1-16)
	assert_output - <<OUT
fd-audit: note: seal 1 (entry $(S 6), key $kid): made with another key (valid signature)
fd-audit: no seal in the store was made with key $oid
fd-audit: $FD_STORE: NOT intact: 1 finding
OUT
}

@test "key files of the wrong kind or malformed are refused" {
	fd-audit -q keygen --out k
	run fd-audit verify --key k
	assert_failure 3
	assert_output "fd-audit: 'k' is a secret key: give its public key ('k.pub')"
	run fd-audit seal --key k.pub
	assert_failure 3
	assert_output "fd-audit: 'k.pub' is a public key: sealing needs the secret key"
	printf 'fd-audit public key v1\nxyz\n' > bad.pub
	run fd-audit verify --key bad.pub
	assert_failure 3
	assert_output "fd-audit: 'bad.pub' is not an fd-audit key file (expected the line 'fd-audit public key v1' and 64 hex digits)"
	run fd-audit verify --key missing.pub
	assert_failure 4
	assert_output "fd-audit: cannot open key 'missing.pub': No such file or directory"
	run fd-audit seal
	assert_failure 2
	assert_line --index 0 "fd-audit: seal needs --key SECRET (make one with fd-audit keygen)"
	run q "SELECT count(*) FROM audit_seals"
	assert_output 0
}

@test "a broken chain is not sealed" {
	fd-audit -q keygen --out k
	q "UPDATE transactions SET amount = 1"
	run fd-audit seal --key k
	assert_failure 1
	assert_output "fd-audit: not sealing a broken chain: audit entry $(S 6) (ingest.source source/1): data digest mismatch: rows of transactions with source_id 1 changed since the entry"
	run q "SELECT (SELECT count(*) FROM audit_seals), (SELECT max(seq) FROM audit_log)"
	assert_output "0|$(S 6)"
}

@test "a seal edited or inserted by hand is caught" {
	fd-audit -q keygen --out k
	fd-audit -q seal --key k
	kid=$(sed -n 2p k.pub | cut -c1-16)
	q "DROP TRIGGER audit_seals_no_update; UPDATE audit_seals SET signature = replace(signature, substr(signature, 1, 2), 'ff')"
	run fd-audit verify --key k.pub
	assert_failure 1
	assert_output "$(N=3 broken "audit entry $(S 7) (audit.seal seal/1): data digest mismatch: rows of audit_seals with id 1 changed since the entry" \
		"seal 1 (entry $(S 6), key $kid): bad signature (the seal or the log's first entry was altered)" \
		"no seal in the store was made with key $kid")"
	q "DROP TRIGGER audit_seals_no_delete; DELETE FROM audit_seals"
	q "INSERT INTO audit_seals SELECT 2, $(S 6), hash, '$(sed -n 2p k.pub)', printf('%0128d', 0), 1, 'x' FROM audit_log WHERE seq = $(S 6)"
	run fd-audit verify
	assert_failure 1
	assert_output "$(N=3 broken "audit entry $(S 7) (audit.seal seal/1): data digest mismatch: rows of audit_seals with id 1 changed since the entry (0 now, the entry recorded 1)" \
		"audit_seals: 1 row with id 2 is covered by no audit entry (inserted behind the tools' back, or their entry deleted)" \
		"seal 2 (entry $(S 6), key $kid): bad signature (the seal or the log's first entry was altered)")"
}

@test "a rewritten log no longer matches its seal" {
	fd-audit -q keygen --out k
	fd-audit -q seal --key k
	kid=$(sed -n 2p k.pub | cut -c1-16)
	old=$(head16 $(S 6))
	q "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET actor = 'mallory' WHERE seq = $(S 6)"
	rehash $(S 6)
	q "UPDATE audit_log SET prev_hash = (SELECT hash FROM audit_log WHERE seq = $(S 6)) WHERE seq = $(S 7)"
	rehash $(S 7)
	run fd-audit verify --key k.pub
	assert_failure 1
	assert_line --index 0 "fd-audit: audit entry $(S 6) (ingest.source source/1): sources row 1 differs from the entry: actor is 'tester' but the entry recorded 'mallory'"
	assert_line --index 1 "fd-audit: seal 1 (entry $(S 6), key $kid): the head it sealed ($old...) is not entry $(S 6)'s hash now ($(head16 $(S 6))...): the log was rewritten"
}

@test "entries cut from the end are caught by the seal text written down" {
	fd-audit -q keygen --out k
	fd-gen --seed 3 --rows 10 -o g.csv
	fd-ingest -q g.csv
	text=$(fd-audit -q seal --key k)
	run fd-audit verify --key k.pub --seal "$text"
	assert_success
	assert_output --partial "; the seal text verifies"
	# a thorough attacker removes the second input, its entry, the seal and the seal's entry
	q "DROP TRIGGER audit_log_no_delete; DROP TRIGGER audit_seals_no_delete; PRAGMA foreign_keys = OFF;
	   DELETE FROM audit_seals; DELETE FROM audit_log WHERE seq >= $(S 7); DELETE FROM transactions WHERE source_id = 2;
	   DELETE FROM sources WHERE id = 2"
	run fd-audit verify
	assert_success
	run fd-audit verify --key k.pub --seal "$text"
	assert_failure 1
	kid=$(sed -n 2p k.pub | cut -c1-16)
	assert_output "$(N=2 broken "no seal in the store was made with key $kid" "seal text: entry $(S 7) is not in the log (it ends at entry $(S 6))")"
}

@test "verify --seal: a text for another store or a bad text" {
	fd-audit -q keygen --out k
	text=$(fd-audit -q seal --key k)
	FD_STORE=other.db fd-ingest -q "$G"
	run fd-audit --store other.db verify --key k.pub --seal "$text"
	assert_failure 1
	assert_line --index 0 --regexp "^fd-audit: seal text: entry $(S 6)'s hash starts [0-9a-f]{16}, not [0-9a-f]{16} as sealed: the log was rewritten$"
	run fd-audit verify --key k.pub --seal "fd-seal:v1:6:zz:abc"
	assert_failure 2
	assert_line --index 0 "fd-audit: --seal: seal text 'fd-seal:v1:6:zz:abc' is not of the form fd-seal:v1:SEQ:HEAD:SIGNATURE"
	run fd-audit verify --seal "$text"
	assert_failure 2
	assert_line --index 0 "fd-audit: --seal needs --key, the public key to check it with"
}

# ---- export and bundles -----------------------------------------------------------------

@test "export writes a bundle that standard tools can open and check" {
	run fd-audit export --out case.fdb
	assert_success
	sha=$(sha256sum case.fdb | cut -d' ' -f1)
	size=$(stat -c %s case.fdb)
	assert_output "fd-audit: case.fdb: bundle of $size bytes, sha256 $sha: $(S 6) audit entries (head $(S 6) $(head16 $(S 6))), 1 source, 5 transactions, 0 seals; recorded as audit entry $(S 7)"
	run tar --zstd -tf case.fdb
	assert_output - <<'OUT'
fd-bundle/
fd-bundle/manifest.json
fd-bundle/SHA256SUMS
fd-bundle/audit.ndjson
fd-bundle/store.db
OUT
	tar --zstd -xf case.fdb
	cd fd-bundle
	run sha256sum -c SHA256SUMS
	assert_success
	assert_output - <<'OUT'
manifest.json: OK
audit.ndjson: OK
store.db: OK
OUT
	run jq -r '[.format, .version, .created_by, .sources[0].sha256, .sources[0].rows_accepted, .audit.entries, .audit.head_hash, .counts.transactions, .store.sha256] | map(tostring) | join(" ")' manifest.json
	assert_output "fd-bundle 1 tester $(sha256sum "$G" | cut -d' ' -f1) 5 $(S 6) $(q "SELECT hash FROM audit_log WHERE seq = $(S 6)") 5 $(sha256sum store.db | cut -d' ' -f1)"
	run sqlite3 store.db "SELECT count(*), sum(amount) FROM transactions; PRAGMA journal_mode"
	assert_output - <<'OUT'
5|101435
delete
OUT
	[ "$(wc -l < audit.ndjson)" = $(S 6) ]
	run jq -r '.seq' audit.ndjson
	assert_output "$(seq 1 $(S 6))"
	# the export is recorded in the store
	cd ..
	run q "SELECT action, object_type, object_id, json_extract(details, '$.path'), json_extract(details, '$.head_seq') FROM audit_log WHERE seq = $(S 7)"
	assert_output "audit.export|bundle|$sha|case.fdb|$(S 6)"
	run fd-audit verify
	assert_success
}

@test "verify --bundle on another machine, without the store" {
	fd-audit -q keygen --out k
	fd-audit -q seal --key k
	fd-audit -q export --out case.fdb
	h=$(head16 $(S 7))
	mkdir elsewhere && mv case.fdb k.pub elsewhere/ && cd elsewhere
	unset FD_STORE
	run --separate-stderr fd-audit verify --bundle case.fdb --key k.pub
	assert_success
	kid=$(sed -n 2p k.pub | cut -c1-16)
	sha=$(sha256sum case.fdb | cut -d' ' -f1)
	assert_output "case.fdb: bundle intact (sha256 $sha): $(S 7) audit entries (head $(S 7) $h), 3 data digests over 6 rows, 1 source, 1 seal (1 by key $kid, 0 by other keys)"
	[ ! -e fd.db ]
	# from standard input too
	run fd-audit verify --bundle - < case.fdb
	assert_success
	assert_output --partial "<stdin>: bundle intact (sha256 $sha)"
}

@test "a damaged bundle: exit 3" {
	fd-audit -q export --out case.fdb
	cp case.fdb flipped.fdb
	size=$(stat -c %s case.fdb)
	printf '\377' | dd of=flipped.fdb bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
	run fd-audit verify --bundle flipped.fdb
	assert_failure 3
	assert_output --regexp "^fd-audit: flipped.fdb: corrupt zstd stream: "
	head -c $((size - 100)) case.fdb > cut.fdb
	run fd-audit verify --bundle cut.fdb
	assert_failure 3
	assert_output "fd-audit: cut.fdb: truncated zstd stream (the input ends inside a frame)"
	run fd-audit verify --bundle "$G"
	assert_failure 3
	assert_output "fd-audit: $G: not an fd evidence bundle (not zstd-compressed)"
	zstd -q "$G" -o g.zst
	run fd-audit verify --bundle g.zst
	assert_failure 3
	assert_output "fd-audit: g.zst: not an fd evidence bundle (bad archive header)"
	run fd-audit verify --bundle missing.fdb
	assert_failure 4
	assert_output "fd-audit: cannot open 'missing.fdb': No such file or directory"
}

@test "a bundle re-packed with a member changed: exit 3" {
	fd-audit -q export --out case.fdb
	tar --zstd -xf case.fdb
	echo '{"seq":99}' >> fd-bundle/audit.ndjson
	tar --format=ustar --zstd -cf a.fdb fd-bundle
	run fd-audit verify --bundle a.fdb
	assert_failure 3
	assert_output --regexp "^fd-audit: bundle member audit.ndjson: SHA-256 mismatch \(damaged or altered\): SHA256SUMS says [0-9a-f]{16}\.\.\., the member is [0-9a-f]{16}\.\.\.$"
	# hashes updated too: the log no longer is the snapshot's
	(cd fd-bundle && sha256sum manifest.json audit.ndjson store.db > SHA256SUMS)
	tar --format=ustar --zstd -cf b.fdb fd-bundle
	run fd-audit verify --bundle b.fdb
	assert_failure 3
	assert_output "fd-audit: bundle audit.ndjson is not the audit log of store.db (altered)"
	rm -r fd-bundle && tar --zstd -xf case.fdb
	sed -i 's/"rows_accepted":5/"rows_accepted":4/' fd-bundle/manifest.json
	(cd fd-bundle && sha256sum manifest.json audit.ndjson store.db > SHA256SUMS)
	tar --zstd -cf c.fdb fd-bundle
	run fd-audit verify --bundle c.fdb
	assert_failure 3
	assert_output "fd-audit: bundle manifest.json: the \"sources\" part does not match store.db (altered)"
	rm -r fd-bundle && tar --zstd -xf case.fdb
	echo x > fd-bundle/extra.txt
	tar --format=ustar --zstd -cf d.fdb fd-bundle
	run fd-audit verify --bundle d.fdb
	assert_failure 3
	assert_output "fd-audit: bundle: unexpected member 'fd-bundle/extra.txt'"
	rm fd-bundle/extra.txt fd-bundle/SHA256SUMS
	tar --format=ustar --zstd -cf e.fdb fd-bundle
	run fd-audit verify --bundle e.fdb
	assert_failure 3
	assert_output "fd-audit: bundle member SHA256SUMS is missing"
}

@test "a bundle re-packed consistently with data changed: the chain catches it, exit 1" {
	fd-audit -q export --out case.fdb
	tar --zstd -xf case.fdb
	cd fd-bundle
	old=$(sha256sum store.db | cut -d' ' -f1)
	sqlite3 store.db "UPDATE transactions SET amount = 1 WHERE txn_id = 'T2'"
	new=$(sha256sum store.db | cut -d' ' -f1)
	sed -i "s/$old/$new/" manifest.json
	sha256sum manifest.json audit.ndjson store.db > SHA256SUMS
	cd ..
	tar --format=ustar --zstd -cf forged.fdb fd-bundle
	run fd-audit verify --bundle forged.fdb
	assert_failure 1
	assert_output - <<OUT
fd-audit: audit entry $(S 6) (ingest.source source/1): data digest mismatch: rows of transactions with source_id 1 changed since the entry
fd-audit: forged.fdb: NOT intact: 1 finding
OUT
}

@test "export of a broken store: the bundle is written, exit 1" {
	q "UPDATE transactions SET amount = 1 WHERE txn_id = 'T2'"
	run fd-audit export --out case.fdb
	assert_failure 1
	assert_output - <<OUT
fd-audit: audit entry $(S 6) (ingest.source source/1): data digest mismatch: rows of transactions with source_id 1 changed since the entry
fd-audit: case.fdb: bundle written, but the store is NOT intact: 1 finding
OUT
	[ -s case.fdb ]
	run fd-audit verify --bundle case.fdb
	assert_failure 1
}

@test "export refuses to write over the store and needs -o" {
	run fd-audit export --out "$FD_STORE"
	assert_failure 2
	assert_output --partial "fd-audit: "
	run q "SELECT count(*) FROM transactions"
	assert_output 5
	run fd-audit export
	assert_failure 2
	assert_line --index 0 "fd-audit: export needs -o FILE"
	ls -A > files
	run grep -c '^\.' files
	assert_output 0
}

@test "export and keygen take -o, --output and the old --out alike" {
	for o in -o --output --out; do
		fd-audit -q export $o "b$o.fdb"
		run fd-audit verify --bundle "b$o.fdb"
		assert_success
		fd-audit -q keygen $o "k$o"
		[ -s "k$o" ] && [ -s "k$o.pub" ]
		run fd-audit export $o "$FD_STORE"
		assert_failure 2
		assert_line --index 0 --partial "refusing to overwrite the store"
	done
	run q "SELECT count(*) FROM audit_log WHERE action = 'audit.export'"
	assert_output 3
}

@test "export to standard output" {
	fd-audit -q export --out - > out.fdb
	run fd-audit verify --bundle out.fdb
	assert_success
	run q "SELECT json_extract(details, '$.path') FROM audit_log WHERE action = 'audit.export'"
	[ "$output" = "-" ]
}

# ---- log --------------------------------------------------------------------------------

@test "log: an aligned table by default" {
	run fd-audit log
	assert_success
	t=$(rfc3339 "$(q "SELECT ts FROM audit_log WHERE seq = 2")")
	assert_line --index 0 "SEQ  TIME                      ACTOR   TOOL       ACTION         OBJECT    DETAILS"
	assert_line --index 2 "  2  $t  tester  fd-ingest  store.migrate  store/2   {\"from\":1,\"to\":2,\"name\":\"rules: rule_runs, rule_hits\"}"
	[ "${#lines[@]}" = $(S 7) ]
	assert_line --index $(S 6) --regexp "^ {1,2}$(S 6)  .*  ingest\\.source  source/1  \\{\"path\":.{60,}\\.\\.\\.\$"
}

@test "log --format csv: every field, as the store holds it" {
	run fd-audit log --format csv
	assert_success
	assert_line --index 0 "seq,ts,actor,host,tool,version,action,object_type,object_id,details,data_digest,prev_hash,hash"
	[ "${#lines[@]}" = $(S 7) ]
	# the CSV read back (Python's csv module) equals the table read with the sqlite3 shell
	fd-audit log --format csv > log.csv
	run python3 -c '
import csv, sys
for r in list(csv.reader(open("log.csv")))[1:]:
    print("|".join([r[0], r[2], r[6], r[8], r[9], r[10], r[11], r[12]]))'
	assert_output "$(q "SELECT seq, actor, action, object_id, details, ifnull(data_digest, ''), prev_hash, hash FROM audit_log ORDER BY seq")"
}

@test "log --format ndjson: details as JSON objects" {
	run fd-audit log --format ndjson
	assert_success
	[ "${#lines[@]}" = $(S 6) ]
	run jq -r '[.seq, .action, .details.to // .details.accepted, .data_digest // "-"] | map(tostring) | join(" ")' <<<"$(fd-audit log --format ndjson)"
	assert_output "$(i=0; for v in $(grep -oE '^[[:space:]]*\{[0-9]+, "' "$FD_ROOT/lib/fd_schema.c" | tr -dc '0-9\n'); do
			i=$((i + 1)); echo "$i store.migrate $v -"; done
		echo "$(S 6) ingest.source 5 $(q "SELECT data_digest FROM audit_log WHERE seq = $(S 6)")")"
}

@test "log filters: action, object, actor" {
	fd-gen --seed 3 --rows 10 -o g.csv
	FD_ACTOR=alice fd-ingest -q g.csv
	run fd-audit log --format ndjson --action 'ingest.*'
	assert_success
	run jq -r .seq <<<"$output"
	assert_output "$(printf '%s\n' $(S 6) $(S 7))"
	run jq -r .seq <<<"$(fd-audit log --format ndjson --action store.migrate)"
	assert_output "$(seq 1 $M)"
	run jq -r .seq <<<"$(fd-audit log --format ndjson --object source:2)"
	assert_output $(S 7)
	run jq -r .seq <<<"$(fd-audit log --format ndjson --object source/1)"
	assert_output $(S 6)
	run jq -r .seq <<<"$(fd-audit log --format ndjson --object store)"
	assert_output "$(seq 1 $M)"
	run jq -r .seq <<<"$(fd-audit log --format ndjson --actor alice)"
	assert_output $(S 7)
	run fd-audit log --format ndjson --actor nobody
	assert_success
	assert_output ""
	run fd-audit log --actor nobody
	assert_output "SEQ  TIME  ACTOR  TOOL  ACTION  OBJECT  DETAILS"
}

@test "log filters: time range" {
	sleep 0.01
	fd-gen --seed 3 --rows 10 -o g.csv
	fd-ingest -q g.csv
	t7=$(q "SELECT ts FROM audit_log WHERE seq = $(S 7)")
	run jq -r .seq <<<"$(fd-audit log --format ndjson --since "$t7")"
	assert_output "$(q "SELECT seq FROM audit_log WHERE ts >= $t7 ORDER BY seq")"
	run jq -r .seq <<<"$(fd-audit log --format ndjson --until "$t7")"
	assert_output "$(q "SELECT seq FROM audit_log WHERE ts < $t7 ORDER BY seq")"
	rfc=$(rfc3339 "$t7")
	run jq -r .seq <<<"$(fd-audit log --format ndjson --since "$rfc")"
	assert_output "$(q "SELECT seq FROM audit_log WHERE ts >= $t7 ORDER BY seq")"
	run fd-audit log --format ndjson --until 2000-01-01T00:00:00Z
	assert_output ""
	run jq -r .seq <<<"$(fd-audit log --format ndjson --since 2000-01-01T00:00:00Z --until 2999-01-01T00:00:00Z)"
	assert_output "$(seq 1 $(S 7))"
}

# ---- usage ------------------------------------------------------------------------------

@test "usage errors: exit 2 with one line and the usage" {
	run fd-audit
	assert_failure 2
	assert_line --index 0 "fd-audit: no command: give verify, log, keygen, seal or export"
	assert_line --index 1 "usage: fd-audit [options] verify|log|keygen|seal|export"
	run fd-audit frobnicate
	assert_failure 2
	assert_line --index 0 "fd-audit: unknown command 'frobnicate': give verify, log, keygen, seal or export"
	run fd-audit verify extra
	assert_failure 2
	assert_line --index 0 "fd-audit: verify takes no arguments, not 'extra'"
	run fd-audit log --key k.pub
	assert_failure 2
	assert_line --index 0 "fd-audit: --key does not apply to log"
	run fd-audit verify --format csv
	assert_failure 2
	assert_line --index 0 "fd-audit: --format does not apply to verify"
	run fd-audit export --since 2026-01-01
	assert_failure 2
	assert_line --index 0 "fd-audit: --since does not apply to export"
	run fd-audit log --format xml
	assert_failure 2
	assert_line --index 0 "fd-audit: --format must be table, csv or ndjson, not 'xml'"
	run fd-audit log --since yesterday
	assert_failure 2
	assert_line --index 0 --partial "fd-audit: --since 'yesterday': "
	run fd-audit log --since 2026-02-01 --until 2026-01-01
	assert_failure 2
	assert_line --index 0 "fd-audit: --since must be before --until"
	run fd-audit log --object :3
	assert_failure 2
	assert_line --index 0 "fd-audit: --object needs TYPE or TYPE:ID, e.g. source:3"
	run fd-audit log --object source:
	assert_failure 2
	for o in -o --output --out; do
		run --separate-stderr fd-audit keygen $o ''
		assert_failure 2
		assert_equal "${stderr_lines[0]}" "fd-audit: --output needs a file name"
		assert_equal "${stderr_lines[1]}" "usage: fd-audit [options] verify|log|keygen|seal|export"
	done
	run --separate-stderr fd-audit verify -o x.fdb
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "fd-audit: --output does not apply to verify"
	[ ! -e x.fdb ]
}

# ---- metrics ----------------------------------------------------------------------------

@test "--metrics: a Prometheus textfile for each command" {
	run fd-audit -q verify --metrics ok.prom
	assert_success
	run grep -v '^#' ok.prom
	assert_line "fd_audit_intact{tool=\"fd-audit\"} 1"
	assert_line "fd_audit_findings{tool=\"fd-audit\"} 0"
	assert_line "fd_audit_entries{tool=\"fd-audit\"} $(S 6)"
	assert_line "fd_audit_rows_verified{tool=\"fd-audit\"} 5"
	assert_line "fd_run_success{tool=\"fd-audit\"} 1"
	fd-audit log --metrics log.prom > /dev/null
	grep -q "^fd_audit_log_entries{tool=\"fd-audit\"} $(S 6)\$" log.prom
	fd-audit -q export --out x.fdb --metrics export.prom
	grep -q "^fd_audit_bundle_bytes{tool=\"fd-audit\"} $(stat -c %s x.fdb)$" export.prom
	q "UPDATE transactions SET amount = 1"
	run fd-audit -q verify --metrics bad.prom
	assert_failure 1
	run grep -E '^fd_(audit_intact|audit_findings|run_success)' bad.prom
	assert_output - <<'OUT'
fd_audit_intact{tool="fd-audit"} 0
fd_audit_findings{tool="fd-audit"} 1
fd_run_success{tool="fd-audit"} 0
OUT
}

@test "--metrics files pass promtool check metrics" {
	command -v promtool >/dev/null || skip "promtool is not installed (Debian package prometheus)"
	fd-audit -q keygen --out k
	fd-audit -q verify --metrics verify.prom
	fd-audit -q seal --key k --metrics seal.prom > /dev/null
	fd-audit -q export --out x.fdb --metrics export.prom
	fd-audit log --metrics log.prom > /dev/null
	fd-gen --seed 3 --rows 10 -o g.csv
	fd-ingest -q g.csv "$TD/ingest/bad.csv" --metrics ingest.prom || true
	for f in verify.prom seal.prom export.prom log.prom ingest.prom; do
		run promtool check metrics < "$f"
		[ "$status" -eq 0 ] || { echo "$f: $output"; false; }
	done
}

# ---- the man page's examples ------------------------------------------------------------

@test "the man page's examples run as shown" {
	fd-audit verify
	fd-audit log --action 'ingest.*' --since 2000-01-01T00:00:00Z > /dev/null
	fd-audit log --object source:1 --format ndjson | jq -e '.details.sha256' > /dev/null
	fd-audit keygen -o investigator.key 2> /dev/null
	fd-audit seal --key investigator.key > seal.txt 2> /dev/null
	fd-audit verify --key investigator.key.pub --seal "$(cat seal.txt)" > /dev/null
	fd-audit export -o case-2026-114.fdb 2> /dev/null
	fd-audit verify --bundle case-2026-114.fdb --key investigator.key.pub > /dev/null
}
