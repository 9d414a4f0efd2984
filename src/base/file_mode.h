// chmod(1)'s symbolic modes ("u+x,g-w", "a=rX", "go=u-w", "+x"), as COPY --chmod takes them: BuildKit applies them
// as BSD's setmode does, with no umask.
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

#include "base/status.h"

namespace kiln {

class SymbolicMode {
 public:
  /// An error names what is wrong in `text`.
  static Result<SymbolicMode> Parse(const std::string& text);
  /// The permission bits (07777) a file or directory of mode `mode` gets.
  mode_t Apply(mode_t mode, bool is_directory) const;

 private:
  struct Action {
    char op;          // '+', '-' or '='
    mode_t who;       // the bits of the classes it changes (0777 for all, with their special bits)
    std::string perms;  // of "rwxXst", or one of "ugo" to copy that class's bits
  };
  std::vector<Action> actions_;
};

}  // namespace kiln
