#!/usr/bin/env bash
# RUN --mount of type cache, bind, tmpfs and ssh with real containers: each is there while the step runs, with
# BuildKit's options and defaults; none leaves a trace in the image; only a bind's source content is part of the
# step's cache key; cache directories persist between builds, show in kiln du and go with kiln prune.
source "$(dirname "$0")/lib.sh"
import_busybox
command -v ssh-agent >/dev/null || skip "openssh-client is not installed (scripts/install-deps installs it)"

ctx=$WORK/ctx
mkdir -p "$ctx/src" "$ctx/sshbin"
echo "alpha" > "$ctx/src/a.txt"
echo "ignored" > "$ctx/src/secret.key"
echo "other" > "$ctx/other.txt"
printf 'src/*.key\n' > "$ctx/.dockerignore"
# ssh-add and the libraries it needs, to talk to the forwarded agent from inside busybox.
mkdir -p "$ctx/sshbin/usr/bin" && cp /usr/bin/ssh-add "$ctx/sshbin/usr/bin/"
for lib in $(ldd /usr/bin/ssh-add | grep -o '/[^ ]*'); do
  mkdir -p "$ctx/sshbin$(dirname "$lib")"
  cp -L "$lib" "$ctx/sshbin$lib"
done

cat > "$ctx/Dockerfile" <<'DOCKERFILE'
FROM busybox:test AS tools
RUN mkdir -p /opt/tool && echo "tool v1" > /opt/tool/version
FROM busybox:test
COPY sshbin/ /
RUN --mount=type=cache,target=/var/cache/app,id=appcache \
    n=$(cat /var/cache/app/count 2>/dev/null || echo 0); echo $((n+1)) > /var/cache/app/count; echo "count=$((n+1))"
RUN --mount=type=cache,target=/home/app/.cache,uid=1000,gid=1000,mode=0700 stat -c '%u %g %a' /home/app/.cache > /cache-owner
RUN --mount=type=bind,from=tools,source=/opt/tool,target=/mnt/tool cat /mnt/tool/version > /tool-version
RUN --mount=type=bind,source=src,target=/src cat /src/a.txt > /a-copy && ls /src > /src-list && ! touch /src/new 2>/dev/null
RUN --mount=type=bind,target=/ctx,rw touch /ctx/scratch && test -f /ctx/other.txt && echo rw-ok
RUN --mount=type=tmpfs,target=/scratch,size=1m \
    echo hi > /scratch/f && grep -q " /scratch tmpfs" /proc/mounts && ! dd if=/dev/zero of=/scratch/big bs=64k count=32 2>/dev/null && echo tmpfs-ok
RUN --mount=type=ssh,mode=0666,uid=1000 stat -c '%a %u' "$SSH_AUTH_SOCK" > /ssh-sock && ssh-add -l > /ssh-keys
DOCKERFILE

ssh-keygen -q -t ed25519 -N '' -C kiln-test-key -f "$WORK/id_test"
give_to_test_user "$WORK/id_test" "$WORK/id_test.pub"
build() { kiln build --progress plain --ssh default="$WORK/id_test" "$@" "$ctx" 2>&1; }

out=$(build -t mounts:1) || fail "build with mounts failed:"$'\n'"$out"
assert_contains "$out" "count=1"
assert_contains "$out" "rw-ok"
assert_contains "$out" "tmpfs-ok"
run() { kiln run --rm mounts:1 "$@"; }
assert_eq "$(run cat /tool-version)" "tool v1" "bind from a stage"
assert_eq "$(run cat /a-copy)" "alpha" "bind from the context"
assert_eq "$(run cat /src-list)" "a.txt" "a bind of the context leaves out what .dockerignore excludes"
assert_eq "$(run cat /cache-owner)" "1000 1000 700" "a new cache directory's owner and mode"
assert_eq "$(run cat /ssh-sock)" "666 1000" "the ssh socket's mode and owner"
assert_contains "$(run cat /ssh-keys)" "kiln-test-key"

# Nothing of the mounts is in the image: not their contents, not their mount points, not the ctx's scratch file.
listing=$(run sh -c 'ls -d /var /mnt /src /ctx /scratch /run/buildkit /home/app/.cache 2>&1; true')
for p in /var /mnt /src /ctx /scratch /run/buildkit /home/app/.cache; do
  assert_contains "$listing" "$p: No such file or directory" "mount point $p left in the image"
done
[ ! -e "$ctx/scratch" ] || fail "a rw bind of the context wrote into the context"

# The cache survives: a rebuild of the step (here after a change before it) counts on. Under --no-cache the step
# starts from an empty cache directory, as in BuildKit (its testCacheMountModeNoCache). Its id is not part of the
# key; a bind's source content is.
echo marker > "$ctx/sshbin/marker"
out=$(build -t mounts:2) || fail "rebuild failed:"$'\n'"$out"
assert_contains "$out" "count=2"
out=$(build --no-cache -t mounts:2) || fail "rebuild under --no-cache failed:"$'\n'"$out"
assert_contains "$out" "count=1"
sed -i 's/id=appcache/id=renamed/' "$ctx/Dockerfile"
out=$(build -t mounts:3) || fail "build after renaming the cache failed:"$'\n'"$out"
! grep -qE '^#[0-9]+ [0-9.]+ count=' <<<"$out" || fail "a new cache id must not make the step miss:"$'\n'"$out"
echo "changed" > "$ctx/other.txt"
echo "not bound" > "$ctx/src/secret.key"
out=$(build -t mounts:3) || fail "build after changing unbound files failed:"$'\n'"$out"
bind_step=$(grep -o '^#[0-9]* \[stage-1 [0-9]/[0-9]*\] RUN --mount=type=bind,source=src' <<<"$out" | cut -d' ' -f1)
grep -q "^$bind_step CACHED" <<<"$out" || fail "the context bind step missed though only files outside it or excluded changed:"$'\n'"$out"
grep -qE '^#[0-9]+ [0-9.]+ rw-ok' <<<"$out" || fail "the step binding the whole context should run again after other.txt changed"
echo "beta" > "$ctx/src/a.txt"
out=$(build -t mounts:4) || fail "build after changing a bound file failed:"$'\n'"$out"
bind_step=$(grep -o '^#[0-9]* \[stage-1 [0-9]/[0-9]*\] RUN --mount=type=bind,source=src' <<<"$out" | cut -d' ' -f1)
grep -q "^$bind_step DONE" <<<"$out" || fail "the bind step hit the cache though its source changed:"$'\n'"$out"
assert_eq "$(kiln run --rm mounts:4 cat /a-copy)" "beta"

# An ssh mount that is required fails without an agent, naming it; an optional one is left out.
printf 'FROM busybox:test\nRUN --mount=type=ssh,id=deploy,required echo never\n' > "$ctx/Dockerfile.ssh"
err=$(must_fail kiln build --progress plain -f "$ctx/Dockerfile.ssh" "$ctx")
assert_contains "$err" 'ssh agent "deploy" is required but was not given'
printf 'FROM busybox:test\nRUN --mount=type=ssh,id=deploy test ! -e /run/buildkit/ssh_agent.0 && echo optional-ok\n' > "$ctx/Dockerfile.ssh"
assert_contains "$(kiln build --progress plain -f "$ctx/Dockerfile.ssh" "$ctx" 2>&1)" "optional-ok"
# --ssh default takes the agent at $SSH_AUTH_SOCK.
eval "$(as_test_user ssh-agent -s -a "$WORK/agent.sock")" > /dev/null
as_test_user ssh-add -q "$WORK/id_test"
printf 'FROM busybox:test\nCOPY sshbin/ /\nRUN --mount=type=ssh ssh-add -l\n' > "$ctx/Dockerfile.ssh"
out=$(kiln build --progress plain --ssh default -f "$ctx/Dockerfile.ssh" "$ctx" 2>&1) || fail "--ssh default failed:"$'\n'"$out"
kill "$SSH_AGENT_PID"
assert_contains "$out" "kiln-test-key"
err=$(must_fail env -u SSH_AUTH_SOCK "$KILN" build --ssh default -f "$ctx/Dockerfile.ssh" "$ctx")
assert_contains "$err" "--ssh default: \$SSH_AUTH_SOCK is not set"

# Bad mounts are errors naming the line.
printf 'FROM busybox:test\nRUN --mount=type=cache,target=/c,sharing=sometimes true\n' > "$ctx/Dockerfile.bad"
err=$(must_fail kiln build -f "$ctx/Dockerfile.bad" "$ctx")
assert_contains "$err" "Dockerfile.bad:2"
assert_contains "$err" 'unsupported sharing value "sometimes"'

# Cache directories are listed and sized by du, and removed by prune.
du=$(kiln du)
assert_contains "$du" "Cache mounts:"
[ "$(kiln du --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["cache_mounts"])')" -eq 2 ] \
  || fail "du should count the cache mounts: $(kiln du --json)"
assert_contains "$(kiln du --verbose)" "cache mount id=appcache"
out=$(kiln prune)
assert_contains "$out" " 0 cache mounts"
assert_eq "$(kiln du --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["cache_mounts"])')" 2 "prune without --all keeps cache mounts"
out=$(kiln prune --all)
assert_contains "$out" " 2 cache mounts"
assert_eq "$(kiln du --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["cache_mounts"])')" 0 "prune --all removes cache mounts"
assert_store_consistent "$KILN_ROOT"
echo "PASS"
