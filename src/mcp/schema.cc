#include "mcp/schema.h"

#include <cmath>

namespace kiln::mcp {
namespace {

// JSON Schema counts 5.0 as an integer. Compared without converting first: converting a double outside int64's range
// (1e30) is undefined behaviour.
bool IsWholeInt64(double d) { return std::isfinite(d) && std::trunc(d) == d && std::fabs(d) < 9.2e18; }

bool HasType(const Json& v, const std::string& type) {
  if (type == "string") return v.is_string();
  if (type == "integer") return v.is_number_integer() || (v.is_number_float() && IsWholeInt64(v.get<double>()));
  if (type == "number") return v.is_number();
  if (type == "boolean") return v.is_boolean();
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "null") return v.is_null();
  return true;
}

std::string Where(const std::string& path) { return path.empty() ? "arguments" : path; }

}  // namespace

std::string ValidateSchema(const Json& schema, const Json& v, const std::string& path) {
  if (!schema.is_object()) return "";
  if (schema.contains("type")) {
    const Json& t = schema["type"];
    bool ok = false;
    if (t.is_string()) {
      ok = HasType(v, t.get<std::string>());
    } else if (t.is_array()) {
      for (auto& x : t) ok |= x.is_string() && HasType(v, x.get<std::string>());
    } else {
      ok = true;
    }
    if (!ok) return Where(path) + ": expected " + (t.is_string() ? t.get<std::string>() : t.dump());
  }
  if (schema.contains("enum") && schema["enum"].is_array()) {
    bool found = false;
    for (auto& e : schema["enum"]) found |= e == v;
    if (!found) return Where(path) + ": must be one of " + schema["enum"].dump();
  }
  if (schema.contains("const") && schema["const"] != v) return Where(path) + ": must be " + schema["const"].dump();
  if (v.is_number()) {
    if (schema.contains("minimum") && v.get<double>() < schema["minimum"].get<double>()) {
      return Where(path) + ": must be at least " + schema["minimum"].dump();
    }
    if (schema.contains("maximum") && v.get<double>() > schema["maximum"].get<double>()) {
      return Where(path) + ": must be at most " + schema["maximum"].dump();
    }
  }
  if (v.is_string()) {
    size_t n = v.get_ref<const std::string&>().size();
    if (schema.contains("minLength") && n < schema["minLength"].get<size_t>()) {
      return Where(path) + ": must have at least " + schema["minLength"].dump() + " characters";
    }
    if (schema.contains("maxLength") && n > schema["maxLength"].get<size_t>()) {
      return Where(path) + ": must have at most " + schema["maxLength"].dump() + " characters";
    }
  }
  if (v.is_array()) {
    if (schema.contains("minItems") && v.size() < schema["minItems"].get<size_t>()) {
      return Where(path) + ": must have at least " + schema["minItems"].dump() + " items";
    }
    if (schema.contains("maxItems") && v.size() > schema["maxItems"].get<size_t>()) {
      return Where(path) + ": must have at most " + schema["maxItems"].dump() + " items";
    }
    if (schema.value("uniqueItems", false))
      for (size_t i = 0; i < v.size(); i++)
        for (size_t j = i + 1; j < v.size(); j++)
          if (v[i] == v[j]) return Where(path) + ": items must be unique, " + v[i].dump() + " repeats";
    if (schema.contains("items"))
      for (size_t i = 0; i < v.size(); i++) {
        std::string e = ValidateSchema(schema["items"], v[i], Where(path) + "[" + std::to_string(i) + "]");
        if (!e.empty()) return e;
      }
  }
  if (v.is_object()) {
    if (schema.contains("required"))
      for (auto& r : schema["required"])
        if (r.is_string() && !v.contains(r.get<std::string>())) {
          return Where(path) + ": missing required property \"" + r.get<std::string>() + "\"";
        }
    const Json* props = schema.contains("properties") ? &schema["properties"] : nullptr;
    for (auto& [k, x] : v.items()) {
      std::string sub = path.empty() ? k : path + "." + k;
      if (props && props->contains(k)) {
        std::string e = ValidateSchema((*props)[k], x, sub);
        if (!e.empty()) return e;
      } else if (schema.contains("additionalProperties")) {
        const Json& ap = schema["additionalProperties"];
        if (ap.is_boolean() && !ap.get<bool>()) return Where(path) + ": unknown property \"" + k + "\"";
        if (ap.is_object()) {
          std::string e = ValidateSchema(ap, x, sub);
          if (!e.empty()) return e;
        }
      }
    }
  }
  for (const char* key : {"anyOf", "oneOf"}) {
    if (!schema.contains(key) || !schema[key].is_array()) continue;
    int matches = 0;
    std::string first;
    for (auto& s : schema[key]) {
      std::string e = ValidateSchema(s, v, path);
      if (e.empty()) {
        matches++;
      } else if (first.empty()) {
        first = e;
      }
    }
    if (matches == 0) return first;
  }
  return "";
}

}  // namespace kiln::mcp
