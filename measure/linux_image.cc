#include "measure/linux_image.h"

#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/byte_reader.h"
#include "base/status_macros.h"

namespace realm_measurements::measure {
namespace {

// gzip member magic (RFC 1952 §2.3.1).
constexpr uint8_t kGzipId1 = 0x1f;
constexpr uint8_t kGzipId2 = 0x8b;
// Compressed input read per call; with zlib's 32 KiB window and ~7 KiB of
// state this is all the memory a gzip kernel needs, whatever its size.
constexpr size_t kInputChunk = 64 << 10;

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

// One gzip member through zlib, pulled in caller-sized pieces: output goes
// straight into the caller's buffer, so memory stays constant whatever the
// member inflates to. `next` supplies input (an empty span at the end).
// Messages are the problem only ("invalid gzip header", ...).
class Inflater {
 public:
  using Input = std::function<absl::StatusOr<absl::Span<const uint8_t>>()>;

  explicit Inflater(Input next) : next_(std::move(next)) {
    std::memset(&zs_, 0, sizeof(zs_));
    // 16 + MAX_WBITS: expect a gzip wrapper, decode one member.
    ok_ = inflateInit2(&zs_, 16 + MAX_WBITS) == Z_OK;
  }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;
  ~Inflater() {
    if (ok_) inflateEnd(&zs_);
  }

  // Fills `out` unless the member ends first; 0 once it has ended.
  absl::StatusOr<size_t> Read(absl::Span<uint8_t> out) {
    if (!ok_) return absl::InternalError("zlib inflateInit2 failed");
    size_t got = 0;
    while (got < out.size() && !ended_) {
      if (zs_.avail_in == 0) {
        absl::StatusOr<absl::Span<const uint8_t>> in = next_();
        if (!in.ok()) return in.status();
        if (first_) {
          // zlib would say "incorrect header check"; use flate2's wording.
          if (in->size() < 2 || (*in)[0] != kGzipId1 || (*in)[1] != kGzipId2) {
            return absl::InvalidArgumentError("invalid gzip header");
          }
          first_ = false;
        }
        if (in->empty()) {
          return absl::InvalidArgumentError(absl::StrCat(
              "truncated gzip stream: input ended after ", zs_.total_in,
              " bytes, before the end of the member"));
        }
        zs_.next_in = const_cast<Bytef*>(in->data());
        zs_.avail_in = static_cast<uInt>(in->size());
      }
      const size_t room =
          std::min<size_t>(out.size() - got, std::numeric_limits<uInt>::max());
      zs_.next_out = out.data() + got;
      zs_.avail_out = static_cast<uInt>(room);
      const int rc = inflate(&zs_, Z_NO_FLUSH);
      got += room - zs_.avail_out;
      if (rc == Z_STREAM_END) {
        ended_ = true;  // first member only
      } else if (rc == Z_BUF_ERROR) {
        // No progress possible: zlib needs more input (avail_in is 0).
        if (zs_.avail_in != 0) return Corrupt();
      } else if (rc != Z_OK) {
        return Corrupt();
      }
    }
    return got;
  }

  uint64_t total_in() const { return zs_.total_in; }

 private:
  absl::Status Corrupt() const {
    return absl::InvalidArgumentError(absl::StrCat(
        "corrupt gzip stream (", zs_.msg != nullptr ? zs_.msg : "zlib error",
        ") at compressed offset ", zs_.total_in));
  }

  Input next_;
  z_stream zs_;
  bool ok_ = false;
  bool first_ = true;
  bool ended_ = false;
};

// The first gzip member of a file, decompressed on the fly.
class GzipFileStream : public Payload::Stream {
 public:
  // The member starting at byte `offset`, read no further than `length`
  // bytes from there (an EFI zboot payload); the whole file by default.
  static absl::StatusOr<std::unique_ptr<GzipFileStream>> Open(
      const std::string& path, uint64_t offset = 0,
      uint64_t length = std::numeric_limits<uint64_t>::max()) {
    absl::StatusOr<int> fd = OpenPayloadFile(path);
    if (!fd.ok()) return fd.status();
    std::unique_ptr<GzipFileStream> s(new GzipFileStream(path, *fd, length));
    struct stat st;
    if (fstat(*fd, &st) != 0) return OsError(path, errno);
    if (S_ISDIR(st.st_mode)) return OsError(path, EISDIR);
    if (offset != 0 && lseek(*fd, static_cast<off_t>(offset), SEEK_SET) ==
                           static_cast<off_t>(-1)) {
      return OsError(path, errno);
    }
    s->identity_ = offset == 0 ? absl::StrCat("gzip:", FileIdentity(st))
                               : absl::StrCat("gzip@", offset, "+", length, ":",
                                              FileIdentity(st));
    return s;
  }
  GzipFileStream(const GzipFileStream&) = delete;
  GzipFileStream& operator=(const GzipFileStream&) = delete;
  ~GzipFileStream() override { close(fd_); }

  absl::StatusOr<size_t> Read(absl::Span<uint8_t> out) override {
    absl::StatusOr<size_t> n = inflater_.Read(out);
    if (!n.ok()) {
      // OS errors already name the file.
      if (absl::string_view(n.status().message()).substr(0, 5) == "file ") {
        return n.status();
      }
      return absl::Status(
          n.status().code(),
          absl::StrCat("file ", path_, " error: ", n.status().message()));
    }
    return n;
  }
  std::string identity() const override { return identity_; }
  uint64_t compressed_bytes_read() const { return inflater_.total_in(); }

 private:
  GzipFileStream(std::string path, int fd, uint64_t length)
      : path_(std::move(path)),
        fd_(fd),
        left_(length),
        input_(kInputChunk),
        inflater_([this]() -> absl::StatusOr<absl::Span<const uint8_t>> {
          const size_t want =
              static_cast<size_t>(std::min<uint64_t>(input_.size(), left_));
          ssize_t r = ReadFull(fd_, input_.data(), want);
          if (r < 0) return OsError(path_, static_cast<int>(-r));
          left_ -= static_cast<uint64_t>(r);
          return absl::MakeConstSpan(input_.data(), static_cast<size_t>(r));
        }) {}

  std::string path_;
  int fd_;
  uint64_t left_;  // compressed bytes still to read
  std::string identity_;
  std::vector<uint8_t> input_;
  Inflater inflater_;
};

// The compressed payload of a Linux EFI zboot image (Linux
// drivers/firmware/efi/libstub/zboot-header.S; QEMU 9.1 hw/core/loader.c
// unpack_efi_zboot_image): "MZ" at 0, "zimg" at 4, the payload's offset and
// size (le32) at 8 and 12, its compression as NUL-terminated text at 24,
// the Linux PE magic cd 23 82 81 at 0x38.
struct ZbootPayload {
  uint64_t offset = 0;
  uint64_t size = 0;
};

constexpr uint8_t kZbootLinuxMagic[4] = {0xcd, 0x23, 0x82, 0x81};

absl::StatusOr<std::optional<ZbootPayload>> FindZbootPayload(
    const std::string& path, const uint8_t (&head)[kArm64ImageHeaderSize]) {
  if (std::memcmp(head, "MZ", 2) != 0 ||
      std::memcmp(head + 4, "zimg", 4) != 0 ||
      std::memcmp(head + 0x38, kZbootLinuxMagic, 4) != 0) {
    return std::nullopt;
  }
  ByteReader r(absl::MakeConstSpan(head, kArm64ImageHeaderSize),
               "EFI zboot header");
  BASE_RETURN_IF_ERROR(r.Skip(8, "magic"));
  BASE_ASSIGN_OR_RETURN(const uint32_t offset, r.U32Le("payload_offset"));
  BASE_ASSIGN_OR_RETURN(const uint32_t size, r.U32Le("payload_size"));
  // 32 bytes of NUL-terminated text; QEMU compares it with strcmp.
  const char* type = reinterpret_cast<const char*>(head + 24);
  const size_t type_len = strnlen(type, 32);
  const std::string compression(type, type_len);
  if (compression != "gzip") {
    std::string shown;
    for (char c : compression) {
      shown.push_back(c >= 0x20 && c < 0x7f ? c : '?');
    }
    return FileError(path,
                     absl::StrCat("EFI zboot image compressed with \"", shown,
                                  "\": QEMU 9.1 unpacks gzip only"));
  }
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return OsError(path, errno);
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  if (uint64_t{offset} + size > file_size) {
    return FileError(path, absl::StrCat("corrupt EFI zboot image: payload of ",
                                        size, " bytes at offset ", offset,
                                        " ends past the end of the file (",
                                        file_size, " bytes)"));
  }
  return ZbootPayload{offset, size};
}

// The gzip member at `offset` (at most `length` compressed bytes) must hold
// an arm64 Image. One streaming pass reads its header (stopping at once when
// the magic is wrong) and its size (stopping as soon as it passes the limit
// the header gives); the payload then decompresses again on each read, so
// nothing is held in memory.
absl::StatusOr<LinuxImage> StreamGzipKernel(const std::string& path,
                                            uint64_t offset, uint64_t length,
                                            uint64_t max_decompressed,
                                            const CancelCheck& cancel) {
  absl::StatusOr<std::unique_ptr<GzipFileStream>> stream =
      GzipFileStream::Open(path, offset, length);
  if (!stream.ok()) return stream.status();
  std::vector<uint8_t> buf(kInputChunk);
  absl::StatusOr<size_t> got =
      (*stream)->Read(absl::MakeSpan(buf.data(), kArm64ImageHeaderSize));
  if (!got.ok()) return got.status();
  if (*got < kArm64ImageHeaderSize) {
    // The reference panics here; a clean error instead.
    return FileError(path, absl::StrCat("decompressed content is ", *got,
                                        " bytes, shorter than the 64-byte "
                                        "Linux Image header"));
  }
  absl::StatusOr<Arm64ImageHeader> header =
      ParseArm64ImageHeader(absl::MakeConstSpan(buf.data(), *got), path);
  if (!header.ok()) return header.status();
  if (header->magic != kArm64ImageMagic) {
    return absl::InvalidArgumentError("invalid Linux header");
  }
  const uint64_t limit = GzipKernelLimit(*header, max_decompressed);
  uint64_t size = *got;
  for (;;) {
    // One poll per piece of output (a gzip bomb stops promptly).
    if (absl::Status c = PollCancel(cancel); !c.ok()) return c;
    // Never ask for more than one byte past the limit.
    const size_t want = static_cast<size_t>(
        std::min<uint64_t>(buf.size(), limit - std::min(limit, size) + 1));
    got = (*stream)->Read(absl::MakeSpan(buf.data(), want));
    if (!got.ok()) return got.status();
    if (*got == 0) break;
    size += *got;
    if (size > limit) {
      const bool by_header = limit == header->image_size;
      return absl::ResourceExhaustedError(absl::StrCat(
          "file ", path, " error: decompressed size exceeds the limit of ",
          limit, " bytes (",
          by_header ? "the image_size of its arm64 Image header"
                    : "the bound on gzip kernels",
          "); stopped after ", (*stream)->compressed_bytes_read(),
          " compressed bytes"));
    }
  }
  return LinuxImage{
      *header,
      Payload::FromStream(
          path, size,
          [path, offset,
           length]() -> absl::StatusOr<std::unique_ptr<Payload::Stream>> {
            absl::StatusOr<std::unique_ptr<GzipFileStream>> s =
                GzipFileStream::Open(path, offset, length);
            if (!s.ok()) return s.status();
            return std::unique_ptr<Payload::Stream>(*std::move(s));
          })};
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
  Inflater inflater([&]() -> absl::StatusOr<absl::Span<const uint8_t>> {
    if (given) return absl::Span<const uint8_t>();
    given = true;
    return data;
  });
  std::vector<uint8_t> out;
  uint8_t buf[64 * 1024];
  for (;;) {
    absl::StatusOr<size_t> n = inflater.Read(absl::MakeSpan(buf));
    if (!n.ok()) return n.status();
    if (*n == 0) return out;
    if (out.size() + *n > max_size) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "decompressed size exceeds the limit of ", max_size, " bytes"));
    }
    out.insert(out.end(), buf, buf + *n);
  }
}

uint64_t GzipKernelLimit(const Arm64ImageHeader& header,
                         uint64_t max_decompressed) {
  // booting.rst: image_size is the effective size of the whole image,
  // .bss included, so the file is never larger (0: unknown, pre-3.17).
  if (header.image_size == 0) return max_decompressed;
  return std::min(header.image_size, max_decompressed);
}

absl::StatusOr<LinuxImage> LoadLinuxImage(const std::string& path,
                                          uint64_t max_decompressed,
                                          const CancelCheck& cancel,
                                          KernelFormats formats) {
  absl::StatusOr<int> opened = OpenPayloadFile(path);
  if (!opened.ok()) return opened.status();
  uint8_t head[kArm64ImageHeaderSize];
  ssize_t n = ReadFull(*opened, head, sizeof(head));
  close(*opened);
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
  if (formats == KernelFormats::kQemu) {
    absl::StatusOr<std::optional<ZbootPayload>> zboot =
        FindZbootPayload(path, head);
    if (!zboot.ok()) return zboot.status();
    if (zboot->has_value()) {
      absl::StatusOr<LinuxImage> image = StreamGzipKernel(
          path, (*zboot)->offset, (*zboot)->size,
          std::min(max_decompressed, kQemuMaxDecompressedKernelSize), cancel);
      if (image.ok()) image->efi_zboot = true;
      return image;
    }
  }
  // Neither magic: say what was looked for rather than zlib's view of it.
  if (head[0] != kGzipId1 || head[1] != kGzipId2) {
    return FileError(
        path, formats == KernelFormats::kQemu
                  ? "neither an arm64 Image (no ARM\\x64 magic at 0x38), nor "
                    "gzip (no 1f 8b magic at 0), nor an EFI zboot image (no "
                    "MZ, zimg and cd 23 82 81 at 0, 4 and 0x38)"
                  : "neither an arm64 Image (no ARM\\x64 magic at 0x38) nor "
                    "gzip (no 1f 8b magic at 0)");
  }
  return StreamGzipKernel(path, 0, std::numeric_limits<uint64_t>::max(),
                          max_decompressed, cancel);
}

}  // namespace realm_measurements::measure
