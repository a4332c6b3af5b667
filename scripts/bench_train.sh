#!/usr/bin/env bash
# bench_train.sh CSV: fd-train on generated transactions (scripts/bench.sh calls it with its
# 1M-row file), next to scikit-learn's HistGradientBoostingClassifier on the same rows in the
# same run (issue 10: training 1M rows in at most 30 s).
#  - fd-train end to end with its defaults (features, boosted trees on a --gb-rows sample,
#    autoencoder on an --ae-rows sample, forest, stackers on every validation row): wall and
#    CPU seconds, peak RSS, and its own CPU line per phase;
#  - fd-train with --gb-rows 0 --ae-rows 0 --gb-eval-every 1 (every row, every round
#    measured: what it cost before the samples) when BENCH_TRAIN_FULL=1 (slow: minutes);
#  - the reference: fd-features' rows of the same file, read by numpy, and scikit-learn's
#    HistGradientBoostingClassifier (depth 4, learning rate 0.1, at most 400 rounds) fitted on
#    all the training part's labelled rows, one thread (OMP_NUM_THREADS=1, as fd-train).
# Debian's /usr/bin/python3 with python3-sklearn (scripts/setup.sh); skipped without it.
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C TZ=UTC FD_ACTOR=bench
[ $# -eq 1 ] || { echo "usage: scripts/bench_train.sh CSV" >&2; exit 2; }
csv=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
n=$(( $(wc -l < "$csv") - 1 ))

train() {  # train LABEL ARGS...: one timed run, its lines
	local label=$1 secs user sys rss; shift
	/usr/bin/time -f '%e %U %S %M' -o "$tmp/time" bin/fd-train --seed 1 -o "$tmp/m.fdm" "$@" "$csv" \
		> /dev/null 2> "$tmp/train.err" || { cat "$tmp/train.err" >&2; exit 1; }
	read -r secs user sys rss < <(tail -n 1 "$tmp/time")
	printf '%-48s %8.2f s wall, cpu %.2f s, %d MiB peak RSS (%d transactions; load %s)\n' "$label" "$secs" \
		"$(echo "$user + $sys" | bc -l)" $((rss / 1024)) "$n" "$(cut -d' ' -f1 /proc/loadavg)"
	sed -n 's/^fd-train: \(cpu .*\)/    \1/p; s/^fd-train: \(boosted trees on .*\)/    \1/p; s/^fd-train: \(autoencoder .*\)/    \1/p' \
		"$tmp/train.err"
}

echo "-- issue 10: fd-train, $n rows (target <= 30 s), next to scikit-learn's HistGradientBoostingClassifier"
train "fd-train (defaults)"
if [ "${BENCH_TRAIN_FULL:-0}" = 1 ]; then
	train "fd-train (every row, every round measured)" --gb-rows 0 --ae-rows 0 --gb-eval-every 1
fi
py=/usr/bin/python3
if "$py" -c 'import sklearn' 2> /dev/null; then
	/usr/bin/time -f '%e %U %S' -o "$tmp/time" bin/fd-features -q "$csv" > "$tmp/features.csv"
	read -r secs user sys < <(tail -n 1 "$tmp/time")
	printf '%-48s %8.2f s wall, cpu %.2f s (the reference reads these rows)\n' "fd-features (the same rows)" "$secs" \
		"$(echo "$user + $sys" | bc -l)"
	printf '%-48s ' "scikit-learn HistGradientBoosting, 1 thread"
	OMP_NUM_THREADS=1 "$py" scripts/bench_train.py "$tmp/features.csv"
else
	echo "scikit-learn: not installed for $py (scripts/setup.sh installs python3-sklearn): no reference"
fi
