// Helpers shared by the whole-process and in-process measurement benchmarks
// (cli_process_bench.cc, measure_bench.cc, appraise_load_main.cc): the clock,
// the median, the load average and the generated payloads.
#ifndef REALM_MEASUREMENTS_TOOLS_BENCH_BENCH_UTIL_H_
#define REALM_MEASUREMENTS_TOOLS_BENCH_BENCH_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

namespace realm_measurements::bench {

// Seconds on the monotonic clock.
double Now();

// The median of `v` (0 when empty).
double Median(std::vector<double> v);

// "/proc/loadavg" 1/5/15-minute figures, space separated.
std::string LoadAverage();

// Writes `size` bytes of xorshift data seeded by `seed` (the same bytes for
// the same arguments); for `image` a valid arm64 Image header
// (booting.rst: text_offset 0, image_size = size rounded up to 2 MiB,
// little-endian, "ARM\x64" magic at 0x38). False when the file cannot be
// written completely.
bool WritePayload(const std::string& path, uint64_t size, bool image,
                  uint32_t seed);

}  // namespace realm_measurements::bench

#endif  // REALM_MEASUREMENTS_TOOLS_BENCH_BENCH_UTIL_H_
