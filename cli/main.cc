// realm-measurements: the argv-compatible command line (cli/cli.h).
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "measure/vmm/cloud_hv.h"
#include "measure/vmm/kvmtool.h"
#include "measure/vmm/qemu.h"
#include "measure/vmm/vmm.h"

int main(int argc, char** argv) {
  namespace rm = realm_measurements::measure;
  namespace cli = realm_measurements::cli;
  // A closed stdout is reported as a write error, not a silent SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  cli::CliEnvironment env;
  if (const char* wd = std::getenv("BUILD_WORKING_DIRECTORY");
      wd != nullptr && *wd != '\0') {
    env.working_dir = wd;
  }
  env.stderr_is_terminal = isatty(STDERR_FILENO) == 1;
  env.models["qemu"] = &rm::BuildQemu;
  env.models["kvmtool"] = &rm::BuildKvmtool;
  env.models["cloud-hv"] = &rm::BuildCloudHv;
  int rc = cli::RunCli(args, env, std::cout, std::cerr);
  std::cout.flush();
  if (!std::cout) {
    std::cerr << "ERROR cannot write to stdout\n";
    return 1;
  }
  return rc;
}
