#!/usr/bin/env bats
# The manual pages are true to behaviour: fd(7) names every table and view of the schema,
# fd-features(1) documents the catalog fd-features --list prints, and the EXAMPLES of the
# pages run as written: they are extracted from the pages themselves (as jq's
# tests/man.test does), never copied into the tests by hand.

load common

setup() {
	common_setup
	unset FD_STORE  # the examples name their store, or use the default ./fd.db
}

# The names on the tag lines (.TP) of one section of a page: .B name, or .BR a ", " b ...
# with continuation lines; roff escapes removed.
tagged_names() {
	awk -v sec="$2" '
	/^\.SH/ { in_sec = ($0 == ".SH " sec); tag = 0; next }
	!in_sec { next }
	$0 == ".TP" { tag = 1; next }
	tag {
		line = $0
		gsub(/\\-/, "-", line)
		more = (line ~ /\\$/)
		n = split(line, w, /[ ",\\]+/)
		for (i = 1; i <= n; i++)
			if (w[i] ~ /^[a-z][a-z0-9_]*$/) print w[i]
		tag = more
	}' "$1"
}

# The commands of a page's EXAMPLES, one a line, as "ok<US><US>command" or, when the page
# shows an error message (a line "fd-tool: ...") as the command's output,
# "fail<US>message<US>command" (US: the unit separator, \037): the lines after the '$ ' prompt, with continuation lines
# joined (a trailing backslash, or a quote still open: its line feeds kept as \036), roff
# escapes turned back into what the user types.  Other lines are the output the page shows.
examples() {
	awk '
	function unescape(s) {
		gsub(/\\-/, "-", s); gsub(/\\\(aq/, "\047", s); gsub(/\\\(en/, "-", s); gsub(/\\e/, "\\", s)
		return s
	}
	function open_quote(s,   t, nd, ns) {
		t = s; gsub(/\\"/, "", t)
		nd = gsub(/"/, "", t); ns = gsub(/\047/, "", t)
		return nd % 2 == 1 || (nd % 2 == 0 && ns % 2 == 1)
	}
	function flush() {
		if (have) print (fail != "" ? "fail" : "ok") "\037" fail "\037" cmd
		have = 0; fail = ""; out = 0
	}
	/^\.SH/ { flush(); ex = ($0 == ".SH EXAMPLES"); next }
	ex && /^\.EX/ { blk = 1; next }
	ex && /^\.EE/ { flush(); blk = 0; next }
	!ex || !blk { next }
	{
		line = unescape($0)
		if (cont == "bs") { sub(/^[ \t]+/, "", line); cmd = cmd " " line }
		else if (cont == "q") cmd = cmd "\036" line
		else if (line ~ /^\$ /) { flush(); cmd = substr(line, 3); have = 1 }
		else {
			if (have && !out && line ~ /^fd-[a-z]+: /) fail = line
			out = 1
			next
		}
		cont = ""
		if (cmd ~ /\\$/) { sub(/[ ]*\\$/, "", cmd); cont = "bs" }
		else if (open_quote(cmd)) cont = "q"
	}
	END { flush() }' "$1"
}

# Run every example of a page in order, in the current directory, each in bash with
# pipefail: it must succeed, or, when the page shows an error message, fail with it.
run_examples() {
	local page=$1 want msg cmd n=0
	while IFS=$'\037' read -r want msg cmd; do
		n=$((n + 1))
		cmd=${cmd//$'\036'/$'\n'}
		run bash -o pipefail -c "$cmd" </dev/null
		# a writer cut off by a reader that stops early ('| head -3') is not a failure
		[ "$status" -eq 141 ] && status=0
		if [ "$want" = ok ] && [ "$status" -ne 0 ]; then
			echo "${page##*/}: example $n failed (status $status): $cmd"
			echo "$output" | head -20
			return 1
		fi
		if [ "$want" = fail ] && { [ "$status" -eq 0 ] || [[ ${lines[0]} != "$msg"* ]]; }; then
			echo "${page##*/}: example $n should fail with: $msg"
			echo "status $status: $output" | head -20
			return 1
		fi
	done < <(examples "$page")
	[ "$n" -gt 0 ] || { echo "${page##*/}: no examples found"; return 1; }
}

@test "fd(7) names every table and view of a fresh store's schema" {
	fd-ingest -q --store fresh.db "$TD/ingest/good.csv"
	want=$(sqlite3 fresh.db "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY 1")
	got=$(tagged_names "$FD_ROOT/man/fd.7" "THE EVIDENCE STORE" | sort -u)
	assert_equal "$got" "$want"
}

@test "fd-features(1) documents the catalog that fd-features --list prints" {
	n=$(fd-features --list | wc -l)
	run grep -c "^The catalog has $n features;" "$FD_ROOT/man/fd-features.1"
	assert_output "1"
	got=$(tagged_names "$FD_ROOT/man/fd-features.1" FEATURES | sort -u)
	want=$(fd-features --list | cut -f1 | sort)
	assert_equal "$got" "$want"
}

@test "the example extractor joins continuation lines and undoes roff escapes" {
	cat > page.1 <<'EOF'
.SH DESCRIPTION
.EX
$ not-an-example
.EE
.SH EXAMPLES
Text.
.EX
$ fd-gen \-\-seed 7 \e
    \-\-rows 3 | awk \(aq{ print }\(aq
output line
$ true
.EE
.SH SEE ALSO
EOF
	run examples page.1
	assert_output "$(printf 'ok\037\037fd-gen --seed 7 --rows 3 | awk %s{ print }%s\nok\037\037true' "'" "'")"
	cat > page2.1 <<'EOF'
.SH EXAMPLES
.EX
$ sqlite3 fd.db "SELECT 1
    FROM t"
$ fd-rules --rules my.rules tx.csv
fd\-rules: my.rules:3:8: unknown feature \(aqx\(aq (did you mean
  \(aqy\(aq?)
.EE
EOF
	run examples page2.1
	assert_output "$(printf 'ok\037\037sqlite3 fd.db "SELECT 1\036    FROM t"\nfail\037fd-rules: my.rules:3:8: unknown feature %sx%s (did you mean\037fd-rules --rules my.rules tx.csv' "'" "'")"
}

@test "fd-ingest(1) EXAMPLES run as written" {
	cp -r "$TD" testdata
	cp "$TD/ingest/bank.map" bank.map
	cp "$TD/formats/bank-de.map" "$TD/formats/bank-de.csv" .
	cp "$TD/formats/utf16le.csv" export.csv
	zstd -q -c "$TD/ingest/bank.csv" > export.csv.zst
	fd-gen -q --rows 300 --days 1 --id-prefix Z | gzip > export.csv.gz
	run_examples "$FD_ROOT/man/fd-ingest.1"
	run sqlite3 fd.db "SELECT count(*) FROM sources WHERE superseded_by IS NOT NULL"
	assert_output "1"
	[ -s rejects-again.ndjson ] || [ "$(wc -c < rejects.ndjson)" -eq 0 ]
}

@test "fd-gen(1) EXAMPLES run as written, and rebuild the bundled sample" {
	mkdir testdata
	run_examples "$FD_ROOT/man/fd-gen.1"
	cmp testdata/sample.csv "$TD/sample.csv"
}

@test "fd(7) EXAMPLES run as written" {
	run_examples "$FD_ROOT/man/fd.7"
}

# ---- the other pages, each with the files its examples name ------------------------------

# tx.csv: the bundled sample; fd.db: the store with it ingested
sample_store() {
	cp "$TD/sample.csv" tx.csv
	fd-ingest -q tx.csv
}

@test "fd-audit(1) EXAMPLES run as written" {
	sample_store
	run_examples "$FD_ROOT/man/fd-audit.1"
}

@test "fd-features(1) EXAMPLES run as written" {
	sample_store
	python3 -c '
import csv, sys
w = csv.writer(sys.stdout, delimiter=";", lineterminator="\n")
for r in csv.reader(open("tx.csv")): w.writerow(r)' | zstd -q > export.csv.zst
	run_examples "$FD_ROOT/man/fd-features.1"
}

@test "fd-rules(1) EXAMPLES run as written" {
	sample_store
	cp "$FD_ROOT"/rules/* .
	cp default.rules strict.rules
	printf 'rule fast\n  description "many in 10 minutes"\n  when sender_txn_cnt_10m > 5\n  points 10\n' > my.rules
	run_examples "$FD_ROOT/man/fd-rules.1"
}

@test "fd-score(1) EXAMPLES run as written" {
	sample_store
	mkdir textfile
	export TEXTFILE_DIR=$PWD/textfile
	run_examples "$FD_ROOT/man/fd-score.1"
	[ -s textfile/fd_score.prom ]
}

@test "fd-train(1) EXAMPLES run as written" {
	sample_store
	run_examples "$FD_ROOT/man/fd-train.1"
}

@test "fd-case(1) EXAMPLES run as written" {
	fd-ingest -q "$TD/case/txns.csv"
	printf '%%PDF-1.4 a statement\n' > statement.pdf
	export FD_ACTOR=boss
	run_examples "$FD_ROOT/man/fd-case.1"
}

@test "fd-graph(1) EXAMPLES run as written" {
	fd-ingest -q "$TD/graph/rings.csv"
	run_examples "$FD_ROOT/man/fd-graph.1"
	[ -s a1.svg ]
}
