#include "eventlog/internal/text_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/file_reading.h"

namespace realm_measurements::eventlog::internal {

absl::StatusOr<std::vector<uint8_t>> ReadBoundedFile(const std::string& path,
                                                     size_t cap) {
  // Regular files only: a FIFO would block, a device never end, and a
  // directory read as an empty log would replay to all-zero values.
  absl::StatusOr<int> opened = measure::OpenPayloadFile(path);
  if (!opened.ok()) return opened.status();
  measure::Fd fd(*opened);
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return measure::OsFileError(path, errno);
  if (S_ISDIR(st.st_mode)) return measure::OsFileError(path, EISDIR);
  auto too_big = [&](uint64_t n) {
    return absl::OutOfRangeError(
        absl::StrCat(path, " is ", n, " bytes, more than the limit of ", cap));
  };
  if (static_cast<uint64_t>(st.st_size) > cap) return too_big(st.st_size);
  std::vector<uint8_t> out;
  out.reserve(static_cast<size_t>(st.st_size));
  uint8_t buf[64 << 10];
  for (;;) {
    const ssize_t n = read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return measure::OsFileError(path, errno);
    }
    if (n == 0) return out;
    // The file may grow while it is read.
    if (out.size() + static_cast<size_t>(n) > cap) {
      return too_big(out.size() + static_cast<size_t>(n));
    }
    out.insert(out.end(), buf, buf + n);
  }
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
