#!/usr/bin/env bash
# Runs the ported BuildKit tests of one Go file: tests/buildkit/run.sh dockerfile_test.go. Every function the
# manifest marks pass runs in a subshell with a fresh store and context; the run fails when one of them fails, when the file
# defines a function the manifest does not mark pass (or the reverse), or when the manifest does not list every
# function of functions.tsv exactly once.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
go_file=$1
script=$HERE/${go_file%.go}.sh
source "$HERE/lib.sh"

listed=$(grep -v '^#' "$HERE/functions.tsv" | cut -f1,2 | sort)
in_manifest=$(grep -v '^#' "$HERE/manifest.tsv" | cut -f1,2 | sort)
[ "$listed" = "$in_manifest" ] || { diff <(echo "$listed") <(echo "$in_manifest") >&2; fail "manifest.tsv does not list functions.tsv's functions once each"; }
passing=$(awk -F'\t' -v f="$go_file" '$1 == f && $3 == "pass" {print $2}' "$HERE/manifest.tsv" | sort)
defined=""
[ -f "$script" ] && defined=$(grep -o '^test[A-Za-z0-9_]*()' "$script" | tr -d '()' | sort)
[ "$passing" = "$defined" ] || { diff <(echo "$passing") <(echo "$defined") >&2; fail "$script and manifest.tsv disagree on what passes"; }
[ -n "$passing" ] || skip "no test of $go_file is ported yet"
source "$script"

failed=()
for t in $passing; do
  # Each test on a store of its own, as each Go test gets a fresh BuildKit: cache mounts and caches start empty.
  # Not as an `if` condition, where bash would ignore set -e inside: a failing step must end the test.
  set +e
  (set -euo pipefail; export KILN_ROOT=$WORK/root-$t; bk_images; bk_new_context; "$t"; rm -rf "$KILN_ROOT") \
    > "$WORK/$t.log" 2>&1
  status=$?
  set -e
  if [ "$status" = 0 ]; then
    echo "PASS $t"
  else
    echo "FAIL $t"
    sed 's/^/    /' "$WORK/$t.log"
    failed+=("$t")
  fi
done
[ ${#failed[@]} = 0 ] || fail "${#failed[@]} of $(wc -w <<<"$passing") failed: ${failed[*]}"
echo PASS
