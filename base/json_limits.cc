#include "base/json_limits.h"

#include "absl/strings/str_cat.h"

namespace realm_measurements::measure {

absl::Status CheckJsonLimits(absl::string_view text, const JsonLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "document is ", text.size(), " bytes, more than the limit of ",
        limits.max_bytes, " bytes"));
  }
  int depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > limits.max_depth) {
        return absl::InvalidArgumentError(absl::StrCat(
            "nesting deeper than ", limits.max_depth, " levels at byte ", i));
      }
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return absl::OkStatus();
}

}  // namespace realm_measurements::measure
