#!/usr/bin/env bats
# The dashboard and a case report rendered in headless Chromium (Debian's chromium package,
# installed by scripts/setup.sh; these tests fail, not skip, when it is missing): screenshots
# kept as artifacts (in the test's directory, and copied to $FD_SCREENSHOTS when set),
# checked as PNGs of the window's size; the DOM after rendering holds every chart; and every
# SVG text, measured with the browser's own fonts (tests/browser/overlap.js), overlaps no
# other text of its chart and stays inside it.

bats_require_minimum_version 1.5.0
load common

setup() {
	common_setup
	command -v chromium >/dev/null || { echo "chromium is not installed: run scripts/setup.sh (make setup)"; return 1; }
	C="$TD/case"
	fd-ingest -q "$C/txns.csv"
	q < "$C/scores.sql"
	fd-case -q create "Card testing by A1" --priority HIGH --txn X01 --txn X02 --txn X03 \
		--entity account:A1 --role SUSPECT --entity M1 >/dev/null
	fd-case -q link 1 --txn X04 --entity A2 --role VICTIM
	fd-case -q auto
	fd-case -q assign 1 alice
	fd-case -q status 4 IN_PROGRESS
	fd-case -q status 4 CLOSED
	fd-ingest -q "$TD/graph/typologies.csv"
	fd-graph -q rings --hub-min 6 --top 2 --case new >/dev/null
}

chrome() {  # chrome OUTPUT-OPTION FILE: headless render, no network; console messages to chrome.err
	chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
		--disable-sync --no-first-run --user-data-dir="$BATS_TEST_TMPDIR/profile" --enable-logging=stderr --v=0 \
		--window-size=1280,"$3" "$1" "file://$BATS_TEST_TMPDIR/$2" 2>chrome.err
}

shot() {  # shot FILE HEIGHT: screenshot FILE.png, checked, kept
	chrome --screenshot="$BATS_TEST_TMPDIR/$1.png" "$1" "$2"
	run python3 "$FD_ROOT/tests/browser/png_size.py" "$1.png"
	assert_success
	assert_output "1280 $2"
	[ "$(stat -c %s "$1.png")" -gt 20000 ]
	if [ -n "${FD_SCREENSHOTS:-}" ]; then
		mkdir -p "$FD_SCREENSHOTS" && cp "$1.png" "$FD_SCREENSHOTS/"
	fi
}

layout() {  # layout FILE: the overlap check on a copy of FILE without its script ban
	sed -e '/Content-Security-Policy/d' -e 's|</body>||' "$1" > "check-$1"
	{ printf '<script>\n'; cat "$FD_ROOT/tests/browser/overlap.js"; printf '</script>\n</body>\n'; } >> "check-$1"
	chrome --dump-dom "check-$1" 1600 > "check-$1.dom"
	grep -qF '<pre id="layout-check"' "check-$1.dom"
	sed -n '/<pre id="layout-check" data-/,/<\/pre>/p' "check-$1.dom"
}

@test "browser: the dashboard renders every chart, with no console message; screenshot" {
	fd-case -q dashboard --html dashboard.html
	shot dashboard.html 3600
	run grep -c ':CONSOLE' chrome.err
	assert_output "0"
	chrome --dump-dom dashboard.html 3600 > dom.html
	for id in per-day activity risk-dist cases-status contrib rules workload rings recent versions; do
		grep -qF "id=\"$id\"" dom.html || { echo "no $id after rendering"; false; }
	done
	# the numbers the reader sees, with thousands separators
	grep -qF '<div class="value">6</div>' dom.html
	grep -qF '120,000 JPY' dom.html
	grep -qF 'class="threshold" data-level="HIGH" data-risk="85.00"' dom.html
	[ "$(grep -c '<div class="panel ring"' dom.html)" -eq 2 ]
	[ "$(grep -c '<svg ' dom.html)" -ge 9 ]
}

@test "browser: a case report renders, the suspect at the centre; screenshot" {
	fd-case -q report 1 --format html -o report.html
	shot report.html 2800
	run grep -c ':CONSOLE' chrome.err
	assert_output "0"
	chrome --dump-dom report.html 2800 > dom.html
	for id in summary txns contrib baseline amounts neighbourhood handover; do
		grep -qF "id=\"$id\"" dom.html || { echo "no $id after rendering"; false; }
	done
	# the suspect A1 is the centre node (the SVG is 760 wide, its centre at x 380)
	grep -qF '<circle cx="380.0" cy="286.0" r="10" fill="#2563eb" stroke="#dc2626" stroke-width="4" class="centre"><title>account:A1 (SUSPECT)</title>' dom.html
	grep -qF '<th>Decision</th>' dom.html
	grep -qF '2,500.00 USD' dom.html
}

@test "browser: no text overlaps another in any chart of the dashboard or a report, none sticks out" {
	fd-case -q dashboard --html dashboard.html
	fd-case -q report 1 --format html -o report.html
	# a neighbourhood crowded with long names: 12 accounts sharing A1's device
	for i in $(seq 1 12); do
		echo "L$i,2026-03-01T1$((i % 10)):00:00Z,10.00,USD,account-with-a-long-name-$i,,M1,,card,DX,198.51.100.$i,US,Austin"
	done | { head -1 "$TD/case/txns.csv"; cat; } > crowd.csv
	fd-ingest -q crowd.csv
	fd-case -q report 1 --format html -o crowded.html
	for f in dashboard.html report.html crowded.html; do
		run layout "$f"
		assert_success
		[[ $output == *'data-problems="0"'* ]] || { echo "$f: $output"; false; }
		[[ $output == *'data-svgs="'[1-9]* ]]
	done
	# the check can fail: two labels drawn on top of each other are caught
	sed 's|</svg>|<text x="10" y="20">overlapping</text><text x="12" y="21">overlapping</text></svg>|' report.html > bad.html
	run layout bad.html
	[[ $output == *'overlap '*'overlapping / overlapping'* ]]
}
