#!/usr/bin/env bash
# An agent moves images through a registry with kiln mcp (registry.mjs, official SDK client over stdio): push_image,
# pull_image with progress notifications, build_image with push, cache_to and cache_from, and the errors a
# registry gives.
source "$(dirname "$0")/lib.sh"
start_registry
import_busybox
export WORKSPACE=$WORK/workspace REGISTRY KILN
mkdir -p "$WORKSPACE"
"$NODE" --test-reporter=spec "$HERE/registry.mjs" || fail "registry tools over MCP failed"
echo PASS
