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
"$D/build-initramfs.sh"
