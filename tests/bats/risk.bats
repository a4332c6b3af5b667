#!/usr/bin/env bats
# A transaction's risk: 0-100 with two decimals everywhere it is written, levels that agree
# with the printed risk, and one meaning for every tool — its latest score (the latest_scores
# view of migration 9), checked on hand-built stores where a transaction has an older HIGH
# score and a newer LOW one.

load common

S="$TD/score"
MODEL=c0dc5b66c99a  # the model version of testdata/score/store-v8.sql (its README)

setup() { common_setup; }

# The version-8 store of testdata/score (6 probes, whole risks: P1 98 HIGH, P4a 78 HIGH,
# P4b 98 HIGH, P4c 100 HIGH, P3 0 LOW, P2 100 HIGH), migrated by a tool that opens it.
v8() {
	sqlite3 -batch "$FD_STORE" < "$S/store-v8.sql"
	fd-case -q list > /dev/null
	[ "$(q 'PRAGMA user_version')" = 9 ]
}

# A newer score (model version V, a run started 1 s after the fixture's) for each TXN:RISK:LEVEL.
newer() {
	local v=$1 t0 run x
	shift
	t0=$(q "SELECT max(scored_at) FROM scores")
	run=$(q "INSERT INTO score_runs (model_version, rows, started_at, actor) VALUES ('$v', $#, $t0 + 1000, 'tester') RETURNING id")
	for x in "$@"; do
		IFS=: read -r id risk level <<< "$x"
		q "INSERT INTO scores (run_id, txn_id, model_version, risk, level, decision, scored_at)
		   VALUES ($run, '$id', '$v', $risk, '$level', CASE '$level' WHEN 'LOW' THEN 'APPROVE' ELSE 'REVIEW' END, $t0 + 1000)"
	done
}

@test "fd-score: every risk has two decimals, in CSV and NDJSON" {
	fd-score -q "$S/history.csv" "$S/probe.csv" > s.csv
	run awk -F, 'NR > 1 && $3 !~ /^[0-9]+\.[0-9][0-9]$/' s.csv
	assert_success
	assert_output ""
	[ "$(awk -F, 'NR > 1' s.csv | wc -l)" = 1506 ]
	# a block rule: exactly 100
	[ "$(awk -F, '$1 == "P2" {print $3, $4, $5}' s.csv)" = "100.00 HIGH BLOCK" ]
	fd-score -q --format ndjson "$S/history.csv" "$S/probe.csv" > s.ndjson
	run grep -c -E '"risk":[0-9]+\.[0-9]{2},' s.ndjson
	assert_output 1506
	grep -q '"txn_id":"P2",.*"risk":100.00,"level":"HIGH","decision":"BLOCK"' s.ndjson
	# the same risks as the CSV
	diff <(awk -F, 'NR > 1 {print $1, $3}' s.csv) <(jq -r '"\(.txn_id) \(.risk | tostring)"' s.ndjson |
		awk '{printf "%s %.2f\n", $1, $2}')
}

@test "fd-score: the level agrees with the printed risk at the threshold (rounded up to the hundredth)" {
	fd-score -q "$S/history.csv" "$S/probe.csv" > s.csv
	r=$(awk -F, '$1 == "P4b" {print $3}' s.csv)
	[[ $r =~ ^[0-9]+\.[0-9][0-9]$ ]]
	level() { fd-score -q --threshold "$1" "$S/history.csv" "$S/probe.csv" | awk -F, '$1 == "P4b" {print $3, $4}'; }
	# HIGH from exactly the printed risk
	[ "$(level "$r")" = "$r HIGH" ]
	# 0.004 below rounds up to the printed risk: HIGH
	[ "$(level "$(awk -v r="$r" 'BEGIN {printf "%.3f", r - 0.004}')")" = "$r HIGH" ]
	# 0.001 above rounds up to the next hundredth: not HIGH, though the unrounded risk may be above
	run level "$(awk -v r="$r" 'BEGIN {printf "%.3f", r + 0.001}')"
	assert_output --regexp "^$r (LOW|MEDIUM)\$"
	# every row: HIGH exactly when the printed risk reaches the threshold
	fd-score -q --threshold "$r" "$S/history.csv" "$S/probe.csv" > t.csv
	run awk -F, -v r="$r" 'NR > 1 && (($3 + 0 >= r + 0) != ($4 == "HIGH"))' t.csv
	assert_output ""
}

@test "store: risks stored to the hundredth; a version-8 store of whole risks migrates and still verifies" {
	sqlite3 -batch "$FD_STORE" < "$S/store-v8.sql"
	[ "$(q 'PRAGMA user_version')" = 8 ]
	run fd-audit verify
	assert_success
	fd-case -q list > /dev/null  # a writing tool upgrades the store (fd-score --store asks for one)
	fd-score -q --store "$FD_STORE" "$S/history.csv" > h.csv
	[ "$(q 'PRAGMA user_version')" = 9 ]
	[ "$(q "SELECT type FROM sqlite_schema WHERE name = 'latest_scores'")" = view ]
	# the old rows: whole numbers, as stored; the new: to the hundredth (whole ones as integers)
	[ "$(q "SELECT group_concat(txn_id || ' ' || risk || ' ' || typeof(risk), ',') FROM scores WHERE run_id = 1")" = \
		"P1 98 integer,P4a 78 integer,P4b 98 integer,P4c 100 integer,P3 0 integer,P2 100 integer" ]
	[ "$(q "SELECT count(*) FROM scores WHERE run_id = 2 AND typeof(risk) = 'real'")" -gt 100 ]
	[ "$(q "SELECT count(*) FROM scores WHERE run_id = 2 AND risk <> round(risk, 2)")" = 0 ]
	# stored as printed
	diff <(awk -F, 'NR > 1 {print $1, $3}' h.csv | sort) \
		<(q "SELECT txn_id || ' ' || printf('%.2f', risk) FROM scores WHERE run_id = 2" | sort)
	run fd-audit verify
	assert_success
	assert_output --regexp "intact: [0-9]+ audit entries"
	# a stored risk changed behind the tools' back, old (integer) or new (real), breaks its digest
	cp "$FD_STORE" copy.db
	q "UPDATE scores SET risk = 98.5 WHERE run_id = 1 AND txn_id = 'P1'"
	run fd-audit verify
	[ "$status" -eq 1 ]
	assert_output --partial "score.run score_run/1): data digest mismatch"
	x=$(sqlite3 copy.db "SELECT txn_id FROM scores WHERE run_id = 2 AND typeof(risk) = 'real' LIMIT 1")
	sqlite3 copy.db "UPDATE scores SET risk = risk + 0.01 WHERE run_id = 2 AND txn_id = '$x'"
	run fd-audit verify --store copy.db
	[ "$status" -eq 1 ]
	assert_output --partial "score.run score_run/2): data digest mismatch"
}

@test "latest_scores: per transaction the greatest scored_at, ties broken by the greatest id" {
	v8
	t0=$(q "SELECT scored_at FROM scores WHERE txn_id = 'P3'")
	newer newer P1:12.34:LOW
	# the same scored_at as P3's score: the later row (greater id) is the latest
	q "INSERT INTO score_runs (id, model_version, rows, started_at, actor) VALUES (10, 'tie', 1, $t0, 'tester')"
	q "INSERT INTO scores (run_id, txn_id, model_version, risk, level, decision, scored_at)
	   VALUES (10, 'P3', 'tie', 55.55, 'MEDIUM', 'REVIEW', $t0)"
	# inserted last but scored earlier: not the latest
	q "INSERT INTO score_runs (id, model_version, rows, started_at, actor) VALUES (11, 'older', 1, $t0 - 1000, 'tester')"
	q "INSERT INTO scores (run_id, txn_id, model_version, risk, level, decision, scored_at)
	   VALUES (11, 'P4a', 'older', 1.5, 'LOW', 'APPROVE', $t0 - 1000)"
	run q "SELECT txn_id, risk, level, model_version FROM latest_scores ORDER BY txn_id"
	assert_output - <<OUT
P1|12.34|LOW|newer
P2|100|HIGH|$MODEL
P3|55.55|MEDIUM|tie
P4a|78|HIGH|$MODEL
P4b|98|HIGH|$MODEL
P4c|100|HIGH|$MODEL
OUT
}

@test "fd-case: show, list, report, prioritize, related and auto take the newer, lower score" {
	v8
	newer newer P1:12.34:LOW P4b:5.25:LOW
	fd-case -q create "two scores" --txn P1 --txn P4b
	run fd-case show 1
	assert_success
	assert_line "  max risk    12.34"
	assert_line --regexp '^  P1  2026-07-01T03:10:00.000Z  25,000.00 USD  C000028 -> C000099  risk 12.34 LOW APPROVE  label fraud$'
	assert_line --regexp '^  P4b  .*  risk 5.25 LOW APPROVE  label fraud$'
	run fd-case list --format csv
	assert_line --index 1 --regexp '^1,two scores,OPEN,MEDIUM,,manual,,[^,]+,[^,]+,2,0,12.34,34600.00 USD$'
	run fd-case report 1
	assert_line "### P1: risk 12.34, LOW, APPROVE (model newer)"
	assert_line "### P4b: risk 5.25, LOW, APPROVE (model newer)"
	run fd-case prioritize --format csv
	assert_line --index 1 --partial ",two scores,\"max risk 12.34; "
	# P4a and P4c share P4b's sender; their risks are the fixture's (78, 100)
	run fd-case related 1 --format csv
	assert_line --regexp '^[0-9]+,P4a,[^,]+,9500.00,USD,C000027,C000003,78.00,'
	assert_line --regexp '^[0-9]+,P4c,[^,]+,9700.00,USD,C000027,C000003,100.00,'
	# automatic cases from the store's HIGH scores: P1 and P4b are LOW now
	fd-case -q auto
	run q "SELECT c.suspect, group_concat(ct.txn_id, ' ') FROM cases c JOIN case_transactions ct ON ct.case_id = c.id
	       WHERE c.origin = 'auto' GROUP BY c.id ORDER BY c.suspect"
	assert_output - <<'OUT'
account:C000027|P4a P4c
account:C000030|P2
OUT
	[[ "$(q "SELECT reason FROM case_transactions WHERE txn_id = 'P4a'")" == "risk 78.00: "* ]]
}

@test "fd-graph: flagged and risk from the latest score, in an ego graph and over the whole store" {
	v8
	q "UPDATE transactions SET label = 0"  # flags from the scores alone
	newer newer P1:12.34:LOW P4b:5.25:LOW
	run fd-graph neighbors account:C000028 --format json
	assert_success
	assert_line --partial '{"id":"account:C000028","kind":"account","key":"C000028","txns":1,"flagged":0,"risk":12.34,'
	run fd-graph neighbors account:C000027 --format json
	assert_line --partial '{"id":"account:C000027","kind":"account","key":"C000027","txns":3,"flagged":2,"risk":100.00,'
	run --separate-stderr fd-graph stats --format csv
	assert_success
	h=$(head -n 1 <<< "$output")
	[[ $h == *",txns,flagged,risk" ]]
	assert_line --regexp '^account:C000028,.*,1,0,12.34$'
	assert_line --regexp '^account:C000027,.*,3,2,100.00$'
}

@test "dashboard: flagged transactions, counts and the risk distribution from the latest score" {
	v8
	newer newer P1:12.34:LOW P4b:5.25:LOW
	fd-case -q dashboard --html d.html
	recent=$(sed -n '/<table id="recent">/,/<\/table>/p' d.html)
	[[ $recent == *"<code>P4a</code>"* && $recent == *"<code>P4c</code>"* && $recent == *"<code>P2</code>"* ]]
	[[ $recent != *"<code>P1</code>"* && $recent != *"<code>P4b</code>"* ]]
	[[ $recent == *'<td class="num">78.00 <span'* ]]
	grep -q '<td>2 latest scores</td>' d.html
	grep -q '<td>4 latest scores</td>' d.html
	# 6 latest scores: 0 (P3), 5.25 (P4b) and 12.34 (P1) in bins 0-4.99, 5-9.99, 10-14.99
	grep -q '<title>risk 5-9.99: 1</title>' d.html
	grep -q '<title>risk 10-14.99: 1</title>' d.html
	grep -q '<title>risk 95-100: 2</title>' d.html
}
