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

// Bounded buffer: never more than 1 MiB in memory, whatever max_chunk says.
constexpr size_t kMaxBuffer = 1 << 20;

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

Payload Payload::FromStream(std::string name, uint64_t size,
                            StreamOpener open) {
  Payload p;
  p.name_ = std::move(name);
  p.open_stream_ = std::make_shared<const StreamOpener>(std::move(open));
  p.stream_size_ = size;
  return p;
}

absl::StatusOr<uint64_t> Payload::Size() const {
  if (bytes_ != nullptr) return bytes_->size();
  if (open_stream_ != nullptr) return stream_size_;
  // Open, then fstat, as the reference does: a directory opens fine but is
  // not a regular file, which the read reports.
  absl::StatusOr<int> opened = OpenPayloadFile(name_);
  if (!opened.ok()) return opened.status();
  Fd fd(*opened);
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return OsFileError(name_, errno);
  if (S_ISDIR(st.st_mode)) return OsFileError(name_, EISDIR);
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
  std::vector<uint8_t> buf(std::min(max_chunk, kMaxBuffer));
  if (open_stream_ != nullptr) {
    absl::StatusOr<Reader> r = Open();
    if (!r.ok()) return r.status();
    for (;;) {
      absl::StatusOr<size_t> n = r->Read(absl::MakeSpan(buf));
      if (!n.ok()) return n.status();
      if (*n == 0) return absl::OkStatus();
      absl::Status s = chunk(absl::Span<const uint8_t>(buf.data(), *n));
      if (!s.ok()) return s;
    }
  }
  absl::StatusOr<int> opened = OpenPayloadFile(name_);
  if (!opened.ok()) return opened.status();
  Fd fd(*opened);
  for (;;) {
    ssize_t n = read(fd.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return OsFileError(name_, errno);
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
    stream_ = std::move(other.stream_);
    stream_size_ = other.stream_size_;
    pos_ = other.pos_;
    regular_ = other.regular_;
    size_ = other.size_;
    file_identity_ = std::move(other.file_identity_);
  }
  return *this;
}

Payload::Reader::~Reader() {
  if (fd_ >= 0) close(fd_);
}

absl::StatusOr<size_t> Payload::Reader::Read(absl::Span<uint8_t> out) {
  if (bytes_ != nullptr) {
    const size_t n = std::min<uint64_t>(out.size(), bytes_->size() - pos_);
    // An empty vector's data() may be null: memcpy must not see it.
    if (n > 0) std::memcpy(out.data(), bytes_->data() + pos_, n);
    pos_ += n;
    return n;
  }
  if (stream_ != nullptr) {
    if (out.empty()) return 0;
    // Never more than the size established when the payload was made: the
    // layout was computed from it.
    const uint64_t left = stream_size_ - pos_;
    absl::StatusOr<size_t> n = stream_->Read(
        out.first(static_cast<size_t>(std::min<uint64_t>(out.size(), left))));
    if (!n.ok()) return n.status();
    pos_ += *n;
    if (*n == 0 && pos_ < stream_size_) {
      return absl::FailedPreconditionError(absl::StrCat(
          "file ", name_, " error: content ended after ", pos_,
          " bytes, expected ", stream_size_, " (changed since it was loaded)"));
    }
    if (*n == 0 || pos_ == stream_size_) {
      // The stream must end exactly here.
      uint8_t extra;
      absl::StatusOr<size_t> more = stream_->Read(absl::MakeSpan(&extra, 1));
      if (!more.ok()) return more.status();
      if (*more != 0) {
        return absl::FailedPreconditionError(absl::StrCat(
            "file ", name_, " error: content is longer than the ", stream_size_,
            " bytes loaded (changed since it was loaded)"));
      }
    }
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
      return OsFileError(name_, errno);
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  return got;
}

bool Payload::Reader::can_read_at() const {
  return bytes_ != nullptr || (fd_ >= 0 && regular_);
}

absl::Status Payload::Reader::ReadAt(uint64_t offset,
                                     absl::Span<uint8_t> out) const {
  if (!can_read_at() || offset > size_ || out.size() > size_ - offset) {
    return absl::InternalError(absl::StrCat(
        "file ", name_, " error: positional read of ", out.size(),
        " bytes at offset ", offset, " outside the ", size_, " bytes"));
  }
  if (bytes_ != nullptr) {
    if (!out.empty())
      std::memcpy(out.data(), bytes_->data() + offset, out.size());
    return absl::OkStatus();
  }
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n = pread(fd_, out.data() + got, out.size() - got,
                      static_cast<off_t>(offset + got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return OsFileError(name_, errno);
    }
    if (n == 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "file ", name_, " error: content ended after ", offset + got,
          " bytes, expected ", size_, " (changed while it was read)"));
    }
    got += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<Payload::Reader> Payload::Open() const {
  Reader r;
  r.name_ = name_;
  if (bytes_ != nullptr) {
    r.bytes_ = bytes_;
    r.size_ = bytes_->size();
    return r;
  }
  if (open_stream_ != nullptr) {
    absl::StatusOr<std::unique_ptr<Stream>> s = (*open_stream_)();
    if (!s.ok()) return s.status();
    r.stream_ = *std::move(s);
    r.stream_size_ = stream_size_;
    r.file_identity_ = r.stream_->identity();
    return r;
  }
  absl::StatusOr<int> fd = OpenPayloadFile(name_);
  if (!fd.ok()) return fd.status();
  r.fd_ = *fd;
  struct stat st;
  if (fstat(r.fd_, &st) != 0) return OsFileError(name_, errno);
  r.regular_ = S_ISREG(st.st_mode);
  r.size_ = static_cast<uint64_t>(st.st_size);
  // Sequential read-ahead; a hint only, failures do not matter.
  (void)posix_fadvise(r.fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
  r.file_identity_ = FileIdentity(st);
  return r;
}

}  // namespace realm_measurements::measure
