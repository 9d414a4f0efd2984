#!/usr/bin/env bash
# An agent's session with kiln mcp through the official MCP TypeScript SDK clients, over stdio and over Streamable
# HTTP, with real builds and runs: the v1 client in the 2025-11-25 era (agent_session.mjs) and the v2 client in the
# 2026-07-28 era (agent_session_v2.mjs: input-required rounds, builds as tasks).
source "$(dirname "$0")/lib.sh"
import_busybox busybox:test
export WORKSPACE=$WORK/workspace KILN KILN_MCP_TEST_TOKEN=mcp-secret-$RANDOM-Hq7Tz
mkdir -p "$WORKSPACE"
echo "--- stdio"
"$NODE" --test-reporter=spec "$HERE/agent_session.mjs" stdio || fail "the stdio session failed"
"$NODE" --test-reporter=spec "$HERE/agent_session_v2.mjs" stdio || fail "the stdio session (2026-07-28) failed"
echo "--- Streamable HTTP"
start_http_server --root "$WORKSPACE" --secret id=api_token,env=KILN_MCP_TEST_TOKEN
export MCP_URL
"$NODE" --test-reporter=spec "$HERE/agent_session.mjs" http || { cat "$WORK/server.log"; fail "the HTTP session failed"; }
"$NODE" --test-reporter=spec "$HERE/agent_session_v2.mjs" http || { cat "$WORK/server.log"; fail "the HTTP session (2026-07-28) failed"; }
! grep -rqF "$KILN_MCP_TEST_TOKEN" "$KILN_ROOT" "$WORK/server.log" || fail "the MCP secret reached the store or the log"
echo "--- stdio and Streamable HTTP, as a plain user (rootless kiln)"
if (rootless_user) >/dev/null; then
  rootless_user
  rl=$ROOTLESS_HOME/mcp-$$
  trap 'pkill -u "$ROOTLESS_USER" -f "mcp --transport http --listen 127.0.0.1:0 --root $rl" || true; rm -rf "$rl"; cleanup' EXIT
  as_user "$ROOTLESS_USER" "$rl/store" mkdir -p "$rl/workspace"
  as_user "$ROOTLESS_USER" "$rl/store" "$KILN" import "$(busybox_rootfs)" busybox:test >/dev/null
  session_as_user() {  # SCRIPT TRANSPORT [MCP_URL]
    as_user "$ROOTLESS_USER" "$rl/store" KILN="$KILN" WORKSPACE="$rl/workspace" KILN_MCP_TEST_TOKEN="$KILN_MCP_TEST_TOKEN" \
      MCP_URL="${3:-}" "$NODE" --test-reporter=spec "$HERE/$1" "$2"
  }
  session_as_user agent_session.mjs stdio || fail "the rootless stdio session failed"
  session_as_user agent_session_v2.mjs stdio || fail "the rootless stdio session (2026-07-28) failed"
  as_user "$ROOTLESS_USER" "$rl/store" KILN_MCP_TEST_TOKEN="$KILN_MCP_TEST_TOKEN" "$KILN" mcp --transport http \
    --listen 127.0.0.1:0 --root "$rl/workspace" --secret id=api_token,env=KILN_MCP_TEST_TOKEN 2> "$WORK/server-rootless.log" &
  url=
  for _ in $(seq 200); do
    url=$(grep -o 'http://[^ ]*' "$WORK/server-rootless.log" 2>/dev/null || true)
    [ -n "$url" ] && break
    sleep 0.05
  done
  [ -n "$url" ] || { cat "$WORK/server-rootless.log"; fail "the rootless kiln mcp did not start"; }
  session_as_user agent_session.mjs http "$url" || { cat "$WORK/server-rootless.log"; fail "the rootless HTTP session failed"; }
  session_as_user agent_session_v2.mjs http "$url" ||
    { cat "$WORK/server-rootless.log"; fail "the rootless HTTP session (2026-07-28) failed"; }
else
  echo "SKIP: the rootless session (no user namespaces or newuidmap here)"
fi
echo PASS
