#!/usr/bin/env bash
# kiln mcp at the wire (wire.mjs): malformed and oversized messages, unknown methods, sessions, headers, Origin
# checks, bearer tokens, and a clean stop on SIGTERM or end of input; over stdio and Streamable HTTP.
KILN_TEST_NO_BUILDER=1 source "$(dirname "$0")/lib.sh"
export WORKSPACE=$WORK/workspace KILN
mkdir -p "$WORKSPACE"
"$NODE" --test-reporter=spec "$HERE/wire.mjs" || fail "wire-level checks failed"
echo PASS
