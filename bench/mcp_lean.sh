#!/usr/bin/env bash
# MCP round trips measured with a lean client (bench/mcp_lean.cc: raw HTTP keep-alive, a raw stdio pipe), so that
# the server's cost is what shows: kiln mcp in both eras (2025-11-25 sessions, 2026-07-28 stateless requests)
# against the reference server @modelcontextprotocol/server-everything (pinned in tests/mcp/package.json), which
# speaks only the legacy era. tools/list and a trivial tool call (kiln: list_directory of an empty directory;
# server-everything: echo); one caller at a time (median, p90) and 8 at once (requests/s).
# The pipe-floor row is a server that answers without doing anything: no stdio server can be faster than it.
# Usage: bench/mcp_lean.sh [ROUNDS]   Prints a table and the ratios; bench/mcp.sh is the same with the SDK client.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2000}
cmake --build build -j"$(nproc)" --target kiln mcp_lean >/dev/null
NODE=$(tests/mcp/setup.sh)
EVERYTHING=$PWD/tests/mcp/node_modules/@modelcontextprotocol/server-everything/dist/index.js
work=$(mktemp -d /tmp/kiln-mcp-lean.XXXXXX)
mkdir -p "$work/workspace"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT
KILN=(build/kiln --data-root "$work/root" mcp --root "$work/workspace")

port=$((39900 + RANDOM % 500))
"${KILN[@]}" --transport http --listen 127.0.0.1:$port 2>/dev/null & pids+=($!)
kiln_url=http://127.0.0.1:$port/mcp
PORT=$((port + 1)) "$NODE" "$EVERYTHING" streamableHttp >/dev/null 2>&1 & pids+=($!)
everything_url=http://127.0.0.1:$((port + 1))/mcp
for url in "$kiln_url" "$everything_url"; do
  for _ in $(seq 100); do curl -s -o /dev/null "$url" && break; sleep 0.1; done
done

lean() { build/mcp_lean --rounds "$rounds" "$@"; }
row() {  # transport server era method json
  local m p r
  m=$(sed 's/.*"median_us":\([0-9.]*\).*/\1/' <<<"$5"); p=$(sed 's/.*"p90_us":\([0-9.]*\).*/\1/' <<<"$5")
  r=$(sed 's/.*"rps":\([0-9]*\).*/\1/' <<<"$5")
  printf '| %-5s | %-17s | %-10s | %-10s | %8s | %8s | %8s |\n' "$1" "$2" "$3" "$4" "$m" "$p" "$r"
  echo "$1 $2 $3 $4 $m $r" >> "$work/rows"
}
echo "MCP round trips with a lean client: $rounds sequential requests after 100 warm-up; 8 callers at once for req/s"
echo
echo '| via   | server            | era        | request    | median µs | p90 µs | req/s |'
echo '|-------|-------------------|------------|------------|----------:|-------:|------:|'
for era in legacy modern; do
  tag=$([ $era = legacy ] && echo 2025-11-25 || echo 2026-07-28)
  row stdio kiln "$tag" tools/list "$(lean --stdio "${KILN[@]}" -- --era $era --request tools/list)"
  row stdio kiln "$tag" tool-call "$(lean --stdio "${KILN[@]}" -- --era $era --request 'tools/call:list_directory:{}')"
  row http kiln "$tag" tools/list "$(lean --url "$kiln_url" --era $era --request tools/list)"
  row http kiln "$tag" tool-call "$(lean --url "$kiln_url" --era $era --request 'tools/call:list_directory:{}')"
done
for via in stdio http; do
  if [ $via = stdio ]; then target=(--stdio "$NODE" "$EVERYTHING" stdio --); else target=(--url "$everything_url"); fi
  row $via server-everything 2025-11-25 tools/list "$(lean "${target[@]}" --era legacy --request tools/list)"
  row $via server-everything 2025-11-25 tool-call "$(lean "${target[@]}" --era legacy --request 'tools/call:echo:{"message":"hi"}')"
done
row stdio kiln 2025-11-25 ping "$(lean --stdio "${KILN[@]}" -- --era legacy --request ping)"
row stdio server-everything 2025-11-25 ping "$(lean --stdio "$NODE" "$EVERYTHING" stdio -- --era legacy --request ping)"
# The floor under every stdio figure: a server that does no work at all (mcp_lean --pipe-floor). Its round trip is
# the pipe and the scheduler: a few µs when client and server share a core, ~50 µs when a wake-up crosses cores.
row stdio pipe-floor - ping "$(lean --stdio build/mcp_lean --pipe-floor -- --era legacy --request ping)"

echo
echo "ratios against server-everything (its only era, 2025-11-25); above 1: kiln is faster"
awk '$2 == "server-everything" { em[$1" "$4] = $5; er[$1" "$4] = $6 }
     $2 == "kiln" { km[$1" "$3" "$4] = $5; kr[$1" "$3" "$4] = $6; keys[$1" "$3" "$4] = $1" "$4 }
     END { for (k in keys) printf "%-28s latency %5.1fx   throughput %5.1fx\n", k, em[keys[k]] / km[k], kr[k] / er[keys[k]] }' \
  "$work/rows" | sort
