#!/usr/bin/env bash
# kiln save writes docker save's format (also an OCI layout) that skopeo reads; kiln load reads it back (plain,
# gzipped, from stdin), legacy docker save archives (layer.tar files, manifest.json only) too, and refuses
# archives whose blobs do not match their digests without naming anything.
source "$(dirname "$0")/lib.sh"
command -v skopeo >/dev/null || skip "skopeo is not installed (scripts/install-deps installs it)"
import_busybox busybox:test
kiln tag busybox:test example.com/team/other:2
digest=$(kiln inspect busybox:test | python3 -c 'import json,sys; print(json.load(sys.stdin)["digest"])')
kiln save -o "$WORK/both.tar" busybox:test example.com/team/other:2
assert_contains "$(skopeo inspect docker-archive:"$WORK/both.tar":busybox:test)" '"Architecture": "amd64"'
kiln save busybox:test > "$WORK/stdout.tar" || fail "save to stdout"
assert_contains "$(skopeo inspect --raw oci-archive:"$WORK/stdout.tar")" '"layers"' 
err=$(must_fail kiln save -o "$WORK/x.tar" nothere:1)
assert_contains "$err" "nothere:1"

export KILN_ROOT=$WORK/root-load
out=$(kiln load -i "$WORK/both.tar")
assert_contains "$out" "Loaded image: busybox:test"
assert_contains "$out" "Loaded image: example.com/team/other:2"
assert_contains "$(kiln images --json)" "$digest"
assert_eq "$(kiln run example.com/team/other:2 echo loaded)" "loaded"
assert_store_consistent "$KILN_ROOT"

export KILN_ROOT=$WORK/root-gz
gzip -c "$WORK/stdout.tar" > "$WORK/stdout.tar.gz"
assert_contains "$(kiln load < "$WORK/stdout.tar.gz")" "Loaded image: busybox:test"

# A legacy docker save: uncompressed layer.tar files and a <config>.json, described by manifest.json alone.
mkdir -p "$WORK/legacy/abc"
cp "$(busybox_rootfs)" "$WORK/legacy/abc/layer.tar"
( cd "$WORK/legacy" && python3 - <<'PY'
import hashlib, json
diff = "sha256:" + hashlib.sha256(open("abc/layer.tar", "rb").read()).hexdigest()
config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh"]},
                     "rootfs": {"type": "layers", "diff_ids": [diff]}}).encode()
name = hashlib.sha256(config).hexdigest() + ".json"
open(name, "wb").write(config)
json.dump([{"Config": name, "RepoTags": ["legacy:1"], "Layers": ["abc/layer.tar"]}], open("manifest.json", "w"))
PY
)
tar cf "$WORK/legacy.tar" -C "$WORK/legacy" .
export KILN_ROOT=$WORK/root-legacy
assert_contains "$(kiln load -i "$WORK/legacy.tar")" "Loaded image: legacy:1"
assert_eq "$(kiln run legacy:1 echo legacy-ok)" "legacy-ok"

# Refused: not an archive; a blob altered after saving (same name, other content).
export KILN_ROOT=$WORK/root-bad
echo garbage > "$WORK/garbage.tar"
err=$(must_fail kiln load -i "$WORK/garbage.tar")
assert_contains "$err" "$WORK/garbage.tar"
mkdir -p "$WORK/tampered" && tar xf "$WORK/both.tar" -C "$WORK/tampered"
layer=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["Layers"][0])' "$WORK/tampered/manifest.json")
printf 'x' >> "$WORK/tampered/$layer"
tar cf "$WORK/tampered.tar" -C "$WORK/tampered" .
err=$(must_fail kiln load -i "$WORK/tampered.tar")
assert_contains "$err" "does not match its digest"
[ -z "$(kiln images --json | grep busybox)" ] || fail "a refused archive named an image"
assert_store_consistent "$KILN_ROOT"
echo PASS
