#!/usr/bin/env bash
# Where a build's Dockerfile and context come from: `-f -` (the Dockerfile on stdin), a context of `-` (a tar of
# it, or a lone Dockerfile), and Dockerfile.dockerignore beside a custom Dockerfile.
source "$(dirname "$0")/lib.sh"
import_busybox

ctx=$WORK/ctx
mkdir -p "$ctx/sub"
echo "from the context" > "$ctx/sub/file.txt"
echo "skipped" > "$ctx/skipped.txt"

# -f -: the Dockerfile on stdin, the context a directory.
printf 'FROM busybox:test\nCOPY sub/file.txt /got.txt\n' | kiln build -q -f - -t in:stdin-file "$ctx" >/dev/null \
  || fail "-f - failed"
assert_eq "$(kiln run --rm in:stdin-file cat /got.txt)" "from the context" "-f -"

# A context of -: a tar (here gzipped) with its Dockerfile.
printf 'FROM busybox:test\nCOPY . /ctx/\n' > "$ctx/Dockerfile"
tar -C "$ctx" -czf "$WORK/ctx.tar.gz" .
kiln build -q -t in:tar - < "$WORK/ctx.tar.gz" >/dev/null || fail "a tar context on stdin failed"
assert_eq "$(kiln run --rm in:tar cat /ctx/sub/file.txt)" "from the context" "a tar context"

# A context of - that is not a tar: a Dockerfile with an empty context.
printf 'FROM busybox:test\nRUN echo lone > /lone.txt\n' | kiln build -q -t in:lone - >/dev/null || fail "a lone Dockerfile on stdin failed"
assert_eq "$(kiln run --rm in:lone cat /lone.txt)" "lone" "a lone Dockerfile"
err=$(printf 'FROM busybox:test\nCOPY x /x\n' | must_fail kiln build -q -)
assert_contains "$err" "not found"

# Dockerfile.dockerignore beside a custom Dockerfile wins over the context's .dockerignore.
mkdir -p "$ctx/build"
printf 'FROM busybox:test\nCOPY . /ctx/\n' > "$ctx/build/app.Dockerfile"
printf 'skipped.txt\n' > "$ctx/build/app.Dockerfile.dockerignore"
printf 'sub\n' > "$ctx/.dockerignore"
kiln build -q -f "$ctx/build/app.Dockerfile" -t in:ignore "$ctx" >/dev/null
kiln run --rm in:ignore test -f /ctx/sub/file.txt || fail "the context's .dockerignore was used, not the Dockerfile's"
! kiln run --rm in:ignore test -f /ctx/skipped.txt || fail "Dockerfile.dockerignore was not used"

# Named contexts: a directory (COPY --from, RUN --mount=from, FROM, and in place of a stage of its name), an image
# under another name, and an OCI layout.
mkdir -p "$WORK/extra/etc" "$WORK/rootfs"
echo "extra file" > "$WORK/extra/etc/extra.txt"
cp -a "$(dirname "$(command -v busybox)")/busybox" "$WORK/rootfs/busybox"
cat > "$ctx/Dockerfile.named" <<'EOF2'
FROM busybox:test AS deps
RUN exit 1

FROM rootfs AS from-dir

FROM other-name:1
COPY --from=extra /etc/extra.txt /copied.txt
COPY --from=deps /etc/extra.txt /replaced-stage.txt
COPY --from=from-dir /busybox /from-dir-busybox
RUN --mount=from=extra,target=/mnt cat /mnt/etc/extra.txt > /mounted.txt
EOF2
kiln build -q -f "$ctx/Dockerfile.named" -t in:named --build-context extra="$WORK/extra" \
  --build-context deps="$WORK/extra" --build-context rootfs="$WORK/rootfs" \
  --build-context other-name:1=docker-image://busybox:test "$ctx" >/dev/null || fail "named contexts failed"
for f in /copied.txt /replaced-stage.txt /mounted.txt; do
  assert_eq "$(kiln run --rm in:named cat $f)" "extra file" "named context, $f"
done
kiln run --rm in:named cmp /from-dir-busybox /bin/busybox || fail "FROM a directory context"

kiln build -q -t in:layout -o "type=oci,dest=$WORK/layout,tar=false" "$ctx" >/dev/null
printf 'FROM base\nRUN cat /ctx/skipped.txt > /from-layout.txt\n' > "$ctx/Dockerfile.layout"
kiln build -q -f "$ctx/Dockerfile.layout" -t in:from-layout --build-context base=oci-layout://"$WORK/layout" "$ctx" >/dev/null \
  || fail "an oci-layout:// context failed"
assert_eq "$(kiln run --rm in:from-layout cat /from-layout.txt)" "skipped" "FROM an OCI layout"
err=$(must_fail kiln build -q -f "$ctx/Dockerfile.layout" --build-context base="$WORK/missing" "$ctx")
assert_contains "$err" "--build-context base: \"$WORK/missing\" is not a directory"

err=$(echo x | must_fail kiln build -f - -)
assert_contains "$err" "cannot both read standard input"

# Remote contexts, served on loopback: a git repository at a branch, a commit and a subdirectory; a gzipped
# tarball; a lone Dockerfile. A relative -f names a file of the fetched context.
repo=$WORK/repo
mkdir -p "$repo/app"
git -C "$repo" init -q
git -C "$repo" config user.email t && git -C "$repo" config user.name t
printf 'FROM busybox:test
COPY v.txt /v.txt
' > "$repo/app/Dockerfile"
printf 'FROM busybox:test\nCOPY app/v.txt /v.txt\n' > "$repo/root.Dockerfile"
echo one > "$repo/app/v.txt"
git -C "$repo" add -A && git -C "$repo" commit -qm one
first=$(git -C "$repo" rev-parse HEAD)
echo two > "$repo/app/v.txt"
git -C "$repo" add -A && git -C "$repo" commit -qm two
git -C "$repo" update-server-info
mkdir -p "$WORK/www"
ln -s "$repo/.git" "$WORK/www/repo.git"
tar -C "$ctx" -czf "$WORK/www/ctx.tar.gz" .
printf 'FROM busybox:test
RUN echo from-url > /u.txt
' > "$WORK/www/Dockerfile"
port=$(free_port)
python3 -m http.server --bind 127.0.0.1 --directory "$WORK/www" "$port" >/dev/null 2>&1 &
REGISTRY_PIDS+=($!)
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
url=http://127.0.0.1:$port
kiln build -q -t in:git "$url/repo.git#master:app" >/dev/null || kiln build -q -t in:git "$url/repo.git#main:app" >/dev/null \
  || fail "a git context failed"
assert_eq "$(kiln run --rm in:git cat /v.txt)" "two" "a git context at a branch"
kiln build -q -t in:git-commit "$url/repo.git#$first:app" >/dev/null || fail "a git context at a commit failed"
assert_eq "$(kiln run --rm in:git-commit cat /v.txt)" "one" "a git context at a commit"
kiln build -q -f root.Dockerfile -t in:git-f "$url/repo.git#$first" >/dev/null || fail "-f in a git context failed"
assert_eq "$(kiln run --rm in:git-f cat /v.txt)" "one" "-f in a git context"
kiln build -q -f build/app.Dockerfile -t in:url-tar "$url/ctx.tar.gz" >/dev/null || fail "a tarball URL context failed"
kiln run --rm in:url-tar test -f /ctx/sub/file.txt || fail "the tarball's files"
kiln build -q -t in:url-df "$url/Dockerfile" >/dev/null || fail "a Dockerfile URL context failed"
assert_eq "$(kiln run --rm in:url-df cat /u.txt)" "from-url" "a Dockerfile URL"
err=$(must_fail kiln build "$url/missing.tar")
assert_contains "$err" "build context $url/missing.tar: $url/missing.tar: the server answered HTTP 404"
err=$(must_fail kiln build "$url/repo.git#no-such-branch")
assert_contains "$err" "build context $url/repo.git#no-such-branch"

# The flags CI passes: --label, --add-host, --shm-size, --ulimit (BuildKit's own tests cover label, shm-size and
# ulimit in tests/buildkit), and their errors naming the flag.
printf 'FROM busybox:test
RUN cat /etc/hosts > /hosts.txt
' > "$ctx/Dockerfile.hosts"
kiln build -q -f "$ctx/Dockerfile.hosts" -t in:hosts --add-host db:10.1.2.3 --add-host v6=::1 --label only-key "$ctx" >/dev/null \
  || fail "--add-host failed"
hosts=$(kiln run --rm in:hosts cat /hosts.txt)
assert_contains "$hosts" "10.1.2.3	db"
assert_contains "$hosts" "::1	v6"
assert_contains "$(kiln inspect in:hosts)" '"only-key": ""'
for bad in "--add-host db" "--add-host db:x.y" "--ulimit nofile=2:1" "--ulimit what=1" "--shm-size lots" "--label =v"; do
  err=$(must_fail kiln build -q $bad "$ctx")
  assert_contains "$err" "${bad%% *}"
done
assert_contains "$(kiln --version)" "kiln version v"
echo "PASS"
