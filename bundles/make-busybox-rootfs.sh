#!/usr/bin/env bash
# Builds a minimal busybox root filesystem in DIR (default bundles/mybox/rootfs) from Debian's
# busybox-static: an FHS skeleton, /bin/busybox with one symlink per applet, and the few /etc files a
# shell and `id`/`ls -l` need. Built in DIR.tmp and renamed, so an interrupted build leaves no half tree.
set -euo pipefail

busybox=/bin/busybox
dir=${1:-bundles/mybox/rootfs}

# A dynamic busybox (Debian's `busybox` package) would need the host's libc inside the container.
linkage=$(LC_ALL=C ldd "$busybox" 2>&1 || true)
if [[ ! -x $busybox || $linkage != *"not a dynamic executable"* ]]; then
    echo "make-busybox-rootfs: $busybox is missing or not statically linked; install busybox-static (make deps)" >&2
    exit 1
fi

tmp="$dir.tmp"
rm -rf "$tmp"
mkdir -p "$tmp"
cd "$tmp"

mkdir -p bin dev etc home/student proc root sys tmp usr/bin usr/sbin sbin var/tmp run
chmod 1777 tmp var/tmp
chmod 0700 root
cp "$busybox" bin/busybox
chmod 0755 bin/busybox

# Every applet as a symlink to /bin/busybox, at the path busybox itself reports (bin/sh, usr/bin/env, …).
"$busybox" --list-full | while read -r applet; do
    # linuxrc is an initrd entry point, not a command.
    [[ $applet == bin/busybox || $applet == linuxrc ]] && continue
    mkdir -p "$(dirname "$applet")"
    ln -sf /bin/busybox "$applet"
done

cat > etc/passwd <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
student:x:1000:1000:student:/home/student:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat > etc/group <<'GROUP'
root:x:0:
tty:x:5:
users:x:100:student
student:x:1000:
nogroup:x:65534:
nobody:x:65534:
GROUP
chown 1000:1000 home/student
echo mybox > etc/hostname
cat > etc/hosts <<'HOSTS'
127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
HOSTS
: > etc/resolv.conf
cat > etc/profile <<'PROFILE'
# The prompt names the container: user@hostname, so a student sees at a glance that the shell is inside.
export PS1='\u@\h:\w\$ '
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
PROFILE
chmod 0644 etc/passwd etc/group etc/hostname etc/hosts etc/resolv.conf etc/profile

cd - >/dev/null
rm -rf "$dir"
mv "$tmp" "$dir"
echo "make-busybox-rootfs: $dir ($("$busybox" --list-full | wc -l) applets)"
