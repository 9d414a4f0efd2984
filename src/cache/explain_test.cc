#include "cache/explain.h"

#include <gtest/gtest.h>

namespace kiln::cache {
namespace {

Fingerprint Base() {
  Fingerprint f;
  f.instruction = "sha256:run";
  f.env = {{"PATH", "p"}, {"V", "1"}, {"HOME", "h"}};
  f.arg_names = {"V"};
  f.files = {{"src/a.txt", "a1"}, {"src/b.txt", "b1"}};
  f.inputs = {"sha256:parent", "sha256:context"};
  return f;
}

std::vector<std::string> Texts(const Fingerprint& before, const Fingerprint& now, size_t max_files = 5) {
  return Describe(Compare(before, now), max_files, [](size_t i) { return "input " + std::to_string(i); });
}

TEST(Explain, NamesEachKindOfChange) {
  Fingerprint now = Base();
  EXPECT_TRUE(Texts(Base(), now).empty());
  now.files["src/b.txt"] = "b2";
  EXPECT_EQ(Texts(Base(), now), std::vector<std::string>{"file src/b.txt"});
  now = Base();
  now.env["V"] = "2";
  EXPECT_EQ(Texts(Base(), now), std::vector<std::string>{"build-arg V"});
  now = Base();
  now.env["HOME"] = "x";
  EXPECT_EQ(Texts(Base(), now), std::vector<std::string>{"env HOME"});
  now = Base();
  now.inputs[0] = "sha256:other";
  EXPECT_EQ(Texts(Base(), now), std::vector<std::string>{"input 0"});
  now = Base();
  now.instruction = "sha256:edited";
  EXPECT_EQ(Texts(Base(), now), std::vector<std::string>{"instruction text"});
}

TEST(Explain, AddedAndRemovedFilesAndVariables) {
  Fingerprint now = Base();
  now.files.erase("src/a.txt");
  now.files["src/c.txt"] = "c1";
  now.env.erase("HOME");
  EXPECT_EQ(Texts(Base(), now), (std::vector<std::string>{"env HOME", "file src/a.txt", "file src/c.txt"}));
}

TEST(Explain, ManyFilesAreCounted) {
  Fingerprint now = Base();
  for (int i = 0; i < 8; i++) now.files["gen/" + std::to_string(i)] = "x";
  auto texts = Texts(Base(), now, 3);
  ASSERT_EQ(texts.size(), 4u);
  EXPECT_EQ(texts[0], "file gen/0");
  EXPECT_EQ(texts[3], "and 5 more files");
}

TEST(Explain, FingerprintsRoundTripAndBadOnesAreErrors) {
  auto back = Fingerprint::FromJson(Base().ToJson());
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(Compare(Base(), *back).empty());
  EXPECT_FALSE(Fingerprint::FromJson(Json{{"instruction", 3}}).ok());
  EXPECT_FALSE(Fingerprint::FromJson(Json::array()).ok());
}

}  // namespace
}  // namespace kiln::cache
