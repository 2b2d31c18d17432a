#!/bin/bash
# build.sh OUTDIR [BUSYBOX_ROOTFS] -- the two images of the CRI check, as `docker save` archives that
# `ctr images import` takes: OUTDIR/pause.tar (cnr.test/pause:1: pause.c built static, the only file) and
# OUTDIR/busybox.tar (cnr.test/busybox:1: the mybox bundle's rootfs, default bundles/mybox/rootfs).
# Each image is one uncompressed layer; the layers are reproducible (sorted, root-owned, mtime 0), so the
# image ids only change when their content does.
set -euo pipefail
D=$(cd "$(dirname "$0")" && pwd)
OUT=${1:?usage: build.sh OUTDIR [BUSYBOX_ROOTFS]}
ROOTFS=${2:-$D/../../bundles/mybox/rootfs}
[ -x "$ROOTFS/bin/busybox" ] || { echo "build.sh: no busybox rootfs at $ROOTFS (make bundles)" >&2; exit 1; }
mkdir -p "$OUT"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

sha() { sha256sum "$1" | cut -d' ' -f1; }

# image NAME:TAG ROOTDIR CONFIG_JSON_OF_THE_PROCESS OUTFILE
image() {
  local ref=$1 root=$2 process=$3 out=$4 a="$T/archive"
  rm -rf "$a"; mkdir -p "$a"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$root" -cf "$T/layer.tar" .
  local diff; diff=$(sha "$T/layer.tar")
  mkdir -p "$a/$diff"; mv "$T/layer.tar" "$a/$diff/layer.tar"
  printf '{"architecture":"amd64","os":"linux","config":%s,"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$process" "$diff" > "$T/config.json"
  local cfg; cfg=$(sha "$T/config.json")
  mv "$T/config.json" "$a/$cfg.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' "$cfg" "$ref" "$diff" > "$a/manifest.json"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$a" -cf "$out.tmp" .
  mv "$out.tmp" "$out"
}

mkdir -p "$T/pause"
gcc -static -O2 -s -o "$T/pause/pause" "$D/pause.c"
image cnr.test/pause:1 "$T/pause" '{"Entrypoint":["/pause"]}' "$OUT/pause.tar"
image cnr.test/busybox:1 "$ROOTFS" '{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"]}' "$OUT/busybox.tar"
echo "built $OUT/pause.tar $OUT/busybox.tar"
