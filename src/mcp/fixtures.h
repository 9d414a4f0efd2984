// The fixture tools, resources and prompts that the official MCP conformance suite calls by name. They exist
// only to prove the protocol implementation; kiln registers them only behind --conformance-fixtures.
#pragma once
#include "mcp/server.h"

namespace kiln::mcp {

void AddConformanceFixtures(Server& server);

}  // namespace kiln::mcp
