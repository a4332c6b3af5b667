#!/usr/bin/env bash
# fd-shard.sh — run fd-features in N shards by sender under GNU parallel and concatenate them.
#
#   scripts/fd-shard.sh N OUTPUT [fd-features options] FILE...
#
# Shard I runs `fd-features --shard I/N [options] FILE... -o TMP/I` as its own process; GNU
# parallel runs them (FD_SHARD_JOBS at a time, default one per core; FD_SHARD_SSHLOGIN, if
# set, is passed to parallel's --sshlogin to run them on other machines, which must have
# fd-features on their PATH and the FILEs at the same paths).  When every shard has succeeded,
# OUTPUT is their concatenation: CSV under one header, NDJSON as is; rows grouped by shard,
# each shard in time order.  OUTPUT is written to a temporary name beside it and renamed, so a
# failed run leaves no OUTPUT.  Which columns equal a single run's: fd-features(1), SHARDING.
# Exit status: that of the first failed shard (2 usage, 3 bad input, 4 I/O), 2 for a bad N.
set -euo pipefail

usage() {
	echo "usage: scripts/fd-shard.sh N OUTPUT [fd-features options] FILE..." >&2
	exit 2
}
[ $# -ge 3 ] || usage
n=$1 out=$2
shift 2
[[ $n =~ ^[1-9][0-9]{0,4}$ ]] && [ "$n" -le 65536 ] || {
	echo "fd-shard.sh: N '$n' is not a number of shards from 1 to 65536" >&2
	exit 2
}
command -v parallel > /dev/null || { echo "fd-shard.sh: GNU parallel is not installed" >&2; exit 4; }

tmp=$(mktemp -d "$(dirname -- "$out")/.fd-shard.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
jobs=()
[ -n "${FD_SHARD_JOBS:-}" ] && jobs+=(-j "$FD_SHARD_JOBS")
[ -n "${FD_SHARD_SSHLOGIN:-}" ] && jobs+=(--sshlogin "$FD_SHARD_SSHLOGIN")

# --halt now,fail=1: the first failed shard stops the others; parallel exits with its status
set +e
seq 0 $((n - 1)) | parallel "${jobs[@]}" --halt now,fail=1 -q \
	fd-features --shard "{}/$n" "$@" -o "$tmp/{}.out"
rc=$?
set -e
[ "$rc" -eq 0 ] || exit "$rc"

{
	first=$(head -c 1 "$tmp/0.out")
	if [ "$first" = "{" ] || [ ! -s "$tmp/0.out" ]; then
		for ((i = 0; i < n; i++)); do cat "$tmp/$i.out"; done
	else
		head -n 1 "$tmp/0.out"
		for ((i = 0; i < n; i++)); do tail -n +2 "$tmp/$i.out"; done
	fi
} > "$tmp/all"
mv -- "$tmp/all" "$out"
