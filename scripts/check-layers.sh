#!/usr/bin/env bash
# make check-layers: no module of lib/ includes a header of a higher layer.
#
# The layers, low to high; a module may include the headers of its own layer and of those below.
#   io      bytes, text, files, CSV/NDJSON, the canonical transaction, numbers, time zones
#   store   the SQLite store and its schema, the audit chain, its verifier and seals, roles,
#           ingest and the transactions read back from the store
#   detect  features, rules, models, scoring, evaluation, generated data
#   case    cases, reports, the entity graph (which may open cases)
# A module of lib/ that no layer names is an error too: a new module takes its place here.
set -u
cd "$(dirname "$0")/.."

layer_of() {
	case $1 in
	banned | fd_buf | fd_err | fd_intern | fd_io | fd_killpoint | fd_metrics | fd_num | fd_reader | \
	fd_rng | fd_tz | fd_txn | fd_txnstream | fd_writer) echo 0 ;;
	fd_store | fd_schema | fd_schema_* | fd_audit | fd_verify | fd_seal | fd_role | fd_bundle | \
	fd_txnsrc | fd_ingest) echo 1 ;;
	fd_features | fd_rules | fd_rules_* | fd_rule_lists | fd_backtest | fd_model | fd_nn | fd_iforest | fd_gbdt | fd_train | \
	fd_score | fd_score_impl | fd_score_reasons | fd_scorer | fd_score_eval | fd_score_store | \
	fd_eval | fd_gen | fd_forensic) echo 2 ;;
	fd_case | fd_case_* | fd_graph | fd_graph_* | fd_report) echo 3 ;;
	*) echo -1 ;;
	esac
}
names=(io store detect case)

fail=0
for f in lib/*.c lib/*.h; do
	m=$(basename "${f%.*}")
	lm=$(layer_of "$m")
	if [ "$lm" -lt 0 ]; then
		echo "check-layers: $f: module $m is in no layer (scripts/check-layers.sh)" >&2
		fail=1
		continue
	fi
	while IFS= read -r h; do
		lh=$(layer_of "$h")
		if [ "$lh" -lt 0 ]; then
			echo "check-layers: $f includes $h.h, which is in no layer (scripts/check-layers.sh)" >&2
			fail=1
		elif [ "$lh" -gt "$lm" ]; then
			echo "check-layers: $f (${names[$lm]}) includes $h.h (${names[$lh]}), a higher layer" >&2
			fail=1
		fi
	done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([A-Za-z0-9_]*\)\.h".*/\1/p' "$f")
done
[ "$fail" -eq 0 ] && echo "check-layers: lib/ includes no higher layer"
exit "$fail"
