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

Event Make(Event::Kind kind, int number, const char* name, const char* data, double elapsed, double duration = 0) {
  Event e;
  e.kind = kind;
  e.number = number;
  e.digest = number == 1 ? "sha256:v" : "sha256:w";
  e.name = name;
  e.data = data;
  e.elapsed = elapsed;
  e.duration = duration;
  return e;
}

std::vector<Event> Sample() {
  return {Make(Event::Kind::kStarted, 1, "[1/2] RUN make", "", 0.1),
          Make(Event::Kind::kLog, 1, "[1/2] RUN make", "line one\npartial", 0.2),
          Make(Event::Kind::kDone, 1, "[1/2] RUN make", "", 0.5, 0.4),
          Make(Event::Kind::kCached, 2, "[2/2] COPY a b", "", 0.6)};
}

/// A layer of a pull moving in three steps, each reported twice (curl calls back more often than bytes move).
std::vector<Event> Transfer() {
  std::vector<Event> out = {Make(Event::Kind::kStarted, 1, "[internal] pull a", "", 0)};
  for (int64_t done : {100, 100, 600, 1000, 1000}) {
    Event e = Make(Event::Kind::kProgress, 1, "[internal] pull a", "", 0.1 * double(done) / 100);
    e.id = "sha256:layer";
    e.current = done;
    e.size = 1000;
    out.push_back(e);
  }
  out.push_back(Make(Event::Kind::kDone, 1, "[internal] pull a", "", 1.0, 1.0));
  return out;
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

TEST(Progress, TransfersShowBytesOncePerSecondAndWhenDone) {
  std::string out = Render("plain", Transfer());
  EXPECT_NE(out.find("#1 sha256:layer 100B / 1.00kB\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("600B"), std::string::npos) << "a second line within a second: " << out;
  EXPECT_NE(out.find("#1 sha256:layer 1.00kB / 1.00kB done\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("done"), out.rfind("done")) << "done twice: " << out;

  std::string json = Render("rawjson", Transfer());
  EXPECT_NE(json.find(R"("statuses":[{"id":"sha256:layer")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("current":1000)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("total":1000)"), std::string::npos) << json;

  std::string tty = Render("tty", Transfer());
  EXPECT_NE(tty.find(" => => sha256:layer 1.00kB\n"), std::string::npos) << tty;
}

TEST(Progress, OffsetSinkNumbersAfterEarlierSteps) {
  char* buf = nullptr;
  size_t size = 0;
  FILE* f = open_memstream(&buf, &size);
  {
    auto plain = MakeRenderer("plain", f);
    OffsetSink moved(plain->get(), 2);
    for (auto& e : Sample()) moved.Emit(e);
    EXPECT_EQ(moved.highest(), 4);
  }
  fclose(f);
  std::string out(buf, size);
  free(buf);
  EXPECT_NE(out.find("#3 [1/2] RUN make\n"), std::string::npos) << out;
  EXPECT_NE(out.find("#4 CACHED\n"), std::string::npos) << out;
  EXPECT_EQ(FormatBytes(2810000), "2.81MB");
}

/// Two steps running at once; the second is cancelled when the first fails.
std::vector<Event> Concurrent() {
  return {Make(Event::Kind::kStarted, 1, "[a 1/1] RUN make a", "", 0.1),
          Make(Event::Kind::kStarted, 2, "[b 1/1] RUN make b", "", 0.2),
          Make(Event::Kind::kLog, 1, "[a 1/1] RUN make a", "building a\n", 0.3),
          Make(Event::Kind::kLog, 2, "[b 1/1] RUN make b", "building b\n", 0.4),
          Make(Event::Kind::kError, 1, "[a 1/1] RUN make a", "exit code: 2", 0.5, 0.4),
          Make(Event::Kind::kCanceled, 2, "[b 1/1] RUN make b", "", 0.6, 0.4)};
}

TEST(Progress, ConcurrentStepsInterleaveInPlain) {
  std::string out = Render("plain", Concurrent());
  EXPECT_NE(out.find("#1 0.300 building a\n#2 0.400 building b\n#1 ERROR: exit code: 2\n#2 CANCELED\n"),
            std::string::npos) << out;
}

TEST(Progress, TtyShowsALiveLinePerRunningStep) {
  std::vector<Event> events = Concurrent();
  events.resize(4);  // both still running
  std::string out = Render("tty", events);
  // The last drawing holds both steps, each with its time so far and latest output.
  EXPECT_NE(out.find("\033[J => [a 1/1] RUN make a  0.3s  building a\n => [b 1/1] RUN make b  0.2s  building b\n"),
            std::string::npos) << out;
  std::string ended = Render("tty", Concurrent());
  EXPECT_NE(ended.find(" => CANCELED [b 1/1] RUN make b"), std::string::npos) << ended;
  EXPECT_NE(ended.find(" > building a\nERROR: exit code: 2\n"), std::string::npos) << ended;
}

TEST(Progress, TtyAndErrors) {
  std::string out = Render("tty", Sample());
  EXPECT_NE(out.find("=> CACHED [2/2] COPY a b"), std::string::npos);
  EXPECT_FALSE(MakeRenderer("fancy", stderr).ok());
}

}  // namespace
}  // namespace kiln::progress
