#include "progress/progress.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "base/json.h"

namespace kiln::progress {
namespace {

std::string Render(const std::string& mode, const std::vector<Event>& events) {
  char* buf = nullptr;
  size_t size = 0;
  FILE* f = open_memstream(&buf, &size);
  {
    auto sink = MakeRenderer(mode, f);
    EXPECT_TRUE(sink.ok());
    for (auto& e : events) (*sink)->Emit(e);
    (*sink)->Finish();
  }
  fclose(f);
  std::string out(buf, size);
  free(buf);
  return out;
}

std::vector<Event> Sample() {
  Event start{Event::Kind::kStarted, 1, "sha256:v", "[1/2] RUN make", "", 1, 0.1, 0};
  Event log{Event::Kind::kLog, 1, "sha256:v", "[1/2] RUN make", "line one\npartial", 1, 0.2, 0};
  Event done{Event::Kind::kDone, 1, "sha256:v", "[1/2] RUN make", "", 1, 0.5, 0.4};
  Event cached{Event::Kind::kCached, 2, "sha256:w", "[2/2] COPY a b", "", 1, 0.6, 0};
  return {start, log, done, cached};
}

TEST(Progress, PlainLooksLikeBuildKit) {
  std::string out = Render("plain", Sample());
  EXPECT_NE(out.find("#1 [1/2] RUN make\n"), std::string::npos);
  EXPECT_NE(out.find("#1 0.200 line one\n"), std::string::npos);
  EXPECT_NE(out.find("partial\n#1 DONE 0.4s\n"), std::string::npos);
  EXPECT_NE(out.find("#2 [2/2] COPY a b\n#2 CACHED\n"), std::string::npos);
}

TEST(Progress, RawJsonIsOneObjectPerLine) {
  std::string out = Render("rawjson", Sample());
  size_t lines = 0, start = 0;
  while (start < out.size()) {
    size_t nl = out.find('\n', start);
    Json j = Json::parse(out.substr(start, nl - start));
    EXPECT_TRUE(j.contains("vertexes") || j.contains("logs"));
    if (j.contains("logs")) {
      EXPECT_EQ(j["logs"][0]["data"], "bGluZSBvbmUKcGFydGlhbA==");
    }
    start = nl + 1;
    lines++;
  }
  EXPECT_EQ(lines, 4u);
}

TEST(Progress, TtyAndErrors) {
  std::string out = Render("tty", Sample());
  EXPECT_NE(out.find("=> CACHED [2/2] COPY a b"), std::string::npos);
  EXPECT_FALSE(MakeRenderer("fancy", stderr).ok());
}

}  // namespace
}  // namespace kiln::progress
