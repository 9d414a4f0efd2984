#include "mcp/fixtures.h"

#include <thread>

namespace kiln::mcp {

Json TextItem(const std::string& text) { return {{"type", "text"}, {"text", text}}; }

namespace {

// A 1x1 red PNG and an empty 8 kHz WAV: the smallest real media for the content-type fixtures.
constexpr const char* kPng =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
constexpr const char* kWav = "UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQAAAAA=";

Json Content(Json items) { return {{"content", std::move(items)}}; }
Json EmptySchema() { return {{"type", "object"}, {"properties", Json::object()}}; }

void Sleep(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

void AddTool(Server& s, const std::string& name, const std::string& description, Json schema,
             std::function<Outcome(RequestContext&, const Json&)> call) {
  s.AddTool({{{"name", name}, {"description", description}, {"inputSchema", std::move(schema)}}, std::move(call)});
}

Outcome ElicitTool(RequestContext& ctx, Json params) {
  if (!ctx.client_capabilities().contains("elicitation")) {
    return Outcome::Ok({{"content", {TextItem("the client does not support elicitation")}}, {"isError", true}});
  }
  auto answer = ctx.RequestClient("elicitation/create", std::move(params));
  if (!answer.ok()) return Outcome::Ok({{"content", {TextItem(answer.status().message())}}, {"isError", true}});
  return Outcome::Ok(Content({TextItem("Elicitation completed: action=" + answer->value("action", "") +
                                   ", content=" + answer->value("content", Json::object()).dump())}));
}

}  // namespace

void AddConformanceFixtures(Server& s) {
  AddStatelessFixtures(s);
  AddTool(s, "test_simple_text", "Returns simple text", EmptySchema(), [](RequestContext&, const Json&) {
    return Outcome::Ok(Content({TextItem("This is a simple text response for testing.")}));
  });
  AddTool(s, "test_image_content", "Returns an image", EmptySchema(), [](RequestContext&, const Json&) {
    return Outcome::Ok(Content({{{"type", "image"}, {"data", kPng}, {"mimeType", "image/png"}}}));
  });
  AddTool(s, "test_audio_content", "Returns audio", EmptySchema(), [](RequestContext&, const Json&) {
    return Outcome::Ok(Content({{{"type", "audio"}, {"data", kWav}, {"mimeType", "audio/wav"}}}));
  });
  AddTool(s, "test_embedded_resource", "Returns an embedded resource", EmptySchema(), [](RequestContext&, const Json&) {
    return Outcome::Ok(Content({{{"type", "resource"},
                                 {"resource", {{"uri", "test://embedded-resource"}, {"mimeType", "text/plain"},
                                               {"text", "This is an embedded resource content."}}}}}));
  });
  AddTool(s, "test_multiple_content_types", "Returns text, an image and a resource", EmptySchema(),
          [](RequestContext&, const Json&) {
            return Outcome::Ok(Content(
                {TextItem("Multiple content types test:"), {{"type", "image"}, {"data", kPng}, {"mimeType", "image/png"}},
                 {{"type", "resource"},
                  {"resource", {{"uri", "test://mixed-content-resource"}, {"mimeType", "application/json"},
                                {"text", R"({"test":"data","value":123})"}}}}}));
          });
  AddTool(s, "test_tool_with_logging", "Logs while it runs", EmptySchema(), [](RequestContext& ctx, const Json&) {
    ctx.Log("info", "Tool execution started", "conformance");
    Sleep(50);
    ctx.Log("info", "Tool processing data", "conformance");
    Sleep(50);
    ctx.Log("info", "Tool execution completed", "conformance");
    return Outcome::Ok(Content({TextItem("Tool with logging executed successfully")}));
  });
  AddTool(s, "test_tool_with_progress", "Reports progress", EmptySchema(), [](RequestContext& ctx, const Json&) {
    ctx.Progress(0, 100);
    Sleep(50);
    ctx.Progress(50, 100);
    Sleep(50);
    ctx.Progress(100, 100);
    return Outcome::Ok(Content({TextItem("Tool with progress executed successfully")}));
  });
  AddTool(s, "test_error_handling", "Always fails", EmptySchema(), [](RequestContext&, const Json&) {
    return Outcome::Ok({{"content", {TextItem("This tool intentionally returns an error for testing")}}, {"isError", true}});
  });
  AddTool(s, "test_sampling", "Asks the client's LLM",
          {{"type", "object"}, {"properties", {{"prompt", {{"type", "string"}}}}}, {"required", {"prompt"}}},
          [](RequestContext& ctx, const Json& args) {
            if (!ctx.client_capabilities().contains("sampling")) {
              return Outcome::Ok({{"content", {TextItem("the client does not support sampling")}}, {"isError", true}});
            }
            Json params = {{"messages", {{{"role", "user"}, {"content", TextItem(args["prompt"].get<std::string>())}}}},
                           {"maxTokens", 100}};
            auto answer = ctx.RequestClient("sampling/createMessage", params);
            if (!answer.ok()) return Outcome::Ok({{"content", {TextItem(answer.status().message())}}, {"isError", true}});
            std::string text = answer->value("content", Json::object()).value("text", "");
            return Outcome::Ok(Content({TextItem("LLM response: " + text)}));
          });
  AddTool(s, "test_elicitation", "Asks the user",
          {{"type", "object"}, {"properties", {{"message", {{"type", "string"}}}}}, {"required", {"message"}}},
          [](RequestContext& ctx, const Json& args) {
            return ElicitTool(
                ctx, {{"message", args["message"]},
                      {"requestedSchema",
                       {{"type", "object"},
                        {"properties", {{"username", {{"type", "string"}, {"description", "User's response"}}},
                                        {"email", {{"type", "string"}, {"description", "User's email address"}}}}},
                        {"required", {"username", "email"}}}}});
          });
  AddTool(s, "test_elicitation_sep1034_defaults", "Elicits with defaults", EmptySchema(),
          [](RequestContext& ctx, const Json&) {
            Json props = {
                {"name", {{"type", "string"}, {"description", "User name"}, {"default", "John Doe"}}},
                {"age", {{"type", "integer"}, {"description", "User age"}, {"default", 30}}},
                {"score", {{"type", "number"}, {"description", "User score"}, {"default", 95.5}}},
                {"status", {{"type", "string"}, {"description", "User status"},
                            {"enum", {"active", "inactive", "pending"}}, {"default", "active"}}},
                {"verified", {{"type", "boolean"}, {"description", "Verification status"}, {"default", true}}}};
            return ElicitTool(ctx, {{"message", "Please review and update the form fields with defaults"},
                                    {"requestedSchema", {{"type", "object"}, {"properties", props}, {"required", Json::array()}}}});
          });
  AddTool(s, "test_elicitation_sep1330_enums", "Elicits with every enum form", EmptySchema(),
          [](RequestContext& ctx, const Json&) {
            Json props = {
                {"untitledSingle", {{"type", "string"}, {"enum", {"option1", "option2", "option3"}}}},
                {"titledSingle", {{"type", "string"},
                                  {"oneOf", {{{"const", "value1"}, {"title", "First Option"}},
                                             {{"const", "value2"}, {"title", "Second Option"}},
                                             {{"const", "value3"}, {"title", "Third Option"}}}}}},
                {"legacyEnum", {{"type", "string"}, {"enum", {"opt1", "opt2", "opt3"}},
                                {"enumNames", {"Option One", "Option Two", "Option Three"}}}},
                {"untitledMulti", {{"type", "array"}, {"items", {{"type", "string"}, {"enum", {"option1", "option2", "option3"}}}}}},
                {"titledMulti", {{"type", "array"},
                                 {"items", {{"anyOf", {{{"const", "value1"}, {"title", "First Choice"}},
                                                       {{"const", "value2"}, {"title", "Second Choice"}},
                                                       {{"const", "value3"}, {"title", "Third Choice"}}}}}}}}};
            return ElicitTool(ctx, {{"message", "Please select options from the enum fields"},
                                    {"requestedSchema", {{"type", "object"}, {"properties", props}, {"required", Json::array()}}}});
          });
  AddTool(s, "test_reconnection", "Closes its stream mid-call; the answer arrives after the client resumes",
          EmptySchema(), [](RequestContext& ctx, const Json&) {
            Sleep(50);
            ctx.DisconnectStream();
            Sleep(100);
            return Outcome::Ok(Content({TextItem("Reconnection test completed successfully")}));
          });
  // Every 2020-12 keyword family a client must pass through unchanged: $defs with an $anchor, $ref, composition
  // and conditionals. The arguments are validated against all of it.
  Json address = {{"$anchor", "addressDef"},
                  {"type", "object"},
                  {"properties", {{"street", {{"type", "string"}}}, {"city", {{"type", "string"}}}}}};
  s.AddTool({{{"name", "json_schema_2020_12_tool"},
              {"description", "Tool with JSON Schema 2020-12 features"},
              {"inputSchema",
               {{"$schema", "https://json-schema.org/draft/2020-12/schema"},
                {"type", "object"},
                {"$defs", {{"address", address}}},
                {"properties", {{"name", {{"type", "string"}}},
                                {"address", {{"$ref", "#/$defs/address"}}},
                                {"contactMethod", {{"type", "string"}, {"enum", {"phone", "email"}}}},
                                {"phone", {{"type", "string"}}},
                                {"email", {{"type", "string"}}}}},
                {"allOf", {{{"anyOf", {{{"required", {"phone"}}}, {{"required", {"email"}}}}}}}},
                {"if", {{"properties", {{"contactMethod", {{"const", "phone"}}}}}, {"required", {"contactMethod"}}}},
                {"then", {{"required", {"phone"}}}},
                {"else", {{"required", {"email"}}}},
                {"additionalProperties", false}}}},
             [](RequestContext&, const Json& args) { return Outcome::Ok(Content({TextItem("Received: " + args.dump())})); }});

  s.AddResource({{{"uri", "test://static-text"}, {"name", "static-text"}, {"description", "A static text resource"},
                  {"mimeType", "text/plain"}},
                 [](RequestContext&, const std::string& uri) {
                   return Outcome::Ok({{"contents", {{{"uri", uri}, {"mimeType", "text/plain"},
                                                      {"text", "This is the content of the static text resource."}}}}});
                 }});
  s.AddResource({{{"uri", "test://static-binary"}, {"name", "static-binary"}, {"description", "A static PNG"},
                  {"mimeType", "image/png"}},
                 [](RequestContext&, const std::string& uri) {
                   return Outcome::Ok({{"contents", {{{"uri", uri}, {"mimeType", "image/png"}, {"blob", kPng}}}}});
                 }});
  s.AddResource({{{"uri", "test://watched-resource"}, {"name", "watched-resource"},
                  {"description", "A resource to subscribe to"}, {"mimeType", "text/plain"}},
                 [](RequestContext&, const std::string& uri) {
                   return Outcome::Ok({{"contents", {{{"uri", uri}, {"mimeType", "text/plain"}, {"text", "watched"}}}}});
                 }});
  s.AddResourceTemplate(
      {{{"uriTemplate", "test://template/{id}/data"}, {"name", "template"}, {"description", "Data by id"},
        {"mimeType", "application/json"}},
       [](RequestContext&, const std::string& uri, const std::map<std::string, std::string>& vars) {
         std::string id = vars.at("id");
         Json data = {{"id", id}, {"templateTest", true}, {"data", "Data for ID: " + id}};
         return Outcome::Ok({{"contents", {{{"uri", uri}, {"mimeType", "application/json"}, {"text", data.dump()}}}}});
       },
       [](const std::string&, const std::string& prefix) {
         std::vector<std::string> out;
         for (const char* v : {"123", "456", "789"})
           if (std::string(v).rfind(prefix, 0) == 0) out.push_back(v);
         return out;
       }});

  auto user = [](Json content) { return Json{{"role", "user"}, {"content", std::move(content)}}; };
  s.AddPrompt({{{"name", "test_simple_prompt"}, {"description", "A simple prompt"}},
               [user](RequestContext&, const std::map<std::string, std::string>&) {
                 return Outcome::Ok({{"messages", {user(TextItem("This is a simple prompt for testing."))}}});
               },
               nullptr});
  s.AddPrompt({{{"name", "test_prompt_with_arguments"},
                {"description", "A prompt with arguments"},
                {"arguments", {{{"name", "arg1"}, {"description", "First test argument"}, {"required", true}},
                               {{"name", "arg2"}, {"description", "Second test argument"}, {"required", true}}}}},
               [user](RequestContext&, const std::map<std::string, std::string>& a) {
                 return Outcome::Ok({{"messages", {user(TextItem("Prompt with arguments: arg1='" + a.at("arg1") +
                                                             "', arg2='" + a.at("arg2") + "'"))}}});
               },
               [](const std::string&, const std::string& prefix) {
                 std::vector<std::string> out;
                 for (const char* v : {"paris", "park", "party", "test", "testing"})
                   if (std::string(v).rfind(prefix, 0) == 0) out.push_back(v);
                 return out;
               }});
  s.AddPrompt({{{"name", "test_prompt_with_embedded_resource"},
                {"description", "A prompt with an embedded resource"},
                {"arguments", {{{"name", "resourceUri"}, {"description", "URI of the resource"}, {"required", true}}}}},
               [user](RequestContext&, const std::map<std::string, std::string>& a) {
                 return Outcome::Ok(
                     {{"messages",
                       {user({{"type", "resource"},
                              {"resource", {{"uri", a.at("resourceUri")}, {"mimeType", "text/plain"},
                                            {"text", "Embedded resource content for testing."}}}}),
                        user(TextItem("Please process the embedded resource above."))}}});
               },
               nullptr});
  s.AddPrompt({{{"name", "test_prompt_with_image"}, {"description", "A prompt with an image"}},
               [user](RequestContext&, const std::map<std::string, std::string>&) {
                 return Outcome::Ok({{"messages", {user({{"type", "image"}, {"data", kPng}, {"mimeType", "image/png"}}),
                                                   user(TextItem("Please analyze the image above."))}}});
               },
               nullptr});
}

}  // namespace kiln::mcp
