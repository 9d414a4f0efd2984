#!/usr/bin/env bash
# Multi-platform builds: one command builds linux/amd64 and linux/arm64 (the latter under QEMU through
# binfmt_misc), the platform arguments are BuildKit's, a FROM --platform=$BUILDPLATFORM stage runs once for both,
# and the result is one index whose images run on their own platforms.
source "$(dirname "$0")/lib.sh"
ARM64_BUSYBOX=/usr/local/share/kiln/arm64/busybox
[ -x /usr/bin/qemu-aarch64-static ] || skip "qemu-user-static is not installed (scripts/install-deps installs it)"
[ -x "$ARM64_BUSYBOX" ] || skip "no arm64 busybox at $ARM64_BUSYBOX (scripts/install-deps puts it there)"

out=$(kiln setup-binfmt) || fail "setup-binfmt failed: $out"
assert_contains "$(kiln setup-binfmt)" "qemu-aarch64: already registered" "setup-binfmt is idempotent"

# One base image name holding both platforms, made with import --platform.
for arch in amd64 arm64; do
  mkdir -p "$WORK/rootfs-$arch/bin"
  if [ $arch = amd64 ]; then cp /bin/busybox "$WORK/rootfs-$arch/bin/"; else cp "$ARM64_BUSYBOX" "$WORK/rootfs-$arch/bin/"; fi
  for a in sh uname cat echo date; do ln -s busybox "$WORK/rootfs-$arch/bin/$a"; done
  tar -C "$WORK/rootfs-$arch" -cf "$WORK/rootfs-$arch.tar" .
  kiln import --platform linux/$arch "$WORK/rootfs-$arch.tar" bb:multi >/dev/null
done
assert_contains "$(kiln images)" "linux/amd64,linux/arm64" "both platforms under one name"
assert_eq "$(kiln run --platform linux/arm64 bb:multi uname -m)" "aarch64" "the arm64 image runs under emulation"
assert_eq "$(kiln run --platform aarch64 bb:multi uname -m)" "aarch64" "platforms are normalised"
assert_eq "$(kiln run bb:multi uname -m)" "x86_64" "without --platform, the host's image"

ctx=$WORK/ctx
mkdir -p "$ctx"
cat > "$ctx/Dockerfile" <<'DOCKERFILE'
FROM --platform=$BUILDPLATFORM bb:multi AS native
RUN date +%s%N > /stamp && uname -m > /built-on
FROM --platform=$BUILDPLATFORM bb:multi AS cross
ARG TARGETARCH
RUN echo "compiled on $(uname -m) for $TARGETARCH" > /binary
FROM bb:multi
ARG TARGETPLATFORM TARGETOS TARGETARCH TARGETVARIANT BUILDPLATFORM BUILDARCH
COPY --from=native /stamp /built-on /
COPY --from=cross /binary /binary
RUN uname -m > /arch && echo "$TARGETPLATFORM $TARGETOS $TARGETARCH [$TARGETVARIANT] $BUILDPLATFORM $BUILDARCH" > /args
DOCKERFILE
out=$(kiln build --progress plain --platform linux/amd64,linux/arm64 -t app:multi "$ctx" 2>&1) || fail "build failed:"$'\n'"$out"
assert_contains "$out" "[linux/arm64 stage-2 5/5] RUN" "step names carry their platform"
# Counted by step number: plain progress shows a step's name again when its output resumes after another's.
assert_eq "$(grep -o '^#[0-9]* \[linux/amd64 native 2/2\] RUN' <<<"$out" | sort -u | wc -l)" 1 \
  "the native stage runs once for both platforms"

assert_eq "$(kiln run --platform linux/arm64 app:multi cat /arch)" "aarch64" "arm64's RUN ran on arm64"
assert_eq "$(kiln run --platform linux/amd64 app:multi cat /arch)" "x86_64" "amd64's RUN ran on amd64"
assert_eq "$(kiln run --platform linux/arm64 app:multi cat /args)" "linux/arm64 linux arm64 [] linux/amd64 amd64" "arm64's platform args"
assert_eq "$(kiln run --platform linux/amd64 app:multi cat /args)" "linux/amd64 linux amd64 [] linux/amd64 amd64" "amd64's platform args"
assert_eq "$(kiln run --platform linux/arm64 app:multi cat /binary)" "compiled on x86_64 for arm64" "cross-compiled natively"
assert_eq "$(kiln run --platform linux/arm64 app:multi cat /built-on)" "x86_64" "the native stage ran on the build platform"
assert_eq "$(kiln run --platform linux/arm64 app:multi cat /stamp)" "$(kiln run --platform linux/amd64 app:multi cat /stamp)" \
  "both images got the one run of the native stage"

# The index and each image's config.
inspect=$(kiln inspect app:multi)
python3 - "$inspect" <<'PY' || fail "index: $inspect"
import json, sys
j = json.loads(sys.argv[1])
idx = j["index"]
assert idx["mediaType"] == "application/vnd.oci.image.index.v1+json", idx
plats = [(m["platform"]["os"], m["platform"]["architecture"]) for m in idx["manifests"]]
assert plats == [("linux", "amd64"), ("linux", "arm64")], plats
assert all(m["mediaType"] == "application/vnd.oci.image.manifest.v1+json" for m in idx["manifests"])
PY
assert_eq "$(kiln inspect --platform linux/arm64 app:multi | python3 -c 'import json,sys; print(json.load(sys.stdin)["config"]["architecture"])')" \
  arm64 "the arm64 image's config says arm64"

# Warm: nothing runs again; the same index.
first=$(kiln build -q --platform linux/amd64,linux/arm64 "$ctx")
again=$(kiln build --progress plain --platform linux/arm64,linux/amd64 "$ctx" 2>&1)
assert_not_contains "$again" "DONE" "a warm multi-platform build runs nothing"

# Pushed as one reference: the registry holds the index and both images; a fresh store pulls both platforms into
# one name, and each runs.
start_registry
kiln push --progress quiet app:multi "$REGISTRY/app:multi"
raw=$(skopeo inspect --tls-verify=false --raw "docker://$REGISTRY/app:multi")
python3 - "$raw" <<'PY' || fail "pushed index: $raw"
import json, sys
j = json.loads(sys.argv[1])
assert j["mediaType"] == "application/vnd.oci.image.index.v1+json", j
assert sorted(m["platform"]["architecture"] for m in j["manifests"]) == ["amd64", "arm64"], j
PY
arm_config=$(skopeo inspect --tls-verify=false --override-arch arm64 --config "docker://$REGISTRY/app:multi")
assert_contains "$arm_config" '"architecture": "arm64"' "the registry serves the arm64 image to arm64"
export KILN_ROOT=$WORK/root-pulled
kiln pull --progress quiet --insecure-registry "$REGISTRY" --platform linux/amd64,linux/arm64 "$REGISTRY/app:multi"
assert_contains "$(kiln images)" "linux/amd64,linux/arm64" "both platforms pulled under one name"
assert_eq "$(kiln run --platform linux/arm64 "$REGISTRY/app:multi" cat /arch)" "aarch64" "the pulled arm64 image"
assert_eq "$(kiln run "$REGISTRY/app:multi" cat /arch)" "x86_64" "the pulled amd64 image"
# kiln save and load keep every platform.
kiln save -o "$WORK/saved.tar" "$REGISTRY/app:multi"
export KILN_ROOT=$WORK/root-loaded
kiln load -i "$WORK/saved.tar" >/dev/null
assert_contains "$(kiln images)" "linux/amd64,linux/arm64" "a saved index loads whole"
assert_eq "$(kiln run --platform linux/arm64 "$REGISTRY/app:multi" cat /arch)" "aarch64" "the loaded arm64 image"
export KILN_ROOT=$WORK/root

# Built and pushed in one command, and written as an OCI layout and as per-platform directories.
kiln build --progress quiet --platform linux/amd64,linux/arm64 --push -t "$REGISTRY/app:pushed" \
  -o type=oci,dest="$WORK/multi.tar" -o type=local,dest="$WORK/files" --insecure-registry "$REGISTRY" "$ctx"
[ "$(skopeo inspect --tls-verify=false --raw "docker://$REGISTRY/app:pushed" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["manifests"]))')" = 2 ] \
  || fail "the pushed build is an index of two images"
assert_eq "$(cat "$WORK/files/linux_arm64/arch")" "aarch64" "type=local writes linux_arm64/"
assert_eq "$(cat "$WORK/files/linux_amd64/arch")" "x86_64" "type=local writes linux_amd64/"
mkdir -p "$WORK/layout" && tar -xf "$WORK/multi.tar" -C "$WORK/layout"
python3 - "$WORK/layout" <<'PY' || fail "the OCI layout holds an index of both images"
import json, sys, os, hashlib
root = sys.argv[1]
def blob(d):
    data = open(os.path.join(root, "blobs", "sha256", d.split(":")[1]), "rb").read()
    assert hashlib.sha256(data).hexdigest() == d.split(":")[1]
    return json.loads(data)
top = json.load(open(os.path.join(root, "index.json")))["manifests"]
assert len(top) == 1 and top[0]["mediaType"] == "application/vnd.oci.image.index.v1+json", top
index = blob(top[0]["digest"])
for m in index["manifests"]:
    manifest = blob(m["digest"])
    config = blob(manifest["config"]["digest"])
    assert config["architecture"] == m["platform"]["architecture"], (config, m)
    for l in manifest["layers"]:
        assert l["mediaType"].endswith("tar+gzip"), l
        open(os.path.join(root, "blobs", "sha256", l["digest"].split(":")[1]), "rb").close()
PY
if command -v umoci >/dev/null; then
  umoci list --layout "$WORK/layout" >/dev/null || fail "umoci reads the layout"
fi

# Attestations: an SPDX SBOM and a SLSA provenance statement per platform, as in-toto statements in attestation
# manifests the index lists beside each image, the way BuildKit lays them out.
mkdir -p "$ctx/var/lib/dpkg"
printf 'Package: libdemo\nStatus: install ok installed\nVersion: 1.0-1\nArchitecture: all\n' > "$ctx/var/lib/dpkg/status"
printf 'FROM bb:multi\nARG API_TOKEN\nCOPY var /var\nRUN uname -m > /arch\n' > "$ctx/Dockerfile"
kiln build --progress quiet --platform linux/amd64,linux/arm64 --sbom=true \
  --provenance=mode=max,builder-id=https://ci.example/runners/7 \
  --build-arg API_TOKEN=hunter2-secret --build-arg VERSION=7 -t attested:1 -o type=oci,dest="$WORK/attested.tar" "$ctx"
rm -rf "$WORK/att" && mkdir -p "$WORK/att" && tar -xf "$WORK/attested.tar" -C "$WORK/att"
# Each statement is validated against the schemas in tests/integration/schemas (in-toto Statement v0.1, SPDX 2.3,
# SLSA Provenance v0.2), with Debian's python3-jsonschema.
check_attestations() {  # layout DIR, or registry REPO@REGISTRY INDEX_DIGEST
  /usr/bin/python3 - "$KILN_SOURCE_DIR/tests/integration/schemas" "$@" <<'PY'
import json, sys, os, urllib.request
import jsonschema
schemas_dir = sys.argv.pop(1)
def validator(name):
    schema = json.load(open(os.path.join(schemas_dir, name)))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
statement_schema = validator("in-toto-statement-v0.1.schema.json")
predicate_schemas = {"https://spdx.dev/Document": validator("spdx-2.3.schema.json"),
                     "https://slsa.dev/provenance/v0.2": validator("slsa-provenance-v0.2.schema.json")}
def validate(v, doc, what):
    errors = sorted(v.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, f"{what}: " + "; ".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:5])
kind, where = sys.argv[1], sys.argv[2]
def blob(d):
    if kind == "layout":
        return json.load(open(os.path.join(where, "blobs", "sha256", d.split(":")[1])))
    repo, registry = where.split("@")
    return json.load(urllib.request.urlopen(f"http://{registry}/v2/{repo}/blobs/{d}"))
def manifest(d):
    if kind == "layout":
        return blob(d)
    repo, registry = where.split("@")
    req = urllib.request.Request(f"http://{registry}/v2/{repo}/manifests/{d}",
                                 headers={"Accept": "application/vnd.oci.image.manifest.v1+json,application/vnd.oci.image.index.v1+json"})
    return json.load(urllib.request.urlopen(req))
if kind == "layout":
    index = blob(json.load(open(os.path.join(where, "index.json")))["manifests"][0]["digest"])
else:
    index = manifest(sys.argv[3])
images = {m["digest"]: m["platform"] for m in index["manifests"] if m["platform"]["os"] != "unknown"}
atts = [m for m in index["manifests"] if m["platform"]["os"] == "unknown"]
assert len(images) == 2 and len(atts) == 2, index
for a in atts:
    assert a["annotations"]["vnd.docker.reference.type"] == "attestation-manifest", a
    subject = a["annotations"]["vnd.docker.reference.digest"]
    assert subject in images, (subject, images)
    platform = images[subject]
    m = manifest(a["digest"])
    types = {}
    for layer in m["layers"]:
        assert layer["mediaType"] == "application/vnd.in-toto+json", layer
        st = blob(layer["digest"])
        assert "hunter2-secret" not in json.dumps(st), "a secret-looking build argument reached an attestation"
        validate(statement_schema, st, "in-toto statement")
        validate(predicate_schemas[st["predicateType"]], st["predicate"], st["predicateType"])
        assert st["predicateType"] == layer["annotations"]["in-toto.io/predicate-type"]
        assert st["subject"][0]["digest"]["sha256"] == subject.split(":")[1], st["subject"]
        types[st["predicateType"]] = st["predicate"]
    spdx = types["https://spdx.dev/Document"]
    purls = [r["referenceLocator"] for p in spdx["packages"] for r in p["externalRefs"]]
    assert "pkg:deb/debian/libdemo@1.0-1?arch=all" in purls, purls
    # What a schema cannot say: identifiers are unique and every relationship names one of them.
    ids = [p["SPDXID"] for p in spdx["packages"]] + [spdx["SPDXID"]]
    assert len(ids) == len(set(ids)), ids
    for r in spdx["relationships"]:
        assert r["spdxElementId"] in ids and r["relatedSpdxElement"] in ids, r
    prov = types["https://slsa.dev/provenance/v0.2"]
    assert prov["builder"]["id"] == "https://ci.example/runners/7", prov["builder"]
    assert prov["invocation"]["environment"]["platform"] == f'{platform["os"]}/{platform["architecture"]}', prov
    assert prov["invocation"]["parameters"]["args"]["build-arg:VERSION"] == "7"
    assert "build-arg:API_TOKEN" not in prov["invocation"]["parameters"]["args"]
    assert any(mat["uri"].startswith("pkg:docker/bb@multi?platform=") for mat in prov["materials"]), prov["materials"]
    assert "COPY var /var" in json.dumps(prov), "mode=max carries the Dockerfile"
PY
}
check_attestations layout "$WORK/att" || fail "the OCI layout's attestations"
assert_eq "$(kiln run --platform linux/arm64 attested:1 cat /arch)" "aarch64" "an attested image still runs"
kiln push --progress quiet attested:1 "$REGISTRY/attested:1"
pushed=$(skopeo inspect --tls-verify=false --raw "docker://$REGISTRY/attested:1" | sha256sum | cut -d' ' -f1)
check_attestations registry "attested@$REGISTRY" "sha256:$pushed" || fail "the pushed attestations point at the pushed images"

# Reproducible under SOURCE_DATE_EPOCH: a build with no cache makes the same index.
cat > "$ctx/Dockerfile" <<'DOCKERFILE'
FROM bb:multi
ARG TARGETARCH
RUN uname -m > /arch && echo "$TARGETARCH" > /target
DOCKERFILE
one=$(kiln build -q --no-cache --build-arg SOURCE_DATE_EPOCH=1700000000 --platform linux/amd64,linux/arm64 "$ctx")
two=$(kiln build -q --no-cache --build-arg SOURCE_DATE_EPOCH=1700000000 --platform linux/amd64,linux/arm64 "$ctx")
assert_eq "$two" "$one" "the same index digest from a build that ran again"

# A platform this machine cannot run is named before anything runs, with the fix.
kiln import --platform linux/riscv32 "$WORK/rootfs-amd64.tar" odd:1 >/dev/null
printf 'FROM odd:1\nRUN true\n' > "$ctx/Dockerfile"
err=$(must_fail kiln build --platform linux/riscv32 "$ctx")
assert_contains "$err" "cannot run the RUN steps for linux/riscv32" "the platform without an emulator is named"
assert_contains "$err" "install qemu-user-static and run kiln setup-binfmt" "the fix is given"
err=$(must_fail kiln build --platform linux/amd64/x/y "$ctx")
assert_contains "$err" "--platform" "a malformed platform names the flag"
err=$(must_fail kiln build --provenance=mode=huge "$ctx")
assert_contains "$err" "--provenance mode: expected true, false, min or max" "a bad provenance mode names the flag"
err=$(must_fail kiln build --attest type=provenance,colour=red "$ctx")
assert_contains "$err" '--attest: unknown attribute "colour"' "an unknown attestation attribute is named"
err=$(must_fail kiln build --attest type=sbom,builder-id=https://ci.example "$ctx")
assert_contains "$err" "type=sbom takes no mode or builder-id" "a provenance attribute on an SBOM is refused, not ignored"
assert_store_consistent "$KILN_ROOT"
echo PASS
