// Fuzzes the gzip member decoder and the arm64 Image header parser: no
// crash, no hang, bounded output, one-line errors.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "measure/linux_image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace realm_measurements::measure;  // NOLINT
  constexpr uint64_t kLimit = 1 << 24;
  absl::Span<const uint8_t> in(data, size);
  absl::StatusOr<std::vector<uint8_t>> out = GunzipFirstMember(in, kLimit);
  if (!out.ok() &&
      out.status().message().find('\n') != absl::string_view::npos) {
    abort();
  }
  if (out.ok() && out->size() > kLimit) abort();
  absl::StatusOr<Arm64ImageHeader> h = ParseArm64ImageHeader(in, "fuzz");
  if (h.ok() != (size >= kArm64ImageHeaderSize)) abort();
  if (out.ok()) (void)ParseArm64ImageHeader(*out, "fuzz");
  return 0;
}
