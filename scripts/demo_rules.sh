#!/usr/bin/env bash
# demo_rules.sh STORE CSV [OUT]: the rules stage of `make demo` (scripts/demo.sh calls it with
# the demo store and the generated transactions): the default rules over the transactions,
# hits to OUT/hits.csv (default out/demo) and into the store's rule_hits, a re-run that adds
# nothing, a backtest on the labels, and a comparison with a variant of some rules.
set -euo pipefail
[ $# -ge 2 ] && [ $# -le 3 ] || { echo "usage: scripts/demo_rules.sh STORE CSV [OUT]" >&2; exit 2; }
store=$1 csv=$2 out=${3:-out/demo}
cd "$(dirname "$0")/.."
export PATH="$PWD/bin:$PATH" LC_ALL=C TZ=UTC
mkdir -p "$out"

step() { printf '\n== %s\n' "$*"; }

step "rules: rules/default.rules over the transactions; hits to $out/hits.csv and the store"
fd-rules --rules rules/default.rules --store "$store" "$csv" > "$out/hits.csv"
echo "$(( $(wc -l < "$out/hits.csv") - 1 )) hits, e.g.:"
head -n 6 "$out/hits.csv"
sqlite3 -header -column "$store" \
	"SELECT rule_id, action, count(*) AS hits, count(DISTINCT txn_id) AS transactions FROM rule_hits GROUP BY rule_id, action ORDER BY hits DESC"

step "the same again: every hit is already recorded, nothing is added"
fd-rules --rules rules/default.rules --store "$store" "$csv" > /dev/null

step "backtest of the default rules on the exported labels"
fd-rules backtest -q --rules rules/default.rules "$csv"

step "compare with a variant: velocity limit 3, amount spike at 5 times the mean"
cat > "$out/variant.rules" <<'RULES'
rule velocity_10m
  description "More than 3 transactions from the sender in 10 minutes"
  when sender_txn_count_10m > 3
  points 30
  action review
  reason "{sender_txn_count_10m} transactions in 10 minutes (limit 3)"

rule amount_spike
  description "Amount over 5 times the sender's 30-day average"
  when amount_to_mean_30d > 5
  points 25
  action review
  reason "amount {amount} {currency} is {amount_to_mean_30d:.1f} times the sender's 30-day average (limit 5)"
RULES
fd-rules backtest --rules rules/default.rules --compare "$out/variant.rules" --format csv "$csv" \
	> "$out/compare.csv" 2> "$out/compare.log"
grep 'compared with' "$out/compare.log"
echo "alerts that appear or disappear: $out/compare.csv, e.g.:"
head -n 4 "$out/compare.csv"
