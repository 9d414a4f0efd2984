// File operations of the build graph (COPY, mkdir) run against mounted root file systems, and the content
// checksums of the files a COPY selects, which make its cache key.
#pragma once
#include <sys/stat.h>

#include <map>
#include <string>
#include <vector>

#include "base/pattern.h"
#include "base/status.h"
#include "graph/graph.h"
#include "snapshot/copy.h"

namespace kiln::solver {

/// Content digests of regular files, given what lstat says of them: a cache may answer without reading.
class FileDigests {
 public:
  virtual ~FileDigests() = default;
  virtual Result<std::string> Of(const std::string& path, const struct stat& st) = 0;
};

/// Where a COPY reads from: a directory and, for the build context, its .dockerignore.
struct CopySource {
  std::string root;
  const PatternMatcher* exclude = nullptr;  // null: nothing excluded
  FileDigests* digests = nullptr;           // null: every file is read
};

/// One source path matched by a COPY argument.
struct SourceMatch {
  std::string host_path;  // symlinks resolved inside the source root
  std::string rel;        // clean path relative to the source root
};

/// Expands a COPY source argument (globs allowed) in `src`: an error if a path is not there; a pattern that matches
/// nothing gives nothing, as in BuildKit. "*" stays within one path component; with `any_depth` (COPY --parents,
/// whose patterns BuildKit matches as include patterns) "**" is any number of directories, else it is "*".
Result<std::vector<SourceMatch>> MatchSources(const CopySource& src, const std::string& pattern, bool any_depth = false);

/// A COPY source's match and the root its path under the destination starts from: "" (the source's root), but with
/// --parents "dir/./sub" the match keeps its path below dir. dir may be a pattern: each directory it matches is a
/// root of its own; sub is matched as BuildKit's include patterns (any_depth), as it is there.
struct CopyMatch {
  SourceMatch match;
  std::string root;
};
Result<std::vector<CopyMatch>> MatchCopySource(const CopySource& src, const std::string& source, bool parents);

/// The digest of everything the copy would read (MatchCopySource's matches): paths, types, modes, link targets and
/// contents. With `entries`, also a digest of each entry by its path (what `kiln explain` compares to name changed
/// files).
Result<std::string> ChecksumSources(const CopySource& src, const std::vector<std::string>& patterns,
                                    std::map<std::string, std::string>* entries = nullptr, bool parents = false);

/// Copies `path` (absolute in the source, "/" for all of it) to `dest`, a new file or directory, leaving out what
/// the source's .dockerignore excludes: what a RUN --mount=type=bind of the build context shows.
Status CopySourcePath(const CopySource& src, const std::string& path, const std::string& dest);

/// Runs a COPY, writing the new layer `dest` directly.
Status RunCopy(const graph::CopyAction& copy, const CopySource& src, const snapshot::LayerTarget& dest);

/// Runs WORKDIR's mkdir -p into the new layer `dest`.
Status RunMkdir(const graph::MkdirAction& mkdir, const snapshot::LayerTarget& dest);
/// Writes an inline file (a heredoc's), root-owned, with the action's mode.
Status RunMkfile(const graph::MkfileAction& mkfile, const snapshot::LayerTarget& dest);

}  // namespace kiln::solver
