#!/usr/bin/env bash
# Rootless kiln (issue 23): a plain user, with the subordinate ranges useradd gives it, builds, runs, pushes and
# pulls in a user namespace kiln makes itself (newuidmap/newgidmap), and gets the same image as root: the same
# files with the same owners and modes. A user without ranges gets id 0 alone, and one clear line when a step
# needs another id. kill -9 mid-RUN loses nothing, as under root.
source "$(dirname "$0")/lib.sh"
root_only "it starts kiln as plain users itself"
rootless_user
USER_RL=$ROOTLESS_USER USER_NOSUB=kiln-nosub
id "$USER_NOSUB" >/dev/null 2>&1 || useradd -m -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$USER_NOSUB"
! grep -q "^$USER_NOSUB:" /etc/subuid || fail "$USER_NOSUB must have no subordinate ids"
rootfs=$(busybox_rootfs)
as() { as_user "$@"; }
home_rl=$(eval echo ~"$USER_RL")
store=$home_rl/kiln-store-$$ store2=$home_rl/kiln-store2-$$ ctx=$home_rl/ctx-$$
cleanup_user() { rm -rf "$store" "$store2" "$ctx" "$(eval echo ~"$USER_NOSUB")/store-$$"; }
trap 'cleanup_user; cleanup' EXIT
as "$USER_RL" "$store" mkdir -p "$ctx"

# --- The same multi-id image as root's. ---
cat > "$WORK/Dockerfile" <<'DOCKERFILE'
FROM busybox:test AS build
RUN mkdir -p /out/app && echo data > /out/app/f && chown -R 1000:1000 /out/app && chmod 750 /out/app \
 && touch /out/nobody && chown 65534:65534 /out/nobody && chmod 4755 /out/nobody
FROM busybox:test
COPY --from=build /out /srv
COPY --chown=1000:1000 note.txt /srv/note.txt
RUN mkdir /home/web && chown 1001:50 /home/web && ln -s /srv/app /srv/link
USER 1000
RUN id -u > /tmp/who && touch /srv/app/by-1000
DOCKERFILE
echo note > "$WORK/note.txt"
cp "$WORK/Dockerfile" "$WORK/note.txt" "$ctx/" && chown -R "$USER_RL" "$ctx"
as "$USER_RL" "$store" "$KILN" import "$rootfs" busybox:test >/dev/null
out=$(as "$USER_RL" "$store" "$KILN" build --progress plain -t multi:1 -o "type=tar,dest=$ctx/rootless.tar" "$ctx" 2>&1) \
  || fail "rootless build failed:"$'\n'"$out"
import_busybox
kiln build -q -t multi:1 -o "type=tar,dest=$WORK/root.tar" "$WORK" >/dev/null
listing() {  # name uid gid mode type size link, of every member (times differ between the builds)
  python3 - "$1" <<'PY'
import sys, tarfile
for m in sorted(tarfile.open(sys.argv[1]).getmembers(), key=lambda m: m.name):
    print(m.name, m.uid, m.gid, oct(m.mode), m.type, m.size if m.isfile() else 0, m.linkname)
PY
}
diff <(listing "$WORK/root.tar") <(listing "$ctx/rootless.tar") || fail "the rootless image differs from root's"
assert_contains "$out" "kiln: rootless ($USER_RL: ids 0-65536 in a user namespace), snapshotter overlayfs (userxattr"
assert_contains "$(as "$USER_RL" "$store" "$KILN" du -v)" "rootless ($USER_RL"
grep -q "srv/app/by-1000 1000 1000" <(listing "$ctx/rootless.tar") || fail "USER 1000's file is 1000's"
grep -q "srv/nobody 65534 65534 0o4755" <(listing "$ctx/rootless.tar") || fail "ids and modes as the Dockerfile set them"
assert_eq "$(as "$USER_RL" "$store" "$KILN" run multi:1 cat /tmp/who)" "1000"
# On the host, the store holds the user's subordinate ids, and nothing setuid root.
[ "$(stat -c %a "$store")" = 700 ] || fail "a rootless store is 0700"
[ -z "$(find "$store" -perm -4000 -uid 0 2>/dev/null)" ] || fail "a setuid-root file on the host"
[ -z "$(find "$store" -uid 1000 2>/dev/null | head -1)" ] || fail "host id 1000 in a rootless store"
sub_start=$(grep "^$USER_RL:" /etc/subuid | cut -d: -f2)
[ -n "$(find "$store" -uid $((sub_start + 999)) 2>/dev/null | head -1)" ] || fail "image id 1000 is subordinate id $((sub_start + 999)) on the host"

# --- Push, then pull into another store of the user's, and run. ---
start_registry
as "$USER_RL" "$store" "$KILN" push multi:1 "$REGISTRY/rootless/multi:1" --progress quiet >/dev/null
as "$USER_RL" "$store2" "$KILN" pull "$REGISTRY/rootless/multi:1" --progress quiet >/dev/null
assert_eq "$(as "$USER_RL" "$store2" "$KILN" run "$REGISTRY/rootless/multi:1" cat /srv/app/f)" "data"

# --- Networks: host shares the user's, none has loopback only. ---
assert_eq "$(as "$USER_RL" "$store" "$KILN" run --network none multi:1 sh -c 'ls /sys/class/net | sort | tr "\n" " "')" "lo "
as "$USER_RL" "$store" "$KILN" run --network host multi:1 sh -c 'test -e /sys/class/net/lo' || fail "host network"

# --- Limits are not dropped silently. ---
err=$(must_fail as "$USER_RL" "$store" "$KILN" run --memory 64m multi:1 true)
assert_contains "$err" "--memory and --pids-limit cannot be enforced for a rootless kiln here"

# --- No subordinate ids: id 0 works, another id is one clear line. ---
nosub_store=$(eval echo ~"$USER_NOSUB")/store-$$
as "$USER_NOSUB" "$nosub_store" "$KILN" import "$rootfs" busybox:test >/dev/null
printf 'FROM busybox:test\nRUN echo zero > /z\n' > "$WORK/Dockerfile.zero"
as "$USER_NOSUB" "$nosub_store" "$KILN" build -q -t zero:1 -f "$WORK/Dockerfile.zero" "$WORK" >/dev/null
assert_eq "$(as "$USER_NOSUB" "$nosub_store" "$KILN" run zero:1 cat /z)" "zero"
printf 'FROM busybox:test\nUSER 1000\nRUN id\n' > "$WORK/Dockerfile.other"
err=$(must_fail as "$USER_NOSUB" "$nosub_store" "$KILN" build -f "$WORK/Dockerfile.other" "$WORK")
assert_contains "$err" "user 1000:1000 needs subordinate ids, and $USER_NOSUB has none: add \"$USER_NOSUB:"
assert_contains "$err" "to /etc/subuid and /etc/subgid"

# --- kill -9 mid-RUN, then the next build: the finished step is kept, nothing is left running or mounted. ---
nap="sleep $((1000 + $$ % 1000))"  # a command line no other test's container has
printf 'FROM busybox:test\nRUN echo first > /first\nRUN %s\n' "$nap" > "$ctx/Dockerfile"
as "$USER_RL" "$store" "$KILN" build --progress plain "$ctx" > "$WORK/kill.log" 2>&1 &
job=$!
for _ in $(seq 100); do grep -q "RUN $nap" "$WORK/kill.log" && break; sleep 0.1; done
for _ in $(seq 100); do pgrep -u "$USER_RL" -fx "$nap" >/dev/null && break; sleep 0.1; done
# The kiln the user started: the older of the two (the other is its child, working in the namespace).
kill -9 "$(pgrep -o -u "$USER_RL" -f "$KILN build --progress plain $ctx")"
wait "$job" 2>/dev/null || true
sed -i "s/$nap/echo after/" "$ctx/Dockerfile"
out=$(as "$USER_RL" "$store" "$KILN" build --progress plain -t after:1 "$ctx" 2>&1) || fail "build after kill -9:"$'\n'"$out"
grep -A1 "echo first" <<<"$out" | grep -q CACHED || fail "the step finished before kill -9 was lost"
for _ in $(seq 50); do pgrep -fx "$nap" >/dev/null || break; sleep 0.1; done
if pgrep -fx "$nap" >/dev/null; then
  ps -ef --forest | grep -B3 -A1 "$nap" | head -20
  fail "the killed build's container is still running"
fi
assert_eq "$(as "$USER_RL" "$store" "$KILN" run after:1 cat /first)" "first"
echo PASS
