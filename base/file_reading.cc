#include "base/file_reading.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace realm_measurements::measure {
namespace {}  // namespace

absl::Status OsFileError(const std::string& name, int err) {
  const std::string text = absl::StrCat(
      "file ", name, " error: ", std::strerror(err), " (os error ", err, ")");
  if (err == ENOENT) return absl::NotFoundError(text);
  if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(text);
  return absl::FailedPreconditionError(text);
}

const char* FileTypeName(unsigned mode) {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return "regular file";
    case S_IFDIR:
      return "directory";
    case S_IFCHR:
      return "character device";
    case S_IFBLK:
      return "block device";
    case S_IFIFO:
      return "FIFO";
    case S_IFSOCK:
      return "socket";
    case S_IFLNK:
      return "symbolic link";
    default:
      return "special file";
  }
}

absl::StatusOr<int> OpenPayloadFile(const std::string& path) {
  // O_NONBLOCK: opening a FIFO without a writer would block forever.
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) return OsFileError(path, errno);
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return OsFileError(path, errno);
  // Directories open; reading them fails with EISDIR, as the reference
  // reports it. Devices, FIFOs and sockets never end or block.
  if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("file ", path, " error: not a regular file (",
                     FileTypeName(st.st_mode), ")"));
  }
  const int flags = fcntl(fd.get(), F_GETFL);
  if (flags < 0 || fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK) != 0) {
    return OsFileError(path, errno);
  }
  return fd.release();
}

template <typename Bytes>
absl::StatusOr<Bytes> ReadRegularFileUpTo(
    const std::string& path, uint64_t limit,
    const std::function<absl::Status(uint64_t size)>& too_big) {
  absl::StatusOr<int> opened = OpenPayloadFile(path);
  if (!opened.ok()) return opened.status();
  Fd fd(*opened);
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return OsFileError(path, errno);
  if (S_ISDIR(st.st_mode)) return OsFileError(path, EISDIR);
  if (static_cast<uint64_t>(st.st_size) > limit) return too_big(st.st_size);
  Bytes out;
  out.reserve(static_cast<size_t>(st.st_size));
  char buf[64 << 10];
  for (;;) {
    ssize_t n = read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return OsFileError(path, errno);
    }
    if (n == 0) return out;
    // The file may grow while it is read.
    if (out.size() + static_cast<size_t>(n) > limit) {
      return too_big(out.size() + n);
    }
    out.insert(out.end(), buf, buf + n);
  }
}

template absl::StatusOr<std::string> ReadRegularFileUpTo<std::string>(
    const std::string&, uint64_t, const std::function<absl::Status(uint64_t)>&);
template absl::StatusOr<std::vector<uint8_t>>
ReadRegularFileUpTo<std::vector<uint8_t>>(
    const std::string&, uint64_t, const std::function<absl::Status(uint64_t)>&);

absl::StatusOr<std::string> ReadSmallRegularFile(const std::string& path,
                                                 uint64_t limit) {
  return ReadRegularFileUpTo<std::string>(path, limit, [&](uint64_t n) {
    return absl::InvalidArgumentError(
        absl::StrCat("file ", path, " error: ", n,
                     " bytes, more than the limit of ", limit, " bytes"));
  });
}

std::string FileIdentity(const struct stat& st) {
  return absl::StrCat(
      "file:", st.st_dev, ":", st.st_ino, ":", st.st_size, ":",
      static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
      ":",
      static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 +
          st.st_ctim.tv_nsec);
}

}  // namespace realm_measurements::measure
