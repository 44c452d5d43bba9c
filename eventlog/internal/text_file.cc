#include "eventlog/internal/text_file.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/file_reading.h"

namespace realm_measurements::eventlog::internal {

absl::StatusOr<std::vector<uint8_t>> ReadBoundedFile(const std::string& path,
                                                     size_t cap) {
  // Regular files only: a FIFO would block, a device never end, and a
  // directory read as an empty log would replay to all-zero values.
  return measure::ReadRegularFileUpTo<std::vector<uint8_t>>(
      path, cap, [&](uint64_t n) {
        return absl::OutOfRangeError(absl::StrCat(
            path, " is ", n, " bytes, more than the limit of ", cap));
      });
}

std::string DirectoryOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return path.substr(0, slash == 0 ? 1 : slash);
}

absl::Status ForEachLine(
    absl::Span<const uint8_t> text,
    const std::function<absl::Status(int, absl::string_view)>& line) {
  absl::string_view all(reinterpret_cast<const char*>(text.data()),
                        text.size());
  int number = 0;
  for (absl::string_view l : absl::StrSplit(all, '\n')) {
    ++number;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (l.empty()) continue;
    if (absl::Status s = line(number, l); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace realm_measurements::eventlog::internal
