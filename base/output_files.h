// Files named on a command line: the checks made before any work, and the
// all-or-nothing commit of a run's outputs (issue 14: nothing an input
// names is overwritten, nothing but a regular file is replaced, and a run
// that fails leaves no output new or changed).
#ifndef REALM_MEASUREMENTS_BASE_OUTPUT_FILES_H_
#define REALM_MEASUREMENTS_BASE_OUTPUT_FILES_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace realm_measurements::measure {

// A file and the option that named it ("--kernel", "--output-dtb", ...).
struct NamedPath {
  std::string option;
  std::string path;
};

// Every existing input must be a regular file or a directory (a directory
// fails later with the reference tool's message): a device, FIFO or socket
// would be read forever or block. Inputs that do not exist are left to the
// stage that reads them. Error (InvalidArgument):
// "<option> <path>: not a regular file (<type>); inputs must be regular
// files".
absl::Status CheckInputPaths(absl::Span<const NamedPath> inputs);

// Every output must be writable without destroying anything:
// - its directory exists;
// - it is absent or a regular file (never a symbolic link, directory,
//   device, FIFO or socket, which renaming over would replace);
// - it is not the same file as any existing input (st_dev and st_ino, links
//   resolved);
// - no two outputs name the same file.
// Errors (InvalidArgument) name the option and the path, e.g.
// "cannot write output --output-dtb Image: the same file as the input
// --kernel Image; an output never overwrites an input".
absl::Status CheckOutputPaths(absl::Span<const NamedPath> inputs,
                              absl::Span<const NamedPath> outputs);

// The outputs of one run, committed together: Commit() writes each to a
// temporary file in its destination's directory (fsynced), and only when
// all are written renames them over their destinations, after checking
// again that each destination is absent or a regular file. A failure
// before the renames changes no destination and removes the temporary
// files. Errors read "file <path> error: <strerror> (os error <errno>)".
class OutputSet {
 public:
  struct File {
    std::string path;
    std::string data;
    mode_t mode = 0666;  // before the umask
  };

  void Add(std::string path, std::string data, mode_t mode = 0666);
  const std::vector<File>& files() const { return files_; }
  // The data staged for `path`, or nullptr.
  const std::string* Find(absl::string_view path) const;
  bool empty() const { return files_.empty(); }

  absl::Status Commit();

 private:
  std::vector<File> files_;
};

}  // namespace realm_measurements::measure

#endif  // REALM_MEASUREMENTS_BASE_OUTPUT_FILES_H_
