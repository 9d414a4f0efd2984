#!/usr/bin/env bash
# A failed RUN step keeps its file system: kiln debug runs a command (or a shell) in it afterwards, with the step's
# environment, working directory, user and cache mounts, never its secrets; kiln build --on-error shell opens that
# shell at once; kiln prune collects the kept state like a cache record.
source "$(dirname "$0")/lib.sh"
import_busybox

ctx=$WORK/ctx
mkdir -p "$ctx"
echo "debug-secret-Xq7" > "$WORK/secret"
cat > "$ctx/Dockerfile" <<'DOCKERFILE'
FROM busybox:test
WORKDIR /app
ENV MODE=debugging
USER app
RUN --mount=type=cache,target=/home/app/cache,uid=1000 --mount=type=secret,id=tok,mode=0444 \
    echo cached > /home/app/cache/c && echo partial > /app/p 2>/dev/null || echo partial > /tmp/p; \
    echo "step output"; exit 3
DOCKERFILE
err=$(must_fail kiln build --progress plain --secret id=tok,src="$WORK/secret" "$ctx")
assert_contains "$err" "exit code: 3"
assert_contains "$err" "the failed step's file system is kept: kiln debug"

out=$(kiln debug --last -- sh -c 'pwd; id -un; echo $MODE; cat /tmp/p; cat /home/app/cache/c; ls /run/secrets 2>&1; true' 2>&1) \
  || fail "kiln debug failed: $out"
assert_contains "$out" "/app"
assert_contains "$out" "app"
assert_contains "$out" "debugging"
assert_contains "$out" "partial"
assert_contains "$out" "cached"
assert_contains "$out" "not mounted again: secret /run/secrets/tok"
assert_not_contains "$out" "debug-secret-Xq7"
! grep -rqs "debug-secret-Xq7" "$KILN_ROOT" || fail "the secret reached the data root"

# What a debug command changes is thrown away: the kept state stays as the step left it.
kiln debug -- sh -c 'rm /tmp/p' > /dev/null
assert_eq "$(kiln debug -- cat /tmp/p)" "partial"
# The command's exit code is kiln debug's.
kiln debug -- sh -c 'exit 7' && fail "exit code lost"
[ "$(kiln debug -- sh -c 'exit 7'; echo $?)" = 7 ] || fail "kiln debug did not return the command's exit code"
err=$(must_fail kiln debug no-such-build)
assert_contains "$err" "build no-such-build has no failed step kept"

# --on-error shell: a shell in the failed step at once (here reading its commands from stdin).
out=$(printf 'echo in-shell-$MODE\ncat /tmp/p\nexit\n' | kiln build --on-error shell --secret id=tok,src="$WORK/secret" "$ctx" 2>&1) \
  && fail "the build must still fail"
assert_contains "$out" "opening a shell in the failed step"
assert_contains "$out" "in-shell-debugging"
assert_contains "$out" "partial"

# prune collects kept states as it collects cache records.
assert_contains "$(kiln du --json)" '"debug_states": 2'
kiln prune > /dev/null
err=$(must_fail kiln debug -- true)
assert_contains "$err" "no failed step is kept"
assert_store_consistent "$KILN_ROOT"
echo PASS
