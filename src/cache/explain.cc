#include "cache/explain.h"

#include <algorithm>
#include <functional>

namespace kiln::cache {

Json Fingerprint::ToJson() const {
  return {{"instruction", instruction}, {"env", env}, {"args", arg_names}, {"files", files}, {"inputs", inputs}};
}

Result<Fingerprint> Fingerprint::FromJson(const Json& j) {
  Fingerprint f;
  try {
    f.instruction = j.at("instruction").get<std::string>();
    f.env = j.at("env").get<std::map<std::string, std::string>>();
    f.arg_names = j.at("args").get<std::vector<std::string>>();
    f.files = j.at("files").get<std::map<std::string, std::string>>();
    f.inputs = j.at("inputs").get<std::vector<std::string>>();
  } catch (const Json::exception& e) {
    return Status::Error(std::string("bad step fingerprint: ") + e.what());
  }
  return f;
}

std::vector<Change> Compare(const Fingerprint& before, const Fingerprint& now) {
  std::vector<Change> out;
  for (size_t i = 0; i < now.inputs.size(); i++) {
    if (i >= before.inputs.size() || before.inputs[i] != now.inputs[i]) out.push_back({Change::Kind::kInput, "", i});
  }
  if (before.instruction != now.instruction) out.push_back({Change::Kind::kInstruction, "", 0});
  auto is_arg = [&](const std::string& name) {
    return std::find(now.arg_names.begin(), now.arg_names.end(), name) != now.arg_names.end() ||
           std::find(before.arg_names.begin(), before.arg_names.end(), name) != before.arg_names.end();
  };
  std::vector<std::string> names;
  for (auto& [name, value] : now.env) {
    auto it = before.env.find(name);
    if (it == before.env.end() || it->second != value) names.push_back(name);
  }
  for (auto& [name, value] : before.env)
    if (!now.env.count(name)) names.push_back(name);
  std::sort(names.begin(), names.end());
  for (auto& n : names) out.push_back({is_arg(n) ? Change::Kind::kBuildArg : Change::Kind::kEnv, n, 0});
  std::vector<std::string> files;
  for (auto& [path, digest] : now.files) {
    auto it = before.files.find(path);
    if (it == before.files.end() || it->second != digest) files.push_back(path);
  }
  for (auto& [path, digest] : before.files)
    if (!now.files.count(path)) files.push_back(path);  // removed
  std::sort(files.begin(), files.end());
  for (auto& f : files) out.push_back({Change::Kind::kFile, f, 0});
  return out;
}

std::vector<std::string> Describe(const std::vector<Change>& changes, size_t max_files,
                                  const std::function<std::string(size_t input)>& describe_input) {
  std::vector<std::string> out;
  size_t files = 0;
  for (auto& c : changes) {
    switch (c.kind) {
      case Change::Kind::kInput: out.push_back(describe_input(c.input)); break;
      case Change::Kind::kInstruction: out.push_back("instruction text"); break;
      case Change::Kind::kBuildArg: out.push_back("build-arg " + c.name); break;
      case Change::Kind::kEnv: out.push_back("env " + c.name); break;
      case Change::Kind::kFile:
        if (files++ < max_files) out.push_back("file " + c.name);
        break;
    }
  }
  if (files > max_files) out.push_back("and " + std::to_string(files - max_files) + " more files");
  return out;
}

}  // namespace kiln::cache
