// Golden lowering tests: each case in testdata/ is a Dockerfile (with the build arguments and target of its
// "# golden-args:" line) and expected.json, the graph it lowers to (each vertex's op, inputs and name), the image
// config and the history. KILN_UPDATE_GOLDEN=1 rewrites expected.json after a deliberate change; read the diff.
#include <gtest/gtest.h>

#include <cstdlib>

#include "base/digest.h"
#include "base/fs.h"
#include "base/json.h"
#include "frontend/dockerfile/convert.h"
#include "frontend/dockerfile/shell.h"

namespace kiln::dockerfile {
namespace {

ConvertOptions GoldenOptions(const std::string& dockerfile_text) {
  ConvertOptions o;
  o.context_dir = "/ctx";
  o.epoch = 0;
  o.exclude_patterns = {"*.secret"};
  // An image's digest and config follow from its name, so expectations do not depend on a store.
  o.resolve = [](const std::string& ref, const kiln::oci::Platform&) -> Result<ResolvedImage> {
    ResolvedImage img;
    img.manifest_digest = DigestOf(ref);
    img.config.config.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "IMAGE=" + ref};
    img.config.config.cmd = std::vector<std::string>{"sh"};
    img.config.history.push_back({"", "base layer of " + ref, "", false});
    if (ref == "onbuild-base") img.config.config.on_build = {"RUN echo triggered", "ENV TRIGGERED=1"};
    return img;
  };
  // "# golden-args: target=NAME platform=OS/ARCH build-arg=K=V named-context=NAME=docker-image://REF"
  size_t at = dockerfile_text.find("# golden-args:");
  if (at != std::string::npos) {
    std::string line = dockerfile_text.substr(at + 14, dockerfile_text.find('\n', at) - at - 14);
    for (auto& word : SplitWords(line, '\\')) {
      if (word.rfind("target=", 0) == 0) o.target = word.substr(7);
      if (word.rfind("platform=", 0) == 0) o.platform = *kiln::oci::Platform::Parse(word.substr(9));
      if (word.rfind("build-arg=", 0) == 0) {
        std::string kv = word.substr(10);
        o.build_args[kv.substr(0, kv.find('='))] = kv.substr(kv.find('=') + 1);
      }
      if (word.rfind("named-context=", 0) == 0) {
        std::string kv = word.substr(14);
        std::string value = kv.substr(kv.find('=') + 1);
        NamedContext nc;
        if (value.rfind("docker-image://", 0) == 0) {
          nc = {NamedContext::Kind::kImage, value.substr(15), {}};
        } else {
          nc = {NamedContext::Kind::kDirectory, value, {}};
        }
        o.named_contexts[NamedContextKey(kv.substr(0, kv.find('=')))] = nc;
      }
    }
  }
  return o;
}

Json Lowered(const BuildDefinition& def) {
  Json graph = Json::array();
  for (auto& v : def.graph.vertices()) {
    graph.push_back({{"op", graph::OpToJson(v.op)}, {"inputs", v.inputs}, {"name", v.name}, {"location", v.location}});
  }
  Json history = Json::array();
  for (auto& h : def.history) {
    Json entry = {{"created_by", h.entry.created_by}, {"empty_layer", h.entry.empty_layer}};
    if (h.vertex) entry["vertex"] = *h.vertex;
    history.push_back(entry);
  }
  Json findings = Json::array();
  for (auto& f : def.findings) findings.push_back(f.rule + "@" + std::to_string(f.line) + ": " + f.message);
  return {{"graph", graph}, {"result", def.result}, {"config", oci::ToJson(def.config)}, {"history", history},
          {"findings", findings}};
}

TEST(Golden, EveryCaseLowersAsRecorded) {
  auto cases = ListDir(KILN_FRONTEND_TESTDATA);
  ASSERT_TRUE(cases.ok());
  ASSERT_GE(cases->size(), 5u);
  bool update = getenv("KILN_UPDATE_GOLDEN") != nullptr;
  for (auto& name : *cases) {
    SCOPED_TRACE(name);
    std::string dir = JoinPath(KILN_FRONTEND_TESTDATA, name);
    auto text = ReadFile(JoinPath(dir, "Dockerfile"));
    ASSERT_TRUE(text.ok());
    auto df = Parse(*text, "Dockerfile");
    ASSERT_TRUE(df.ok()) << df.status().message();
    auto def = Convert(*df, GoldenOptions(*text));
    ASSERT_TRUE(def.ok()) << def.status().message();
    std::string got = Lowered(*def).dump(1) + "\n";
    std::string expected_path = JoinPath(dir, "expected.json");
    if (update) {
      ASSERT_TRUE(WriteFileAtomic(expected_path, got).ok());
      continue;
    }
    auto expected = ReadFile(expected_path);
    ASSERT_TRUE(expected.ok()) << "no " << expected_path << " (KILN_UPDATE_GOLDEN=1 writes it)";
    EXPECT_EQ(got, *expected) << "the lowering of " << name << " changed (KILN_UPDATE_GOLDEN=1 rewrites it)";
  }
}

}  // namespace
}  // namespace kiln::dockerfile
