#!/usr/bin/env bats
# fd-score: the probes of testdata/score/ (levels, decisions, rules and reasons worked out by
# hand in its README.md), output formats, --fail-on, the store and --auto-case, model files
# refused, the default model, input errors, metrics, --eval, usage.
#
# The default model (models/default.fdm) scores with its stacker (fd-score(1)): the rule points
# below are worked out by hand; the levels are the model's judgement (fd-train --inspect shows
# its thresholds), except that a block rule makes 100:
#   P1  amount_spike 25 + new_device_large 25 + large_amount 20 = 70 -> HIGH, REVIEW
#   P4c amount_spike 25 + structuring 50 = 75 -> HIGH, REVIEW
#   P2  sanctioned_country 100, block -> risk 100, HIGH, BLOCK
#   P3  no rule; LOW

bats_require_minimum_version 1.5.0
load common

setup() {
	common_setup
	S="$TD/score"
	export FD_RULES="$FD_ROOT/rules/default.rules"
	MODEL="$FD_ROOT/models/default.fdm"
	export FD_MODEL="$MODEL"   # the search beside the program has a test of its own
	VERSION=$(sha256sum "$MODEL" | cut -c1-12)
}

probes() {  # NDJSON records of the probes only
	fd-score -q --format ndjson "$@" "$S/history.csv" "$S/probe.csv" | grep '"txn_id":"P'
}

# Build a model file from the documented format (fd_model.h) with one feature renamed.
rename_feature() {  # rename_feature IN OUT OLD NEW (names of equal length)
	tail -c +65 "$1" | zstd -q -d -c > payload
	python3 - "$3" "$4" <<'PY'
import struct, sys
old, new = sys.argv[1].encode(), sys.argv[2].encode()
p = open('payload', 'rb').read()
key = struct.pack('<I', len(old)) + old
assert key in p
open('payload', 'wb').write(p.replace(key, struct.pack('<I', len(new)) + new, 1))
PY
	zstd -q -c payload > comp
	python3 - "$1" "$2" <<'PY'
import hashlib, struct, sys
head = open(sys.argv[1], 'rb').read(64)
p, c = open('payload', 'rb').read(), open('comp', 'rb').read()
out = head[:16] + struct.pack('<QQ', len(p), len(c)) + hashlib.sha256(c).digest()
open(sys.argv[2], 'wb').write(out + c)
PY
}

# ---- the probes ------------------------------------------------------------------------------

@test "the probes: rules, points, levels and decisions worked out by hand" {
	run --separate-stderr probes
	assert_success
	run jq -r '[.txn_id, .rule_points, (.rules | join(" "))] | join(" ")' <<<"$output"
	assert_output - <<'OUT'
P1 70 amount_spike new_device_large large_amount
P4a 25 amount_spike
P4b 25 amount_spike
P4c 75 amount_spike structuring
P3 0 
P2 100 sanctioned_country
OUT
	probes > p.ndjson
	run jq -r 'select(.txn_id == "P1" or .txn_id == "P4c" or .txn_id == "P2" or .txn_id == "P3")
		| [.txn_id, .level, .decision] | join(" ")' p.ndjson
	assert_output - <<'OUT'
P1 HIGH REVIEW
P4c HIGH REVIEW
P3 LOW APPROVE
P2 HIGH BLOCK
OUT
	# risk at least the points; P2's block rule makes 100
	run jq -r 'select(.risk < .rule_points) | .txn_id' p.ndjson
	assert_output ""
	run jq -r 'select(.txn_id == "P2") | .risk' p.ndjson
	assert_output 100
	# every record names the model by the first 12 hex digits of its SHA-256
	run jq -r '.model_version' p.ndjson
	assert_output "$(printf '%s\n' "$VERSION" "$VERSION" "$VERSION" "$VERSION" "$VERSION" "$VERSION")"
}

@test "the probes' reasons: ordered by what decided, each once, amounts in one format" {
	probes > p.ndjson
	# P1's rule sentences (ratios by hand in testdata/score/README.md), by points: 25, 25
	# (file order), 20; amounts with separators and the currency
	run jq -r 'select(.txn_id == "P1") | .reasons[] | select(endswith("(raises risk)") | not)' p.ndjson
	assert_output - <<'OUT'
amount 25,000.00 USD is 403.4 times the sender's 30-day average (limit 3)
amount 25,000.00 USD from device DNEW1, new for this sender (limit 500)
amount 25,000.00 USD at or above 10000 (mandatory review)
OUT
	# P4c: structuring (50 points) before amount_spike (25), though amount_spike comes first
	# in the file
	run jq -r 'select(.txn_id == "P4c") | .reasons[] | select(endswith("(raises risk)") | not)' p.ndjson
	assert_output - <<'OUT'
3 transactions between 9000 and 10000 in 24 hours, this one 9,700.00 USD (limit 3)
amount 9,700.00 USD is 33.8 times the sender's 30-day average (limit 3)
OUT
	# ... and the model says nothing more about amounts just below 10,000: structuring said it
	run jq -r 'select(.txn_id == "P4c") | .reasons[]' p.ndjson
	refute_output --partial "reporting threshold"
	run jq -r 'select(.txn_id == "P4a" or .txn_id == "P4b") | .reasons[] | select(endswith("(raises risk)") | not)' p.ndjson
	assert_output - <<'OUT'
amount 9,500.00 USD is 132.1 times the sender's 30-day average (limit 3)
amount 9,600.00 USD is 53.2 times the sender's 30-day average (limit 3)
OUT
	# P2's BLOCK: the blocking rule first.  Then the country, true by the data: its sender
	# C000030's 100 earlier transactions are all in the US, P2 is in IR.  Its other features are
	# weak: 20:00 UTC is about noon solar time in San Francisco (-122.4 / 15 = -8 h), its sender
	# was first seen 31 days earlier, the merchant's known history is a denominator
	run jq -c 'select(.txn_id == "P2") | .reasons' p.ndjson
	assert_output '["country IR is sanctioned","outside this sender'"'"'s home country (raises risk)","a country new to this sender (raises risk)"]'
	# LOW without rules: none
	run jq -c 'select(.txn_id == "P3") | .reasons' p.ndjson
	assert_output '[]'
	# the amount against the sender's history is P1's rules' to say, not repeated by a feature
	run jq -r 'select(.txn_id == "P1") | .reasons[3:][]' p.ndjson
	refute_output --partial "this sender's 30-day mean of"
	# no sentence twice; no amount without thousands separators (9120.80 for 9,120.80)
	run jq -r 'select((.reasons | length) != (.reasons | unique | length)) | .txn_id' p.ndjson
	assert_output ""
	run jq -r '.reasons[]' p.ndjson
	refute_output --regexp '[0-9]{4}\.[0-9]{2} USD'
	assert_output --regexp '[0-9],[0-9]{3}\.[0-9]{2} USD'
}

@test "reasons: no weak facts over 1,506 transactions, each with --all-reasons" {
	fd-score -q --all-reasons --format ndjson "$S/history.csv" "$S/probe.csv" > all.ndjson
	jq -r '.reasons[]' all.ndjson > r.txt
	[ "$(wc -l < r.txt)" -gt 500 ]
	# a count of one in a velocity window is the transaction itself
	run grep -E '(^|[^0-9,])1 transaction from the sender in' r.txt
	assert_output ""
	# a ratio below 2 is not "above the mean"; a day of the week or a common channel is no reason
	run grep -E "(^|[ ,])[01]\.[0-9]× this sender's [0-9]+-day mean" r.txt
	assert_output ""
	run grep -E "on a (Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day|channel card|% of all transactions are (card|transfer|online)" r.txt
	assert_output ""
	# a feature reason is one that raised the risk; rule reasons only for hits
	run jq -r 'select((.rules | length) == 0) | .reasons[] | select(endswith("(raises risk)") | not)' all.ndjson
	assert_output ""
}

@test "a BLOCK rule's sentence comes first even after rules of more points" {
	# a review rule of 100 points before the block rule in the file: the block decides
	cp "$FD_ROOT"/rules/*.txt .
	{ printf 'rule big\n  when amount > 10\n  points 100\n  action review\n  reason "amount {amount} {currency} over 10"\n\n'
	  cat "$FD_RULES"; } > first.rules
	run --separate-stderr fd-score -q --format ndjson --rules first.rules "$S/history.csv" "$S/probe.csv"
	assert_success
	run jq -c 'select(.txn_id == "P2") | [.decision, .rules, .reasons[0], .reasons[1]]' <<<"$output"
	assert_output '["BLOCK",["big","sanctioned_country"],"country IR is sanctioned","amount 50.00 USD over 10"]'
}

@test "the autoencoder error of P1 is far beyond the model's HIGH threshold" {
	high=$(fd-train --inspect "$MODEL" | awk '/autoencoder error/ { print $NF }')
	probes > p.ndjson
	e=$(jq -r 'select(.txn_id == "P1") | .ae_error' p.ndjson)
	awk -v e="$e" -v h="$high" 'BEGIN { exit !(e > 10 * h) }'
	s=$(jq -r 'select(.txn_id == "P1") | .ae_score' p.ndjson)
	awk -v s="$s" 'BEGIN { exit !(s > 0.99 && s <= 1) }'
}

@test "--all-reasons: feature sentences for LOW transactions too, when they are worth saying" {
	probes --all-reasons > p.ndjson
	# P4a is MEDIUM or above anyway; P3 is the sender's usual payment, its only fact worth
	# saying its sender's count: C000016's 98 transactions from 2026-06-01T20:34 on, all within
	# the 30 days before P3, and P3 itself
	run jq -r 'select(.txn_id == "P3") | .reasons[]' p.ndjson
	assert_output "99 transactions from the sender in 30 days (typically 29.0 over all senders) (raises risk)"
	# without it LOW rows have no feature reason; with it some do (and many still none)
	fd-score -q --format ndjson "$S/history.csv" "$S/probe.csv" > d.ndjson
	fd-score -q --all-reasons --format ndjson "$S/history.csv" "$S/probe.csv" > a.ndjson
	n=$(jq -r 'select(.level == "LOW") | .reasons[] | select(endswith("(raises risk)"))' d.ndjson | wc -l)
	[ "$n" -eq 0 ]
	n=$(jq -r 'select(.level == "LOW") | .reasons[] | select(endswith("(raises risk)"))' a.ndjson | wc -l)
	[ "$n" -gt 0 ]
	n=$(jq -r 'select(.level == "LOW" and (.reasons | length) == 0) | .txn_id' a.ndjson | wc -l)
	[ "$n" -gt 0 ]
}

@test "--no-rules: the model alone; nothing blocks" {
	probes --no-rules > p.ndjson
	run jq -r '[.txn_id, .rule_points, (.rules | length), .decision] | join(" ")' p.ndjson
	refute_output --partial BLOCK
	run jq -r 'select(.rule_points != 0 or (.rules | length) != 0) | .txn_id' p.ndjson
	assert_output ""
}

@test "a note when the rules are not those the model's thresholds were calibrated with" {
	# the default model has stackers with and without rules: --no-rules needs no note
	run --separate-stderr fd-score -o /dev/null --no-rules "$S/probe.csv"
	assert_success
	[[ $stderr != *"note:"* ]] || { echo "$stderr"; false; }
	sed 's/points 25/points 26/' "$FD_RULES" > other.rules
	cp "$FD_ROOT"/rules/*.txt .
	run --separate-stderr fd-score -o /dev/null --rules other.rules "$S/probe.csv"
	[[ $stderr == "fd-score: note: the model's risk thresholds were calibrated with other rules (sha256 $(sha256sum "$FD_RULES" | cut -c1-12)..., these are $(sha256sum other.rules | cut -c1-12)...); the levels may not keep to its percentiles"$'\n'* ]] || { echo "$stderr"; false; }
	fd-train -q --no-rules -o m.fdm "$S/history.csv"
	run --separate-stderr fd-score -o /dev/null --model m.fdm "$S/probe.csv"
	[[ $stderr == "fd-score: note: the model's risk thresholds were calibrated without rules; the rules' points raise more transactions to MEDIUM and HIGH than its percentiles say"$'\n'* ]] || { echo "$stderr"; false; }
	# -q: no note
	run --separate-stderr fd-score -q -o /dev/null --no-rules "$S/probe.csv"
	[ -z "$stderr" ]
}

# ---- output ------------------------------------------------------------------------------------

@test "CSV: the header, rule ids by spaces, reasons by '; '" {
	run --separate-stderr fd-score "$S/history.csv" "$S/probe.csv"
	assert_success
	assert_line --index 0 "txn_id,ts,risk,level,decision,confidence,ae_error,ae_score,if_score,gb_score,rule_points,rules,reasons,model_version"
	[ "${#lines[@]}" -eq 1507 ]
	line=$(printf '%s\n' "${lines[@]}" | grep '^P1,')
	[[ $line == "P1,2026-07-01T03:10:00.000Z,"*",70,amount_spike new_device_large large_amount,\""*"amount 25,000.00 USD is 403.4 times the sender's 30-day average (limit 3); amount 25,000.00 USD from device DNEW1, new for this sender (limit 500); amount 25,000.00 USD at or above 10000 (mandatory review)"*",$VERSION" ]] || { echo "$line"; false; }
	[[ $stderr == "fd-score: 1506 transactions, 0 bad records skipped: "*" (model $MODEL, version $VERSION; rules $FD_RULES)" ]] || { echo "$stderr"; false; }
	# the summary's counts are the output's
	for l in LOW MEDIUM HIGH; do
		n=$(printf '%s\n' "${lines[@]}" | awk -F, -v l=$l '$4 == l' | wc -l)
		[[ $stderr == *" $n $l"* ]] || { echo "$l: $n; $stderr"; false; }
	done
}

@test "NDJSON input gives NDJSON; --format chooses; stdin and several inputs are one stream" {
	for f in history probe; do
		python3 -c '
import csv, json, sys
for r in csv.DictReader(open(sys.argv[1])):
    print(json.dumps({k: v for k, v in r.items() if v != ""}))' "$S/$f.csv" > $f.ndjson
	done
	fd-score -q "$S/history.csv" "$S/probe.csv" > a.csv
	cat "$S/history.csv" | fd-score -q - "$S/probe.csv" > b.csv
	cmp a.csv b.csv
	run fd-score -q history.ndjson probe.ndjson
	assert_success
	assert_line --index 0 --partial '{"txn_id":"T0000000001","ts":"2026-06-01T'
	[ "${#lines[@]}" -eq 1506 ]
	[ "$(printf '%s\n' "${lines[@]}" | jq -r 'select(.txn_id == "P2") | .decision')" = BLOCK ]
	# the same scores as from CSV
	fd-score -q --format csv history.ndjson probe.ndjson > c.csv
	cmp a.csv c.csv
	# the output format follows the first input unless --format says otherwise
	run fd-score -q "$S/history.csv" probe.ndjson
	assert_line --index 0 "txn_id,ts,risk,level,decision,confidence,ae_error,ae_score,if_score,gb_score,rule_points,rules,reasons,model_version"
}

@test "--flush writes the same records, each as soon as it is scored" {
	fd-score -q "$S/history.csv" "$S/probe.csv" > a.csv
	fd-score -q --flush "$S/history.csv" "$S/probe.csv" > b.csv
	# alone, the autoencoder takes the matrix-vector path: errors may differ in the last
	# printed digit (see fd-score(1)), the verdicts may not
	diff <(cut -d, -f1-5,10,11 a.csv) <(cut -d, -f1-5,10,11 b.csv)
	# a record comes out before the input ends: one line in, one line out, through a FIFO
	mkfifo in
	{ head -n 2 "$S/history.csv"; sleep 2; } > in &
	timeout 1 fd-score -q --flush --format ndjson < in > out.ndjson || true
	wait
	[ "$(wc -l < out.ndjson)" -eq 1 ]
	jq -e '.txn_id == "T0000000001"' out.ndjson
}

@test "-o FILE: written atomically; never over an input" {
	fd-score -q -o s.csv "$S/history.csv" "$S/probe.csv"
	[ "$(wc -l < s.csv)" -eq 1507 ]
	cp "$S/probe.csv" probe.csv
	run --separate-stderr fd-score -q -o probe.csv "$S/history.csv" probe.csv
	[ "$status" -eq 2 ]
	[[ $stderr == "fd-score: "*"probe.csv"* ]] || { echo "$stderr"; false; }
	cmp probe.csv "$S/probe.csv"
}

@test "no transactions: just the header" {
	head -n 1 "$S/probe.csv" > empty.csv
	run --separate-stderr fd-score empty.csv
	assert_success
	assert_output "txn_id,ts,risk,level,decision,confidence,ae_error,ae_score,if_score,gb_score,rule_points,rules,reasons,model_version"
	[[ $stderr == "fd-score: 0 transactions, 0 bad records skipped: 0 LOW, 0 MEDIUM, 0 HIGH; 0 APPROVE, 0 REVIEW, 0 BLOCK"* ]]
}

# ---- --fail-on ------------------------------------------------------------------------------

@test "--fail-on HIGH: exit 1 after writing everything, with the count" {
	run --separate-stderr fd-score --fail-on HIGH "$S/history.csv" "$S/probe.csv"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1507 ]
	n=$(printf '%s\n' "${lines[@]}" | awk -F, '$4 == "HIGH"' | wc -l)
	[ "$n" -ge 3 ]
	[[ $stderr == *"fd-score: --fail-on HIGH: $n transactions at HIGH or above" ]] || { echo "$stderr"; false; }
	run --separate-stderr fd-score --fail-on medium "$S/history.csv" "$S/probe.csv"
	[ "$status" -eq 1 ]
	m=$(printf '%s\n' "${lines[@]}" | awk -F, '$4 == "HIGH" || $4 == "MEDIUM"' | wc -l)
	[[ $stderr == *"--fail-on MEDIUM: $m transactions at MEDIUM or above" ]] || { echo "$stderr"; false; }
}

@test "--fail-on: exit 0 when nothing reached the level" {
	head -n 1 "$S/probe.csv" > empty.csv
	run fd-score -q --fail-on HIGH empty.csv
	assert_success
	run --separate-stderr fd-score --fail-on LOW "$S/probe.csv"
	[ "$status" -eq 2 ]
	[[ $stderr == "fd-score: --fail-on must be MEDIUM or HIGH, not 'LOW'"* ]]
}

# ---- the store ------------------------------------------------------------------------------

@test "--store: one score per transaction, a run, the model registered, audited; a re-run adds nothing" {
	run --separate-stderr fd-score --store fd.db --format ndjson "$S/history.csv" "$S/probe.csv"
	assert_success
	printf '%s\n' "${lines[@]}" > out.ndjson
	[[ $stderr == *"fd-score: fd.db: scores: 1506 new, 0 already recorded (run 1, audit entry "* ]] || { echo "$stderr"; false; }
	run q "SELECT count(*), count(DISTINCT txn_id), min(run_id), max(run_id) FROM scores"
	assert_output "1506|1506|1|1"
	run q "SELECT id, model_version, ruleset, rows, actor FROM score_runs"
	assert_output "1|$VERSION|$(sha256sum "$FD_RULES" | cut -d' ' -f1)|1506|tester"
	run q "SELECT version, sha256, actor FROM models"
	assert_output "$VERSION|$(sha256sum "$MODEL" | cut -d' ' -f1)|tester"
	# the stored levels are the written ones
	run q "SELECT level, count(*) FROM scores GROUP BY level ORDER BY level"
	assert_output "$(jq -r .level out.ndjson | sort | uniq -c | awk '{ print $2 "|" $1 }')"
	run q "SELECT risk, level, decision, rules, json_extract(reasons, '\$[0]') FROM scores WHERE txn_id = 'P2'"
	assert_output '100|HIGH|BLOCK|["sanctioned_country"]|country IR is sanctioned'
	run q "SELECT action, object_type || '/' || object_id, json_extract(details, '\$.added') FROM audit_log WHERE action LIKE 'score.%' OR action = 'model.register' ORDER BY seq"
	assert_output - <<OUT
model.register|model/1|
score.run|score_run/1|1506
OUT
	run fd-audit verify --store fd.db
	assert_success
	# again: nothing new, nothing written
	n=$(q "SELECT count(*) FROM audit_log")
	run --separate-stderr fd-score --store fd.db "$S/history.csv" "$S/probe.csv"
	assert_success
	[[ $stderr == *"fd-score: fd.db: scores: nothing new, 1506 already recorded" ]] || { echo "$stderr"; false; }
	[ "$(q 'SELECT count(*) FROM score_runs')" -eq 1 ]
	[ "$(q 'SELECT count(*) FROM audit_log')" -eq "$n" ]
}

@test "scores edited behind the tools' back are caught by fd-audit verify" {
	fd-score -q --store fd.db "$S/history.csv" "$S/probe.csv" > /dev/null
	sqlite3 fd.db "UPDATE scores SET level = 'LOW', decision = 'APPROVE', risk = 1 WHERE txn_id = 'P2'"
	run fd-audit verify --store fd.db
	[ "$status" -eq 1 ]
	assert_output --partial "(score.run score_run/1): data digest mismatch"
}

@test "--since: the store's period scored, history warmed; --auto-case opens a case per suspect, idempotently" {
	fd-ingest -q "$S/history.csv" "$S/probe.csv"
	run --separate-stderr fd-score --store "$FD_STORE" --since 2026-07-01 --auto-case --format ndjson
	assert_success
	printf '%s\n' "${lines[@]}" > out.ndjson
	run jq -r '[.txn_id, .rule_points] | join(" ")' out.ndjson
	assert_output - <<'OUT'
P1 70
P4a 25
P4b 25
P4c 75
P3 0
P2 100
OUT
	[[ $stderr == *"fd-score: 6 transactions from the store, 0 bad records skipped"* ]] || { echo "$stderr"; false; }
	high=$(jq -r 'select(.level == "HIGH") | .txn_id' out.ndjson | wc -l)
	[[ $stderr == *"cases: $high HIGH-risk transactions; 3 cases opened, 0 extended, 0 reopened, $high transactions added, 0 already in their case"* ]] || { echo "$stderr"; false; }
	run q "SELECT suspect, origin FROM cases ORDER BY suspect"
	assert_output - <<'OUT'
account:C000027|auto
account:C000028|auto
account:C000030|auto
OUT
	run q "SELECT count(*) FROM scores"
	assert_output 6
	run --separate-stderr fd-score --store "$FD_STORE" --since 2026-07-01 --auto-case
	assert_success
	[[ $stderr == *"scores: nothing new, 6 already recorded"* ]]
	[[ $stderr == *"cases: $high HIGH-risk transactions; 0 cases opened, 0 extended, 0 reopened, 0 transactions added, $high already in their case"* ]] || { echo "$stderr"; false; }
	run fd-audit verify --store "$FD_STORE"
	assert_success
}

@test "--auto-case after a run without it: the scores are there, the cases are made" {
	fd-ingest -q "$S/history.csv" "$S/probe.csv"
	fd-score -q --store "$FD_STORE" --since 2026-07-01 > /dev/null
	run --separate-stderr fd-score --store "$FD_STORE" --since 2026-07-01 --auto-case
	assert_success
	[[ $stderr == *"scores: nothing new, 6 already recorded"* ]]
	[[ $stderr == *"3 cases opened"* ]] || { echo "$stderr"; false; }
}

@test "--since reads the store, which must exist" {
	run --separate-stderr fd-score --store nostore.db --since 2026-07-01
	[ "$status" -eq 4 ]
	[[ $stderr == "fd-score: "*"nostore.db"* ]] || { echo "$stderr"; false; }
}

# ---- model files ------------------------------------------------------------------------------

@test "model files that are truncated, corrupt, newer, foreign or missing are refused" {
	head -c 100 "$MODEL" > t.fdm
	run --separate-stderr fd-score --model t.fdm "$S/probe.csv"
	[ "$status" -eq 3 ]
	[ "$stderr" = "fd-score: t.fdm: truncated model file" ]
	[ -z "$output" ]
	cp "$MODEL" c.fdm
	printf '\377' | dd of=c.fdm bs=1 seek=300 conv=notrunc 2>/dev/null
	run --separate-stderr fd-score --model c.fdm "$S/probe.csv"
	[ "$status" -eq 3 ]
	[ "$stderr" = "fd-score: c.fdm: model file checksum mismatch: corrupt" ]
	cp "$MODEL" v.fdm
	printf '\003' | dd of=v.fdm bs=1 seek=8 conv=notrunc 2>/dev/null
	run --separate-stderr fd-score --model v.fdm "$S/probe.csv"
	[ "$status" -eq 3 ]
	[ "$stderr" = "fd-score: v.fdm: model format version 3 is newer than this fd supports (2)" ]
	run --separate-stderr fd-score --model "$S/probe.csv" "$S/probe.csv"
	[ "$status" -eq 3 ]
	[ "$stderr" = "fd-score: $S/probe.csv: not an fd model file" ]
	run --separate-stderr fd-score --model none.fdm "$S/probe.csv"
	[ "$status" -eq 4 ]
	[ "$stderr" = "fd-score: cannot open 'none.fdm': No such file or directory" ]
}

@test "a model whose features this fd does not know is refused, naming them" {
	rename_feature "$MODEL" x.fdm hour hxur
	fd-train --inspect x.fdm | grep -q ' hxur '
	run --separate-stderr fd-score --model x.fdm "$S/probe.csv"
	[ "$status" -eq 3 ]
	[ "$stderr" = "fd-score: x.fdm: the model needs 1 feature this fd does not know: hxur" ]
}

@test "the default model: \$FD_MODEL, then ../models/, then ../share/fd/ beside the program" {
	unset FD_MODEL
	mkdir -p tree/bin tree/models tree/rules prefix/bin prefix/share/fd none/bin
	for d in tree prefix none; do cp "$FD_BIN/fd-score" $d/bin/; done
	cp "$MODEL" tree/models/default.fdm
	cp "$MODEL" prefix/share/fd/default.fdm
	run --separate-stderr tree/bin/fd-score "$S/probe.csv"
	assert_success
	[[ $stderr == *"(model $PWD/tree/models/default.fdm, version $VERSION;"* ]] || { echo "$stderr"; false; }
	run --separate-stderr prefix/bin/fd-score "$S/probe.csv"
	assert_success
	[[ $stderr == *"(model $PWD/prefix/share/fd/default.fdm, version"* ]] || { echo "$stderr"; false; }
	FD_MODEL="$PWD/prefix/share/fd/default.fdm" run --separate-stderr tree/bin/fd-score "$S/probe.csv"
	[[ $stderr == *"(model $PWD/prefix/share/fd/default.fdm, version"* ]] || { echo "$stderr"; false; }
	run --separate-stderr none/bin/fd-score "$S/probe.csv"
	[ "$status" -eq 4 ]
	[ "$stderr" = "fd-score: no model: give --model FILE or set FD_MODEL (not found: $PWD/none/models/default.fdm, $PWD/none/share/fd/default.fdm)" ]
}

# ---- input ------------------------------------------------------------------------------------

@test "input out of time order: exit 3 naming the place; --sort accepts it" {
	{ head -n 1 "$S/probe.csv"; tail -n 1 "$S/probe.csv"; sed -n 2p "$S/probe.csv"; } > shuffled.csv
	run --separate-stderr fd-score -q shuffled.csv
	[ "$status" -eq 3 ]
	[[ $stderr == "fd-score: shuffled.csv:3: out of time order (2026-07-01T03:10:00.000Z is before the previous record's 2026-07-01T20:00:00.000Z at shuffled.csv:2)"* ]] || { echo "$stderr"; false; }
	run --separate-stderr fd-score -q --sort shuffled.csv
	assert_success
	assert_line --index 1 --partial "P1,"
}

@test "a bad record is reported and skipped; --strict stops at it" {
	{ cat "$S/probe.csv"; echo "P9,2026-07-02T00:00:00Z,12.345,USD,C000016,,,,card,,,,,US,Boston,0,"; } > bad.csv
	run --separate-stderr fd-score bad.csv
	assert_success
	[ "${#lines[@]}" -eq 7 ]
	[[ $stderr == "fd-score: bad.csv:8: field 'amount': bad amount '12.345'"* ]] || { echo "$stderr"; false; }
	[[ ${stderr_lines[0]} == *"USD has 2 decimal places) (skipped)" ]] || { echo "$stderr"; false; }
	[[ $stderr == *"fd-score: 6 transactions, 1 bad records skipped:"* ]] || { echo "$stderr"; false; }
	# -q: the record is still skipped, without a word
	run --separate-stderr fd-score -q bad.csv
	assert_success
	[ "${#lines[@]}" -eq 7 ]
	assert_equal "$stderr" ""
	run --separate-stderr fd-score --strict --store fd.db bad.csv
	[ "$status" -eq 3 ]
	[[ $stderr == *"(--strict: stopped here, nothing recorded)" ]] || { echo "$stderr"; false; }
	# without --store nothing is recorded anyway: the message says only where it stopped
	run --separate-stderr fd-score --strict bad.csv
	[ "$status" -eq 3 ]
	[[ $stderr == *"fd-score: bad.csv:8: field 'amount': bad amount '12.345' "*"(--strict: stopped here)" ]] || { echo "$stderr"; false; }
	[ "$(q 'SELECT count(*) FROM scores')" -eq 0 ]
}

# ---- metrics and evaluation ------------------------------------------------------------------

@test "--metrics: counts by level and decision, rows/s, the latency histogram" {
	fd-score -q --metrics m.prom "$S/history.csv" "$S/probe.csv" > s.csv
	for l in LOW MEDIUM HIGH; do
		n=$(awk -F, -v l=$l '$4 == l' s.csv | wc -l)
		grep -qx "fd_score_transactions_total{tool=\"fd-score\",level=\"$l\"} $n" m.prom || { grep transactions m.prom; false; }
	done
	for d in APPROVE REVIEW BLOCK; do
		n=$(awk -F, -v d=$d '$5 == d' s.csv | wc -l)
		grep -qx "fd_score_decisions_total{tool=\"fd-score\",decision=\"$d\"} $n" m.prom || { grep decisions m.prom; false; }
	done
	grep -qx 'fd_score_latency_seconds_count{tool="fd-score"} 1506' m.prom
	grep -qx 'fd_score_latency_seconds_bucket{tool="fd-score",le="+Inf"} 1506' m.prom
	grep -q '^fd_score_rows_per_second{tool="fd-score"} [0-9]' m.prom
	grep -qx 'fd_run_success{tool="fd-score"} 1' m.prom
}

@test "--eval: each layer side by side; the rules' confusion worked out by hand" {
	run --separate-stderr fd-score --eval "$S/history.csv" "$S/probe.csv"
	assert_success
	assert_line --index 0 "1506 labelled transactions, 5 fraud (0.33%)"
	for l in autoencoder forest gbdt rules combined; do
		printf '%s\n' "${lines[@]}" | grep -q "^$l " || { echo "no $l"; false; }
	done
	# rules: every fraud probe hits a rule (MEDIUM: any hit); only P2 a block rule (HIGH)
	fp=$(fd-rules -q "$S/history.csv" | cut -d, -f1 | sed 1d | sort -u | wc -l)
	[[ $(printf '%s\n' "${lines[@]}" | grep '^rules  *MEDIUM') =~ ^rules\ +MEDIUM\ +any\ hit\ +5\ +$fp\ +0\ + ]] || { printf '%s\n' "${lines[@]}"; false; }
	[[ $(printf '%s\n' "${lines[@]}" | grep '^rules  *HIGH') =~ ^rules\ +HIGH\ +block\ +1\ +0\ +4\ +1501\ + ]] || { printf '%s\n' "${lines[@]}"; false; }
	run fd-score -q --eval --format csv "$S/history.csv" "$S/probe.csv"
	assert_line --index 0 "layer,rows,frauds,auc_roc,avg_precision,recall_at_fpr_1pct,recall_at_fpr_5pct,k,precision_at_k,medium_threshold,medium_tp,medium_fp,medium_fn,medium_tn,high_threshold,high_tp,high_fp,high_fn,high_tn"
	assert_line --index 3 --partial "gbdt,1506,5,"
	assert_line --index 4 --partial "rules,1506,5,"
	[ "${#lines[@]}" -eq 6 ]
	run fd-score -q --eval --format ndjson "$S/history.csv" "$S/probe.csv"
	[ "$(printf '%s\n' "${lines[@]}" | jq -r .layer | paste -sd' ')" = "autoencoder forest gbdt rules combined" ]
	# the combined risk finds the three probes that rules make HIGH, at least
	tp=$(printf '%s\n' "${lines[@]}" | jq -r 'select(.layer == "combined") | .high_tp')
	[ "$tp" -ge 3 ]
}

@test "--eval needs labels" {
	cut -d, -f1-15 "$S/probe.csv" > nolabel.csv
	run --separate-stderr fd-score --eval nolabel.csv
	[ "$status" -eq 3 ]
	[ "$stderr" = "fd-score: no labelled transactions: an evaluation needs the label (1 fraud, 0 legitimate) of some of the 6 read" ]
}

# ---- usage ------------------------------------------------------------------------------------

@test "usage errors" {
	run --separate-stderr fd-score --auto-case "$S/probe.csv"
	[ "$status" -eq 2 ]
	[[ $stderr == "fd-score: --auto-case writes cases into the store: give --store"* ]]
	run --separate-stderr fd-score --since 2026-07-01 "$S/probe.csv"
	[ "$status" -eq 2 ]
	[[ $stderr == "fd-score: --since and --until read the store's transactions: give no FILE"* ]]
	run --separate-stderr fd-score --eval --store fd.db "$S/probe.csv"
	[ "$status" -eq 2 ]
	[[ $stderr == "fd-score: --eval records nothing: --store reads the store only with --since or --until"* ]]
	run --separate-stderr fd-score --eval --fail-on HIGH "$S/probe.csv"
	[ "$status" -eq 2 ]
	[[ $stderr == "fd-score: --eval writes a report: no --auto-case, --fail-on, --all-reasons or --flush"* ]]
	run --separate-stderr fd-score --rules "$FD_RULES" --no-rules "$S/probe.csv"
	[ "$status" -eq 2 ]
	[[ $stderr == "fd-score: --rules and --no-rules contradict each other"* ]]
	run --separate-stderr fd-score --format table "$S/probe.csv"
	[ "$status" -eq 2 ]
	[[ $stderr == "fd-score: --format must be csv or ndjson, not 'table'"* ]]
	run --separate-stderr fd-score --until 2026-07-01 --since 2026-07-02
	[ "$status" -eq 2 ]
	[[ $stderr == "fd-score: --until must be later than --since"* ]]
	run --separate-stderr fd-score --top 0 --eval "$S/probe.csv"
	[ "$status" -eq 2 ]
	[[ $stderr == "fd-score: --top needs a whole number from 1 to 1000000000, not '0'"* ]]
}

@test "the man page's first example" {
	fd-score "$S/history.csv" "$S/probe.csv" > scores.csv 2>/dev/null
	run awk -F, '$5 != "APPROVE" { print $1, $3, $4, $5 }' scores.csv
	assert_success
	assert_line "P2 100.00 HIGH BLOCK"
}
