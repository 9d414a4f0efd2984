#!/usr/bin/env bash
# MCP request round trips (tools/list, ping) over stdio and Streamable HTTP: kiln mcp against the reference
# server @modelcontextprotocol/server-everything, side by side with the same client (the official TypeScript
# SDK, pinned in tests/mcp/package.json). Prints medians, p90s, req/s and ratios. Usage: bench/mcp.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x build/kiln ] || cmake --build build -j"$(nproc)"
NODE=$(tests/mcp/setup.sh "$PWD/bench/mcp")
workspace=$(mktemp -d /tmp/kiln-mcp-bench.XXXXXX)
trap 'rm -rf "$workspace"' EXIT
NODE_NO_WARNINGS=1 KILN=$PWD/build/kiln KILN_ROOT=$workspace/root KILN_WORKSPACE=$workspace ROUNDS=${1:-2000} \
  EVERYTHING=$PWD/bench/mcp/node_modules/@modelcontextprotocol/server-everything/dist/index.js \
  "$NODE" bench/mcp/roundtrip.mjs
