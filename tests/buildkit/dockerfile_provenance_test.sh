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
