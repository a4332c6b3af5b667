#!/bin/sh
# fd-nightly — one night of fraud operations over the evidence store, for cron:
#   ingest the day's export -> score the day with the store's history -> auto-cases ->
#   dashboard -> metrics (and fd-audit verify) -> seal; then --fail-on.
# Every step is idempotent, so a re-run completes an interrupted night; one lock per store
# keeps two nights apart.  See fd(7), "NIGHTLY OPERATION".
set -eu

me=fd-nightly
usage() {
	cat <<EOF
usage: $me [options] FILE
Run one night over the evidence store: ingest FILE, score DAY (with every earlier stored
transaction replayed first), open or extend cases for HIGH risk, write the dashboard and the
metrics, verify the audit log and seal it.

  --store PATH        evidence store (default \$FD_STORE, else ./fd.db)
  --day YYYY-MM-DD    the day FILE holds, scored from 00:00 UTC to 24:00 (default: yesterday, UTC)
  --out DIR           where scores-DAY.csv, dashboard.html and the metrics go (default .)
  --key SECRET        seal the audit log with this fd-audit key (no key: no seal, said so)
  --fail-on LEVEL     exit 1 at the end when a transaction of DAY reached LEVEL (MEDIUM or HIGH)
  --max-rejects N|P%  passed to fd-ingest (its default: 5%)
  --namespace NS      passed to fd-ingest
  -h, --help          show this help
EOF
}
die() { code=$1; shift; echo "$me: $*" >&2; exit "$code"; }

store=${FD_STORE:-fd.db} day= out=. key= fail_on= max_rejects= ns=
while [ $# -gt 0 ]; do
	case $1 in
	--store) [ $# -ge 2 ] || die 2 "--store needs a path"; store=$2; shift 2 ;;
	--day) [ $# -ge 2 ] || die 2 "--day needs a date"; day=$2; shift 2 ;;
	--out) [ $# -ge 2 ] || die 2 "--out needs a directory"; out=$2; shift 2 ;;
	--key) [ $# -ge 2 ] || die 2 "--key needs a file"; key=$2; shift 2 ;;
	--fail-on) [ $# -ge 2 ] || die 2 "--fail-on needs a level"; fail_on=$2; shift 2 ;;
	--max-rejects) [ $# -ge 2 ] || die 2 "--max-rejects needs a limit"; max_rejects=$2; shift 2 ;;
	--namespace) [ $# -ge 2 ] || die 2 "--namespace needs a name"; ns=$2; shift 2 ;;
	-h|--help) usage; exit 0 ;;
	--) shift; break ;;
	-*) echo "$me: unknown option '$1'" >&2; usage >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || { echo "$me: give exactly one input file" >&2; usage >&2; exit 2; }
file=$1
case $fail_on in ''|MEDIUM|HIGH) ;; *) die 2 "--fail-on must be MEDIUM or HIGH, not '$fail_on'" ;; esac
[ -n "$day" ] || day=$(date -u -d yesterday +%Y-%m-%d)
next=$(date -u -d "$day + 1 day" +%Y-%m-%d 2>/dev/null) &&
	[ "$(date -u -d "$day" +%Y-%m-%d 2>/dev/null)" = "$day" ] || die 2 "--day must be a date YYYY-MM-DD, not '$day'"
[ -d "$out" ] || die 4 "no directory '$out' for the outputs"
export FD_STORE="$store"

# one night at a time per store: the lock is held until this shell exits, however it exits
lock="$store.nightly.lock"
exec 9>>"$lock" || die 4 "cannot open the lock file '$lock'"
flock -n 9 || die 4 "another night holds '$lock'"

step() { echo "$me: $day: $*" >&2; }

step "ingest $file"
fd-ingest -q ${max_rejects:+--max-rejects "$max_rejects"} ${ns:+--namespace "$ns"} \
	--metrics "$out/fd_ingest.prom" "$file"

step "score $day with the store's history"
rc=0
fd-score -q --store "$store" --since "$day" --until "$next" ${fail_on:+--fail-on "$fail_on"} \
	--metrics "$out/fd_score.prom" -o "$out/scores-$day.csv" || rc=$?
[ "$rc" -le 1 ] || exit "$rc"   # 1 = --fail-on matched: reported at the end
flagged=$rc

step "auto-cases"
fd-case -q auto --since "$day" --until "$next" --metrics "$out/fd_case.prom"

step "dashboard"
fd-case -q dashboard --html "$out/dashboard.html"

step "verify the audit log (metrics)"
fd-audit -q verify --metrics "$out/fd_audit.prom"

if [ -n "$key" ]; then
	step "seal"
	fd-audit -q seal --key "$key" > "$out/seal-$day.txt"
else
	step "no --key: the audit log is not sealed"
fi

if [ "$flagged" -eq 1 ]; then
	step "a transaction reached $fail_on"
	exit 1
fi
step "done"
