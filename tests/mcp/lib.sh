# Helpers for the MCP tests: the pinned npm packages, a fresh data root, and a kiln mcp server over HTTP.
set -euo pipefail
KILN=${KILN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/kiln}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
command -v npm >/dev/null || { echo "SKIP: npm is not installed"; exit 77; }
NODE=$("$HERE/setup.sh") || { echo "SKIP: could not install the npm packages (no access to the npm registry?)"; exit 77; }
WORK=$(mktemp -d /tmp/kiln-mcp-test.XXXXXX)
export KILN_ROOT=$WORK/root
SERVER_PID=
cleanup() {
  local code=$?
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  { grep -o " $WORK[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done; } 2>/dev/null || true
  rm -rf "$WORK"
  exit $code
}
trap cleanup EXIT

# Starts `kiln mcp --transport http` with the given extra flags; sets MCP_URL.
start_http_server() {
  "$KILN" mcp --transport http --listen 127.0.0.1:0 "$@" 2> "$WORK/server.log" &
  SERVER_PID=$!
  for _ in $(seq 100); do
    MCP_URL=$(grep -o 'http://[^ ]*' "$WORK/server.log" 2>/dev/null || true)
    [ -n "$MCP_URL" ] && return 0
    sleep 0.05
  done
  echo "kiln mcp did not start:"; cat "$WORK/server.log"; exit 1
}
