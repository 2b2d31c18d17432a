#!/usr/bin/env bash
# install-deps.sh PKG…: installs the Debian packages that are missing, quietly; does nothing (and needs no
# root, no network) when all are installed already. `apt-get update` runs once, and only when something is
# missing.
set -euo pipefail

missing=()
for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
((${#missing[@]} == 0)) && exit 0

if ((EUID != 0)); then
    echo "install-deps: missing packages: ${missing[*]}; run as root (sudo make deps) or: sudo apt-get install ${missing[*]}" >&2
    exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
