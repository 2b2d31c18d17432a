#!/usr/bin/env bash
# Makes bundles/chroot-escape/rootfs: a copy of mybox's rootfs (writable: the program makes its jail
# directory at /) with the static escape program at /chroot-escape (native/chroot_escape.c).
set -euo pipefail
cd "$(dirname "$0")"
src=../mybox/rootfs prog=../../native/build/chroot-escape
[[ -x $src/bin/busybox ]] || { echo "chroot-escape/prepare.sh: $src is not built (make bundles)" >&2; exit 1; }
make -s -C ../../native build/chroot-escape
[[ -d rootfs && rootfs/chroot-escape -nt $prog && rootfs -nt $src/bin/busybox ]] && exit 0
rm -rf rootfs.tmp
cp -a "$src" rootfs.tmp
install -m 0755 "$prog" rootfs.tmp/chroot-escape
rm -rf rootfs
touch rootfs.tmp
mv rootfs.tmp rootfs
echo "chroot-escape/prepare.sh: bundles/chroot-escape/rootfs with /chroot-escape"
