#include "base/text.h"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstdlib>

#include <openssl/evp.h>

#include <cstdint>

namespace kiln {

std::string EscapeControl(std::string_view text, bool keep_layout) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  auto escape = [&](unsigned char c) {
    out += "\\x";
    out += kHex[c >> 4];
    out += kHex[c & 15];
  };
  for (size_t i = 0; i < text.size(); i++) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (keep_layout && (c == '\n' || c == '\t')) {
      out += char(c);
    } else if (c < 0x20 || c == 0x7f) {
      escape(c);
    } else if (c == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      // A C1 control in UTF-8 (U+009B is a one-character CSI to many terminals).
      escape(c);
      escape(static_cast<unsigned char>(text[++i]));
    } else {
      out += char(c);
    }
  }
  return out;
}

std::optional<uint64_t> ParseDecimal(std::string_view text, uint64_t max) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > max) return std::nullopt;
  return value;
}

std::optional<int64_t> ParseSignedDecimal(std::string_view text, int64_t min, int64_t max) {
  bool negative = !text.empty() && text[0] == '-';
  std::string_view digits = negative ? text.substr(1) : text;
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) return std::nullopt;
  return value;
}

std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  return out;
}

std::optional<int64_t> ParseGoDuration(std::string_view text) {
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return 0;
  if (s.empty()) return std::nullopt;
  static const std::pair<std::string_view, int64_t> units[] = {
      {"ns", 1}, {"us", 1000}, {"\xc2\xb5s", 1000}, {"\xce\xbcs", 1000}, {"ms", 1000000}, {"s", 1000000000},
      {"m", 60000000000}, {"h", 3600000000000}};
  // Whole and fractional parts in integers, as Go's parser does, so "0.3s" is exactly 300000000.
  constexpr uint64_t kMax = uint64_t(INT64_MAX);
  uint64_t total = 0;
  while (!s.empty()) {
    size_t i = 0;
    uint64_t whole = 0, frac = 0, scale = 1;
    bool digits = false;
    for (; i < s.size() && isdigit(static_cast<unsigned char>(s[i])); i++, digits = true) {
      if (whole > (kMax - 9) / 10) return std::nullopt;
      whole = whole * 10 + uint64_t(s[i] - '0');
    }
    if (i < s.size() && s[i] == '.') {
      for (i++; i < s.size() && isdigit(static_cast<unsigned char>(s[i])); i++, digits = true) {
        if (scale > kMax / 10) continue;  // digits past what a nanosecond can hold
        frac = frac * 10 + uint64_t(s[i] - '0');
        scale *= 10;
      }
    }
    if (!digits) return std::nullopt;
    s.remove_prefix(i);
    size_t u = 0;
    while (u < s.size() && !isdigit(static_cast<unsigned char>(s[u])) && s[u] != '.') u++;
    std::string_view unit = s.substr(0, u);
    uint64_t factor = 0;
    for (auto& [name, f] : units)
      if (unit == name) factor = uint64_t(f);
    if (factor == 0) return std::nullopt;
    if (whole > kMax / factor) return std::nullopt;
    uint64_t value = whole * factor + uint64_t((long double)frac * factor / scale);
    if (value > kMax - total) return std::nullopt;
    total += value;
    s.remove_prefix(u);
  }
  return negative ? -int64_t(total) : int64_t(total);
}

std::string FormatGoDuration(int64_t nanoseconds) {
  if (nanoseconds == 0) return "0s";
  bool negative = nanoseconds < 0;
  uint64_t u = negative ? uint64_t(0) - uint64_t(nanoseconds) : uint64_t(nanoseconds);
  // "digits" of a fraction, trailing zeros dropped, as Go's fmtFrac does.
  auto fraction = [](uint64_t v, int precision) {
    std::string digits;
    bool print = false;
    for (int i = 0; i < precision; i++) {
      int digit = int(v % 10);
      print = print || digit != 0;
      if (print) digits.insert(digits.begin(), char('0' + digit));
      v /= 10;
    }
    return std::make_pair(v, digits.empty() ? std::string() : "." + digits);
  };
  std::string out;
  if (u < 1000000000) {
    if (u < 1000) {
      out = std::to_string(u) + "ns";
    } else if (u < 1000000) {
      auto [whole, frac] = fraction(u, 3);
      out = std::to_string(whole) + frac + "\xc2\xb5s";
    } else {
      auto [whole, frac] = fraction(u, 6);
      out = std::to_string(whole) + frac + "ms";
    }
  } else {
    auto [seconds, frac] = fraction(u, 9);
    out = std::to_string(seconds % 60) + frac + "s";
    uint64_t minutes = seconds / 60;
    if (minutes > 0) {
      out = std::to_string(minutes % 60) + "m" + out;
      uint64_t hours = minutes / 60;
      if (hours > 0) out = std::to_string(hours) + "h" + out;
    }
  }
  return negative ? "-" + out : out;
}

std::string AsciiUpper(std::string_view text) {
  std::string out(text);
  for (auto& c : out)
    if (c >= 'a' && c <= 'z') c = char(c - 'a' + 'A');
  return out;
}

namespace {

size_t Levenshtein(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); j++) row[j] = j;
  for (size_t i = 1; i <= a.size(); i++) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); j++) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string SuggestClosest(std::string_view word, const std::vector<std::string>& options) {
  std::string lower = AsciiLower(word);
  std::string match;
  size_t best = 3;
  for (auto& option : options) {
    std::string candidate = AsciiLower(option);
    if (candidate == lower) return "";
    size_t distance = Levenshtein(lower, candidate);
    if (distance < best) {
      best = distance;
      match = candidate;
    }
  }
  if (!match.empty() && word == AsciiUpper(word) && word != lower) match = AsciiUpper(match);
  return match;
}

bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      i++;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      n = 1, cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2, cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= text.size()) return false;  // the continuation bytes run past the end
    for (size_t k = 1; k <= n; k++) {
      unsigned char d = static_cast<unsigned char>(text[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    static const uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n + 1;
  }
  return true;
}

std::string Base64Encode(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()), int(data.size()));
  out.resize(size_t(n));
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4) return std::nullopt;
  std::string out(3 * text.size() / 4 + 1, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), int(text.size()));
  if (n < 0) return std::nullopt;
  size_t padding = text.size() >= 2 && text.substr(text.size() - 2) == "==" ? 2 : (!text.empty() && text.back() == '=');
  out.resize(size_t(n) - padding);
  return out;
}

std::vector<std::string> SplitString(std::string_view text, char sep) {
  std::vector<std::string> out;
  for (size_t start = 0;;) {
    size_t at = text.find(sep, start);
    out.emplace_back(text.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

std::optional<int64_t> ParseRamSize(std::string_view text) {
  std::string t(text);
  char* end = nullptr;
  double n = strtod(t.c_str(), &end);
  if (t.empty() || end == t.c_str() || !(n >= 0)) return std::nullopt;
  std::string unit = AsciiLower(end);
  if (!unit.empty() && unit.back() == 'b') unit.pop_back();
  double factor = unit.empty() ? 1 : unit == "k" ? 0x1p10 : unit == "m" ? 0x1p20 : unit == "g" ? 0x1p30 : unit == "t" ? 0x1p40 : -1;
  if (factor < 0 || n * factor > 0x1p62) return std::nullopt;
  return int64_t(n * factor);
}

Result<std::vector<std::pair<std::string, std::string>>> ParseAttributes(const std::string& text, const std::string& flag,
                                                                        const std::string& list_key) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string kv = text.substr(start, comma - start);
    start = comma + 1;
    if (kv.empty()) continue;
    size_t eq = kv.find('=');
    if (eq == std::string::npos && !list_key.empty() && !out.empty() && out.back().first == list_key) {
      out.emplace_back(list_key, kv);
      continue;
    }
    if (eq == std::string::npos) return Status::Error(flag + ": expected key=value, got \"" + kv + "\"");
    out.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return out;
}

}  // namespace kiln
