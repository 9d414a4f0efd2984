#!/usr/bin/env bash
# Parity with BuildKit: builds each case under tests/parity/cases with kiln and with BuildKit (dockerd's, started
# by ../shared/anchors/peers-up.sh) and compares the results: the root file systems file by file (type, mode,
# owner, size, link target, content) and the image configs and histories. Not part of CTest: it needs the peers.
# Usage: tests/parity/run.sh [CASE...]     (as root; exits non-zero when a case differs)
# Known difference, by design: an ARG's history entry shows the value as written in docker.io's BuildKit (v0.8:
# "ARG V" even with --build-arg V=2) but the value in effect in current BuildKit and kiln ("ARG V=2"); ARG entries
# are compared by name only (the values in effect are still compared through the RUN entries' "|N K=V" lists).
# Also by design: RUN --mount targets that the image lacks. docker.io's BuildKit (v0.8) leaves the empty directories
# the runtime made for them in the layer; current BuildKit removes them (MountStubsCleaner with
# RemoveMountStubsRecursive) and so does kiln. A case lists them as "# parity-mount-stubs: PATH..." and they are
# left out of BuildKit's tree (only if they are empty directories there).
set -uo pipefail
cd "$(dirname "$0")/../.."
ANCHORS=${ANCHORS:-$(cd .. && pwd)/shared/anchors}
"$ANCHORS/peers-up.sh" >/dev/null || { echo "cannot start the peers"; exit 1; }
PEERS=/var/lib/kiln-peers
export DOCKER_HOST=unix://$PEERS/docker.sock KILN_ROOT=$PEERS/kiln-parity-root
DOCKER=/usr/bin/docker  # Debian's CLI: it builds with the daemon's BuildKit without buildx
KILN=$PWD/build/kiln
WORK=$(mktemp -d /tmp/kiln-parity.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
$KILN import "$PEERS/busybox-rootfs.tar" busybox:anchor >/dev/null

tree_of() {  # DIR: one line per entry
  (cd "$1" && find . -printf '%p %y %m %U:%G %s %l\n' | sort | while read -r p y m o s l; do
    h=-; [ "$y" = f ] && h=$(md5sum < "$p" | cut -c1-12)
    [ "$y" = d ] && s=-
    [ "$p" = . ] && m=-  # the export directory itself
    echo "$p $y $m $o $s $l $h"
  done)
}
config_of() {  # reads an image config JSON on stdin: Config, and the history after the base image's
  python3 -c 'import json,sys
c=json.load(sys.stdin)
def norm(by):
  if by and by.startswith("ARG "): return "ARG " + " ".join(w.split("=")[0] for w in by[4:].split(" "))
  return by
hist=[(norm(h.get("created_by")),h.get("empty_layer",False)) for h in c["history"]][1:]
cfg={k:v for k,v in c["config"].items() if k!="OnBuild" or v}
print(json.dumps({"config":cfg,"history":hist,"layers":len(c["rootfs"]["diff_ids"])-1},indent=1,sort_keys=True))'
}

failed=0
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=($(ls tests/parity/cases))
for name in "${cases[@]}"; do
  ctx=tests/parity/cases/$name
  out=$WORK/$name
  mkdir -p "$out/kiln" "$out/buildkit"
  # Empty directories a case needs (git keeps none) are listed in its Dockerfile as "# parity-empty-dirs: ...".
  for d in $(sed -n 's/^# parity-empty-dirs: *//p' "$ctx/Dockerfile"); do mkdir -p "$ctx/$d"; done
  # Build flags a case needs (--target, --build-arg) sit in its Dockerfile as "# parity-args: ...".
  read -ra flags <<<"$(sed -n 's/^# parity-args: *//p' "$ctx/Dockerfile")"
  if ! $KILN build -q "${flags[@]}" -t "parity-$name" -o "type=local,dest=$out/kiln" "$ctx" >"$out/kiln.log" 2>&1; then
    echo "$name: kiln failed"; cat "$out/kiln.log"; failed=1; continue
  fi
  if ! DOCKER_BUILDKIT=1 $DOCKER build -q --network host "${flags[@]}" -t "parity-$name" "$ctx" >"$out/bk.log" 2>&1 ||
     ! DOCKER_BUILDKIT=1 $DOCKER build -q --network host "${flags[@]}" -o "type=tar,dest=$out/bk.tar" "$ctx" >>"$out/bk.log" 2>&1; then
    echo "$name: BuildKit failed"; tail -5 "$out/bk.log"; failed=1; continue
  fi
  tar --numeric-owner -xpf "$out/bk.tar" -C "$out/buildkit" 2>/dev/null
  for stub in $(sed -n 's/^# parity-mount-stubs: *//p' "$ctx/Dockerfile"); do
    rmdir "$out/buildkit$stub" 2>/dev/null || true
  done
  $KILN inspect "parity-$name" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["config"]))' \
    | config_of > "$out/kiln.config"
  id=$($DOCKER image inspect -f '{{.Id}}' "parity-$name")
  $DOCKER image save "parity-$name" | tar -xO "${id#sha256:}.json" 2>/dev/null | config_of > "$out/bk.config" \
    || $DOCKER image save "parity-$name" | tar -xO "blobs/sha256/${id#sha256:}" | config_of > "$out/bk.config"
  if diff <(tree_of "$out/buildkit") <(tree_of "$out/kiln") > "$out/tree.diff" &&
     diff "$out/bk.config" "$out/kiln.config" > "$out/config.diff"; then
    echo "$name: same as BuildKit"
  else
    echo "$name: DIFFERENT (< BuildKit, > kiln)"; head -40 "$out/tree.diff" "$out/config.diff"; failed=1
  fi
done
exit $failed
