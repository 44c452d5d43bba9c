#include "measure/payload.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace realm_measurements::measure {
namespace {

// Rust's io::Error display for an OS error, which the reference tool's
// messages embed: "<strerror> (os error <errno>)".
absl::Status FileError(const std::string& name, int err) {
  const std::string text = absl::StrCat(
      "file ", name, " error: ", std::strerror(err), " (os error ", err, ")");
  if (err == ENOENT) return absl::NotFoundError(text);
  if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(text);
  return absl::FailedPreconditionError(text);
}

// Closes the descriptor on every path.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

Payload Payload::FromBytes(std::string name, std::vector<uint8_t> bytes) {
  Payload p;
  p.name_ = std::move(name);
  p.bytes_ = std::make_shared<const std::vector<uint8_t>>(std::move(bytes));
  return p;
}

Payload Payload::FromFile(std::string path) {
  Payload p;
  p.name_ = std::move(path);
  return p;
}

absl::StatusOr<uint64_t> Payload::Size() const {
  if (bytes_ != nullptr) return bytes_->size();
  // Open, then fstat, as the reference does: a directory opens fine but is
  // not a regular file, which the read reports.
  Fd fd(open(name_.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return FileError(name_, errno);
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return FileError(name_, errno);
  if (S_ISDIR(st.st_mode)) return FileError(name_, EISDIR);
  return static_cast<uint64_t>(st.st_size);
}

absl::Status Payload::Read(
    const std::function<absl::Status(absl::Span<const uint8_t>)>& chunk,
    size_t max_chunk) const {
  if (max_chunk == 0) max_chunk = 1;
  if (bytes_ != nullptr) {
    absl::Span<const uint8_t> all(*bytes_);
    for (size_t off = 0; off < all.size(); off += max_chunk) {
      absl::Status s = chunk(all.subspan(off, max_chunk));
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }
  Fd fd(open(name_.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return FileError(name_, errno);
  // Bounded buffer: never more than 1 MiB in memory, whatever max_chunk says.
  constexpr size_t kMaxBuffer = 1 << 20;
  std::vector<uint8_t> buf(max_chunk < kMaxBuffer ? max_chunk : kMaxBuffer);
  for (;;) {
    ssize_t n = read(fd.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return FileError(name_, errno);
    }
    if (n == 0) return absl::OkStatus();
    absl::Status s =
        chunk(absl::Span<const uint8_t>(buf.data(), static_cast<size_t>(n)));
    if (!s.ok()) return s;
  }
}

Payload::Reader::Reader(Reader&& other) noexcept { *this = std::move(other); }

Payload::Reader& Payload::Reader::operator=(Reader&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    name_ = std::move(other.name_);
    fd_ = other.fd_;
    other.fd_ = -1;
    bytes_ = std::move(other.bytes_);
    pos_ = other.pos_;
    file_identity_ = std::move(other.file_identity_);
  }
  return *this;
}

Payload::Reader::~Reader() {
  if (fd_ >= 0) close(fd_);
}

absl::StatusOr<size_t> Payload::Reader::Read(absl::Span<uint8_t> out) {
  if (bytes_ != nullptr) {
    const size_t n = std::min(out.size(), bytes_->size() - pos_);
    std::memcpy(out.data(), bytes_->data() + pos_, n);
    pos_ += n;
    return n;
  }
  if (fd_ < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("file ", name_, " error: reader is not open"));
  }
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n = read(fd_, out.data() + got, out.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return FileError(name_, errno);
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  return got;
}

absl::StatusOr<Payload::Reader> Payload::Open() const {
  Reader r;
  r.name_ = name_;
  if (bytes_ != nullptr) {
    r.bytes_ = bytes_;
    return r;
  }
  r.fd_ = open(name_.c_str(), O_RDONLY | O_CLOEXEC);
  if (r.fd_ < 0) return FileError(name_, errno);
  struct stat st;
  if (fstat(r.fd_, &st) != 0) return FileError(name_, errno);
  // Sequential read-ahead; a hint only, failures do not matter.
  (void)posix_fadvise(r.fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
  r.file_identity_ = absl::StrCat(
      "file:", st.st_dev, ":", st.st_ino, ":", st.st_size, ":",
      static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
      ":",
      static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 +
          st.st_ctim.tv_nsec);
  return r;
}

}  // namespace realm_measurements::measure
