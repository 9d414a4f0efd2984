// ADD's remote sources: a file over HTTP(S) and a git repository at a ref, fetched into a directory that the copy
// reading them treats as it treats the build context.
#pragma once
#include <functional>
#include <string>

#include "base/status.h"
#include "graph/graph.h"
#include "store/content.h"

namespace kiln::solver {

struct Fetched {
  std::string dir;       // what the copy reads: the downloaded file's directory, or the checkout (of its subdir)
  std::string identity;  // what was fetched, for the cache key: the file's digest, or the commit
};

/// Downloads `s.url` (redirects followed) into `work_dir` as `s.filename`: mode 0600, Last-Modified as its mtime.
/// The download is kept in `content` and remembered in `memo_dir` by URL, so the next fetch asks the server whether
/// it changed (If-None-Match, If-Modified-Since) and takes the kept copy on 304, and a URL with `s.checksum` whose
/// content is kept is not asked at all. A response other than 2xx or 304, or content that differs from
/// `s.checksum`, is an error naming the URL.
Result<Fetched> FetchHttp(const graph::HttpSource& s, const std::string& work_dir, const store::ContentStore& content,
                          const std::string& memo_dir, const std::function<bool()>& cancelled);

/// Fetches `s.ref` of `s.remote` with the git CLI (shallow where the server allows) and checks it out in
/// `work_dir`, with its submodules unless told not to; the ref resolving to another commit than `s.checksum` is
/// an error.
Result<Fetched> FetchGit(const graph::GitSource& s, const std::string& work_dir, const std::function<bool()>& cancelled);

}  // namespace kiln::solver
