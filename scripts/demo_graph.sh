#!/usr/bin/env bash
# The fd-graph part of make demo (called by scripts/demo.sh after ingest):
#   scripts/demo_graph.sh [STORE [OUTDIR]]
# STORE defaults to $FD_STORE, else out/demo/fd.db; OUTDIR to out/demo.
# Finds the candidate rings, the money cycles and the mule accounts of the demo data, and
# renders the top cycle to OUTDIR/ring.svg and the top ring of shared identifiers to
# OUTDIR/rings.svg with Graphviz.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/bin:$PATH" LC_ALL=C TZ=UTC
store=${1:-${FD_STORE:-out/demo/fd.db}}
out=${2:-out/demo}
mkdir -p "$out"
g() { fd-graph --store "$store" "$@"; }

printf '\n== %s\n' "fd-graph: accounts tied together by shared devices, IPs, phones (top 3 candidate rings)"
g components --top 3 -o "$out/rings.csv"
cut -d, -f1-10,14 "$out/rings.csv" | column -t -s,

printf '\n== %s\n' "fd-graph: money that went round in time order (top 3 cycles)"
g cycles --top 3 -o "$out/cycles.csv"
column -t -s, "$out/cycles.csv"

printf '\n== %s\n' "fd-graph: mule accounts, money in from many and out to many within 3 days (top 3)"
g -q fan --kind gather-scatter --top 3 --format json -o "$out/mules.json"
jq -r '.patterns[] | "\(.rank). \(.center): \(.senders) senders, \(.in_total) in; \(.recipients) recipients, \(.out_total) out; \(.start) .. \(.end)"' "$out/mules.json"

printf '\n== %s\n' "fd-graph: the top cycle and the top ring, drawn"
if command -v dot > /dev/null; then
	g -q cycles --top 1 --format dot -o "$out/ring.dot"
	dot -Tsvg -o "$out/ring.svg" "$out/ring.dot"
	g -q components --top 1 --format dot -o "$out/rings.dot"
	dot -Tsvg -o "$out/rings.svg" "$out/rings.dot"
	ls -l "$out/ring.svg" "$out/rings.svg"
else
	echo "Graphviz (dot) is not installed: the DOT files are $out/ring.dot and $out/rings.dot"
	g -q cycles --top 1 --format dot -o "$out/ring.dot"
	g -q components --top 1 --format dot -o "$out/rings.dot"
fi
