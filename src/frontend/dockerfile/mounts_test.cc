#include "frontend/dockerfile/mounts.h"

#include <gtest/gtest.h>

namespace kiln::dockerfile {
namespace {

TEST(ParseMount, SecretDefaultsAsBuildKit) {
  auto m = ParseMount("type=secret,id=npm");
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->id, "npm");
  EXPECT_EQ(m->target, "/run/secrets/npm");
  EXPECT_EQ(m->mode, 0400u);
  EXPECT_FALSE(m->required);
  EXPECT_TRUE(m->env.empty());
}

TEST(ParseMount, SecretOptions) {
  auto m = ParseMount("type=secret,id=tok,dst=/root/.config//tok,required,mode=0440,uid=1000,gid=50");
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->target, "/root/.config/tok");
  EXPECT_TRUE(m->required);
  EXPECT_EQ(m->mode, 0440u);
  EXPECT_EQ(m->uid, 1000u);
  EXPECT_EQ(m->gid, 50u);
  EXPECT_FALSE(ParseMount("type=secret,id=x,required=false")->required);
}

TEST(ParseMount, IdDefaultsToTargetBaseName) {
  auto m = ParseMount("type=secret,target=/etc/app/key.pem");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->id, "key.pem");
}

TEST(ParseMount, EnvOnlyUnlessATargetIsGiven) {
  auto env_only = ParseMount("type=secret,id=api,env=API_KEY");
  ASSERT_TRUE(env_only.ok());
  EXPECT_EQ(env_only->env, "API_KEY");
  EXPECT_EQ(env_only->target, "");
  auto both = ParseMount("type=secret,id=api,env=API_KEY,target=/k");
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->target, "/k");
}

TEST(ParseMount, Errors) {
  EXPECT_NE(ParseMount("type=secret").status().message().find("needs id= or target="), std::string::npos);
  EXPECT_NE(ParseMount("type=secret,id=x,mode=9").status().message().find("mode: bad number"), std::string::npos);
  EXPECT_NE(ParseMount("type=secret,id=x,colour=red").status().message().find("unexpected key"), std::string::npos);
  EXPECT_NE(ParseMount("type=secret,id=x,target=rel").status().message().find("absolute"), std::string::npos);
  EXPECT_NE(ParseMount("type=cache,target=/c").status().message().find("not supported yet"), std::string::npos);
  EXPECT_NE(ParseMount("target=/c").status().message().find("type=bind is not supported yet"), std::string::npos);
  EXPECT_NE(ParseMount("type=weird").status().message().find("unknown mount type"), std::string::npos);
  EXPECT_NE(ParseMount("type=secret,id=\"x").status().message().find("unterminated quote"), std::string::npos);
}

}  // namespace
}  // namespace kiln::dockerfile
