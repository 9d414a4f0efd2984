# Ported from BuildKit v0.24.0 frontend/dockerfile/dockerfile_rundevice_test.go (see lib.sh). BuildKit's sandbox
# reads CDI specs from its CDISpecDir; kiln reads them from KILN_CDI_SPEC_DIRS. Sourced by run.sh.

testDeviceRunEnv() {
  root_only "BuildKit's test does not run rootless"
  export KILN_CDI_SPEC_DIRS=$WORK/cdi
  mkdir -p "$KILN_CDI_SPEC_DIRS"
  cat > "$KILN_CDI_SPEC_DIRS/vendor1-device.yaml" <<'Y'

cdiVersion: "0.6.0"
kind: "vendor1.com/device"
devices:
- name: foo
  containerEdits:
    env:
    - FOO=injected
  annotations:
    org.mobyproject.buildkit.device.autoallow: true
Y
  dockerfile <<'D'

FROM busybox AS base
RUN --device=vendor1.com/device=foo,required \
    --device=vendor2.com/device=bar \
    env|sort | tee foo.env
FROM scratch
COPY --from=base /foo.env /
D
  build_local
  out_contains foo.env FOO=injected
}
