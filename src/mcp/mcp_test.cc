// Unit tests of the MCP library: schema validation, URI templates, message classification, and the server's
// dispatch through an in-memory channel (lifecycle, pagination, errors, cancellation).
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include "mcp/protocol.h"
#include "mcp/schema.h"
#include "mcp/server.h"
#include "testing/recording_channel.h"

namespace kiln::mcp {
namespace {

TEST(Schema, TypesRequiredAndExtraProperties) {
  Json schema = {{"type", "object"},
                 {"properties", {{"name", {{"type", "string"}, {"minLength", 1}}},
                                 {"tags", {{"type", "array"}, {"items", {{"type", "string"}}}, {"uniqueItems", true}}},
                                 {"n", {{"type", "integer"}, {"minimum", 1}, {"maximum", 5}}},
                                 {"mode", {{"type", "string"}, {"enum", {"none", "host"}}}}}},
                 {"required", {"name"}},
                 {"additionalProperties", false}};
  EXPECT_EQ(ValidateSchema(schema, {{"name", "x"}, {"tags", {"a", "b"}}, {"n", 3}, {"mode", "host"}}), "");
  EXPECT_NE(ValidateSchema(schema, Json::object()).find("missing required property \"name\""), std::string::npos);
  EXPECT_NE(ValidateSchema(schema, {{"name", ""}}).find("name"), std::string::npos);
  EXPECT_NE(ValidateSchema(schema, {{"name", "x"}, {"tags", {"a", 1}}}).find("tags[1]"), std::string::npos);
  EXPECT_NE(ValidateSchema(schema, {{"name", "x"}, {"tags", {"a", "a"}}}).find("unique"), std::string::npos);
  EXPECT_NE(ValidateSchema(schema, {{"name", "x"}, {"n", 1.5}}).find("n"), std::string::npos);
  EXPECT_NE(ValidateSchema(schema, {{"name", "x"}, {"n", 9}}).find("at most"), std::string::npos);
  EXPECT_NE(ValidateSchema(schema, {{"name", "x"}, {"mode", "bridge"}}).find("one of"), std::string::npos);
  EXPECT_NE(ValidateSchema(schema, {{"name", "x"}, {"extra", 1}}).find("extra"), std::string::npos);
}

TEST(UriTemplate, MatchesLevelOneTemplates) {
  std::map<std::string, std::string> vars;
  EXPECT_TRUE(MatchUriTemplate("kiln://builds/{id}/log", "kiln://builds/abc123/log", &vars));
  EXPECT_EQ(vars["id"], "abc123");
  EXPECT_TRUE(MatchUriTemplate("kiln://images/{ref}", "kiln://images/app%3A1", &vars));
  EXPECT_FALSE(MatchUriTemplate("kiln://builds/{id}/log", "kiln://builds/abc/other", &vars));
  EXPECT_FALSE(MatchUriTemplate("kiln://builds/{id}/log", "file:///etc/passwd", &vars));
}

TEST(Protocol, ClassifiesMessages) {
  std::string why;
  EXPECT_EQ(Classify({{"jsonrpc", "2.0"}, {"id", 1}, {"method", "ping"}}, &why), MessageKind::kRequest);
  EXPECT_EQ(Classify({{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}}, &why), MessageKind::kNotification);
  EXPECT_EQ(Classify({{"jsonrpc", "2.0"}, {"id", "a"}, {"result", Json::object()}}, &why), MessageKind::kResponse);
  EXPECT_EQ(Classify({{"jsonrpc", "1.0"}, {"id", 1}, {"method", "ping"}}, &why), MessageKind::kInvalid);
  EXPECT_EQ(Classify({{"jsonrpc", "2.0"}, {"id", Json::object()}, {"method", "ping"}}, &why), MessageKind::kInvalid);
  EXPECT_FALSE(VersionAllowsBatches("2025-06-18"));
  EXPECT_TRUE(VersionAllowsBatches("2025-03-26"));
}


class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 120; i++) {
      server_.AddTool({{{"name", "tool" + std::to_string(i)}, {"inputSchema", {{"type", "object"}}}},
                       [](RequestContext&, const Json&) { return Outcome::Ok({{"content", Json::array()}}); }});
    }
    server_.AddTool({{{"name", "slow"}, {"inputSchema", {{"type", "object"}}}}, [this](RequestContext& ctx, const Json&) {
                       started_ = true;
                       while (!ctx.cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
                       saw_cancel_ = true;
                       return Outcome::Ok({{"content", Json::array()}});
                     }});
    server_.AddTool({{{"name", "throws"}, {"inputSchema", {{"type", "object"}}}}, [](RequestContext&, const Json&) -> Outcome {
                       throw std::out_of_range("stoul");
                     }});
    session_ = server_.CreateSession(nullptr);
  }
  Json Request(const Json& id, const std::string& method, Json params = Json::object()) {
    RecordingChannel ch;
    server_.Handle(session_, MakeRequest(id, method, std::move(params)), ch);
    return ch.Last();
  }
  void Initialize(const std::string& version = "2025-11-25") {
    Json r = Request(1, "initialize", {{"protocolVersion", version}, {"capabilities", Json::object()},
                                       {"clientInfo", {{"name", "t"}, {"version", "1"}}}});
    ASSERT_TRUE(r.contains("result")) << r.dump();
    RecordingChannel ch;
    server_.Handle(session_, MakeNotification("notifications/initialized", Json::object()), ch);
  }
  Server server_{{"test", "1", "Test", "instructions"}};
  std::shared_ptr<Session> session_;
  std::atomic<bool> started_{false}, saw_cancel_{false};
};

TEST_F(ServerTest, NegotiatesTheProtocolVersion) {
  Json r = Request(1, "initialize", {{"protocolVersion", "2024-11-05"}, {"capabilities", Json::object()},
                                     {"clientInfo", {{"name", "t"}, {"version", "1"}}}});
  EXPECT_EQ(r["result"]["protocolVersion"], "2024-11-05");
  EXPECT_EQ(r["result"]["serverInfo"]["name"], "test");
  EXPECT_EQ(r["result"]["instructions"], "instructions");
  auto other = server_.CreateSession(nullptr);
  RecordingChannel ch;
  server_.Handle(other, MakeRequest(1, "initialize", {{"protocolVersion", "1999-01-01"}, {"capabilities", Json::object()},
                                                      {"clientInfo", {{"name", "t"}, {"version", "1"}}}}), ch);
  EXPECT_EQ(ch.Last()["result"]["protocolVersion"], SupportedProtocolVersions().front());
}

TEST_F(ServerTest, PaginatesToolsList) {
  Initialize();
  Json first = Request(2, "tools/list");
  ASSERT_TRUE(first["result"].contains("nextCursor")) << "121 tools do not fit one page";
  size_t total = first["result"]["tools"].size();
  Json cursor = first["result"]["nextCursor"];
  while (!cursor.is_null()) {
    Json page = Request(3, "tools/list", {{"cursor", cursor}});
    total += page["result"]["tools"].size();
    cursor = page["result"].value("nextCursor", Json());
  }
  EXPECT_EQ(total, 122u);
  for (const char* bad : {"bogus", "p", "p-1", "p+1", "p 1", "p1 ", "p123", "p99999999999999999999999999", "p18446744073709551616"}) {
    EXPECT_EQ(Request(4, "tools/list", {{"cursor", bad}})["error"]["code"], kInvalidParams) << bad;
  }
  EXPECT_EQ(Request(5, "tools/list", {{"cursor", 7}})["error"]["code"], kInvalidParams);
}

TEST_F(ServerTest, AThrowingHandlerFailsItsRequestAndLeavesNothingInFlight) {
  Initialize();
  Json r = Request(2, "tools/call", {{"name", "throws"}});
  EXPECT_EQ(r["error"]["code"], kInternalError) << r.dump();
  EXPECT_NE(r["error"]["message"].get<std::string>().find("stoul"), std::string::npos);
  EXPECT_EQ(Request(2, "ping")["result"], Json::object()) << "the id is free again";
  EXPECT_TRUE(server_.WaitIdle(std::chrono::milliseconds(0))) << "nothing counts as running";
  EXPECT_TRUE(server_.Shutdown(std::chrono::milliseconds(0)));
}

TEST_F(ServerTest, StoppingCancelsAndStillAnswers) {
  Initialize();
  RecordingChannel ch;
  std::thread call([&] { server_.Handle(session_, MakeRequest("s1", "tools/call", {{"name", "slow"}}), ch); });
  while (!started_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_TRUE(server_.Shutdown(std::chrono::seconds(10)));
  call.join();
  EXPECT_TRUE(saw_cancel_);
  ASSERT_EQ(ch.sent.size(), 1u) << "a request the server cancelled is answered";
  EXPECT_EQ(ch.sent[0]["id"], "s1");
}

TEST_F(ServerTest, DrainWaitsForRequestsAndEndsListenStreams) {
  Initialize();
  RecordingChannel ch;
  std::atomic<bool> finished{false};
  server_.AddTool({{{"name", "brief"}, {"inputSchema", {{"type", "object"}}}}, [&](RequestContext&, const Json&) {
                     std::this_thread::sleep_for(std::chrono::milliseconds(200));
                     finished = true;
                     return Outcome::Ok({{"content", Json::array()}});
                   }});
  std::thread call([&] { server_.Handle(session_, MakeRequest("d1", "tools/call", {{"name", "brief"}}), ch); });
  RecordingChannel stream;
  Json listen = MakeRequest("l1", "subscriptions/listen",
                            {{"notifications", {{"toolsListChanged", true}}},
                             {"_meta", {{"io.modelcontextprotocol/protocolVersion", "2026-07-28"}}}});
  std::thread listening([&] { server_.Handle(session_, listen, stream, {Era::kModern, std::nullopt, nullptr}); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  server_.Drain(session_, [] { return false; });
  EXPECT_TRUE(finished) << "Drain returned only once the request was done";
  call.join();
  listening.join();
  ASSERT_EQ(ch.sent.size(), 1u);
  EXPECT_TRUE(ch.sent[0].contains("result"));
  ASSERT_FALSE(stream.sent.empty());
  EXPECT_EQ(stream.Last()["id"], "l1") << "the listen stream ended with its result: " << stream.Last().dump();
}

TEST_F(ServerTest, SessionIdsAreRandomAndDistinct) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; i++) {
    auto s = server_.CreateSession(nullptr, "owner");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->id().size(), 32u);
    EXPECT_EQ(s->id().find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_EQ(s->owner(), "owner");
    ids.insert(s->id());
  }
  EXPECT_EQ(ids.size(), 1000u);
}

TEST_F(ServerTest, ErrorsNameTheProblem) {
  Initialize();
  EXPECT_EQ(Request(2, "no/such")["error"]["code"], kMethodNotFound);
  EXPECT_EQ(Request(3, "tools/call", {{"name", "missing"}})["error"]["code"], kInvalidParams);
  EXPECT_EQ(Request(4, "resources/read", {{"uri", "kiln://nothing"}})["error"]["code"], kResourceNotFound);
  EXPECT_EQ(Request(5, "ping")["result"], Json::object());
}

TEST_F(ServerTest, CancellationReachesTheHandlerAndSuppressesTheAnswer) {
  Initialize();
  RecordingChannel ch;
  std::thread call([&] { server_.Handle(session_, MakeRequest("c1", "tools/call", {{"name", "slow"}}), ch); });
  while (!started_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  RecordingChannel none;
  server_.Handle(session_, MakeNotification("notifications/cancelled", {{"requestId", "c1"}}), none);
  call.join();
  EXPECT_TRUE(saw_cancel_);
  EXPECT_TRUE(ch.sent.empty()) << "a cancelled request gets no answer";
}

}  // namespace
}  // namespace kiln::mcp
