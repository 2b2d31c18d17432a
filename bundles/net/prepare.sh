#!/usr/bin/env bash
# bundles/net's hooks (`cnr hook cni add|del`) run the CNI plugins bridge, host-local and loopback from
# /usr/lib/cni: Debian's containernetworking-plugins, the plugins Kubernetes and Podman use. Installed here
# when missing, announced before it runs.
set -euo pipefail
cd "$(dirname "$0")"
[[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local && -x /usr/lib/cni/loopback ]] && exit 0
if ((EUID != 0)); then
    echo "net/prepare.sh: skipped: the CNI plugins are missing and installing them needs root (sudo make bundles)" >&2
    exit 0
fi
echo "net/prepare.sh: bundles/net needs the CNI plugins: installing Debian's containernetworking-plugins"
../../tests/install-deps.sh containernetworking-plugins
