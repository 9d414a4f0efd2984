// Unit tests of the 2026-07-28 era: JSON Schema 2020-12 validation, sealed request state, the task store, the
// standard HTTP headers, and stateless dispatch through an in-memory channel (discovery, _meta validation,
// input-required rounds, tasks, listen streams).
#include <gtest/gtest.h>

#include <thread>

#include "base/text.h"
#include "mcp/http_stateless.h"
#include "mcp/protocol.h"
#include "mcp/request_state.h"
#include "mcp/schema.h"
#include "mcp/server.h"
#include "testing/recording_channel.h"
#include "mcp/tasks.h"

namespace kiln::mcp {
namespace {

TEST(Schema2020, RefsAnchorsCompositionAndConditionals) {
  Json schema = {{"type", "object"},
                 {"$defs", {{"port", {{"$anchor", "port"}, {"type", "integer"}, {"minimum", 1}, {"maximum", 65535}}}}},
                 {"properties", {{"a", {{"$ref", "#/$defs/port"}}}, {"b", {{"$ref", "#port"}}}, {"mode", {{"type", "string"}}}}},
                 {"allOf", {{{"anyOf", {{{"required", {"a"}}}, {{"required", {"b"}}}}}}}},
                 {"if", {{"properties", {{"mode", {{"const", "tls"}}}}}, {"required", {"mode"}}}},
                 {"then", {{"required", {"b"}}}}};
  EXPECT_EQ(ValidateSchema(schema, {{"a", 80}}), "");
  EXPECT_NE(ValidateSchema(schema, {{"a", 0}}), "") << "$ref to $defs is followed";
  EXPECT_NE(ValidateSchema(schema, {{"b", 70000}}), "") << "$ref to an $anchor is followed";
  EXPECT_NE(ValidateSchema(schema, Json::object()), "") << "allOf/anyOf assert";
  EXPECT_NE(ValidateSchema(schema, {{"a", 80}, {"mode", "tls"}}), "") << "if/then asserts";
  EXPECT_EQ(ValidateSchema(schema, {{"a", 80}, {"b", 443}, {"mode", "tls"}}), "");
}

TEST(Schema2020, OneOfNotPatternsAndCounts) {
  Json schema = {{"type", "object"},
                 {"properties", {{"x", {{"oneOf", {{{"type", "integer"}}, {{"type", "number"}}}}}},
                                 {"name", {{"type", "string"}, {"pattern", "^[a-z]+$"}, {"maxLength", 3}}},
                                 {"forbidden", true},
                                 {"list", {{"type", "array"}, {"prefixItems", {{{"type", "string"}}}}, {"items", {{"type", "integer"}}}}}}},
                 {"not", {{"required", {"forbidden"}}}},
                 {"patternProperties", {{"^n_", {{"type", "number"}}}}},
                 {"additionalProperties", false}};
  EXPECT_EQ(ValidateSchema(schema, {{"x", 1.5}, {"name", "abc"}, {"list", {"s", 1, 2}}, {"n_1", 2}}), "");
  EXPECT_NE(ValidateSchema(schema, {{"x", 1}}), "") << "an integer is a number too: two oneOf branches match";
  EXPECT_NE(ValidateSchema(schema, {{"name", "ABC"}}), "");
  EXPECT_NE(ValidateSchema(schema, {{"name", "abcd"}}), "");
  EXPECT_NE(ValidateSchema(schema, {{"list", {"s", "t"}}}), "");
  EXPECT_NE(ValidateSchema(schema, {{"n_1", "no"}}), "");
  EXPECT_NE(ValidateSchema(schema, {{"other", 1}}), "");
  EXPECT_NE(ValidateSchema(schema, {{"forbidden", 1}}).find("must not"), std::string::npos);
}

TEST(Schema2020, HostileSchemasAreBounded) {
  Json loop = {{"$ref", "#"}};
  EXPECT_NE(ValidateSchema(loop, 1).find("deeper"), std::string::npos);
  // Each level refers twice to the one below: 2^25 evaluations without a budget.
  Json defs = {{"l0", {{"type", "string"}}}};
  for (int i = 1; i <= 25; i++) {
    Json below = {{"$ref", "#/$defs/l" + std::to_string(i - 1)}};
    defs["l" + std::to_string(i)] = {{"anyOf", {below, below, {{"type", "boolean"}}}}};
  }
  Json wide = {{"$defs", defs}, {"$ref", "#/$defs/l25"}};
  EXPECT_NE(ValidateSchema(wide, 1).find("too long"), std::string::npos);
}

TEST(RequestState, OpensOnlyUnalteredForItsOwnRequest) {
  RequestStateSeal seal;
  std::string sealed = seal.Seal("tools/call\nbuild\n{}", {{"round", 2}, {"secret", "s3cr3t"}});
  EXPECT_EQ(sealed.find("s3cr3t"), std::string::npos);
  EXPECT_EQ(Base64Decode(sealed)->find("s3cr3t"), std::string::npos) << "the state is encrypted, not only signed";
  auto opened = seal.Open("tools/call\nbuild\n{}", sealed);
  ASSERT_TRUE(opened);
  EXPECT_EQ((*opened)["round"], 2);
  EXPECT_FALSE(seal.Open("tools/call\nother\n{}", sealed)) << "another request's state";
  std::string altered = sealed;
  altered[10] = altered[10] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(seal.Open("tools/call\nbuild\n{}", altered));
  EXPECT_FALSE(RequestStateSeal().Open("tools/call\nbuild\n{}", sealed)) << "another process's key";
  EXPECT_FALSE(seal.Open("tools/call\nbuild\n{}", seal.Seal("tools/call\nbuild\n{}", 1, std::chrono::seconds(-1))));
  EXPECT_NE(seal.Seal("s", 1), seal.Seal("s", 1)) << "each round's state differs";
}

TEST(Tasks, LifecycleInputAndCancellation) {
  TaskStore store({});
  std::vector<std::string> seen;
  std::mutex mu;
  store.OnChange([&](const Task& t) {
    std::lock_guard l(mu);
    seen.push_back(t.Detailed()["status"]);
  });
  auto task = *store.Create("alice");
  EXPECT_EQ(store.Find(task->id(), "alice"), task);
  EXPECT_EQ(store.Find(task->id(), "bob"), nullptr) << "another identity does not see it";
  EXPECT_EQ(store.Find(task->id(), ""), nullptr);
  EXPECT_EQ(task->Detailed()["status"], "working");
  std::thread worker([&] {
    auto answers = task->AwaitInputs({{"a", {{"method", "elicitation/create"}}}, {"b", {{"method", "elicitation/create"}}}});
    ASSERT_TRUE(answers.ok());
    task->Complete({{"content", {{{"type", "text"}, {"text", (*answers)["a"].dump() + (*answers)["b"].dump()}}}}});
  });
  while (task->Detailed()["status"] != "input_required") std::this_thread::sleep_for(std::chrono::milliseconds(1));
  task->Answer({{"a", {{"action", "accept"}}}, {"zzz", 1}});
  EXPECT_EQ(task->Detailed()["inputRequests"].size(), 1u) << "a partial answer leaves the rest pending";
  task->Answer({{"b", {{"action", "decline"}}}});
  worker.join();
  Json done = task->Detailed();
  EXPECT_EQ(done["status"], "completed");
  EXPECT_TRUE(done.contains("result"));
  task->Cancel();
  EXPECT_EQ(task->Detailed()["status"], "completed") << "a terminal task stays as it is";
  auto other = *store.Create("alice");
  EXPECT_NE(other->id(), task->id());
  other->Cancel();
  EXPECT_EQ(other->Detailed()["status"], "cancelled");
  EXPECT_TRUE(other->cancelled_flag()->load());
  EXPECT_EQ(store.Find("task-unknown", "alice"), nullptr);
  EXPECT_GE(seen.size(), 5u);
}

TEST(StandardHeaders, MustAgreeWithTheBody) {
  httplib::Request req;
  req.headers = {{"MCP-Protocol-Version", "2026-07-28"}, {"Mcp-Method", "tools/call"}, {"Mcp-Name", "  deploy "},
                 {"Mcp-Param-Region", "=?base64?" + Base64Encode("eu-west") + "?="}};
  Json tool = {{"name", "deploy"},
               {"inputSchema", {{"type", "object"}, {"properties", {{"region", {{"type", "string"}, {"x-mcp-header", "Region"}}}}}}}};
  Json body = {{"jsonrpc", "2.0"}, {"id", 1}, {"method", "tools/call"},
               {"params", {{"name", "deploy"}, {"arguments", {{"region", "eu-west"}}}}}};
  EXPECT_EQ(CheckStandardHeaders(req, body, tool), "");
  body["params"]["arguments"]["region"] = "us-east";
  EXPECT_NE(CheckStandardHeaders(req, body, tool), "");
  body["params"]["arguments"]["region"] = "eu-west";
  body["method"] = "tools/list";
  EXPECT_NE(CheckStandardHeaders(req, body, tool).find("Mcp-Method"), std::string::npos);
  body["method"] = "tools/call";
  req.headers.erase("Mcp-Name");
  EXPECT_NE(CheckStandardHeaders(req, body, tool).find("Mcp-Name"), std::string::npos);
  req.headers.emplace("Mcp-Name", "deploy");
  req.headers.erase("Mcp-Param-Region");
  req.headers.emplace("Mcp-Param-Region", "=?base64?ZXU!!?=");
  EXPECT_NE(CheckStandardHeaders(req, body, tool).find("base64"), std::string::npos);
}


class StatelessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Tool ask{{{"name", "ask"}, {"inputSchema", {{"type", "object"}}}}, [](RequestContext& ctx, const Json&) {
      auto name = ctx.RequestInput("name", "elicitation/create", {{"message", "name?"}});
      if (!name.ok()) return Outcome::Ok({{"content", Json::array()}, {"isError", true}});
      ctx.SetState({{"asked", true}});
      auto color = ctx.RequestInput("color", "elicitation/create", {{"message", "color?"}});
      if (!color.ok()) return Outcome::Ok({{"content", Json::array()}, {"isError", true}});
      std::string text = (*name)["content"]["v"].get<std::string>() + "/" + (*color)["content"]["v"].get<std::string>();
      return Outcome::Ok({{"content", {{{"type", "text"}, {"text", text}}}}});
    }};
    server_.AddTool(ask);
    Tool job{{{"name", "job"}, {"inputSchema", {{"type", "object"}}}},
             [](RequestContext& ctx, const Json&) {
               while (!ctx.cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
               return Outcome::Ok({{"content", Json::array()}});
             },
             TaskSupport::kOptional};
    server_.AddTool(job);
  }
  Json Meta(Json caps = {{"elicitation", Json::object()}}) {
    return {{kMetaProtocolVersion, "2026-07-28"}, {kMetaClientCapabilities, std::move(caps)}};
  }
  Json Request(const std::string& method, Json params, Server::Envelope env = {Era::kModern, std::nullopt, nullptr}) {
    RecordingChannel ch;
    server_.Handle(session_, MakeRequest(next_id_++, method, std::move(params)), ch, env);
    return ch.Last();
  }
  Server server_{{"test", "1", "", ""}};
  std::shared_ptr<Session> session_ = std::make_shared<Session>("");
  int next_id_ = 1;
};

TEST_F(StatelessTest, DiscoversAndValidatesTheEnvelope) {
  Json d = Request("server/discover", {{"_meta", Meta()}});
  ASSERT_TRUE(d.contains("result")) << d.dump();
  EXPECT_EQ(d["result"]["supportedVersions"][0], "2026-07-28");
  EXPECT_EQ(d["result"]["resultType"], "complete");
  EXPECT_TRUE(d["result"].contains("ttlMs"));
  EXPECT_EQ(d["result"]["_meta"][kMetaServerInfo]["name"], "test");
  EXPECT_TRUE(d["result"]["capabilities"]["extensions"].contains(kTasksExtension));
  int status = 0;
  Json bad = Request("tools/list", Json::object(), {Era::kModern, std::nullopt, &status});
  EXPECT_EQ(bad["error"]["code"], kInvalidParams);
  EXPECT_EQ(status, 400);
  Json old = Request("tools/list", {{"_meta", {{kMetaProtocolVersion, "1999-01-01"}, {kMetaClientCapabilities, Json::object()}}}},
                     {Era::kModern, std::nullopt, &status});
  EXPECT_EQ(old["error"]["code"], kUnsupportedProtocolVersion);
  EXPECT_EQ(old["error"]["data"]["requested"], "1999-01-01");
  Json mismatch = Request("tools/list", {{"_meta", Meta()}}, {Era::kModern, "2025-11-25", &status});
  EXPECT_EQ(mismatch["error"]["code"], kHeaderMismatch);
  Json missing = Request("resources/read", {{"uri", "kiln://nothing"}, {"_meta", Meta()}});
  EXPECT_EQ(missing["error"]["code"], kInvalidParams) << "2026-07-28's code for an unknown resource";
  EXPECT_EQ(missing["error"]["data"]["uri"], "kiln://nothing");
  for (const char* removed : {"initialize", "ping", "logging/setLevel", "resources/subscribe", "tasks/list"}) {
    Json r = Request(removed, {{"_meta", Meta()}}, {Era::kModern, std::nullopt, &status});
    EXPECT_EQ(r["error"]["code"], kMethodNotFound) << removed;
    EXPECT_EQ(status, 404);
  }
}

TEST_F(StatelessTest, InputRequiredRoundsCarryStateAndEarlierAnswers) {
  Json r1 = Request("tools/call", {{"name", "ask"}, {"_meta", Meta()}});
  ASSERT_EQ(r1["result"]["resultType"], "input_required") << r1.dump();
  EXPECT_TRUE(r1["result"]["inputRequests"].contains("name"));
  Json r2 = Request("tools/call", {{"name", "ask"}, {"_meta", Meta()}, {"requestState", r1["result"]["requestState"]},
                                   {"inputResponses", {{"name", {{"action", "accept"}, {"content", {{"v", "ann"}}}}}}}});
  ASSERT_EQ(r2["result"]["resultType"], "input_required") << r2.dump();
  EXPECT_TRUE(r2["result"]["inputRequests"].contains("color"));
  EXPECT_FALSE(r2["result"]["inputRequests"].contains("name")) << "the first answer is remembered";
  Json r3 = Request("tools/call", {{"name", "ask"}, {"_meta", Meta()}, {"requestState", r2["result"]["requestState"]},
                                   {"inputResponses", {{"color", {{"action", "accept"}, {"content", {{"v", "red"}}}}}}}});
  EXPECT_EQ(r3["result"]["content"][0]["text"], "ann/red") << r3.dump();
  Json tampered = Request("tools/call", {{"name", "ask"}, {"_meta", Meta()}, {"requestState", "AAAA"}});
  EXPECT_EQ(tampered["error"]["code"], kInvalidParams);
  Json no_caps = Request("tools/call", {{"name", "ask"}, {"_meta", Meta(Json::object())}});
  EXPECT_EQ(no_caps["error"]["code"], kMissingClientCapability);
  EXPECT_TRUE(no_caps["error"]["data"]["requiredCapabilities"].contains("elicitation"));
}

TEST_F(StatelessTest, TasksStartPollAndCancel) {
  Json caps = {{"extensions", {{kTasksExtension, Json::object()}}}};
  Json sync = Request("tools/call", {{"name", "ask"}, {"_meta", Meta(Json::object())}});
  EXPECT_EQ(sync["error"]["code"], kMissingClientCapability);
  Json listed = Request("tools/list", {{"_meta", Meta()}});
  EXPECT_EQ(listed["result"]["tools"][1]["execution"]["taskSupport"], "optional") << "derived from the registration";
  EXPECT_FALSE(listed["result"]["tools"][0].contains("execution"));
  Json created = Request("tools/call", {{"name", "job"}, {"_meta", Meta(caps)}});
  ASSERT_EQ(created["result"]["resultType"], "task") << created.dump();
  std::string id = created["result"]["taskId"];
  EXPECT_EQ(Request("tasks/get", {{"taskId", id}, {"_meta", Meta(caps)}})["result"]["status"], "working");
  EXPECT_EQ(Request("tasks/get", {{"taskId", id}, {"_meta", Meta(Json::object())}})["error"]["code"], kMissingClientCapability);
  EXPECT_EQ(Request("tasks/get", {{"taskId", "nope"}, {"_meta", Meta(caps)}})["error"]["code"], kInvalidParams);
  Json ack = Request("tasks/cancel", {{"taskId", id}, {"_meta", Meta(caps)}});
  EXPECT_EQ(ack["result"]["resultType"], "complete");
  EXPECT_EQ(Request("tasks/get", {{"taskId", id}, {"_meta", Meta(caps)}})["result"]["status"], "cancelled");
  EXPECT_TRUE(server_.Shutdown(std::chrono::seconds(5))) << "the task's work ended";
}

TEST_F(StatelessTest, ListenStreamsAcknowledgeAndFilter) {
  RecordingChannel stream;
  std::thread listen([&] {
    server_.Handle(session_,
                   MakeRequest("L", "subscriptions/listen",
                               {{"_meta", Meta()}, {"notifications", {{"toolsListChanged", true}, {"bogus", true}}}}),
                   stream, {Era::kModern, std::nullopt, nullptr});
  });
  while (stream.Last().is_null()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(stream.sent[0]["method"], "notifications/subscriptions/acknowledged");
  EXPECT_EQ(stream.sent[0]["params"]["notifications"], Json({{"toolsListChanged", true}}));
  server_.NotifyListChanged("prompts");
  server_.NotifyListChanged("tools");
  server_.Shutdown(std::chrono::seconds(1));
  listen.join();
  ASSERT_EQ(stream.sent.size(), 3u);
  EXPECT_EQ(stream.sent[1]["method"], "notifications/tools/list_changed");
  EXPECT_EQ(stream.sent[1]["params"]["_meta"][kMetaSubscriptionId], "L");
  EXPECT_EQ(stream.sent[2]["result"]["_meta"][kMetaSubscriptionId], "L") << "a graceful end closes with a result";
}

TEST_F(StatelessTest, ListingsAreCachedUntilTheToolsChange) {
  Json first = Request("tools/list", {{"_meta", Meta()}});
  ASSERT_EQ(first["result"]["tools"].size(), 2u);
  EXPECT_EQ(first["result"]["resultType"], "complete");
  EXPECT_EQ(Request("tools/list", {{"_meta", Meta()}})["result"], first["result"]) << "the cached answer is the same";
  Tool quick{{{"name", "quick"}, {"inputSchema", {{"type", "object"}}}},
             [](RequestContext&, const Json&) { return Outcome::Ok({{"content", Json::array()}}); }};
  quick.quick = true;
  server_.AddTool(quick);
  EXPECT_EQ(Request("tools/list", {{"_meta", Meta()}})["result"]["tools"].size(), 3u) << "adding a tool empties the cache";
  Json legacy = Request("tools/list", Json::object(), {Era::kLegacy, std::nullopt, nullptr});
  EXPECT_FALSE(legacy["result"].contains("resultType")) << "each era has its own cached shape";
  EXPECT_TRUE(server_.AnswersAtOnce(MakeRequest(1, "tools/call", {{"name", "quick"}})));
  EXPECT_FALSE(server_.AnswersAtOnce(MakeRequest(1, "tools/call", {{"name", "job"}})));
  EXPECT_FALSE(server_.AnswersAtOnce(MakeRequest(1, "subscriptions/listen", Json::object())));
  EXPECT_TRUE(server_.AnswersAtOnce(MakeRequest(1, "server/discover", Json::object())));
}

TEST_F(StatelessTest, TaskStatusReachesTheListenStreamsThatAskedForIt) {
  Json caps = {{"extensions", {{kTasksExtension, Json::object()}}}};
  Json created = Request("tools/call", {{"name", "job"}, {"_meta", Meta(caps)}});
  std::string id = created["result"]["taskId"];
  RecordingChannel stream;
  std::thread listen([&] {
    server_.Handle(session_, MakeRequest("T", "subscriptions/listen", {{"_meta", Meta(caps)}, {"notifications", {{"taskIds", {id}}}}}),
                   stream, {Era::kModern, std::nullopt, nullptr});
  });
  while (stream.Last().is_null()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  Request("tasks/cancel", {{"taskId", id}, {"_meta", Meta(caps)}});
  server_.Shutdown(std::chrono::seconds(5));
  listen.join();
  ASSERT_GE(stream.sent.size(), 3u);
  EXPECT_EQ(stream.sent[1]["method"], "notifications/tasks");
  EXPECT_EQ(stream.sent[1]["params"]["taskId"], id);
  EXPECT_EQ(stream.sent[1]["params"]["status"], "cancelled");
  EXPECT_EQ(stream.sent[1]["params"]["_meta"][kMetaSubscriptionId], "T");
}

}  // namespace
}  // namespace kiln::mcp
