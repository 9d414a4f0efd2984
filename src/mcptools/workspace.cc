#include "mcptools/workspace.h"

#include <sys/stat.h>

#include <algorithm>
#include <climits>
#include <cstdlib>

#include "base/fs.h"

namespace kiln::mcptools {

bool Workspace::Contains(const std::string& p) const {
  for (auto& r : roots_)
    if (p == r || (p.size() > r.size() && p.compare(0, r.size(), r) == 0 && (r == "/" || p[r.size()] == '/'))) {
      return true;
    }
  return false;
}

void Workspace::Walk(const std::string& start, const WalkOptions& options,
                     const std::function<bool(const WalkEntry&)>& visit) const {
  std::function<bool(const std::string&, const std::string&, int)> walk = [&](const std::string& dir,
                                                                             const std::string& rel, int depth) {
    if (options.cancelled && options.cancelled()) return false;
    auto names = ListDir(dir);  // sorted
    if (!names.ok()) return true;  // unreadable: nothing to see there
    for (auto& name : *names) {
      std::string path = JoinPath(dir, name);
      struct stat st;
      if (lstat(path.c_str(), &st) != 0) continue;
      WalkEntry e{path, rel.empty() ? name : rel + "/" + name, name,
                  S_ISLNK(st.st_mode)   ? WalkEntry::Type::kSymlink
                  : S_ISDIR(st.st_mode) ? WalkEntry::Type::kDirectory
                  : S_ISREG(st.st_mode) ? WalkEntry::Type::kFile
                                        : WalkEntry::Type::kOther,
                  depth};
      if (!visit(e)) return false;
      bool skipped = std::find(options.skip_names.begin(), options.skip_names.end(), name) != options.skip_names.end();
      if (e.type == WalkEntry::Type::kDirectory && depth < options.max_depth && !skipped && Contains(path) &&
          !walk(path, e.relative, depth + 1)) {
        return false;
      }
    }
    return true;
  };
  if (Contains(start)) walk(start, "", 0);
}

Result<std::string> Workspace::Lexical(const std::string& path) const {
  if (path.empty()) return Status::Error("path is empty");
  if (path.find('\0') != std::string::npos) return Status::Error("path contains a NUL byte");
  std::string abs = CleanPath(path[0] == '/' ? path : JoinPath(roots_.at(0), path));
  if (!Contains(abs)) return Status::Error("access denied: " + path + " is outside the allowed roots");
  return abs;
}

Result<std::string> Workspace::Resolve(const std::string& path) const {
  KILN_ASSIGN(std::string abs, Lexical(path));
  char real[PATH_MAX];
  if (!realpath(abs.c_str(), real)) return Status::Error(path + ": no such file or directory");
  if (!Contains(real)) return Status::Error("access denied: " + path + " leads outside the allowed roots (symlink)");
  return std::string(real);
}

Result<std::string> Workspace::ResolveForWrite(const std::string& path) const {
  KILN_ASSIGN(std::string abs, Lexical(path));
  if (abs == roots_[0] || BaseName(abs).empty()) return Status::Error(path + ": is a directory");
  // Walk down from the root: existing parts must resolve inside a root; missing ones are created there.
  std::string dir = DirName(abs);
  char real[PATH_MAX];
  std::string existing = dir;
  while (!PathExists(existing)) existing = DirName(existing);
  if (!realpath(existing.c_str(), real) || !Contains(real)) {
    return Status::Error("access denied: " + path + " leads outside the allowed roots (symlink)");
  }
  std::string resolved_dir = std::string(real) + dir.substr(existing.size());
  if (!Contains(resolved_dir)) return Status::Error("access denied: " + path + " is outside the allowed roots");
  KILN_TRY(MakeDirs(resolved_dir));
  std::string target = JoinPath(resolved_dir, BaseName(abs));
  struct stat st;
  if (lstat(target.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
    if (!realpath(target.c_str(), real) || !Contains(real)) {
      return Status::Error("access denied: " + path + " is a symlink leading outside the allowed roots");
    }
    target = real;
  }
  if (IsDirectory(target)) return Status::Error(path + ": is a directory");
  return target;
}

}  // namespace kiln::mcptools
