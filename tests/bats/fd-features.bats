#!/usr/bin/env bats
# fd-features: the catalog, values worked out by hand on testdata/features/small.csv, window
# edges and ties, point-in-time correctness through the command line, time order, the store
# with --since equal to a full replay, bad records, options and errors.

load common

setup() { common_setup; F="$TD/features"; }

SEL=hour,day_of_week,secs_since_last,sender_txn_count_10m,sender_amount_sum_10m,sender_txn_count_1h,new_merchant,new_device,device_sender_count,merchant_txn_count,amount_to_mean_30d

@test "--list prints the catalog: at least 40 features, each with group and definition" {
	run fd-features --list
	assert_success
	n=$(echo "$output" | wc -l)
	[ "$n" -ge 40 ]
	assert_line --regexp $'^sender_txn_count_10m\tvelocity\tthe sender.s transactions in the last 10 min'
	assert_line --regexp $'^geo_speed_kmh\tgeography\t'
	# every line: name, group, definition, separated by tabs
	[ "$(echo "$output" | awk -F'\t' 'NF != 3' | wc -l)" -eq 0 ]
	# with --features: only those, in the order given
	run fd-features --list --features local_hour,hour
	assert_success
	assert_line --index 0 --regexp $'^local_hour\ttemporal\thour of day on the export\'s wall clock when its zone is known'
	assert_line --index 1 $'hour\ttemporal\thour of day of ts, UTC (0-23)'
	assert_equal "${#lines[@]}" 2
}

@test "values by hand: windows at their edge, ties, first transactions, novelty, network" {
	run --separate-stderr fd-features --features "$SEL" "$F/small.csv"
	assert_success
	# 2026-03-02 is a Monday (0).  F3 at 10:15: F2 at 10:05 is exactly 10 min earlier, so it is
	# outside the 10-minute window (half-open); F4 ties F3 in time and comes after it.
	assert_output - <<'OUT'
txn_id,ts,label,hour,day_of_week,secs_since_last,sender_txn_count_10m,sender_amount_sum_10m,sender_txn_count_1h,new_merchant,new_device,device_sender_count,merchant_txn_count,amount_to_mean_30d
F1,2026-03-02T10:00:00.000Z,0,10,0,,1,10,1,1,1,1,0,
F2,2026-03-02T10:05:00.000Z,0,10,0,300,2,30,2,1,0,1,0,2
F3,2026-03-02T10:15:00.000Z,1,10,0,600,1,30,3,0,1,1,1,2
F4,2026-03-02T10:15:00.000Z,,10,0,,1,5,1,1,1,2,2,
OUT
	assert_equal "$stderr" "fd-features: 4 transactions, 11 features each (0 skipped)"
}

@test "NDJSON in gives NDJSON out; --format overrides; an undefined value is null" {
	fd-ingest -q --emit "$F/small.csv" > small.ndjson
	run fd-features -q --features secs_since_last,new_device small.ndjson
	assert_success
	assert_line --index 0 '{"txn_id":"F1","ts":"2026-03-02T10:00:00.000Z","label":0,"secs_since_last":null,"new_device":1}'
	run fd-features -q --format csv --features new_device small.ndjson
	assert_line --index 0 "txn_id,ts,label,new_device"
}

@test "point in time: appending future transactions changes no earlier row" {
	fd-gen --seed 3 --rows 3000 --customers 60 -o all.csv
	head -n 2001 all.csv > past.csv
	fd-features -q past.csv > past.out
	fd-features -q all.csv | head -n 2001 > all.out
	cmp past.out all.out
	# and a transaction's own label never changes its features (nor those before it): flip the
	# label of row 1000 and compare the first 1000 rows, label column aside
	awk -F, 'BEGIN { OFS = "," } NR == 1001 { $16 = 1 - $16 } { print }' past.csv > flipped.csv
	fd-features -q past.csv | head -n 1001 | cut -d, -f1,2,4- > a.out
	fd-features -q flipped.csv | head -n 1001 | cut -d, -f1,2,4- > b.out
	cmp a.out b.out
	[ "$(sed -n 1001p past.csv | cut -d, -f16)" != "$(sed -n 1001p flipped.csv | cut -d, -f16)" ]
}

@test "out-of-order input is exit 3 naming the line, unless --sort" {
	run fd-features -q "$F/unordered.csv"
	assert_failure 3
	assert_output "fd-features: $F/unordered.csv:3: out of time order (2026-03-02T09:00:00.000Z is before the previous record's 2026-03-02T10:00:00.000Z at $F/unordered.csv:2); sort the input or give --sort"
	run fd-features -q --sort --features secs_since_last "$F/unordered.csv"
	assert_success
	assert_output - <<'OUT'
txn_id,ts,label,secs_since_last
U2,2026-03-02T09:00:00.000Z,,
U1,2026-03-02T10:00:00.000Z,,3600
U3,2026-03-02T11:00:00.000Z,,3600
OUT
}

@test "a bad record is reported with file, line and field, and skipped; --strict stops" {
	run --separate-stderr fd-features --features sender_txn_count_1h "$F/onebad.csv"
	assert_success
	assert_equal "$(echo "$output" | cut -d, -f1,4 | tr '\n' ' ')" "txn_id,sender_txn_count_1h G1,1 G3,2 "
	assert_equal "$(echo "$stderr" | head -n 1)" "fd-features: $F/onebad.csv:3: field 'amount': bad amount '1.234' (too many decimals for the currency: --round-amounts rounds them; USD has 2 decimal places) (skipped)"
	run fd-features -q --strict "$F/onebad.csv"
	assert_failure 3
	assert_output "fd-features: $F/onebad.csv:3: field 'amount': bad amount '1.234' (too many decimals for the currency: --round-amounts rounds them; USD has 2 decimal places) (--strict: stopped here)"
	# -q: no message, the record still skipped
	run --separate-stderr fd-features -q --features sender_txn_count_1h "$F/onebad.csv"
	assert_success
	assert_equal "$stderr" ""
	[ "${#lines[@]}" -eq 3 ]
}

@test "at most 20 bad records are shown, then how many more were skipped" {
	{ echo "txn_id,ts,amount,sender_id"
	  for i in $(seq 1 25); do printf "B%d,2026-01-01T00:00:%02dZ,1.234,S1\n" "$i" "$i"; done
	  echo "G1,2026-01-02T00:00:00Z,1.00,S1"; } > many.csv
	run --separate-stderr fd-features --features sender_txn_count_1h many.csv
	assert_success
	[ "${#stderr_lines[@]}" -eq 22 ] || { echo "$stderr"; false; }
	[[ ${stderr_lines[0]} == "fd-features: many.csv:2: field 'amount': bad amount '1.234' "*"(skipped)" ]]
	[[ ${stderr_lines[19]} == "fd-features: many.csv:21: field 'amount': "*"(skipped)" ]]
	assert_equal "${stderr_lines[20]}" "fd-features: ... and 5 more bad records skipped"
	assert_equal "${stderr_lines[21]}" "fd-features: 1 transactions, 1 features each, 25 skipped (bad records)"
}

@test "from the store with --since: the same features as a full replay of the stream" {
	fd-gen --seed 5 --rows 4000 --customers 80 --days 60 -o tx.csv
	fd-ingest -q tx.csv
	since=2026-02-01T00:00:00Z
	fd-features -q tx.csv | awk -F, -v s="$since" 'NR == 1 || $2 >= "2026-02-01"' > stream.out
	fd-features -q --since "$since" > store.out
	[ "$(wc -l < store.out)" -gt 1000 ]
	cmp stream.out store.out
	# --until bounds it too
	run fd-features -q --since 2026-02-01T00:00:00Z --until 2026-02-02T00:00:00Z --features hour
	assert_success
	[ "$(echo "$output" | awk -F, 'NR > 1 && ($2 < "2026-02-01" || $2 >= "2026-02-02")' | wc -l)" -eq 0 ]
}

@test "-o writes atomically and refuses to overwrite the input" {
	fd-features -q -o out.csv --features hour "$F/small.csv"
	assert_equal "$(wc -l < out.csv)" 5
	cp "$F/small.csv" in.csv
	run fd-features -q -o in.csv in.csv
	assert_failure 2
	assert_output --partial "in.csv"
}

@test "--metrics writes counts and state size" {
	fd-features -q --metrics m.prom "$F/onebad.csv" > /dev/null
	run grep -v '^#' m.prom
	assert_line 'fd_features_records_total{tool="fd-features",result="computed"} 2'
	assert_line 'fd_features_records_total{tool="fd-features",result="skipped"} 1'
}

@test "usage errors: unknown feature, bad times, --since on files, --sort on the store" {
	run fd-features --features hour,nope "$F/small.csv"
	assert_failure 2
	assert_output --partial "'nope'"
	run fd-features --since yesterday
	assert_failure 2
	assert_line --index 0 --partial "fd-features: --since 'yesterday': "
	run fd-features --since 2026-01-02 "$F/small.csv"
	assert_failure 2
	assert_line --index 0 "fd-features: --since and --until select from the store; they do not apply to FILEs"
	run fd-features --store x.db --sort
	assert_failure 2
	assert_line --index 0 "fd-features: --sort applies to FILEs; the store is read in time order"
	run fd-features --until 2026-01-01 --since 2026-02-01
	assert_failure 2
	assert_line --index 0 "fd-features: --until must be later than --since"
	run fd-features --label-delay -1 "$F/small.csv"
	assert_failure 2
}

@test "local_hour: the export's wall clock with --tz, solar time without" {
	# hours by python3's zoneinfo: 2026-01-15T23:30Z is 00h in Berlin (CET), 15h in Los
	# Angeles (PST); 2026-07-01T01:30Z is 03h in Berlin (CEST), 18h in Los Angeles (PDT);
	# solar time at lon -122.42 is UTC - 8 h (round(-122.42 / 15)); S2 has no place: UTC
	cat > z.csv <<'CSV'
txn_id,ts,amount,sender_id,lat,lon
Z1,2026-01-15T23:30:00Z,10.00,S1,37.77,-122.42
Z2,2026-07-01T01:30:00Z,10.00,S1,37.77,-122.42
Z3,2026-07-01T02:30:00Z,10.00,S2,,
CSV
	run fd-features -q --features local_hour z.csv
	assert_output - <<'OUT'
txn_id,ts,label,local_hour
Z1,2026-01-15T23:30:00.000Z,,15
Z2,2026-07-01T01:30:00.000Z,,17
Z3,2026-07-01T02:30:00.000Z,,2
OUT
	run fd-features -q --features local_hour --tz Europe/Berlin z.csv
	assert_output - <<'OUT'
txn_id,ts,label,local_hour
Z1,2026-01-15T23:30:00.000Z,,0
Z2,2026-07-01T01:30:00.000Z,,3
Z3,2026-07-01T02:30:00.000Z,,4
OUT
	run fd-features -q --features local_hour --tz America/Los_Angeles z.csv
	assert_output - <<'OUT'
txn_id,ts,label,local_hour
Z1,2026-01-15T23:30:00.000Z,,15
Z2,2026-07-01T01:30:00.000Z,,18
Z3,2026-07-01T02:30:00.000Z,,19
OUT
	# a fixed offset: +05:30
	run fd-features -q --features local_hour --tz +05:30 z.csv
	assert_output - <<'OUT'
txn_id,ts,label,local_hour
Z1,2026-01-15T23:30:00.000Z,,5
Z2,2026-07-01T01:30:00.000Z,,7
Z3,2026-07-01T02:30:00.000Z,,8
OUT
	# from the store: each source's zone as fd-ingest --tz recorded it (none: solar time);
	# --tz of the reading tool is only the zone of --since
	fd-ingest -q --tz Europe/Berlin z.csv
	sed 's/^Z/Y/; s/,S/,T/' z.csv > y.csv
	fd-ingest -q --tz +05:30 y.csv
	sed 's/^Z/X/; s/,S/,U/' z.csv > x.csv
	fd-ingest -q x.csv
	run q "SELECT id, json_extract(options, '$.tz') FROM sources ORDER BY id"
	assert_output - <<'OUT'
1|Europe/Berlin
2|+05:30
3|
OUT
	run fd-features -q --features local_hour --tz +09:00 --since 2026-01-01
	assert_output - <<'OUT'
txn_id,ts,label,local_hour
Z1,2026-01-15T23:30:00.000Z,,0
Y1,2026-01-15T23:30:00.000Z,,5
X1,2026-01-15T23:30:00.000Z,,15
Z2,2026-07-01T01:30:00.000Z,,3
Y2,2026-07-01T01:30:00.000Z,,7
X2,2026-07-01T01:30:00.000Z,,17
Z3,2026-07-01T02:30:00.000Z,,4
Y3,2026-07-01T02:30:00.000Z,,8
X3,2026-07-01T02:30:00.000Z,,2
OUT
}

# The 26 columns kept for another entity than the sender, as man/fd-features.1 (SHARDING)
# lists them: in a shard they count only the shard's own senders.
OTHER_ENTITY="recipient_txn_count_30d recipient_txn_count recipient_sender_count
recipient_known_txns_1d recipient_known_txns_7d recipient_known_txns_30d
recipient_known_frauds_1d recipient_known_frauds_7d recipient_known_frauds_30d
recipient_fraud_share_1d recipient_fraud_share_7d recipient_fraud_share_30d
merchant_txn_count merchant_fraud_rate merchant_known_txns_1d merchant_known_txns_7d
merchant_known_txns_30d merchant_known_frauds_1d merchant_known_frauds_7d
merchant_known_frauds_30d merchant_fraud_share_1d merchant_fraud_share_7d
merchant_fraud_share_30d days_since_merchant_first_fraud device_sender_count ip_sender_count"

# compare_shards ONE.csv SHARDED.csv: every row in both, per-sender columns equal, and the
# columns that differ anywhere are printed (one a line)
compare_shards() {
	python3 - "$1" "$2" <<'PY'
import csv, sys
one = list(csv.reader(open(sys.argv[1])))
sh = list(csv.reader(open(sys.argv[2])))
assert one[0] == sh[0], "headers differ"
h = one[0]
a = {r[0]: r for r in one[1:]}
b = {r[0]: r for r in sh[1:]}
assert len(a) == len(one) - 1 and len(b) == len(sh) - 1, "a txn_id twice"
assert set(a) == set(b), "rows differ: %d vs %d" % (len(a), len(b))
diff = sorted({h[i] for k in a for i in range(len(h)) if a[k][i] != b[k][i]})
print("\n".join(diff))
PY
}

@test "--shard I/N: each sender in shard FNV-1a(sender_id) mod N; shards concatenate to one run" {
	fd-gen -q --seed 3 --rows 3000 --customers 200 --days 20 -o tx.csv
	fd-features -q tx.csv > one.csv
	for i in 0 1 2; do fd-features -q --shard $i/3 tx.csv > s$i.csv; done
	# the shard of every row, by an independent FNV-1a (offset basis and prime of the spec)
	python3 - <<'PY'
import csv
def fnv(s):
    h = 14695981039346656037
    for c in s.encode():
        h = ((h ^ c) * 1099511628211) % 2**64
    return h
want = {0: set(), 1: set(), 2: set()}
for r in csv.DictReader(open("tx.csv")):
    want[fnv(r["sender_id"]) % 3].add(r["txn_id"])
for i in range(3):
    got = {r["txn_id"] for r in csv.DictReader(open("s%d.csv" % i))}
    assert got == want[i], "shard %d: %d rows, want %d" % (i, len(got), len(want[i]))
    assert len(got) > 500, "shard %d nearly empty" % i
PY
	{ cat s0.csv; tail -n +2 s1.csv; tail -n +2 s2.csv; } > sharded.csv
	run compare_shards one.csv sharded.csv
	assert_success
	# only columns of the documented list differ (and some do: a shard sees part of a merchant)
	[ -n "$output" ]
	for c in $output; do
		[[ " $(echo $OTHER_ENTITY) " == *" $c "* ]] || { echo "undocumented: $c differs"; false; }
	done
	# --shard 0/1 is the whole input
	fd-features -q --shard 0/1 tx.csv | cmp - one.csv
}

@test "--shard: bad I/N is a usage error" {
	for a in 3/3 1 0/0 -1/2 1/-2 '0/ 2' 0/65537 1/2x x/2 /2 0/; do
		run fd-features --shard "$a" "$TD/features/small.csv"
		assert_failure 2
		assert_line --index 0 --partial "fd-features: --shard '$a': "
	done
	run fd-features --shard 3/3 "$TD/features/small.csv"
	assert_line --index 0 "fd-features: --shard '3/3': I must be below N (shards are numbered from 0)"
	run fd-features --shard 0/65537 "$TD/features/small.csv"
	assert_line --index 0 "fd-features: --shard '0/65537': N must be from 1 to 65536"
	run fd-features --shard 2 "$TD/features/small.csv"
	assert_line --index 0 "fd-features: --shard '2': expected I/N (e.g. 0/4)"
	run fd-features -q --shard 65535/65536 "$TD/features/small.csv"
	assert_success
}

@test "scripts/fd-shard.sh: shards under GNU parallel, concatenated; a failed shard leaves no output" {
	fd-gen -q --seed 5 --rows 2000 --customers 150 --days 10 -o tx.csv
	fd-features -q tx.csv > one.csv
	FD_SHARD_JOBS=2 run "$FD_ROOT/scripts/fd-shard.sh" 4 sharded.csv -q tx.csv
	assert_success
	[ "$(head -n 1 sharded.csv)" = "$(head -n 1 one.csv)" ]
	[ "$(grep -c '^txn_id,' sharded.csv)" -eq 1 ]
	run compare_shards one.csv sharded.csv
	assert_success
	for c in $output; do
		[[ " $(echo $OTHER_ENTITY) " == *" $c "* ]] || { echo "undocumented: $c differs"; false; }
	done
	# NDJSON: no header, concatenated as is
	run "$FD_ROOT/scripts/fd-shard.sh" 3 sharded.ndjson -q --format ndjson --features hour tx.csv
	assert_success
	[ "$(wc -l < sharded.ndjson)" -eq 2000 ]
	# a shard that fails: its status, and no output
	run "$FD_ROOT/scripts/fd-shard.sh" 3 bad.csv -q --features nope tx.csv
	assert_failure 2
	[ ! -e bad.csv ]
	run "$FD_ROOT/scripts/fd-shard.sh" 0 bad.csv tx.csv
	assert_failure 2
	assert_output "fd-shard.sh: N '0' is not a number of shards from 1 to 65536"
	[ -z "$(ls -A | grep fd-shard)" ]
}

@test "validation of text fields, currencies and countries does not depend on the rows before" {
	# a currency or country right after a valid one is still checked (the reader remembers the
	# last valid code); a control byte or bad UTF-8 after printable bytes is still found; a
	# valid multi-byte city passes
	printf '%s\n' 'txn_id,ts,amount,currency,sender_id,country,city' \
		'A1,2026-03-02T10:00:00Z,10.00,USD,S1,US,Paris' \
		'A2,2026-03-02T10:01:00Z,10.00,USX,S1,US,Paris' \
		'A3,2026-03-02T10:02:00Z,10.00,usd,S1,ZZ,Paris' \
		'A4,2026-03-02T10:03:00Z,10,JPY,S1,us,Paris' \
		'A5,2026-03-02T10:04:00Z,10.00,USD,S1,US,Zürich' \
		'A6,2026-03-02T10:05:00Z,10.00,USD,S1,US,Montréal' \
		'A7,2026-03-02T10:06:00Z,10.00,USD,S1,FR,Par'$'\x01''is' \
		'A8,2026-03-02T10:07:00Z,10.00,USD,S1,fr,Lyon' > v.csv
	printf 'A9,2026-03-02T10:08:00Z,10.00,USD,S1,FR,Ly\xffon\n' >> v.csv
	run --separate-stderr fd-features --features amount v.csv
	assert_success
	assert_output - <<'OUT'
txn_id,ts,label,amount
A1,2026-03-02T10:00:00.000Z,,10
A4,2026-03-02T10:03:00.000Z,,10
A5,2026-03-02T10:04:00.000Z,,10
A6,2026-03-02T10:05:00.000Z,,10
A8,2026-03-02T10:07:00.000Z,,10
OUT
	assert_equal "$(echo "$stderr" | sed -n 1p)" "fd-features: v.csv:3: field 'currency': bad currency 'USX' (not an ISO 4217 code) (skipped)"
	assert_equal "$(echo "$stderr" | sed -n 2p)" "fd-features: v.csv:4: field 'country': bad country 'ZZ' (not an ISO 3166-1 alpha-2 code) (skipped)"
	assert_equal "$(echo "$stderr" | sed -n 3p)" "fd-features: v.csv:8: field 'city': control character in 'Par\\x01is' (skipped)"
	assert_equal "$(echo "$stderr" | sed -n 4p)" "fd-features: v.csv:10: field 'city': not valid UTF-8: 'Ly"$'\xff'"on' (skipped)"
	assert_equal "$(echo "$stderr" | sed -n 5p)" "fd-features: 5 transactions, 1 features each, 4 skipped (bad records)"
}
