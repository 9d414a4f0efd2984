#!/usr/bin/env bash
# Interrupting a build (Ctrl-C or kill -9) loses nothing already stored and leaves no mounts behind.
source "$(dirname "$0")/lib.sh"
import_busybox
ctx=$WORK/ctx
mkdir -p "$ctx"
cat > "$ctx/Dockerfile" <<'DOCKERFILE'
FROM busybox:test
RUN echo first > /first
RUN sleep 60
DOCKERFILE

wait_for_step() {
  for _ in $(seq 100); do grep -q "sleep 60" "$1" 2>/dev/null && return 0; sleep 0.1; done
  fail "the build never reached the sleeping step"
}

# kill -9 in the middle of a RUN.
"$KILN" build --progress plain "$ctx" > "$WORK/log1" 2>&1 &
pid=$!
wait_for_step "$WORK/log1"
sleep 0.5
kill -9 $pid
wait $pid 2>/dev/null || true
# The container outlives kiln -9; the next kiln process must stop and delete it.
pgrep -fx "sleep 60" >/dev/null || fail "expected the orphaned container to be running"

# SIGINT (Ctrl-C): kiln stops the container and exits non-zero.
"$KILN" build --progress plain "$ctx" > "$WORK/log2" 2>&1 &
pid=$!
wait_for_step "$WORK/log2"
grep -A1 "echo first" "$WORK/log2" | grep -q CACHED || fail "the step finished before kill -9 must be cached"
# The new build's container may take a moment to start (slower under sanitizers): wait for exactly one.
for _ in $(seq 100); do [ "$(pgrep -fxc "sleep 60" || true)" = 1 ] && break; sleep 0.1; done
running=$(pgrep -fxc "sleep 60" || true)
[ "$running" = 1 ] || fail "expected one 'sleep 60' container (the killed build's removed), found $running"
sleep 0.5
start=$(date +%s)
kill -INT $pid
set +e
wait $pid
code=$?
set -e
[ "$code" -ne 0 ] || fail "an interrupted build must exit non-zero"
[ $(( $(date +%s) - start )) -lt 10 ] || fail "the interrupted build took too long to stop"
assert_contains "$(cat "$WORK/log2")" "cancelled"

# Nothing is left mounted, and the store still works.
if grep -q "$KILN_ROOT" /proc/mounts; then fail "mounts left behind: $(grep "$KILN_ROOT" /proc/mounts)"; fi
sed -i 's/sleep 60/echo done/' "$ctx/Dockerfile"
out=$(kiln build --progress plain -t after:1 "$ctx" 2>&1) || fail "build after interruptions failed:"$'\n'"$out"
grep -A1 "echo first" <<<"$out" | grep -q CACHED || fail "earlier results were lost"
assert_eq "$(kiln run after:1 cat /first)" "first" "image after interruptions"
# Snapshots of the killed process were cleaned up when the store was next opened.
leftover=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from snapshots where committed=0").fetchone()[0])' "$KILN_ROOT/metadata.db")
assert_eq "$leftover" "0" "abandoned snapshots removed"

# kiln run stops its container when it is killed (SIGTERM from a script, not a terminal's Ctrl-C), and leaves none.
"$KILN" run after:1 sh -c 'sleep 77' &
pid=$!
for _ in $(seq 100); do pgrep -fx "sleep 77" >/dev/null && break; sleep 0.1; done
pgrep -fx "sleep 77" >/dev/null || fail "kiln run did not start its container"
start=$(date +%s)
kill -TERM $pid
set +e
wait $pid
set -e
[ $(( $(date +%s) - start )) -lt 10 ] || fail "kiln run took too long to stop after SIGTERM"
! pgrep -fx "sleep 77" >/dev/null || fail "the container of a killed kiln run is still running"
[ -z "$(runc --root "$KILN_ROOT/run/runtime" list -q 2>/dev/null)" ] || fail "kiln run left a runc container"
echo "PASS"
