#include "frontend/dockerfile/history_format.h"

#include <cstdio>

namespace kiln::dockerfile {

std::string JoinWords(const std::vector<std::string>& words) {
  std::string out;
  for (auto& s : words) {
    if (!out.empty()) out += ' ';
    out += s;
  }
  return out;
}

std::string GoSlice(const std::vector<std::string>& words) {
  std::string out = "[";
  out += JoinWords(words);
  out += ']';
  return out;
}

std::string GoQuoted(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += char(c);
        }
    }
  }
  return out + "\"";
}

std::string GoQuotedSlice(const std::vector<std::string>& words) {
  std::string out = "[";
  for (size_t i = 0; i < words.size(); i++) {
    if (i) out += ' ';
    out += GoQuoted(words[i]);
  }
  out += ']';
  return out;
}

}  // namespace kiln::dockerfile
