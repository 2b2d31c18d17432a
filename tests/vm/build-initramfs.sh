#!/bin/bash
# Builds the guest's initramfs: static busybox + src/init + src/stage2 + the modules needed to mount the host's /.
#   build-initramfs.sh        build/initramfs-uml.cpio.gz for Debian's user-mode-linux kernel (overlay; hostfs is built in)
#   build-initramfs.sh qemu   build/initramfs-qemu.cpio.gz for Debian's generic kernel that setup.sh --qemu extracts
#                             under build/kroot (virtio, 9p, overlay)
set -euo pipefail
D=$(cd "$(dirname "$0")" && pwd)
B="$D/build"; mkdir -p "$B"
if [ "${1:-uml}" = qemu ]; then
  M=$(echo "$B"/kroot/lib/modules/*); KVER=${M##*/}; OUTF="$B/initramfs-qemu.cpio.gz"
  MODS="virtio_pci virtio_console 9pnet_virtio 9p overlay virtio_rng"
else
  KVER=$(ls /usr/lib/uml/modules | head -1); M=/usr/lib/uml/modules/$KVER; OUTF="$B/initramfs-uml.cpio.gz"
  MODS="overlay"
fi
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
mkdir -p "$T"/{bin,dev,proc,sys,mods}
cp /bin/busybox "$T/bin/busybox"
for a in $("$T/bin/busybox" --list); do [ "$a" = busybox ] || ln -s busybox "$T/bin/$a"; done
: > "$T/mods/order"
# each module and its dependencies, dependencies first (modules.dep lists them last), from modules.dep (no kmod
# needed on the host); the generic kernel's modules are xz-compressed: busybox's insmod cannot read those
deps() { awk -v m="$1" -F': *' '$1 ~ "/"m".ko(.xz)?$" {print $1; print $2}' "$M/modules.dep" | tr ' ' '\n' | grep -v '^$' | tac; }
for mod in $MODS; do
  for f in $(deps "$mod"); do
    b=$(basename "$f" .xz)
    grep -qx "$b" "$T/mods/order" && continue
    case "$f" in *.xz) xz -dc "$M/$f" > "$T/mods/$b";; *) cp "$M/$f" "$T/mods/$b";; esac
    echo "$b" >> "$T/mods/order"
  done
done
cp "$D/src/init" "$T/init"; chmod +x "$T/init"
cp "$D/src/stage2" "$D/src/systemd-prep" "$D/src/systemd-command" "$T/"
(cd "$T" && find . | /bin/busybox cpio -o -H newc 2>/dev/null | gzip -1) > "$OUTF.tmp"
mv "$OUTF.tmp" "$OUTF"
echo "built $OUTF for ${1:-uml} $KVER ($(wc -l < "$T/mods/order") modules)"
