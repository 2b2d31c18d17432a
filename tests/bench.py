#!/usr/bin/env python3
"""bench.py WORK REPO: cnr beside runc and crun, measured the way the launch-plan issue asks.

Every measurement alternates the runtimes on each iteration (never one runtime's batch after another's), so
that a machine whose load drifts during the run hurts all three alike; the order is rotated every iteration.
Timings are taken by a small bash worker per mount namespace ($EPOCHREALTIME around the command, no fork for
the clock), not by this script: Python's own start-up and pipes stay outside the timed region.

crun 1.8 refuses hybrid cgroups (v1 controllers + an empty cgroup2 at /sys/fs/cgroup/unified): on such a host
its worker runs in a private mount namespace with a tmpfs over that cgroup2; cnr needs the cgroup2 and runc
takes either, so their worker runs in a private mount namespace that hides nothing. On a pure v2 host both
workers see the host's cgroups.

Measured (BENCH_ITERATIONS, default 60, iterations of each):
  run           `run` of /bin/true (runc spec's default config, no terminal)
  lifecycle     create + start + delete --force of `sleep 1000`, as one figure
  state         `state` of a running container
  exec          `exec` of /bin/true in that running container
  parallel20    20 × (create && start) at once, wall time until all have returned (BENCH_PARALLEL_ROUNDS, 10)
  peak RSS      of one `run` (the largest process of the run, ru_maxrss through busybox time)
  waiting init  VmRSS and RssAnon of the init between create and start
Output: median, p90 and cnr's ratio to each baseline.
"""
import json, os, statistics, subprocess, sys

work, repo = sys.argv[1], sys.argv[2]
iterations = int(os.environ.get("BENCH_ITERATIONS", "60"))
rounds = int(os.environ.get("BENCH_PARALLEL_ROUNDS", "10"))
runtimes = [r for r in os.environ.get("BENCH_RUNTIMES", "cnr runc crun").split()]
binary = {rt: f"{repo}/bin/cnr" if rt == "cnr" else rt for rt in runtimes}
hybrid = not os.path.exists("/sys/fs/cgroup/cgroup.controllers") and os.path.ismount("/sys/fs/cgroup/unified")

WORKER = r'''
set -u
[[ ${HIDE:-} ]] && mount -t tmpfs -o size=4m cnr-bench-hide /sys/fs/cgroup/unified
echo ready
while IFS= read -r cmd; do
    t0=$EPOCHREALTIME
    eval "$cmd" </dev/null >/dev/null 2>>"$WORK/worker.err"
    rc=$?
    t1=$EPOCHREALTIME
    echo "$t0 $t1 $rc"
done
'''


class Worker:
    def __init__(self, hide):
        env = dict(os.environ, WORK=work, HIDE="1" if hide else "")
        self.p = subprocess.Popen(["unshare", "-m", "--propagation", "private", "--", "bash", "-c", WORKER],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, bufsize=1)
        assert self.p.stdout.readline().strip() == "ready"

    def time(self, cmd):
        """Runs one shell command in the worker's namespace; returns (seconds, exit code)."""
        self.p.stdin.write(cmd.replace("\n", " ") + "\n")
        self.p.stdin.flush()
        t0, t1, rc = self.p.stdout.readline().split()
        return float(t1) - float(t0), int(rc)

    def close(self):
        self.p.stdin.close()
        self.p.wait()


plain = Worker(hide=False)
hidden = Worker(hide=True) if hybrid and "crun" in runtimes else plain
worker = {rt: hidden if rt == "crun" else plain for rt in runtimes}
failures = {}


def rt_cmd(rt, args):
    return f"{binary[rt]} --root {work}/state-{rt} {args}"


def timed(rt, cmd):
    seconds, rc = worker[rt].time(cmd)
    if rc != 0:
        failures[rt] = failures.get(rt, 0) + 1
    return seconds


def rotation(i):
    k = i % len(runtimes)
    return runtimes[k:] + runtimes[:k]


def quiet(rt, args):
    worker[rt].time(rt_cmd(rt, args))


def cleanup(rt, ids):
    for cid in ids:
        quiet(rt, f"delete --force {cid}")


results = {}  # name -> rt -> [seconds]


def record(name, rt, value):
    results.setdefault(name, {}).setdefault(rt, []).append(value)


# Warm-up: page cache, the binaries' first start.
for rt in runtimes:
    for _ in range(3):
        quiet(rt, f"run --bundle {work}/true bench-{rt}")

for i in range(iterations):
    for rt in rotation(i):
        record("run /bin/true", rt, timed(rt, rt_cmd(rt, f"run --bundle {work}/true bench-{rt}")))
    for rt in rotation(i):
        cid = f"bench-life-{rt}"
        record("create+start+delete", rt, timed(rt, f"{rt_cmd(rt, f'create --bundle {work}/sleep {cid}')} && "
                                                    f"{rt_cmd(rt, f'start {cid}')} && {rt_cmd(rt, f'delete --force {cid}')}"))
        cleanup(rt, [cid])

for rt in runtimes:
    quiet(rt, f"run --detach --bundle {work}/sleep bench-state-{rt}")
for i in range(iterations):
    for rt in rotation(i):
        record("state", rt, timed(rt, rt_cmd(rt, f"state bench-state-{rt}")))
    for rt in rotation(i):
        record("exec /bin/true", rt, timed(rt, rt_cmd(rt, f"exec bench-state-{rt} /bin/true")))
for rt in runtimes:
    cleanup(rt, [f"bench-state-{rt}"])

for i in range(rounds):
    for rt in rotation(i):
        ids = [f"bench-par-{rt}-{n}" for n in range(20)]
        cmd = " ".join(f"{{ {rt_cmd(rt, f'create --bundle {work}/par/{n} {cid}')} && {rt_cmd(rt, f'start {cid}')}; }} &"
                       for n, cid in enumerate(ids)) + " wait"
        record("20 in parallel", rt, timed(rt, cmd))
        cleanup(rt, ids)

# Peak RSS of one run: busybox's time reports ru_maxrss (KiB) multiplied by pagesize/1024, taking it for pages.
page_kib = os.sysconf("SC_PAGE_SIZE") // 1024
rss = {rt: [] for rt in runtimes}
for i in range(5):
    for rt in rotation(i):
        out = f"{work}/rss-{rt}.txt"
        worker[rt].time(f"/bin/busybox time -v {rt_cmd(rt, f'run --bundle {work}/true bench-rss-{rt}')} 2> {out}")
        for line in open(out):
            if "Maximum resident set size" in line:
                rss[rt].append(int(line.split()[-1]) / page_kib / 1024)

# The init that waits between create and start: what stays resident per created container.
waiting = {rt: {"VmRSS": [], "RssAnon": []} for rt in runtimes}
for i in range(5):
    for rt in rotation(i):
        cid = f"bench-wait-{rt}"
        quiet(rt, f"create --bundle {work}/true {cid}")
        out = f"{work}/state-{rt}.json"
        worker[rt].time(f"{rt_cmd(rt, f'state {cid}')} > {out}")
        try:
            pid = json.load(open(out))["pid"]
            for line in open(f"/proc/{pid}/status"):
                key = line.split(":")[0]
                if key in waiting[rt]:
                    waiting[rt][key].append(int(line.split()[1]) / 1024)
        except (ValueError, KeyError, FileNotFoundError) as e:
            print(f"bench: {rt}: waiting init not measured: {e}", file=sys.stderr)
        cleanup(rt, [cid])

plain.close()
if hidden is not plain:
    hidden.close()


def p90(xs):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.9 * (len(xs) - 1))))]


others = [rt for rt in runtimes if rt != "cnr"]
print(f"\nruntimes alternated every iteration; {iterations} iterations ({rounds} rounds of 20 in parallel)"
      + (" — crun in a namespace hiding the hybrid host's cgroup2" if hybrid else ""))
head = f"{'':22}" + "".join(f"{rt + ' med':>11}{rt + ' p90':>11}" for rt in runtimes) + "".join(f"{'cnr/' + rt:>11}" for rt in others)
print(head)
for name, per in results.items():
    med = {rt: statistics.median(v) for rt, v in per.items()}
    row = f"{name:22}" + "".join(f"{med[rt] * 1000:>8.1f} ms{p90(per[rt]) * 1000:>8.1f} ms" for rt in runtimes)
    row += "".join(f"{med['cnr'] / med[rt]:>11.2f}" for rt in others if "cnr" in med)
    print(row)
print()
for rt in runtimes:
    w = waiting[rt]
    print(f"{rt:5} peak RSS of one run {statistics.median(rss[rt]) if rss[rt] else float('nan'):6.1f} MiB;"
          f" waiting init VmRSS {statistics.median(w['VmRSS']) if w['VmRSS'] else float('nan'):5.1f} MiB,"
          f" anonymous {statistics.median(w['RssAnon']) if w['RssAnon'] else float('nan'):5.2f} MiB")
if failures:
    print(f"\nFAILED commands (see {work}/worker.err): " + ", ".join(f"{rt} {n}" for rt, n in failures.items()))
