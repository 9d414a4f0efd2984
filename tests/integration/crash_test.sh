#!/usr/bin/env bash
# The crash test (issue 7): kill -9 kiln at many seeded random moments of a multi-step build (during RUN steps,
# layer writing, metadata commits, the export) and of an image import. After each kill, the next command (a
# read-only one) recovers: no mount, runc container, secret bundle or half-written blob is left, SQLite passes its
# integrity check and every blob matches its digest; then the same build runs to the end and reuses every step the
# killed build had finished.
#   KILN_CRASH_POINTS=N (default 20) kills per phase; KILN_CRASH_SEED=S (default 7) picks the moments.
source "$(dirname "$0")/lib.sh"
import_busybox
POINTS=${KILN_CRASH_POINTS:-20}
SEED=${KILN_CRASH_SEED:-7}
ctx=$WORK/ctx
mkdir -p "$ctx/data"
head -c 300000 /dev/urandom > "$ctx/data/blob"
seq 1000 > "$ctx/data/numbers"
echo s3cret-crash > "$WORK/secret"
cat > "$ctx/Dockerfile" <<'DOCKERFILE'
FROM busybox:test
RUN echo one > /one
COPY data /data
RUN dd if=/dev/urandom of=/r1 bs=64k count=30 2>/dev/null
ARG N
RUN echo "$N" > /n && dd if=/dev/urandom of=/r2 bs=64k count=30 2>/dev/null
RUN --mount=type=secret,id=s test -s /run/secrets/s && sleep 0.1
COPY data /data2
RUN for i in $(seq 40); do echo $i > /f$i; done
RUN rm /r1 && echo "$N" > /last
DOCKERFILE

build() {  # build N LOG: the build with ARG N, plain progress into LOG
  "$KILN" build --progress plain --secret id=s,src="$WORK/secret" --build-arg N="$1" -t "crash:$1" "$ctx" > "$2" 2>&1
}
build_in_background() {  # as build, with $! the kiln process itself (exec: no shell in between to kill instead)
  ( exec "$KILN" build --progress plain --secret id=s,src="$WORK/secret" --build-arg N="$1" -t "crash:$1" "$ctx" > "$2" 2>&1 ) &
}

# Steps (by name) that a plain-progress log shows as finished (DONE) or taken from the cache (CACHED).
steps_marked() {  # LOG WORD
  python3 - "$1" "$2" <<'PY'
import re, sys
names, marked = {}, set()
for line in open(sys.argv[1], errors="replace"):
    m = re.match(r"#(\d+) (\[.*)$", line.rstrip("\n"))
    if m: names[m.group(1)] = m.group(2)
    m = re.match(r"#(\d+) (DONE|CACHED)", line)
    if m and m.group(2) == sys.argv[2] and m.group(1) in names: marked.add(names[m.group(1)])
for n in sorted(marked): print(n)
PY
}

assert_recovered() {  # after a kill: a read-only command recovers, then nothing is left behind
  kiln images > /dev/null || fail "kiln images after a kill -9"
  if grep -q " $KILN_ROOT" /proc/mounts; then fail "mounts left after recovery: $(grep " $KILN_ROOT" /proc/mounts)"; fi
  local containers
  containers=$(runc --root "$KILN_ROOT/run/runtime" list -q 2>/dev/null || true)
  [ -z "$containers" ] || fail "runc containers left after recovery: $containers"
  [ -z "$(ls -A "$KILN_ROOT/run/bundles" 2>/dev/null)" ] || fail "bundles left: $(ls "$KILN_ROOT/run/bundles")"
  ! grep -rqs s3cret-crash "$KILN_ROOT" || fail "the secret reached the data root"
  assert_store_consistent "$KILN_ROOT"
}

# How long an uncached build takes: the range kill moments are drawn from.
start=$(date +%s%N)
build warmup "$WORK/warmup.log" || { cat "$WORK/warmup.log"; fail "the build itself fails"; }
span_ms=$(( ($(date +%s%N) - start) / 1000000 ))
mapfile -t delays < <(python3 -c "
import random, sys
r = random.Random($SEED)
for _ in range($POINTS * 2): print('%.3f' % (r.uniform(0.02, 1.1) * $span_ms / 1000))")

kills=0
for i in $(seq 1 "$POINTS"); do
  build_in_background "$i" "$WORK/killed.log"
  pid=$!
  sleep "${delays[$i]}"
  if kill -9 $pid 2>/dev/null; then kills=$((kills + 1)); fi
  wait $pid 2>/dev/null || true
  assert_recovered
  build "$i" "$WORK/rebuilt.log" || { cat "$WORK/rebuilt.log"; fail "rebuild after kill $i (at ${delays[$i]} s)"; }
  missing=$(comm -23 <(steps_marked "$WORK/killed.log" DONE) \
                     <(cat <(steps_marked "$WORK/rebuilt.log" CACHED) <(steps_marked "$WORK/rebuilt.log" DONE) | sort -u))
  [ -z "$missing" ] || fail "kill $i: steps finished before the kill were lost: $missing"
  again=$(comm -23 <(steps_marked "$WORK/killed.log" DONE) <(steps_marked "$WORK/rebuilt.log" CACHED))
  [ -z "$again" ] || fail "kill $i (at ${delays[$i]} s): finished steps ran again instead of coming from the cache: $again"
  assert_eq "$(kiln run "crash:$i" cat /last)" "$i" "image of build $i"
done

# An import of a 40 MB root file system, killed at random moments.
mkdir -p "$WORK/bigroot/bin"
cp /bin/busybox "$WORK/bigroot/bin/"
head -c 40000000 /dev/urandom > "$WORK/bigroot/payload"
tar -C "$WORK/bigroot" -cf "$WORK/big.tar" .
start=$(date +%s%N)
kiln import "$WORK/big.tar" big:warmup > /dev/null
import_ms=$(( ($(date +%s%N) - start) / 1000000 ))
import_kills=0
for i in $(seq 1 "$POINTS"); do
  ( exec "$KILN" import "$WORK/big.tar" "big:$i" > /dev/null 2>&1 ) &
  pid=$!
  sleep "$(python3 -c "import random; print('%.3f' % (random.Random($SEED + $i).uniform(0.01, 1.1) * $import_ms / 1000))")"
  if kill -9 $pid 2>/dev/null; then import_kills=$((import_kills + 1)); fi
  wait $pid 2>/dev/null || true
  assert_recovered
  if kiln images | grep -q "big:$i "; then
    assert_eq "$(kiln run "big:$i" /bin/busybox wc -c /payload | awk '{print $1}')" "40000000" "an image that exists is whole"
  fi
done
kiln import "$WORK/big.tar" big:final > /dev/null || fail "import after the kills"
echo "kill -9 points: $kills during builds, $import_kills during imports (seed $SEED)"
echo PASS
