#!/usr/bin/env bats
# fd-ingest: validation, rejects, custody, idempotence, formats, mapping, atomicity.
# Expected values are worked out by hand from the fixtures in testdata/ingest/
# (epoch milliseconds from `date -u -d ... +%s%3N`).

load common

setup() { common_setup; I="$TD/ingest"; }

# The migrations' versions in order (not necessarily consecutive), and the latest.
schema_versions() { grep -oE '^[[:space:]]*\{[0-9]+, "' "$FD_ROOT/lib/fd_schema.c" | tr -dc '0-9\n'; }
schema_latest() { schema_versions | tail -n 1; }

@test "ingest a clean CSV: counts, custody and summary" {
	run fd-ingest "$I/good.csv"
	assert_success
	sha=$(sha256sum "$I/good.csv" | cut -d' ' -f1)
	size=$(stat -c %s "$I/good.csv")
	assert_output "fd-ingest: $I/good.csv: 5 accepted, 0 rejected; source 1, sha256 $sha, $size bytes"
	run q "SELECT path, sha256, size, format, rows_accepted, rows_rejected, actor FROM sources"
	assert_output "$I/good.csv|$sha|$size|csv|5|0|tester"
}

@test "every field is typed exactly as the canonical transaction says" {
	fd-ingest -q "$I/good.csv"
	run q "SELECT txn_id, ts, amount, currency, sender_id, ifnull(recipient_id,'-'), channel, ifnull(country,'-'), ifnull(label,'-'), source_line FROM transactions ORDER BY source_line"
	assert_output - <<'OUT'
T1|1767604500000|1250|USD|C1|-|card|US|0|2
T2|1767601200250|100000|EUR|C1|C2|transfer|DE|1|3
T3|1767606000000|5|USD|C2|-|card|GB|-|4
T4|1767607200000|-320|USD|C2|-|card|-|0|5
T5|1767607200000|500|JPY|C3|-|online|JP|1|6
OUT
	run q "SELECT lat, lon, ip FROM transactions WHERE txn_id='T1'"
	assert_output "40.7128|-74.006|203.0.113.7"
	run q "SELECT ip FROM transactions WHERE txn_id='T2'"
	assert_output "2001:db8::1"
}

@test "columns that are not canonical travel unchanged in metadata" {
	fd-ingest -q "$I/good.csv"
	run q "SELECT metadata FROM transactions ORDER BY source_line"
	assert_output - <<'OUT'
{"note":"first"}
{"note":"with, comma"}
{"note":""}
{"note":"quoted \"word\""}
{"note":""}
OUT
}

@test "entities and shared-device links" {
	fd-ingest -q "$I/good.csv"
	run q "SELECT kind, count(*) FROM entities GROUP BY kind ORDER BY kind"
	assert_output - <<'OUT'
account|3
device|2
ip|3
merchant|3
OUT
	# D1 is used by C1 (T1, T2) and C2 (T4)
	run q "SELECT a.key, l.txn_count FROM entity_links l JOIN entities a ON a.id = l.src JOIN entities d ON d.id = l.dst WHERE d.kind = 'device' AND d.key = 'D1' ORDER BY a.key"
	assert_output - <<'OUT'
C1|2
C2|1
OUT
	run q "SELECT json_extract(attrs, '$.category') FROM entities WHERE kind = 'merchant' AND key = 'M2'"
	assert_output "fuel"
	run q "SELECT txn_count, first_seen, last_seen FROM entities WHERE kind='account' AND key='C2'"
	# C2: recipient of T2 (08:20:00.250), sender of T3 (09:40) and T4 (10:00)
	assert_output "3|1767601200250|1767607200000"
}

@test "re-ingesting the same bytes is a no-op that says so" {
	fd-ingest -q "$I/good.csv"
	run fd-ingest "$I/good.csv"
	assert_success
	assert_output --regexp "^fd-ingest: $I/good.csv: already ingested as source 1 on 20[0-9-]+T[0-9:.]+Z \(sha256 [0-9a-f]{64}\); nothing to do \(to load these bytes again with other options: --supersede 1 --reason TEXT\)$"
	run q "SELECT (SELECT count(*) FROM sources), (SELECT count(*) FROM transactions), (SELECT count(*) FROM audit_log WHERE action='ingest.source')"
	assert_output "1|5|1"
}

@test "each validation rule rejects with the field, the line and the reason" {
	run fd-ingest --max-rejects 100% --rejects rej.ndjson "$I/bad.csv"
	assert_success
	assert_line --index 0 --regexp "^fd-ingest: $I/bad.csv: 2 accepted, 15 rejected; source 1"
	run jq -r '"\(.line) \(.field) \(.reason)"' rej.ndjson
	assert_line --index 0 --regexp "^3 ts bad timestamp '2026-13-05T09:15:00Z' \(.*month.*\)$"
	assert_line --index 1 --regexp "^4 amount bad amount '12.345' \(.*USD has 2 decimal places\)$"
	assert_line --index 2 --regexp "^5 amount bad amount 'abc' "
	assert_line --index 3 "6 currency bad currency 'XYZ' (not an ISO 4217 code)"
	assert_line --index 4 "7 sender_id missing required value"
	assert_line --index 5 --regexp "^8 ip bad IP address '999.1.1.1'"
	assert_line --index 6 --regexp "^9 lat bad latitude '95.0'"
	assert_line --index 7 "10 lon lat and lon must be given together"
	assert_line --index 8 "11 country bad country 'ZZ' (not an ISO 3166-1 alpha-2 code)"
	assert_line --index 9 --regexp "^12 label bad label 'maybe'"
	assert_line --index 10 "13 txn_id duplicate txn_id 'B1' (first seen on line 2 of this input)"
	assert_line --index 11 "14 txn_id missing required value"
	assert_line --index 12 --regexp "^15 record .*10.*8"
	assert_line --index 13 "16 ts missing required value"
	assert_line --index 14 --regexp "^17 ts bad timestamp '2026-02-30T09:15:00Z'"
	assert_equal "$(wc -l < rej.ndjson)" 15
	run q "SELECT txn_id, amount, currency FROM transactions ORDER BY source_line"
	assert_output - <<'OUT'
B1|1000|USD
B17|100|JPY
OUT
	run q "SELECT rows_accepted, rows_rejected FROM sources"
	assert_output "2|15"
}

@test "a reject keeps the raw record and its source" {
	fd-ingest -q --max-rejects 100% --rejects rej.ndjson "$I/bad.csv"
	run jq -r 'select(.line == 4) | "\(.source)|\(.record)"' rej.ndjson
	assert_output "$I/bad.csv|B3,2026-01-05T09:15:00Z,12.345,USD,C1,,,,,"
}

@test "the summary groups rejects by reason" {
	run fd-ingest --max-rejects 100% --rejects rej.ndjson "$I/bad.csv"
	assert_line "fd-ingest: $I/bad.csv:   2 rejected: amount: bad amount"
	assert_line "fd-ingest: $I/bad.csv:   2 rejected: ts: bad timestamp"
	assert_line "fd-ingest: $I/bad.csv:   1 rejected: ts: missing required value"
	assert_line "fd-ingest: $I/bad.csv:   1 rejected: txn_id: duplicate txn_id"
}

@test "without --rejects each reject is reported on stderr with file and line" {
	run fd-ingest --max-rejects 15 "$I/bad.csv"
	assert_success
	assert_line --regexp "^fd-ingest: $I/bad.csv:3: field 'ts': bad timestamp '2026-13-05T09:15:00Z'"
	assert_line "fd-ingest: $I/bad.csv:7: field 'sender_id': missing required value (rejected)"
}

@test "--strict stops at the first bad record, exit 3, nothing written" {
	run fd-ingest --strict --rejects rej.ndjson "$I/good.csv" "$I/bad.csv" "$I/good.ndjson"
	assert_failure 3
	assert_line --regexp "^fd-ingest: $I/bad.csv:3: field 'ts': bad timestamp '2026-13-05T09:15:00Z' .*\(--strict: nothing of this input was written\)$"
	# good.csv came before and stays; nothing of bad.csv; good.ndjson is not read
	run q "SELECT count(*), group_concat(DISTINCT substr(txn_id,1,1)) FROM transactions"
	assert_output "5|T"
	[ ! -e rej.ndjson ]
}

@test "zstd is detected by its magic number, not the name" {
	zstd -q -o data.bin "$I/good.csv"
	run fd-ingest data.bin
	assert_success
	assert_output --partial "5 accepted, 0 rejected"
	assert_output --partial "(zstd)"
	run q "SELECT sha256 = '$(sha256sum data.bin | cut -d' ' -f1)', compression, size FROM sources"
	assert_output "1|zstd|$(stat -c %s data.bin)"
}

@test "a truncated zstd input is bad input and leaves nothing" {
	zstd -q -c "$I/good.csv" | head -c 60 > cut.zst
	run fd-ingest cut.zst
	assert_failure 3
	assert_output --partial "cut.zst"
	run q "SELECT count(*) FROM sources"
	assert_output "0"
}

@test "standard input, as '-' or with no file" {
	run fd-ingest - < "$I/good.csv"
	assert_success
	assert_output --partial "fd-ingest: <stdin>: 5 accepted"
	run q "SELECT path, sha256 FROM sources"
	assert_output "-|$(sha256sum < "$I/good.csv" | cut -d' ' -f1)"
	# the same bytes again through a pipe, with no argument
	run bash -c "cat '$I/good.csv' | fd-ingest"
	assert_success
	assert_output --partial "already ingested as source 1"
}

@test "NDJSON: types, blank lines, unknown members kept as JSON" {
	run fd-ingest "$I/good.ndjson"
	assert_success
	assert_output --partial "3 accepted, 0 rejected"
	run q "SELECT txn_id, ts, amount, currency, source_line, ifnull(metadata,'-') FROM transactions ORDER BY source_line"
	assert_output - <<'OUT'
N1|1769940000000|2500|USD|1|{"extra":{"k":[1,2]}}
N2|1769940300000|750|USD|3|{"score_hint":null}
N3|1769940600000|10000|GBP|4|-
OUT
	run q "SELECT format FROM sources"
	assert_output "ndjson"
}

@test "NDJSON: a malformed line is a rejected record, not a crash" {
	run fd-ingest --max-rejects 100% --rejects rej.ndjson "$I/bad.ndjson"
	assert_success
	assert_output --partial "2 accepted, 3 rejected"
	run jq -r '"\(.line) \(.field)"' rej.ndjson
	assert_output - <<'OUT'
2 record
3 record
4 sender_id
OUT
}

@test "CSV edge cases: quoted newlines, doubled quotes, CRLF, blank line, no final newline" {
	run fd-ingest "$I/quoted.csv"
	assert_success
	assert_output --partial "3 accepted, 0 rejected"
	run q "SELECT txn_id, source_line, json_extract(metadata, '$.memo') = CASE txn_id WHEN 'Q1' THEN 'line one'||char(13,10)||'line two' WHEN 'Q2' THEN 'say \"hi\"' ELSE 'plain' END FROM transactions ORDER BY id"
	assert_output - <<'OUT'
Q1|2|1
Q2|4|1
Q3|6|1
OUT
}

@test "a column mapping, delimiter, time zone and default currency" {
	run fd-ingest --map "$I/bank.map" --delimiter ';' --tz +02:00 --currency EUR "$I/bank.csv"
	assert_success
	assert_output --partial "2 accepted, 0 rejected"
	run q "SELECT txn_id, ts, amount, currency, sender_id, metadata FROM transactions ORDER BY id"
	assert_output - <<'OUT'
R1|1775023200000|123456|EUR|ACC-1|{"Branch":"North"}
R2|1775028600000|-2000|EUR|ACC-2|{"Branch":"South"}
OUT
	run q "SELECT json_extract(options, '$.map.ts'), json_extract(options, '$.tz_offset_min') FROM sources"
	assert_output "Booking time|120"
}

@test "a bad mapping file names its line" {
	run fd-ingest --map "$I/badmap.map" "$I/bank.csv"
	assert_failure 3
	assert_output "fd-ingest: $I/badmap.map:2: 'tx' is not a canonical field"
}

@test "a missing required column is bad input naming the columns" {
	run fd-ingest "$I/nots.csv"
	assert_failure 3
	assert_output "fd-ingest: $I/nots.csv:1: no column 'ts' for the required field ts (columns: txn_id, when, amount, sender_id); map one with --map"
}

@test "an empty input is bad input" {
	: > empty.csv
	run fd-ingest empty.csv
	assert_failure 3
	assert_output "fd-ingest: empty.csv: empty input: no header row"
}

@test "a txn_id already in another source is rejected, naming that source" {
	fd-ingest -q "$I/good.csv"
	printf 'txn_id,ts,amount,sender_id\nT9,2026-01-06T00:00:00Z,1.00,C1\nT1,2026-01-06T00:00:00Z,2.00,C1\n' > more.csv
	run fd-ingest --max-rejects 50% --rejects rej.ndjson more.csv
	assert_success
	assert_output --partial "1 accepted, 1 rejected"
	run jq -r .reason rej.ndjson
	assert_output "duplicate txn_id 'T1' (already in source 1 '$I/good.csv' line 2)"
}

@test "--emit writes canonical NDJSON, also for an input ingested before" {
	run fd-ingest -q --emit "$I/good.csv"
	assert_success
	assert_equal "$(echo "$output" | wc -l)" 5
	# the amount is an exact decimal token (jq would normalise it, so look at the text)
	assert_line --index 0 --partial '"txn_id":"T1","ts":"2026-01-05T09:15:00.000Z","amount":12.50,"currency":"USD"'
	run jq -c 'select(.txn_id == "T1") | [.country, .channel, .label, .metadata.note]' <<<"$output"
	assert_output '["US","card",0,"first"]'
	first=$(fd-ingest -q --emit "$I/good.csv" | jq -c .txn_id | tr '\n' ' ')
	assert_equal "$first" '"T1" "T2" "T3" "T4" "T5" '
}

@test "usage errors exit 2 with one line and the usage" {
	run fd-ingest --delimiter ab x.csv
	assert_failure 2
	assert_line --index 0 "fd-ingest: --delimiter needs one character other than a quote or newline, or 'tab', not 'ab'"
	assert_line --index 1 "usage: fd-ingest [options] [FILE...]"
	run fd-ingest --tz Mars/Olympus x.csv
	assert_failure 2
	assert_line --index 0 --partial "fd-ingest: --tz 'Mars/Olympus': "
	run fd-ingest --currency QQQ x.csv
	assert_failure 2
	assert_line --index 0 "fd-ingest: --currency 'QQQ' is not an ISO 4217 code (upper case, e.g. EUR)"
	run fd-ingest --format xml x.csv
	assert_failure 2
	assert_line --index 0 "fd-ingest: --format must be csv or ndjson, not 'xml'"
	run fd-ingest --bogus
	assert_failure 2
	assert_line --index 0 --partial "unrecognized option '--bogus'"
	run fd-ingest --rejects "$I/good.csv" "$I/good.csv"
	assert_failure 2
	assert_line --index 0 "fd-ingest: --rejects '$I/good.csv' would overwrite an input"
}

@test "a file that cannot be opened is an I/O error, and other inputs still load" {
	run fd-ingest nosuch.csv "$I/good.csv"
	assert_failure 4
	assert_line --index 0 --partial "nosuch.csv"
	assert_line --index 1 --partial "5 accepted"
}

@test "a store locked by another writer past the timeout is an I/O error" {
	fd-ingest -q "$I/good.csv"
	sqlite3 "$FD_STORE" "BEGIN IMMEDIATE; SELECT 1;" ".shell sleep 4" "COMMIT;" >/dev/null &
	sleep 1
	FD_BUSY_TIMEOUT=1 run fd-ingest "$I/good.ndjson"
	assert_failure 4
	assert_output "fd-ingest: cannot write to the store: '$FD_STORE' is locked by another process (waited 1 s)"
	wait
	run q "SELECT count(*) FROM sources"
	assert_output "1"
}

@test "the store is marked, in WAL mode, at the latest schema, append-only audit" {
	fd-ingest -q "$I/good.csv"
	run q "PRAGMA application_id; PRAGMA user_version; PRAGMA journal_mode;"
	assert_output - <<OUT
1178882900
$(schema_latest)
wal
OUT
	run q "UPDATE audit_log SET actor = 'mallory' WHERE seq = 1"
	assert_failure
	assert_output --partial "audit_log is append-only"
	run q "DELETE FROM audit_log"
	assert_failure
	assert_output --partial "audit_log is append-only"
}

@test "another SQLite file, or not a database at all, is refused" {
	sqlite3 other.db "CREATE TABLE t(x)"
	run fd-ingest --store other.db "$I/good.csv"
	assert_failure 3
	assert_output "fd-ingest: 'other.db' is an SQLite database but not an fd store"
	echo "hello" > notdb.db
	run fd-ingest --store notdb.db "$I/good.csv"
	assert_failure 3
	assert_output --partial "notdb.db"
}

@test "the audit chain: entries, actor, hash recomputed independently" {
	fd-ingest -q --actor alice "$I/good.csv"
	run q "SELECT seq, actor, tool, action, object_type, object_id, data_digest IS NOT NULL FROM audit_log ORDER BY seq"
	n=$(schema_versions | wc -l)
	assert_output "$(i=0; for v in $(schema_versions); do i=$((i + 1)); echo "$i|alice|fd-ingest|store.migrate|store|$v|0"; done
		echo "$((n + 1))|alice|fd-ingest|ingest.source|source|1|1")"
	e=$((n + 1))
	# recompute the ingest entry's hash with printf and sha256sum: netstrings of its fields in order
	ns() { printf '%d:%s,' "${#1}" "$1"; }
	fields=()
	for col in seq ts actor host tool version action object_type object_id details data_digest prev_hash; do
		fields+=("$(q "SELECT $col FROM audit_log WHERE seq = $e")")
	done
	want=$(for f in "${fields[@]}"; do ns "$f"; done | sha256sum | cut -d' ' -f1)
	run q "SELECT hash FROM audit_log WHERE seq = $e"
	assert_output "$want"
	run q "SELECT prev_hash = (SELECT hash FROM audit_log WHERE seq = $n) FROM audit_log WHERE seq = $e"
	assert_output "1"
}

@test "--metrics writes a Prometheus textfile" {
	fd-ingest -q --max-rejects 100% --metrics m.prom "$I/bad.csv"
	run grep -v '^#' m.prom
	assert_line 'fd_ingest_records_total{tool="fd-ingest",result="accepted"} 2'
	assert_line 'fd_ingest_records_total{tool="fd-ingest",result="rejected"} 15'
	assert_line 'fd_run_success{tool="fd-ingest"} 1'
	run grep -c '^# TYPE fd_ingest_records_total counter$' m.prom
	assert_output 1
}

@test "killed with SIGKILL at each point of a run: all of the input or none, and a re-run completes it" {
	# FD_KILL_AT (a documented test hook, fd.7) raises SIGKILL at the named point: no sleep,
	# no race.  150,000 rows, every 10,000th with a bad amount: 149,985 good, 15 rejected.
	awk 'BEGIN { print "txn_id,ts,amount,sender_id,device_id"
		for (i = 0; i < 150000; i++) printf "K%d,%d,%s,C%d,D%d\n", i, 1767225600 + i * 7,
			(i % 10000 == 5 ? "x" : sprintf("%d.%02d", i % 5000, i % 100)), i % 3000, i % 4000 }' > big.csv
	for point in after-insert before-commit after-commit before-rename; do
		rm -f fd.db fd.db-wal fd.db-shm rej.ndjson
		run env FD_KILL_AT=$point fd-ingest -q --rejects rej.ndjson big.csv
		[ "$status" -eq 137 ] || { echo "$point: exit $status"; false; }
		n=$(q "SELECT count(*) FROM transactions")
		s=$(q "SELECT count(*) FROM sources")
		case $point in
		after-insert|before-commit) [[ $n == 0 && $s == 0 ]] ;;
		*) [[ $n == 149985 && $s == 1 ]] ;;
		esac || { echo "killed $point: $n rows, $s sources"; false; }
		# the rejects file is never half there: killed before its rename, it is not there
		[ ! -e rej.ndjson ]
		fd-ingest -q big.csv
		run q "SELECT count(*), (SELECT rows_accepted FROM sources) FROM transactions"
		assert_output "149985|149985"
	done
}
