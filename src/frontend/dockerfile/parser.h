// The Dockerfile parser: parser directives, comments, line continuations with the escape character, heredocs,
// instruction flags and JSON (exec) form. It yields instructions with their line numbers; it expands nothing.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace kiln::dockerfile {

/// "--name=value" or "--name" before an instruction's arguments.
struct Flag {
  std::string name;
  std::string value;
  bool has_value = false;
  int line = 0;
  int column = 0;  // of its "--", on the instruction's first line
};

/// A here-document attached to an instruction ("<<EOF ... EOF").
struct Heredoc {
  std::string name;     // the delimiter word
  std::string content;  // the lines between, as written, each ending in '\n'
  bool expand = true;   // false when the delimiter was quoted
  bool strip_tabs = false;  // "<<-": leading tabs removed
};

struct Instruction {
  std::string keyword;  // lower case: "from", "run", ...
  std::vector<Flag> flags;
  std::string args;     // the text after the flags, continuation lines joined
  bool json_form = false;
  std::vector<std::string> json_args;  // when json_form
  std::vector<Heredoc> heredocs;
  int line = 0;      // first line, 1-based
  int end_line = 0;  // last line
  int column = 0;       // of the keyword, 1-based
  int args_column = 0;  // of the arguments after the flags (past the first line when they start on a later one)
  std::string original;  // "RUN --flag x", as a person would reread it
  /// The comment lines since the previous instruction (a bare "#" clears them; blank lines do not, as in
  /// BuildKit), trimmed, without "#": where a stage's or an ARG's description is (`kiln build --call`).
  std::vector<std::string> comments;
  /// Whether an empty line is inside its continuation lines (BuildKit's NoEmptyContinuation).
  bool empty_continuation = false;
};

struct Dockerfile {
  std::string path;  // for messages
  char escape = '\\';
  std::map<std::string, std::string> directives;  // syntax, escape, check
  std::vector<Instruction> instructions;
};

/// Lines `line` - 2 .. `line` of the source as BuildKit quotes them in an error or a check, the line itself marked:
///    2 |     FROM busybox
///    3 | >>> RUNN true
std::string QuoteSource(const std::string& text, int line);

/// The line a parse or lowering error of `path` names ("PATH:LINE[:COLUMN]: message"); 0 when it names none.
int ErrorLine(const Status& error, const std::string& path);
/// A parse or lowering error of `path` ("PATH:LINE: message") with the line quoted under it; other errors as they are.
Status WithQuotedSource(const Status& error, const std::string& path, const std::string& text);
/// The part of `text` before the line a parse `error` names ("PATH:LINE..."), parsed: what BuildKit still checks
/// when a later line cannot be parsed. nullopt when the error names no later line, or that part does not parse.
std::optional<Dockerfile> ParseBeforeError(const std::string& text, const std::string& path, const Status& error);

/// Parses Dockerfile text. Errors name `path`, the line and the column: "Dockerfile:3:1: unknown instruction: FOO".
Result<Dockerfile> Parse(const std::string& text, const std::string& path);

/// A heredoc's text as a document (COPY's source, RUN's sole script): with "<<-", each line's leading tabs removed.
std::string ChompedContent(const Heredoc& h);

/// The value of flag `name` if given (last wins), else nullopt.
std::optional<std::string> FlagValue(const Instruction& in, const std::string& name);

}  // namespace kiln::dockerfile
