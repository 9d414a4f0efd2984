#!/usr/bin/env bash
# kiln explain names what made each step miss the cache, against the step's previous record: a context file, a
# build argument, an environment variable, the base image, the instruction text, or an earlier step. The same
# facts are in rawjson progress; an unchanged context is not read again (the stat cache).
source "$(dirname "$0")/lib.sh"
import_busybox

ctx=$WORK/ctx
mkdir -p "$ctx/src"
echo a > "$ctx/src/a.txt"
echo b > "$ctx/src/b.txt"
cat > "$ctx/Dockerfile" <<'DOCKERFILE'
FROM busybox:test
ARG V=1
ENV E=x
COPY src/ /src/
RUN cat /src/*.txt > /all && echo "$V $E"
DOCKERFILE
build() { kiln build -q "$@" "$ctx" > /dev/null || fail "build $* failed"; }
step_of() { kiln explain --last | grep -A8 "$1"; }  # a step's line and its "changed:" lines

build
echo changed > "$ctx/src/b.txt"
out=$(kiln build --progress rawjson "$ctx" 2>&1) || fail "build failed: $out"
assert_contains "$out" '"changes":["file src/b.txt"]' "rawjson names the changed file"
explained=$(kiln explain --last)
assert_contains "$explained" "changed: file src/b.txt"
assert_contains "$(step_of 'RUN cat')" "changed: input step #"

build --build-arg V=2
assert_contains "$(step_of 'RUN cat')" "changed: build-arg V"
assert_not_contains "$(kiln explain --last)" "COPY src/ /src/  (" "the COPY does not read V: it hits"

sed -i 's/ENV E=x/ENV E=y/' "$ctx/Dockerfile"
build --build-arg V=2
assert_contains "$(step_of 'RUN cat')" "changed: env E"

sed -i 's/echo "$V $E"/echo "$V $E" done/' "$ctx/Dockerfile"
build --build-arg V=2
assert_contains "$(step_of 'RUN cat')" "changed: instruction text"

# A new base image: the first step on it says so, with the new digest.
mkdir -p "$WORK/base/etc"
tar -C "$WORK/base" -xf "$(busybox_rootfs)"
echo extra > "$WORK/base/etc/extra"
tar -C "$WORK/base" -cf "$WORK/base2.tar" .
digest=$(kiln import "$WORK/base2.tar" busybox:test)
build --build-arg V=2
assert_contains "$(step_of 'COPY src/')" "changed: base image $digest"

# Many files: the first few are named, the rest counted.
for i in $(seq 1 12); do echo "$i" > "$ctx/src/gen$i.txt"; done
build --build-arg V=2
assert_contains "$(step_of 'COPY src/')" "more files"

# A --no-cache build records no fingerprint of its own: the next miss is still compared with a real one.
build --build-arg V=2 --no-cache
echo again > "$ctx/src/a.txt"
build --build-arg V=2
assert_contains "$(step_of 'COPY src/')" "changed: file src/a.txt"
assert_not_contains "$(step_of 'COPY src/')" "instruction text"

# The stat cache: digests of context files that did not change in the last 2 s are kept with their stat, so the
# next build of an unchanged context reads none of them (the unit tests prove the no-read part).
sleep 2.1
echo new > "$ctx/src/late.txt"
build --build-arg V=2
kept=$(python3 -c 'import sqlite3,sys; print("\n".join(r[0] for r in sqlite3.connect(sys.argv[1]).execute("SELECT path FROM file_digests")))' "$KILN_ROOT/metadata.db")
assert_contains "$kept" "$ctx/src/a.txt"
assert_contains "$kept" "$ctx/src/gen12.txt"
assert_not_contains "$kept" "$ctx/src/late.txt" "a file changed a moment ago is not kept"
echo PASS
