// Fuzzes the cca-token command line end to end: argv and the --batch lines
// on stdin are untrusted. The input's NUL-separated parts up to the first
// empty one (two NULs in a row) are argv after the program name; the bytes
// after it are stdin. RunCcaToken runs in-process, relative paths resolving
// in the public test vectors (tokens, CoRIMs, keys; testdata/vectors); an
// argument that is an absolute path or climbs out with ".."
// is dropped, so nothing else is read. cca-token writes no files.
//
// Properties: no crash (sanitizers), no hang, an exit status of 0-3
// (--help), and a message for 2.
#include <stdlib.h>

#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "cli/cca_token.h"

namespace {

constexpr size_t kMaxInput = 8192;
constexpr size_t kMaxArgs = 64;

// The public vectors' directory, where relative paths resolve.
const std::string& Vectors() {
  static const std::string* dir = [] {
    char resolved[PATH_MAX];
    // Bazel runs tests and `bazel run` binaries in the runfiles root.
    if (realpath("testdata/vectors", resolved) == nullptr) {
      std::abort();  // the data dependency is missing
    }
    return new std::string(resolved);
  }();
  return *dir;
}

bool Allowed(const std::string& arg) {
  return !absl::StartsWith(arg, "/") && !absl::StrContains(arg, "..");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxInput) return 0;
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> args;
  size_t at = 0;
  std::string stdin_text;
  while (at <= input.size()) {
    const size_t end = std::min(input.find('\0', at), input.size());
    std::string part = input.substr(at, end - at);
    at = end + 1;
    if (part.empty() && end < input.size()) {
      stdin_text = input.substr(at);  // after two NULs in a row
      break;
    }
    if (Allowed(part)) args.push_back(std::move(part));
    if (args.size() > kMaxArgs) return 0;
  }
  // Batch lines name token and log files too: the same restriction.
  if (absl::StrContains(stdin_text, "/") ||
      absl::StrContains(stdin_text, "..")) {
    return 0;
  }
  std::istringstream in(stdin_text);
  std::ostringstream out, err;
  const int rc =
      realm_measurements::cli::RunCcaToken(args, in, out, err, Vectors());
  if (rc < 0 || rc > 3) std::abort();
  if (rc == 2 && err.str().empty() && out.str().empty()) std::abort();
  return 0;
}
