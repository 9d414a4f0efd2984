// What `kiln build` takes from standard input: the Dockerfile (`-f -`), or the whole context (`-`): a tar of it,
// Dockerfile included, or a lone Dockerfile with an empty context, as `docker build -` takes them.
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "base/fs.h"
#include "base/status.h"

namespace kiln::cli {

struct BuildInput {
  std::string context;                         // the directory to build
  std::optional<std::string> dockerfile_text;  // the Dockerfile, when it is not a file of the context
  std::unique_ptr<TempDir> extracted;          // a context read from stdin, removed once built
};

/// The context and Dockerfile of `kiln build [-f FILE] CONTEXT` once stdin is read where FILE or CONTEXT is "-".
Result<BuildInput> ReadBuildInput(const std::string& context, const std::string& file);

}  // namespace kiln::cli
