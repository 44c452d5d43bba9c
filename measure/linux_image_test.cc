#include "measure/linux_image.h"

#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "measure/crypto.h"

namespace realm_measurements::measure {
namespace {

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
  EXPECT_FALSE(img->payload.is_file());
  EXPECT_EQ(img->header.image_size, 0x2d10000u);
  EXPECT_EQ(Sha256Hex(Content(img->payload)),
            "1d996b14b5b5fcc2beb6abd2c6beb6d9ca8ae38e16542cdd83bbdb49213e7351");
}

TEST(LinuxImageTest, GoldenKernels) {
  struct Case {
    const char* name;
    uint64_t text_offset;
    uint64_t image_size;
    bool in_memory;
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
    EXPECT_EQ(img->payload.is_file(), !c.in_memory);
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

}  // namespace
}  // namespace realm_measurements::measure
