#!/usr/bin/env bash
# test.sh: runs the three layers of tests (see README) and ends with one plain line "N passed, N failed,
# N skipped", summed over the runs; exits non-zero when anything failed or a run ended without a summary.
#   1. unit tests (tests/Cnr.Tests)
#   2. integration tests as root, inside a private mount namespace, so that a runtime bug cannot leak
#      mounts onto the machine (everything but Category=CgroupV2)
#   3. the cgroup v2 group in a throwaway cgroup-v2 kernel (tests/vm/run-cgroup-tests.sh), when present
#   4. the student VM: systemd as PID 1, AppArmor, D-Bus (tests/vm/check-student-vm.sh), and Docker and Podman
#      driving cnr there with their defaults (tests/vm/check-callers.sh); CNR_STUDENT_VM=0 skips both
#   5. Kubernetes' way in: containerd's CRI driven by a kubelet-like client in the cgroup v2 guest
#      (tests/vm/check-cri.sh), then again in the student VM with containerd's SystemdCgroup = true (kubeadm's
#      default: the shim passes --systemd-cgroup); CNR_CRI=0 skips both
#   6. checkpoint/restore with CRIU in a qemu guest with Debian's own 6.1 kernel (tests/vm/check-checkpoint.sh:
#      user-mode-linux has no CONFIG_CHECKPOINT_RESTORE, Debian 12's CRIU cannot dump on newer kernels);
#      CNR_CHECKPOINT=0 skips it; it skips itself (exit 77, with the reason) where no qemu guest can be had
# Expects bin/cnr and bundles/mybox/rootfs built (make test does that first).
set -uo pipefail
cd "$(dirname "$0")/.."

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
logs=out/test-logs
mkdir -p "$logs"
passed=0 failed=0 skipped=0 status=0
timings=()

# A hung container must not eat CI's whole budget: the blame collector kills a test host that makes no
# progress for this long and reports the test that hung.
hang=(--blame-hang-timeout "${CNR_TEST_HANG_TIMEOUT:-5m}" --blame-hang-dump-type none)

# What a test phase shows while it runs (the log keeps everything): with the VSTest console logger at normal
# verbosity, each failure and each skip with its reason (xunit's "[SKIP]" line and the reason under it), and
# one line per test class when its first test passes instead of a line per passed test.
show_groups() {
    awk '/^[[:space:]]*Passed [[:alnum:]_]+\./ {
             name = $2; sub(/\(.*/, "", name); sub(/\.[^.]*$/, "", name)
             if (!(name in seen)) { seen[name] = 1; print "  passing: " name; fflush() }
             next
         }
         { print; fflush() }'
}

# run NAME COMMAND…: runs one piece, shows its output (through show_groups), adds its counts from the VSTest
# summary lines ("Passed!  - Failed: 0, Passed: 12, Skipped: 0, …", or "Skipped!" when all were) or, failing those, from a plain "N passed,
# N failed" line; a piece that failed without any summary counts as one failure.
run() {
    local name=$1; shift
    local log="$logs/$name.log" start=$SECONDS rc
    echo "=== $name: $*"
    echo "    (every line is in $log)"
    "$@" 2>&1 | tee "$log" | show_groups
    rc=${PIPESTATUS[0]}
    timings+=("$name $((SECONDS - start))s (exit $rc)")
    local summary
    summary=$(grep -aE '^\s*(Passed|Failed|Skipped)!\s+-\s+Failed:' "$log" || true)
    # With --logger console;verbosity=normal the summary is a block: "Total tests: N", "     Passed: N", …
    [[ -n $summary ]] || summary=$(grep -aE '^\s+(Passed|Failed|Skipped): [0-9]+\s*$' "$log" || true)
    if [[ -n $summary ]]; then
        local f p s
        read -r f p s < <(awk '{ for (i = 1; i < NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) } }
                               END { print f + 0, p + 0, s + 0 }' <<<"$summary")
        passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
        ((rc != 0 && f == 0)) && failed=$((failed + 1))   # e.g. a build error after a first summary
    elif plain=$(grep -aE '^([A-Za-z]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n1) && [[ -n $plain ]]; then
        local nums=(${plain//[^0-9]/ })
        passed=$((passed + nums[0])) failed=$((failed + nums[1]))
        ((${#nums[@]} > 2)) && skipped=$((skipped + nums[2]))
        ((rc != 0 && nums[1] == 0)) && failed=$((failed + 1))
    elif grep -aq '^No test is available in' "$log" && ((rc == 0)); then
        :
    elif ((rc == 77)); then
        # The piece could not run here and said why (e.g. no cgroup v2 kernel can be had): skipped, not failed.
        skipped=$((skipped + 1)) rc=0
    elif ((rc != 0)); then
        failed=$((failed + 1))
    fi
    ((rc != 0)) && status=1
}

if ((EUID != 0)); then
    echo "test: the integration tests run real containers: run as root (sudo make test)" >&2
    exit 1
fi

echo "=== the dotnet phases build, then discover their tests (up to a minute or two on a loaded machine) before the first line"
run unit dotnet test tests/Cnr.Tests --logger "console;verbosity=normal" "${hang[@]}"
# The callers and image tools the integration tests drive, installed here where the announcement shows (the
# tests would otherwise install them from inside the run, silently). Not fatal: those tests skip, saying why.
tests/install-deps.sh --for "the integration tests (real callers, the image tests)" podman containerd docker.io docker-registry skopeo \
    || echo "=== integration: the tests that drive those packages will be skipped, each with the reason"
# A line per test class as it gets going, and each skipped test with its reason: the phase takes minutes.
run integration unshare -m --propagation private -- \
    dotnet test tests/Cnr.IntegrationTests --filter "Category!=CgroupV2" --logger "console;verbosity=normal" "${hang[@]}"
if [[ -x tests/vm/run-cgroup-tests.sh ]]; then
    run cgroup-v2 tests/vm/run-cgroup-tests.sh "--logger:console;verbosity=normal"
fi
# The student VM (systemd, AppArmor, D-Bus, pure cgroup v2) boots once and checks itself and bin/cnr there.
if [[ ${CNR_STUDENT_VM:-1} == 0 ]]; then
    echo "=== student-vm: SKIPPED: CNR_STUDENT_VM=0"
elif [[ -x tests/vm/check-student-vm.sh ]]; then
    run student-vm tests/vm/check-student-vm.sh
    [[ -x tests/vm/check-callers.sh ]] && run callers tests/vm/check-callers.sh
fi
if [[ ${CNR_CRI:-1} == 0 ]]; then
    echo "=== cri: SKIPPED: CNR_CRI=0"; echo "=== cri-systemd: SKIPPED: CNR_CRI=0"
elif [[ -x tests/vm/check-cri.sh ]]; then
    run cri tests/vm/check-cri.sh
    run cri-systemd tests/vm/check-cri.sh --systemd
fi
if [[ ${CNR_CHECKPOINT:-1} == 0 ]]; then
    echo "=== checkpoint: SKIPPED: CNR_CHECKPOINT=0"
elif [[ -x tests/vm/check-checkpoint.sh ]]; then
    run checkpoint tests/vm/check-checkpoint.sh
fi

# The tests put their containers under /cnr-test/<id> (and callers under /cnr-test/<caller>-<id>) in each
# hierarchy; what they leave is the empty parent. rmdir removes only an empty cgroup, never anything else.
for parent in /sys/fs/cgroup/cnr-test /sys/fs/cgroup/*/cnr-test; do
    [[ -d $parent ]] && rmdir "$parent" 2>/dev/null
done

echo "=== timings: ${timings[*]/%/;}"
((failed > 0)) && status=1
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
