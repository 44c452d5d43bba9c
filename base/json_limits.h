// Bounds checked on a JSON text before nlohmann::json sees it.
//
// nlohmann::json (3.11) recurses once per nesting level when it destroys,
// compares or dumps a value: "[" * 100000 crashes a process that parses it
// (measured: exit 139). Every JSON input we read (CoMID templates, JWKs,
// trust-anchor stores) is at most a few levels deep; CheckJsonLimits
// refuses anything bigger or deeper with one linear scan.
#ifndef REALM_MEASUREMENTS_BASE_JSON_LIMITS_H_
#define REALM_MEASUREMENTS_BASE_JSON_LIMITS_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace realm_measurements::measure {

struct JsonLimits {
  size_t max_bytes = 0;
  int max_depth = 0;  // nested arrays and objects; a scalar document is 0
};

// OK when `text` is within `limits`. Otherwise InvalidArgument:
// "document is <n> bytes, more than the limit of <m> bytes" or
// "nesting deeper than <m> levels at byte <offset>". Brackets inside
// strings do not count; syntax errors are left to the parser.
absl::Status CheckJsonLimits(absl::string_view text, const JsonLimits& limits);

}  // namespace realm_measurements::measure

#endif  // REALM_MEASUREMENTS_BASE_JSON_LIMITS_H_
