#!/usr/bin/env bash
# The example end to end, in one command (as root): builds the Go web server for linux/amd64 and linux/arm64, pushes
# the index to REGISTRY, runs each platform's image and asks it over HTTP which platform it is, then changes one Go
# file and builds again to show the Go build cache (a cache mount) at work.
# Usage: run.sh [REGISTRY]   (default 127.0.0.1:5000; its base images are made by make-bases.sh when missing)
# Each run starts from a data root of its own, so the first build is cold (the Go caches empty) and the rebuild's
# figure compares with it; the base images come from the registry.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REGISTRY=${1:-127.0.0.1:5000}
KILN=${KILN:-kiln}
export KILN
IMAGE=$REGISTRY/kiln-examples/go-web:1
args=(--build-arg "GO_IMAGE=$REGISTRY/kiln-examples/golang:1.19" --build-arg "BASE_IMAGE=$REGISTRY/kiln-examples/debian:bookworm")

"$KILN" setup-binfmt >/dev/null
export KILN_ROOT
KILN_ROOT=$(mktemp -d /var/tmp/kiln-go-web-root.XXXXXX)
if ! "$KILN" pull --progress quiet --platform linux/amd64,linux/arm64 "$REGISTRY/kiln-examples/golang:1.19" >/dev/null 2>&1; then
  "$HERE/make-bases.sh" "$REGISTRY"
fi

# The source is copied, so that the change below leaves the repository as it is.
src=$(mktemp -d /tmp/kiln-go-web.XXXXXX)
server_pid=
trap 'if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null; fi
      rm -rf "$src" "$KILN_ROOT"' EXIT
cp -r "$HERE"/. "$src"

# Seconds the go build step took in a --progress plain log ("" when it was cached).
go_build_time() {
  awk '/RUN --mount=type=cache,target=\/go\/pkg\/mod --mount=type=cache,target=\/root\/.cache\/go-build/ && /linux\/amd64/ {n=$1}
       n && $1 == n && $2 == "DONE" {sub(/s$/, "", $3); print $3; exit}' "$1"
}

echo "== kiln build --platform linux/amd64,linux/arm64 -t $IMAGE --push"
start=$(date +%s.%N)
"$KILN" build --progress plain --platform linux/amd64,linux/arm64 "${args[@]}" -t "$IMAGE" --push "$src" > "$src/build1.log" 2>&1 \
  || { cat "$src/build1.log"; exit 1; }
echo "built and pushed in $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s"
skopeo inspect --tls-verify=false --raw "docker://$IMAGE" | python3 -c '
import json, sys
for m in json.load(sys.stdin)["manifests"]:
    print("  index:", m["platform"]["os"] + "/" + m["platform"]["architecture"], m["digest"])'

for arch in amd64 arm64; do
  "$KILN" run --network host --platform "linux/$arch" "$IMAGE" >/dev/null 2>&1 &
  server_pid=$!
  answer=
  for _ in $(seq 100); do answer=$(curl -fsS http://127.0.0.1:8080/ 2>/dev/null) && break; sleep 0.2; done
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
  server_pid=
  [ -n "$answer" ] || { echo "the linux/$arch server did not answer"; exit 1; }
  echo "  linux/$arch: curl 127.0.0.1:8080 -> $answer"
done

echo "== one Go file changed, built again"
sed -i 's/hello from kiln/hello again from kiln/' "$src/internal/greet/greet.go"
"$KILN" build --progress plain --platform linux/amd64,linux/arm64 "${args[@]}" -t "$IMAGE" "$src" > "$src/build2.log" 2>&1 \
  || { cat "$src/build2.log"; exit 1; }
before=$(go_build_time "$src/build1.log")
after=$(go_build_time "$src/build2.log")
echo "  go build for linux/amd64: ${before}s with empty Go caches, ${after}s after the change (the cache mounts kept the work)"
