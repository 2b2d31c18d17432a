#!/bin/bash
# run-in-vm.sh [--systemd] 'COMMAND' -- boots a throwaway user-mode-linux guest (Debian's kernel 6.1, no KVM needed) whose
# only cgroup hierarchy is cgroup v2 (controllers cpu io memory pids), runs COMMAND there as root under the
# host's /bin/bash with the host's / visible read-only (copy-on-write over a guest tmpfs, writes discarded),
# cwd = host cwd, host environment exported; prints its stdout/stderr and exits with its exit code
# (124: timeout, 125: the guest could not run it).
#   --systemd   a student-like host instead of a bare kernel: the host's systemd is PID 1, AppArmor is enabled,
#               D-Bus runs; COMMAND runs once `systemctl is-system-running` says running or degraded
#               (README.md: which units are left out, boot time, debugging)
#
#   VM_RW=dir1:dir2   host dirs shared read-WRITE at the same path (results and scratch space)
#   VM_MEM=2G  VM_TIMEOUT=seconds (0 = none)  VM_DEBUG=1 (dump the guest console)
#   VM_CONSOLE=file   keep the guest console there   VM_KARGS='…'  more kernel arguments
#   VM_BACKEND=qemu   Debian's generic 6.1 kernel under qemu (software CPU: ~7.5 s to the command, ~40x slower
#                     CPU) instead of user-mode-linux: for what UML's kernel lacks (CONFIG_CHECKPOINT_RESTORE,
#                     cpuset, hugetlb). Host / over 9p. VM_CPUS=2. Not with --systemd.
# The UML guest has 1 CPU; syscall-heavy work is 10-15x slower than on the host (UML runs on ptrace).
set -u
D=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
SYSTEMD=
[ "${1:-}" = --systemd ] && { SYSTEMD=1; shift; }
[ $# -ge 1 ] || { echo "usage: $0 [--systemd] 'COMMAND'" >&2; exit 2; }
CMD="$*"
MEM=${VM_MEM:-2G}; TMO=${VM_TIMEOUT:-0}
BACKEND=${VM_BACKEND:-uml}
case "$BACKEND" in uml|qemu) ;; *) echo "run-in-vm: VM_BACKEND=$BACKEND: uml or qemu" >&2; exit 2;; esac
[ "$BACKEND" = qemu ] && [ -n "$SYSTEMD" ] && { echo "run-in-vm: --systemd runs under user-mode-linux only (unset VM_BACKEND)" >&2; exit 2; }
INITRD="$D/build/initramfs-$BACKEND.cpio.gz"
stale() { [ ! -f "$INITRD" ] || [ -n "$(find "$D/src" "$D/build-initramfs.sh" -newer "$INITRD" | head -1)" ]; }
if [ -n "$SYSTEMD" ]; then
  if ! command -v linux.uml >/dev/null || stale || ! "$D/setup.sh" --check-systemd; then
    "$D/setup.sh" --systemd >/dev/null || { echo "run-in-vm: setup failed (needs root and apt: user-mode-linux, busybox-static, systemd, dbus, apparmor)" >&2; exit 125; }
  fi
elif [ "$BACKEND" = qemu ]; then
  if stale || ! "$D/setup.sh" --check-qemu; then
    "$D/setup.sh" --qemu >/dev/null || { echo "run-in-vm: setup failed (needs root and apt: qemu-system-x86, criu, busybox-static, linux-image-amd64 downloaded)" >&2; exit 125; }
  fi
elif ! command -v linux.uml >/dev/null || stale; then
  "$D/setup.sh" >/dev/null || { echo "run-in-vm: setup failed (needs root and apt: user-mode-linux, busybox-static)" >&2; exit 125; }
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/run-in-vm.XXXXXX") || exit 125
VMM=; WD=
cleanup() {
  if [ -n "$VMM" ]; then  # UML setsid()s and forks helpers: kill its whole process group
    kill -KILL -- "-$VMM" 2>/dev/null
    for _ in $(seq 100); do kill -0 -- "-$VMM" 2>/dev/null || break; sleep 0.02; done
  fi
  [ -n "$WD" ] && kill -KILL -- "-$WD" 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

case "$PWD/" in /tmp/*|/run/*|/proc/*|/sys/*|/dev/*)
  echo "run-in-vm: warning: cwd $PWD is hidden in the guest (fresh /tmp, /run, /proc, /sys, /dev there); use VM_RW=\$PWD or another dir" >&2;;
esac
{
  export -p | grep -v -E '^declare -x (OLDPWD|PWD|SHLVL|_)='
  printf 'export HOSTNAME=vm\n'
  # the guest's stdout is a UML tty: without this, tools would colour output that goes to a pipe here
  [ -t 1 ] || printf 'export TERM=dumb NO_COLOR=1\n'
  printf 'cd -- %q || exit 126\n' "$PWD"
  printf 'exec /bin/bash -c %q\n' "$CMD"
} > "$W/cmd.sh"
: > "$W/rwmounts"
IFS=: read -r -a RWS <<< "${VM_RW:-}"
for dir in "${RWS[@]}"; do
  [ -n "$dir" ] || continue
  dir=$(readlink -f "$dir") && [ -d "$dir" ] || { echo "run-in-vm: VM_RW: no such dir $dir" >&2; exit 125; }
  # the guest's systemd writes its own /etc and /var: sharing those (or /) would write the host's
  if [ -n "$SYSTEMD" ]; then case "$dir/" in //|/etc/*|/var/|/var/lib/*|/var/log/*|/usr/*|/lib/*|/bin/*|/sbin/*)
    echo "run-in-vm: VM_RW: $dir cannot be shared read-write with a --systemd guest (its systemd would write the host's system files); share a dir of your own" >&2; exit 125;;
  esac; fi
  echo "$dir" >> "$W/rwmounts"
done

mkfifo "$W/out" "$W/err"
cat "$W/out" & CAT1=$!
cat "$W/err" >&2 & CAT2=$!
COMMON="quiet loglevel=3 panic=-1 cgroup_no_v1=all"
[ -n "${VM_DEBUG:-}" ] && COMMON="loglevel=7 panic=-1 cgroup_no_v1=all vm.debug=1"
if [ -n "$SYSTEMD" ]; then
  # AppArmor is built into Debian's UML kernel but not its default LSM; systemd >= 252 defaults to cgroup v2
  # alone, said here too so that a host's systemd configured otherwise still boots a pure v2 guest
  COMMON="$COMMON vm.systemd=1 apparmor=1 security=apparmor systemd.unified_cgroup_hierarchy=1 vm.boottimeout=${VM_BOOT_TIMEOUT:-600}"
  [ -n "${VM_DEBUG:-}" ] && COMMON="$COMMON systemd.show_status=1 systemd.log_target=console"
fi
COMMON="$COMMON ${VM_KARGS:-}"
if [ "$BACKEND" = qemu ]; then
  KDIR=$(echo "$D"/build/kroot/lib/modules/*); KVER=${KDIR##*/}
  # 9p exports: the host root read-only, the per-run I/O dir, the VM_RW dirs (tags rwN, in rwmounts' order)
  FS=(-fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap" -device "virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot"
      -fsdev "local,id=vmio,path=$W,security_model=none" -device "virtio-9p-pci,fsdev=vmio,mount_tag=vmio")
  n=0; while read -r dir; do n=$((n+1))
    FS+=(-fsdev "local,id=rw$n,path=$dir,security_model=none,multidevs=remap" -device "virtio-9p-pci,fsdev=rw$n,mount_tag=rw$n")
  done < "$W/rwmounts"
  # KVM here is a PVM backend that boots only PVM guests: software emulation (TCG), multi-threaded
  set -m; qemu-system-x86_64 -nodefaults -no-user-config -M pc -accel tcg,thread=multi,tb-size=512 -cpu max \
    -m "$MEM" -smp "${VM_CPUS:-2}" -display none -monitor none -no-reboot \
    -kernel "$D/build/kroot/boot/vmlinuz-$KVER" -initrd "$INITRD" \
    -append "console=ttyS0 $COMMON vm.fs=9p vm.moddir=$KDIR" -serial "file:$W/console.log" "${FS[@]}" \
    -device virtio-rng-pci -device virtio-serial-pci \
    -chardev "file,id=out,path=$W/out" -device virtserialport,chardev=out,name=vm.stdout \
    -chardev "file,id=err,path=$W/err" -device virtserialport,chardev=err,name=vm.stderr \
    </dev/null >"$W/vmm.log" 2>&1 &
else
KVER=$(ls /usr/lib/uml/modules | head -1)
# guest RAM is a sparse file in $TMPDIR: /dev/shm (tmpfs) is the fastest place for it
set -m; TMPDIR=/dev/shm linux.uml mem="$MEM" initrd="$INITRD" $COMMON \
  vm.io="$W" vm.out=/dev/tty1 vm.err=/dev/tty2 vm.moddir=/usr/lib/uml/modules/$KVER \
  con=null ssl=null con0=null,fd:5 con1=null,fd:3 con2=null,fd:4 \
  3>"$W/out" 4>"$W/err" 5>"$W/console.log" </dev/null >"$W/vmm.log" 2>&1 &
fi
VMM=$!; set +m
if [ "$TMO" != 0 ]; then
  set -m; ( sleep "$TMO"; touch "$W/timedout"; kill -KILL -- "-$VMM" "$VMM" ) >/dev/null 2>&1 & WD=$!; disown "$WD"; set +m
fi
wait "$VMM" 2>/dev/null; VRC=$?
[ -n "$WD" ] && kill -KILL -- "-$WD" 2>/dev/null; WD=
# reap the rest of UML's process group (its helpers keep the output fds open)
kill -KILL -- "-$VMM" 2>/dev/null
for _ in $(seq 100); do kill -0 -- "-$VMM" 2>/dev/null || break; sleep 0.02; done; VMM=
# if UML died before opening the fifos, unblock the readers (an O_RDWR open of a fifo never blocks)
for f in out err; do exec 3<>"$W/$f"; exec 3>&-; done
wait "$CAT1" "$CAT2" 2>/dev/null
if [ -n "${VM_DEBUG:-}" ]; then
  echo "--- guest console ---" >&2; grep -v epollctl "$W/console.log" >&2
  [ -s "$W/uptime" ] && echo "run-in-vm: systemd reached '$(cat "$W/state")' at guest uptime $(cut -d' ' -f1 "$W/uptime")s" >&2
  [ -s "$W/failed" ] && { echo "run-in-vm: failed units in the guest:" >&2; cat "$W/failed" >&2; }
fi
[ -n "${VM_CONSOLE:-}" ] && cp "$W/console.log" "$VM_CONSOLE"
if [ -s "$W/rc" ]; then exit "$(cat "$W/rc")"; fi
if [ -e "$W/timedout" ]; then echo "run-in-vm: timed out after ${TMO}s" >&2; exit 124; fi
echo "run-in-vm: no exit code from the guest ($BACKEND exited with $VRC)" >&2
cat "$W/vmm.log" >&2; tail -n 30 "$W/console.log" >&2
exit 125
