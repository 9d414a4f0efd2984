#!/usr/bin/env bash
# The official MCP conformance suite (npm @modelcontextprotocol/conformance, pinned in package.json) against
# kiln mcp over Streamable HTTP with the fixture tools: every server scenario, every check, must pass.
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
echo PASS
