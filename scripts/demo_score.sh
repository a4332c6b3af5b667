#!/usr/bin/env bash
# demo_score.sh STORE [OUT]: the training and scoring stage of `make demo` (scripts/demo.sh calls
# it with the demo store, which holds the generated transactions): a model trained on the
# store's first two months, evaluated with the default model on the last month side by side,
# then the last month scored into the store with automatic cases for HIGH risk, metrics, the
# level counts and a few reasons, and a re-run that adds nothing.  Files go to OUT (default
# out/demo).
set -euo pipefail
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: scripts/demo_score.sh STORE [OUT]" >&2; exit 2; }
store=$1 out=${2:-out/demo}
cd "$(dirname "$0")/.."
export PATH="$PWD/bin:$PATH" LC_ALL=C TZ=UTC FD_ACTOR=${FD_ACTOR:-demo}
mkdir -p "$out"
[ -f "$store" ] || { echo "demo_score: no store '$store' (run scripts/demo.sh first)" >&2; exit 4; }

step() { printf '\n== %s\n' "$*"; }
sql() { sqlite3 -batch "$store" "$@"; }

# the store's time span, split: all but the last 30 days train, the last 30 days are scored
last=$(sql "SELECT max(ts) FROM transactions")
split=$(( (last / 86400000 - 29) * 86400 ))
since=$(date -u -d "@$split" +%Y-%m-%d)

step "train: the autoencoder and the isolation forest on the transactions before $since (fraud left out)"
fd-train --store "$store" --until "$since" -o "$out/model.fdm" > /dev/null
fd-train --inspect "$out/model.fdm" | grep -E '^(version|autoencoder|isolation|  risk score|  rows)'

step "evaluate on $since onward: this model, then the default model (models/default.fdm)"
fd-score -q --model "$out/model.fdm" --eval --store "$store" --since "$since" | sed -n '1,8p'
echo
fd-score -q --eval --store "$store" --since "$since" | sed -n '3,8p'

step "score $since onward into the store, cases for HIGH risk, metrics to $out/score.prom"
fd-score --model "$out/model.fdm" --store "$store" --since "$since" --auto-case --metrics "$out/score.prom" \
	--format ndjson > "$out/scores.ndjson"
sql -header -column "SELECT level, decision, count(*) AS transactions, min(risk) AS min_risk, max(risk) AS max_risk
	FROM scores GROUP BY level, decision ORDER BY min(risk)"
echo
echo "a few HIGH-risk transactions and their reasons:"
jq -r 'select(.level == "HIGH") | "\(.txn_id)  risk \(.risk)  \(.decision)  confidence \(.confidence)\n    " + (.reasons | join("\n    "))' \
	"$out/scores.ndjson" | sed -n 1,16p
echo
grep -E '^fd_score_(transactions_total|rows_per_second)' "$out/score.prom"

step "the same again: every score is already recorded, every HIGH transaction already in its case"
fd-score --model "$out/model.fdm" --store "$store" --since "$since" --auto-case > /dev/null

step "from cron: exit 1 when anything reached HIGH"
fd-score -q --model "$out/model.fdm" --store "$store" --since "$since" --fail-on HIGH > /dev/null \
	|| echo "fd-score --fail-on HIGH: exit $?"
