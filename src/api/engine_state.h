// The engine's state, shared by the files that implement Engine (engine.cc, distribution.cc). Not an API.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "api/engine.h"
#include "api/store_config.h"
#include "executor/executor.h"
#include "snapshot/snapshotter.h"
#include "store/cache_mounts.h"
#include "store/content.h"
#include "store/metadata.h"
#include "store/process_mark.h"

namespace kiln::api {

struct Engine::State {
  std::string root;
  std::unique_ptr<store::ProcessMark> mark;  // first, so destroyed last: once everything below is closed
  std::vector<std::string> insecure_registries;
  StoreConfig config;  // kiln.toml, read when the store is opened
  std::unique_ptr<store::ContentStore> content;
  std::unique_ptr<store::Metadata> metadata;
  std::unique_ptr<snapshot::Snapshotter> snapshotter;
  std::unique_ptr<executor::Executor> executor;
  std::unique_ptr<store::CacheMounts> cache_mounts;
};

}  // namespace kiln::api
