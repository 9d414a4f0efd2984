#include "base/json.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

TEST(ParseJson, DepthLimitAndErrors) {
  EXPECT_TRUE(ParseJson(std::string(128, '[') + std::string(128, ']')).ok());
  auto deep = ParseJson(std::string(100000, '[') + std::string(100000, ']'));
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.status().message(), "JSON nested deeper than 128 levels");
  EXPECT_EQ(ParseJson("{\"a\":").status().message(), "not valid JSON");
  EXPECT_EQ(ParseJson("\"\\u00e9\"")->get<std::string>(), "\xc3\xa9");
}

// Regression (found by tests/fuzz/dockerfile_fuzz): a Latin-1 Dockerfile made the graph's digest throw from
// nlohmann's dump() and abort kiln.
TEST(DigestText, ValidJsonIsUnchangedAndInvalidStringsStayDistinct) {
  Json valid = {{"exec", {"sh", "-c", "echo caf\xc3\xa9"}}};
  EXPECT_EQ(DigestText(valid), valid.dump());  // existing cache keys keep their digests
  Json e9 = {{"exec", {"echo caf\xe9"}}}, e8 = {{"exec", {"echo caf\xe8"}}};
  EXPECT_EQ(DigestText(e9), R"({"exec":[{"hex":"6563686f20636166e9"}]})");
  EXPECT_NE(DigestText(e9), DigestText(e8));
  EXPECT_EQ(DumpLenient(Json("caf\xe9")), "\"caf\xef\xbf\xbd\"");
}

}  // namespace
}  // namespace kiln
