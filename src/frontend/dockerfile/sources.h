// What a COPY or ADD source names besides a path: an http(s) URL, or a git repository, read as BuildKit reads them.
#pragma once
#include <optional>
#include <string>

#include "base/status.h"

namespace kiln::dockerfile {

struct GitRef {
  std::string remote;  // the URL without its fragment and query
  std::string ref;     // "" for the remote's HEAD
  std::string subdir;
  std::string checksum;  // the commit (or a prefix) the ref must be
  std::optional<bool> keep_git_dir;
  bool submodules = true;
};

/// A source that names a git repository: "git@host:path", "ssh://", "git://", or an http(s) URL whose path ends in
/// ".git"; "#ref:subdir" and the query (ref, tag, branch, subdir, checksum or commit, keep-git-dir, submodules)
/// say what of it. nullopt for anything else; an error for a git URL whose query is malformed.
Result<std::optional<GitRef>> ParseGitRef(const std::string& source);

/// Whether the source is a URL ADD downloads ("http://", "https://"), when it is not a git repository.
bool IsHttpUrl(const std::string& source);

/// The name ADD gives a downloaded file: the last element of the URL's path, or "__unnamed__" as in BuildKit.
std::string UrlFileName(const std::string& url);

}  // namespace kiln::dockerfile
