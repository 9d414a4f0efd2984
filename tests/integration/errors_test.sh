#!/usr/bin/env bash
# Bad input gets a clear one-line error naming the file and line (or the flag), and a non-zero exit.
source "$(dirname "$0")/lib.sh"
import_busybox
ctx=$WORK/ctx
mkdir -p "$ctx"
echo x > "$ctx/present.txt"

err=$(must_fail kiln build "$ctx")
assert_contains "$err" "Dockerfile"
assert_contains "$err" "$ctx/Dockerfile"

printf 'FROM busybox:test\nRUN true\nFROBNICATE now\n' > "$ctx/Dockerfile"
err=$(must_fail kiln build "$ctx")
assert_contains "$err" "Dockerfile:3:1: dockerfile parse error on line 3: unknown instruction: FROBNICATE"

printf 'FROM busybox:test\n\nCOPY missing.txt /x\n' > "$ctx/Dockerfile"
err=$(must_fail kiln build --progress plain "$ctx")
assert_contains "$err" "Dockerfile:3"
assert_contains "$err" "missing.txt"
assert_contains "$err" "not found"

printf 'FROM busybox:test AS a\nRUN true\n' > "$ctx/Dockerfile"
err=$(must_fail kiln build --target nosuchstage "$ctx")
assert_contains "$err" "target stage \"nosuchstage\" could not be found"

printf 'FROM busybox:test\nCOPY --from=nosuchstage /a /b\n' > "$ctx/Dockerfile"
err=$(must_fail kiln build "$ctx")
assert_contains "$err" "Dockerfile:2"
assert_contains "$err" "nosuchstage"

printf 'FROM no-such-image:1\n' > "$ctx/Dockerfile"
err=$(must_fail kiln build "$ctx")
assert_contains "$err" "Dockerfile:1"
assert_contains "$err" "no-such-image:1"

printf 'FROM busybox:test\nRUN echo "\${UNCLOSED" is literal\n' > "$ctx/Dockerfile"
kiln build --progress plain "$ctx" >/dev/null 2>&1 || fail "RUN text is the shell's: kiln must not expand it"
printf 'FROM busybox:test\nENV A=${UNCLOSED\n' > "$ctx/Dockerfile"
err=$(must_fail kiln build "$ctx")
assert_contains "$err" "Dockerfile:2"

printf 'FROM busybox:test\nRUN true\n' > "$ctx/Dockerfile"
err=$(must_fail kiln build --output type=bogus,dest=x "$ctx")
assert_contains "$err" "--output"
err=$(must_fail kiln build --progress sparkly "$ctx")
assert_contains "$err" "--progress"
err=$(must_fail kiln build -t 'Bad:Name' "$ctx")
assert_contains "$err" "invalid reference"
err=$(must_fail kiln build "$WORK/no-such-context")
assert_contains "$err" "no-such-context"
err=$(must_fail kiln run no-such:image)
assert_contains "$err" "no-such:image"
err=$(must_fail kiln import "$WORK/missing.tar" x:1)
assert_contains "$err" "missing.tar"

# One line of reason on stderr, nothing on stdout.
printf 'FROM busybox:test\nBOGUS\n' > "$ctx/Dockerfile"
out=$(kiln build "$ctx" 2>/dev/null || true)
assert_eq "$out" "" "nothing on stdout on error"
assert_eq "$(kiln build "$ctx" 2>&1 >/dev/null | grep -c ERROR || true)" "1" "one error line"

# The store is untouched by all of this: a good build still works and is cached as before.
printf 'FROM busybox:test\nCOPY present.txt /\nRUN cat /present.txt\n' > "$ctx/Dockerfile"
kiln build -t ok:1 "$ctx" >/dev/null 2>&1 || fail "good build after errors failed"
assert_eq "$(kiln run ok:1 cat /present.txt)" "x" "good image"
echo "PASS"
