#!/usr/bin/env bash
# Shared build cache through a real registry and a directory: a fresh store on "another machine" (a new data root)
# rebuilds with zero RUN steps executed, fetching only the layers it must hand on; mode=min and mode=max; inline
# cache in a pushed image; a warm re-export uploads no layer; an unreadable cache is a warning; and two stores
# build the same manifest digest under SOURCE_DATE_EPOCH.
source "$(dirname "$0")/lib.sh"
start_registry
R=$REGISTRY
LOG=$REGISTRY_DIR/log
import_busybox busybox:test
kiln push busybox:test "$R/base:1" --progress quiet

mkdir -p "$WORK/ctx" && cd "$WORK/ctx"
echo hello > a.txt
cat > Dockerfile <<DF
FROM $R/base:1 AS builder
RUN echo compiled > /out && head -c 300000 /dev/urandom > /builder-only
FROM $R/base:1
COPY a.txt /a.txt
RUN cat /a.txt > /b.txt
COPY --from=builder /out /out
DF
ran() { grep -cE '^#[0-9]+ DONE' <<<"$1" || true; }  # steps that ran (base image pulls included)

# Machine 1 builds and exports every kind of cache.
export KILN_ROOT=$WORK/m1
out=$(kiln build --progress plain -t "$R/app:1" --push \
  --cache-to "type=registry,ref=$R/app:cache,mode=max" \
  --cache-to "type=local,dest=$WORK/localcache,mode=max" \
  --cache-to "type=registry,ref=$R/app:mincache" \
  --cache-to type=inline . 2>&1) || fail "build with --cache-to: $out"
assert_contains "$out" "exporting cache to $R/app:cache"
manifest=$(skopeo inspect --raw --tls-verify=false "docker://$R/app:cache")
assert_contains "$manifest" '"artifactType":"application/vnd.kiln.cache.v1"'
builder_layer=$(python3 - "$KILN_ROOT" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1] + "/metadata.db")
# The builder's RUN result: the cache record whose step names the builder stage's RUN.
key, snap = db.execute("SELECT key, snapshot FROM cache WHERE description LIKE '[builder 2/2]%'").fetchone()
diff_id, = db.execute("SELECT diff_id FROM snapshots WHERE id = ?", (snap,)).fetchone()
# Stored uncompressed; the cache carries the gzip variant made when it left.
print(db.execute("SELECT blob_digest FROM layer_variants WHERE diff_id = ? AND media_type LIKE '%gzip'", (diff_id,)).fetchone()[0])
PY
)
[ -n "$builder_layer" ] || fail "no layer for the builder stage's RUN"
assert_contains "$manifest" "$builder_layer" "the mode=max cache lacks the builder's layer"

# Machine 2: registry cache, mode=max: nothing runs, and the builder's layer is never fetched (nothing needs it).
export KILN_ROOT=$WORK/m2
gets_before=$(grep -c "GET /v2/app/blobs/$builder_layer" "$LOG" || true)
out=$(kiln build --progress plain -t app:2 --cache-from "type=registry,ref=$R/app:cache" . 2>&1) || fail "$out"
assert_eq "$(grep -cE '^#[0-9]+ CACHED' <<<"$out")" "5" "every step cached: $out"
assert_eq "$(ran "$out")" "1" "only the base image pull ran"
assert_eq "$(grep -c "GET /v2/app/blobs/$builder_layer" "$LOG" || true)" "$gets_before" "the builder's layer was fetched"
assert_eq "$(kiln run app:2 cat /out /b.txt)" $'compiled\nhello'

# Machine 3: the same from the local directory.
export KILN_ROOT=$WORK/m3
out=$(kiln build --progress plain -t app:3 --cache-from "type=local,src=$WORK/localcache" . 2>&1) || fail "$out"
assert_eq "$(grep -cE '^#[0-9]+ CACHED' <<<"$out")" "5" "every step cached from the directory: $out"
assert_eq "$(ran "$out")" "1" "only the base image pull ran"
assert_eq "$(kiln run app:3 cat /out)" "compiled"

# Machine 4: mode=min has only the final stage; its COPY --from hit, so the builder stage is not needed and
# never runs (it is not even shown).
export KILN_ROOT=$WORK/m4
out=$(kiln build --progress plain -t app:4 --cache-from "$R/app:mincache" . 2>&1) || fail "$out"
assert_not_contains "$out" "RUN echo compiled"
assert_eq "$(ran "$out")" "1" "only the base image pull ran"
assert_eq "$(kiln run app:4 cat /out)" "compiled"

# Machine 5: inline cache, read from the pushed image itself.
export KILN_ROOT=$WORK/m5
out=$(kiln build --progress plain -t app:5 --cache-from "type=registry,ref=$R/app:1" . 2>&1) || fail "$out"
assert_contains "$out" "[stage-1 3/4] RUN cat /a.txt > /b.txt"$'\n'"#4 CACHED"
assert_not_contains "$out" "RUN echo compiled"

# Machine 6: a changed final step: the cached steps before it are fetched and unpacked, only it runs.
export KILN_ROOT=$WORK/m6
printf 'RUN cat /out /b.txt > /final\n' >> Dockerfile
out=$(kiln build --progress plain -t app:6 --cache-from "type=registry,ref=$R/app:cache" . 2>&1) || fail "$out"
assert_contains "$out" "RUN cat /out /b.txt > /final"
assert_eq "$(ran "$out")" "2"  # the base image pull and the new step
assert_eq "$(kiln run app:6 cat /final)" $'compiled\nhello'
sed -i '$d' Dockerfile

# A warm re-export uploads no layer: every blob is found by digest.
export KILN_ROOT=$WORK/m1
uploads_before=$(grep -c 'PUT /v2/app/blobs/uploads' "$LOG" || true)
kiln build --progress quiet --cache-to "type=registry,ref=$R/app:cache,mode=max" . >/dev/null
assert_eq "$(grep -c 'PUT /v2/app/blobs/uploads' "$LOG" || true)" "$uploads_before" "a warm export uploaded blobs"

# An unreadable cache is a warning, and the build goes on.
export KILN_ROOT=$WORK/m7
out=$(kiln build --progress plain --cache-from "type=registry,ref=$R/app:nothere" --cache-from "type=local,src=$WORK/none" . 2>&1) \
  || fail "a missing cache failed the build: $out"
assert_contains "$out" "WARNING: importing cache: "
assert_contains "$out" "$R/app:nothere: not found in registry $R"
err=$(must_fail kiln build --cache-to type=bogus .)
assert_contains "$err" "--cache-to: unknown type \"bogus\""
err=$(must_fail kiln build --cache-to "type=registry,ref=$R/x,mode=all" .)
assert_contains "$err" "mode must be min or max"

# SOURCE_DATE_EPOCH: two stores (two machines) make the same manifest, byte for byte.
d1=$(KILN_ROOT=$WORK/e1 SOURCE_DATE_EPOCH=1700000000 kiln build -q --no-cache -t repro:1 .)
d2=$(KILN_ROOT=$WORK/e2 kiln build -q --no-cache --build-arg SOURCE_DATE_EPOCH=1700000000 -t repro:1 .)
assert_eq "$d1" "$d2" "reproducible manifest digest"
created=$(KILN_ROOT=$WORK/e1 kiln inspect repro:1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["config"]["created"])')
assert_eq "$created" "2023-11-14T22:13:20Z"
echo PASS
