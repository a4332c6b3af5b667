#!/usr/bin/env bash
# bench_rules.sh CSV [BIG_CSV]: throughput and peak memory of fd-rules with the default rules
# on generated transactions (scripts/bench.sh calls it with its 1M-row file, and with its
# 5M-row file over the same customers for the memory check: peak RSS must not grow with rows).
# Prints one line per file, as bench.sh's run() does, plus the CPU time (user + sys): on a
# busy machine wall time overstates the cost, and the target (1M rows/s) is for one core.
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C TZ=UTC
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: scripts/bench_rules.sh CSV [BIG_CSV]" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

bench() {  # bench LABEL CSV
	local label=$1 csv=$2 n secs user sys rss
	n=$(( $(wc -l < "$csv") - 1 ))
	/usr/bin/time -f '%e %U %S %M' -o "$tmp/time" bin/fd-rules -q --rules rules/default.rules "$csv" > "$tmp/hits.csv" \
		|| { echo "bench_rules: fd-rules failed on $csv" >&2; exit 1; }
	read -r secs user sys rss < <(tail -n 1 "$tmp/time")
	printf '%-48s %8.2f s %11.0f rows/s %6d MiB peak RSS  (cpu %.2f s: %.0f rows/s; %d hits)\n' \
		"$label" "$secs" "$(echo "$n / $secs" | bc -l)" $((rss / 1024)) "$(echo "$user + $sys" | bc -l)" \
		"$(echo "$n / ($user + $sys)" | bc -l)" $(( $(wc -l < "$tmp/hits.csv") - 1 ))
}

bench "fd-rules (default rules)" "$1"
if [ $# -eq 2 ]; then
	bench "fd-rules (default rules, $(( $(wc -l < "$2") - 1 )) rows, same customers)" "$2"
fi
