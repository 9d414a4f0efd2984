#include "frontend/dockerfile/convert.h"

#include <gtest/gtest.h>

#include "base/digest.h"

#include "frontend/dockerfile/lowering.h"

namespace kiln::dockerfile {
namespace {

class ConvertTest : public ::testing::Test {
 protected:
  std::vector<std::string> resolved;
  ConvertOptions Options() {
    ConvertOptions o;
    o.context_dir = "/ctx";
    o.epoch = 0;
    o.resolve = [this](const std::string& ref, const kiln::oci::Platform&) -> Result<ResolvedImage> {
      resolved.push_back(ref);
      if (ref == "missing") return Status::Error("image \"missing\" not found");
      ResolvedImage img;
      img.manifest_digest = "sha256:" + std::string(64, 'a');
      img.config.config.env = {"PATH=/bin", "BASE=1"};
      img.config.config.cmd = std::vector<std::string>{"base-cmd"};
      img.config.history.push_back({"", "base layer", "", false});
      return img;
    };
    return o;
  }
  Result<BuildDefinition> Build(const std::string& text, ConvertOptions o) {
    auto df = Parse(text, "Dockerfile");
    if (!df.ok()) return df.status();
    return Convert(*df, o);
  }
  const graph::ExecOp& LastExec(const BuildDefinition& d) {
    return std::get<graph::ExecOp>(d.graph.at(d.result).op);
  }
};

TEST_F(ConvertTest, PlatformsShareWhatDoesNotDependOnTheTarget) {
  const std::string text =
      "FROM --platform=$BUILDPLATFORM img AS tools\nRUN make-tool\n"
      "FROM --platform=$BUILDPLATFORM img AS cross\nARG TARGETARCH\nRUN build-for $TARGETARCH\n"
      "FROM img\nCOPY --from=tools /t /t\nCOPY --from=cross /c /c\nRUN uname -m\n";
  std::vector<BuildDefinition> defs;
  std::vector<std::string> platforms;
  for (const char* p : {"linux/amd64", "linux/arm64"}) {
    auto o = Options();
    o.platform = *oci::Platform::Parse(p);
    o.name_platform = true;
    o.resolve = [&platforms](const std::string&, const oci::Platform& platform) -> Result<ResolvedImage> {
      platforms.push_back(platform.ToString());
      ResolvedImage img;
      img.manifest_digest = DigestOf(platform.ToString());  // one image per platform
      return img;
    };
    auto d = Build(text, o);
    ASSERT_TRUE(d.ok()) << d.status().message();
    defs.push_back(std::move(*d));
  }
  // Every stage's base was resolved for its own platform: the $BUILDPLATFORM ones for this host's.
  std::string host = oci::Platform::Host().ToString();
  EXPECT_EQ(platforms, (std::vector<std::string>{"linux/amd64", host, host, "linux/arm64", host, host}));
  graph::Graph merged = defs[0].graph;
  size_t before = merged.vertices().size();
  std::vector<size_t> where = merged.Merge(defs[1].graph);
  auto execs = [&](const std::string& needle) {
    std::vector<std::string> found;
    for (auto& v : merged.vertices())
      if (auto* e = std::get_if<graph::ExecOp>(&v.op); e && e->args.back().find(needle) != std::string::npos)
        found.push_back(e->platform);
    return found;
  };
  EXPECT_EQ(execs("make-tool"), std::vector<std::string>{host}) << "one tool build for both platforms";
  EXPECT_EQ(execs("build-for"), (std::vector<std::string>{host, host})) << "one cross build per TARGETARCH";
  EXPECT_EQ(execs("uname"), (std::vector<std::string>{"linux/amd64", "linux/arm64"}));
  EXPECT_GT(merged.vertices().size(), before);
  EXPECT_NE(where.at(defs[1].result), defs[0].result);
  EXPECT_EQ(defs[1].config.platform.ToString(), "linux/arm64");
  EXPECT_NE(merged.at(where.at(defs[1].result)).name.find("[linux/arm64 stage-2 4/4]"), std::string::npos);
}

TEST_F(ConvertTest, HealthcheckAndInheritedStageArgs) {
  auto d = Build("FROM img AS a\nARG V=1\nHEALTHCHECK --interval=90s --retries=2 CMD curl -f http://x/ || exit 1\n"
                 "FROM a\nARG W=2\nRUN echo $V$W\n",
                 Options());
  ASSERT_TRUE(d.ok()) << d.status().message();
  ASSERT_TRUE(d->config.config.healthcheck);
  EXPECT_EQ(d->config.config.healthcheck->test, (std::vector<std::string>{"CMD-SHELL", "curl -f http://x/ || exit 1"}));
  EXPECT_EQ(d->config.config.healthcheck->interval, 90000000000);
  EXPECT_EQ(d->history.at(2).entry.created_by,  // BuildKit v0.24's %q of the config
            "HEALTHCHECK &{[\"CMD-SHELL\" \"curl -f http://x/ || exit 1\"] \"1m30s\" \"0s\" \"0s\" \"0s\" '\\x02'}");
  // A stage FROM another keeps its build arguments: in RUN's environment and its history.
  EXPECT_EQ(d->history.back().entry.created_by, "RUN |2 V=1 W=2 /bin/sh -c echo $V$W # buildkit");
  auto none = Build("FROM img\nHEALTHCHECK NONE\n", Options());
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->config.config.healthcheck->test, std::vector<std::string>{"NONE"});
  EXPECT_FALSE(Build("FROM img\nHEALTHCHECK --interval=1us CMD true\n", Options()).ok());
  EXPECT_FALSE(Build("FROM img\nHEALTHCHECK WHAT true\n", Options()).ok());
  EXPECT_FALSE(Build("FROM img\nHEALTHCHECK --retries=-1 CMD true\n", Options()).ok());
}

TEST_F(ConvertTest, ArgAndEnvRules) {
  auto o = Options();
  o.build_args = {{"VERSION", "2"}, {"UNUSED", "x"}};
  auto d = Build(
      "ARG BASE_IMAGE=img\n"
      "ARG VERSION=1\n"
      "FROM ${BASE_IMAGE}\n"
      "ARG VERSION\n"
      "ARG LOCAL=${VERSION}-local\n"
      "ENV FROM_ENV=$LOCAL\n"
      "ARG FROM_ENV=shadowed\n"
      "RUN echo $VERSION\n",
      o);
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(resolved, std::vector<std::string>{"img"});
  auto env = d->config.config.env;
  EXPECT_EQ(env, (std::vector<std::string>{"PATH=/bin", "BASE=1", "FROM_ENV=2-local"}));
  const graph::ExecOp& run = LastExec(*d);
  EXPECT_EQ(run.args, (std::vector<std::string>{"/bin/sh", "-c", "echo $VERSION"}));
  // ARG values reach the RUN's environment, not the image's; of an ENV and an ARG of one name the later wins,
  // as in BuildKit. History lists every build argument in scope with the value the command sees.
  EXPECT_EQ(run.env, (std::vector<std::string>{"PATH=/bin", "BASE=1", "VERSION=2", "LOCAL=2-local",
                                               "FROM_ENV=shadowed"}));
  EXPECT_EQ(d->history.back().entry.created_by,
            "RUN |3 VERSION=2 LOCAL=2-local FROM_ENV=shadowed /bin/sh -c echo $VERSION # buildkit");
  // As BuildKit: each ARG is in the history with the value in effect, as an empty layer.
  auto created_by = [&](size_t i) { return d->history.at(d->history.size() - 5 + i).entry.created_by; };
  EXPECT_EQ(created_by(0), "ARG VERSION=2");
  EXPECT_EQ(created_by(1), "ARG LOCAL=2-local");
  EXPECT_EQ(created_by(3), "ARG FROM_ENV=shadowed");
  EXPECT_TRUE(d->history.at(d->history.size() - 5).entry.empty_layer);
  ASSERT_EQ(d->warnings.size(), 1u);
  EXPECT_NE(d->warnings[0].find("UNUSED"), std::string::npos);
}

TEST_F(ConvertTest, GlobalArgNotVisibleInStageUnlessRedeclared) {
  auto d = Build("ARG X=global\nFROM img\nRUN echo $X\nENV Y=${X:-unset}\n", Options());
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->config.config.GetEnv("Y"), "unset");
}

TEST_F(ConvertTest, TargetSkipsUnneededStages) {
  auto o = Options();
  o.target = "First";
  auto d = Build("FROM img AS first\nRUN a\nFROM missing AS second\nRUN b\n", o);
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(resolved, std::vector<std::string>{"img"});
  EXPECT_EQ(LastExec(*d).args.back(), "a");
  o.target = "nope";
  auto bad = Build("FROM img AS first\n", o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("target stage \"nope\""), std::string::npos);
}

TEST_F(ConvertTest, StagesAndCopyFrom) {
  auto d = Build("FROM img AS build\nWORKDIR /src\nRUN make\nFROM scratch\nCOPY --from=build /src/out /bin/\n"
                 "COPY a b /dst/\nENTRYPOINT [\"/bin/out\"]\n",
                 Options());
  ASSERT_TRUE(d.ok()) << d.status().message();
  const graph::Vertex& last = d->graph.at(d->result);
  auto& copy = std::get<graph::CopyAction>(std::get<graph::FileOp>(last.op).actions[0]);
  EXPECT_EQ(copy.sources, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(copy.dest, "/dst/");
  EXPECT_TRUE(copy.reset_owner);
  EXPECT_EQ(last.location, "Dockerfile:6");
  const graph::Vertex& from_build = d->graph.at(last.inputs[0]);
  auto& copy2 = std::get<graph::CopyAction>(std::get<graph::FileOp>(from_build.op).actions[0]);
  EXPECT_EQ(copy2.dest, "/bin/");
  EXPECT_FALSE(copy2.reset_owner);
  // scratch images carry the default PATH, and an ENTRYPOINT drops the CMD it did not set.
  EXPECT_EQ(d->config.config.GetEnv("PATH"), "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  EXPECT_FALSE(d->config.config.cmd.has_value());
  EXPECT_EQ(*d->config.config.entrypoint, std::vector<std::string>{"/bin/out"});
}

TEST_F(ConvertTest, MetadataInstructions) {
  auto d = Build("FROM img\nLABEL a=1 \"b c\"=\"2 3\"\nEXPOSE 80 53/udp\nUSER app:app\nWORKDIR rel\nWORKDIR sub\n"
                 "VOLUME /data\nSTOPSIGNAL SIGINT\nENV legacy value with spaces\nCMD echo hi\n",
                 Options());
  ASSERT_TRUE(d.ok()) << d.status().message();
  const auto& c = d->config.config;
  EXPECT_EQ(c.labels.at("a"), "1");
  EXPECT_EQ(c.labels.at("b c"), "2 3");
  EXPECT_EQ(c.exposed_ports, (std::vector<std::string>{"53/udp", "80/tcp"}));
  EXPECT_EQ(c.user, "app:app");
  EXPECT_EQ(c.working_dir, "/rel/sub");
  EXPECT_EQ(c.volumes, std::vector<std::string>{"/data"});
  EXPECT_EQ(c.stop_signal, "SIGINT");
  EXPECT_EQ(c.GetEnv("legacy"), "value with spaces");
  EXPECT_EQ(*c.cmd, (std::vector<std::string>{"/bin/sh", "-c", "echo hi"}));
  // history: the base's line, then one per instruction; WORKDIR's layer is not marked as a step BuildKit ran
  EXPECT_EQ(d->history.front().entry.created_by, "base layer");
  EXPECT_EQ(d->history.size(), 10u);
  EXPECT_EQ(d->history.at(4).entry.created_by, "WORKDIR /rel");
  EXPECT_FALSE(d->history.at(4).entry.empty_layer);
  EXPECT_EQ(d->history.at(3).entry.created_by, "USER app:app");
  EXPECT_EQ(d->history.at(2).entry.created_by, "EXPOSE [80/tcp 53/udp]");  // Dockerfile 1.26: as given
  EXPECT_EQ(d->history.back().entry.created_by, "CMD [\"/bin/sh\" \"-c\" \"echo hi\"]");  // Go's %q
  EXPECT_TRUE(c.args_escaped);
}

TEST_F(ConvertTest, ErrorsNameTheLine) {
  auto o = Options();
  auto missing = Build("FROM img\n\nFROM missing\n", o);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "Dockerfile:3:6: image \"missing\" not found");
  auto flag = Build("FROM img\nCOPY --bogus a b\n", o);
  ASSERT_FALSE(flag.ok());
  EXPECT_EQ(flag.status().message(), "Dockerfile:2:6: unknown flag: --bogus");
  auto typo = Build("FROM img\nCOPY --chwon=1 a b\n", o);
  ASSERT_FALSE(typo.ok());
  EXPECT_EQ(typo.status().message(), "Dockerfile:2:6: unknown flag: --chwon (did you mean chown?)");
  auto add_from = Build("FROM img\nADD --from=img a b/\n", o);  // a COPY flag ADD does not take
  ASSERT_FALSE(add_from.ok());
  EXPECT_EQ(add_from.status().message(), "Dockerfile:2:5: unknown flag: --from");
  auto multi = Build("FROM img\nCOPY a b c\n", o);
  ASSERT_FALSE(multi.ok());
  EXPECT_NE(multi.status().message().find("must be a directory"), std::string::npos);
  auto nofrom = Build("RUN x\n", o);
  ASSERT_FALSE(nofrom.ok());
  EXPECT_NE(nofrom.status().message().find("Dockerfile:1"), std::string::npos);
  o.target = "first";
  auto later = Build("FROM img AS first\nCOPY --from=later /a /b\nFROM img AS later\n", o);
  ASSERT_FALSE(later.ok());
  EXPECT_EQ(later.status().message(), "Dockerfile:2:19: cannot copy from stage \"later\", it needs to be defined "
                                      "before current stage \"first\"");
  auto later_mount = Build("FROM img AS first\nRUN --mount=from=later,target=/m x\nFROM img AS later\n", o);
  ASSERT_FALSE(later_mount.ok());
  EXPECT_NE(later_mount.status().message().find("cannot mount from stage \"later\" to \"/m\", stage needs to be "
                                                "defined before current command"),
            std::string::npos);
}

TEST_F(ConvertTest, DigestsAreStable) {
  auto a = Build("FROM img\nRUN echo hi\n", Options());
  auto b = Build("FROM img\nRUN echo hi\n", Options());
  auto c = Build("FROM img\nRUN echo bye\n", Options());
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->graph.at(a->result).digest, b->graph.at(b->result).digest);
  EXPECT_NE(a->graph.at(a->result).digest, c->graph.at(c->result).digest);
}

}  // namespace
}  // namespace kiln::dockerfile

namespace kiln::dockerfile::internal {
namespace {

TEST(ParsePort, AsBuildKitReadsExpose) {
  EXPECT_EQ(*ParsePort("80"), std::vector<std::string>{"80/tcp"});
  EXPECT_EQ(*ParsePort("53/UDP"), std::vector<std::string>{"53/udp"});
  EXPECT_EQ(*ParsePort("8000-8002/sctp"), (std::vector<std::string>{"8000/sctp", "8001/sctp", "8002/sctp"}));
  EXPECT_EQ(*ParsePort("127.0.0.1:8080:80"), std::vector<std::string>{"80/tcp"});
  EXPECT_FALSE(ParsePort("80/icmp").ok());
  EXPECT_FALSE(ParsePort("70000").ok());
  EXPECT_FALSE(ParsePort("90-80").ok());
  EXPECT_FALSE(ParsePort("/tcp").ok());
}

}  // namespace
}  // namespace kiln::dockerfile::internal
