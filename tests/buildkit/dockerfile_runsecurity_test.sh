# Ported from BuildKit v0.24.0 frontend/dockerfile/dockerfile_runsecurity_test.go (see lib.sh). Sourced by run.sh.
# BuildKit runs these with the security.insecure entitlement granted by buildkitd or denied; kiln has no daemon:
# granted is --allow security.insecure, denied is its absence.

testRunSecurityInsecure() {
  dockerfile <<'D'
FROM busybox
RUN --security=insecure [ "$(printf '%x' $(( $(cat /proc/self/status | grep CapBnd | cut -f 2 | sed s#^#0x#) & 0x3fffffffff)))" == "3fffffffff" ]
RUN [ "$(cat /proc/self/status | grep CapBnd)" == "CapBnd:	00000000a80425fb" ]
D
  local host
  host=$(printf '%x' $(( 0x$(grep CapBnd /proc/self/status | cut -f 2) & 0x3fffffffff )))
  if [ "$host" != 3fffffffff ]; then
    # A container cannot hold more than kiln does: where kiln's own bounding set lacks some of the first 38
    # capabilities (this VM's lacks CAP_SYS_RESOURCE), the insecure step must get all that kiln has.
    echo "note: kiln's bounding set here is $host, not 3fffffffff: the insecure step is checked against it"
    sed -i "s/== \"3fffffffff\"/== \"$host\"/" "$CTX/Dockerfile"
  fi
  build --allow security.insecure
  assert_contains "$(build_error)" "entitlement security.insecure is not allowed"
}

testRunSecuritySandbox() {
  printf '\nFROM busybox\nRUN --security=sandbox [ "$(cat /proc/self/status | grep CapBnd)" == "CapBnd:\t00000000a80425fb" ]\n' | dockerfile
  build
}

testRunSecurityDefault() {
  printf '\nFROM busybox\nRUN [ "$(cat /proc/self/status | grep CapBnd)" == "CapBnd:\t00000000a80425fb" ]\n' | dockerfile
  build --allow security.insecure
}
