// File: base/cancellation.h
//
// A caller-supplied hook that long-running measurement work polls between
// bounded steps (1 MiB of granules, 64 KiB of gzip output), so a server can
// stop work whose client left or whose deadline passed. The CLI passes none.
#ifndef REALM_MEASUREMENTS_BASE_CANCELLATION_H_
#define REALM_MEASUREMENTS_BASE_CANCELLATION_H_

#include <functional>

#include "absl/status/status.h"

namespace realm_measurements::measure {

// Returns OK to go on, or the status to stop with (kCancelled,
// kDeadlineExceeded). Called from the measuring thread only; must be cheap
// (it runs about every millisecond of work).
using CancelCheck = std::function<absl::Status()>;

// OK when `check` is empty (no hook), else what it returns.
inline absl::Status PollCancel(const CancelCheck& check) {
  return check ? check() : absl::OkStatus();
}

}  // namespace realm_measurements::measure

#endif  // REALM_MEASUREMENTS_BASE_CANCELLATION_H_
