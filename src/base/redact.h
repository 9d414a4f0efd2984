// Masks secret values in a stream of text (a RUN step's output) before anyone sees or stores it.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

class Redactor {
 public:
  static constexpr std::string_view kMask = "****";
  /// Each non-empty value is masked; so is each line of a multi-line value (a key file printed line by line),
  /// when the line is long enough (8 bytes) not to mask ordinary text.
  explicit Redactor(const std::vector<std::string>& values);
  bool empty() const { return values_.empty(); }
  /// The part of the stream so far that is safe to show. Text that could be the start of a value split across
  /// chunks is held back until the next Feed or Flush.
  std::string Feed(std::string_view chunk);
  /// The rest of the stream, at its end.
  std::string Flush();

 private:
  std::string Scan(bool at_end);
  std::vector<std::string> values_;  // longest first, so a whole value wins over one of its lines
  size_t hold_ = 0;                  // the most ever held back: longest value - 1
  std::string pending_;
};

}  // namespace kiln
