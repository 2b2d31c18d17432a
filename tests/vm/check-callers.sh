#!/bin/bash
# check-callers.sh: Docker and Podman drive cnr in the student VM (run-in-vm.sh --systemd), each with its
# defaults there (the systemd cgroup driver, AppArmor's profile), in ONE guest boot:
# - dockerd started by systemd with cnr registered in /etc/docker/daemon.json ("runtimes" and
#   "default-runtime"); `docker info` says cnr is the default runtime; an image from the mybox rootfs
#   (`docker import`, no registry); a 20 MB dd under --memory 10m is OOM-killed (137); the container is
#   confined by docker-default and a read that profile denies is denied; --memory/--pids-limit and the
#   device rules are the scope's properties; docker exec, update, stop, kill, rm; no docker-*.scope left.
# - podman as root (cgroup_manager systemd, its default) with --runtime cnr: run --rm id, the limits in the
#   libpod-*.scope, exec, stop, rm, no scope left.
# - podman rootless, as an ordinary user with /etc/subuid ranges and a systemd user instance: the same, the
#   scope made by the user's instance (its delegated cpu memory pids), cnr's state under the user's runtime dir.
# Ends with "N passed, N failed, N skipped" (tests/run-all.sh counts it); exit 0 when nothing failed,
# 77 with the reason when no guest can be had here (not root, packages not installable).
#   VM_TIMEOUT (default 900 s) as in run-in-vm.sh; CNR_BINARY (default bin/cnr)
set -u
D=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
ROOT=$(cd "$D/../.." && pwd)
cd "$ROOT" || exit 1

if [ "${1:-}" != --in-guest ]; then
  [ "$(id -u)" = 0 ] || { echo "check-callers: SKIPPED: not root (the guest needs root)" >&2; exit 77; }
  if ! "$D/setup.sh" --callers >/dev/null; then
    echo "check-callers: SKIPPED: the student VM's packages could not be installed (tests/vm/setup.sh --callers)" >&2
    exit 77
  fi
  t0=$(date +%s)
  out=$(VM_TIMEOUT=${VM_TIMEOUT:-900} "$D/run-in-vm.sh" --systemd "$(printf '%q --in-guest' "$D/check-callers.sh")")
  rc=$?
  printf '%s\n' "$out" | grep -v -E '^[0-9]+ passed, [0-9]+ failed'
  read -r p f s < <(printf '%s\n' "$out" | awk '/^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$/ { print $1, $3, $5 }')
  [ -n "${p:-}" ] || { echo "not ok - the guest ran the checks (run-in-vm.sh exited $rc without a summary)"; p=0 f=1 s=0; }
  echo "    measured: the whole check (boot + checks) $(( $(date +%s) - t0 )) s"
  echo "$p passed, $f failed, $s skipped"
  [ "$f" = 0 ]; exit
fi

# --- in the guest, as root, cwd = the checkout --------------------------------------------------------
. "$D/guest-checks.sh"
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
# units PATTERN: the scope units of that pattern systemd still knows, loaded or failed
units() { systemctl list-units --all --no-legend --plain "$1" 2>&1; }
show() { systemctl show -p "$2" --value "$1" 2>&1; }

CNR=${CNR_BINARY:-$PWD/bin/cnr}
if [ ! -x "$CNR" ] || [ ! -d bundles/mybox/rootfs ]; then
  skip "Docker and Podman: no $CNR or bundles/mybox/rootfs (make all bundles)"
  echo "$passed passed, $failed failed, $skipped skipped"; exit 0
fi
# the host's /usr/local/bin may hold another docker CLI: the package's talks to the package's daemon
DOCKER=/usr/bin/docker
# the guest's / is an overlay, which overlayfs (the image stores) cannot use as an upper layer
for d in /var/lib/docker /var/lib/containerd /var/lib/containers; do mkdir -p "$d" && mount -t tmpfs tmpfs "$d"; done

# ---- Docker --------------------------------------------------------------------------------------------
# cnr registered for dockerd by name ("runtimes", what --add-runtime cnr=PATH says) and as the default;
# no bridge: the guest has no network but loopback (containers run with --network none)
mkdir -p /etc/docker
cat > /etc/docker/daemon.json <<EOF
{
  "runtimes": { "cnr": { "path": "$CNR" } },
  "default-runtime": "cnr",
  "bridge": "none",
  "iptables": false
}
EOF
t=$(date +%s%N)
if ! systemctl start docker 2>&1; then
  notok "systemctl start docker" "$(journalctl -u docker -u containerd --no-pager -n 40 2>&1)"
else
  ok "systemctl start docker (dockerd and containerd by systemd): $(ms "$t") ms"
  check "docker info: Default Runtime: cnr" '^ *Default Runtime: cnr$' $DOCKER info
  check "docker info: the runtime cnr is registered (Runtimes)" '^ *Runtimes:.*\bcnr\b' $DOCKER info
  check "docker info: its defaults here are the systemd cgroup driver on cgroup v2, AppArmor" '^systemd 2 .*name=apparmor' \
    $DOCKER info --format '{{.CgroupDriver}} {{.CgroupVersion}} {{json .SecurityOptions}}'
  check "docker import of the mybox rootfs (no registry)" '^sha256:' sh -c 'tar -C bundles/mybox/rootfs -c . | '"$DOCKER"' import - mybox:latest'
  run=($DOCKER run --rm --network none)
  # The shim's --root: dockerd names it after the runtime (runtime-cnr), but for the default runtime some runs
  # gave runtime-runc (seen in CI): whichever holds the container's state, cnr must be the one that reads it.
  states=(/run/docker/runtime-cnr/moby /run/docker/runtime-runc/moby)

  t=$(date +%s%N)
  check "docker run --rm mybox id" '^uid=0\(root\) gid=0\(root\)' "${run[@]}" mybox id
  echo "    measured: docker run --rm (create, start, wait, delete through cnr) $(ms "$t") ms"
  [ $failed = 0 ] || journalctl -u docker -u containerd --no-pager -n 30 | sed 's/^/    journal: /'
  check_rc "docker run --memory 10m: a 20 MB dd is OOM-killed (exit 137)" 137 \
    "${run[@]}" --memory 10m mybox dd if=/dev/zero of=/dev/null bs=20M count=1

  # AppArmor: Docker passes process.apparmorProfile docker-default and loads that profile itself. It denies
  # /proc/sysrq-trigger (rwklx); a write is also stopped by Docker's read-only bind of it, so the read is
  # what proves the profile: unconfined, open(2) succeeds and only the read fails. (An explicit deny rule is
  # quiet: the kernel logs no audit line for it.) The runtime named, as `--runtime cnr` does.
  got=$("${run[@]}" --runtime cnr mybox sh -c 'cat /proc/self/attr/current; echo h > /proc/sysrq-trigger; echo "write=$?"; cat /proc/sysrq-trigger; echo "read=$?"' 2>&1)
  # docker carries stdout and stderr apart, each write whole: the shell's error may come out before cat's line,
  # or between its own pieces ("sh: " and "can't create …": seen once as "sh: docker-default (enforce)")
  if grep -q "docker-default (enforce)$" <<<"$got"; then ok "docker run --runtime cnr: /proc/self/attr/current is docker-default (enforce)"
  else notok "docker run --runtime cnr: /proc/self/attr/current is docker-default (enforce)" "$got"; fi
  if grep -q 'write=[1-9]' <<<"$got" && grep -q "sysrq-trigger'*: Permission denied" <<<"$got" && grep -q 'read=[1-9]' <<<"$got"; then
    ok "docker-default: the write to /proc/sysrq-trigger fails, the read is denied ($(grep -m1 'cat:' <<<"$got"))"
  else notok "docker-default denies /proc/sysrq-trigger" "want write=non-zero and 'cat: …sysrq-trigger: Permission denied':" "$got"; fi
  got=$("${run[@]}" --security-opt apparmor=unconfined mybox sh -c 'cat /proc/self/attr/current; cat /proc/sysrq-trigger' 2>&1)
  if grep -q "unconfined$" <<<"$got" && ! grep -q 'Permission denied' <<<"$got"; then ok "--security-opt apparmor=unconfined: unconfined, the read gets past open ($(tail -1 <<<"$got"))"
  else notok "--security-opt apparmor=unconfined" "want unconfined and no Permission denied:" "$got"; fi

  # a detached container: its scope has the limits; exec, stop (SIGTERM reaches a shell that traps it), rm
  id=$($DOCKER run -d --network none --name c1 --memory 32m --pids-limit 50 mybox sh -c 'trap "exit 0" TERM; while :; do sleep 1; done' 2>&1)
  if [[ $id =~ ^[0-9a-f]{64}$ ]]; then
    ok "docker run -d --memory 32m --pids-limit 50"
    unit=docker-$id.scope
    # dockerd gives the shim --root EXEC-ROOT/runtime-NAME, the shim adds its namespace: cnr's own state there
    check "cnr list (the shim's --root) shows the container: cnr runs it, not runc" "^$id\$" \
      sh -c 'for r in "$@"; do [ -d "$r" ] && "'"$CNR"'" --root "$r" list -q; done; true' sh "${states[@]}"
    [ -d "${states[0]}" ] || [ -d "${states[1]}" ] || echo "    the container's state dirs: $(find /run -maxdepth 6 -type d -name "$id" 2>/dev/null)"
    check "systemctl: $unit is active in system.slice, MemoryMax=32M TasksMax=50" '^active system.slice 33554432 50$' \
      sh -c "echo \$(systemctl show -p ActiveState --value $unit) \$(systemctl show -p Slice --value $unit) \$(systemctl show -p MemoryMax --value $unit) \$(systemctl show -p TasksMax --value $unit)"
    check "the scope's cgroup files agree (memory.max pids.max)" '^33554432 50$' \
      sh -c "echo \$(cat /sys/fs/cgroup/system.slice/$unit/memory.max /sys/fs/cgroup/system.slice/$unit/pids.max)"
    check "docker exec c1 id" '^uid=0\(root\)' $DOCKER exec c1 id
    check "docker exec: the process is confined too" '^docker-default \(enforce\)$' $DOCKER exec c1 cat /proc/self/attr/current
    check "docker update --memory 64m: the scope's MemoryMax" '^67108864 67108864$' \
      sh -c "$DOCKER update --memory 64m --memory-swap 64m c1 >/dev/null && echo \$(systemctl show -p MemoryMax --value $unit) \$(cat /sys/fs/cgroup/system.slice/$unit/memory.max)"
    # the device rules Docker gives (deny all, then the standard nodes) are the scope's device policy too
    check "systemctl show: DevicePolicy=strict, DeviceAllow has /dev/null (char 1:3)" '^strict .*/dev/char/1:3 rwm' \
      sh -c "echo \$(systemctl show -p DevicePolicy --value $unit) \$(systemctl show -p DeviceAllow --value $unit)"
    check "the container's /dev/null and /dev/urandom work (both device programs allow them)" '^devices-ok$' \
      $DOCKER exec c1 sh -c 'echo x > /dev/null && head -c 1 /dev/urandom > /dev/null && echo devices-ok'
    check "a device outside the rules is denied (mknod c 1 1, then open)" 'Operation not permitted' \
      $DOCKER exec c1 sh -c 'mknod /tmp/mem c 1 1 && head -c 1 /tmp/mem; echo "exit=$?"'
    t=$(date +%s%N)
    check "docker stop c1" '^c1$' $DOCKER stop -t 30 c1
    echo "    measured: docker stop (SIGTERM, the shell exits) $(ms "$t") ms"
    check "docker inspect: exited 0" '^exited 0$' $DOCKER inspect -f '{{.State.Status}} {{.State.ExitCode}}' c1
    check "docker rm c1" '^c1$' $DOCKER rm c1
    if [ -z "$(units 'docker-*.scope')" ] && [ ! -e "/sys/fs/cgroup/system.slice/$unit" ]; then ok "after docker rm: no docker-*.scope unit, no cgroup"
    else notok "after docker rm: no docker-*.scope unit" "$(units 'docker-*.scope')"; fi
  else notok "docker run -d --memory 32m --pids-limit 50" "$id"; fi
  # docker kill: SIGKILL through cnr kill, the container exits 137
  $DOCKER run -d --network none --name c2 mybox sleep 1000 >/dev/null 2>&1
  check "docker kill c2, then it exited 137" '^exited 137$' sh -c "$DOCKER kill c2 >/dev/null && $DOCKER wait c2 >/dev/null; $DOCKER inspect -f '{{.State.Status}} {{.State.ExitCode}}' c2"
  $DOCKER rm -f c2 >/dev/null 2>&1
  left=$(units 'docker-*.scope'; find "${states[@]}" -mindepth 1 -maxdepth 1 2>/dev/null)
  [ -z "$left" ] && ok "nothing of cnr's left under Docker (no scope, no state in ${states[*]})" || notok "nothing left under Docker" "$left"
  systemctl stop docker docker.socket containerd >/dev/null 2>&1
fi

# ---- Podman (root; cgroup_manager = systemd, its default) ---------------------------------------------
P=(podman --runtime "$CNR")
check "podman info: cgroup manager systemd, cgroup v2" '^systemd v2$' podman info --format '{{.Host.CgroupManager}} {{.Host.CgroupsVersion}}'
check "podman import of the mybox rootfs" '^(sha256:)?[0-9a-f]{64}$' sh -c 'tar -C bundles/mybox/rootfs -c . | podman import - localhost/mybox:latest'
t=$(date +%s%N)
check "podman --runtime cnr run --rm mybox id" '^uid=0\(root\) gid=0\(root\)' "${P[@]}" run --rm --network none localhost/mybox id
echo "    measured: podman run --rm $(ms "$t") ms"
check "podman: the container is confined by Podman's AppArmor profile" '^containers-default-[0-9.]+ \(enforce\)$' \
  "${P[@]}" run --rm --network none localhost/mybox cat /proc/self/attr/current
check_rc "podman run --memory 10m: a 20 MB dd is OOM-killed (exit 137)" 137 \
  "${P[@]}" run --rm --network none --memory 10m localhost/mybox dd if=/dev/zero of=/dev/null bs=20M count=1
id=$("${P[@]}" run -d --network none --name p1 --memory 32m --pids-limit 50 localhost/mybox sh -c 'trap "exit 0" TERM; while :; do sleep 1; done' 2>&1)
if [[ $id =~ ^[0-9a-f]{64}$ ]]; then
  ok "podman run -d --memory 32m --pids-limit 50"
  unit=libpod-$id.scope
  check "systemctl: $unit is active in machine.slice, MemoryMax=32M TasksMax=50" '^active machine.slice 33554432 50$' \
    sh -c "echo \$(systemctl show -p ActiveState --value $unit) \$(systemctl show -p Slice --value $unit) \$(systemctl show -p MemoryMax --value $unit) \$(systemctl show -p TasksMax --value $unit)"
  check "the scope's cgroup files agree (memory.max pids.max)" '^33554432 50$' \
    sh -c "echo \$(cat /sys/fs/cgroup/machine.slice/$unit/memory.max /sys/fs/cgroup/machine.slice/$unit/pids.max)"
  check "podman exec p1 id" '^uid=0\(root\)' "${P[@]}" exec p1 id
  check "podman stop p1" '^p1$' "${P[@]}" stop -t 30 p1
  check "podman inspect: exited 0" '^exited 0$' "${P[@]}" inspect -f '{{.State.Status}} {{.State.ExitCode}}' p1
  check "podman rm p1" '^p1$' "${P[@]}" rm p1
  if [ -z "$(units 'libpod-*.scope')" ]; then ok "after podman rm: no libpod-*.scope unit"
  else notok "after podman rm: no libpod-*.scope unit" "$(units 'libpod-*.scope')"; fi
else notok "podman run -d --memory 32m --pids-limit 50" "$id"; fi

# ---- Podman rootless (an ordinary user; cgroup_manager = systemd: the user's own systemd instance) -------
# The user has /etc/subuid and /etc/subgid ranges and a systemd user instance (loginctl enable-linger starts
# user@UID.service and its bus). Podman makes a user namespace from those ranges (newuidmap) and runs cnr in
# it as that namespace's uid 0, passing no --root (cnr's state goes under $XDG_RUNTIME_DIR/cnr) and the
# cgroupsPath "user.slice:libpod:ID" with --systemd-cgroup: the scope is made by the user's instance.
# The user's storage is on a tmpfs (overlayfs, native in a user namespace since 5.11, cannot use the guest's
# overlay as its upper layer).
ru=cnrpodman ru_home=/var/lib/cnrpodman
mkdir -p $ru_home && mount -t tmpfs -o mode=0755 tmpfs $ru_home
if ! useradd --home-dir $ru_home/home --create-home --shell /bin/sh "$ru" 2>&1; then notok "useradd $ru"
else
  ru_uid=$(id -u $ru) ru_gid=$(id -g $ru)
  # useradd gives a new user ranges where /etc/login.defs says so; a range of its own otherwise
  grep -q "^$ru:" /etc/subuid || usermod --add-subuids 400000-465535 "$ru"
  grep -q "^$ru:" /etc/subgid || usermod --add-subgids 400000-465535 "$ru"
  ru_xdg=/run/user/$ru_uid
  # as the user, with a login's environment (what pam_systemd would set)
  ru_as() {
    (cd $ru_home/home && setpriv --reuid="$ru_uid" --regid="$ru_gid" --init-groups env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
      HOME=$ru_home/home USER=$ru LOGNAME=$ru XDG_RUNTIME_DIR=$ru_xdg DBUS_SESSION_BUS_ADDRESS=unix:path=$ru_xdg/bus "$@")
  }
  mkdir -p $ru_home/home/.config/containers
  printf '[storage]\ndriver = "overlay"\n' > $ru_home/home/.config/containers/storage.conf
  chown -R "$ru_uid:$ru_gid" $ru_home/home
  loginctl enable-linger "$ru"
  for _ in $(seq 240); do [ -S "$ru_xdg/bus" ] && break; sleep 0.5; done
  ru_svc=/sys/fs/cgroup/user.slice/user-$ru_uid.slice/user@$ru_uid.service
  if [ ! -S "$ru_xdg/bus" ]; then notok "rootless podman: loginctl enable-linger starts user@$ru_uid.service" "$(systemctl status "user@$ru_uid.service" 2>&1 | head -20)"
  else
    ok "rootless podman: user $ru (uid $ru_uid, $(grep "^$ru:" /etc/subuid) in /etc/subuid), its systemd instance and bus"
    check "rootless podman: systemd delegates cpu memory pids to user@$ru_uid.service" '\bcpu\b.*\bmemory\b.*\bpids\b' \
      sh -c "echo \$(cat $ru_svc/cgroup.controllers) / subtree \$(cat $ru_svc/cgroup.subtree_control)"
    RP=(podman --runtime "$CNR")
    check "rootless podman info: rootless, cgroup manager systemd, cgroup v2, overlay storage" '^true systemd v2 overlay$' \
      ru_as podman info --format '{{.Host.Security.Rootless}} {{.Host.CgroupManager}} {{.Host.CgroupsVersion}} {{.Store.GraphDriverName}}'
    ru_import() { tar -C bundles/mybox/rootfs -c . | ru_as podman import - localhost/mybox:latest; }
    check "rootless podman import of the mybox rootfs (as the user)" '^(sha256:)?[0-9a-f]{64}$' ru_import
    t=$(date +%s%N)
    check "rootless podman --runtime cnr run --rm mybox id: root in Podman's user namespace" '^uid=0\(root\) gid=0\(root\)' \
      ru_as "${RP[@]}" run --rm --network none localhost/mybox id
    echo "    measured: rootless podman run --rm $(ms "$t") ms"
    ru_uidmap() { echo $(ru_as "${RP[@]}" run --rm --network none localhost/mybox cat /proc/self/uid_map); }
    check "rootless podman: the container's uid 0 is the user's, 1.. the subordinate range (uid_map)" "^0 $ru_uid 1 1 [0-9]+ 65536$" ru_uidmap
    check_rc "rootless podman run --memory 10m: a 20 MB dd is OOM-killed (exit 137)" 137 \
      ru_as "${RP[@]}" run --rm --network none --memory 10m localhost/mybox dd if=/dev/zero of=/dev/null bs=20M count=1
    id=$(ru_as "${RP[@]}" run -d --network none --name r1 --memory 32m --pids-limit 50 localhost/mybox sh -c 'trap "exit 0" TERM; while :; do sleep 1; done' 2>&1)
    if [[ $id =~ ^[0-9a-f]{64}$ ]]; then
      ok "rootless podman run -d --memory 32m --pids-limit 50"
      unit=libpod-$id.scope
      check "rootless: cnr's state is under the user's runtime dir ($ru_xdg/cnr), where Podman's cnr calls find it" "^$id\$" \
        ru_as "$CNR" --root "$ru_xdg/cnr" list -q
      check "systemctl --user: $unit is active in the user's user.slice, delegated, MemoryMax=32M TasksMax=50" '^active user.slice yes 33554432 50$' \
        ru_as sh -c "echo \$(systemctl --user show -p ActiveState --value $unit) \$(systemctl --user show -p Slice --value $unit) \$(systemctl --user show -p Delegate --value $unit) \$(systemctl --user show -p MemoryMax --value $unit) \$(systemctl --user show -p TasksMax --value $unit)"
      cg=$(ru_as systemctl --user show -p ControlGroup --value "$unit" 2>/dev/null)
      check "the user's scope's cgroup files agree (memory.max pids.max in $cg)" '^33554432 50$' \
        sh -c "echo \$(cat /sys/fs/cgroup$cg/memory.max /sys/fs/cgroup$cg/pids.max)"
      check "rootless podman exec r1 id" '^uid=0\(root\)' ru_as "${RP[@]}" exec r1 id
      check "rootless podman exec: the process is in the container's scope" "^0::/\$" ru_as "${RP[@]}" exec r1 cat /proc/self/cgroup
      check "rootless podman stop r1" '^r1$' ru_as "${RP[@]}" stop -t 30 r1
      check "rootless podman inspect: exited 0" '^exited 0$' ru_as "${RP[@]}" inspect -f '{{.State.Status}} {{.State.ExitCode}}' r1
      check "rootless podman rm r1" '^r1$' ru_as "${RP[@]}" rm r1
      # the container's scope (Podman's libpod-conmon-ID.scope may still be going away: conmon's, not cnr's)
      left=$(ru_as systemctl --user list-units --all --no-legend --plain "$unit" 2>&1; ls -A "$ru_xdg/cnr" 2>/dev/null)
      [ -z "$left" ] && ok "after rootless podman rm: no $unit in the user's instance, no state in $ru_xdg/cnr" \
        || notok "after rootless podman rm: nothing left" "$left"
    else notok "rootless podman run -d --memory 32m --pids-limit 50" "$id"; fi
    ru_as "${RP[@]}" run -d --network none --name r2 localhost/mybox sleep 1000 >/dev/null 2>&1
    ru_kill() { ru_as "${RP[@]}" kill r2 >/dev/null && ru_as "${RP[@]}" wait r2 >/dev/null; ru_as "${RP[@]}" inspect -f '{{.State.Status}} {{.State.ExitCode}}' r2; }
    check "rootless podman kill r2, then it exited 137" '^exited 137$' ru_kill
    ru_as "${RP[@]}" rm -f r2 >/dev/null 2>&1
    # cgroup_manager = cgroupfs: no cgroupsPath, and cnr, rootless, puts the container below its own cgroup
    # (Podman's podman-PID.scope, which holds Podman's processes: cnr enables no controller there)
    check "rootless podman --cgroup-manager cgroupfs run --rm mybox id" '^uid=0\(root\) gid=0\(root\)' \
      ru_as "${RP[@]}" --cgroup-manager cgroupfs run --rm --network none localhost/mybox id
  fi
  loginctl disable-linger "$ru"
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
