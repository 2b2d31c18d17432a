#!/usr/bin/env bash
# Makes bundles/userns/rootfs: a copy of mybox's rootfs with every owner shifted by 100000, the host range
# that config.json maps to ids 0…65535 inside. Root inside (uid 0) then owns its files, as uid 100000 on
# the host; without the shift, the files of uid 0 on the host show as nobody (65534) inside and root there
# cannot write them. Built in rootfs.tmp and renamed; rebuilt when mybox's rootfs is newer.
set -euo pipefail
cd "$(dirname "$0")"
src=../mybox/rootfs shift=100000
[[ -x $src/bin/busybox ]] || { echo "userns/prepare.sh: $src is not built (make bundles)" >&2; exit 1; }
[[ -d rootfs && rootfs -nt $src/bin/busybox ]] && exit 0
if ((EUID != 0)); then
    echo "userns/prepare.sh: skipped: shifting the owners needs root (sudo make bundles)" >&2
    exit 0
fi
rm -rf rootfs.tmp
cp -a "$src" rootfs.tmp
find rootfs.tmp -printf '%U %G %p\0' | while IFS=' ' read -r -d '' uid gid path; do
    chown -h "$((uid + shift)):$((gid + shift))" "$path"
done
rm -rf rootfs
touch rootfs.tmp
mv rootfs.tmp rootfs
echo "userns/prepare.sh: bundles/userns/rootfs owned from $shift up"
