// `bazel run` starts binaries inside their runfiles tree;
// BUILD_WORKING_DIRECTORY names the folder the user ran it from. Entry points
// call this first so relative paths in arguments mean what the user typed.
#ifndef REALM_MEASUREMENTS_BASE_WORKING_DIRECTORY_H_
#define REALM_MEASUREMENTS_BASE_WORKING_DIRECTORY_H_

#include "absl/status/status.h"

namespace realm_measurements {

// chdir() to $BUILD_WORKING_DIRECTORY when it is set and not empty; OK
// (doing nothing) otherwise. The error names the directory and errno text.
absl::Status EnterBuildWorkingDirectory();

}  // namespace realm_measurements

#endif  // REALM_MEASUREMENTS_BASE_WORKING_DIRECTORY_H_
