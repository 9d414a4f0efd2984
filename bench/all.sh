#!/usr/bin/env bash
# Every speed case in one run, kiln beside a current BuildKit (../shared/anchors/buildkitd-up.sh) and buildah, and
# the ratio table; the medians are appended to bench/results.tsv (date, commit, case, tool, milliseconds or MB), so
# that a regression shows in review.
#   builds   small (COPY + RUN), stages4 (four independent stages gathered by a fifth), runs40 (forty RUN steps),
#            context5k (5,000 files, 200 MB): cold (no build cache, base image present), warm (nothing changed),
#            changed (one context file changed)
#   heavy    stages4 with loops ten times longer, cold: the loops are the floor on 2 cores, and kiln
#            --max-parallelism 1 shows what the parallel scheduler saves
#   pull     a cold build whose base image comes from the local registry (kiln: a new store; BuildKit: pruned)
#   start    kiln --help and kiln images on a small store, beside /bin/true
#   run      what one RUN step adds to a build (FROM + RUN true against FROM alone, both --no-cache), beside a bare
#            `runc run` of the same container (kiln's config.json) on the same root file system: kiln's own work
#            is the difference
#   rss      kiln's peak resident memory over a cold context5k build, and kiln mcp's under 8 concurrent callers
#   platforms2  a linux/amd64 + linux/arm64 build, cold and warm (bench/platforms.sh)
# Ratios are peer/kiln: above 1, kiln is faster. Usage: bench/all.sh [RUNS] (as root; RUNS defaults to 5)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
ANCHORS=${ANCHORS:-$(cd .. && pwd)/shared/anchors}
[ "$(id -u)" = 0 ] || { echo "bench/all.sh needs root"; exit 1; }
command -v hyperfine >/dev/null || scripts/install-deps
cmake --build build -j"$(nproc)" --target kiln mcp_lean >/dev/null
"$ANCHORS/peers-up.sh" >/dev/null
PEERS=/var/lib/kiln-peers
KILN=$PWD/build/kiln
BUILDCTL="$PEERS/buildkit/bin/buildctl --addr unix://$PEERS/buildkitd.sock"
$BUILDCTL debug workers >/dev/null 2>&1 || { echo "start a current BuildKit first: BUILDKIT_GIT=... $ANCHORS/buildkitd-up.sh"; exit 1; }
REGISTRY_BASE=127.0.0.1:5000/busybox:anchor

WORK=$(mktemp -d /tmp/kiln-bench.XXXXXX)
# kiln's state sits beside the peers' on the same file system: on this VM's ext4, creating files costs up to 20x
# more in some directories than in others, which would otherwise swamp the comparison.
export KILN_ROOT=$PEERS/kiln-bench-root
trap 'rm -rf "$WORK" "$KILN_ROOT"' EXIT
results=$WORK/results
mkdir -p "$results"
bench() {  # name, prepare, command (both through the shell)
  hyperfine --style none --runs "$RUNS" --warmup 1 --prepare "$2" --export-json "$results/$1.json" "$3" >/dev/null 2>&1 \
    || { echo "benchmark $1 failed; rerun: $3"; return 1; }
}
bench_exec() {  # name, command: a process start, run without a shell (none between hyperfine and it), many times
  hyperfine --style none -N --runs 300 --warmup 20 --export-json "$results/$1.json" "$2" >/dev/null 2>&1 \
    || { echo "benchmark $1 failed; rerun: $2"; return 1; }
}
fresh_kiln="rm -rf $KILN_ROOT && $KILN import $PEERS/busybox-rootfs.tar busybox:anchor >/dev/null"

# --- the build cases ---
mkdir -p "$WORK/small/app" "$WORK/stages4" "$WORK/heavy" "$WORK/runs40" "$WORK/context5k/app"
for i in 1 2 3; do echo "file $i" > "$WORK/small/app/f$i.txt"; done
printf 'ARG BASE\nFROM ${BASE}\nCOPY app/ /app/\nRUN cat /app/f1.txt > /app/out\nCMD ["cat", "/app/out"]\n' \
  > "$WORK/small/Dockerfile"
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
stages "$WORK/heavy" 400000
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

changed_file() {
  case $1 in
    small) echo "$WORK/small/app/f1.txt" ;; stages4) echo "$WORK/stages4/a.txt" ;;
    runs40) echo "$WORK/runs40/changing.txt" ;; context5k) echo "$WORK/context5k/app/f2500.bin" ;;
  esac
}
kiln_cmd() { echo "$KILN build --progress quiet --build-arg BASE=${2:-busybox:anchor} -t bench-$1:1 $WORK/$1"; }
buildkit_cmd() {
  echo "$BUILDCTL build --progress quiet --frontend dockerfile.v0 --local context=$WORK/$1 --local dockerfile=$WORK/$1" \
       "--opt build-arg:BASE=$REGISTRY_BASE --output type=image,name=bench-$1:1"
}
buildah_cmd() {
  echo "buildah bud --quiet --runtime runc --tls-verify=false --network host --layers --build-arg BASE=$REGISTRY_BASE" \
       "-t bench-$1:1 $WORK/$1"
}
for case in small stages4 runs40 context5k; do
  change="date +%s%N >> $(changed_file "$case")"
  bench "kiln-cold-$case" "$fresh_kiln" "$(kiln_cmd $case)"
  bench "buildkit-cold-$case" "$BUILDCTL prune --all >/dev/null" "$(buildkit_cmd $case)"
  bench "buildah-cold-$case" "true" "$(buildah_cmd $case | sed 's/--layers/--layers --no-cache/')"
  for tool in kiln buildkit buildah; do
    cmd=$(${tool}_cmd $case)
    sh -c "$cmd" >/dev/null 2>&1
    bench "$tool-warm-$case" "true" "$cmd"
    bench "$tool-changed-$case" "$change" "$cmd"
  done
done
bench "kiln-cold-heavy" "$fresh_kiln" "$(kiln_cmd heavy)"
bench "kiln_serial-cold-heavy" "$fresh_kiln" "$(kiln_cmd heavy) --max-parallelism 1"
bench "buildkit-cold-heavy" "$BUILDCTL prune --all >/dev/null" "$(buildkit_cmd heavy)"

# --- a cold build pulling its base from the registry ---
bench "kiln-pull-small" "rm -rf $KILN_ROOT" "$(kiln_cmd small $REGISTRY_BASE) --insecure-registry 127.0.0.1:5000"
bench "buildkit-pull-small" "$BUILDCTL prune --all >/dev/null" "$(buildkit_cmd small)"

# --- process start ---
sh -c "$fresh_kiln && $(kiln_cmd small)" >/dev/null
bench_exec "kiln-start-help" "$KILN --help"
bench_exec "kiln-start-images" "$KILN images"
bench_exec "true-start-help" "/bin/true"

# --- what a RUN step costs, against runc alone ---
# The bare run uses the very container kiln makes (its config.json: namespaces, mounts, seccomp profile,
# capabilities), taken from a running step, on the same root file system, so the difference is kiln's own work.
mkdir -p "$WORK/from" "$WORK/run1" "$WORK/sleep" "$WORK/bundle/rootfs"
printf 'FROM busybox:anchor\n' > "$WORK/from/Dockerfile"
printf 'FROM busybox:anchor\nRUN true\n' > "$WORK/run1/Dockerfile"
printf 'FROM busybox:anchor\nRUN sleep 3\n' > "$WORK/sleep/Dockerfile"
sh -c "$fresh_kiln"
bench "kiln-from-run" "true" "$KILN build --progress quiet --no-cache $WORK/from"
bench "kiln-run-run" "true" "$KILN build --progress quiet --no-cache $WORK/run1"
tar -xf "$PEERS/busybox-rootfs.tar" -C "$WORK/bundle/rootfs"
$KILN build --progress quiet --no-cache "$WORK/sleep" >/dev/null 2>&1 &
for _ in $(seq 50); do
  config=$(ls "$KILN_ROOT"/run/bundles/b-*/config.json 2>/dev/null | head -1) && [ -n "$config" ] && break
  sleep 0.1
done
cp "$(dirname "$config")"/{config.json,hosts,resolv.conf} "$WORK/bundle/"
wait
python3 - "$WORK/bundle" <<'PY'
import json, os, sys
bundle = sys.argv[1]
c = json.load(open(os.path.join(bundle, "config.json")))
c["root"]["path"] = os.path.join(bundle, "rootfs")
c["process"]["args"] = ["/bin/sh", "-c", "true"]
for m in c["mounts"]:
    if m.get("type") == "bind" and "/run/bundles/" in m.get("source", ""):
        m["source"] = os.path.join(bundle, os.path.basename(m["source"]))
json.dump(c, open(os.path.join(bundle, "config.json"), "w"))
PY
bench "runc-run-run" "true" "runc run --bundle $WORK/bundle kiln-bench-bare"

# --- peak memory ---
rss_build=$(sh -c "$fresh_kiln" && /usr/bin/time -f %M $(kiln_cmd context5k) 2>&1 >/dev/null | tail -1)
port=$((39000 + RANDOM % 500))
mkdir -p "$WORK/mcp-root"
$KILN mcp --transport http --listen 127.0.0.1:$port --root "$WORK/mcp-root" 2>/dev/null &
mcp_pid=$!
for _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:$port/mcp && break; sleep 0.1; done
for request in tools/list 'tools/call:list_directory:{}'; do
  for era in legacy modern; do
    build/mcp_lean --url http://127.0.0.1:$port/mcp --era $era --request "$request" --rounds 5000 >/dev/null
  done
done
rss_mcp=$(awk '/VmHWM/ {print $2}' /proc/$mcp_pid/status)
kill $mcp_pid

python3 - "$results" "$rss_build" "$rss_mcp" "$(git rev-parse --short HEAD)" <<'PY'
import json, os, statistics, sys, time
d, rss_build, rss_mcp, commit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def median(name):
    p = os.path.join(d, name + ".json")
    return statistics.median(json.load(open(p))["results"][0]["times"]) * 1000 if os.path.exists(p) else None
rows = []
def keep(case, tool, value, unit="ms"):
    rows.append((case, tool, value, unit))
    return value
print(f"{'case':<11}{'build':<9}{'kiln':>10}{'BuildKit':>10}{'buildah':>10}{'BK/kiln':>9}{'buildah/kiln':>13}")
for case in ("small", "stages4", "runs40", "context5k"):
    for kind in ("cold", "warm", "changed"):
        k, b, a = (keep(f"{case}-{kind}", t, median(f"{t}-{kind}-{case}")) for t in ("kiln", "buildkit", "buildah"))
        print(f"{case:<11}{kind:<9}{k:8.1f}ms{b:8.1f}ms{a:8.1f}ms{b/k:8.1f}x{a/k:12.1f}x")
k, s, b = (keep("heavy-cold", t, median(f"{t}-cold-heavy")) for t in ("kiln", "kiln_serial", "buildkit"))
print(f"{'heavy':<11}{'cold':<9}{k:8.1f}ms{b:8.1f}ms{'':>10}{b/k:8.1f}x   (kiln --max-parallelism 1: {s:.0f}ms)")
k, b = (keep("pull-small", t, median(f"{t}-pull-small")) for t in ("kiln", "buildkit"))
print(f"{'pull':<11}{'cold':<9}{k:8.1f}ms{b:8.1f}ms{'':>10}{b/k:8.1f}x")
print()
h, i, t = keep("start-help", "kiln", median("kiln-start-help")), keep("start-images", "kiln", median("kiln-start-images")), \
    keep("start", "true", median("true-start-help"))
print(f"start: kiln --help {h:.2f}ms, kiln images {i:.2f}ms (/bin/true {t:.2f}ms)")
run = keep("run-step", "kiln", median("kiln-run-run") - median("kiln-from-run"))
bare = keep("run-step", "runc", median("runc-run-run"))
print(f"RUN step: adds {run:.1f}ms to a build; a bare runc run takes {bare:.1f}ms: kiln's own work {run - bare:.1f}ms, "
      f"{run / bare:.2f}x runc alone")
keep("rss-build", "kiln", rss_build / 1024, "MB")
keep("rss-mcp", "kiln", rss_mcp / 1024, "MB")
print(f"peak RSS: kiln build (context5k, cold) {rss_build / 1024:.1f} MB; kiln mcp under load {rss_mcp / 1024:.1f} MB")
out = os.path.join(os.getcwd(), "bench", "results.tsv")
new = not os.path.exists(out)
with open(out, "a") as f:
    if new: f.write("date\tcommit\tcase\ttool\tvalue\tunit\n")
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for case, tool, value, unit in rows:
        f.write(f"{stamp}\t{commit}\t{case}\t{tool}\t{value:.2f}\t{unit}\n")
print(f"medians appended to {out}")
PY

# --- a two-platform build (linux/amd64 + linux/arm64 under QEMU) ---
bench/platforms.sh "$RUNS"
