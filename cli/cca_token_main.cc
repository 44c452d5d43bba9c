// cca-token: decode, verify or appraise a CCA attestation token file
// (cli/cca_token.h).
#include <iostream>
#include <string>
#include <vector>

#include "base/working_directory.h"
#include "cli/cca_token.h"

int main(int argc, char** argv) {
  // Under `bazel run`, relative paths are the caller's.
  if (absl::Status s = realm_measurements::EnterBuildWorkingDirectory();
      !s.ok()) {
    std::cerr << "cca-token: " << s.message() << "\n";
    return 2;
  }
  return realm_measurements::cli::RunCcaToken(
      std::vector<std::string>(argv + 1, argv + argc), std::cin, std::cout,
      std::cerr);
}
