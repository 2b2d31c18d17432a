#!/usr/bin/env bash
# bench.sh: start-up time and memory of cnr beside runc and crun (Debian's packages, baselines only), on
# the same busybox bundle. First tests/bench.py, the runtimes alternated every iteration: `run /bin/true`,
# create+start+delete, `state`, `exec`, 20 containers started at once, peak RSS of a run, the waiting init's VmRSS and
# anonymous RSS, with median, p90 and ratios. Then the cost of linux.resources (hyperfine), unpacking a large
# image layer beside GNU tar, and a second pull from a local registry served from the blob cache.
# Not a test: numbers only. Needs root. BENCH_ITERATIONS (default 60) and BENCH_PARALLEL_ROUNDS (10) size
# bench.py; BENCH_RUNS (30) hyperfine's runs for the resources figure; BENCH_IMAGE_RUNS (3) the unpacks;
# BENCH_QUICK=1 stops after bench.py.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
runs=${BENCH_RUNS:-30}

if ((EUID != 0)); then echo "bench: containers need root: sudo make bench" >&2; exit 1; fi
[[ -x bin/cnr && -x bundles/mybox/rootfs/bin/busybox ]] || { echo "bench: run make bundles all first" >&2; exit 1; }
tests/install-deps.sh hyperfine runc crun

work=$repo/.bench
rm -rf "$work"
mkdir -p "$work"

# Our cgroups (all under /cnr-bench), the registry and the large files go whatever happens from here on.
cleanup() {
    tests/Cnr.IntegrationTests/Image/registry.sh stop "$work/registry"
    find /sys/fs/cgroup/cnr-bench /sys/fs/cgroup/*/cnr-bench -depth -type d -exec rmdir {} + 2>/dev/null || true
    rm -rf "$work/layer.tar.gz" "$work/unpack" "$work/layout" "$work/registry" "$work/store" "$work"/pull-?
}
trap cleanup EXIT

# One bundle per command, from mybox's config: no terminal, the shared rootfs by absolute path, and an
# absolute cgroup of our own (a relative one would be made under the cgroup bench itself runs in).
bundle() { # NAME ARGS…
    local dir=$work/$1; shift
    mkdir -p "$dir"
    python3 - "$repo/bundles/mybox/config.json" "$dir/config.json" "$repo/bundles/mybox/rootfs" "$@" <<'PY'
import json, os, sys
src, dst, rootfs, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
spec = json.load(open(src))
spec["process"]["terminal"] = False
spec["process"]["args"] = args
spec["root"]["path"] = rootfs
spec["linux"]["cgroupsPath"] = os.environ.get("CGROUP", "/cnr-bench/one")
if os.environ.get("RESOURCES"):
    spec["linux"]["resources"] = json.loads(os.environ["RESOURCES"])
json.dump(spec, open(dst, "w"), indent=1)
PY
}
bundle true /bin/true
bundle sleep sleep 1000
# 20 bundles for the parallel start, each with its own cgroup (containers may not share one).
for ((n = 0; n < 20; n++)); do CGROUP=/cnr-bench/par-$n bundle par/$n sleep 1000; done

# The runtimes side by side, alternated every iteration: run, create+start+delete, state, 20 in parallel,
# peak RSS, the waiting init's memory (tests/bench.py says how).
python3 tests/bench.py "$work" "$repo"

# The cost of cgroup setup: run /bin/true with and without linux.resources. cnr manages cgroup v2 only and
# refuses a limit whose controller is missing; on a hybrid host (v1 controllers, an empty cgroup2) extra
# device rules need none (an eBPF program on the cgroup2 directory), on a pure v2 host a memory and pids
# limit is measured. crun refuses hybrid cgroups outside a namespace hiding the cgroup2: cnr and runc only.
if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
    resources_what="memory.limit 256 MiB + pids.limit 100"
    resources='{"memory": {"limit": 268435456}, "pids": {"limit": 100}}'
else
    resources_what="device rules only (hybrid host: on a pure cgroup v2 host a memory + pids limit is measured)"
    resources='{"devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 5, "access": "rwm"}]}'
fi
[[ ${BENCH_QUICK:-} ]] && exit 0
RESOURCES=$resources bundle true-res /bin/true
hyperfine -N --style basic --warmup 5 --runs $runs --export-json "$work/resources.json" \
    -n cnr "$repo/bin/cnr --root $work/state-cnr run --bundle $work/true bench-cnr" \
    -n cnr-res "$repo/bin/cnr --root $work/state-cnr run --bundle $work/true-res bench-cnr" \
    -n runc "runc --root $work/state-runc run --bundle $work/true bench-runc" \
    -n runc-res "runc --root $work/state-runc run --bundle $work/true-res bench-runc"

# Image unpack: one large gzip layer (/usr/share/doc and man of this machine) as a rootfs tarball, against
# GNU tar on the same file. Each run starts with no dirty pages (sync), so that neither pays for the other's
# writeback.
image_runs=${BENCH_IMAGE_RUNS:-3}
tar -C /usr/share -czf "$work/layer.tar.gz" doc man
layer_mib=$(($(stat -c %s "$work/layer.tar.gz") >> 20))
tree_mib=$(($(du -sb --apparent-size /usr/share/doc /usr/share/man | awk '{ s += $1 } END { print s }') >> 20))
tree_files=$(find /usr/share/doc /usr/share/man | wc -l)
hyperfine --style basic --warmup 1 --runs $image_runs --export-json "$work/unpack.json" --prepare "rm -rf $work/unpack; sync" \
    -n cnr "$repo/bin/cnr bundle create $work/unpack --from $work/layer.tar.gz" \
    -n tar "mkdir $work/unpack && tar -xzf $work/layer.tar.gz -C $work/unpack"

# The same layer as an image in a throwaway local registry, pulled twice into one blob store: the second
# pull must find every blob cached, and costs the unpack alone.
tests/Cnr.IntegrationTests/Image/registry.sh deps
port=$(tests/Cnr.IntegrationTests/Image/registry.sh start "$work/registry")
python3 - "$work/layer.tar.gz" "$work/layout" <<'PY'
import gzip, hashlib, json, os, platform, shutil, sys
layer, layout = sys.argv[1], sys.argv[2]
blobs = os.path.join(layout, "blobs", "sha256")
os.makedirs(blobs)
def digest(path, opener=open):
    h = hashlib.sha256()
    with opener(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""): h.update(chunk)
    return "sha256:" + h.hexdigest()
def blob(data):
    d = hashlib.sha256(data).hexdigest()
    open(os.path.join(blobs, d), "wb").write(data)
    return {"digest": "sha256:" + d, "size": len(data)}
layer_digest = digest(layer)
shutil.copyfile(layer, os.path.join(blobs, layer_digest[7:]))
arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
config = blob(json.dumps({"architecture": arch, "os": "linux", "config": {"Cmd": ["/bin/sh"]},
                          "rootfs": {"type": "layers", "diff_ids": [digest(layer, gzip.open)]}}).encode())
manifest = blob(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer_digest, "size": os.path.getsize(layer)}]}).encode())
json.dump({"imageLayoutVersion": "1.0.0"}, open(os.path.join(layout, "oci-layout"), "w"))
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", **manifest,
    "annotations": {"org.opencontainers.image.ref.name": "1"}}]}, open(os.path.join(layout, "index.json"), "w"))
PY
skopeo copy -q --dest-tls-verify=false "oci:$work/layout:1" "docker://127.0.0.1:$port/bench/big:1"
for pull in 1 2; do
    t0=$EPOCHREALTIME
    "$repo/bin/cnr" bundle create "$work/pull-$pull" --from "docker://127.0.0.1:$port/bench/big:1" --plain-http \
        --store "$work/store" 2> "$work/pull-$pull.log"
    t1=$EPOCHREALTIME
    echo "$pull $t0 $t1" >> "$work/pull.txt"
done

python3 - "$work" "$resources_what" "$layer_mib" "$tree_mib" "$tree_files" <<'PY'
import glob, json, statistics, sys
work, resources_what, layer_mib, tree_mib, tree_files = sys.argv[1:]
def ms(x): return f"{x * 1000:.1f}"
def ratio(a, b): return f"{a / b:.2f}" if b else "-"
res = {r["command"]: r["median"] for r in json.load(open(f"{work}/resources.json"))["results"]}
print(f"\ncgroup setup: run /bin/true with linux.resources = {resources_what}")
for rt in ("cnr", "runc"):
    print(f"  {rt:5} {ms(res[rt]):>7} ms without, {ms(res[rt + '-res']):>7} ms with ({(res[rt + '-res'] - res[rt]) * 1000:+.1f} ms)")
print(f"  cnr/runc: {ratio(res['cnr'], res['runc'])} without, {ratio(res['cnr-res'], res['runc-res'])} with")

unpack = {r["command"]: r["median"] for r in json.load(open(f"{work}/unpack.json"))["results"]}
print(f"\nimage unpack of one {layer_mib} MiB gzip layer ({tree_mib} MiB, {tree_files} files unpacked), median:"
      f" cnr bundle create {ms(unpack['cnr'])} ms, tar -xzf {ms(unpack['tar'])} ms (cnr/tar {ratio(unpack['cnr'], unpack['tar'])})")
for line in open(f"{work}/pull.txt"):
    pull, t0, t1 = line.split()
    log = open(f"{work}/pull-{pull}.log").read()
    blobs = [l.split(": ", 1)[1] for l in log.splitlines() if ": cached" in l or ": downloaded" in l]
    print(f"  pull {pull} from the local registry: {ms(float(t1) - float(t0))} ms; blobs: {', '.join(blobs)}")
PY
