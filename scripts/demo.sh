#!/usr/bin/env bash
# make demo: the main job on bundled, generated data — generate, ingest (with a file of
# malformed records to show the rejects), and each later stage of the pipeline.
# Everything lands in out/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/bin:$PATH" LC_ALL=C TZ=UTC
out=out/demo
rm -rf "$out"
mkdir -p "$out"
export FD_STORE="$out/fd.db" FD_ACTOR=${FD_ACTOR:-demo}

step() { printf '\n== %s\n' "$*"; }

step "generate 100,000 labelled transactions (seed 42)"
fd-gen --seed 42 --rows 100000 --customers 2000 -o "$out/transactions.csv"
ls -l "$out/transactions.csv"

step "ingest them, with a file of malformed records whose rejects are kept"
fd-ingest --rejects "$out/rejects.ndjson" "$out/transactions.csv" testdata/ingest/bad.csv
echo "rejected records: $(wc -l < "$out/rejects.ndjson") in $out/rejects.ndjson, e.g.:"
head -n 2 "$out/rejects.ndjson"

step "ingest the same file again: recognised by its SHA-256, nothing done"
fd-ingest "$out/transactions.csv"

step "chain of custody"
sqlite3 -header -column "$FD_STORE" \
	"SELECT id, path, substr(sha256, 1, 16) || '…' AS sha256, rows_accepted, rows_rejected, actor FROM sources"
