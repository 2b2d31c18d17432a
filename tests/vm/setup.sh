#!/bin/bash
# One-time setup for run-in-vm.sh on Debian/Ubuntu (as root): user-mode-linux and a static busybox, then the
# initramfs in tests/vm/build/. Idempotent; run-in-vm.sh calls it when something is missing.
#   setup.sh --systemd          also what the student VM (run-in-vm.sh --systemd) needs from the host: the
#                               guest's userland is the host's own, so systemd, dbus and apparmor are installed
#                               here (none of them is started on the host)
#   setup.sh --check-systemd    exit 0 when those are all present, installs nothing
#   setup.sh --callers          --systemd, and the callers that check-callers.sh drives in the student VM:
#                               docker.io (dockerd, containerd) and podman (never started on the host)
#   setup.sh --check-callers    exit 0 when all of --callers' packages are present, installs nothing
#   setup.sh --qemu             the qemu backend (VM_BACKEND=qemu): qemu-system-x86 and criu (the checkpoint
#                               tests' guest runs the host's criu), Debian's generic 6.1 kernel downloaded with
#                               apt-get download and extracted under build/kroot (never installed on the host),
#                               build/initramfs-qemu.cpio.gz
#   setup.sh --check-qemu       exit 0 when the qemu backend is ready, installs nothing
set -euo pipefail
D=$(cd "$(dirname "$0")" && pwd)
# command -> package, for what the student VM runs from the host's /
SYSTEMD_NEEDS=(/lib/systemd/systemd:systemd /usr/bin/dbus-daemon:dbus /sbin/apparmor_parser:apparmor /usr/sbin/aa-status:apparmor /bin/kmod:kmod)
CALLERS_NEEDS=(/usr/sbin/dockerd:docker.io /usr/bin/docker:docker.io /usr/bin/containerd:containerd /usr/bin/podman:podman /usr/bin/conmon:conmon)
NEEDS=("${SYSTEMD_NEEDS[@]}")
case "${1:-}" in --callers|--check-callers) NEEDS+=("${CALLERS_NEEDS[@]}");; esac
missing_systemd() {
  local n
  for n in "${NEEDS[@]}"; do [ -x "${n%%:*}" ] || echo "${n#*:}"; done | sort -u
}
case "${1:-}" in --check-systemd|--check-callers) [ -z "$(missing_systemd)" ]; exit;; esac
# the generic kernel that Debian's linux-image-amd64 points at (6.1 on Debian 12): its config has
# CONFIG_CHECKPOINT_RESTORE, which user-mode-linux lacks
qemu_kernel() { compgen -G "$D/build/kroot/boot/vmlinuz-*" >/dev/null; }
case "${1:-}" in --check-qemu)
  command -v qemu-system-x86_64 >/dev/null && command -v criu >/dev/null && qemu_kernel && [ -f "$D/build/initramfs-qemu.cpio.gz" ]; exit;;
esac
# the initramfs needs a static busybox (the Debian busybox package is dynamic)
static_busybox() { [ -x /bin/busybox ] && [[ "$(ldd /bin/busybox 2>&1)" == *"not a dynamic"* ]]; }
if ! command -v linux.uml >/dev/null || ! static_busybox; then
  "$D/../install-deps.sh" --for "the throwaway cgroup v2 kernel (tests/vm)" user-mode-linux busybox-static
fi
if [ "${1:-}" = --systemd ] || [ "${1:-}" = --callers ]; then
  mapfile -t pkgs < <(missing_systemd)
  if [ ${#pkgs[@]} -gt 0 ]; then
    # install-deps.sh keeps the packages' scripts from starting their services on this host
    "$D/../install-deps.sh" --for "the student VM (run-in-vm.sh --systemd; with --callers: check-callers.sh)" "${pkgs[@]}"
  fi
fi
if [ "${1:-}" = --qemu ]; then
  command -v qemu-system-x86_64 >/dev/null && command -v criu >/dev/null && static_busybox \
    || "$D/../install-deps.sh" --for "the qemu guest with Debian's 6.1 kernel (tests/vm, checkpoint tests)" qemu-system-x86 criu busybox-static kmod
  if ! qemu_kernel; then
    pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
    [ -n "$pkg" ] || { echo "setup: apt-cache knows no linux-image-amd64 (apt-get update?)" >&2; exit 1; }
    echo "setup: downloading $pkg (about 70 MB) into $D/build/debs; it is extracted, not installed" >&2
    rm -rf "$D/build/debs" "$D/build/kroot"; mkdir -p "$D/build/debs" "$D/build/kroot"
    (cd "$D/build/debs" && apt-get download "$pkg" >/dev/null)
    dpkg-deb -x "$D/build/debs/${pkg}"_*.deb "$D/build/kroot"
    depmod -b "$D/build/kroot" "${pkg#linux-image-}"
    rm -rf "$D/build/debs"
  fi
  "$D/build-initramfs.sh" qemu
  exit
fi
"$D/build-initramfs.sh"
