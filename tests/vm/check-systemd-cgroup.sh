# check-systemd-cgroup.sh: the systemd cgroup driver (`cnr --systemd-cgroup`) in the student VM. Sourced by
# check-student-vm.sh --in-guest (the same boot), which provides ok/notok/skip/check, $CNR and the counters.
# Each container is a transient scope: `systemctl show` and the cgroup files must agree, before and after
# `cnr update`; delete removes the unit; bad input is one line and leaves no unit, state dir or process.

sd_root=/run/cnr-systemd-check
sd_units() { systemctl list-units --all --no-legend --plain 'cnr-*.scope' 2>&1; }
sd_show() { systemctl show -p "$2" --value "$1" 2>&1; }
# sd_bundle DIR CGROUPSPATH: mybox running `sleep 1000`, 32M memory, 64 pids, half a CPU, memory.high 28M
# through linux.resources.unified
sd_bundle() {
  python3 - "$PWD/bundles/mybox" "$1" "$2" <<'PY'
import json, sys
src, dst, cgp = sys.argv[1], sys.argv[2], sys.argv[3]
c = json.load(open(src + "/config.json"))
c["root"]["path"] = src + "/rootfs"
c["process"]["terminal"] = False
c["process"]["args"] = ["sleep", "1000"]
if cgp: c["linux"]["cgroupsPath"] = cgp
else: c["linux"].pop("cgroupsPath", None)
c["linux"]["resources"] = {"memory": {"limit": 33554432}, "pids": {"limit": 64}, "cpu": {"quota": 50000, "period": 100000, "shares": 1024},
  "unified": {"memory.high": "29360128"}}
json.dump(c, open(dst + "/config.json", "w"))
PY
}
# sd_nothing_left NAME ID UNIT: no state dir, no unit, no cgroup
sd_nothing_left() {
  local left=""
  [ -e "$sd_root/$2" ] && left+=" state dir $sd_root/$2;"
  [ -n "$(systemctl list-units --all --no-legend --plain "$3" 2>/dev/null)" ] && left+=" unit $3;"
  [ -e "/sys/fs/cgroup/system.slice/$3" ] && left+=" cgroup /sys/fs/cgroup/system.slice/$3;"
  if [ -z "$left" ]; then ok "$1: nothing left (state dir, unit, cgroup)"; else notok "$1: nothing left" "left:$left"; fi
}
# sd_one_line NAME WANT-SUBSTRING COMMAND…: fails, with one line of stderr holding WANT
sd_one_line() {
  local name=$1 want=$2 got rc; shift 2
  "$@" </dev/null >/dev/null 2>"$sdb.err"; rc=$?; got=$(cat "$sdb.err")
  if [ $rc != 0 ] && [ "$(printf '%s\n' "$got" | wc -l)" = 1 ] && [[ $got == *"$want"* ]]; then ok "$name: \"$got\""
  else notok "$name" "\$ $*  (exit $rc, want one line with \"$want\")" "$got"; fi
}

if [ ! -x "$CNR" ] || [ ! -d bundles/mybox/rootfs ]; then skip "cnr --systemd-cgroup: no $CNR or bundles/mybox/rootfs"
else
  sdb=$(mktemp -d)
  sd_bundle "$sdb" "system.slice:cnr:sdcheck"
  unit=cnr-sdcheck.scope cg=/sys/fs/cgroup/system.slice/cnr-sdcheck.scope
  t0=$(date +%s%N)
  (cd "$sdb" && "$CNR" --systemd-cgroup --root "$sd_root" run -d sd1 </dev/null >"$sdb.out" 2>&1); rc=$?; got=$(cat "$sdb.out")
  t1=$(date +%s%N)
  if [ $rc = 0 ]; then ok "cnr --systemd-cgroup run -d (cgroupsPath system.slice:cnr:sdcheck): $(( (t1 - t0) / 1000000 )) ms"
  else notok "cnr --systemd-cgroup run -d" "exit $rc:" "$got"; fi
  check "systemctl: $unit is active, delegated, in system.slice" '^active yes system.slice$' \
    sh -c "echo \$(systemctl show -p ActiveState --value $unit) \$(systemctl show -p Delegate --value $unit) \$(systemctl show -p Slice --value $unit)"
  check "systemctl show: MemoryMax=32M TasksMax=64 CPUQuotaPerSecUSec=500ms CPUWeight=39" '^33554432 64 500ms 39$' \
    sh -c "echo \$(systemctl show -p MemoryMax --value $unit) \$(systemctl show -p TasksMax --value $unit) \$(systemctl show -p CPUQuotaPerSecUSec --value $unit) \$(systemctl show -p CPUWeight --value $unit)"
  check "the scope's cgroup files agree: memory.max pids.max cpu.max cpu.weight" '^33554432 64 50000 100000 39$' \
    sh -c "echo \$(cat $cg/memory.max $cg/pids.max $cg/cpu.max $cg/cpu.weight)"
  check "unified memory.high: systemctl show MemoryHigh and the file agree" '^29360128 29360128$' \
    sh -c "echo \$(systemctl show -p MemoryHigh --value $unit) \$(cat $cg/memory.high)"
  # the device rules (here cnr's defaults) as systemd's device policy; the container can use /dev/null
  check "systemctl show: DevicePolicy=strict, DeviceAllow from the device rules" '^strict .*(/dev/char/1:3 rwm.*char-136 rwm|char-136 rwm.*/dev/char/1:3 rwm)' \
    sh -c "echo \$(systemctl show -p DevicePolicy --value $unit) \$(systemctl show -p DeviceAllow --value $unit)"
  check "cnr exec: /dev/null works under both device programs" '^devices-ok$' "$CNR" --root "$sd_root" exec sd1 sh -c 'echo x > /dev/null && echo devices-ok'
  pid=$("$CNR" --root "$sd_root" state sd1 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])' 2>/dev/null)
  check "the init ($pid) is in the scope (/proc/PID/cgroup)" "^0::/system.slice/$unit\$" cat "/proc/${pid:-0}/cgroup"
  # the json format: the table is the guest's procps, which cannot read UML's boot time
  check "cnr ps --format json lists the init (the scope's cgroup.procs)" "\\b${pid:-none}\\b" "$CNR" --root "$sd_root" ps --format json sd1
  check "cnr update --memory 64M --pids-limit 128" '' "$CNR" --root "$sd_root" update --memory 67108864 --pids-limit 128 sd1
  check "after update, systemctl show: MemoryMax=64M TasksMax=128" '^67108864 128$' \
    sh -c "echo \$(systemctl show -p MemoryMax --value $unit) \$(systemctl show -p TasksMax --value $unit)"
  check "after update, the files agree" '^67108864 128$' sh -c "echo \$(cat $cg/memory.max $cg/pids.max)"
  check "cnr pause: the scope's cgroup is frozen" '^frozen 1$' sh -c "$CNR --root $sd_root pause sd1 && grep frozen $cg/cgroup.events"
  check "cnr resume: thawed, running" '^frozen 0 running$' sh -c "$CNR --root $sd_root resume sd1 && echo \$(grep frozen $cg/cgroup.events) \$($CNR --root $sd_root state sd1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"status\"])')"

  # a second container with the same unit while the first runs: refused, the first untouched
  sd_one_line "a second container with the unit of a running one" "the systemd unit cnr-sdcheck.scope already exists" \
    sh -c "cd $sdb && exec $CNR --systemd-cgroup --root $sd_root run -d sd2"
  [ -e "$sd_root/sd2" ] && notok "the refused container left its state dir $sd_root/sd2"
  check "the first container still runs in its unit" "^active ${pid:-none}\$" sh -c "echo \$(systemctl show -p ActiveState --value $unit) \$(cat $cg/cgroup.procs)"

  check "cnr kill --all (SIGKILL), then delete" '' sh -c "$CNR --root $sd_root kill --all sd1 KILL; sleep 0.2; $CNR --root $sd_root delete --force sd1"
  if [ -z "$(sd_units)" ] && [ ! -e "$cg" ] && [ ! -e "$sd_root/sd1" ]; then ok "after delete: no cnr-*.scope unit (systemctl list-units --all), no cgroup, no state dir"
  else notok "after delete: nothing left" "units: $(sd_units)" "cgroup: $(ls -d "$cg" 2>&1)"; fi

  # no cgroupsPath: runc's default, here :cnr:ID in system.slice; measured against the cgroupfs driver
  sd_bundle "$sdb" ""
  t0=$(date +%s%N); (cd "$sdb" && "$CNR" --systemd-cgroup --root "$sd_root" run -d sd3 </dev/null >/dev/null 2>&1); t1=$(date +%s%N)
  check "no cgroupsPath: the unit is cnr-sd3.scope in system.slice" '^active system.slice$' \
    sh -c "echo \$(systemctl show -p ActiveState --value cnr-sd3.scope) \$(systemctl show -p Slice --value cnr-sd3.scope)"
  "$CNR" --root "$sd_root" delete --force sd3 >/dev/null 2>&1
  t2=$(date +%s%N); "$CNR" --root "$sd_root" run -d --bundle "$sdb" sd4 </dev/null >/dev/null 2>&1; t3=$(date +%s%N)
  "$CNR" --root "$sd_root" delete --force sd4 >/dev/null 2>&1
  echo "    measured: create+start (run -d) with --systemd-cgroup $(( (t1 - t0) / 1000000 )) ms, with cgroupfs $(( (t3 - t2) / 1000000 )) ms"
  [ -z "$(sd_units)" ] && ok "the default unit is gone after delete too" || notok "the default unit is gone after delete" "$(sd_units)"

  # bad input: one line, nothing left
  for cgp in foo a:b system:cnr:bad; do
    sd_bundle "$sdb" "$cgp"
    sd_one_line "malformed cgroupsPath \"$cgp\"" "linux.cgroupsPath: \"$cgp\"" sh -c "cd $sdb && exec $CNR --systemd-cgroup --root $sd_root run -d bad"
    sd_nothing_left "malformed cgroupsPath \"$cgp\"" bad cnr-bad.scope
  done
  # a scope cannot be a template instance: systemd itself refuses the unit
  sd_bundle "$sdb" "system.slice:cnr:a@b"
  sd_one_line "systemd refusing the unit (cnr-a@b.scope)" "systemd refused the unit cnr-a@b.scope: " sh -c "cd $sdb && exec $CNR --systemd-cgroup --root $sd_root run -d refused"
  sd_nothing_left "systemd refusing the unit" refused 'cnr-a@b.scope'
  # without systemd (its /run/systemd/system hidden in a mount namespace): one line, nothing left
  sd_bundle "$sdb" "system.slice:cnr:nosd"
  sd_one_line "systemd not running" "systemd is not running on this host (no /run/systemd/system); drop --systemd-cgroup" \
    unshare -m --propagation private sh -c "mount -t tmpfs tmpfs /run/systemd && cd $sdb && exec $CNR --systemd-cgroup --root $sd_root run -d nosd"
  sd_nothing_left "systemd not running" nosd cnr-nosd.scope
  if pgrep -f 'sleep 1000' >/dev/null; then notok "no container process is left" "$(pgrep -af 'sleep 1000')"; else ok "no container process is left"; fi
  rm -rf "$sdb" "$sdb.out" "$sdb.err"
fi
