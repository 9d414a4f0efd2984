#include "solver/remote_source.h"

#include <fcntl.h>  // AT_FDCWD
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <ctime>

#include "base/digest.h"
#include "base/fs.h"
#include "base/json.h"
#include "base/process.h"
#include "remote/http.h"
#include "snapshot/copy.h"

namespace kiln::solver {
namespace {

/// An HTTP date (RFC 7231's preferred form, "Sun, 06 Nov 1994 08:49:37 GMT") as a Unix time; nullopt otherwise.
std::optional<time_t> ParseHttpDate(const std::string& text) {
  struct tm tm = {};
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end) return std::nullopt;
  return timegm(&tm);
}

/// Runs git with no prompt for credentials (a build must never wait on a terminal) and its stderr in errors.
Result<std::string> Git(const std::vector<std::string>& args, const std::function<bool()>& cancelled) {
  std::vector<std::string> argv = {"env", "GIT_TERMINAL_PROMPT=0", "git"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string out, err;
  ProcessOptions o;
  o.on_output = [&](int fd, std::string_view d) { (fd == 1 ? out : err).append(d); };
  o.cancelled = cancelled;
  KILN_ASSIGN(int code, RunProcess(argv, o));
  if (code == 127) return Status::Error("git is not installed (git sources are fetched with the git CLI)");
  if (code != 0) {
    while (!err.empty() && err.back() == '\n') err.pop_back();
    return Status::Error("git " + args.at(args.size() > 2 ? 2 : 0) + " failed" + (err.empty() ? "" : ": " + err));
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

/// Whether the URL still serves what `memo` recorded of its last download, asked with a HEAD request as BuildKit
/// asks: the server answers 304 to the validators, or names the same ETag (a server that ignores conditional
/// requests still sends its ETag, and no body is sent either way). A failed HEAD is not an error: the GET that
/// follows says what is wrong.
Result<bool> StillTheSame(const std::string& url, const Json& memo, const std::function<bool()>& cancelled) {
  std::string etag = memo.value("etag", ""), last_modified = memo.value("last_modified", "");
  if (etag.empty() && last_modified.empty()) return false;
  remote::HttpRequest request;
  request.url = url;
  request.method = "HEAD";
  request.follow_redirects = true;
  request.cancelled = cancelled;
  if (!etag.empty()) request.headers.push_back("If-None-Match: " + etag);
  if (!last_modified.empty()) request.headers.push_back("If-Modified-Since: " + last_modified);
  remote::HttpClient client;
  auto response = client.Do(request);
  if (!response.ok()) {
    if (cancelled && cancelled()) return response.status();
    return false;
  }
  if (response->status == 304) return true;
  return response->status >= 200 && response->status <= 299 && !etag.empty() && response->Header("etag") == etag;
}

/// A whole commit id (SHA-1 or SHA-256): the only form of a commit a ref may name, as in BuildKit; a prefix is
/// not looked up (it could name another commit tomorrow).
bool IsFullCommit(const std::string& ref) {
  return (ref.size() == 40 || ref.size() == 64) &&
         std::all_of(ref.begin(), ref.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

}  // namespace

Result<Fetched> FetchHttp(const graph::HttpSource& s, const std::string& work_dir, const store::ContentStore& content,
                          const std::string& memo_dir, const std::function<bool()>& cancelled) {
  // What this URL's last download was: {"etag", "last_modified", "digest"}, its content a blob of the store.
  std::string memo_path = JoinPath(memo_dir, DigestHex(DigestOf(s.url)) + ".json");
  Json memo = Json::object();
  if (auto text = ReadFile(memo_path); text.ok()) {
    auto parsed = ParseJson(*text);
    if (parsed.ok() && parsed->is_object() && parsed->value("digest", "").rfind("sha256:", 0) == 0 &&
        content.Has(parsed->value("digest", ""))) {
      memo = *parsed;
    }
  }
  std::string digest, last_modified;
  if (!s.checksum.empty() && memo.value("digest", "") == s.checksum) {
    digest = s.checksum;  // pinned and kept: no need to ask
    last_modified = memo.value("last_modified", "");
  } else if (memo.contains("digest")) {
    KILN_ASSIGN(bool unchanged, StillTheSame(s.url, memo, cancelled));
    if (unchanged) {
      digest = memo.value("digest", "");
      last_modified = memo.value("last_modified", "");
    }
  }
  if (digest.empty()) {
    KILN_ASSIGN(store::BlobWriter writer, content.NewWriter());
    Sha256 hash;
    remote::HttpRequest request;
    request.url = s.url;
    request.follow_redirects = true;
    request.cancelled = cancelled;
    request.on_body = [&](std::string_view data) -> Status {
      hash.Update(data);
      return writer.Write(data.data(), data.size());
    };
    remote::HttpClient client;
    auto response = client.Do(request);
    if (!response.ok()) return response.status().Prefixed(s.url);
    if (response->status < 200 || response->status > 299) {
      return Status::Error(s.url + ": the server answered HTTP " + std::to_string(response->status));
    } else {
      digest = hash.Finish();
      KILN_TRY(writer.Commit(digest));
      last_modified = response->Header("last-modified");
      memo = {{"url", s.url}, {"etag", response->Header("etag")}, {"last_modified", last_modified}, {"digest", digest}};
      // Remembering is an optimisation: a failure to write it costs the next build a download, nothing more.
      if (MakeDirs(memo_dir, 0700).ok()) (void)WriteFileAtomic(memo_path, memo.dump(), 0600);
    }
  }
  if (!s.checksum.empty() && s.checksum != digest) {
    return Status::Error(s.url + ": checksum mismatch: expected " + s.checksum + ", the download is " + digest);
  }
  std::string file = JoinPath(work_dir, s.filename);
  KILN_TRY(CopyFileAtomic(content.BlobPath(digest), file, 0600));
  // BuildKit dates the file by Last-Modified, and leaves it as it was downloaded when there is none.
  if (auto modified = ParseHttpDate(last_modified)) {
    struct timespec times[2] = {{*modified, 0}, {*modified, 0}};
    if (utimensat(AT_FDCWD, file.c_str(), times, 0) != 0) return ErrnoError("set the time of", file);
  }
  return Fetched{work_dir, digest};
}

Result<Fetched> FetchGit(const graph::GitSource& s, const std::string& work_dir, const std::function<bool()>& cancelled) {
  if (!s.checksum.empty() && !std::all_of(s.checksum.begin(), s.checksum.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); })) {
    return Status::Error(s.remote + ": invalid checksum " + s.checksum + " for Git URL, expected hex commit hash");
  }
  std::string repo = JoinPath(work_dir, "checkout");
  // Without a ref, a whole commit given as the checksum is what to check out, as in BuildKit; else HEAD.
  std::string ref = !s.ref.empty() ? s.ref : IsFullCommit(s.checksum) ? s.checksum : "HEAD";
  KILN_TRY(Git({"init", "-q", repo}, cancelled).status());
  KILN_TRY(Git({"-C", repo, "remote", "add", "origin", s.remote}, cancelled).status());
  // Shallow first; servers that cannot (the "dumb" HTTP protocol) get a full fetch of the ref, and a commit that
  // no ref names is looked for among all the branches and tags.
  bool fetched_ref = Git({"-C", repo, "fetch", "-q", "--depth=1", "origin", ref}, cancelled).ok();
  if (!fetched_ref) {
    auto full = Git({"-C", repo, "fetch", "-q", "origin", ref}, cancelled);
    fetched_ref = full.ok();
    if (!fetched_ref && !IsFullCommit(ref)) {
      return Status::Error(s.remote + ": repository does not contain ref " + ref + " (" + full.status().message() + ")");
    }
  }
  if (!fetched_ref) {
    KILN_TRY(Git({"-C", repo, "fetch", "-q", "origin", "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"},
                 cancelled).status().Prefixed(s.remote));
  }
  auto commit = Git({"-C", repo, "rev-parse", "-q", "--verify", (fetched_ref ? "FETCH_HEAD" : ref) + "^{commit}"}, cancelled);
  if (!commit.ok()) return Status::Error(s.remote + ": repository does not contain ref " + ref);
  if (!s.checksum.empty() && commit->rfind(s.checksum, 0) != 0) {
    return Status::Error(s.remote + ": expected checksum to match " + s.checksum + ": ref " + ref + " is commit " + *commit);
  }
  KILN_TRY(Git({"-C", repo, "-c", "advice.detachedHead=false", "checkout", "-q", *commit}, cancelled).status());
  if (s.submodules && PathExists(JoinPath(repo, ".gitmodules"))) {
    KILN_TRY(Git({"-C", repo, "submodule", "update", "-q", "--init", "--recursive"}, cancelled)
                 .status().Prefixed(s.remote + ": submodules"));
  }
  if (!s.keep_git_dir) KILN_TRY(RemoveAll(JoinPath(repo, ".git")));
  std::string dir = repo;
  if (!s.subdir.empty()) {
    KILN_ASSIGN(dir, snapshot::ResolveInRoot(repo, CleanPath("/" + s.subdir)));
    if (!IsDirectory(dir)) return Status::Error(s.remote + ": " + s.subdir + " is not a directory at " + ref);
  }
  return Fetched{dir, *commit};
}

}  // namespace kiln::solver
