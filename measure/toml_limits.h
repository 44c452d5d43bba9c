// Bounds checked on a TOML document before a TOML library sees it.
//
// toml++ recurses once per nesting level while it parses and destroys a
// document (dotted keys, [table.headers], arrays, inline tables), so a
// document of a few hundred KiB such as "a" + ".a" * 40000 + " = 1"
// overflows the stack. Our TOML inputs (host capabilities, gen-run-vmm
// configs) are small and at most a few levels deep; CheckTomlLimits refuses
// anything bigger or deeper with one linear, non-recursive scan.
#ifndef REALM_MEASUREMENTS_MEASURE_TOML_LIMITS_H_
#define REALM_MEASUREMENTS_MEASURE_TOML_LIMITS_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace realm_measurements::measure {

struct TomlLimits {
  size_t max_bytes = 0;
  // Depth of the deepest value: the root table is 0, each key part of a
  // dotted key or a [table.header] adds one, and the elements of an array
  // are one below it ("a.b = [1]": the array is at depth 2, its element at
  // 3; "a = {b = 1}": b is at depth 2).
  int max_depth = 0;
};

// OK when `text` is within `limits`. Otherwise InvalidArgument:
// "document is <n> bytes, more than the limit of <m> bytes" or
// "nesting depth exceeds the limit of <m> at line <l> (dotted keys, table
// headers, arrays and inline tables count one level each)". The caller adds
// which document. Also "invalid UTF-8 sequence at line <l>, column <c>
// (TOML documents are UTF-8)": toml++ names the character before a bad
// sequence. Strings and comments are skipped as TOML defines them; the scan
// never rejects a well-formed document within the limits, and leaves
// syntax errors to the parser.
absl::Status CheckTomlLimits(absl::string_view text, const TomlLimits& limits);

}  // namespace realm_measurements::measure

#endif  // REALM_MEASUREMENTS_MEASURE_TOML_LIMITS_H_
