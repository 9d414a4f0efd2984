#!/usr/bin/env bash
# kiln mcp against the second round of hostile probes (hardening.mjs): overflowing cursors, stuck request ids,
# task and session ownership, idle sockets at the connection cap, the non-loopback door, stdin's end, and names
# with digests over MCP.
source "$(dirname "$0")/lib.sh"
import_busybox
export WORKSPACE=$WORK/workspace KILN
mkdir -p "$WORKSPACE"
"$NODE" --test-reporter=spec --test-concurrency=1 "$HERE/hardening.mjs" || fail "hardening checks failed"
echo PASS
