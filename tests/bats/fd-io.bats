#!/usr/bin/env bats
# Evidence safety shared by every tool: outputs never destroy what they name (the store, its
# -wal/-shm/-journal, an input, a device, a FIFO), temporary files do not outlive a signal,
# inputs that are not regular files, actors, bad-input messages.  Expected values come from
# sha256sum, stat and the fixtures in testdata/, never from the tools themselves.

load common

setup() {
	common_setup
	I="$TD/ingest"
	fd-gen --seed 3 --rows 40 -o g.csv
	fd-ingest -q g.csv
	fd-case -q create t >/dev/null
}

# sum FILE: the file's SHA-256, as sha256sum prints it
sum() { sha256sum "$1" | cut -d' ' -f1; }

@test "no output of any tool may be the store, its -wal, -shm or -journal: exit 2, store unchanged" {
	before=$(sum fd.db)
	for target in fd.db fd.db-wal fd.db-shm fd.db-journal "$PWD/./fd.db"; do
		for cmd in "fd-score -o $target g.csv" "fd-score --metrics $target g.csv" \
			"fd-ingest --rejects $target g.csv" "fd-features -o $target g.csv" \
			"fd-rules --metrics $target g.csv" "fd-graph components -o $target" \
			"fd-train -o $target g.csv" "fd-case report 1 -o $target" \
			"fd-case dashboard --html $target" "fd-audit export --out $target"; do
			run $cmd
			[ "$status" -eq 2 ] || { echo "$cmd: exit $status: $output"; false; }
			[[ $output == *"refusing to overwrite"*"${target##*/}"* ]] || { echo "$cmd: $output"; false; }
		done
	done
	assert_equal "$(sum fd.db)" "$before"
	run q "SELECT count(*) FROM scores"
	assert_output 0
	# nothing left behind: no temporary, no -wal made into a regular file of ours
	run bash -c 'ls -A | grep -c "^\."'
	assert_output 0
}

@test "a store named through a symbolic link or another spelling is still the store" {
	ln -s fd.db link.db
	before=$(sum fd.db)
	run fd-score --store fd.db -o link.db g.csv
	assert_failure 2
	assert_line "fd-score: refusing to overwrite the store 'link.db' (same file as 'fd.db')"
	run fd-score --store link.db -o "$PWD/fd.db-wal" g.csv
	assert_failure 2
	assert_output --partial "it belongs to the store 'link.db'"
	assert_equal "$(sum fd.db)" "$before"
	[ -L link.db ]
}

@test "the store named before it exists is refused too (by name)" {
	run fd-score --store new.db -o new.db g.csv
	assert_failure 2
	assert_line "fd-score: refusing to overwrite the store 'new.db'"
	# what is there is the (new, empty) store, not CSV
	assert_equal "$(head -c 15 new.db)" "SQLite format 3"
	run sqlite3 new.db "SELECT count(*) FROM scores"
	assert_output 0
}

@test "an output that is an input is refused, the 64th and 100th input too" {
	for i in $(seq 1 100); do cp g.csv "in$i.csv"; done
	before=$(sum in100.csv)
	inputs=$(for i in $(seq 1 100); do printf 'in%d.csv ' "$i"; done)
	for n in 1 63 64 65 100; do
		run fd-features -q -o "in$n.csv" $inputs
		assert_failure 2
		assert_output "fd-features: refusing to overwrite input file 'in$n.csv'"
	done
	run fd-score -q --metrics in64.csv $inputs
	assert_failure 2
	assert_output "fd-score: refusing to overwrite input file 'in64.csv'"
	run fd-score -q -o ./in100.csv $inputs
	assert_failure 2
	assert_output "fd-score: refusing to overwrite input file './in100.csv' (same file as 'in100.csv')"
	assert_equal "$(sum in100.csv)" "$before"
	assert_equal "$(sum in64.csv)" "$before"
	run q "SELECT count(*) FROM scores"
	assert_output 0
}

@test "model, rules and map files are inputs too" {
	cp "$FD_ROOT/models/default.fdm" m.fdm
	cp "$FD_ROOT/rules/default.rules" r.rules
	cp "$I/bank.map" b.map
	before=$(sum m.fdm)
	run fd-score -q --model m.fdm -o m.fdm g.csv
	assert_failure 2
	assert_output "fd-score: refusing to overwrite input file 'm.fdm'"
	run fd-rules -q --rules r.rules --metrics r.rules g.csv
	assert_failure 2
	run fd-ingest -q --map b.map --rejects b.map g.csv
	assert_failure 2
	assert_equal "$(sum m.fdm)" "$before"
	assert_equal "$(sum r.rules)" "$(sum "$FD_ROOT/rules/default.rules")"
	assert_equal "$(sum b.map)" "$(sum "$I/bank.map")"
}

@test "a FIFO output is written in place and its reader gets every byte" {
	fd-score -q -o expect.csv g.csv
	mkfifo pipe
	# a reader that gives up: if the FIFO were replaced it would wait for ever
	timeout 20 cat pipe > got.csv & reader=$!
	run fd-score -q -o pipe g.csv
	assert_success
	wait "$reader" || true
	[ -p pipe ]
	assert_equal "$(sum got.csv)" "$(sum expect.csv)"
	# fd-gen and fd-features through a FIFO too
	timeout 20 cat pipe > gen.csv & reader=$!
	fd-gen --seed 7 --rows 20 -o pipe
	wait "$reader" || true
	fd-gen --seed 7 --rows 20 -o gen2.csv
	assert_equal "$(sum gen.csv)" "$(sum gen2.csv)"
	[ -p pipe ]
}

@test "-o /dev/stdout and /dev/fd/N write to the descriptor" {
	fd-score -q -o expect.csv g.csv
	fd-score -q -o /dev/stdout g.csv > got.csv
	assert_equal "$(sum got.csv)" "$(sum expect.csv)"
	fd-score -q -o /dev/fd/5 g.csv 5> got5.csv
	assert_equal "$(sum got5.csv)" "$(sum expect.csv)"
	run bash -c 'fd-score -q -o /dev/stdout g.csv | sha256sum'
	assert_output "$(sum expect.csv)  -"
	# a descriptor open on the store is still the store
	before=$(sum fd.db)
	run bash -c 'fd-score -q -o /dev/fd/7 g.csv 7<>fd.db'
	assert_failure 2
	assert_output --partial "refusing to overwrite the store '/dev/fd/7'"
	assert_equal "$(sum fd.db)" "$before"
}

@test "a character device output is written in place, not replaced by a file" {
	[ "$(id -u)" -eq 0 ] || skip "mknod needs root"
	# our own copy of /dev/null (major 1, minor 3); the system's is never named
	mknod null c 1 3 || skip "cannot make device nodes here"
	fd-gen --rows 10 -o null
	[ -c null ]
	assert_equal "$(stat -c '%t,%T' null)" "1,3"
	fd-score -q -o null --metrics null g.csv
	[ -c null ]
	run bash -c 'ls -A | grep -c "^\.null"'
	assert_output 0
}

@test "a symbolic link to a regular file: the file is replaced, the link stays" {
	echo old > real.csv
	ln -s real.csv link.csv
	fd-score -q -o link.csv g.csv
	[ -L link.csv ]
	assert_equal "$(head -c 6 real.csv)" "txn_id"
}

# ---- temporary files and signals ---------------------------------------------------------

# wait_for GLOB: up to 10 s for a file matching GLOB to exist
wait_for() {
	local i
	for i in $(seq 100); do
		compgen -G "$1" >/dev/null && return 0
		sleep 0.1
	done
	return 1
}

@test "SIGTERM, SIGINT and SIGHUP leave no temporary output behind" {
	for sig in TERM INT HUP; do
		# the input never ends: the output's temporary exists until the signal.  Each signal
		# gets its own FIFO, and the feeder's sleep is the feeder (exec), so killing it closes
		# the write end: a tool killed before it read anything must not leave its input in a
		# pipe buffer that the next round's reader would then see twice.
		mkfifo "slow.$sig"
		( cat g.csv; exec sleep 30 ) > "slow.$sig" & feeder=$!
		# a background job has SIGINT ignored; start the tool with the default disposition
		python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])' fd-score -q -o out.csv "slow.$sig" & pid=$!
		wait_for '.out.csv.*'
		kill -s "$sig" "$pid"
		run wait "$pid"
		[ "$status" -gt 128 ] || { echo "SIG$sig: exit $status"; false; }
		kill "$feeder" 2>/dev/null || true
		wait "$feeder" 2>/dev/null || true
		[ ! -e out.csv ]
		run bash -c 'ls -A | grep "^\.out"'
		assert_output ""
	done
}

@test "the standard-input spool is never seen in TMPDIR, even while it is being written" {
	mkdir tmp
	mkfifo slow
	( cat g.csv; exec sleep 30 ) > slow & feeder=$!
	TMPDIR=$PWD/tmp fd-ingest -q --store s.db - < slow & pid=$!
	# the spool fills while the feeder sleeps: give it time, then look
	sleep 1
	run ls -A tmp
	assert_output ""
	kill -TERM "$pid"
	run wait "$pid"
	[ "$status" -gt 128 ]
	kill "$feeder" 2>/dev/null || true
	wait "$feeder" 2>/dev/null || true
	run ls -A tmp
	assert_output ""
}

# ---- inputs --------------------------------------------------------------------------------

@test "a FIFO or <(...) input is read once, hashed and ingested like a file" {
	sha=$(sum g.csv)
	run bash -c 'fd-ingest --store p.db <(cat g.csv)'
	assert_success
	assert_output --regexp "^fd-ingest: /dev/fd/[0-9]+: 40 accepted, 0 rejected; source 1, sha256 $sha, $(stat -c %s g.csv) bytes$"
	mkfifo f
	cat g.csv > f &
	run fd-ingest --store q.db f
	assert_success
	assert_output "fd-ingest: f: 40 accepted, 0 rejected; source 1, sha256 $sha, $(stat -c %s g.csv) bytes"
	run sqlite3 q.db "SELECT sha256, size FROM sources"
	assert_output "$sha|$(stat -c %s g.csv)"
	# the same bytes through a pipe are recognised as already ingested
	cat g.csv > f &
	run fd-ingest -q --store q.db f
	assert_success
	run sqlite3 q.db "SELECT count(*) FROM sources"
	assert_output 1
}

@test "a truncated zstd input is bad input (exit 3), from a file or standard input" {
	fd-gen --seed 5 --rows 3000 -o big.csv
	zstd -q big.csv -o big.csv.zst
	head -c $(($(stat -c %s big.csv.zst) - 1)) big.csv.zst > cut.zst
	run fd-ingest --store z.db cut.zst
	assert_failure 3
	assert_output "fd-ingest: cut.zst: truncated zstd stream (the input ends inside a frame)"
	run fd-ingest --store z.db - < cut.zst
	assert_failure 3
	assert_output "fd-ingest: <stdin>: truncated zstd stream (the input ends inside a frame)"
	run sqlite3 z.db "SELECT count(*) FROM transactions"
	assert_output 0
	run fd-features -q cut.zst
	assert_failure 3
}

@test "binary inputs are named by their magic, not echoed as a header" {
	gzip -c g.csv > g.gz
	run fd-ingest g.gz
	assert_failure 3
	assert_output "fd-ingest: g.gz: this is gzip data, not CSV or NDJSON"
	run fd-ingest --format csv g.gz
	assert_output "fd-ingest: g.gz: this is gzip data, not CSV"
	cp fd.db copy.db
	run fd-score copy.db
	assert_failure 3
	assert_line "fd-score: copy.db: this is SQLite database data, not CSV or NDJSON"
	cp "$(command -v fd-gen)" prog
	run fd-features prog
	assert_failure 3
	assert_output "fd-features: prog: this is ELF executable data, not CSV or NDJSON"
	python3 -c 'import zipfile; zipfile.ZipFile("book.xlsx", "w").writestr("xl/workbook.xml", "<workbook/>")'
	run fd-ingest book.xlsx
	assert_output "fd-ingest: book.xlsx: this is ZIP (xlsx, docx, ods or zip) data, not CSV or NDJSON"
	printf '%%PDF-1.4\n%%\xe2\xe3\xcf\xd3\n' > r.pdf
	run fd-rules r.pdf
	assert_failure 3
	assert_output "fd-rules: r.pdf: this is PDF data, not CSV or NDJSON"
	# compressed binary is seen through the zstd layer
	zstd -q -c g.gz > g.gz.zst
	run fd-ingest g.gz.zst
	assert_output "fd-ingest: g.gz.zst: this is gzip data, not CSV or NDJSON"
}

@test "header errors show control bytes and terminal escapes made visible" {
	printf 'id\033[2J\033[31m,when\001\n1,2\n' > esc.csv
	run fd-ingest esc.csv
	assert_failure 3
	assert_output "fd-ingest: esc.csv:1: no column 'txn_id' for the required field txn_id (columns: id\\x1b[2J\\x1b[31m, when\\x01); map one with --map"
	[[ $output != *$'\033'* ]]
}

@test "ids that are only spaces are rejected, other values are kept verbatim" {
	cat > blank.csv <<'CSV'
txn_id,ts,amount,sender_id,recipient_id,device_id
B1,2026-01-01T00:00:00Z,1.00, ,,
B2,2026-01-01T00:00:01Z,1.00,C1,  ,
   ,2026-01-01T00:00:02Z,1.00,C1,,
B4,2026-01-01T00:00:03Z,1.00,C1,, 
B5,2026-01-01T00:00:04Z,1.00, C1 ,,
CSV
	run fd-ingest --store b.db --max-rejects 100% blank.csv
	assert_success
	assert_line "fd-ingest: blank.csv:2: field 'sender_id': blank id ' ' (rejected)"
	assert_line "fd-ingest: blank.csv:3: field 'recipient_id': blank id '  ' (rejected)"
	assert_line "fd-ingest: blank.csv:4: field 'txn_id': blank id '   ' (rejected)"
	assert_line "fd-ingest: blank.csv:5: field 'device_id': blank id ' ' (rejected)"
	run sqlite3 b.db "SELECT '<' || sender_id || '>' FROM transactions"
	assert_output "< C1 >"
}

# ---- actors --------------------------------------------------------------------------------

@test "an actor with a newline or control character, empty or blank is refused (exit 2)" {
	before=$(sum fd.db)
	run fd-case --actor $'eve\nfd-audit: chain intact' create t
	assert_failure 2
	assert_line --index 0 "fd-case: --actor must not hold control characters: 'eve\\nfd-audit: chain intact'"
	run env FD_ACTOR=$'mallory\033[2K' fd-ingest g.csv
	assert_failure 2
	assert_line --index 0 "fd-ingest: FD_ACTOR must not hold control characters: 'mallory\\x1b[2K'"
	run env FD_ACTOR= fd-case create t
	assert_failure 2
	assert_line --index 0 "fd-case: FD_ACTOR needs a name of 1 to 200 bytes, not only blanks: ''"
	run fd-case --actor '   ' create t
	assert_failure 2
	run fd-case --actor "$(printf 'a%.0s' $(seq 201))" create t
	assert_failure 2
	assert_equal "$(sum fd.db)" "$before"
	# an ordinary name with a space is fine
	run fd-case -q --actor 'Jane Doe' create t
	assert_success
}

# ---- what the outputs carry ----------------------------------------------------------------

@test "CSV text that a spreadsheet would run stays verbatim, and --excel-safe quotes it" {
	cat > f.csv <<'CSV'
txn_id,ts,amount,sender_id,recipient_id
"=HYPERLINK(""http://evil.example/"",""x"")",2026-01-01T00:00:00Z,-5.00,@SUM(A1),+1
-T2,2026-01-01T00:00:01Z,2.00,C1,C2
CSV
	fd-ingest -q --store x.db f.csv
	fd-features -q --store x.db --since 2025-01-01T00:00:00Z --features hour -o plain.csv
	fd-features -q --store x.db --since 2025-01-01T00:00:00Z --features hour --excel-safe -o safe.csv
	# read back with Python's csv module: the first column of each data row
	run python3 -c 'import csv, sys; [print(r[0]) for r in list(csv.reader(open(sys.argv[1])))[1:]]' plain.csv
	assert_output - <<'OUT'
=HYPERLINK("http://evil.example/","x")
-T2
OUT
	run python3 -c 'import csv, sys; [print(r[0]) for r in list(csv.reader(open(sys.argv[1])))[1:]]' safe.csv
	assert_output - <<'OUT'
'=HYPERLINK("http://evil.example/","x")
'-T2
OUT
	# fd-score: ids quoted, numbers (the negative amount's risk etc.) untouched
	fd-score -q --store x.db --since 2025-01-01T00:00:00Z --excel-safe > s.csv
	run python3 -c 'import csv, sys; [print(r[0], r[2]) for r in list(csv.reader(open(sys.argv[1])))[1:]]' s.csv
	assert_line --index 0 --regexp "^'=HYPERLINK\(\"http://evil.example/\",\"x\"\) [0-9]+\.[0-9]{2}$"
	# fd-graph's CSV too: the node table's key column
	fd-graph -q --store x.db stats > g.csv
	fd-graph -q --store x.db stats --excel-safe > gs.csv
	run python3 -c 'import csv, sys; print(sorted(r[2] for r in list(csv.reader(open(sys.argv[1])))[1:]))' g.csv
	assert_output "['+1', '@SUM(A1)', 'C1', 'C2']"
	run python3 -c 'import csv, sys; print(sorted(r[2] for r in list(csv.reader(open(sys.argv[1])))[1:]))' gs.csv
	assert_output "[\"'+1\", \"'@SUM(A1)\", 'C1', 'C2']"
	# NDJSON is never changed
	fd-features -q --store x.db --since 2025-01-01T00:00:00Z --features hour --format ndjson --excel-safe > s.ndjson
	run jq -r .txn_id s.ndjson
	assert_line --index 0 '=HYPERLINK("http://evil.example/","x")'
}

@test "Markdown reports do not pass links from the data through" {
	cat > l.csv <<'CSV'
txn_id,ts,amount,sender_id
[t](javascript:alert(1)),2026-01-01T00:00:00Z,1.00,[s](vbscript:x)
CSV
	fd-ingest -q --store l.db l.csv
	fd-case -q --store l.db create '[x](javascript:alert(1))' --txn '[t](javascript:alert(1))' \
		--description '![i](data:text/html,z) \[a](javascript:b)' >/dev/null
	fd-case -q --store l.db note 1 '[n](javascript:n)'
	fd-case -q --store l.db report 1 -o r.md
	assert_equal "$(head -1 r.md)" '# Case 1: \[x\](javascript:alert(1))'
	run grep -F '| Description | !\[i\](data:text/html,z) \\\[a\](javascript:b) |' r.md
	assert_success
	run grep -F '| \[n\](javascript:n) |' r.md
	assert_success
	# outside the SVG (an HTML block, where Markdown makes no links), no bracket is left bare
	run bash -c "sed '/^<svg/,/^<\/svg>/d' r.md | grep -E '(^|[^\\\\])\\]\\((javascript|vbscript|data):'"
	assert_failure
}

@test "numbers written in place in the output buffer: records across its 256 KiB flushes are whole" {
	fd-gen -q --seed 11 --rows 6000 --customers 300 --days 5 -o big.csv
	fd-features -q big.csv > f.csv
	[ "$(stat -c %s f.csv)" -gt $((4 * 262144)) ]
	fd-features -q -o f2.csv big.csv
	cmp f.csv f2.csv
	python3 - <<'PY'
import csv, re
# positional from 1e-5 to 1e15 without trailing zeros, else %g's exponent form
num = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?$|^-?[1-9](\.[0-9]*[1-9])?e[-+][0-9]{2,3}$")
rows = list(csv.reader(open("f.csv")))
src = {r["txn_id"]: r for r in csv.DictReader(open("big.csv"))}
h = rows[0]
assert len(rows) == 6001, len(rows)
a = h.index("amount")
for r in rows[1:]:
    assert len(r) == len(h), r[0]
    for v in r[3:]:
        assert v == "" or num.match(v), (r[0], v)
    # the amount goes out through the same formatting: equal to the input's decimal
    assert float(r[a]) == float(src[r[0]]["amount"]), (r[0], r[a])
PY
	fd-features -q --format ndjson big.csv | jq -e -s 'length == 6000 and all(.[]; (keys | length) == 89)'
}
