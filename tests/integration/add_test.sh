#!/usr/bin/env bash
# ADD from a server and a git repository on 127.0.0.1: --keep-git-dir, a commit pinned by checksum, the cache
# (kept while what was fetched is the same, missed when it changed), and the errors a user meets.
source "$(dirname "$0")/lib.sh"
command -v git >/dev/null || skip "git is not installed (scripts/install-deps installs it)"
import_busybox

ctx=$WORK/ctx
mkdir -p "$ctx/served/lib.repo"
echo "one" > "$ctx/served/version.txt"
echo "library" > "$ctx/served/lib.repo/README"
cat > "$ctx/Dockerfile" <<'EOF2'
FROM busybox:test
ADD ${SERVER}/version.txt /fetched/
ADD --keep-git-dir ${SERVER}/lib.git#main /repo
RUN test -d /repo/.git && cat /repo/.git/HEAD > /repo-head
EOF2
sed -i '1a ARG SERVER\n# parity-serve: served' "$ctx/Dockerfile"
parity_serve "$ctx"
commit=$(git -C "$ctx/served/lib.git" rev-parse main)

out=$(kiln build --progress plain --build-arg SERVER="$PARITY_SERVER" -t add:1 "$ctx" 2>&1) || fail "build failed:"$'\n'"$out"
assert_eq "$(kiln run --rm add:1 cat /fetched/version.txt)" "one" "the download"
assert_eq "$(kiln run --rm add:1 stat -c %a /fetched/version.txt)" "600" "a download's mode"
assert_eq "$(kiln run --rm add:1 cat /repo/README)" "library" "the checkout"
kiln run --rm add:1 cat /repo-head | grep -q . || fail "--keep-git-dir kept no .git"

# Nothing changed on the server: every step is cached. A changed file is downloaded and its ADD runs again.
out=$(kiln build --progress plain --build-arg SERVER="$PARITY_SERVER" -t add:1 "$ctx" 2>&1)
# Step numbers follow the order steps are shown in, which the fetches may change: find the ADD's.
step=$(grep -m1 -F "] ADD ${PARITY_SERVER}/version.txt /fetched/" <<<"$out" | cut -d' ' -f1)
[ -n "$step" ] || fail "no ADD step in:"$'\n'"$out"
grep -q "^$step CACHED" <<<"$out" || fail "an unchanged download was added again:"$'\n'"$out"
echo "two" > "$ctx/served/version.txt"
# HTTP dates have whole seconds: a change within the second of the first download would look unmodified.
touch -d "@$(( $(date +%s) + 10 ))" "$ctx/served/version.txt"
kiln build -q --build-arg SERVER="$PARITY_SERVER" -t add:2 "$ctx" >/dev/null
assert_eq "$(kiln run --rm add:2 cat /fetched/version.txt)" "two" "the changed download"
# The next fetch asks whether the file changed since (If-Modified-Since): a server that says no (here, because
# the time did not change) is believed, and the kept copy used.
touch -r "$ctx/served/lib.repo/README" "$ctx/served/version.txt"
kiln build -q --build-arg SERVER="$PARITY_SERVER" -t add:3 "$ctx" >/dev/null
echo "three" > "$ctx/served/version.txt"
touch -r "$ctx/served/lib.repo/README" "$ctx/served/version.txt"
kiln build -q --build-arg SERVER="$PARITY_SERVER" -t add:4 "$ctx" >/dev/null
assert_eq "$(kiln run --rm add:4 cat /fetched/version.txt)" "two" "a download the server says is not modified"

# Submodules are checked out too, unless the URL says submodules=false.
work=$WORK/withsub
git init -q -b main "$work"
(cd "$work" && echo top > top.txt && git -c protocol.file.allow=always submodule add -q "$PARITY_SERVER/lib.git" lib &&
  git add -A && git -c user.name=t -c user.email=t@localhost commit -qm "with a submodule")
git clone -q --bare "$work" "$ctx/served/withsub.git"
git -C "$ctx/served/withsub.git" update-server-info
printf 'FROM busybox:test\nADD %s/withsub.git#main /with\nADD %s/withsub.git?submodules=false /without\n' \
  "$PARITY_SERVER" "$PARITY_SERVER" > "$ctx/Dockerfile.sub"
kiln build -q -f "$ctx/Dockerfile.sub" -t add:sub "$ctx" >/dev/null || fail "ADD of a repository with a submodule failed"
assert_eq "$(kiln run --rm add:sub cat /with/lib/README)" "library" "the submodule's file"
assert_eq "$(kiln run --rm add:sub ls -A /without/lib)" "" "submodules=false"

# A commit pinned by --checksum (a prefix is enough); another commit is refused.
printf 'FROM busybox:test\nADD --checksum=%s %s/lib.git#main /repo\n' "${commit:0:12}" "$PARITY_SERVER" > "$ctx/Dockerfile.pinned"
kiln build -q -f "$ctx/Dockerfile.pinned" -t add:pinned "$ctx" >/dev/null || fail "the pinned commit was refused"
printf 'FROM busybox:test\nADD --checksum=0123456789ab %s/lib.git#main /repo\n' "$PARITY_SERVER" > "$ctx/Dockerfile.wrong"
err=$(must_fail kiln build -q -f "$ctx/Dockerfile.wrong" "$ctx")
assert_contains "$err" "expected checksum to match 0123456789ab: ref main is commit $commit"

# A download whose content is not the one --checksum names, and one the server does not have.
printf 'FROM busybox:test\nADD --checksum=sha256:%064d %s/version.txt /v\n' 0 "$PARITY_SERVER" > "$ctx/Dockerfile.sum"
err=$(must_fail kiln build -q -f "$ctx/Dockerfile.sum" "$ctx")
assert_contains "$err" "checksum mismatch: expected sha256:0000"
printf 'FROM busybox:test\nADD %s/missing.txt /m\n' "$PARITY_SERVER" > "$ctx/Dockerfile.404"
err=$(must_fail kiln build -q -f "$ctx/Dockerfile.404" "$ctx")
assert_contains "$err" "missing.txt: the server answered HTTP 404"
# A download pinned by --checksum and kept is not fetched again: this one builds with the server stopped.
sum=$(printf 'two\n' | sha256sum | cut -d' ' -f1)
printf 'FROM busybox:test\nADD --checksum=sha256:%s %s/version.txt /v\n' "$sum" "$PARITY_SERVER" > "$ctx/Dockerfile.pinned-url"
kiln build -q -f "$ctx/Dockerfile.pinned-url" -t add:pinned-url "$ctx" >/dev/null || fail "a pinned download failed"
parity_stop_serving
kiln build -q --no-cache -f "$ctx/Dockerfile.pinned-url" -t add:offline "$ctx" >/dev/null \
  || fail "a kept pinned download was fetched again"
assert_eq "$(kiln run --rm add:offline cat /v)" "two" "the kept pinned download"

# Errors found before anything runs, with the line.
printf 'FROM busybox:test\nCOPY http://127.0.0.1:1/x /x\n' > "$ctx/Dockerfile.copyurl"
err=$(must_fail kiln build -q -f "$ctx/Dockerfile.copyurl" "$ctx")
assert_contains "$err" "Dockerfile.copyurl:2:6: source can't be a URL for COPY"
printf 'FROM busybox:test\nADD --checksum=sha256:%064d version.txt /v\n' 0 > "$ctx/Dockerfile.localsum"
err=$(must_fail kiln build -q -f "$ctx/Dockerfile.localsum" "$ctx")
assert_contains "$err" "checksum requires HTTP(S) or Git sources"
printf 'FROM busybox:test\nADD --unpakc=false version.txt /v\n' > "$ctx/Dockerfile.typo"
err=$(must_fail kiln build -q -f "$ctx/Dockerfile.typo" "$ctx")
assert_contains "$err" "unknown flag: --unpakc (did you mean unpack?)"
echo "PASS"
