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

std::string GoQuotedRune(int64_t c) {
  switch (c) {
    case '\a': return "'\\a'";
    case '\b': return "'\\b'";
    case '\f': return "'\\f'";
    case '\n': return "'\\n'";
    case '\r': return "'\\r'";
    case '\t': return "'\\t'";
    case '\v': return "'\\v'";
    case '\'': return "'\\''";
    case '\\': return "'\\\\'";
  }
  char buf[16];
  if (c >= 0x20 && c < 0x7f) {
    snprintf(buf, sizeof buf, "'%c'", char(c));
  } else if (c >= 0 && c < 0x80) {
    snprintf(buf, sizeof buf, "'\\x%02x'", unsigned(c));
  } else if (c >= 0x80 && c < 0xa0) {
    snprintf(buf, sizeof buf, "'\\u%04x'", unsigned(c));
  } else if (c >= 0xa0 && c <= 0x10ffff && !(c >= 0xd800 && c < 0xe000)) {
    // A printable code point is written as itself, in UTF-8.
    std::string utf8;
    if (c < 0x800) {
      utf8 = {char(0xc0 | (c >> 6)), char(0x80 | (c & 0x3f))};
    } else if (c < 0x10000) {
      utf8 = {char(0xe0 | (c >> 12)), char(0x80 | ((c >> 6) & 0x3f)), char(0x80 | (c & 0x3f))};
    } else {
      utf8 = {char(0xf0 | (c >> 18)), char(0x80 | ((c >> 12) & 0x3f)), char(0x80 | ((c >> 6) & 0x3f)), char(0x80 | (c & 0x3f))};
    }
    return "'" + utf8 + "'";
  } else {
    return "'\xef\xbf\xbd'";  // not a code point: Go prints the replacement character, U+FFFD
  }
  return buf;
}

}  // namespace kiln::dockerfile
