#include "solver/file_op.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <climits>
#include <functional>

#include "base/digest.h"
#include "base/fs.h"
#include "executor/user.h"
#include "snapshot/copy.h"
#include "snapshot/extract.h"

namespace kiln::solver {
namespace {

bool Excluded(const CopySource& src, const std::string& rel) {
  return src.exclude && !rel.empty() && src.exclude->Excluded(rel);
}

/// Whether anything at or below `rel` survives the .dockerignore: an excluded directory still exists in the
/// context BuildKit sees when a "!" exception re-includes something beneath it.
bool Present(const CopySource& src, const std::string& host, const std::string& rel) {
  if (!Excluded(src, rel)) return true;
  if (!src.exclude->HasExceptions() || !IsDirectory(host)) return false;
  auto names = ListDir(host);
  if (!names.ok()) return false;
  for (auto& n : *names)
    if (Present(src, JoinPath(host, n), rel + "/" + n)) return true;
  return false;
}

/// Hashes one entry and, for directories, everything below it that the copy would take.
Status HashTree(const CopySource& src, const std::string& host, const std::string& rel, Sha256& h,
                std::map<std::string, std::string>* entries) {
  struct stat st;
  if (lstat(host.c_str(), &st) != 0) return ErrnoError("stat", host);
  bool excluded = Excluded(src, rel);
  if (excluded && !(S_ISDIR(st.st_mode) && src.exclude->HasExceptions())) return Status::Ok();
  std::string header = rel + '\0' + std::to_string(st.st_mode & (S_IFMT | 07777)) + '\0';
  if (!excluded) {
    if (S_ISREG(st.st_mode)) {
      KILN_ASSIGN(std::string d, src.digests ? src.digests->Of(host, st) : DigestOfFile(host));
      header += d;
    } else if (S_ISLNK(st.st_mode)) {
      char target[PATH_MAX];
      ssize_t n = readlink(host.c_str(), target, sizeof target - 1);
      if (n < 0) return ErrnoError("readlink", host);
      header.append(target, size_t(n));
    }
    h.Update(header + '\n');
    if (entries) (*entries)[rel] = DigestOf(header).substr(7, 16);
  }
  if (S_ISDIR(st.st_mode)) {
    KILN_ASSIGN(auto names, ListDir(host));
    for (auto& n : names) KILN_TRY(HashTree(src, JoinPath(host, n), rel.empty() ? n : rel + "/" + n, h, entries));
  }
  return Status::Ok();
}

/// The owner of what a copy or mkdir writes: --chown resolved in the destination, or root, or the source's.
Result<std::pair<std::optional<uid_t>, std::optional<gid_t>>> Owner(const std::string& chown, bool reset,
                                                                    const std::string& dest_root) {
  if (chown.empty()) {
    if (reset) return std::make_pair(std::optional<uid_t>(0), std::optional<gid_t>(0));
    return std::make_pair(std::optional<uid_t>(), std::optional<gid_t>());
  }
  KILN_ASSIGN(executor::User u, executor::ResolveFileOwner(dest_root, chown));
  return std::make_pair(std::optional<uid_t>(u.uid), std::optional<gid_t>(u.gid));
}

/// Every directory below `base` (a path in the source), at any depth, symlinks not followed: what "**" matches.
void AddDirectoriesBelow(const CopySource& src, const std::string& base, const std::function<void(const std::string&)>& add) {
  std::vector<std::string> todo = {base};
  while (!todo.empty()) {
    std::string rel = todo.back();
    todo.pop_back();
    auto dir = snapshot::ResolveInRoot(src.root, "/" + rel);
    if (!dir.ok()) continue;
    auto names = ListDir(*dir);
    if (!names.ok()) continue;
    for (auto& n : *names) {
      struct stat st;
      if (lstat(JoinPath(*dir, n).c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
      add(JoinPath(rel, n));
      todo.push_back(JoinPath(rel, n));
    }
  }
}

}  // namespace

Result<std::vector<SourceMatch>> MatchSources(const CopySource& src, const std::string& pattern, bool any_depth) {
  std::string clean = CleanPath("/" + pattern).substr(1);
  std::vector<SourceMatch> matches;
  if (!HasGlob(clean)) {
    KILN_ASSIGN(std::string host, snapshot::ResolveInRoot(src.root, "/" + clean));
    if (PathExists(host) && Present(src, host, clean)) matches.push_back({host, clean});
  } else {
    // Expand one component at a time, so "*" never crosses a '/'; "**" is any number of directories (none too).
    std::vector<std::string> partial = {""};
    auto parts = SplitPath(clean);
    for (size_t i = 0; i < parts.size(); i++) {
      std::vector<std::string> next;
      std::set<std::string> seen;
      auto add = [&](const std::string& rel) {
        if (seen.insert(rel).second) next.push_back(rel);
      };
      for (auto& base : partial) {
        if (any_depth && parts[i] == "**") {
          add(base);
          AddDirectoriesBelow(src, base, add);
          continue;
        }
        if (!HasGlob(parts[i])) {
          add(JoinPath(base, parts[i]));
          continue;
        }
        auto dir = snapshot::ResolveInRoot(src.root, "/" + base);
        if (!dir.ok() || !IsDirectory(*dir)) continue;
        auto names = ListDir(*dir);
        if (!names.ok()) continue;
        for (auto& n : *names)
          if (GlobMatch(parts[i], n)) add(JoinPath(base, n));
      }
      partial = std::move(next);
    }
    for (auto& rel : partial) {
      auto host = snapshot::ResolveInRoot(src.root, "/" + rel);
      if (host.ok() && PathExists(*host) && Present(src, *host, rel)) matches.push_back({*host, rel});
    }
  }
  // As BuildKit (AllowEmptyWildcard): a pattern that matches nothing copies nothing; a path must be there.
  if (matches.empty() && !HasGlob(clean)) return Status::Error("\"/" + clean + "\": not found");
  return matches;
}

Result<std::vector<CopyMatch>> MatchCopySource(const CopySource& src, const std::string& source, bool parents) {
  std::vector<std::string> roots = {""};
  std::string sub = source;
  if (parents && source.find("/./") != std::string::npos) {
    std::string root = CleanPath("/" + source.substr(0, source.find("/./"))).substr(1);
    sub = source.substr(source.find("/./") + 3);
    roots = {root};
    if (HasGlob(root)) {
      roots.clear();
      KILN_ASSIGN(auto dirs, MatchSources(src, root));
      for (auto& d : dirs)
        if (IsDirectory(d.host_path)) roots.push_back(d.rel);
    }
  }
  std::vector<CopyMatch> out;
  for (auto& root : roots) {
    KILN_ASSIGN(auto matches, MatchSources(src, JoinPath(root, sub), parents));
    for (auto& m : matches) out.push_back({m, root});
  }
  return out;
}

Result<std::string> ChecksumSources(const CopySource& src, const std::vector<std::string>& patterns,
                                    std::map<std::string, std::string>* entries, bool parents) {
  Sha256 h;
  for (auto& p : patterns) {
    KILN_ASSIGN(auto matches, MatchCopySource(src, p, parents));
    for (auto& [m, root] : matches) {
      h.Update("source " + m.rel + "\n");
      KILN_TRY(HashTree(src, m.host_path, m.rel, h, entries));
    }
  }
  return h.Finish();
}

Status CopySourcePath(const CopySource& src, const std::string& path, const std::string& dest) {
  std::string clean = CleanPath("/" + path);
  KILN_ASSIGN(std::string host, snapshot::ResolveInRoot(src.root, clean));
  std::string rel = clean == "/" ? "" : clean.substr(1);
  if (!PathExists(host) || !Present(src, host, rel)) return Status::Error(clean + ": not found in the build context");
  snapshot::CopyOptions o;
  if (src.exclude && !src.exclude->empty()) {
    o.excluded = [&](const std::string& r) { return src.exclude->Excluded(r); };
    o.descend_excluded = src.exclude->HasExceptions();
  }
  return snapshot::CopyTree(host, dest, rel, o);
}

Status RunCopy(const graph::CopyAction& copy, const CopySource& src, const snapshot::LayerTarget& dest) {
  // Owners named by --chown are looked up in the destination's /etc/passwd, as it is before the copy.
  KILN_ASSIGN(auto owner, Owner(copy.chown, copy.reset_owner, dest.lower));
  snapshot::CopyOptions o;
  o.uid = owner.first;
  o.gid = owner.second;
  if (copy.chmod) o.mode = mode_t(*copy.chmod);
  if (!copy.chmod_symbolic.empty()) {
    KILN_ASSIGN(o.symbolic_mode, SymbolicMode::Parse(copy.chmod_symbolic));
  }
  std::optional<PatternMatcher> copy_exclude;
  if (!copy.exclude.empty()) {
    KILN_ASSIGN(copy_exclude, PatternMatcher::FromPatterns(copy.exclude));
  }
  bool ignore = src.exclude && !src.exclude->empty();
  uid_t dir_uid = owner.first.value_or(0);
  gid_t dir_gid = owner.second.value_or(0);
  // Directories the copy creates (the destination, missing parents) take --chmod too, as in BuildKit.
  mode_t dir_mode = copy.chmod ? mode_t(*copy.chmod) : 0755;

  struct Placed {
    SourceMatch match;
    std::string root;   // --parents: the source root the match keeps its path from ("" the whole source)
    std::string under;  // --parents: where below the destination it goes
  };
  std::vector<Placed> all;
  for (auto& p : copy.sources) {
    KILN_ASSIGN(auto matches, MatchCopySource(src, p, copy.parents));
    for (auto& [m, root] : matches) {
      std::string under = root.empty() ? m.rel : m.rel.substr(std::min(m.rel.size(), root.size() + 1));
      all.push_back({m, root, under});
    }
  }
  std::string dest_path = CleanPath(copy.dest);
  bool dest_is_dir = copy.dest.back() == '/' || all.size() > 1 || copy.parents || IsDirectoryInLayer(dest, dest_path);
  for (auto& [m, root, under] : all) {
    // .dockerignore applies to context paths; --exclude to paths below this source.
    snapshot::CopyOptions each = o;
    if (ignore || copy_exclude) {
      const std::string source_rel = m.rel;
      each.excluded = [&, source_rel](const std::string& rel) {
        if (ignore && src.exclude->Excluded(rel)) return true;
        if (!copy_exclude || rel.size() <= source_rel.size()) return false;
        return copy_exclude->Excluded(source_rel.empty() ? rel : rel.substr(source_rel.size() + 1));
      };
      each.descend_excluded = (ignore && src.exclude->HasExceptions()) || (copy_exclude && copy_exclude->HasExceptions());
    }
    if (copy.unpack && snapshot::IsTarArchive(m.host_path)) {
      // ADD extracts an archive into the destination, a directory; its entries keep their owners unless --chown.
      std::optional<uid_t> uid = copy.chown.empty() ? std::nullopt : owner.first;
      std::optional<gid_t> gid = copy.chown.empty() ? std::nullopt : owner.second;
      KILN_TRY(snapshot::MakeDirsInLayer(dest, dest_path, dir_uid, dir_gid, dir_mode).status());
      KILN_TRY(snapshot::ExtractArchiveInLayer(m.host_path, dest, dest_path, uid, gid));
      continue;
    }
    if (copy.parents) {
      // The directories on the way keep the metadata they have in the source (the owner the copy gives).
      KILN_TRY(snapshot::MakeDirsInLayer(dest, dest_path, dir_uid, dir_gid, dir_mode).status());
      std::string made;
      for (auto& part : SplitPath(DirName(under) == "." ? "" : DirName(under))) {
        made = JoinPath(made, part);
        struct stat st;
        KILN_ASSIGN(std::string host, snapshot::ResolveInRoot(src.root, "/" + JoinPath(root, made)));
        if (stat(host.c_str(), &st) != 0) return ErrnoError("stat", host);
        KILN_TRY(snapshot::MakeDirsInLayer(dest, JoinPath(dest_path, made), o.uid.value_or(st.st_uid),
                                           o.gid.value_or(st.st_gid), st.st_mode & 07777).status());
      }
      KILN_ASSIGN(std::string parent, snapshot::ResolveInLayer(dest, JoinPath(dest_path, under)));
      KILN_TRY(snapshot::CopyTree(m.host_path, parent, m.rel, each));
      continue;
    }
    if (IsDirectory(m.host_path)) {
      // A directory source copies its contents, not the directory itself.
      KILN_ASSIGN(std::string target, snapshot::MakeDirsInLayer(dest, dest_path, dir_uid, dir_gid, dir_mode));
      KILN_TRY(snapshot::CopyDirContents(m.host_path, target, m.rel, each));
      continue;
    }
    std::string target_path = dest_is_dir ? JoinPath(dest_path, BaseName(m.rel)) : dest_path;
    KILN_ASSIGN(std::string parent, snapshot::MakeDirsInLayer(dest, DirName(target_path), dir_uid, dir_gid, dir_mode));
    KILN_TRY(snapshot::CopyTree(m.host_path, JoinPath(parent, BaseName(target_path)), m.rel, each));
  }
  return Status::Ok();
}

Status RunMkdir(const graph::MkdirAction& mkdir, const snapshot::LayerTarget& dest) {
  // A directory that is there already is left as it is: nothing of it goes into the layer (BuildKit's is empty).
  if (IsDirectoryInLayer(dest, CleanPath(mkdir.path))) return Status::Ok();
  KILN_ASSIGN(auto owner, Owner(mkdir.chown, true, dest.lower));
  KILN_ASSIGN(std::string dir, snapshot::MakeDirsInLayer(dest, mkdir.path, *owner.first, *owner.second));
  (void)dir;
  return Status::Ok();
}

Status RunMkfile(const graph::MkfileAction& mkfile, const snapshot::LayerTarget& dest) {
  std::string path = CleanPath(mkfile.path);
  KILN_ASSIGN(std::string dir, snapshot::MakeDirsInLayer(dest, DirName(path), 0, 0));
  std::string file = JoinPath(dir, BaseName(path));
  KILN_TRY(WriteFileAtomic(file, mkfile.data));
  if (chmod(file.c_str(), mode_t(mkfile.mode)) != 0) return ErrnoError("chmod", file);
  return Status::Ok();
}

}  // namespace kiln::solver
