#!/usr/bin/env bash
# make models: the default model, models/default.fdm, and its model card, models/README.md.
#
# Four months of labelled transactions from the generator (fixed seed) are ingested into a
# scratch store; fd-train learns from the first three (the unsupervised layers without the
# labelled fraud, the boosted trees and the stackers from the labels; fixed seed, the file's
# time fixed by SOURCE_DATE_EPOCH, so the file is byte-identical on the same build and CPU
# type); fd-score evaluates the model on the fourth, a month it never saw, with the feature
# state warmed from the three before, and the card records those figures.
# MODELS_ROWS, MODELS_CUSTOMERS and MODELS_SEED change the data (and so the model).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/bin:$PATH" LC_ALL=C TZ=UTC FD_ACTOR=models
rows=${MODELS_ROWS:-400000}
customers=${MODELS_CUSTOMERS:-4000}
seed=${MODELS_SEED:-42}
train_seed=1
start=2026-01-01
split=2026-04-01      # months 1-3 train, month 4 is held out
end=2026-05-01
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p models

echo "models: generating $rows transactions of $customers customers, $start to $end (seed $seed)"
fd-gen -q --seed "$seed" --rows "$rows" --customers "$customers" --start "$start" --days 120 -o "$tmp/tx.csv"
fd-ingest -q --store "$tmp/fd.db" "$tmp/tx.csv"

echo "models: training on $start to $split (seed $train_seed)"
SOURCE_DATE_EPOCH=$(date -u -d "$split" +%s) fd-train -q --seed "$train_seed" --store "$tmp/fd.db" \
	--until "$split" -o models/default.fdm > /dev/null
fd-train --inspect models/default.fdm > "$tmp/inspect.txt"
# the architecture as trained, from the model's own metrics (so the card cannot drift from it)
sed -n 's/^  metrics        //p' "$tmp/inspect.txt" > "$tmp/metrics.json"
mj() { jq -r "$1" "$tmp/metrics.json"; }
num() { echo "$1" | sed ':a; s/\B[0-9]\{3\}\>/,&/; ta'; }  # 1234567 -> 1,234,567

echo "models: evaluating on $split to $end (held out)"
fd-score -q --model models/default.fdm --eval --store "$tmp/fd.db" --since "$split" --until "$end" > "$tmp/eval.txt"
fd-score -q --model models/default.fdm --eval --format csv --store "$tmp/fd.db" --since "$split" --until "$end" > "$tmp/eval.csv"
# per fraud type: scores recorded in the scratch store, joined with the generator's fraud_type
fd-score -q --model models/default.fdm --store "$tmp/fd.db" --since "$split" --until "$end" > /dev/null
sqlite3 -batch "$tmp/fd.db" > "$tmp/types.txt" <<'SQL'
.mode list
.separator " | "
SELECT '| ' || coalesce(nullif(json_extract(t.metadata, '$.fraud_type'), ''), '(legitimate)'),
       count(*),
       printf('%.1f%%', 100.0 * sum(s.level IN ('MEDIUM', 'HIGH')) / count(*)),
       printf('%.1f%%', 100.0 * sum(s.level = 'HIGH') / count(*)),
       printf('%.1f%%', 100.0 * sum(s.decision = 'BLOCK') / count(*)) || ' |'
FROM scores s JOIN transactions t ON t.txn_id = s.txn_id
GROUP BY 1 ORDER BY t.label, 1;
SQL

sha=$(sha256sum models/default.fdm | cut -d' ' -f1)
size=$(stat -c %s models/default.fdm)
metric() {  # metric LAYER COLUMN: from the csv evaluation
	awk -F, -v l="$1" -v c="$2" 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		$1 == l { printf "%.4f", $col[c] }' "$tmp/eval.csv"
}
line() {  # a table row of one layer
	printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$(metric "$1" auc_roc)" "$(metric "$1" avg_precision)" \
		"$(metric "$1" recall_at_fpr_1pct)" "$(metric "$1" recall_at_fpr_5pct)" "$(metric "$1" precision_at_k)"
}

{
cat <<EOF
# The default model

\`models/default.fdm\` is the model \`fd-score\` uses when no \`--model\` is given. It is built by
\`make models\` (\`scripts/models.sh\`), which also writes this card; both are committed.

- version $(echo "$sha" | cut -c1-12) (SHA-256 \`$sha\`), $size bytes
- built by $(fd-train --version)

## Data

Synthetic, from \`fd-gen --seed $seed --rows $rows --customers $customers --start $start --days 120\`:
$rows labelled transactions of $customers customers with the generator's fraud typologies
(about 1% fraud), ingested into a scratch store.

- **Training**: the transactions from $start to $split (three months) and their labels. The
  last 20% of the period in time are the validation rows: no layer learns from them; they
  stop the boosted trees early and calibrate the thresholds and the stackers. The
  autoencoder and the forest learn from the first 80% without the labelled fraud; the
  boosted trees from its labels.
- **Held-out evaluation**: the month from $split to $end, which the model never saw, scored
  with the feature state warmed from the three months before (as \`fd-score --since\` does).

Real transaction data is nothing like this generator in its detail: treat the figures below as
a check that the pipeline works, and train your own model on your own history
(\`fd-train --store fd.db --since ... --until ...\`) before trusting a score.

## Features and architecture

Every feature of the catalog (\`fd-features --list\`) that is neither missing nor constant in
the training data (the others are dropped and listed below), computed point in time by the
same engine as \`fd-features\`, standardised for the unsupervised layers with the training
mean and standard deviation (kept in the model; a missing value becomes the mean).

- **Autoencoder**: the default layers of \`fd-train\` (2n/3, n/3, 2n/3 hidden units for n
  features: the study in \`lib/fd_nn.h\`: here $(mj '.features')-$(mj '.layers | map(tostring) | join("-")')-$(mj '.features')), ReLU, batch normalisation, dropout 0.2, mean squared
  error, Adam 1e-3, mini-batches of 64, at most 100 epochs with early stopping after 5 without a
  better validation loss ($(mj '.epochs') run, best $(mj '.best_epoch')); seed $train_seed. It learns from a sample of
  $(num "$(mj '.ae_rows')") of the $(num "$(mj '.ae_rows_from')") training rows not labelled fraud (\`--ae-rows\`, 100,000 by default).
- **Isolation forest**: 100 trees of 256-row subsamples of the training rows (validation rows
  excluded), standard path-length normalisation, scores 0-1.
- **Boosted trees** (the supervised layer, XGBoost through its C API): binary:logistic, the
  histogram method on one thread, depth $(mj '.gbdt.max_depth'), learning rate $(mj '.gbdt.eta'), fraud rows not up-weighted
  (scale_pos_weight $(mj '.gbdt.scale_pos_weight')), at most 400 rounds, the validation average precision measured every
  $(mj '.gbdt.eval_every') rounds, stopped $(mj '.gbdt.patience') rounds after the best and cut back to it: $(mj '.gbdt.best_rounds') trees kept of
  $(mj '.gbdt.rounds') rounds run. They learn from $(num "$(mj '.gbdt.n_train')") rows (\`--gb-rows\`, 100,000 by default): every one
  of the $(num "$(mj '.gbdt.pos_train')") labelled frauds of the training part and $(num "$(mj '.gbdt.legit_train')") of its $(num "$(mj '.gbdt.legit_train_all')") legitimate
  rows, chosen by the seed, each weighing $(printf '%.4g' "$(mj '.gbdt.legit_train_weight')") so that the probabilities are those of the
  whole part; early stopping on $(num "$(mj '.gbdt.n_val')") validation rows ($(num "$(mj '.gbdt.pos_val')") fraud, $(num "$(mj '.gbdt.legit_val')") of
  $(num "$(mj '.gbdt.legit_val_all')") legitimate, weighing $(printf '%.4g' "$(mj '.gbdt.legit_val_weight')")), while the stackers and thresholds see every
  validation row. Then (\`--gb-refit\`, the default) the trees are grown again for the
  $(mj '.gbdt_refit.rounds') rounds kept on the $(num "$(mj '.gbdt_refit.n_train')") rows of both parts together, so that the model has seen
  the latest labelled weeks; the stackers and thresholds keep the first trees' validation
  scores. fd-score's \`gb_score\` and the SHAP reasons.
- **Stackers**: the combined risk is a logistic regression over the layers' surprises, the
  trees' log-odds and (with rules) the points of the default rules (\`rules/default.rules\`),
  fitted on the labelled validation rows; one with rules and one without, so the risk is a
  probability of fraud in percent either way.
- **Thresholds**: MEDIUM and HIGH at the 95th and 99th percentiles of the validation rows, for
  each layer and for the stacked risk; how the layers combine is in \`fd-score(1)\`.

\`fd-train --inspect models/default.fdm\`:

\`\`\`
$(sed 's/[[:space:]]*$//' "$tmp/inspect.txt")
\`\`\`

## Detection on the held-out month

\`fd-score --eval\` (with the default rules) on the held-out month; AUC-ROC and average
precision rank by each layer's own score (reconstruction error, forest score, rule points,
combined risk); recall at a false-positive rate is that of the best threshold whose
false-positive rate does not exceed it; precision of the 100 highest scores.

| layer | AUC-ROC | avg precision | recall @1% FPR | recall @5% FPR | precision top 100 |
|---|---:|---:|---:|---:|---:|
$(line autoencoder)
$(line forest)
$(line gbdt)
$(line rules)
$(line combined)

In full, with the confusion matrices at the model's thresholds:

\`\`\`
$(cat "$tmp/eval.txt")
\`\`\`

By fraud type (the generator's \`fraud_type\`), the share of transactions reaching each level:

| fraud type | transactions | MEDIUM or HIGH | HIGH | BLOCK |
|---|---:|---:|---:|---:|
$(cat "$tmp/types.txt")

## Rebuilding

\`make models\` regenerates the data and retrains. The file is byte-identical on the same build
and CPU type; OpenBLAS picks its kernels by CPU at run time, so another CPU model may give
weights that differ in the last bits (\`fd-train(1)\`, REPRODUCIBILITY) and so another version.
EOF
# the evaluation on third-party data: make eval's protocol and figures (models/eval.md)
[ ! -f models/eval.md ] || { echo; cat models/eval.md; }
} > models/README.md
echo "models: models/default.fdm ($size bytes, version $(echo "$sha" | cut -c1-12)); card models/README.md"
