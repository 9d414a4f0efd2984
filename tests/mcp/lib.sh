# Helpers for the MCP tests: those of the integration tests (a fresh data root, a busybox base), the pinned npm
# packages (official SDK client, conformance suite, reference server), and kiln mcp served over HTTP.
source "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
command -v npm >/dev/null || skip "npm is not installed (scripts/install-deps installs it)"
NODE=$("$HERE/setup.sh") || skip "could not install the npm packages of tests/mcp/package.json (no npm registry?)"

# Starts `kiln mcp --transport http` on a free loopback port with the given extra flags; sets MCP_URL.
start_http_server() {
  "$KILN" mcp --transport http --listen 127.0.0.1:0 "$@" 2> "$WORK/server.log" &
  SERVER_PID=$!
  for _ in $(seq 200); do
    MCP_URL=$(grep -o 'http://[^ ]*' "$WORK/server.log" 2>/dev/null || true)
    [ -n "$MCP_URL" ] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  cat "$WORK/server.log"
  fail "kiln mcp did not start"
}
