#!/usr/bin/env bash
# File names beyond ASCII survive layers: UTF-8 names from the context and from RUN, names that are not UTF-8 at
# all, and paths longer than a ustar header holds.
source "$(dirname "$0")/lib.sh"
import_busybox

ctx=$WORK/ctx
mkdir -p "$ctx/dir with space"
echo u > "$ctx/dir with space/ünïcødé-файл.txt"
long=$(printf 'd%.0s' $(seq 1 120))/$(printf 'f%.0s' $(seq 1 150))
cat > "$ctx/Dockerfile" <<DOCKERFILE
FROM busybox:test
COPY ["dir with space", "/names/"]
RUN mkdir -p /long/$(dirname "$long") && echo deep > /long/$long && touch "/names/raw-\$(printf '\\377')-byte" && echo café > /names/café
DOCKERFILE
out=$(kiln build --progress plain -t names:1 -o type=local,dest="$WORK/rootfs" "$ctx" 2>&1) || fail "build failed:"$'\n'"$out"
assert_eq "$(kiln run --rm names:1 cat '/names/ünïcødé-файл.txt')" "u" "a UTF-8 name from the context"
assert_eq "$(kiln run --rm names:1 cat /names/café)" "café" "a UTF-8 name made by RUN"
assert_eq "$(kiln run --rm names:1 cat "/long/$long")" "deep" "a 270-byte path"
[ -e "$WORK/rootfs/names/raw-"$'\377'"-byte" ] || fail "a name that is not UTF-8 was lost"
kiln run --rm names:1 sh -c "test -e \"/names/raw-\$(printf '\\377')-byte\"" || fail "a name that is not UTF-8 in the image"
echo PASS
