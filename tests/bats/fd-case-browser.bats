#!/usr/bin/env bats
# The dashboard and a case report rendered in headless Chromium (Debian's chromium package,
# installed by scripts/setup.sh; these tests fail, not skip, when it is missing): screenshots
# kept as artifacts (in the test's directory, and copied to $FD_SCREENSHOTS when set), as
# tall as the whole page and checked (tests/browser/png_check.py) to be neither blank nor too
# small for it; the DOM after rendering holds every chart; and every
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

shot() {  # shot FILE: a screenshot FILE.png as tall as the whole page, checked, kept
	local h
	h=$(page_height "$1")
	[ "$h" -ge 1000 ]
	chrome --screenshot="$BATS_TEST_TMPDIR/$1.png" "$1" "$h"
	# not blank, and big enough for every section of the page
	run python3 "$FD_ROOT/tests/browser/png_check.py" "$1.png" --min-width 1280 --min-height "$h"
	assert_success
	[[ $output == "1280 $h "* ]]
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

page_height() {  # page_height FILE: the rendered page's full height in pixels at 1280 wide
	layout "$1" | sed -n 's/.*data-height="\([0-9]*\)".*/\1/p'
}

@test "browser: the dashboard renders every chart, with no console message; screenshot" {
	fd-case -q dashboard --html dashboard.html
	shot dashboard.html
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

# A1's amounts before the case, for the report's usual amounts: 20 small card payments
# (1.00 to 97.00 USD) and one of 1,200.00
history() {
	{
		echo "txn_id,ts,amount,currency,sender_id,merchant_id"
		for i in $(seq 1 20); do
			printf 'H%d,2026-02-%02dT12:00:00Z,%d.00,USD,A1,M9\n' "$i" "$i" $((i * i * 96 / 400 + 1))
		done
		echo "H21,2026-02-21T12:00:00Z,1200.00,USD,A1,M9"
	} > history.csv
	fd-ingest -q history.csv
}

@test "browser: a case report renders, the suspect at the centre; screenshot" {
	history
	fd-case -q report 1 --format html -o report.html
	shot report.html
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
	# the usual amounts: 21 before the case in 1-2-5 bins beside the case's 4
	[ "$(grep -c '<rect class="before"' dom.html)" -ge 4 ]
	[ "$(grep -c '<rect class="flagged"' dom.html)" -eq 3 ]
	grep -qF '<td class="num">21</td>' dom.html
}

@test "browser: no text overlaps another in any chart of the dashboard or a report, none sticks out" {
	fd-case -q dashboard --html dashboard.html
	history
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
	# the check can fail: a timeline whose times may wrap is caught
	sed 's/td.ts{white-space:nowrap;/td.ts{/' report.html > wrap.html
	run layout wrap.html
	[[ $output == *'wrapped: 20'* ]] || { echo "$output"; false; }
	# two labels drawn on top of each other are caught
	sed 's|</svg>|<text x="10" y="20">overlapping</text><text x="12" y="21">overlapping</text></svg>|' report.html > bad.html
	run layout bad.html
	[[ $output == *'overlap '*'overlapping / overlapping'* ]]
}

# mkpng FILE W H STRIPES FILTERS: an RGB PNG of W x H pixels in STRIPES horizontal bands of equal
# height, each its own colour (1 band: all white), each row filtered with the next of the PNG
# filter types in FILTERS (e.g. 01234), written independently of png_check.py's decoder
mkpng() {
	python3 - "$@" <<'PY'
import struct, sys, zlib
path, w, h, nb, filters = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
colours = [(255, 255, 255)] if nb == 1 else [(25 * k, 255 - 20 * k, (97 * k) % 256) for k in range(nb)]
def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c
out, prev = bytearray(), bytes(3 * w)
for y in range(h):
    row = bytes(colours[min(y * nb // h, nb - 1)]) * w
    ft = int(filters[y % len(filters)])
    f = bytearray([ft])
    for i in range(3 * w):
        a = row[i - 3] if i >= 3 else 0
        b, c = prev[i], prev[i - 3] if i >= 3 else 0
        pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][ft]
        f.append((row[i] - pred) % 256)
    out += f
    prev = row
def chunk(kind, data):
    return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))
open(path, 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))
                       + chunk(b'IDAT', zlib.compress(bytes(out))) + chunk(b'IEND', b''))
PY
}

@test "png_check: a screenshot that is blank, too small or broken fails; every filter type decodes" {
	chk="$FD_ROOT/tests/browser/png_check.py"
	# 10 bands of 20 rows: each colour 10.0% of the pixels; rows filtered None, Sub, Up, Average, Paeth
	mkpng good.png 320 200 10 01234
	run python3 "$chk" good.png --min-width 320 --min-height 200
	assert_success
	assert_output "320 200 10 10.0"
	# a blank page: one colour everywhere
	mkpng blank.png 320 200 1 0
	run python3 "$chk" blank.png
	assert_failure
	assert_output - <<'OUT'
blank: one colour covers 100.0% of the pixels
blank: 1 distinct colour, at least 8 needed
OUT
	# too small for the page it should hold
	run python3 "$chk" good.png --min-width 1280 --min-height 2400
	assert_failure
	assert_output "too small: 320x200, at least 1280x2400 needed"
	# too few colours: 4 bands
	mkpng four.png 320 200 4 2
	run python3 "$chk" four.png
	assert_failure
	assert_output "blank: 4 distinct colours, at least 8 needed"
	run python3 "$chk" four.png --min-colours 4
	assert_success
	assert_output "320 200 4 25.0"
	# truncated image data, and not a PNG at all
	head -c 300 good.png > cut.png
	run python3 "$chk" cut.png
	assert_failure
	assert_output "bad image data"
	run python3 "$chk" "$FD_ROOT/tests/browser/overlap.js"
	assert_failure
	assert_output "not a PNG"
}
