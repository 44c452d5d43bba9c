// Issue 14: a gzip kernel streams in constant memory, whatever it inflates
// to. Alone in its process, so ru_maxrss before the load is this binary's
// baseline; the peak can only be overstated by other work, never hidden,
// and nothing else runs here.
#include <sys/resource.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "measure/gzip_bomb_testing.h"
#include "measure/linux_image.h"

namespace realm_measurements::measure {
namespace {

int64_t PeakRssKiB() {
  struct rusage u;
  EXPECT_EQ(getrusage(RUSAGE_SELF, &u), 0);
  return u.ru_maxrss;  // KiB on Linux
}

TEST(LinuxImageMemory, GzipKernelOf128MiBStreamsInBoundedMemory) {
  constexpr size_t kMiB = 1 << 20;
  constexpr size_t kSize = 128 * kMiB;
  const std::vector<uint8_t> header = testing::Arm64Header(kSize);
  std::string path;
  {
    const std::vector<uint8_t> gz = testing::GzipBomb(header, kSize / kMiB);
    const char* dir = std::getenv("TEST_TMPDIR");
    path = std::string(dir != nullptr ? dir : "/tmp") + "/kernel-256m.gz";
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(gz.data()), gz.size());
    std::printf("gzip kernel: %zu bytes on disk, %zu bytes decompressed\n",
                gz.size(), kSize);
  }
  const int64_t before = PeakRssKiB();

  absl::StatusOr<LinuxImage> img = LoadLinuxImage(path);
  ASSERT_TRUE(img.ok()) << img.status();
  EXPECT_EQ(img->payload.bytes(), nullptr);
  EXPECT_EQ(*img->payload.Size(), kSize);
  // The pass a measurement makes (granule digests), checking the content.
  for (int pass = 0; pass < 1; ++pass) {
    uint64_t offset = 0, bad = 0;
    const std::vector<uint8_t> zeros(kMiB, 0);
    absl::Status s = img->payload.Read([&](absl::Span<const uint8_t> c) {
      size_t i = 0;
      for (; i < c.size() && offset + i < header.size(); ++i) {
        bad += c[i] != header[offset + i];
      }
      // Chunks are at most 1 MiB (payload.h).
      if (c.size() > zeros.size() ||
          std::memcmp(c.data() + i, zeros.data(), c.size() - i) != 0) {
        ++bad;
      }
      offset += c.size();
      return absl::OkStatus();
    });
    ASSERT_TRUE(s.ok()) << s;
    EXPECT_EQ(offset, kSize);
    EXPECT_EQ(bad, 0u);
  }
  const int64_t after = PeakRssKiB();
  std::printf(
      "peak RSS: %lld KiB before loading, %lld KiB after loading and "
      "reading %zu MiB (+%lld KiB)\n",
      static_cast<long long>(before), static_cast<long long>(after),
      kSize / kMiB, static_cast<long long>(after - before));
  // Holding the content would add 128 MiB; streaming adds zlib's window and
  // a few 64 KiB-1 MiB buffers.
  EXPECT_LT(after - before, 32 * 1024);
}

}  // namespace
}  // namespace realm_measurements::measure
