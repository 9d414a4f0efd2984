#!/usr/bin/env bash
# Builds real multi-stage images with COPY and RUN, checks them with kiln run, and checks the cache.
source "$(dirname "$0")/lib.sh"
import_busybox

ctx=$WORK/ctx
mkdir -p "$ctx/src" "$ctx/ignored-dir"
echo "world" > "$ctx/src/name.txt"
echo "v1" > "$ctx/src/version.txt"
echo "secret" > "$ctx/ignored-dir/secret.txt"
echo "notes" > "$ctx/notes.md"
printf 'ignored-dir\n*.md\n' > "$ctx/.dockerignore"
cat > "$ctx/Dockerfile" <<'DOCKERFILE'
# syntax=docker/dockerfile:1
ARG BASE=busybox:test
FROM ${BASE} AS build
ARG GREETING=hello
WORKDIR /src
COPY src/name.txt ./
RUN echo "$GREETING $(cat name.txt)" > greeting.txt && echo "RAN-$((1+1))"
COPY src/version.txt ./
RUN cat greeting.txt version.txt > result.txt

FROM ${BASE} AS unused
RUN exit 1

FROM ${BASE}
ENV APP_HOME=/app
WORKDIR $APP_HOME
COPY --from=build /src/result.txt ./
COPY . /ctx/
RUN ["/bin/sh", "-c", "id -u > /app/uid; hostname > /app/hostname; cat /etc/hosts > /app/hosts"]
USER app
RUN id -u > /tmp/uid-as-app && id -G > /tmp/groups-as-app
LABEL org.example.kind=test
EXPOSE 8080
CMD ["cat", "/app/result.txt"]
DOCKERFILE

out=$(kiln build --progress plain -t app:1 "$ctx" 2>&1) || fail "first build failed:"$'\n'"$out"
assert_contains "$out" "RAN-2"
assert_eq "$(kiln run app:1)" $'hello world\nv1' "kiln run output"
assert_eq "$(kiln run app:1 cat /app/uid)" "0" "RUN runs as root by default"
assert_eq "$(kiln run app:1 cat /tmp/uid-as-app)" "1000" "USER applies to later RUN steps"
assert_eq "$(kiln run app:1 cat /tmp/groups-as-app)" "1000 50" "supplementary groups"
assert_eq "$(kiln run app:1 cat /app/hostname)" "buildkitsandbox" "RUN hostname"
assert_contains "$(kiln run app:1 cat /app/hosts)" "localhost"
assert_eq "$(kiln run app:1 pwd)" "/app" "WORKDIR"
assert_eq "$(kiln run app:1 id -u)" "1000" "image USER"
assert_eq "$(kiln run app:1 sh -c 'echo $APP_HOME')" "/app" "ENV"
# .dockerignore: ignored files never reach the image
assert_eq "$(kiln run app:1 ls /ctx | tr '\n' ' ')" "Dockerfile src " ".dockerignore honoured"
# /etc/hosts and /etc/resolv.conf are the runtime's, never part of a layer
kiln run app:1 sh -c 'test ! -s /etc/hosts -o -n "$(grep -v localhost /etc/hosts)" || true'
cfg=$(kiln inspect app:1)
assert_contains "$cfg" '"org.example.kind": "test"'
assert_contains "$cfg" '"8080/tcp"'
assert_contains "$cfg" '"User": "app"'

# An unchanged rebuild hits the cache for every step and runs nothing.
out=$(kiln build --progress plain -t app:1 "$ctx" 2>&1) || fail "rebuild failed"
assert_not_contains "$out" "RAN-2" "a cached RUN must not execute"
runs=$(grep -c "RUN" <<<"$out")
cached=$(grep -c "CACHED" <<<"$out")
[ "$cached" -ge 8 ] || fail "expected every step CACHED, got $cached:"$'\n'"$out"
assert_not_contains "$out" " DONE " "no step may run on an unchanged rebuild"

# Changing an ignored file changes nothing.
echo "more notes" >> "$ctx/notes.md"
out=$(kiln build --progress plain -t app:1 "$ctx" 2>&1)
assert_not_contains "$out" " DONE " "an ignored file must not invalidate the cache"

# Changing one copied file re-runs only what depends on it.
echo "v2" > "$ctx/src/version.txt"
out=$(kiln build --progress plain -t app:1 "$ctx" 2>&1) || fail "rebuild after change failed"
assert_not_contains "$out" "RAN-2" "the RUN before the changed COPY stays cached"
grep -q "COPY src/name.txt" <<<"$out" && grep -A1 "COPY src/name.txt" <<<"$out" | grep -q CACHED || fail "name.txt COPY should be cached"
grep -A1 "COPY src/version.txt" <<<"$out" | grep -q CACHED && fail "version.txt COPY must re-run"
assert_eq "$(kiln run app:1)" $'hello world\nv2' "rebuilt image content"

# --build-arg changes the RUNs that see it; --no-cache runs everything.
out=$(kiln build --progress plain --build-arg GREETING=hi -t app:2 "$ctx" 2>&1) || fail "build-arg build failed"
assert_contains "$out" "RAN-2"
assert_eq "$(kiln run app:2)" $'hi world\nv2' "build arg"
out=$(kiln build --progress plain --no-cache -t app:1 "$ctx" 2>&1) || fail "--no-cache build failed"
assert_contains "$out" "RAN-2"
[ "$(grep -c CACHED <<<"$out")" -le 1 ] || fail "--no-cache: only the base image may be reused:"$'\n'"$out"

# --target stops at a stage; the unused stage (RUN exit 1) is never built.
kiln build --progress plain --target build -t app:build "$ctx" >/dev/null 2>&1 || fail "--target build failed"
assert_eq "$(kiln run app:build cat /src/result.txt)" $'hello world\nv2' "--target"

# Deleted files stay deleted in the next layer (whiteouts), and --network none isolates RUN.
cat > "$ctx/Dockerfile.rm" <<'DOCKERFILE'
FROM busybox:test
RUN rm /etc/group && mkdir -p /data && echo x > /data/file
RUN rm -r /data && mkdir /data && echo y > /data/new
RUN --network=none cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' ' > /netdevs
DOCKERFILE
kiln build --progress plain -f "$ctx/Dockerfile.rm" -t rm:1 "$ctx" >/dev/null 2>&1 || fail "whiteout build failed"
kiln run rm:1 test ! -e /etc/group || fail "/etc/group should be deleted"
assert_eq "$(kiln run rm:1 ls /data)" "new" "opaque directory"
assert_eq "$(kiln run rm:1 cat /netdevs)" "lo" "--network=none has only loopback"

# A failing RUN stops the build with the step, its exit code and its output.
printf 'FROM busybox:test\nRUN echo before\nRUN echo "about to fail" && exit 3\nRUN echo never\n' > "$ctx/Dockerfile.fail"
err=$(must_fail kiln build --progress plain -f "$ctx/Dockerfile.fail" "$ctx")
assert_contains "$err" "exit code: 3"
assert_contains "$err" "about to fail"
assert_contains "$err" "Dockerfile.fail:3"
assert_not_contains "$err" "never"

# A step that changes nothing still adds a layer, an empty one, as BuildKit's do.
mkdir -p "$WORK/noop"
printf 'FROM busybox:test\nRUN true\n' > "$WORK/noop/Dockerfile"
kiln build -q -t noop:1 "$WORK/noop" >/dev/null || fail "RUN true failed"
diff_ids=$(kiln inspect noop:1 | grep -o 'sha256:[0-9a-f]*' | sort -u)
assert_contains "$diff_ids" "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef" "the empty layer"

# A rebuild that changes nothing makes the same image, as BuildKit's does: each step is dated by when it ran (the
# image by its last step), not by the build; ENV, which adds no layer, takes the date of the layer before it.
printf 'FROM busybox:test\nRUN echo one > /one\nENV K=v\n' > "$WORK/noop/Dockerfile.same"
kiln build -q -f "$WORK/noop/Dockerfile.same" -t same:1 "$WORK/noop" >/dev/null
first=$(kiln inspect same:1)
sleep 1.1
kiln build -q -f "$WORK/noop/Dockerfile.same" -t same:1 "$WORK/noop" >/dev/null
assert_eq "$(kiln inspect same:1 | grep -m1 '"digest"')" "$(grep -m1 '"digest"' <<<"$first")" "a warm rebuild changed the image"
# ... and, once it has been recorded, writes nothing at all: not the database or its log (the -shm index is
# memory SQLite maps, rebuilt by each first connection), not a blob, not a new build record.
out=$(kiln build --progress plain -f "$WORK/noop/Dockerfile.same" -t same:1 "$WORK/noop" 2>&1)
before=$(cd "$KILN_ROOT" && stat -c '%n %s %.9Y' metadata.db metadata.db-wal && find blobs -newer metadata.db | wc -l)
out2=$(kiln build --progress plain -f "$WORK/noop/Dockerfile.same" -t same:1 "$WORK/noop" 2>&1)
assert_eq "$(cd "$KILN_ROOT" && stat -c '%n %s %.9Y' metadata.db metadata.db-wal && find blobs -newer metadata.db | wc -l)" "$before" \
  "a warm rebuild wrote to the store"
assert_eq "$(grep -o 'build id [0-9a-f]*' <<<"$out2")" "$(grep -o 'build id [0-9a-f]*' <<<"$out")" \
  "a warm rebuild that came out the same got a record of its own"
IMAGE=$first python3 - <<'PY' || fail "history dates"
import json, os
config = json.loads(os.environ["IMAGE"])["config"]
run, env = config["history"][-2:]
assert run["created_by"].startswith("RUN") and env["created_by"].startswith("ENV"), config["history"]
assert env["created"] == run["created"] == config["created"], config
PY

# A repeatable option takes one value each time, as docker's: the context may follow -t and come before options.
kiln build -q -t first:1 -t second:1 "$WORK/noop" --no-cache -f "$WORK/noop/Dockerfile.same" >/dev/null \
  || fail "options after the context, or -t taking the context as a second tag"
assert_contains "$(kiln images)" "second:1"

# kiln --help and a warm build start without libcurl or libarchive (loaded when a pull, push or layer needs them),
# and with OpenSSL, SQLite and cpp-httplib linked in rather than loaded (CMakeLists.txt: start-up).
loaded=$(LD_DEBUG=files kiln --help 2>&1 >/dev/null; LD_DEBUG=files kiln build -q -t same:1 -f "$WORK/noop/Dockerfile.same" "$WORK/noop" 2>&1 >/dev/null)
assert_contains "$loaded" "libc.so" "LD_DEBUG=files shows no loading at all"  # so the checks below can fail
for lib in libcurl libarchive libcrypto libssl libsqlite3 libcpp-httplib libz.so libzstd; do
  assert_not_contains "$loaded" "$lib" "$lib loaded at start-up"
done

# ONBUILD triggers of a base image run first in a stage built FROM it (its context, its build arguments), and are
# not passed on; a stage built FROM that stage does not run them again.
mkdir -p "$WORK/onbuild" && echo payload > "$WORK/onbuild/p.txt"
printf 'FROM busybox:test\nONBUILD ARG WHO=child\nONBUILD COPY p.txt /from-context.txt\nONBUILD RUN echo "built by $WHO" > /onbuild.txt\n' > "$WORK/onbuild/Dockerfile.base"
kiln build -q -f "$WORK/onbuild/Dockerfile.base" -t onbuild-base:1 "$WORK/onbuild" >/dev/null
assert_contains "$(kiln inspect onbuild-base:1)" '"RUN echo \"built by $WHO\" > /onbuild.txt"'
printf 'FROM onbuild-base:1 AS s\nRUN cat /onbuild.txt /from-context.txt > /both\nFROM s\nRUN cat /both\n' > "$WORK/onbuild/Dockerfile"
out=$(kiln build --progress plain -t onbuild:1 "$WORK/onbuild" 2>&1) || fail "ONBUILD build: $out"
assert_eq "$(kiln run onbuild:1 cat /both)" $'built by child\npayload'
assert_eq "$(grep -c 'ONBUILD' <<<"$out")" "2" "the triggers ran more than once: $out"
assert_not_contains "$(kiln inspect onbuild:1)" '"OnBuild"' "triggers passed on"
printf 'FROM busybox:test\nONBUILD RUN exit 7\n' > "$WORK/onbuild/Dockerfile.failing"
kiln build -q -f "$WORK/onbuild/Dockerfile.failing" -t onbuild-failing:1 "$WORK/onbuild" >/dev/null
printf 'FROM onbuild-failing:1\n' > "$WORK/onbuild/Dockerfile.child"
err=$(must_fail kiln build -q -f "$WORK/onbuild/Dockerfile.child" "$WORK/onbuild")
assert_contains "$err" "exit code: 7"
assert_contains "$err" "Dockerfile.child:1" "a failing trigger is not placed at the FROM that brought it"
printf 'FROM busybox:test\nONBUILD COPY missing.txt /\n' > "$WORK/onbuild/Dockerfile.badcopy"
kiln build -q -f "$WORK/onbuild/Dockerfile.badcopy" -t onbuild-badcopy:1 "$WORK/onbuild" >/dev/null
printf 'ARG X\nFROM onbuild-badcopy:1\n' > "$WORK/onbuild/Dockerfile.child2"
err=$(must_fail kiln build -q -f "$WORK/onbuild/Dockerfile.child2" "$WORK/onbuild")
assert_contains "$err" "Dockerfile.child2:2"
assert_contains "$err" "missing.txt"

# kiln images lists what was built.
imgs=$(kiln images)
assert_contains "$imgs" "app:1"
assert_contains "$imgs" "busybox:test"
echo "PASS"
