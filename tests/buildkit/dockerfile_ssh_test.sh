# Ported from BuildKit v0.24.0 frontend/dockerfile/dockerfile_ssh_test.go (see lib.sh). Sourced by run.sh.

testSSHSocketParams() {
  printf '\nFROM busybox\nRUN --mount=type=ssh,mode=741,uid=100,gid=102 [ "$(stat -c "%%u %%g %%f" $SSH_AUTH_SOCK)" = "100 102 c1e1" ]\n' | dockerfile
  # An RSA key in a file, as the Go test's agent provider takes it.
  local key=$WORK/key-$$
  openssl genrsa -traditional -out "$key" 2048 2>/dev/null
  chmod 600 "$key"
  build --ssh "default=$key"
}
