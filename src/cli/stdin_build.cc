#include "cli/stdin_build.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "api/engine.h"

namespace kiln::cli {
namespace {

Result<std::string> ReadStdin() {
  std::string data;
  char buf[1 << 16];
  while (true) {
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n == 0) return data;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("read", "standard input");
    data.append(buf, size_t(n));
  }
}

}  // namespace

Result<BuildInput> ReadBuildInput(const std::string& context, const std::string& file) {
  BuildInput input;
  input.context = context;
  if (file == "-" && context == "-") return Status::Error("-f - and a build context of - cannot both read standard input");
  if (file == "-") {
    KILN_ASSIGN(input.dockerfile_text, ReadStdin());
    return input;
  }
  if (context != "-") return input;
  const char* tmp = getenv("TMPDIR");
  KILN_ASSIGN(TempDir dir, TempDir::Create(tmp && *tmp ? tmp : "/tmp", "kiln-context-"));
  input.extracted = std::make_unique<TempDir>(std::move(dir));
  std::string received = JoinPath(input.extracted->path(), "stdin");
  input.context = JoinPath(input.extracted->path(), "context");
  KILN_ASSIGN(std::string data, ReadStdin());
  KILN_TRY(WriteFileAtomic(received, data, 0600));
  auto dockerfile = api::UnpackContextFile(received, input.context);
  if (!dockerfile.ok()) return dockerfile.status().Prefixed("the build context on standard input");
  input.dockerfile_text = std::move(*dockerfile);
  return input;
}

}  // namespace kiln::cli
