#include "frontend/dockerfile/parser.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>

#include "base/json.h"
#include "base/text.h"
#include "frontend/dockerfile/shell.h"

namespace kiln::dockerfile {
namespace {

/// Whether a # syntax= directive names BuildKit's Dockerfile frontend ([REGISTRY/]docker/dockerfile[-upstream]
/// with any tag or digest), which is the language kiln builds itself.
bool NamesDockerfileFrontend(const std::string& ref) {
  std::string name = ref.substr(0, ref.find('@'));
  size_t slash = name.rfind('/');
  size_t colon = name.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) name.resize(colon);
  for (const char* frontend : {"docker/dockerfile", "docker/dockerfile-upstream"}) {
    std::string f = frontend;
    if (name == f || (name.size() > f.size() && name.compare(name.size() - f.size() - 1, std::string::npos, "/" + f) == 0)) {
      return true;
    }
  }
  return false;
}

const std::set<std::string> kKeywords = {"from",  "run",        "cmd",         "label",   "maintainer",
                                         "expose", "env",       "add",         "copy",    "entrypoint",
                                         "volume", "user",      "workdir",     "arg",     "onbuild",
                                         "stopsignal", "healthcheck", "shell"};
// Instructions whose arguments may open here-documents.
const std::set<std::string> kHeredocKeywords = {"run", "copy", "add"};

std::string TrimLeft(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  return b == std::string::npos ? std::string() : s.substr(b);
}

std::string TrimRight(const std::string& s) {
  size_t e = s.find_last_not_of(" \t\r");
  return e == std::string::npos ? std::string() : s.substr(0, e + 1);
}

std::string Trim(const std::string& s) { return TrimLeft(TrimRight(s)); }

bool IsComment(const std::string& line) {
  std::string t = TrimLeft(line);
  return !t.empty() && t[0] == '#';
}

/// If `line` ends with the escape character (before trailing blanks), removes it and returns true.
bool TrimContinuation(std::string& line, char escape) {
  std::string t = TrimRight(line);
  if (t.empty() || t.back() != escape) return false;
  line = t.substr(0, t.size() - 1);
  return true;
}

/// Splits "--a=b --c rest" into flags and the rest.
/// `text` follows the keyword, starting at column `column` (1-based) of the instruction's first line.
void SplitFlags(const std::string& text, int line, int column, std::vector<Flag>& flags, std::string& rest,
                int& rest_column) {
  size_t pos = 0;
  for (;;) {
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) pos++;
    if (text.compare(pos, 2, "--") != 0) break;
    size_t end = pos;
    while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end]))) end++;
    std::string tok = text.substr(pos + 2, end - pos - 2);
    if (tok.empty()) break;  // a lone "--" is an argument
    Flag f;
    f.line = line;
    f.column = column + int(pos);
    size_t eq = tok.find('=');
    if (eq == std::string::npos) {
      f.name = tok;
    } else {
      f.name = tok.substr(0, eq);
      f.value = tok.substr(eq + 1);
      f.has_value = true;
    }
    flags.push_back(f);
    pos = end;
  }
  while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) pos++;
  rest = Trim(text.substr(std::min(pos, text.size())));
  rest_column = column + int(pos);
}

/// Finds "<<WORD", "<<-WORD", "<<'WORD'", "<<\"WORD\"" openers in shell-form arguments, in order.
std::vector<Heredoc> FindHeredocs(const std::string& args) {
  std::vector<Heredoc> out;
  size_t pos = 0;
  while ((pos = args.find("<<", pos)) != std::string::npos) {
    size_t p = pos + 2;
    Heredoc h;
    if (p < args.size() && args[p] == '-') {
      h.strip_tabs = true;
      p++;
    }
    char quote = 0;
    if (p < args.size() && (args[p] == '\'' || args[p] == '"')) quote = args[p++];
    size_t start = p;
    while (p < args.size() && (std::isalnum(static_cast<unsigned char>(args[p])) || args[p] == '_' ||
                               args[p] == '-' || args[p] == '.')) {
      p++;
    }
    if (p == start || (quote && (p >= args.size() || args[p] != quote))) {
      pos += 2;
      continue;
    }
    h.name = args.substr(start, p - start);
    h.expand = quote == 0;
    out.push_back(h);
    pos = p + (quote ? 1 : 0);
  }
  return out;
}

/// The instructions whose arguments BuildKit's parser reads as a JSON array when they are one.
const std::set<std::string> kJsonFormKeywords = {"run", "cmd", "entrypoint", "shell", "volume", "copy", "add"};

/// What is wrong with ENV's or LABEL's arguments, in BuildKit's words: "KEY name value" needs a value, and in
/// "KEY a=1 b=2" every word needs its "=".
std::optional<std::string> CheckNameValues(const std::string& keyword, const std::string& args, char escape) {
  auto words = SplitWords(args, escape);
  if (words.empty()) return std::nullopt;
  if (words[0].find('=') == std::string::npos) {
    if (words.size() < 2) return AsciiUpper(keyword) + " must have two arguments";
    return std::nullopt;
  }
  for (auto& w : words) {
    size_t eq = w.find('=');
    if (eq == std::string::npos || eq == 0) {
      return "syntax error - can't find = in \"" + w + "\". Must be of the form: name=value";
    }
  }
  return std::nullopt;
}

}  // namespace

Result<Dockerfile> Parse(const std::string& text, const std::string& path) {
  Dockerfile df;
  df.path = path;
  std::vector<std::string> lines;
  {
    // A UTF-8 byte-order mark before the first line is not part of it (as BuildKit's parser drops it).
    size_t start = text.rfind("\xEF\xBB\xBF", 0) == 0 ? 3 : 0;
    while (start < text.size()) {
      size_t nl = text.find('\n', start);
      if (nl == std::string::npos) nl = text.size();
      std::string l = text.substr(start, nl - start);
      if (!l.empty() && l.back() == '\r') l.pop_back();
      lines.push_back(l);
      start = nl + 1;
    }
  }
  auto error = [&](int line, const std::string& msg, int column = 0) {
    return Status::Error(path + ":" + std::to_string(line) + (column ? ":" + std::to_string(column) : "") + ": " + msg);
  };

  size_t i = 0;
  // Parser directives: "# key=value" lines at the very top, before anything else.
  for (; i < lines.size(); i++) {
    std::string t = Trim(lines[i]);
    if (t.empty() || t[0] != '#') break;
    std::string body = Trim(t.substr(1));
    size_t eq = body.find('=');
    if (eq == std::string::npos) break;
    std::string key = AsciiLower(Trim(body.substr(0, eq)));
    if (key != "syntax" && key != "escape" && key != "check") break;
    if (df.directives.count(key)) return error(int(i + 1), "only one " + key + " parser directive can be used");
    std::string value = Trim(body.substr(eq + 1));
    if (key == "escape") {
      if (value != "\\" && value != "`") return error(int(i + 1), "invalid escape token '" + value + "' does not match ` or \\");
      df.escape = value[0];
    }
    if (key == "syntax" && !NamesDockerfileFrontend(value)) {
      return error(int(i + 1), "syntax=" + value + ": kiln builds the Dockerfile language itself and runs no other "
                               "frontend image (# syntax=docker/dockerfile:1, and its other versions, is understood)");
    }
    df.directives[key] = value;
  }

  std::vector<std::string> comments;  // directly above the next instruction
  while (i < lines.size()) {
    std::string first = lines[i];
    if (Trim(first).empty()) {
      i++;
      continue;
    }
    if (IsComment(first)) {
      // As BuildKit's parser: a bare "#" ends a description, a blank line does not.
      std::string c = Trim(TrimLeft(first).substr(1));
      if (c.empty()) {
        comments.clear();
      } else {
        comments.push_back(c);
      }
      i++;
      continue;
    }
    Instruction in;
    in.line = int(i + 1);
    in.comments = std::move(comments);
    comments.clear();
    std::string joined;
    std::string line = first;
    bool more = TrimContinuation(line, df.escape);
    joined = line;
    i++;
    while (more && i < lines.size()) {
      std::string next = lines[i++];
      if (Trim(next).empty()) in.empty_continuation = true;
      if (IsComment(next) || Trim(next).empty()) continue;  // dropped inside a continued instruction
      more = TrimContinuation(next, df.escape);
      joined += next;
    }
    in.end_line = int(i);
    std::string trimmed = TrimLeft(joined);
    in.column = int(joined.size() - trimmed.size()) + 1;
    size_t sp = 0;
    while (sp < trimmed.size() && !std::isspace(static_cast<unsigned char>(trimmed[sp]))) sp++;
    std::string word = trimmed.substr(0, sp);
    in.keyword = AsciiLower(word);
    if (!kKeywords.count(in.keyword)) {
      std::string closest = SuggestClosest(word, {kKeywords.begin(), kKeywords.end()});
      return error(in.line, "dockerfile parse error on line " + std::to_string(in.line) + ": unknown instruction: " + word + (closest.empty() ? "" : " (did you mean " + closest + "?)"),
                   in.column);
    }
    std::string rest = trimmed.substr(sp);
    SplitFlags(rest, in.line, in.column + int(sp), in.flags, in.args, in.args_column);
    in.original = TrimRight(trimmed);

    // ONBUILD RUN <<EOF takes its documents as the RUN would (BuildKit keeps them in the trigger).
    std::string heredoc_args = in.args, heredoc_keyword = in.keyword;
    if (in.keyword == "onbuild") {
      size_t end = in.args.find_first_of(" \t");
      heredoc_keyword = AsciiLower(in.args.substr(0, end));
      heredoc_args = end == std::string::npos ? "" : TrimLeft(in.args.substr(end));
    }
    if (kHeredocKeywords.count(heredoc_keyword) && (heredoc_args.empty() || heredoc_args[0] != '[')) {
      in.heredocs = FindHeredocs(heredoc_args);
      for (auto& h : in.heredocs) {
        bool closed = false;
        while (i < lines.size()) {
          std::string l = lines[i++];
          std::string cmp = l;
          if (h.strip_tabs) cmp.erase(0, cmp.find_first_not_of('\t') == std::string::npos ? cmp.size() : cmp.find_first_not_of('\t'));
          if (cmp == h.name) {
            closed = true;
            break;
          }
          h.content += l + "\n";  // as written: <<- strips tabs where the document is used (ChompedContent)
        }
        if (!closed) return error(in.line, "unterminated heredoc <<" + h.name);
      }
      in.end_line = int(i);
    }

    if (!in.args.empty() && in.args[0] == '[') {
      auto j = ParseJson(in.args);
      if (j.ok() && j->is_array()) {
        if (std::all_of(j->begin(), j->end(), [](const Json& x) { return x.is_string(); })) {
          in.json_form = true;
          for (auto& x : *j) in.json_args.push_back(x.get<std::string>());
        } else if (kJsonFormKeywords.count(in.keyword)) {
          // Valid JSON that is not a list of strings is an error, not a shell command (BuildKit's words).
          return error(in.line, "when using JSON array syntax, arrays must be comprised of strings only",
                       in.args_column);
        }
      }
    }
    if (in.args.empty() && in.heredocs.empty() && in.keyword != "healthcheck") {
      return error(in.line, word + " requires at least one argument", in.column);
    }
    if (in.keyword == "env" || in.keyword == "label") {
      if (auto bad = CheckNameValues(word, in.args, df.escape)) return error(in.line, *bad, in.args_column);
    }
    df.instructions.push_back(std::move(in));
  }
  // Comments and blank lines alone are no Dockerfile (BuildKit's parser refuses them too).
  if (df.instructions.empty()) return error(int(std::max<size_t>(lines.size(), 1)), "file with no instructions");
  return df;
}

std::string QuoteSource(const std::string& text, int line) {
  std::vector<std::string> lines;
  for (size_t start = 0; start <= text.size() && int(lines.size()) < line + 1000;) {
    size_t nl = text.find('\n', start);
    lines.push_back(text.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  if (line < 1 || size_t(line) > lines.size()) return "";
  // The instruction's continuation lines are marked too, as BuildKit marks an instruction's whole range.
  char escape = '\\';
  for (auto& l : lines) {  // the escape directive, among the comment lines at the top
    std::string t = Trim(l);
    if (t.empty() || t[0] != '#') break;
    std::string body = Trim(t.substr(1));
    if (AsciiLower(body.substr(0, body.find('='))) == "escape" && Trim(body.substr(body.find('=') + 1)) == "`") escape = '`';
  }
  int last = line;
  auto continues = [&](const std::string& l) {
    size_t end = l.find_last_not_of(" \t\r");
    return end != std::string::npos && l[end] == escape;
  };
  while (size_t(last) < lines.size() && last - line < 50 && continues(lines[size_t(last - 1)])) last++;
  std::string out = "--------------------\n";
  for (int l = std::max(1, line - 2); l <= last; l++) {
    char number[16];
    snprintf(number, sizeof number, "%4d", l);
    std::string shown = lines[size_t(l - 1)];
    if (!shown.empty() && shown.back() == '\r') shown.pop_back();
    if (shown.size() > 160) shown = shown.substr(0, 160) + "...";  // a hostile line is not echoed whole
    out += std::string(number) + " | " + (l >= line ? ">>> " : "    ") + EscapeControl(shown) + "\n";
  }
  return out + "--------------------";
}

int ErrorLine(const Status& error, const std::string& path) {
  const std::string& m = error.message();
  if (m.rfind(path + ":", 0) != 0) return 0;
  std::string_view rest = std::string_view(m).substr(path.size() + 1);
  return int(ParseDecimal(rest.substr(0, rest.find_first_not_of("0123456789")), INT32_MAX).value_or(0));
}

std::optional<Dockerfile> ParseBeforeError(const std::string& text, const std::string& path, const Status& error) {
  int line = ErrorLine(error, path);
  if (line <= 1) return std::nullopt;
  size_t end = 0;
  for (int i = 1; i < line && end != std::string::npos; i++) {
    end = text.find('\n', end);
    if (end != std::string::npos) end++;
  }
  if (end == std::string::npos) return std::nullopt;
  auto before = Parse(text.substr(0, end), path);
  if (!before.ok()) return std::nullopt;
  return std::move(*before);
}

Status WithQuotedSource(const Status& error, const std::string& path, const std::string& text) {
  std::string quote = QuoteSource(text, ErrorLine(error, path));
  return quote.empty() ? error : Status::Error(error.message() + "\n" + quote);
}

std::optional<std::string> FlagValue(const Instruction& in, const std::string& name) {
  std::optional<std::string> v;
  for (auto& f : in.flags)
    if (f.name == name) v = f.has_value ? f.value : "true";
  return v;
}

std::string ChompedContent(const Heredoc& h) {
  if (!h.strip_tabs) return h.content;
  std::string out;
  size_t pos = 0;
  while (pos < h.content.size()) {
    size_t end = h.content.find('\n', pos);
    end = end == std::string::npos ? h.content.size() : end + 1;
    size_t text = h.content.find_first_not_of('\t', pos);
    out += h.content.substr(std::min(text, end), end - std::min(text, end));
    pos = end;
  }
  return out;
}

}  // namespace kiln::dockerfile
