#!/bin/bash
# One-time setup for run-in-vm.sh on Debian/Ubuntu (as root): user-mode-linux and a static busybox, then the
# initramfs in tests/vm/build/. Idempotent; run-in-vm.sh calls it when something is missing.
set -euo pipefail
D=$(cd "$(dirname "$0")" && pwd)
# the initramfs needs a static busybox (the Debian busybox package is dynamic)
static_busybox() { [ -x /bin/busybox ] && [[ "$(ldd /bin/busybox 2>&1)" == *"not a dynamic"* ]]; }
if ! command -v linux.uml >/dev/null || ! static_busybox; then
  apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends user-mode-linux busybox-static \
    || { apt-get -o DPkg::Lock::Timeout=900 update && apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends user-mode-linux busybox-static; }
fi
"$D/build-initramfs.sh"
