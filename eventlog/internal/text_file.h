// Small line-oriented input files of the eventlog tools (checksum files,
// DTB template lists): bounded reads and line iteration.
#ifndef REALM_MEASUREMENTS_EVENTLOG_INTERNAL_TEXT_FILE_H_
#define REALM_MEASUREMENTS_EVENTLOG_INTERNAL_TEXT_FILE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace realm_measurements::eventlog::internal {

// The whole file, refused before reading if larger than `cap` bytes
// (kOutOfRange "<path> is <n> bytes, more than the limit of <cap>"),
// and refused unless it is a regular file (FIFO, device, socket,
// directory: "file <path> error: ..."; OS errors as base/file_reading.h).
absl::StatusOr<std::vector<uint8_t>> ReadBoundedFile(const std::string& path,
                                                     size_t cap);

// The folder relative names in the file at `path` resolve against.
std::string DirectoryOf(const std::string& path);

// Calls `line(number, text)` for each non-empty line (1-based numbers, a
// trailing '\r' removed); stops at the first error.
absl::Status ForEachLine(
    absl::Span<const uint8_t> text,
    const std::function<absl::Status(int, absl::string_view)>& line);

}  // namespace realm_measurements::eventlog::internal

#endif  // REALM_MEASUREMENTS_EVENTLOG_INTERNAL_TEXT_FILE_H_
