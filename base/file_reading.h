// Bounded reading of regular files: opening a path without blocking on a
// FIFO and refusing devices (which never end), reading a small file whole
// under a size limit, and the error text for OS errors. Split out of
// measure/payload so that every package can read its inputs the same way.
#ifndef REALM_MEASUREMENTS_BASE_FILE_READING_H_
#define REALM_MEASUREMENTS_BASE_FILE_READING_H_

#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace realm_measurements::measure {

// Owns a file descriptor and closes it on every path (payload readers and
// the bounded readers below).
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

// Rust's io::Error display for an OS error, which the reference tool's
// messages embed: "file <name> error: <strerror> (os error <errno>)";
// kNotFound for ENOENT, kPermissionDenied for EACCES/EPERM, else
// kFailedPrecondition.
absl::Status OsFileError(const std::string& name, int err);

// Opens `path` read-only for reading as a payload: O_NONBLOCK so that a
// FIFO does not block the open, then refuses anything but a regular file or
// a directory with "file <path> error: not a regular file (<type>)". OS
// errors read "file <path> error: <strerror> (os error <errno>)". The caller
// owns the returned descriptor (blocking mode restored).
absl::StatusOr<int> OpenPayloadFile(const std::string& path);

// Reads a whole small file (a config, key, token, CoRIM) as OpenPayloadFile
// opens it: a device or FIFO is refused, and a file over `limit` bytes is
// refused before it is read ("file <path> error: <n> bytes, more than the
// limit of <limit> bytes"), so nothing unbounded is allocated.
absl::StatusOr<std::string> ReadSmallRegularFile(const std::string& path,
                                                 uint64_t limit);

// The same into `Bytes` (std::string or std::vector<uint8_t>), with the
// caller's error for a file of `size` bytes over the limit.
template <typename Bytes>
absl::StatusOr<Bytes> ReadRegularFileUpTo(
    const std::string& path, uint64_t limit,
    const std::function<absl::Status(uint64_t size)>& too_big);

// "character device", "FIFO", ... for the S_IFMT bits of `mode`.
const char* FileTypeName(unsigned mode);

// "file:<dev>:<inode>:<size>:<mtime ns>:<ctime ns>": what the content of a
// regular file is a function of (Reader::file_identity()).
std::string FileIdentity(const struct stat& st);

}  // namespace realm_measurements::measure

#endif  // REALM_MEASUREMENTS_BASE_FILE_READING_H_
