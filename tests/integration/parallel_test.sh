#!/usr/bin/env bash
# The parallel solver with real containers: independent stages run at once (and one at a time with
# --max-parallelism 1), a failing step cancels its running siblings at once and the error names it, and two kiln
# processes that need the same step run it once.
source "$(dirname "$0")/lib.sh"
import_busybox

ctx=$WORK/ctx
mkdir -p "$ctx"
cat > "$ctx/Dockerfile" <<'DOCKERFILE'
FROM busybox:test AS a
RUN sleep 0.5 && echo a > /a
FROM busybox:test AS b
RUN sleep 0.5 && echo b > /b
FROM busybox:test AS c
RUN sleep 0.5 && echo c > /c
FROM busybox:test
COPY --from=a /a /a
COPY --from=b /b /b
COPY --from=c /c /c
DOCKERFILE

# The numbers of the RUN steps that started before the first RUN step was done.
started_before_first_done() {
  awk '/^#[0-9]+ \[[abc] 2\/2\] RUN/ {n++} /^#[0-9]+ DONE/ && n > 0 {print n; exit}' <<<"$1"
}

out=$(kiln build --progress plain --max-parallelism 3 -t par:1 "$ctx" 2>&1) || fail "parallel build failed:"$'\n'"$out"
assert_eq "$(started_before_first_done "$out")" 3 "three independent RUN steps should be running at once"
assert_eq "$(kiln run --rm par:1 cat /a /b /c | tr -d '\n')" abc "the final stage has every stage's file"

out=$(kiln build --progress plain --no-cache --max-parallelism 1 -t par:1 "$ctx" 2>&1) || fail "serial build failed:"$'\n'"$out"
assert_eq "$(started_before_first_done "$out")" 1 "--max-parallelism 1 runs one step at a time"

err=$(must_fail kiln build --max-parallelism 0 "$ctx")
assert_contains "$err" "--max-parallelism"

# A failure cancels the running sibling: its container is gone when kiln returns, and the error is the failure's.
cat > "$ctx/Dockerfile.fail" <<'DOCKERFILE'
FROM busybox:test AS slow
RUN sleep 47
FROM busybox:test AS broken
RUN sleep 0.3 && echo giving up && exit 3
FROM busybox:test
COPY --from=slow /etc/passwd /1
COPY --from=broken /etc/passwd /2
DOCKERFILE
start=$(date +%s)
if out=$(kiln build --progress plain -f "$ctx/Dockerfile.fail" "$ctx" 2>&1); then fail "the failing build succeeded"; fi
assert_contains "$out" 'Dockerfile.fail:4: RUN sleep 0.3 && echo giving up && exit 3: process "/bin/sh -c sleep 0.3 && echo giving up && exit 3" did not complete successfully: exit code: 3'
assert_contains "$out" "CANCELED"
pgrep -fx "sleep 47" >/dev/null && fail "the cancelled sibling's container still runs"
[ $(( $(date +%s) - start )) -lt 40 ] || fail "the build waited for the sibling instead of cancelling it"

# Two processes, one step: the uuid the step writes is the same in both images, so it ran once.
cat > "$ctx/Dockerfile.shared" <<'DOCKERFILE'
FROM busybox:test
RUN sleep 1 && cat /proc/sys/kernel/random/uuid > /id
DOCKERFILE
kiln build --progress plain -f "$ctx/Dockerfile.shared" -t shared:1 "$ctx" > "$WORK/one.log" 2>&1 &
one=$!
kiln build --progress plain -f "$ctx/Dockerfile.shared" -t shared:2 "$ctx" > "$WORK/two.log" 2>&1 &
two=$!
wait $one || fail "first concurrent build failed: $(cat "$WORK/one.log")"
wait $two || fail "second concurrent build failed: $(cat "$WORK/two.log")"
assert_eq "$(kiln run --rm shared:1 cat /id)" "$(kiln run --rm shared:2 cat /id)" "both builds ran the step"
# The build that waited says where its result came from (its record is the last one only if it finished last).
grep -q "^#[0-9]* DONE" "$WORK/one.log" || fail "first build shows no step done: $(cat "$WORK/one.log")"
assert_store_consistent "$KILN_ROOT"
echo "PASS"
