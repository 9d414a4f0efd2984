#include "mcptools/tools.h"

namespace kiln::mcptools {

void Register(mcp::Server& server, api::Engine& engine, const Options& options) {}

}  // namespace kiln::mcptools
