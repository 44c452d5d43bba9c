#include "base/hex.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"

namespace realm_measurements::base {

std::string HexOf(absl::Span<const uint8_t> b) {
  return absl::BytesToHexString(AsChars(b));
}

bool IsHexDigits(absl::string_view text) {
  for (char c : text) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::string Base64Of(absl::Span<const uint8_t> b) {
  return absl::Base64Escape(AsChars(b));
}

std::string Base64UrlOf(absl::Span<const uint8_t> b) {
  return absl::WebSafeBase64Escape(AsChars(b));
}

}  // namespace realm_measurements::base
