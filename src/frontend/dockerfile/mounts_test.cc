#include "frontend/dockerfile/mounts.h"

#include <gtest/gtest.h>

namespace kiln::dockerfile {
namespace {

/// The secret a --mount value describes (a failed parse, or another type, is the error).
Result<graph::SecretMount> Secret(const std::string& spec) {
  KILN_ASSIGN(ParsedMount m, ParseMount(spec));
  if (auto* s = std::get_if<graph::SecretMount>(&m.mount)) return *s;
  return Status::Error("not a secret");
}

graph::ExecMount Other(const std::string& spec, const std::string& cwd = "/", std::string* from = nullptr) {
  auto m = ParseMount(spec, cwd);
  EXPECT_TRUE(m.ok()) << spec << ": " << m.status().message();
  if (!m.ok()) return {};
  if (from) *from = m->from;
  return std::get<graph::ExecMount>(m->mount);
}

std::string ErrorOf(const std::string& spec) { return ParseMount(spec).status().message(); }

TEST(ParseMount, SecretDefaultsAsBuildKit) {
  auto m = Secret("type=secret,id=npm");
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->id, "npm");
  EXPECT_EQ(m->target, "/run/secrets/npm");
  EXPECT_EQ(m->mode, 0400u);
  EXPECT_FALSE(m->required);
  EXPECT_TRUE(m->env.empty());
}

TEST(ParseMount, SecretOptions) {
  auto m = Secret("type=secret,id=tok,dst=/root/.config//tok,required,mode=0440,uid=1000,gid=50");
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->target, "/root/.config/tok");
  EXPECT_TRUE(m->required);
  EXPECT_EQ(m->mode, 0440u);
  EXPECT_EQ(m->uid, 1000u);
  EXPECT_EQ(m->gid, 50u);
  EXPECT_FALSE(Secret("type=secret,id=x,required=false")->required);
}

TEST(ParseMount, IdDefaultsToTargetBaseName) {
  auto m = Secret("type=secret,target=/etc/app/key.pem");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->id, "key.pem");
}

TEST(ParseMount, EnvOnlyUnlessATargetIsGiven) {
  auto env_only = Secret("type=secret,id=api,env=API_KEY");
  ASSERT_TRUE(env_only.ok());
  EXPECT_EQ(env_only->env, "API_KEY");
  EXPECT_EQ(env_only->target, "");
  auto both = Secret("type=secret,id=api,env=API_KEY,target=/k");
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->target, "/k");
}

TEST(ParseMount, Errors) {
  EXPECT_NE(Secret("type=secret").status().message().find("needs id= or target="), std::string::npos);
  EXPECT_NE(Secret("type=secret,id=x,mode=9").status().message().find("mode: bad number"), std::string::npos);
  EXPECT_NE(Secret("type=secret,id=x,colour=red").status().message().find("unexpected key"), std::string::npos);
  EXPECT_NE(Secret("type=secret,id=x,target=rel").status().message().find("absolute"), std::string::npos);
  EXPECT_NE(ErrorOf("type=weird").find("unsupported mount type \"weird\""), std::string::npos);
  EXPECT_NE(Secret("type=secret,id=\"x").status().message().find("unterminated quote"), std::string::npos);
}

TEST(ParseMount, BindDefaultsAsBuildKit) {
  std::string from = "unset";
  auto m = Other("target=/src", "/", &from);
  EXPECT_EQ(m.type, graph::ExecMount::Type::kBind) << "bind is the default type";
  EXPECT_TRUE(m.readonly);
  EXPECT_EQ(from, "") << "the build context";
  m = Other("type=bind,from=builder,source=out//bin,target=app/bin,rw", "/work", &from);
  EXPECT_EQ(from, "builder");
  EXPECT_EQ(m.source, "/out/bin");
  EXPECT_EQ(m.target, "/work/app/bin") << "a relative target is under the working directory";
  EXPECT_FALSE(m.readonly);
  EXPECT_FALSE(Other("type=bind,target=/x,readwrite=true").readonly);
  EXPECT_TRUE(Other("type=bind,target=/x,rw=false").readonly);
}

TEST(ParseMount, CacheDefaultsAsBuildKit) {
  auto m = Other("type=cache,target=/root/.cache/");
  EXPECT_EQ(m.type, graph::ExecMount::Type::kCache);
  EXPECT_EQ(m.id, "/root/.cache") << "the id defaults to the target";
  EXPECT_EQ(m.sharing, "shared");
  EXPECT_FALSE(m.readonly);
  EXPECT_EQ(m.mode, 0755u);
  m = Other("type=cache,id=go,target=/c,sharing=LOCKED,mode=0700,uid=1000,gid=1000,ro");
  EXPECT_EQ(m.id, "go");
  EXPECT_EQ(m.sharing, "locked");
  EXPECT_EQ(m.mode, 0700u);
  EXPECT_EQ(m.uid, 1000u);
  EXPECT_TRUE(m.readonly);
}

TEST(ParseMount, TmpfsAndSsh) {
  auto t = Other("type=tmpfs,target=/scratch,size=64m");
  EXPECT_EQ(t.size, 64 << 20);
  EXPECT_FALSE(t.readonly);
  EXPECT_EQ(Other("type=tmpfs,target=/t,size=1048576").size, 1 << 20);
  auto s = Other("type=ssh");
  EXPECT_EQ(s.id, "default");
  EXPECT_EQ(s.mode, 0600u);
  EXPECT_FALSE(s.required);
  EXPECT_TRUE(s.target.empty()) << "the converter numbers default targets";
  s = Other("type=ssh,id=github,target=/run/gh.sock,required,mode=0666,uid=1000");
  EXPECT_EQ(s.id, "github");
  EXPECT_TRUE(s.required);
  EXPECT_EQ(s.mode, 0666u);
}

TEST(ParseMount, OtherTypesErrors) {
  EXPECT_NE(ErrorOf("type=cache").find("needs target="), std::string::npos);
  EXPECT_NE(ErrorOf("type=bind,target=/").find("invalid mount target"), std::string::npos);
  EXPECT_NE(ErrorOf("type=bind,target=/x,mode=0700").find("mode not allowed for bind"), std::string::npos);
  EXPECT_NE(ErrorOf("type=tmpfs,target=/x,uid=1").find("uid not allowed for tmpfs"), std::string::npos);
  EXPECT_EQ(ErrorOf("type=bind,target=/x,size=1"), "unexpected key 'size' for mount type 'bind'");
  EXPECT_NE(ErrorOf("type=cache,target=/x,sharing=sometimes").find("unsupported sharing value"), std::string::npos);
  EXPECT_NE(ErrorOf("type=bind,target=/x,sharing=locked").find("sharing is for cache mounts only"), std::string::npos);
  EXPECT_NE(ErrorOf("type=tmpfs,target=/x,size=lots").find("bad size"), std::string::npos);
  EXPECT_NE(ErrorOf("type=ssh,source=/a").find("no source"), std::string::npos);
  EXPECT_EQ(ErrorOf("type=bind,target=/x,required"), "unexpected key 'required' for mount type 'bind'");
  // BuildKit's words, and its suggestions (testMountInvalid).
  EXPECT_EQ(ErrorOf("typ=tmpfs"), "unexpected key 'typ' in 'typ=tmpfs' (did you mean type?)");
  EXPECT_EQ(ErrorOf("type=tmp"), "unsupported mount type \"tmp\" (did you mean tmpfs?)");
  EXPECT_EQ(ErrorOf("type=volume"), "unsupported mount type \"volume\" (bind, cache, tmpfs, secret or ssh)");
  EXPECT_EQ(ErrorOf("type=cache,target=/x,sharing=lockd"), "unsupported sharing value \"lockd\" (did you mean locked?)");
  EXPECT_TRUE(CheckMountAsWritten("from=stage,target=/x").ok());
  EXPECT_EQ(CheckMountAsWritten("from=$stage,target=/x").message(),
            "'from' doesn't support variable expansion, define alias stage instead");
  EXPECT_NE(ErrorOf("type=bind,target").find("key=value"), std::string::npos);
  EXPECT_NE(ErrorOf("type=secret,id=a,from=x").find("no from"), std::string::npos);
}

}  // namespace
}  // namespace kiln::dockerfile
