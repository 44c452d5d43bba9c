// The error text of the CoRIM/CoMID decoders: "<where>: expected
// <expected>, found <found>" (house style: what, expected, found, where).
// One copy for comid, platform_endorsements and signed_corim (issue 13).
#ifndef REALM_MEASUREMENTS_CORIM_INTERNAL_EXPECTED_FOUND_H_
#define REALM_MEASUREMENTS_CORIM_INTERNAL_EXPECTED_FOUND_H_

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace realm_measurements::corim::internal {

// InvalidArgument "<where>: expected <expected>, found <found>".
inline absl::Status ExpectedFound(absl::string_view where,
                                  absl::string_view expected,
                                  absl::string_view found) {
  return absl::InvalidArgumentError(
      absl::StrCat(where, ": expected ", expected, ", found ", found));
}

}  // namespace realm_measurements::corim::internal

#endif  // REALM_MEASUREMENTS_CORIM_INTERNAL_EXPECTED_FOUND_H_
