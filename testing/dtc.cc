#include "testing/dtc.h"

#include <sys/stat.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "testing/files.h"

namespace realm_measurements::test {

bool HaveDtc() {
  struct stat st;
  return stat(kDtcPath, &st) == 0;
}

std::string DtcDecompile(absl::Span<const uint8_t> dtb,
                         absl::string_view name) {
  if (!HaveDtc()) {
    ADD_FAILURE() << kDtcPath
                  << " is missing (Debian package device-tree-compiler)";
    return "";
  }
  const std::string in = WriteTmpFile(name, dtb);
  const std::string out = absl::StrCat(in, ".dts");
  const std::string cmd =
      absl::StrCat(kDtcPath, " -q -I dtb -O dts -o ", out, " ", in);
  if (std::system(cmd.c_str()) != 0) {
    ADD_FAILURE() << "dtc refused the blob: " << cmd;
    return "";
  }
  return ReadFileText(out);
}

}  // namespace realm_measurements::test
