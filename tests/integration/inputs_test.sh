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
echo "PASS"
