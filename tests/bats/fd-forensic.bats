#!/usr/bin/env bats
# fd-audit's forensic tests.  The expected rows for testdata/forensic/payments.csv were worked
# out by hand (the file's comments in the man page's FORENSIC TESTS explain each case); the
# Benford statistics of generated data are recomputed by tests/unit/benford_ref.py from the
# amount column's text, independently of fd's code.

load common
bats_require_minimum_version 1.5.0

setup() {
	common_setup
	P="$TD/forensic/payments.csv"
	H="$TD/forensic/holidays.txt"
}

@test "duplicates: same day, same reference, same digits and one edit, in order of the first payment" {
	run --separate-stderr fd-audit duplicates --reference invoice "$P"
	[ "$status" -eq 1 ]
	assert_output "group,basis,size,txn_id,ts,amount,currency,payee,reference
1,same-day,2,P001,2026-11-02T09:00:00.000Z,1200.00,USD,V1,INV-0001
1,same-day,2,P002,2026-11-02T15:30:00.000Z,1200.00,USD,V1,INV-0002
2,same-reference,2,P003,2026-11-03T10:00:00.000Z,455.10,USD,V2,INV-0003
2,same-reference,2,P004,2026-11-10T10:00:00.000Z,455.10,USD,V2,inv 0003
3,reference-digits,2,P012,2026-11-05T12:00:00.000Z,2150.00,USD,V7,INV-1012
3,reference-digits,2,P013,2026-11-20T12:00:00.000Z,2150.00,USD,V7,1012
4,reference-one-edit,2,P016,2026-11-12T10:00:00.000Z,780.00,USD,V10,INV-2001
4,reference-one-edit,2,P017,2026-11-19T10:00:00.000Z,780.00,USD,V10,INV-2010"
	[ "$stderr" = "fd-audit: duplicates: 4 groups of 8 transactions among 17 (0 without a recipient or merchant not compared)" ]
}

@test "duplicates without --reference: the same day only; NDJSON in, NDJSON out" {
	python3 -c '
import csv, json, sys
for r in csv.DictReader(open(sys.argv[1])):
    print(json.dumps({k: v for k, v in r.items() if v != ""}))' "$P" >p.ndjson
	run --separate-stderr fd-audit duplicates -q p.ndjson
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 2 ]
	[ "$(printf '%s\n' "$output" | jq -r '[.group, .basis, .txn_id, .amount] | @csv' | tr '\n' ' ')" = '1,"same-day","P001",1200 1,"same-day","P002",1200 ' ]
	[ -z "$stderr" ]
}

@test "duplicates: nothing found is exit 0 with a header" {
	sed -n '1p;5,7p' "$P" >three.csv
	run --separate-stderr fd-audit duplicates -q --reference invoice three.csv
	assert_success
	assert_output "group,basis,size,txn_id,ts,amount,currency,payee,reference"
}

@test "gaps: missing and repeated numbers per prefix, zero-padded as written" {
	run --separate-stderr fd-audit gaps --reference invoice "$P"
	[ "$status" -eq 1 ]
	assert_output "prefix,kind,from,to,count,txn_id
INV-,gap,0004,0004,1,P003
INV-,duplicate,0006,0006,2,P006
INV-,duplicate,0006,0006,2,P007
INV-,gap,0007,0007,1,P007
INV-,gap,0011,1011,1001,P010
INV-,gap,1014,1014,1,P014
INV-,gap,1016,2000,985,P015
INV-,gap,2002,2009,8,P016"
	[ "$stderr" = "fd-audit: gaps: invoice numbers of 17 transactions in 4 prefixes: 6 gaps (1,997 numbers missing), 1 duplicated number (2 transactions); 0 without invoice, 0 not ending in a number of up to 18 digits" ]
}

@test "gaps: txn_id by default; an unbroken sequence is exit 0" {
	run --separate-stderr fd-audit gaps "$P"
	assert_success
	assert_output "prefix,kind,from,to,count,txn_id"
	[[ $stderr == "fd-audit: gaps: txn_id numbers of 17 transactions in 1 prefix: 0 gaps"* ]]
}

@test "round: each tier against chance, and the band below each threshold" {
	run --separate-stderr fd-audit round "$P"
	[ "$status" -eq 1 ]
	# z by hand: (10 - 16*0.01 - 0.5) / sqrt(16*0.01*0.99) = 23.4676; (10 - 1 - 0.5) / sqrt(0.9)
	# = 8.95979; (5 - 1 - 0.5) / sqrt(0.9) = 3.68932; (1 - 0.4 - 0.5) / sqrt(0.36) = 0.166667
	assert_output "test,value,band_low,band_high,n,count,observed,expected,z,finding
multiple,1,,,16,10,0.625,0.01,23.4676,1
multiple,10,,,10,10,1,0.1,8.95979,1
multiple,100,,,10,5,0.5,0.1,3.68932,1
multiple,1000,,,4,1,0.25,0.1,0.166667,0
below-threshold,3000,2700,3000,0,0,,0.5,0,0
below-threshold,5000,4500,5000,0,0,,0.5,0,0
below-threshold,10000,9000,10000,1,1,1,0.5,0,0"
	[ "$stderr" = "fd-audit: round: 16 positive amounts; 3 clusters (z >= 3)" ]
}

@test "round: --thresholds, --band and --z" {
	run --separate-stderr fd-audit round -q --thresholds 2200 --band 5 --z 0.5 "$P"
	[ "$status" -eq 1 ]
	# [2090, 2200): 2150 twice; [1980, 2090): none; (2 - 1 - 0.5) / sqrt(0.5) = 0.707107
	assert_line "below-threshold,2200,2090,2200,2,2,1,0.5,0.707107,1"
}

@test "weekend: weekend days and holidays; --tz moves a late Sunday posting to Monday" {
	run --separate-stderr fd-audit weekend --holidays "$H" "$P"
	[ "$status" -eq 1 ]
	assert_output "txn_id,ts,date,weekday,reason,holiday,amount,currency,sender_id,recipient_id
P006,2026-11-07T12:00:00.000Z,2026-11-07,Sat,weekend,,77.77,USD,A4,V4
P007,2026-11-08T23:30:00.000Z,2026-11-08,Sun,weekend,,300.00,USD,A4,V5
P008,2026-11-11T08:00:00.000Z,2026-11-11,Wed,holiday,Armistice Day,64.20,USD,A5,
P010,2026-12-25T10:00:00.000Z,2026-12-25,Fri,holiday,Christmas Day,5000.00,EUR,A7,V6"
	[ "$stderr" = "fd-audit: weekend: 4 of 17 transactions on weekend days or holidays (2 on weekend days, 2 on the 2 holidays given)" ]
	run --separate-stderr fd-audit weekend -q --tz +01:00 --holidays "$H" "$P"
	[ "$(printf '%s\n' "$output" | cut -d, -f1,3,4 | tr '\n' ' ')" = "txn_id,date,weekday P006,2026-11-07,Sat P008,2026-11-11,Wed P010,2026-12-25,Fri " ]
	run --separate-stderr fd-audit weekend -q --weekend-days fri,sat "$P"
	[ "$(printf '%s\n' "$output" | cut -d, -f1 | tr '\n' ' ')" = "txn_id P006 P010 P013 P014 P015 " ]
}

@test "weekend: a bad holidays file is exit 3 naming the line" {
	printf '2026-11-11\n11/12/2026 x\n' >bad.txt
	run --separate-stderr fd-audit weekend --holidays bad.txt "$P"
	[ "$status" -eq 3 ]
	[ "$stderr" = "fd-audit: bad.txt:2: not a date YYYY-MM-DD '11/12/2026 x'" ]
	run --separate-stderr fd-audit weekend --holidays nothere.txt "$P"
	[ "$status" -eq 4 ]
	[ "$stderr" = "fd-audit: nothere.txt: No such file or directory" ]
}

@test "strata: counts and exact totals per currency and band" {
	run --separate-stderr fd-audit strata "$P"
	assert_success
	assert_line "USD,,0,1,0.0625,-120.00,-0.00532979"
	assert_line "USD,10,100,3,0.1875,206.27,0.00916146"
	assert_line "USD,1000,10000,6,0.375,19650.00,0.872753"
	assert_line "EUR,1000,10000,1,1,5000.00,1"
	[ "${#lines[@]}" -eq 15 ]
	[ "$stderr" = "fd-audit: strata: 17 transactions in 7 bands, 2 currencies" ]
	run --separate-stderr fd-audit strata -q --bands 0,1000 --format ndjson "$P"
	assert_success
	[ "$(printf '%s\n' "$output" | jq -c 'select(.currency == "USD") | [.band_low, .band_high, .count, .total]' | tr '\n' ' ')" = "[null,0,1,-120] [0,1000,9,2984.97] [1000,null,6,19650] " ]
}

@test "ageing: buckets of days since posting as of a date" {
	run --separate-stderr fd-audit ageing --as-of 2026-11-21 --buckets 7,14,30 "$P"
	assert_success
	assert_output "currency,bucket,from_days,to_days,count,count_share,total,total_share
EUR,0-7,0,7,0,0,0.00,0
EUR,8-14,8,14,0,0,0.00,0
EUR,15-30,15,30,0,0,0.00,0
EUR,31+,31,,0,0,0.00,0
EUR,future,,,1,1,5000.00,1
USD,0-7,0,7,2,0.125,2930.00,0.130136
USD,8-14,8,14,7,0.4375,4785.57,0.212551
USD,15-30,15,30,7,0.4375,14799.40,0.657314
USD,31+,31,,0,0,0.00,0
USD,future,,,0,0,0.00,0"
	[ "$stderr" = "fd-audit: ageing: 17 transactions as of 2026-11-21T00:00:00.000Z, 1 after it" ]
}

# The reference: leading digits taken from the amount's text, the statistics by benford_ref.py.
benford_ref() {
	python3 - "$1" "$FD_ROOT/tests/unit" <<'PY'
import csv, sys
sys.path.insert(0, sys.argv[2])
import benford_ref as ref
c1 = [0] * 9; c2 = [0] * 90
for r in csv.DictReader(open(sys.argv[1])):
    a = r["amount"]
    if a.startswith("-") or float(a) == 0: continue
    d = a.replace(".", "").lstrip("0")
    c1[int(d[0]) - 1] += 1
    if float(a) >= 10: c2[int(d[:2]) - 10] += 1
for name, c, lo in (("first", c1, 1), ("first-two", c2, 10)):
    n, chi, df, p, mad, zs = ref.stats(c, lo)
    print(name, n, "%.6g" % chi, df, "%.6g" % p, "%.6g" % mad)
print(" ".join(map(str, c1)))
PY
}

@test "benford: chi-square, p-value, MAD and counts equal an independent computation" {
	fd-gen --rows 3000 --seed 7 -q -o g.csv
	benford_ref g.csv >want.txt
	run --separate-stderr fd-audit benford --summary -q g.csv
	[ "$status" -le 1 ]
	python3 - want.txt <<PY
import sys
want = open(sys.argv[1]).read().split("\n")
got = """$output""".split("\n")[1:]
for w, g in zip(want[:2], got):
    w = w.split(" "); g = g.split(",")
    assert w[0] == g[0] and w[1] == g[1] and w[3] == g[3], (w, g)
    for i, j in ((2, 2), (4, 4), (5, 5)):
        assert abs(float(w[i]) - float(g[j])) <= 1e-5 * abs(float(w[i])) + 1e-300, (w, g)
PY
	run --separate-stderr fd-audit benford --test first -q g.csv
	[ "$(printf '%s\n' "$output" | tail -n +2 | cut -d, -f3 | tr '\n' ' ')" = "$(sed -n 3p want.txt) " ]
}

@test "benford: the per-digit table, z with the continuity correction, and the exit status" {
	# 100 amounts: 35 of 1, 20 of 2, 10 of 3, 9 of 4, 8 of 5, 6 of 6, 5 of 7, 4 of 8, 3 of 9:
	# MAD 0.01638 is nonconformity (> 0.015), so exit 1
	{ echo txn_id,ts,amount,sender_id; i=0
	  for dc in 1:35 2:20 3:10 4:9 5:8 6:6 7:5 8:4 9:3; do
		for _ in $(seq "${dc#*:}"); do i=$((i + 1)); echo "T$i,2026-01-01T00:00:00Z,${dc%:*}.50,S"; done
	  done; } >d.csv
	run --separate-stderr fd-audit benford --test first d.csv
	[ "$status" -eq 1 ]
	assert_line --index 0 "test,digit,count,observed,expected,z,significant"
	assert_line --index 1 "first,1,35,0.35,0.30103,0.958567,0"
	assert_line --index 9 "first,9,3,0.03,0.0457575,0.514814,0"
	[ "$stderr" = "fd-audit: benford: first digit: 100 amounts, chi-square 2.64 (8 df, p 0.955), MAD 0.01638: nonconformity (0 zero or negative amounts not counted)" ]
}

@test "benford --by: one test per group of at least --min-count amounts" {
	run --separate-stderr fd-audit benford --by recipient --min-count 2 --summary --test first "$P"
	[ "$status" -eq 1 ]
	assert_line --index 0 "group,test,n,chi2,df,p_value,mad,conformity"
	# V1, V2, V7 and V10 have two positive amounts each; V1's are 1200.00 twice: chi-square
	# (2 - 2p)^2 / 2p + (2 - 2p) with p = log10(2) = 4.64386 by hand
	[ "${#lines[@]}" -eq 5 ]
	[[ ${lines[1]} == "V1,first,2,4.6438562,8,"* ]]
	[ "$stderr" = "fd-audit: benford: 4 recipient_id groups of at least 2 amounts tested (6 smaller left out); first digit: 4 nonconforming (1 zero or negative amounts not counted)" ]
}

@test "the store: --since and --until select the period" {
	fd-ingest -q "$P"
	run --separate-stderr fd-audit weekend -q --since 2026-11-08 --until 2026-11-09
	[ "$status" -eq 1 ]
	[ "$(printf '%s\n' "$output" | cut -d, -f1 | tr '\n' ' ')" = "txn_id P007 " ]
	run --separate-stderr fd-audit gaps -q --reference invoice --since 2026-11-01 --until 2026-11-04
	[ "$status" -eq 1 ]
	assert_output "prefix,kind,from,to,count,txn_id
INV-,gap,0004,0004,1,P003"
}

@test "-o writes atomically and refuses the input; --metrics" {
	run --separate-stderr fd-audit strata -q -o out.csv --metrics m.prom "$P"
	assert_success
	[ "$(wc -l <out.csv)" -eq 15 ]
	grep -q '^fd_audit_forensic_records{tool="fd-audit",test="strata"} 17$' m.prom
	cp "$P" in.csv
	run --separate-stderr fd-audit strata -q -o in.csv in.csv
	[ "$status" -eq 2 ]
	cmp in.csv "$P"
}

@test "usage errors: exit 2 with one line and the usage" {
	for args in "benford --test third" "benford --by city" "round --by sender" "strata --bands 10,5" \
		"round --band 60" "weekend --weekend-days funday" "ageing --buckets 7.5" "benford --min -1" \
		"nosuchtest"; do
		# shellcheck disable=SC2086
		run --separate-stderr fd-audit $args "$P"
		[ "$status" -eq 2 ] || { echo "$args: $status"; false; }
		[[ $stderr == *"usage: fd-audit "* ]] || { echo "$args: $stderr"; false; }
	done
	run --separate-stderr fd-audit benford --test third "$P"
	[[ ${stderr%%$'\n'*} == "fd-audit: --test must be first, first-two or both, not 'third'" ]]
	run --separate-stderr fd-audit round --by sender "$P"
	[[ ${stderr%%$'\n'*} == "fd-audit: --by does not apply to round" ]]
	run --separate-stderr fd-audit strata --bands 10,5 "$P"
	[[ ${stderr%%$'\n'*} == "fd-audit: --bands '10,5': not increasing" ]]
	run --separate-stderr fd-audit strata --since 2026-01-01 "$P"
	[ "$status" -eq 2 ]
	run --separate-stderr fd-audit benford --help
	assert_success
	[[ $output == "usage: fd-audit [options] benford|duplicates"* ]]
}

@test "bad records are skipped with a message, or stop the run under --strict" {
	{ cat "$P"; echo "P018,2026-11-30T00:00:00Z,12.345,USD,A1,V1,,INV-9999"; } >bad.csv
	run --separate-stderr fd-audit strata bad.csv
	assert_success
	[[ ${stderr_lines[0]} == "fd-audit: bad.csv:19: field 'amount': bad amount '12.345' "*"(skipped)" ]]
	[[ $stderr == *"fd-audit: 1 bad records skipped"* ]]
	run --separate-stderr fd-audit strata -q bad.csv
	assert_success
	assert_equal "$stderr" ""
	run --separate-stderr fd-audit strata --strict bad.csv
	[ "$status" -eq 3 ]
	[[ $stderr == "fd-audit: bad.csv:19: field 'amount': bad amount '12.345' "*"(--strict: stopped here)" ]]
	[ -z "$output" ]
	run --separate-stderr fd-audit strata nothere.csv
	[ "$status" -eq 4 ]
}
