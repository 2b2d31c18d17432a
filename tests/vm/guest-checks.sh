# Sourced by the check-*.sh scripts on the guest side: TAP-like lines and the counts their summary line
# ("N passed, N failed, N skipped", which tests/run-all.sh parses) is made of.
passed=0 failed=0 skipped=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
notok() { echo "not ok - $1"; shift; [ $# -gt 0 ] && printf '    %s\n' "$@"; failed=$((failed + 1)); }
skip() { echo "skip - $1"; skipped=$((skipped + 1)); }
# check NAME EXPECTED-REGEX COMMAND…: COMMAND's stdout+stderr must match (grep -E) and it must exit 0
check() {
  local name=$1 want=$2 got rc; shift 2
  got=$("$@" 2>&1); rc=$?
  if [ $rc = 0 ] && grep -qE -- "$want" <<<"$got"; then ok "$name"
  else notok "$name" "\$ $*  (exit $rc, want /$want/)" "$got"; fi
}
# check_rc NAME WANT-RC COMMAND…: COMMAND exits WANT-RC
check_rc() {
  local name=$1 want=$2 got rc; shift 2
  got=$("$@" 2>&1); rc=$?
  if [ $rc = "$want" ]; then ok "$name"; else notok "$name" "\$ $*  (exit $rc, want $want)" "$got"; fi
}
