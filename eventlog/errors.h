// Machine-readable location and class of an event-log error. Parse() and
// Replayer::Replay() attach an ErrorLocation to every error they return (as
// an absl::Status payload), so callers such as `eventlog --format json` can
// report the event index, the offset where its entry starts and the kind of
// failure without parsing the message. The message itself names the same
// event and offset for people.
#ifndef REALM_MEASUREMENTS_EVENTLOG_ERRORS_H_
#define REALM_MEASUREMENTS_EVENTLOG_ERRORS_H_

#include <cstddef>
#include <optional>

#include "absl/status/status.h"

namespace realm_measurements::eventlog {

enum class ErrorClass {
  kIo,           // the log or a catalogue file could not be read
  kTruncated,    // the log ends inside an entry (K4)
  kMalformed,    // the bytes break the TCG layout or a CCA payload rule
  kUnsupported,  // well-formed, but an algorithm or realm we cannot replay
  kLimit,        // a resource cap (log size, event count, event size)
  kCatalogue,    // an image catalogue was rejected
  kReplay,       // the log is well-formed but does not replay (meaning)
};
// "io", "truncated", "malformed", "unsupported", "limit", "catalogue",
// "replay".
const char* ErrorClassName(ErrorClass c);

struct ErrorLocation {
  ErrorClass error_class = ErrorClass::kMalformed;
  // 0-based event index (the Spec ID header excluded); unset for the Spec
  // ID header and for errors about the log as a whole.
  std::optional<size_t> event;
  // Offset from the start of the log file where the entry (event or Spec ID
  // header) starts; unset for errors about the log as a whole.
  std::optional<size_t> entry_offset;
};

// `s` with `where` attached (replacing an earlier location); OK stays OK.
absl::Status WithLocation(absl::Status s, const ErrorLocation& where);
// The location attached to `s`, if any.
std::optional<ErrorLocation> GetLocation(const absl::Status& s);

}  // namespace realm_measurements::eventlog

#endif  // REALM_MEASUREMENTS_EVENTLOG_ERRORS_H_
