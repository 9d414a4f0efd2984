#include "base/redact.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

std::string RunThrough(Redactor& r, const std::vector<std::string>& chunks) {
  std::string out;
  for (auto& c : chunks) out += r.Feed(c);
  return out + r.Flush();
}

TEST(Redactor, MasksEveryOccurrence) {
  Redactor r({"hunter2"});
  EXPECT_EQ(RunThrough(r, {"pw=hunter2 again hunter2\n"}), "pw=**** again ****\n");
}

TEST(Redactor, MasksValuesSplitAcrossChunks) {
  Redactor r({"s3cr3t-token"});
  EXPECT_EQ(RunThrough(r, {"token: s3c", "r3t-to", "ken", " done"}), "token: **** done");
  Redactor one_byte_at_a_time({"abcdef"});
  std::vector<std::string> bytes;
  for (char c : std::string("xxabcdefyy")) bytes.push_back(std::string(1, c));
  EXPECT_EQ(RunThrough(one_byte_at_a_time, bytes), "xx****yy");
}

TEST(Redactor, ReleasesTextThatCannotBeASecret) {
  Redactor r({"abcdef"});
  EXPECT_EQ(r.Feed("hello world\n"), "hello world\n");  // nothing held back that no value starts with
  EXPECT_EQ(r.Feed("then abc"), "then ");              // "abc" may be the start of the value
  EXPECT_EQ(r.Feed("xyz"), "abcxyz");
  EXPECT_EQ(r.Flush(), "");
}

TEST(Redactor, MasksLinesOfMultiLineValues) {
  Redactor r({"-----BEGIN KEY-----\nAAAABBBBCCCCDDDD\n-----END KEY-----\n"});
  EXPECT_EQ(RunThrough(r, {"first line: AAAABBBBCCCCDDDD\n"}), "first line: ****\n");
}

TEST(Redactor, PassesTextThroughWithoutValues) {
  Redactor r({"", ""});
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.Feed("anything"), "anything");
  EXPECT_EQ(r.Flush(), "");
}

}  // namespace
}  // namespace kiln
