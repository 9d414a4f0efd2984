#!/usr/bin/env bash
# The three snapshotters against each other, in one run, as root: overlayfs (the kernel), fuse-overlayfs and
# native (copying), each forced by KILN_SNAPSHOTTER in a store of its own: small (COPY + RUN) and runs40 (forty RUN
# steps), cold (--no-cache, base image present) and changed (one context file changed). Medians go to
# bench/results.tsv as tools kiln-overlayfs, kiln-fuse-overlayfs and kiln-native; ratios are to overlayfs.
# Usage: bench/snapshotters.sh [RUNS] (RUNS defaults to 10).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-10}
[ "$(id -u)" = 0 ] || { echo "bench/snapshotters.sh needs root"; exit 1; }
command -v hyperfine >/dev/null || scripts/install-deps
cmake --build build -j"$(nproc)" --target kiln >/dev/null
KILN=$PWD/build/kiln
WORK=$(mktemp -d /tmp/kiln-bench-snapshotters.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
DRIVERS=(overlayfs fuse-overlayfs native)

source tests/parity/lib.sh
parity_base_rootfs "$WORK/busybox.tar" ""
for d in "${DRIVERS[@]}"; do "$KILN" --data-root "$WORK/store-$d" import "$WORK/busybox.tar" busybox:bench >/dev/null; done
source bench/cases.sh
make_cases "$WORK"

results=$WORK/results
mkdir -p "$results"
for case in small runs40; do
  ctx=$WORK/$case
  changed_file=$(changed_file "$WORK" "$case")
  for d in "${DRIVERS[@]}"; do
    build="env KILN_SNAPSHOTTER=$d $KILN --data-root $WORK/store-$d build -q $ctx"
    hyperfine --style none --runs "$RUNS" --warmup 1 -N --export-json "$results/$case-cold-$d.json" "$build --no-cache" >/dev/null
    hyperfine --style none --runs "$RUNS" --warmup 1 --prepare "date +%s%N > $changed_file" \
      --export-json "$results/$case-changed-$d.json" "$build" >/dev/null
  done
done

commit=$(git rev-parse --short HEAD)
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
median() { python3 -c 'import json,sys; print("%.2f" % (json.load(open(sys.argv[1]))["results"][0]["median"] * 1000))' "$1"; }
printf '%-16s %12s %16s %10s %8s %8s\n' case overlayfs_ms fuse-overlayfs_ms native_ms fuse/ov native/ov
for name in small-cold small-changed runs40-cold runs40-changed; do
  ov=$(median "$results/$name-overlayfs.json") fu=$(median "$results/$name-fuse-overlayfs.json") na=$(median "$results/$name-native.json")
  printf '%-16s %12s %16s %10s %8s %8s\n' "$name" "$ov" "$fu" "$na" \
    "$(python3 -c "print('%.2f' % ($fu / $ov))")" "$(python3 -c "print('%.2f' % ($na / $ov))")"
  for d in "${DRIVERS[@]}"; do
    printf '%s\t%s\t%s\t%s\t%s\tms\n' "$now" "$commit" "snapshotter-$name" "kiln-$d" "$(median "$results/$name-$d.json")" >> bench/results.tsv
  done
done
