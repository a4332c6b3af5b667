#!/usr/bin/env bash
# bench_io.sh CSV: issue 14's end-to-end figures, CSV in and CSV out, one process on one core:
# fd-features (whole catalog), fd-rules (default rules), fd-score (bundled model), the same
# eleven per-sender window features in fd-features and in pandas (scripts/bench_io.py, Debian's
# /usr/bin/python3 with python3-pandas; skipped without it), and fd-features in 4 shards by
# sender (--shard I/4, one after the other: the CPU of each shard is what a core would spend);
# fd-features with one feature (hour) shows what reading and checking the CSV costs.
# Best of BENCH_REPEAT (default 3) by CPU seconds (user + sys), which a busy machine inflates
# less than wall time; the load is printed with the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C TZ=UTC FD_ACTOR=bench
[ $# -eq 1 ] || { echo "usage: scripts/bench_io.sh CSV" >&2; exit 2; }
csv=$1
repeat=${BENCH_REPEAT:-3}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
n=$(( $(wc -l < "$csv") - 1 ))

# best LABEL CMD...: run repeat times, output to a file; print the best CPU and its wall time
best() {
	local label=$1 i u s e bc=999999 bw=0
	shift
	for ((i = 0; i < repeat; i++)); do
		/usr/bin/time -f '%e %U %S' -o "$tmp/time" "$@" > "$tmp/out" \
			|| { echo "bench_io: '$*' failed" >&2; exit 1; }
		read -r e u s < <(tail -n 1 "$tmp/time")
		if (($(echo "$u + $s < $bc" | bc -l))); then bc=$(echo "$u + $s" | bc -l) bw=$e; fi
	done
	printf '%-50s cpu %6.2f s %10.0f rows/s  (wall %.2f s)\n' "$label" "$bc" "$(echo "$n / $bc" | bc -l)" "$bw"
	cpu=$bc
}

echo "load $(cut -d' ' -f1-3 /proc/loadavg); $n rows; best of $repeat by CPU"
best "fd-features (whole catalog, CSV out)" bin/fd-features -q "$csv"
# the reader's share: every field read and checked, one feature computed, four columns out
best "fd-features --features hour (mostly reading)" bin/fd-features -q --features hour "$csv"
best "fd-rules (default rules)" bin/fd-rules -q --rules rules/default.rules "$csv"
best "fd-score (bundled model and rules)" bin/fd-score -q "$csv"
py=/usr/bin/python3
if "$py" -c 'import pandas' 2> /dev/null; then
	feats=$("$py" scripts/bench_io.py --fd-features)
	best "fd-features (11 sender-window features)" bin/fd-features -q --features "$feats" "$csv"
	fd=$cpu
	best "pandas $("$py" -c 'import pandas; print(pandas.__version__)') (the same 11 features)" \
		"$py" scripts/bench_io.py "$csv" "$tmp/pandas.csv"
	printf '%-50s %.1fx\n' "pandas / fd-features, CPU" "$(echo "$cpu / $fd" | bc -l)"
else
	echo "pandas: not installed for $py (scripts/setup.sh installs python3-pandas): no reference"
fi
total=0
for i in 0 1 2 3; do
	best "fd-features --shard $i/4" bin/fd-features -q --shard $i/4 "$csv"
	total=$(echo "$total + $cpu" | bc -l)
done
printf '%-50s cpu %6.2f s in all; the slowest shard bounds the wall time on 4 cores\n' \
	"fd-features, 4 shards" "$total"
