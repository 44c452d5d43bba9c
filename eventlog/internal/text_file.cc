#include "eventlog/internal/text_file.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace realm_measurements::eventlog::internal {

absl::StatusOr<std::vector<uint8_t>> ReadBoundedFile(const std::string& path,
                                                     size_t cap) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::streamoff size = in.tellg();
  if (size < 0) return absl::InternalError(absl::StrCat("cannot size ", path));
  if (static_cast<uint64_t>(size) > cap) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, " is ", size, " bytes, more than the limit of ", cap));
  }
  std::vector<uint8_t> out(static_cast<size_t>(size));
  in.seekg(0);
  if (size > 0 && !in.read(reinterpret_cast<char*>(out.data()), size)) {
    return absl::InternalError(absl::StrCat("cannot read ", path));
  }
  return out;
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
