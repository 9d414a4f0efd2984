#include "frontend/dockerfile/lint.h"

#include <gtest/gtest.h>

#include <set>

namespace kiln::dockerfile {
namespace {

std::set<std::string> Rules(const std::string& text) {
  auto df = Parse(text, "Dockerfile");
  EXPECT_TRUE(df.ok()) << df.status().message();
  std::set<std::string> rules;
  for (auto& f : Lint(*df)) rules.insert(f.rule + "@" + std::to_string(f.line));
  return rules;
}

TEST(Lint, FindsBuildKitsChecks) {
  auto r = Rules(
      "FROM busybox as Build\n"       // 1 FromAsCasing, StageNameCasing
      "MAINTAINER me\n"               // 2
      "WORKDIR app\n"                 // 3 WorkdirRelativePath
      "ENV API_TOKEN secret-value\n"  // 4 LegacyKeyValueFormat, SecretsUsedInArgOrEnv
      "CMD echo one\n"                // 5 JSONArgsRecommended, MultipleInstructionsDisallowed
      "run echo hi\n"                 // 6 ConsistentInstructionCasing
      "CMD [\"two\"]\n");
  for (const char* want : {"FromAsCasing@1", "StageNameCasing@1", "MaintainerDeprecated@2", "WorkdirRelativePath@3",
                           "LegacyKeyValueFormat@4", "SecretsUsedInArgOrEnv@4", "JSONArgsRecommended@5",
                           "MultipleInstructionsDisallowed@5", "ConsistentInstructionCasing@6"}) {
    EXPECT_TRUE(r.count(want)) << want;
  }
  EXPECT_EQ(r.size(), 9u);
}

TEST(Lint, CleanFileHasNoFindings) {
  EXPECT_TRUE(Rules("FROM busybox AS build\nWORKDIR /app\nENV A=1\nARG VERSION=1\nCMD [\"sh\"]\n").empty());
}

TEST(Lint, SecretLookingNamesAreBuildKits) {
  // BuildKit's words, whole or between '_', in any case; not words that merely contain them, nor "public" names.
  for (const char* name : {"DB_PASSWORD", "Token", "GITHUB_TOKEN_X", "credentials", "apikey", "git_key"})
    EXPECT_TRUE(Rules(std::string("FROM busybox\nARG ") + name + "=1\n").count("SecretsUsedInArgOrEnv@2")) << name;
  for (const char* name : {"MONKEY", "KEYS", "AUTHOR", "TOKENS", "passwords", "VERSION", "PUBLIC_KEY", "public_token",
                           "api-key", "myApiKey"})
    EXPECT_FALSE(Rules(std::string("FROM busybox\nARG ") + name + "=1\n").count("SecretsUsedInArgOrEnv@2")) << name;
  // What provenance hides is wider: a name that may hold a secret is not written there.
  for (const char* name : {"api-key", "myApiKey", "x-Auth"}) EXPECT_TRUE(LooksSecret(name)) << name;
}

}  // namespace
}  // namespace kiln::dockerfile
