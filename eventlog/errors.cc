#include "eventlog/errors.h"

#include <string>
#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace realm_measurements::eventlog {
namespace {

constexpr absl::string_view kPayloadUrl =
    "type.realm-measurements.dev/eventlog.ErrorLocation";

constexpr ErrorClass kAllClasses[] = {
    ErrorClass::kIo,          ErrorClass::kTruncated, ErrorClass::kMalformed,
    ErrorClass::kUnsupported, ErrorClass::kLimit,     ErrorClass::kCatalogue,
    ErrorClass::kReplay};

}  // namespace

const char* ErrorClassName(ErrorClass c) {
  switch (c) {
    case ErrorClass::kIo:
      return "io";
    case ErrorClass::kTruncated:
      return "truncated";
    case ErrorClass::kMalformed:
      return "malformed";
    case ErrorClass::kUnsupported:
      return "unsupported";
    case ErrorClass::kLimit:
      return "limit";
    case ErrorClass::kCatalogue:
      return "catalogue";
    case ErrorClass::kReplay:
      return "replay";
  }
  return "?";
}

// Payload text: "<class> <event|-> <entry_offset|->".
absl::Status WithLocation(absl::Status s, const ErrorLocation& where) {
  if (s.ok()) return s;
  auto opt = [](const std::optional<size_t>& v) {
    return v.has_value() ? absl::StrCat(*v) : std::string("-");
  };
  s.SetPayload(
      kPayloadUrl,
      absl::Cord(absl::StrCat(ErrorClassName(where.error_class), " ",
                              opt(where.event), " ", opt(where.entry_offset))));
  return s;
}

std::optional<ErrorLocation> GetLocation(const absl::Status& s) {
  auto p = s.GetPayload(kPayloadUrl);  // absl::optional<absl::Cord>
  if (!p.has_value()) return std::nullopt;
  std::vector<std::string> parts = absl::StrSplit(std::string(*p), ' ');
  if (parts.size() != 3) return std::nullopt;
  ErrorLocation out;
  bool known = false;
  for (ErrorClass c : kAllClasses) {
    if (parts[0] == ErrorClassName(c)) {
      out.error_class = c;
      known = true;
    }
  }
  if (!known) return std::nullopt;
  auto opt = [](const std::string& v, std::optional<size_t>* dst) {
    if (v == "-") return true;
    size_t n = 0;
    if (!absl::SimpleAtoi(v, &n)) return false;
    *dst = n;
    return true;
  };
  if (!opt(parts[1], &out.event) || !opt(parts[2], &out.entry_offset)) {
    return std::nullopt;
  }
  return out;
}

}  // namespace realm_measurements::eventlog
