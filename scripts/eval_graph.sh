#!/usr/bin/env bash
# The issue-11 metrics of fd-graph on the simulator (scripts/amlsim_like.py), for each seed:
#   scripts/eval_graph.sh [DIR [SEED...]]      (default DIR out/eval-graph, seeds 1 2 3)
# Per seed: 10,000 accounts, about 668,650 transfers over 100 days, 70 planted rings; prints
# the planted cycles in the top 20 cycles, the planted fan hubs in the top 50 fans, the rings
# in the top 100 rings, and the seconds each command took.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/bin:$PATH" LC_ALL=C TZ=UTC FD_ACTOR=${FD_ACTOR:-eval}
dir=${1:-out/eval-graph}
shift || true
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(1 2 3)
mkdir -p "$dir"
secs() { local t0 t1; t0=$(date +%s.%N); "$@"; t1=$(date +%s.%N); printf '%.1f' "$(echo "$t1 - $t0" | bc -l)"; }
for s in "${seeds[@]}"; do
	tx="$dir/tx-$s.csv" truth="$dir/truth-$s.csv" db="$dir/eval-$s.db"
	[ -s "$tx" ] && [ -s "$truth" ] || scripts/amlsim_like.py --seed "$s" -o "$tx" --truth "$truth"
	if [ ! -s "$db" ]; then
		fd-ingest -q --store "$db" "$tx"
	fi
	tc=$(secs fd-graph -q --store "$db" cycles -o "$dir/cycles-$s.csv")
	tf=$(secs fd-graph -q --store "$db" fan -o "$dir/fans-$s.csv")
	tr=$(secs fd-graph -q --store "$db" rings -o "$dir/rings-$s.csv")
	echo "-- seed $s (cycles ${tc} s, fan ${tf} s, rings ${tr} s)"
	scripts/eval_graph.py "$truth" "$dir/cycles-$s.csv" "$dir/fans-$s.csv" "$dir/rings-$s.csv"
done
