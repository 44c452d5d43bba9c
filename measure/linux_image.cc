#include "measure/linux_image.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "measure/byte_reader.h"

namespace realm_measurements::measure {
namespace {

// gzip member magic (RFC 1952 §2.3.1).
constexpr uint8_t kGzipId1 = 0x1f;
constexpr uint8_t kGzipId2 = 0x8b;
constexpr size_t kReadChunk = 1 << 20;

absl::Status FileError(const std::string& name, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("file ", name, " error: ", what));
}

// Rust io::Error display of an OS error, as the reference prints it.
absl::Status OsError(const std::string& name, int err) {
  std::string text = absl::StrCat("file ", name, " error: ", std::strerror(err),
                                  " (os error ", err, ")");
  if (err == ENOENT) return absl::NotFoundError(text);
  return absl::FailedPreconditionError(text);
}

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

// Reads up to `n` bytes (fewer only at EOF); -errno on failure.
ssize_t ReadFull(int fd, uint8_t* buf, size_t n) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = read(fd, buf + done, n - done);
    if (r < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (r == 0) break;
    done += r;
  }
  return static_cast<ssize_t>(done);
}

// Streams one gzip member through zlib. `next` supplies input chunks (an
// empty span at end of input).
absl::StatusOr<std::vector<uint8_t>> Inflate(
    const std::function<absl::StatusOr<absl::Span<const uint8_t>>()>& next,
    uint64_t max_size) {
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  // 16 + MAX_WBITS: expect a gzip wrapper, decode one member.
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
    return absl::InternalError("zlib inflateInit2 failed");
  }
  struct Cleanup {
    z_stream* z;
    ~Cleanup() { inflateEnd(z); }
  } cleanup{&zs};

  std::vector<uint8_t> out;
  bool first = true;
  uint8_t buf[64 * 1024];
  for (;;) {
    absl::StatusOr<absl::Span<const uint8_t>> in = next();
    if (!in.ok()) return in.status();
    if (first) {
      // zlib would say "incorrect header check"; use flate2's wording.
      if (in->size() < 2 || (*in)[0] != kGzipId1 || (*in)[1] != kGzipId2) {
        return absl::InvalidArgumentError("invalid gzip header");
      }
      first = false;
    }
    if (in->empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("truncated gzip stream: input ended after ", zs.total_in,
                       " bytes, before the end of the member"));
    }
    zs.next_in = const_cast<Bytef*>(in->data());
    zs.avail_in = static_cast<uInt>(in->size());
    while (zs.avail_in > 0) {
      zs.next_out = buf;
      zs.avail_out = sizeof(buf);
      int rc = inflate(&zs, Z_NO_FLUSH);
      size_t produced = sizeof(buf) - zs.avail_out;
      if (out.size() + produced > max_size) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "decompressed size exceeds the limit of ", max_size, " bytes"));
      }
      out.insert(out.end(), buf, buf + produced);
      if (rc == Z_STREAM_END) return out;             // first member only
      if (rc == Z_BUF_ERROR && produced == 0) break;  // needs more input
      if (rc != Z_OK) {
        return absl::InvalidArgumentError(absl::StrCat(
            "corrupt gzip stream (", zs.msg != nullptr ? zs.msg : "zlib error",
            ") at compressed offset ", zs.total_in));
      }
    }
  }
}

}  // namespace

absl::StatusOr<Arm64ImageHeader> ParseArm64ImageHeader(
    absl::Span<const uint8_t> data, const std::string& name) {
  if (data.size() < kArm64ImageHeaderSize) {
    return FileError(name, "failed to fill whole buffer");
  }
  ByteReader r(data.first(kArm64ImageHeaderSize),
               absl::StrCat("Linux image ", name));
  Arm64ImageHeader h;
  // Layout: booting.rst "Call the kernel image" header, all little-endian.
  absl::StatusOr<uint32_t> code0 = r.U32Le("code0");
  absl::StatusOr<uint32_t> code1 = r.U32Le("code1");
  absl::StatusOr<uint64_t> text_offset = r.U64Le("text_offset");
  absl::StatusOr<uint64_t> image_size = r.U64Le("image_size");
  absl::StatusOr<uint64_t> flags = r.U64Le("flags");
  absl::Status skip = r.Skip(24, "res2..res4");
  absl::StatusOr<uint32_t> magic = r.U32Le("magic");
  for (const absl::Status& s :
       {code0.status(), code1.status(), text_offset.status(),
        image_size.status(), flags.status(), skip, magic.status()}) {
    if (!s.ok()) return s;
  }
  h.code0 = *code0;
  h.code1 = *code1;
  h.text_offset = *text_offset;
  h.image_size = *image_size;
  h.flags = *flags;
  h.magic = *magic;
  return h;
}

absl::StatusOr<std::vector<uint8_t>> GunzipFirstMember(
    absl::Span<const uint8_t> data, uint64_t max_size) {
  bool given = false;
  return Inflate(
      [&]() -> absl::StatusOr<absl::Span<const uint8_t>> {
        if (given) return absl::Span<const uint8_t>();
        given = true;
        return data;
      },
      max_size);
}

absl::StatusOr<LinuxImage> LoadLinuxImage(const std::string& path,
                                          uint64_t max_decompressed) {
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return OsError(path, errno);
  uint8_t head[kArm64ImageHeaderSize];
  ssize_t n = ReadFull(fd.get(), head, sizeof(head));
  if (n < 0) return OsError(path, static_cast<int>(-n));
  if (static_cast<size_t>(n) < sizeof(head)) {
    return FileError(path, "failed to fill whole buffer");
  }
  absl::StatusOr<Arm64ImageHeader> header =
      ParseArm64ImageHeader(absl::MakeConstSpan(head, sizeof(head)), path);
  if (!header.ok()) return header.status();
  if (header->magic == kArm64ImageMagic) {
    return LinuxImage{*header, Payload::FromFile(path)};
  }

  // Neither magic: say what was looked for rather than zlib's view of it.
  if (head[0] != kGzipId1 || head[1] != kGzipId2) {
    return FileError(path,
                     "neither an arm64 Image (no ARM\\x64 magic at 0x38) nor "
                     "gzip (no 1f 8b magic at 0)");
  }
  // Not a raw Image: decompress the whole file as gzip (first member),
  // starting again from the 64 bytes already read.
  std::vector<uint8_t> chunk;
  bool sent_head = false;
  absl::StatusOr<std::vector<uint8_t>> image = Inflate(
      [&]() -> absl::StatusOr<absl::Span<const uint8_t>> {
        if (!sent_head) {
          sent_head = true;
          return absl::MakeConstSpan(head, sizeof(head));
        }
        chunk.resize(kReadChunk);
        ssize_t r = ReadFull(fd.get(), chunk.data(), chunk.size());
        if (r < 0) return OsError(path, static_cast<int>(-r));
        return absl::MakeConstSpan(chunk.data(), static_cast<size_t>(r));
      },
      max_decompressed);
  if (!image.ok()) {
    // OS errors already name the file.
    if (absl::string_view(image.status().message()).substr(0, 5) == "file ") {
      return image.status();
    }
    return absl::Status(
        image.status().code(),
        absl::StrCat("file ", path, " error: ", image.status().message()));
  }
  if (image->size() < kArm64ImageHeaderSize) {
    // The reference panics here; a clean error instead.
    return FileError(path,
                     absl::StrCat("decompressed content is ", image->size(),
                                  " bytes, shorter than the 64-byte "
                                  "Linux Image header"));
  }
  header = ParseArm64ImageHeader(*image, path);
  if (!header.ok()) return header.status();
  if (header->magic != kArm64ImageMagic) {
    return absl::InvalidArgumentError("invalid Linux header");
  }
  return LinuxImage{*header, Payload::FromBytes(path, *std::move(image))};
}

}  // namespace realm_measurements::measure
