#!/usr/bin/env bash
# Hostile input (issue 7): each case once crashed, hung or misled kiln. Every one must end in a clear error (or a
# correct build), exit non-zero where it fails, and leave the store usable.
source "$(dirname "$0")/lib.sh"
import_busybox
ctx=$WORK/ctx
mkdir -p "$ctx"

# 30,000 nested ${a:-...} overflowed the expander's stack (SIGSEGV).
python3 - "$ctx/Dockerfile" <<'PY'
import sys
open(sys.argv[1], "w").write("FROM busybox:test\nENV X=" + "${a:-" * 30000 + "x" + "}" * 30000 + "\n")
PY
err=$(must_fail kiln build "$ctx")
assert_contains "$err" "Dockerfile:2:5: variable expansion nested deeper than 100"

# A 200,000-character .dockerignore line and a backtracking-bomb pattern: answered at once, build works.
python3 - "$ctx/.dockerignore" <<'PY'
import sys
open(sys.argv[1], "w").write("**/" * 70000 + "nothing\n" + "*a" * 40 + "b\n")
PY
printf 'FROM busybox:test\nCOPY . /ctx/\nRUN test -f /ctx/Dockerfile\n' > "$ctx/Dockerfile"
touch "$ctx/$(printf 'a%.0s' $(seq 60))"
timeout 60 "$KILN" build -q "$ctx" >/dev/null || fail "a huge .dockerignore pattern must not hang or crash the build"
printf '[unclosed\n' > "$ctx/.dockerignore"
err=$(must_fail kiln build "$ctx")
assert_contains "$err" ".dockerignore:1: syntax error in pattern"
rm "$ctx/.dockerignore"

# Terminal control bytes in a Dockerfile are shown escaped, never sent to the terminal.
printf 'FROM busybox:test\n\033]0;PWNED\007\033[2JFOO\n' > "$ctx/Dockerfile"
err=$(must_fail kiln build "$ctx")
assert_contains "$err" 'unknown instruction: \x1b]0;PWNED\x07\x1b[2JFOO'
[[ "$err" != *$'\033'* && "$err" != *$'\007'* ]] || fail "raw control bytes reached the terminal"
printf 'FROM busybox:test\nRUN printf "fail\\033[2J\\n"; exit 3\n' > "$ctx/Dockerfile"
err=$(must_fail kiln build --progress tty "$ctx")
assert_contains "$err" 'fail\x1b[2J'
[[ "$err" != *$'\033[2J'* ]] || fail "a failing step's log tail reached the terminal raw"

# A Dockerfile that is not UTF-8 (Latin-1): the graph's digest threw from nlohmann's dump() and aborted kiln.
# Values are written with U+FFFD as BuildKit (Go) writes them; different bytes are different cache keys.
printf 'FROM busybox:test\nENV A=caf\xe9\nRUN echo caf\xe9 > /x\n' > "$ctx/Dockerfile"
kiln build -q -t latin:1 "$ctx" >/dev/null || fail "a Latin-1 Dockerfile must build"
assert_eq "$(kiln run latin:1 cat /x)" "caf"$'\xef\xbf\xbd'
printf 'FROM busybox:test\nENV A=caf\xe9\nRUN echo caf\xe8 > /x\n' > "$ctx/Dockerfile"
out=$(kiln build --progress plain "$ctx" 2>&1)
grep -q "CACHED" <<<"$(grep -a -A1 'RUN echo' <<<"$out")" && fail "different bytes must not share a cache key"

echo PASS
