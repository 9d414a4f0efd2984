#!/usr/bin/env bash
# Exports: OCI archives read by skopeo and umoci, docker archives in `docker load`'s format, local directories.
source "$(dirname "$0")/lib.sh"
import_busybox

ctx=$WORK/ctx
mkdir -p "$ctx"
echo "payload" > "$ctx/file.txt"
cat > "$ctx/Dockerfile" <<'DOCKERFILE'
FROM busybox:test
COPY file.txt /data/file.txt
RUN chmod 0640 /data/file.txt && ln -s file.txt /data/link && mkdir -p /data/empty && rm /etc/group
ENTRYPOINT ["cat"]
CMD ["/data/file.txt"]
DOCKERFILE

kiln build --progress plain -t out:1 \
  --output type=oci,dest="$WORK/image-oci.tar" \
  --output type=docker,dest="$WORK/image-docker.tar" \
  --output type=local,dest="$WORK/rootfs" "$ctx" >/dev/null 2>&1 || fail "build with outputs failed"

# OCI archive: skopeo reads it, and its config is the one kiln stored.
if command -v skopeo >/dev/null; then
  info=$(skopeo inspect "oci-archive:$WORK/image-oci.tar") || fail "skopeo inspect oci-archive failed"
  assert_contains "$info" '"Architecture": "amd64"'
  layers=$(skopeo inspect --config "oci-archive:$WORK/image-oci.tar" | grep -c '"sha256:' || true)
  [ "$layers" -ge 3 ] || fail "expected 3 diff_ids in the config"
else
  echo "note: skopeo not installed, skipping its check"
fi

# umoci unpacks the layout into a runtime bundle with the expected files.
if command -v umoci >/dev/null; then
  mkdir -p "$WORK/layout"
  tar -xf "$WORK/image-oci.tar" -C "$WORK/layout"
  tag=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"])' "$WORK/layout/index.json")
  umoci unpack --image "$WORK/layout:$tag" "$WORK/bundle" >/dev/null || fail "umoci unpack failed"
  assert_eq "$(cat "$WORK/bundle/rootfs/data/file.txt")" "payload" "umoci rootfs content"
  [ ! -e "$WORK/bundle/rootfs/etc/group" ] || fail "umoci: the whiteout for /etc/group was not applied"
  assert_eq "$(readlink "$WORK/bundle/rootfs/data/link")" "file.txt" "symlink"
  assert_contains "$(cat "$WORK/bundle/config.json")" '"cat"'
else
  echo "note: umoci not installed, skipping its check"
fi

# Docker archive: manifest.json in docker save's format, pointing at blobs in the tar.
mkdir -p "$WORK/docker"
tar -xf "$WORK/image-docker.tar" -C "$WORK/docker"
python3 - "$WORK/docker" <<'PY' || fail "docker archive is malformed"
import json, os, sys, hashlib
d = sys.argv[1]
m = json.load(open(os.path.join(d, "manifest.json")))
assert len(m) == 1 and m[0]["RepoTags"] == ["out:1"], m
cfg = m[0]["Config"]
assert hashlib.sha256(open(os.path.join(d, cfg), "rb").read()).hexdigest() == cfg.split("/")[-1]
for layer in m[0]["Layers"]:
    assert os.path.exists(os.path.join(d, layer)), layer
assert len(json.load(open(os.path.join(d, cfg)))["rootfs"]["diff_ids"]) == len(m[0]["Layers"])
PY
if [ -S /var/lib/kiln-peers/docker.sock ] && /usr/bin/docker -H unix:///var/lib/kiln-peers/docker.sock info >/dev/null 2>&1; then
  /usr/bin/docker -H unix:///var/lib/kiln-peers/docker.sock load -i "$WORK/image-docker.tar" | grep -q "out:1" || fail "docker load rejected the archive"
  /usr/bin/docker -H unix:///var/lib/kiln-peers/docker.sock rmi out:1 >/dev/null
else
  echo "note: no dockerd from ../shared/anchors/peers-up.sh running, docker load not tried"
fi

# Local output: the final root file system, with modes, links and deletions.
assert_eq "$(cat "$WORK/rootfs/data/file.txt")" "payload" "local output content"
assert_eq "$(stat -c %a "$WORK/rootfs/data/file.txt")" "640" "local output mode"
assert_eq "$(readlink "$WORK/rootfs/data/link")" "file.txt" "local output symlink"
[ -d "$WORK/rootfs/data/empty" ] || fail "empty directory missing"
[ -x "$WORK/rootfs/bin/busybox" ] || fail "base image files missing from the local output"
[ ! -e "$WORK/rootfs/etc/group" ] || fail "deleted file present in the local output"

# Reproducible layers: with SOURCE_DATE_EPOCH two clean builds give the same image.
d1=$(KILN_ROOT=$WORK/r1 bash -c "'$KILN' import '$(busybox_rootfs)' busybox:test >/dev/null; '$KILN' build -q --build-arg SOURCE_DATE_EPOCH=0 -t r:1 '$ctx'")
d2=$(KILN_ROOT=$WORK/r2 bash -c "'$KILN' import '$(busybox_rootfs)' busybox:test >/dev/null; '$KILN' build -q --build-arg SOURCE_DATE_EPOCH=0 -t r:1 '$ctx'")
l1=$(KILN_ROOT=$WORK/r1 "$KILN" inspect r:1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["config"]["rootfs"]["diff_ids"])')
l2=$(KILN_ROOT=$WORK/r2 "$KILN" inspect r:1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["config"]["rootfs"]["diff_ids"])')
assert_eq "$l1" "$l2" "layers with SOURCE_DATE_EPOCH are reproducible"

# type=tar (the root file system as one tar, times clamped) and type=oci,tar=false (a layout directory).
kiln build --progress quiet --build-arg SOURCE_DATE_EPOCH=1000 --output type=tar,dest="$WORK/root.tar" \
  --output type=oci,tar=false,dest="$WORK/layout-dir" --output type=docker,dest=- "$ctx" > "$WORK/stdout-docker.tar"
assert_contains "$(tar tf "$WORK/root.tar")" "data/file.txt"
assert_eq "$(tar xOf "$WORK/root.tar" data/file.txt)" "payload"
assert_eq "$(TZ=UTC tar tvf "$WORK/root.tar" --full-time | awk '{print $4}' | sort -u)" "1970-01-01" "type=tar: times clamped"
[ -f "$WORK/layout-dir/index.json" ] && [ -f "$WORK/layout-dir/oci-layout" ] || fail "type=oci,tar=false: no layout"
assert_contains "$(skopeo inspect "oci:$WORK/layout-dir")" '"Architecture": "amd64"'
assert_contains "$(tar tf "$WORK/stdout-docker.tar")" "manifest.json" "type=docker,dest=- wrote an archive to stdout"

# Layer compression: zstd and uncompressed blobs, Docker media types, and gzip on several cores for large layers
# (members of 4 MiB: one gzip stream to every reader).
head -c 12000000 /dev/urandom > "$ctx/big.bin"
echo 'COPY big.bin /big.bin' >> "$ctx/Dockerfile"
kiln build --progress quiet -t z:1 --output type=image,compression=zstd,compression-level=5,oci-mediatypes=false "$ctx"
manifest=$(kiln inspect z:1)
assert_contains "$manifest" '"mediaType": "application/vnd.docker.distribution.manifest.v2+json"'
assert_contains "$manifest" '"mediaType": "application/vnd.docker.image.rootfs.diff.tar.zstd"'
assert_eq "$(kiln run z:1 /big.bin | md5sum | cut -d' ' -f1)" "$(md5sum < "$ctx/big.bin" | cut -d' ' -f1)"  # ENTRYPOINT cat
kiln build --progress quiet -t u:1 --output type=image,compression=uncompressed "$ctx"
assert_contains "$(kiln inspect u:1)" '"mediaType": "application/vnd.oci.image.layer.v1.tar"'
kiln build --progress quiet -t g:1 --output type=image,compression=gzip "$ctx"
big_layer=$(kiln inspect g:1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["manifest"]["layers"][-1]["digest"])')
blob=$KILN_ROOT/blobs/sha256/${big_layer#sha256:}
gzip -t "$blob" || fail "a multi-member gzip layer is not valid gzip"
assert_eq "$(zcat "$blob" | tar xOf - big.bin | md5sum | cut -d' ' -f1)" "$(md5sum < "$ctx/big.bin" | cut -d' ' -f1)"
# By default the store keeps new layers uncompressed and they leave gzipped: an OCI layout of the same build has
# the gzip layer (the one made just above: each compression of a layer is made once), the same config.
kiln build --progress quiet -t d:1 "$ctx"
stored=$(kiln inspect d:1)
assert_contains "$stored" '"mediaType": "application/vnd.oci.image.layer.v1.tar"'
assert_not_contains "$stored" 'tar+gzip' "a new layer of a stored image was compressed"
kiln build --progress quiet -t d:1 --output type=oci,dest="$WORK/d-layout",tar=false "$ctx"
layout_manifest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]+"/index.json"))["manifests"][0]["digest"])' "$WORK/d-layout")
layout_layers=$(cat "$WORK/d-layout/blobs/sha256/${layout_manifest#sha256:}")
assert_contains "$layout_layers" "$big_layer" "the exported image does not carry the gzip layer made before"
assert_not_contains "$layout_layers" '"application/vnd.oci.image.layer.v1.tar"' "an uncompressed layer left kiln"
assert_contains "$layout_layers" "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["manifest"]["config"]["digest"])' <<<"$stored")"
err=$(must_fail kiln build --output type=image,compression=lz4 "$ctx")
assert_contains "$err" "compression: expected gzip, zstd or uncompressed"
err=$(must_fail kiln build --output type=image,compression=gzip,compression-level=99 "$ctx")
assert_contains "$err" "compression-level"
echo "PASS"
