// The fixtures the conformance suite's 0.2 line calls for MCP 2026-07-28: multi-round-trip input, per-request
// capabilities and log levels, listen streams, HTTP headers, and the tasks extension. Each is written once,
// against the RequestContext calls every kiln tool uses, so they exercise the same paths in both eras.
#include <thread>

#include "mcp/fixtures.h"

namespace kiln::mcp {
namespace {

Outcome Says(const std::string& t) { return Outcome::Ok({{"content", {TextItem(t)}}}); }
Json NoArguments() { return {{"type", "object"}, {"properties", Json::object()}}; }

/// An elicitation for one string field.
Json AskFor(const std::string& message, const std::string& field, const std::string& type = "string") {
  Json schema = {{"type", "object"}, {"properties", {{field, {{"type", type}}}}}, {"required", {field}}};
  return {{"method", "elicitation/create"}, {"params", {{"message", message}, {"requestedSchema", schema}}}};
}
Json Sample(const std::string& text, int max_tokens) {
  return {{"method", "sampling/createMessage"},
          {"params", {{"messages", {{{"role", "user"}, {"content", TextItem(text)}}}}, {"maxTokens", max_tokens}}}};
}
Json ListRoots() { return {{"method", "roots/list"}, {"params", Json::object()}}; }

/// The string an elicitation answer gave for `field`.
std::string Field(const Json& answer, const std::string& field) {
  const Json content = answer.value("content", Json::object());
  return content.is_object() && content.contains(field) && content[field].is_string() ? content[field].get<std::string>()
                                                                                        : "unknown";
}

void Add(Server& s, const std::string& name, const std::string& description, Json schema,
         std::function<Outcome(RequestContext&, const Json&)> call, TaskSupport tasks = TaskSupport::kForbidden,
         bool task_after_input = false) {
  Json def = {{"name", name}, {"description", description}, {"inputSchema", std::move(schema)}};
  Tool tool{def, std::move(call), tasks, task_after_input};
  s.AddTool(std::move(tool));
}

/// Sleeps up to `ms`, in steps, until the request is cancelled.
bool SleepUnlessCancelled(RequestContext& ctx, int ms) {
  for (int waited = 0; waited < ms; waited += 20) {
    if (ctx.cancelled()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return !ctx.cancelled();
}

void AddInputFixtures(Server& s) {
  Add(s, "test_missing_capability", "Needs the client's sampling capability", NoArguments(),
      [](RequestContext& ctx, const Json&) -> Outcome {
        if (!DeclaresCapability(ctx.client_capabilities(), "sampling")) return {Json(), MissingCapabilityError("sampling")};
        return Says("Success");
      });
  Add(s, "test_input_required_result_elicitation", "Asks the user's name", NoArguments(),
      [](RequestContext& ctx, const Json&) {
        auto name = ctx.RequestInput("user_name", "elicitation/create", AskFor("What is your name?", "name")["params"]);
        return name.ok() ? Says("Hello, " + Field(*name, "name") + "!") : Says(name.status().message());
      });
  Add(s, "test_input_required_result_sampling", "Asks the client's model", NoArguments(),
      [](RequestContext& ctx, const Json&) {
        auto answer = ctx.RequestInputs({{"sample_request", Sample("What is the capital of France?", 100)}});
        if (!answer.ok()) return Says(answer.status().message());
        return Says("Sampling result: " + (*answer)["sample_request"].value("content", Json::object()).value("text", "no response"));
      });
  Add(s, "test_input_required_result_list_roots", "Asks the client's roots", NoArguments(),
      [](RequestContext& ctx, const Json&) {
        auto answer = ctx.RequestInputs({{"roots_request", ListRoots()}});
        if (!answer.ok()) return Says(answer.status().message());
        return Says("Found " + std::to_string((*answer)["roots_request"].value("roots", Json::array()).size()) + " root(s)");
      });
  // The two below keep state across rounds; the server seals it, so the state-ok and integrity-ok answers prove a
  // state came back unaltered.
  for (const char* name : {"test_input_required_result_request_state", "test_input_required_result_tampered_state"}) {
    std::string tool = name;
    Add(s, tool, "Carries state from one round to the next", NoArguments(), [tool](RequestContext& ctx, const Json&) {
      ctx.SetState({{"kind", tool}});
      Json confirm = AskFor("Please confirm", "ok", "boolean");
      auto answer = ctx.RequestInputs({{"confirm", confirm}});
      if (!answer.ok()) return Says(answer.status().message());
      if (ctx.state().value("kind", "") != tool) return Says("the request state is missing");
      return Says(tool.find("tampered") != std::string::npos ? "integrity-ok: state verified"
                                                             : "state-ok: requestState validated");
    });
  }
  Add(s, "test_input_required_result_multiple_inputs", "Asks three things at once", NoArguments(),
      [](RequestContext& ctx, const Json&) {
        ctx.SetState({{"kind", "multiple-inputs"}});
        auto answers = ctx.RequestInputs({{"user_name", AskFor("What is your name?", "name")},
                                          {"greeting", Sample("Generate a greeting", 50)},
                                          {"client_roots", ListRoots()}});
        if (!answers.ok()) return Says(answers.status().message());
        Json& a = *answers;
        return Says("Name: " + Field(a["user_name"], "name") +
                    "; Greeting: " + a["greeting"].value("content", Json::object()).value("text", "Hello there!") +
                    "; Roots: " + std::to_string(a["client_roots"].value("roots", Json::array()).size()));
      });
  Add(s, "test_input_required_result_multi_round", "Asks in two rounds", NoArguments(),
      [](RequestContext& ctx, const Json&) {
        ctx.SetState({{"round", 1}});
        auto step1 = ctx.RequestInput("step1", "elicitation/create", AskFor("Step 1: What is your name?", "name")["params"]);
        if (!step1.ok()) return Says(step1.status().message());
        std::string name = Field(*step1, "name");
        ctx.SetState({{"round", 2}, {"name", name}});
        auto step2 = ctx.RequestInput("step2", "elicitation/create",
                                      AskFor("Step 2: What is your favorite color?", "color")["params"]);
        if (!step2.ok()) return Says(step2.status().message());
        return Says("Multi-round complete for " + name + " who likes " + Field(*step2, "color"));
      });
  Add(s, "test_input_required_result_capabilities", "Asks only what the client can answer", NoArguments(),
      [](RequestContext& ctx, const Json&) {
        Json asks = Json::object();
        if (DeclaresCapability(ctx.client_capabilities(), "elicitation")) asks["elicit_input"] = AskFor("Elicitation input", "value");
        if (DeclaresCapability(ctx.client_capabilities(), "sampling")) asks["sample_input"] = Sample("Sample request", 50);
        if (asks.empty()) return Says("No supported capabilities declared");
        auto answers = ctx.RequestInputs(asks);
        if (!answers.ok()) return Says(answers.status().message());
        std::string keys;
        for (auto& [k, v] : answers->items()) keys += (keys.empty() ? "" : ",") + k;
        return Says("capabilities-ok: received " + keys);
      });
  Add(s, "test_streaming_elicitation", "Streams progress before its answer", NoArguments(),
      [](RequestContext& ctx, const Json&) {
        ctx.Progress(50, 100, "half way");
        return Says("Streaming complete");
      });
  Add(s, "test_logging_tool", "Logs only when the request asked for logs", NoArguments(),
      [](RequestContext& ctx, const Json&) {
        ctx.Log("info", "Diagnostic trace logging activated", "conformance");
        return Says("Logging evaluated");
      });
  Server* server = &s;
  Add(s, "test_trigger_tool_change", "Announces a change of the tool list", NoArguments(), [server](RequestContext&, const Json&) {
    server->NotifyListChanged("tools");
    return Says("Mutation triggered");
  });
  Add(s, "test_trigger_prompt_change", "Announces a change of the prompt list", NoArguments(),
      [server](RequestContext&, const Json&) {
        server->NotifyListChanged("prompts");
        return Says("Mutation triggered");
      });
  Add(s, "test_custom_header", "Mirrors its region argument into the Mcp-Param-Region header",
      {{"type", "object"},
       {"properties", {{"region", {{"type", "string"}, {"x-mcp-header", "Region"}}}, {"query", {{"type", "string"}}}}},
       {"required", {"region"}}},
      [](RequestContext&, const Json& args) { return Says("region " + args.value("region", "")); });
  s.AddPrompt({{{"name", "test_input_required_result_prompt"}, {"description", "A prompt that asks for context"}},
               [](RequestContext& ctx, const std::map<std::string, std::string>&) {
                 auto context = ctx.RequestInput("user_context", "elicitation/create",
                                                 AskFor("What context should the prompt use?", "context")["params"]);
                 std::string text = context.ok() ? "Prompt with context: " + Field(*context, "context") : context.status().message();
                 return Outcome::Ok({{"messages", {{{"role", "user"}, {"content", TextItem(text)}}}}});
               },
               nullptr});
}

void AddTaskFixtures(Server& s) {
  Add(s, "greet", "Greets at once (never a task)",
      {{"type", "object"}, {"properties", {{"name", {{"type", "string"}}}}}},
      [](RequestContext&, const Json& args) { return Says("Hello, " + args.value("name", "World") + "!"); });
  Add(s, "slow_compute", "Sleeps for the given seconds, as a task",
      {{"type", "object"}, {"properties", {{"seconds", {{"type", "number"}}}, {"label", {{"type", "string"}}}}}},
      [](RequestContext& ctx, const Json& args) {
        int ms = int(args.value("seconds", 1.0) * 1000);
        ctx.Progress(0, 1, "computing " + args.value("label", ""));
        if (!SleepUnlessCancelled(ctx, ms)) return Says("cancelled");
        return Says("Computed " + args.value("label", "") + " in " + std::to_string(ms) + " ms");
      },
      TaskSupport::kOptional);
  Add(s, "failing_job", "Fails as a tool after a second; only as a task", NoArguments(),
      [](RequestContext& ctx, const Json&) {
        SleepUnlessCancelled(ctx, 1000);
        return Outcome::Ok({{"content", {TextItem("the job failed")}}, {"isError", true}});
      },
      TaskSupport::kRequired);
  Add(s, "protocol_error_job", "Fails with a protocol error, as a task", NoArguments(),
      [](RequestContext&, const Json&) { return Outcome::Fail(kInternalError, "the job broke down"); },
      TaskSupport::kOptional);
  Add(s, "confirm_delete", "Asks for confirmation while it runs as a task",
      {{"type", "object"}, {"properties", {{"path", {{"type", "string"}}}}}},
      [](RequestContext& ctx, const Json& args) {
        auto answer = ctx.RequestInput("confirm", "elicitation/create",
                                       AskFor("Delete " + args.value("path", "it") + "?", "confirm", "boolean")["params"]);
        if (!answer.ok()) return Says(answer.status().message());
        return Says(answer->value("action", "") == "accept" ? "deleted" : "kept");
      },
      TaskSupport::kOptional);
  Add(s, "multi_input", "Asks two questions at once while it runs as a task", NoArguments(),
      [](RequestContext& ctx, const Json&) {
        auto answers = ctx.RequestInputs({{"first", AskFor("First?", "value")}, {"second", AskFor("Second?", "value")}});
        if (!answers.ok()) return Says(answers.status().message());
        return Says("first=" + Field((*answers)["first"], "value") + " second=" + Field((*answers)["second"], "value"));
      },
      TaskSupport::kOptional);
  Add(s, "test_tool_with_task", "Asks a name, then runs as a task", NoArguments(),
      [](RequestContext& ctx, const Json&) {
        auto name = ctx.RequestInput("user_name", "elicitation/create", AskFor("What is your name?", "name")["params"]);
        if (!name.ok()) return Says(name.status().message());
        std::string who = Field(*name, "name");
        return ctx.RunAsTask([who](RequestContext& task) {
          SleepUnlessCancelled(task, 200);
          return Says("Hello, " + who + ", from a task");
        });
      },
      TaskSupport::kRequired, /*task_after_input=*/true);
}

}  // namespace

void AddStatelessFixtures(Server& s) {
  AddInputFixtures(s);
  AddTaskFixtures(s);
}

}  // namespace kiln::mcp
