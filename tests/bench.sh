#!/usr/bin/env bash
# bench.sh: start-up time and memory of cnr beside runc and crun (Debian's packages, baselines only), on
# the same busybox bundle: `run /bin/true` and `run sh -c 'echo hi'` through hyperfine, median ratios,
# peak RSS of one run, and the RSS of an init waiting after `cnr create`; each lifecycle step (create,
# start, state, kill, delete); 50 containers started at once; the cost of linux.resources; unpacking a large
# image layer beside GNU tar, and a second pull from a local registry served from the blob cache.
# Not a test: numbers only. Needs root. BENCH_RUNS (default 100) sets hyperfine's runs (a quarter of it the
# lifecycles), BENCH_PARALLEL_ROUNDS (3) the rounds of 50, BENCH_IMAGE_RUNS (3) the unpacks.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
runs=${BENCH_RUNS:-100}

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
bundle echo sh -c 'echo hi'
bundle sleep sleep 1000
# 50 bundles for the parallel start, each with its own cgroup (containers may not share one).
for ((n = 0; n < 50; n++)); do CGROUP=/cnr-bench/par-$n bundle par/$n sleep 1000; done

# crun 1.8 refuses hybrid cgroups (v1 controllers + an empty cgroup2 at /sys/fs/cgroup/unified): it runs in
# a private mount namespace with a tmpfs over that cgroup2, where it sees plain cgroup v1 (and writes its
# unified-hierarchy files into the tmpfs: 4 MiB holds 50 containers' worth). cnr needs that
# cgroup2 (and stops there), runc takes either: they run on the host as it is. inner.sh RUNTIME… runs the
# measurements for the runtimes it is given; on a pure v2 host one run takes all three.
cat > "$work/inner.sh" <<INNER
#!/usr/bin/env bash
set -euo pipefail
[[ \${HIDE:-} ]] && mount -t tmpfs -o size=4m cnr-bench-hide /sys/fs/cgroup/unified
cd "$work"
set="\$*"; set=\${set// /-}
for b in true echo; do
    cmds=()
    for rt; do
        bin=\$rt; [[ \$rt == cnr ]] && bin=$repo/bin/cnr
        cmds+=(-n \$rt "\$bin --root $work/state-\$rt run --bundle $work/\$b bench-\$rt")
    done
    hyperfine -N --style basic --warmup 5 --runs $runs --export-json "$work/\$b-\$set.json" "\${cmds[@]}"
done

"$work/lifecycle.sh" "\$@"

# Peak RSS of one run: the largest process of the run (the runtime, its init or the user's process), as
# the kernel accounts it to waited-for children. Measured through busybox's time, whose own footprint
# (a static binary, vfork) is far below the runtimes'; a launcher like python would count its own RSS, since
# a forked child starts with the parent's pages. busybox prints ru_maxrss (KiB) multiplied by pagesize/1024,
# taking it for pages: divided back here.
for rt; do
    bin=\$rt; [[ \$rt == cnr ]] && bin=$repo/bin/cnr
    kib=\$(/bin/busybox time -v "\$bin" --root "$work/state-\$rt" run --bundle "$work/true" bench-rss-\$rt 2>&1 >/dev/null |
        awk -v f=\$((\$(getconf PAGESIZE) / 1024)) '/Maximum resident set size/ { print \$NF / f }')
    printf '%-5s peak RSS of one run: %.1f MiB\n' \$rt "\$(awk -v k=\$kib 'BEGIN { print k / 1024 }')"
done

# The init that waits between create and start (what stays resident per created container).
for rt; do
    bin=\$rt; [[ \$rt == cnr ]] && bin=$repo/bin/cnr
    "\$bin" --root "$work/state-\$rt" create --bundle "$work/true" bench-wait-\$rt </dev/null >/dev/null 2>&1
    pid=\$("\$bin" --root "$work/state-\$rt" state bench-wait-\$rt | python3 -c 'import json, sys; print(json.load(sys.stdin)["pid"])')
    printf '%-5s waiting init (pid %s): %s\n' \$rt \$pid "\$(grep VmRSS /proc/\$pid/status | tr -s ' \t' ' ')"
    "\$bin" --root "$work/state-\$rt" delete --force bench-wait-\$rt
done
INNER
chmod +x "$work/inner.sh"

# The lifecycle, step by step, and 50 containers started at once: inside inner.sh's mount namespace, so that
# crun runs too. Steps are timed with bash's own clock ($EPOCHREALTIME, no fork), one line per step.
cat > "$work/lifecycle.sh" <<'LIFE'
#!/usr/bin/env bash
set -euo pipefail
bin() { if [[ $1 == cnr ]]; then echo "$repo/bin/cnr"; else echo "$1"; fi; }
cleanup() {
    for rt; do
        for id in $("$(bin $rt)" --root "$work/state-$rt" list -q 2>/dev/null); do
            "$(bin $rt)" --root "$work/state-$rt" delete --force "$id" >/dev/null 2>&1 || true
        done
    done
}
trap cleanup EXIT

# create/start/state/kill/delete of `sleep 1000`, the runtimes taking turns; between kill and delete the
# script waits (untimed) until state says stopped, since the kill only sends the signal.
for ((i = 0; i < lifecycles; i++)); do
    for rt; do
        b=$(bin $rt) r="--root $work/state-$rt" id=bench-life-$rt
        t0=$EPOCHREALTIME; $b $r create --bundle "$work/sleep" $id </dev/null >/dev/null 2>&1
        t1=$EPOCHREALTIME; $b $r start $id
        t2=$EPOCHREALTIME; $b $r state $id >/dev/null
        t3=$EPOCHREALTIME; $b $r kill $id KILL
        t4=$EPOCHREALTIME
        until $b $r state $id | grep -q '"stopped"'; do sleep 0.005; done
        t5=$EPOCHREALTIME; $b $r delete $id
        t6=$EPOCHREALTIME
        printf '%s create %s\n%s start %s\n%s state %s\n%s kill %s\n%s delete %s\n' \
            $rt "$t0 $t1" $rt "$t1 $t2" $rt "$t2 $t3" $rt "$t3 $t4" $rt "$t5 $t6"
    done
done >> "$work/lifecycle.txt"

# 50 × (create && start) at once, wall time until all are running; then 50 × delete --force at once.
for ((round = 0; round < parallel_rounds; round++)); do
    for rt; do
        b=$(bin $rt) r="--root $work/state-$rt"
        rm -f "$work/par-failed"
        t0=$EPOCHREALTIME
        for ((n = 0; n < 50; n++)); do
            { $b $r create --bundle "$work/par/$n" bench-par-$rt-$n </dev/null >/dev/null 2>&1 &&
                $b $r start bench-par-$rt-$n || echo $n >> "$work/par-failed"; } &
        done
        wait
        t1=$EPOCHREALTIME
        for ((n = 0; n < 50; n++)); do $b $r delete --force bench-par-$rt-$n >/dev/null 2>&1 & done
        wait
        t2=$EPOCHREALTIME
        echo "$rt $t0 $t1 $t2 $(cat "$work/par-failed" 2>/dev/null | wc -l)"
    done
done >> "$work/parallel.txt"
LIFE
chmod +x "$work/lifecycle.sh"
export repo work lifecycles=$(((runs + 3) / 4)) parallel_rounds=${BENCH_PARALLEL_ROUNDS:-3}
if [[ $(stat -f -c %T /sys/fs/cgroup) != cgroup2fs ]] && mountpoint -q /sys/fs/cgroup/unified; then
    "$work/inner.sh" cnr runc
    HIDE=1 unshare -m --propagation private -- "$work/inner.sh" crun
else
    "$work/inner.sh" cnr runc crun
fi

# The cost of cgroup setup: run /bin/true with and without linux.resources. cnr manages cgroup v2 only and
# refuses a limit whose controller is missing; on a hybrid host (v1 controllers, an empty cgroup2) extra
# device rules need none (an eBPF program on the cgroup2 directory), on a pure v2 host a memory and pids
# limit is measured. crun refuses hybrid cgroups outside inner.sh's namespace: cnr and runc only.
if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
    resources_what="memory.limit 256 MiB + pids.limit 100"
    resources='{"memory": {"limit": 268435456}, "pids": {"limit": 100}}'
else
    resources_what="device rules only (hybrid host: on a pure cgroup v2 host a memory + pids limit is measured)"
    resources='{"devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 5, "access": "rwm"}]}'
fi
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
print()
for b, what in (("true", "run /bin/true"), ("echo", "run sh -c 'echo hi'")):
    results = {r["command"]: r for f in sorted(glob.glob(f"{work}/{b}-*.json")) for r in json.load(open(f))["results"]}
    cnr = results["cnr"]["median"]
    others = ", ".join(f"{n} {r['median'] * 1000:.1f} ms (cnr/{n} {cnr / r['median']:.2f})" for n, r in results.items() if n != "cnr")
    print(f"median {what}: cnr {cnr * 1000:.1f} ms; {others}")

def ms(x): return f"{x * 1000:.1f}"
def ratio(a, b): return f"{a / b:.2f}" if b else "-"

steps = {}
for line in open(f"{work}/lifecycle.txt"):
    rt, step, t0, t1 = line.split()
    steps.setdefault(rt, {}).setdefault(step, []).append(float(t1) - float(t0))
names = ["create", "start", "state", "kill", "delete"]
rts = list(steps)
print(f"\nlifecycle of `sleep 1000`, median ms of {len(steps['cnr']['create'])} (total: the sum of the medians)")
print(f"{'':8}" + "".join(f"{rt:>9}" for rt in rts) + "".join(f"{'cnr/' + rt:>11}" for rt in rts if rt != "cnr"))
total = {rt: 0.0 for rt in rts}
for step in names + ["total"]:
    m = {rt: statistics.median(steps[rt][step]) for rt in rts} if step != "total" else total
    if step != "total":
        for rt in rts: total[rt] += m[rt]
    print(f"{step:8}" + "".join(f"{ms(m[rt]):>9}" for rt in rts) + "".join(f"{ratio(m['cnr'], m[rt]):>11}" for rt in rts if rt != "cnr"))

rounds = {}
for line in open(f"{work}/parallel.txt"):
    rt, t0, t1, t2, failed = line.split()
    rounds.setdefault(rt, []).append((float(t1) - float(t0), float(t2) - float(t1), int(failed)))
print(f"\n50 containers created+started at once, median wall time of {len(rounds['cnr'])} rounds (then 50 deletes at once)")
up = {rt: statistics.median(r[0] for r in rs) for rt, rs in rounds.items()}
for rt, rs in rounds.items():
    failed = sum(r[2] for r in rs)
    print(f"  {rt:5} {ms(up[rt]):>8} ms   delete {ms(statistics.median(r[1] for r in rs)):>7} ms"
          + (f"   cnr/{rt} {ratio(up['cnr'], up[rt])}" if rt != "cnr" else "") + (f"   FAILED starts: {failed}" if failed else ""))

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
