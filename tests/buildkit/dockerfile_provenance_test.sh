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
