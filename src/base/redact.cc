#include "base/redact.h"

#include <algorithm>

namespace kiln {

Redactor::Redactor(const std::vector<std::string>& values) {
  for (auto& v : values) {
    if (v.empty()) continue;
    values_.push_back(v);
    size_t start = 0;
    while (start < v.size()) {
      size_t nl = v.find('\n', start);
      std::string line = v.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.size() >= 8 && line != v) values_.push_back(line);
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
  }
  std::sort(values_.begin(), values_.end(), [](auto& a, auto& b) { return a.size() > b.size(); });
  values_.erase(std::unique(values_.begin(), values_.end()), values_.end());
  for (auto& v : values_) hold_ = std::max(hold_, v.size() - 1);  // a whole value is masked, not held
}

std::string Redactor::Feed(std::string_view chunk) {
  if (values_.empty()) return std::string(chunk);
  pending_.append(chunk);
  return Scan(false);
}

std::string Redactor::Flush() { return Scan(true); }

std::string Redactor::Scan(bool at_end) {
  // Hold back the longest tail that a value starts with: it may be completed by the next chunk. A match that
  // starts before it lies wholly inside pending_.
  size_t held = 0;
  if (!at_end) {
    for (size_t k = std::min(hold_, pending_.size()); k > 0 && held == 0; k--) {
      for (auto& v : values_) {
        if (v.size() > k && pending_.compare(pending_.size() - k, k, v, 0, k) == 0) {
          held = k;
          break;
        }
      }
    }
  }
  size_t safe = pending_.size() - held;
  std::string out;
  size_t i = 0;
  while (i < safe) {
    const std::string* hit = nullptr;
    for (auto& v : values_) {
      if (pending_.compare(i, v.size(), v) == 0) {
        hit = &v;
        break;
      }
    }
    if (hit) {
      out += kMask;
      i += hit->size();
    } else {
      out += pending_[i++];
    }
  }
  pending_.erase(0, std::min(i, pending_.size()));
  return out;
}

}  // namespace kiln
