#!/usr/bin/env bash
# install-deps.sh [--for WHAT] PKG…: the one place the build and the tests install Debian packages. Installs
# those that are missing, announcing them (and WHAT needs them) on stderr before apt-get runs; does nothing
# (and needs no root, no network) when all are installed already. apt-get's own output goes to a log that is
# shown only when it fails. `apt-get update` runs only when the first attempt fails (stale lists).
# Exit: 0 when everything is installed afterwards, 1 (with the reason on stderr) otherwise.
set -euo pipefail

why=
if [[ ${1:-} == --for ]]; then why=" for $2"; shift 2; fi
missing=()
for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
((${#missing[@]} == 0)) && exit 0

if ((EUID != 0)); then
    echo "install-deps: missing packages${why}: ${missing[*]}; run as root (sudo make deps) or: sudo apt-get install ${missing[*]}" >&2
    exit 1
fi
echo "install-deps: installing ${missing[*]}${why} with apt-get (once; up to a few minutes without output)" >&2
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp /tmp/cnr-install-deps.XXXXXX)
cleanup=("$log")
# policy-rc.d 101: what the tests install (containerd, docker.io, systemd…) must not start its services on
# this host; the tests run their own daemons. An administrator's own policy-rc.d is left alone.
prc=/usr/sbin/policy-rc.d
if [[ ! -e $prc ]]; then printf '#!/bin/sh\nexit 101\n' >"$prc" && chmod +x "$prc" && cleanup+=("$prc"); fi
trap 'rm -f "${cleanup[@]}"' EXIT
# Another apt (a second helper, unattended-upgrades) may hold the lock: wait for it rather than fail.
apt=(apt-get -o DPkg::Lock::Timeout=900)
if ! "${apt[@]}" install -y --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
    if ! { "${apt[@]}" update && "${apt[@]}" install -y --no-install-recommends "${missing[@]}"; } >>"$log" 2>&1; then
        tail -n 20 "$log" >&2
        echo "install-deps: apt-get install ${missing[*]} failed (output above)" >&2
        exit 1
    fi
fi
