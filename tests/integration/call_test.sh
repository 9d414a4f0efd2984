#!/usr/bin/env bash
# Asking about a Dockerfile without building it (--call check|targets|outline, --check, --format json), the build
# checks a build prints and `# check=error=true`, and errors that quote the Dockerfile.
source "$(dirname "$0")/lib.sh"
import_busybox

ctx=$WORK/ctx
mkdir -p "$ctx"
cat > "$ctx/Dockerfile" <<'EOF2'
ARG BASE=busybox:test
# builder compiles the app
FROM $BASE AS builder
# VERSION the version to build
ARG VERSION=1.0
ARG UNUSED=x
RUN --mount=type=secret,id=token echo $VERSION > /version
EXPOSE 80/TCP

FROM $BASE
COPY --from=builder /version /version
CMD cat /version
EOF2

out=$(kiln build --call targets "$ctx")
assert_contains "$out" "builder   compiles the app"
assert_contains "$out" "(default)"
json=$(kiln build --call targets --format json "$ctx")
assert_eq "$(python3 -c 'import json,sys; t=json.load(sys.stdin)["targets"]; print(t[0]["name"], t[0]["description"], t[1].get("default"))' <<<"$json")" \
  "builder compiles the app True" "targets as JSON"

out=$(kiln build --call outline --target builder "$ctx")
assert_contains "$out" "VERSION     1.0            the version to build"
assert_contains "$out" "UNUSED"  # as BuildKit's outline: every ARG of a stage built, used or not
assert_contains "$out" "token"
json=$(kiln build --call outline --target builder --format json "$ctx")
assert_eq "$(python3 -c 'import json,sys; o=json.load(sys.stdin); print([a["name"] for a in o["args"]], o["secrets"][0]["name"])' <<<"$json")" \
  "['BASE', 'VERSION', 'UNUSED'] token" "outline as JSON"

# --check: findings and a non-zero exit.
set +e
out=$(kiln build --check "$ctx")
code=$?
set -e
assert_eq "$code" "1" "--check with findings"
assert_contains "$out" "WARNING: ExposeProtoCasing - https://docs.docker.com/go/dockerfile/rule/expose-proto-casing/"
assert_contains "$out" "WARNING: JSONArgsRecommended"
assert_contains "$out" "  12 | >>> CMD cat /version"
json=$(kiln build --call check --format json "$ctx" || true)
assert_eq "$(python3 -c 'import json,sys; print(sorted(w["ruleName"] for w in json.load(sys.stdin)["warnings"]))' <<<"$json")" \
  "['ExposeProtoCasing', 'JSONArgsRecommended']" "check as JSON"
printf 'FROM busybox:test\nCMD ["true"]\n' > "$ctx/Dockerfile.clean"
kiln build --check -f "$ctx/Dockerfile.clean" "$ctx" | grep -q "no warnings found" || fail "a clean Dockerfile has findings"

# A build prints its findings as warnings, honours the skip list, and fails with error=true.
out=$(kiln build -t call:1 "$ctx" 2>&1) || fail "the build failed:"$'\n'"$out"
assert_contains "$out" "WARNING: JSONArgsRecommended: JSON arguments recommended for CMD to prevent unintended behavior related to OS signals (line 12)"
out=$(kiln build -t call:1 --build-arg BUILDKIT_DOCKERFILE_CHECK="skip=JSONArgsRecommended,ExposeProtoCasing" "$ctx" 2>&1)
assert_not_contains "$out" "WARNING: JSONArgsRecommended"
assert_not_contains "$out" "not consumed"
sed -i '1i # check=error=true' "$ctx/Dockerfile"
err=$(must_fail kiln build -t call:2 "$ctx")
assert_contains "$err" "lint violation found for rules: ExposeProtoCasing, JSONArgsRecommended"

# Errors name the line, quote it, and suggest the instruction meant.
printf 'FROM busybox:test\nRUNN true\n' > "$ctx/Dockerfile.typo"
err=$(must_fail kiln build -f "$ctx/Dockerfile.typo" "$ctx")
assert_contains "$err" "Dockerfile.typo:2:1: dockerfile parse error on line 2: unknown instruction: RUNN (did you mean RUN?)"
assert_contains "$err" "   2 | >>> RUNN true"
echo "PASS"
