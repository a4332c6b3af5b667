#!/usr/bin/env bash
# make demo: the main job on bundled, generated data — generate, ingest (with a file of
# malformed records to show the rejects), and each later stage of the pipeline.
# Everything lands in out/demo/ (emptied first), or in FD_DEMO_OUT, a directory that must not
# exist yet or be empty (it is never emptied: nothing of yours is removed).  FD_DEMO_ROWS sets the
# number of generated transactions (default 100000; tests/bats/demo.bats runs a small demo).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/bin:$PATH" LC_ALL=C TZ=UTC
rows=${FD_DEMO_ROWS:-100000}
case $rows in '' | *[!0-9]*) echo "demo: FD_DEMO_ROWS '$rows' is not a number of rows" >&2; exit 2 ;; esac
if [ -n "${FD_DEMO_OUT:-}" ]; then
	out=$FD_DEMO_OUT
	if [ -e "$out" ] && { [ ! -d "$out" ] || [ -n "$(ls -A "$out")" ]; }; then
		echo "demo: FD_DEMO_OUT '$out' exists and is not an empty directory (nothing was changed)" >&2
		exit 2
	fi
else
	out=out/demo
	rm -rf "$out"
fi
mkdir -p "$out"
export FD_STORE="$out/fd.db" FD_ACTOR=${FD_ACTOR:-demo}

step() { printf '\n== %s\n' "$*"; }

step "generate $(echo "$rows" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta') labelled transactions (seed 42)"
fd-gen --seed 42 --rows "$rows" --customers 2000 -o "$out/transactions.csv"
ls -l "$out/transactions.csv"

step "ingest them, with a file of malformed records whose rejects are kept"
# bad.csv is almost all bad records: a real export like it fails the default limit (5% rejects,
# exit 3, nothing written); --max-rejects 100% loads its good records and keeps every reject.
fd-ingest "$out/transactions.csv"
fd-ingest --max-rejects 100% --rejects "$out/rejects.ndjson" testdata/ingest/bad.csv
echo "rejected records: $(wc -l < "$out/rejects.ndjson") in $out/rejects.ndjson, e.g.:"
head -n 2 "$out/rejects.ndjson"

step "ingest the same file again: recognised by its SHA-256, nothing done"
fd-ingest "$out/transactions.csv"

step "chain of custody"
sqlite3 -header -column "$FD_STORE" \
	"SELECT id, path, substr(sha256, 1, 16) || '…' AS sha256, rows_accepted, rows_rejected, actor FROM sources"

step "point-in-time features of every transaction (first rows, a few columns)"
fd-ingest -q --emit "$out/transactions.csv" | fd-features --format csv -o "$out/features.csv"
# a few columns, picked by name
head -n 4 "$out/features.csv" | awk -F, -v want=txn_id,label,local_hour,sender_txn_count_1h,amount_to_mean_30d,new_device '
	NR == 1 { n = split(want, w, ","); for (i = 1; i <= NF; i++) col[$i] = i }
	{ line = ""; for (j = 1; j <= n; j++) line = line (j > 1 ? "," : "") $(col[w[j]]); print line }' | column -t -s,
echo "... $(($(wc -l < "$out/features.csv") - 1)) rows, $(head -n 1 "$out/features.csv" | tr ',' '\n' | wc -l) columns in $out/features.csv"

scripts/demo_rules.sh "$FD_STORE" "$out/transactions.csv" "$out"
scripts/demo_graph.sh "$FD_STORE" "$out"
scripts/demo_score.sh "$FD_STORE" "$out"
scripts/demo_case.sh "$FD_STORE" "$out"

step "seal the audit log, export an evidence bundle, verify both"
fd-audit log --action 'ingest.*'
fd-audit keygen -o "$out/demo.key"
fd-audit seal --key "$out/demo.key" > "$out/seal.txt"
fd-audit export -o "$out/evidence.fdb"
fd-audit verify --key "$out/demo.key.pub" --seal "$(cat "$out/seal.txt")"
fd-audit verify --bundle "$out/evidence.fdb" --key "$out/demo.key.pub"

step "done"
echo "store:     $FD_STORE"
echo "scores:    $out/scores.ndjson"
echo "dashboard: $out/dashboard.html"
echo "rings:     $out/ring.svg, $out/rings.svg"
echo "evidence:  $out/evidence.fdb (seal: $(cat "$out/seal.txt"))"
