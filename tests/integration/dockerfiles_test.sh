#!/usr/bin/env bash
# Parser edge cases (tests/dockerfiles) through `kiln build --call targets`: each parses, and lists its stages.
KILN_TEST_NO_BUILDER=1
source "$(dirname "$0")/lib.sh"
CASES=$(cd "$(dirname "$0")/../dockerfiles" && pwd)
count=0
for dir in "$CASES"/*/; do
  name=$(basename "$dir")
  json=$(kiln build --call targets --format json "$dir" 2>&1) || fail "$name: --call targets failed:"$'\n'"$json"
  got=$(python3 -c 'import json,sys; print(",".join(t.get("name", "") for t in json.load(sys.stdin)["targets"]))' <<<"$json")
  assert_eq "$got" "$(cat "$dir/targets")" "$name: the stages"
  count=$((count + 1))
done
[ "$count" -ge 10 ] || fail "only $count cases in $CASES"
echo "PASS: $count Dockerfiles"
