// Build contexts named by URL, as `docker build` takes them: a git repository ("https://host/repo.git#ref:subdir",
// "git@host:repo.git", "ssh://", "git://"), or an http(s) URL of a tarball (plain or compressed) or of a lone
// Dockerfile. Each is fetched into a directory of the store's own that lives as long as the build.
#include <cstring>

#include "api/engine.h"
#include "api/engine_state.h"
#include "frontend/dockerfile/sources.h"
#include "snapshot/extract.h"
#include "solver/remote_source.h"

namespace kiln::api {

Result<std::optional<std::string>> UnpackContextFile(const std::string& file, const std::string& dir) {
  KILN_TRY(MakeDirs(dir, 0755));
  if (!snapshot::IsTarArchive(file)) {
    KILN_ASSIGN(std::string text, ReadFile(file));
    return std::optional<std::string>(std::move(text));
  }
  KILN_TRY(snapshot::ExtractArchiveInLayer(file, snapshot::LayerTarget{dir, dir}, "/", std::nullopt, std::nullopt));
  return std::optional<std::string>();
}

bool IsRemoteContext(const std::string& context) {
  if (dockerfile::IsHttpUrl(context)) return true;
  auto git = dockerfile::ParseGitRef(context);
  return !git.ok() || git->has_value();  // a git URL with a bad query is still one, and its error is shown
}

Result<FetchedContext> Engine::FetchContext(const std::string& url, const std::function<bool()>& cancelled) {
  auto fail = [&](const Status& st) { return st.Prefixed("build context " + url); };
  FetchedContext out;
  auto dir = s_->snapshotter->FetchDir();
  if (!dir.ok()) return fail(dir.status());
  out.dir = std::make_unique<TempDir>(std::move(*dir));
  auto git = dockerfile::ParseGitRef(url);
  if (!git.ok()) return fail(git.status());
  if (git->has_value()) {
    const dockerfile::GitRef& ref = **git;
    graph::GitSource source{ref.remote, ref.ref, ref.subdir, ref.keep_git_dir.value_or(false), ref.checksum, ref.submodules};
    auto fetched = solver::FetchGit(source, JoinPath(out.dir->path(), "git"), cancelled);
    if (!fetched.ok()) return fail(fetched.status());
    out.context = fetched->dir;
    return out;
  }
  // Over HTTP: a tarball is the context; anything else is the Dockerfile, with an empty context, as in BuildKit.
  graph::HttpSource source{url, "download", ""};
  std::string download_dir = JoinPath(out.dir->path(), "download");
  KILN_TRY(fail(MakeDirs(download_dir, 0700)));
  auto fetched = solver::FetchHttp(source, download_dir, *s_->content, JoinPath(s_->snapshotter->root(), "downloads"), cancelled);
  if (!fetched.ok()) return fail(fetched.status());
  out.context = JoinPath(out.dir->path(), "context");
  auto dockerfile = UnpackContextFile(JoinPath(fetched->dir, "download"), out.context);
  if (!dockerfile.ok()) return fail(dockerfile.status());
  out.dockerfile_text = std::move(*dockerfile);
  return out;
}

}  // namespace kiln::api
