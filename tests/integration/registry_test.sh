#!/usr/bin/env bash
# kiln and a real registry (Debian's docker-registry on 127.0.0.1, plain HTTP): push, skopeo reads the result, pull
# into an empty store and run it; FROM a registry image under each --pull policy, offline warm rebuilds; pushes that
# skip and mount blobs, chunked uploads; platform selection in an index; and the errors a registry can cause, each
# one line naming the registry or reference, with nothing half-written in the store.
source "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)

start_registry
R=$REGISTRY
LOG=$REGISTRY_DIR/log
import_busybox busybox:test

# Push, then skopeo (another client) reads what kiln wrote.
out=$(kiln push busybox:test "$R/base/busybox:1" --progress plain 2>&1)
assert_contains "$out" "[internal] push $R/base/busybox:1"
assert_contains "$out" " done"
pushed_digest=$(sed -n "s|^pushed $R/base/busybox:1@||p" <<<"$out")
[ -n "$pushed_digest" ] || fail "kiln push names no digest: $out"
inspected=$(skopeo inspect --tls-verify=false "docker://$R/base/busybox:1")
assert_contains "$inspected" "\"Digest\": \"$pushed_digest\"" "skopeo sees the pushed manifest"
assert_contains "$inspected" '"Architecture": "amd64"'
# The store keeps the layer uncompressed; it leaves gzipped, with the same diff_id (config unchanged).
stored=$(kiln inspect busybox:test)
assert_contains "$stored" '"mediaType": "application/vnd.oci.image.layer.v1.tar"'
raw=$(skopeo inspect --raw --tls-verify=false "docker://$R/base/busybox:1")
assert_contains "$raw" '"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip"'
stored_config=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["manifest"]["config"]["digest"])' <<<"$stored")
assert_contains "$raw" "$stored_config" "the pushed image has another config"

# Pushing again uploads nothing: every blob is already there (HEAD).
uploads_before=$(grep -c 'PUT /v2/base/busybox/blobs/uploads' "$LOG" || true)
kiln push busybox:test "$R/base/busybox:1" --progress quiet
assert_eq "$(grep -c 'PUT /v2/base/busybox/blobs/uploads' "$LOG" || true)" "$uploads_before" "a second push re-uploaded blobs"

# Pull into an empty store, run it; kiln images shows the name and its digest.
export KILN_ROOT=$WORK/root-pull
out=$(kiln pull "$R/base/busybox:1" --progress plain 2>&1)
assert_contains "$out" "Digest: $pushed_digest"
assert_contains "$(kiln images)" "$R/base/busybox:1"
assert_contains "$(kiln images --json)" "$pushed_digest"
assert_eq "$(kiln run "$R/base/busybox:1" echo pulled-and-run)" "pulled-and-run"
assert_store_consistent "$KILN_ROOT"
# By digest too.
kiln pull "$R/base/busybox@$pushed_digest" --progress quiet
assert_eq "$(kiln run "$R/base/busybox@$pushed_digest" echo by-digest)" "by-digest"

# FROM a registry image: a fresh store pulls it (missing), records its digest, and the build pushes its result,
# mounting the base layer from base/busybox rather than uploading it again.
export KILN_ROOT=$WORK/root-build
mkdir -p "$WORK/ctx"
printf 'FROM %s/base/busybox:1\nRUN echo built > /built\n' "$R" > "$WORK/ctx/Dockerfile"
out=$(kiln build --progress plain -t "$R/team/app:1" --push "$WORK/ctx" 2>&1) || fail "build and push: $out"
assert_contains "$out" "#1 [internal] pull $R/base/busybox:1"
assert_contains "$out" "#2 [stage-0 1/2] FROM $R/base/busybox:1"
assert_contains "$out" "[internal] push $R/team/app:1"
assert_contains "$out" "pushed $R/team/app:1@sha256:"
base_digest=$(kiln inspect "$R/base/busybox:1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["digest"])')
assert_contains "$(kiln explain --last)" "base $R/base/busybox:1 $base_digest"
grep -q "POST /v2/team/app/blobs/uploads/?.*mount=sha256" "$LOG" || fail "the base layer was not mounted across repositories"
grep -E '"POST /v2/team/app/blobs/uploads/\?.*mount=.*" 201' "$LOG" >/dev/null || fail "the registry did not accept the mount"
app_digest=$(skopeo inspect --tls-verify=false "docker://$R/team/app:1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])')

# A warm rebuild needs no registry (--pull=missing): stop it and rebuild.
stop_registries
out=$(kiln build --progress plain -t app:warm "$WORK/ctx" 2>&1) || fail "offline warm rebuild: $out"
assert_not_contains "$out" "[internal] pull"
assert_contains "$out" "CACHED"
# --pull=always must reach the registry, and says which one it could not.
err=$(must_fail kiln build --pull=always --progress plain "$WORK/ctx")
assert_contains "$err" "registry $R: cannot connect"
err=$(must_fail kiln build --pull "$WORK/ctx")
assert_contains "$err" "registry $R: cannot connect"
# --pull=never on a store without the base.
export KILN_ROOT=$WORK/root-never
err=$(must_fail kiln build --pull=never "$WORK/ctx")
assert_contains "$err" "--pull=never"
assert_contains "$err" "not found in the local store"
err=$(must_fail kiln build --pull=sometimes "$WORK/ctx")
assert_contains "$err" "--pull: expected missing, always or never"

start_registry
R=$REGISTRY
LOG=$REGISTRY_DIR/log

# Chunked uploads: blobs larger than the chunk size go up in PATCHes, and pull back bit for bit.
export KILN_ROOT=$WORK/root-chunks
import_busybox busybox:test
KILN_PUSH_CHUNK_SIZE=262144 kiln push busybox:test "$R/chunked:1" --progress quiet
[ "$(grep -c 'PATCH /v2/chunked/blobs/uploads' "$LOG")" -ge 4 ] || fail "a 1 MB layer in 256 kB chunks took fewer than 4 PATCHes"
export KILN_ROOT=$WORK/root-chunks-pull
kiln pull "$R/chunked:1" --progress quiet
assert_eq "$(kiln run "$R/chunked:1" echo chunks)" "chunks"

# An index: linux/amd64 by default, --platform picks another, a platform it lacks is an error listing those it has.
export KILN_ROOT=$WORK/root-chunks
kiln push busybox:test "$R/multi:amd64" --progress quiet
arm_digest=$(python3 "$HERE/registry/make_index.py" "$R" multi amd64 both)
export KILN_ROOT=$WORK/root-index
kiln pull "$R/multi:both" --progress quiet
assert_contains "$(kiln inspect "$R/multi:both")" '"architecture": "amd64"'
export KILN_ROOT=$WORK/root-index-arm
assert_eq "$(kiln pull --platform linux/arm64 -q "$R/multi:both")" "$arm_digest"
assert_contains "$(kiln inspect "$R/multi:both")" '"architecture": "arm64"'
err=$(must_fail kiln pull --platform linux/s390x "$R/multi:both")
assert_contains "$err" "no image for platform linux/s390x (the index has linux/amd64, linux/arm64)"

# registries.conf: pulls go to mirrors first (a dead one is passed over), and to the registry itself when no mirror
# has the image; a blocked registry is refused.
ORIGIN=$R
ORIGIN_DIR=$REGISTRY_DIR
start_registry
MIRROR=$REGISTRY
export KILN_ROOT=$WORK/root-chunks
kiln push busybox:test "$MIRROR/hub/lib/app:1" --progress quiet
kiln push busybox:test "$ORIGIN/lib/other:1" --progress quiet
mkdir -p "$WORK/containers"
cat > "$WORK/containers/registries.conf" <<CONF
[[registry]]
prefix = "$ORIGIN"
location = "$ORIGIN"
[[registry.mirror]]
location = "127.0.0.1:$(free_port)"
[[registry.mirror]]
location = "$MIRROR/hub"

[[registry]]
location = "blocked.example"
blocked = true
CONF
export CONTAINERS_REGISTRIES_CONF=$WORK/containers/registries.conf
export KILN_ROOT=$WORK/root-mirror
kiln pull "$ORIGIN/lib/app:1" --progress quiet  # only the mirror has it
assert_eq "$(kiln run "$ORIGIN/lib/app:1" echo from-mirror)" "from-mirror"
grep -q "GET /v2/hub/lib/app/manifests/1" "$REGISTRY_DIR/log" || fail "the mirror was not asked"
kiln pull "$ORIGIN/lib/other:1" --progress quiet  # no mirror has it: the registry itself
err=$(must_fail kiln pull blocked.example/x:1)
assert_contains "$err" "registry blocked.example is blocked by registries.conf"
unset CONTAINERS_REGISTRIES_CONF
REGISTRY_DIR=$ORIGIN_DIR

# A pull killed halfway (kill -9, through a proxy that trickles blobs) leaves nothing under any digest it had not
# finished, and the next pull completes.
python3 "$HERE/registry/slow_proxy.py" "$WORK/proxy.port" "$R" &
REGISTRY_PIDS+=($!)
for _ in $(seq 100); do [ -s "$WORK/proxy.port" ] && break; sleep 0.1; done
SLOW=127.0.0.1:$(cat "$WORK/proxy.port")
export KILN_ROOT=$WORK/root-killed
"$KILN" pull "$SLOW/chunked:1" --progress plain > "$WORK/killed.log" 2>&1 &
pull_pid=$!
for _ in $(seq 100); do grep -q "sha256:.* / " "$WORK/killed.log" 2>/dev/null && break; sleep 0.05; done
kill -9 "$pull_pid"
wait "$pull_pid" 2>/dev/null || true
[ -z "$(kiln images --json | grep chunked)" ] || fail "a killed pull named an image"
assert_store_consistent "$KILN_ROOT"  # once reopened: every blob matches its digest, the half-written one is gone
kiln pull "$SLOW/chunked:1" --progress quiet
assert_eq "$(kiln run "$SLOW/chunked:1" echo resumed)" "resumed"
assert_store_consistent "$KILN_ROOT"

# An HTTPS registry with a self-signed certificate: insecure (loopback, as with docker) means TLS without
# verification, and HTTP/2 where the server offers it.
start_registry tls
TLS=$REGISTRY
export KILN_ROOT=$WORK/root-chunks
kiln push busybox:test "$TLS/secure:1" --progress quiet
export KILN_ROOT=$WORK/root-tls
kiln pull "$TLS/secure:1" --progress quiet
assert_eq "$(kiln run "$TLS/secure:1" echo over-tls)" "over-tls"
grep -q '"GET /v2/secure/manifests/1 HTTP/2.0"' "$REGISTRY_DIR/log" || fail "no HTTP/2 request reached the TLS registry"
REGISTRY_DIR=$ORIGIN_DIR

# Errors: an unknown tag, an unreachable registry, a malformed reference, a blob whose content does not match.
export KILN_ROOT=$WORK/root-errors
err=$(must_fail kiln pull "$R/multi:nope")
assert_contains "$err" "$R/multi:nope: not found in registry $R"
closed=127.0.0.1:$(free_port)
err=$(must_fail kiln pull "$closed/x:1")
assert_contains "$err" "registry $closed: cannot connect"
err=$(must_fail kiln pull "Bad/Name")
assert_contains "$err" "invalid reference"
layer=$(skopeo inspect --tls-verify=false "docker://$R/chunked:1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Layers"][0])')
data=$REGISTRY_DIR/data/docker/registry/v2/blobs/sha256/${layer:7:2}/${layer#sha256:}/data
python3 - "$data" <<'PY'
import sys
path = sys.argv[1]
blob = bytearray(open(path, "rb").read())
blob[len(blob) // 2] ^= 0xff  # same size, different content
open(path, "wb").write(bytes(blob))
PY
err=$(must_fail kiln pull "$R/chunked:1")
assert_contains "$err" "does not match its digest"
[ ! -e "$KILN_ROOT/blobs/sha256/${layer#sha256:}" ] || fail "a corrupt blob was kept under its digest"
assert_store_consistent "$KILN_ROOT"
[ -z "$(kiln images --json | grep chunked)" ] || fail "a failed pull named an image"
echo PASS
