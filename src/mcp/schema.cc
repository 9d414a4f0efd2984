#include "mcp/schema.h"

#include <regex.h>

#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <optional>

#include "base/text.h"

namespace kiln::mcp {
namespace {

constexpr int kMaxDepth = 64;
constexpr long kMaxSteps = 100'000;

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

/// Characters, not bytes: JSON Schema's string lengths count code points.
size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string Where(const std::string& path) { return path.empty() ? "arguments" : path; }

/// A non-negative count keyword (minLength, maxItems...), when the schema has a well-formed one.
std::optional<size_t> Count(const Json& s, const char* key) {
  auto k = s.find(key);
  if (k == s.end() || !k->is_number_integer() || k->get<int64_t>() < 0) return std::nullopt;
  return size_t(k->get<int64_t>());
}

/// A POSIX extended regular expression: ECMA-262 patterns of tool schemas are mostly that subset. A pattern it
/// cannot compile asserts nothing.
class Pattern {
 public:
  explicit Pattern(const std::string& p) : ok_(regcomp(&re_, p.c_str(), REG_EXTENDED | REG_NOSUB) == 0) {}
  ~Pattern() {
    if (ok_) regfree(&re_);
  }
  bool Matches(const std::string& s) const { return !ok_ || regexec(&re_, s.c_str(), 0, nullptr, 0) == 0; }

 private:
  regex_t re_;
  bool ok_;
};

class Validator {
 public:
  explicit Validator(const Json& root) : root_(root) {}

  bool exhausted() const { return steps_ > kMaxSteps; }

  std::string Check(const Json& s, const Json& v, const std::string& path, int depth) {
    if (++steps_ > kMaxSteps) return Where(path) + ": the schema takes too long to evaluate";
    if (depth > kMaxDepth) return Where(path) + ": the schema nests or refers deeper than " + std::to_string(kMaxDepth) + " levels";
    if (s.is_boolean()) return s.get<bool>() ? "" : Where(path) + ": no value is allowed here";
    if (!s.is_object()) return "";
    if (auto ref = s.find("$ref"); ref != s.end() && ref->is_string()) {
      const Json* target = Resolve(ref->get<std::string>());
      if (target) {
        std::string e = Check(*target, v, path, depth + 1);
        if (!e.empty()) return e;
      }
    }
    for (Part part : {&Validator::Type, &Validator::Values, &Validator::Numbers, &Validator::Strings,
                       &Validator::Arrays, &Validator::Objects, &Validator::Composition}) {
      std::string e = (this->*part)(s, v, path, depth);
      if (!e.empty()) return e;
    }
    return "";
  }

 private:
  using Part = std::string (Validator::*)(const Json&, const Json&, const std::string&, int);

  /// A reference within this document: "#", "#/json/pointer", or "#anchor". Others (remote documents) are not
  /// fetched; they assert nothing.
  const Json* Resolve(const std::string& ref) {
    if (ref.empty() || ref[0] != '#') return nullptr;
    if (ref.size() == 1) return &root_;
    if (ref[1] == '/') {
      const Json* at = &root_;
      size_t pos = 1;
      while (pos < ref.size() && at) {
        size_t next = ref.find('/', pos + 1);
        std::string token = ref.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1);
        for (size_t i; (i = token.find("~1")) != std::string::npos;) token.replace(i, 2, "/");
        for (size_t i; (i = token.find("~0")) != std::string::npos;) token.replace(i, 2, "~");
        if (at->is_object()) {
          at = at->contains(token) ? &(*at)[token] : nullptr;
        } else if (auto index = ParseDecimal(token); at->is_array() && index && *index < at->size()) {
          at = &(*at)[size_t(*index)];
        } else {
          at = nullptr;
        }
        pos = next == std::string::npos ? ref.size() : next;
      }
      return at;
    }
    return FindAnchor(root_, ref.substr(1), 0);
  }

  const Json* FindAnchor(const Json& s, const std::string& name, int depth) {
    if (depth > kMaxDepth) return nullptr;
    if (s.is_object()) {
      if (auto a = s.find("$anchor"); a != s.end() && *a == name) return &s;
      for (auto& [k, sub] : s.items())
        if (const Json* found = FindAnchor(sub, name, depth + 1)) return found;
    } else if (s.is_array()) {
      for (auto& sub : s)
        if (const Json* found = FindAnchor(sub, name, depth + 1)) return found;
    }
    return nullptr;
  }

  std::string Type(const Json& s, const Json& v, const std::string& path, int) {
    auto t = s.find("type");
    if (t == s.end()) return "";
    bool ok = true;
    if (t->is_string()) {
      ok = HasType(v, t->get<std::string>());
    } else if (t->is_array()) {
      ok = false;
      for (auto& x : *t) ok |= x.is_string() && HasType(v, x.get<std::string>());
    }
    return ok ? "" : Where(path) + ": expected " + (t->is_string() ? t->get<std::string>() : t->dump());
  }

  std::string Values(const Json& s, const Json& v, const std::string& path, int) {
    if (auto e = s.find("enum"); e != s.end() && e->is_array() && std::find(e->begin(), e->end(), v) == e->end()) {
      return Where(path) + ": must be one of " + e->dump();
    }
    if (auto c = s.find("const"); c != s.end() && *c != v) return Where(path) + ": must be " + c->dump();
    return "";
  }

  std::string Numbers(const Json& s, const Json& v, const std::string& path, int) {
    if (!v.is_number()) return "";
    double x = v.get<double>();
    auto bound = [&](const char* key, auto fails, const char* says) -> std::string {
      auto b = s.find(key);
      if (b == s.end() || !b->is_number() || !fails(x, b->get<double>())) return "";
      return Where(path) + ": must be " + says + " " + b->dump();
    };
    for (std::string e : {bound("minimum", [](double a, double b) { return a < b; }, "at least"),
                          bound("maximum", [](double a, double b) { return a > b; }, "at most"),
                          bound("exclusiveMinimum", [](double a, double b) { return a <= b; }, "more than"),
                          bound("exclusiveMaximum", [](double a, double b) { return a >= b; }, "less than"),
                          bound("multipleOf", [](double a, double b) { return b > 0 && std::fabs(std::remainder(a, b)) > 1e-9 * std::max(1.0, std::fabs(a)); }, "a multiple of")})
      if (!e.empty()) return e;
    return "";
  }

  std::string Strings(const Json& s, const Json& v, const std::string& path, int) {
    if (!v.is_string()) return "";
    const std::string& text = v.get_ref<const std::string&>();
    size_t n = CodePoints(text);
    if (auto m = Count(s, "minLength"); m && n < *m) {
      return Where(path) + ": must have at least " + std::to_string(*m) + " characters";
    }
    if (auto m = Count(s, "maxLength"); m && n > *m) {
      return Where(path) + ": must have at most " + std::to_string(*m) + " characters";
    }
    if (auto p = s.find("pattern"); p != s.end() && p->is_string() && !Compiled(p->get<std::string>()).Matches(text)) {
      return Where(path) + ": must match the pattern " + p->dump();
    }
    return "";
  }

  std::string Arrays(const Json& s, const Json& v, const std::string& path, int depth) {
    if (!v.is_array()) return "";
    if (auto m = Count(s, "minItems"); m && v.size() < *m) {
      return Where(path) + ": must have at least " + std::to_string(*m) + " items";
    }
    if (auto m = Count(s, "maxItems"); m && v.size() > *m) {
      return Where(path) + ": must have at most " + std::to_string(*m) + " items";
    }
    if (s.value("uniqueItems", false) == true)
      for (size_t i = 0; i < v.size(); i++)
        for (size_t j = i + 1; j < v.size(); j++)
          if (v[i] == v[j]) return Where(path) + ": items must be unique, " + v[i].dump() + " repeats";
    size_t first = 0;
    if (auto prefix = s.find("prefixItems"); prefix != s.end() && prefix->is_array()) {
      for (; first < prefix->size() && first < v.size(); first++) {
        std::string e = Check((*prefix)[first], v[first], Where(path) + "[" + std::to_string(first) + "]", depth + 1);
        if (!e.empty()) return e;
      }
    }
    if (auto items = s.find("items"); items != s.end())
      for (size_t i = first; i < v.size(); i++) {
        std::string e = Check(*items, v[i], Where(path) + "[" + std::to_string(i) + "]", depth + 1);
        if (!e.empty()) return e;
      }
    if (auto contains = s.find("contains"); contains != s.end()) {
      size_t hits = 0;
      for (auto& item : v) hits += Check(*contains, item, path, depth + 1).empty();
      size_t min = Count(s, "minContains").value_or(1);
      if (hits < min) return Where(path) + ": must contain at least " + std::to_string(min) + " matching item(s)";
      if (auto max = Count(s, "maxContains"); max && hits > *max) {
        return Where(path) + ": must contain at most " + std::to_string(*max) + " matching item(s)";
      }
    }
    return "";
  }

  std::string Objects(const Json& s, const Json& v, const std::string& path, int depth) {
    if (!v.is_object()) return "";
    if (auto r = s.find("required"); r != s.end() && r->is_array())
      for (auto& name : *r)
        if (name.is_string() && !v.contains(name.get<std::string>())) {
          return Where(path) + ": missing required property \"" + name.get<std::string>() + "\"";
        }
    if (auto m = Count(s, "minProperties"); m && v.size() < *m) {
      return Where(path) + ": must have at least " + std::to_string(*m) + " properties";
    }
    if (auto m = Count(s, "maxProperties"); m && v.size() > *m) {
      return Where(path) + ": must have at most " + std::to_string(*m) + " properties";
    }
    if (auto deps = s.find("dependentRequired"); deps != s.end() && deps->is_object())
      for (auto& [key, needed] : deps->items())
        if (v.contains(key) && needed.is_array())
          for (auto& n : needed)
            if (n.is_string() && !v.contains(n.get<std::string>())) {
              return Where(path) + ": \"" + key + "\" needs \"" + n.get<std::string>() + "\" too";
            }
    const Json* props = s.contains("properties") && s["properties"].is_object() ? &s["properties"] : nullptr;
    const Json* patterns = s.contains("patternProperties") && s["patternProperties"].is_object() ? &s["patternProperties"] : nullptr;
    for (auto& [k, x] : v.items()) {
      std::string sub = path.empty() ? k : path + "." + k;
      if (auto names = s.find("propertyNames"); names != s.end()) {
        std::string e = Check(*names, Json(k), sub, depth + 1);
        if (!e.empty()) return Where(path) + ": property name \"" + k + "\" is not allowed";
      }
      bool matched = false;
      if (props && props->contains(k)) {
        matched = true;
        std::string e = Check((*props)[k], x, sub, depth + 1);
        if (!e.empty()) return e;
      }
      if (patterns)
        for (auto& [pattern, ps] : patterns->items())
          if (Compiled(pattern).Matches(k)) {
            matched = true;
            std::string e = Check(ps, x, sub, depth + 1);
            if (!e.empty()) return e;
          }
      if (!matched && s.contains("additionalProperties")) {
        const Json& ap = s["additionalProperties"];
        if (ap.is_boolean() && !ap.get<bool>()) return Where(path) + ": unknown property \"" + k + "\"";
        std::string e = Check(ap, x, sub, depth + 1);
        if (!e.empty()) return e;
      }
    }
    return "";
  }

  std::string Composition(const Json& s, const Json& v, const std::string& path, int depth) {
    if (auto all = s.find("allOf"); all != s.end() && all->is_array())
      for (auto& sub : *all) {
        std::string e = Check(sub, v, path, depth + 1);
        if (!e.empty()) return e;
      }
    for (const char* key : {"anyOf", "oneOf"}) {
      auto list = s.find(key);
      if (list == s.end() || !list->is_array()) continue;
      int matches = 0;
      std::string first;
      for (auto& sub : *list) {
        std::string e = Check(sub, v, path, depth + 1);
        if (e.empty()) {
          matches++;
        } else if (first.empty()) {
          first = e;
        }
      }
      if (matches == 0) return first.empty() ? Where(path) + ": matches none of " + key : first;
      if (std::string(key) == "oneOf" && matches > 1) return Where(path) + ": matches more than one of oneOf";
    }
    if (auto no = s.find("not"); no != s.end() && Check(*no, v, path, depth + 1).empty()) {
      return Where(path) + ": must not match " + no->dump();
    }
    if (auto cond = s.find("if"); cond != s.end()) {
      bool holds = Check(*cond, v, path, depth + 1).empty();
      auto branch = s.find(holds ? "then" : "else");
      if (branch != s.end()) return Check(*branch, v, path, depth + 1);
    }
    return "";
  }

  const Pattern& Compiled(const std::string& p) {
    auto& slot = patterns_[p];
    if (!slot) slot = std::make_unique<Pattern>(p);
    return *slot;
  }

  const Json& root_;
  long steps_ = 0;
  std::map<std::string, std::unique_ptr<Pattern>> patterns_;
};

}  // namespace

std::string ValidateSchema(const Json& schema, const Json& value, const std::string& path) {
  Validator v(schema);
  std::string problem = v.Check(schema, value, path, 0);
  // Past the budget every check fails at once, so whatever came out is not the answer.
  return v.exhausted() ? Where(path) + ": the schema takes too long to evaluate" : problem;
}

}  // namespace kiln::mcp
