// Why a step missed the cache, in words a person can act on: each step's record keeps what its cache key was made
// of (a fingerprint), and a miss is compared with the closest earlier record of the same step (the same place in
// the same Dockerfile and context) to name the input that differs: a context file, a build argument, an
// environment variable, the base image, the instruction itself, or an earlier step.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/status.h"

namespace kiln::cache {

/// What a step's cache key was made of.
struct Fingerprint {
  std::string instruction;                  // digest of the op without its environment
  std::map<std::string, std::string> env;   // name -> digest of its value
  std::vector<std::string> arg_names;       // which env names are build arguments
  std::map<std::string, std::string> files; // context path -> digest of the entry (type, mode, content)
  std::vector<std::string> inputs;          // the inputs' cache keys, in order

  Json ToJson() const;
  static Result<Fingerprint> FromJson(const Json& j);
};

/// One difference between a step's earlier record and now.
struct Change {
  enum class Kind { kFile, kBuildArg, kEnv, kInput, kInstruction };
  Kind kind;
  std::string name;  // the file, argument or variable
  size_t input = 0;  // kInput: which of the step's inputs
};

/// The differences from `before` to `now`, most telling first: inputs, the instruction, then arguments,
/// variables and files (every file is listed; Describe shortens).
std::vector<Change> Compare(const Fingerprint& before, const Fingerprint& now);

/// "changed: ..." texts for `changes`: at most `max_files` files are named, the rest counted. `describe_input`
/// names a changed input ("input step #3", "base image sha256:...").
std::vector<std::string> Describe(const std::vector<Change>& changes, size_t max_files,
                                  const std::function<std::string(size_t input)>& describe_input);

}  // namespace kiln::cache
