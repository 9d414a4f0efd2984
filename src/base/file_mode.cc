#include "base/file_mode.h"

namespace kiln {
namespace {

constexpr mode_t kUser = 04700, kGroup = 02070, kOther = 01007;

/// The rwx bits of class `c` ('u', 'g' or 'o') of `mode`, as a triplet 0..7.
mode_t ClassBits(mode_t mode, char c) { return c == 'u' ? (mode >> 6) & 7 : c == 'g' ? (mode >> 3) & 7 : mode & 7; }

}  // namespace

Result<SymbolicMode> SymbolicMode::Parse(const std::string& text) {
  SymbolicMode m;
  if (text.empty()) return Status::Error("empty mode");
  size_t i = 0;
  while (true) {
    mode_t who = 0;
    for (; i < text.size() && std::string("ugoa").find(text[i]) != std::string::npos; i++) {
      who |= text[i] == 'u' ? kUser : text[i] == 'g' ? kGroup : text[i] == 'o' ? kOther : kUser | kGroup | kOther;
    }
    if (who == 0) who = kUser | kGroup | kOther;  // no class named: all of them (the umask is 0)
    if (i >= text.size() || std::string("+-=").find(text[i]) == std::string::npos) {
      return Status::Error("invalid mode \"" + text + "\": expected +, - or = at position " + std::to_string(i + 1));
    }
    while (i < text.size() && std::string("+-=").find(text[i]) != std::string::npos) {
      Action a{text[i++], who, ""};
      if (i < text.size() && std::string("ugo").find(text[i]) != std::string::npos) {
        a.perms = text[i++];  // copy another class's bits
      } else {
        for (; i < text.size() && std::string("rwxXst").find(text[i]) != std::string::npos; i++) a.perms += text[i];
      }
      m.actions_.push_back(a);
    }
    if (i == text.size()) break;
    if (text[i] != ',') return Status::Error("invalid mode \"" + text + "\": unexpected '" + text[i] + "'");
    i++;
  }
  return m;
}

mode_t SymbolicMode::Apply(mode_t mode, bool is_directory) const {
  mode &= 07777;
  for (const Action& a : actions_) {
    mode_t bits = 0;
    if (a.perms.size() == 1 && std::string("ugo").find(a.perms[0]) != std::string::npos) {
      mode_t t = ClassBits(mode, a.perms[0]);
      bits = (t << 6) | (t << 3) | t;
    } else {
      for (char p : a.perms) {
        switch (p) {
          case 'r': bits |= 0444; break;
          case 'w': bits |= 0222; break;
          case 'x': bits |= 0111; break;
          case 'X': if (is_directory || (mode & 0111)) bits |= 0111; break;  // as the mode was before this action
          case 's': bits |= 06000; break;
          case 't': bits |= 01000; break;
        }
      }
    }
    bits &= a.who;
    if (a.op == '+') mode |= bits;
    else if (a.op == '-') mode &= ~bits;
    else mode = (mode & ~a.who) | bits;
  }
  return mode;
}

}  // namespace kiln
