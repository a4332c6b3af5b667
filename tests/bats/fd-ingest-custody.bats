#!/usr/bin/env bats
# fd-ingest: rejects kept in the store, re-ingest (--supersede), reject limits, empty days,
# namespaces, absolute source paths.  Expected values come from the fixtures (sed, sha256sum,
# date, python3), never from the tool's own output.

load common

setup() { common_setup; I="$TD/ingest"; }

teardown() {
	if [[ -n ${MNT:-} ]] && mountpoint -q "$MNT"; then umount "$MNT"; fi
}

# ---- rejects are never lost --------------------------------------------------------------

@test "rejects go into the store with their source; --rejects-of writes them again by id, sha256 or path" {
	fd-ingest -q --max-rejects 100% --rejects rej.ndjson "$I/bad.csv"
	run q "SELECT count(*), min(line), max(line) FROM ingest_rejects WHERE source_id = 1"
	assert_output "15|3|17"
	# the raw record, byte for byte: line 4 of the fixture
	run q "SELECT CAST(record AS TEXT) FROM ingest_rejects WHERE line = 4"
	assert_output "$(sed -n 4p "$I/bad.csv")"
	sha=$(sha256sum "$I/bad.csv" | cut -d' ' -f1)
	for which in 1 "$sha" "$I/bad.csv"; do
		run fd-ingest --rejects-of "$which"
		assert_success
		assert_equal "$(jq -c 'del(.source)' <<<"$output")" "$(jq -c 'del(.source)' rej.ndjson)"
	done
	# to a file, with the stored (absolute) path as the source
	run fd-ingest --rejects-of 1 --rejects again.ndjson
	assert_success
	assert_output "fd-ingest: source 1: 15 rejected records"
	run jq -r .source again.ndjson
	assert_line --index 0 "$(realpath "$I/bad.csv")"
}

@test "--rejects-of names what it cannot find, and takes no input" {
	fd-ingest -q "$I/good.csv"
	run fd-ingest --rejects-of 7
	assert_failure 2
	assert_output "fd-ingest: no source is '7' (give a source id, a SHA-256 or a path)"
	run fd-ingest --rejects-of nosuch.csv
	assert_failure 2
	assert_output --partial "no source is 'nosuch.csv'"
	run fd-ingest --rejects-of 1 "$I/good.csv"
	assert_failure 2
	assert_line --index 0 "fd-ingest: --rejects-of takes no input, --emit or --supersede"
	run fd-ingest --rejects-of 1
	assert_success
	assert_output "fd-ingest: source 1: 0 rejected records"
}

@test "re-running with the same --rejects writes the stored rejects again instead of truncating" {
	fd-ingest -q --max-rejects 100% --rejects rej.ndjson "$I/bad.csv"
	cp rej.ndjson first.ndjson
	run fd-ingest --max-rejects 100% --rejects rej.ndjson "$I/bad.csv"
	assert_success
	assert_output --partial "already ingested as source 1"
	assert_equal "$(wc -l < rej.ndjson)" 15
	cmp rej.ndjson first.ndjson
	# without --rejects the no-op says only that
	run fd-ingest "$I/bad.csv"
	assert_success
	assert_equal "${#lines[@]}" 1
	assert_output --partial "fd-ingest: $I/bad.csv: already ingested as source 1 "
}

@test "a rejected duplicate keeps its raw record" {
	fd-ingest -q --max-rejects 100% --rejects rej.ndjson "$I/bad.csv"
	run jq -r 'select(.line == 13) | .record' rej.ndjson
	assert_output "$(sed -n 13p "$I/bad.csv")"
	# a duplicate of another source's row too
	printf 'txn_id,ts,amount,sender_id\nB1,2026-01-06T00:00:00Z,2.00,C7\n' > dup.csv
	fd-ingest -q --max-rejects 100% --rejects rej2.ndjson dup.csv
	run jq -r .record rej2.ndjson
	assert_output "B1,2026-01-06T00:00:00Z,2.00,C7"
}

@test "the rejects NDJSON is valid JSON whatever bytes a record has" {
	printf 'txn_id,ts,amount,sender_id,note\nU1,2026-01-06T00:00:00Z,1.00,C1,ok\nU2,2026-01-06T00:00:00Z,x\xff\xfe,C1,caf\xc3\xa9\nU3,2026-01-06T00:00:00Z,2.00,,\xe9t\xe9\n' > latin.csv
	run fd-ingest --max-rejects 100% --rejects rej.ndjson latin.csv
	assert_success
	assert_output --partial "1 accepted, 2 rejected"
	# every line parses with Python's strict JSON decoder; the flagged records give back
	# the exact bytes of the input's lines 3 and 4 when encoded as ISO 8859-1
	run python3 -c '
import json, sys
raw = open("latin.csv", "rb").read().split(b"\n")
for line in open("rej.ndjson", "rb"):
    r = json.loads(line.decode("utf-8"))
    got = r["record"].encode("latin-1") if r.get("record_latin1") else r["record"].encode("utf-8")
    print(r["line"], r.get("record_latin1", False), got == raw[r["line"] - 1])
'
	assert_success
	assert_output - <<'OUT'
3 True True
4 True True
OUT
	# a valid UTF-8 record stays as it is, with no flag
	printf 'txn_id,ts,amount,sender_id,note\nU4,2026-01-06T00:00:00Z,bad,C1,caf\xc3\xa9\n' > utf8.csv
	fd-ingest -q --max-rejects 100% --rejects rej2.ndjson utf8.csv
	run jq -r '[.record, has("record_latin1")] | @tsv' rej2.ndjson
	assert_output "$(printf 'U4,2026-01-06T00:00:00Z,bad,C1,caf\xc3\xa9\tfalse')"
}

@test "a rejects file that cannot be written (disk full) exits 4 and says how to get the rejects from the store" {
	[[ $(id -u) == 0 ]] || skip "needs root to mount a small tmpfs"
	MNT="$BATS_TEST_TMPDIR/full"
	mkdir "$MNT"
	mount -t tmpfs -o size=8k tmpfs "$MNT" || skip "cannot mount a tmpfs here"
	python3 -c '
print("txn_id,ts,amount,sender_id,memo")
for i in range(400):
    print("F%d,2026-01-06T00:00:00Z,%s,C1,%s" % (i, "1.00" if i % 2 else "bad", "m" * 60))
' > many.csv
	run fd-ingest --max-rejects 100% --rejects "$MNT/rej.ndjson" many.csv
	assert_failure 4
	assert_output --partial "200 accepted, 200 rejected; source 1"
	assert_line --partial "No space left on device"
	assert_line "fd-ingest: the rejected records are kept in the store: fd-ingest --rejects-of SOURCE writes them again (source 1)"
	# the source is committed with its rejects: nothing is lost
	run fd-ingest --rejects-of 1
	assert_success
	assert_equal "$(jq -r .line <<<"$output" | tr '\n' ' ')" "$(awk -F, 'NR > 1 && $3 == "bad" { printf "%d ", NR }' many.csv)"
}

@test "the stored rejects are covered by the source's audit entry" {
	fd-ingest -q --max-rejects 100% "$I/bad.csv"
	run fd-audit verify
	assert_success
	run q "SELECT json_extract(details, '$.tables[1].table'), json_extract(details, '$.tables[1].rows') FROM audit_log WHERE action = 'ingest.source'"
	assert_output "ingest_rejects|15"
	q "UPDATE ingest_rejects SET reason = 'nothing wrong' WHERE line = 4"
	run fd-audit verify
	assert_failure 1
	assert_output --partial "ingest_rejects"
}

# ---- reject limits and empty days ---------------------------------------------------------

# gen_rows N BAD ID: N records with ids ID0, ID1, ..., the first BAD of them with a bad amount
gen_rows() {
	python3 -c '
import sys
n, bad, p = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
print("txn_id,ts,amount,sender_id")
for i in range(n):
    print("%s%d,2026-01-06T00:00:00Z,%s,C1" % (p, i, "bad" if i < bad else "1.00"))
' "$1" "$2" "$3"
}

@test "--max-rejects: the default 5% fails an input with more rejects, exit 3, nothing written, rejects kept" {
	gen_rows 100 5 F > five.csv
	gen_rows 100 6 S > six.csv
	run fd-ingest five.csv
	assert_success
	assert_output --partial "95 accepted, 5 rejected"
	run fd-ingest --rejects rej.ndjson six.csv
	assert_failure 3
	assert_line "fd-ingest: six.csv: 6 of 100 records rejected (6.0%), more than the limit of 5%: nothing of this input was written"
	assert_equal "$(wc -l < rej.ndjson)" 6
	run q "SELECT count(*) FROM sources WHERE path LIKE '%six.csv'"
	assert_output "0"
	# a re-run fails the same way (cron sees it every night until someone looks)
	run fd-ingest -q six.csv
	assert_failure 3
	# a count, and a percentage
	run fd-ingest -q --max-rejects 6 six.csv
	assert_success
	gen_rows 10 1 O > one.csv
	run fd-ingest -q --max-rejects 0 one.csv
	assert_failure 3
	assert_line "fd-ingest: one.csv: 1 of 10 records rejected, more than the limit of 0: nothing of this input was written"
	run fd-ingest -q --max-rejects 10% one.csv
	assert_success
}

@test "--max-rejects: bad limits are usage errors" {
	for bad in abc -1 101% 5%% '' ' 5' 1e3; do
		run fd-ingest --max-rejects "$bad" "$I/good.csv"
		assert_failure 2
		assert_line --index 0 --partial "fd-ingest: --max-rejects '$bad': not a"
	done
}

@test "an empty day (a header and no records) says so, exits 0, and is recorded" {
	printf 'txn_id,ts,amount,sender_id\n' > day.csv
	run fd-ingest -q day.csv
	assert_success
	assert_output "fd-ingest: day.csv: no records: the input is empty (an empty day?); source 1 recorded"
	run q "SELECT rows_accepted, rows_rejected FROM sources"
	assert_output "0|0"
}

# ---- re-ingest ---------------------------------------------------------------------------

@test "--supersede: a load with wrong options is replaced, custody kept, nothing deleted" {
	# bank.csv loaded with the wrong zone (+02:00), then again with +01:00
	fd-ingest -q --map "$I/bank.map" --delimiter ';' --tz +02:00 --currency EUR "$I/bank.csv"
	old=$(q "SELECT group_concat(ts, ' ') FROM (SELECT ts FROM transactions ORDER BY id)")
	run fd-ingest --map "$I/bank.map" --delimiter ';' --tz +01:00 --currency EUR "$I/bank.csv"
	assert_success
	assert_output --partial "nothing to do (to load these bytes again with other options: --supersede 1 --reason TEXT)"
	run fd-ingest --map "$I/bank.map" --delimiter ';' --tz +01:00 --currency EUR \
		--supersede 1 --reason "exported in CET, not CEST" "$I/bank.csv"
	assert_success
	assert_line --index 0 --partial "2 accepted, 0 rejected; source 2"
	assert_line --index 1 --partial "supersedes source 1"
	# every new timestamp is an hour later than the old one (the same wall time, one hour less ahead of UTC)
	new=$(q "SELECT group_concat(ts, ' ') FROM (SELECT ts FROM transactions ORDER BY id)")
	want=$(for t in $old; do echo $((t + 3600000)); done | paste -sd' ')
	assert_equal "$new" "$want"
	run q "SELECT count(*), group_concat(DISTINCT source_id) FROM transactions"
	assert_output "2|2"
	run q "SELECT group_concat(ts, ' ') FROM (SELECT ts FROM superseded_transactions WHERE source_id = 1 ORDER BY id)"
	assert_output "$old"
	run q "SELECT id, ifnull(supersedes, '-'), ifnull(supersede_reason, '-'), ifnull(superseded_by, '-'), sha256 FROM sources ORDER BY id"
	sha=$(sha256sum "$I/bank.csv" | cut -d' ' -f1)
	assert_output - <<OUT
1|-|-|2|$sha
2|1|exported in CET, not CEST|-|$sha
OUT
	run q "SELECT action, object_id, json_extract(details, '$.superseded_by'), json_extract(details, '$.reason') FROM audit_log WHERE action = 'ingest.supersede'"
	assert_output "ingest.supersede|1|2|exported in CET, not CEST"
	run fd-audit verify
	assert_success
	# the superseded rows are evidence too: editing them is caught
	q "UPDATE superseded_transactions SET amount = 1 WHERE source_id = 1"
	run fd-audit verify
	assert_failure 1
	assert_output --partial "superseded_transactions"
}

@test "--supersede: the replacing load is the one a plain re-run finds; a source is superseded once" {
	fd-ingest -q "$I/good.csv"
	fd-ingest -q --currency EUR --supersede "$I/good.csv" --reason "currency" "$I/good.csv"
	run fd-ingest "$I/good.csv"
	assert_success
	assert_output --partial "already ingested as source 2"
	run fd-ingest -q --supersede 1 --reason "again" "$I/good.csv"
	assert_failure 2
	assert_output "fd-ingest: source 1 is already superseded by source 2"
	run fd-ingest -q --supersede 9 --reason "none" "$I/good.csv"
	assert_failure 2
	assert_output "fd-ingest: no source is '9' (give a source id, a SHA-256 or a path)"
	run fd-ingest --supersede 2 "$I/good.csv"
	assert_failure 2
	assert_line --index 0 "fd-ingest: --supersede needs --reason TEXT (why the earlier load is replaced)"
	run fd-ingest --reason why "$I/good.csv"
	assert_failure 2
	assert_line --index 0 "fd-ingest: --reason goes with --supersede"
	run fd-ingest --supersede 2 --reason why "$I/good.csv" "$I/good.ndjson"
	assert_failure 2
	assert_line --index 0 "fd-ingest: --supersede takes exactly one input"
	run q "SELECT count(*) FROM transactions"
	assert_output "5"
}

# ---- namespaces and custody paths ---------------------------------------------------------

@test "--namespace: two banks' overlapping references share one store" {
	printf 'txn_id,ts,amount,sender_id\nR1,2026-01-06T00:00:00Z,1.00,A1\nR2,2026-01-06T00:01:00Z,2.00,A2\n' > a.csv
	printf 'txn_id,ts,amount,sender_id\nR1,2026-01-06T00:00:00Z,3.00,B1\nR2,2026-01-06T00:01:00Z,4.00,B2\n' > b.csv
	run fd-ingest -q --namespace bank-a a.csv
	assert_success
	run fd-ingest -q --namespace bank-b b.csv
	assert_success
	run q "SELECT t.txn_id, t.amount, s.namespace FROM transactions t JOIN sources s ON s.id = t.source_id ORDER BY t.id"
	assert_output - <<'OUT'
bank-a:R1|100|bank-a
bank-a:R2|200|bank-a
bank-b:R1|300|bank-b
bank-b:R2|400|bank-b
OUT
	# without a namespace the same references collide, as before
	printf 'txn_id,ts,amount,sender_id\nbank-a:R1,2026-01-06T00:00:00Z,1.00,A1\n' > c.csv
	run fd-ingest --max-rejects 100% c.csv
	assert_output --partial "0 accepted, 1 rejected"
	run fd-audit verify
	assert_success
}

@test "--namespace: bad names are usage errors" {
	for bad in '' 'a:b' 'a b' "$(printf 'x%.0s' {1..65})"; do
		run fd-ingest --namespace "$bad" "$I/good.csv"
		assert_failure 2
		assert_line --index 0 "fd-ingest: --namespace '$bad': 1 to 64 letters, digits, '.', '_' or '-'"
	done
}

@test "sources.path is absolute, with the host" {
	mkdir sub
	cp "$I/good.csv" sub/day.csv
	ln -s sub link
	run fd-ingest -q link/../sub/day.csv
	assert_success
	run q "SELECT path, host FROM sources"
	assert_output "$(realpath sub/day.csv)|$(hostname)"
	run q "SELECT json_extract(details, '$.path'), json_extract(details, '$.host') FROM audit_log WHERE action = 'ingest.source'"
	assert_output "$(realpath sub/day.csv)|$(hostname)"
	run fd-ingest -q - < "$I/good.ndjson"
	run q "SELECT path FROM sources WHERE id = 2"
	assert_equal "$output" "-"
}
