#include "executor/user.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "base/fs.h"
#include "base/text.h"
#include "snapshot/copy.h"

namespace kiln::executor {
namespace {

struct Entry {
  std::vector<std::string> fields;
};

std::vector<Entry> ReadColonFile(const std::string& rootfs, const std::string& path) {
  std::vector<Entry> out;
  auto host = snapshot::ResolveInRoot(rootfs, path);
  if (!host.ok()) return out;
  auto text = ReadFile(*host);
  if (!text.ok()) return out;
  size_t start = 0;
  while (start < text->size()) {
    size_t nl = text->find('\n', start);
    if (nl == std::string::npos) nl = text->size();
    std::string line = text->substr(start, nl - start);
    start = nl + 1;
    if (line.empty() || line[0] == '#') continue;
    Entry e;
    size_t p = 0;
    for (;;) {
      size_t c = line.find(':', p);
      e.fields.push_back(line.substr(p, c == std::string::npos ? std::string::npos : c - p));
      if (c == std::string::npos) break;
      p = c + 1;
    }
    out.push_back(e);
  }
  return out;
}

std::optional<uint32_t> ParseId(const std::string& s) {
  auto v = ParseDecimal(s, 0xffffffffUL);
  if (!v) return std::nullopt;
  return uint32_t(*v);
}

}  // namespace

Result<User> ResolveUser(const std::string& rootfs, const std::string& given) {
  User u;
  const std::string spec = given.empty() ? "0" : given;  // root, with root's groups
  std::string user_part = spec.substr(0, spec.find(':'));
  std::string group_part = spec.find(':') == std::string::npos ? "" : spec.substr(spec.find(':') + 1);
  auto passwd = ReadColonFile(rootfs, "/etc/passwd");
  std::string user_name;
  bool found = false;
  if (auto id = ParseId(user_part)) {
    u.uid = *id;
    for (auto& e : passwd)
      if (e.fields.size() >= 4 && ParseId(e.fields[2]) == id) {
        u.gid = ParseId(e.fields[3]).value_or(0);
        user_name = e.fields[0];
        if (e.fields.size() >= 6) u.home = e.fields[5];
        found = true;
        break;
      }
  } else {
    for (auto& e : passwd)
      if (e.fields.size() >= 4 && e.fields[0] == user_part) {
        auto uid = ParseId(e.fields[2]);
        if (!uid) return Status::Error("invalid uid in /etc/passwd for " + user_part);
        u.uid = *uid;
        u.gid = ParseId(e.fields[3]).value_or(0);
        user_name = user_part;
        if (e.fields.size() >= 6) u.home = e.fields[5];
        found = true;
        break;
      }
    if (!found) return Status::Error("unable to find user " + user_part + ": no matching entries in passwd file");
  }
  auto groups = ReadColonFile(rootfs, "/etc/group");
  if (!group_part.empty()) {
    if (auto gid = ParseId(group_part)) {
      u.gid = *gid;
    } else {
      bool group_found = false;
      for (auto& e : groups)
        if (e.fields.size() >= 3 && e.fields[0] == group_part) {
          u.gid = ParseId(e.fields[2]).value_or(0);
          group_found = true;
          break;
        }
      if (!group_found) {
        return Status::Error("unable to find group " + group_part + ": no matching entries in group file");
      }
    }
  } else if (!user_name.empty()) {
    // Supplementary groups: every group listing the user as a member (runc's GetExecUser).
    for (auto& e : groups) {
      if (e.fields.size() < 4 || e.fields[3].empty()) continue;
      std::string members = "," + e.fields[3] + ",";
      if (members.find("," + user_name + ",") == std::string::npos) continue;
      if (auto gid = ParseId(e.fields[2])) u.additional_gids.push_back(*gid);
    }
  }
  // BuildKit puts the primary group first among them unless it is there already (ensureAdditionalGids), so `id`
  // in a RUN step shows groups=1000(app).
  if (std::find(u.additional_gids.begin(), u.additional_gids.end(), u.gid) == u.additional_gids.end())
    u.additional_gids.insert(u.additional_gids.begin(), u.gid);
  return u;
}

Result<User> ResolveFileOwner(const std::string& rootfs, const std::string& spec) {
  // As BuildKit's file ops read a --chown: an id is taken as it is (a user id alone is the group id too); a name is
  // looked up, and one that is not there (or a missing passwd or group file) leaves 0, without an error.
  std::string user_part = spec.substr(0, spec.find(':'));
  std::string group_part = spec.find(':') == std::string::npos ? "" : spec.substr(spec.find(':') + 1);
  User u;
  if (auto id = ParseId(user_part)) {
    u.uid = u.gid = *id;
  } else {
    for (auto& e : ReadColonFile(rootfs, "/etc/passwd"))
      if (e.fields.size() >= 4 && e.fields[0] == user_part) {
        u.uid = ParseId(e.fields[2]).value_or(0);
        u.gid = ParseId(e.fields[3]).value_or(0);
        break;
      }
  }
  if (group_part.empty()) return u;
  if (auto id = ParseId(group_part)) {
    u.gid = *id;
    return u;
  }
  for (auto& e : ReadColonFile(rootfs, "/etc/group"))
    if (e.fields.size() >= 3 && e.fields[0] == group_part) {
      u.gid = ParseId(e.fields[2]).value_or(0);
      break;
    }
  return u;
}

}  // namespace kiln::executor
