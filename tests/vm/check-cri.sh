#!/bin/bash
# check-cri.sh [--systemd] -- Kubernetes through containerd's CRI with cnr as the runtime handler, driven by a
# kubelet-like client (tests/Cnr.CriTests, `cri-check`), in ONE pure cgroup v2 user-mode-linux guest
# (run-in-vm.sh): containerd 1.6 (Debian) with its CRI plugin, handler `cnr` (the runc shim, BinaryName =
# bin/cnr) as the default runtime, the CNI bridge (Debian's containernetworking-plugins), a pause image
# built from tests/cri-images/pause.c and a busybox image from bundles/mybox/rootfs, imported with ctr.
#   --systemd   the student VM (run-in-vm.sh --systemd) and containerd's SystemdCgroup = true: the shim
#               passes --systemd-cgroup and the pod's containers are scopes in kubepods-pod<uid>.slice
# Prints the client's PASS/FAIL/SKIP lines and "time" lines; the last line is "N passed, N failed, N skipped"
# (tests/run-all.sh's format). Exit: 0 all passed, 1 a check failed, 77 (with the reason) when it cannot run:
# not root, bin/cnr not built, containerd cannot be installed.
#   CRI_DEBUG_DIR=dir   containerd logs at debug level (the shims' too); its log (and the guest's journal) is
#                       copied to dir
#   CRI_RUNC=1          then the same pod with the runc handler (Debian's runc), its lines prefixed "runc: ",
#                       for the side-by-side times; its checks are not counted
set -u
D=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
ROOT=$(cd "$D/../.." && pwd)
B="$D/build/cri"

if [ "${1:-}" = --in-guest ]; then
  shift
  # ---- in the guest: containerd with the CRI plugin, the images, the client ----
  W=/tmp/cri; mkdir -p "$W/net.d"
  fail() { echo "FAIL guest setup: $*"; [ -s "$W/containerd.log" ] && tail -n 20 "$W/containerd.log" | sed 's/^/     containerd: /'; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
  # the bridge and veth drivers are modules of the UML kernel, loaded from its tree (no kmod needed)
  M=/usr/lib/uml/modules/$(uname -r)
  for mod in bridge veth; do
    # modules.dep: the module, then what it needs, the most basic last
    for f in $(awk -v m="$mod" -F': *' '$1 ~ "/"m".ko$" {print $1; print $2}' "$M/modules.dep" | tr ' ' '\n' | grep -v '^$' | tac); do
      n=$(basename "$f" .ko)
      [ -d "/sys/module/${n//-/_}" ] || busybox insmod "$M/$f" || fail "insmod $f"
    done
  done
  # the guest's / is an overlay: the overlayfs snapshotter needs another filesystem for its upper dirs, and
  # containerd's state, the CNI's leases and the pods' netns files must not come from the host's read-only /
  for d in /var/lib/containerd /run/containerd /var/lib/cni /run/netns; do
    mkdir -p "$d" && mount -t tmpfs -o mode=0711 cri "$d" || fail "tmpfs on $d"
  done
  systemd_cgroup=false; [ "${CRI_CGROUP_DRIVER:-cgroupfs}" = systemd ] && systemd_cgroup=true
  cat > "$W/config.toml" <<EOF
version = 2
root = "/var/lib/containerd"
state = "/run/containerd"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "/run/containerd/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "cnr.test/pause:1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "cnr"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.cnr]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.cnr.options]
        BinaryName = "$CNR_BINARY"
        SystemdCgroup = $systemd_cgroup
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = $systemd_cgroup
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$W/net.d"
EOF
  cat > "$W/net.d/10-cri-check.conflist" <<'EOF'
{"cniVersion": "0.4.0", "name": "cri-check", "plugins": [
  {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.88.0.0/16"}]], "routes": [{"dst": "0.0.0.0/0"}]}}]}
EOF
  ms() { echo $(($(date +%s%N) / 1000000)); }
  secs() { local t=$(($(ms) - $1)); printf '%d.%03d' $((t / 1000)) $((t % 1000)); }
  start=$(ms)
  level=info; [ -n "${CRI_DEBUG_DIR:-}" ] && level=debug
  containerd --config "$W/config.toml" --log-level $level > "$W/containerd.log" 2>&1 & CTRD=$!
  for _ in $(seq 600); do ctr version >/dev/null 2>&1 && break; kill -0 $CTRD 2>/dev/null || fail "containerd exited"; sleep 0.2; done
  ctr version >/dev/null 2>&1 || fail "containerd did not answer on /run/containerd/containerd.sock"
  echo "time containerd start: $(secs "$start") s"
  start=$(ms)
  for i in pause busybox; do
    ctr -n k8s.io images import "$B/images/$i.tar" > "$W/import.log" 2>&1 || { cat "$W/import.log"; fail "ctr images import $i.tar"; }
  done
  echo "time image import: $(secs "$start") s"
  "$B/client/cri-check"; rc=$?
  if [ "$rc" != 0 ]; then
    echo "--- containerd log (last 40 lines) ---" >&2; tail -n 40 "$W/containerd.log" >&2
  fi
  if [ -n "${CRI_RUNC:-}" ] && command -v runc >/dev/null; then
    # the same pod with runc for the side-by-side figures: its lines prefixed, its result not counted
    CRI_HANDLER=runc "$B/client/cri-check" | grep -v -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' | sed 's/^/runc: /'
  fi
  kill $CTRD; wait $CTRD 2>/dev/null
  if [ -n "${CRI_DEBUG_DIR:-}" ]; then
    cp "$W/containerd.log" "$CRI_DEBUG_DIR/"
    [ -d /run/systemd/system ] && journalctl -b --no-pager > "$CRI_DEBUG_DIR/journal.log" 2>&1
  fi
  exit $rc
fi

# ---- on the host: dependencies, the client, the images, then one guest ----
SYSTEMD=
[ "${1:-}" = --systemd ] && SYSTEMD=--systemd
skip() { echo "check-cri: SKIPPED: $*" >&2; echo "0 passed, 0 failed, 1 skipped"; exit 77; }
[ "$(id -u)" = 0 ] || skip "not root (containerd and the guest need root)"
export CNR_BINARY=${CNR_BINARY:-$ROOT/bin/cnr}
[ -x "$CNR_BINARY" ] || skip "$CNR_BINARY is not built (make all)"
t0=$(date +%s)
if ! command -v containerd >/dev/null || [ ! -x /usr/lib/cni/bridge ]; then
  echo "check-cri: installing containerd and containernetworking-plugins with apt-get (containerd is not started on this host: policy-rc.d)" >&2
  prc=/usr/sbin/policy-rc.d
  if [ ! -e "$prc" ]; then
    trap 'rm -f "$prc"' EXIT; printf '#!/bin/sh\nexit 101\n' > "$prc"; chmod +x "$prc"
  fi
  "$ROOT/tests/install-deps.sh" containerd containernetworking-plugins >&2 || skip "containerd could not be installed"
  rm -f "$prc"; trap - EXIT
fi
mkdir -p "$B"
dotnet publish "$ROOT/tests/Cnr.CriTests" -c Release -o "$B/client" -nologo -v q > "$B.publish.log" 2>&1 \
  || { cat "$B.publish.log" >&2; echo "FAIL build: dotnet publish tests/Cnr.CriTests"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
"$ROOT/tests/cri-images/build.sh" "$B/images" >/dev/null || { echo "FAIL build: tests/cri-images/build.sh"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
t1=$(date +%s)
[ -n "$SYSTEMD" ] && export CRI_CGROUP_DRIVER=systemd
[ -n "${CRI_DEBUG_DIR:-}" ] && { mkdir -p "$CRI_DEBUG_DIR"; export VM_RW=$CRI_DEBUG_DIR; }
VM_TIMEOUT=${VM_TIMEOUT:-1200} "$D/run-in-vm.sh" $SYSTEMD "$D/check-cri.sh --in-guest" > "$B.out" 2>&1; rc=$?
t2=$(date +%s)
grep -v -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$B.out"
echo "time check-cri: build $((t1 - t0)) s, guest $((t2 - t1)) s"
if summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$B.out" | tail -1); then
  echo "$summary"
else
  echo "FAIL guest: no result from the guest (run-in-vm.sh exit $rc)"
  echo "0 passed, 1 failed, 0 skipped"
  [ "$rc" = 0 ] && rc=1
fi
exit $rc
