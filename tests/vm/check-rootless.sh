# check-rootless.sh: rootless cnr in the student VM. Sourced by check-student-vm.sh --in-guest (the same boot),
# which provides ok/notok/skip/check, $CNR and the counters.
# An ordinary user of its own (useradd here, in the guest's throwaway /etc): `cnr spec --rootless` then
# `cnr run` works out of the box with no session (no cgroup of its own: the container gets none, said in
# --debug); once the user has a session manager (loginctl enable-linger starts user@UID.service),
# `cnr --systemd-cgroup` makes the container a scope of the user's own systemd instance, with its limits.

rl_user=cnrrootless
rl_as() {  # rl_as CMD…: as the user, with a login's environment (no setuid, no supplementary groups)
  setpriv --reuid="$rl_uid" --regid="$rl_gid" --init-groups \
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$rl_b" USER=$rl_user ${rl_xdg:+XDG_RUNTIME_DIR=$rl_xdg} "$@"
}
# rl_bundle ARGS-JSON [EDIT]: the user's `cnr spec --rootless`, on mybox's rootfs, running ARGS
rl_bundle() {
  rm -f "$rl_b/config.json"
  rl_as sh -c "cd $rl_b && exec $CNR spec --rootless" || return 1
  python3 - "$PWD/bundles/mybox/rootfs" "$rl_b/config.json" "$1" "${2:-}" <<'PY'
import json, sys
rootfs, cfg, args, edit = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
c = json.load(open(cfg))
c["root"] = {"path": rootfs, "readonly": True}
c["process"]["terminal"] = False
c["process"]["args"] = json.loads(args)
exec(edit)
json.dump(c, open(cfg, "w"))
PY
}

if [ ! -x "$CNR" ] || [ ! -d bundles/mybox/rootfs ]; then skip "rootless cnr: no $CNR or bundles/mybox/rootfs"
elif ! useradd --system --user-group --shell /bin/sh "$rl_user" 2>/dev/null && ! id "$rl_user" >/dev/null 2>&1; then
  notok "useradd $rl_user"
else
  rl_uid=$(id -u $rl_user) rl_gid=$(id -g $rl_user) rl_xdg=
  rl_b=$(mktemp -d) && chown "$rl_uid:$rl_gid" "$rl_b"

  # no session: no XDG_RUNTIME_DIR, state in /tmp/cnr-UID, and no cgroup of its own to write
  rl_bundle '["sh", "-c", "id -u; cat /proc/self/uid_map"]'
  got=$(rl_as "$CNR" --debug run --bundle "$rl_b" rl1 2>&1); rc=$?
  if [ $rc = 0 ] && grep -qE "^0$" <<<"$got" && grep -qE "^ +0 +$rl_uid +1$" <<<"$got" && grep -q "gets no cgroup" <<<"$got"; then
    ok "rootless: cnr spec --rootless && cnr run as uid $rl_uid (root in its user namespace, no cgroup: said in --debug)"
  else notok "rootless: cnr spec --rootless && cnr run as uid $rl_uid" "exit $rc" "$got"; fi
  check "rootless: the state went to /tmp/cnr-$rl_uid (no runtime dir), and run left none" '^$' ls -A "/tmp/cnr-$rl_uid"

  # a session manager of its own: systemd --user, /run/user/UID/bus
  loginctl enable-linger "$rl_user"
  for _ in $(seq 240); do [ -S "/run/user/$rl_uid/bus" ] && break; sleep 0.5; done
  if [ ! -S "/run/user/$rl_uid/bus" ]; then
    notok "rootless: loginctl enable-linger starts user@$rl_uid.service and its bus" "$(systemctl status "user@$rl_uid.service" 2>&1 | head -20)"
  else
    ok "rootless: loginctl enable-linger started user@$rl_uid.service (/run/user/$rl_uid/bus)"
    rl_xdg=/run/user/$rl_uid
    rl_unit=cnr-rl2.scope
    rl_bundle '["sleep", "1000"]' 'c["linux"]["resources"] = {"pids": {"limit": 32}}'
    # to a file: the detached container keeps a pipe open as long as it runs
    rl_as "$CNR" --systemd-cgroup run -d --bundle "$rl_b" rl2 </dev/null >"$rl_b.out" 2>&1; rc=$?; got=$(cat "$rl_b.out")
    if [ $rc = 0 ]; then ok "rootless: cnr --systemd-cgroup run -d (the user's systemd instance)"
    else notok "rootless: cnr --systemd-cgroup run -d" "exit $rc" "$got"; fi
    check "rootless: the state is under \$XDG_RUNTIME_DIR/cnr" "rl2" ls "$rl_xdg/cnr"
    check "rootless: systemctl --user: $rl_unit is active, delegated, TasksMax=32" '^active yes 32$' \
      rl_as sh -c "echo \$(systemctl --user show -p ActiveState --value $rl_unit) \$(systemctl --user show -p Delegate --value $rl_unit) \$(systemctl --user show -p TasksMax --value $rl_unit)"
    rl_cg=$(rl_as systemctl --user show -p ControlGroup --value "$rl_unit" 2>/dev/null)
    check "rootless: the scope's pids.max agrees ($rl_cg)" '^32$' cat "/sys/fs/cgroup$rl_cg/pids.max"
    check "rootless: cnr pause/resume the user's scope" '^frozen 1 frozen 0$' \
      rl_as sh -c "$CNR pause rl2 && a=\$(grep frozen /sys/fs/cgroup$rl_cg/cgroup.events) && $CNR resume rl2 && echo \$a \$(grep frozen /sys/fs/cgroup$rl_cg/cgroup.events)"
    check "rootless: cnr delete --force" '' rl_as "$CNR" delete --force rl2
    if [ -z "$(rl_as systemctl --user list-units --all --no-legend --plain 'cnr-*.scope' 2>&1)" ] && [ ! -e "$rl_xdg/cnr/rl2" ]; then
      ok "rootless: after delete no cnr-*.scope in the user's instance, no state dir"
    else notok "rootless: after delete nothing left" "$(rl_as systemctl --user list-units --all --no-legend --plain 'cnr-*.scope' 2>&1)" "$(ls "$rl_xdg/cnr" 2>&1)"; fi
  fi
  loginctl disable-linger "$rl_user"
  rm -rf "$rl_b" "$rl_b.out"
fi
