# Ported from BuildKit v0.24.0 frontend/dockerfile/dockerfile_provenance_test.go (see lib.sh). Sourced by run.sh.

testNilProvenance() {
  printf '\nFROM scratch\nENV FOO=bar\n' | dockerfile
  local exporter platforms
  for exporter in "type=image" "type=local,dest=$WORK/local" "type=tar,dest=$WORK/out.tar"; do
    for platforms in linux/amd64 linux/amd64,linux/arm64; do
      build --provenance mode=max --platform "$platforms" -o "$exporter"
    done
  done
}

testDuplicatePlatformProvenance() {
  printf '\nFROM alpine as base-linux\nFROM nanoserver as base-windows\nFROM base-$TARGETOS\n' | dockerfile
  build --provenance mode=max --platform linux/amd64,linux/amd64
}

# provenance_files DIR FILE...: each FILE of DIR is a SLSA v0.2 provenance predicate (ProvenancePredicateSLSA02).
provenance_files() {
  local dir=$1 f
  shift
  for f in "$@"; do
    [ -s "$dir/$f" ] || fail "$f is not in the output: $(ls -R "$dir")"
    python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); assert "buildType" in p and "builder" in p and "invocation" in p, p' "$dir/$f" ||
      fail "$f is not a SLSA v0.2 predicate"
  done
}

testProvenanceExportLocal() {
  dockerfile <<'D'

FROM busybox:latest AS base
COPY <<EOF /out/foo
ok
EOF

FROM scratch
COPY --from=base /out /
D
  build_local --provenance mode=max
  out_equal foo $'ok\n'
  provenance_files "$OUT" provenance.json
}

testProvenanceExportLocalForceSplit() {
  dockerfile <<'D'

FROM busybox:latest AS base
COPY <<EOF /out/foo
ok
EOF

FROM scratch
COPY --from=base /out /
D
  kiln build --progress plain --provenance mode=max -o "type=local,dest=$OUT,platform-split=true" "$CTX" > "$WORK/build.log" 2>&1 ||
    { cat "$WORK/build.log"; fail "the build failed"; }
  local platform
  platform=$(kiln inspect busybox | python3 -c 'import json,sys; c=json.load(sys.stdin)["config"]; print(c["os"] + "_" + c["architecture"])')
  out_equal "$platform/foo" $'ok\n'
  provenance_files "$OUT/$platform" provenance.json
}

testProvenanceExportLocalMultiPlatform() {
  dockerfile <<'D'

FROM busybox:latest AS base
COPY <<EOF /out/foo
ok
EOF

FROM scratch
COPY --from=base /out /
D
  bk_busybox_also linux/arm64
  build_local --provenance mode=max --platform linux/amd64,linux/arm64
  local platform
  for platform in linux_amd64 linux_arm64; do
    out_equal "$platform/foo" $'ok\n'
    provenance_files "$OUT/$platform" provenance.json
  done
}

testProvenanceExportLocalMultiPlatformNoSplit() {
  dockerfile <<'D'

FROM busybox:latest AS base
ARG TARGETARCH
COPY <<EOF /out/foo_${TARGETARCH}
ok
EOF

FROM scratch
COPY --from=base /out /
D
  bk_busybox_also linux/arm64
  kiln build --progress plain --provenance mode=max --platform linux/amd64,linux/arm64 \
    -o "type=local,dest=$OUT,platform-split=false" "$CTX" > "$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; fail "the build failed"; }
  local arch
  for arch in amd64 arm64; do
    out_equal "foo_$arch" $'ok\n'
    provenance_files "$OUT" "provenance.linux_$arch.json"
  done
}

# provenance_of REF PLATFORM: the SLSA v0.2 provenance statement of REF's image for PLATFORM in the registry.
provenance_of() {
  python3 - "$1" "$2" <<'PY'
import json, sys, urllib.request
host, rest = sys.argv[1].split("/", 1)
repo, tag = rest.rsplit(":", 1)
accept = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json"
get = lambda what, ref: urllib.request.urlopen(urllib.request.Request(f"http://{host}/v2/{repo}/{what}/{ref}", headers={"Accept": accept})).read()
index = json.loads(get("manifests", tag))
plat = lambda d: "/".join(x for x in (d.get("platform", {}).get("os"), d.get("platform", {}).get("architecture"), d.get("platform", {}).get("variant")) if x)
image = [d for d in index["manifests"] if plat(d) == sys.argv[2]]
assert len(image) == 1, index
att = [d for d in index["manifests"] if d.get("annotations", {}).get("vnd.docker.reference.digest") == image[0]["digest"]]
assert len(att) == 1 and att[0]["annotations"]["vnd.docker.reference.type"] == "attestation-manifest", index
m = json.loads(get("manifests", att[0]["digest"]))
print(get("blobs", m["layers"][0]["digest"]).decode())
PY
}

testMultiPlatformProvenance() {
  start_registry
  bk_busybox_also linux/arm64
  dockerfile <<'D'

FROM busybox:latest
ARG TARGETARCH
RUN echo "ok-$TARGETARCH" > /foo
D
  local target=$REGISTRY/buildkit/testmultiprovenance:latest
  # RUN for arm64 runs under emulation here, as in BuildKit's test.
  build --provenance mode=max --build-arg FOO=bar --label lbl=abc --platform linux/amd64,linux/arm64 \
    -o "type=image,name=$target,push=true"
  read_pushed "$target" > "$WORK/images.json"
  local p
  for p in linux/amd64 linux/arm64; do
    python3 - "$WORK/images.json" "$p" <<'PY'
import json, sys
images = json.load(open(sys.argv[1]))["images"]
assert len(images) == 2, images.keys()
assert images[sys.argv[2]][1]["foo"] == "ok-%s\n" % sys.argv[2].split("/")[1], images[sys.argv[2]]
PY
    provenance_of "$target" "$p" | python3 -c '
import json, sys, urllib.parse
s = json.load(sys.stdin); p = sys.argv[1]
assert s["_type"] == "https://in-toto.io/Statement/v0.1", s["_type"]
assert s["predicateType"] == "https://slsa.dev/provenance/v0.2", s["predicateType"]
pred = s["predicate"]
assert pred["buildType"] == "https://mobyproject.org/buildkit@v1", pred["buildType"]
# BuildKit leaves builder.id empty; kiln names itself, as SLSA v0.2 requires (exporter/attestation.h).
assert pred["builder"]["id"] == "https://kiln.dev/kiln", pred["builder"]
assert pred["invocation"]["configSource"].get("uri", "") == "", pred["invocation"]["configSource"]
m = pred["materials"]
assert len(m) == 1, m
assert "pkg:docker/busybox@latest" in m[0]["uri"] and urllib.parse.quote(p, safe="") in m[0]["uri"], m
args = pred["invocation"]["parameters"]["args"]
assert args == {"build-arg:FOO": "bar", "label:lbl": "abc"}, args
' "$p"
  done
}

testSecretSSHProvenance() {
  start_registry
  dockerfile <<'D'

FROM busybox:latest
RUN --mount=type=secret,id=mysecret --mount=type=secret,id=othersecret --mount=type=ssh echo "ok" > /foo
D
  local target=$REGISTRY/buildkit/testsecretprovenance:latest
  build --provenance mode=max -o "type=image,name=$target,push=true"
  read_pushed "$target" | python3 -c '
import json, sys
images = json.load(sys.stdin)["images"]
assert len(images) == 1 and list(images.values())[0][1]["foo"] == "ok\n", images
'
  local platform
  platform=$(kiln inspect busybox | python3 -c 'import json,sys; c=json.load(sys.stdin)["config"]; print(c["os"] + "/" + c["architecture"])')
  provenance_of "$target" "$platform" | python3 -c '
import json, sys
p = json.load(sys.stdin)["predicate"]["invocation"]["parameters"]
assert p["secrets"] == [{"id": "mysecret", "optional": True}, {"id": "othersecret", "optional": True}], p.get("secrets")
assert p["ssh"] == [{"id": "default", "optional": True}], p.get("ssh")
'
}

testOCILayoutProvenance() {
  start_registry
  printf '\nFROM scratch\nCOPY <<EOF /foo\nfoo\nEOF\n\t' | dockerfile
  build -o "type=oci,dest=$WORK/ocidir,tar=false"
  local digest
  digest=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["manifests"]; assert len(m) == 1; print(m[0]["digest"])' "$WORK/ocidir/index.json")
  printf '\nFROM foo\nCOPY <<EOF /bar\nbar\nEOF\n' | dockerfile
  local target=$REGISTRY/buildkit/testocilayoutprovenance:latest
  build --build-context "foo=oci-layout://$WORK/ocidir@$digest" --provenance mode=max -o "type=image,name=$target,push=true"
  read_pushed "$target" | python3 -c '
import json, sys
images = json.load(sys.stdin)["images"]
assert len(images) == 1, images
layers = list(images.values())[0]
assert layers[0]["foo"] == "foo\n" and layers[1]["bar"] == "bar\n", layers
'
  local platform
  platform=$(kiln inspect busybox | python3 -c 'import json,sys; c=json.load(sys.stdin)["config"]; print(c["os"] + "/" + c["architecture"])')
  provenance_of "$target" "$platform" | python3 -c '
import json, sys
m = json.load(sys.stdin)["predicate"]["materials"]
assert len(m) == 1, m
found = [x for x in m if "/foo" in x["uri"]]
assert len(found) == 1, m
assert found[0]["uri"].split("/")[0] == "pkg:oci", found
assert "sha256:" + found[0]["digest"]["sha256"] == sys.argv[1], (found, sys.argv[1])
' "$digest"
}
