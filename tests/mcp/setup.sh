#!/usr/bin/env bash
# Installs the pinned npm packages the MCP tests use (the official TypeScript SDK, the conformance suite, the
# reference server and a Node 22 runtime) into a cache outside the repo, and links it as tests/mcp/node_modules.
# Prints the node binary to use.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${KILN_MCP_NPM_CACHE:-/var/cache/kiln-mcp-test}
mkdir -p "$cache"
if ! cmp -s "$here/package.json" "$cache/package.json" || [ ! -x "$cache/node_modules/.bin/node" ]; then
  cp "$here/package.json" "$cache/package.json"
  (cd "$cache" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi
ln -sfn "$cache/node_modules" "$here/node_modules"
echo "$cache/node_modules/.bin/node"
