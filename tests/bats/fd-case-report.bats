#!/usr/bin/env bats
# fd-case report and dashboard: the Markdown and HTML case reports and the dashboard page,
# their numbers (worked out by hand from testdata/case/), escaping, self-containment, and a
# render in headless Chromium (Debian's chromium package, installed by scripts/setup.sh; the
# test fails when it is missing)
# that must load without a console message and show the expected numbers.

bats_require_minimum_version 1.5.0
load common

setup() {
	common_setup
	C="$TD/case"
	fd-ingest -q "$C/txns.csv"
	q < "$C/scores.sql"
	# case 1: X01-X04, A1 SUSPECT, M1 RELATED, A2 VICTIM
	fd-case -q create "Card testing by A1" --priority HIGH --txn X01 --reason "test charge" --txn X02 --txn X03 \
		--entity account:A1 --role SUSPECT --entity M1 >/dev/null
	fd-case -q link 1 --txn X04 --reason "cash-out" --entity A2 --role VICTIM
	printf 'evidence\n' > ev.txt
	fd-case -q note 1 --file ev.txt >/dev/null
	# cases 2 (A1: X03, X04), 3 (A4: X10), 4 (A5: X07); 4 closed as fraud
	fd-case -q auto
	fd-case -q status 4 IN_PROGRESS
	fd-case -q status 4 CLOSED
}

chrome() {  # chrome OUTPUT-OPTION FILE: headless render; stderr (console messages) to chrome.err
	chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
		--disable-sync --no-first-run --user-data-dir="$BATS_TEST_TMPDIR/profile" --enable-logging=stderr --v=0 \
		--window-size=1280,2400 "$1" "file://$BATS_TEST_TMPDIR/$2" 2>chrome.err
}

@test "report --format md: summary, timeline, transactions, charts, neighbourhood, reasons, evidence" {
	run fd-case report 1
	assert_success
	assert_line --index 0 "# Case 1: Card testing by A1"
	assert_line "| Status | OPEN |"
	assert_line "| Priority | HIGH |"
	# 1.00 + 1.50 + 950.00 + 2500.00
	assert_line "| Amount at stake | 3,452.50 USD in 4 transactions |"
	assert_line "| Highest risk | 92.00 |"
	assert_line "| Entities | 3 |"
	assert_line "## Timeline"
	assert_line --regexp '^\| 20[0-9T:.-]+Z \| tester \| link \| linked X04; account:A2 as VICTIM \|$'
	assert_line "| Transaction | Time (UTC) | Amount | From | To | Risk | Decision | Label | Why included |"
	assert_line "| X01 | 2026-03-01T10:00:00.000Z | 1.00 USD | A1 | M1 | 45.00 | REVIEW | - | test charge |"
	assert_line "| X03 | 2026-03-01T10:05:00.000Z | 950.00 USD | A1 | M2 | 92.00 | BLOCK | - |  |"
	assert_line "| X04 | 2026-03-01T11:30:00.000Z | 2,500.00 USD | A1 | A2 | 85.00 | BLOCK | - | cash-out |"
	assert_line "## Amounts over time"
	assert_line "## Entity neighbourhood"
	assert_line "| account:A1 | SUSPECT | 4 |  |"
	assert_line "| account:A2 | VICTIM | 2 |  |"
	assert_line "### X03: risk 92.00, HIGH, BLOCK (model m1)"
	assert_line "- rule \`velocity_5m\` (+30 points): 3 transactions in 5 minutes, limit 2"
	assert_line "- amount 38.0× this sender's 30-day mean"
	sha=$(sha256sum ev.txt | cut -d' ' -f1)
	assert_line --regexp "^\| 1 \| ev.txt \| 9 \| \`$sha\` \| 20[0-9T:.-]+Z by tester \|$"
	# amounts, neighbourhood, contributions, and A1's amounts before and in the case
	[ "$(grep -c '<svg xmlns="http://www.w3.org/2000/svg"' <<<"$output")" -eq 4 ]
}

@test "report --format html: self-contained, escaped, the neighbourhood drawn from the store" {
	fd-case -q report 1 --format html -o r.html
	run grep -c '<svg ' r.html
	assert_output "4"
	# nothing to fetch: no src or href, no script, the only URL the SVG namespace
	run grep -Ec '(src|href)=|<script|<link|@import|url\(' r.html
	assert_output "0"
	run sh -c "grep -o 'https\?://[^\"]*' r.html | sort -u"
	assert_output "http://www.w3.org/2000/svg"
	# the case's 6 entities (A1, M1, A2 and, through X01-X04, M2, DX, 198.51.100.10) drawn
	# larger; their 1-hop neighbours: A3 (uses DX), A5 (uses the IP), DY and 203.0.113.40 (A2's)
	run grep -c 'r="10" fill' r.html
	assert_output "6"
	run grep -c 'r="7" fill' r.html
	assert_output "4"
	for n in 'account:A1 (SUSPECT)' 'account:A2 (VICTIM)' 'merchant:M1 (RELATED)' 'merchant:M2' 'device:DX' \
		'ip:198.51.100.10' 'account:A3' 'account:A5' 'device:DY' 'ip:203.0.113.40'; do
		grep -qF "<title>$n</title></circle>" r.html || { echo "no node $n"; false; }
	done
	grep -qF '<title>A3 uses_device DX (1)</title>' r.html
	grep -qF '<td>account:A2</td><td>VICTIM</td>' r.html
	# an evil title is shown, not run
	fd-case -q create '<script>alert(1)</script> & "co"' --txn X05 >/dev/null
	fd-case -q report 5 --format html -o evil.html
	run grep -c '<script' evil.html
	assert_output "0"
	grep -qF '<h1>Case 5: &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;co&quot;</h1>' evil.html
	run fd-case report 5
	assert_line --index 0 '# Case 5: &lt;script&gt;alert(1)&lt;/script&gt; &amp; "co"'
}

@test "report: errors" {
	run --separate-stderr fd-case report 9
	[ "$status" -eq 2 ]
	[[ $stderr == "fd-case: no case 9" ]]
	run --separate-stderr fd-case report 1 --format pdf
	[ "$status" -eq 2 ]
	[[ ${stderr_lines[0]} == "fd-case: --format must be md or html, not 'pdf'" ]]
	run --separate-stderr fd-case report 1 -o /nonexistent/dir/r.md
	[ "$status" -eq 4 ]
	[[ $stderr == "fd-case: "*"/nonexistent/dir"* ]]
	run --separate-stderr fd-case dashboard
	[ "$status" -eq 2 ]
	[[ ${stderr_lines[0]} == "fd-case: dashboard: needs --html FILE" ]]
	FD_ACTOR=boss fd-case -q user add boss --role ADMIN
	FD_ACTOR=boss fd-case -q user add vic --role VIEWER
	run --separate-stderr env FD_ACTOR=nobody fd-case dashboard --html d.html
	[ "$status" -eq 5 ]
	[ ! -e d.html ]
	run env FD_ACTOR=vic fd-case -q dashboard --html d.html
	assert_success
}

@test "report: the sender's usual amounts beside the flagged ones, contribution bars, audit head and seal" {
	# A1's history before the case (odd count: the median is one of them), one later not counted
	cat > hist.csv <<'CSV'
txn_id,ts,amount,currency,sender_id,merchant_id
H1,2026-02-01T10:00:00Z,12.00,USD,A1,M7
H2,2026-02-03T10:00:00Z,30.00,USD,A1,M7
H3,2026-02-05T10:00:00Z,18.50,USD,A1,M7
H4,2026-02-07T10:00:00Z,1250.00,USD,A1,M7
H5,2026-02-09T10:00:00Z,25.00,USD,A1,M7
H6,2026-03-05T10:00:00Z,9999.00,USD,A1,M7
CSV
	fd-ingest -q hist.csv
	fd-case -q report 1 --format html -o r.html
	first=$(q "SELECT min(t.ts) FROM case_transactions ct JOIN transactions t USING (txn_id) WHERE ct.case_id = 1 AND t.sender_id = 'A1'")
	amounts=$(q "SELECT amount FROM transactions WHERE sender_id = 'A1' AND ts < $first
		AND txn_id NOT IN (SELECT txn_id FROM case_transactions WHERE case_id = 1)")
	n=$(wc -l <<<"$amounts")
	med=$(python3 -c 'import statistics, sys; print("{:,.2f}".format(statistics.median(int(x) for x in sys.argv[1].split()) / 100))' "$amounts")
	mx=$(python3 -c 'import sys; print("{:,.2f}".format(max(int(x) for x in sys.argv[1].split()) / 100))' "$amounts")
	# by hand: 12.00 18.50 25.00 30.00 1,250.00: median 25.00; the case's X01-X04: median (1.50 + 950.00) / 2
	[ "$n" -eq 5 ] && [ "$med" = "25.00" ] && [ "$mx" = "1,250.00" ]
	grep -qF "<tr data-sender=\"A1\" data-currency=\"USD\"><td>A1</td><td class=\"num\">$n</td><td class=\"num\">$med USD</td><td class=\"num\">$mx USD</td><td class=\"num\">4</td><td class=\"num\">475.75 USD</td><td class=\"num\">2,500.00 USD</td><td class=\"num\">100.0×</td></tr>" r.html
	# binned 1-2-5 (in cents: 1200 1850 | 2500 3000 | 125000 before; 100 150 | 95000 | 250000 in the
	# case): bins 1 to 10,000 USD, 12 of them, 610 / 12 = 50.83 px each from x 90; a count of 2 is
	# the row's tallest (36 px), 1 is 18 px; the before row ends at y 56, the case's at y 108
	[ "$(grep -c '<rect class="before"' r.html)" -eq 3 ]
	[ "$(grep -c '<rect class="flagged"' r.html)" -eq 3 ]
	grep -qF '<rect class="before" x="243.5" y="20.0" width="48.8" height="36.0" fill="#6b7280"><title>2 before, 10.00 to 20.00 USD</title></rect>' r.html
	grep -qF '<title>2 before, 20.00 to 50.00 USD</title>' r.html
	grep -qF 'height="18.0" fill="#6b7280"><title>1 before, 1,000.00 to 2,000.00 USD</title>' r.html
	grep -qF '<rect class="flagged" x="91.0" y="72.0" width="48.8" height="36.0" fill="#dc2626"><title>2 in the case, 1.00 to 2.00 USD</title></rect>' r.html
	grep -qF '<title>1 in the case, 500.00 to 1,000.00 USD</title>' r.html
	grep -qF '<rect class="flagged" x="599.3" y="90.0" width="48.8" height="18.0" fill="#dc2626"><title>1 in the case, 2,000.00 to 5,000.00 USD</title></rect>' r.html
	# the median before, 25.00 USD, a sixth of the way into its bin [20, 50): 90 + 4 * 50.83 + 50.83 / 6
	grep -qF '<line class="median" x1="301.8" y1="8" x2="301.8" y2="56" stroke="#111827" stroke-width="2"><title>median before: 25.00 USD</title></line>' r.html
	# decades labelled 1 to 10,000, with separators
	for lab in '>1<' '>10<' '>100<' '>1,000<' '>10,000<'; do
		grep -qF "text-anchor=\"middle\" fill=\"#4b5563\"$lab/text>" r.html || { echo "no axis label $lab"; false; }
	done
	# contribution bars, 4.5 px a point: X03 risk 92 with 30 rule points, X04 85 all model
	grep -qF '<rect class="model" x="150" y="54.0" width="279.0" height="16" fill="#7c3aed"><title>X03 model: 62.00</title></rect>' r.html
	grep -qF '<title>X03 rules: 30.00</title>' r.html
	grep -qF '<title>X04 model: 85.00</title>' r.html
	grep -qF '<title>X04 rules: 0.00</title>' r.html
	# hand-over: no seal yet, then the head and the seal as sqlite3 reads them
	grep -qF 'none: seal the chain (fd-audit seal) before hand-over' r.html
	# (the fixture's scores went in behind the tools' back, so fd-audit would not seal this
	# chain: a seal row as fd-audit writes it, over an entry before the head)
	q "INSERT INTO audit_seals (seq, head_hash, public_key, signature, sealed_at, actor)
		SELECT seq, hash, lower(hex(randomblob(32))), lower(hex(randomblob(64))), 1772582400000, 'sealer'
		FROM audit_log ORDER BY seq DESC LIMIT 1 OFFSET 2"
	fd-case -q report 1 --format html -o r.html
	IFS='|' read -r seq hash <<<"$(q "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")"
	IFS='|' read -r sseq shash key sig <<<"$(q "SELECT seq, head_hash, public_key, signature FROM audit_seals ORDER BY id DESC LIMIT 1")"
	grep -qF "<tr><th>Head hash</th><td><code>$hash</code></td></tr>" r.html
	grep -qF "<tr><th>Audit head</th><td>entry $seq, " r.html
	grep -qF "<tr><th>Latest seal</th><td>entry $sseq, sealed " r.html
	grep -qF "; $((seq - sseq)) entries after it</td></tr>" r.html
	grep -qF "<code>$shash</code>" r.html && grep -qF "<code>$key</code>" r.html && grep -qF "<code>$sig</code>" r.html
	run fd-case report 1
	assert_line "| Head hash | \`$hash\` |"
}

# The latest score of each transaction, written independently of the code's own query.
LATEST_SQL="SELECT * FROM scores s WHERE scored_at = (SELECT max(scored_at) FROM scores m WHERE m.txn_id = s.txn_id)"

@test "dashboard: cards, per-day bars by level, cases by status, recent flagged with a Decision column" {
	run --separate-stderr fd-case dashboard --html d.html --now 2026-03-12T00:00:00Z
	assert_success
	[[ $stderr == "fd-case: dashboard written to d.html ("*" bytes)" ]]
	# 11 transactions, 8 scored; latest levels: MEDIUM X01 X02, HIGH X03 X04 X07 X10, LOW X05 X09
	grep -qF '<div class="card" id="card-transactions" data-value="11">' d.html
	grep -qF '<div class="sub">8 scored</div>' d.html
	grep -qF 'id="card-flagged" data-value="6">' d.html
	grep -qF '<div class="sub">4 HIGH, 2 MEDIUM</div>' d.html
	# open: cases 1, 2, 3 (4 is closed)
	grep -qF 'id="card-open-cases" data-value="3">' d.html
	# at stake: X01-X04 = 3452.50 USD (cases 1 and 2 share X03, X04: counted once), X10 120000 JPY;
	# thousands separators on the page, the plain number in data-value
	grep -qF 'id="card-stake" data-value="3452.50" data-currency="USD">' d.html
	grep -qF '<div class="value">3,452.50 USD</div><div class="sub">3,452.50 USD + 120,000 JPY</div>' d.html
	for t in '2026-03-01 LOW: 1' '2026-03-01 MEDIUM: 2' '2026-03-01 HIGH: 3' '2026-03-02 LOW: 1' \
		'2026-03-02 unscored: 1' '2026-03-03 HIGH: 1' '2026-03-10 unscored: 1' '2026-04-01 unscored: 1'; do
		grep -qF "<title>$t</title>" d.html || { echo "no bar $t"; false; }
	done
	[ "$(sed -n '/id="per-day"/,/<\/div>/p' d.html | grep -c '</title></rect>')" -eq 8 ]
	grep -qF '<p class="range" id="range-per-day" data-from="2026-03-01" data-to="2026-04-01">' d.html
	run sh -c "grep -o '<text[^>]*>[A-Z_]*</text>' d.html | grep -c -E '>(OPEN|IN_PROGRESS|CLOSED|FALSE_POSITIVE)<'"
	assert_output "4"
	# bars scaled to the largest, OPEN 3 (370 px); CLOSED 1: 370 / 3
	grep -qF 'width="370.0" height="30" fill="#2563eb"/>' d.html
	grep -qF 'width="123.3" height="30" fill="#dc2626"/>' d.html
	grep -qF 'width="0.0" height="30" fill="#7c3aed"/>' d.html
	# recent flagged, newest first: X10, X04, X03, X07, X02, X01
	run sh -c "sed -n '/<table id=\"recent\">/,/<\/table>/p' d.html | grep -o '<code>X[0-9]*</code>' | tr -d '</>cdoe' | tr '\n' ' '"
	assert_output "X10 X04 X03 X07 X02 X01 "
	grep -qF '<td><code>X10</code></td><td>A4</td><td class="num">120,000 JPY</td><td class="num">95.00 ' d.html
	grep -qF '<th>Decision</th>' d.html
	grep -qF '</span></td><td>BLOCK</td><td>3</td><td class="top-reason">amount 120000 JPY is 60× this sender&#39;s largest</td>' d.html
	run grep -Ec '(src|href)=|<script' d.html
	assert_output "0"
}

@test "dashboard: risk distribution on a log scale, its thresholds, models and rules in use" {
	fd-case -q dashboard --html d.html
	# every bin of 5 points against sqlite3's count over the latest scores
	for b in $(seq 0 19); do
		lo=$((b * 5)); hi=$((b == 19 ? 100 : b * 5 + 4)); frac=$([ "$b" -eq 19 ] || echo .99)
		n=$(q "SELECT count(*) FROM ($LATEST_SQL) WHERE risk >= $lo AND (risk < $lo + 5 OR $b = 19)")
		grep -qF "<title>risk $lo-$hi$frac: $n</title></rect>" d.html || { echo "bin $lo-$hi$frac: $n"; false; }
	done
	# log scale from 0.5 to 10 over 210 px: a bin of 2 (risk 85-89: X04 85, X07 88) is
	# log10(2/0.5) / log10(10/0.5) * 210 px high, one of 1 log10(2) / log10(20) * 210
	h2=$(python3 -c 'import math; print("%.1f" % (math.log10(4) / math.log10(20) * 210))')
	h1=$(python3 -c 'import math; print("%.1f" % (math.log10(2) / math.log10(20) * 210))')
	grep -qE "height=\"$h2\" fill=\"#dc2626\"><title>risk 85-89.99: 2</title>" d.html
	grep -qE "height=\"$h1\" fill=\"#dc2626\"><title>risk 90-94.99: 1</title>" d.html
	grep -qF '>1</text>' d.html && grep -qF '>10</text>' d.html
	grep -qF 'count on a log scale' d.html
	# thresholds: the lowest MEDIUM risk (X01 45) and the lowest HIGH one (X04 85) of model m1
	[ "$(q "SELECT min(risk) FROM ($LATEST_SQL) WHERE level IN ('MEDIUM', 'HIGH') AND model_version = 'm1'")" = 45 ]
	grep -qF 'class="threshold" data-level="MEDIUM" data-risk="45.00"' d.html
	grep -qF 'class="threshold" data-level="HIGH" data-risk="85.00"' d.html
	grep -qF '>MEDIUM from 45.00</text>' d.html
	grep -qF '>HIGH from 85.00</text>' d.html
	from=$(q "SELECT date(min(t.ts) / 1000, 'unixepoch') FROM ($LATEST_SQL) s JOIN transactions t USING (txn_id)")
	to=$(q "SELECT date(max(t.ts) / 1000, 'unixepoch') FROM ($LATEST_SQL) s JOIN transactions t USING (txn_id)")
	grep -qF "id=\"range-risk-dist\" data-from=\"$from\" data-to=\"$to\">" d.html
	# versions: m1 holds the 8 latest scores (m0's only score of X05 is superseded); rules abc
	grep -qF '<tr data-kind="model"><td>model</td><td><code>m1</code></td><td>8 latest scores</td><td>2026-03-04T00:00:00.000Z</td>' d.html
	run grep -c '<tr data-kind="model">' d.html
	assert_output 1
	grep -qF '">abc</code></td><td>1 fd-rules run</td><td>2026-03-04T00:00:00.000Z</td><td>file fixture.rules</td></tr>' d.html
	grep -qF '">abc</code></td><td>1 fd-score run</td>' d.html
	# every chart states its dates
	for id in per-day activity risk-dist cases-status contrib rules workload; do
		grep -qE "<p class=\"range\" id=\"range-$id\"( data-from=\"[0-9-]+\" data-to=\"[0-9-]+\")?>Dates: " d.html ||
			{ echo "no range for $id"; false; }
	done
}

@test "dashboard: alerts and cases opened and closed per day, as sqlite3 counts them" {
	fd-case -q status 3 IN_PROGRESS
	fd-case -q status 3 FALSE_POSITIVE
	fd-case -q dashboard --html d.html
	while IFS='|' read -r d n; do
		grep -qF "<title>$d alerts: $n</title>" d.html || { echo "alerts $d $n"; false; }
	done < <(q "SELECT date(scored_at / 1000, 'unixepoch'), count(*) FROM ($LATEST_SQL) WHERE level <> 'LOW' GROUP BY 1")
	while IFS='|' read -r d n; do
		grep -qF "<title>$d cases opened: $n</title>" d.html || { echo "opened $d $n"; false; }
	done < <(q "SELECT date(created_at / 1000, 'unixepoch'), count(*) FROM cases GROUP BY 1")
	while IFS='|' read -r d n; do
		grep -qF "<title>$d cases closed: $n</title>" d.html || { echo "closed $d $n"; false; }
	done < <(q "SELECT date(closed_at / 1000, 'unixepoch'), count(*) FROM cases WHERE closed_at IS NOT NULL GROUP BY 1")
	[ "$(q "SELECT count(*) FROM cases WHERE closed_at IS NOT NULL")" -eq 2 ]
	run sh -c "sed -n '/id=\"activity\"/,/<\/div>/p' d.html | grep -c '</title></rect>'"
	n=$(q "SELECT (SELECT count(DISTINCT date(scored_at / 1000, 'unixepoch')) FROM ($LATEST_SQL) WHERE level <> 'LOW')
		+ (SELECT count(DISTINCT date(created_at / 1000, 'unixepoch')) FROM cases)
		+ (SELECT count(DISTINCT date(closed_at / 1000, 'unixepoch')) FROM cases WHERE closed_at IS NOT NULL)")
	assert_output "$n"
	from=$(q "SELECT date(min(x) / 1000, 'unixepoch') FROM (SELECT scored_at AS x FROM scores WHERE level <> 'LOW' AND model_version = 'm1' UNION ALL SELECT created_at FROM cases)")
	grep -qF "id=\"range-activity\" data-from=\"$from\"" d.html
}

@test "dashboard: rule hit rates with precision from case outcomes; model against rules" {
	q "INSERT INTO rule_runs (id, ruleset, rules_file, transactions, hits, started_at, actor)
		VALUES (2, 'def', 'two.rules', 11, 2, 1772582400001, 'fixture');
	   INSERT INTO rule_hits (run_id, txn_id, rule_id, ruleset, points, action, reason, created_at) VALUES
		(2, 'X07', 'ip_shared', 'def', 20, 'review', 'IP shared', 1772582400001),
		(2, 'X10', 'ip_shared', 'def', 20, 'review', 'IP shared', 1772582400001),
		(2, 'X05', 'ip_shared', 'def', 20, 'review', 'IP shared', 1772582400001),
		(2, 'X10', 'sanctioned', 'def', 100, 'block', 'country', 1772582400001);"
	# outcomes: case 4 (X07) closed as fraud already; case 3 (X10) a false positive
	fd-case -q status 3 IN_PROGRESS
	fd-case -q status 3 FALSE_POSITIVE
	fd-case -q dashboard --html d.html
	total=$(q "SELECT count(*) FROM (SELECT txn_id FROM transactions UNION SELECT txn_id FROM scores UNION SELECT txn_id FROM rule_hits)")
	[ "$total" -eq 11 ]
	while IFS='|' read -r rule hits lab fr; do
		grep -qF "<tr data-rule=\"$rule\" data-hits=\"$hits\" data-labelled=\"$lab\" data-fraud=\"$fr\">" d.html ||
			{ echo "rule $rule $hits $lab $fr"; false; }
		rate=$(python3 -c "print('%.1f%%' % (100 * $hits / $total))")
		prec=$(python3 -c "print('%.1f%%' % (100 * $fr / $lab) if $lab else '&#8211;')")
		sed -n "/data-rule=\"$rule\"/p" d.html | grep -qF "<td class=\"num\">$rate</td>" || { echo "rate $rule $rate"; false; }
		sed -n "/data-rule=\"$rule\"/p" d.html | grep -qF "<td class=\"num\">$prec</td>" || { echo "precision $rule $prec"; false; }
	done < <(q "SELECT rule_id, count(DISTINCT h.txn_id), count(e.label), coalesce(sum(e.label), 0)
		FROM rule_hits h LEFT JOIN effective_labels e USING (txn_id) GROUP BY rule_id")
	# by hand: ip_shared hit X05 (no outcome), X07 (fraud), X10 (false positive): 3 hits, 50.0%
	grep -qF '<tr data-rule="ip_shared" data-hits="3" data-labelled="2" data-fraud="1">' d.html
	sed -n '/data-rule="ip_shared"/p' d.html | grep -qF '<td class="num">50.0%</td>'
	sed -n '/data-rule="sanctioned"/p' d.html | grep -qF '<td>block</td>'
	sed -n '/data-rule="velocity_5m"/p' d.html | grep -qF '<td class="num">&#8211;</td>'
	# model against rules over the flagged: only X03 has rule points (30, below its risk 92)
	while IFS='|' read -r lvl n m b r mp rp; do
		grep -qF "<tr data-level=\"$lvl\"><td>$lvl</td><td class=\"num\">$n</td><td class=\"num\">$m</td><td class=\"num\">$b</td><td class=\"num\">$r</td><td class=\"num\">$mp</td><td class=\"num\">$rp</td>" d.html ||
			{ echo "contrib $lvl"; false; }
	done < <(q "SELECT level, count(*), sum(rule_points = 0), sum(rule_points > 0 AND rule_points < risk),
		sum(rule_points > 0 AND rule_points >= risk), sum(risk - min(rule_points, risk)), sum(min(rule_points, risk))
		FROM ($LATEST_SQL) WHERE level <> 'LOW' GROUP BY level")
	grep -qF '<tr data-level="HIGH"><td>HIGH</td><td class="num">4</td><td class="num">3</td><td class="num">1</td><td class="num">0</td><td class="num">330</td><td class="num">30</td><td class="num">8.3%</td></tr>' d.html
}

@test "dashboard: the top reason is the score's deciding reason, not the first rule hit" {
	# X06: an amount rule hit recorded first, then the block rule; the score's reasons put
	# the block rule's sentence first, as fd-score orders them
	q "INSERT INTO rule_hits (run_id, txn_id, rule_id, ruleset, points, action, reason, created_at) VALUES
		(1, 'X06', 'amount_high', 'abc', 20, 'review', 'amount 20.00 over 10', 1772582400000),
		(1, 'X06', 'sanctioned', 'abc', 100, 'block', 'country on the sanctions list', 1772582400000);
	   INSERT INTO scores (run_id, txn_id, model_version, rule_points, rules, risk, level, decision, reasons, scored_at) VALUES
		(1, 'X06', 'm1', 120, '[\"amount_high\",\"sanctioned\"]', 100, 'HIGH', 'BLOCK',
		 '[\"rule sanctioned: country on the sanctions list\",\"rule amount_high: amount 20.00 over 10\"]', 1772582400000);"
	fd-case -q dashboard --html d.html
	first_hit=$(q "SELECT reason FROM rule_hits WHERE txn_id = 'X06' ORDER BY id LIMIT 1")
	deciding=$(q "SELECT json_extract(reasons, '\$[0]') FROM scores WHERE txn_id = 'X06'")
	[ "$first_hit" != "$deciding" ]
	run sh -c "grep -F '<code>X06</code>' d.html | grep -o '<td class=\"top-reason\">[^<]*</td>'"
	assert_output "<td class=\"top-reason\">$deciding</td>"
	# X06's 100 points of rules reach its risk: rules decided
	grep -qF '<tr data-level="HIGH"><td>HIGH</td><td class="num">5</td><td class="num">3</td><td class="num">1</td><td class="num">1</td>' d.html
}

@test "dashboard: case ageing and workload per investigator, against sqlite3 at a given time" {
	fd-case -q assign 1 alice
	fd-case -q assign 2 alice
	fd-case -q assign 3 bob
	fd-case -q status 2 IN_PROGRESS
	# now: 3 days after the last case was opened
	now_ms=$(q "SELECT max(created_at) + 3 * 86400000 FROM cases")
	now=$(date -u -d "@$((now_ms / 1000))" +%Y-%m-%dT%H:%M:%SZ)
	now_ms=$(( now_ms / 1000 * 1000 ))
	fd-case -q dashboard --html d.html --now "$now"
	while IFS='|' read -r who open prog closed a0 a1 a2 a3; do
		grep -qF "<tr data-assignee=\"$who\"><td>${who:-(unassigned)}</td><td class=\"num\">$open</td><td class=\"num\">$prog</td><td class=\"num\">$closed</td><td class=\"num\">$a0</td><td class=\"num\">$a1</td><td class=\"num\">$a2</td><td class=\"num\">$a3</td>" d.html ||
			{ echo "workload '$who' $open $prog $closed $a0 $a1 $a2 $a3"; false; }
	done < <(q "SELECT coalesce(assignee, ''), sum(status = 'OPEN'), sum(status = 'IN_PROGRESS'),
		sum(status IN ('CLOSED', 'FALSE_POSITIVE')),
		sum(status IN ('OPEN', 'IN_PROGRESS') AND $now_ms - created_at < 86400000),
		sum(status IN ('OPEN', 'IN_PROGRESS') AND $now_ms - created_at >= 86400000 AND $now_ms - created_at < 7 * 86400000),
		sum(status IN ('OPEN', 'IN_PROGRESS') AND $now_ms - created_at >= 7 * 86400000 AND $now_ms - created_at < 30 * 86400000),
		sum(status IN ('OPEN', 'IN_PROGRESS') AND $now_ms - created_at >= 30 * 86400000)
		FROM cases GROUP BY 1")
	# by hand: alice holds cases 1 (open) and 2 (in progress), both 1-7 days old
	grep -qF '<tr data-assignee="alice"><td>alice</td><td class="num">1</td><td class="num">1</td><td class="num">0</td><td class="num">0</td><td class="num">2</td>' d.html
	oldest=$(q "SELECT printf('%.1f', ($now_ms - min(created_at)) / 86400000.0) FROM cases WHERE assignee = 'alice'")
	sed -n '/data-assignee="alice"/p' d.html | grep -qF "<td class=\"num\">$oldest</td></tr>"
	grep -qF '<title>alice, open 1-7 days: 2</title>' d.html
}

@test "dashboard: the top rings that fd-graph put into cases are drawn, accounts and transfers" {
	fd-ingest -q "$TD/graph/typologies.csv"
	fd-graph -q rings --hub-min 6 --top 2 --case new >/dev/null
	id=$(q "SELECT max(id) FROM cases")
	fd-case -q dashboard --html d.html
	for k in 1 2; do
		na=$(q "SELECT count(*) FROM case_entities WHERE case_id = $id AND note LIKE 'fd-graph ring $k (%'")
		nt=$(q "SELECT count(*) FROM case_transactions WHERE case_id = $id AND reason LIKE 'fd-graph ring $k:%'")
		grep -qF "<div class=\"panel ring\" data-case=\"$id\" data-ring=\"$k\" data-accounts=\"$na\" data-transfers=\"$nt\">" d.html ||
			{ echo "ring $k: $na accounts, $nt transfers"; false; }
		# one node per account, with its role, and one arrow per sender and recipient pair
		ring=$(sed -n "/data-ring=\"$k\"/,/<\/svg>/p" d.html)
		while IFS='|' read -r key role; do
			grep -qF "<title>$key ($role)</title></circle>" <<<"$ring" || { echo "ring $k: no node $key ($role)"; false; }
		done < <(q "SELECT e.key, substr(ce.note, instr(ce.note, '): ') + 3) FROM case_entities ce
			JOIN entities e ON e.id = ce.entity_id WHERE ce.case_id = $id AND ce.note LIKE 'fd-graph ring $k (%'")
		np=$(q "SELECT count(*) FROM (SELECT DISTINCT t.sender_id, t.recipient_id FROM case_transactions ct
			JOIN transactions t USING (txn_id) WHERE ct.case_id = $id AND ct.reason LIKE 'fd-graph ring $k:%')")
		[ "$(grep -c '<path d="M' <<<"$ring")" -eq "$np" ] || { echo "ring $k: arrows, want $np"; false; }
	done
	# by hand (testdata/graph/typologies.csv): the stack S1, S2 -> M1, M2 -> D1, D2, 8 transfers
	grep -qF '<title>S1 to M1: 1 transfer, 400.00 USD</title></path>' d.html
	grep -qF 'data-ring="1" data-accounts="6" data-transfers="8">' d.html
}

@test "headless Chromium: the dashboard and a report load without a console message and show the numbers" {
	command -v chromium >/dev/null || { echo "chromium is not installed: run scripts/setup.sh (make setup)"; false; }
	fd-case -q dashboard --html d.html
	fd-case -q report 1 --format html -o r.html
	run chrome --dump-dom d.html
	assert_success
	dom=$output
	run grep -c ':CONSOLE' chrome.err
	assert_output "0"
	[[ $dom == *'id="card-transactions" data-value="11"><div class="label">Transactions</div><div class="value">11</div>'* ]]
	[[ $dom == *'id="card-flagged" data-value="6">'* ]]
	[[ $dom == *'id="card-open-cases" data-value="3">'* ]]
	[[ $dom == *'<div class="value">3,452.50 USD</div>'* ]]
	run chrome --screenshot="$BATS_TEST_TMPDIR/d.png" d.html
	assert_success
	# the window's size, and not blank
	run python3 "$FD_ROOT/tests/browser/png_check.py" d.png --min-width 1280 --min-height 2400
	assert_success
	[[ $output == "1280 2400 "* ]]
	run chrome --dump-dom r.html
	assert_success
	dom=$output
	run grep -c ':CONSOLE' chrome.err
	assert_output "0"
	[[ $dom == *'<td class="num">2,500.00 USD</td>'* ]]
	[[ $dom == *'<h1>Case 1: Card testing by A1</h1>'* ]]
	# the check can fail: a page with a script error (blocked by the page's policy) is caught
	sed 's|</body>|<script>undefined_function()</script></body>|' d.html > bad.html
	chrome --dump-dom bad.html >/dev/null
	run grep -c ':CONSOLE' chrome.err
	refute_output "0"
}
