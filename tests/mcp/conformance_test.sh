#!/usr/bin/env bash
# The official MCP conformance suite (npm @modelcontextprotocol/conformance, pinned in package.json: the 0.1 line,
# and the 0.2 line as conformance-next) against kiln mcp over Streamable HTTP with the fixture tools: every server
# scenario, every check, must pass, for the legacy revisions and for 2026-07-28.
KILN_TEST_NO_BUILDER=1 source "$(dirname "$0")/lib.sh"
start_http_server --conformance-fixtures --root "$WORK"
suite=$HERE/node_modules/@modelcontextprotocol/conformance/dist/index.js
"$NODE" "$suite" server --url "$MCP_URL" > "$WORK/conformance.log" 2>&1 || true
summary=$(grep -E "^Total:" "$WORK/conformance.log" || true)
echo "conformance: $summary"
grep -E "^[✓✗] " "$WORK/conformance.log" || true
passed=$(sed -n 's/^Total: \([0-9]*\) passed, \([0-9]*\) failed.*/\1/p' <<<"$summary")
failed=$(sed -n 's/^Total: \([0-9]*\) passed, \([0-9]*\) failed.*/\2/p' <<<"$summary")
if [ -z "$passed" ] || [ "$failed" != 0 ] || [ "$passed" -lt 40 ]; then
  echo "FAIL: the conformance suite did not pass every check"; tail -50 "$WORK/conformance.log"; exit 1
fi
# SEP-1699 scenarios run separately: a stream closed mid-call resumes with Last-Event-ID.
for scenario in server-sse-polling json-schema-2020-12; do
  "$NODE" "$suite" server --url "$MCP_URL" --scenario $scenario > "$WORK/$scenario.log" 2>&1 || true
  grep -q "0 failed" "$WORK/$scenario.log" || { echo "FAIL: $scenario"; tail -20 "$WORK/$scenario.log"; exit 1; }
done
# The 0.2 line knows revision 2026-07-28: every scenario it runs for it (scored, extension and pending alike) must
# pass, and so must its checks of 2025-11-25 on the same endpoint (both eras at once).
next=$HERE/node_modules/conformance-next/dist/index.js
for run in "--requirements 2026-07-28:190" "--spec-version 2025-11-25:73"; do
  args=${run%:*} least=${run##*:}
  log="$WORK/next-${args##* }.log"
  # shellcheck disable=SC2086
  "$NODE" "$next" server --url "$MCP_URL" $args > "$log" 2>&1 || true
  summary=$(grep -E "^Total:" "$log" || true)
  echo "conformance 0.2 $args: $summary"
  passed=$(sed -n 's/^Total: \([0-9]*\) passed, \([0-9]*\) failed.*/\1/p' <<<"$summary")
  failed=$(sed -n 's/^Total: \([0-9]*\) passed, \([0-9]*\) failed.*/\2/p' <<<"$summary")
  if [ -z "$passed" ] || [ "$failed" != 0 ] || [ "$passed" -lt "$least" ] || grep -q "^ *✗" "$log"; then
    echo "FAIL: conformance 0.2 $args"; grep -E "✗" "$log"; tail -40 "$log"; exit 1
  fi
done
echo PASS
