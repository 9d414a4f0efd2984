#!/usr/bin/env bash
# kiln mcp against hostile clients (hostile.mjs): half-open sockets, connection floods, JSON-RPC arrays, deep
# nesting, mistyped fields, and build errors quoting control bytes.
source "$(dirname "$0")/lib.sh"
import_busybox
export WORKSPACE=$WORK/workspace KILN
mkdir -p "$WORKSPACE"
"$NODE" --test-reporter=spec "$HERE/hostile.mjs" || fail "hostile-client checks failed"
echo PASS
