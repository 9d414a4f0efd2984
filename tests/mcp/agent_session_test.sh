#!/usr/bin/env bash
# An agent's session with kiln mcp through the official MCP TypeScript SDK client (agent_session.mjs), over stdio
# and over Streamable HTTP, with real builds and runs.
source "$(dirname "$0")/lib.sh"
import_busybox busybox:test
export WORKSPACE=$WORK/workspace KILN KILN_MCP_TEST_TOKEN=mcp-secret-$RANDOM-Hq7Tz
mkdir -p "$WORKSPACE"
echo "--- stdio"
"$NODE" --test-reporter=spec "$HERE/agent_session.mjs" stdio || fail "the stdio session failed"
echo "--- Streamable HTTP"
start_http_server --root "$WORKSPACE" --secret id=api_token,env=KILN_MCP_TEST_TOKEN
export MCP_URL
"$NODE" --test-reporter=spec "$HERE/agent_session.mjs" http || { cat "$WORK/server.log"; fail "the HTTP session failed"; }
! grep -rqF "$KILN_MCP_TEST_TOKEN" "$KILN_ROOT" "$WORK/server.log" || fail "the MCP secret reached the store or the log"
echo PASS
