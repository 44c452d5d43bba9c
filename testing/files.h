// Shared test helpers (issue 13): the temporary-file, file-reading and hex
// helpers that *_test.cc files across packages used to repeat. Test-only.
// Paths to checked-in test data are relative to the workspace root, which
// is the working directory of a Bazel test (its runfiles tree).
//
// The namespace is `test`, not `testing`, so that gtest's ::testing stays
// reachable unqualified inside realm_measurements.
#ifndef REALM_MEASUREMENTS_TESTING_FILES_H_
#define REALM_MEASUREMENTS_TESTING_FILES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace realm_measurements::test {

// Bazel's per-test scratch directory ($TEST_TMPDIR), or /tmp outside Bazel.
std::string TmpDir();

// TmpDir() + "/" + name (nothing is created).
std::string TmpPath(absl::string_view name);

// Creates TmpPath(name) as a directory (an existing one is kept) and
// returns its path; a failure to create it fails the test.
std::string NewTmpDir(absl::string_view name);

// Writes `data` to `path` (created or truncated); a failed write fails the
// test.
void WriteFile(const std::string& path, absl::string_view data);
void WriteFile(const std::string& path, absl::Span<const uint8_t> data);

// WriteFile(TmpPath(name), data); returns the path.
std::string WriteTmpFile(absl::string_view name, absl::string_view data);
std::string WriteTmpFile(absl::string_view name,
                         absl::Span<const uint8_t> data);

// The whole file; a file that cannot be opened fails the test (and reads as
// empty), so a missing test input is never mistaken for an empty one.
std::string ReadFileText(const std::string& path);
std::vector<uint8_t> ReadFileBytes(const std::string& path);

// Bytes of an even-length hex string (either case); anything else fails the
// test and returns no bytes.
std::vector<uint8_t> FromHex(absl::string_view hex);

}  // namespace realm_measurements::test

#endif  // REALM_MEASUREMENTS_TESTING_FILES_H_
