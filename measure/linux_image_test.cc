#include "measure/linux_image.h"

#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/string_view.h"
#include "base/crypto.h"
#include "gtest/gtest.h"
#include "measure/gzip_bomb_testing.h"

namespace realm_measurements::measure {
namespace {

using testing::Arm64Header;
using testing::GzipBomb;

const char kInputs[] = "testdata/golden/inputs/";
const char kRef[] = "testdata/vectors/reference-testdata/";

std::vector<uint8_t> ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

std::string WriteTemp(const std::string& name,
                      const std::vector<uint8_t>& data) {
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data.data()), data.size());
  return path;
}

std::vector<uint8_t> Content(const Payload& p) {
  std::vector<uint8_t> out;
  absl::Status s = p.Read([&](absl::Span<const uint8_t> c) {
    out.insert(out.end(), c.begin(), c.end());
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

std::string Sha256Hex(const std::vector<uint8_t>& data) {
  auto d = crypto::HashOnce(crypto::DigestAlgorithm::kSha256, data);
  EXPECT_TRUE(d.ok()) << d.status();
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(d->data()), d->size()));
}

// `file_name` (FNAME field) lets a tiny payload make a file of >= 64 bytes.
std::vector<uint8_t> GzipWithZlib(const std::vector<uint8_t>& data,
                                  const char* file_name = nullptr) {
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  EXPECT_EQ(
      deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
      Z_OK);
  gz_header head;
  std::memset(&head, 0, sizeof(head));
  head.name = reinterpret_cast<Bytef*>(const_cast<char*>(file_name));
  head.os = 255;
  EXPECT_EQ(deflateSetHeader(&zs, &head), Z_OK);
  std::vector<uint8_t> out(deflateBound(&zs, data.size()) + 64);
  zs.next_in = const_cast<Bytef*>(data.data());
  zs.avail_in = data.size();
  zs.next_out = out.data();
  zs.avail_out = out.size();
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

void ExpectError(const absl::Status& s, const std::string& text) {
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(std::string(s.message()), text);
}

TEST(LinuxImageTest, ReferenceLinuxBin) {
  // spec-core Appendix D: text_offset 0, image_size 0x2d10000, flags 0xa.
  auto img = LoadLinuxImage(std::string(kRef) + "linux.bin");
  ASSERT_TRUE(img.ok()) << img.status();
  EXPECT_EQ(img->header.code0, 0xfa405a4du);
  EXPECT_EQ(img->header.text_offset, 0u);
  EXPECT_EQ(img->header.image_size, 0x2d10000u);
  EXPECT_EQ(img->header.flags, 0xau);
  EXPECT_TRUE(img->payload.is_file());
  EXPECT_EQ(Sha256Hex(Content(img->payload)),
            "1d996b14b5b5fcc2beb6abd2c6beb6d9ca8ae38e16542cdd83bbdb49213e7351");
}

TEST(LinuxImageTest, ReferenceLinuxBinGzDecompressesToSameBytes) {
  auto img = LoadLinuxImage(std::string(kRef) + "linux.bin.gz");
  ASSERT_TRUE(img.ok()) << img.status();
  // Streamed from the file on each read, never held in memory (issue 14).
  EXPECT_EQ(img->payload.bytes(), nullptr);
  EXPECT_EQ(img->payload.Open()->file_identity().rfind("gzip:file:", 0), 0u);
  EXPECT_EQ(img->header.image_size, 0x2d10000u);
  EXPECT_EQ(Sha256Hex(Content(img->payload)),
            "1d996b14b5b5fcc2beb6abd2c6beb6d9ca8ae38e16542cdd83bbdb49213e7351");
}

TEST(LinuxImageTest, GoldenKernels) {
  struct Case {
    const char* name;
    uint64_t text_offset;
    uint64_t image_size;
    bool gzip;
    const char* sha256;  // inputs.sha256 (decompressed for Image-c.gz)
    size_t size;
  };
  const Case cases[] = {
      {"Image-a", 0, 0x1A00000, false,
       "c8ccfc7e72902d39f4f6ff7bbb46ecabfac4940e9811c149e2308f94f9368473",
       263381},
      {"Image-b-textoff", 0x80000, 0x2000000, false,
       "d9889987622f1e45d8e7f895c3eff20d6014f0beb17b6b392e45d57f87d7be73",
       500001},
      {"Image-c.gz", 0, 0x1000000, true,
       "e7ed3322b7421001d03b4ba7b1bb4f178fbfe56b05aa41567fc080491a802baf",
       150003},
      {"Image-small", 0, 0x10000, false,
       "f44f02d6d3e8676425f316520fc126135d6298af1dfa7b0fe99d66d442440587",
       4173},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto img = LoadLinuxImage(std::string(kInputs) + c.name);
    ASSERT_TRUE(img.ok()) << img.status();
    EXPECT_EQ(img->header.text_offset, c.text_offset);
    EXPECT_EQ(img->header.image_size, c.image_size);
    EXPECT_EQ(img->payload.bytes(), nullptr);  // nothing held in memory
    EXPECT_EQ(*img->payload.Size(), c.size);
    EXPECT_EQ(img->payload.Open()->file_identity().rfind("gzip:", 0) == 0,
              c.gzip);
    std::vector<uint8_t> content = Content(img->payload);
    EXPECT_EQ(content.size(), c.size);
    EXPECT_EQ(Sha256Hex(content), c.sha256);
  }
  // Image-d.gz is made of stored deflate blocks: the Image is the payload
  // of its single block (10-byte header + 5-byte block header).
  auto img = LoadLinuxImage(std::string(kInputs) + "Image-d.gz");
  ASSERT_TRUE(img.ok()) << img.status();
  EXPECT_EQ(img->header.text_offset, 0x200000u);
  EXPECT_EQ(img->header.image_size, 0x400000u);
  std::vector<uint8_t> gz = ReadFileOrDie(std::string(kInputs) + "Image-d.gz");
  EXPECT_EQ(Content(img->payload),
            std::vector<uint8_t>(gz.begin() + 15, gz.begin() + 15 + 9001));
}

TEST(LinuxImageTest, Errors) {
  ExpectError(LoadLinuxImage(std::string(kInputs) + "notakernel.bin").status(),
              "file testdata/golden/inputs/notakernel.bin error: neither an "
              "arm64 Image (no ARM\\x64 magic at 0x38) nor gzip (no 1f 8b "
              "magic at 0)");
  ExpectError(
      LoadLinuxImage(std::string(kInputs) + "notakernel.bin.gz").status(),
      "invalid Linux header");
  ExpectError(LoadLinuxImage(std::string(kInputs) + "truncated.bin").status(),
              "file testdata/golden/inputs/truncated.bin error: failed to fill "
              "whole buffer");
  ExpectError(LoadLinuxImage("/nonexistent/kernel").status(),
              "file /nonexistent/kernel error: No such file or directory (os "
              "error 2)");
  ExpectError(LoadLinuxImage("/").status(),
              "file / error: Is a directory (os error 21)");
  ExpectError(LoadLinuxImage(std::string(kRef) + "randombytes.bin").status(),
              "file testdata/vectors/reference-testdata/randombytes.bin error: "
              "neither an arm64 Image (no ARM\\x64 magic at 0x38) nor gzip (no "
              "1f 8b magic at 0)");
  ExpectError(LoadLinuxImage(std::string(kRef) + "randombytes.bin.gz").status(),
              "invalid Linux header");
}

// QEMU 9.1 (KernelFormats::kQemu) unpacks a Linux EFI zboot image whose
// payload is gzip: the content is the payload's, the same bytes as the
// plain Image; the other loaders refuse the file as before.
TEST(LinuxImageTest, EfiZbootUnpackedForQemuOnly) {
  const std::string path =
      WriteTemp("zboot.efi", testing::EfiZboot(ReadFileOrDie(
                                 std::string(kRef) + "linux.bin.gz")));
  auto img = LoadLinuxImage(path, kMaxDecompressedKernelSize, {},
                            KernelFormats::kQemu);
  ASSERT_TRUE(img.ok()) << img.status();
  EXPECT_TRUE(img->efi_zboot);
  EXPECT_EQ(img->header.image_size, 0x2d10000u);
  EXPECT_EQ(img->payload.bytes(), nullptr);  // streamed, never held
  EXPECT_EQ(img->payload.Open()->file_identity().rfind("gzip@4096+", 0), 0u);
  EXPECT_EQ(Sha256Hex(Content(img->payload)),
            "1d996b14b5b5fcc2beb6abd2c6beb6d9ca8ae38e16542cdd83bbdb49213e7351");
  ExpectError(LoadLinuxImage(path).status(),
              "file " + path +
                  " error: neither an arm64 Image (no ARM\\x64 magic at "
                  "0x38) nor gzip (no 1f 8b magic at 0)");
  // A plain Image and a gzip file load for QEMU as before.
  img = LoadLinuxImage(std::string(kRef) + "linux.bin.gz",
                       kMaxDecompressedKernelSize, {}, KernelFormats::kQemu);
  ASSERT_TRUE(img.ok()) << img.status();
  EXPECT_FALSE(img->efi_zboot);
  ExpectError(LoadLinuxImage(std::string(kRef) + "randombytes.bin",
                             kMaxDecompressedKernelSize, {},
                             KernelFormats::kQemu)
                  .status(),
              "file testdata/vectors/reference-testdata/randombytes.bin "
              "error: neither an arm64 Image (no ARM\\x64 magic at 0x38), nor "
              "gzip (no 1f 8b magic at 0), nor an EFI zboot image (no MZ, "
              "zimg and cd 23 82 81 at 0, 4 and 0x38)");
}

TEST(LinuxImageTest, EfiZbootRefusals) {
  const std::vector<uint8_t> gz =
      ReadFileOrDie(std::string(kRef) + "linux.bin.gz");
  auto load = [](const std::string& path, uint64_t max =
                                              kMaxDecompressedKernelSize) {
    return LoadLinuxImage(path, max, {}, KernelFormats::kQemu).status();
  };
  // QEMU 9.1 unpacks gzip only.
  std::string path = WriteTemp("zboot-zstd.efi", testing::EfiZboot(gz, "zstd"));
  ExpectError(load(path), "file " + path +
                              " error: EFI zboot image compressed with "
                              "\"zstd\": QEMU 9.1 unpacks gzip only");
  // The payload must lie inside the file.
  std::vector<uint8_t> z = testing::EfiZboot(gz, "gzip", 0x1000, 0);
  z.resize(z.size() - 1);
  path = WriteTemp("zboot-short.efi", z);
  ExpectError(load(path),
              absl::StrCat("file ", path, " error: corrupt EFI zboot image: "
                           "payload of ", gz.size(),
                           " bytes at offset 4096 ends past the end of the "
                           "file (", z.size(), " bytes)"));
  // A payload_size shorter than the gzip member: its end is not read.
  z = testing::EfiZboot(gz);
  z[12] = 100;
  z[13] = z[14] = z[15] = 0;
  path = WriteTemp("zboot-cut.efi", z);
  absl::Status s = load(path);
  EXPECT_EQ(s.message(), "file " + path +
                             " error: truncated gzip stream: input ended "
                             "after 100 bytes, before the end of the member")
      << s;
  // Not an Image inside.
  path = WriteTemp("zboot-random.efi",
                   testing::EfiZboot(ReadFileOrDie(
                       std::string(kRef) + "randombytes.bin.gz")));
  ExpectError(load(path), "invalid Linux header");
  // The decompression bound holds inside the container too (QEMU's is
  // 256 MiB; a header without image_size leaves only it).
  path = WriteTemp("zboot-bomb.efi",
                   testing::EfiZboot(GzipBomb(Arm64Header(0), 8)));
  s = load(path, 4 << 20);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
}

TEST(LinuxImageTest, ShortDecompressedContentIsCleanError) {
  // The reference panics on this input.
  std::vector<uint8_t> gz = GzipWithZlib(
      {'A', 'R', 'M'},
      "a-file-name-long-enough-to-make-the-gzip-file-exceed-64-bytes");
  ASSERT_GE(gz.size(), 64u);
  std::string path = WriteTemp("short.gz", gz);
  absl::Status s = LoadLinuxImage(path).status();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("shorter than the 64-byte"),
            std::string::npos)
      << s;
}

TEST(LinuxImageTest, DecompressionLimit) {
  absl::Status s =
      LoadLinuxImage(std::string(kInputs) + "Image-c.gz", 100000).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_NE(std::string(s.message()).find("exceeds the limit of 100000"),
            std::string::npos)
      << s;
  // A 64 MiB run of zeros compresses to ~64 KiB; the limit stops it early.
  std::vector<uint8_t> zeros(64 << 20, 0);
  std::vector<uint8_t> bomb = GzipWithZlib(zeros);
  auto out = GunzipFirstMember(bomb, 1 << 20);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kResourceExhausted);
}

// A gzip bomb (a valid Image header claiming 64 MiB, then zeros) stops at
// the caller's cancellation hook, polled before every piece of the sizing
// pass: the hook says stop at the 8th poll and its status comes back
// unchanged (no "file ..." prefix).
TEST(LinuxImageTest, CancelHookStopsDecompression) {
  std::vector<uint8_t> image(64 << 20, 0);
  const uint64_t image_size = image.size();
  std::memcpy(&image[16], &image_size, 8);  // little-endian host
  std::memcpy(&image[56], "ARM\x64", 4);
  const std::string path = WriteTemp("bomb.gz", GzipWithZlib(image));
  int polls = 0;
  CancelCheck cancel = [&polls]() {
    return ++polls < 8 ? absl::OkStatus()
                       : absl::DeadlineExceededError("test deadline");
  };
  absl::Status s =
      LoadLinuxImage(path, kMaxDecompressedKernelSize, cancel).status();
  EXPECT_EQ(s, absl::DeadlineExceededError("test deadline"));
  EXPECT_EQ(polls, 8);
  // Without a stop the same file is inflated completely (and is no Image).
  polls = 0;
  s = LoadLinuxImage(path, kMaxDecompressedKernelSize, [&polls]() {
        ++polls;
        return absl::OkStatus();
      }).status();
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_GT(polls, 8);
}

TEST(LinuxImageTest, TruncatedAndCorruptGzip) {
  std::vector<uint8_t> gz = ReadFileOrDie(std::string(kInputs) + "Image-d.gz");
  std::vector<uint8_t> cut(gz.begin(), gz.begin() + 1000);
  std::string path = WriteTemp("cut.gz", cut);
  absl::Status s = LoadLinuxImage(path).status();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("truncated gzip stream"),
            std::string::npos)
      << s;

  std::vector<uint8_t> bad = gz;
  bad[bad.size() - 6] ^= 1;  // CRC32 of the trailer
  s = GunzipFirstMember(bad, 1 << 20).status();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("corrupt gzip stream"),
            std::string::npos)
      << s;
}

TEST(LinuxImageTest, OnlyFirstMember) {
  std::vector<uint8_t> a = GzipWithZlib({1, 2, 3});
  std::vector<uint8_t> b = GzipWithZlib({4, 5});
  a.insert(a.end(), b.begin(), b.end());
  auto out = GunzipFirstMember(a, 100);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, std::vector<uint8_t>({1, 2, 3}));
}

TEST(LinuxImageTest, BombGeneratorMakesValidGzip) {
  // The generator itself, checked by zlib on a small instance.
  std::vector<uint8_t> gz = GzipBomb(Arm64Header(4 << 20), 3);
  auto out = GunzipFirstMember(gz, 3 << 20);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), 3u << 20);
  EXPECT_EQ(std::vector<uint8_t>(out->begin(), out->begin() + 64),
            Arm64Header(4 << 20));
  EXPECT_EQ(std::count(out->begin() + 64, out->end(), 0),
            static_cast<long>(out->size() - 64));
}

// Issue 14: a 2 GiB bomb took 13 s and 1.06 GB before the 1 GiB limit
// stopped it. The header's image_size (16 MiB here) stops it as soon as the
// content passes it.
TEST(LinuxImageTest, GzipBombStopsAtTheHeaderImageSize) {
  std::vector<uint8_t> gz = GzipBomb(Arm64Header(16 << 20), 2048);
  EXPECT_LT(gz.size(), 4u << 20);  // small on disk
  const std::string path = WriteTemp("bomb-16m.gz", gz);
  absl::Status s = LoadLinuxImage(path).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_NE(std::string(s.message())
                .find("error: decompressed size exceeds the limit of 16777216 "
                      "bytes (the image_size of its arm64 Image header); "
                      "stopped after "),
            std::string::npos)
      << s;
}

TEST(LinuxImageTest, GzipBombWithoutImageMagicStopsAfterTheHeader) {
  std::vector<uint8_t> gz = GzipBomb({}, 2048);
  const std::string path = WriteTemp("bomb-nomagic.gz", gz);
  ExpectError(LoadLinuxImage(path).status(), "invalid Linux header");
}

TEST(LinuxImageTest, NoImageSizeFallsBackToTheGeneralBound) {
  std::vector<uint8_t> gz = GzipBomb(Arm64Header(0), 4);
  const std::string path = WriteTemp("no-image-size.gz", gz);
  absl::Status s = LoadLinuxImage(path, 3 << 20).status();
  EXPECT_NE(std::string(s.message())
                .find("exceeds the limit of 3145728 bytes (the bound on gzip "
                      "kernels)"),
            std::string::npos)
      << s;
  auto img = LoadLinuxImage(path, 4 << 20);
  ASSERT_TRUE(img.ok()) << img.status();
  EXPECT_EQ(*img->payload.Size(), 4u << 20);
}

TEST(LinuxImageTest, GzipKernelChangedAfterLoadingFailsTheRead) {
  const std::string path =
      WriteTemp("changing.gz", GzipBomb(Arm64Header(8 << 20), 2));
  auto img = LoadLinuxImage(path);
  ASSERT_TRUE(img.ok()) << img.status();
  WriteTemp("changing.gz", GzipBomb(Arm64Header(8 << 20), 3));
  absl::Status s = img->payload.Read(
      [](absl::Span<const uint8_t>) { return absl::OkStatus(); });
  EXPECT_NE(std::string(s.message()).find("changed since it was loaded"),
            std::string::npos)
      << s;
  WriteTemp("changing.gz", GzipBomb(Arm64Header(8 << 20), 1));
  s = img->payload.Read(
      [](absl::Span<const uint8_t>) { return absl::OkStatus(); });
  EXPECT_NE(std::string(s.message()).find("changed since it was loaded"),
            std::string::npos)
      << s;
}

// Issue 14: a FIFO or a device as the kernel was read forever.
TEST(LinuxImageTest, KernelMustBeARegularFile) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string fifo =
      std::string(dir != nullptr ? dir : "/tmp") + "/kernel.fifo";
  unlink(fifo.c_str());
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  ExpectError(LoadLinuxImage(fifo).status(),
              "file " + fifo + " error: not a regular file (FIFO)");
  ExpectError(LoadLinuxImage("/dev/zero").status(),
              "file /dev/zero error: not a regular file (character device)");
}

}  // namespace
}  // namespace realm_measurements::measure
