#!/usr/bin/env bash
# Benchmarks of fd-graph (issue 6), called by scripts/bench.sh:
#   scripts/bench_graph.sh TX_1M.csv STORE_DIR
# TX_1M.csv: about a million generated transactions (fd-gen); STORE_DIR: where the stores go.
# Targets: building the graph and finding components for 1M transactions under 2 s; a 2-hop
# neighbourhood from a 10M-transaction store under 50 ms; cycles, fan and rings each under
# 10 s of CPU on 1M (issue 11), measured on 1M transfers of the AML simulator
# (scripts/amlsim_like.py, seed 1) with the planted rings found (BENCH_GRAPH_AML=0 skips it).
# The 10M part generates 10M rows and ingests them (minutes): only with BENCH_GRAPH_10M=1.
# Not a test: it prints figures (wall and CPU seconds, peak RSS; neighbourhoods as median and
# worst ms).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/bin:$PATH" LC_ALL=C TZ=UTC FD_ACTOR=${FD_ACTOR:-bench}
[ $# -eq 2 ] || { echo "usage: scripts/bench_graph.sh TX_1M.csv STORE_DIR" >&2; exit 2; }
csv=$1 dir=$2
[ -s "$csv" ] || { echo "bench_graph: no such file: $csv" >&2; exit 2; }
mkdir -p "$dir"
rows=$(($(wc -l < "$csv") - 1))

# run LABEL CMD...: wall seconds, CPU seconds (user + system) and peak RSS of one command
# (output discarded)
run() {
	local label=$1 t0 t1 rss cpu; shift
	t0=$(date +%s.%N)
	/usr/bin/time -f '%M %U %S' -o "$dir/graph.rss" "$@" > /dev/null || { echo "bench_graph: '$label' failed" >&2; exit 1; }
	t1=$(date +%s.%N)
	read -r rss u s < <(tail -n 1 "$dir/graph.rss")
	cpu=$(echo "$u + $s" | bc -l)
	printf '%-52s %8.2f s %6.2f s CPU %6d MiB peak RSS\n' "$label" "$(echo "$t1 - $t0" | bc -l)" "$cpu" $((rss / 1024))
}

# hops STORE LABEL ACCOUNTS...: a 2-hop neighbourhood of each account, twice (the first run
# reads the pages from disk, the second finds them in the page cache); median and worst ms
hops() {
	local db=$1 label=$2 a t0 t1 cold=() warm=() n=0 nodes=0; shift 2
	for a in "$@"; do
		t0=$(date +%s%N)
		fd-graph -q --store "$db" neighbors "account:$a" --depth 2 -o /dev/null
		t1=$(date +%s%N)
		cold+=($(( (t1 - t0) / 1000000 )))
		t0=$(date +%s%N)
		fd-graph -q --store "$db" neighbors "account:$a" --depth 2 --format json -o "$dir/graph.hop.json"
		t1=$(date +%s%N)
		warm+=($(( (t1 - t0) / 1000000 )))
		nodes=$((nodes + $(jq '.nodes | length' "$dir/graph.hop.json")))
		n=$((n + 1))
	done
	med() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
	top() { printf '%s\n' "$@" | sort -n | tail -n 1; }
	printf '%-52s %5d ms median, %5d ms worst (first read %d / %d ms); %d nodes on average\n' \
		"$label ($n accounts)" "$(med "${warm[@]}")" "$(top "${warm[@]}")" "$(med "${cold[@]}")" \
		"$(top "${cold[@]}")" $((nodes / n))
}

# accounts STORE: 20 customers with typical activity, the same every run
accounts() {
	sqlite3 "$1" "SELECT key FROM entities WHERE kind = 'account' AND key LIKE 'C%' ORDER BY id LIMIT 20 OFFSET 50"
}

echo "-- issue 6: fd-graph on $rows transactions ($csv)"
# a store of exactly this CSV (made again when the CSV changed)
fresh() {  # fresh STORE CSV
	[ -s "$1" ] && [ "$(sqlite3 "$1" 'SELECT group_concat(sha256) FROM sources')" = "$(sha256sum < "$2" | cut -d' ' -f1)" ]
}
db1="$dir/graph-1m.db"
if ! fresh "$db1" "$csv"; then
	rm -f "$db1" "$db1-wal" "$db1-shm"
	fd-ingest -q --store "$db1" "$csv"
fi
run "components (build the graph + union-find)" fd-graph -q --store "$db1" components
run "components, money joining too" fd-graph -q --store "$db1" components --edges shared,links,transfer
run "cycles (2-10 transfers in 70 days, ranked)" fd-graph -q --store "$db1" cycles
run "fan (fan-in and fan-out, 70 days, ranked)" fd-graph -q --store "$db1" fan
run "fan --kind all six typologies" fd-graph -q --store "$db1" fan \
	--kind fan-in,fan-out,gather-scatter,scatter-gather,bipartite,stack
run "rings (every typology, merged, ranked)" fd-graph -q --store "$db1" rings
run "stats (degree, clustering, PageRank)" fd-graph -q --store "$db1" stats
found=$(fd-graph -q --store "$db1" cycles | tail -n +2 | cut -d, -f1 | sort -u | wc -l)
mules=$(fd-graph -q --store "$db1" fan --kind gather-scatter | tail -n +2 | cut -d, -f1 | sort -u | wc -l)
echo "   found: $found cycles, $mules gather-scatter patterns"
# shellcheck disable=SC2046
hops "$db1" "neighbors --depth 2, 1M store" $(accounts "$db1")

if [ "${BENCH_GRAPH_AML:-1}" = 1 ]; then
	# 1M transfers of laundering-shaped money (scripts/amlsim_like.py), where the ranked
	# commands have the most to do
	aml="$dir/aml-1m.csv" dba="$dir/graph-aml-1m.db"
	[ -s "$aml" ] || scripts/amlsim_like.py --seed 1 --transfers 1000000 -o "$aml" --truth "$dir/aml-1m-truth.csv"
	if ! fresh "$dba" "$aml"; then
		rm -f "$dba" "$dba-wal" "$dba-shm"
		fd-ingest -q --store "$dba" "$aml"
	fi
	echo "-- issue 11: fd-graph on $(($(wc -l < "$aml") - 1)) simulated laundering transfers ($aml)"
	run "AML 1M: cycles" fd-graph -q --store "$dba" cycles
	run "AML 1M: fan" fd-graph -q --store "$dba" fan
	run "AML 1M: rings" fd-graph -q --store "$dba" rings
	fd-graph -q --store "$dba" cycles -o "$dir/aml-cycles.csv"
	fd-graph -q --store "$dba" fan -o "$dir/aml-fans.csv"
	fd-graph -q --store "$dba" rings -o "$dir/aml-rings.csv"
	scripts/eval_graph.py "$dir/aml-1m-truth.csv" "$dir/aml-cycles.csv" "$dir/aml-fans.csv" "$dir/aml-rings.csv" | sed 's/^/   /'
	rm -f "$dir/aml-cycles.csv" "$dir/aml-fans.csv" "$dir/aml-rings.csv"
else
	echo "   (BENCH_GRAPH_AML=0: no cycles, fan and rings on 1M simulated laundering transfers)"
fi

if [ "${BENCH_GRAPH_10M:-0}" = 1 ]; then
	f10="$dir/tx-10000000.csv" db10="$dir/graph-10m.db"
	[ -s "$f10" ] || fd-gen --seed 7 --rows 10000000 --customers 10000 -o "$f10"
	if ! fresh "$db10" "$f10"; then
		rm -f "$db10" "$db10-wal" "$db10-shm"
		t0=$(date +%s.%N)
		fd-ingest -q --store "$db10" "$f10"
		t1=$(date +%s.%N)
		printf '%-52s %8.2f s\n' "fd-ingest 10M rows (for the neighbourhood)" "$(echo "$t1 - $t0" | bc -l)"
	fi
	# shellcheck disable=SC2046
	hops "$db10" "neighbors --depth 2, 10M store" $(accounts "$db10")
else
	echo "   (BENCH_GRAPH_10M=1 adds the 2-hop neighbourhood on a 10M-transaction store)"
fi
rm -f "$dir/graph.rss" "$dir/graph.hop.json"
