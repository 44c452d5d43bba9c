// JSON text of an nlohmann::json value for the documents we emit (EAR,
// reports, CLI output), byte for byte what
//   value.dump(indent, ' ', /*ensure_ascii=*/false, error_handler_t::replace)
// gives, without its cost on the service's hot path: nlohmann decodes every
// string byte by byte as UTF-8 (issue 18: ~5% of AppraiseToken's server CPU
// went to building and dumping the three JSON documents). Strings of
// printable ASCII without quotes or backslashes are copied as they are;
// any other string, and floats and binary values, are written by nlohmann
// itself, so the output never differs from its (base:json_text_test
// compares both on every value kind and on invalid UTF-8).
//
// Invalid UTF-8 (token text claims, file names) becomes U+FFFD instead of
// the exception nlohmann's default handler throws.
#ifndef REALM_MEASUREMENTS_BASE_JSON_TEXT_H_
#define REALM_MEASUREMENTS_BASE_JSON_TEXT_H_

#include <string>

#include "nlohmann/json.hpp"

namespace realm_measurements::base {

// indent < 0: compact (no whitespace); indent >= 0: one member or element a
// line, `indent` spaces a level.
std::string JsonText(const nlohmann::json& value, int indent);
std::string JsonText(const nlohmann::ordered_json& value, int indent);

}  // namespace realm_measurements::base

#endif  // REALM_MEASUREMENTS_BASE_JSON_TEXT_H_
