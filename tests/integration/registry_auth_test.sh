#!/usr/bin/env bash
# Registry authentication against real registries on 127.0.0.1: htpasswd Basic auth and a Bearer token service
# (docker-registry's token auth, tokens signed with an openssl-made key). Credentials come from a temporary
# $DOCKER_CONFIG/config.json written by kiln login, or from a docker-credential helper; refused credentials are one
# clear error naming the registry; no password or token ever reaches kiln's output.
source "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
export DOCKER_CONFIG=$WORK/docker
import_busybox busybox:test

# Basic auth.
start_registry basic alice 's3cret-basic'
R=$REGISTRY
err=$(must_fail kiln push busybox:test "$R/app:1")
assert_contains "$err" "registry $R requires authentication: kiln login $R"
err=$(echo wrong | must_fail kiln login -u alice --password-stdin "$R")
assert_contains "$err" "registry $R refused the credentials"
[ ! -e "$DOCKER_CONFIG/config.json" ] || fail "refused credentials were stored"
out=$(echo 's3cret-basic' | kiln login -u alice --password-stdin "$R" 2>&1)
assert_contains "$out" "Login Succeeded"
assert_eq "$(stat -c %a "$DOCKER_CONFIG/config.json")" "600" "config.json mode"
assert_contains "$(cat "$DOCKER_CONFIG/config.json")" "\"$R\""
out=$(kiln push busybox:test "$R/app:1" --progress plain 2>&1)
assert_not_contains "$out" "s3cret-basic"
skopeo inspect --tls-verify=false --creds alice:s3cret-basic "docker://$R/app:1" >/dev/null
export KILN_ROOT=$WORK/root-basic-pull
kiln pull "$R/app:1" --progress quiet
assert_eq "$(kiln run "$R/app:1" echo basic-ok)" "basic-ok"
# Stored credentials that the registry no longer accepts.
python3 - "$DOCKER_CONFIG/config.json" "$R" <<'PY'
import base64, json, sys
path, reg = sys.argv[1:3]
c = json.load(open(path))
c["auths"][reg]["auth"] = base64.b64encode(b"alice:stale").decode()
json.dump(c, open(path, "w"))
PY
err=$(must_fail kiln pull "$R/app:1")
assert_contains "$err" "registry $R refused the credentials"
out=$(kiln logout "$R")
assert_contains "$out" "Removing login credentials for $R"
assert_not_contains "$(cat "$DOCKER_CONFIG/config.json")" "\"$R\""
err=$(must_fail kiln logout "$R")
assert_contains "$err" "$R"

# A credential helper, as docker-credential-* programs work (get/store/erase, the server on stdin), named by
# credsStore: kiln login stores through it, pulls ask it, logout erases; nothing it holds is printed.
mkdir -p "$WORK/bin"
cat > "$WORK/bin/docker-credential-kilntest" <<SH
#!/bin/sh
store=$WORK/helper-store.json
case "\$1" in
  store) cat > "\$store" ;;
  get) read server; [ -s "\$store" ] && grep -q "\"ServerURL\":\"\$server\"" "\$store" && cat "\$store" && exit 0
       echo "credentials not found in native keychain"; exit 1 ;;
  erase) rm -f "\$store" ;;
esac
SH
chmod +x "$WORK/bin/docker-credential-kilntest"
export PATH=$WORK/bin:$PATH
printf '{"credsStore":"kilntest"}' > "$DOCKER_CONFIG/config.json"
out=$(echo 's3cret-basic' | kiln login -u alice --password-stdin "$R" 2>&1)
assert_contains "$out" "Login Succeeded"
assert_contains "$(cat "$WORK/helper-store.json")" '"Username":"alice"'
assert_not_contains "$(cat "$DOCKER_CONFIG/config.json")" "alice"  # the file names the helper, not the secret
export KILN_ROOT=$WORK/root-helper
out=$(kiln pull "$R/app:1" --progress plain 2>&1)
assert_not_contains "$out" "s3cret-basic"
assert_eq "$(kiln run "$R/app:1" echo helper-ok)" "helper-ok"
kiln logout "$R" >/dev/null
[ ! -e "$WORK/helper-store.json" ] || fail "logout did not erase the helper's credentials"
# credHelpers names a helper per registry.
printf '{"credHelpers":{"%s":"kilntest"}}' "$R" > "$DOCKER_CONFIG/config.json"
echo 's3cret-basic' | kiln login -u alice --password-stdin "$R" >/dev/null
export KILN_ROOT=$WORK/root-helper2
kiln pull "$R/app:1" --progress quiet
rm "$DOCKER_CONFIG/config.json"

# Bearer tokens: docker-registry with token auth, and a token service that gives anonymous callers pull access
# and alice pull and push.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/token.key" -out "$WORK/token.crt" -days 2 \
  -subj /CN=kiln-test-token >/dev/null 2>&1
python3 "$HERE/registry/token_server.py" "$WORK/token.port" "$WORK/token.key" alice 's3cret-token' "$WORK/token.log" &
REGISTRY_PIDS+=($!)
for _ in $(seq 100); do [ -s "$WORK/token.port" ] && break; sleep 0.1; done
realm=http://127.0.0.1:$(cat "$WORK/token.port")/token
start_registry token "$realm" "$WORK/token.crt"
T=$REGISTRY
export KILN_ROOT=$WORK/root
err=$(must_fail kiln push busybox:test "$T/team/app:1")
assert_contains "$err" "registry $T"
grep -q '"user": null' "$WORK/token.log" || fail "no anonymous token was asked for"
err=$(echo nope | must_fail kiln login -u alice --password-stdin "$T")
assert_contains "$err" "registry $T refused the credentials"
echo 's3cret-token' | kiln login -u alice --password-stdin "$T" >/dev/null
out=$(kiln push busybox:test "$T/team/app:1" --progress plain 2>&1)
assert_not_contains "$out" "s3cret-token"
assert_not_contains "$out" "eyJ"  # a JWT's first bytes: no token in the output
grep -q '"scopes": \["repository:team/app:pull,push"\]' "$WORK/token.log" || fail "no push-scoped token was asked for: $(cat "$WORK/token.log")"
# A pull with anonymous access (no credentials at all) gets an anonymous pull token.
rm "$DOCKER_CONFIG/config.json"
export KILN_ROOT=$WORK/root-token-pull
kiln pull "$T/team/app:1" --progress quiet
assert_eq "$(kiln run "$T/team/app:1" echo token-ok)" "token-ok"
grep -q '"user": null, "scopes": \["repository:team/app:pull"\]' "$WORK/token.log" || fail "no anonymous pull token"
echo PASS
