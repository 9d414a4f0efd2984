#!/usr/bin/env bash
# Rootless against root, in one run: the same builds by kiln as root and by kiln as a plain user (rootless, in its
# user namespace), each from its own store: small (COPY + RUN) and runs40 (forty RUN steps), cold (--no-cache,
# base image present), warm (nothing changed) and changed (one context file changed). Medians go to
# bench/results.tsv as tools kiln-root and kiln-rootless; the ratio is rootless/root (1.0: the same cost).
# Usage: bench/rootless.sh [RUNS] (as root; RUNS defaults to 10). The plain user is tests/integration/lib.sh's.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-10}
[ "$(id -u)" = 0 ] || { echo "bench/rootless.sh needs root (it makes the plain user)"; exit 1; }
command -v hyperfine >/dev/null || scripts/install-deps
cmake --build build -j"$(nproc)" --target kiln >/dev/null
KILN=$PWD/build/kiln
USER_RL=kiln-rootless
touch /etc/subuid /etc/subgid
id "$USER_RL" >/dev/null 2>&1 || useradd -m "$USER_RL"
grep -q "^$USER_RL:" /etc/subuid || usermod --add-subuids 300000-365535 --add-subgids 300000-365535 "$USER_RL"
HOME_RL=$(eval echo ~"$USER_RL")
WORK=$(mktemp -d /tmp/kiln-bench-rootless.XXXXXX)
# Both stores in one directory: on this VM's ext4 the cost of file operations differs from directory to directory.
ROOT_STORE=$WORK/root-store USER_STORE=$WORK/user-store
trap 'rm -rf "$WORK"' EXIT
chmod 755 "$WORK"
mkdir -p "$USER_STORE" && chown "$USER_RL": "$USER_STORE"
as_user() { setpriv --reuid="$USER_RL" --regid="$USER_RL" --init-groups -- env HOME="$HOME_RL" "$@"; }

# The base image, from Debian's busybox-static, in both stores.
source tests/parity/lib.sh
parity_base_rootfs "$WORK/busybox.tar" ""
chmod 644 "$WORK/busybox.tar"
"$KILN" --data-root "$ROOT_STORE" import "$WORK/busybox.tar" busybox:bench >/dev/null
as_user "$KILN" --data-root "$USER_STORE" import "$WORK/busybox.tar" busybox:bench >/dev/null

source bench/cases.sh
make_cases "$WORK"
chmod -R a+rwX "$WORK/small" "$WORK/runs40"

results=$WORK/results
mkdir -p "$results"
# measure NAME WHO PREPARE COMMAND: hyperfine as root or as the user (so that no setpriv is timed).
measure() {
  local name=$1 who=$2 prepare=$3 command=$4
  local args=(--style none --runs "$RUNS" --warmup 1 --export-json "$results/$name-$who.json")
  # Without a shell (-N) where nothing is prepared: a warm build takes a few milliseconds, no more than one.
  if [ -n "$prepare" ]; then args+=(--prepare "$prepare"); else args+=(-N); fi
  if [ "$who" = root ]; then
    hyperfine "${args[@]}" "$command" >/dev/null
  else
    chmod 777 "$results"
    as_user hyperfine "${args[@]}" "$command" >/dev/null
  fi
}
for case in small runs40; do
  ctx=$WORK/$case
  changed_file=$(changed_file "$WORK" "$case")
  for who in root rootless; do
    store=$([ "$who" = root ] && echo "$ROOT_STORE" || echo "$USER_STORE")
    build="$KILN --data-root $store build -q $ctx"
    measure "$case-cold" "$who" "" "$build --no-cache"
    measure "$case-warm" "$who" "" "$build"
    measure "$case-changed" "$who" "date +%s%N > $changed_file" "$build"
  done
done

commit=$(git rev-parse --short HEAD)
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
printf '%-16s %12s %14s %8s\n' case root_ms rootless_ms ratio
for f in "$results"/*-root.json; do
  name=$(basename "$f" -root.json)
  root=$(python3 -c 'import json,sys; print("%.2f" % (json.load(open(sys.argv[1]))["results"][0]["median"] * 1000))' "$f")
  rl=$(python3 -c 'import json,sys; print("%.2f" % (json.load(open(sys.argv[1]))["results"][0]["median"] * 1000))' "$results/$name-rootless.json")
  printf '%-16s %12s %14s %8s\n' "$name" "$root" "$rl" "$(python3 -c "print('%.2f' % ($rl / $root))")"
  printf '%s\t%s\t%s\t%s\t%s\tms\n' "$now" "$commit" "rootless-$name" kiln-root "$root" >> bench/results.tsv
  printf '%s\t%s\t%s\t%s\t%s\tms\n' "$now" "$commit" "rootless-$name" kiln-rootless "$rl" >> bench/results.tsv
done
