#include "tools/bench/bench_util.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"

namespace realm_measurements::bench {

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

namespace {
constexpr uint64_t kMiB = 1 << 20;
}  // namespace

double Now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string LoadAverage() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return absl::StrCat(a, " ", b, " ", c);
}

bool WritePayload(const std::string& path, uint64_t size, bool image,
                  uint32_t seed) {
  std::ofstream f(path, std::ios::binary);
  if (!f) return false;
  std::vector<uint8_t> buf(kMiB);
  uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
  for (uint64_t off = 0; off < size; off += buf.size()) {
    for (size_t i = 0; i < buf.size(); i += 8) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      std::memcpy(&buf[i], &x, 8);
    }
    if (off == 0 && image) {
      std::memset(buf.data(), 0, 64);
      const uint64_t image_size = (size + 2 * kMiB - 1) / (2 * kMiB) * 2 * kMiB;
      for (int i = 0; i < 8; ++i) {
        buf[16 + i] = static_cast<uint8_t>(image_size >> (8 * i));
      }
      std::memcpy(&buf[56], "ARM\x64", 4);
    }
    const uint64_t n = std::min<uint64_t>(buf.size(), size - off);
    f.write(reinterpret_cast<const char*>(buf.data()), n);
  }
  f.close();
  return static_cast<bool>(f);
}

}  // namespace realm_measurements::bench
