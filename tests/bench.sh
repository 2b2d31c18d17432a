#!/usr/bin/env bash
# bench.sh: start-up time and memory of cnr beside runc and crun (Debian's packages, baselines only), on
# the same busybox bundle: `run /bin/true` and `run sh -c 'echo hi'` through hyperfine, median ratios,
# peak RSS of one run, and the RSS of an init waiting after `cnr create`. Not a test: numbers only.
# Needs root. BENCH_RUNS (default 100) sets hyperfine's runs.
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

# One bundle per command, from mybox's config: no terminal, the shared rootfs by absolute path, and an
# absolute cgroup of our own (a relative one would be made under the cgroup bench itself runs in).
bundle() { # NAME ARGS…
    local dir=$work/$1; shift
    mkdir -p "$dir"
    python3 - "$repo/bundles/mybox/config.json" "$dir/config.json" "$repo/bundles/mybox/rootfs" "$@" <<'PY'
import json, sys
src, dst, rootfs, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
spec = json.load(open(src))
spec["process"]["terminal"] = False
spec["process"]["args"] = args
spec["root"]["path"] = rootfs
spec["linux"]["cgroupsPath"] = "/cnr-bench"
json.dump(spec, open(dst, "w"), indent=1)
PY
}
bundle true /bin/true
bundle echo sh -c 'echo hi'

# crun 1.8 refuses hybrid cgroups (v1 controllers + an empty cgroup2 at /sys/fs/cgroup/unified). In a
# private mount namespace with a tmpfs over that cgroup2, all three see plain cgroup v1; on a pure v2 host
# nothing is hidden.
hide=""
if [[ $(stat -f -c %T /sys/fs/cgroup) != cgroup2fs ]] && mountpoint -q /sys/fs/cgroup/unified; then
    hide="mount -t tmpfs -o size=4k cnr-bench-hide /sys/fs/cgroup/unified && "
fi

cat > "$work/inner.sh" <<INNER
#!/usr/bin/env bash
set -euo pipefail
$hide:
cd "$work"
for b in true echo; do
    hyperfine -N --style basic --warmup 5 --runs $runs --export-json "$work/\$b.json" \\
        -n cnr  "$repo/bin/cnr --root $work/state-cnr run --bundle $work/\$b bench-cnr" \\
        -n runc "runc --root $work/state-runc run --bundle $work/\$b bench-runc" \\
        -n crun "crun --root $work/state-crun run --bundle $work/\$b bench-crun"
done

# Peak RSS of one run: the largest process of the run (the runtime, its init or the user's process), as
# the kernel accounts it to waited-for children. Measured through busybox's time, whose own footprint
# (a static binary, vfork) is far below the runtimes'; a launcher like python would count its own RSS, since
# a forked child starts with the parent's pages. busybox prints ru_maxrss (KiB) multiplied by pagesize/1024,
# taking it for pages: divided back here.
for rt in cnr runc crun; do
    bin=\$rt; [[ \$rt == cnr ]] && bin=$repo/bin/cnr
    kib=\$(/bin/busybox time -v "\$bin" --root "$work/state-\$rt" run --bundle "$work/true" bench-rss-\$rt 2>&1 >/dev/null |
        awk -v f=\$((\$(getconf PAGESIZE) / 1024)) '/Maximum resident set size/ { print \$NF / f }')
    printf '%-5s peak RSS of one run: %.1f MiB\n' \$rt "\$(awk -v k=\$kib 'BEGIN { print k / 1024 }')"
done

# The init that waits between create and start (what stays resident per created container).
for rt in cnr runc crun; do
    bin=\$rt; [[ \$rt == cnr ]] && bin=$repo/bin/cnr
    "\$bin" --root "$work/state-\$rt" create --bundle "$work/true" bench-wait-\$rt </dev/null >/dev/null 2>&1
    pid=\$("\$bin" --root "$work/state-\$rt" state bench-wait-\$rt | python3 -c 'import json, sys; print(json.load(sys.stdin)["pid"])')
    printf '%-5s waiting init (pid %s): %s\n' \$rt \$pid "\$(grep VmRSS /proc/\$pid/status | tr -s ' \t' ' ')"
    "\$bin" --root "$work/state-\$rt" delete --force bench-wait-\$rt
done
INNER
chmod +x "$work/inner.sh"
unshare -m --propagation private -- "$work/inner.sh"

python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
print()
for b, what in (("true", "run /bin/true"), ("echo", "run sh -c 'echo hi'")):
    results = {r["command"]: r for r in json.load(open(f"{work}/{b}.json"))["results"]}
    cnr = results["cnr"]["median"]
    others = ", ".join(f"{n} {r['median'] * 1000:.1f} ms (cnr/{n} {cnr / r['median']:.2f})" for n, r in results.items() if n != "cnr")
    print(f"median {what}: cnr {cnr * 1000:.1f} ms; {others}")
PY
