#!/usr/bin/env bash
# The solver against a current BuildKit (buildkitd-up.sh), side by side in one run, on three Dockerfiles:
#   stages4   - four independent CPU-bound stages (a shell loop of ~65 ms each) gathered by a last stage,
#   runs40    - forty RUN steps (per-step overhead),
#   context5k - a 5,000-file / 200 MB context copied in and listed (context hashing and copying);
# each cold (no build cache, base image present), warm (nothing changed) and changed (one context file changed).
# And stages4-heavy, the same with loops ten times longer (~0.65 s of CPU each, 2.6 s in all on 2 cores), cold:
# kiln, kiln --max-parallelism 1 (the serial time the parallel scheduler should halve on 2 cores) and BuildKit.
# There the loops are the floor for any builder (BuildKit's time can be at most its overhead plus 1.3 s), so its
# ratio shows how close to that floor each comes, not the builders' own costs.
# Prints medians and BuildKit/kiln ratios (above 1: kiln is faster). Usage: bench/solver.sh [RUNS] (as root)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
ANCHORS=${ANCHORS:-$(cd .. && pwd)/shared/anchors}
[ "$(id -u)" = 0 ] || { echo "bench/solver.sh needs root"; exit 1; }
command -v hyperfine >/dev/null || scripts/install-deps
[ -x build/kiln ] || cmake --build build -j"$(nproc)"
"$ANCHORS/peers-up.sh" >/dev/null
PEERS=/var/lib/kiln-peers
KILN=$PWD/build/kiln
BUILDCTL="$PEERS/buildkit/bin/buildctl --addr unix://$PEERS/buildkitd.sock"
$BUILDCTL debug workers >/dev/null 2>&1 || { echo "start a current BuildKit first: BUILDKIT_GIT=... $ANCHORS/buildkitd-up.sh"; exit 1; }

WORK=$(mktemp -d /tmp/kiln-bench-solver.XXXXXX)
export KILN_ROOT=$PEERS/kiln-bench-solver-root  # beside the peers' state, on the same file system
trap 'rm -rf "$WORK" "$KILN_ROOT"' EXIT
results=$WORK/results
mkdir -p "$results"
bench() {  # name, prepare, command
  hyperfine --style none --runs "$RUNS" --warmup 1 --prepare "$2" --export-json "$results/$1.json" "$3" >/dev/null 2>&1 \
    || { echo "benchmark $1 failed; rerun: $3"; return 1; }
}

# The Dockerfiles take the base image as an argument: kiln's store has it imported, BuildKit pulls it from the
# peers' registry.
mkdir -p "$WORK/stages4" "$WORK/stages4-heavy" "$WORK/runs40" "$WORK/context5k/app"
stages() {  # directory, loop iterations
  {
    echo 'ARG BASE'
    for s in a b c d; do
      echo "FROM \${BASE} AS $s"
      echo "COPY $s.txt /in"
      echo "RUN i=0; while [ \$i -lt $2 ]; do i=\$((i+1)); done; cat /in > /out"
    done
    echo 'FROM ${BASE}'
    for s in a b c d; do echo "COPY --from=$s /out /$s"; done
  } > "$1/Dockerfile"
  for s in a b c d; do echo "$s" > "$1/$s.txt"; done
}
stages "$WORK/stages4" 40000
stages "$WORK/stages4-heavy" 400000
{
  echo 'ARG BASE'
  echo 'FROM ${BASE}'
  for i in $(seq 40); do echo "RUN echo $i > /f$i"; done
  echo 'COPY changing.txt /changing.txt'
  echo 'RUN cat /changing.txt /f40 > /out'
} > "$WORK/runs40/Dockerfile"
echo 0 > "$WORK/runs40/changing.txt"
printf 'ARG BASE\nFROM ${BASE}\nCOPY app/ /app/\nRUN ls /app | wc -l > /count\n' > "$WORK/context5k/Dockerfile"
python3 - "$WORK/context5k/app" <<'PY'
import os, sys
for i in range(5000):
    with open(os.path.join(sys.argv[1], f"f{i:04d}.bin"), "wb") as f: f.write(os.urandom(40000))
PY
sleep 2  # older than the stat cache's "racy" window, as a checkout would be

changed_file() {  # the file one changed build changes, per case
  case $1 in stages4) echo "$WORK/stages4/a.txt" ;; runs40) echo "$WORK/runs40/changing.txt" ;; *) echo "$WORK/context5k/app/f2500.bin" ;; esac
}
for case in stages4 runs40 context5k; do
  ctx=$WORK/$case
  change="date +%s%N >> $(changed_file $case)"
  kiln_build="$KILN build --progress quiet --build-arg BASE=busybox:anchor -t bench-$case:1 $ctx"
  bk_build="$BUILDCTL build --progress quiet --frontend dockerfile.v0 --local context=$ctx --local dockerfile=$ctx --opt build-arg:BASE=127.0.0.1:5000/busybox:anchor --output type=image,name=bench-$case:1"
  fresh_kiln="rm -rf $KILN_ROOT && $KILN import $PEERS/busybox-rootfs.tar busybox:anchor >/dev/null"
  bench "kiln-cold-$case" "$fresh_kiln" "$kiln_build"
  bench "buildkit-cold-$case" "$BUILDCTL prune --all >/dev/null" "$bk_build"
  eval "$kiln_build" >/dev/null; eval "$bk_build" >/dev/null 2>&1
  bench "kiln-warm-$case" "true" "$kiln_build"
  bench "buildkit-warm-$case" "true" "$bk_build"
  bench "kiln-changed-$case" "$change" "$kiln_build"
  bench "buildkit-changed-$case" "$change" "$bk_build"
done
fresh_kiln="rm -rf $KILN_ROOT && $KILN import $PEERS/busybox-rootfs.tar busybox:anchor >/dev/null"
heavy="--build-arg BASE=busybox:anchor -t bench-heavy:1 $WORK/stages4-heavy"
bench "kiln-cold-heavy" "$fresh_kiln" "$KILN build --progress quiet $heavy"
bench "kiln-serial-heavy" "$fresh_kiln" "$KILN build --progress quiet --max-parallelism 1 $heavy"
bench "buildkit-cold-heavy" "$BUILDCTL prune --all >/dev/null" \
  "$BUILDCTL build --progress quiet --frontend dockerfile.v0 --local context=$WORK/stages4-heavy --local dockerfile=$WORK/stages4-heavy --opt build-arg:BASE=127.0.0.1:5000/busybox:anchor --output type=image,name=bench-heavy:1"

python3 - "$results" <<'PY'
import json, os, statistics, sys
d = sys.argv[1]
def median(name):
    p = os.path.join(d, name + ".json")
    return statistics.median(json.load(open(p))["results"][0]["times"]) if os.path.exists(p) else None
print(f"{'case':<11}{'build':<9}{'kiln':>10}{'BuildKit':>10}{'BK/kiln':>9}")
for case in ("stages4", "runs40", "context5k"):
    for kind in ("cold", "warm", "changed"):
        k, b = median(f"kiln-{kind}-{case}"), median(f"buildkit-{kind}-{case}")
        print(f"{case:<11}{kind:<9}{k*1000:8.0f}ms{b*1000:8.0f}ms{b/k:8.2f}x")
k, b = median("kiln-cold-heavy"), median("buildkit-cold-heavy")
print(f"{'stages4-heavy':<11}{'cold':<9}{k*1000:8.0f}ms{b*1000:8.0f}ms{b/k:8.2f}x")
serial = median("kiln-serial-heavy")
print(f"stages4-heavy cold, kiln: --max-parallelism 1 {serial*1000:.0f}ms, default {k*1000:.0f}ms: {k/serial:.2f} of the serial time")
PY
