# Ported from BuildKit v0.24.0 frontend/dockerfile/dockerfile_secrets_test.go (see lib.sh). Sourced by run.sh.

testSecretFileParams() {
  dockerfile <<'D'
FROM busybox
RUN --mount=type=secret,required=false,mode=741,uid=100,gid=102,target=/mysecret [ "$(stat -c "%u %g %f" /mysecret)" = "100 102 81e1" ]
RUN [ ! -f /mysecret ] # check no stub left behind
D
  printf pw > "$WORK/mysecret"
  build --secret "id=mysecret,src=$WORK/mysecret"
}

testSecretRequiredWithoutValue() {
  printf '\nFROM busybox\nRUN --mount=type=secret,required,id=mysecret foo\n' | dockerfile
  assert_contains "$(build_error)" "secret mysecret: not found"
}

testSecretAsEnviron() {
  dockerfile <<'D'
FROM busybox
ENV SECRET_ENV=foo
RUN --mount=type=secret,id=mysecret,env=SECRET_ENV [ "$SECRET_ENV" == "pw" ] && [ ! -f /run/secrets/mysecret ] || false
D
  printf pw > "$WORK/mysecret"
  build --secret "id=mysecret,src=$WORK/mysecret"
  # The step's name (the progress' vertex name) masks where the secret goes.
  local name
  name=$(grep -m1 "/run/secrets/mysecret" "$WORK/build.log")
  assert_contains "$name" '[ "****" == "pw" ] && '
}

testSecretAsEnvironWithFileMount() {
  dockerfile <<'D'
FROM busybox
RUN --mount=type=secret,id=mysecret,target=/run/secrets/secret,env=SECRET_ENV [ "$SECRET_ENV" == "pw" ] && [ -f /run/secrets/secret ] || false
D
  printf pw > "$WORK/mysecret"
  build --secret "id=mysecret,src=$WORK/mysecret"
}
