#!/usr/bin/env bash
# Times kiln's registry work against skopeo and a current BuildKit, side by side in one run, on a multi-layer image
# (busybox and four 8 MB layers) in a local registry on 127.0.0.1:5000:
#   pull        - the image into an empty store: kiln pull; skopeo copy to an OCI layout directory
#   push        - the image into an empty registry: kiln push; skopeo copy from an OCI layout
#   push-known  - the image to a new repository of a registry that has its blobs in another one: kiln push;
#                 BuildKit pushing the image it has in its cache (buildctl build --output type=image,push=true)
#   cold-build  - FROM the image + one RUN, nothing local: kiln build on an empty store; BuildKit after prune --all
# Prints medians and the ratios peer/kiln (above 1: kiln is faster). Needs root, the peers of ../shared/anchors
# (peers-up.sh and, for BuildKit, buildkitd-up.sh with BUILDKIT_GIT set; without it BuildKit columns say n/a).
# Usage: bench/registry.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-10}
ANCHORS=${ANCHORS:-$(cd .. && pwd)/shared/anchors}
[ "$(id -u)" = 0 ] || { echo "bench/registry.sh needs root"; exit 1; }
command -v hyperfine >/dev/null || scripts/install-deps
[ -x build/kiln ] || cmake --build build -j"$(nproc)"
"$ANCHORS/peers-up.sh" >/dev/null
PEERS=/var/lib/kiln-peers
KILN=$PWD/build/kiln
BUILDCTL="$PEERS/buildkit/bin/buildctl --addr unix://$PEERS/buildkitd.sock"
have_buildkit() { $BUILDCTL debug workers >/dev/null 2>&1; }
REG=127.0.0.1:5000

WORK=$(mktemp -d /tmp/kiln-bench-registry.XXXXXX)
export KILN_ROOT=$PEERS/kiln-bench-registry-root  # beside the peers' state, on the same file system
trap 'rm -rf "$WORK" "$KILN_ROOT" "$PEERS/kiln-bench-pull-root"' EXIT
results=$WORK/results
mkdir -p "$results"
bench() {  # name, prepare, command
  hyperfine --style none --runs "$RUNS" --warmup 1 --prepare "$2" --export-json "$results/$1.json" "$3" >/dev/null 2>&1 \
    || { echo "benchmark $1 failed; rerun: $3"; return 1; }
}

# The image: built by kiln from the peers' busybox rootfs, pushed once to the peers' registry.
rm -rf "$KILN_ROOT"
"$KILN" import "$PEERS/busybox-rootfs.tar" busybox:anchor >/dev/null
mkdir -p "$WORK/image"
cat > "$WORK/image/Dockerfile" <<'DOCKERFILE'
FROM busybox:anchor
RUN head -c 6000000 /dev/urandom | base64 > /layer1
RUN head -c 6000000 /dev/urandom | base64 > /layer2
RUN head -c 6000000 /dev/urandom | base64 > /layer3
RUN head -c 6000000 /dev/urandom | base64 > /layer4
DOCKERFILE
"$KILN" build --progress quiet -t "$REG/bench/multi:1" --push "$WORK/image" >/dev/null
IMAGE=$REG/bench/multi:1

# pull
PULL_ROOT=$PEERS/kiln-bench-pull-root
bench kiln-pull "rm -rf $PULL_ROOT" "KILN_ROOT=$PULL_ROOT $KILN pull --progress quiet $IMAGE"
bench skopeo-pull "rm -rf $WORK/layout" "skopeo copy -q --src-tls-verify=false docker://$IMAGE oci:$WORK/layout:1"

# push: into a registry of its own on another port whose storage is emptied before each run.
PUSH_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$WORK/push-registry"
cat > "$WORK/push-registry/config.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $WORK/push-registry/data}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$PUSH_PORT}
YML
docker-registry serve "$WORK/push-registry/config.yml" >/dev/null 2>&1 &
PUSH_PID=$!
trap 'kill $PUSH_PID 2>/dev/null; rm -rf "$WORK" "$KILN_ROOT" "$PULL_ROOT"' EXIT
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PUSH_PORT/v2/" && break; sleep 0.1; done
PUSH=127.0.0.1:$PUSH_PORT
empty_push_registry="rm -rf $WORK/push-registry/data"
bench kiln-push "$empty_push_registry" "$KILN push --progress quiet $IMAGE $PUSH/bench/pushed:1"
bench skopeo-push "$empty_push_registry" "skopeo copy -q --dest-tls-verify=false oci:$WORK/layout:1 docker://$PUSH/bench/pushed:1"

# cold build whose base must be pulled
mkdir -p "$WORK/cold"
printf 'FROM %s\nRUN echo built > /built\n' "$IMAGE" > "$WORK/cold/Dockerfile"
COLD_ROOT=$PULL_ROOT
bench kiln-cold-build "rm -rf $COLD_ROOT" "KILN_ROOT=$COLD_ROOT $KILN build --progress quiet -t cold:1 $WORK/cold"
# What kiln built, pushed to a new repository of the registry its base came from (blobs known there).
bench kiln-push-known "true" "KILN_ROOT=$COLD_ROOT $KILN push --progress quiet cold:1 $REG/bench/kiln-pushed-\$(date +%s%N):1"

if have_buildkit; then
  bk_build="$BUILDCTL build --frontend dockerfile.v0 --local context=$WORK/cold --local dockerfile=$WORK/cold"
  bench buildkit-cold-build "$BUILDCTL prune --all >/dev/null" "$bk_build --output type=image,name=cold:1" || true
  # BuildKit pushes what it built; the registry must be one it trusts over HTTP: its own on 127.0.0.1:5000, where
  # the pushed repository is new each run and the blobs are there already.
  $bk_build --output type=image,name=cold:1 >/dev/null 2>&1
  bench buildkit-push-known "true" "$bk_build --output type=image,name=$REG/bench/bk-pushed-\$(date +%s%N):1,push=true" || true
fi

python3 - "$results" <<'PY'
import json, os, statistics, sys
d = sys.argv[1]
def median(name):
    p = os.path.join(d, name + ".json")
    return statistics.median(json.load(open(p))["results"][0]["times"]) if os.path.exists(p) else None
def ms(v):
    return f"{v*1000:8.1f}ms" if v else "       n/a"
def ratio(peer, k):
    return f"{peer/k:7.2f}x" if peer and k else "     n/a"
print(f"{'scenario':<12}{'kiln':>10}{'skopeo':>10}{'BuildKit':>10}{'skopeo/kiln':>13}{'BK/kiln':>9}")
for s in ("pull", "push", "push-known", "cold-build"):
    k, sk, bk = median(f"kiln-{s}"), median(f"skopeo-{s}"), median(f"buildkit-{s}")
    print(f"{s:<12}{ms(k)}{ms(sk)}{ms(bk)}{ratio(sk, k):>13}{ratio(bk, k):>9}")
PY
