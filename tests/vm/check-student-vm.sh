#!/bin/bash
# check-student-vm.sh: proves that `run-in-vm.sh --systemd` is the host our users have, in ONE guest boot:
# the machine's systemd is PID 1 and the system is up, a pure cgroup v2 with the cpu/memory/pids
# controllers, AppArmor enabled and confining, D-Bus answering (systemd makes a transient unit over it), and
# the host's built bin/cnr runs the mybox bundle there with a memory limit. Then, on the host, that nothing
# the guest wrote reached the host's /.
# Ends with "N passed, N failed, N skipped" (tests/run-all.sh counts it); exit 0 when nothing failed,
# 77 with the reason when no guest can be had here (not root, user-mode-linux not installable).
#   VM_TIMEOUT (default 900 s) as in run-in-vm.sh; CNR_BINARY (default bin/cnr)
set -u
D=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
ROOT=$(cd "$D/../.." && pwd)
cd "$ROOT" || exit 1

if [ "${1:-}" != --in-guest ]; then
  [ "$(id -u)" = 0 ] || { echo "check-student-vm: SKIPPED: not root (the guest needs root)" >&2; exit 77; }
  if ! "$D/setup.sh" --systemd >/dev/null; then
    echo "check-student-vm: SKIPPED: the student VM's packages could not be installed (tests/vm/setup.sh --systemd)" >&2
    exit 77
  fi
  probe=/etc/cnr-student-vm-probe.$$
  rm -f "$probe"
  out=$(CNR_PROBE="$probe" VM_TIMEOUT=${VM_TIMEOUT:-900} "$D/run-in-vm.sh" --systemd "$(printf '%q --in-guest' "$D/check-student-vm.sh")")
  rc=$?
  printf '%s\n' "$out" | grep -v -E '^[0-9]+ passed, [0-9]+ failed'
  read -r p f s < <(printf '%s\n' "$out" | awk '/^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$/ { print $1, $3, $5 }')
  [ -n "${p:-}" ] || { echo "not ok - the guest ran the checks (run-in-vm.sh exited $rc without a summary)"; p=0 f=1 s=0; }
  # the guest wrote $probe into its overlay: the host's / must not have it
  if [ -e "$probe" ]; then echo "not ok - the guest's writes stay in the guest: $probe is on the host"; rm -f "$probe"; f=$((f + 1))
  else echo "ok - the guest's writes stay in the guest (no $probe on the host)"; p=$((p + 1)); fi
  echo "$p passed, $f failed, $s skipped"
  [ "$f" = 0 ]; exit
fi

# --- in the guest, as root, cwd = the checkout --------------------------------------------------------
. "$D/guest-checks.sh"

check "systemd is PID 1" '/systemd$' readlink /proc/1/exe
check "systemctl is-system-running: running or degraded" '^(running|degraded)$' systemctl is-system-running
[ "$(systemctl is-system-running)" = degraded ] && systemctl --failed --no-legend --plain | sed 's/^/    degraded by: /'
check "not a container to systemd (systemd-detect-virt: uml)" '^uml$' systemd-detect-virt
check "/sys/fs/cgroup is cgroup2 alone" '^cgroup2fs$' stat -f -c %T /sys/fs/cgroup
if grep -qE '^\S+ \S+ cgroup ' /proc/mounts; then notok "no cgroup v1 mounted" "$(grep -E '^\S+ \S+ cgroup ' /proc/mounts)"
else ok "no cgroup v1 mounted"; fi
check "cgroup.controllers lists cpu memory pids" '\bcpu\b.*\bmemory\b.*\bpids\b' cat /sys/fs/cgroup/cgroup.controllers
check "AppArmor is enabled (aa-enabled)" '^Yes$' aa-enabled
check "AppArmor is the LSM" 'apparmor' cat /sys/kernel/security/lsm
check "AppArmor has the distribution's profiles loaded" '\(enforce\)' cat /sys/kernel/security/apparmor/profiles

# a profile loaded here confines a process: the label reads back, and a denied read is denied
prof=$(mktemp)
cat > "$prof" <<'EOF'
abi <abi/3.0>,
profile cnr-student-vm-check {
  /** rwlkmix,
  deny /etc/hostname r,
}
EOF
check "apparmor_parser loads a profile" '' apparmor_parser -r "$prof"
check "aa-exec -p: the process is confined (attr/current)" '^cnr-student-vm-check \(enforce\)$' aa-exec -p cnr-student-vm-check -- cat /proc/self/attr/current
got=$(aa-exec -p cnr-student-vm-check -- cat /etc/hostname 2>&1)
if [ $? != 0 ] && [[ $got == *"/etc/hostname: Permission denied"* ]]; then ok "the profile denies what it denies ($got)"
else notok "the profile denies what it denies" "cat /etc/hostname under the profile, want 'Permission denied':" "$got"; fi
apparmor_parser -R "$prof" >/dev/null 2>&1; rm -f "$prof"

check "D-Bus: busctl status of the system bus" '^BusScope=system$' busctl status --no-pager
check "D-Bus: systemd answers (Manager.Version)" '^s "252|^s "[0-9]' busctl get-property org.freedesktop.systemd1 /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager Version
check "D-Bus: a transient unit with MemoryMax (systemd-run)" '^33554432$' \
  systemd-run --quiet --wait --pipe -p MemoryMax=32M sh -c 'cat "/sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup)/memory.max"'

# the host's bin/cnr runs the mybox bundle: with a memory limit (and a pids limit), and confined by AppArmor
CNR=${CNR_BINARY:-$PWD/bin/cnr}
# bundle DIR PYTHON: DIR/config.json is mybox's, rootfs by absolute path, no terminal, then PYTHON edits c
bundle() {
  python3 - "$PWD/bundles/mybox" "$1" "$2" <<'EOF'
import json, sys
src, dst, edit = sys.argv[1], sys.argv[2], sys.argv[3]
c = json.load(open(src + "/config.json"))
c["root"]["path"] = src + "/rootfs"
c["process"]["terminal"] = False
exec(edit)
json.dump(c, open(dst + "/config.json", "w"))
EOF
}
if [ ! -x "$CNR" ]; then skip "cnr run of mybox: no $CNR (make all)"
elif [ ! -d bundles/mybox/rootfs ]; then skip "cnr run of mybox: no bundles/mybox/rootfs (make bundles)"
else
  b=$(mktemp -d)
  bundle "$b" '
c["process"]["args"] = ["sh", "-c", "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max; cat /proc/self/cgroup"]
c["linux"].setdefault("resources", {})["memory"] = {"limit": 33554432}
c["linux"]["resources"]["pids"] = {"limit": 64}'
  got=$(cd "$b" && "$CNR" --root /run/cnr-student-vm run student-vm-check 2>&1); rc=$?
  if [ $rc = 0 ] && [ "$(sed -n 1p <<<"$got")" = 33554432 ] && [ "$(sed -n 2p <<<"$got")" = 64 ] && [ "$(sed -n 3p <<<"$got")" = "0::/" ]; then
    ok "cnr run mybox: memory.max 33554432, pids.max 64, in its own cgroup namespace"
  else notok "cnr run mybox with memory and pids limits" "exit $rc, want 33554432 / 64 / 0::/:" "$got"; fi
  "$CNR" --root /run/cnr-student-vm delete --force student-vm-check >/dev/null 2>&1

  # process.apparmorProfile: cnr arranges the profile for the container's exec, as runc does
  check "cnr features: linux.apparmor.enabled is true" '^True$' \
    sh -c "\"$CNR\" features | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"linux\"][\"apparmor\"][\"enabled\"])'"
  cat > "$b/profile" <<'EOF'
abi <abi/3.0>,
profile cnr-student-vm-box flags=(attach_disconnected,mediate_deleted) {
  /** rwlkmix,
  capability,
  signal,
  ptrace,
  deny /etc/hostname r,
}
EOF
  if apparmor_parser -r "$b/profile" 2>&1; then
    bundle "$b" '
c["process"]["apparmorProfile"] = "cnr-student-vm-box"
c["process"]["args"] = ["sh", "-c", "cat /proc/self/attr/current; cat /etc/hostname; echo cat=$?"]'
    got=$(cd "$b" && "$CNR" --root /run/cnr-student-vm run student-vm-aa 2>&1); rc=$?
    if [ $rc = 0 ] && [ "$(sed -n 1p <<<"$got")" = "cnr-student-vm-box (enforce)" ] && grep -q 'Permission denied' <<<"$got" && grep -qx 'cat=1' <<<"$got"; then
      ok "cnr run with process.apparmorProfile: confined (attr/current), the denied read is denied"
    else notok "cnr run with process.apparmorProfile" "exit $rc, want 'cnr-student-vm-box (enforce)', a Permission denied, cat=1:" "$got"; fi
    "$CNR" --root /run/cnr-student-vm delete --force student-vm-aa >/dev/null 2>&1

    # a running container: inspect shows the label; exec's process gets the container's profile, or --apparmor's
    bundle "$b" '
c["process"]["apparmorProfile"] = "cnr-student-vm-box"
c["process"]["args"] = ["sleep", "600"]'
    (cd "$b" && "$CNR" --root /run/cnr-student-vm run -d student-vm-aa2 </dev/null >/dev/null 2>&1)
    check "cnr inspect: the container's LSM label" 'lsm label +cnr-student-vm-box \(enforce\)' "$CNR" --root /run/cnr-student-vm inspect student-vm-aa2
    check "cnr exec: the container's profile" '^cnr-student-vm-box \(enforce\)$' "$CNR" --root /run/cnr-student-vm exec student-vm-aa2 cat /proc/self/attr/current
    check "cnr exec --apparmor unconfined" '^unconfined$' "$CNR" --root /run/cnr-student-vm exec --apparmor unconfined student-vm-aa2 cat /proc/self/attr/current
    "$CNR" --root /run/cnr-student-vm delete --force student-vm-aa2 >/dev/null 2>&1

    # an unknown profile: one line naming the field, before anything exists
    bundle "$b" 'c["process"]["apparmorProfile"] = "cnr-no-such-profile"; c["process"]["args"] = ["true"]'
    got=$(cd "$b" && "$CNR" --root /run/cnr-student-vm run student-vm-aa3 2>&1); rc=$?
    left=$(ls /run/cnr-student-vm 2>/dev/null | grep -x student-vm-aa3; find /sys/fs/cgroup -name student-vm-aa3 2>/dev/null)
    if [ $rc != 0 ] && [ "$(wc -l <<<"$got")" = 1 ] && grep -q 'process.apparmorProfile: profile "cnr-no-such-profile" is not loaded in AppArmor' <<<"$got" && [ -z "$left" ]; then
      ok "cnr run with an unknown apparmorProfile: one line, nothing left ($got)"
    else notok "cnr run with an unknown apparmorProfile" "exit $rc, want one line naming process.apparmorProfile and nothing left:" "$got" "left: $left"; fi
    apparmor_parser -R "$b/profile" >/dev/null 2>&1
  else notok "apparmor_parser loads the container's profile"; fi
  rm -rf "$b"
fi

# the systemd cgroup driver, in this same boot
. "$D/check-systemd-cgroup.sh"
# rootless: an ordinary user, without and with its own systemd instance
. "$D/check-rootless.sh"

# for the host side: a write to the guest's / that must not reach the host's
[ -n "${CNR_PROBE:-}" ] && echo probe > "$CNR_PROBE"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
