// Running independent pieces of work at once on a few threads: layers pulled or pushed side by side.
#pragma once
#include <cstddef>
#include <functional>

#include "base/status.h"

namespace kiln {

/// Calls fn(0) .. fn(n-1) on up to `workers` threads (the caller's among them) and returns the first error;
/// after an error no further call starts (those running finish).
Status ParallelFor(size_t n, size_t workers, const std::function<Status(size_t)>& fn);

}  // namespace kiln
