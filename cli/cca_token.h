// The `cca-token` command line (decode, verify, appraise a CCA attestation
// token; the usage is at the top of cca_token.cc and in --help) as a
// library, so that it runs in-process in its fuzz target.
#ifndef REALM_MEASUREMENTS_CLI_CCA_TOKEN_H_
#define REALM_MEASUREMENTS_CLI_CCA_TOKEN_H_

#include <istream>
#include <ostream>
#include <string>
#include <vector>

namespace realm_measurements::cli {

// Runs cca-token on `args` (without the program name): --batch lines come
// from `in`, results go to `out`, diagnostics to `err`. Relative paths
// (options and --batch lines) resolve against `working_dir`, or the current
// directory when it is empty. Returns the exit status (0-3; --help has the
// list).
int RunCcaToken(const std::vector<std::string>& args, std::istream& in,
                std::ostream& out, std::ostream& err,
                const std::string& working_dir = "");

}  // namespace realm_measurements::cli

#endif  // REALM_MEASUREMENTS_CLI_CCA_TOKEN_H_
