#include "mcptools/tools.h"

#include "mcptools/surface.h"

namespace kiln::mcptools {
namespace {

void AddRow(Context& c, ToolRow row) {
  if (c.options.read_only && !row.annotations.value("readOnlyHint", false)) return;
  Json definition = {{"name", row.name}, {"title", row.title}, {"description", row.description}, {"inputSchema", row.input}};
  if (!row.output.is_null()) {
    // A stable $id lets clients compile each output schema once rather than on every tools/list (the TypeScript
    // SDK's validator caches by $id: without one, listing kiln's tools cost its client twice as much).
    definition["outputSchema"] = row.output;
    definition["outputSchema"]["$id"] = "urn:kiln:mcp:tool:" + row.name + ":output";
  }
  definition["annotations"] = row.annotations;
  c.server.AddTool({std::move(definition), std::move(row.call), row.tasks, row.task_after_input, row.quick});
}

}  // namespace

Surface::Surface(std::unique_ptr<State> s) : s_(std::move(s)) {}
Surface::~Surface() = default;

std::unique_ptr<Surface> Register(mcp::Server& server, api::Engine& engine, const Options& options) {
  std::unique_ptr<Surface::State> state(new Surface::State{server, engine, Workspace(options.roots), {}, options});
  for (auto* table : {&BuildTools, &ImageTools, &WorkspaceTools})
    for (auto& row : table(*state)) AddRow(*state, std::move(row));
  AddResources(*state);
  AddPrompts(*state);
  return std::make_unique<Surface>(std::move(state));
}

}  // namespace kiln::mcptools
