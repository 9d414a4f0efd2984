#include "frontend/dockerfile/checks.h"

#include <gtest/gtest.h>

#include <set>

#include "frontend/dockerfile/convert.h"
#include "frontend/dockerfile/lint.h"

namespace kiln::dockerfile {
namespace {

/// Every finding of a Dockerfile (the file's own checks and those found lowering it), as "Rule@line".
std::set<std::string> Findings(const std::string& text, const std::string& config = "experimental=all",
                               std::vector<std::string> excludes = {}) {
  auto df = Parse(text, "Dockerfile");
  EXPECT_TRUE(df.ok()) << df.status().message();
  ConvertOptions o;
  o.context_dir = "/ctx";
  o.exclude_patterns = std::move(excludes);
  o.all_stages = true;
  o.resolve = [](const std::string& ref, const kiln::oci::Platform&) -> Result<ResolvedImage> {
    ResolvedImage img;
    img.manifest_digest = "sha256:" + std::string(64, 'a');
    img.config.config.env = {"PATH=/bin"};
    if (ref == "arm-image") img.config.platform = {"linux", "arm64", "", ""};
    return img;
  };
  auto def = Convert(*df, o);
  EXPECT_TRUE(def.ok()) << def.status().message();
  std::vector<Finding> all = Lint(*df);
  if (def.ok()) all.insert(all.end(), def->findings.begin(), def->findings.end());
  auto parsed = CheckConfig::Parse(config);
  EXPECT_TRUE(parsed.ok());
  std::set<std::string> out;
  for (auto& f : SelectFindings(all, *parsed)) out.insert(f.rule + "@" + std::to_string(f.line));
  return out;
}

TEST(Checks, TwentyTwoRulesAsBuildKitNamesThem) {
  EXPECT_EQ(Rules().size(), 22u);
  ASSERT_NE(FindRule("UndefinedVar"), nullptr);
  EXPECT_STREQ(FindRule("UndefinedVar")->description, "Variables should be defined before their use");
  EXPECT_TRUE(FindRule("CopyIgnoredFile")->experimental);
}

TEST(Checks, ThoseThatNeedArgsStagesAndImages) {
  auto r = Findings(
      "ARG BASE\n"                                           // 1
      "FROM ${BASE:-img} AS one\n"                           // 2 InvalidDefaultArgInFrom? no: has a default
      "FROM img:$UNDECLARED AS two\n"                        // 3 UndefinedArgInFrom, InvalidDefaultArgInFrom
      "FROM --platform=$TARGETPLATFORM img AS three\n"       // 4 RedundantTargetPlatform
      "FROM --platform=linux/amd64 img AS four\n"            // 5 FromPlatformFlagConstDisallowed
      "FROM --platform=linux/amd64 img AS build-amd64\n"     // 6 (the stage's name says why)
      "FROM arm-image AS five\n"                             // 7 InvalidBaseImagePlatform
      "ARG DECLARED\n"                                       // 8
      "ENV A=$DECLARED B=$MISSING C=$PAHT\n"                 // 9 UndefinedVar x2
      "COPY secret.txt ./kept/ /dst/\n"                      // 10 CopyIgnoredFile
      "EXPOSE 80/TCP 8080:80\n"                              // 11 ExposeProtoCasing, ExposeInvalidFormat
      "RUN echo \\\n"                                        // 12
      "\n"
      "  done\n",                                           // 14 NoEmptyContinuation: the instruction's last line
      "experimental=all", {"secret.txt"});
  for (const char* want : {"UndefinedArgInFrom@3", "InvalidDefaultArgInFrom@3", "RedundantTargetPlatform@4",
                           "FromPlatformFlagConstDisallowed@5", "InvalidBaseImagePlatform@7", "UndefinedVar@9",
                           "CopyIgnoredFile@10", "ExposeProtoCasing@11", "ExposeInvalidFormat@11",
                           "NoEmptyContinuation@14"}) {
    EXPECT_TRUE(r.count(want)) << want;
  }
  EXPECT_FALSE(r.count("InvalidDefaultArgInFrom@2"));
  EXPECT_FALSE(r.count("FromPlatformFlagConstDisallowed@6"));
  EXPECT_FALSE(r.count("UndefinedVar@10"));
}

TEST(Checks, UndefinedVarSuggestsAndSkipsDeclaredArgs) {
  auto df = Parse("FROM img\nARG NOVALUE\nENV X=$NOVALUE Y=$PAHT\n", "Dockerfile");
  ASSERT_TRUE(df.ok());
  ConvertOptions o;
  o.resolve = [](const std::string&, const kiln::oci::Platform&) -> Result<ResolvedImage> {
    ResolvedImage img;
    img.config.config.env = {"PATH=/bin"};
    return img;
  };
  auto def = Convert(*df, o);
  ASSERT_TRUE(def.ok());
  ASSERT_EQ(def->findings.size(), 1u);
  EXPECT_EQ(def->findings[0].message, "Usage of undefined variable '$PAHT' (did you mean $PATH?)");
}

TEST(Checks, ConfigurationSkipsErrorsAndExperimentalRules) {
  auto c = CheckConfig::Parse("skip=JSONArgsRecommended, StageNameCasing;error=true");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->error);
  EXPECT_FALSE(c->Enabled("JSONArgsRecommended"));
  EXPECT_FALSE(c->Enabled("StageNameCasing"));
  EXPECT_TRUE(c->Enabled("UndefinedVar"));
  EXPECT_FALSE(c->Enabled("CopyIgnoredFile"));  // experimental: off unless named
  EXPECT_TRUE(CheckConfig::Parse("experimental=CopyIgnoredFile")->Enabled("CopyIgnoredFile"));
  EXPECT_FALSE(CheckConfig::Parse("skip=all")->Enabled("UndefinedVar"));
  EXPECT_FALSE(CheckConfig::Parse("skip").ok());
  EXPECT_FALSE(CheckConfig::Parse("error=maybe").ok());
  EXPECT_FALSE(CheckConfig::Parse("colour=blue").ok());
  EXPECT_TRUE(Findings("FROM img\nCMD echo\n", "skip=JSONArgsRecommended").empty());
}

TEST(Checks, DescriptionsTargetsAndOutline) {
  auto df = Parse(
      "ARG BASE=img\n"
      "# build compiles the app\n"
      "FROM $BASE AS build\n"
      "# VERSION which version to build\n"
      "ARG VERSION=1.0\n"
      "ARG UNUSED=x\n"
      "RUN --mount=type=secret,id=token,required=true echo $VERSION\n"
      "# a comment that is no description\n"
      "FROM img AS final\n"
      "RUN --mount=type=ssh true\n",
      "Dockerfile");
  ASSERT_TRUE(df.ok());
  auto targets = ListTargets(*df);
  ASSERT_EQ(targets.size(), 2u);
  EXPECT_EQ(targets[0].name, "build");
  EXPECT_EQ(targets[0].description, "compiles the app");
  EXPECT_EQ(targets[0].base, "$BASE");
  EXPECT_FALSE(targets[0].is_default);
  EXPECT_TRUE(targets[1].is_default);
  EXPECT_EQ(targets[1].description, "");

  ConvertOptions o;
  o.target = "build";
  o.resolve = [](const std::string&, const kiln::oci::Platform&) -> Result<ResolvedImage> { return ResolvedImage{}; };
  auto def = Convert(*df, o);
  ASSERT_TRUE(def.ok()) << def.status().message();
  const Outline& out = def->outline;
  EXPECT_EQ(out.name, "build");
  EXPECT_EQ(out.description, "compiles the app");
  // As BuildKit's: the global ARGs the stage's FROM names, and every ARG of the stage, used by a command or not.
  ASSERT_EQ(out.args.size(), 3u);
  EXPECT_EQ(out.args[0].name, "BASE");
  EXPECT_EQ(out.args[1].name, "VERSION");
  EXPECT_EQ(out.args[1].value, "1.0");
  EXPECT_EQ(out.args[1].description, "which version to build");
  EXPECT_EQ(out.args[2].name, "UNUSED");
  ASSERT_EQ(out.secrets.size(), 1u);
  EXPECT_EQ(out.secrets[0].id, "token");
  EXPECT_TRUE(out.secrets[0].required);
  EXPECT_TRUE(out.ssh.empty());  // the ssh mount is in a stage the target does not need

  // InvalidDefinitionDescription (experimental): a comment right above FROM ... AS must start with the name.
  EXPECT_TRUE(Findings("# a comment\nFROM img AS final\n").count("InvalidDefinitionDescription@2"));
  EXPECT_FALSE(Findings("# final the image\nFROM img AS final\n").count("InvalidDefinitionDescription@2"));
}

}  // namespace
}  // namespace kiln::dockerfile
