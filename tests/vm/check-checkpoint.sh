#!/bin/bash
# check-checkpoint.sh: `cnr checkpoint` / `cnr restore` with CRIU, in ONE qemu guest running Debian's 6.1 kernel
# (VM_BACKEND=qemu: user-mode-linux has no CONFIG_CHECKPOINT_RESTORE, and Debian 12's CRIU 3.17 cannot dump on
# newer kernels such as this machine's 6.18). A counter survives checkpoint/restore with its memory (the count
# goes on), --leave-running, restore into another id, a config bind mount, an established TCP connection in
# the container's own netns with --tcp-established; a restored container is a normal one for state, exec, ps,
# kill and delete; bad input (no image dir, another container's images, CRIU missing) is one line and leaves
# nothing behind; a terminal container, the lab step, and Podman's checkpoint/restore with --runtime cnr.
# Ends with "N passed, N failed, N skipped" (tests/run-all.sh counts it); exit 0 when nothing failed,
# 77 with the reason when no qemu guest can be had here.
#   VM_TIMEOUT (default 2400 s: ~25 min on a loaded 2-core host) as in run-in-vm.sh; CNR_BINARY (default bin/cnr)
set -u
D=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
ROOT=$(cd "$D/../.." && pwd)
cd "$ROOT" || exit 1

if [ "${1:-}" != --in-guest ]; then
  [ "$(id -u)" = 0 ] || { echo "check-checkpoint: SKIPPED: not root (the guest needs root)" >&2; exit 77; }
  CNR=${CNR_BINARY:-$ROOT/bin/cnr}
  [ -x "$CNR" ] || { echo "check-checkpoint: SKIPPED: no $CNR (make all)" >&2; exit 77; }
  [ -x bundles/mybox/rootfs/bin/busybox ] || { echo "check-checkpoint: SKIPPED: no bundles/mybox/rootfs (make bundles)" >&2; exit 77; }
  if ! "$D/setup.sh" --qemu >/dev/null; then
    echo "check-checkpoint: SKIPPED: the qemu guest could not be set up (tests/vm/setup.sh --qemu: qemu-system-x86, criu, Debian's kernel)" >&2
    exit 77
  fi
  out=$(VM_BACKEND=qemu VM_TIMEOUT=${VM_TIMEOUT:-2400} "$D/run-in-vm.sh" "$(printf '%q --in-guest' "$D/check-checkpoint.sh")")
  rc=$?
  printf '%s\n' "$out" | grep -v -E '^[0-9]+ passed, [0-9]+ failed'
  read -r p f s < <(printf '%s\n' "$out" | awk '/^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$/ { print $1, $3, $5 }')
  [ -n "${p:-}" ] || { echo "not ok - the guest ran the checks (run-in-vm.sh exited $rc without a summary)"; p=0 f=1 s=0; }
  echo "$p passed, $f failed, $s skipped"
  [ "$f" = 0 ]; exit
fi

# --- in the guest (qemu, Debian's 6.1 kernel), as root, cwd = the checkout ------------------------------
. "$D/guest-checks.sh"
CNR=${CNR_BINARY:-$PWD/bin/cnr}
W=$(mktemp -d /tmp/ckpt.XXXXXX)
R=$W/state
mkdir -p "$W/data"; echo from-the-host > "$W/data/file"
cnr() { "$CNR" --root "$R" "$@"; }

# bundle DIR ARGS-JSON [bind|net-admin|terminal]: mybox's config and rootfs (by absolute path), no terminal, the
# process ARGS; with "bind", $W/data bound read-only at /data; with "net-admin", CAP_NET_ADMIN (`ip link set lo
# up`: a no-op since cnr brings a new network namespace's loopback up, as runc; kept for older binaries); with
# "terminal", a terminal
bundle() {
  mkdir -p "$1"
  python3 - "$PWD/bundles/mybox" "$1" "$2" "${3:-}" "$W/data" <<'EOF'
import json, sys
src, dst, args, extra, data = sys.argv[1:6]
c = json.load(open(src + "/config.json"))
c["root"] = {"path": src + "/rootfs", "readonly": False}
c["process"]["terminal"] = extra == "terminal"
c["process"]["args"] = json.loads(args)
if extra == "bind":
    c["mounts"].append({"destination": "/data", "type": "bind", "source": data, "options": ["rbind", "ro"]})
if extra == "net-admin":
    for caps in c["process"]["capabilities"].values():
        caps.append("CAP_NET_ADMIN")
json.dump(c, open(dst + "/config.json", "w"), indent=1)
EOF
}
COUNTER='["sh","-c","i=0; while :; do i=$((i+1)); echo $i; sleep 1; done"]'
bundle "$W/counter" "$COUNTER" bind
bundle "$W/plain" "$COUNTER"

# wait_lines FILE N: until FILE has N lines (the guest's CPU is emulated: up to 120 s)
wait_lines() { for _ in $(seq 240); do [ "$(wc -l < "$1" 2>/dev/null || echo 0)" -ge "$2" ] && return 0; sleep 0.5; done; return 1; }
# leftovers ID: what a container ID left behind (state dir, cgroup, CRIU's root mount); empty when nothing
leftovers() {
  [ -e "$R/$1" ] && echo "state dir $R/$1"
  [ -e "/sys/fs/cgroup/$1" ] && echo "cgroup /sys/fs/cgroup/$1"
  grep -F "/$1/criu-root" /proc/self/mountinfo
  true
}
# the container's stdio are pipes (as under a shim): restore hands its own pipes to CRIU in their place
run_counter() { # ID BUNDLE OUT
  cnr run -d --bundle "$2" "$1" < <(sleep 1000) > >(cat > "$3") 2> >(cat > "$3.err")
}
restore_counter() { # ID BUNDLE IMAGES OUT [flags…]
  local id=$1 b=$2 img=$3 out=$4; shift 4
  cnr restore -d --bundle "$b" --image-path "$img" "$@" "$id" < <(sleep 1000) > >(cat > "$out") 2> >(cat > "$out.err")
}
# show_log LOG: CRIU's errors, if any (a successful dump's log has warnings only)
show_log() { [ -f "$1" ] && grep -E 'Error' "$1" | head -5 | sed 's/^/    log: /'; }

check "criu check passes in the guest (kernel $(uname -r))" 'Looks good' criu check

# 1. a counter survives checkpoint/restore with its memory; the restored container is a normal container
if run_counter c1 "$W/counter" "$W/out1" && wait_lines "$W/out1" 3; then ok "run -d: the counter counts"
else notok "run -d: the counter counts" "$(cat "$W/out1" "$W/out1.err" 2>&1)"; fi
# The init leads its own session (setsid(), as runc's nsexec): CRIU dumps it without --shell-job. CKPT_SHELL_JOB
# adds flags to every checkpoint and restore (e.g. --shell-job for a binary older than that)
SJ=${CKPT_SHELL_JOB:-}
check "checkpoint c1 (bind mount /data from the config: an external mount)" '' cnr checkpoint $SJ --image-path "$W/img1" c1
show_log "$W/img1/dump.log"
last=$(tail -n 1 "$W/out1")
if ! cnr state c1 >/dev/null 2>&1; then ok "after checkpoint, c1 is gone (as runc)"; else notok "after checkpoint, c1 is gone" "$(cnr state c1 2>&1)"; fi
check "descriptors.json records the pipes" 'pipe:' cat "$W/img1/descriptors.json"
sleep 2
restored=
if restore_counter c1 "$W/counter" "$W/img1" "$W/out2" $SJ && wait_lines "$W/out2" 2; then
  restored=1
  first=$(head -n 1 "$W/out2")
  if [ "$first" = "$((last + 1))" ]; then ok "restore: the count goes on ($last, then $first)"
  else notok "restore: the count goes on" "last before: $last, first after: $first"; fi
else notok "restore c1" "$(cat "$W/out2.err" 2>&1)"; show_log "$W/img1/restore.log"; fi
if [ -n "$restored" ]; then
check "state: the restored c1 is running" '"status": "running"' cnr state c1
check "exec into the restored c1 sees its /data bind" 'from-the-host' cnr exec c1 cat /data/file
check "exec: the restored counter is pid 1 in its pid namespace" '^sh$' cnr exec c1 cat /proc/1/comm
check "ps lists the restored process" 'sh' cnr ps c1
pid=$(cnr state c1 | sed -n 's/.*"pid": \([0-9]*\).*/\1/p')
cg=$(cut -d: -f3 "/proc/$pid/cgroup" 2>/dev/null)
check "the restored process is in the container's cgroup" "^0::/.*c1" cat "/proc/$pid/cgroup"
check "kill c1 KILL" '' cnr kill c1 KILL
for _ in $(seq 100); do cnr state c1 2>/dev/null | grep -q '"stopped"' && break; sleep 0.2; done
check "delete c1" '' cnr delete c1
lo=$(leftovers c1); [ -z "$lo" ] && ok "delete left nothing of c1" || notok "delete left nothing of c1" "$lo"
fi
cnr delete -f c1 >/dev/null 2>&1

# 2. --leave-running, then a restore into another id while the original still runs
run_counter c2 "$W/plain" "$W/out3" && wait_lines "$W/out3" 2
check "checkpoint --leave-running c2" '' cnr checkpoint $SJ --leave-running --image-path "$W/img2" c2
show_log "$W/img2/dump.log"
check "c2 still runs after --leave-running" '"status": "running"' cnr state c2
n=$(wc -l < "$W/out3")
if wait_lines "$W/out3" $((n + 2)); then ok "c2 still counts after --leave-running"; else notok "c2 still counts after --leave-running" "$(tail -n 3 "$W/out3")"; fi
if restore_counter c3 "$W/plain" "$W/img2" "$W/out4" $SJ && wait_lines "$W/out4" 1; then
  ok "restore the images of c2 into a new id c3 while c2 runs"
  check "state c3: running" '"id": "c3"' cnr state c3
else notok "restore into another id (c3)" "$(cat "$W/out4.err" 2>&1)"; show_log "$W/img2/restore.log"; fi
cnr delete -f c2 >/dev/null 2>&1; cnr delete -f c3 >/dev/null 2>&1
lo=$(leftovers c2; leftovers c3); [ -z "$lo" ] && ok "delete -f left nothing of c2 and c3" || notok "delete -f left nothing of c2 and c3" "$lo"

# 3. a container with a terminal (--console-socket, as runc's checkpoint tests run theirs): CRIU dumps the pty
# slave without its master (orphan_pts_master) and restore sends the new master to --console-socket
# console_receiver SOCKET OUT: takes one pty master from SOCKET and copies what it reads to OUT
console_receiver() {
  python3 - "$1" "$2" <<'EOF' &
import os, socket, sys
path, out = sys.argv[1:3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(1)
c, _ = s.accept()
_, fds, _, _ = socket.recv_fds(c, 4096, 1)
c.close()
with open(out, "ab", buffering=0) as f:
    while True:
        try:
            data = os.read(fds[0], 4096)
        except OSError:
            break
        if not data:
            break
        f.write(data)
EOF
  for _ in $(seq 120); do [ -S "$1" ] && return 0; sleep 0.5; done; return 1
}
bundle "$W/tty" "$COUNTER" terminal
if console_receiver "$W/tty1.sock" "$W/out8" && cnr run -d --console-socket "$W/tty1.sock" --bundle "$W/tty" c7 && wait_lines "$W/out8" 2; then
  check "checkpoint c7 (a terminal: the pty's master is the console socket's)" '' cnr checkpoint $SJ --image-path "$W/img5" c7
  show_log "$W/img5/dump.log"
  last=$(tail -n 1 "$W/out8" | tr -d '\r')
  if console_receiver "$W/tty2.sock" "$W/out9" && cnr restore -d $SJ --console-socket "$W/tty2.sock" --bundle "$W/tty" --image-path "$W/img5" c7 \
     && wait_lines "$W/out9" 1; then
    first=$(head -n 1 "$W/out9" | tr -d '\r')
    if [ "$first" = "$((last + 1))" ]; then ok "restore --console-socket: the count goes on on the new terminal ($last, then $first)"
    else notok "restore --console-socket: the count goes on on the new terminal" "last before: $last, first after: $(head -c 200 "$W/out9")"; fi
    check "the restored init's stdin is its terminal" '^/dev/pts/' cnr exec c7 readlink /proc/1/fd/0
  else notok "restore --console-socket c7" "$(cat "$W/out9" 2>&1)"; show_log "$W/img5/restore.log"; fi
else notok "run -d --console-socket: the counter counts on its terminal" "$(cat "$W/out8" 2>&1)"; fi
cnr delete -f c7 >/dev/null 2>&1
lo=$(leftovers c7); [ -z "$lo" ] && ok "delete -f left nothing of c7" || notok "delete -f left nothing of c7" "$lo"

# 4. an established TCP connection inside the container's own network namespace
# The listener's stdin is a pipe that stays open: a background job's stdin is /dev/null, and busybox nc ends the
# connection at its EOF (the client's loop then dies of SIGPIPE and the container stops)
TCP='["sh","-c","ip link set lo up; sleep 100000 | nc -l -p 5000 > /tmp/got & sleep 2; i=0; while :; do i=$((i+1)); echo ping $i; sleep 1; done | nc 127.0.0.1 5000"]'
bundle "$W/tcp" "$TCP" net-admin
rm -f bundles/mybox/rootfs/tmp/got
run_counter c4 "$W/tcp" "$W/out5"
for _ in $(seq 120); do [ "$(cnr exec c4 cat /tmp/got 2>/dev/null | wc -l)" -ge 2 ] && break; sleep 0.5; done
got=$(cnr checkpoint $SJ --image-path "$W/img-notcp" c4 2>&1); rc=$?
if [ $rc != 0 ] && [ "$(printf '%s\n' "$got" | wc -l)" = 1 ] && cnr state c4 | grep -q running; then ok "without --tcp-established: refused in one line, the container still runs ($got)"
else notok "without --tcp-established: refused in one line, the container still runs" "exit $rc: $got"; fi
check "checkpoint --tcp-established c4" '' cnr checkpoint $SJ --tcp-established --image-path "$W/img3" c4
show_log "$W/img3/dump.log"
if restore_counter c4 "$W/tcp" "$W/img3" "$W/out6" --tcp-established $SJ; then
  before=$(cnr exec c4 cat /tmp/got | wc -l)
  for _ in $(seq 120); do [ "$(cnr exec c4 cat /tmp/got | wc -l)" -ge $((before + 2)) ] && break; sleep 0.5; done
  after=$(cnr exec c4 cat /tmp/got | wc -l)
  if [ "$after" -ge $((before + 2)) ]; then ok "--tcp-established: the connection carries on after restore ($before, then $after lines)"
  else notok "--tcp-established: the connection carries on after restore" "$before, then $after lines"; fi
else notok "restore --tcp-established c4" "$(cat "$W/out6.err" 2>&1)"; show_log "$W/img3/restore.log"; fi
cnr delete -f c4 >/dev/null 2>&1

# 5. bad input: one clear line, nothing left
one_line() { # NAME WANT-REGEX ID COMMAND…: fails, stderr is one line matching, ID left nothing
  local name=$1 want=$2 id=$3 got rc lo; shift 3
  got=$("$@" 2>&1 >/dev/null); rc=$?
  lo=$(leftovers "$id")
  if [ $rc != 0 ] && [ "$(printf '%s\n' "$got" | wc -l)" = 1 ] && grep -qE -- "$want" <<<"$got" && [ -z "$lo" ]; then ok "$name: $got"
  else notok "$name" "exit $rc, want /$want/ in one line and nothing left:" "$got" "$lo"; fi
}
one_line "restore without an image dir" 'image-path .*no such directory' c5 cnr restore -d --bundle "$W/plain" --image-path "$W/nothing" c5
mkdir -p "$W/empty"
one_line "restore from a dir that holds no checkpoint" 'holds no checkpoint' c5 cnr restore -d --bundle "$W/plain" --image-path "$W/empty" c5
# img1 was taken with /data bound: the plain bundle has no such mount
one_line "restore another container's images (a bind mount the bundle lacks)" 'CRIU restore failed' c5 \
  cnr restore -d $SJ --bundle "$W/plain" --image-path "$W/img1" c5 < <(sleep 1000)
run_counter c6 "$W/plain" "$W/out7" && wait_lines "$W/out7" 1
one_line "checkpoint with CRIU missing (PATH without it)" "CRIU is not installed.*criu package" c6-none \
  env PATH=/usr/bin:/bin "$CNR" --root "$R" checkpoint --image-path "$W/img4" c6
check "the container still runs after the refusal" '"status": "running"' cnr state c6
one_line "checkpoint --manage-cgroups-mode bogus" 'manage-cgroups-mode bogus' c6-none cnr checkpoint --manage-cgroups-mode bogus --image-path "$W/img4" c6
cnr delete -f c6 >/dev/null 2>&1

# 6. the lab step (README, "A process outlives its container"), as written there: bundles/counter (mybox's rootfs
# by a relative path, read-only), --explain shows the CRIU steps
if (cd bundles/counter && cnr run -d ctr < <(sleep 1000) > >(cat > "$W/lab1") 2>&1) && wait_lines "$W/lab1" 2; then
  check "lab: cnr checkpoint --image-path DIR ctr" '' cnr checkpoint --image-path "$W/lab" ctr
  last=$(tail -n 1 "$W/lab1")
  if (cd bundles/counter && cnr restore -d --image-path "$W/lab" ctr2 < <(sleep 1000) > >(cat > "$W/lab2") 2>&1) && wait_lines "$W/lab2" 1; then
    first=$(head -n 1 "$W/lab2")
    if [ "$first" = "count $((${last#count } + 1))" ]; then ok "lab: restore ctr2, the count goes on ($last, then $first)"
    else notok "lab: restore ctr2, the count goes on" "last before: $last, first after: $first"; fi
  else notok "lab: restore ctr2" "$(cat "$W/lab2" 2>&1)"; show_log "$W/lab/restore.log"; fi
  check "lab: checkpoint --explain --leave-running shows the CRIU steps" '\[criu\] criu swrk 3' cnr checkpoint --explain --leave-running --image-path "$W/lab3" ctr2
  check "lab: ctr2 still runs after --leave-running" '"status": "running"' cnr state ctr2
else notok "lab: cnr run -d ctr (bundles/counter)" "$(cat "$W/lab1" 2>&1)"; fi
cnr delete -f ctr >/dev/null 2>&1; cnr delete -f ctr2 >/dev/null 2>&1
lo=$(leftovers ctr; leftovers ctr2); [ -z "$lo" ] && ok "lab: delete -f left nothing" || notok "lab: delete -f left nothing" "$lo"

# 7. Podman drives it: `podman container checkpoint` / `restore` with --runtime cnr (root; no systemd in this
# guest: cgroupfs, events in a file; the image store on a tmpfs: overlay cannot sit on the guest's overlay)
if command -v podman >/dev/null && mkdir -p /var/lib/containers && mount -t tmpfs tmpfs /var/lib/containers; then
  P=(podman --cgroup-manager cgroupfs --events-backend file --storage-driver overlay --runtime "$CNR")
  check "podman import of the mybox rootfs" '^(sha256:)?[0-9a-f]{64}$' sh -c "tar -C bundles/mybox/rootfs -c . | $(printf '%q ' "${P[@]}") import - localhost/mybox:latest"
  check "podman run -d: a counter" '^[0-9a-f]{64}$' "${P[@]}" run -d --name pc --network none localhost/mybox sh -c 'i=0; while :; do i=$((i+1)); echo $i; sleep 1; done'
  for _ in $(seq 120); do [ "$("${P[@]}" logs pc 2>/dev/null | wc -l)" -ge 2 ] && break; sleep 0.5; done
  check "podman container checkpoint pc" '' "${P[@]}" container checkpoint pc
  # the log as the checkpoint left it: the restored process appends to it (conmon's k8s-file)
  n=$("${P[@]}" logs pc | wc -l); last=$("${P[@]}" logs pc | sed -n "${n}p")
  check "podman: the checkpointed container has exited" '^exited$' "${P[@]}" inspect -f '{{.State.Status}}' pc
  check "podman container restore pc" '' "${P[@]}" container restore pc
  for _ in $(seq 120); do [ "$("${P[@]}" logs pc | wc -l)" -ge $((n + 1)) ] && break; sleep 0.5; done
  after=$("${P[@]}" logs pc | sed -n "$((n + 1))p")
  if [ "$after" = "$((last + 1))" ]; then ok "podman: the count goes on after restore ($last, then $after)"
  else notok "podman: the count goes on after restore" "last before: $last (line $n), first after: $after" "$("${P[@]}" logs pc | tr '\n' ' ')"; fi
  check "podman exec into the restored container" '^sh$' "${P[@]}" exec pc cat /proc/1/comm
  check "podman rm -f pc" '' "${P[@]}" rm -f pc
  umount -l /var/lib/containers
else skip "Podman: podman not installed (tests/vm/setup.sh --callers) or no tmpfs for its store"; fi

rm -rf "$W"
echo "$passed passed, $failed failed, $skipped skipped"
