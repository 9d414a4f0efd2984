#!/usr/bin/env bash
# Times kiln against BuildKit (dockerd's) and buildah on the same Dockerfiles, side by side in one run:
#   cold     - no build cache (base image present),
#   warm     - rebuild with nothing changed,
#   changed  - rebuild after one copied file changed.
# Prints medians and the ratios peer/kiln (above 1 means kiln is faster). Needs root and the peers of
# ../shared/anchors (started here with peers-up.sh). Usage: bench/compare.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-10}
ANCHORS=${ANCHORS:-$(cd .. && pwd)/shared/anchors}
[ "$(id -u)" = 0 ] || { echo "bench/compare.sh needs root"; exit 1; }
command -v hyperfine >/dev/null || scripts/install-deps
[ -x build/kiln ] || cmake --build build -j"$(nproc)"
"$ANCHORS/peers-up.sh" >/dev/null
PEERS=/var/lib/kiln-peers
export DOCKER_HOST=unix://$PEERS/docker.sock
DOCKER=/usr/bin/docker
KILN=$PWD/build/kiln

WORK=$(mktemp -d /tmp/kiln-bench.XXXXXX)
# kiln's state sits beside the peers' on the same file system tree: on this VM's ext4, creating files costs up
# to 20x more in some directories than in others, which would otherwise swamp the comparison.
export KILN_ROOT=$PEERS/kiln-bench-root
trap 'rm -rf "$WORK" "$KILN_ROOT"' EXIT

# Two contexts: a small one and one with 2,000 files (context hashing is on the warm path).
make_context() {
  local dir=$1 files=$2
  mkdir -p "$dir/app/src"
  for i in $(seq "$files"); do echo "file $i" > "$dir/app/src/f$i.txt"; done
  echo "version 0" > "$dir/app/changing.txt"
  cat > "$dir/Dockerfile" <<'DOCKERFILE'
ARG BASE
FROM ${BASE}
COPY app/ /app/
RUN cat /app/changing.txt > /app/out && ls /app/src | wc -l >> /app/out
CMD ["cat", "/app/out"]
DOCKERFILE
}

results=$WORK/results
mkdir -p "$results"
bench() {  # name, prepare, command
  hyperfine --style none --runs "$RUNS" --warmup 1 --prepare "$2" --export-json "$results/$1.json" "$3" >/dev/null 2>&1 \
    || { echo "benchmark $1 failed; rerun: $3"; return 1; }
}

for size in small:3 many:2000; do
  name=${size%%:*}
  ctx=$WORK/ctx-$name
  make_context "$ctx" "${size##*:}"
  change="date +%s%N > $ctx/app/changing.txt"
  kiln_build="$KILN build --progress quiet --build-arg BASE=busybox:anchor -t bench:$name $ctx"
  bk_build="DOCKER_BUILDKIT=1 $DOCKER build -q --network host --build-arg BASE=busybox:anchor -t bench:$name $ctx"
  ba_build="buildah bud --quiet --runtime runc --tls-verify=false --network host --layers --build-arg BASE=127.0.0.1:5000/busybox:anchor -t bench:$name $ctx"

  # Each tool's cold state: kiln a fresh data root with only the base imported; BuildKit a pruned build
  # cache; buildah --no-cache.
  bench "kiln-cold-$name" "rm -rf $KILN_ROOT && $KILN import $PEERS/busybox-rootfs.tar busybox:anchor >/dev/null" "$kiln_build"
  bench "buildkit-cold-$name" "$DOCKER builder prune -af >/dev/null" "$bk_build"
  bench "buildah-cold-$name" "true" "${ba_build/--layers/--layers --no-cache}"

  for tool in kiln buildkit buildah; do
    case $tool in kiln) cmd=$kiln_build ;; buildkit) cmd=$bk_build ;; buildah) cmd=$ba_build ;; esac
    sh -c "$cmd" >/dev/null 2>&1
    bench "$tool-warm-$name" "true" "$cmd"
    bench "$tool-changed-$name" "$change" "$cmd"
  done
done

python3 - "$results" <<'PY'
import json, os, statistics, sys
d = sys.argv[1]
def median(name):
    return statistics.median(json.load(open(os.path.join(d, name + ".json")))["results"][0]["times"])
print(f"{'scenario':<16}{'kiln':>10}{'BuildKit':>10}{'buildah':>10}{'BK/kiln':>9}{'buildah/kiln':>14}")
for size in ("small", "many"):
    for scenario in ("cold", "warm", "changed"):
        k, b, a = (median(f"{t}-{scenario}-{size}") for t in ("kiln", "buildkit", "buildah"))
        print(f"{scenario + '-' + size:<16}{k*1000:>8.1f}ms{b*1000:>8.1f}ms{a*1000:>8.1f}ms{b/k:>8.1f}x{a/k:>13.1f}x")
PY
