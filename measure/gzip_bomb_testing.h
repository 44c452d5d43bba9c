// Test helpers (testonly): gzip members that inflate to far more than their
// size, made with zlib in memory, for the decompression-bound tests; arm64
// Image headers; Linux EFI zboot containers.
#ifndef REALM_MEASUREMENTS_MEASURE_GZIP_BOMB_TESTING_H_
#define REALM_MEASUREMENTS_MEASURE_GZIP_BOMB_TESTING_H_

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "gtest/gtest.h"
#include "measure/linux_image.h"

namespace realm_measurements::measure::testing {

// A gzip member inflating to `head` followed by zeros, `mib` MiB in all,
// made of independently deflated 1 MiB segments (each ends with a full
// flush, so they concatenate into one valid deflate stream): a 2 GiB bomb
// is ~2 MiB on disk and takes well under a second to make.
inline std::vector<uint8_t> GzipBomb(const std::vector<uint8_t>& head,
                                     size_t mib) {
  constexpr size_t kMiB = 1 << 20;
  auto raw = [](const std::vector<uint8_t>& in, int flush) {
    z_stream zs;
    std::memset(&zs, 0, sizeof(zs));
    EXPECT_EQ(
        deflateInit2(&zs, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
        Z_OK);
    std::vector<uint8_t> out(deflateBound(&zs, in.size()) + 64);
    zs.next_in = const_cast<Bytef*>(in.data());
    zs.avail_in = in.size();
    zs.next_out = out.data();
    zs.avail_out = out.size();
    EXPECT_NE(deflate(&zs, flush), Z_STREAM_ERROR);
    EXPECT_EQ(zs.avail_in, 0u);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
  };
  std::vector<uint8_t> first(kMiB, 0), zeros(kMiB, 0);
  std::copy(head.begin(), head.end(), first.begin());
  const std::vector<uint8_t> seg_first = raw(first, Z_FULL_FLUSH);
  const std::vector<uint8_t> seg_zeros = raw(zeros, Z_FULL_FLUSH);
  const std::vector<uint8_t> last = raw({}, Z_FINISH);
  // RFC 1952 header: deflate, no flags, mtime 0, unknown OS.
  std::vector<uint8_t> gz = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255};
  gz.insert(gz.end(), seg_first.begin(), seg_first.end());
  uLong crc = crc32(0, first.data(), first.size());
  const uLong crc_zeros = crc32(0, zeros.data(), zeros.size());
  for (size_t i = 1; i < mib; ++i) {
    gz.insert(gz.end(), seg_zeros.begin(), seg_zeros.end());
    crc = crc32_combine(crc, crc_zeros, kMiB);
  }
  gz.insert(gz.end(), last.begin(), last.end());
  const uint64_t isize = static_cast<uint64_t>(mib) * kMiB;
  for (int i = 0; i < 4; ++i)
    gz.push_back(static_cast<uint8_t>(crc >> (8 * i)));
  for (int i = 0; i < 4; ++i) {
    gz.push_back(static_cast<uint8_t>(isize >> (8 * i)));
  }
  return gz;
}

// A valid arm64 Image header (booting.rst) with `image_size`.
inline std::vector<uint8_t> Arm64Header(uint64_t image_size) {
  std::vector<uint8_t> h(kArm64ImageHeaderSize, 0);
  for (int i = 0; i < 8; ++i)
    h[16 + i] = static_cast<uint8_t>(image_size >> (8 * i));
  const uint8_t magic[] = {'A', 'R', 'M', 0x64};
  std::copy(magic, magic + 4, h.begin() + 56);
  return h;
}

// A Linux EFI zboot image (drivers/firmware/efi/libstub/zboot-header.S)
// holding `payload` at `offset` (>= 64; the bytes between the header and
// it stand for the PE headers and decompressor), then `trailer` bytes of
// 0xee, with `compression` as its compression type (at most 31 chars).
inline std::vector<uint8_t> EfiZboot(const std::vector<uint8_t>& payload,
                                     const char* compression = "gzip",
                                     uint32_t offset = 0x1000,
                                     size_t trailer = 512) {
  std::vector<uint8_t> z(offset, 0);
  z[0] = 'M';
  z[1] = 'Z';
  std::memcpy(&z[4], "zimg", 4);
  auto le32 = [&](size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) z[at + i] = static_cast<uint8_t>(v >> (8 * i));
  };
  le32(8, offset);
  le32(12, static_cast<uint32_t>(payload.size()));
  std::memcpy(&z[24], compression, std::min<size_t>(strlen(compression), 31));
  const uint8_t linux_magic[] = {0xcd, 0x23, 0x82, 0x81};
  std::memcpy(&z[56], linux_magic, 4);
  le32(60, 0x40);  // PE header offset
  z.insert(z.end(), payload.begin(), payload.end());
  z.insert(z.end(), trailer, 0xee);
  return z;
}

}  // namespace realm_measurements::measure::testing

#endif  // REALM_MEASUREMENTS_MEASURE_GZIP_BOMB_TESTING_H_
