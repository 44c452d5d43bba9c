// Text forms of byte strings used in messages, JSON and keys: lowercase hex,
// and base64 in the two RFC 4648 alphabets. One copy for every package
// (issue 13: corim, grpc, eventlog and measure each carried their own).
#ifndef REALM_MEASUREMENTS_BASE_HEX_H_
#define REALM_MEASUREMENTS_BASE_HEX_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace realm_measurements::base {

// The bytes viewed as chars (no copy), for absl string functions.
inline absl::string_view AsChars(absl::Span<const uint8_t> b) {
  return absl::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}

// Lowercase hex, two digits a byte, no separators ("" for no bytes).
std::string HexOf(absl::Span<const uint8_t> b);

// Whether every character is a hex digit, either case (true for "").
bool IsHexDigits(absl::string_view text);

// RFC 4648 §4 standard alphabet with '=' padding.
std::string Base64Of(absl::Span<const uint8_t> b);

// RFC 4648 §5 URL-safe alphabet without padding (JOSE/EAR, RFC 7515 §2).
std::string Base64UrlOf(absl::Span<const uint8_t> b);

}  // namespace realm_measurements::base

#endif  // REALM_MEASUREMENTS_BASE_HEX_H_
