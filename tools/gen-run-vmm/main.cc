// gen-run-vmm: see gen_run_vmm.h and `gen-run-vmm --help`.
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "tools/gen-run-vmm/gen_run_vmm.h"

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  // Under `bazel run` relative paths mean the caller's directory.
  std::string cwd;
  if (const char* wd = std::getenv("BUILD_WORKING_DIRECTORY");
      wd != nullptr && *wd != '\0') {
    cwd = wd;
  } else if (const char* pwd = std::getenv("PWD");
             pwd != nullptr && *pwd == '/') {
    cwd = pwd;
  } else {
    cwd = ".";
  }
  int rc =
      realm_measurements::gen_run_vmm::Main(args, cwd, std::cout, std::cerr);
  std::cout.flush();
  if (!std::cout) {
    std::cerr << "gen-run-vmm: error: cannot write to stdout\n";
    return 1;
  }
  return rc;
}
