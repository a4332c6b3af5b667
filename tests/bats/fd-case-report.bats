#!/usr/bin/env bats
# fd-case report and dashboard: the Markdown and HTML case reports and the dashboard page,
# their numbers (worked out by hand from testdata/case/), escaping, self-containment, and a
# render in headless Chromium (Debian's chromium package; skipped when it is not installed)
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
	assert_line "| Amount at stake | 3452.50 USD in 4 transactions |"
	assert_line "| Highest risk | 92 |"
	assert_line "| Entities | 3 |"
	assert_line "## Timeline"
	assert_line --regexp '^\| 20[0-9T:.-]+Z \| tester \| link \| linked X04; account:A2 as VICTIM \|$'
	assert_line "| Transaction | Time (UTC) | Amount | From | To | Risk | Decision | Label | Why included |"
	assert_line "| X01 | 2026-03-01T10:00:00.000Z | 1.00 USD | A1 | M1 | 45 | REVIEW | - | test charge |"
	assert_line "| X03 | 2026-03-01T10:05:00.000Z | 950.00 USD | A1 | M2 | 92 | BLOCK | - |  |"
	assert_line "| X04 | 2026-03-01T11:30:00.000Z | 2500.00 USD | A1 | A2 | 85 | BLOCK | - | cash-out |"
	assert_line "## Amounts over time"
	assert_line "## Entity neighbourhood"
	assert_line "| account:A1 | SUSPECT | 4 |  |"
	assert_line "| account:A2 | VICTIM | 2 |  |"
	assert_line "### X03: risk 92, HIGH, BLOCK (model m1)"
	assert_line "- rule \`velocity_5m\` (+30 points): 3 transactions in 5 minutes, limit 2"
	assert_line "- amount 38.0× this sender's 30-day mean"
	sha=$(sha256sum ev.txt | cut -d' ' -f1)
	assert_line --regexp "^\| 1 \| ev.txt \| 9 \| \`$sha\` \| 20[0-9T:.-]+Z by tester \|$"
	[ "$(grep -c '<svg xmlns="http://www.w3.org/2000/svg"' <<<"$output")" -eq 2 ]
}

@test "report --format html: self-contained, escaped, the neighbourhood drawn from the store" {
	fd-case -q report 1 --format html -o r.html
	run grep -c '<svg ' r.html
	assert_output "2"
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

@test "dashboard: cards, per-day bars by level, risk distribution, cases by status, recent flagged" {
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
	# at stake: X01-X04 = 3452.50 USD (cases 1 and 2 share X03, X04: counted once), X10 120000 JPY
	grep -qF 'id="card-stake" data-value="3452.50" data-currency="USD">' d.html
	grep -qF '<div class="sub">3452.50 USD + 120000 JPY</div>' d.html
	for t in '2026-03-01 LOW: 1' '2026-03-01 MEDIUM: 2' '2026-03-01 HIGH: 3' '2026-03-02 LOW: 1' \
		'2026-03-02 unscored: 1' '2026-03-03 HIGH: 1' '2026-03-10 unscored: 1' '2026-04-01 unscored: 1'; do
		grep -qF "<title>$t</title>" d.html || { echo "no bar $t"; false; }
	done
	[ "$(grep -c '</title></rect>' d.html)" -eq $((8 + 10)) ]
	for t in 'risk 10-19: 1' 'risk 30-39: 1' 'risk 40-49: 1' 'risk 50-59: 1' 'risk 80-89: 2' 'risk 90-100: 2' 'risk 0-9: 0'; do
		grep -qF "<title>$t</title>" d.html || { echo "no bin $t"; false; }
	done
	run sh -c "grep -o '<text[^>]*>[A-Z_]*</text>' d.html | grep -c -E '>(OPEN|IN_PROGRESS|CLOSED|FALSE_POSITIVE)<'"
	assert_output "4"
	# bars scaled to the largest, OPEN 3 (370 px); CLOSED 1: 370 / 3
	grep -qF 'width="370.0" height="30" fill="#2563eb"/>' d.html
	grep -qF 'width="123.3" height="30" fill="#dc2626"/>' d.html
	grep -qF 'width="0.0" height="30" fill="#7c3aed"/>' d.html
	# recent flagged, newest first: X10, X04, X03, X07, X02, X01
	run sh -c "sed -n '/<table id=\"recent\">/,/<\/table>/p' d.html | grep -o '<code>X[0-9]*</code>' | tr -d '</>cdoe' | tr '\n' ' '"
	assert_output "X10 X04 X03 X07 X02 X01 "
	grep -qF '<td><code>X10</code></td><td>A4</td><td class="num">120000 JPY</td>' d.html
	run grep -Ec '(src|href)=|<script' d.html
	assert_output "0"
}

@test "headless Chromium: the dashboard and a report load without a console message and show the numbers" {
	command -v chromium >/dev/null || skip "chromium is not installed (apt-get install chromium)"
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
	[[ $dom == *'<div class="value">3452.50 USD</div>'* ]]
	run chrome --screenshot="$BATS_TEST_TMPDIR/d.png" d.html
	assert_success
	run python3 -c "import struct,sys; d=open(sys.argv[1],'rb').read(24); print(d[:8]==b'\x89PNG\r\n\x1a\n', struct.unpack('>II', d[16:24]))" d.png
	assert_output "True (1280, 2400)"
	run chrome --dump-dom r.html
	assert_success
	dom=$output
	run grep -c ':CONSOLE' chrome.err
	assert_output "0"
	[[ $dom == *'<td class="num">2500.00 USD</td>'* ]]
	[[ $dom == *'<h1>Case 1: Card testing by A1</h1>'* ]]
	# the check can fail: a page with a script error (blocked by the page's policy) is caught
	sed 's|</body>|<script>undefined_function()</script></body>|' d.html > bad.html
	chrome --dump-dom bad.html >/dev/null
	run grep -c ':CONSOLE' chrome.err
	refute_output "0"
}
