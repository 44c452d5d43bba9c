#include "testing/files.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace realm_measurements::test {

std::string TmpDir() {
  const char* d = std::getenv("TEST_TMPDIR");
  return d != nullptr && *d != '\0' ? d : "/tmp";
}

std::string TmpPath(absl::string_view name) {
  return absl::StrCat(TmpDir(), "/", name);
}

std::string NewTmpDir(absl::string_view name) {
  std::string dir = TmpPath(name);
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    ADD_FAILURE() << "mkdir " << dir << ": " << std::strerror(errno);
  }
  return dir;
}

void WriteFile(const std::string& path, absl::string_view data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
  f.close();
  if (!f) ADD_FAILURE() << "cannot write " << path;
}

void WriteFile(const std::string& path, absl::Span<const uint8_t> data) {
  WriteFile(path, absl::string_view(reinterpret_cast<const char*>(data.data()),
                                    data.size()));
}

std::string WriteTmpFile(absl::string_view name, absl::string_view data) {
  std::string path = TmpPath(name);
  WriteFile(path, data);
  return path;
}

std::string WriteTmpFile(absl::string_view name,
                         absl::Span<const uint8_t> data) {
  std::string path = TmpPath(name);
  WriteFile(path, data);
  return path;
}

std::string ReadFileText(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    ADD_FAILURE() << "cannot open " << path;
    return "";
  }
  return std::string(std::istreambuf_iterator<char>(f), {});
}

std::vector<uint8_t> ReadFileBytes(const std::string& path) {
  std::string s = ReadFileText(path);
  return std::vector<uint8_t>(s.begin(), s.end());
}

std::vector<uint8_t> FromHex(absl::string_view hex) {
  bool ok = hex.size() % 2 == 0;
  for (char c : hex) ok = ok && absl::ascii_isxdigit(c);
  if (!ok) {
    ADD_FAILURE() << "not an even-length hex string: " << hex;
    return {};
  }
  std::string b = absl::HexStringToBytes(hex);
  return std::vector<uint8_t>(b.begin(), b.end());
}

}  // namespace realm_measurements::test
