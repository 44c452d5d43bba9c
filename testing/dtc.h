// The real device-tree compiler for tests: a DTB our code wrote must be
// accepted by /usr/bin/dtc (the Debian package), and its DTS output is what
// tests compare against text written from the specifications.
#ifndef REALM_MEASUREMENTS_TESTING_DTC_H_
#define REALM_MEASUREMENTS_TESTING_DTC_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace realm_measurements::test {

inline constexpr char kDtcPath[] = "/usr/bin/dtc";

// Whether /usr/bin/dtc exists.
bool HaveDtc();

// Writes `dtb` to TmpPath(name) and decompiles it with
// `dtc -q -I dtb -O dts`; returns the DTS. A missing dtc or a non-zero
// exit fails the test (once) and returns "".
std::string DtcDecompile(absl::Span<const uint8_t> dtb, absl::string_view name);

}  // namespace realm_measurements::test

#endif  // REALM_MEASUREMENTS_TESTING_DTC_H_
