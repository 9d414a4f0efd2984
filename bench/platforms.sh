#!/usr/bin/env bash
# A two-platform build (linux/amd64 + linux/arm64, the arm64 RUN steps under QEMU) by kiln beside a current
# BuildKit (../shared/anchors/buildkitd-up.sh), cold and warm: a native $BUILDPLATFORM stage that runs once, and a
# per-platform stage built on a busybox index from the local registry. Medians are appended to bench/results.tsv.
# Usage: bench/platforms.sh [RUNS] (as root; RUNS defaults to 5). bench/all.sh runs it too.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
ANCHORS=${ANCHORS:-$(cd .. && pwd)/shared/anchors}
ARM64_BUSYBOX=/usr/local/share/kiln/arm64/busybox
[ "$(id -u)" = 0 ] || { echo "bench/platforms.sh needs root"; exit 1; }
[ -x "$ARM64_BUSYBOX" ] && command -v hyperfine >/dev/null || scripts/install-deps
cmake --build build -j"$(nproc)" --target kiln >/dev/null
"$ANCHORS/peers-up.sh" >/dev/null
PEERS=/var/lib/kiln-peers
KILN=$PWD/build/kiln
BUILDCTL="$PEERS/buildkit/bin/buildctl --addr unix://$PEERS/buildkitd.sock"
$BUILDCTL debug workers >/dev/null 2>&1 || { echo "start a current BuildKit first: BUILDKIT_GIT=... $ANCHORS/buildkitd-up.sh"; exit 1; }
"$KILN" setup-binfmt >/dev/null

WORK=$(mktemp -d /tmp/kiln-bench-platforms.XXXXXX)
export KILN_ROOT=$PEERS/kiln-bench-platforms-root
trap 'rm -rf "$WORK" "$KILN_ROOT"' EXIT
BASE=127.0.0.1:5000/busybox:multi
# The base index in the registry, for both builders: amd64 busybox and arm64 busybox.
for arch in amd64 arm64; do
  mkdir -p "$WORK/rootfs-$arch/bin"
  if [ $arch = amd64 ]; then cp /bin/busybox "$WORK/rootfs-$arch/bin/"; else cp "$ARM64_BUSYBOX" "$WORK/rootfs-$arch/bin/"; fi
  "$WORK/rootfs-amd64/bin/busybox" --list 2>/dev/null | while read -r a; do [ "$a" = busybox ] || ln -sf busybox "$WORK/rootfs-$arch/bin/$a"; done
  tar -C "$WORK/rootfs-$arch" -cf "$WORK/rootfs-$arch.tar" .
  "$KILN" import --platform linux/$arch "$WORK/rootfs-$arch.tar" "$BASE" >/dev/null
done
"$KILN" push --progress quiet "$BASE"

mkdir -p "$WORK/ctx"
cat > "$WORK/ctx/Dockerfile" <<'DOCKERFILE'
ARG BASE
FROM --platform=$BUILDPLATFORM ${BASE} AS native
ARG TARGETARCH
RUN i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; echo "for $TARGETARCH" > /tool
FROM ${BASE}
COPY --from=native /tool /tool
RUN i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done; uname -m > /arch
DOCKERFILE
kiln_cmd="$KILN build --progress quiet --platform linux/amd64,linux/arm64 --build-arg BASE=$BASE -t bench-platforms:1 $WORK/ctx"
buildkit_cmd="$BUILDCTL build --progress quiet --frontend dockerfile.v0 --local context=$WORK/ctx --local dockerfile=$WORK/ctx \
  --opt platform=linux/amd64,linux/arm64 --opt build-arg:BASE=$BASE --output type=image,name=bench-platforms:1"
results=$WORK/results
mkdir -p "$results"
bench() {  # name, prepare, command
  hyperfine --style none --runs "$RUNS" --warmup 1 --prepare "$2" --export-json "$results/$1.json" "$3" >/dev/null 2>&1 \
    || { echo "benchmark $1 failed; rerun: $3"; return 1; }
}
# Cold: no build cache, the base index pulled (kiln: a new store; BuildKit: pruned).
bench kiln-cold "rm -rf $KILN_ROOT" "$kiln_cmd"
bench buildkit-cold "$BUILDCTL prune --all >/dev/null" "$buildkit_cmd"
sh -c "$kiln_cmd" >/dev/null 2>&1 && sh -c "$buildkit_cmd" >/dev/null 2>&1
bench kiln-warm true "$kiln_cmd"
bench buildkit-warm true "$buildkit_cmd"

python3 - "$results" "$(git rev-parse --short HEAD)" <<'PY'
import json, os, statistics, sys, time
d, commit = sys.argv[1], sys.argv[2]
median = lambda n: statistics.median(json.load(open(os.path.join(d, n + ".json")))["results"][0]["times"]) * 1000
rows = []
print(f"{'case':<16}{'build':<7}{'kiln':>10}{'BuildKit':>10}{'BK/kiln':>9}")
for kind in ("cold", "warm"):
    k, b = median(f"kiln-{kind}"), median(f"buildkit-{kind}")
    rows += [(f"platforms2-{kind}", "kiln", k), (f"platforms2-{kind}", "buildkit", b)]
    print(f"{'platforms2':<16}{kind:<7}{k:8.1f}ms{b:8.1f}ms{b/k:8.1f}x")
with open(os.path.join(os.getcwd(), "bench", "results.tsv"), "a") as f:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for case, tool, value in rows:
        f.write(f"{stamp}\t{commit}\t{case}\t{tool}\t{value:.2f}\tms\n")
PY
