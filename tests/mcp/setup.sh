#!/usr/bin/env bash
# Installs the pinned npm packages the MCP tests use (the official TypeScript SDK, the conformance suite, the
# reference server and a Node 22 runtime) into a cache outside the repo, and links it as node_modules into
# tests/mcp and each directory given. Prints the node binary to use.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${KILN_MCP_NPM_CACHE:-/var/cache/kiln-mcp-test}
mkdir -p "$cache"
if ! cmp -s "$here/package.json" "$cache/package.json" || [ ! -x "$cache/node_modules/.bin/node" ]; then
  cp "$here/package.json" "$cache/package.json"
  (cd "$cache" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi
for dir in "$here" "$@"; do ln -sfn "$cache/node_modules" "$dir/node_modules"; done
echo "$cache/node_modules/.bin/node"
