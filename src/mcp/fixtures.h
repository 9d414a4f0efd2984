// The fixture tools, resources and prompts that the official MCP conformance suite calls by name. They exist
// only to prove the protocol implementation; kiln registers them only behind --conformance-fixtures.
#pragma once
#include "mcp/server.h"

namespace kiln::mcp {

/// Every fixture, of both eras.
void AddConformanceFixtures(Server& server);
/// Those of the 2026-07-28 scenarios (fixtures_modern.cc).
void AddStatelessFixtures(Server& server);

/// A text content item: {"type": "text", "text": text}.
Json TextItem(const std::string& text);

}  // namespace kiln::mcp
