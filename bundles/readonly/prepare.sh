#!/usr/bin/env bash
# Makes bundles/readonly/rootfs: a copy of mybox's rootfs that both configs here use, read-only
# (config.json) and writable (writable/config.json), so that what a student writes in the writable one
# lands in this copy and never in mybox's. Rebuilt when mybox's rootfs is newer.
set -euo pipefail
cd "$(dirname "$0")"
src=../mybox/rootfs
[[ -x $src/bin/busybox ]] || { echo "readonly/prepare.sh: $src is not built (make bundles)" >&2; exit 1; }
[[ -d rootfs && rootfs -nt $src/bin/busybox ]] && exit 0
rm -rf rootfs.tmp
cp -a "$src" rootfs.tmp
rm -rf rootfs
touch rootfs.tmp
mv rootfs.tmp rootfs
echo "readonly/prepare.sh: bundles/readonly/rootfs, a copy of mybox's"
