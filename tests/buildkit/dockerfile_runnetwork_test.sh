# Ported from BuildKit v0.24.0 frontend/dockerfile/dockerfile_runnetwork_test.go (see lib.sh). Sourced by run.sh.

testRunNoNetwork() {
  printf '\nFROM busybox\nRUN --network=none ! ip link show eth0\n' | dockerfile
  build
}

testRunGlobalNetwork() {
  echo_server foo
  printf '\nFROM busybox\nRUN nc 127.0.0.1 %s | grep foo\nRUN --network=none ! nc -z 127.0.0.1 %s\n' "$ECHO_PORT" "$ECHO_PORT" | dockerfile
  # force-network-mode=host, with the network.host entitlement allowed.
  build --network host --allow network.host
}
