#!/usr/bin/env bash
# What a RUN step may do, as BuildKit's runc allows it: Docker's default capabilities, no new privileges, Docker's
# default seccomp profile, masked and read-only /proc paths; RUN --security=insecure only with --allow
# security.insecure; --memory and --pids-limit set cgroup limits on build steps and kiln run, and a step that
# reaches one fails saying so, the host unaffected.
source "$(dirname "$0")/lib.sh"
import_busybox

ctx=$WORK/ctx
mkdir -p "$ctx"
cat > "$ctx/Dockerfile" <<'DOCKERFILE'
FROM busybox:test
RUN grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status | tr -s '\t ' ' ' > /status \
 && { test -s /proc/kcore && echo kcore-visible || echo kcore-masked; } >> /status \
 && { echo 1 > /proc/sys/kernel/hostname 2>/dev/null && echo proc-sys-writable || echo proc-sys-readonly; } >> /status \
 && { unshare -m true 2>/dev/null && echo unshare-allowed || echo unshare-refused; } >> /status
DOCKERFILE
kiln build -q -t contained:1 "$ctx" > /dev/null || fail "sandboxed build failed"
status=$(kiln run --rm contained:1 cat /status)
assert_contains "$status" "CapEff: 00000000a80425fb" "Docker's default capability set"
assert_contains "$status" "NoNewPrivs: 1"
assert_contains "$status" "Seccomp: 2" "a seccomp filter is on"
assert_contains "$status" "kcore-masked"
assert_contains "$status" "proc-sys-readonly"
assert_contains "$status" "unshare-refused" "the seccomp profile refuses unshare without CAP_SYS_ADMIN"

sed -i 's/^RUN /RUN --security=insecure /' "$ctx/Dockerfile"
err=$(must_fail kiln build "$ctx")
assert_contains "$err" "entitlement security.insecure is not allowed: RUN --security=insecure needs kiln build --allow security.insecure"
err=$(must_fail kiln build --allow security.everything "$ctx")
assert_contains "$err" 'unknown entitlement "security.everything"'
kiln build -q --allow security.insecure -t insecure:1 "$ctx" > /dev/null || fail "insecure build failed"
status=$(kiln run --rm insecure:1 cat /status)
assert_contains "$status" "NoNewPrivs: 0"
assert_contains "$status" "Seccomp: 0"
assert_contains "$status" "unshare-allowed"
assert_not_contains "$status" "CapEff: 00000000a80425fb" "insecure has every capability"

# A rootless kiln cannot enforce limits here (no delegated cgroup): asking for one fails, it is never dropped.
if [ -n "${KILN_TEST_ROOTLESS:-}" ]; then
  printf 'FROM busybox:test\nRUN true\n' > "$ctx/Dockerfile.limited"
  for limit in "--pids-limit 40" "--memory 32m"; do
    read -ra flag <<<"$limit"
    err=$(must_fail kiln build "${flag[@]}" -f "$ctx/Dockerfile.limited" "$ctx")
    assert_contains "$err" "cannot be enforced for a rootless kiln here"
  done
  echo PASS
  exit 0
fi

# A step that forks without end stops at its process limit, and says so.
cat > "$ctx/Dockerfile.forks" <<'DOCKERFILE'
FROM busybox:test
RUN i=0; while [ $i -lt 500 ]; do sleep 30 & i=$((i+1)); done; wait
DOCKERFILE
err=$(must_fail kiln build --pids-limit 40 -f "$ctx/Dockerfile.forks" "$ctx")
assert_contains "$err" "the step reached its limit of 40 processes (--pids-limit)"
pgrep -fx "sleep 30" > /dev/null && fail "processes of the stopped step are left running"

# Memory: a step using more than its limit is killed, and the error says why.
cat > "$ctx/Dockerfile.memory" <<'DOCKERFILE'
FROM busybox:test
RUN x=$(head -c 100000000 /dev/zero | tr '\0' a); echo ${#x}
DOCKERFILE
err=$(must_fail kiln build --memory 32m -f "$ctx/Dockerfile.memory" "$ctx")
assert_contains "$err" "more than its 33554432 bytes of memory (--memory)"
err=$(must_fail kiln build --memory 1k "$ctx")
assert_contains "$err" "--memory: bad size"

# kiln run takes the same limits.
if kiln run --rm --pids-limit 20 busybox:test sh -c 'i=0; while [ $i -lt 100 ]; do sleep 30 & i=$((i+1)); done; wait' 2> "$WORK/run.err"; then
  fail "kiln run ignored --pids-limit"
fi
assert_contains "$(cat "$WORK/run.err")" "limit of 20 processes"
echo PASS
