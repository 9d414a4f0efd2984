# Ported from BuildKit v0.24.0 frontend/dockerfile/errors_test.go (see lib.sh). BuildKit attaches the Dockerfile and
# the failing instruction's line ranges to the error (errdefs.Sources); kiln prints them under the error: the
# Dockerfile quoted, each line of the instruction marked with ">>>". Sourced by run.sh.

testErrorsSourceMap() {
  # error_lines NAME LINES DOCKERFILE: the build fails, naming the Dockerfile, and marks exactly LINES.
  error_lines() {
    printf '%s' "$3" > "$CTX/Dockerfile"
    build_error > "$WORK/error.log" || true
    local error
    error=$(grep '^ERROR: ' "$WORK/error.log" | tail -1)
    assert_contains "$error" "ERROR: Dockerfile:" "$1: the error names the Dockerfile"
    local marked
    marked=$(sed -n 's/^ *\([0-9]*\) | >>> .*/\1/p' "$WORK/error.log" | tr '\n' ' ')
    assert_eq "$marked" "$2" "$1: the lines marked"
    # The quoted lines are the Dockerfile's own.
    local n text
    while IFS= read -r n; do
      text=$(sed -n "s/^ *$n | \(>>> \|    \)//p" "$WORK/error.log")
      assert_eq "$text" "$(sed -n "${n}p" "$CTX/Dockerfile")" "$1: line $n as quoted"
    done < <(sed -n 's/^ *\([0-9]*\) | .*/\1/p' "$WORK/error.log")
  }
  error_lines invalidenv "2 " $'from alpine\nenv'
  error_lines invalidsyntax "1 " $'#syntax=foobar\nfrom alpine'
  error_lines invalidrun "3 " $'from scratch\nenv foo=bar\nrun what'
  error_lines invalidcopy "3 " $'from scratch\nenv foo=bar\ncopy foo bar\nenv bar=baz'
  error_lines invalidflag "3 " $'from scratch\nenv foo=bar\ncopy --foo=bar / /\nenv bar=baz'
  error_lines invalidcopyfrom "3 " $'from scratch\nenv foo=bar\ncopy --from=invalid foo bar\nenv bar=baz'
  error_lines invalidmultiline "2 3 " $'from scratch\nrun wh\\\nat\nenv bar=baz'
}
