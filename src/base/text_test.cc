#include "base/file_mode.h"
#include "base/text.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

// Regression (issue 7): "unknown instruction" quoted "\033]0;PWNED\007\033[2JFOO" raw to the terminal.
TEST(EscapeControl, TerminalSequencesBecomeVisible) {
  EXPECT_EQ(EscapeControl("\033]0;PWNED\007\033[2JFOO"), "\\x1b]0;PWNED\\x07\\x1b[2JFOO");
  EXPECT_EQ(EscapeControl("a\rb\x7f"), "a\\x0db\\x7f");
  EXPECT_EQ(EscapeControl("csi\xc2\x9b" "2J"), "csi\\xc2\\x9b2J");
  EXPECT_EQ(EscapeControl("line1\nline2\t"), "line1\\x0aline2\\x09");
  EXPECT_EQ(EscapeControl("line1\nline2\t", true), "line1\nline2\t");
  EXPECT_EQ(EscapeControl("h\xc3\xa9llo \xe2\x9c\x93"), "h\xc3\xa9llo \xe2\x9c\x93");  // UTF-8 text stays
}

TEST(IsValidUtf8, AcceptsUtf8AndRejectsTheRest) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("caf\xe9"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // a surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe2\x9c"));          // cut short
}

}  // namespace
}  // namespace kiln

namespace kiln {
namespace {

TEST(ParseAttributes, BuildxFlagSyntax) {
  auto r = ParseAttributes("type=image,name=a:1,b:2,push=true", "--output", "name");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[1], std::make_pair(std::string("name"), std::string("a:1")));
  EXPECT_EQ((*r)[2], std::make_pair(std::string("name"), std::string("b:2")));
  EXPECT_EQ((*r)[3].second, "true");
  auto bad = ParseAttributes("type=image,oops", "--output");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--output: expected key=value, got \"oops\""), std::string::npos);
  EXPECT_FALSE(ParseAttributes("id=x,stray", "--secret", "name").ok()) << "only after the list key";
  auto eq = ParseAttributes("k=a=b,,", "--x");
  ASSERT_TRUE(eq.ok());
  ASSERT_EQ(eq->size(), 1u);
  EXPECT_EQ((*eq)[0].second, "a=b");
}

TEST(Text, DecimalNumbersNeverThrowOrWrap) {
  EXPECT_EQ(ParseDecimal("0"), 0u);
  EXPECT_EQ(ParseDecimal("18446744073709551615"), UINT64_MAX);
  EXPECT_FALSE(ParseDecimal("18446744073709551616"));
  EXPECT_FALSE(ParseDecimal("9999999999999999999999999"));
  EXPECT_EQ(ParseDecimal("65535", 65535), 65535u);
  EXPECT_FALSE(ParseDecimal("65536", 65535));
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "0x10", "1e3", "12a"}) EXPECT_FALSE(ParseDecimal(bad)) << bad;
  EXPECT_EQ(ParseSignedDecimal("-5"), -5);
  EXPECT_EQ(ParseSignedDecimal("-9223372036854775808"), INT64_MIN);
  EXPECT_FALSE(ParseSignedDecimal("9223372036854775808"));
  EXPECT_FALSE(ParseSignedDecimal("-"));
  EXPECT_FALSE(ParseSignedDecimal("5", 6, 9));
}

TEST(Text, RamSizesAsDockerReadsThem) {
  EXPECT_EQ(ParseRamSize("1048576"), 1 << 20);
  EXPECT_EQ(ParseRamSize("64m"), 64 << 20);
  EXPECT_EQ(ParseRamSize("2G"), int64_t(2) << 30);
  EXPECT_EQ(ParseRamSize("512kb"), 512 << 10);
  EXPECT_EQ(ParseRamSize("1.5k"), 1536);
  EXPECT_FALSE(ParseRamSize(""));
  EXPECT_FALSE(ParseRamSize("lots"));
  EXPECT_FALSE(ParseRamSize("5x"));
  EXPECT_FALSE(ParseRamSize("-1"));
  EXPECT_FALSE(ParseRamSize("1e30"));
}

TEST(GoDuration, ParsesAndPrintsAsGo) {
  EXPECT_EQ(ParseGoDuration("90s"), 90000000000);
  EXPECT_EQ(ParseGoDuration("1h30m"), 5400000000000);
  EXPECT_EQ(ParseGoDuration("0.3s"), 300000000);
  EXPECT_EQ(ParseGoDuration("1.5ms"), 1500000);
  EXPECT_EQ(ParseGoDuration("2us"), 2000);
  EXPECT_EQ(ParseGoDuration("0"), 0);
  EXPECT_EQ(ParseGoDuration("-1m"), -60000000000);
  EXPECT_FALSE(ParseGoDuration("10"));
  EXPECT_FALSE(ParseGoDuration("1d"));
  EXPECT_FALSE(ParseGoDuration(""));
  EXPECT_FALSE(ParseGoDuration("9999999999h"));
  EXPECT_EQ(FormatGoDuration(0), "0s");
  EXPECT_EQ(FormatGoDuration(90000000000), "1m30s");
  EXPECT_EQ(FormatGoDuration(3600000000000), "1h0m0s");
  EXPECT_EQ(FormatGoDuration(1500000000), "1.5s");
  EXPECT_EQ(FormatGoDuration(500000000), "500ms");
  EXPECT_EQ(FormatGoDuration(2000), "2\xc2\xb5s");
  EXPECT_EQ(FormatGoDuration(7), "7ns");
}

}  // namespace
}  // namespace kiln

TEST(SuggestClosest, OffersTheNearestOptionInTheWordsCase) {
  std::vector<std::string> keywords = {"run", "copy", "add", "from", "workdir"};
  EXPECT_EQ(kiln::SuggestClosest("RUNN", keywords), "RUN");
  EXPECT_EQ(kiln::SuggestClosest("cpy", keywords), "copy");
  EXPECT_EQ(kiln::SuggestClosest("WorkDri", keywords), "workdir");
  EXPECT_EQ(kiln::SuggestClosest("frobnicate", keywords), "");
  EXPECT_EQ(kiln::SuggestClosest("run", keywords), "");  // itself an option: the error was about something else
}

TEST(SymbolicMode, AppliesAsChmodDoes) {
  auto mode = [](const std::string& text, mode_t m, bool dir = false) {
    auto parsed = kiln::SymbolicMode::Parse(text);
    EXPECT_TRUE(parsed.ok()) << text;
    return parsed.ok() ? parsed->Apply(m, dir) : mode_t(0);
  };
  EXPECT_EQ(mode("u+x,g-r", 0644), 0704u);
  EXPECT_EQ(mode("a=rX", 0755), 0555u);
  EXPECT_EQ(mode("a=rX", 0600), 0444u);
  EXPECT_EQ(mode("a=rX", 0700, true), 0555u);
  EXPECT_EQ(mode("go=u-w", 0755), 0755u);
  EXPECT_EQ(mode("go=u-w", 0600), 0644u);
  EXPECT_EQ(mode("+x", 0644), 0755u);
  EXPECT_EQ(mode("u=rwx,g=rx,o=", 0644), 0750u);
  EXPECT_EQ(mode("u+s,+t", 0755), 05755u);
  for (const char* bad : {"", "u", "u+x,", "z+x", "u+x;g+w"}) EXPECT_FALSE(kiln::SymbolicMode::Parse(bad).ok()) << bad;
}
