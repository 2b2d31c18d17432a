#!/bin/bash
# Builds build/initramfs-uml.cpio.gz: static busybox + src/init + src/stage2 + the overlay module of Debian's
# user-mode-linux kernel (the guest's root is the host's / over hostfs, made writable with an overlay).
set -euo pipefail
D=$(cd "$(dirname "$0")" && pwd)
B="$D/build"; mkdir -p "$B"
KVER=$(ls /usr/lib/uml/modules | head -1)
OUTF="$B/initramfs-uml.cpio.gz"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
mkdir -p "$T"/{bin,dev,proc,sys,mods}
cp /bin/busybox "$T/bin/busybox"
for a in $("$T/bin/busybox" --list); do [ "$a" = busybox ] || ln -s busybox "$T/bin/$a"; done
: > "$T/mods/order"
# overlay and its dependencies, dependencies first (modules.dep lists them last), from modules.dep (no kmod needed on the host)
M=/usr/lib/uml/modules/$KVER
deps() { awk -v m="$1" -F': *' '$1 ~ "/"m".ko$" {print $1; print $2}' "$M/modules.dep" | tr ' ' '\n' | grep -v '^$' | tac; }
for f in $(deps overlay); do
  b=$(basename "$f"); grep -qx "$b" "$T/mods/order" || { cp "$M/$f" "$T/mods/$b"; echo "$b" >> "$T/mods/order"; }
done
cp "$D/src/init" "$T/init"; chmod +x "$T/init"
cp "$D/src/stage2" "$D/src/systemd-prep" "$D/src/systemd-command" "$T/"
(cd "$T" && find . | /bin/busybox cpio -o -H newc 2>/dev/null | gzip -1) > "$OUTF.tmp"
mv "$OUTF.tmp" "$OUTF"
echo "built $OUTF for UML $KVER"
