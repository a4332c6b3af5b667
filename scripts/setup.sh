#!/bin/sh
# Install the Debian packages fd needs to build and test, non-interactively.
# Does nothing (and needs no privileges) when everything is already present.
set -eu

PKGS="gcc make libc6-dev pkg-config libcsv-dev libsqlite3-dev libzstd-dev libopenblas-dev
libjansson-dev libsodium-dev libcmocka-dev bats bats-support bats-assert sqlite3 zstd mandoc
graphviz libxml2-utils jq procps time bc bsdextrautils python3
python3-networkx xxd openssl tzdata e2fsprogs util-linux libxgboost-dev python3-sklearn
chromium fonts-dejavu-core parallel python3-pandas"

missing=""
for p in $PKGS; do
	s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$s" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "setup: installing:$missing" >&2
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
		echo "setup: run as root, or install these packages:$missing" >&2
		exit 4
	fi
else
	SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null
echo "setup: done" >&2
