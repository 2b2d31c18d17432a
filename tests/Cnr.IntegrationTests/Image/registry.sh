#!/bin/sh
# Test helpers for the image tests: the packages they need, and a throwaway CNCF distribution registry on
# 127.0.0.1 (Debian's docker-registry binary, run directly — never the system service).
#   registry.sh deps              install docker-registry, skopeo, busybox-static (root; tests/install-deps.sh)
#   registry.sh start STATE_DIR   start a registry on a free loopback port; prints the port
#   registry.sh stop STATE_DIR    kill the registry started in STATE_DIR (by its pid)
set -eu

cmd=${1:?usage: registry.sh deps|start DIR|stop DIR}
case "$cmd" in
deps)
    exec "$(dirname "$0")/../../install-deps.sh" --for "the image tests" docker-registry skopeo busybox-static
    ;;
start)
    dir=${2:?state dir}
    mkdir -p "$dir/storage"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    cat > "$dir/config.yml" <<YML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
YML
    docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
    echo $! > "$dir/pid"
    i=0
    until python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/v2/')" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 100 ]; then echo "registry did not start:" >&2; cat "$dir/registry.log" >&2; exit 1; fi
        sleep 0.1
    done
    echo "$port"
    ;;
stop)
    dir=${2:?state dir}
    [ -f "$dir/pid" ] && kill "$(cat "$dir/pid")" 2>/dev/null || true
    rm -f "$dir/pid"
    ;;
*) echo "registry.sh: unknown command $cmd" >&2; exit 2 ;;
esac
