// The golden corpus (testdata/golden/: cases-public.json and
// rmm2/cases-rmm2-public.json, recorded from the reference tool) one case at
// a time, for the tests that take a case's command line and its recorded
// RIM as an oracle. Test-only.
#ifndef REALM_MEASUREMENTS_TESTING_GOLDEN_H_
#define REALM_MEASUREMENTS_TESTING_GOLDEN_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace realm_measurements::test {

struct GoldenCase {
  std::string id;
  std::vector<std::string> argv;  // the reference tool's arguments
  std::string expected_stdout;
  // The RIM line's value: 128 hex digits, the whole 64-byte RMM buffer.
  std::string rim;
  size_t dtb_size = 0;     // of the DTB the reference wrote, or 0
  std::string dtb_sha256;  // its SHA-256 in hex, or empty
};

// Case `id` of testdata/golden/<file>. A missing case, or one whose output
// does not start with "RIM: ", fails the test (and returns what was read).
GoldenCase LoadGoldenCase(absl::string_view id,
                          absl::string_view file = "cases-public.json");

}  // namespace realm_measurements::test

#endif  // REALM_MEASUREMENTS_TESTING_GOLDEN_H_
