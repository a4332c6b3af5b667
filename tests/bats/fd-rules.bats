#!/usr/bin/env bats
# fd-rules: hits, input options, time order, bad records, rules errors, the default rules
# file, recording hits in the store, store input, backtest and --compare.
#
# Expected values are worked out by hand from testdata/rules/ (see its README.md):
# labelled.csv holds 19 transactions over 2026-03-02 and 2026-03-03, each row built to hit
# one rule of rules/default.rules or none:
#   A1-A6  one sender, one a minute from 10:00: A6 is the 6th in 10 minutes -> velocity_10m
#   C1     12000.00 -> large_amount;  D1 country IR -> sanctioned_country (50.00 EUR)
#   E1, H1 at 03:30 and 04:10 UTC, no place: local time is UTC -> unusual_hour (H1 unlabelled)
#   B2     400.00 after B1's 100.00 the day before: 4.0 times the 30-day mean -> amount_spike
#   F1-F3  9500, 9600, 9700 within 24 h: F3 is the 3rd near 10000 -> structuring
#   I2     New York (40.7128,-74.0060) -> London (51.5074,-0.1278) in 30 min: haversine
#          on R = 6371.0088 km (python3) gives 5570.23 km, 11140.46 km/h -> impossible_travel
#   J1     800.00 from a first-seen device -> new_device_large;  G1 fraud that nothing hits
# Labels: fraud A6 B2 D1 F1 F2 F3 I2 G1 (8), legitimate B1 A1-A5 C1 E1 I1 J1 (10), H1 none.

bats_require_minimum_version 1.5.0
load common

setup() {
	common_setup
	R="$TD/rules"
	DEF="$FD_ROOT/rules/default.rules"
	export FD_RULES="$DEF"
	DEFSHA=$(sha256sum "$DEF" | cut -d' ' -f1)
}

HITS='txn_id,rule_id,points,action,reason
A6,velocity_10m,30,review,6 transactions in 10 minutes (limit 5)
C1,large_amount,20,review,"amount 12,000.00 USD at or above 10000 (mandatory review)"
D1,sanctioned_country,100,block,country IR is sanctioned
E1,unusual_hour,10,review,"at 3h local time, between 00:00 and 05:00"
H1,unusual_hour,10,review,"at 4h local time, between 00:00 and 05:00"
B2,amount_spike,25,review,amount 400.00 USD is 4.0 times the sender'"'"'s 30-day average (limit 3)
F3,structuring,50,review,"3 transactions between 9000 and 10000 in 24 hours, this one 9,700.00 USD (limit 3)"
I2,impossible_travel,40,review,"5,570 km from the previous transaction 30 minutes earlier (11,140 km/h; limits 500 km in an hour, 900 km/h)"
J1,new_device_large,25,review,"amount 800.00 USD from device DJ1, new for this sender (limit 500)"'

# ---- hits ----------------------------------------------------------------------------------

@test "hits of the default rules, worked out by hand" {
	run --separate-stderr fd-rules "$R/labelled.csv"
	assert_success
	assert_output "$HITS"
	[ "$stderr" = "fd-rules: 19 transactions, 0 bad records skipped; 9 hits on 9 transactions (rules $DEF, 11 rules, sha256 $DEFSHA)" ] || { echo "$stderr"; false; }
}

@test "-q: no summary" {
	run --separate-stderr fd-rules -q "$R/labelled.csv"
	assert_success
	assert_output "$HITS"
	[ -z "$stderr" ]
}

@test "NDJSON input gives NDJSON hits; --format chooses" {
	run --separate-stderr fd-rules -q "$R/labelled.ndjson"
	assert_success
	assert_line --index 0 '{"txn_id":"A6","rule_id":"velocity_10m","points":30,"action":"review","reason":"6 transactions in 10 minutes (limit 5)"}'
	assert_line --index 3 '{"txn_id":"E1","rule_id":"unusual_hour","points":10,"action":"review","reason":"at 3h local time, between 00:00 and 05:00"}'
	[ "${#lines[@]}" -eq 9 ]
	run fd-rules -q --format csv "$R/labelled.ndjson"
	assert_output "$HITS"
	fd-rules -q --format ndjson "$R/labelled.csv" > h.ndjson
	run jq -r '[.txn_id, .rule_id, .points, .action] | join(" ")' h.ndjson
	assert_output - <<'OUT'
A6 velocity_10m 30 review
C1 large_amount 20 review
D1 sanctioned_country 100 block
E1 unusual_hour 10 review
H1 unusual_hour 10 review
B2 amount_spike 25 review
F3 structuring 50 review
I2 impossible_travel 40 review
J1 new_device_large 25 review
OUT
}

@test "several inputs are one stream; '-' is standard input" {
	head -n 10 "$R/labelled.csv" > day1.csv
	{ head -n 1 "$R/labelled.csv"; tail -n +11 "$R/labelled.csv"; } > day2.csv
	run fd-rules -q day1.csv - < day2.csv
	assert_success
	assert_output "$HITS"
}

@test "a transaction hit by several rules has them in file order" {
	# N1: 2026-03-02 08:30 at +05:00 is 03:30 UTC; 12000 JPY.  local_hour reads the export's
	# clock, 08:30, not an unusual hour (03h UTC would be)
	run fd-rules -q --tz +05:00 --currency JPY "$R/naive.csv"
	assert_success
	assert_output - <<'OUT'
txn_id,rule_id,points,action,reason
N1,large_amount,20,review,"amount 12,000 JPY at or above 10000 (mandatory review)"
OUT
	# 01:30 at +07:00 is 2026-03-01 18:30 UTC: an unusual hour on the export's clock only
	sed 's/08:30/01:30/' "$R/naive.csv" > night.csv
	run fd-rules -q --tz +07:00 --currency JPY night.csv
	assert_output - <<'OUT'
txn_id,rule_id,points,action,reason
N1,unusual_hour,10,review,"at 1h local time, between 00:00 and 05:00"
N1,large_amount,20,review,"amount 12,000 JPY at or above 10000 (mandatory review)"
OUT
	# the same record read as UTC, in dollars
	run fd-rules -q "$R/naive.csv"
	assert_output - <<'OUT'
txn_id,rule_id,points,action,reason
N1,large_amount,20,review,"amount 12,000.00 USD at or above 10000 (mandatory review)"
OUT
}

@test "--map and --delimiter read another export layout" {
	run fd-rules -q --map "$R/mapped.map" --delimiter ';' "$R/mapped.csv"
	assert_success
	assert_output - <<'OUT'
txn_id,rule_id,points,action,reason
M1,large_amount,20,review,"amount 11,000.00 USD at or above 10000 (mandatory review)"
OUT
	run --separate-stderr fd-rules -q --map "$R/mapped.map" "$R/mapped.csv"
	assert_failure 3
	[ "$stderr" = "fd-rules: $R/mapped.csv:1: no column 'id', mapped to the required field txn_id (columns: id;when;value;ccy;customer)" ] || { echo "$stderr"; false; }
}

@test "--label-delay: when labels reach merchant_fraud_rate" {
	# X1 (fraud, merchant M1) is 2 days before X2 at M1
	run fd-rules -q --rules "$R/delay.rules" --label-delay 1 "$R/delay.csv"
	assert_output - <<'OUT'
txn_id,rule_id,points,action,reason
X2,risky_merchant,40,review,merchant fraud rate 1
OUT
	# known exactly at ts + delay
	run fd-rules -q --rules "$R/delay.rules" --label-delay 2 "$R/delay.csv"
	assert_line --index 1 "X2,risky_merchant,40,review,merchant fraud rate 1"
	run fd-rules -q --rules "$R/delay.rules" --label-delay 2.5 "$R/delay.csv"
	assert_output "txn_id,rule_id,points,action,reason"
	# default 7 days
	run fd-rules -q --rules "$R/delay.rules" "$R/delay.csv"
	assert_output "txn_id,rule_id,points,action,reason"
}

@test "an input without hits writes the header alone" {
	printf 'txn_id,ts,amount,sender_id\nQ1,2026-03-02T12:00:00Z,5.00,SQ\n' > quiet.csv
	run --separate-stderr fd-rules quiet.csv
	assert_success
	assert_output "txn_id,rule_id,points,action,reason"
	[[ $stderr == "fd-rules: 1 transactions, 0 bad records skipped; 0 hits on 0 transactions "* ]]
}

# ---- time order and bad records ------------------------------------------------------------

@test "input out of time order is exit 3 naming the line; --sort sorts it" {
	run --separate-stderr fd-rules "$R/unordered.csv"
	assert_failure 3
	[ "$stderr" = "fd-rules: $R/unordered.csv:7: out of time order (2026-03-02T10:04:00.000Z is before the previous record's 2026-03-02T10:05:00.000Z at $R/unordered.csv:6); sort the input or give --sort" ] || { echo "$stderr"; false; }
	# sorted, U5 (10:04) comes before U6 (10:05): U6 is the 6th in 10 minutes, not U5
	run fd-rules -q --sort "$R/unordered.csv"
	assert_success
	assert_output - <<'OUT'
txn_id,rule_id,points,action,reason
U6,velocity_10m,30,review,6 transactions in 10 minutes (limit 5)
OUT
}

@test "bad records are reported, skipped and counted" {
	run --separate-stderr fd-rules "$R/bad.csv"
	assert_success
	assert_output - <<'OUT'
txn_id,rule_id,points,action,reason
K1,large_amount,20,review,"amount 20,000.00 USD at or above 10000 (mandatory review)"
K4,large_amount,20,review,"amount 15,000.00 USD at or above 10000 (mandatory review)"
OUT
	[[ ${stderr_lines[0]} =~ ^"fd-rules: $R/bad.csv:3: field 'amount': bad amount '12.345' ("[^\)]*"USD has 2 decimal places)"$ ]] || { echo "$stderr"; false; }
	[ "${stderr_lines[1]}" = "fd-rules: $R/bad.csv:4: field 'sender_id': missing required value" ]
	[[ ${stderr_lines[2]} == "fd-rules: 2 transactions, 2 bad records skipped; 2 hits on 2 transactions "* ]]
	# -q keeps the bad records' messages
	run --separate-stderr fd-rules -q "$R/bad.csv"
	[ "${#stderr_lines[@]}" -eq 2 ]
	# a malformed record is named without a field
	printf '{"txn_id":"N1","ts":"2026-03-02T10:00:00Z","amount":"20000.00","sender_id":"S"}\n{"txn_id":\n' > m.ndjson
	run --separate-stderr fd-rules -q m.ndjson
	assert_success
	assert_output '{"txn_id":"N1","rule_id":"large_amount","points":20,"action":"review","reason":"amount 20,000.00 USD at or above 10000 (mandatory review)"}'
	[[ $stderr == "fd-rules: m.ndjson:2: invalid JSON at column 10"* ]] || { echo "$stderr"; false; }
}

@test "--strict stops at the first bad record: exit 3, nothing written or recorded" {
	run --separate-stderr fd-rules --strict --store "$FD_STORE" "$R/bad.csv"
	assert_failure 3
	assert_output ""
	[[ $stderr =~ ^"fd-rules: $R/bad.csv:3: field 'amount': bad amount '12.345' (".*") (--strict: stopped here, nothing recorded)"$ ]] || { echo "$stderr"; false; }
	run q "SELECT count(*) FROM rule_hits"
	assert_output 0
}

@test "an input that is not transactions, or cannot be read" {
	printf 'a,b\n1,2\n' > notx.csv
	run --separate-stderr fd-rules notx.csv
	assert_failure 3
	[[ $stderr == "fd-rules: notx.csv:1: no column 'txn_id' for the required field txn_id"* ]] || { echo "$stderr"; false; }
	run --separate-stderr fd-rules no-such.csv
	assert_failure 4
	[[ $stderr == "fd-rules: "*"no-such.csv"*"No such file or directory"* ]] || { echo "$stderr"; false; }
}

# ---- rules files ---------------------------------------------------------------------------

@test "a rules file with an error is exit 3 with FILE:LINE:COL" {
	# "  points 150": the value starts at column 10
	run --separate-stderr fd-rules --rules "$R/points.rules" "$R/labelled.csv"
	assert_failure 3
	assert_output ""
	[ "$stderr" = "fd-rules: $R/points.rules:5:10: points must be an integer from 0 to 100" ] || { echo "$stderr"; false; }
	# "  when amount >": the expression ends at column 16
	run --separate-stderr fd-rules --rules "$R/operand.rules" "$R/labelled.csv"
	assert_failure 3
	[ "$stderr" = "fd-rules: $R/operand.rules:7:16: missing operand at end of expression" ] || { echo "$stderr"; false; }
}

@test "an unknown feature is exit 3 with a suggestion" {
	run --separate-stderr fd-rules --rules "$R/unknown.rules" "$R/labelled.csv"
	assert_failure 3
	[ "$stderr" = "fd-rules: $R/unknown.rules:3:8: unknown feature 'sender_txn_cnt_10m' (did you mean 'sender_txn_count_10m'?)" ] || { echo "$stderr"; false; }
}

@test "a missing list file or rules file is exit 4" {
	# "  when merchant_id in @vip.txt": '@' at column 23
	run --separate-stderr fd-rules --rules "$R/nolist.rules" "$R/labelled.csv"
	assert_failure 4
	# not beside the rules file, nor in the bundled lists' directory
	[[ $stderr == "fd-rules: $R/nolist.rules:2:23: cannot read list '$R/vip.txt': No such file or directory (nor '"*"/vip.txt')" ]] || { echo "$stderr"; false; }
	run --separate-stderr fd-rules --rules nothing.rules "$R/labelled.csv"
	assert_failure 4
	[ "$stderr" = "fd-rules: cannot open rules 'nothing.rules': No such file or directory" ] || { echo "$stderr"; false; }
	FD_RULES=nothing.rules run --separate-stderr fd-rules "$R/labelled.csv"
	assert_failure 4
	[ "$stderr" = "fd-rules: cannot open rules 'nothing.rules': No such file or directory" ] || { echo "$stderr"; false; }
}

@test "the default rules: \$FD_RULES, then ../rules/, then ../share/fd/ beside the program" {
	unset FD_RULES
	# a source tree: tree/bin/fd-rules and tree/rules/default.rules
	mkdir -p tree/bin tree/rules prefix/bin prefix/share/fd none/bin
	cp "$FD_BIN/fd-rules" tree/bin/ && cp "$FD_BIN/fd-rules" prefix/bin/ && cp "$FD_BIN/fd-rules" none/bin/
	cp "$R/other.rules" tree/rules/default.rules
	cp "$R/delay.rules" prefix/share/fd/default.rules
	run --separate-stderr tree/bin/fd-rules "$R/labelled.csv"
	assert_success
	[[ $stderr == *"(rules $PWD/tree/rules/default.rules, 3 rules, sha256 $(sha256sum "$R/other.rules" | cut -d' ' -f1))" ]] || { echo "$stderr"; false; }
	# other.rules: velocity_10m > 4 (A5, A6), big_amount >= 5000 (C1, F1-F3), sanctioned (D1)
	run tree/bin/fd-rules -q "$R/labelled.csv"
	assert_output - <<'OUT'
txn_id,rule_id,points,action,reason
A5,velocity_10m,30,review,5 transactions in 10 minutes (limit 4)
A6,velocity_10m,30,review,6 transactions in 10 minutes (limit 4)
C1,big_amount,20,review,"amount 12,000.00 USD at or above 5000"
D1,sanctioned,100,block,Iran or North Korea
F1,big_amount,20,review,"amount 9,500.00 USD at or above 5000"
F2,big_amount,20,review,"amount 9,600.00 USD at or above 5000"
F3,big_amount,20,review,"amount 9,700.00 USD at or above 5000"
OUT
	# an installed PREFIX/bin with PREFIX/share/fd
	run --separate-stderr prefix/bin/fd-rules "$R/delay.csv"
	assert_success
	[[ $stderr == *"(rules $PWD/prefix/share/fd/default.rules, 1 rule, "* ]] || { echo "$stderr"; false; }
	# $FD_RULES wins over both
	FD_RULES="$R/other.rules" run --separate-stderr prefix/bin/fd-rules "$R/delay.csv"
	[[ $stderr == *"(rules $R/other.rules, 3 rules, "* ]] || { echo "$stderr"; false; }
	# nowhere: exit 4 saying where it looked
	run --separate-stderr none/bin/fd-rules "$R/delay.csv"
	assert_failure 4
	[ "$stderr" = "fd-rules: no rules file: give --rules FILE or set FD_RULES (not found: $PWD/none/rules/default.rules, $PWD/none/share/fd/default.rules)" ] || { echo "$stderr"; false; }
}

# ---- recording hits in the store ---------------------------------------------------------

@test "--store records the hits in rule_hits with one audit entry; a re-run adds nothing" {
	run --separate-stderr fd-rules --store "$FD_STORE" "$R/labelled.csv"
	assert_success
	assert_output "$HITS"
	seq=$(q "SELECT seq FROM audit_log WHERE action = 'rules.hits'")
	[ "${stderr_lines[1]}" = "fd-rules: $FD_STORE: rule_hits: 9 new, 0 already recorded (audit entry $seq)" ] || { echo "$stderr"; false; }
	run q "SELECT txn_id, rule_id, ruleset, points, action, reason FROM rule_hits ORDER BY id"
	assert_output - <<OUT
A6|velocity_10m|$DEFSHA|30|review|6 transactions in 10 minutes (limit 5)
C1|large_amount|$DEFSHA|20|review|amount 12,000.00 USD at or above 10000 (mandatory review)
D1|sanctioned_country|$DEFSHA|100|block|country IR is sanctioned
E1|unusual_hour|$DEFSHA|10|review|at 3h local time, between 00:00 and 05:00
H1|unusual_hour|$DEFSHA|10|review|at 4h local time, between 00:00 and 05:00
B2|amount_spike|$DEFSHA|25|review|amount 400.00 USD is 4.0 times the sender's 30-day average (limit 3)
F3|structuring|$DEFSHA|50|review|3 transactions between 9000 and 10000 in 24 hours, this one 9,700.00 USD (limit 3)
I2|impossible_travel|$DEFSHA|40|review|5,570 km from the previous transaction 30 minutes earlier (11,140 km/h; limits 500 km in an hour, 900 km/h)
J1|new_device_large|$DEFSHA|25|review|amount 800.00 USD from device DJ1, new for this sender (limit 500)
OUT
	# the audit entry: one per run, keyed by its rule_runs row, covering that row and its hits
	run q "SELECT actor, tool, object_type, object_id = (SELECT DISTINCT run_id FROM rule_hits),
	              json_extract(details, '$.ruleset'), json_extract(details, '$.rules_file'),
	              json_extract(details, '$.input'), json_extract(details, '$.transactions'),
	              json_extract(details, '$.hits'), json_extract(details, '$.new'),
	              json_extract(details, '$.tables[0].table'), json_extract(details, '$.tables[1].table'),
	              json_extract(details, '$.tables[1].key'), json_extract(details, '$.tables[1].rows'),
	              length(data_digest)
	       FROM audit_log WHERE action = 'rules.hits'"
	assert_output "tester|fd-rules|rule_run|1|$DEFSHA|$DEF|stream|19|9|9|rule_runs|rule_hits|run_id|9|64"
	run q "SELECT id, ruleset = '$DEFSHA', transactions, hits, actor FROM rule_runs"
	assert_output "1|1|19|9|tester"
	# again: nothing new, no second entry
	run --separate-stderr fd-rules --store "$FD_STORE" "$R/labelled.csv"
	assert_success
	assert_output "$HITS"
	[ "${stderr_lines[1]}" = "fd-rules: $FD_STORE: rule_hits: nothing new, 9 already recorded" ] || { echo "$stderr"; false; }
	run q "SELECT (SELECT count(*) FROM rule_hits), (SELECT count(*) FROM audit_log WHERE action = 'rules.hits')"
	assert_output "9|1"
}

@test "--store: hits of another rule set are recorded beside, under their own ruleset" {
	fd-rules -q --store "$FD_STORE" "$R/labelled.csv" > /dev/null
	run --separate-stderr fd-rules --store "$FD_STORE" --rules "$R/other.rules" --actor alice "$R/labelled.csv"
	assert_success
	[[ ${stderr_lines[1]} == "fd-rules: $FD_STORE: rule_hits: 7 new, 0 already recorded (audit entry "* ]] || { echo "$stderr"; false; }
	other=$(sha256sum "$R/other.rules" | cut -d' ' -f1)
	run q "SELECT ruleset, count(*), count(DISTINCT run_id) FROM rule_hits GROUP BY ruleset ORDER BY count(*)"
	assert_output - <<OUT
$other|7|1
$DEFSHA|9|1
OUT
	run q "SELECT actor, json_extract(details, '$.tables[1].rows') FROM audit_log WHERE action = 'rules.hits' ORDER BY seq"
	assert_output - <<'OUT'
tester|9
alice|7
OUT
	# the two runs have different keys
	run q "SELECT count(DISTINCT object_id) FROM audit_log WHERE action = 'rules.hits'"
	assert_output 2
}

@test "fd-audit verify finds hits edited behind the tools' back" {
	[ -x "$FD_BIN/fd-audit" ] || skip "fd-audit is not built"
	fd-rules -q --store "$FD_STORE" "$R/labelled.csv" > /dev/null
	run fd-audit verify
	assert_success
	q "UPDATE rule_hits SET points = 0 WHERE txn_id = 'D1'"
	run fd-audit verify
	assert_failure 1
	assert_output --partial "rule_hits"
}

@test "a store locked by another writer past the busy timeout is exit 4" {
	fd-ingest -q "$R/labelled.csv"
	{ ( printf 'BEGIN IMMEDIATE;\n'; sleep 14 ) | sqlite3 "$FD_STORE" > /dev/null 2>&1; } 3>&- &
	sleep 1
	run --separate-stderr fd-rules --store "$FD_STORE" "$R/labelled.csv"
	# the holder lets go by itself a few seconds later; this test's store is its own
	assert_failure 4
	assert_output ""
	[[ $stderr == "fd-rules: "*"is locked by another process"* ]] || { echo "$stderr"; false; }
}

# ---- the store as input ----------------------------------------------------------------------

@test "store input with --since/--until equals the stream's hits for the same period" {
	fd-ingest -q "$R/labelled.csv"
	run fd-rules -q --since 2026-03-02 --until 2026-03-04
	assert_success
	assert_output "$HITS"
	# day 2 alone: B2 needs B1 of day 1, which the warm-up replays
	run --separate-stderr fd-rules --since 2026-03-03 --until 2026-03-04
	assert_success
	assert_output "$(printf '%s\n' "$HITS" | sed -n '1p;5,$p')"
	[[ ${stderr_lines[0]} == "fd-rules: 10 transactions from the store (after replaying 9 earlier ones), 0 bad records skipped; 6 hits on 6 transactions "* ]] || { echo "$stderr"; false; }
	# --until alone: day 1; --since is inclusive, --until exclusive
	run fd-rules -q --until 2026-03-02T13:00:00Z
	assert_output "$(printf '%s\n' "$HITS" | sed -n '1,3p')"
	run fd-rules -q --since 2026-03-03T06:00:00Z --until 2026-03-03T12:30:00Z
	assert_output "$(printf '%s\n' "$HITS" | sed -n '1p;7,8p')"
	# without --store nothing is recorded
	run q "SELECT count(*) FROM rule_hits"
	assert_output 0
}

@test "store input: the warm-up replays the whole history, not only the feature windows" {
	# W2 comes 213 days after W1 (2025-08-01 -> 2026-03-02): dormant_reactivation
	fd-ingest -q "$R/dormant.csv"
	expected='txn_id,rule_id,points,action,reason
W2,dormant_reactivation,35,review,"first transaction in 213 days, for 1,500.00 USD (limits 180 days, 1000)"'
	run fd-rules -q "$R/dormant.csv"
	assert_output "$expected"
	run fd-rules -q --since 2026-03-01 --until 2026-03-03
	assert_success
	assert_output "$expected"
}

@test "store input with --store records the period's hits; --tz applies to --since" {
	fd-ingest -q "$R/labelled.csv"
	# 2026-03-03 at +05:00 is 2026-03-02T19:00Z: day 2 exactly
	run --separate-stderr fd-rules --store "$FD_STORE" --tz +05:00 --since 2026-03-03 --until 2026-03-04T05:00:00
	assert_success
	assert_output "$(printf '%s\n' "$HITS" | sed -n '1p;5,$p')"
	run q "SELECT group_concat(txn_id, ' '), json_extract((SELECT details FROM audit_log WHERE action = 'rules.hits'), '$.input') FROM (SELECT txn_id FROM rule_hits ORDER BY id)"
	assert_output "E1 H1 B2 F3 I2 J1|store"
	run q "SELECT json_extract(details, '$.since'), json_extract(details, '$.until') FROM audit_log WHERE action = 'rules.hits'"
	# date -u -d 2026-03-02T19:00:00Z +%s%3N ; date -u -d 2026-03-04T00:00:00Z +%s%3N
	assert_output "1772478000000|1772582400000"
}

@test "store input from a store that does not exist is exit 4" {
	run --separate-stderr fd-rules --store nothere.db --since 2026-03-02
	assert_failure 4
	[[ $stderr == "fd-rules: "*"nothere.db"* ]] || { echo "$stderr"; false; }
	[ ! -e nothere.db ]
}

# ---- backtest ------------------------------------------------------------------------------------

TABLE="rules: $FD_ROOT/rules/default.rules (11 rules, sha256 DEFSHA)
data: 19 transactions on 2 days (2026-03-02 to 2026-03-03); 18 labelled: 8 fraud (50.00 EUR; 29395.00 USD), 10 legitimate; 1 unlabelled

rule                  hits  alerts/day  TP  FP  precision  recall  fraud caught
velocity_10m             1        0.50   1   0      1.000   0.125  20.00 USD
velocity_1h              0        0.00   0   0        n/a   0.000  0
amount_spike             1        0.50   1   0      1.000   0.125  400.00 USD
impossible_travel        1        0.50   1   0      1.000   0.125  100.00 USD
unusual_hour             2        1.00   0   1      0.000   0.000  0
new_device_large         1        0.50   0   1      0.000   0.000  0
sanctioned_country       1        0.50   1   0      1.000   0.125  50.00 EUR
blocklisted_entity       0        0.00   0   0        n/a   0.000  0
large_amount             1        0.50   0   1      0.000   0.000  0
structuring              1        0.50   1   0      1.000   0.125  9700.00 USD
dormant_reactivation     0        0.00   0   0        n/a   0.000  0
all rules                9        4.50   5   3      0.625   0.625  50.00 EUR; 10220.00 USD"

@test "backtest: the table, by hand" {
	# all rules: alerts A6 C1 D1 E1 H1 B2 F3 I2 J1 = 9 over 2 days = 4.50/day; TP A6 D1 B2 F3
	# I2 = 5, FP C1 E1 J1 = 3 (H1 unlabelled); precision 5/8, recall 5/8 fraud;
	# caught 20 + 400 + 9700 + 100 USD and 50 EUR
	run --separate-stderr fd-rules backtest -q "$R/labelled.csv"
	assert_success
	assert_output "${TABLE/DEFSHA/$DEFSHA}"
	[ -z "$stderr" ]
	run fd-rules backtest -q --format table "$R/labelled.csv"
	assert_output "${TABLE/DEFSHA/$DEFSHA}"
}

@test "backtest --format csv and ndjson: exact figures" {
	run --separate-stderr fd-rules backtest --format csv "$R/labelled.csv"
	assert_success
	assert_output - <<'OUT'
rule,hits,alerts_per_day,tp,fp,unlabelled,precision,recall,fraud_caught
velocity_10m,1,0.5,1,0,0,1,0.125,20.00 USD
velocity_1h,0,0,0,0,0,,0,0
amount_spike,1,0.5,1,0,0,1,0.125,400.00 USD
impossible_travel,1,0.5,1,0,0,1,0.125,100.00 USD
unusual_hour,2,1,0,1,1,0,0,0
new_device_large,1,0.5,0,1,0,0,0,0
sanctioned_country,1,0.5,1,0,0,1,0.125,50.00 EUR
blocklisted_entity,0,0,0,0,0,,0,0
large_amount,1,0.5,0,1,0,0,0,0
structuring,1,0.5,1,0,0,1,0.125,9700.00 USD
dormant_reactivation,0,0,0,0,0,,0,0
all rules,9,4.5,5,3,1,0.625,0.625,50.00 EUR; 10220.00 USD
OUT
	[ "${stderr_lines[1]}" = "fd-rules: backtest data: 19 transactions on 2 days (2026-03-02 to 2026-03-03); 18 labelled: 8 fraud (50.00 EUR; 29395.00 USD), 10 legitimate; 1 unlabelled" ] || { echo "$stderr"; false; }
	fd-rules backtest -q --format ndjson "$R/labelled.csv" > bt.ndjson
	# grep, not jq, which would print 50.00 as 50
	run grep -e '"rule":"all rules"' -e '"rule":"velocity_1h"' bt.ndjson
	assert_output - <<'OUT'
{"rule":"velocity_1h","hits":0,"alerts_per_day":0,"tp":0,"fp":0,"unlabelled":0,"precision":null,"recall":0,"fraud_caught":{}}
{"rule":"all rules","hits":9,"alerts_per_day":4.5,"tp":5,"fp":3,"unlabelled":1,"precision":0.625,"recall":0.625,"fraud_caught":{"EUR":50.00,"USD":10220.00}}
OUT
}

@test "backtest --compare: alerts that appear and disappear, and the change" {
	# other.rules alerts: A5 A6 C1 D1 F1 F2 F3 (7); TP A6 D1 F1 F2 F3 = 5, FP A5 C1 = 2:
	# precision 5/7 = 0.714, recall 5/8; caught 20 + 9500 + 9600 + 9700 USD and 50 EUR
	run --separate-stderr fd-rules backtest -q --compare "$R/other.rules" "$R/labelled.csv"
	assert_success
	other=$(sha256sum "$R/other.rules" | cut -d' ' -f1)
	expected="${TABLE/DEFSHA/$DEFSHA}

compared with: $R/other.rules (3 rules, sha256 $other)

rule          hits  alerts/day  TP  FP  precision  recall  fraud caught
velocity_10m     2        1.00   1   1      0.500   0.125  20.00 USD
big_amount       4        2.00   3   1      0.750   0.375  28800.00 USD
sanctioned       1        0.50   1   0      1.000   0.125  50.00 EUR
all rules        7        3.50   5   2      0.714   0.625  50.00 EUR; 28820.00 USD

rules matched by id (base -> other):
rule                     in    hits      TP      FP       precision          recall
velocity_10m           both  1 -> 2  1 -> 1  0 -> 1  1.000 -> 0.500  0.125 -> 0.125
velocity_1h            base  0 -> -  0 -> -  0 -> -        n/a -> -      0.000 -> -
amount_spike           base  1 -> -  1 -> -  0 -> -      1.000 -> -      0.125 -> -
impossible_travel      base  1 -> -  1 -> -  0 -> -      1.000 -> -      0.125 -> -
unusual_hour           base  2 -> -  0 -> -  1 -> -      0.000 -> -      0.000 -> -
new_device_large       base  1 -> -  0 -> -  1 -> -      0.000 -> -      0.000 -> -
sanctioned_country     base  1 -> -  1 -> -  0 -> -      1.000 -> -      0.125 -> -
blocklisted_entity     base  0 -> -  0 -> -  0 -> -        n/a -> -      0.000 -> -
large_amount           base  1 -> -  0 -> -  1 -> -      0.000 -> -      0.000 -> -
structuring            base  1 -> -  1 -> -  0 -> -      1.000 -> -      0.125 -> -
dormant_reactivation   base  0 -> -  0 -> -  0 -> -        n/a -> -      0.000 -> -
big_amount            other  - -> 4  - -> 3  - -> 1      - -> 0.750      - -> 0.375
sanctioned            other  - -> 1  - -> 1  - -> 0      - -> 1.000      - -> 0.125

alerts that appear (only $R/other.rules flags them): 3
  A5  2026-03-02T10:04:00.000Z  legitimate    20.00 USD  velocity_10m
  F1  2026-03-03T08:00:00.000Z  fraud       9500.00 USD  big_amount
  F2  2026-03-03T09:00:00.000Z  fraud       9600.00 USD  big_amount
alerts that disappear (only $DEF flags them): 5
  E1  2026-03-03T03:30:00.000Z  legitimate   30.00 USD  unusual_hour
  H1  2026-03-03T04:10:00.000Z  unlabelled   10.00 USD  unusual_hour
  B2  2026-03-03T06:00:00.000Z  fraud       400.00 USD  amount_spike
  I2  2026-03-03T12:30:00.000Z  fraud       100.00 USD  impossible_travel
  J1  2026-03-03T14:00:00.000Z  legitimate  800.00 USD  new_device_large
change: alerts 9 -> 7 (-2), TP 5 -> 5 (+0), FP 3 -> 2 (-1), precision 0.625 -> 0.714 (+0.089), recall 0.625 -> 0.625 (+0.000); fraud caught 50.00 EUR; 10220.00 USD -> 50.00 EUR; 28820.00 USD"
	assert_output "$expected"
}

@test "backtest --compare --format csv: the list; the change on stderr" {
	run --separate-stderr fd-rules backtest --format csv --compare "$R/other.rules" "$R/labelled.csv"
	assert_success
	assert_output - <<'OUT'
txn_id,ts,change,label,amount,currency,rules
A5,2026-03-02T10:04:00.000Z,appears,0,20.00,USD,velocity_10m
F1,2026-03-03T08:00:00.000Z,appears,1,9500.00,USD,big_amount
F2,2026-03-03T09:00:00.000Z,appears,1,9600.00,USD,big_amount
E1,2026-03-03T03:30:00.000Z,disappears,0,30.00,USD,unusual_hour
H1,2026-03-03T04:10:00.000Z,disappears,,10.00,USD,unusual_hour
B2,2026-03-03T06:00:00.000Z,disappears,1,400.00,USD,amount_spike
I2,2026-03-03T12:30:00.000Z,disappears,1,100.00,USD,impossible_travel
J1,2026-03-03T14:00:00.000Z,disappears,0,800.00,USD,new_device_large
OUT
	[ "${stderr_lines[2]}" = "fd-rules: compared with $R/other.rules: alerts 9 -> 7 (-2), TP 5 -> 5 (+0), FP 3 -> 2 (-1), precision 0.625 -> 0.714 (+0.089), recall 0.625 -> 0.625 (+0.000); fraud caught 50.00 EUR; 10220.00 USD -> 50.00 EUR; 28820.00 USD" ] || { echo "$stderr"; false; }
	# a transaction flagged by both sets, with other rules, is no change
	fd-rules backtest -q --format ndjson --compare "$R/other.rules" "$R/labelled.csv" > c.ndjson
	run jq -r 'select(.txn_id == "A6" or .txn_id == "C1" or .txn_id == "D1" or .txn_id == "F3") | .txn_id' c.ndjson
	assert_output ""
	run grep '"txn_id":"H1"' c.ndjson
	assert_output '{"txn_id":"H1","ts":"2026-03-03T04:10:00.000Z","change":"disappears","label":null,"amount":10.00,"currency":"USD","rules":"unusual_hour"}'
}

@test "backtest from the store equals the stream's; case outcomes override exported labels" {
	fd-ingest -q "$R/labelled.csv"
	run fd-rules backtest -q --since 2026-03-02
	assert_success
	assert_output "${TABLE/DEFSHA/$DEFSHA}"
	# cases: E1 (exported 0) and H1 (unlabelled) confirmed fraud -> unusual_hour TP 2, FP 0;
	# all rules TP 7 (A6 D1 E1 H1 B2 F3 I2), FP 2 (C1 J1): precision 7/9, recall 7/10
	q "INSERT INTO labels (txn_id, label, source, case_id, labelled_at, actor) VALUES
	   ('E1', 1, 'case:1', NULL, 1772600000000, 'tester'), ('H1', 1, 'case:1', NULL, 1772600000000, 'tester')"
	run fd-rules backtest -q --format csv --since 2026-03-02
	assert_line --index 5 "unusual_hour,2,1,2,0,0,1,0.2,40.00 USD"
	assert_line --index 12 "all rules,9,4.5,7,2,0,0.7777777777777778,0.7,50.00 EUR; 10260.00 USD"
	run --separate-stderr fd-rules backtest --format csv --since 2026-03-02
	[ "${stderr_lines[1]}" = "fd-rules: backtest data: 19 transactions on 2 days (2026-03-02 to 2026-03-03); 19 labelled: 10 fraud (50.00 EUR; 29435.00 USD), 9 legitimate; 0 unlabelled" ] || { echo "$stderr"; false; }
	# the same with the stream: exported labels only
	run fd-rules backtest -q --format csv "$R/labelled.csv"
	assert_line --index 5 "unusual_hour,2,1,0,1,1,0,0,0"
}

@test "-o writes the hits, or the backtest, there instead of standard output" {
	run --separate-stderr fd-rules -o hits.csv "$R/labelled.csv"
	assert_success
	assert_output ""
	[ "$stderr" = "fd-rules: 19 transactions, 0 bad records skipped; 9 hits on 9 transactions (rules $DEF, 11 rules, sha256 $DEFSHA)" ] || { echo "$stderr"; false; }
	[ "$(cat hits.csv)" = "$HITS" ]
	run fd-rules backtest -q --output bt.txt "$R/labelled.csv"
	assert_success
	assert_output ""
	[ "$(cat bt.txt)" = "${TABLE/DEFSHA/$DEFSHA}" ]
	# '-' is standard output
	run fd-rules -q -o - "$R/labelled.csv"
	assert_output "$HITS"
	# the two outputs, no temporary left behind (bats keeps its stderr files here too)
	run bash -c "ls -A | grep -v '^separate-stderr-'"
	assert_output $'bt.txt\nhits.csv'
}

@test "-o: a failed run leaves the file as it was; -o naming the store or an input is exit 2" {
	echo old > out.csv
	run --separate-stderr fd-rules --strict -o out.csv "$R/bad.csv"
	assert_failure 3
	[ "$(cat out.csv)" = old ]
	run bash -c "ls -A | grep -v '^separate-stderr-'"
	assert_output out.csv
	cp "$R/labelled.csv" in.csv
	cp "$R/other.rules" o.rules
	cp "$DEF" my.rules
	cp "$R/mapped.map" mapped.map
	cp in.csv keep.csv
	err() {  # err "expected message" ARGS...
		local want=$1; shift
		run --separate-stderr fd-rules "$@"
		[ "$status" -eq 2 ] || { echo "fd-rules $*: exit $status"; return 1; }
		[ "$stderr" = "$want" ] || { echo "fd-rules $*: $stderr"; return 1; }
		[ -z "$output" ]
	}
	err "fd-rules: refusing to overwrite input file 'in.csv'" -o in.csv in.csv
	err "fd-rules: refusing to overwrite input file './in.csv' (same file as 'in.csv')" -o ./in.csv in.csv
	err "fd-rules: refusing to overwrite input file 'my.rules'" --rules my.rules -o my.rules in.csv
	err "fd-rules: refusing to overwrite input file 'o.rules'" backtest --compare o.rules -o o.rules in.csv
	err "fd-rules: refusing to overwrite input file 'mapped.map'" --map mapped.map -o mapped.map in.csv
	FD_RULES="$PWD/my.rules" err "fd-rules: refusing to overwrite input file 'my.rules' (same file as '$PWD/my.rules')" -o my.rules in.csv
	# the store: refused before anything is recorded (the store is not even created)
	err "fd-rules: refusing to overwrite the store '$FD_STORE'" --store "$FD_STORE" -o "$FD_STORE" in.csv
	[ ! -e "$FD_STORE" ]
	fd-rules -q --store "$FD_STORE" in.csv > /dev/null
	err "fd-rules: refusing to overwrite the store 'fd.db' (same file as '$FD_STORE')" -o fd.db in.csv
	err "fd-rules: refusing to overwrite 'fd.db-wal': it belongs to the store '$FD_STORE'" -o fd.db-wal in.csv
	run q "SELECT count(*) FROM rule_runs"
	assert_output 1
	cmp in.csv keep.csv
	cmp my.rules "$DEF"
	cmp o.rules "$R/other.rules"
}

@test "backtest without labelled transactions is exit 3" {
	run --separate-stderr fd-rules backtest "$R/naive.csv"
	assert_failure 3
	assert_output ""
	[ "$stderr" = "fd-rules: no labelled transactions: a backtest needs the label (1 fraud, 0 legitimate) of some of the 1 read" ] || { echo "$stderr"; false; }
}

# ---- metrics ---------------------------------------------------------------------------------

@test "--metrics: counts by rule, and backtest precision and recall" {
	fd-rules -q --metrics m.prom "$R/bad.csv" > /dev/null 2>&1
	run grep -v '^#' m.prom
	assert_line 'fd_rules_transactions_total{tool="fd-rules"} 2'
	assert_line 'fd_rules_bad_records_total{tool="fd-rules"} 2'
	assert_line 'fd_rules_alerts_total{tool="fd-rules"} 2'
	assert_line 'fd_rules_hits_total{tool="fd-rules",rule="large_amount"} 2'
	assert_line 'fd_rules_hits_total{tool="fd-rules",rule="velocity_10m"} 0'
	assert_line 'fd_run_success{tool="fd-rules"} 1'
	fd-rules backtest -q --metrics b.prom "$R/labelled.csv" > /dev/null
	run grep -v '^#' b.prom
	assert_line 'fd_rules_backtest_precision{tool="fd-rules",rule="all rules"} 0.625'
	assert_line 'fd_rules_backtest_recall{tool="fd-rules",rule="structuring"} 0.125'
	refute_line --partial 'fd_rules_backtest_precision{tool="fd-rules",rule="velocity_1h"}'
	fd-rules -q --store "$FD_STORE" --metrics s.prom "$R/labelled.csv" > /dev/null
	run grep -v '^#' s.prom
	assert_line 'fd_rules_hits_recorded_total{tool="fd-rules"} 9'
	# a failed run says so
	run fd-rules -q --metrics f.prom "$R/unordered.csv"
	assert_failure 3
	run grep -v '^#' f.prom
	assert_line 'fd_run_success{tool="fd-rules"} 0'
	if command -v promtool > /dev/null; then
		for f in m.prom b.prom s.prom f.prom; do
			run promtool check metrics < "$f"
			[ "$status" -eq 0 ] || { echo "$f: $output"; false; }
		done
	fi
}

# ---- usage errors ------------------------------------------------------------------------------

@test "bad options and combinations are exit 2 with the usage" {
	err() {  # err "expected first line" ARGS...
		local want=$1; shift
		run --separate-stderr fd-rules "$@"
		[ "$status" -eq 2 ] || { echo "fd-rules $*: exit $status"; return 1; }
		[ "${stderr_lines[0]}" = "$want" ] || { echo "fd-rules $*: ${stderr_lines[0]}"; return 1; }
		[[ $stderr == *"usage: fd-rules "* ]] || { echo "no usage"; return 1; }
		[ -z "$output" ]
	}
	err "fd-rules: --format must be csv or ndjson, not 'table'" --format table x.csv
	err "fd-rules: --format must be table, csv or ndjson, not 'xml'" backtest --format xml x.csv
	err "fd-rules: --compare belongs to fd-rules backtest" --compare "$R/other.rules" x.csv
	err "fd-rules: --since and --until read the store's transactions: give no FILE" --since 2026-03-02 x.csv
	err "fd-rules: --since '2026-13-01': month out of range" --since 2026-13-01
	err "fd-rules: --until must be later than --since" --since 2026-03-02 --until 2026-03-02
	err "fd-rules: --sort is for FILEs: the store is read in time order" --sort --since 2026-03-02
	err "fd-rules: backtest records nothing: --store reads the store only with --since or --until" backtest --store x.db x.csv
	err "fd-rules: --label-delay needs a number from 0 to 3650, not '-1'" --label-delay -1 x.csv
	err "fd-rules: --tz 'Mars': no time zone 'Mars' in /usr/share/zoneinfo (is tzdata installed?)" --tz Mars x.csv
	err "fd-rules: --currency 'usd' is not an ISO 4217 code (upper case, e.g. EUR)" --currency usd x.csv
	err "fd-rules: --delimiter needs one character other than a quote or newline, or 'tab', not ';;'" --delimiter ';;' x.csv
	err "fd-rules: standard input ('-') given twice" - -
	run --separate-stderr fd-rules --rules
	assert_failure 2
	[[ $stderr == *"requires an argument"*"usage: fd-rules "* ]]
}

@test "backtest --help prints the usage" {
	run --separate-stderr fd-rules backtest --help
	assert_success
	assert_line --index 0 "usage: fd-rules [options] [FILE...]"
	assert_line --index 1 "       fd-rules backtest [options] [--compare OTHER.rules] [FILE...]"
}

# ---- metadata, text functions, lists -----------------------------------------------------

META_HITS='txn_id,rule_id,points,action,reason
M1,gambling,30,review,ACME Online Store: Online Gambling
M1,issuer_risk,20,review,issuer risk score 87.5 over 80
M2,mastercard_bin,5,review,Mastercard BIN 551234
M3,gambling,30,review,casino royale: Casinos
M3,disposable_email,40,review,disposable e-mail domain: bob@tempmail.io
M4,no_card_data,1,review,No card data in the export'

@test "metadata fields and text functions over an export's other columns, worked out by hand" {
	# see testdata/rules/README.md for each row's arithmetic
	run --separate-stderr fd-rules -q --rules "$R/meta.rules" "$R/meta.csv"
	assert_success
	assert_output "$META_HITS"
	# NDJSON: nested values by dotted paths, a JSON number, text "2" read as 2, null absent
	run --separate-stderr fd-rules -q --rules "$R/meta.rules" --format csv "$R/meta.ndjson"
	assert_success
	assert_output - <<'OUT'
txn_id,rule_id,points,action,reason
N1,mastercard_nested,5,review,card.bin 523456
N1,issuer_country,10,review,issuer in NG
N1,many_attempts,10,review,4 attempts (limit 3)
N3,no_card_data,1,review,No card data in the export
OUT
	# a header that is not a plain name, in brackets; the number compares as a number
	printf 'txn_id,ts,amount,sender_id,Card Type,risk-score\nK1,2026-03-02T10:00:00Z,5.00,S1,Visa Debit,91\nK2,2026-03-02T10:01:00Z,5.00,S2,Visa Credit,9\n' > k.csv
	printf 'rule debit\n  when ends_with(metadata["Card Type"], "Debit") and metadata["risk-score"] > 90\n  points 1\n  action review\n  reason "{metadata[\\"Card Type\\"]} {metadata[\\"risk-score\\"]}"\n' > k.rules
	run --separate-stderr fd-rules -q --rules k.rules k.csv
	assert_success
	assert_output - <<'OUT'
txn_id,rule_id,points,action,reason
K1,debit,1,review,Visa Debit 91
OUT
}

@test "metadata from the store: the same hits as from the export" {
	fd-ingest -q "$R/meta.csv"
	run --separate-stderr fd-rules -q --rules "$R/meta.rules" --since 2026-03-02
	assert_success
	assert_output "$META_HITS"
}

@test "a bad regex() pattern, a wrong argument and an unknown function are exit 3 at their place" {
	# "  when regex(merchant_id, "^(ab")": the pattern's quote at column 27
	run --separate-stderr fd-rules --rules "$R/badregex.rules" "$R/meta.csv"
	assert_failure 3
	[ "$stderr" = "fd-rules: $R/badregex.rules:2:27: bad regular expression '^(ab': Unmatched ( or \\(" ] || { echo "$stderr"; false; }
	[ -z "$output" ]
	printf 'rule r\n  when contains(merchant_id, amount)\n  points 1\n  action review\n' > args.rules
	run --separate-stderr fd-rules --rules args.rules "$R/meta.csv"
	assert_failure 3
	[ "$stderr" = "fd-rules: args.rules:2:30: 'contains' takes text, not a number" ] || { echo "$stderr"; false; }
	printf 'rule r\n  when starts_with(merchant_id) \n  points 1\n  action review\n' > arity.rules
	run --separate-stderr fd-rules --rules arity.rules "$R/meta.csv"
	assert_failure 3
	[ "$stderr" = "fd-rules: arity.rules:2:8: 'starts_with' takes 2 arguments, not 1" ] || { echo "$stderr"; false; }
	printf 'rule r\n  when metadata.x\n  points 1\n  action review\n' > cond.rules
	run --separate-stderr fd-rules --rules cond.rules "$R/meta.csv"
	assert_failure 3
	[ "$stderr" = "fd-rules: cond.rules:2:8: 'when' needs a condition, not a metadata value (compare it with something)" ] || { echo "$stderr"; false; }
	# an unknown function: a suggestion when one is close, else the functions there are
	# ("  when amount > 1 and uper(city) == 1": uper at 23; on line 3, frob at column 10)
	printf 'rule r\n  when amount > 1 and uper(city) == "X"\n  points 1\n  action review\n' > typo.rules
	run --separate-stderr fd-rules --rules typo.rules "$R/meta.csv"
	assert_failure 3
	[ "$stderr" = "fd-rules: typo.rules:2:23: unknown function 'uper' (did you mean 'upper'?)" ] || { echo "$stderr"; false; }
	printf 'rule r\n  when amount > 1\n    and frob(city)\n  points 1\n  action review\n' > unknown.rules
	run --separate-stderr fd-rules --rules unknown.rules "$R/meta.csv"
	assert_failure 3
	[ "$stderr" = "fd-rules: unknown.rules:3:9: unknown function 'frob' (defined, abs, min, max, contains, starts_with, ends_with, lower, upper, regex, length)" ] || { echo "$stderr"; false; }
	[ -z "$output" ]
}

@test "a copy of the default rules elsewhere still finds the bundled lists; a list beside it wins" {
	mkdir copy
	cp "$DEF" copy/my.rules
	run --separate-stderr fd-rules -q --rules copy/my.rules "$R/labelled.csv"
	assert_success
	assert_output "$HITS"
	# from the copy's own directory, by a relative path
	(cd copy && fd-rules -q --rules my.rules "$R/labelled.csv") > out.csv
	[ "$(cat out.csv)" = "$HITS" ]
	# a list of the same name beside the copy is the one used: IR is no longer sanctioned
	printf 'KP\n' > copy/sanctioned_countries.txt
	run --separate-stderr fd-rules -q --rules copy/my.rules "$R/labelled.csv"
	assert_success
	refute_line --partial "D1,sanctioned_country"
	[ "${#lines[@]}" -eq 9 ]
}

@test "list add, remove, show: named lists in the store, each change one audit entry" {
	run --separate-stderr fd-rules list add watched M7 M8
	assert_success
	[ "$stderr" = "fd-rules: $FD_STORE: list 'watched' created: 2 values added (audit entry $(q 'SELECT max(seq) FROM audit_log'))" ] || { echo "$stderr"; false; }
	# again: nothing new, nothing written
	n=$(q 'SELECT count(*) FROM audit_log')
	run --separate-stderr fd-rules list add watched M8
	assert_success
	[ "$stderr" = "fd-rules: $FD_STORE: list 'watched': nothing new, every value already in it" ]
	[ "$(q 'SELECT count(*) FROM audit_log')" -eq "$n" ]
	# values from a list file too (comments and blanks as in an @file)
	printf '# more\n  M9   # third\n\nM7\n' > more.txt
	fd-rules list add watched --from more.txt -q
	[ "$(q "SELECT group_concat(value, ' ') FROM (SELECT value FROM rule_list_values ORDER BY value)")" = "M7 M8 M9" ]
	[ "$(q "SELECT DISTINCT added_by FROM rule_list_values")" = "tester" ]
	run --separate-stderr fd-rules list show
	assert_success
	assert_line --index 0 "name,values,created_by,created_at"
	[[ ${lines[1]} == "watched,3,tester,20"*"Z" ]] || { echo "${lines[1]}"; false; }
	run --separate-stderr fd-rules list show watched
	assert_success
	assert_line --index 0 "value,added_by,added_at"
	[ "$(printf '%s\n' "${lines[@]}" | cut -d, -f1 | tail -n +2 | tr '\n' ' ')" = "M7 M8 M9 " ]
	run --separate-stderr fd-rules list show watched --format ndjson
	[[ ${lines[0]} == '{"value":"M7","added_by":"tester","added_at":"20'* ]]
	# -o: the same rows in a file
	run --separate-stderr fd-rules list show watched -o values.csv
	assert_success
	assert_output ""
	[ "$(cut -d, -f1 values.csv | tr '\n' ' ')" = "value M7 M8 M9 " ]
	# the audit entries: created with 2, then 1 added (M9); list_id covered
	[ "$(q "SELECT action || ' ' || object_type || ' ' || json_extract(details, '\$.list') || ' ' || json_extract(details, '\$.added') FROM audit_log WHERE action LIKE 'rules.list%' ORDER BY seq")" = "rules.list_add rule_list watched 2
rules.list_add rule_list watched 1" ]
	# remove values, then the whole list
	run --separate-stderr fd-rules list remove watched M8
	assert_success
	[[ $stderr == "fd-rules: $FD_STORE: list 'watched': 1 value removed (audit entry "*")" ]]
	run --separate-stderr fd-rules list remove watched
	assert_success
	[[ $stderr == "fd-rules: $FD_STORE: list 'watched' removed whole: 2 values removed (audit entry "*")" ]]
	[ "$(q 'SELECT count(*) FROM rule_lists') $(q 'SELECT count(*) FROM rule_list_values')" = "0 0" ]
	run fd-audit verify
	assert_success
}

@test "rules name the store's lists: hits follow the list, an unknown list is exit 3" {
	fd-rules list -q add watched "ACME Online Store" Bookshop
	run --separate-stderr fd-rules -q --rules "$R/storelist.rules" "$R/meta.csv"
	assert_success
	assert_output - <<'OUT'
txn_id,rule_id,points,action,reason
M1,watched_merchant,50,review,merchant ACME Online Store is on the watch list
M4,watched_merchant,50,review,merchant Bookshop is on the watch list
OUT
	fd-rules list -q remove watched Bookshop
	run --separate-stderr fd-rules -q --rules "$R/storelist.rules" "$R/meta.csv"
	assert_success
	refute_line --partial "M4,"
	# recorded with --store: the same store holds the list
	run --separate-stderr fd-rules -q --store "$FD_STORE" --rules "$R/storelist.rules" "$R/meta.csv"
	assert_success
	[ "$(q 'SELECT txn_id FROM rule_hits')" = "M1" ]
	# "  when merchant_id in list watched" (line 3): the name at column 28
	fd-rules list -q remove watched
	run --separate-stderr fd-rules -q --rules "$R/storelist.rules" "$R/meta.csv"
	assert_failure 3
	[ "$stderr" = "fd-rules: $R/storelist.rules:3:28: unknown list 'watched' (fd-rules list show names the store's lists)" ] || { echo "$stderr"; false; }
	# no store at all: the store's error, at the rule's place
	run --separate-stderr fd-rules -q --store nothing.db --rules "$R/storelist.rules" "$R/meta.csv"
	assert_failure 4
	[[ $stderr == "fd-rules: $R/storelist.rules:3:28: named lists: "* ]] || { echo "$stderr"; false; }
	[ ! -e nothing.db ]
}

@test "fd-score reads metadata and the store's lists through the same rules" {
	[ -x "$FD_BIN/fd-score" ] || skip "fd-score is not built"
	fd-rules list -q add watched "casino royale"
	cat "$R/meta.rules" > both.rules
	sed 's/watched_merchant/watched_merchant2/' "$R/storelist.rules" >> both.rules
	run --separate-stderr fd-score -q --rules both.rules --format csv "$R/meta.csv"
	assert_success
	# M3: gambling, disposable_email and the watch list
	line=$(printf '%s\n' "$output" | grep '^M3,')
	[[ $line == *gambling* && $line == *disposable_email* && $line == *watched_merchant2* ]] || { echo "$output"; false; }
}

@test "fd-audit verify finds a list edited behind the tools' back" {
	[ -x "$FD_BIN/fd-audit" ] || skip "fd-audit is not built"
	fd-rules list -q add watched M1 M2
	run fd-audit verify
	assert_success
	q "INSERT INTO rule_list_values (list_id, value, added_by, added_at) SELECT id, 'M3', 'x', 0 FROM rule_lists"
	run fd-audit verify
	assert_failure 1
	assert_output --partial "rule_list_values"
}

@test "roles: a VIEWER cannot change lists, an ANALYST can; both can show them" {
	[ -x "$FD_BIN/fd-case" ] || skip "fd-case is not built"
	fd-ingest -q "$R/meta.csv"
	fd-case -q --actor boss user add boss --role ADMIN
	fd-case -q --actor boss user add ann --role ANALYST
	fd-case -q --actor boss user add vic --role VIEWER
	n=$(q 'SELECT count(*) FROM audit_log')
	run --separate-stderr fd-rules list --actor vic add watched M1
	assert_failure 5
	[[ $stderr == "fd-rules: permission denied: user 'vic' (VIEWER) may not "* ]] || { echo "$stderr"; false; }
	[ "$(q 'SELECT count(*) FROM rule_lists')" -eq 0 ]
	[ "$(q 'SELECT count(*) FROM audit_log')" -eq $((n + 1)) ]
	fd-rules list -q --actor ann add watched M1
	run --separate-stderr fd-rules list --actor vic remove watched
	assert_failure 5
	run --separate-stderr fd-rules list --actor vic show watched
	assert_success
	[[ ${lines[1]} == "M1,ann,"* ]]
}

@test "list: every error path" {
	err() {  # err STATUS "expected stderr" ARGS...
		local st=$1 want=$2; shift 2
		run --separate-stderr fd-rules "$@"
		[ "$status" -eq "$st" ] || { echo "fd-rules $*: exit $status: $stderr"; return 1; }
		[ "${stderr_lines[0]}" = "$want" ] || { echo "fd-rules $*: ${stderr_lines[0]}"; return 1; }
		[ -z "$output" ]
	}
	err 2 "fd-rules: list needs add, remove or show" list
	err 2 "fd-rules: list takes add, remove or show, not 'drop'" list drop x
	err 2 "fd-rules: list add needs the name of a list" list add
	err 2 "fd-rules: list remove needs the name of a list" list remove
	err 2 "fd-rules: list show takes one name at most" list show a b
	err 2 "fd-rules: bad list name '1st': a list name is letters, digits and _, not starting with a digit" list add 1st v
	err 2 "fd-rules: bad list name 'in': a list name cannot be a word of the rules language (and, or, not, in, between, list)" list add in v
	err 2 "fd-rules: bad value '': empty value" list add vip ''
	err 2 "fd-rules: bad value 'a\\tb': control character in value" list add vip "$(printf 'a\tb')"
	err 2 "fd-rules: --from belongs to list add" list remove vip --from x.txt
	err 2 "fd-rules: --format belongs to list show" list add vip v --format csv
	err 2 "fd-rules: -o belongs to list show" list add vip v -o x.csv
	err 2 "fd-rules: unrecognized option '--nope'" list add vip v --nope
	[ ! -e "$FD_STORE" ]
	err 4 "fd-rules: cannot open 'none.txt': No such file or directory" list add vip --from none.txt
	printf 'ok\nbad\001\n' > ctl.txt
	err 3 "fd-rules: ctl.txt: bad value 'bad\\x01': control character in value" list add vip --from ctl.txt
	[ ! -e "$FD_STORE" ]
	fd-rules list -q add vip M1
	err 3 "fd-rules: no list 'nope' in the store" list remove nope
	err 3 "fd-rules: no list 'nope' in the store" list show nope
	err 3 "fd-rules: 'M2' is not in list 'vip'" list remove vip M1 M2
	# all or nothing: M1 is still there
	[ "$(q 'SELECT value FROM rule_list_values')" = "M1" ]
	err 4 "fd-rules: no store at 'other.db' (ingest something first, or give --store)" list show --store other.db
	# list show -o: not over the store or one of its files
	err 2 "fd-rules: refusing to overwrite the store '$FD_STORE'" list show -o "$FD_STORE"
	err 2 "fd-rules: refusing to overwrite 'fd.db-wal': it belongs to the store '$FD_STORE'" list show vip -o fd.db-wal
	[ "$(q 'SELECT value FROM rule_list_values')" = "M1" ]
	run --separate-stderr fd-rules list --help
	assert_success
	assert_line --index 0 "usage: fd-rules list add NAME [VALUE...] [--from FILE]"
}

# ---- the man page ----------------------------------------------------------------------------

@test "the man page's examples run as shown" {
	man="$FD_ROOT/man/fd-rules.1"
	ex() { grep -qF -- "$1" "$man" || { echo "not in the man page: $1"; return 1; }; }
	fd-gen --seed 5 --rows 3000 --customers 100 --start 2026-11-22 --days 3 -o tx.csv
	ex 'fd-rules tx.csv > hits.csv'
	ex "awk -F, '\$4 == \"block\" { print \$1 }' hits.csv | sort -u"
	fd-rules -q tx.csv > hits.csv
	[ "$(head -n 1 hits.csv)" = "txn_id,rule_id,points,action,reason" ]
	awk -F, '$4 == "block" { print $1 }' hits.csv | sort -u > /dev/null
	ex 'fd-rules --store fd.db --since 2026-11-24 --until 2026-11-25 -q > /dev/null'
	ex "sqlite3 fd.db 'SELECT rule_id, count(*) FROM rule_hits GROUP BY rule_id'"
	fd-ingest -q --store fd.db tx.csv
	fd-rules --store fd.db --since 2026-11-24 --until 2026-11-25 -q > /dev/null
	# the day's hits are the stream's hits of that day's transactions
	n=$(sqlite3 fd.db "SELECT count(*) FROM rule_hits")
	m=$(awk -F, 'NR > 1 && $2 >= "2026-11-24" && $2 < "2026-11-25" { print $1 }' tx.csv | grep -cFxf - <(cut -d, -f1 hits.csv))
	[ "$n" -eq "$m" ] && [ "$n" -gt 0 ]
	sqlite3 fd.db 'SELECT rule_id, count(*) FROM rule_hits GROUP BY rule_id' > /dev/null
	ex 'fd-rules backtest tx.csv'
	ex 'fd-rules backtest --compare strict.rules tx.csv'
	fd-rules backtest -q tx.csv > /dev/null
	cp "$R/other.rules" strict.rules
	fd-rules backtest -q --compare strict.rules tx.csv > /dev/null
	ex 'fd-rules --rules my.rules tx.csv'
	sed 's/sender_txn_count_10m/sender_txn_cnt_10m/' "$R/unknown.rules" > my.rules
	run --separate-stderr fd-rules --rules my.rules tx.csv
	assert_failure 3
	[[ $stderr == "fd-rules: my.rules:3:8: unknown feature 'sender_txn_cnt_10m' (did you mean 'sender_txn_count_10m'?)" ]]
}
