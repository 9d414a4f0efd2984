#!/usr/bin/env bash
# Records BuildKit's results for the parity cases (tests/parity/cases/NAME) as golden files
# (tests/parity/golden/NAME/{tree.txt,config.json}), which tests/integration/parity_test.sh compares kiln's against
# on every CTest run, with no BuildKit present. Run it when a case is added or changed, with a current BuildKit:
#   BUILDKIT_GIT=... ../shared/anchors/buildkitd-up.sh && tests/parity/record.sh [CASE...]     (as root)
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/parity/lib.sh
PEERS=/var/lib/kiln-peers
BUILDCTL="$PEERS/buildkit/bin/buildctl --addr unix://$PEERS/buildkitd.sock"
$BUILDCTL debug workers >/dev/null 2>&1 || { echo "start a current BuildKit first (../shared/anchors/buildkitd-up.sh)"; exit 1; }
WORK=$(mktemp -d /tmp/kiln-parity-record.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
version=$($PEERS/buildkit/bin/buildkitd --version | awk '{print $3}')
# Cases that use labs-only flags (COPY --parents, --exclude in v0.24) say "# parity-frontend: labs" and need
# buildkitd built with those features, run in place of the stable one, e.g.:
#   cd $PEERS/buildkit/src-v0.24.0 && GOFLAGS=-mod=vendor go build -tags "dfparents dfexcludepatterns" \
#     -ldflags "-X github.com/moby/buildkit/version.Version=v0.24.0-labs" -o $PEERS/buildkit/bin-labs/buildkitd ./cmd/buildkitd
running=$(readlink -f /proc/"$(cat $PEERS/buildkitd.pid)"/exe 2>/dev/null || true)

cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=($(ls tests/parity/cases))
for name in "${cases[@]}"; do
  if grep -q '^# parity-frontend: labs' tests/parity/cases/"$name"/Dockerfile && [[ $running != */bin-labs/* ]]; then
    echo "$name: needs the labs buildkitd (see the top of this script)"; exit 1
  fi
  ctx=$WORK/cases/$name
  out=$WORK/$name
  mkdir -p "$out/tree" "$WORK/cases"
  cp -a tests/parity/cases/"$name" "$ctx"
  parity_prepare "$ctx"
  parity_serve "$ctx"
  # The case's kiln flags, as buildctl options. busybox:anchor is the peers' registry copy of the same image.
  opts=(--opt "context:busybox:anchor=docker-image://127.0.0.1:5000/busybox:anchor")
  [ -z "$PARITY_SERVER" ] || opts+=(--opt "build-arg:SERVER=$PARITY_SERVER")
  for base in $(parity_bases "$ctx"); do  # built and pushed first, then named by the case's FROM
    ref=127.0.0.1:5000/parity-${base%%=*}:latest
    $BUILDCTL build --progress quiet --frontend dockerfile.v0 --local context="$ctx" --local dockerfile="$ctx/${base#*=}" \
      --opt "context:busybox:anchor=docker-image://127.0.0.1:5000/busybox:anchor" \
      --output "type=image,name=$ref,push=true,registry.insecure=true" >"$out/base.log" 2>&1 \
      || { echo "$name: BuildKit failed on the base ${base%%=*}"; tail -20 "$out/base.log"; exit 1; }
    opts+=(--opt "context:${base%%=*}=docker-image://$ref")
  done
  read -ra flags <<<"$(parity_args "$ctx")"
  for ((i = 0; i < ${#flags[@]}; i++)); do
    case ${flags[i]} in
      --target) opts+=(--opt "target=${flags[++i]}") ;;
      --build-arg) opts+=(--opt "build-arg:${flags[++i]}") ;;
      --build-context)  # NAME=DIR, DIR relative to the case
        spec=${flags[++i]}
        opts+=(--local "${spec%%=*}=$ctx/${spec#*=}" --opt "context:${spec%%=*}=local:${spec%%=*}") ;;
      *) echo "$name: record.sh does not know the flag ${flags[i]}"; exit 1 ;;
    esac
  done
  $BUILDCTL build --progress quiet --frontend dockerfile.v0 --local context="$ctx" --local dockerfile="$ctx" "${opts[@]}" \
    --output type=tar,dest="$out/rootfs.tar" --output type=oci,dest="$out/image.tar" >"$out/log" 2>&1 \
    || { echo "$name: BuildKit failed"; tail -20 "$out/log"; parity_stop_serving; exit 1; }
  parity_stop_serving
  tar --numeric-owner -xpf "$out/rootfs.tar" -C "$out/tree" --warning=no-timestamp
  mkdir -p "$out/oci" && tar -xf "$out/image.tar" -C "$out/oci"
  manifest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"].split(":")[1])' "$out/oci/index.json")
  config=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["config"]["digest"].split(":")[1])' "$out/oci/blobs/sha256/$manifest")
  mkdir -p tests/parity/golden/"$name"
  parity_tree "$out/tree" > tests/parity/golden/"$name"/tree.txt
  parity_config "$PARITY_SERVER" < "$out/oci/blobs/sha256/$config" > tests/parity/golden/"$name"/config.json
  [[ $running == */bin-labs/* ]] && version=$($running --version | awk '{print $3}')
  echo "BuildKit $version" > tests/parity/golden/"$name"/recorded-with
  echo "$name: recorded"
done
