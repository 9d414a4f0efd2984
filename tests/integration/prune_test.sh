#!/usr/bin/env bash
# kiln du and kiln prune: what the store holds, and collecting build cache (by age, by size, all) without ever
# breaking an image or a build that is running.
source "$(dirname "$0")/lib.sh"
import_busybox

du_field() { kiln du --json | grep -o "\"$1\": [0-9]*" | grep -o '[0-9]*$'; }
make_app() {  # DIR TEXT: a two-step build
  mkdir -p "$1"
  printf 'FROM busybox:test\nRUN echo %s > /a && dd if=/dev/zero of=/pad bs=1k count=200 2>/dev/null\nRUN cat /a > /b\nCMD ["cat", "/b"]\n' "$2" > "$1/Dockerfile"
}
make_app "$WORK/a" alpha
make_app "$WORK/b" beta
kiln build -q -t a:1 "$WORK/a" >/dev/null
sleep 1  # last-used times have one-second resolution: b's steps are the more recent
kiln build -q -t b:1 "$WORK/b" >/dev/null

[ "$(du_field cache_records)" -ge 4 ] || fail "du counts the cache records: $(kiln du --json)"
[ "$(du_field snapshot_bytes)" -gt 200000 ] || fail "du measures snapshots"
[ "$(du_field images)" = 3 ] || fail "du counts images"
out=$(kiln du -v)
assert_contains "$out" "RUN cat /a > /b"
assert_contains "$out" "Reclaimable:"

# Recently used cache stays; so does everything within a generous size.
out=$(kiln prune --filter until=1h)
assert_contains "$out" "Deleted 0 cache records, 0 snapshots, 0 blobs"
out=$(kiln prune --keep-storage 1TB)
assert_contains "$out" "Deleted 0 cache records"

# A size limit keeps the most recently used steps: b's, built last (a's 200 kB step no longer fits).
total=$(du_field snapshot_bytes)
kiln prune --keep-storage $((total - 150000)) >/dev/null
records=$(du_field cache_records)
[ "$records" = 2 ] || fail "a size limit kept $records records:"$'\n'"$(kiln du -v)"
out=$(kiln build --progress plain -t b:1 "$WORK/b" 2>&1)
assert_contains "$out" "RUN cat /a > /b"$'\n'"#3 CACHED"

# A build in progress holds the store: prune waits 3 s for it, then refuses rather than delete what it uses.
printf 'FROM busybox:test\nRUN sleep 6\n' > "$WORK/slow.Dockerfile"
kiln build -q --no-cache -f "$WORK/slow.Dockerfile" "$WORK/a" >/dev/null &
build_pid=$!
sleep 0.5
err=$(must_fail kiln prune)
assert_contains "$err" "is in use"
wait "$build_pid" || fail "the build failed while prune was refused"

# Everything: no cache left, images intact and runnable, cache rebuilt on demand.
out=$(kiln prune)
assert_contains "$out" "Total reclaimed space:"
assert_eq "$(du_field cache_records)" 0 "cache records after prune"
assert_eq "$(du_field snapshots)" 0 "snapshots after prune"
assert_eq "$(du_field cache_blob_bytes)" 0 "unreferenced blobs after prune"
assert_eq "$(kiln run --rm a:1)" "alpha" "an image after prune"
out=$(kiln build --progress plain -t a:1 "$WORK/a" 2>&1)
assert_contains "$out" "#2 DONE" "the steps ran again"
assert_contains "$out" "#3 DONE" "the steps ran again"
assert_eq "$(kiln run --rm a:1)" "alpha"

# Removing an image and pruning frees its blobs.
before=$(du_field image_bytes)
kiln rmi b:1 >/dev/null
kiln prune >/dev/null
after=$(du_field image_bytes)
[ "$after" -lt "$before" ] || fail "b's blobs were not freed ($before -> $after)"
assert_eq "$(kiln run --rm a:1)" "alpha" "the other image still runs"

# Automatic collection: past the data root's limit (kiln.toml), a build that ran steps collects the least recently
# used cache, down to 80% of the limit; images stay. At most once a minute (the stamp is removed here to retry).
printf '[gc]\nmax_storage = "bogus"\n' > "$KILN_ROOT/kiln.toml"
rm -f "$KILN_ROOT/gc-checked"
make_app "$WORK/c" gamma
out=$(kiln build -t c:1 "$WORK/c" 2>&1) || fail "build failed: $out"
assert_contains "$out" 'automatic collection skipped:'
assert_contains "$out" 'gc.max_storage: bad size "bogus"'
rm -f "$KILN_ROOT/gc-checked"
limit=$(( $(du_field image_bytes) + 300000 ))
printf '[gc]\nmax_storage = "%s"\n' "$limit" > "$KILN_ROOT/kiln.toml"
[ "$(du_field total_bytes)" -gt "$limit" ] || fail "the test needs a store over its limit: $(kiln du --json)"
make_app "$WORK/d" delta
out=$(kiln build -t d:1 "$WORK/d" 2>&1) || fail "build failed: $out"
assert_contains "$out" "the store was over its limit of $limit bytes"
[ "$(du_field total_bytes)" -le "$limit" ] || fail "the store is still over its limit: $(kiln du --json)"
assert_eq "$(kiln run --rm d:1)" "delta" "the new image runs"
assert_eq "$(kiln run --rm c:1)" "gamma" "an older image runs"
# Not checked again within the minute, and never when the build ran nothing.
make_app "$WORK/e" epsilon
assert_not_contains "$(kiln build -t e:1 "$WORK/e" 2>&1)" "over its limit"
assert_store_consistent "$KILN_ROOT"
echo PASS
